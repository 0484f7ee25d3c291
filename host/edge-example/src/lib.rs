//! An example replacement edge module for `pushwire serve --edge FILE.wasm`.
//!
//! It implements the same WIT world as the built-in edge (`../edge/wit`) and
//! behaves exactly like it, with one rule added: clients may only subscribe to
//! channels whose name starts with [`PREFIX`] (403 otherwise). Publishing is
//! left to the default rules. Build it with
//! `cargo build -p pushwire-edge-example --target wasm32-wasip2 --profile edge`.
//!
//! The default policy is compiled into this crate from the built-in edge's
//! `policy.rs` rather than linked from the `pushwire-edge` rlib: that rlib's
//! component exports (`route`, `open`...) would collide with these.
#![no_std]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

#[cfg(target_arch = "wasm32")]
#[path = "../../edge/src/runtime.rs"]
mod runtime;

/// The built-in edge's policy, written against `crate::bindings`.
#[path = "../../edge/src/policy.rs"]
#[allow(dead_code, unreachable_pub)]
mod policy;

/// The built-in edge's tokens and CORS (`policy` uses them).
#[path = "../../edge/src/auth.rs"]
#[allow(dead_code, unreachable_pub)]
mod auth;

use alloc::format;

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
        path: "../edge/wit",
        world: "edge",
        // The generated code names `std` unless told it is behind a feature.
        std_feature,
        additional_derives: [PartialEq, Eq, Hash],
    });

    #[cfg(target_arch = "wasm32")]
    use super::PublicOnly;
    #[cfg(target_arch = "wasm32")]
    export!(PublicOnly with_types_in self);
}

pub use auth::Policy;
pub use bindings::{Refusal, Request, Subscription};

/// The only channels this module lets anyone subscribe to.
pub const PREFIX: &str = "public-";

/// The default routing (with this instance's tokens), then: every channel
/// must start with [`PREFIX`].
///
/// # Errors
/// The default refusals, or 403 naming the first private channel.
pub fn route(policy: &Policy, req: &Request) -> Result<Subscription, Refusal> {
    let sub = policy::route(policy, req)?;
    if let Some(private) = sub.channels.iter().find(|c| !c.starts_with(PREFIX)) {
        return Err(policy::refuse(
            403,
            format!(
                "Channel {private:?} is private: only channels starting with {PREFIX:?} may be subscribed to."
            ),
        ));
    }
    Ok(sub)
}

#[cfg(target_arch = "wasm32")]
struct PublicOnly;

#[cfg(target_arch = "wasm32")]
impl bindings::Guest for PublicOnly {
    fn configure(settings: bindings::Settings) -> Result<(), alloc::string::String> {
        auth::install(settings)
    }
    fn cors(
        req: Request,
    ) -> Result<alloc::vec::Vec<(alloc::string::String, alloc::string::String)>, Refusal> {
        auth::installed().cors(&req)
    }
    fn route(req: Request) -> Result<Subscription, Refusal> {
        route(auth::installed(), &req)
    }
    fn open(sub: Subscription) -> bindings::ResponseHead {
        policy::open(&sub)
    }
    fn frame(
        transport: bindings::Transport,
        msg: bindings::Message,
    ) -> Result<alloc::vec::Vec<u8>, alloc::string::String> {
        policy::frame(transport, &msg)
    }
    fn frame_reply(
        transport: bindings::Transport,
        cursor: alloc::string::String,
        msgs: alloc::vec::Vec<bindings::Message>,
    ) -> Result<alloc::vec::Vec<u8>, alloc::string::String> {
        policy::frame_reply(transport, &cursor, &msgs)
    }
    fn heartbeat(transport: bindings::Transport) -> alloc::vec::Vec<u8> {
        policy::heartbeat(transport)
    }
    fn end(transport: bindings::Transport) -> alloc::vec::Vec<u8> {
        policy::end(transport)
    }
    fn accept_publish(req: Request, body_len: u64) -> Result<bindings::Publish, Refusal> {
        policy::accept_publish(auth::installed(), &req, body_len)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloc::vec;

    fn get(path: &str) -> Request {
        Request {
            method: "GET".into(),
            path: path.into(),
            query: "transport=stream".into(),
            headers: vec![],
            unix_time: 0,
        }
    }

    #[test]
    fn only_public_channels_may_be_subscribed_to() {
        let sub = route(&Policy::default(), &get("/sub/public-news,public-sport")).unwrap();
        assert_eq!(sub.channels, ["public-news", "public-sport"]);
        assert_eq!(sub.transport, bindings::Transport::Stream);
        let refusal = route(&Policy::default(), &get("/sub/public-news,secret")).unwrap_err();
        assert_eq!(refusal.status, 403);
        assert!(
            refusal.message.contains("\"secret\" is private"),
            "{}",
            refusal.message
        );
    }

    #[test]
    fn the_default_rules_still_apply_first() {
        assert_eq!(
            route(&Policy::default(), &get("/sub/public-a b"))
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            route(&Policy::default(), &get("/other"))
                .unwrap_err()
                .status,
            404
        );
    }
}
