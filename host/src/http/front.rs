//! Every accepted connection starts here.
//!
//! A subscription holds its connection for hours, mostly idle. Through hyper
//! an idle stream keeps a read buffer and a head buffer of 8 KiB each for its
//! whole life; at 10 000 idle subscribers that is most of the server's
//! memory. So this loop reads each HTTP/1.1 request head itself (with
//! `pushwire-core`'s bounded [`http1`] reader, into a buffer dropped as soon
//! as the head is read), and answers a plain `GET` of a subscription
//! (`/sub/…`, `/stream/….mjpg`) on the bare socket: the edge routes and
//! frames exactly as on the hyper path ([`subscribe::subscribe`]), the stream
//! is the same [`StreamBody`], and between messages nothing is buffered.
//! Pending frames are written together, as chunks, in one `writev`.
//!
//! A same-origin `POST /pub/…` whose body has a `Content-Length` is
//! published here too ([`subscribe::accept_publish`], then the body, read
//! within the head deadline, then [`subscribe::publish_accepted`]): a publish
//! through hyper costs the server noticeably more CPU (BENCHMARKS.md).
//!
//! Everything else (HTTP/2, HTTP/1.0, other routes, other request bodies,
//! upgrades, a pipelined request, a head `http1` does not accept) goes to
//! hyper with the bytes already read, unchanged, so hyper answers it exactly
//! as if it had read them itself (including its 400 and 431 replies).
//!
//! After a whole reply (a long poll's, a refusal) or a stream that ended
//! (an iframe's byte budget) the connection is kept for the next request,
//! unless the client asked to close it.

use alloc::sync::Arc;
use core::cell::Cell;
use core::future::poll_fn;
use core::pin::{Pin, pin};
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};
use std::collections::HashMap;
use std::io::{self, IoSlice};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use bytes::{Buf, Bytes};
use hyper::body::Body;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use pushwire_core::http1::{
    BodyLength, CHUNK_END, ChunkHead, LAST_CHUNK, RequestHead, head_len, http_date,
    parse_request_head, write_response_head,
};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};

use super::routes::{self, Route};
use crate::edge::{EdgeError, Request};
use crate::push::App;
use crate::push::framing::{Framer, Routed};
use crate::push::reply::{self, Reply};
use crate::push::stream::StreamBody;
use crate::push::subscribe;

/// The largest request head (hyper's smallest read buffer is the same, so
/// a larger head gets hyper's 431 either way).
const HEAD_LIMIT: usize = 8192;
/// Most frames gathered into one write.
const WRITE_FRAMES: usize = 256;
/// Most bytes gathered into one write.
const WRITE_BYTES: usize = 256 * 1024;

/// What every connection shares: the app, hyper for what this loop does not
/// serve itself, the shutdown signal and the count of live connections.
pub(crate) struct Front {
    app: Arc<App>,
    hyper: auto::Builder<TokioExecutor>,
    shutdown: watch::Sender<bool>,
    live: AtomicUsize,
    all_closed: Notify,
    /// Request heads already understood.
    heads: KnownHeads,
}

impl Front {
    pub(crate) fn new(app: Arc<App>) -> Self {
        let mut hyper = auto::Builder::new(TokioExecutor::new());
        // hyper's read buffer at its minimum (8 KiB) instead of letting it
        // grow and stay at 16 KiB+ on a long-lived connection.
        hyper.http1().max_buf_size(HEAD_LIMIT);
        Self {
            app,
            hyper,
            shutdown: watch::Sender::new(false),
            live: AtomicUsize::new(0),
            all_closed: Notify::new(),
            heads: KnownHeads::default(),
        }
    }

    /// Tell every connection to finish: idle ones close, hyper's finish
    /// their requests; streams end when the hub shuts down.
    pub(crate) fn shut_down(&self) {
        self.shutdown.send_replace(true);
    }

    /// Wait until no connection is left.
    pub(crate) async fn all_closed(&self) {
        loop {
            let mut notified = pin!(self.all_closed.notified());
            notified.as_mut().enable();
            if self.live.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Serve one accepted connection until it closes.
    pub(crate) async fn connection(self: Arc<Self>, stream: TcpStream) {
        self.live.fetch_add(1, Ordering::AcqRel);
        let _live = LiveGuard(&self);
        let mut shutdown = self.shutdown.subscribe();
        let mut stream = stream;
        loop {
            let Some(read) = self.next_head(&mut stream, &mut shutdown).await else {
                return;
            };
            let lean = match read {
                NextHead::Lean(lean) => lean,
                NextHead::Publish(publish) => {
                    // Boxed, as the reply below: every connection's future,
                    // an idle stream's too, holds room for its largest state.
                    if !Box::pin(self.publish(&mut stream, publish)).await || *shutdown.borrow() {
                        let _ = stream.shutdown().await;
                        return;
                    }
                    continue;
                }
                NextHead::Other(bytes) => {
                    Box::pin(self.hand_to_hyper(stream, bytes, shutdown)).await;
                    return;
                }
            };
            let keep_alive = lean.keep_alive;
            let reply = Box::pin(self.lean_reply(&lean, &stream)).await;
            let Some(reply) = reply else {
                return;
            };
            let finished = write_reply(&mut stream, reply, keep_alive).await;
            if finished.is_err() || !keep_alive || *shutdown.borrow() {
                let _ = stream.shutdown().await;
                return;
            }
        }
    }

    /// Wait for the next request and read its head. `None`: the connection
    /// closed, stalled mid-head, or the server is shutting down while it idles.
    async fn next_head(
        &self,
        stream: &mut TcpStream,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<NextHead> {
        // No buffer and no timer while the connection idles between
        // requests (readiness may be left over from the last read).
        let mut bytes = loop {
            tokio::select! {
                biased;
                ready = stream.readable() => ready.ok()?,
                _ = shutdown.wait_for(|stop| *stop) => return None,
            }
            let mut bytes = Vec::with_capacity(1024);
            // Usually the whole head is there already.
            match self.read_head(stream, &mut bytes) {
                Step::Done(next) => return next,
                Step::More if bytes.is_empty() => {}
                Step::More => break bytes,
            }
        };
        // Part of a head: the rest has a deadline.
        let rest = async {
            loop {
                tokio::select! {
                    biased;
                    ready = stream.readable() => ready.ok()?,
                    _ = shutdown.wait_for(|stop| *stop) => return None,
                }
                if let Step::Done(next) = self.read_head(stream, &mut bytes) {
                    return next;
                }
            }
        };
        tokio::time::timeout(self.app.config.head_timeout, rest)
            .await
            .ok()?
    }

    /// Read what the socket has and look for a whole head in `bytes`.
    fn read_head(&self, stream: &TcpStream, bytes: &mut Vec<u8>) -> Step {
        if bytes.len() == bytes.capacity() {
            bytes.reserve(bytes.len().min(HEAD_LIMIT));
        }
        let room = bytes.capacity() - bytes.len();
        let mut read = 0;
        // A read shorter than the room emptied the socket: tell tokio so (a
        // `WouldBlock` from `try_io` forgets the readiness this read used, and
        // only that), and the next wait — for the next request, or for a held
        // poll's client leaving — sleeps without first reading `EAGAIN`.
        let result = stream.try_io(Interest::READABLE, || {
            read = stream.try_read_buf(bytes)?;
            if read > 0 && read < room {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(())
        });
        match result {
            Ok(()) if read == 0 => return Step::Done(None),
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock && read > 0 => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => return Step::More,
            Err(_) => return Step::Done(None),
        }
        let now = reply::unix_now();
        if head_len(bytes) == Some(bytes.len())
            && let Some(known) = self.heads.get(bytes, now)
        {
            return Step::Done(Some(NextHead::Lean(known)));
        }
        let Ok(parsed) = parse_request_head(bytes, HEAD_LIMIT) else {
            return Step::Done(Some(NextHead::Other(Bytes::from(core::mem::take(bytes)))));
        };
        let Some((head, used)) = parsed else {
            return Step::More;
        };
        let keep_alive = !head.connection_has("close");
        if used == bytes.len() && is_lean(&head) {
            let lean = Arc::new(LeanRequest {
                keep_alive,
                request: edge_request(&head, now),
                routed: OnceLock::new(),
            });
            self.heads.remember(bytes, &lean);
            return Step::Done(Some(NextHead::Lean(lean)));
        }
        // A publish with its length, and no more than its body after it.
        if let Some(length) = lean_publish_length(&head)
            && (bytes.len() - used) as u64 <= length
        {
            return Step::Done(Some(NextHead::Publish(LeanPublish {
                request: edge_request(&head, now),
                keep_alive,
                length,
                body: bytes.split_off(used),
            })));
        }
        Step::Done(Some(NextHead::Other(Bytes::from(core::mem::take(bytes)))))
    }

    /// Publish a request's body, read here, and reply as hyper's path does.
    /// `false`: the connection ends (the client asked; a refused publish's
    /// body was not all read; the body failed or stalled past the head
    /// deadline, and nothing was published).
    async fn publish(&self, stream: &mut TcpStream, publish: LeanPublish) -> bool {
        let LeanPublish {
            request,
            keep_alive,
            length,
            mut body,
        } = publish;
        let accepted = match subscribe::accept_publish(&self.app, &request, length) {
            Ok(accepted) => accepted,
            Err(refusal) => {
                // An unread body would be taken for the next request.
                let keep = keep_alive && body.len() as u64 == length;
                return write_reply(stream, *refusal, keep).await.is_ok() && keep;
            }
        };
        // Accepted: no longer than the largest message.
        let Ok(length) = usize::try_from(length) else {
            return false;
        };
        let deadline = self.app.config.head_timeout;
        match tokio::time::timeout(deadline, read_body(stream, &mut body, length)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) | Err(_) => return false,
        }
        let reply = subscribe::publish_accepted(&self.app, &accepted, body);
        write_reply(stream, reply, keep_alive).await.is_ok() && keep_alive
    }

    /// The edge's answer to a subscription, with CORS as on the hyper path.
    /// `None`: the client left while its long poll was held.
    async fn lean_reply(&self, lean: &LeanRequest, stream: &TcpStream) -> Option<Reply> {
        let request = &lean.request;
        let cors = if request.headers.iter().any(|(name, _)| name == "origin") {
            match routes::cors_headers(&self.app, request) {
                Ok(headers) => headers,
                Err(refusal) => return Some(*refusal),
            }
        } else {
            Vec::new()
        };
        let app = Arc::clone(&self.app);
        let subscribed = async move {
            let routed = lean.route(&app.framer);
            subscribe::subscribe_routed(app, routed).await
        };
        // A long poll may be held for a while: stop holding it if the client
        // goes away meanwhile.
        let mut reply = tokio::select! {
            biased;
            reply = subscribed => reply,
            () = client_gone(stream) => return None,
        };
        reply.add_headers(&cors);
        Some(reply)
    }

    /// Let hyper serve the rest of the connection, starting with `read`.
    async fn hand_to_hyper(
        &self,
        stream: TcpStream,
        read: Bytes,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let app = Arc::clone(&self.app);
        let service = service_fn(move |req| {
            let app = Arc::clone(&app);
            // Boxed: hyper keeps a finished request future's slot for the
            // connection's life.
            async move { Ok::<_, core::convert::Infallible>(Box::pin(routes::handle(app, req)).await) }
        });
        let io = TokioIo::new(Rewind {
            read,
            inner: stream,
        });
        let mut connection = pin!(self.hyper.serve_connection(io, service));
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = shutdown.wait_for(|stop| *stop) => {}
        }
        connection.as_mut().graceful_shutdown();
        // A connection error concerns only that client.
        let _ = connection.await;
    }
}

struct LiveGuard<'a>(&'a Front);

impl Drop for LiveGuard<'_> {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.all_closed.notify_waiters();
        }
    }
}

/// One read towards a request head.
enum Step {
    /// Read more when the socket is readable.
    More,
    /// The head (or hyper's bytes), or `None`: closed or failed.
    Done(Option<NextHead>),
}

/// Request heads already understood, by their bytes, within the current
/// second: long-pollers at one position send byte-identical heads, so one is
/// parsed and routed for all. The edge judges a request by its time (token
/// lifetimes), so a new second starts over; within a second at most
/// [`KNOWN_HEADS`] heads of at most [`HEAD_LIMIT`] bytes each are kept.
#[derive(Default)]
struct KnownHeads(Mutex<Second>);

/// The heads [`KnownHeads`] keeps, and the second they were sent in.
#[derive(Default)]
struct Second {
    at: u64,
    heads: HashMap<Box<[u8]>, Arc<LeanRequest>>,
}

/// Most request heads [`KnownHeads`] keeps within one second.
const KNOWN_HEADS: usize = 1024;

impl KnownHeads {
    /// The request sent as `bytes` in second `now`, if a connection sent the
    /// same bytes then.
    fn get(&self, bytes: &[u8], now: u64) -> Option<Arc<LeanRequest>> {
        let known = self.lock();
        if known.at != now {
            return None;
        }
        known.heads.get(bytes).cloned()
    }

    /// Remember what `bytes` meant, for the next connection that sends them.
    fn remember(&self, bytes: &[u8], lean: &Arc<LeanRequest>) {
        let mut known = self.lock();
        let second = lean.request.unix_time;
        if known.at != second || known.heads.len() >= KNOWN_HEADS {
            *known = Second {
                at: second,
                heads: HashMap::new(),
            };
        }
        known.heads.insert(bytes.into(), Arc::clone(lean));
    }

    fn lock(&self) -> MutexGuard<'_, Second> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A request this loop answers itself, as the edge sees it.
struct LeanRequest {
    request: Request,
    /// The client did not ask to close the connection after the reply.
    keep_alive: bool,
    /// What the edge's `route` answered, once asked.
    routed: OnceLock<Routed>,
}

impl LeanRequest {
    /// The edge's `route` for this request, asked once for every connection
    /// that sends it.
    fn route(&self, framer: &Framer) -> Result<Routed, EdgeError> {
        if let Some(routed) = self.routed.get() {
            return Ok(Arc::clone(routed));
        }
        let routed = framer.route(&self.request)?;
        Ok(Arc::clone(self.routed.get_or_init(|| routed)))
    }
}

/// A publish this loop answers itself: its body's length and what of it
/// came with the head.
struct LeanPublish {
    request: Request,
    keep_alive: bool,
    length: u64,
    body: Vec<u8>,
}

enum NextHead {
    /// A subscription this loop answers itself.
    Lean(Arc<LeanRequest>),
    /// A publish this loop answers itself.
    Publish(LeanPublish),
    /// Everything read so far, for hyper.
    Other(Bytes),
}

/// A plain `GET` of a subscription route, with nothing else to read.
fn is_lean(head: &RequestHead<'_>) -> bool {
    let path = head.path();
    head.method == "GET"
        && Route::of(path) == Route::Subscribe
        && !head.has_body()
        && head.header("upgrade").is_none()
        && head.header("expect").is_none()
}

/// The body length of a publish this loop serves itself: a `POST` to
/// `/pub/…` framed by one plain `Content-Length`, not cross-origin (CORS
/// stays with hyper's path), with nothing to negotiate first.
fn lean_publish_length(head: &RequestHead<'_>) -> Option<u64> {
    let plain = head.method == "POST"
        && matches!(Route::of(head.path()), Route::Publish { .. })
        && head.header("origin").is_none()
        && head.header("upgrade").is_none()
        && head.header("expect").is_none();
    plain.then(|| head.content_length()).flatten()
}

/// Read until `body` holds `length` bytes, and not one more (what follows
/// is the next request's).
async fn read_body(stream: &TcpStream, body: &mut Vec<u8>, length: usize) -> io::Result<()> {
    let mut filled = body.len();
    body.resize(length, 0);
    while filled < length {
        stream.readable().await?;
        match stream.try_read(body.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(read) => filled += read,
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// The head as the edge module sees it, sent at `unix_time`: header names
/// in lower case, values as text (bytes that are not UTF-8 replaced).
fn edge_request(head: &RequestHead<'_>, unix_time: u64) -> Request {
    Request {
        method: head.method.to_owned(),
        path: head.path().to_owned(),
        query: head.query().to_owned(),
        headers: head
            .headers()
            .map(|header| {
                let value = String::from_utf8_lossy(header.value).into_owned();
                (header.name.to_ascii_lowercase(), value)
            })
            .collect(),
        unix_time,
    }
}

/// Resolves when the client closed its side (or the socket failed); stays
/// pending if it sent more bytes instead (a pipelined request, read later).
async fn client_gone(stream: &TcpStream) {
    let mut byte = [0u8; 1];
    let mut peek = ReadBuf::new(&mut byte);
    match poll_fn(|cx| stream.poll_peek(cx, &mut peek)).await {
        Ok(0) | Err(_) => {}
        Ok(_) => core::future::pending().await,
    }
}

/// The `Date` field's value for now (formatted once a second per thread).
fn date() -> [u8; 29] {
    thread_local! {
        static LAST: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
    }
    let now = reply::unix_now();
    LAST.with(|last| match last.get() {
        (at, text) if at == now => text,
        _ => {
            let text = http_date(now);
            last.set((now, text));
            text
        }
    })
}

/// Write `reply`: a whole one with its `Content-Length`, a stream as chunks
/// until it ends or the client leaves.
async fn write_reply(stream: &mut TcpStream, reply: Reply, keep_alive: bool) -> io::Result<()> {
    match reply {
        Reply::Whole { head, extra, body } => {
            let headers = head.headers.iter().chain(&extra);
            let headers = headers.map(|(name, value)| (name.as_str(), value.as_str()));
            write_whole(stream, head.status, headers, &body, keep_alive).await
        }
        Reply::Stream { head, body } => {
            write_stream(stream, head.status, &head.headers, body, keep_alive).await
        }
    }
}

/// A response head with a `Date`, and `Connection: close` unless the
/// connection is kept.
fn response_head<'a>(
    status: u16,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: BodyLength,
    keep_alive: bool,
) -> Vec<u8> {
    let mut head = Vec::with_capacity(512);
    let close = [("connection", "close")];
    let close = close.iter().copied().filter(|_| !keep_alive);
    let dropped = write_response_head(&mut head, status, headers.chain(close), body, Some(&date()));
    if dropped > 0 {
        tracing::warn!(
            dropped,
            "the edge module sent headers that are not valid HTTP; dropped"
        );
    }
    head
}

/// Write a whole reply with a `Content-Length`.
async fn write_whole<'a>(
    stream: &mut TcpStream,
    status: u16,
    headers: impl Iterator<Item = (&'a str, &'a str)>,
    body: &[u8],
    keep_alive: bool,
) -> io::Result<()> {
    let head = response_head(
        status,
        headers,
        BodyLength::Known(body.len() as u64),
        keep_alive,
    );
    write_all(stream, &mut [IoSlice::new(&head), IoSlice::new(body)]).await
}

/// Write a stream's head, then its frames as chunks until it ends or the
/// client leaves.
async fn write_stream(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    mut body: StreamBody,
    keep_alive: bool,
) -> io::Result<()> {
    let headers = headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let head = response_head(status, headers, BodyLength::Chunked, keep_alive);
    let mut head = Some(head);
    let mut watch_reads = true;
    loop {
        let mut frames = Vec::new();
        let head_due = head.is_some();
        let gathered = poll_fn(|cx| {
            gather(
                cx,
                &mut body,
                stream,
                &mut watch_reads,
                &mut frames,
                head_due,
            )
        })
        .await;
        let ended = match gathered {
            Gathered::Frames => false,
            Gathered::End => true,
            Gathered::ClientGone => return Err(io::ErrorKind::ConnectionAborted.into()),
        };
        let sizes: Vec<ChunkHead> = frames
            .iter()
            .map(|frame| ChunkHead::new(frame.len()))
            .collect();
        let mut parts = Vec::with_capacity(frames.len() * 3 + 2);
        if let Some(head) = &head {
            parts.push(IoSlice::new(head));
        }
        for (size, frame) in sizes.iter().zip(&frames) {
            parts.extend([size.as_bytes(), frame.chunk(), CHUNK_END].map(IoSlice::new));
        }
        if ended {
            parts.push(IoSlice::new(LAST_CHUNK));
        }
        write_all(stream, &mut parts).await?;
        head = None;
        if ended {
            return Ok(());
        }
    }
}

enum Gathered {
    /// Frames to write.
    Frames,
    /// The body ended (after any frames gathered).
    End,
    /// The client closed the connection.
    ClientGone,
}

/// Take every frame the body has ready (up to a write's worth); pending
/// only when there is none, no head is due (`head_due`: the response head
/// goes out at once, with whatever is ready) and the client is still there.
fn gather(
    cx: &mut Context<'_>,
    body: &mut StreamBody,
    stream: &TcpStream,
    watch_reads: &mut bool,
    frames: &mut Vec<Bytes>,
    head_due: bool,
) -> Poll<Gathered> {
    if *watch_reads {
        let mut byte = [0u8; 1];
        let mut peek = ReadBuf::new(&mut byte);
        match stream.poll_peek(cx, &mut peek) {
            Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(Gathered::ClientGone),
            // The client sent more (a pipelined request): it waits for the
            // stream's end; closes now show as write errors.
            Poll::Ready(Ok(_)) => *watch_reads = false,
            Poll::Pending => {}
        }
    }
    let mut bytes = 0;
    loop {
        match Pin::new(&mut *body).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data()
                    && !data.is_empty()
                {
                    bytes += data.len();
                    frames.push(data);
                    if frames.len() >= WRITE_FRAMES || bytes >= WRITE_BYTES {
                        return Poll::Ready(Gathered::Frames);
                    }
                }
            }
            Poll::Ready(Some(Err(never))) => match never {},
            Poll::Ready(None) => return Poll::Ready(Gathered::End),
            Poll::Pending if frames.is_empty() && !head_due => return Poll::Pending,
            Poll::Pending => return Poll::Ready(Gathered::Frames),
        }
    }
}

/// Write all of `parts`, gathered (`writev`), however the socket splits it.
async fn write_all(stream: &mut TcpStream, parts: &mut [IoSlice<'_>]) -> io::Result<()> {
    let mut rest = parts;
    // Empty parts are skipped: a write of nothing would look like `WriteZero`.
    IoSlice::advance_slices(&mut rest, 0);
    while !rest.is_empty() {
        // Linux takes at most 1024 slices per call.
        let upto = rest.len().min(1024);
        let written = stream
            .write_vectored(rest.get(..upto).unwrap_or_default())
            .await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, written);
    }
    Ok(())
}

/// The socket, with the bytes this loop already read put back in front.
struct Rewind {
    read: Bytes,
    inner: TcpStream,
}

impl AsyncRead for Rewind {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read.has_remaining() {
            let n = this.read.len().min(buf.remaining());
            buf.put_slice(this.read.get(..n).unwrap_or_default());
            this.read.advance(n);
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Rewind {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(bytes: &[u8]) -> RequestHead<'_> {
        parse_request_head(bytes, HEAD_LIMIT).unwrap().unwrap().0
    }

    #[test]
    fn only_plain_subscription_gets_are_served_lean() {
        assert!(is_lean(&head(b"GET /sub/chat HTTP/1.1\r\nHost: x\r\n\r\n")));
        assert!(is_lean(&head(
            b"GET /stream/cam.mjpg?fps=5 HTTP/1.1\r\n\r\n"
        )));
        for other in [
            &b"HEAD /sub/chat HTTP/1.1\r\n\r\n"[..],
            b"POST /pub/chat HTTP/1.1\r\nContent-Length: 1\r\n\r\n",
            b"GET /sub/chat HTTP/1.1\r\nContent-Length: 3\r\n\r\n",
            b"GET /sub/chat HTTP/1.1\r\nUpgrade: h2c\r\n\r\n",
            b"GET /metrics HTTP/1.1\r\n\r\n",
        ] {
            assert!(!is_lean(&head(other)), "{:?}", core::str::from_utf8(other));
        }
    }

    #[test]
    fn a_known_head_is_the_same_request_only_within_its_second() {
        let bytes = b"GET /sub/a?since=1.2 HTTP/1.1\r\nHost: h\r\n\r\n";
        let known = KnownHeads::default();
        assert!(known.get(bytes, 100).is_none());
        let lean = Arc::new(LeanRequest {
            request: edge_request(&head(bytes), 100),
            keep_alive: true,
            routed: OnceLock::new(),
        });
        known.remember(bytes, &lean);
        let again = known
            .get(bytes, 100)
            .expect("the same bytes in the same second");
        assert!(Arc::ptr_eq(&again, &lean));
        // A second later the edge must see the new time: not the same request.
        assert!(known.get(bytes, 101).is_none());
        // Other bytes (here one more header) are another request.
        let other = b"GET /sub/a?since=1.2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
        assert!(known.get(other, 100).is_none());
    }

    #[test]
    fn the_edge_sees_path_and_query_apart() {
        let request = edge_request(
            &head(b"GET /sub/a,b?since=1.2&x HTTP/1.1\r\nHost: h\r\n\r\n"),
            7,
        );
        assert_eq!(request.path, "/sub/a,b");
        assert_eq!(request.query, "since=1.2&x");
        assert_eq!(request.headers, vec![("host".to_owned(), "h".to_owned())]);
        let request = edge_request(&head(b"GET /sub/a HTTP/1.1\r\n\r\n"), 7);
        assert_eq!(
            (request.path.as_str(), request.query.as_str()),
            ("/sub/a", "")
        );
    }
}
