//! A server started in-process on 127.0.0.1:0, and small HTTP helpers.
#![allow(dead_code, unreachable_pub, missing_docs)]

extern crate alloc;

use alloc::sync::Arc;
use core::net::SocketAddr;
use core::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pushwire_core::hub::HubConfig;
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::edge::{Edge, EdgeConfig, Settings};
use pushwire_host::http::serve;
use pushwire_host::push::framing::Framer;
use pushwire_host::push::hub::SharedHub;
use pushwire_host::push::{App, ServerConfig};
use tokio::sync::oneshot;

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(10);

pub struct Server {
    pub addr: SocketAddr,
    pub app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

pub struct Options {
    pub edge: Option<Vec<u8>>,
    /// Tokens and CORS for the edge (default: open).
    pub settings: Option<Settings>,
    pub hub: HubConfig,
    pub polls: LongPollConfig,
    pub server: ServerConfig,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            edge: None,
            settings: None,
            hub: HubConfig::default(),
            polls: LongPollConfig {
                timeout: Duration::from_secs(2),
                ..LongPollConfig::default()
            },
            server: ServerConfig::default(),
        }
    }
}

impl Server {
    pub async fn start() -> Self {
        Self::with(Options::default()).await
    }

    pub async fn with(options: Options) -> Self {
        let mut config = EdgeConfig::default();
        if let Some(settings) = options.settings.clone() {
            config.settings = settings;
        }
        let edge = match &options.edge {
            Some(wasm) => Edge::new(wasm, config).expect("edge module loads"),
            None => Edge::builtin(config).expect("builtin edge loads"),
        };
        let framer = Framer::new(Arc::new(edge)).expect("edge answers heartbeats");
        let hub = Arc::new(SharedHub::new(options.hub, options.polls, 7));
        let app = Arc::new(App::new(options.server, hub, framer));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn({
            let app = Arc::clone(&app);
            async move {
                serve(listener, app, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            }
        });
        Self {
            addr,
            app,
            stop: Some(stop),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Shut down gracefully and wait for the server task to end.
    pub async fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(LIMIT, task)
                .await
                .expect("server stops in time")
                .unwrap();
        }
    }

    /// POST `data` to `/pub/{channel}{query}`; the status and JSON reply.
    pub async fn publish(&self, path_and_query: &str, data: &str) -> (u16, String) {
        let response = request(
            self.addr,
            "POST",
            path_and_query,
            &[],
            Bytes::from(data.to_owned()),
        )
        .await;
        let status = response.status().as_u16();
        (status, body_text(response).await)
    }

    /// Publish with `Authorization: Bearer {token}` and assert it was accepted.
    pub async fn publish_ok_with(&self, token: &str, channel: &str, data: &str) -> String {
        let bearer = format!("Bearer {token}");
        let response = request(
            self.addr,
            "POST",
            &format!("/pub/{channel}"),
            &[("authorization", &bearer)],
            Bytes::from(data.to_owned()),
        )
        .await;
        let status = response.status().as_u16();
        let body = body_text(response).await;
        assert_eq!(status, 200, "publish failed: {body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        reply["id"].as_str().unwrap().to_owned()
    }

    /// Publish and assert it was accepted; the assigned id.
    pub async fn publish_ok(&self, channel: &str, data: &str) -> String {
        let (status, body) = self.publish(&format!("/pub/{channel}"), data).await;
        assert_eq!(status, 200, "publish failed: {body}");
        let reply: serde_json::Value = serde_json::from_str(&body).unwrap();
        reply["id"].as_str().unwrap().to_owned()
    }

    /// Wait until the server holds `n` long polls.
    pub async fn wait_for_held_polls(&self, n: usize) {
        self.wait_until(n, "held polls", || self.app.hub.held_polls())
            .await;
    }

    /// Wait until the hub has `n` subscriptions (streams open on the server).
    pub async fn wait_for_subscribers(&self, n: usize) {
        self.wait_until(n, "subscribers", || self.app.hub.subscriber_count())
            .await;
    }

    /// Wait (bounded) until `count` reaches `n`.
    async fn wait_until(&self, n: usize, what: &str, count: impl Fn() -> usize) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while count() < n {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what} never reached {n}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Wait (bounded) until no subscription is left; `what` names the one
    /// that should have gone when it did not.
    pub async fn wait_for_no_subscribers(&self, what: &str) {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while self.app.hub.subscriber_count() > 0 {
            assert!(tokio::time::Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// One HTTP/1.1 request on a fresh connection.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: Bytes,
) -> hyper::Response<Incoming> {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .unwrap();
    tokio::spawn(connection);
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(path_and_query)
        .header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(Full::new(body)).unwrap();
    tokio::time::timeout(LIMIT, sender.send_request(request))
        .await
        .expect("response head in time")
        .unwrap()
}

/// GET with headers, no body.
pub async fn get(
    addr: SocketAddr,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> hyper::Response<Incoming> {
    request(addr, "GET", path_and_query, headers, Bytes::new()).await
}

/// The whole body as text (bounded in time).
pub async fn body_text(response: hyper::Response<Incoming>) -> String {
    let collected = tokio::time::timeout(LIMIT, response.into_body().collect())
        .await
        .expect("body in time")
        .unwrap();
    String::from_utf8(collected.to_bytes().to_vec()).unwrap()
}

/// Reads a streaming body chunk by chunk.
pub struct Stream {
    body: Incoming,
    pub received: Vec<u8>,
    pub ended: bool,
}

impl Stream {
    pub fn new(response: hyper::Response<Incoming>) -> Self {
        Self {
            body: response.into_body(),
            received: Vec::new(),
            ended: false,
        }
    }

    /// Read until `done(received)` holds or the body ends.
    pub async fn read_until(&mut self, done: impl Fn(&[u8]) -> bool) -> &[u8] {
        let deadline = tokio::time::Instant::now() + LIMIT;
        while !done(&self.received) && !self.ended {
            let frame = tokio::time::timeout_at(deadline, self.body.frame())
                .await
                .unwrap_or_else(|_| {
                    let tail = &self.received[self.received.len().saturating_sub(300)..];
                    panic!(
                        "timed out after {} bytes; the last ones: {:?}",
                        self.received.len(),
                        String::from_utf8_lossy(tail)
                    )
                });
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.received.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) | None => self.ended = true,
            }
        }
        &self.received
    }

    /// Read until `needle` appears `times` times.
    pub async fn read_until_count(&mut self, needle: &str, times: usize) -> String {
        let needle = needle.as_bytes().to_vec();
        self.read_until(|got| count(got, &needle) >= times).await;
        String::from_utf8_lossy(&self.received).into_owned()
    }

    /// Read until the server ends the body.
    pub async fn read_to_end(&mut self) -> String {
        self.read_until(|_| false).await;
        String::from_utf8_lossy(&self.received).into_owned()
    }
}

pub fn count(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    haystack
        .windows(needle.len())
        .filter(|window| *window == needle)
        .count()
}

/// Parse SSE text with pushwire-core's WHATWG parser: (event, data, last id).
pub fn sse_events(text: &str) -> Vec<(String, String, String)> {
    use pushwire_core::sse::{SseEvent, SseParser};
    let mut parser = SseParser::default();
    parser.push(text.as_bytes());
    let mut events = Vec::new();
    while let Some(event) = parser.poll_event() {
        if let Ok(SseEvent::Message(message)) = event {
            events.push((message.event, message.data, message.last_event_id));
        }
    }
    events
}

pub fn empty() -> Empty<Bytes> {
    Empty::new()
}
