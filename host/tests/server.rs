//! The server over real sockets: every transport, resume, gaps, heartbeats,
//! limits, bad publishes, edge isolation and replacement, graceful shutdown,
//! and curl as a client nobody here wrote.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

extern crate alloc;

mod support;

use core::time::Duration;

use bytes::Bytes;
use pushwire_core::hub::{ChannelConfig, HubConfig};
use pushwire_host::push::ServerConfig;
use support::{Options, Server, Stream, count, get, request, sse_events};

#[tokio::test]
async fn sse_delivers_published_messages_in_order_with_ids() {
    let server = Server::start().await;
    let response = get(server.addr, "/sub/chat", &[("accept", "text/event-stream")]).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/event-stream; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache, no-transform");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(
        headers.get("content-encoding").is_none(),
        "streams are never compressed"
    );
    let mut stream = Stream::new(response);
    server.wait_for_subscribers(1).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            server
                .publish_ok("chat", &format!("message {i}\nsecond line"))
                .await,
        );
    }
    let text = stream.read_until_count("data: message", 5).await;
    let events = sse_events(&text);
    let expected: Vec<_> = (0..5)
        .map(|i| {
            (
                "message".to_owned(),
                format!("message {i}\nsecond line"),
                ids[i].clone(),
            )
        })
        .collect();
    assert_eq!(events, expected);
}

#[tokio::test]
async fn every_transport_delivers_in_order() {
    let server = Server::start().await;
    for (transport, content_type) in [
        ("sse", "text/event-stream"),
        ("stream", "application/x-ndjson"),
        ("multipart", "multipart/x-mixed-replace"),
        ("iframe", "text/html"),
    ] {
        let channel = format!("order-{transport}");
        let response = get(
            server.addr,
            &format!("/sub/{channel}?transport={transport}"),
            &[],
        )
        .await;
        assert_eq!(response.status(), 200, "{transport}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with(content_type),
            "{transport}: {:?}",
            response.headers()["content-type"]
        );
        let mut stream = Stream::new(response);
        server.wait_for_subscribers(1).await;
        for i in 0..3 {
            server
                .publish_ok(&channel, &format!("{transport}-{i}"))
                .await;
        }
        let text = stream.read_until_count(&format!("{transport}-2"), 1).await;
        let positions: Vec<_> = (0..3)
            .map(|i| text.find(&format!("{transport}-{i}")).unwrap())
            .collect();
        assert!(
            positions.windows(2).all(|w| w[0] < w[1]),
            "{transport} out of order: {text}"
        );
        drop(stream);
        // The server notices the closed connection and unsubscribes.
        server
            .wait_for_no_subscribers(&format!("{transport} subscriber never left"))
            .await;
    }
}

#[tokio::test]
async fn long_poll_learns_its_position_at_once_then_holds_and_loses_nothing_between_polls() {
    let server = Server::start().await;
    // A first poll (no cursor) is answered at once: nothing, and a position.
    let first = support::body_text(get(server.addr, "/sub/lp?transport=longpoll", &[]).await).await;
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["messages"].as_array().unwrap().len(), 0);
    let position = first["cursor"].as_str().unwrap().to_owned();
    // From there a poll is held until the publish.
    let addr = server.addr;
    let held = tokio::spawn(async move {
        support::body_text(
            get(
                addr,
                &format!("/sub/lp?transport=longpoll&since={position}"),
                &[],
            )
            .await,
        )
        .await
    });
    server.wait_for_subscribers(1).await;
    server.publish_ok("lp", "one").await;
    let reply: serde_json::Value = serde_json::from_str(&held.await.unwrap()).unwrap();
    assert_eq!(reply["messages"][0]["data"], "one");
    let cursor = reply["cursor"].as_str().unwrap().to_owned();
    // Published between two polls: the next poll still gets them.
    server.publish_ok("lp", "two").await;
    server.publish_ok("lp", "three").await;
    let response = get(
        server.addr,
        &format!("/sub/lp?transport=longpoll&since={cursor}"),
        &[],
    )
    .await;
    assert_eq!(response.headers()["content-type"], "application/json");
    let reply: serde_json::Value =
        serde_json::from_str(&support::body_text(response).await).unwrap();
    let data: Vec<_> = reply["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["two", "three"]);
}

#[tokio::test]
async fn long_poll_times_out_with_an_empty_reply_and_a_cursor() {
    let server = Server::with(Options {
        polls: pushwire_core::longpoll::LongPollConfig {
            timeout: Duration::from_millis(200),
            ..Default::default()
        },
        ..Options::default()
    })
    .await;
    let first =
        support::body_text(get(server.addr, "/sub/quiet?transport=longpoll", &[]).await).await;
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    let position = first["cursor"].as_str().unwrap();
    // Held from that position, then the timeout answers: empty, with a cursor.
    let path = format!("/sub/quiet?transport=longpoll&since={position}");
    let reply = support::body_text(get(server.addr, &path, &[]).await).await;
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    assert_eq!(reply["messages"].as_array().unwrap().len(), 0);
    assert!(reply["cursor"].as_str().is_some());
}

#[tokio::test]
async fn poll_answers_at_once_with_the_backlog() {
    let server = Server::start().await;
    let first = support::body_text(get(server.addr, "/sub/p?transport=poll", &[]).await).await;
    let first: serde_json::Value = serde_json::from_str(&first).unwrap();
    assert_eq!(first["messages"].as_array().unwrap().len(), 0);
    let cursor = first["cursor"].as_str().unwrap().to_owned();
    server.publish_ok("p", "a").await;
    server.publish_ok("p", "b").await;
    let reply = support::body_text(
        get(
            server.addr,
            &format!("/sub/p?transport=poll&since={cursor}"),
            &[],
        )
        .await,
    )
    .await;
    let reply: serde_json::Value = serde_json::from_str(&reply).unwrap();
    let data: Vec<_> = reply["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["a", "b"]);
}

#[tokio::test]
async fn one_connection_carries_several_channels_in_publish_order() {
    let server = Server::start().await;
    let response = get(server.addr, "/sub/news,sport?transport=stream", &[]).await;
    let mut stream = Stream::new(response);
    server.wait_for_subscribers(1).await;
    server.publish_ok("news", "n1").await;
    server.publish_ok("sport", "s1").await;
    server.publish_ok("news", "n2").await;
    stream.read_until_count("\"data\"", 3).await;
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&stream.received)
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let seen: Vec<_> = lines
        .iter()
        .map(|m| (m["channel"].as_str().unwrap(), m["data"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("news", "n1"), ("sport", "s1"), ("news", "n2")]);
}

#[tokio::test]
async fn sse_resumes_from_last_event_id_with_nothing_lost() {
    let server = Server::start().await;
    let mut stream = Stream::new(get(server.addr, "/sub/resume", &[]).await);
    server.wait_for_subscribers(1).await;
    server.publish_ok("resume", "1").await;
    let text = stream.read_until_count("data: 1", 1).await;
    let last_id = sse_events(&text).last().unwrap().2.clone();
    drop(stream);
    // Published while the client was away.
    server.publish_ok("resume", "2").await;
    server.publish_ok("resume", "3").await;
    let mut stream =
        Stream::new(get(server.addr, "/sub/resume", &[("last-event-id", &last_id)]).await);
    let text = stream.read_until_count("data: ", 2).await;
    let data: Vec<_> = sse_events(&text).into_iter().map(|e| e.1).collect();
    assert_eq!(data, ["2", "3"]);
    // `?since=` works the same way.
    let mut stream =
        Stream::new(get(server.addr, &format!("/sub/resume?since={last_id}"), &[]).await);
    let text = stream.read_until_count("data: ", 2).await;
    assert_eq!(sse_events(&text).len(), 2);
}

#[tokio::test]
async fn a_cursor_that_fell_off_the_log_gets_a_gap_event_of_its_own_type() {
    let server = Server::with(Options {
        hub: HubConfig {
            channel: ChannelConfig {
                max_count: 2,
                ..ChannelConfig::default()
            },
            ..HubConfig::default()
        },
        ..Options::default()
    })
    .await;
    let first = server.publish_ok("g", "0").await;
    for i in 1..=5 {
        server.publish_ok("g", &i.to_string()).await;
    }
    let mut stream = Stream::new(get(server.addr, "/sub/g", &[("last-event-id", &first)]).await);
    let text = stream.read_until_count("data: ", 3).await;
    let events = sse_events(&text);
    assert_eq!(events[0].0, "gap", "{text}");
    let gap: serde_json::Value = serde_json::from_str(&events[0].1).unwrap();
    assert_eq!(gap["channel"], "g");
    assert_eq!(gap["missed"], 3);
    let data: Vec<_> = events[1..].iter().map(|e| e.1.as_str()).collect();
    assert_eq!(data, ["4", "5"]);
}

#[tokio::test]
async fn idle_streams_get_heartbeats() {
    let server = Server::with(Options {
        server: ServerConfig {
            heartbeat: Duration::from_millis(50),
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let mut sse = Stream::new(get(server.addr, "/sub/hb", &[]).await);
    sse.read_until_count(":\n", 3).await;
    let mut ndjson = Stream::new(get(server.addr, "/sub/hb?transport=stream", &[]).await);
    ndjson
        .read_until(|got| got.iter().filter(|b| **b == b'\n').count() >= 3)
        .await;
}

#[tokio::test]
async fn a_request_head_over_8_kib_is_refused_with_431() {
    let server = Server::start().await;
    let big = "x".repeat(9000);
    let response = get(server.addr, "/sub/news", &[("x-padding", &big)]).await;
    assert_eq!(response.status(), 431);
    let fine = "x".repeat(4000);
    let response = get(
        server.addr,
        "/sub/news?transport=poll",
        &[("x-padding", &fine)],
    )
    .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn limits_and_bad_requests_get_clear_errors() {
    let server = Server::with(Options {
        server: ServerConfig {
            max_connections: 1,
            max_message_bytes: 1000,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    // Message size.
    let (status, body) = server.publish("/pub/big", &"x".repeat(1001)).await;
    assert_eq!(status, 413, "{body}");
    assert!(body.contains("1000 bytes"), "{body}");
    // Channel names, unknown transport, reserved event name, wrong method.
    for (method, path, status, says) in [
        ("GET", "/sub/bad%20name", 400, "channel"),
        ("GET", "/sub/ok?transport=carrier-pigeon", 400, "sse"),
        ("POST", "/pub/chat?event=gap", 400, "gap"),
        ("PUT", "/pub/chat", 405, "POST"),
        ("GET", "/nowhere", 404, "/sub/"),
    ] {
        let response = request(server.addr, method, path, &[], Bytes::from_static(b"x")).await;
        let got = response.status().as_u16();
        let body = support::body_text(response).await;
        assert_eq!(got, status, "{method} {path}: {body}");
        assert!(
            body.to_lowercase().contains(&says.to_lowercase()),
            "{method} {path}: {body}"
        );
    }
    // Total connections: the second stream is turned away with Retry-After.
    let _first = Stream::new(get(server.addr, "/sub/one", &[]).await);
    server.wait_for_subscribers(1).await;
    let second = get(server.addr, "/sub/two", &[]).await;
    assert_eq!(second.status(), 503);
    assert_eq!(second.headers()["retry-after"], "5");
}

#[tokio::test]
async fn publish_reply_counts_subscribers_and_info_reports_the_channel() {
    let server = Server::start().await;
    let _a = Stream::new(get(server.addr, "/sub/info", &[]).await);
    let _b = Stream::new(get(server.addr, "/sub/info?transport=stream", &[]).await);
    server.wait_for_subscribers(2).await;
    let (status, body) = server.publish("/pub/info?event=price", "12.5").await;
    assert_eq!(status, 200);
    let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(reply["subscribers"], 2);
    assert_eq!(reply["event"], "price");
    assert_eq!(reply["seq"], 1);
    let info = support::body_text(get(server.addr, "/pub/info", &[]).await).await;
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["subscribers"], 2);
    assert_eq!(info["last_seq"], 1);
    assert_eq!(info["log_len"], 1);
}

#[tokio::test]
async fn a_message_is_framed_once_per_transport_not_per_subscriber() {
    let server = Server::start().await;
    let mut streams = Vec::new();
    for _ in 0..20 {
        streams.push(Stream::new(get(server.addr, "/sub/fan", &[]).await));
    }
    server.wait_for_subscribers(20).await;
    let before = server.app.framer.edge().stats().calls;
    server.publish_ok("fan", "to everyone").await;
    for stream in &mut streams {
        stream.read_until_count("to everyone", 1).await;
    }
    let calls = server.app.framer.edge().stats().calls - before;
    // One accept-publish call and one frame call for the sse transport.
    assert_eq!(calls, 2, "edge calls for one message to 20 subscribers");
}

#[tokio::test]
async fn subscribers_of_several_channels_share_one_framed_body_behind_their_own_ids() {
    let server = Server::start().await;
    server.publish_ok("left", "before").await;
    let mut streams = Vec::new();
    for _ in 0..5 {
        streams.push(Stream::new(get(server.addr, "/sub/left,right", &[]).await));
    }
    let mut single = Stream::new(get(server.addr, "/sub/right", &[]).await);
    server.wait_for_subscribers(6).await;
    let before = server.app.framer.edge().stats().calls;
    let single_id = server.publish_ok("right", "to both").await;
    let single_text = single.read_until_count("to both", 1).await;
    let events = sse_events(&single_text);
    assert_eq!(
        events.last().map(|e| e.2.as_str()),
        Some(single_id.as_str())
    );
    let mut ids = Vec::new();
    for stream in &mut streams {
        let text = stream.read_until_count("to both", 1).await;
        let events = sse_events(&text);
        let (_, data, id) = events.last().unwrap().clone();
        assert_eq!(data, "to both");
        ids.push(id);
    }
    // Each id holds both channels' positions: left at 1, right at 1.
    for id in &ids {
        let cursor = pushwire_core::cursor::Cursor::parse(id).unwrap();
        assert_eq!(cursor.positions(), [1, 1], "{id}");
    }
    // accept-publish, sse for the single-channel stream, sse without an id
    // for the five others.
    assert_eq!(server.app.framer.edge().stats().calls - before, 3);
}

#[tokio::test]
async fn graceful_shutdown_ends_streams_cleanly() {
    let mut server = Server::start().await;
    let mut sse = Stream::new(get(server.addr, "/sub/bye", &[]).await);
    let mut frame = Stream::new(get(server.addr, "/sub/bye?transport=iframe", &[]).await);
    server.wait_for_subscribers(2).await;
    server.publish_ok("bye", "last words").await;
    sse.read_until_count("last words", 1).await;
    server.shut_down().await;
    let text = sse.read_to_end().await;
    assert!(sse.ended && text.contains("last words"));
    let html = frame.read_to_end().await;
    assert!(
        html.ends_with("</body></html>"),
        "the forever frame is closed in order: {html}"
    );
}

#[tokio::test]
async fn curl_reads_sse_and_ndjson_streams() {
    if std::process::Command::new("curl")
        .arg("--version")
        .output()
        .is_err()
    {
        panic!("curl is needed for this test (scripts/test.sh installs it)");
    }
    let server = Server::start().await;
    for (transport, expect) in [
        ("sse", "data: from curl"),
        ("stream", "\"data\":\"from curl\""),
    ] {
        let url = server.url(&format!("/sub/curl-{transport}?transport={transport}"));
        let child = tokio::process::Command::new("curl")
            .args(["-sN", "--max-time", "5", &url])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        server.wait_for_subscribers(1).await;
        server
            .publish_ok(&format!("curl-{transport}"), "from curl")
            .await;
        let mut stdout = child.stdout.unwrap();
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + support::LIMIT;
        while count(&seen, expect.as_bytes()) == 0 {
            let mut buf = [0_u8; 4096];
            let n = tokio::time::timeout_at(
                deadline,
                tokio::io::AsyncReadExt::read(&mut stdout, &mut buf),
            )
            .await
            .expect("curl printed the event in time")
            .unwrap();
            assert!(
                n > 0,
                "curl ended early: {:?}",
                String::from_utf8_lossy(&seen)
            );
            seen.extend_from_slice(&buf[..n]);
        }
        drop(stdout);
        let deadline = tokio::time::Instant::now() + support::LIMIT;
        while server.app.hub.subscriber_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn a_replacement_edge_module_sets_the_policy() {
    let server = Server::with(Options {
        edge: Some(pushwire_test_guests::EXAMPLE_EDGE.to_vec()),
        ..Options::default()
    })
    .await;
    let refused = get(server.addr, "/sub/private", &[]).await;
    assert_eq!(refused.status(), 403);
    let mut allowed = Stream::new(get(server.addr, "/sub/public-news", &[]).await);
    server.wait_for_subscribers(1).await;
    server.publish_ok("public-news", "hello").await;
    allowed.read_until_count("hello", 1).await;
}

#[tokio::test]
async fn an_edge_module_that_loops_or_traps_costs_only_its_request() {
    let server = Server::with(Options {
        edge: Some(pushwire_test_guests::MISBEHAVING_EDGE.to_vec()),
        ..Options::default()
    })
    .await;
    for path in ["/sub/loop", "/sub/trap"] {
        let response = get(server.addr, path, &[]).await;
        assert_eq!(response.status(), 500, "{path}");
        let body = support::body_text(response).await;
        assert!(body.contains("edge module"), "{path}: {body}");
        // The trap's message and the guest's backtrace go to the log only.
        for internal in ["wasm", "backtrace", "trap", "unreachable", "deadline"] {
            assert!(!body.contains(internal), "{path}: {body}");
        }
    }
    let health = get(server.addr, "/healthz", &[]).await;
    assert_eq!(health.status(), 200, "the server still answers");
}

#[tokio::test]
async fn h2c_streams_sse_on_the_same_port_without_http1_framing_headers() {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    let server = Server::start().await;
    let tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp))
            .await
            .unwrap();
    tokio::spawn(connection);
    let request = hyper::Request::get(server.url("/sub/h2"))
        .body(http_body_util::Empty::<Bytes>::new())
        .unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.version(), hyper::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("transfer-encoding").is_none());
    assert!(response.headers().get("connection").is_none());
    let mut stream = Stream::new(response);
    server.wait_for_subscribers(1).await;
    server.publish_ok("h2", "over h2").await;
    let text = stream.read_until_count("over h2", 1).await;
    assert_eq!(sse_events(&text).last().unwrap().1, "over h2");
}

#[tokio::test]
async fn the_cli_subscriber_gets_every_transport_from_our_server_with_channels() {
    use pushwire_core::client::Transport;
    use pushwire_host::cli::{SubArgs, subscribe_until};
    let server = Server::start().await;
    for transport in [
        Transport::Sse,
        Transport::Stream,
        Transport::LongPoll,
        Transport::Poll,
    ] {
        let channel = format!("cli-{transport}");
        let args = SubArgs {
            url: server.url(&format!("/sub/{channel},other")),
            transport,
            // Epoch 7, both channels at 0: everything from the start.
            since: (transport == Transport::Poll).then(|| "7.0.0".to_owned()),
            headers: Vec::new(),
            max_events: Some(2),
            idle_timeout: None,
        };
        let subscriber = tokio::spawn(async move {
            let mut out = Vec::new();
            let reason = subscribe_until(args, &mut out, core::future::pending())
                .await
                .unwrap();
            (reason, String::from_utf8(out).unwrap())
        });
        // Polls reconnect between replies: publish until both have arrived.
        let deadline = tokio::time::Instant::now() + support::LIMIT;
        let mut published = 0;
        while !subscriber.is_finished() {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{transport}: the CLI never got 2 events"
            );
            // A plain poll is never held, so it never shows as a subscriber:
            // it resumes from the start instead (`since` below).
            let listening = server.app.hub.subscriber_count() > 0 || transport == Transport::Poll;
            if published < 2 && listening {
                published += 1;
                server.publish_ok(&channel, &format!("m{published}")).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let (_, out) = subscriber.await.unwrap();
        let events: Vec<serde_json::Value> = out
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        let seen: Vec<_> = events
            .iter()
            .map(|e| (e["data"].as_str().unwrap(), e["channel"].as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                ("m1", Some(channel.as_str())),
                ("m2", Some(channel.as_str()))
            ],
            "{transport}: {out}"
        );
        let deadline = tokio::time::Instant::now() + support::LIMIT;
        while server.app.hub.subscriber_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_does_not_hold_back_the_others() {
    use tokio::io::AsyncWriteExt;
    let server = Server::start().await;
    // A client that asks for the stream and then never reads a byte.
    let mut stalled = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stalled
        .write_all(b"GET /sub/firehose HTTP/1.1\r\nhost: test\r\n\r\n")
        .await
        .unwrap();
    let mut fast = Stream::new(get(server.addr, "/sub/firehose?transport=stream", &[]).await);
    server.wait_for_subscribers(2).await;
    // 2 MiB: far more than the window of a socket that is never read.
    let payload = "z".repeat(16 * 1024);
    for i in 0..128 {
        server
            .publish_ok("firehose", &format!("{i:04}{payload}"))
            .await;
        // The fast side keeps up, as a live client would.
        fast.read_until_count("\"data\"", i + 1).await;
    }
    let text = fast.read_until_count("\"data\"", 128).await;
    let order: Vec<usize> = text
        .lines()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let message: serde_json::Value = serde_json::from_str(line).unwrap();
            message["data"].as_str().unwrap()[..4].parse().unwrap()
        })
        .collect();
    assert_eq!(
        order,
        (0..128).collect::<Vec<_>>(),
        "the fast subscriber got everything in order"
    );
    drop(stalled);
}

#[tokio::test]
async fn metrics_are_prometheus_text_and_move_with_traffic() {
    async fn scrape(server: &Server) -> prometheus_parse::Scrape {
        let response = get(server.addr, "/metrics", &[]).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/plain; version=0.0.4")
        );
        let text = support::body_text(response).await;
        let lines = text.lines().map(|line| Ok(line.to_owned()));
        prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text")
    }
    fn value(scrape: &prometheus_parse::Scrape, name: &str, transport: Option<&str>) -> f64 {
        let sample = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == name && transport.is_none_or(|t| s.labels.get("transport") == Some(t))
            })
            .unwrap_or_else(|| panic!("no sample {name} {transport:?}"));
        match sample.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("{name} is not a number"),
        }
    }

    let server = Server::start().await;
    let before = scrape(&server).await;
    assert!(
        before
            .docs
            .contains_key("pushwire_messages_published_total"),
        "every metric has HELP"
    );
    assert_eq!(value(&before, "pushwire_connections", Some("sse")), 0.0);

    let mut sse = Stream::new(get(server.addr, "/sub/m", &[]).await);
    let mut ndjson = Stream::new(get(server.addr, "/sub/m?transport=stream", &[]).await);
    server.wait_for_subscribers(2).await;
    server.publish_ok("m", "counted").await;
    sse.read_until_count("counted", 1).await;
    ndjson.read_until_count("counted", 1).await;

    let during = scrape(&server).await;
    assert_eq!(value(&during, "pushwire_connections", Some("sse")), 1.0);
    assert_eq!(value(&during, "pushwire_connections", Some("stream")), 1.0);
    assert_eq!(value(&during, "pushwire_subscriptions", None), 2.0);
    assert_eq!(
        value(&during, "pushwire_messages_published_total", None),
        1.0
    );
    assert_eq!(
        value(&during, "pushwire_messages_delivered_total", None),
        2.0
    );
    assert!(value(&during, "pushwire_bytes_out_total", None) > 0.0);
    assert!(
        value(&during, "pushwire_edge_calls_total", None)
            > value(&before, "pushwire_edge_calls_total", None)
    );
    assert_eq!(value(&during, "pushwire_edge_traps_total", None), 0.0);
    assert!(
        value(&during, "pushwire_edge_call_seconds_total", None)
            > value(&before, "pushwire_edge_call_seconds_total", None)
    );
}

/// The `pushwire serve` binary, its settings from a file and the environment,
/// and SIGTERM.
mod binary {
    use super::*;
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    /// Read the server's log until it listens: its address, the rest of
    /// the log, and what it said so far.
    async fn listening(
        child: &mut std::process::Child,
    ) -> (
        core::net::SocketAddr,
        BufReader<std::process::ChildStderr>,
        String,
    ) {
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let read = tokio::task::spawn_blocking(move || {
            let mut seen = String::new();
            let mut line = String::new();
            loop {
                line.clear();
                assert!(
                    stderr.read_line(&mut line).unwrap() > 0,
                    "serve exited before listening: {seen}"
                );
                seen.push_str(&line);
                if let Some(at) = line.find("listening on http://") {
                    let addr: core::net::SocketAddr = line[at + 20..].trim().parse().unwrap();
                    return (addr, stderr, seen);
                }
            }
        });
        // A bound, not a timing check: a debug build compiles the edge
        // module at start, which takes long on a loaded machine.
        tokio::time::timeout(support::LIMIT * 6, read)
            .await
            .expect("serve listens within a minute")
            .unwrap()
    }

    /// SIGTERM `child`, wait for it, and return the rest of its log.
    async fn stop(
        mut child: std::process::Child,
        mut stderr: BufReader<std::process::ChildStderr>,
    ) -> String {
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "{status}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        rest
    }

    #[tokio::test]
    async fn serve_with_tokens_says_who_may_publish_and_never_logs_a_token() {
        const STATIC: &str = "log-test-static-7c3e";
        const SECRET: &str = "log-test-secret-a91d";
        let config = write_config(
            "tokens",
            &format!("auth_token = \"{STATIC}\"\nprivate_channels = [\"private-*\"]\n"),
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--demo-camera",
                "false",
                "--config",
            ])
            .arg(&config)
            .env("PUSHWIRE_JWT_SECRET", SECRET)
            .env("RUST_LOG", "debug")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (addr, stderr, seen) = listening(&mut child).await;
        assert!(!seen.contains("running open"), "{seen}");
        assert!(
            seen.contains("publishing needs the static auth token or HS256 JWTs"),
            "{seen}"
        );
        let bearer = format!("Bearer {STATIC}");
        let (status, body) = {
            let response = request(
                addr,
                "POST",
                "/pub/private-a",
                &[("authorization", &bearer)],
                Bytes::from("x"),
            )
            .await;
            (response.status(), support::body_text(response).await)
        };
        assert_eq!(status, 200, "{body}");
        let sub = get(
            addr,
            &format!("/sub/private-a?transport=poll&access_token={STATIC}"),
            &[],
        )
        .await;
        assert_eq!(sub.status(), 200);
        let wrong = get(addr, "/sub/private-a?access_token=wrong-token-55e1", &[]).await;
        assert_eq!(wrong.status(), 401);
        let rest = stop(child, stderr).await;
        let log = seen + &rest;
        for secret in [STATIC, SECRET, "wrong-token-55e1"] {
            assert!(!log.contains(secret), "{secret} leaked into the log: {log}");
        }
        let _ = std::fs::remove_file(config);
    }

    fn write_config(name: &str, text: &str) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("pushwire-{name}-{}.toml", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[tokio::test]
    async fn serve_reads_its_config_file_lets_the_environment_win_and_stops_on_sigterm() {
        let config = write_config(
            "sigterm",
            "listen = \"127.0.0.1:1\"\nheartbeat_secs = 1\n[[channels]]\npattern = \"tick-*\"\npolicy = \"latest\"\n",
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args(["serve", "--config"])
            .arg(&config)
            .env("PUSHWIRE_LISTEN", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (addr, mut stderr, seen) = listening(&mut child).await;
        assert_eq!(
            seen.matches("running open").count(),
            1,
            "open mode is said once: {seen}"
        );
        // heartbeat_secs = 1 from the file: an idle stream gets `:` lines.
        let mut sse = Stream::new(get(addr, "/sub/idle", &[]).await);
        sse.read_until_count(":\n", 2).await;

        // SIGTERM: the stream ends in order and the process exits cleanly.
        let pid = child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        sse.read_to_end().await;
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
        assert!(status.success(), "{status}");
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
        assert!(rest.contains("shutting down"), "{rest}");
        let _ = std::fs::remove_file(config);
    }

    #[tokio::test]
    async fn serve_closes_a_connection_whose_head_stalls_past_head_timeout() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args(["serve", "--listen", "127.0.0.1:0", "--demo-camera", "false"])
            .env("PUSHWIRE_HEAD_TIMEOUT_SECS", "1")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (addr, stderr, _) = listening(&mut child).await;
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        socket
            .write_all(b"GET /sub/stalled HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        // The default is 30 s, past this bound: a close within it is the setting's.
        let mut rest = Vec::new();
        let read = tokio::time::timeout(support::LIMIT, socket.read_to_end(&mut rest)).await;
        assert!(
            matches!(read, Ok(Ok(0))),
            "the half head was not closed: {read:?}"
        );
        stop(child, stderr).await;
    }

    #[test]
    fn serve_refuses_a_config_file_with_a_typo_and_says_where() {
        let config = write_config("typo", "heartbeat_sec = 5\n");
        // Bounded: were the typo accepted, the server would run until killed.
        let mut child = Command::new(env!("CARGO_BIN_EXE_pushwire"))
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + support::LIMIT;
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                child.kill().unwrap();
                panic!("serve accepted a config file with a typo");
            }
            std::thread::yield_now();
        }
        let output = child.wait_with_output().unwrap();
        assert!(!output.status.success());
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("unknown field `heartbeat_sec`"), "{stderr}");
        let _ = std::fs::remove_file(config);
    }
}

#[tokio::test]
async fn every_streaming_transport_resumes_from_since_with_nothing_lost() {
    let server = Server::start().await;
    for transport in ["sse", "stream", "multipart", "iframe"] {
        let channel = format!("resume-{transport}");
        let first = server
            .publish_ok(&channel, &format!("{transport}-old"))
            .await;
        // Published while the client was away.
        server
            .publish_ok(&channel, &format!("{transport}-new1"))
            .await;
        server
            .publish_ok(&channel, &format!("{transport}-new2"))
            .await;
        let path = format!("/sub/{channel}?transport={transport}&since={first}");
        let mut stream = Stream::new(get(server.addr, &path, &[]).await);
        let text = stream
            .read_until_count(&format!("{transport}-new2"), 1)
            .await;
        let new1 = text
            .find(&format!("{transport}-new1"))
            .expect("first missed message");
        let new2 = text.find(&format!("{transport}-new2")).unwrap();
        assert!(new1 < new2, "{transport}: out of order");
        assert!(
            !text.contains(&format!("{transport}-old")),
            "{transport}: replayed too much"
        );
    }
}
