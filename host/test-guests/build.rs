//! Build the example edge (`host/edge-example`) and the misbehaving guest
//! (`host/edge-testguest`) as WebAssembly components into `OUT_DIR`, with the
//! nested cargo `host/build.rs` uses for the built-in edge.

use std::env;
use std::path::PathBuf;

#[path = "../nested_build.rs"]
mod nested_build;

const GUESTS: [(&str, &str); 2] = [
    ("pushwire-edge-example", "edge_example.wasm"),
    ("pushwire-edge-testguest", "edge_testguest.wasm"),
];

fn main() {
    let workspace = nested_build::workspace_root(2);
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    nested_build::watch(
        &workspace,
        &[
            "host/edge-example",
            "host/edge-testguest",
            // The example compiles in the built-in edge's policy and WIT.
            "host/edge/src",
            "host/edge/wit",
            "host/nested_build.rs",
            "core/src",
            "core/Cargo.toml",
            "Cargo.toml",
            "Cargo.lock",
        ],
    );
    nested_build::ensure_targets(&[nested_build::EDGE_TARGET]);
    nested_build::build_edge_guests(&workspace, &out_dir, &GUESTS);
}
