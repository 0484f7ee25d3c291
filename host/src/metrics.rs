//! Counters the server keeps as traffic flows (plain atomics; cheap enough
//! for the hot path).

use core::sync::atomic::{AtomicU64, Ordering};

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    published: AtomicU64,
    bytes_out: AtomicU64,
    gaps: AtomicU64,
    slow_disconnects: AtomicU64,
    skipped: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Messages published.
    pub published: u64,
    /// Body bytes written to subscribers.
    pub bytes_out: u64,
    /// Gap notices sent.
    pub gaps: u64,
    /// Subscribers disconnected for falling behind a `queue` channel.
    pub slow_disconnects: u64,
    /// Messages `latest` channels skipped for slow subscribers.
    pub skipped: u64,
}

impl Metrics {
    /// Count a publish.
    pub fn published(&self) {
        self.published.fetch_add(1, Ordering::Relaxed);
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

    /// Read every counter.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            published: self.published.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
            gaps: self.gaps.load(Ordering::Relaxed),
            slow_disconnects: self.slow_disconnects.load(Ordering::Relaxed),
            skipped: self.skipped.load(Ordering::Relaxed),
        }
    }
}
