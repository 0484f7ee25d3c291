#!/usr/bin/env bash
# pushwire side by side with nchan (nginx + libnginx-mod-nchan) and Pushpin,
# on loopback, server pinned to core 0 and load to core 1 (issue 8).
#
#   scripts/bench-peers.sh            # every scenario, 3 repetitions, writes BENCHMARKS.md
#   REPS=1 QUICK=1 scripts/bench-peers.sh   # small numbers, to try the harness
#   SCENARIOS="fanout paced" TARGETS=pushwire scripts/bench-peers.sh
#
# Installs nginx-light, libnginx-mod-nchan and pushpin from Debian when
# missing, runs them from a temp dir under their own config on high loopback
# ports (never the system config or ports 80/443), restarts every server
# before every measurement, and replaces the section between the
# bench-peers markers in BENCHMARKS.md with the medians and ratios.
set -euo pipefail
set -f # URLs hold ? and {}: no globbing

root=$(cd "$(dirname "$0")/.." && pwd)
REPS=${REPS:-3}
QUICK=${QUICK:-0}
SCENARIOS=${SCENARIOS:-"fanout paced idle longpoll longpoll-plain multipart multipart-slow"}
TARGETS=${TARGETS:-"pushwire nchan pushpin"} # a subset, while working on one
PW_PORT=28080
NCHAN_PORT=28081
PUSHPIN_OFFSET=20000 # Pushpin's 7999 (HTTP) and 5561 (publish) become 27999 and 25561
GRIP_PORT=27900
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/pushwire-target}
bin=$CARGO_TARGET_DIR/release

say() { printf '== %s\n' "$*" >&2; }

# --- the peers, from Debian --------------------------------------------------
missing=()
for pkg in nginx-light libnginx-mod-nchan pushpin; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    say "installing ${missing[*]}"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
# apt may have started the distribution's services: this run uses its own.
for service in nginx pushpin; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
        systemctl stop "$service" || true
    elif [ -x "/etc/init.d/$service" ]; then
        "/etc/init.d/$service" stop >/dev/null 2>&1 || true
    fi
done

say "building pushwire and pushwire-bench (release)"
(cd "$root" && cargo build --release -q -p pushwire-host -p pushwire-bench)

work=$(mktemp -d /tmp/pushwire-bench-peers.XXXXXX)
say "work dir $work"
# 10,000 subscribers need 10,000 descriptors on each side; take what the hard limit allows.
ulimit -n "$(ulimit -Hn)"
started_pids=()
cleanup() {
    for pid in "${started_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${started_pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# The process and all its descendants, comma-separated.
tree_pids() {
    local all=("$1") queue=("$1") pid child
    while ((${#queue[@]})); do
        pid=${queue[0]}
        queue=("${queue[@]:1}")
        for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
            all+=("$child")
            queue+=("$child")
        done
    done
    local IFS=,
    echo "${all[*]}"
}

wait_port() {
    for _ in $(seq 200); do
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "nothing listens on 127.0.0.1:$1" >&2
    return 1
}

# --- configs -------------------------------------------------------------------
cat >"$work/pushwire.toml" <<'EOF'
# Webcam channels: a slow viewer skips to the newest frame.
[[channels]]
pattern = "cam-*"
policy = "latest"
max_count = 8
EOF

mkdir -p "$work/nginx/tmp" "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<EOF
load_module /usr/lib/nginx/modules/ngx_nchan_module.so;
worker_processes 1;
worker_rlimit_nofile 19000;
pid $work/nginx/nginx.pid;
error_log $work/nginx/logs/error.log warn;
events { worker_connections 18000; }
http {
    access_log off;
    client_body_temp_path $work/nginx/tmp/body;
    proxy_temp_path $work/nginx/tmp/proxy;
    fastcgi_temp_path $work/nginx/tmp/fastcgi;
    uwsgi_temp_path $work/nginx/tmp/uwsgi;
    scgi_temp_path $work/nginx/tmp/scgi;
    client_max_body_size 2m;
    client_body_buffer_size 2m; # publishes stay in memory (as in pushwire)
    server {
        listen 127.0.0.1:$NCHAN_PORT backlog=4096;
        location ~ ^/sse/(.+)\$ { nchan_subscriber eventsource; nchan_channel_id \$1; }
        location ~ ^/lp/(.+)\$ { nchan_subscriber longpoll; nchan_channel_id \$1; }
        location ~ ^/mp/(.+)\$ { nchan_subscriber http-multipart; nchan_channel_id \$1; }
        location ~ ^/pub/(.+)\$ { nchan_publisher; nchan_channel_id \$1; }
    }
}
EOF

mkdir -p "$work/pushpin/run" "$work/pushpin/log"
echo "* 127.0.0.1:$GRIP_PORT" >"$work/pushpin/routes"
sed -e "s|^rundir=.*|rundir=$work/pushpin/run|" \
    -e "s|^logdir=.*|logdir=$work/pushpin/log|" \
    -e "s|^routesfile=.*|routesfile=$work/pushpin/routes|" \
    -e "s|^port_offset=.*|port_offset=$PUSHPIN_OFFSET|" \
    -e "s|^http_port=.*|http_port=127.0.0.1:$((7999 + PUSHPIN_OFFSET))|" \
    -e "s|^ipc_prefix=.*|ipc_prefix=pwbench-|" \
    -e "s|^message_rate=.*|message_rate=1000000|" \
    -e "s|^message_hwm=.*|message_hwm=1000000|" \
    -e "s|^client_maxconn=.*|client_maxconn=60000|" \
    -e "s|^log_level=.*|log_level=1|" \
    -e "s|^\[proxy\]$|[proxy]\nzurl_out_specs=ipc://$work/pushpin/run/zurl-in\nzurl_out_stream_specs=ipc://$work/pushpin/run/zurl-in-stream\nzurl_in_specs=ipc://$work/pushpin/run/zurl-out|" \
    /etc/pushpin/pushpin.conf >"$work/pushpin/pushpin.conf"
# Pushpin reaches its origin through zurl; Debian's zurl.conf denies 127.*.
sed -e "s|ipc:///var/run/zurl/|ipc://$work/pushpin/run/|" \
    -e "s|^deny=.*|deny=|" -e "s|^allow=.*|allow=127.0.0.1|" \
    /etc/zurl.conf >"$work/pushpin/zurl.conf"

# --- servers -------------------------------------------------------------------
server_pid=""
start_server() { # target -> sets server_pid (comma-separated process tree)
    local pid
    case $1 in
    pushwire)
        taskset -c 0 "$bin/pushwire" serve --listen "127.0.0.1:$PW_PORT" --demo-camera false \
            --demo-ticker false --stats-channel "" \
            --max-connections 20000 --log warn --config "$work/pushwire.toml" \
            >>"$work/pushwire.log" 2>&1 &
        pid=$!
        started_pids+=("$pid")
        wait_port $PW_PORT
        ;;
    nchan)
        taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' \
            >>"$work/nginx/logs/stderr.log" 2>&1 &
        pid=$!
        started_pids+=("$pid")
        wait_port $NCHAN_PORT
        ;;
    pushpin)
        (cd "$work/pushpin" && exec taskset -c 0 pushpin --config "$work/pushpin/pushpin.conf") \
            >>"$work/pushpin/stderr.log" 2>&1 &
        pid=$!
        started_pids+=("$pid")
        taskset -c 0 zurl --config="$work/pushpin/zurl.conf" >>"$work/pushpin/zurl.log" 2>&1 &
        zurl_pid=$!
        started_pids+=("$pid")
        wait_port $((7999 + PUSHPIN_OFFSET))
        wait_port $((5561 + PUSHPIN_OFFSET))
        sleep 0.5
        ;;
    esac
    server_pid=$(tree_pids "$pid")
    if [ "$1" = pushpin ]; then
        started_pids+=("$zurl_pid")
        server_pid="$server_pid,$zurl_pid"
    fi
}

stop_server() { # pid of the tree's root is the first
    local root_pid=${server_pid%%,*} pid
    kill "$root_pid" 2>/dev/null || true
    for _ in $(seq 100); do
        kill -0 "$root_pid" 2>/dev/null || break
        sleep 0.05
    done
    for pid in ${server_pid//,/ }; do
        kill "$pid" 2>/dev/null || true
        sleep 0.05
        kill -9 "$pid" 2>/dev/null || true
    done
    sleep 0.3
}

taskset -c 1 "$bin/pushwire-bench" grip-backend --listen "127.0.0.1:$GRIP_PORT" --max-secs 7200 \
    >"$work/grip.log" 2>&1 &
started_pids+=("$!")
wait_port $GRIP_PORT

# --- scenarios -----------------------------------------------------------------
if [ "$QUICK" = 1 ]; then
    FAN_N=100 FAN_M=50 PACED_N=100 PACED_M=40 IDLE_N=1000 LP_N=20 LP_M=30 MP_N=20 MP_M=60
else
    # Multipart: every viewer gets a frame at the same moment, so the p99 of
    # 100 viewers is set by the worst 1 % of frames. Over 150 frames that is
    # the second-worst frame, and the p99 swung between runs of the same code
    # by more than the slow-viewer goal allows; over 450 frames it is the
    # fifth-worst.
    FAN_N=1000 FAN_M=200 PACED_N=1000 PACED_M=200 IDLE_N=10000 LP_N=100 LP_M=300 MP_N=100 MP_M=450
fi

pushpin_body='{"items":[{"channel":"{channel}","formats":{"http-stream":{"content":"data: {payload}\n\n"},"http-response":{"body":"{payload}"}}}]}'

# Per target: the transport's URL and how to publish.
target_args() { # target transport scenario
    local t=$1 transport=$2 scenario=$3
    case $t in
    pushwire)
        local q=""
        case $transport in
        longpoll) q="?transport=longpoll" ;;
        multipart) q="?transport=multipart" ;;
        esac
        echo --sub-url "http://127.0.0.1:$PW_PORT/sub/{channel}$q" \
            --pub-url "http://127.0.0.1:$PW_PORT/pub/{channel}" --longpoll pushwire
        ;;
    nchan)
        # nchan picks the subscriber type by Accept.
        local loc=sse accept=(--sub-header accept:text/event-stream)
        case $transport in
        longpoll) loc=lp accept=(--sub-header accept:text/plain) ;;
        multipart) loc=mp accept=(--sub-header accept:multipart/mixed) ;;
        esac
        # The plain client sends Host and User-Agent only (/lp/ is long-poll whatever the Accept).
        [ "$scenario" = longpoll-plain ] && accept=()
        echo --sub-url "http://127.0.0.1:$NCHAN_PORT/$loc/{channel}" "${accept[@]}" \
            --pub-url "http://127.0.0.1:$NCHAN_PORT/pub/{channel}" --longpoll nchan
        ;;
    pushpin)
        local q=""
        [ "$transport" = longpoll ] && q="?mode=response"
        echo --sub-url "http://127.0.0.1:$((7999 + PUSHPIN_OFFSET))/sub/{channel}$q" \
            --pub-url "http://127.0.0.1:$((5561 + PUSHPIN_OFFSET))/publish/" --longpoll raw
        ;;
    esac
}

scenario_args() { # scenario -> transport + load options
    case $1 in
    fanout) echo "sse --subscribers $FAN_N --messages $FAN_M --size 100 --in-flight 8" ;;
    paced) echo "sse --subscribers $PACED_N --messages $PACED_M --size 100 --rate 20 --in-flight 4" ;;
    idle) echo "sse --subscribers $IDLE_N --messages 0 --settle-ms 3000 --source-addrs 8" ;;
    longpoll) echo "longpoll --subscribers $LP_N --messages $LP_M --size 100 --rate 10 --in-flight 2" ;;
    # The same, from a plain keep-alive client on a bare socket (no hyper):
    # only Host and User-Agent (and nchan's If-Modified-Since / If-None-Match).
    longpoll-plain) echo "longpoll --subscribers $LP_N --messages $LP_M --size 100 --rate 10 --in-flight 2 --longpoll-client plain" ;;
    multipart) echo "multipart --subscribers $MP_N --messages $MP_M --size 51200 --rate 30 --in-flight 4 --quiet-ms 1500" ;;
    multipart-slow) echo "multipart --subscribers $MP_N --messages $MP_M --size 51200 --rate 30 --in-flight 4 --quiet-ms 1500 --slow 10 --slow-delay-ms 1000" ;;
    esac
}

scenario_targets() {
    case $1 in
    # Pushpin has no multipart subscriber; nchan's is multipart/mixed (every message queued, no skipping).
    multipart | multipart-slow) echo "pushwire nchan" ;;
    *) echo "pushwire nchan pushpin" ;;
    esac
}

# The targets in the order repetition `rep` runs them: each repetition starts
# one further along, so no server always runs right after the same other one
# (whatever a server leaves behind, sockets closing or a busy core, falls on
# each in turn).
rotated() { # rep target...
    local rep=$1
    shift
    local targets=("$@") by=$(((rep - 1) % $#))
    echo "${targets[@]:by}" "${targets[@]:0:by}"
}

results=$work/results.jsonl
: >"$results"
load_start=$(uptime)
say "load before: $load_start"
for scenario in $SCENARIOS; do
    read -r transport options <<<"$(scenario_args "$scenario")"
    for rep in $(seq "$REPS"); do
        for target in $(rotated "$rep" $(scenario_targets "$scenario")); do
            [[ " $TARGETS " == *" $target "* ]] || continue
            channel_prefix=bench
            [ "$transport" = multipart ] && channel_prefix=cam
            channel="$channel_prefix-$scenario-$rep-$RANDOM"
            start_server "$target"
            extra=()
            [ "$target" = pushpin ] && extra=(--pub-body "$pushpin_body" --pub-header "content-type: application/json")
            say "$scenario rep $rep: $target (pids $server_pid)"
            # shellcheck disable=SC2046,SC2086
            if line=$(taskset -c 1 "$bin/pushwire-bench" run --target "$target" --transport $transport \
                $options $(target_args "$target" "$transport" "$scenario") "${extra[@]}" \
                --channel "$channel" --server-pid "$server_pid" --timeout-secs 120 2>>"$work/bench.log"); then
                jq -c --arg s "$scenario" --arg r "$rep" --arg load "$(cut -d, -f3- <<<"$(uptime)")" \
                    '. + {scenario: $s, rep: ($r | tonumber), load: $load}' <<<"$line" >>"$results"
                jq -c '{target, delivered, lost, deliveries_per_s, latency_ms, cpu_s_per_1000, rss_per_conn_bytes}' <<<"$line" >&2
            else
                say "run failed: see $work/bench.log"
            fi
            stop_server
        done
    done
done
load_end=$(uptime)
say "load after: $load_end"

python3 "$root/scripts/bench-peers-table.py" "$results" "$root/BENCHMARKS.md" \
    "$REPS" "$load_start" "$load_end" "$(nproc)"
say "table written to BENCHMARKS.md; raw results in $results"
