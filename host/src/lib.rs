//! The pushwire server: a shim that moves bytes between the network, the
//! edge module (routing policy and framing: a WebAssembly component run by
//! wasmtime) and `pushwire-core`'s hub.
//!
//! ```text
//! GET /sub/…  ──► Edge::route ──► hub.subscribe ──► Edge::open ──► preamble
//!                                      │
//! POST /pub/… ──► Edge::accept_publish ──► hub.publish ──► wake subscribers
//!                                      │
//!        subscriber body ◄── shared bytes ◄── Edge::frame (once per transport)
//! ```
//!
//! The host never parses or frames a protocol itself: `pushwire-core`'s
//! machines decide (hub, long-poll) and the edge module frames.

extern crate alloc;

pub mod body;
pub mod cli;
pub mod config;
pub mod demo_camera;
pub mod demos;
pub mod edge;
pub mod fanout;
mod front;
pub mod hub;
pub mod metrics;
pub mod sdk;
pub mod server;
pub mod webcam;
pub mod www;
