//! Publish, framing and streams: the steps between a request the edge has
//! routed and the bytes a subscriber writes.
//!
//! ```text
//! publish ──► App::publish ──► hub log entry ──► Framer: edge frames once per transport in use
//! subscribe ──► subscribe::subscribe ──► hub read by cursor ──► StreamBody / a poll's whole reply
//! ```
//!
//! [`App`] is what every connection shares: the limits, the hub, the framer
//! and the counters.

use alloc::sync::Arc;
use core::sync::atomic::AtomicUsize;
use core::time::Duration;

use pushwire_core::hub::{HubError, Published};

use crate::edge::Edge;

pub mod framing;
pub mod hub;
pub mod metrics;
pub mod reply;
pub mod stream;
pub mod subscribe;

use framing::Framer;
use hub::SharedHub;
use metrics::Metrics;
use reply::{Reply, busy};
use stream::ConnectionSlot;

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
    /// ([`crate::demo::ticker`]). Default `false` here, as the camera.
    pub demo_ticker: bool,
    /// Publish the server's counters once a second on this channel
    /// ([`crate::demo::stats`]) for the monitoring console. Default `None`
    /// here; `pushwire serve` uses `pushwire-stats`.
    pub stats_channel: Option<String>,
    /// Run the built-in demo camera on channel `demo-cam`
    /// ([`crate::demo::camera`]). Default `false` here; `pushwire serve`
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
    pub(crate) fn no_slot(&self) -> Reply {
        busy(&format!(
            "The server has its maximum of {} open connections (streams, held polls, uploads); try again shortly.",
            self.config.max_connections
        ))
    }
}
