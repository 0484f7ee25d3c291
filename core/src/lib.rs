//! Sans-IO protocol state machines for web push.
#![no_std]
#![forbid(unsafe_code)]
#![warn(clippy::unwrap_used, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::indexing_slicing))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod cursor;
pub mod frame;
pub mod hub;
pub mod json;
pub mod longpoll;
pub mod ndjson;
pub mod sse;
pub mod wire;
mod time;

pub use time::Timestamp;
