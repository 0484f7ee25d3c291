//! Sans-IO protocol state machines for web push.
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
pub mod hub;
pub mod json;
pub mod longpoll;
pub mod multipart;
pub mod ndjson;
pub mod sse;
mod time;
pub mod wire;

#[cfg(test)]
mod tests;

pub use time::Timestamp;
