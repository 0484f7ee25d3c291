//! The HTTP front: tokio + hyper, HTTP/1.1 and HTTP/2 (h2c) on one port.
//!
//! Every request is decided by the edge module (route, open, accept the
//! publish) and every byte of a push is framed by it; this module moves those
//! bytes and applies the server's own limits.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /sub/{channels}` | subscribe (`?transport=` or `Accept`; resume with `Last-Event-ID` or `?since=`) |
//! | `POST /pub/{channel}` | publish the body (`?event=` names the event); JSON reply |
//! | `GET /pub/{channel}` | channel info as JSON |
//! | `PUT`/`POST /ingest/{channel}` | a multipart/x-mixed-replace upload, one message (event `frame`) per part |
//! | `GET /stream/{channel}.mjpg` | the channel as multipart for an `<img>` (`?fps=` caps the rate) |
//! | `GET /snapshot/{channel}.jpg` | the channel's newest frame |
//! | `GET /healthz` | liveness |

use alloc::sync::Arc;
use core::convert::Infallible;
use core::future::Future;
use core::pin::pin;
use core::sync::atomic::AtomicUsize;
use core::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};
use pushwire_core::cursor::Cursor;
use pushwire_core::hub::{Delivery, HubError, Published, StartFrom};
use pushwire_core::longpoll::LongPollError;
use tokio::net::TcpListener;

use crate::body::{ConnectionSlot, Shape, StreamBody};
use crate::edge::{
    Edge, EdgeError, Publish, Refusal, Request, ResponseHead, Subscription, Transport,
};
use crate::fanout::{Framer, Routed};
use crate::hub::SharedHub;
use crate::metrics::Metrics;

/// The response body every route uses.
pub type ReplyBody = UnsyncBoxBody<Bytes, Infallible>;

/// The server's own limits and timings (the edge module has its own policy).
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Interval between heartbeats on idle streams. Default 15 s.
    pub heartbeat: Duration,
    /// Most streams and held polls open at once; more get 503 + `Retry-After`.
    /// Default 10 000.
    pub max_connections: usize,
    /// Largest publish body, in bytes; larger ones get 413. Default 1 MiB.
    pub max_message_bytes: usize,
    /// How long shutdown waits for connections to finish. Default 5 s.
    pub shutdown_grace: Duration,
    /// How long a camera upload (`/ingest`) may send nothing before it is
    /// ended with 408. Default 30 s.
    pub upload_idle: Duration,
    /// How long a request head may take once its first bytes arrived; a
    /// connection that sends part of a head and stalls is closed. Default
    /// 30 s.
    pub head_timeout: Duration,
    /// Run the built-in stock ticker on channel `ticker`
    /// ([`crate::demos::ticker`]). Default `false` here, as the camera.
    pub demo_ticker: bool,
    /// Publish the server's counters once a second on this channel
    /// ([`crate::demos::stats`]) for the monitoring console. Default `None`
    /// here; `pushwire serve` uses `pushwire-stats`.
    pub stats_channel: Option<String>,
    /// Run the built-in demo camera on channel `demo-cam`
    /// ([`crate::demo_camera`]). Default `false` here; `pushwire serve`
    /// turns it on unless told `--demo-camera false`.
    pub demo_camera: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            heartbeat: Duration::from_secs(15),
            max_connections: 10_000,
            max_message_bytes: 1024 * 1024,
            shutdown_grace: Duration::from_secs(5),
            upload_idle: Duration::from_secs(30),
            head_timeout: Duration::from_secs(30),
            demo_ticker: false,
            stats_channel: None,
            demo_camera: false,
        }
    }
}

/// What every connection shares.
pub struct App {
    /// Limits and timings.
    pub config: ServerConfig,
    /// Channels, logs and held polls.
    pub hub: Arc<SharedHub>,
    /// The edge module with the shared framing cache.
    pub framer: Framer,
    /// Counters.
    pub metrics: Metrics,
    open: Arc<AtomicUsize>,
}

impl App {
    /// Put the pieces together.
    pub fn new(config: ServerConfig, hub: Arc<SharedHub>, framer: Framer) -> Self {
        Self {
            config,
            hub,
            framer,
            metrics: Metrics::default(),
            open: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn edge(&self) -> &Edge {
        self.framer.edge()
    }

    /// Publish a message: framed for its channel's subscribers, then
    /// delivered (every publish path: `/pub`, camera uploads, the demos).
    ///
    /// # Errors
    /// The hub's refusal (bad name, message too large, too many channels).
    pub fn publish(
        &self,
        channel: &str,
        event: &str,
        data: Vec<u8>,
    ) -> Result<Published, HubError> {
        let published = self.framer.publish(&self.hub, channel, event, data)?;
        self.metrics.published();
        Ok(published)
    }

    /// One of [`ServerConfig::max_connections`] slots (streams, held polls
    /// and camera uploads), or `None` when they are all taken.
    pub(crate) fn connection_slot(&self) -> Option<ConnectionSlot> {
        ConnectionSlot::take(&self.open, self.config.max_connections)
    }

    /// The 503 for a request that found no connection slot.
    pub(crate) fn no_slot(&self) -> Response<ReplyBody> {
        busy(&format!(
            "The server has its maximum of {} open connections (streams, held polls, uploads); try again shortly.",
            self.config.max_connections
        ))
    }
}

/// Accept connections on `listener` until `shutdown` resolves, then end every
/// stream in order (clients resume from their cursor) and wait up to
/// [`ServerConfig::shutdown_grace`] for connections to finish.
///
/// # Errors
/// Never at present; accept errors (e.g. too many open files) are retried.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let front = Arc::new(crate::front::Front::new(Arc::clone(&app)));
    let timers = tokio::spawn(Arc::clone(&app.hub).run_timers());
    let mut publishers = Vec::new();
    if app.config.demo_camera {
        publishers.push(tokio::spawn(crate::demo_camera::run(Arc::clone(&app))));
    }
    if app.config.demo_ticker {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |since| since.as_secs());
        publishers.push(tokio::spawn(crate::demos::ticker(Arc::clone(&app), seed)));
    }
    if let Some(channel) = app.config.stats_channel.clone() {
        publishers.push(tokio::spawn(crate::demos::stats(Arc::clone(&app), channel)));
    }
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => stream,
                Err(err) => {
                    tracing::warn!("accept failed, retrying: {err}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(Arc::clone(&front).connection(stream));
    }
    tracing::info!("shutting down: ending streams so clients resume");
    drop(listener);
    for publisher in publishers {
        publisher.abort();
    }
    app.hub.shut_down();
    front.shut_down();
    if tokio::time::timeout(app.config.shutdown_grace, front.all_closed())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period");
    }
    timers.abort();
    Ok(())
}

/// Ask the edge about the request's origin first (CORS), then route it and
/// add the edge's CORS headers to whatever the route answered.
pub(crate) async fn handle(app: Arc<App>, req: hyper::Request<Incoming>) -> Response<ReplyBody> {
    let cross_origin =
        req.headers().contains_key(hyper::header::ORIGIN) || req.method() == Method::OPTIONS;
    if !cross_origin {
        return route(app, req).await;
    }
    let cors = match cors_headers(&app, &edge_request(&req)) {
        Ok(headers) => headers,
        Err(refusal) => return *refusal,
    };
    let mut response = if req.method() == Method::OPTIONS {
        with_head(204, &[], full(Bytes::new()))
    } else {
        route(app, req).await
    };
    add_headers(&mut response, &cors);
    response
}

/// The edge's CORS headers for a request that carries an `Origin`, or its
/// refusal as the reply.
pub(crate) fn cors_headers(
    app: &App,
    req: &Request,
) -> Result<Vec<(String, String)>, Box<Response<ReplyBody>>> {
    match app.edge().cors(req) {
        Ok(Ok(headers)) => Ok(headers),
        Ok(Err(refusal)) => Err(Box::new(refused(&refusal))),
        Err(err) => Err(Box::new(edge_failed(&err))),
    }
}

async fn route(app: Arc<App>, req: hyper::Request<Incoming>) -> Response<ReplyBody> {
    let path = req.uri().path();
    if path == "/healthz" {
        return if req.method() == Method::GET || req.method() == Method::HEAD {
            text(StatusCode::OK, "ok")
        } else {
            text(StatusCode::METHOD_NOT_ALLOWED, "Use GET for /healthz.")
        };
    }
    if path == "/metrics" {
        let body = app
            .metrics
            .render(app.hub.subscriber_count(), app.edge().stats());
        return with_head(
            200,
            &[
                (
                    "content-type".to_owned(),
                    "text/plain; version=0.0.4; charset=utf-8".to_owned(),
                ),
                ("cache-control".to_owned(), "no-store".to_owned()),
            ],
            full(body),
        );
    }
    if path.starts_with("/sub/") {
        return subscribe(app, &edge_request(&req)).await.into_response();
    }
    if let Some(file) = path.strip_prefix("/sdk/") {
        return crate::sdk::serve(req.method(), file);
    }
    if path.starts_with("/ingest/") {
        return crate::webcam::ingest(&app, req).await;
    }
    if let Some(rest) = path.strip_prefix("/stream/") {
        let rest = rest.to_owned();
        return crate::webcam::view(app, &edge_request(&req), &rest)
            .await
            .into_response();
    }
    if let Some(rest) = path.strip_prefix("/snapshot/") {
        let rest = rest.to_owned();
        return crate::webcam::snapshot(&app, &req, &rest);
    }
    if let Some(channel) = path.strip_prefix("/pub/") {
        if req.method() == Method::GET {
            return channel_info(&app, channel);
        }
        return publish(&app, req).await;
    }
    if let Some(page) = crate::www::serve(req.method(), path) {
        return page;
    }
    text(
        StatusCode::NOT_FOUND,
        &format!(
            "No such route {path}: subscribe at /sub/{{channels}}, publish at /pub/{{channel}}, upload a camera at /ingest/{{channel}}, watch it at /stream/{{channel}}.mjpg."
        ),
    )
}

/// The request as the edge module sees it.
pub(crate) fn edge_request<B>(req: &hyper::Request<B>) -> Request {
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // HTTP/2 carries the host as `:authority`, which hyper keeps in the URI.
    if !req.headers().contains_key(hyper::header::HOST)
        && let Some(authority) = req.uri().authority()
    {
        headers.push(("host".to_owned(), authority.as_str().to_owned()));
    }
    Request {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        headers,
        unix_time: unix_now(),
    }
}

/// Seconds since 1970 by the system clock (0 if it is set before that).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// What a subscription answered: a whole reply (a refusal, a long-poll or
/// poll reply), or a stream to write for as long as it lasts.
pub(crate) enum Reply {
    /// A whole response.
    Done(Response<ReplyBody>),
    /// A long-poll or poll reply: the edge's (shared) head, more headers
    /// (CORS), and the framed body.
    Whole {
        /// The edge's head for the subscription.
        head: Arc<ResponseHead>,
        /// Headers added here.
        extra: Vec<(String, String)>,
        /// The framed reply.
        body: Bytes,
    },
    /// A streaming subscription: its head, and the body that reads the hub.
    Stream {
        /// The edge's status.
        status: u16,
        /// The edge's headers (plus CORS ones).
        headers: Vec<(String, String)>,
        /// The hub reader.
        body: StreamBody,
    },
}

impl Reply {
    /// Add `headers` (CORS) to the reply.
    pub(crate) fn add_headers(&mut self, extra: &[(String, String)]) {
        match self {
            Self::Done(response) => add_headers(response, extra),
            Self::Whole { extra: mine, .. } => mine.extend_from_slice(extra),
            Self::Stream { headers, .. } => headers.extend_from_slice(extra),
        }
    }

    /// The reply as a hyper response.
    pub(crate) fn into_response(self) -> Response<ReplyBody> {
        match self {
            Self::Done(response) => response,
            Self::Whole { head, extra, body } => {
                let mut response = with_head(head.status, &head.headers, full(body));
                add_headers(&mut response, &extra);
                response
            }
            Self::Stream {
                status,
                headers,
                body,
            } => with_head(status, &headers, UnsyncBoxBody::new(body)),
        }
    }
}

impl From<Response<ReplyBody>> for Reply {
    fn from(response: Response<ReplyBody>) -> Self {
        Self::Done(response)
    }
}

/// Subscribe as the edge decides for `req`.
pub(crate) async fn subscribe(app: Arc<App>, req: &Request) -> Reply {
    let routed = app.framer.route(req);
    subscribe_routed(app, routed).await
}

/// Subscribe as the edge's `route` answered (`routed`) for a request.
pub(crate) async fn subscribe_routed(app: Arc<App>, routed: Result<Routed, EdgeError>) -> Reply {
    let routed = match routed {
        Ok(routed) => routed,
        Err(err) => return edge_failed(&err).into(),
    };
    let (route, sub) = match &*routed {
        Ok(route) => (route, &route.sub),
        Err(refusal) => return refused(refusal).into(),
    };
    let from = match &sub.cursor {
        Some(given) => match Cursor::parse(given) {
            Ok(cursor) => StartFrom::Cursor(cursor),
            Err(err) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("The resume cursor {given:?} is not valid: {err}."),
                )
                .into();
            }
        },
        // A picture shows its current frame at once, however long ago it came.
        None if sub.transport == Transport::Multipart => StartFrom::Last,
        None => StartFrom::Newest,
    };
    let Some(slot) = app.connection_slot() else {
        return app.no_slot().into();
    };
    if matches!(sub.transport, Transport::Longpoll | Transport::Poll) {
        let head = match app.framer.reply_head(route) {
            Ok(head) => head,
            Err(err) => return edge_failed(&err).into(),
        };
        app.metrics.connection_opened(sub.transport);
        let reply = match sub.transport {
            Transport::Longpoll => long_poll(&app, sub, from, head).await,
            _ => poll(&app, sub, from, head),
        };
        app.metrics.connection_closed(sub.transport);
        return reply;
    }
    let id = match app
        .framer
        .subscribe(&app.hub, &sub.channels, from, sub.transport)
    {
        Ok(id) => id,
        Err(err) => return hub_refused(&err).into(),
    };
    // The stream opens at the subscriber's actual position, so the edge can
    // announce it (an SSE `id:`): a client that reconnects before its first
    // message resumes there instead of losing what was published meanwhile.
    let mut sub = sub.clone();
    sub.cursor = app.hub.cursor(id).map(|cursor| cursor.to_string());
    let head = match app.edge().open(&sub) {
        Ok(head) => head,
        Err(err) => {
            app.hub.unsubscribe(id);
            return edge_failed(&err).into();
        }
    };
    tracing::debug!(transport = sub.transport.as_str(), channels = ?sub.channels, "stream opened");
    let ResponseHead {
        status,
        headers,
        preamble,
        byte_budget,
        repeat_last_ms,
    } = head;
    let shape = Shape {
        preamble,
        byte_budget,
        repeat_last: repeat_last_ms.map(Duration::from_millis),
        min_interval: sub.min_interval_ms.map(Duration::from_millis),
    };
    let body = StreamBody::new(
        Arc::clone(&app),
        id,
        sub.transport,
        sub.channels.len() > 1,
        shape,
        slot,
    );
    Reply::Stream {
        status,
        headers,
        body,
    }
}

async fn long_poll(
    app: &App,
    sub: &Subscription,
    from: StartFrom,
    head: Arc<ResponseHead>,
) -> Reply {
    let held = match app.hub.long_poll(&sub.channels, from) {
        Ok(held) => held,
        Err(LongPollError::Hub(err)) => return hub_refused(&err).into(),
        Err(err) => return busy(&format!("{err}.")).into(),
    };
    let Some(answered) = held.reply().await else {
        return busy("The server is shutting down; poll again shortly.").into();
    };
    let body = answered.framed(|reply| frame(app, sub, &reply.cursor.to_string(), &reply.items));
    whole(app, &answered.reply.items, body, head)
}

fn poll(app: &App, sub: &Subscription, from: StartFrom, head: Arc<ResponseHead>) -> Reply {
    let (batch, cursor) = match app.hub.poll_once(&sub.channels, from, 256) {
        Ok(read) => read,
        Err(err) => return hub_refused(&err).into(),
    };
    let body = frame(app, sub, &cursor, &batch.items);
    whole(app, &batch.items, body, head)
}

/// The body of a poll's reply carrying `items` and `cursor`, or the reply
/// that says why it cannot be framed.
fn frame(
    app: &App,
    sub: &Subscription,
    cursor: &str,
    items: &[Delivery],
) -> Result<Bytes, Box<Reply>> {
    match app.framer.frame_reply(sub.transport, cursor, items) {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(reason)) => Err(Box::new(
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("The reply cannot be framed: {reason}."),
            )
            .into(),
        )),
        Err(err) => Err(Box::new(edge_failed(&err).into())),
    }
}

/// A poll's whole reply: `head` and the framed `body` of `items`.
fn whole(
    app: &App,
    items: &[Delivery],
    body: Result<Bytes, Box<Reply>>,
    head: Arc<ResponseHead>,
) -> Reply {
    let body = match body {
        Ok(body) => body,
        Err(reply) => return *reply,
    };
    let delivered = items
        .iter()
        .filter(|item| matches!(item, Delivery::Message { .. } | Delivery::Gap(_)))
        .count();
    app.metrics.delivered(delivered);
    app.metrics.bytes_out(body.len());
    Reply::Whole {
        head,
        extra: Vec::new(),
        body,
    }
}

async fn publish(app: &App, req: hyper::Request<Incoming>) -> Response<ReplyBody> {
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(0);
    let accepted = match accept_publish(app, &edge_request(&req), declared) {
        Ok(accepted) => accepted,
        Err(refusal) => return *refusal,
    };
    let max = app.config.max_message_bytes;
    let data = match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => return too_large(max),
        Err(err) => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("The request body could not be read: {err}."),
            );
        }
    };
    publish_accepted(app, &accepted, data.to_vec())
}

/// The edge's acceptance of a publish whose body says it is `declared`
/// bytes long, or the reply that refuses it (too large, refused by the edge).
pub(crate) fn accept_publish(
    app: &App,
    req: &Request,
    declared: u64,
) -> Result<Publish, Box<Response<ReplyBody>>> {
    let max = app.config.max_message_bytes;
    if declared > max as u64 {
        return Err(Box::new(too_large(max)));
    }
    match app.edge().accept_publish(req, declared) {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(refusal)) => Err(Box::new(refused(&refusal))),
        Err(err) => Err(Box::new(edge_failed(&err))),
    }
}

/// Publish `data` where the edge said (`accepted`): the reply.
pub(crate) fn publish_accepted(
    app: &App,
    accepted: &Publish,
    data: Vec<u8>,
) -> Response<ReplyBody> {
    match app.publish(&accepted.channel, &accepted.event, data) {
        Ok(published) => {
            let reply = serde_json::json!({
                "id": published.cursor().to_string(),
                "channel": accepted.channel,
                "event": accepted.event,
                "seq": published.seq,
                "subscribers": published.reached,
            });
            json(StatusCode::OK, &reply)
        }
        Err(err) => hub_refused(&err),
    }
}

fn channel_info(app: &App, channel: &str) -> Response<ReplyBody> {
    let Some(info) = app.hub.channel_info(channel) else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("No channel {channel:?}: nothing was published or subscribed there yet."),
        );
    };
    let reply = serde_json::json!({
        "channel": channel,
        "subscribers": info.subscribers,
        "last_seq": info.last_seq,
        "log_len": info.log_len,
        "log_bytes": info.log_bytes,
    });
    json(StatusCode::OK, &reply)
}

pub(crate) fn with_head(
    status: u16,
    headers: &[(String, String)],
    body: ReplyBody,
) -> Response<ReplyBody> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    add_headers(&mut response, headers);
    response
}

/// Append the edge's `headers` to `response` (an invalid one is dropped and logged).
fn add_headers(response: &mut Response<ReplyBody>, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        } else {
            tracing::warn!(header = %name, "the edge module sent a header that is not valid HTTP; dropped");
        }
    }
}

pub(crate) fn full(body: impl Into<Bytes>) -> ReplyBody {
    UnsyncBoxBody::new(Full::new(body.into()))
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<ReplyBody> {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    with_head(
        status.as_u16(),
        &[
            ("content-type".to_owned(), "application/json".to_owned()),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        full(body),
    )
}

/// A plain-text reply: one sentence that says what happened.
pub fn text(status: StatusCode, message: &str) -> Response<ReplyBody> {
    with_head(
        status.as_u16(),
        &[
            (
                "content-type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            ),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        full(format!("{message}\n")),
    )
}

pub(crate) fn refused(refusal: &Refusal) -> Response<ReplyBody> {
    let mut response = text(
        StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
        &refusal.message,
    );
    add_headers(&mut response, &refusal.headers);
    response
}

pub(crate) fn edge_failed(err: &EdgeError) -> Response<ReplyBody> {
    tracing::error!("edge module call failed: {err}");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("The edge module failed on this request: {err}."),
    )
}

fn busy(message: &str) -> Response<ReplyBody> {
    let mut response = text(StatusCode::SERVICE_UNAVAILABLE, message);
    response.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("5"),
    );
    response
}

pub(crate) fn too_large(max: usize) -> Response<ReplyBody> {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("The message is larger than the server's limit of {max} bytes."),
    )
}

pub(crate) fn hub_refused(err: &HubError) -> Response<ReplyBody> {
    match err {
        HubError::TooManySubscribers { .. } | HubError::TooManyChannels { .. } => {
            busy(&format!("{err}; try again shortly."))
        }
        HubError::MessageTooLarge { .. } => text(StatusCode::PAYLOAD_TOO_LARGE, &format!("{err}.")),
        _ => text(StatusCode::BAD_REQUEST, &format!("{err}.")),
    }
}
