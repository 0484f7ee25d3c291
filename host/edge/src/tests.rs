//! Unit tests of the default policy, run natively.
#![allow(clippy::unwrap_used)]

use alloc::borrow::ToOwned;
use alloc::string::String;
use alloc::vec::Vec;
use alloc::{format, vec};

use pushwire_core::frame::{self as core_frame, CallbackName, FrameConfig, FrameEncoder};
use pushwire_core::multipart::{
    Boundary, MultipartEncoder, MultipartEvent, MultipartParser, MultipartParserConfig,
    boundary_from_content_type,
};
use pushwire_core::ndjson::{NdjsonParser, NdjsonParserConfig};
use pushwire_core::sse::{SseEvent, SseParser};
use pushwire_core::wire::{self, WireMessageRef};
use pushwire_core::{ndjson, sse};

use pushwire_core::transport::Transport as CoreTransport;

use crate::policy::{
    INGEST_EVENT, MAX_CHANNELS, MAX_PUBLISH_BYTES, MULTIPART_BOUNDARY, MULTIPART_REPEAT_MS,
    negotiate, sniff_content_type, transport_name,
};
use crate::{
    Message, Policy, Publish, Request, Subscription, Transport, accept_publish, end, frame,
    frame_reply, heartbeat, open, route,
};

const CURSOR: &str = "s44we8.1z";

/// The tests' request time (2023-11-14), for token expiry.
const NOW: u64 = 1_700_000_000;

fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
        unix_time: NOW,
    }
}

fn get(path: &str, query: &str) -> Request {
    request("GET", path, query, &[])
}

fn message(event: &str, data: &[u8]) -> Message {
    Message {
        id: CURSOR.into(),
        channel: "news".into(),
        event: event.into(),
        data: data.to_vec(),
    }
}

fn subscription(transport: Transport) -> Subscription {
    Subscription {
        channels: vec!["news".into()],
        transport,
        cursor: None,
        callback: None,
        min_interval_ms: None,
    }
}

#[test]
fn route_refuses_every_bad_request_with_a_sentence() {
    let long = "a".repeat(129);
    let many = (0..=MAX_CHANNELS)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(",");
    // (request, status, a piece of the message)
    let cases: Vec<(Request, u16, &str)> = vec![
        (
            get("/subscribe/news", ""),
            404,
            "No such route \"/subscribe/news\"",
        ),
        (get("/", ""), 404, "GET /sub/{channels}"),
        (
            request("POST", "/sub/news", "", &[]),
            405,
            "subscribe with GET",
        ),
        (
            request("HEAD", "/sub/news", "", &[]),
            405,
            "HEAD is not allowed on /sub/news: subscribe with GET.",
        ),
        (get("/sub/", ""), 400, "Name at least one channel"),
        (get("/sub/a,,b", ""), 400, "channel name is empty"),
        (
            get("/sub/a,", ""),
            400,
            "separate channels with single commas",
        ),
        (
            get("/sub/a b", ""),
            400,
            "Channel \"a b\" is not a valid channel name",
        ),
        (get("/sub/a%20b", ""), 400, "has ' ' at byte 1"),
        (get("/sub/news/", ""), 400, "has '/' at byte 4"),
        (
            get(&format!("/sub/{long}"), ""),
            400,
            "129 bytes long, more than 128",
        ),
        (get("/sub/a%2", ""), 400, "bad percent-escape at byte 1"),
        (get("/sub/a%zz", ""), 400, "bad percent-escape at byte 1"),
        (get("/sub/%ff", ""), 400, "not UTF-8"),
        (
            get("/sub/news,sport,news", ""),
            400,
            "\"news\" is named twice",
        ),
        (
            get(&format!("/sub/{many}"), ""),
            400,
            "17 channels named, at most 16",
        ),
        (
            get("/sub/news", "transport=websocket"),
            400,
            "Unknown transport \"websocket\": use one of sse, stream, multipart, iframe, longpoll, poll.",
        ),
        (
            get("/sub/news", "transport="),
            400,
            "Unknown transport \"\"",
        ),
        (
            get("/sub/news", "transport=SSE"),
            400,
            "Unknown transport \"SSE\"",
        ),
        (
            get("/sub/news", "transport=%"),
            400,
            "\"transport\" parameter has a bad percent-escape",
        ),
        (
            get("/sub/news", "since=abc!"),
            400,
            "The resume cursor \"abc!\" is not valid: cursor has '!'",
        ),
        (get("/sub/news", "since=s44we8"), 400, "no channel position"),
        (get("/sub/news", "last_event_id=01.1"), 400, "leading zero"),
        (
            request("GET", "/sub/news", "", &[("last-event-id", "x..1")]),
            400,
            "The resume cursor \"x..1\" is not valid",
        ),
        (
            get("/sub/news", "transport=iframe&callback=alert(1)"),
            400,
            "The forever frame cannot start: the \"callback\" parameter has '('",
        ),
        (
            get("/sub/news", "transport=iframe&callback="),
            400,
            "missing or empty",
        ),
        (
            get("/sub/news", "transport=iframe&callback=a..b"),
            400,
            "empty name",
        ),
    ];
    for (req, status, needle) in cases {
        let refusal = route(&Policy::default(), &req).unwrap_err();
        assert_eq!(refusal.status, status, "{req:?}: {}", refusal.message);
        assert!(
            refusal.message.contains(needle),
            "{req:?}: {:?} lacks {needle:?}",
            refusal.message
        );
        assert!(
            refusal.message.ends_with('.'),
            "not a sentence: {:?}",
            refusal.message
        );
    }
}

#[test]
fn pictures_of_a_channel_are_multipart_subscriptions_of_that_channel() {
    let policy = Policy::default();
    let view = route(
        &policy,
        &get("/stream/cam.mjpg", "transport=sse&fps=5&since=1.2"),
    )
    .unwrap();
    assert_eq!(view.channels, vec!["cam".to_owned()]);
    assert_eq!(
        view.transport,
        Transport::Multipart,
        "a picture is multipart"
    );
    assert_eq!(view.min_interval_ms, Some(200));
    assert_eq!(view.cursor.as_deref(), Some("1.2"));
    let still = route(&policy, &request("HEAD", "/snapshot/cam.jpg", "fps=5", &[])).unwrap();
    assert_eq!(
        (
            still.channels,
            still.transport,
            still.min_interval_ms,
            still.cursor
        ),
        (vec!["cam".to_owned()], Transport::Multipart, None, None)
    );
    for (req, status, piece) in [
        (
            get("/stream/cam", ""),
            404,
            "No such stream \"cam\": ask for /stream/{channel}.mjpg, e.g. /stream/demo-cam.mjpg.",
        ),
        (get("/snapshot/cam.png", ""), 404, "/snapshot/{channel}.jpg"),
        (
            get("/stream/a,b.mjpg", ""),
            400,
            "names several channels: a picture shows one channel",
        ),
        (request("POST", "/stream/cam.mjpg", "", &[]), 405, "use GET"),
        (get("/snapshot/a%20b.jpg", ""), 400, "has ' ' at byte 1"),
    ] {
        let refusal = route(&policy, &req).unwrap_err();
        assert_eq!(refusal.status, status, "{}: {}", req.path, refusal.message);
        assert!(
            refusal.message.contains(piece),
            "{}: {}",
            req.path,
            refusal.message
        );
    }
}

#[test]
fn route_reads_a_frame_rate_cap() {
    let cases: &[(&str, Result<Option<u64>, &str>)] = &[
        ("transport=multipart", Ok(None)),
        ("fps=2", Ok(Some(500))),
        ("fps=0.5&transport=multipart", Ok(Some(2000))),
        ("fps=30", Ok(Some(33))),
        ("fps=1000", Ok(Some(1))),
        ("fps=0", Err("?fps=0 is not a frame rate")),
        ("fps=-1", Err("is not a frame rate")),
        ("fps=1001", Err("is not a frame rate")),
        ("fps=NaN", Err("is not a frame rate")),
        ("fps=fast", Err("?fps=fast is not a frame rate")),
    ];
    for (query, expected) in cases {
        let found = route(&Policy::default(), &get("/sub/cam", query))
            .map(|sub| sub.min_interval_ms)
            .map_err(|refusal| {
                assert_eq!(refusal.status, 400, "{query}");
                refusal.message
            });
        match (found, expected) {
            (Ok(found), Ok(expected)) => assert_eq!(found, *expected, "{query}"),
            (Err(message), Err(needle)) => assert!(message.contains(needle), "{query}: {message}"),
            (found, _) => panic!("{query}: {found:?}"),
        }
    }
}

#[test]
fn route_quotes_long_input_back_cut_short() {
    let long = "!".repeat(10_000);
    let refusal = route(
        &Policy::default(),
        &get("/sub/news", &format!("since={long}")),
    )
    .unwrap_err();
    assert_eq!(refusal.status, 400);
    assert!(refusal.message.len() < 400, "{}", refusal.message);
    assert!(refusal.message.contains('…'));
}

#[test]
fn route_reads_channels_transport_cursor_and_callback() {
    let header = |name: &'static str, value: &'static str| vec![(name, value)];
    // (request, channels, transport, cursor, callback)
    type Case = (
        Request,
        Vec<&'static str>,
        Transport,
        Option<&'static str>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            get("/sub/news", ""),
            vec!["news"],
            Transport::Sse,
            None,
            None,
        ),
        (
            get("/sub/news,sport", "transport=stream&since=s44we8.1z.0"),
            vec!["news", "sport"],
            Transport::Stream,
            Some("s44we8.1z.0"),
            None,
        ),
        (
            get("/sub/a.b:c@d~e_f-g", "transport=poll"),
            vec!["a.b:c@d~e_f-g"],
            Transport::Poll,
            None,
            None,
        ),
        (
            get("/sub/news%2Csport", ""),
            vec!["news", "sport"],
            Transport::Sse,
            None,
            None,
        ),
        (
            get("/sub/%6Eews", "transport=%6Dultipart"),
            vec!["news"],
            Transport::Multipart,
            None,
            None,
        ),
        (
            get("/sub/news", "transport=longpoll&last_event_id=s44we8.1z"),
            vec!["news"],
            Transport::Longpoll,
            Some(CURSOR),
            None,
        ),
        (
            get("/sub/news", "lastEventId=s44we8.1z"),
            vec!["news"],
            Transport::Sse,
            Some(CURSOR),
            None,
        ),
        (
            get("/sub/news", "since="),
            vec!["news"],
            Transport::Sse,
            None,
            None,
        ),
        (
            get("/sub/news", "t=%zz&since=s44we8.1z"),
            vec!["news"],
            Transport::Sse,
            Some(CURSOR),
            None,
        ),
        (
            get("/sub/news", "since=s44we8.1z&since=bad!"),
            vec!["news"],
            Transport::Sse,
            Some(CURSOR),
            None,
        ),
        // The header wins: EventSource sends the newest id there on reconnect,
        // while the URL still holds the first one.
        (
            request(
                "GET",
                "/sub/news",
                "since=s44we8.0",
                &header("last-event-id", "s44we8.1z"),
            ),
            vec!["news"],
            Transport::Sse,
            Some(CURSOR),
            None,
        ),
        (
            request(
                "GET",
                "/sub/news",
                "since=s44we8.1z",
                &header("last-event-id", ""),
            ),
            vec!["news"],
            Transport::Sse,
            Some(CURSOR),
            None,
        ),
        (
            get("/sub/news", "transport=iframe"),
            vec!["news"],
            Transport::Iframe,
            None,
            Some("pushwireFrame"),
        ),
        (
            get("/sub/news", "transport=iframe&callback=app.frames.deliver"),
            vec!["news"],
            Transport::Iframe,
            None,
            Some("app.frames.deliver"),
        ),
        (
            get("/sub/news", "transport=sse&callback=alert(1)"),
            vec!["news"],
            Transport::Sse,
            None,
            None,
        ),
        (
            request(
                "GET",
                "/sub/news",
                "",
                &header("accept", "application/x-ndjson"),
            ),
            vec!["news"],
            Transport::Stream,
            None,
            None,
        ),
        (
            request(
                "GET",
                "/sub/news",
                "transport=poll",
                &header("accept", "text/html"),
            ),
            vec!["news"],
            Transport::Poll,
            None,
            None,
        ),
    ];
    for (req, channels, transport, cursor, callback) in cases {
        let sub = route(&Policy::default(), &req)
            .unwrap_or_else(|refusal| panic!("{req:?}: {refusal:?}"));
        assert_eq!(sub.channels, channels, "{req:?}");
        assert_eq!(sub.transport, transport, "{req:?}");
        assert_eq!(sub.cursor.as_deref(), cursor, "{req:?}");
        assert_eq!(sub.callback.as_deref(), callback, "{req:?}");
    }
}

#[test]
fn accept_header_picks_the_transport() {
    let cases: &[(Option<&str>, Transport)] = &[
        (None, Transport::Sse),
        (Some(""), Transport::Sse),
        (Some("*/*"), Transport::Sse),
        (Some("text/event-stream"), Transport::Sse),
        (Some("application/x-ndjson"), Transport::Stream),
        (Some("multipart/x-mixed-replace"), Transport::Multipart),
        (Some("text/html"), Transport::Iframe),
        (Some("application/json"), Transport::Longpoll),
        (Some("Application/JSON; charset=utf-8"), Transport::Longpoll),
        // A browser navigating an iframe.
        (
            Some(
                "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
            ),
            Transport::Iframe,
        ),
        // pushwire's CLI: NDJSON first, SSE as a fallback.
        (
            Some("application/x-ndjson, text/event-stream;q=0.9"),
            Transport::Stream,
        ),
        (
            Some("text/event-stream;q=0.5, application/x-ndjson"),
            Transport::Stream,
        ),
        (
            Some("text/event-stream;q=0.5, application/x-ndjson;q=0.50"),
            Transport::Sse,
        ),
        (
            Some("application/x-ndjson;q=0, application/json"),
            Transport::Longpoll,
        ),
        (Some("application/x-ndjson;q=0.000"), Transport::Sse),
        (
            Some("application/json ; q=0.2 , text/html ; q=0.3"),
            Transport::Iframe,
        ),
        (Some("text/*, application/*"), Transport::Sse),
        (Some("application/x-ndjson;q=bogus"), Transport::Stream),
        (Some(",,;;=,"), Transport::Sse),
    ];
    for (accept, expected) in cases {
        assert_eq!(negotiate(*accept), *expected, "{accept:?}");
    }
}

#[test]
fn transports_convert_to_core_in_wit_order() {
    let wit = [
        Transport::Sse,
        Transport::Stream,
        Transport::Multipart,
        Transport::Iframe,
        Transport::Longpoll,
        Transport::Poll,
    ];
    for (transport, listed) in wit.into_iter().zip(CoreTransport::ALL) {
        assert_eq!(CoreTransport::from(transport), listed);
        assert_eq!(Transport::from(listed), transport);
        assert_eq!(transport_name(transport), listed.as_str());
    }
}

#[test]
fn open_sends_the_headers_and_preamble_of_each_transport() {
    let encoder = MultipartEncoder::new(Boundary::new(MULTIPART_BOUNDARY).unwrap());
    let mut sse_preamble = Vec::new();
    sse::encode_comment(&mut sse_preamble, "ok");
    let mut multipart_start = Vec::new();
    encoder.write_start(&mut multipart_start);
    let stream_cache = "no-cache, no-transform";
    // (transport, content type, cache-control, x-accel-buffering, preamble)
    let cases: Vec<(Transport, String, &str, bool, Vec<u8>)> = vec![
        (
            Transport::Sse,
            "text/event-stream; charset=utf-8".into(),
            stream_cache,
            true,
            sse_preamble,
        ),
        (
            Transport::Stream,
            "application/x-ndjson; charset=utf-8".into(),
            stream_cache,
            true,
            vec![],
        ),
        (
            Transport::Multipart,
            encoder.content_type(),
            "no-cache, no-store, no-transform",
            true,
            multipart_start,
        ),
        (
            Transport::Longpoll,
            "application/json".into(),
            "no-store",
            false,
            vec![],
        ),
        (
            Transport::Poll,
            "application/json".into(),
            "no-store",
            false,
            vec![],
        ),
    ];
    for (transport, content_type, cache, unbuffered, preamble) in cases {
        let head = open(&subscription(transport));
        let value = |name: &str| {
            head.headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(head.status, 200);
        assert_eq!(
            value("content-type"),
            Some(content_type.as_str()),
            "{transport:?}"
        );
        assert_eq!(value("cache-control"), Some(cache), "{transport:?}");
        assert_eq!(
            value("x-accel-buffering").is_some(),
            unbuffered,
            "{transport:?}"
        );
        assert_eq!(head.preamble, preamble, "{transport:?}");
        assert_eq!(head.byte_budget, None, "{transport:?}");
        // Only multipart heartbeats with its last part (Chromium's one-frame latency).
        let repeat = (transport == Transport::Multipart).then_some(MULTIPART_REPEAT_MS);
        assert_eq!(head.repeat_last_ms, repeat, "{transport:?}");
    }
    assert_eq!(
        open(&subscription(Transport::Sse)).preamble,
        b": ok\n",
        "clients see bytes at once"
    );
    assert_eq!(
        open(&subscription(Transport::Multipart)).headers[0].1,
        format!("multipart/x-mixed-replace;boundary={MULTIPART_BOUNDARY}")
    );
}

#[test]
fn open_starts_the_forever_frame_with_its_callback_and_budget() {
    for (callback, expected) in [
        (None, CallbackName::default()),
        (
            Some("app.deliver"),
            CallbackName::new("app.deliver").unwrap(),
        ),
        // `route` never returns a bad name; if a host makes one up, the default is used.
        (Some("alert(1)"), CallbackName::default()),
    ] {
        let mut sub = subscription(Transport::Iframe);
        sub.callback = callback.map(Into::into);
        let head = open(&sub);
        let config = FrameConfig {
            callback: expected,
            ..FrameConfig::default()
        };
        let mut preamble = Vec::new();
        FrameEncoder::start(&config, &mut preamble);
        assert_eq!(head.preamble, preamble);
        assert_eq!(head.byte_budget, Some(128 * 1024));
        assert_eq!(head.headers[0].1, "text/html; charset=utf-8");
    }
}

#[test]
fn frames_are_the_bytes_core_encodes() {
    let plain = message("message", b"hello\nworld");
    let named = message("tick", b"{\"price\":1}");
    for msg in [&plain, &named] {
        let text = core::str::from_utf8(&msg.data).unwrap();
        let parts = WireMessageRef {
            id: &msg.id,
            channel: &msg.channel,
            event: &msg.event,
            data: text,
        };
        let mut expected = Vec::new();
        let event = (msg.event != "message").then_some(msg.event.as_str());
        sse::encode_event(&mut expected, Some(&msg.id), event, text).unwrap();
        assert_eq!(frame(Transport::Sse, msg).unwrap(), expected);

        let mut expected = Vec::new();
        ndjson::encode_message(parts, &mut expected);
        assert_eq!(frame(Transport::Stream, msg).unwrap(), expected);

        let mut expected = Vec::new();
        core_frame::encode_message(parts, &mut expected);
        assert_eq!(frame(Transport::Iframe, msg).unwrap(), expected);
    }
    // The literal bytes, once.
    assert_eq!(
        frame(Transport::Sse, &plain).unwrap(),
        b"id: s44we8.1z\ndata: hello\ndata: world\n\n"
    );
    assert_eq!(
        frame(Transport::Sse, &named).unwrap(),
        b"id: s44we8.1z\nevent: tick\ndata: {\"price\":1}\n\n"
    );
    // Without an id (the host writes a multi-channel subscriber's own).
    let bare = Message {
        id: String::new(),
        ..named.clone()
    };
    assert_eq!(
        frame(Transport::Sse, &bare).unwrap(),
        b"event: tick\ndata: {\"price\":1}\n\n"
    );
    assert_eq!(
        frame(Transport::Stream, &named).unwrap(),
        b"{\"id\":\"s44we8.1z\",\"channel\":\"news\",\"event\":\"tick\",\"data\":\"{\\\"price\\\":1}\"}\n"
    );
    assert_eq!(
        frame(Transport::Iframe, &plain).unwrap(),
        b"<script>p({\"id\":\"s44we8.1z\",\"channel\":\"news\",\"data\":\"hello\\nworld\"})</script>\r\n"
    );
    // An empty event is the default event.
    assert_eq!(
        frame(Transport::Stream, &message("", b"x")).unwrap(),
        frame(Transport::Stream, &message("message", b"x")).unwrap()
    );
}

#[test]
fn multipart_parts_carry_a_sniffed_type_and_the_message_headers() {
    let encoder = MultipartEncoder::new(Boundary::new(MULTIPART_BOUNDARY).unwrap());
    let jpeg = b"\xff\xd8\xff\xe0 fake jpeg \xff\xd9";
    // (event, data, sniffed type, extra headers)
    type Case<'a> = (&'a str, &'a [u8], &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        ("message", jpeg, "image/jpeg", &[]),
        (
            "message",
            "héllo".as_bytes(),
            "text/plain; charset=utf-8",
            &[],
        ),
        (
            "message",
            b"\x00\x9f\x92\x96",
            "application/octet-stream",
            &[],
        ),
        ("message", b"", "text/plain; charset=utf-8", &[]),
        (
            "gap",
            b"{\"missed\":3}",
            "text/plain; charset=utf-8",
            &[("X-Pushwire-Event", "gap")],
        ),
    ];
    for (event, data, content_type, extra) in cases {
        let msg = message(event, data);
        let mut headers = vec![("X-Pushwire-Id", CURSOR), ("X-Pushwire-Channel", "news")];
        headers.extend_from_slice(extra);
        let mut expected = Vec::new();
        encoder
            .write_part(&mut expected, content_type, &headers, data)
            .unwrap();
        assert_eq!(
            frame(Transport::Multipart, &msg).unwrap(),
            expected,
            "{data:?}"
        );
        assert_eq!(sniff_content_type(data), *content_type);
    }
    assert!(
        frame(Transport::Multipart, &message("message", jpeg))
            .unwrap()
            .starts_with(b"Content-Type: image/jpeg\r\nContent-Length: 17\r\n")
    );
}

#[test]
fn frame_refuses_what_a_transport_cannot_carry() {
    let binary = message("message", b"\xff\xfe\x00");
    let boundary_inside = message(
        "message",
        format!("x\r\n--{MULTIPART_BOUNDARY}\r\nContent-Type: text/html\r\n\r\n<script>")
            .as_bytes(),
    );
    let mut bad_id = message("message", b"x");
    bad_id.id = "1\n2".into();
    let cases: &[(Transport, &Message, &str)] = &[
        (
            Transport::Sse,
            &binary,
            "is binary (not UTF-8) and the sse transport carries only text",
        ),
        (
            Transport::Stream,
            &binary,
            "the stream transport carries only text",
        ),
        (
            Transport::Iframe,
            &binary,
            "the iframe transport carries only text",
        ),
        (
            Transport::Multipart,
            &boundary_inside,
            "contains the multipart boundary",
        ),
        (Transport::Sse, &bad_id, "SSE id contains a CR or LF"),
        (
            Transport::Longpoll,
            &binary,
            "longpoll replies are framed whole with frame-reply",
        ),
        (Transport::Poll, &binary, "poll replies are framed whole"),
    ];
    for (transport, msg, needle) in cases {
        let reason = frame(*transport, msg).unwrap_err();
        assert!(reason.contains(needle), "{transport:?}: {reason:?}");
    }
    // The boundary without its leading dashes is harmless.
    assert!(
        frame(
            Transport::Multipart,
            &message("message", MULTIPART_BOUNDARY.as_bytes())
        )
        .is_ok()
    );
}

#[test]
fn hostile_payloads_arrive_unchanged() {
    let payloads: &[&str] = &[
        "</script><script>alert(1)</script>",
        "<!--<script>",
        "line\n\ndata: forged\n\nid: 9\n",
        "\u{2028}\u{2029}\u{0}\u{1b}",
        ": comment\n:\n",
        " leading space and trailing newline\n",
        "\"quotes\" and \\backslashes\\ and {\"json\":true}",
        "--pushwire-anything\n",
        "",
    ];
    for data in payloads {
        let msg = message("message", data.as_bytes());

        let mut parser = SseParser::default();
        parser.push(&frame(Transport::Sse, &msg).unwrap());
        let Some(Ok(SseEvent::Message(event))) = parser.poll_event() else {
            panic!("{data:?}: no SSE event")
        };
        assert_eq!(event.data, *data);
        assert_eq!(event.last_event_id, CURSOR);
        assert!(parser.poll_event().is_none(), "{data:?}: one event only");

        let mut parser = NdjsonParser::new(NdjsonParserConfig::default());
        parser.push(&frame(Transport::Stream, &msg).unwrap());
        assert_eq!(parser.poll_event().unwrap().unwrap().data, *data);
        assert!(parser.poll_event().is_none(), "{data:?}: one line only");

        let chunk = frame(Transport::Iframe, &msg).unwrap();
        let inner = chunk
            .strip_prefix(b"<script>p(")
            .and_then(|rest| rest.strip_suffix(b")</script>\r\n"))
            .unwrap();
        assert!(!inner.contains(&b'<'), "{data:?}: a '<' inside the script");
        assert_eq!(wire::decode_message(inner).unwrap().data, *data);

        let part = frame(Transport::Multipart, &msg).unwrap();
        let boundary =
            boundary_from_content_type(&open(&subscription(Transport::Multipart)).headers[0].1)
                .unwrap();
        let mut parser = MultipartParser::new(&boundary, MultipartParserConfig::default());
        parser.push(&open(&subscription(Transport::Multipart)).preamble);
        parser.push(&part);
        let Some(Ok(MultipartEvent::Part(part))) = parser.poll_event() else {
            panic!("{data:?}: no part")
        };
        assert_eq!(part.body, data.as_bytes());
    }
    // SSE turns CR and CRLF into LF: the one change the protocol forces.
    let mut parser = SseParser::default();
    parser.push(&frame(Transport::Sse, &message("message", b"a\r\nb\rc")).unwrap());
    let Some(Ok(SseEvent::Message(event))) = parser.poll_event() else {
        panic!("no SSE event")
    };
    assert_eq!(event.data, "a\nb\nc");
    // Binary survives multipart byte for byte.
    let binary: Vec<u8> = (0..=255).collect();
    let part = frame(Transport::Multipart, &message("message", &binary)).unwrap();
    assert!(part.windows(binary.len()).any(|w| w == binary.as_slice()));
}

#[test]
fn poll_replies_are_the_json_core_encodes() {
    let msgs = [message("message", b"one"), message("tick", b"</script>\n")];
    let body = frame_reply(Transport::Longpoll, "s44we8.20", &msgs).unwrap();
    let mut expected = Vec::new();
    wire::encode_longpoll_reply(
        "s44we8.20",
        msgs.iter().map(|m| WireMessageRef {
            id: &m.id,
            channel: &m.channel,
            event: &m.event,
            data: core::str::from_utf8(&m.data).unwrap(),
        }),
        &mut expected,
    );
    assert_eq!(body, expected);
    let reply = wire::decode_longpoll_reply(&body).unwrap();
    assert_eq!(reply.cursor, "s44we8.20");
    assert_eq!(reply.messages[1].data, "</script>\n");
    assert_eq!(reply.messages[1].event, "tick");
    assert_eq!(
        frame_reply(Transport::Poll, CURSOR, &[]).unwrap(),
        b"{\"cursor\":\"s44we8.1z\",\"messages\":[]}"
    );
    // Binary data cannot travel as JSON text: left out, the cursor moves on.
    assert_eq!(
        frame_reply(Transport::Poll, CURSOR, &[message("message", b"\xff")]).unwrap(),
        b"{\"cursor\":\"s44we8.1z\",\"messages\":[]}"
    );
    for transport in [
        Transport::Sse,
        Transport::Stream,
        Transport::Multipart,
        Transport::Iframe,
    ] {
        let reason = frame_reply(transport, CURSOR, &msgs).unwrap_err();
        assert!(reason.contains("is a streaming transport"), "{reason}");
    }
}

#[test]
fn heartbeats_and_ends_are_cores_constants() {
    let mut close = Vec::new();
    MultipartEncoder::new(Boundary::new(MULTIPART_BOUNDARY).unwrap()).write_close(&mut close);
    let cases: [(Transport, &[u8], &[u8]); 6] = [
        (Transport::Sse, b":\n", b""),
        (Transport::Stream, b"\n", b""),
        (Transport::Multipart, b"", &close),
        (Transport::Iframe, core_frame::HEARTBEAT, core_frame::END),
        (Transport::Longpoll, b"", b""),
        (Transport::Poll, b"", b""),
    ];
    for (transport, beat, finish) in cases {
        assert_eq!(heartbeat(transport), beat, "{transport:?}");
        assert_eq!(end(transport), finish, "{transport:?}");
    }
    assert_eq!(
        end(Transport::Multipart),
        format!("--{MULTIPART_BOUNDARY}--\r\n").into_bytes()
    );
}

#[test]
fn publish_is_accepted_with_its_channel_and_event() {
    let cases: &[(Request, u64, &str, &str)] = &[
        (request("POST", "/pub/news", "", &[]), 5, "news", "message"),
        (
            request("POST", "/pub/news", "event=tick", &[]),
            0,
            "news",
            "tick",
        ),
        (
            request("POST", "/pub/n%65ws", "event=price+update", &[]),
            0,
            "news",
            "price update",
        ),
        (
            request("POST", "/pub/news", "", &[("x-pushwire-event", "alert")]),
            0,
            "news",
            "alert",
        ),
        (
            request(
                "POST",
                "/pub/news",
                "event=tick",
                &[("x-pushwire-event", "alert")],
            ),
            1 << 20,
            "news",
            "tick",
        ),
    ];
    for (req, len, channel, event) in cases {
        assert_eq!(
            accept_publish(&Policy::default(), req, *len),
            Ok(Publish {
                channel: (*channel).into(),
                event: (*event).into()
            }),
            "{req:?}"
        );
    }
}

#[test]
fn an_upload_is_accepted_as_frames_on_its_channel() {
    for method in ["PUT", "POST"] {
        assert_eq!(
            accept_publish(
                &Policy::default(),
                &request(method, "/ingest/cam", "", &[]),
                0
            ),
            Ok(Publish {
                channel: "cam".into(),
                event: INGEST_EVENT.into()
            }),
            "{method}"
        );
    }
    assert_eq!(
        accept_publish(
            &Policy::default(),
            &request("PUT", "/ingest/cam", "event=still", &[]),
            10
        ),
        Ok(Publish {
            channel: "cam".into(),
            event: "still".into()
        })
    );
    let cases: &[(Request, u64, u16, &str)] = &[
        (
            request("GET", "/ingest/cam", "", &[]),
            0,
            405,
            "with PUT or POST",
        ),
        (
            request("PUT", "/ingest/a,b", "", &[]),
            0,
            400,
            "one channel at a time",
        ),
        (
            request("PUT", "/ingest/a b", "", &[]),
            0,
            400,
            "not a valid channel name",
        ),
        (
            request("PUT", "/ingest/cam", "", &[]),
            MAX_PUBLISH_BYTES + 1,
            413,
            "more than the limit",
        ),
    ];
    for (req, len, status, needle) in cases {
        let refusal = accept_publish(&Policy::default(), req, *len).unwrap_err();
        assert_eq!(refusal.status, *status, "{req:?}: {}", refusal.message);
        assert!(
            refusal.message.contains(needle),
            "{req:?}: {}",
            refusal.message
        );
    }
}

#[test]
fn publish_refuses_every_bad_request_with_a_sentence() {
    let post = |path: &str, query: &str| request("POST", path, query, &[]);
    let cases: Vec<(Request, u64, u16, &str)> = vec![
        (post("/publish/news", ""), 0, 404, "No such route"),
        (
            request("PUT", "/pub/news", "", &[]),
            0,
            405,
            "publish with POST",
        ),
        (
            request("GET", "/pub/news", "", &[]),
            0,
            405,
            "publish with POST",
        ),
        (post("/pub/", ""), 0, 400, "channel name is empty"),
        (
            post("/pub/a,b", ""),
            0,
            400,
            "publish to one channel at a time",
        ),
        (
            post("/pub/a%2Cb", ""),
            0,
            400,
            "publish to one channel at a time",
        ),
        (post("/pub/a b", ""), 0, 400, "has ' ' at byte 1"),
        (post("/pub/%zz", ""), 0, 400, "bad percent-escape"),
        (
            post("/pub/news", "event=gap"),
            0,
            400,
            "\"gap\" is reserved for gap notices",
        ),
        (post("/pub/news", "event="), 0, 400, "event name is empty"),
        (
            post("/pub/news", "event=a%0Ab"),
            0,
            400,
            "control character at byte 1",
        ),
        (
            post("/pub/news", &format!("event={}", "e".repeat(65))),
            0,
            400,
            "more than 64",
        ),
        (
            request("POST", "/pub/news", "", &[("x-pushwire-event", "gap")]),
            0,
            400,
            "reserved",
        ),
        (
            post("/pub/news", ""),
            (1 << 20) + 1,
            413,
            "1048577 bytes, more than the limit of 1048576",
        ),
    ];
    for (req, len, status, needle) in cases {
        let refusal = accept_publish(&Policy::default(), &req, len).unwrap_err();
        assert_eq!(refusal.status, status, "{req:?}: {}", refusal.message);
        assert!(
            refusal.message.contains(needle),
            "{req:?}: {:?} lacks {needle:?}",
            refusal.message
        );
        assert!(
            refusal.message.ends_with('.'),
            "not a sentence: {:?}",
            refusal.message
        );
    }
}

#[test]
fn the_multipart_boundary_is_a_valid_token() {
    assert_eq!(
        Boundary::new(MULTIPART_BOUNDARY).unwrap().as_str(),
        MULTIPART_BOUNDARY
    );
}

#[test]
fn sse_streams_open_by_announcing_the_subscribers_position() {
    let mut sub = subscription(Transport::Sse);
    sub.cursor = Some("s44we8.1z".to_owned());
    let mut expected = Vec::new();
    sse::encode_comment(&mut expected, "ok");
    sse::encode_cursor(&mut expected, "s44we8.1z").unwrap();
    assert_eq!(open(&sub).preamble, expected);
    // A cursor that cannot be an SSE id is not announced (and cannot break framing).
    sub.cursor = Some("bad\nid".to_owned());
    assert!(!open(&sub).preamble.windows(3).any(|w| w == b"id:"));
}

mod auth {
    use hmac::{Hmac, Mac};
    use pushwire_core::token::base64url_encode;
    use sha2::Sha256;

    use super::*;
    use crate::Settings;
    use crate::auth::{COOKIE, CORS_ALLOW_HEADERS};

    const SECRET: &[u8] = b"test secret";
    const STATIC: &str = "s3cr3t-static-token";

    fn settings() -> Settings {
        Settings {
            auth_token: Some(STATIC.into()),
            jwt_secret: Some(SECRET.to_vec()),
            private_channels: vec!["private-*".into(), "cam".into()],
            cors_origins: vec!["https://app.example".into()],
            cors_credentials: false,
        }
    }

    fn policy() -> Policy {
        Policy::new(settings()).unwrap()
    }

    /// An HS256 JWT signed with `key` carrying `claims`.
    fn jwt(key: &[u8], claims: &str) -> String {
        let mut token = String::new();
        base64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#, &mut token);
        token.push('.');
        base64url_encode(claims.as_bytes(), &mut token);
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(token.as_bytes());
        let signature = mac.finalize().into_bytes();
        token.push('.');
        base64url_encode(&signature, &mut token);
        token
    }

    fn chat_token() -> String {
        jwt(
            SECRET,
            &format!(
                r#"{{"exp":{},"pushwire":{{"publish":["chat","cam-*"],"subscribe":["private-chat"]}}}}"#,
                NOW + 60
            ),
        )
    }

    fn publish_with(token: Option<&str>, channel: &str) -> Result<Publish, crate::Refusal> {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth
            .as_deref()
            .map(|a| vec![("authorization", a)])
            .unwrap_or_default();
        accept_publish(
            &policy(),
            &request("POST", &format!("/pub/{channel}"), "", &headers),
            3,
        )
    }

    #[test]
    fn with_no_secret_everyone_may_publish_and_subscribe() {
        let open = Policy::default();
        assert!(!open.requires_auth());
        let req = request("POST", "/pub/chat", "", &[]);
        assert!(accept_publish(&open, &req, 3).is_ok());
        assert!(route(&open, &get("/sub/private-x", "")).is_ok());
    }

    #[test]
    fn publishing_needs_a_bearer_token_once_a_secret_is_set() {
        let refusal = publish_with(None, "chat").unwrap_err();
        assert_eq!(refusal.status, 401);
        assert!(
            refusal.message.contains("Authorization: Bearer"),
            "{}",
            refusal.message
        );
        assert_eq!(
            refusal.headers,
            [(
                "www-authenticate".to_owned(),
                "Bearer realm=\"pushwire\"".to_owned()
            )]
        );
        let req = request("POST", "/pub/chat", "", &[("authorization", "Basic abc")]);
        assert_eq!(accept_publish(&policy(), &req, 3).unwrap_err().status, 401);
    }

    #[test]
    fn the_static_token_may_publish_anywhere_and_a_wrong_one_may_not() {
        assert!(publish_with(Some(STATIC), "anything").is_ok());
        let refusal = publish_with(Some("s3cr3t-static-tokem"), "chat").unwrap_err();
        assert_eq!(refusal.status, 401);
        assert!(
            !refusal.message.contains("tokem"),
            "a token is never quoted back"
        );
    }

    #[test]
    fn a_jwt_may_publish_to_the_channels_its_claims_name() {
        let token = chat_token();
        assert_eq!(publish_with(Some(&token), "chat").unwrap().channel, "chat");
        assert!(publish_with(Some(&token), "cam-7").is_ok());
        let refusal = publish_with(Some(&token), "news").unwrap_err();
        assert_eq!(refusal.status, 403);
        assert!(refusal.message.contains("\"news\""), "{}", refusal.message);
    }

    #[test]
    fn an_expired_jwt_is_refused_with_401_saying_so() {
        let token = jwt(
            SECRET,
            &format!(r#"{{"exp":{},"pushwire":{{"publish":["*"]}}}}"#, NOW - 5),
        );
        let refusal = publish_with(Some(&token), "chat").unwrap_err();
        assert_eq!(refusal.status, 401);
        assert!(
            refusal.message.contains("expired 5 s ago"),
            "{}",
            refusal.message
        );
        assert!(refusal.headers[0].1.contains("invalid_token"));
    }

    #[test]
    fn a_jwt_signed_with_another_key_or_unsigned_is_refused() {
        let forged = jwt(b"other key", r#"{"pushwire":{"publish":["*"]}}"#);
        let refusal = publish_with(Some(&forged), "chat").unwrap_err();
        assert_eq!(refusal.status, 401);
        assert!(refusal.message.contains("signature"), "{}", refusal.message);
        let mut none = String::new();
        base64url_encode(br#"{"alg":"none"}"#, &mut none);
        none.push('.');
        base64url_encode(br#"{"pushwire":{"publish":["*"]}}"#, &mut none);
        none.push('.');
        let refusal = publish_with(Some(&none), "chat").unwrap_err();
        assert_eq!(refusal.status, 401);
        assert!(refusal.message.contains("HS256"), "{}", refusal.message);
    }

    #[test]
    fn private_channels_need_a_token_by_header_cookie_or_query() {
        let token = chat_token();
        let missing = route(&policy(), &get("/sub/news,private-chat", "")).unwrap_err();
        assert_eq!(missing.status, 401);
        assert!(
            missing.message.contains("\"private-chat\" is private"),
            "{}",
            missing.message
        );
        let bearer = format!("Bearer {token}");
        let by_header = request(
            "GET",
            "/sub/private-chat",
            "",
            &[("authorization", &bearer)],
        );
        assert!(route(&policy(), &by_header).is_ok());
        let cookie = format!("theme=dark; {COOKIE}={token}");
        let by_cookie = request("GET", "/sub/private-chat", "", &[("cookie", &cookie)]);
        assert!(route(&policy(), &by_cookie).is_ok());
        let by_query = get(
            "/sub/private-chat",
            &format!("transport=sse&access_token={token}"),
        );
        assert!(route(&policy(), &by_query).is_ok());
        // Public channels need nothing.
        assert!(route(&policy(), &get("/sub/news", "")).is_ok());
    }

    #[test]
    fn a_subscribe_token_for_another_channel_is_refused_with_403() {
        let token = chat_token();
        let req = get("/sub/private-chat,cam", &format!("access_token={token}"));
        let refusal = route(&policy(), &req).unwrap_err();
        assert_eq!(refusal.status, 403);
        assert!(refusal.message.contains("\"cam\""), "{}", refusal.message);
        let expired = jwt(
            SECRET,
            &format!(r#"{{"exp":{NOW},"pushwire":{{"subscribe":["*"]}}}}"#),
        );
        let req = get("/sub/cam", &format!("access_token={expired}"));
        assert_eq!(route(&policy(), &req).unwrap_err().status, 401);
    }

    #[test]
    fn settings_that_cannot_work_are_refused_with_the_setting_named() {
        type Spoil = fn(&mut Settings);
        let cases: [(Spoil, &str); 5] = [
            (|s| s.auth_token = Some(String::new()), "auth_token"),
            (|s| s.jwt_secret = Some(Vec::new()), "jwt_secret"),
            (
                |s| s.private_channels.push("a*b".into()),
                "private_channels",
            ),
            (
                |s| s.cors_origins.push("app.example/".into()),
                "cors_origins",
            ),
            (
                |s| {
                    s.cors_origins.push("*".into());
                    s.cors_credentials = true;
                },
                "cors_credentials",
            ),
        ];
        for (spoil, named) in cases {
            let mut bad = settings();
            spoil(&mut bad);
            let err = Policy::new(bad).unwrap_err();
            assert!(err.contains(named), "{err}");
        }
        let mut no_auth = settings();
        no_auth.auth_token = None;
        no_auth.jwt_secret = None;
        assert!(
            Policy::new(no_auth)
                .unwrap_err()
                .contains("private_channels")
        );
    }

    #[test]
    fn cors_answers_listed_origins_and_refuses_others() {
        let policy = policy();
        let plain = get("/sub/news", "");
        assert!(
            policy.cors(&plain).unwrap().is_empty(),
            "no Origin, no CORS"
        );
        let same = request(
            "POST",
            "/pub/chat",
            "",
            &[
                ("origin", "http://127.0.0.1:8080"),
                ("host", "127.0.0.1:8080"),
            ],
        );
        assert!(
            policy.cors(&same).unwrap().is_empty(),
            "the server's own pages"
        );
        let listed = request("GET", "/sub/news", "", &[("origin", "https://app.example")]);
        let headers = policy.cors(&listed).unwrap();
        assert!(headers.contains(&(
            "access-control-allow-origin".to_owned(),
            "https://app.example".to_owned()
        )));
        assert!(headers.contains(&("vary".to_owned(), "origin".to_owned())));
        let other = request(
            "POST",
            "/pub/chat",
            "",
            &[("origin", "https://evil.example")],
        );
        let refusal = policy.cors(&other).unwrap_err();
        assert_eq!(refusal.status, 403);
        assert!(
            refusal.message.contains("cors_origins"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn a_cors_preflight_allows_the_headers_the_sdk_sends() {
        let preflight = request(
            "OPTIONS",
            "/sub/news",
            "",
            &[
                ("origin", "https://app.example"),
                (
                    "access-control-request-headers",
                    "last-event-id, authorization",
                ),
            ],
        );
        let headers = policy().cors(&preflight).unwrap();
        let allowed = &headers
            .iter()
            .find(|(name, _)| name == "access-control-allow-headers")
            .unwrap()
            .1;
        assert_eq!(allowed, CORS_ALLOW_HEADERS);
        assert!(allowed.contains("last-event-id") && allowed.contains("authorization"));
        assert!(
            headers
                .iter()
                .any(|(name, _)| name == "access-control-allow-methods")
        );
    }

    #[test]
    fn cors_with_credentials_echoes_the_origin() {
        let mut with_credentials = settings();
        with_credentials.cors_credentials = true;
        let policy = Policy::new(with_credentials).unwrap();
        let req = request("GET", "/sub/news", "", &[("origin", "https://app.example")]);
        let headers = policy.cors(&req).unwrap();
        assert!(headers.contains(&(
            "access-control-allow-credentials".to_owned(),
            "true".to_owned()
        )));
        let mut any = settings();
        any.cors_origins = vec!["*".into()];
        let req = request("GET", "/sub/news", "", &[("origin", "https://x.example")]);
        let headers = Policy::new(any).unwrap().cors(&req).unwrap();
        assert_eq!(headers[0].1, "*");
    }
}
