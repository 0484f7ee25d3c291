//! `pushwire pub` and `pushwire sub` against tiny hand-written HTTP/1.1
//! servers on 127.0.0.1:0 (deliberately not pushwire: `sub` must behave like
//! EventSource against any SSE server).

use core::future::pending;
use core::net::SocketAddr;
use core::time::Duration;

use pushwire_core::client::Transport;
use pushwire_host::cli::{self, ExitReason, PubArgs, SubArgs};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout};

/// One scripted reply of the test server.
struct Reply {
    /// The raw response: status line, headers, blank line and body.
    bytes: Vec<u8>,
    /// Keep the connection open after writing (a live stream) instead of closing it.
    hold: bool,
}

impl Reply {
    /// A reply whose body ends when the server closes the connection.
    fn closing(head: &str, body: &str) -> Self {
        Self {
            bytes: format!("{head}\r\nConnection: close\r\n\r\n{body}").into_bytes(),
            hold: false,
        }
    }

    /// A reply that stays open after `body`.
    fn holding(head: &str, body: &str) -> Self {
        Self {
            bytes: format!("{head}\r\n\r\n{body}").into_bytes(),
            hold: true,
        }
    }

    /// A complete JSON reply with a `Content-Length`.
    fn json(status: &str, body: &str) -> Self {
        Self {
            bytes: format!(
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .into_bytes(),
            hold: false,
        }
    }
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache";

/// A server that answers its `n`-th connection with `replies[n]` (and holds
/// any later connection without answering). Every request (head and body)
/// arrives on the returned channel.
async fn script(replies: Vec<Reply>) -> (SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (requests, received) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut replies = replies.into_iter();
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let request = read_request(&mut stream).await;
            let _ = requests.send(request);
            match replies.next() {
                Some(reply) => {
                    tokio::spawn(async move {
                        stream.write_all(&reply.bytes).await.unwrap();
                        stream.flush().await.unwrap();
                        if reply.hold {
                            pending::<()>().await;
                        }
                        let _ = stream.shutdown().await;
                    });
                }
                None => {
                    tokio::spawn(async move {
                        let _hold = stream;
                        pending::<()>().await;
                    });
                }
            }
        }
    });
    (addr, received)
}

/// Read one request head and its `Content-Length` body.
async fn read_request(stream: &mut TcpStream) -> String {
    let mut bytes = Vec::new();
    let mut buffer = [0; 1024];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the client closed before a whole request");
        bytes.extend_from_slice(&buffer[..read]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_lowercase();
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map_or(0, |value| value.trim().parse::<usize>().unwrap());
    while bytes.len() < head_end + length {
        let read = stream.read(&mut buffer).await.unwrap();
        assert!(read > 0, "the client closed before the whole body");
        bytes.extend_from_slice(&buffer[..read]);
    }
    String::from_utf8(bytes).unwrap()
}

fn drain(received: &mut mpsc::UnboundedReceiver<String>) -> Vec<String> {
    let mut requests = Vec::new();
    while let Ok(request) = received.try_recv() {
        requests.push(request);
    }
    requests
}

fn sub_args(addr: SocketAddr, path: &str) -> SubArgs {
    SubArgs {
        url: format!("http://{addr}{path}"),
        transport: Transport::Sse,
        since: None,
        headers: Vec::new(),
        max_events: None,
        idle_timeout: None,
    }
}

/// Run `sub` until it returns (10 s at most), collecting its output lines.
async fn run_sub(args: SubArgs) -> (ExitReason, Vec<String>) {
    let mut out = Vec::new();
    let reason = timeout(
        Duration::from_secs(10),
        cli::subscribe_until(args, &mut out, pending()),
    )
    .await
    .expect("sub did not finish within 10 s")
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    (reason, text.lines().map(ToOwned::to_owned).collect())
}

/// Case-insensitive "the request head has this header line".
fn has_header(request: &str, line: &str) -> bool {
    request
        .lines()
        .any(|found| found.eq_ignore_ascii_case(line))
}

#[tokio::test]
async fn sse_events_print_with_multiline_data_ids_and_names() {
    let body = concat!(
        ": a comment\n",
        "id: 1\nevent: greeting\ndata: hello\ndata:  world\n\n",
        "data: same id\r\n\r\n",
        "event: ignored-without-data\n\n",
        "id: 3\rdata: {\"json\": true}\r\r",
    );
    let (addr, mut received) = script(vec![Reply::holding(SSE_HEAD, body)]).await;
    let mut args = sub_args(addr, "/events?x=1");
    args.max_events = Some(3);
    args.headers = vec![String::from("X-Token: abc")];
    let (reason, lines) = run_sub(args).await;

    assert_eq!(reason, ExitReason::MaxEvents(3));
    assert_eq!(
        lines,
        [
            r#"{"type":"greeting","data":"hello\n world","lastEventId":"1"}"#,
            r#"{"type":"message","data":"same id","lastEventId":"1"}"#,
            r#"{"type":"message","data":"{\"json\": true}","lastEventId":"3"}"#,
        ]
    );
    let requests = drain(&mut received);
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert!(
        request.starts_with("GET /events?x=1 HTTP/1.1\r\n"),
        "{request}"
    );
    for line in [
        "accept: text/event-stream",
        "cache-control: no-cache",
        "x-token: abc",
        &format!("host: {addr}"),
    ] {
        assert!(has_header(request, line), "{line:?} missing in {request}");
    }
    assert!(
        !request.to_lowercase().contains("last-event-id"),
        "{request}"
    );
}

#[tokio::test]
async fn sse_reconnects_after_the_servers_retry_with_last_event_id() {
    let (addr, mut received) = script(vec![
        Reply::closing(
            SSE_HEAD,
            "retry: 50\nid: a1\ndata: one\n\nid: a2\ndata: two\n\n",
        ),
        Reply::holding(SSE_HEAD, "id: a3\ndata: three\n\n"),
    ])
    .await;
    let mut args = sub_args(addr, "/events");
    args.max_events = Some(3);
    let started = Instant::now();
    let (reason, lines) = run_sub(args).await;
    let elapsed = started.elapsed();

    assert_eq!(reason, ExitReason::MaxEvents(3));
    assert_eq!(
        lines,
        [
            r#"{"type":"message","data":"one","lastEventId":"a1"}"#,
            r#"{"type":"message","data":"two","lastEventId":"a2"}"#,
            r#"{"type":"message","data":"three","lastEventId":"a3"}"#,
        ]
    );
    // The server's 50 ms, not the 3 s default reconnection time.
    assert!(elapsed >= Duration::from_millis(50), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(2), "{elapsed:?}");
    let requests = drain(&mut received);
    assert_eq!(requests.len(), 2);
    assert!(
        has_header(&requests[1], "last-event-id: a2"),
        "{}",
        requests[1]
    );
    assert!(requests[1].starts_with("GET /events HTTP/1.1\r\n"));
}

#[tokio::test]
async fn sse_stops_when_the_reconnect_gets_204() {
    let (addr, mut received) = script(vec![
        Reply::closing(SSE_HEAD, "retry: 20\nid: 1\ndata: only\n\n"),
        Reply::closing("HTTP/1.1 204 No Content", ""),
    ])
    .await;
    let (reason, lines) = run_sub(sub_args(addr, "/events")).await;

    assert_eq!(
        reason,
        ExitReason::Stopped {
            status: 204,
            message: None
        }
    );
    assert_eq!(reason.exit_code(), 0);
    assert_eq!(
        reason.to_string(),
        "server answered 204 No Content: not reconnecting"
    );
    assert_eq!(
        lines,
        [r#"{"type":"message","data":"only","lastEventId":"1"}"#]
    );
    let requests = drain(&mut received);
    assert_eq!(requests.len(), 2);
    assert!(has_header(&requests[1], "last-event-id: 1"));
}

#[tokio::test]
async fn sse_stops_on_500_like_event_source() {
    let (addr, mut received) = script(vec![Reply::closing(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain",
        "database on fire\n",
    )])
    .await;
    let (reason, lines) = run_sub(sub_args(addr, "/events")).await;

    assert_eq!(
        reason,
        ExitReason::Stopped {
            status: 500,
            message: Some(String::from("database on fire"))
        }
    );
    assert_eq!(reason.exit_code(), 1);
    assert!(lines.is_empty());
    // Never reconnects: give it the time a retry would take.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(drain(&mut received).len(), 1);
}

#[tokio::test]
async fn max_events_stops_after_n_events() {
    let body = "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n";
    let (addr, _received) = script(vec![Reply::holding(SSE_HEAD, body)]).await;
    let mut args = sub_args(addr, "/events");
    args.max_events = Some(2);
    let (reason, lines) = run_sub(args).await;

    assert_eq!(reason, ExitReason::MaxEvents(2));
    assert_eq!(reason.exit_code(), 0);
    assert_eq!(
        lines,
        [
            r#"{"type":"message","data":"1","lastEventId":""}"#,
            r#"{"type":"message","data":"2","lastEventId":""}"#,
        ]
    );
}

#[tokio::test]
async fn ndjson_stream_prints_channels_and_gaps() {
    let body = concat!(
        "{\"id\":\"7.1\",\"channel\":\"chat\",\"data\":\"hi\"}\n",
        "\n",
        "{\"id\":\"7.2\",\"channel\":\"news\",\"event\":\"alert\",\"data\":\"line\\nbreak\"}\n",
        "{\"id\":\"9.2\",\"channel\":\"chat\",\"event\":\"gap\",\"data\":\"2\"}\n",
    );
    let (addr, mut received) = script(vec![Reply::holding(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked",
        &format!("{:x}\r\n{body}\r\n", body.len()),
    )])
    .await;
    let mut args = sub_args(addr, "/sub/chat,news");
    args.transport = Transport::Stream;
    args.max_events = Some(3);
    let (reason, lines) = run_sub(args).await;

    assert_eq!(reason, ExitReason::MaxEvents(3));
    assert_eq!(
        lines,
        [
            r#"{"type":"message","data":"hi","lastEventId":"7.1","channel":"chat"}"#,
            r#"{"type":"alert","data":"line\nbreak","lastEventId":"7.2","channel":"news"}"#,
            r#"{"type":"gap","data":"2","lastEventId":"9.2","channel":"chat"}"#,
        ]
    );
    let requests = drain(&mut received);
    assert!(
        requests[0]
            .to_lowercase()
            .contains("accept: application/x-ndjson"),
        "{}",
        requests[0]
    );
}

#[tokio::test]
async fn longpoll_loops_with_since() {
    let (addr, mut received) = script(vec![
        Reply::json(
            "200 OK",
            r#"{"cursor":"c1","messages":[{"id":"c1","channel":"chat","data":"one"}]}"#,
        ),
        Reply::json("200 OK", r#"{"cursor":"c1","messages":[]}"#),
        Reply::json(
            "200 OK",
            r#"{"cursor":"c3","messages":[{"id":"c2","channel":"chat","data":"two"},{"id":"c3","channel":"chat","event":"e","data":"three"}]}"#,
        ),
    ])
    .await;
    let mut args = sub_args(addr, "/sub/chat?since=old");
    args.transport = Transport::LongPoll;
    args.since = Some(String::from("c0"));
    args.max_events = Some(3);
    let (reason, lines) = run_sub(args).await;

    assert_eq!(reason, ExitReason::MaxEvents(3));
    assert_eq!(
        lines,
        [
            r#"{"type":"message","data":"one","lastEventId":"c1","channel":"chat"}"#,
            r#"{"type":"message","data":"two","lastEventId":"c2","channel":"chat"}"#,
            r#"{"type":"e","data":"three","lastEventId":"c3","channel":"chat"}"#,
        ]
    );
    let requests = drain(&mut received);
    assert_eq!(requests.len(), 3);
    let targets: Vec<&str> = requests
        .iter()
        .map(|request| request.lines().next().unwrap())
        .collect();
    assert_eq!(
        targets,
        [
            "GET /sub/chat?transport=longpoll&since=c0 HTTP/1.1",
            "GET /sub/chat?transport=longpoll&since=c1 HTTP/1.1",
            "GET /sub/chat?transport=longpoll&since=c1 HTTP/1.1",
        ]
    );
    assert!(has_header(&requests[0], "last-event-id: c0"));
    assert!(has_header(&requests[1], "last-event-id: c1"));
    assert!(has_header(&requests[0], "accept: application/json"));
}

#[tokio::test]
async fn the_shutdown_future_interrupts_a_quiet_stream() {
    let (addr, _received) = script(vec![Reply::holding(SSE_HEAD, ": hello\n")]).await;
    let mut out = Vec::new();
    let reason = cli::subscribe_until(
        sub_args(addr, "/events"),
        &mut out,
        tokio::time::sleep(Duration::from_millis(100)),
    )
    .await
    .unwrap();
    assert_eq!(reason, ExitReason::Interrupted);
    assert!(out.is_empty());
}

#[tokio::test]
async fn bad_arguments_are_refused_before_connecting() {
    let mut args = sub_args("127.0.0.1:9".parse().unwrap(), "/events");
    args.url = String::from("https://example.com/events");
    let error = cli::subscribe_until(args, Vec::new(), pending())
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("http:// only"), "{error:#}");

    let mut args = sub_args("127.0.0.1:9".parse().unwrap(), "/events");
    args.headers = vec![String::from("no colon")];
    let error = cli::subscribe_until(args, Vec::new(), pending())
        .await
        .unwrap_err();
    assert!(format!("{error:#}").contains("Name: value"), "{error:#}");
}

#[tokio::test]
async fn publish_posts_data_with_token_and_event_query() {
    let (addr, mut received) = script(vec![Reply::json("200 OK", "{\"id\":\"5\"}\n")]).await;
    let mut out = Vec::new();
    cli::publish_to(
        PubArgs {
            url: format!("http://{addr}/pub/chat"),
            data: String::from("hello\nworld"),
            event: Some(String::from("news flash")),
            token: Some(String::from("t0k")),
        },
        &mut out,
    )
    .await
    .unwrap();

    assert_eq!(out, b"{\"id\":\"5\"}\n");
    let requests = drain(&mut received);
    let request = &requests[0];
    assert!(
        request.starts_with("POST /pub/chat?event=news%20flash HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(
        has_header(request, "authorization: Bearer t0k"),
        "{request}"
    );
    assert!(request.ends_with("\r\n\r\nhello\nworld"), "{request}");
}

#[tokio::test]
async fn publish_reports_the_servers_error() {
    let (addr, _received) = script(vec![Reply::json(
        "403 Forbidden",
        r#"{"error":"This token may not publish to chat."}"#,
    )])
    .await;
    let error = cli::publish_to(
        PubArgs {
            url: format!("http://{addr}/pub/chat?x=1"),
            data: String::from("hi"),
            event: None,
            token: None,
        },
        Vec::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "server answered 403 Forbidden: This token may not publish to chat."
    );
}

#[tokio::test]
async fn the_binary_prints_events_and_exits_0_on_204() {
    let (addr, _received) = script(vec![
        Reply::closing(SSE_HEAD, "retry: 20\nid: 1\nevent: hi\ndata: there\n\n"),
        Reply::closing("HTTP/1.1 204 No Content", ""),
    ])
    .await;
    let url = format!("http://{addr}/events");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_pushwire"))
        .args(["sub", &url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert_eq!(
        stdout,
        "{\"type\":\"hi\",\"data\":\"there\",\"lastEventId\":\"1\"}\n"
    );
    assert!(
        stderr.contains("server answered 204 No Content: not reconnecting"),
        "{stderr}"
    );
}

#[tokio::test]
async fn sse_follows_redirects_and_reconnects_to_the_original_url() {
    let (addr, mut received) = script(vec![
        Reply::closing("HTTP/1.1 307 Temporary Redirect\r\nLocation: /moved", ""),
        Reply::closing(SSE_HEAD, "retry: 20\nid: 1\ndata: one\n\n"),
        Reply::holding(SSE_HEAD, "id: 2\ndata: two\n\n"),
    ])
    .await;
    let mut args = sub_args(addr, "/events");
    args.max_events = Some(2);
    let (reason, lines) = run_sub(args).await;

    assert_eq!(reason, ExitReason::MaxEvents(2));
    assert_eq!(lines.len(), 2);
    let targets: Vec<String> = drain(&mut received)
        .iter()
        .map(|request| request.lines().next().unwrap().to_owned())
        .collect();
    assert_eq!(
        targets,
        [
            "GET /events HTTP/1.1",
            "GET /moved HTTP/1.1",
            "GET /events HTTP/1.1"
        ]
    );
}

/// Start `pushwire serve` on a free port with `args`, stderr piped (not a
/// terminal), and return its stderr lines up to the one that says it is
/// listening; the server is killed then.
async fn serve_log(args: &[&str]) -> Vec<String> {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_pushwire"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--demo-camera",
            "false",
            "--demo-ticker",
            "false",
        ])
        .args(args)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let read = timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let listening = line.contains("listening on");
            seen.push(line);
            if listening {
                return;
            }
        }
    })
    .await;
    child.kill().await.unwrap();
    assert!(
        read.is_ok(),
        "the server never said it was listening: {seen:?}"
    );
    seen
}

#[tokio::test]
async fn logs_to_a_pipe_carry_no_terminal_colors() {
    let lines = serve_log(&[]).await;
    assert!(lines.len() > 1, "{lines:?}");
    for line in &lines {
        assert!(!line.contains("\x1b["), "an ANSI escape in {line:?}");
    }
}

#[tokio::test]
async fn log_format_json_writes_one_json_object_per_line() {
    let lines = serve_log(&["--log-format", "json"]).await;
    assert!(lines.len() > 1, "{lines:?}");
    for line in &lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line:?}"));
        assert!(event["level"].is_string(), "{line}");
    }
    let last: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(last["level"], "INFO");
    assert!(
        last["fields"]["message"]
            .as_str()
            .unwrap()
            .starts_with("pushwire listening on http://127.0.0.1:"),
        "{last}"
    );
}
