//! The demo pages of `www/` in real headless Chromium against a server
//! started as `pushwire serve` starts it (ticker, camera, stats on): each
//! page loads without console errors and shows live data, every transport
//! forced alone shows hostile payloads as text and resumes after a cut, and
//! the default ladder steps down behind a proxy that breaks EventSource.
//!
//! Screenshots of every page land in `<target dir>/screenshots/`
//! ([`pushwire_tests::screenshots`]). One scenario folder per test family
//! under `scenarios/` (`drive.mjs`, run by `browser/pages.mjs`).

use core::time::Duration;

use pushwire_tests::proxy::Proxy;
use pushwire_tests::{Report, Server, run_page_scenario, screenshots};
use serde_json::{Value, json};

/// One browser at a time: the machine has two cores and the scenarios time things.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const LIMIT: Duration = Duration::from_secs(45);

/// Run `scenario` against a fresh demo server behind the test proxy.
async fn drive(scenario: &str, mut params: Value) -> Report {
    let _one = BROWSER.lock().await;
    let server = Server::demo().await;
    let proxy = Proxy::start(server.addr).await;
    params["control"] = json!(format!("http://{}", proxy.control));
    params["screenshots"] = json!(screenshots());
    let origin = format!("http://{}", proxy.addr);
    let started = std::time::Instant::now();
    let report = run_page_scenario(&origin, scenario, &params, LIMIT).await;
    // Seen with --nocapture: where the suite's time goes.
    let variant = params.get("transport").or_else(|| params.get("mode"));
    eprintln!(
        "{scenario} {}: {:.1?}",
        variant.unwrap_or(&json!("")),
        started.elapsed()
    );
    report
}

/// The result of a scenario whose pages logged no console error and threw nothing.
async fn clean(scenario: &str, params: Value) -> Value {
    let report = drive(scenario, params).await;
    assert!(
        report.errors.is_empty(),
        "{scenario}: the pages logged errors:\n{}\nconsole:\n{}",
        report.errors.join("\n"),
        report.logs.join("\n")
    );
    report.result
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn index_page_links_every_demo_with_a_line_about_it() {
    let result = clean("index_page", json!({})).await;
    let demos = result["demos"].as_array().expect("demo links");
    let hrefs: Vec<&str> = demos.iter().filter_map(|d| d["href"].as_str()).collect();
    assert_eq!(
        hrefs,
        [
            "/chat.html",
            "/ticker.html",
            "/webcam.html",
            "/console.html",
            "/lab.html"
        ],
        "{result:#}"
    );
    for demo in demos {
        assert!(
            demo["text"].as_str().is_some_and(|text| text.len() > 20),
            "{demo}"
        );
    }
    assert_eq!(result["statuses"], json!([200, 200, 200, 200, 200]));
    assert_eq!(strings(&result["nav"]).len(), 6, "{result:#}");
}

#[tokio::test]
async fn chat_page_sends_through_its_form_and_shows_published_messages() {
    let result = clean("chat_page", json!({})).await;
    let messages = result["messages"].as_array().expect("messages");
    let texts: Vec<&str> = messages.iter().filter_map(|m| m["text"].as_str()).collect();
    assert_eq!(
        texts,
        ["hello from the form", "hello from outside"],
        "{result:#}"
    );
    assert!(
        messages[0]["who"]
            .as_str()
            .is_some_and(|who| who.ends_with("tester")),
        "{result:#}"
    );
    assert!(
        messages[1]["who"]
            .as_str()
            .is_some_and(|who| who.ends_with("curl")),
        "{result:#}"
    );
    assert_eq!(result["badges"], json!(["sse", "open"]), "{result:#}");
    assert_eq!(result["cleared"], "", "{result:#}");
    assert_eq!(result["error"], "", "{result:#}");
}

#[tokio::test]
async fn ticker_page_fills_its_table_and_counts_updates() {
    let result = clean("ticker_page", json!({})).await;
    let rows = result["rows"].as_array().expect("rows");
    let symbols: Vec<&str> = rows.iter().filter_map(|row| row[0].as_str()).collect();
    assert_eq!(
        symbols,
        ["ACME", "GLOBX", "INITECH", "UMBRL", "HOOLI"],
        "{result:#}"
    );
    for row in rows {
        let price: f64 = row[1].as_str().unwrap_or("").parse().expect("a price");
        assert!(price > 0.0, "{row}");
    }
    let (first, second) = (
        result["first"].as_u64().unwrap_or(0),
        result["second"].as_u64().unwrap_or(0),
    );
    // 4 updates a second: 2 s later the counter moved by about 8.
    assert!(first >= 1 && second >= first + 3, "{result:#}");
    assert!(result["inked"].as_u64().unwrap_or(0) > 100, "{result:#}");
    assert_eq!(result["badges"], json!(["sse", "open"]), "{result:#}");
}

#[tokio::test]
async fn webcam_page_shows_changing_frames_in_img_and_counts_sdk_frames() {
    let result = clean("webcam_page", json!({})).await;
    assert_eq!(result["channel"], "demo-cam", "{result:#}");
    let pixels = result["pixels"].as_u64().unwrap_or(0);
    assert!(pixels > 1000, "{result:#}");
    assert!(
        result["lit"].as_u64().unwrap_or(0) > pixels / 10,
        "the frame is not blank: {result:#}"
    );
    assert!(
        result["changed"].as_u64().unwrap_or(0) > 10,
        "the <img> frame a second later differs: {result:#}"
    );
    assert_eq!(result["screenshotsDiffer"], true, "{result:#}");
    let (first, later) = (
        result["framesFirst"].as_u64().unwrap_or(0),
        result["framesLater"].as_u64().unwrap_or(0),
    );
    assert!(
        first > 0 && later > first,
        "the SDK canvas counts frames: {result:#}"
    );
}

#[tokio::test]
async fn console_page_counts_connections_and_plots_the_stats_channel() {
    let result = clean("console_page", json!({})).await;
    let big = strings(&result["big"]);
    let connections: u64 = big[0].parse().expect("a connection count");
    assert!(
        connections >= 1,
        "the console's own connection counts: {result:#}"
    );
    assert_ne!(big[1], "–", "{result:#}");
    assert_ne!(big[2], "–", "{result:#}");
    for inked in result["inked"].as_array().expect("charts") {
        assert!(
            inked.as_u64().unwrap_or(0) > 100,
            "a chart drawn: {result:#}"
        );
    }
    assert_eq!(result["badges"], json!(["sse", "open"]), "{result:#}");
}

#[tokio::test]
async fn lab_page_switches_transports_resumes_after_cut_and_shows_a_gap_after_a_flood() {
    let result = clean("lab_page", json!({})).await;
    assert_eq!(
        strings(&result["buttons"]),
        ["auto", "sse", "stream", "iframe", "longpoll", "poll"],
        "{result:#}"
    );
    assert_eq!(result["restoreEnabled"], true, "{result:#}");
    assert_eq!(result["cutBadge"], json!(["closed"]), "{result:#}");
    assert_eq!(
        result["whileCut"], 21,
        "nothing arrives while cut: {result:#}"
    );
    assert_eq!(
        result["resumed"],
        json!(["missed 1", "missed 2", "missed 3"]),
        "{result:#}"
    );
    assert!(result["resumeLine"].is_string(), "{result:#}");
    let gap = result["gap"].as_str().unwrap_or("");
    assert!(
        gap.contains("\"missed\"") && gap.contains("\"channel\":\"lab\""),
        "{result:#}"
    );
}

const HOSTILE: [&str; 5] = [
    "</script><script>window.__x=1</script>",
    "line\u{2028}separator\u{2029}paragraph",
    "<!-- comment",
    "--> end of comment",
    "<img src=x onerror=\"window.__x=1\">",
];

async fn pages_over(transport: &str) {
    let result = drive(
        "transport_on_the_pages",
        json!({ "transport": transport, "payloads": HOSTILE }),
    )
    .await;
    // A cut may log failed loads; nothing may throw.
    let thrown: Vec<&String> = result
        .errors
        .iter()
        .filter(|line| line.contains("pageerror"))
        .collect();
    assert!(thrown.is_empty(), "{transport}: {thrown:#?}");
    let result = result.result;
    let chat = &result["chat"];
    let mut expected: Vec<String> = HOSTILE.iter().map(|s| (*s).to_owned()).collect();
    expected.push(HOSTILE.join(" | "));
    assert_eq!(
        strings(&chat["texts"]),
        expected,
        "{transport}: hostile payloads shown as text, intact: {result:#}"
    );
    assert!(
        strings(&chat["metas"])
            .last()
            .is_some_and(|meta| meta.ends_with(HOSTILE[0])),
        "{transport}: {result:#}"
    );
    assert_eq!(chat["elements"], 0, "{transport}: {result:#}");
    assert_eq!(chat["injected"], false, "{transport}: {result:#}");
    for frame in chat["frames"].as_array().expect("frames") {
        assert_eq!(frame["injected"], false, "{transport}: {result:#}");
    }
    if transport == "iframe" {
        assert_eq!(
            chat["frames"].as_array().map(Vec::len),
            Some(1),
            "{result:#}"
        );
    }
    let lab = &result["lab"];
    let expected: Vec<String> = (1..=10).map(|i| format!("m{i}")).collect();
    assert_eq!(
        strings(&lab["data"]),
        expected,
        "{transport}: in order, nothing lost or repeated across the cut: {result:#}"
    );
    assert_eq!(lab["badges"], json!([transport, "open"]), "{result:#}");
    assert_eq!(lab["injected"], false, "{result:#}");
}

#[tokio::test]
async fn pages_over_sse_show_hostile_payloads_as_text_and_resume_after_a_cut() {
    pages_over("sse").await;
}

#[tokio::test]
async fn pages_over_stream_show_hostile_payloads_as_text_and_resume_after_a_cut() {
    pages_over("stream").await;
}

#[tokio::test]
async fn pages_over_iframe_show_hostile_payloads_as_text_and_resume_after_a_cut() {
    pages_over("iframe").await;
}

#[tokio::test]
async fn pages_over_longpoll_show_hostile_payloads_as_text_and_resume_after_a_cut() {
    pages_over("longpoll").await;
}

#[tokio::test]
async fn pages_over_poll_show_hostile_payloads_as_text_and_resume_after_a_cut() {
    pages_over("poll").await;
}

async fn chat_falls_back(mode: &str) {
    let report = drive("page_falls_back", json!({ "mode": mode })).await;
    let thrown: Vec<&String> = report
        .errors
        .iter()
        .filter(|line| line.contains("pageerror"))
        .collect();
    assert!(thrown.is_empty(), "{mode}: {thrown:#?}");
    let result = report.result;
    assert_eq!(result["badges"], json!(["stream", "open"]), "{result:#}");
    assert_eq!(
        strings(&result["system"]),
        ["joined #lobby", "stepped down: sse → stream"],
        "{result:#}"
    );
    assert_eq!(
        strings(&result["texts"]),
        ["sent after the fallback", "published after the fallback"],
        "{result:#}"
    );
}

#[tokio::test]
async fn chat_page_steps_down_to_stream_when_event_source_fails() {
    chat_falls_back("fail-sse").await;
}

#[tokio::test]
async fn chat_page_steps_down_to_stream_when_event_source_stalls_behind_a_buffering_proxy() {
    chat_falls_back("stall-sse").await;
}
