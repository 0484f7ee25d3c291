//! A streaming subscriber's response body: it reads the hub's shared log by
//! cursor whenever hyper asks for more, so a slow client is simply read less
//! often (it never slows the others, and nothing is buffered for it beyond
//! one batch).

use alloc::collections::VecDeque;
use alloc::sync::Arc;
use core::convert::Infallible;
use core::pin::Pin;
use core::sync::atomic::{AtomicUsize, Ordering};
use core::task::{Context, Poll};
use core::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame};
use pushwire_core::hub::{Delivery, SubscriberId};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::edge::Transport;
use crate::hub::Read;
use crate::server::App;

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

/// The body of a streaming subscription (`sse`, `stream`, `multipart`, `iframe`).
pub struct StreamBody {
    app: Arc<App>,
    id: SubscriberId,
    transport: Transport,
    multi_channel: bool,
    pending: VecDeque<Bytes>,
    heartbeat: Interval,
    byte_budget: Option<u64>,
    written: u64,
    ending: bool,
    _slot: ConnectionSlot,
}

impl StreamBody {
    /// A body for hub subscriber `id`, starting with `preamble`.
    pub fn new(
        app: Arc<App>,
        id: SubscriberId,
        transport: Transport,
        multi_channel: bool,
        preamble: Vec<u8>,
        byte_budget: Option<u64>,
        slot: ConnectionSlot,
    ) -> Self {
        let period = app.config.heartbeat.max(Duration::from_millis(10));
        let mut heartbeat = tokio::time::interval_at(Instant::now() + period, period);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        app.metrics.connection_opened(transport);
        let mut pending = VecDeque::new();
        if !preamble.is_empty() {
            pending.push_back(Bytes::from(preamble));
        }
        Self {
            app,
            id,
            transport,
            multi_channel,
            pending,
            heartbeat,
            byte_budget,
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
    fn fill(&mut self, cx: &Context<'_>) -> bool {
        let read = self.app.hub.read(self.id, BATCH, cx.waker());
        let batch = match read {
            Ok(Read::Batch(batch)) => batch,
            Ok(Read::Parked) => return false,
            Ok(Read::ShuttingDown) | Err(_) => {
                self.end();
                return true;
            }
        };
        self.app.metrics.skipped(batch.skipped);
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
                Ok(Some(bytes)) => {
                    self.app.metrics.delivered(1);
                    self.pending.push_back(bytes);
                }
                Ok(None) => {}
                Err(err) => {
                    tracing::error!("edge module failed while framing, ending the stream: {err}");
                    self.end();
                    break;
                }
            }
        }
        true
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
            if this.heartbeat.poll_tick(cx).is_ready() {
                let beat = this.app.framer.heartbeat(this.transport);
                if !beat.is_empty() {
                    this.pending.push_back(beat);
                }
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
