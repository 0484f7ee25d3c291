//! Build what the host embeds, each with a nested cargo, into `OUT_DIR`:
//!
//! - the edge modules (`host/edge`, the example and the test guest) as
//!   WebAssembly components (`wasm32-wasip2`, profile `edge`);
//! - the browser SDK (`wasm-client`) for `wasm32-unknown-unknown` (profile
//!   `sdk`, without its default `std` feature), then run through
//!   wasm-bindgen (the `wasm-bindgen-cli-support` library, pinned to the
//!   SDK's exact `wasm-bindgen` version) into `OUT_DIR/sdk/`:
//!   `pushwire_client.js`, `pushwire_client_bg.wasm` and their `.d.ts`
//!   files, then made smaller (the JSDoc blocks go).
//!
//! Each nested build uses its own target dir (`<target>/pushwire-edge`,
//! `<target>/pushwire-sdk`, shared by every profile of the outer build) so it
//! never waits on the outer build's lock, and a clean environment so the
//! outer build's flags, wrappers (clippy) and target do not leak into it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const GUESTS: [(&str, &str); 3] = [
    ("pushwire-edge", "edge.wasm"),
    ("pushwire-edge-example", "edge_example.wasm"),
    ("pushwire-edge-testguest", "edge_testguest.wasm"),
];
const TARGET: &str = "wasm32-wasip2";
const PROFILE: &str = "edge";

const SDK_PACKAGE: &str = "pushwire-client";
const SDK_TARGET: &str = "wasm32-unknown-unknown";
const SDK_PROFILE: &str = "sdk";

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ sits in the workspace root");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    for watched in [
        "host/edge/src",
        "host/edge/wit",
        "host/edge/Cargo.toml",
        "host/edge-example",
        "host/edge-testguest",
        "wasm-client/src",
        "wasm-client/Cargo.toml",
        "core/src",
        "core/Cargo.toml",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!(
            "cargo::rerun-if-changed={}",
            workspace.join(watched).display()
        );
    }

    ensure_targets(&[TARGET, SDK_TARGET]);
    build_edge_guests(workspace, &out_dir);
    build_sdk(workspace, &out_dir);
}

/// Install the wasm targets the nested builds need when the toolchain lacks
/// them (a toolchain that came with the machine has only its host target, and
/// rustup does not add the targets `rust-toolchain.toml` names on its own), so
/// the first `cargo run` on a fresh machine works. Without rustup, stop with
/// one line that says what to install.
fn ensure_targets(targets: &[&str]) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let missing: Vec<&str> = targets
        .iter()
        .copied()
        .filter(|target| {
            sysroot
                .as_ref()
                .is_none_or(|root| !root.join("lib/rustlib").join(target).join("lib").is_dir())
        })
        .collect();
    if missing.is_empty() {
        return;
    }
    let hint = format!("rustup target add {}", missing.join(" "));
    println!("cargo::warning=installing the missing Rust targets: {hint}");
    let mut add = Command::new("rustup");
    add.args(["target", "add"]).args(&missing);
    // The toolchain of the outer build (rust-toolchain.toml), not rustup's default.
    if let Some(toolchain) = env::var_os("RUSTUP_TOOLCHAIN") {
        add.arg("--toolchain").arg(toolchain);
    }
    match add.status() {
        Ok(status) if status.success() => {}
        _ => panic!(
            "the Rust targets {} are missing; run `{hint}`",
            missing.join(", ")
        ),
    }
}

fn build_edge_guests(workspace: &Path, out_dir: &Path) {
    let target_dir = nested_target_dir(out_dir, "pushwire-edge");
    let mut build = nested_cargo(workspace, &target_dir, TARGET, PROFILE);
    for (package, _) in GUESTS {
        build.args(["-p", package]);
    }
    // Applies to the wasm target only (build scripts and proc macros are host code).
    build.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");
    run(build, "the edge modules");

    let built = target_dir.join(TARGET).join(PROFILE);
    for (package, file) in GUESTS {
        copy(
            &built.join(format!("{}.wasm", package.replace('-', "_"))),
            &out_dir.join(file),
        );
    }
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
/// the JS glue: the served SDK is measured by size (0.7 KiB gzipped), and
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

/// A `cargo build` of the workspace for `target` / `profile` into `target_dir`,
/// with nothing of the outer build's configuration.
fn nested_cargo(workspace: &Path, target_dir: &Path, target: &str, profile: &str) -> Command {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["--target", target, "--profile", profile])
        .arg("--target-dir")
        .arg(target_dir);
    // The jobserver (CARGO_MAKEFLAGS) is kept so both builds share the same job slots.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        build.env_remove(var);
    }
    for (var, _) in env::vars_os() {
        if var
            .to_str()
            .is_some_and(|v| v.starts_with("CARGO_FEATURE_") || v.starts_with("CARGO_CFG_"))
        {
            build.env_remove(var);
        }
    }
    build
}

fn run(mut build: Command, what: &str) {
    let status = build
        .status()
        .unwrap_or_else(|err| panic!("cannot run the nested cargo build of {what}: {err}"));
    assert!(
        status.success(),
        "the nested cargo build of {what} failed: {status}"
    );
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|err| panic!("cannot copy {} to {}: {err}", from.display(), to.display()));
}

/// `<outer target dir>/<name>`, found from `OUT_DIR`
/// (`<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`); `OUT_DIR/<name>` if the layout is unexpected.
fn nested_target_dir(out_dir: &Path, name: &str) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|file| file == "build"))
        .and_then(Path::parent) // <profile>
        .and_then(Path::parent) // <target> or <target>/<triple>
        .map_or_else(|| out_dir.join(name), |target| target.join(name))
}
