//! The command-line clients: `pushwire pub` and `pushwire sub`.
//!
//! `pub` posts one message and prints the server's JSON reply. `sub` is a
//! driver of [`pushwire_core::client::ClientMachine`]: the machine decides
//! when to connect, reconnect and stop, and decodes every body (SSE, NDJSON,
//! long-poll replies); this module only moves bytes and timers between
//! hyper and the machine, and prints each event as one JSON line.
//!
//! ```text
//! Transmit::Connect ──► hyper GET ──► head ──► handle_response
//!                                   ──► body chunks ──► handle_bytes
//!                                   ──► end / error ──► handle_closed
//! poll_timeout ──► sleep_until ──► handle_timeout
//! poll_event ──► {"type":…,"data":…,"lastEventId":…,"channel":…}\n
//! ```
//!
//! With `--transport sse` (the default) it behaves like a browser's
//! `EventSource` against any SSE server: `Accept: text/event-stream`, the
//! `Last-Event-ID` header on reconnects, the server's `retry:` as the
//! reconnection time, and any status other than 200 stops it for good.
//!
//! Plain `http://` only: there is no TLS in this binary.

use core::fmt;
use core::future::Future;
use core::pin::pin;
use core::time::Duration;
use std::io::{self, Read as _, Write};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::{Body, Incoming};
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use pushwire_core::Timestamp;
use pushwire_core::client::{
    Capabilities, ClientConfig, ClientEvent, ClientMachine, ClientMessage, CloseReason, EndReason,
    ErrorReason, ResponseHead, Transmit, Transport,
};
use pushwire_core::url::{self, QueryParam};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// Redirects followed per connection, like Fetch's limit.
const MAX_REDIRECTS: usize = 20;
/// The most of an error reply's body kept to show the user.
const MAX_ERROR_BODY: usize = 4096;
/// How long to wait for an error reply's body.
const ERROR_BODY_TIMEOUT: Duration = Duration::from_secs(2);

/// Arguments of `pushwire pub`.
#[derive(Clone, Debug, clap::Args)]
pub struct PubArgs {
    /// Where to publish, e.g. `http://127.0.0.1:8080/pub/chat` (plain http:// only, no TLS).
    #[arg(value_name = "URL")]
    pub url: String,
    /// The message data; `-` reads it from standard input.
    #[arg(value_name = "DATA")]
    pub data: String,
    /// The event name (sent as the `event` query parameter).
    #[arg(long, value_name = "E")]
    pub event: Option<String>,
    /// A bearer token (sent as `Authorization: Bearer T`).
    #[arg(long, value_name = "T")]
    pub token: Option<String>,
}

/// Arguments of `pushwire sub`.
#[derive(Clone, Debug, clap::Args)]
pub struct SubArgs {
    /// What to subscribe to, e.g. `http://127.0.0.1:8080/sub/chat,news`, or
    /// any Server-Sent Events URL (plain http:// only, no TLS).
    #[arg(value_name = "URL")]
    pub url: String,
    /// How to receive: `sse` (EventSource semantics), `stream` (NDJSON or
    /// SSE over one response), `longpoll` or `poll`.
    #[arg(long, default_value = "sse", value_parser = parse_transport, value_name = "sse|stream|longpoll|poll")]
    pub transport: Transport,
    /// Resume after this event id / cursor (`Last-Event-ID` on the first request).
    #[arg(long, value_name = "C")]
    pub since: Option<String>,
    /// An extra request header, `'Name: value'`; repeatable.
    #[arg(long = "header", short = 'H', value_name = "K: V")]
    pub headers: Vec<String>,
    /// Exit after printing this many events.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,
    /// Reconnect when an open stream is silent this long (seconds). Default:
    /// never for `sse` (like EventSource), 35 for `stream`.
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
}

/// Parse a `--transport` value: the transports a terminal can drive.
fn parse_transport(name: &str) -> Result<Transport, String> {
    match name.parse::<Transport>() {
        Ok(Transport::Iframe) => Err(String::from(
            "the iframe transport needs a browser; use sse, stream, longpoll or poll",
        )),
        Ok(transport) => Ok(transport),
        Err(error) => Err(error.to_string()),
    }
}

/// Why [`subscribe`] returned.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// The server answered with a status that means "stop" (204, or any
    /// non-200 on `sse`): the client does not reconnect.
    Stopped {
        /// The HTTP status.
        status: u16,
        /// What the server said in the body of an error reply, if anything.
        message: Option<String>,
    },
    /// The client machine closed for another reason.
    Closed(CloseReason),
    /// `--max-events` events were printed.
    MaxEvents(u64),
    /// Ctrl-C (or the caller's shutdown future).
    Interrupted,
    /// The output was closed (a broken pipe, e.g. `| head -1`).
    OutputClosed,
}

impl ExitReason {
    /// The process exit code this reason suggests.
    ///
    /// 0 for a clean end (204 and other 2xx stops, `--max-events`, Ctrl-C, a
    /// closed output), 1 when the server refused with an error status.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Stopped { status, .. } if *status >= 300 => 1,
            Self::Closed(_) => 1,
            _ => 0,
        }
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Stopped { status, message } => {
                write!(f, "server answered {status}")?;
                if let Some(reason) = StatusCode::from_u16(*status)
                    .ok()
                    .and_then(|code| code.canonical_reason())
                {
                    write!(f, " {reason}")?;
                }
                if let Some(message) = message {
                    write!(f, " ({message})")?;
                }
                f.write_str(": not reconnecting")
            }
            Self::Closed(reason) => write!(f, "connection closed for good ({reason:?})"),
            Self::MaxEvents(count) => write!(f, "printed {count} events (--max-events)"),
            Self::Interrupted => f.write_str("interrupted"),
            Self::OutputClosed => f.write_str("output closed"),
        }
    }
}

// ---- pub ----

/// Run `pushwire pub`: publish and print the server's JSON reply to stdout.
///
/// # Errors
///
/// A bad URL (not `http://`), an unreadable stdin, a network error, or a
/// non-2xx reply (the error says the status and the server's message).
pub async fn publish(args: PubArgs) -> anyhow::Result<()> {
    publish_to(args, io::stdout()).await
}

/// Publish like [`publish`], writing the server's reply to `out`.
///
/// # Errors
///
/// As [`publish`].
pub async fn publish_to(args: PubArgs, mut out: impl Write) -> anyhow::Result<()> {
    let mut target = Target::parse(&args.url)?;
    if let Some(event) = &args.event {
        target = target.with_query_param("event", event);
    }
    let data = if args.data == "-" {
        let mut buffer = Vec::new();
        io::stdin()
            .read_to_end(&mut buffer)
            .context("cannot read the data from standard input")?;
        buffer
    } else {
        args.data.into_bytes()
    };
    let mut request = target.request(Method::POST, Full::new(Bytes::from(data)))?;
    let headers = request.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
    if let Some(token) = &args.token {
        let value = HeaderValue::try_from(format!("Bearer {token}"))
            .context("the token holds characters not allowed in a header")?;
        headers.insert(header::AUTHORIZATION, value);
    }
    let (response, _connection) = send(&target, request).await?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .with_context(|| format!("the reply from {} broke off", target.authority))?
        .to_bytes();
    if !status.is_success() {
        let message = server_message(&body);
        if message.is_empty() {
            bail!("server answered {status}");
        }
        bail!("server answered {status}: {message}");
    }
    let text = String::from_utf8_lossy(&body);
    writeln!(out, "{}", text.trim_end()).context("cannot write the reply")?;
    out.flush().context("cannot write the reply")?;
    Ok(())
}

/// What the server said in an error reply: a JSON `error` / `message`
/// string if there is one, else the body text.
fn server_message(body: &[u8]) -> String {
    if let Ok(serde_json::Value::Object(object)) = serde_json::from_slice(body) {
        for key in ["error", "message", "detail"] {
            if let Some(serde_json::Value::String(text)) = object.get(key) {
                return text.clone();
            }
        }
    }
    String::from_utf8_lossy(body).trim().to_owned()
}

// ---- sub ----

/// Run `pushwire sub` until the server stops it, `--max-events` or Ctrl-C.
///
/// Prints one JSON object per event to `out` (flushed per event); when the
/// machine closes for good it also prints the reason to stderr. Reconnects
/// are logged with `tracing` (debug after a normal end, warn after a
/// failure).
///
/// # Errors
///
/// Bad arguments (URL, headers) and output errors other than a broken pipe.
/// Network trouble is not an error: the machine retries with backoff.
pub async fn subscribe(args: SubArgs, out: impl Write) -> anyhow::Result<ExitReason> {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            core::future::pending::<()>().await;
        }
    };
    let reason = subscribe_until(args, out, ctrl_c).await?;
    if matches!(reason, ExitReason::Stopped { .. } | ExitReason::Closed(_)) {
        eprintln!("pushwire sub: {reason}");
    }
    Ok(reason)
}

/// Subscribe like [`subscribe`] until `shutdown` completes, printing nothing
/// to stderr.
///
/// # Errors
///
/// As [`subscribe`].
pub async fn subscribe_until(
    args: SubArgs,
    out: impl Write,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<ExitReason> {
    let mut driver = Subscriber::new(args, out)?;
    let mut shutdown = pin!(shutdown);
    loop {
        if let Some(reason) = driver.drain()? {
            return Ok(reason);
        }
        let deadline = driver.machine.poll_timeout().map(|at| driver.instant(at));
        tokio::select! {
            () = &mut shutdown => return Ok(ExitReason::Interrupted),
            Some((generation, event)) = driver.events.recv() => driver.handle(generation, event),
            () = sleep_until(deadline) => {
                let now = driver.now();
                driver.machine.handle_timeout(now);
            }
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => core::future::pending().await,
    }
}

/// One line of `sub` output.
#[derive(Serialize)]
struct OutputLine<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    data: &'a str,
    #[serde(rename = "lastEventId")]
    last_event_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<&'a str>,
}

/// What a connection task reports to the driver.
#[derive(Debug)]
enum ConnectionEvent {
    /// The response head (after redirects).
    Head {
        status: u16,
        content_type: String,
        retry_after: Option<Duration>,
        /// The server's explanation in an error reply's body.
        message: Option<String>,
    },
    /// Body bytes.
    Chunk(Bytes),
    /// The body ended cleanly.
    End,
    /// The network failed (before or after the head).
    Failed(String),
}

/// Aborts a task when dropped: a connection lives exactly as long as its guard.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The `sub` driver: the machine, the current connection, the output.
struct Subscriber<W> {
    machine: ClientMachine,
    target: Target,
    headers: HeaderMap,
    start: Instant,
    out: W,
    printed: u64,
    max_events: Option<u64>,
    /// Tags the current connection; reports of older ones are ignored.
    generation: u64,
    connection: Option<AbortOnDrop>,
    sender: mpsc::Sender<(u64, ConnectionEvent)>,
    events: mpsc::Receiver<(u64, ConnectionEvent)>,
    /// The server's message in the last error reply.
    last_message: Option<String>,
}

impl<W: Write> Subscriber<W> {
    fn new(args: SubArgs, out: W) -> anyhow::Result<Self> {
        let target = Target::parse(&args.url)?;
        let headers = parse_headers(&args.headers)?;
        let heartbeat_window = match (args.idle_timeout, args.transport) {
            (Some(seconds), _) => Some(Duration::from_secs(seconds)),
            // EventSource never gives up on a quiet stream.
            (None, Transport::Sse) => Some(Duration::MAX),
            (None, _) => None,
        };
        let defaults = ClientConfig::default();
        let config = ClientConfig {
            forced: Some(args.transport),
            channels: target.channels(),
            last_event_id: args.since.filter(|since| !since.is_empty()),
            heartbeat_window: heartbeat_window.unwrap_or(defaults.heartbeat_window),
            ..defaults
        };
        let capabilities = Capabilities {
            // The CLI feeds raw bytes on `sse`: exactly EventSource semantics.
            event_source: true,
            fetch_streams: true,
            iframes: false,
            fetch: true,
        };
        let start = Instant::now();
        let machine = ClientMachine::new(config, capabilities, seed(), Timestamp::ZERO)
            .context("cannot start the client")?;
        let (sender, events) = mpsc::channel(16);
        Ok(Self {
            machine,
            target,
            headers,
            start,
            out,
            printed: 0,
            max_events: args.max_events,
            generation: 0,
            connection: None,
            sender,
            events,
            last_message: None,
        })
    }

    /// The driver's monotonic clock as a [`Timestamp`].
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    /// A [`Timestamp`] as an [`Instant`] to sleep until.
    fn instant(&self, at: Timestamp) -> Instant {
        let far = self.start + Duration::from_secs(100 * 365 * 24 * 3600);
        self.start
            .checked_add(Duration::from_millis(at.as_millis()))
            .map_or(far, |instant| instant.min(far))
    }

    /// Act on the machine's transmits and print its events; `Some` to stop.
    fn drain(&mut self) -> anyhow::Result<Option<ExitReason>> {
        while let Some(transmit) = self.machine.poll_transmit() {
            match transmit {
                Transmit::Connect {
                    transport,
                    last_event_id,
                    attempt,
                } => self.connect(transport, last_event_id.as_deref(), attempt),
                Transmit::Disconnect => self.disconnect(),
            }
        }
        while let Some(event) = self.machine.poll_event() {
            match event {
                ClientEvent::Message(message) | ClientEvent::Gap(message) => {
                    if let Err(error) = self.print(&message) {
                        if error.kind() == io::ErrorKind::BrokenPipe {
                            return Ok(Some(ExitReason::OutputClosed));
                        }
                        return Err(error).context("cannot write an event");
                    }
                    self.printed = self.printed.saturating_add(1);
                    if self.max_events.is_some_and(|max| self.printed >= max) {
                        return Ok(Some(ExitReason::MaxEvents(self.printed)));
                    }
                }
                ClientEvent::Open { transport } => {
                    tracing::debug!(%transport, url = %self.target, "connected");
                }
                ClientEvent::Error {
                    reconnecting_in,
                    reason: reason @ ErrorReason::Ended,
                } => {
                    tracing::debug!(
                        ?reason,
                        "stream ended; reconnecting in {reconnecting_in:?} (the reconnection time)"
                    );
                }
                ClientEvent::Error {
                    reconnecting_in,
                    reason,
                } => {
                    tracing::warn!(
                        ?reason,
                        "connection failed; retrying in {reconnecting_in:?}"
                    );
                }
                ClientEvent::TransportChanged { from, to } => {
                    tracing::info!(%from, %to, "switched transport");
                }
                ClientEvent::Closed { reason } => {
                    self.disconnect();
                    return Ok(Some(match reason {
                        CloseReason::Status(status) => ExitReason::Stopped {
                            status,
                            message: self.last_message.take(),
                        },
                        other => ExitReason::Closed(other),
                    }));
                }
            }
        }
        Ok(None)
    }

    fn print(&mut self, message: &ClientMessage) -> io::Result<()> {
        let line = OutputLine {
            kind: &message.event,
            data: &message.data,
            last_event_id: &message.id,
            channel: message.channel.as_deref(),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n")?;
        self.out.flush()
    }

    /// Open a connection for `transport`, replacing any current one.
    fn connect(&mut self, transport: Transport, last_event_id: Option<&str>, attempt: u32) {
        self.disconnect();
        let mut target = self.target.clone();
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(transport.accept()));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Some(id) = last_event_id {
            // `Last-Event-ID` is UTF-8 (docs/conformance.md §1); an id that cannot
            // be a header value still travels in `?since=` on polls.
            if let Ok(value) = HeaderValue::from_bytes(id.as_bytes()) {
                headers.insert("last-event-id", value);
            }
        }
        if !transport.is_streaming() {
            // JSON does not tell long-poll from poll: say which in the query.
            if !target.has_query_param("transport") {
                target = target.with_query_param("transport", transport.as_str());
            }
            if let Some(id) = last_event_id {
                target = target
                    .without_query_param("since")
                    .with_query_param("since", id);
            }
        }
        for name in self.headers.keys() {
            headers.remove(name);
        }
        for (name, value) in &self.headers {
            headers.append(name, value.clone());
        }
        tracing::debug!(%transport, attempt, url = %target, ?last_event_id, "connecting");
        self.generation = self.generation.wrapping_add(1);
        self.last_message = None;
        let task = tokio::spawn(run_connection(
            target,
            headers,
            self.generation,
            self.sender.clone(),
        ));
        self.connection = Some(AbortOnDrop(task));
    }

    /// Drop the current connection; its later reports are ignored.
    fn disconnect(&mut self) {
        if self.connection.take().is_some() {
            self.generation = self.generation.wrapping_add(1);
        }
    }

    /// Hand a connection report to the machine.
    fn handle(&mut self, generation: u64, event: ConnectionEvent) {
        if generation != self.generation || self.connection.is_none() {
            return;
        }
        let now = self.now();
        match event {
            ConnectionEvent::Head {
                status,
                content_type,
                retry_after,
                message,
            } => {
                self.last_message = message;
                self.machine.handle_response(
                    now,
                    ResponseHead {
                        status,
                        content_type: &content_type,
                        retry_after,
                    },
                );
            }
            ConnectionEvent::Chunk(bytes) => self.machine.handle_bytes(now, &bytes),
            ConnectionEvent::End => {
                self.connection = None;
                self.machine.handle_closed(now, EndReason::Ended);
            }
            ConnectionEvent::Failed(error) => {
                tracing::debug!(url = %self.target, "network error: {error}");
                self.connection = None;
                self.machine.handle_closed(now, EndReason::NetworkError);
            }
        }
    }
}

/// A jitter seed: the wall clock's nanoseconds mixed with the process id.
fn seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    // Only the low bits matter for a seed.
    let nanos = u64::try_from(nanos % (1_u128 << 64)).unwrap_or_default();
    nanos ^ u64::from(std::process::id()).rotate_left(32)
}

/// Parse `--header 'K: V'` values.
fn parse_headers(raw: &[String]) -> anyhow::Result<HeaderMap> {
    let mut headers = HeaderMap::new();
    for line in raw {
        let Some((name, value)) = line.split_once(':') else {
            bail!("--header {line:?} has no colon: write it as 'Name: value'");
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes()).with_context(|| {
            format!("--header {line:?}: {:?} is not a header name", name.trim())
        })?;
        let value = HeaderValue::from_str(value.trim())
            .with_context(|| format!("--header {line:?}: the value holds a forbidden character"))?;
        headers.append(name, value);
    }
    Ok(headers)
}

/// Run one connection: request, follow redirects, stream the body to the
/// driver. Dropped (aborted) when the driver disconnects.
async fn run_connection(
    target: Target,
    headers: HeaderMap,
    generation: u64,
    sender: mpsc::Sender<(u64, ConnectionEvent)>,
) {
    let report = |event| {
        let sender = sender.clone();
        async move { sender.send((generation, event)).await.is_ok() }
    };
    let (response, _connection) = match open(target, &headers).await {
        Ok(opened) => opened,
        Err(error) => {
            report(ConnectionEvent::Failed(format!("{error:#}"))).await;
            return;
        }
    };
    let status = response.status();
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let retry_after = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut body = response.into_body();
    let message = if status.is_client_error() || status.is_server_error() {
        error_body(&mut body).await
    } else {
        None
    };
    let head = ConnectionEvent::Head {
        status: status.as_u16(),
        content_type,
        retry_after,
        message,
    };
    if !report(head).await {
        return;
    }
    loop {
        let event = match body.frame().await {
            None => ConnectionEvent::End,
            Some(Err(error)) => ConnectionEvent::Failed(error.to_string()),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(bytes) if !bytes.is_empty() => ConnectionEvent::Chunk(bytes),
                // Trailers and empty chunks.
                _ => continue,
            },
        };
        let last = !matches!(event, ConnectionEvent::Chunk(_));
        if !report(event).await || last {
            return;
        }
    }
}

/// Send the GET, following redirects (reconnects start again from the
/// original URL, like EventSource).
async fn open(
    mut target: Target,
    headers: &HeaderMap,
) -> anyhow::Result<(Response<Incoming>, AbortOnDrop)> {
    for _ in 0..=MAX_REDIRECTS {
        let mut request = target.request(Method::GET, Empty::<Bytes>::new())?;
        for (name, value) in headers {
            request.headers_mut().append(name, value.clone());
        }
        let (response, connection) = send(&target, request).await?;
        let redirect = matches!(response.status().as_u16(), 301 | 302 | 303 | 307 | 308);
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|value| value.to_str().ok());
        match location {
            Some(location) if redirect => {
                target = target
                    .join(location)
                    .with_context(|| format!("cannot follow the redirect to {location:?}"))?;
                tracing::debug!(url = %target, "following a redirect");
            }
            _ => return Ok((response, connection)),
        }
    }
    bail!("more than {MAX_REDIRECTS} redirects")
}

/// Read what a server says in an error reply (bounded in size and time).
async fn error_body(body: &mut Incoming) -> Option<String> {
    let mut bytes = Vec::new();
    let read = async {
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
                if bytes.len() >= MAX_ERROR_BODY {
                    break;
                }
            }
        }
    };
    let _timed_out = tokio::time::timeout(ERROR_BODY_TIMEOUT, read).await;
    bytes.truncate(MAX_ERROR_BODY);
    let message = server_message(&bytes);
    (!message.is_empty()).then_some(message)
}

/// Open a TCP connection to `target` and send `request` over HTTP/1.1.
///
/// The guard keeps the connection alive; drop it (with the response) to
/// close the connection.
async fn send<B>(
    target: &Target,
    request: Request<B>,
) -> anyhow::Result<(Response<Incoming>, AbortOnDrop)>
where
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn core::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .with_context(|| format!("cannot connect to {}", target.authority))?;
    let _nodelay = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .with_context(|| format!("HTTP handshake with {} failed", target.authority))?;
    let guard = AbortOnDrop(tokio::spawn(async move {
        if let Err(error) = connection.await {
            tracing::debug!("connection closed: {error}");
        }
    }));
    let response = sender
        .send_request(request)
        .await
        .with_context(|| format!("no reply from {}", target.authority))?;
    Ok((response, guard))
}

/// A parsed `http://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Target {
    /// Host to connect to (IPv6 without brackets).
    host: String,
    port: u16,
    /// `host[:port]` for the `Host` header.
    authority: String,
    /// Origin-form request target: path and optional `?query`.
    path_and_query: String,
}

impl Target {
    fn parse(url: &str) -> anyhow::Result<Self> {
        let uri: Uri = url
            .parse()
            .with_context(|| format!("{url:?} is not a URL"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => bail!(
                "{url}: https is not supported (this client speaks plain http:// only; \
                 use http:// or a local TLS-terminating proxy)"
            ),
            Some(other) => bail!("{url}: unsupported scheme {other:?}, use http://"),
            None => bail!("{url:?} is not an absolute URL: write it as http://host:port/path"),
        }
        let Some(authority) = uri.authority() else {
            bail!("{url:?} has no host");
        };
        let host_port = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_userinfo, rest)| rest);
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|inner| inner.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            bail!("{url:?} has no host");
        }
        Ok(Self {
            host: host.to_owned(),
            port: authority.port_u16().unwrap_or(80),
            authority: host_port.to_owned(),
            path_and_query: uri
                .path_and_query()
                .map_or_else(|| String::from("/"), |pq| pq.as_str().to_owned()),
        })
    }

    fn path(&self) -> &str {
        url::split_target(&self.path_and_query).0
    }

    fn query(&self) -> &str {
        url::split_target(&self.path_and_query).1
    }

    /// Whether the query has a `key` parameter (its key decoded, as the
    /// server reads it).
    fn has_query_param(&self, key: &str) -> bool {
        url::query_params(self.query()).any(|param| param.is_named(key))
    }

    /// Append `key=value` (percent-encoded) to the query.
    #[must_use]
    fn with_query_param(&self, key: &str, value: &str) -> Self {
        let mut path_and_query = self.path_and_query.clone();
        url::append_query_param(&mut path_and_query, key, value);
        Self {
            path_and_query,
            ..self.clone()
        }
    }

    /// Remove every `key` parameter from the query.
    #[must_use]
    fn without_query_param(&self, key: &str) -> Self {
        let kept: Vec<&str> = url::query_params(self.query())
            .filter(|param| !param.is_named(key))
            .map(QueryParam::as_str)
            .collect();
        let path = self.path();
        Self {
            path_and_query: if kept.is_empty() {
                path.to_owned()
            } else {
                format!("{path}?{}", kept.join("&"))
            },
            ..self.clone()
        }
    }

    /// Resolve a redirect's `Location` against this URL.
    fn join(&self, location: &str) -> anyhow::Result<Self> {
        if location.contains("://") {
            return Self::parse(location);
        }
        if location.starts_with("//") {
            return Self::parse(&format!("http:{location}"));
        }
        let path_and_query = if location.starts_with('/') {
            location.to_owned()
        } else if location.starts_with('?') {
            format!("{}{location}", self.path())
        } else {
            let path = self.path();
            let directory = path.rsplit_once('/').map_or("", |(directory, _)| directory);
            format!("{directory}/{location}")
        };
        Ok(Self {
            path_and_query,
            ..self.clone()
        })
    }

    /// The channels of a pushwire `/sub/a,b` URL; empty for other URLs.
    fn channels(&self) -> Vec<String> {
        let Some(list) = self.path().strip_prefix("/sub/") else {
            return Vec::new();
        };
        let looks_like_ours = list.split(',').all(|name| {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        });
        if looks_like_ours {
            list.split(',').map(ToOwned::to_owned).collect()
        } else {
            Vec::new()
        }
    }

    /// Build a request for this URL with the `Host` header set.
    fn request<B>(&self, method: Method, body: B) -> anyhow::Result<Request<B>> {
        Request::builder()
            .method(method)
            .uri(self.path_and_query.as_str())
            .header(header::HOST, self.authority.as_str())
            .header(
                header::USER_AGENT,
                concat!("pushwire/", env!("CARGO_PKG_VERSION")),
            )
            .body(body)
            .with_context(|| format!("cannot build a request for {self}"))
    }
}

/// The URL for logs and messages, with an `access_token` value hidden.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "http://{}{}", self.authority, self.path())?;
        for (index, param) in url::query_params(self.query()).enumerate() {
            let separator = if index == 0 { '?' } else { '&' };
            if param.is_named("access_token") {
                write!(f, "{separator}{}=…", param.raw_key())?;
            } else {
                write!(f, "{separator}{}", param.as_str())?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_shown_in_logs_hides_its_access_token() {
        let target =
            Target::parse("http://h:1/sub/a?transport=poll&access_token=s3cret&since=x").unwrap();
        assert_eq!(
            target.to_string(),
            "http://h:1/sub/a?transport=poll&access_token=…&since=x"
        );
        assert_eq!(
            Target::parse("http://h/a").unwrap().to_string(),
            "http://h/a"
        );
    }

    #[test]
    fn urls_parse_and_refuse_https() {
        let target = Target::parse("http://127.0.0.1:8080/pub/chat").unwrap();
        assert_eq!(
            (target.host.as_str(), target.port, target.authority.as_str()),
            ("127.0.0.1", 8080, "127.0.0.1:8080")
        );
        assert_eq!(target.path_and_query, "/pub/chat");
        let v6 = Target::parse("http://[::1]/sub/a").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        let error = Target::parse("https://example.com/")
            .unwrap_err()
            .to_string();
        assert!(error.contains("http:// only"), "{error}");
        assert!(Target::parse("/sub/a").is_err());
    }

    #[test]
    fn query_parameters_are_appended_and_replaced() {
        let base = Target::parse("http://h/pub/chat").unwrap();
        // (start, operation result)
        let table = [
            (
                base.with_query_param("event", "a b&c").path_and_query,
                "/pub/chat?event=a%20b%26c",
            ),
            (
                Target::parse("http://h/x?y=1")
                    .unwrap()
                    .with_query_param("event", "e")
                    .path_and_query,
                "/x?y=1&event=e",
            ),
            (
                Target::parse("http://h/x?")
                    .unwrap()
                    .with_query_param("event", "e")
                    .path_and_query,
                "/x?event=e",
            ),
            (
                Target::parse("http://h/x?since=1&a=2&since=3")
                    .unwrap()
                    .without_query_param("since")
                    .with_query_param("since", "9.4")
                    .path_and_query,
                "/x?a=2&since=9.4",
            ),
        ];
        for (found, expected) in table {
            assert_eq!(found, expected);
        }
    }

    #[test]
    fn channels_come_only_from_pushwire_paths() {
        let channels = |url: &str| Target::parse(url).unwrap().channels();
        assert_eq!(channels("http://h/sub/a,b.c?x=1"), ["a", "b.c"]);
        assert_eq!(channels("http://h/sub/chat"), ["chat"]);
        assert!(channels("http://h/events").is_empty());
        assert!(channels("http://h/sub/a/b").is_empty());
        assert!(channels("http://h/sub/a,,b").is_empty());
    }

    #[test]
    fn redirect_locations_resolve() {
        let base = Target::parse("http://h:1/a/b?q").unwrap();
        assert_eq!(base.join("/c").unwrap().path_and_query, "/c");
        assert_eq!(base.join("c?d").unwrap().path_and_query, "/a/c?d");
        assert_eq!(base.join("?z").unwrap().path_and_query, "/a/b?z");
        assert_eq!(base.join("http://o:2/p").unwrap().authority, "o:2");
    }

    #[test]
    fn headers_need_a_colon() {
        let headers = parse_headers(&[String::from("X-A: 1"), String::from("x-a:2")]).unwrap();
        assert_eq!(headers.get_all("x-a").iter().count(), 2);
        assert!(parse_headers(&[String::from("nope")]).is_err());
    }

    #[test]
    fn iframe_is_refused_on_the_command_line() {
        assert_eq!(parse_transport("longpoll"), Ok(Transport::LongPoll));
        assert!(parse_transport("iframe").is_err());
        assert!(parse_transport("SSE").is_err());
    }
}
