//! Nested cargo builds for build scripts: `host/build.rs` (the edge module
//! and the browser SDK) and `host/test-guests/build.rs` (the guests only the
//! tests and benchmarks load) both include this file with `#[path]`.
//!
//! Each nested build uses its own target dir (`<target>/pushwire-edge`,
//! `<target>/pushwire-sdk`, shared by every profile of the outer build) so it
//! never waits on the outer build's lock, and a clean environment so the
//! outer build's flags, wrappers (clippy) and target do not leak into it.
#![allow(dead_code, reason = "each build script uses part of it")]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The target and profile of every edge guest (`[profile.edge]`).
pub(crate) const EDGE_TARGET: &str = "wasm32-wasip2";
pub(crate) const EDGE_PROFILE: &str = "edge";
/// The nested target dir of the edge guests, shared by both build scripts so
/// `pushwire-core` for the guests is compiled once.
pub(crate) const EDGE_TARGET_DIR: &str = "pushwire-edge";

/// The workspace root, from a build script in `<root>/<depth components>`.
pub(crate) fn workspace_root(depth: usize) -> PathBuf {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    manifest_dir
        .ancestors()
        .nth(depth)
        .expect("the package sits inside the workspace root")
        .to_path_buf()
}

/// Ask cargo to run the build script again when any of `watched` (paths
/// from the workspace root) changes.
pub(crate) fn watch(workspace: &Path, watched: &[&str]) {
    for path in watched {
        println!("cargo::rerun-if-changed={}", workspace.join(path).display());
    }
}

/// Build the edge guests `guests` (package, file name) as components and
/// copy each to `OUT_DIR/<file>`.
pub(crate) fn build_edge_guests(workspace: &Path, out_dir: &Path, guests: &[(&str, &str)]) {
    let target_dir = nested_target_dir(out_dir, EDGE_TARGET_DIR);
    let mut build = nested_cargo(workspace, &target_dir, EDGE_TARGET, EDGE_PROFILE);
    for (package, _) in guests {
        build.args(["-p", package]);
    }
    // Applies to the wasm target only (build scripts and proc macros are host code).
    build.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");
    run(build, "the edge modules");

    let built = target_dir.join(EDGE_TARGET).join(EDGE_PROFILE);
    for (package, file) in guests {
        copy(
            &built.join(format!("{}.wasm", package.replace('-', "_"))),
            &out_dir.join(file),
        );
    }
}

/// Install the wasm targets the nested builds need when the toolchain lacks
/// them (a toolchain that came with the machine has only its host target, and
/// rustup does not add the targets `rust-toolchain.toml` names on its own), so
/// the first `cargo run` on a fresh machine works. Without rustup, stop with
/// one line that says what to install.
pub(crate) fn ensure_targets(targets: &[&str]) {
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

/// A `cargo build` of the workspace for `target` / `profile` into `target_dir`,
/// with nothing of the outer build's configuration.
pub(crate) fn nested_cargo(
    workspace: &Path,
    target_dir: &Path,
    target: &str,
    profile: &str,
) -> Command {
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

pub(crate) fn run(mut build: Command, what: &str) {
    let status = build
        .status()
        .unwrap_or_else(|err| panic!("cannot run the nested cargo build of {what}: {err}"));
    assert!(
        status.success(),
        "the nested cargo build of {what} failed: {status}"
    );
}

pub(crate) fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|err| panic!("cannot copy {} to {}: {err}", from.display(), to.display()));
}

/// `<outer target dir>/<name>`, found from `OUT_DIR`
/// (`<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`); `OUT_DIR/<name>` if the layout is unexpected.
pub(crate) fn nested_target_dir(out_dir: &Path, name: &str) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|file| file == "build"))
        .and_then(Path::parent) // <profile>
        .and_then(Path::parent) // <target> or <target>/<triple>
        .map_or_else(|| out_dir.join(name), |target| target.join(name))
}
