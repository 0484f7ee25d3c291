//! The default pushwire edge module.
//!
//! Compiled to a WebAssembly component (`wasm32-wasip2`, `no_std`, importing
//! nothing) and embedded in the `pushwire` binary; the host calls it through
//! the WIT world in `wit/edge.wit`. It holds policy (channel naming, limits,
//! transport negotiation, resume cursors) and every byte of framing, built
//! from `pushwire-core`:
//!
//! ```text
//! request ──► route ──► subscription ──► open ──► status, headers, preamble
//! message ──► frame(transport) ──► bytes shared by every subscriber
//! batch   ──► frame-reply ──► long-poll / poll JSON body
//! POST    ──► accept-publish ──► channel, event (or a refusal)
//! ```
//!
//! The same functions ([`policy`]) are a plain Rust API too: the host's tests
//! and benchmarks call them natively to compare with the component and to
//! measure what the sandbox costs, and the unit tests run them without wasm.
#![no_std]

extern crate alloc;
// Natively (tests, clippy, the host's tests and benchmarks) std supplies the panic
// handler and allocator.
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

#[cfg(target_arch = "wasm32")]
mod runtime;

#[cfg(target_arch = "wasm32")]
use alloc::{string::String, vec::Vec};

pub mod auth;
pub mod policy;

#[allow(
    unsafe_code,
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    dead_code,
    clippy::too_many_arguments
)]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "edge",
        // The generated code names `std` unless told it is behind a feature.
        std_feature,
        additional_derives: [PartialEq, Eq, Hash],
    });

    // Only in the component: natively these `#[export_name]`s would be plain
    // C symbols (`open`, `end`...) and clash with libc in the host binary.
    #[cfg(target_arch = "wasm32")]
    use super::DefaultEdge;
    #[cfg(target_arch = "wasm32")]
    export!(DefaultEdge with_types_in self);
}

pub use auth::Policy;
pub use bindings::{
    Message, Publish, Refusal, Request, ResponseHead, Settings, Subscription, Transport,
};
pub use policy::{accept_publish, end, frame, frame_reply, heartbeat, open, route};

/// The world's exports, each one a call into [`policy`] (re-exported at the
/// crate root, so the names below are the free functions, not these methods).
#[cfg(target_arch = "wasm32")]
struct DefaultEdge;

#[cfg(target_arch = "wasm32")]
impl bindings::Guest for DefaultEdge {
    fn configure(settings: Settings) -> Result<(), String> {
        auth::install(settings)
    }
    fn cors(req: Request) -> Result<Vec<(String, String)>, Refusal> {
        auth::installed().cors(&req)
    }
    fn route(req: Request) -> Result<Subscription, Refusal> {
        route(auth::installed(), &req)
    }
    fn open(sub: Subscription) -> ResponseHead {
        open(&sub)
    }
    fn frame(transport: Transport, msg: Message) -> Result<Vec<u8>, String> {
        frame(transport, &msg)
    }
    fn frame_reply(
        transport: Transport,
        cursor: String,
        msgs: Vec<Message>,
    ) -> Result<Vec<u8>, String> {
        frame_reply(transport, &cursor, &msgs)
    }
    fn heartbeat(transport: Transport) -> Vec<u8> {
        heartbeat(transport)
    }
    fn end(transport: Transport) -> Vec<u8> {
        end(transport)
    }
    fn accept_publish(req: Request, body_len: u64) -> Result<Publish, Refusal> {
        accept_publish(auth::installed(), &req, body_len)
    }
}

#[cfg(test)]
mod tests;
