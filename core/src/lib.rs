//! Sans-IO protocol state machines for web push.
//!
//! `pushwire-core` holds every protocol pushwire speaks, written once and
//! driven from three places: natively in tests and the CLI, as the
//! WebAssembly edge module inside the server, and as WebAssembly inside the
//! browser SDK. It does no I/O: no sockets, no clocks, no threads, no async.
//! Bytes and time go in; events, bytes and deadlines come out.
//!
//! ```text
//!              bytes ──▶ push / handle_bytes ──▶ ┌─────────┐ ──▶ poll_event     ──▶ app events
//!   now: Timestamp ──▶ handle_timeout(now)   ──▶ │ machine │ ──▶ poll_transmit  ──▶ bytes / connects
//!                                                └─────────┘ ──▶ poll_timeout   ──▶ next deadline
//! ```
//!
//! | module | what it is |
//! | --- | --- |
//! | [`sse`] | Server-Sent Events encoder and WHATWG-exact incremental parser |
//! | [`multipart`] | `multipart/x-mixed-replace` encoder and tolerant parser (webcams, ffmpeg) |
//! | [`frame`] | the forever frame: padded preamble, escaped `<script>` calls, byte budget |
//! | [`ndjson`], [`wire`], [`json`] | NDJSON streaming and the wire-message JSON the text transports share |
//! | [`hub`], [`cursor`] | channels, bounded replay logs, multi-channel cursors, gaps |
//! | [`longpoll`] | holding polls until something is newer or a timeout |
//! | [`client`] | the transport ladder and reconnect policy the SDK drives |
//! | [`token`] | access tokens: JWT claims naming the channels a bearer may use |
//! | [`http1`] | the HTTP/1.1 heads and chunks of the host's lean streaming path |
//! | [`url`], [`media`] | percent-encoding and query strings; `Accept` ranges and q-values |
//! | [`transport`] | the transports: `?transport=` names and response media types |
//!
//! # Driving a machine
//!
//! Every stateful piece ([`hub::Hub`], [`longpoll::LongPoll`],
//! [`client::ClientMachine`]) and every parser is driven the same way:
//!
//! 1. Read the driver's monotonic clock once per turn as a [`Timestamp`]
//!    (milliseconds, never decreasing).
//! 2. Feed what happened: bytes with `push` / `handle_bytes`, other input
//!    with the matching `handle_*(…, now)`, an expired timer with
//!    `handle_timeout(now)`.
//! 3. Drain the outputs until they return `None`: `poll_event` (for the app
//!    or the next layer), `poll_transmit` / `poll_reply` / `poll_ready` (for
//!    the network).
//! 4. Arm one timer for `poll_timeout()` (if any), and wait for the next
//!    input or the timer; then go to 1.
//!
//! Encoders are plain functions or small structs that append to a caller's
//! `Vec<u8>` and refuse (with an error, writing nothing) any input that would
//! break framing. Parsers are incremental (any split of the input gives the
//! same events), bounded (every size has a limit in its `*Config`, exceeding
//! it is a clear error), sticky on error, and fuzzed (`core/fuzz`).
//!
//! ```
//! use pushwire_core::hub::{Delivery, Hub, HubConfig, StartFrom};
//! use pushwire_core::{Timestamp, sse};
//!
//! // A server publishes; a subscriber's backlog is framed as SSE.
//! let mut hub = Hub::new(HubConfig::default(), 7);
//! let subscriber = hub.subscribe(&["chat"], StartFrom::Oldest).unwrap();
//! hub.publish("chat", "message", b"hello".as_slice(), Timestamp::from_millis(5)).unwrap();
//!
//! let mut wire = Vec::new();
//! for delivery in hub.read(subscriber, 64).unwrap().items {
//!     if let Delivery::Message { entry, cursor, .. } = delivery {
//!         let data = core::str::from_utf8(entry.data()).unwrap();
//!         sse::encode_event(&mut wire, Some(&cursor.to_string()), None, data).unwrap();
//!     }
//! }
//! assert_eq!(wire, b"id: 7.1\ndata: hello\n\n");
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod client;
pub mod cursor;
pub mod frame;
pub mod http1;
pub mod hub;
pub mod json;
pub mod longpoll;
pub mod media;
pub mod multipart;
pub mod ndjson;
pub mod sse;
mod time;
pub mod token;
pub mod transport;
pub mod url;
pub mod wire;

#[cfg(test)]
mod tests;

pub use time::Timestamp;
