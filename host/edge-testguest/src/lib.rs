//! A misbehaving edge module, for the host's isolation tests.
//!
//! `route` on `/sub/loop` spins forever, on `/sub/trap` panics (a wasm
//! trap), on `/sub/oom` allocates until memory runs out; any other path is
//! routed normally. `open` does the same for a channel named `loop`, `trap`
//! or `oom`, `frame` and `frame-reply` for such message data, and
//! `accept-publish` for `/pub/loop` and so on. The host must survive all
//! three, whichever call meets them.
#![no_std]

extern crate alloc;
#[cfg(not(target_arch = "wasm32"))]
extern crate std;

#[cfg(target_arch = "wasm32")]
#[path = "../../edge/src/runtime.rs"]
mod runtime;

#[cfg(target_arch = "wasm32")]
use alloc::{string::String, vec, vec::Vec};

#[allow(
    unsafe_code,
    missing_docs,
    unreachable_pub,
    unused_qualifications,
    clippy::too_many_arguments
)]
mod bindings {
    wit_bindgen::generate!({
        path: "../edge/wit",
        world: "edge",
        // The generated code names `std` unless told it is behind a feature.
        std_feature,
    });

    // Here rather than at the crate root so that `allow(unsafe_code)` covers
    // the generated `extern "C"` exports.
    // Only in the component: natively these `#[export_name]`s would be plain
    // C symbols (`open`, `end`...) that clash with libc.
    #[cfg(target_arch = "wasm32")]
    use super::Misbehave;
    #[cfg(target_arch = "wasm32")]
    export!(Misbehave with_types_in self);
}

#[cfg(target_arch = "wasm32")]
use bindings::{
    Message, Publish, Refusal, Request, ResponseHead, Settings, Subscription, Transport,
};

#[cfg(target_arch = "wasm32")]
/// Misbehave as `what` asks (`loop`, `trap`, `oom`), or return.
fn misbehave(what: &[u8]) {
    match what {
        b"loop" => {
            let mut n = 0_u64;
            loop {
                n = core::hint::black_box(n.wrapping_add(1));
            }
        }
        b"trap" => panic!("the test guest traps on request"),
        b"oom" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 1 << 20]);
                core::hint::black_box(&hoard);
            }
        }
        _ => {}
    }
}

#[cfg(target_arch = "wasm32")]
struct Misbehave;

#[cfg(target_arch = "wasm32")]
impl bindings::Guest for Misbehave {
    fn configure(_settings: Settings) -> Result<(), String> {
        Ok(())
    }

    /// `OPTIONS /loop` and the like misbehave; otherwise no CORS headers.
    fn cors(req: Request) -> Result<Vec<(String, String)>, Refusal> {
        misbehave(req.path.trim_start_matches('/').as_bytes());
        Ok(Vec::new())
    }

    /// `/sub/loop`, `/sub/trap`, `/sub/oom` misbehave; any other path is
    /// routed (as an SSE subscription to one channel named by the path).
    fn route(req: Request) -> Result<Subscription, Refusal> {
        misbehave(
            req.path
                .strip_prefix("/sub/")
                .unwrap_or_default()
                .as_bytes(),
        );
        Ok(Subscription {
            channels: vec![req.path],
            transport: Transport::Sse,
            cursor: None,
            callback: None,
            min_interval_ms: None,
        })
    }

    fn open(sub: Subscription) -> ResponseHead {
        misbehave(sub.channels.first().map_or("", String::as_str).as_bytes());
        ResponseHead {
            status: 200,
            headers: Vec::new(),
            preamble: Vec::new(),
            byte_budget: None,
            repeat_last_ms: None,
        }
    }

    /// Data `loop`, `trap` or `oom` misbehave; other data comes back as is.
    fn frame(_transport: Transport, msg: Message) -> Result<Vec<u8>, String> {
        misbehave(&msg.data);
        Ok(msg.data)
    }

    fn frame_reply(
        _transport: Transport,
        cursor: String,
        msgs: Vec<Message>,
    ) -> Result<Vec<u8>, String> {
        for msg in &msgs {
            misbehave(&msg.data);
        }
        Ok(cursor.into_bytes())
    }

    fn heartbeat(_transport: Transport) -> Vec<u8> {
        Vec::new()
    }

    fn end(_transport: Transport) -> Vec<u8> {
        Vec::new()
    }

    fn accept_publish(req: Request, _body_len: u64) -> Result<Publish, Refusal> {
        misbehave(
            req.path
                .strip_prefix("/pub/")
                .unwrap_or_default()
                .as_bytes(),
        );
        Ok(Publish {
            channel: req.path,
            event: "message".into(),
        })
    }
}
