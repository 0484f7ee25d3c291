//! The pushwire server: a shim that moves bytes between the network, the
//! edge module (routing policy and framing: a WebAssembly component run by
//! wasmtime) and `pushwire-core`'s hub. Its rooms are the steps of one
//! pipeline, each using only the ones below it:
//!
//! ```text
//! http     the front door: accept, the HTTP/1.1 loop (h2 on hyper), the routing table
//! demo     the demo pages, the SDK's files, the built-in publishers
//! webcam   camera uploads, <img> streams, snapshots
//! push     publish, framing at publish, streams and poll replies, the hub, metrics
//! edge     the edge module in wasmtime: route, open, frame, accept-publish
//! ```
//!
//! The host never parses or frames a protocol itself: `pushwire-core`'s
//! machines decide (hub, long-poll) and the edge module frames.

extern crate alloc;

pub mod cli;
pub mod config;
pub mod demo;
pub mod edge;
pub mod http;
pub mod push;
pub mod webcam;
