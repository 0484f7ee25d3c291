//! `pushwire-bench run`: subscribers, a publisher, and the measurements.

use alloc::sync::Arc;
use core::net::{IpAddr, Ipv4Addr, SocketAddr};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use core::time::Duration;
use std::net::ToSocketAddrs;
use std::time::Instant;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response, Uri};
use hyper_util::rt::TokioIo;
use pushwire_core::multipart::{MultipartEvent, MultipartParser, MultipartParserConfig};
use pushwire_core::ndjson::{NdjsonParser, NdjsonParserConfig};
use pushwire_core::sse::{SseEvent, SseParser, SseParserConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::stats::{self, MARKER_LEN, percentile, read_marker, scan_markers, write_marker};
use crate::wire;

/// How subscribers read the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TransportKind {
    /// `text/event-stream`, parsed by core's `SseParser`.
    Sse,
    /// NDJSON, parsed by core's `NdjsonParser`.
    Stream,
    /// `multipart/x-mixed-replace` or `multipart/mixed`, parsed by core's
    /// `MultipartParser` (boundary from the response's Content-Type).
    Multipart,
    /// The forever frame (`<script>` chunks), scanned for payload markers.
    Frame,
    /// Long-poll, one request per reply (see `--longpoll`).
    Longpoll,
}

/// How a long-poll reply carries the messages and the next position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LongPollStyle {
    /// pushwire: a JSON reply `{"cursor","messages"}`; the next poll adds `since=<cursor>`.
    Pushwire,
    /// nchan: the body is the message; `Last-Modified` / `Etag` come back as
    /// `If-Modified-Since` / `If-None-Match`.
    Nchan,
    /// The body is the message and there is no position (Pushpin's `Grip-Hold: response`).
    Raw,
}

/// Which client sends the long polls.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LongPollClient {
    /// hyper's HTTP/1.1 client (`host` and the `--sub-header`s, lower case).
    Hyper,
    /// A plain keep-alive client on a bare socket, written apart from hyper:
    /// `GET <path> HTTP/1.1`, `Host`, `User-Agent` (and the `--sub-header`s),
    /// in one write; the next poll as soon as the reply's body is read.
    Plain,
}

/// The `User-Agent` the plain long-poll client sends.
const PLAIN_USER_AGENT: &str = "pushwire-bench-plain/1";

/// Options of `run`. URLs and the publish body are templates: `{channel}`
/// is replaced by the channel, `{payload}` (body only) by the payload.
#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// A label for the report (pushwire, nchan, pushpin, …).
    #[arg(long, default_value = "pushwire")]
    target: String,
    /// The subscribers' transport.
    #[arg(long, value_enum, default_value = "sse")]
    transport: TransportKind,
    /// Subscribe URL template.
    #[arg(long, default_value = "http://127.0.0.1:8080/sub/{channel}")]
    sub_url: String,
    /// Extra subscribe request header, `name: value` (repeatable).
    #[arg(long = "sub-header")]
    sub_headers: Vec<String>,
    /// Publish URL template.
    #[arg(long, default_value = "http://127.0.0.1:8080/pub/{channel}")]
    pub_url: String,
    /// Publish method.
    #[arg(long, default_value = "POST")]
    pub_method: String,
    /// Publish body template (`{payload}` is the payload: ASCII, no quotes).
    #[arg(long, default_value = "{payload}")]
    pub_body: String,
    /// Extra publish request header, `name: value` (repeatable).
    #[arg(long = "pub-header")]
    pub_headers: Vec<String>,
    /// How long-poll replies are read.
    #[arg(long, value_enum, default_value = "pushwire")]
    longpoll: LongPollStyle,
    /// Which client sends the long polls.
    #[arg(long, value_enum, default_value = "hyper")]
    longpoll_client: LongPollClient,
    /// Print the first subscriber's first two requests' bytes to stderr
    /// (long-poll only), to compare what the clients send.
    #[arg(long)]
    show_requests: bool,
    /// Channel name; default `bench-<pid>-<time>` (a fresh channel each run).
    #[arg(long)]
    channel: Option<String>,
    /// Concurrent subscribers.
    #[arg(long, default_value_t = 100)]
    subscribers: usize,
    /// Messages to publish (0: only connect, measure memory, and stop).
    #[arg(long, default_value_t = 100)]
    messages: usize,
    /// Payload bytes per message (at least the 26-byte marker).
    #[arg(long, default_value_t = 100)]
    size: usize,
    /// Messages a second; back to back when not given.
    #[arg(long)]
    rate: Option<f64>,
    /// Publishes in flight (each on its own connection).
    #[arg(long, default_value_t = 8)]
    in_flight: usize,
    /// How many of the subscribers read slowly (one read per `--slow-delay-ms`).
    #[arg(long, default_value_t = 0)]
    slow: usize,
    /// Pause of a slow subscriber between two reads.
    #[arg(long, default_value_t = 1000)]
    slow_delay_ms: u64,
    /// Server processes to measure (CPU from `/proc/<pid>/stat`, memory from
    /// `/proc/<pid>/status`), comma-separated; all are summed.
    #[arg(long, value_delimiter = ',')]
    server_pid: Vec<u32>,
    /// Spread subscribers over this many loopback source addresses
    /// (127.0.0.1, 127.0.0.2, …) so 10,000 connections do not run out of ports.
    #[arg(long, default_value_t = 4)]
    source_addrs: u8,
    /// Connections being opened at once.
    #[arg(long, default_value_t = 200)]
    connect_concurrency: usize,
    /// Pause after every subscriber is connected, before measuring memory and publishing.
    #[arg(long, default_value_t = 1000)]
    settle_ms: u64,
    /// After the last publish: stop once nothing new arrived for this long.
    #[arg(long, default_value_t = 1000)]
    quiet_ms: u64,
    /// Hard limit on the whole run.
    #[arg(long, default_value_t = 120)]
    timeout_secs: u64,
}

/// What every task shares.
struct Ctx {
    args: RunArgs,
    channel: String,
    origin: Instant,
    server: SocketAddr,
    pub_server: SocketAddr,
    sub_uri: Uri,
    pub_uri: Uri,
    connecting: Semaphore,
    connected: AtomicUsize,
    failed: AtomicUsize,
    published: AtomicUsize,
    publish_errors: AtomicUsize,
    delivered: AtomicU64,
    /// Deliveries to the subscribers that are not `--slow`: the drain
    /// waits for these only (a slow reader trickles stale bytes for minutes).
    fast_delivered: AtomicU64,
    last_delivery_us: AtomicU64,
    stop: watch::Sender<bool>,
}

impl Ctx {
    fn micros(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn stopped(&self) -> bool {
        *self.stop.borrow()
    }
}

/// What one subscriber saw.
struct Tally {
    slow: bool,
    seen: Vec<bool>,
    count: usize,
    duplicates: usize,
    latencies_us: Vec<u64>,
}

impl Tally {
    fn new(messages: usize, slow: bool) -> Self {
        Self {
            slow,
            seen: vec![false; messages],
            count: 0,
            duplicates: 0,
            latencies_us: Vec::new(),
        }
    }

    fn record(&mut self, ctx: &Ctx, seq: u64, sent_us: u64) {
        let Some(seen) = usize::try_from(seq)
            .ok()
            .and_then(|seq| self.seen.get_mut(seq))
        else {
            return;
        };
        if *seen {
            self.duplicates += 1;
            return;
        }
        *seen = true;
        self.count += 1;
        let now = ctx.micros();
        self.latencies_us.push(now.saturating_sub(sent_us));
        ctx.delivered.fetch_add(1, Ordering::Relaxed);
        if !self.slow {
            ctx.fast_delivered.fetch_add(1, Ordering::Relaxed);
        }
        ctx.last_delivery_us.fetch_max(now, Ordering::Relaxed);
    }

    fn complete(&self) -> bool {
        !self.seen.is_empty() && self.count == self.seen.len()
    }
}

/// Raise the open-file limit to what `subscribers` plus some margin need.
fn raise_fd_limit(subscribers: usize) -> anyhow::Result<()> {
    let want = u64::try_from(subscribers).unwrap_or(u64::MAX) + 1024;
    let (soft, hard) = rlimit::Resource::NOFILE.get()?;
    if soft < want {
        let new = want.min(hard);
        rlimit::Resource::NOFILE.set(new, hard)?;
        if new < want {
            eprintln!("warning: open-file limit is {new}, below the {want} this run needs");
        }
    }
    Ok(())
}

fn template(text: &str, channel: &str) -> String {
    text.replace("{channel}", channel)
}

fn server_addr(uri: &Uri) -> anyhow::Result<SocketAddr> {
    let host = uri.host().context("the URL has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    (host, port)
        .to_socket_addrs()?
        .next()
        .context("the URL's host has no address")
}

fn parse_headers(lines: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    lines
        .iter()
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .with_context(|| format!("header {line:?} is not `name: value`"))?;
            Ok((name.trim().to_owned(), value.trim().to_owned()))
        })
        .collect()
}

/// Open a hyper client connection from loopback source address number `index`.
async fn connect(
    ctx: &Ctx,
    server: SocketAddr,
    index: usize,
) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = open_socket(ctx, server, index).await?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

/// Open a socket from loopback source address number `index`.
async fn open_socket(ctx: &Ctx, server: SocketAddr, index: usize) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    if server.ip().is_loopback() && ctx.args.source_addrs > 1 {
        let last = 1 + u8::try_from(index % usize::from(ctx.args.source_addrs)).unwrap_or(0);
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)),
            0,
        ))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn request(
    method: &str,
    uri: &Uri,
    path_and_query: &str,
    headers: &[(String, String)],
    body: Bytes,
) -> anyhow::Result<Request<Full<Bytes>>> {
    let mut builder = Request::builder()
        .method(method)
        .uri(path_and_query)
        .header(
            hyper::header::HOST,
            uri.authority().map_or("localhost", |a| a.as_str()),
        );
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    Ok(builder.body(Full::new(body))?)
}

fn path_and_query(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| "/".to_owned(), ToString::to_string)
}

/// Turns a streaming body into payload markers, with core's parsers.
enum Decoder {
    Sse(SseParser),
    Ndjson(NdjsonParser),
    Multipart(MultipartParser),
    Scan(Vec<u8>),
    Broken,
}

impl Decoder {
    fn new(transport: TransportKind, content_type: &str) -> Self {
        match transport {
            TransportKind::Sse => Self::Sse(SseParser::new(SseParserConfig::default())),
            TransportKind::Stream => Self::Ndjson(NdjsonParser::new(NdjsonParserConfig::default())),
            TransportKind::Multipart => {
                match MultipartParser::from_content_type(
                    content_type,
                    MultipartParserConfig::default(),
                ) {
                    Ok(parser) => Self::Multipart(parser),
                    Err(err) => {
                        eprintln!(
                            "multipart response without a usable boundary ({content_type:?}): {err}"
                        );
                        Self::Broken
                    }
                }
            }
            TransportKind::Frame | TransportKind::Longpoll => Self::Scan(Vec::new()),
        }
    }

    fn push(&mut self, bytes: &[u8], mut found: impl FnMut(u64, u64)) {
        let mut marker = |data: &[u8]| {
            if let Some((seq, sent)) = read_marker(data) {
                found(seq, sent);
            }
        };
        let failed = match self {
            Self::Sse(parser) => {
                parser.push(bytes);
                let mut failed = None;
                while let Some(event) = parser.poll_event() {
                    match event {
                        Ok(SseEvent::Message(message)) => marker(message.data.as_bytes()),
                        Ok(_) => {}
                        Err(err) => failed = Some(err.to_string()),
                    }
                    if failed.is_some() {
                        break;
                    }
                }
                failed
            }
            Self::Ndjson(parser) => {
                parser.push(bytes);
                let mut failed = None;
                while let Some(event) = parser.poll_event() {
                    match event {
                        Ok(message) => marker(message.data.as_bytes()),
                        Err(err) => {
                            failed = Some(err.to_string());
                            break;
                        }
                    }
                }
                failed
            }
            Self::Multipart(parser) => {
                parser.push(bytes);
                let mut failed = None;
                while let Some(event) = parser.poll_event() {
                    match event {
                        Ok(MultipartEvent::Part(part)) => marker(&part.body),
                        Ok(MultipartEvent::End) => {}
                        Err(err) => {
                            failed = Some(err.to_string());
                            break;
                        }
                    }
                }
                failed
            }
            Self::Scan(buffer) => {
                buffer.extend_from_slice(bytes);
                let kept = scan_markers(buffer, found);
                buffer.drain(..kept);
                None
            }
            Self::Broken => None,
        };
        if let Some(err) = failed {
            eprintln!("subscriber stream does not parse, dropping it: {err}");
            *self = Self::Broken;
        }
    }
}

/// A streaming subscriber: one request, then read until it has every message
/// or the run stops. On a plain socket (see [`wire`]), one read per wake.
async fn stream_subscriber(
    ctx: Arc<Ctx>,
    index: usize,
    headers: Arc<Vec<(String, String)>>,
) -> Tally {
    let mut tally = Tally::new(ctx.args.messages, index < ctx.args.slow);
    // One read takes what one wake found: a whole webcam frame, or a
    // backlog of small messages (only the pages touched are resident).
    let read_bytes = if ctx.args.transport == TransportKind::Multipart {
        64 * 1024
    } else {
        16 * 1024
    };
    let mut buffer = vec![0u8; read_bytes];
    let permit = ctx.connecting.acquire().await;
    let opened = async {
        let mut stream = open_socket(&ctx, ctx.server, index).await?;
        let host = ctx.sub_uri.authority().map_or("localhost", |a| a.as_str());
        let request = wire::get_request(host, &path_and_query(&ctx.sub_uri), &headers);
        stream.write_all(&request).await?;
        let mut filled = 0;
        loop {
            if let Some((head, used)) =
                wire::parse_response_head(buffer.get(..filled).unwrap_or_default())?
            {
                anyhow::ensure!(
                    (200..300).contains(&head.status),
                    "subscribe answered {}",
                    head.status
                );
                return Ok::<_, anyhow::Error>((stream, head, used, filled));
            }
            let read = stream
                .read(buffer.get_mut(filled..).unwrap_or_default())
                .await?;
            anyhow::ensure!(read > 0, "the server closed before a response head");
            filled += read;
        }
    };
    let (mut stream, head, used, filled) = match opened.await {
        Ok(opened) => opened,
        Err(err) => {
            if ctx.failed.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("subscriber {index} failed to connect: {err:#}");
            }
            return tally;
        }
    };
    drop(permit);
    ctx.connected.fetch_add(1, Ordering::Relaxed);
    let mut decoder = Decoder::new(ctx.args.transport, &head.content_type);
    let mut unframer = wire::Unframer::new(head.framing);
    let mut stop = ctx.stop.subscribe();
    let slow = index < ctx.args.slow;
    let mut fresh = used..filled;
    loop {
        let bytes = buffer.get(fresh.clone()).unwrap_or_default();
        let unframed = unframer.push(bytes, |data| {
            decoder.push(data, |seq, sent| tally.record(&ctx, seq, sent));
        });
        if let Err(err) = unframed {
            eprintln!("subscriber {index}: the stream's framing broke, dropping it: {err:#}");
            break;
        }
        if unframer.done() || tally.complete() || *stop.borrow_and_update() {
            break;
        }
        if slow && !fresh.is_empty() {
            tokio::time::sleep(Duration::from_millis(ctx.args.slow_delay_ms)).await;
        }
        let read = tokio::select! {
            read = stream.read(&mut buffer) => read,
            _ = stop.changed() => break,
        };
        match read {
            Ok(read) if read > 0 => fresh = 0..read,
            _ => break,
        }
    }
    tally
}

/// A long-poll subscriber: poll, read the reply, poll again from where it ended.
async fn longpoll_subscriber(
    ctx: Arc<Ctx>,
    index: usize,
    headers: Arc<Vec<(String, String)>>,
) -> Tally {
    let mut tally = Tally::new(ctx.args.messages, index < ctx.args.slow);
    let permit = ctx.connecting.acquire().await;
    let mut sender = match connect(&ctx, ctx.server, index).await {
        Ok(sender) => sender,
        Err(err) => {
            if ctx.failed.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("subscriber {index} failed to connect: {err:#}");
            }
            return tally;
        }
    };
    drop(permit);
    ctx.connected.fetch_add(1, Ordering::Relaxed);
    let base = path_and_query(&ctx.sub_uri);
    let mut cursor: Option<String> = None;
    let mut modified: Option<(String, String)> = None;
    let mut stop = ctx.stop.subscribe();
    let mut shown = 0;
    while !tally.complete() && !*stop.borrow_and_update() {
        let mut path = base.clone();
        let mut extra = (*headers).clone();
        match (ctx.args.longpoll, &cursor, &modified) {
            (LongPollStyle::Pushwire, Some(cursor), _) => {
                path.push(if path.contains('?') { '&' } else { '?' });
                path.push_str("since=");
                path.push_str(cursor);
            }
            (LongPollStyle::Nchan, _, Some((last_modified, etag))) => {
                extra.push(("If-Modified-Since".to_owned(), last_modified.clone()));
                extra.push(("If-None-Match".to_owned(), etag.clone()));
            }
            _ => {}
        }
        let Ok(req) = request("GET", &ctx.sub_uri, &path, &extra, Bytes::new()) else {
            break;
        };
        if ctx.args.show_requests && index == 0 && shown < 2 {
            shown += 1;
            eprintln!(
                "hyper request (before hyper writes it): {} {path} {:?}",
                req.method(),
                req.headers()
            );
        }
        let polled = async {
            if sender.ready().await.is_err() {
                sender = connect(&ctx, ctx.server, index).await?;
            }
            let response = sender.send_request(req).await?;
            let header = |name: &str| {
                response
                    .headers()
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            };
            let position = header("last-modified").zip(header("etag"));
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            Ok::<_, anyhow::Error>((status, position, body))
        };
        let polled = tokio::select! {
            polled = polled => polled,
            _ = stop.changed() => break,
        };
        let Ok((status, position, body)) = polled else {
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if !status.is_success() {
            continue;
        }
        match ctx.args.longpoll {
            LongPollStyle::Pushwire => {
                if let Ok(reply) = pushwire_core::wire::decode_longpoll_reply(&body) {
                    for message in &reply.messages {
                        if let Some((seq, sent)) = read_marker(message.data.as_bytes()) {
                            tally.record(&ctx, seq, sent);
                        }
                    }
                    cursor = Some(reply.cursor);
                }
            }
            LongPollStyle::Nchan | LongPollStyle::Raw => {
                if position.is_some() {
                    modified = position;
                }
                scan_markers(&body, |seq, sent| tally.record(&ctx, seq, sent));
            }
        }
    }
    tally
}

/// The next long poll's path and position headers, in the style of `--longpoll`.
fn next_poll(
    style: LongPollStyle,
    base: &str,
    cursor: Option<&str>,
    modified: Option<&(String, String)>,
) -> (String, Vec<(String, String)>) {
    let mut path = base.to_owned();
    let mut extra = Vec::new();
    match (style, cursor, modified) {
        (LongPollStyle::Pushwire, Some(cursor), _) => {
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str("since=");
            path.push_str(cursor);
        }
        (LongPollStyle::Nchan, _, Some((last_modified, etag))) => {
            extra.push(("If-Modified-Since".to_owned(), last_modified.clone()));
            extra.push(("If-None-Match".to_owned(), etag.clone()));
        }
        _ => {}
    }
    (path, extra)
}

/// One long poll on a kept connection: the request, in one write, then the
/// reply's head and whole body. `stream` becomes `None` when the server
/// closes after the reply (or the exchange failed).
async fn plain_poll(
    stream: &mut Option<TcpStream>,
    request: &[u8],
    buffer: &mut Vec<u8>,
) -> anyhow::Result<(wire::ResponseHead, Vec<u8>)> {
    let socket = stream.as_mut().context("no connection")?;
    socket.write_all(request).await?;
    buffer.clear();
    let (head, used) = loop {
        if let Some(parsed) = wire::parse_response_head(buffer)? {
            break parsed;
        }
        let mut chunk = [0u8; 4096];
        let read = socket.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "the server closed before a response head");
        buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
    };
    let mut body = Vec::new();
    let mut unframer = wire::Unframer::new(head.framing);
    let mut fresh = buffer.get(used..).unwrap_or_default().to_vec();
    loop {
        unframer.push(&fresh, |data| body.extend_from_slice(data))?;
        if unframer.done() {
            break;
        }
        fresh.resize(4096, 0);
        let read = socket.read(&mut fresh).await?;
        if read == 0 {
            // A body delimited by the close ends here; any other is cut short.
            anyhow::ensure!(head.framing.is_none(), "the server closed mid-body");
            *stream = None;
            return Ok((head, body));
        }
        fresh.truncate(read);
    }
    if head.close || head.framing.is_none() {
        *stream = None;
    }
    Ok((head, body))
}

/// A long-poll subscriber of the plain keep-alive shape: its own socket and
/// its own small response reader (no hyper), exactly `Host` and `User-Agent`
/// (plus any `--sub-header` and the position headers of `--longpoll nchan`),
/// the next poll written as soon as the reply's body is read.
async fn plain_longpoll_subscriber(
    ctx: Arc<Ctx>,
    index: usize,
    headers: Arc<Vec<(String, String)>>,
) -> Tally {
    let mut tally = Tally::new(ctx.args.messages, index < ctx.args.slow);
    let permit = ctx.connecting.acquire().await;
    let mut stream = match open_socket(&ctx, ctx.server, index).await {
        Ok(stream) => Some(stream),
        Err(err) => {
            if ctx.failed.fetch_add(1, Ordering::Relaxed) < 3 {
                eprintln!("subscriber {index} failed to connect: {err:#}");
            }
            return tally;
        }
    };
    drop(permit);
    ctx.connected.fetch_add(1, Ordering::Relaxed);
    let host = ctx
        .sub_uri
        .authority()
        .map_or("localhost", |a| a.as_str())
        .to_owned();
    let base = path_and_query(&ctx.sub_uri);
    let mut cursor: Option<String> = None;
    let mut modified: Option<(String, String)> = None;
    let mut buffer = Vec::with_capacity(4096);
    let mut stop = ctx.stop.subscribe();
    let mut shown = 0;
    while !tally.complete() && !*stop.borrow_and_update() {
        let (path, position) = next_poll(
            ctx.args.longpoll,
            &base,
            cursor.as_deref(),
            modified.as_ref(),
        );
        let mut request =
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {PLAIN_USER_AGENT}\r\n");
        for (name, value) in headers.iter().chain(&position) {
            request.push_str(name);
            request.push_str(": ");
            request.push_str(value);
            request.push_str("\r\n");
        }
        request.push_str("\r\n");
        if ctx.args.show_requests && index == 0 && shown < 2 {
            shown += 1;
            eprintln!("plain request: {request:?}");
        }
        if stream.is_none() {
            match open_socket(&ctx, ctx.server, index).await {
                Ok(socket) => stream = Some(socket),
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let polled = tokio::select! {
            polled = plain_poll(&mut stream, request.as_bytes(), &mut buffer) => polled,
            _ = stop.changed() => break,
        };
        let Ok((head, body)) = polled else {
            stream = None;
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        if !(200..300).contains(&head.status) {
            continue;
        }
        match ctx.args.longpoll {
            LongPollStyle::Pushwire => {
                if let Ok(reply) = pushwire_core::wire::decode_longpoll_reply(&body) {
                    for message in &reply.messages {
                        if let Some((seq, sent)) = read_marker(message.data.as_bytes()) {
                            tally.record(&ctx, seq, sent);
                        }
                    }
                    cursor = Some(reply.cursor);
                }
            }
            LongPollStyle::Nchan | LongPollStyle::Raw => {
                if head.position.is_some() {
                    modified = head.position;
                }
                scan_markers(&body, |seq, sent| tally.record(&ctx, seq, sent));
            }
        }
    }
    tally
}

/// The publisher: `--in-flight` workers share the message numbers.
async fn publish_all(ctx: Arc<Ctx>, headers: Arc<Vec<(String, String)>>) {
    let next = Arc::new(AtomicUsize::new(0));
    let started = tokio::time::Instant::now();
    let mut workers = Vec::new();
    for worker in 0..ctx.args.in_flight.max(1) {
        let ctx = Arc::clone(&ctx);
        let next = Arc::clone(&next);
        let headers = Arc::clone(&headers);
        workers.push(tokio::spawn(async move {
            let mut sender: Option<SendRequest<Full<Bytes>>> = None;
            let path = path_and_query(&ctx.pub_uri);
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= ctx.args.messages || ctx.stopped() {
                    break;
                }
                if let Some(rate) = ctx.args.rate.filter(|rate| *rate > 0.0) {
                    let at = started + Duration::from_secs_f64(seq as f64 / rate);
                    tokio::time::sleep_until(at).await;
                }
                let mut payload = Vec::with_capacity(ctx.args.size.max(MARKER_LEN));
                write_marker(&mut payload, seq as u64, ctx.micros());
                payload.resize(ctx.args.size.max(MARKER_LEN), b'x');
                let body = if ctx.args.pub_body == "{payload}" {
                    Bytes::from(payload)
                } else {
                    let text = String::from_utf8_lossy(&payload);
                    Bytes::from(
                        template(&ctx.args.pub_body, &ctx.channel).replace("{payload}", &text),
                    )
                };
                // A server may close after each reply (Pushpin's publish API
                // says `Connection: close`): reconnect and try again, twice at most.
                let mut ok = Err(anyhow::anyhow!("not sent"));
                for _ in 0..3 {
                    ok = async {
                        if let Some(conn) = &mut sender
                            && conn.ready().await.is_err()
                        {
                            sender = None;
                        }
                        let conn = match &mut sender {
                            Some(conn) => conn,
                            None => sender.insert(connect(&ctx, ctx.pub_server, worker).await?),
                        };
                        let req = request(
                            &ctx.args.pub_method,
                            &ctx.pub_uri,
                            &path,
                            &headers,
                            body.clone(),
                        )?;
                        let response: Response<Incoming> = conn.send_request(req).await?;
                        let status = response.status();
                        let reply = response.into_body().collect().await?.to_bytes();
                        anyhow::ensure!(
                            status.is_success(),
                            "publish answered {status}: {}",
                            String::from_utf8_lossy(&reply)
                        );
                        Ok(())
                    }
                    .await;
                    if ok.is_ok() {
                        break;
                    }
                    sender = None;
                }
                match ok {
                    Ok(()) => {
                        ctx.published.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(err) => {
                        if ctx.publish_errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("publish {seq} failed: {err:#}");
                        }
                        sender = None;
                    }
                }
            }
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
}

/// Run one measurement and return its report.
pub(crate) async fn run(args: RunArgs) -> anyhow::Result<serde_json::Value> {
    raise_fd_limit(args.subscribers)?;
    let origin = Instant::now();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout_secs);
    let channel = args.channel.clone().unwrap_or_else(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("bench-{}-{nanos}", std::process::id())
    });
    let sub_uri: Uri = template(&args.sub_url, &channel).parse()?;
    let pub_uri: Uri = template(&args.pub_url, &channel).parse()?;
    let server = server_addr(&sub_uri)?;
    let sub_headers = Arc::new(parse_headers(&args.sub_headers)?);
    let pub_headers = Arc::new(parse_headers(&args.pub_headers)?);
    let pids = args.server_pid.clone();
    let (stop, _) = watch::channel(false);
    let ctx = Arc::new(Ctx {
        connecting: Semaphore::new(args.connect_concurrency.max(1)),
        args,
        channel,
        origin,
        server,
        pub_server: server_addr(&pub_uri)?,
        sub_uri,
        pub_uri,
        connected: AtomicUsize::new(0),
        failed: AtomicUsize::new(0),
        published: AtomicUsize::new(0),
        publish_errors: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
        fast_delivered: AtomicU64::new(0),
        last_delivery_us: AtomicU64::new(0),
        stop,
    });
    let n = ctx.args.subscribers;
    let m = ctx.args.messages;

    let progress = {
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                eprintln!(
                    "[{}] {:>5.1}s connected {}/{} (failed {}), published {}/{}, delivered {}",
                    ctx.args.target,
                    ctx.origin.elapsed().as_secs_f64(),
                    ctx.connected.load(Ordering::Relaxed),
                    n,
                    ctx.failed.load(Ordering::Relaxed),
                    ctx.published.load(Ordering::Relaxed),
                    m,
                    ctx.delivered.load(Ordering::Relaxed),
                );
            }
        })
    };

    let rss_before = stats::rss_kib(&pids);
    let mut subscribers = Vec::with_capacity(n);
    for index in 0..n {
        let ctx = Arc::clone(&ctx);
        let headers = Arc::clone(&sub_headers);
        subscribers.push(tokio::spawn(async move {
            if ctx.args.transport == TransportKind::Longpoll {
                match ctx.args.longpoll_client {
                    LongPollClient::Hyper => longpoll_subscriber(ctx, index, headers).await,
                    LongPollClient::Plain => plain_longpoll_subscriber(ctx, index, headers).await,
                }
            } else {
                stream_subscriber(ctx, index, headers).await
            }
        }));
    }
    let mut timed_out = false;
    while ctx.connected.load(Ordering::Relaxed) + ctx.failed.load(Ordering::Relaxed) < n {
        if tokio::time::Instant::now() >= deadline {
            timed_out = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(ctx.args.settle_ms)).await;
    let rss_connected = stats::rss_kib(&pids);
    let connected = ctx.connected.load(Ordering::Relaxed);

    let peak = Arc::new(AtomicU64::new(rss_connected));
    let sampler = {
        let (peak, pids) = (Arc::clone(&peak), pids.clone());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(stats::rss_kib(&pids), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let cpu_start = stats::cpu_seconds(&pids);
    let publish_start_us = ctx.micros();
    if m > 0 && !timed_out {
        let publisher = tokio::spawn(publish_all(Arc::clone(&ctx), pub_headers));
        tokio::select! {
            _ = publisher => {}
            () = tokio::time::sleep_until(deadline) => timed_out = true,
        }
        // Drain: until every subscriber but the slow ones has everything,
        // or nothing new reached them for `quiet_ms`.
        let expected = (connected.saturating_sub(ctx.args.slow) * m) as u64;
        let mut last = (
            ctx.fast_delivered.load(Ordering::Relaxed),
            tokio::time::Instant::now(),
        );
        while !timed_out {
            let delivered = ctx.fast_delivered.load(Ordering::Relaxed);
            if delivered >= expected {
                break;
            }
            if delivered != last.0 {
                last = (delivered, tokio::time::Instant::now());
            } else if last.1.elapsed() >= Duration::from_millis(ctx.args.quiet_ms) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                timed_out = true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let cpu_total = stats::cpu_seconds(&pids);
    let cpu = cpu_total - cpu_start;
    let _ = ctx.stop.send(true);
    sampler.abort();
    progress.abort();

    let mut latencies = Vec::new();
    let (mut delivered, mut duplicates, mut complete) = (0usize, 0usize, 0usize);
    let mut fast_latencies = Vec::new();
    for (index, subscriber) in subscribers.into_iter().enumerate() {
        let Ok(tally) = subscriber.await else {
            continue;
        };
        delivered += tally.count;
        duplicates += tally.duplicates;
        complete += usize::from(tally.complete());
        if index >= ctx.args.slow {
            fast_latencies.extend_from_slice(&tally.latencies_us);
        }
        latencies.extend(tally.latencies_us);
    }
    latencies.sort_unstable();
    fast_latencies.sort_unstable();
    let last_us = ctx.last_delivery_us.load(Ordering::Relaxed);
    let seconds = last_us.saturating_sub(publish_start_us) as f64 / 1e6;
    let expected = connected * m;
    let ms = |us: Option<u64>| us.map(|us| us as f64 / 1000.0);
    let per_conn = |kib: u64| {
        (connected > 0).then(|| kib.saturating_sub(rss_before) as f64 * 1024.0 / connected as f64)
    };
    Ok(serde_json::json!({
        "target": ctx.args.target,
        "transport": format!("{:?}", ctx.args.transport).to_lowercase(),
        "channel": ctx.channel,
        "subscribers": n,
        "connected": connected,
        "connect_failures": ctx.failed.load(Ordering::Relaxed),
        "slow_subscribers": ctx.args.slow,
        "messages": m,
        "size": ctx.args.size,
        "rate": ctx.args.rate,
        "published": ctx.published.load(Ordering::Relaxed),
        "publish_errors": ctx.publish_errors.load(Ordering::Relaxed),
        "expected": expected,
        "delivered": delivered,
        "lost": expected.saturating_sub(delivered),
        "duplicates": duplicates,
        "complete_subscribers": complete,
        "seconds": seconds,
        "deliveries_per_s": if seconds > 0.0 { delivered as f64 / seconds } else { 0.0 },
        "latency_ms": {
            "p50": ms(percentile(&latencies, 50.0)),
            "p99": ms(percentile(&latencies, 99.0)),
            "max": ms(latencies.last().copied()),
        },
        "fast_latency_ms": {
            "p50": ms(percentile(&fast_latencies, 50.0)),
            "p99": ms(percentile(&fast_latencies, 99.0)),
            "max": ms(fast_latencies.last().copied()),
        },
        "server_cpu_s": cpu,
        "cpu_s_per_1000": if delivered > 0 { Some(cpu * 1000.0 / delivered as f64) } else { None },
        // Everything the server used since it started (its start-up, the
        // connects, the deliveries): what a client that reads the process's
        // CPU once, at the end, divides by its deliveries.
        "server_cpu_total_s": cpu_total,
        "cpu_total_s_per_1000": if delivered > 0 { Some(cpu_total * 1000.0 / delivered as f64) } else { None },
        "rss_before_kib": rss_before,
        "rss_connected_kib": rss_connected,
        "rss_peak_kib": peak.load(Ordering::Relaxed),
        "rss_per_conn_bytes": per_conn(rss_connected),
        "timed_out": timed_out,
    }))
}
