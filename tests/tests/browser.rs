//! The browser SDK against the real server in real headless Chromium.
//! One scenario folder under `scenarios/` per test family; see `src/lib.rs`.

use core::time::Duration;

use pushwire_tests::proxy::Proxy;
use pushwire_tests::{Server, run_scenario};
use serde_json::{Value, json};

/// One browser at a time: the machine has two cores and the scenarios time things.
static BROWSER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const LIMIT: Duration = Duration::from_secs(40);

async fn scenario(name: &str, mut params: Value) -> Value {
    let _one = BROWSER.lock().await;
    let server = Server::start().await;
    let proxy = Proxy::start(server.addr).await;
    params["control"] = json!(format!("http://{}", proxy.control));
    let origin = format!("http://{}", proxy.addr);
    run_scenario(&origin, name, &params, LIMIT).await.result
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

async fn delivers_in_order_and_resumes_after_a_cut(transport: &str) {
    let result = scenario(
        "transport_delivers_and_resumes",
        json!({ "transport": transport }),
    )
    .await;
    let expected: Vec<String> = (1..=10).map(|i| format!("m{i}")).collect();
    assert_eq!(
        strings(&result["data"]),
        expected,
        "{transport}: {result:#}"
    );
    assert_eq!(result["transport"], transport, "{result:#}");
    assert_eq!(result["channels"], json!([result["channel"]]), "{result:#}");
    assert_eq!(result["types"], json!(["message"]), "{result:#}");
    assert_eq!(result["readyState"], 1, "{result:#}");
    assert_eq!(result["lastEventId"], result["lastMessageId"], "{result:#}");
    assert!(
        strings(&result["opens"]).len() >= 2 || !transport_is_streaming(transport),
        "a streaming transport reopens after the cut: {result:#}"
    );
}

fn transport_is_streaming(transport: &str) -> bool {
    matches!(transport, "sse" | "stream" | "iframe")
}

#[tokio::test]
async fn sse_delivers_in_order_and_resumes_after_a_cut() {
    delivers_in_order_and_resumes_after_a_cut("sse").await;
}

#[tokio::test]
async fn stream_delivers_in_order_and_resumes_after_a_cut() {
    delivers_in_order_and_resumes_after_a_cut("stream").await;
}

#[tokio::test]
async fn iframe_delivers_in_order_and_resumes_after_a_cut() {
    delivers_in_order_and_resumes_after_a_cut("iframe").await;
}

#[tokio::test]
async fn longpoll_delivers_in_order_and_resumes_after_a_cut() {
    delivers_in_order_and_resumes_after_a_cut("longpoll").await;
}

#[tokio::test]
async fn poll_delivers_in_order_and_resumes_after_a_cut() {
    delivers_in_order_and_resumes_after_a_cut("poll").await;
}

async fn falls_back_to_stream(mode: &str) {
    let result = scenario("ladder_falls_back", json!({ "mode": mode })).await;
    assert_eq!(result["first"], "sse", "{result:#}");
    assert_eq!(result["transport"], "stream", "{result:#}");
    assert_eq!(result["changes"], json!([["sse", "stream"]]), "{result:#}");
    assert_eq!(
        strings(&result["data"]),
        ["m1", "m2", "m3", "m4", "m5"],
        "{result:#}"
    );
}

#[tokio::test]
async fn ladder_steps_down_when_event_source_fails() {
    falls_back_to_stream("fail-sse").await;
}

#[tokio::test]
async fn ladder_steps_down_when_event_source_stalls_behind_a_buffering_proxy() {
    falls_back_to_stream("stall-sse").await;
}

#[tokio::test]
async fn stream_parser_matches_native_event_source_on_hostile_payloads() {
    let payloads = [
        ("</script><script>window.__x=1</script>", None),
        ("line\u{2028}separator\u{2029}paragraph", None),
        ("<!-- comment --> -->", None),
        ("cr\r\ncrlf\rcr\nlf\r\n\r\nend", None),
        ("trailing newline\n", None),
        (" leading space", None),
        ("emoji 😀 \"quoted\" \\ back\tslash \u{0}nul", None),
        ("12.5", Some("price")),
        ("data: not a field\n\nid: 9\n\n", None),
    ];
    let params =
        json!({ "payloads": payloads.iter().map(|(d, e)| json!([d, e])).collect::<Vec<_>>() });
    let result = scenario("stream_matches_event_source", params).await;
    let seen = &result["seen"];
    assert_eq!(
        seen["sse"], seen["streamSse"],
        "EventSource and core's SSE parser disagree: {result:#}"
    );
    let sse = seen["sse"].as_array().expect("sse events");
    assert_eq!(sse.len(), payloads.len(), "{result:#}");
    for (index, (data, event)) in payloads.iter().enumerate() {
        // SSE carries lines: CR and CRLF arrive as LF (docs/conformance.md §1).
        let lines = data.replace("\r\n", "\n").replace('\r', "\n");
        let kind = event.unwrap_or("message");
        assert_eq!(sse[index]["data"], lines.as_str(), "sse #{index}");
        assert_eq!(sse[index]["type"], kind, "sse #{index}");
        for exact in ["streamNdjson", "iframe", "longpoll"] {
            let got = &seen[exact][index];
            assert_eq!(got["data"], *data, "{exact} #{index}: {result:#}");
            assert_eq!(got["type"], kind, "{exact} #{index}");
            assert_eq!(
                got["lastEventId"], sse[index]["lastEventId"],
                "{exact} #{index}"
            );
            assert_eq!(got["channel"], sse[index]["channel"], "{exact} #{index}");
        }
    }
    assert_eq!(
        result["injected"], false,
        "a payload ran as script: {result:#}"
    );
}

#[tokio::test]
async fn close_removes_the_frame_and_its_callback_and_stops_delivery() {
    let result = scenario("close_tears_everything_down", json!({})).await;
    assert_eq!(result["framesOpen"], 1, "{result:#}");
    assert_eq!(result["framesClosed"], 0, "{result:#}");
    assert_eq!(
        result["globalsOpen"],
        result["globalsBefore"].as_u64().unwrap() + 1
    );
    assert_eq!(
        result["globalsClosed"], result["globalsBefore"],
        "{result:#}"
    );
    assert_eq!(result["got"], json!(["before"]), "{result:#}");
    assert_eq!(result["readyState"], 2, "{result:#}");
}

#[tokio::test]
async fn webcam_shows_a_multipart_channel_in_img_and_canvas() {
    let result = scenario("webcam_shows_frames", json!({})).await;
    assert_eq!(
        result["modes"],
        json!(["fetch", "native", "fetch"]),
        "{result:#}"
    );
    assert_eq!(result["canvas"], json!([32, 24]), "{result:#}");
    assert_eq!(result["img"], json!([32, 24]), "{result:#}");
    assert_eq!(result["headed"], json!([32, 24]), "{result:#}");
    assert_eq!(result["headedSrc"], "blob:", "{result:#}");
    assert_eq!(result["srcsAfterClose"], json!([null, null]), "{result:#}");
}
