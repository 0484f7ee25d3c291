//! The connection front over raw sockets: subscriptions and publishes
//! answered on the bare socket (keep-alive, `Connection: close`, held polls
//! whose client leaves, one framed reply shared by every poller at the same
//! position, bodies in pieces, stalled or too large), and
//! everything else handed to hyper byte for byte (HTTP/1.0, pipelining,
//! bodies, malformed and oversized heads).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

extern crate alloc;

mod support;

use core::time::Duration;

use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::push::ServerConfig;
use support::{LIMIT, Options, Server, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One response read off a raw socket: status line, lower-cased headers, body.
struct Raw {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(have, _)| have == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Read exactly one response with a `Content-Length` from `tcp`, keeping
/// whatever follows in `rest`.
async fn read_response(tcp: &mut TcpStream, rest: &mut Vec<u8>) -> Raw {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8(rest[..end].to_vec()).unwrap();
            let mut lines = head.split("\r\n");
            let status_line = lines.next().unwrap().to_owned();
            let headers: Vec<(String, String)> = lines
                .map(|line| {
                    let (name, value) = line.split_once(':').unwrap();
                    (name.trim().to_ascii_lowercase(), value.trim().to_owned())
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(name, _)| name == "content-length")
                .map(|(_, value)| value.parse().unwrap())
                .expect("a content-length");
            if rest.len() >= end + 4 + length {
                let body = rest[end + 4..end + 4 + length].to_vec();
                rest.drain(..end + 4 + length);
                return Raw {
                    status_line,
                    headers,
                    body,
                };
            }
        }
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline, tcp.read(&mut buf))
            .await
            .expect("a response in time")
            .unwrap();
        assert!(n > 0, "the connection closed before a whole response");
        rest.extend_from_slice(&buf[..n]);
    }
}

async fn connect(server: &Server) -> TcpStream {
    TcpStream::connect(server.addr).await.unwrap()
}

/// Whether the server closes `tcp` (reads EOF) in time.
async fn closes(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 64];
    matches!(
        tokio::time::timeout(LIMIT, tcp.read(&mut buf)).await,
        Ok(Ok(0) | Err(_))
    )
}

/// A server whose head (and publish body) deadline is 300 ms.
async fn with_short_head_deadline() -> Server {
    Server::with(Options {
        server: ServerConfig {
            head_timeout: Duration::from_millis(300),
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn one_connection_carries_poll_after_poll_until_the_client_says_close() {
    let server = Server::start().await;
    server.publish_ok("keep", "one").await;
    let mut tcp = connect(&server).await;
    let mut rest = Vec::new();
    tcp.write_all(b"GET /sub/keep?transport=poll&since=7.0 HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let first = read_response(&mut tcp, &mut rest).await;
    assert_eq!(first.status_line, "HTTP/1.1 200 OK");
    assert_eq!(first.header("content-type"), Some("application/json"));
    assert!(
        first
            .header("date")
            .is_some_and(|date| date.ends_with(" GMT"))
    );
    assert!(first.header("connection").is_none());
    let reply: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(reply["messages"][0]["data"], "one");
    let cursor = reply["cursor"].as_str().unwrap().to_owned();

    server.publish_ok("keep", "two").await;
    let request = format!(
        "GET /sub/keep?transport=poll&since={cursor} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let second = read_response(&mut tcp, &mut rest).await;
    assert_eq!(second.header("connection"), Some("close"));
    let reply: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(reply["messages"][0]["data"], "two");
    assert!(closes(&mut tcp).await, "closed after Connection: close");
}

#[tokio::test]
async fn a_refusal_on_the_lean_path_is_a_whole_response_and_keeps_the_connection() {
    let server = Server::start().await;
    let mut tcp = connect(&server).await;
    let mut rest = Vec::new();
    tcp.write_all(b"GET /sub/a?transport=pigeon HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let refused = read_response(&mut tcp, &mut rest).await;
    assert_eq!(refused.status_line, "HTTP/1.1 400 Bad Request");
    assert!(String::from_utf8_lossy(&refused.body).contains("Unknown transport"));
    tcp.write_all(b"GET /sub/a?transport=poll HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    let next = read_response(&mut tcp, &mut rest).await;
    assert_eq!(next.status_line, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn a_client_that_leaves_a_held_long_poll_frees_it_at_once() {
    // Polls are held for a minute: only noticing the closed socket frees it.
    let server = Server::with(Options {
        polls: LongPollConfig {
            timeout: Duration::from_secs(60),
            ..LongPollConfig::default()
        },
        ..Options::default()
    })
    .await;
    let first =
        support::body_text(get(server.addr, "/sub/gone?transport=longpoll", &[]).await).await;
    let cursor: serde_json::Value = serde_json::from_str(&first).unwrap();
    let cursor = cursor["cursor"].as_str().unwrap().to_owned();
    let mut tcp = connect(&server).await;
    let request =
        format!("GET /sub/gone?transport=longpoll&since={cursor} HTTP/1.1\r\nHost: t\r\n\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    server.wait_for_subscribers(1).await;
    drop(tcp);
    server
        .wait_for_no_subscribers("the held poll outlived its client")
        .await;
}

#[tokio::test]
async fn pollers_at_the_same_position_share_one_route_one_subscriber_and_one_framed_reply() {
    let server = Server::start().await;
    let first =
        support::body_text(get(server.addr, "/sub/crowd?transport=longpoll", &[]).await).await;
    let cursor: serde_json::Value = serde_json::from_str(&first).unwrap();
    let path = format!(
        "/sub/crowd?transport=longpoll&since={}",
        cursor["cursor"].as_str().unwrap()
    );
    let calls_at_start = server.app.framer.edge().stats().calls;
    let polls: Vec<_> = (0..20)
        .map(|_| {
            let path = path.clone();
            let addr = server.addr;
            tokio::spawn(async move { support::body_text(get(addr, &path, &[]).await).await })
        })
        .collect();
    server.wait_for_held_polls(20).await;
    // Held together: one hub subscriber reads for all twenty.
    assert_eq!(server.app.hub.subscriber_count(), 1);
    let calls_before = server.app.framer.edge().stats().calls;
    // Twenty identical requests: routed once (twice if they straddle a
    // second: the request's time is part of it), their head made once.
    assert!(
        calls_before - calls_at_start <= 3,
        "{} edge calls for 20 identical polls",
        calls_before - calls_at_start
    );
    server.publish_ok("crowd", "for everyone").await;
    let mut bodies = Vec::new();
    for poll in polls {
        bodies.push(poll.await.unwrap());
    }
    assert!(bodies[0].contains("for everyone"), "{}", bodies[0]);
    assert!(bodies.iter().all(|body| *body == bodies[0]));
    // The publish's own call, and one frame-reply for all twenty.
    assert_eq!(server.app.framer.edge().stats().calls - calls_before, 2);
}

#[tokio::test]
async fn a_poller_that_moves_on_asks_the_edge_for_its_reply_head_once() {
    let server = Server::start().await;
    let calls = || server.app.framer.edge().stats().calls;
    let first = support::body_text(get(server.addr, "/sub/mover?transport=poll", &[]).await).await;
    let mut reply: serde_json::Value = serde_json::from_str(&first).unwrap();
    for round in 0..5 {
        server.publish_ok("mover", &format!("round {round}")).await;
        let before = calls();
        let path = format!(
            "/sub/mover?transport=poll&since={}",
            reply["cursor"].as_str().unwrap()
        );
        let body = support::body_text(get(server.addr, &path, &[]).await).await;
        assert!(body.contains(&format!("round {round}")), "{body}");
        reply = serde_json::from_str(&body).unwrap();
        // A new position: its route and its reply, not its head again.
        assert_eq!(calls() - before, 2, "round {round}");
    }
}

#[tokio::test]
async fn publishes_keep_the_connection_however_their_bodies_arrive() {
    let server = Server::start().await;
    let mut tcp = connect(&server).await;
    let mut rest = Vec::new();
    // The body split over two writes.
    tcp.write_all(b"POST /pub/pieces HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello")
        .await
        .unwrap();
    tcp.write_all(b" world").await.unwrap();
    let first = read_response(&mut tcp, &mut rest).await;
    assert_eq!(first.status_line, "HTTP/1.1 200 OK");
    assert_eq!(first.header("content-type"), Some("application/json"));
    let reply: serde_json::Value = serde_json::from_slice(&first.body).unwrap();
    assert_eq!(
        (reply["seq"].as_u64(), reply["channel"].as_str()),
        (Some(1), Some("pieces"))
    );
    // Two publishes in one write, the second asking to close.
    tcp.write_all(
        b"POST /pub/pieces?event=price HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\n42\
          POST /pub/pieces HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let second = read_response(&mut tcp, &mut rest).await;
    let reply: serde_json::Value = serde_json::from_slice(&second.body).unwrap();
    assert_eq!(
        (reply["seq"].as_u64(), reply["event"].as_str()),
        (Some(2), Some("price"))
    );
    let third = read_response(&mut tcp, &mut rest).await;
    assert_eq!(third.header("connection"), Some("close"));
    assert!(closes(&mut tcp).await, "closed after Connection: close");
    let all =
        support::body_text(get(server.addr, "/sub/pieces?transport=poll&since=7.0", &[]).await)
            .await;
    let all: serde_json::Value = serde_json::from_str(&all).unwrap();
    let data: Vec<_> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["data"].as_str().unwrap())
        .collect();
    assert_eq!(data, ["hello world", "42", ""]);
}

#[tokio::test]
async fn a_publish_whose_body_stalls_is_closed_at_the_head_deadline_and_not_published() {
    let server = with_short_head_deadline().await;
    let mut tcp = connect(&server).await;
    tcp.write_all(b"POST /pub/stalled HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        .await
        .unwrap();
    assert!(
        closes(&mut tcp).await,
        "a half body is not waited for forever"
    );
    let info = get(server.addr, "/pub/stalled", &[]).await;
    assert_eq!(info.status(), 404, "nothing was published");
}

#[tokio::test]
async fn a_publish_too_large_is_refused_before_its_body_and_the_connection_closes() {
    let server = Server::with(Options {
        server: ServerConfig {
            max_message_bytes: 100,
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let mut tcp = connect(&server).await;
    let mut rest = Vec::new();
    tcp.write_all(b"POST /pub/big HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
        .await
        .unwrap();
    let refused = read_response(&mut tcp, &mut rest).await;
    assert_eq!(refused.status_line, "HTTP/1.1 413 Content Too Large");
    assert!(
        String::from_utf8_lossy(&refused.body).contains("100"),
        "{:?}",
        String::from_utf8_lossy(&refused.body)
    );
    assert_eq!(refused.header("connection"), Some("close"));
    assert!(
        closes(&mut tcp).await,
        "its unread body is not taken for a request"
    );
}

#[tokio::test]
async fn requests_the_front_does_not_serve_go_to_hyper_unchanged() {
    let server = Server::start().await;
    // HTTP/1.0: hyper answers in kind.
    let mut tcp = connect(&server).await;
    tcp.write_all(b"GET /sub/h?transport=poll HTTP/1.0\r\n\r\n")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let old = read_response(&mut tcp, &mut rest).await;
    assert_eq!(old.status_line, "HTTP/1.0 200 OK");

    // Pipelined: both answered, in order.
    let mut tcp = connect(&server).await;
    tcp.write_all(
        b"GET /sub/h?transport=poll HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n",
    )
    .await
    .unwrap();
    let mut rest = Vec::new();
    let poll = read_response(&mut tcp, &mut rest).await;
    assert!(String::from_utf8_lossy(&poll.body).contains("cursor"));
    let health = read_response(&mut tcp, &mut rest).await;
    assert_eq!(health.body, b"ok\n");

    // A GET with a body is read by hyper, and still subscribes.
    let mut tcp = connect(&server).await;
    tcp.write_all(b"GET /sub/h?transport=poll HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
        .await
        .unwrap();
    let mut rest = Vec::new();
    let with_body = read_response(&mut tcp, &mut rest).await;
    assert_eq!(with_body.status_line, "HTTP/1.1 200 OK");

    // Not HTTP at all: hyper's 400, and the connection closes.
    let mut tcp = connect(&server).await;
    tcp.write_all(b"GET /sub/h HTTP/1.1\r\nno colon here\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(LIMIT, tcp.read_to_end(&mut reply)).await;
    assert!(
        reply.starts_with(b"HTTP/1.1 400"),
        "{:?}",
        String::from_utf8_lossy(&reply)
    );
}

#[tokio::test]
async fn shutdown_closes_idle_keep_alive_connections_without_waiting_for_the_grace() {
    let mut server = Server::with(Options {
        server: ServerConfig {
            // Longer than the test's own limit: waiting for it fails the test.
            shutdown_grace: Duration::from_secs(60),
            ..ServerConfig::default()
        },
        ..Options::default()
    })
    .await;
    let mut lean = connect(&server).await;
    lean.write_all(b"GET /sub/idle?transport=poll HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    read_response(&mut lean, &mut Vec::new()).await;
    let mut hyper = connect(&server).await;
    hyper
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    read_response(&mut hyper, &mut Vec::new()).await;
    server.shut_down().await;
    assert!(closes(&mut lean).await);
    assert!(closes(&mut hyper).await);
}

#[tokio::test]
async fn a_request_head_that_stalls_halfway_is_closed_at_the_head_deadline() {
    let server = with_short_head_deadline().await;
    let mut tcp = connect(&server).await;
    tcp.write_all(b"GET /sub/slow HTTP/1.1\r\nHost: t\r\n")
        .await
        .unwrap();
    assert!(closes(&mut tcp).await, "a half head is not held forever");
    // A connection that sends nothing is an idle keep-alive one: no deadline.
    let mut idle = connect(&server).await;
    let mut buf = [0u8; 1];
    assert!(
        tokio::time::timeout(Duration::from_millis(900), idle.read(&mut buf))
            .await
            .is_err(),
        "an idle connection is left open"
    );
}
