//! Edge guests for the host's tests and benchmarks, as component bytes.
//!
//! A dev-dependency of `pushwire-host` only: the `pushwire` binary embeds the
//! built-in edge and nothing else.

/// `host/edge-example`: the built-in policy, and only `public-*` channels.
pub static EXAMPLE_EDGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/edge_example.wasm"));

/// `host/edge-testguest`: loops, traps or eats memory on request.
pub static MISBEHAVING_EDGE: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/edge_testguest.wasm"));
