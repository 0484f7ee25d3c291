#!/usr/bin/env python3
"""Medians and ratios of scripts/bench-peers.sh results, written into
BENCHMARKS.md between the bench-peers markers (the section is replaced)."""
import json
import statistics
import sys
from datetime import date

results_path, md_path, reps, load_start, load_end, cores = sys.argv[1:7]
runs = [json.loads(line) for line in open(results_path) if line.strip()]

START = "<!-- bench-peers:start -->"
END = "<!-- bench-peers:end -->"


def med(scenario, target, getter):
    values = []
    for run in runs:
        if run["scenario"] == scenario and run["target"] == target:
            try:
                value = getter(run)
            except (KeyError, TypeError):
                value = None
            if value is not None:
                values.append(value)
    return statistics.median(values) if values else None


def fmt(value, digits=2):
    if value is None:
        return "–"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.{digits}f}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return "–"
    return f"{a / b:.2f}×"


# (scenario, label, getter)
METRICS = [
    ("fanout", "deliveries/s", lambda r: r["deliveries_per_s"]),
    ("fanout", "server CPU ms per 1,000 deliveries", lambda r: r["cpu_s_per_1000"] * 1000),
    ("fanout", "latency p99 ms", lambda r: r["latency_ms"]["p99"]),
    ("fanout", "lost", lambda r: r["lost"]),
    ("paced", "latency p50 ms", lambda r: r["latency_ms"]["p50"]),
    ("paced", "latency p99 ms", lambda r: r["latency_ms"]["p99"]),
    ("paced", "latency max ms", lambda r: r["latency_ms"]["max"]),
    ("paced", "server CPU ms per 1,000 deliveries", lambda r: r["cpu_s_per_1000"] * 1000),
    ("paced", "lost", lambda r: r["lost"]),
    ("idle", "RSS KiB per idle SSE connection", lambda r: r["rss_per_conn_bytes"] / 1024),
    ("idle", "connected", lambda r: r["connected"]),
    ("longpoll", "lost", lambda r: r["lost"]),
    ("longpoll", "server CPU ms per 1,000 deliveries", lambda r: r["cpu_s_per_1000"] * 1000),
    ("longpoll", "latency p50 ms", lambda r: r["latency_ms"]["p50"]),
    ("longpoll", "latency p99 ms", lambda r: r["latency_ms"]["p99"]),
    ("longpoll-plain", "lost", lambda r: r["lost"]),
    ("longpoll-plain", "server CPU ms per 1,000 deliveries", lambda r: r["cpu_s_per_1000"] * 1000),
    ("longpoll-plain", "server CPU ms per 1,000 deliveries, whole server life (start-up, connects, deliveries)",
     lambda r: r["cpu_total_s_per_1000"] * 1000),
    ("longpoll-plain", "latency p50 ms", lambda r: r["latency_ms"]["p50"]),
    ("longpoll-plain", "latency p99 ms", lambda r: r["latency_ms"]["p99"]),
    ("multipart", "frames delivered", lambda r: r["delivered"]),
    ("multipart", "frames skipped", lambda r: r["lost"]),
    ("multipart", "latency p99 ms", lambda r: r["fast_latency_ms"]["p99"]),
    ("multipart", "server CPU ms per 1,000 frames", lambda r: r["cpu_s_per_1000"] * 1000),
    ("multipart", "server RSS growth KiB", lambda r: r["rss_peak_kib"] - r["rss_connected_kib"]),
    ("multipart-slow", "frames delivered (all viewers)", lambda r: r["delivered"]),
    ("multipart-slow", "frames skipped", lambda r: r["lost"]),
    ("multipart-slow", "latency p99 ms, the 90 other viewers", lambda r: r["fast_latency_ms"]["p99"]),
    ("multipart-slow", "server CPU ms per 1,000 frames", lambda r: r["cpu_s_per_1000"] * 1000),
    ("multipart-slow", "server RSS growth KiB", lambda r: r["rss_peak_kib"] - r["rss_connected_kib"]),
]

TITLES = {
    "fanout": "SSE fan-out: 1,000 subscribers × 200 messages of 100 B, back to back (8 in flight)",
    "paced": "SSE paced: 20 msgs/s (200 messages) to 1,000 subscribers",
    "idle": "10,000 idle SSE subscribers",
    "longpoll": "long-poll: 100 subscribers, 10 msgs/s ({messages} messages)",
    "longpoll-plain": "the same long-poll from a plain keep-alive client on a bare socket "
    "(no hyper): `Host` and `User-Agent` only (nchan: plus `If-Modified-Since` / `If-None-Match`)",
    "multipart": "multipart: 100 viewers, 30 fps, 50 KiB frames (450 frames)",
    "multipart-slow": "multipart with 10 slow viewers (one read a second) among the 100",
}

scenarios = [s for s in TITLES if any(r["scenario"] == s for r in runs)]
# The long-poll count is the one knob raised for CPU resolution: read it from the runs.
longpoll_messages = next((r["messages"] for r in runs if r["scenario"] == "longpoll"), "–")
TITLES["longpoll"] = TITLES["longpoll"].format(messages=longpoll_messages)
lines = [
    START,
    "## Side by side with nchan and Pushpin",
    "",
    f"`scripts/bench-peers.sh` ({date.today().isoformat()}): {reps} repetitions of each "
    "scenario, medians; every server restarted before every run (the order of the servers "
    "rotates from one repetition to the next), pinned to core 0 "
    "(`taskset -c 0`), the load generator (`pushwire-bench`) on core 1. "
    "Server CPU is user + system time of the whole process tree (nginx master + worker; "
    "Pushpin's runner, condure, proxy and handler) from `/proc/<pid>/stat`; memory is VmRSS. "
    f"{cores} cores, shared: load average at the start `{load_start.split('load average:')[-1].strip()}`, "
    f"at the end `{load_end.split('load average:')[-1].strip()}`.",
    "",
    "Peers: nginx 1.22 + nchan 1.3.6 (one worker, defaults otherwise), Pushpin 1.36 "
    "(`message_rate` and `message_hwm` raised to 1,000,000 so its publish throttle does not "
    "set the pace) behind a GRIP origin (`pushwire-bench grip-backend`). "
    "Multipart: Pushpin has no multipart subscriber (–); nchan's is `multipart/mixed` "
    "that queues every message (no skipping to the newest frame), pushwire's is "
    "`multipart/x-mixed-replace` on a `latest` channel.",
    "",
    "| scenario | metric | pushwire | nchan | Pushpin | pushwire / nchan | pushwire / Pushpin |",
    "| --- | --- | --- | --- | --- | --- | --- |",
]
for scenario in scenarios:
    for s, label, getter in METRICS:
        if s != scenario:
            continue
        pw = med(s, "pushwire", getter)
        nc = med(s, "nchan", getter)
        pp = med(s, "pushpin", getter)
        lines.append(
            f"| {scenario} | {label} | {fmt(pw)} | {fmt(nc)} | {fmt(pp)} | {ratio(pw, nc)} | {ratio(pw, pp)} |"
        )
lines.append("")
lines.append("Scenarios: " + "; ".join(f"**{s}**: {TITLES[s]}" for s in scenarios) + ".")
lines.append("")

# The goals of issue 8, checked on the medians.
def goal(text, ok):
    return f"- {text}: {'**met**' if ok else ('**not met**' if ok is not None else 'not measured')}"


def cmp(a, b, factor=1.0):
    if a is None or b is None:
        return None
    return a <= b * factor


cpu = lambda r: r["cpu_s_per_1000"]
lines.append("Goals (issue 8), on these medians:")
lines.append("")
lines.append(goal("server CPU per 1,000 SSE deliveries ≤ 0.5× nchan's",
                  cmp(med("fanout", "pushwire", cpu), med("fanout", "nchan", cpu), 0.5)))
p99 = lambda r: r["latency_ms"]["p99"]
lines.append(goal("paced p99 latency ≤ nchan's",
                  cmp(med("paced", "pushwire", p99), med("paced", "nchan", p99))))
rss = lambda r: r["rss_per_conn_bytes"]
lines.append(goal("RSS per idle SSE connection ≤ 0.5× nchan's",
                  cmp(med("idle", "pushwire", rss), med("idle", "nchan", rss), 0.5)))
lost = lambda r: r["lost"]
lp_lost = med("longpoll", "pushwire", lost)
lp_ok = cmp(med("longpoll", "pushwire", cpu), med("longpoll", "nchan", cpu))
lines.append(goal("long-poll: zero loss and CPU per delivery ≤ nchan's",
                  None if lp_lost is None or lp_ok is None else (lp_lost == 0 and lp_ok)))
lpp_lost = med("longpoll-plain", "pushwire", lost)
lpp_ok = cmp(med("longpoll-plain", "pushwire", cpu), med("longpoll-plain", "nchan", cpu))
life = lambda r: r["cpu_total_s_per_1000"]
lpp_life = cmp(med("longpoll-plain", "pushwire", life), med("longpoll-plain", "nchan", life))
lines.append(goal("long-poll from the plain client: zero loss and CPU per delivery ≤ nchan's, "
                  "in the delivery window and over the server's whole life",
                  None if None in (lpp_lost, lpp_ok, lpp_life) else (lpp_lost == 0 and lpp_ok and lpp_life)))
fast = lambda r: r["fast_latency_ms"]["p99"]
growth = lambda r: r["rss_peak_kib"] - r["rss_connected_kib"]
a, b = med("multipart", "pushwire", fast), med("multipart-slow", "pushwire", fast)
ga, gb = med("multipart", "pushwire", growth), med("multipart-slow", "pushwire", growth)
mp_ok = None
if None not in (a, b, ga, gb):
    # Noise allowance: 20 % on latency, 2 MiB on memory.
    mp_ok = b <= a * 1.2 and gb <= ga + 2048
lines.append(goal(f"multipart: slow viewers do not raise the others' latency (p99 {fmt(a)} → {fmt(b)} ms) "
                  f"or the server's memory (growth {fmt(ga)} → {fmt(gb)} KiB)", mp_ok))
lines.append(END)
section = "\n".join(lines) + "\n"

text = open(md_path).read()
if START in text and END in text:
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1].lstrip("\n")
    text = head + section + ("\n" + tail if tail else "")
else:
    text = text.rstrip("\n") + "\n\n" + section
open(md_path, "w").write(text)
print(section)
