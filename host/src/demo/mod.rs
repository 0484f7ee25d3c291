//! Built-in publishers that make the demo pages live on a fresh start with no
//! external service: a stock ticker and the server's own numbers.
//!
//! - [`ticker`] publishes made-up prices for a few symbols
//!   [`TICKER_HZ`] times a second on [`TICKER_CHANNEL`] (event `price`), a
//!   `latest`-policy channel: a slow subscriber skips to the newest prices.
//!   `pushwire serve` runs it unless told `--demo-ticker false`.
//! - [`stats`] publishes the server's counters once a second on
//!   [`STATS_CHANNEL`] (event `stats`), for the monitoring console; rates are
//!   the subscriber's to compute from two snapshots. On unless
//!   `--stats-channel ''`.
//!
//! Both publish straight into the hub (like the demo camera): they are the
//! server itself, not clients, so the edge's publish rules do not apply.

pub mod camera;
pub mod sdk;
pub mod www;

use alloc::sync::Arc;
use core::time::Duration;

use pushwire_core::hub::{ChannelConfig, DeliveryPolicy};
use tokio::time::MissedTickBehavior;

use crate::push::App;
use crate::push::reply::{Reply, header};

/// A file built into the binary, as `GET` (or `HEAD`, without the body)
/// answers it. The files change with every build of the server: revalidate
/// rather than cache.
fn built_in_file(method: &hyper::Method, content_type: &str, bytes: &'static [u8]) -> Reply {
    let body = if method == hyper::Method::HEAD {
        bytes::Bytes::new()
    } else {
        bytes::Bytes::from_static(bytes)
    };
    Reply::whole(
        200,
        vec![
            header("content-type", content_type),
            header("cache-control", "no-cache"),
            header("x-content-type-options", "nosniff"),
        ],
        body,
    )
}

/// The ticker's channel.
pub const TICKER_CHANNEL: &str = "ticker";

/// Price updates per second.
pub const TICKER_HZ: u32 = 4;

/// The symbols and their opening prices.
pub const SYMBOLS: [(&str, f64); 5] = [
    ("ACME", 132.50),
    ("GLOBX", 48.20),
    ("INITECH", 12.75),
    ("UMBRL", 301.10),
    ("HOOLI", 87.40),
];

/// The stats channel's default name.
pub const STATS_CHANNEL: &str = "pushwire-stats";

/// Publish prices on [`TICKER_CHANNEL`] until the task is dropped.
pub async fn ticker(app: Arc<App>, seed: u64) {
    if let Err(err) = latest_channel(&app, TICKER_CHANNEL) {
        tracing::error!("the demo ticker cannot set up {TICKER_CHANNEL:?}: {err}");
        return;
    }
    tracing::info!("demo ticker on: channel {TICKER_CHANNEL:?}");
    let mut market = Market::new(seed);
    let mut ticks = tokio::time::interval(Duration::from_secs(1) / TICKER_HZ);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let data = market.step(unix_millis());
        if let Err(err) = app.publish(TICKER_CHANNEL, "price", data.into_bytes()) {
            tracing::error!("the demo ticker cannot publish, stopping: {err}");
            return;
        }
        app.metrics.published();
    }
}

/// Publish the server's counters on `channel` once a second until dropped.
pub async fn stats(app: Arc<App>, channel: String) {
    if let Err(err) = latest_channel(&app, &channel) {
        tracing::error!("the stats publisher cannot set up {channel:?}: {err}");
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(1));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let data = stats_json(&app);
        if let Err(err) = app.publish(&channel, "stats", data.into_bytes()) {
            tracing::error!("the stats publisher cannot publish, stopping: {err}");
            return;
        }
        app.metrics.published();
    }
}

/// The server's numbers now, as one JSON object.
pub fn stats_json(app: &App) -> String {
    let counters = app.metrics.snapshot();
    let edge = app.edge().stats();
    let connections: serde_json::Map<String, serde_json::Value> = app
        .metrics
        .connections()
        .into_iter()
        .map(|(transport, open)| (transport.as_str().to_owned(), open.into()))
        .collect();
    serde_json::json!({
        "time": unix_millis(),
        "connections": connections,
        "subscriptions": app.hub.subscriber_count(),
        "published": counters.published,
        "delivered": counters.delivered,
        "bytes_out": counters.bytes_out,
        "gaps": counters.gaps,
        "slow_disconnects": counters.slow_disconnects,
        "skipped": counters.skipped,
        "edge_calls": edge.calls,
        "edge_traps": edge.traps,
        "edge_call_seconds": Duration::from_nanos(edge.call_nanos).as_secs_f64(),
    })
    .to_string()
}

fn latest_channel(app: &App, channel: &str) -> Result<(), pushwire_core::hub::HubError> {
    app.hub.configure_channel(channel, |base| ChannelConfig {
        policy: DeliveryPolicy::Latest,
        max_count: 64,
        ..base
    })
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

/// A made-up market: each symbol's price takes a small random step per tick.
#[derive(Clone, Debug)]
pub struct Market {
    prices: [f64; SYMBOLS.len()],
    state: u64,
}

impl Market {
    /// Opening prices, steps drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Self {
            prices: SYMBOLS.map(|(_, price)| price),
            state: seed | 1,
        }
    }

    /// Move every price one step; the update as JSON:
    /// `{"time":…,"prices":[{"symbol","price","change"}…]}`.
    pub fn step(&mut self, time: u64) -> String {
        let mut quotes = Vec::with_capacity(SYMBOLS.len());
        for ((symbol, _), price) in SYMBOLS.iter().zip(&mut self.prices) {
            // xorshift64: no dependency, and reproducible from the seed.
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            #[allow(clippy::cast_precision_loss, reason = "a fraction in [0, 1)")]
            let unit = (self.state >> 11) as f64 / (1_u64 << 53) as f64;
            // Up to ±0.6 % a step, never below one cent.
            let change = *price * (unit - 0.5) * 0.012;
            *price = ((*price + change) * 100.0).round().max(1.0) / 100.0;
            quotes.push(serde_json::json!({
                "symbol": symbol,
                "price": *price,
                "change": (change * 100.0).round() / 100.0,
            }));
        }
        serde_json::json!({ "time": time, "prices": quotes }).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_market_moves_every_symbol_a_little_and_stays_positive() {
        let mut market = Market::new(42);
        let mut last = SYMBOLS.map(|(_, price)| price);
        for step in 0..1000 {
            let update: serde_json::Value = serde_json::from_str(&market.step(step)).unwrap();
            let quotes = update["prices"].as_array().unwrap();
            assert_eq!(quotes.len(), SYMBOLS.len());
            for (quote, before) in quotes.iter().zip(&mut last) {
                let price = quote["price"].as_f64().unwrap();
                assert!(price >= 0.01);
                assert!((price - *before).abs() <= *before * 0.007 + 0.01);
                *before = price;
            }
        }
        assert_ne!(last, SYMBOLS.map(|(_, price)| price));
    }
}
