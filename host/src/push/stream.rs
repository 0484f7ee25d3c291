//! A streaming subscriber's response body: it reads the hub's shared log by
//! cursor whenever hyper asks for more, so a slow client is simply read less
//! often (it never slows the others, and nothing is buffered for it beyond
//! one batch).
//!
//! Heartbeats: every [`ServerConfig::heartbeat`](crate::push::ServerConfig)
//! the body writes the transport's heartbeat bytes, or, when the edge asked
//! for it ([`Shape::repeat_last`], multipart), the last message again: first
//! after that shorter pause without a new message, so Chromium shows a still
//! frame, then at the heartbeat period as a keep-alive.
//!
//! Pacing: with [`Shape::min_interval`] (`?fps=` on a webcam stream) the body
//! reads the hub at most once per interval; on a `Latest` channel that read
//! gets only the newest frame, so a capped viewer skips what came between.

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use pushwire_core::hub::{Delivery, SubscriberId};
use tokio::time::{Instant, Sleep};

use crate::edge::Transport;
use crate::push::App;
use crate::push::framing::Framing;
use crate::push::hub::{Parked, Read};

/// How many log entries one read takes.
const BATCH: usize = 64;

/// One open stream's slot in the server's connection limit.
pub struct ConnectionSlot {
    open: Arc<AtomicUsize>,
}

impl ConnectionSlot {
    /// Take a slot, or `None` when `max` streams are open.
    pub fn take(open: &Arc<AtomicUsize>, max: usize) -> Option<Self> {
        open.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < max).then_some(n + 1)
        })
        .ok()
        .map(|_| Self {
            open: Arc::clone(open),
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How a stream body starts and paces itself (from the edge's response head,
/// plus the route's own options).
#[derive(Clone, Debug, Default)]
pub struct Shape {
    /// Bytes written before any message.
    pub preamble: Vec<u8>,
    /// End the body once this many bytes were written.
    pub byte_budget: Option<u64>,
    /// Heartbeat with the last message, first after this pause without a
    /// new one (the edge's `repeat-last-ms`).
    pub repeat_last: Option<Duration>,
    /// Read the hub at most once per this interval (a viewer's frame-rate cap).
    pub min_interval: Option<Duration>,
}

/// The body of a streaming subscription (`sse`, `stream`, `multipart`, `iframe`).
pub struct StreamBody {
    app: Arc<App>,
    id: SubscriberId,
    /// Whether (and since when) the hub holds this body's waker.
    parked: Parked,
    transport: Transport,
    multi_channel: bool,
    pending: VecDeque<Bytes>,
    /// When the next heartbeat is due.
    heartbeat: Pin<Box<Sleep>>,
    period: Duration,
    repeat_last: Option<Duration>,
    /// The last message's framed bytes, kept when heartbeats repeat it.
    last: Option<Bytes>,
    min_interval: Option<Duration>,
    /// No hub read before this (a frame-rate cap).
    paced: Option<Pin<Box<Sleep>>>,
    byte_budget: Option<u64>,
    written: u64,
    ending: bool,
    _slot: ConnectionSlot,
}

impl StreamBody {
    /// A body for hub subscriber `id`, shaped by `shape`.
    pub fn new(
        app: Arc<App>,
        id: SubscriberId,
        transport: Transport,
        multi_channel: bool,
        shape: Shape,
        slot: ConnectionSlot,
    ) -> Self {
        let period = app.config.heartbeat.max(Duration::from_millis(10));
        let heartbeat = Box::pin(tokio::time::sleep(period));
        app.metrics.connection_opened(transport);
        let mut pending = VecDeque::new();
        if !shape.preamble.is_empty() {
            pending.push_back(Bytes::from(shape.preamble));
        }
        Self {
            app,
            id,
            parked: Parked::default(),
            transport,
            multi_channel,
            pending,
            heartbeat,
            period,
            repeat_last: shape
                .repeat_last
                .map(|pause| pause.max(Duration::from_millis(10))),
            last: None,
            min_interval: shape.min_interval.filter(|interval| !interval.is_zero()),
            paced: None,
            byte_budget: shape.byte_budget,
            written: 0,
            ending: false,
            _slot: slot,
        }
    }

    /// Queue the edge's closing bytes; the body ends once they are written.
    fn end(&mut self) {
        if !self.ending {
            self.ending = true;
            let end = self.app.framer.end(self.transport);
            if !end.is_empty() {
                self.pending.push_back(end);
            }
        }
    }

    /// Read the hub once; true when something was queued or the stream ends.
    fn fill(&mut self, cx: &mut Context<'_>) -> bool {
        if let Some(paced) = &mut self.paced {
            if paced.as_mut().poll(cx).is_pending() {
                return false;
            }
            self.paced = None;
        }
        let read = self
            .app
            .hub
            .read(self.id, BATCH, cx.waker(), &mut self.parked);
        let batch = match read {
            Ok(Read::Batch(batch)) => batch,
            Ok(Read::Parked) => return false,
            Ok(Read::ShuttingDown) | Err(_) => {
                self.end();
                return true;
            }
        };
        self.app.metrics.skipped(batch.skipped);
        let mut new_message = false;
        for item in &batch.items {
            if let Delivery::Disconnect { resume } = item {
                tracing::debug!(cursor = %resume, "slow subscriber disconnected; it resumes from its cursor");
                self.app.metrics.slow_disconnect();
                self.end();
                break;
            }
            if let Delivery::Gap(_) = item {
                self.app.metrics.gap();
            }
            match self
                .app
                .framer
                .frame(self.transport, item, self.multi_channel)
            {
                Ok(Some(Framing { prefix, body })) => {
                    self.app.metrics.delivered(1);
                    if self.repeat_last.is_some() && matches!(item, Delivery::Message { .. }) {
                        // Repeated whole: a prefix is written with it.
                        self.last = Some(match &prefix {
                            Some(prefix) => Bytes::from([&prefix[..], &body[..]].concat()),
                            None => body.clone(),
                        });
                        new_message = true;
                    }
                    self.pending.extend(prefix);
                    self.pending.push_back(body);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!("edge module failed while framing, ending the stream: {err}");
                    self.end();
                    break;
                }
            }
        }
        if let Some(pause) = self.repeat_last
            && new_message
        {
            // A new message: the repeat is due after a pause from now.
            self.heartbeat.as_mut().reset(Instant::now() + pause);
        }
        if let Some(interval) = self.min_interval {
            self.paced = Some(Box::pin(tokio::time::sleep(interval)));
        }
        true
    }

    /// The heartbeat's bytes: the last message when the edge asked for it,
    /// else the transport's own; and the next one is due a period later.
    fn beat(&mut self) {
        let beat = match (&self.repeat_last, &self.last) {
            (Some(_), Some(last)) => last.clone(),
            _ => self.app.framer.heartbeat(self.transport),
        };
        if !beat.is_empty() {
            self.pending.push_back(beat);
        }
        self.heartbeat.as_mut().reset(Instant::now() + self.period);
    }
}

impl Body for StreamBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            if let Some(chunk) = this.pending.pop_front() {
                this.written = this.written.saturating_add(chunk.len() as u64);
                this.app.metrics.bytes_out(chunk.len());
                if this
                    .byte_budget
                    .is_some_and(|budget| this.written >= budget)
                {
                    this.end();
                }
                return Poll::Ready(Some(Ok(Frame::data(chunk))));
            }
            if this.ending {
                return Poll::Ready(None);
            }
            if this.fill(cx) {
                continue;
            }
            if this.heartbeat.as_mut().poll(cx).is_ready() {
                this.beat();
                continue;
            }
            return Poll::Pending;
        }
    }
}

impl Drop for StreamBody {
    fn drop(&mut self) {
        self.app.hub.unsubscribe(self.id);
        self.app.metrics.connection_closed(self.transport);
        tracing::debug!(transport = self.transport.as_str(), "stream closed");
    }
}
