//! Counters the server keeps as traffic flows (plain atomics, cheap enough
//! for the hot path), and their Prometheus text form for `GET /metrics`.

use core::fmt::Write as _;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crate::edge::{EdgeStats, Transport};

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    published: AtomicU64,
    delivered: AtomicU64,
    bytes_out: AtomicU64,
    gaps: AtomicU64,
    slow_disconnects: AtomicU64,
    skipped: AtomicU64,
    /// Open responses by transport, in [`Transport::ALL`] order.
    connections: [AtomicI64; 6],
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Messages published.
    pub published: u64,
    /// Messages (and gap notices) written to subscribers.
    pub delivered: u64,
    /// Body bytes written to subscribers.
    pub bytes_out: u64,
    /// Gap notices sent.
    pub gaps: u64,
    /// Subscribers disconnected for falling behind a `queue` channel.
    pub slow_disconnects: u64,
    /// Messages `latest` channels skipped for slow subscribers.
    pub skipped: u64,
}

fn slot(transport: Transport) -> usize {
    Transport::ALL
        .iter()
        .position(|t| *t == transport)
        .unwrap_or(0)
}

impl Metrics {
    /// Count a publish.
    pub fn published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
    }

    /// Count deliveries written to one subscriber.
    pub fn delivered(&self, count: usize) {
        self.delivered.fetch_add(count as u64, Ordering::Relaxed);
    }

    /// Count bytes written to a subscriber.
    pub fn bytes_out(&self, bytes: usize) {
        self.bytes_out.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Count a gap notice.
    pub fn gap(&self) {
        self.gaps.fetch_add(1, Ordering::Relaxed);
    }

    /// Count a slow subscriber's disconnect.
    pub fn slow_disconnect(&self) {
        self.slow_disconnects.fetch_add(1, Ordering::Relaxed);
    }

    /// Count messages skipped for slow subscribers.
    pub fn skipped(&self, count: u64) {
        if count > 0 {
            self.skipped.fetch_add(count, Ordering::Relaxed);
        }
    }

    /// A response of `transport` opened.
    pub fn connection_opened(&self, transport: Transport) {
        if let Some(gauge) = self.connections.get(slot(transport)) {
            gauge.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A response of `transport` closed.
    pub fn connection_closed(&self, transport: Transport) {
        if let Some(gauge) = self.connections.get(slot(transport)) {
            gauge.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Open responses by transport, in [`Transport::ALL`] order.
    pub fn connections(&self) -> [(Transport, u64); 6] {
        Transport::ALL.map(|transport| {
            let open = self
                .connections
                .get(slot(transport))
                .map_or(0, |gauge| gauge.load(Ordering::Relaxed));
            (transport, u64::try_from(open).unwrap_or(0))
        })
    }

    /// Read every counter.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            published: self.published.load(Ordering::Relaxed),
            delivered: self.delivered.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
            slow_disconnects: self.slow_disconnects.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }

    /// The Prometheus text exposition (format 0.0.4) of every number.
    pub fn render(&self, subscriptions: usize, edge: EdgeStats) -> String {
        let s = self.snapshot();
        let mut out = String::with_capacity(2048);
        gauge_header(
            &mut out,
            "pushwire_connections",
            "Open subscriber responses (streams and held polls), by transport.",
        );
        for (transport, gauge) in Transport::ALL.iter().zip(&self.connections) {
            let _ = writeln!(
                out,
                "pushwire_connections{{transport=\"{}\"}} {}",
                transport.as_str(),
                gauge.load(Ordering::Relaxed).max(0)
            );
        }
        let gauges: [(&str, &str, u64); 1] = [(
            "pushwire_subscriptions",
            "Subscriptions the hub holds (one per stream or held poll).",
            subscriptions as u64,
        )];
        for (name, help, value) in gauges {
            gauge_header(&mut out, name, help);
            let _ = writeln!(out, "{name} {value}");
        }
        let counters: [(&str, &str, u64); 10] = [
            (
                "pushwire_messages_published_total",
                "Messages published.",
                s.published,
            ),
            (
                "pushwire_messages_delivered_total",
                "Messages and gap notices written to subscribers.",
                s.delivered,
            ),
            (
                "pushwire_bytes_out_total",
                "Body bytes written to subscribers.",
                s.bytes_out,
            ),
            (
                "pushwire_gaps_total",
                "Gap notices sent to subscribers whose resume point fell off the replay log.",
                s.gaps,
            ),
            (
                "pushwire_slow_disconnects_total",
                "Subscribers disconnected (with a resumable cursor) for falling behind a queue channel.",
                s.slow_disconnects,
            ),
            (
                "pushwire_frames_skipped_total",
                "Messages latest-policy channels skipped for slow subscribers.",
                s.skipped,
            ),
            (
                "pushwire_edge_calls_total",
                "Calls into the edge module.",
                edge.calls,
            ),
            (
                "pushwire_edge_traps_total",
                "Edge module calls that trapped.",
                edge.traps,
            ),
            (
                "pushwire_edge_timeouts_total",
                "Edge module calls stopped at their deadline.",
                edge.timeouts,
            ),
            (
                "pushwire_edge_busy_total",
                "Edge module calls that found no free instance in time.",
                edge.busy,
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
            let _ = writeln!(out, "{name} {value}");
        }
        let name = "pushwire_edge_call_seconds_total";
        let _ = writeln!(
            out,
            "# HELP {name} Time spent inside edge module calls (bounded by epoch deadlines, which the sandbox uses instead of fuel)."
        );
        let _ = writeln!(out, "# TYPE {name} counter");
        #[allow(
            clippy::cast_precision_loss,
            reason = "seconds as a float, as Prometheus wants"
        )]
        let seconds = edge.call_nanos as f64 / 1e9;
        let _ = writeln!(out, "{name} {seconds:.9}");
        out
    }
}

fn gauge_header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}
