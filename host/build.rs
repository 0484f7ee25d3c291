//! Build what the host embeds, each with a nested cargo (`nested_build.rs`),
//! into `OUT_DIR`:
//!
//! - the edge module (`host/edge`) as a WebAssembly component
//!   (`wasm32-wasip2`, profile `edge`), and compiled ahead of time by
//!   wasmtime for this machine (`edge.cwasm`); the guests only tests and
//!   benchmarks load are built by `host/test-guests`, a dev-dependency;
//! - the browser SDK (`wasm-client`) for `wasm32-unknown-unknown` (profile
//!   `sdk`, without its default `std` feature), then run through
//!   wasm-bindgen (the `wasm-bindgen-cli-support` library, pinned to the
//!   SDK's exact `wasm-bindgen` version) into `OUT_DIR/sdk/`:
//!   `pushwire_client.js`, `pushwire_client_bg.wasm` and their `.d.ts`
//!   files, then made smaller (the JSDoc blocks go).

use std::env;
use std::path::{Path, PathBuf};

#[path = "nested_build.rs"]
mod nested_build;

#[path = "src/edge/compile.rs"]
mod compile;

use nested_build::{
    EDGE_TARGET, build_edge_guests, ensure_targets, nested_cargo, nested_target_dir, run,
};

const GUESTS: [(&str, &str); 1] = [("pushwire-edge", "edge.wasm")];

const SDK_PACKAGE: &str = "pushwire-client";
const SDK_TARGET: &str = "wasm32-unknown-unknown";
const SDK_PROFILE: &str = "sdk";

fn main() {
    let workspace = nested_build::workspace_root(1);
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    nested_build::watch(
        &workspace,
        &[
            "host/edge/src",
            "host/edge/wit",
            "host/edge/Cargo.toml",
            "host/nested_build.rs",
            "host/src/edge/compile.rs",
            "wasm-client/src",
            "wasm-client/Cargo.toml",
            "core/src",
            "core/Cargo.toml",
            "Cargo.toml",
            "Cargo.lock",
        ],
    );

    ensure_targets(&[EDGE_TARGET, SDK_TARGET]);
    build_edge_guests(&workspace, &out_dir, &GUESTS);
    precompile_edge(&out_dir);
    build_sdk(&workspace, &out_dir);
}

/// Compile the built-in edge to native code now (`OUT_DIR/edge.cwasm`), with
/// the server's compile settings, so a start loads it instead of running
/// Cranelift over it (most of a start's CPU time).
fn precompile_edge(out_dir: &Path) {
    let wasm_path = out_dir.join("edge.wasm");
    let wasm = std::fs::read(&wasm_path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", wasm_path.display()));
    let mut config = wasmtime::Config::new();
    compile::compile_settings(&mut config);
    let engine = wasmtime::Engine::new(&config)
        .unwrap_or_else(|err| panic!("cannot set up wasmtime to precompile the edge: {err:#}"));
    let native = engine
        .precompile_component(&wasm)
        .unwrap_or_else(|err| panic!("cannot precompile {}: {err:#}", wasm_path.display()));
    let native_path = out_dir.join("edge.cwasm");
    std::fs::write(&native_path, native)
        .unwrap_or_else(|err| panic!("cannot write {}: {err}", native_path.display()));
}

fn build_sdk(workspace: &Path, out_dir: &Path) {
    let target_dir = nested_target_dir(out_dir, "pushwire-sdk");
    let mut build = nested_cargo(workspace, &target_dir, SDK_TARGET, SDK_PROFILE);
    // Without the `std` feature: no std in the module, so no std panic
    // machinery and far less `core::fmt` (wasm-client/Cargo.toml).
    build.args(["-p", SDK_PACKAGE, "--no-default-features"]);
    run(build, "the browser SDK");

    let wasm = target_dir
        .join(SDK_TARGET)
        .join(SDK_PROFILE)
        .join(format!("{}.wasm", SDK_PACKAGE.replace('-', "_")));
    let sdk_dir = out_dir.join("sdk");
    std::fs::create_dir_all(&sdk_dir)
        .unwrap_or_else(|err| panic!("cannot create {}: {err}", sdk_dir.display()));
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&wasm)
        .web(true)
        .expect("the web output mode is valid")
        .typescript(true)
        // `init()` with no argument loads the .wasm beside the .js.
        .omit_default_module_path(false)
        // Names are for debuggers; the served SDK is measured by size.
        .remove_name_section(true)
        .remove_producers_section(true)
        .generate(&sdk_dir)
        .unwrap_or_else(|err| panic!("wasm-bindgen failed on {}: {err:#}", wasm.display()));
    strip_doc_comments(&sdk_dir.join(format!("{}.js", SDK_PACKAGE.replace('-', "_"))));
}

/// Remove the `/** … */` blocks wasm-bindgen copies from the Rust docs into
/// the JS glue: the served SDK is measured by size (BENCHMARKS.md), and
/// the same docs reach editors through the `.d.ts` (the TypeScript section
/// in `wasm-client/src/lib.rs`). Only whole-line blocks are removed.
fn strip_doc_comments(js: &Path) {
    let text = std::fs::read_to_string(js)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", js.display()));
    let mut out = String::with_capacity(text.len());
    let mut in_doc = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if !in_doc && trimmed.starts_with("/**") {
            in_doc = true;
        }
        if in_doc {
            if trimmed.ends_with("*/") {
                in_doc = false;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    assert!(!in_doc, "unterminated doc comment in {}", js.display());
    std::fs::write(js, out).unwrap_or_else(|err| panic!("cannot write {}: {err}", js.display()));
}
