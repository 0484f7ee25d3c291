//! Build the edge modules (`host/edge`, the example and the test guest) as
//! WebAssembly components with a nested cargo, and put them in `OUT_DIR`.
//!
//! The nested build uses its own target dir (`<target>/pushwire-edge`, shared
//! by every profile of the outer build) so it never waits on the outer
//! build's lock, and a clean environment so the outer build's flags, wrappers
//! (clippy) and target do not leak into it.

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

    let target_dir = edge_target_dir(&out_dir);
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .arg("build")
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .args(["--target", TARGET, "--profile", PROFILE])
        .arg("--target-dir")
        .arg(&target_dir);
    for (package, _) in GUESTS {
        build.args(["-p", package]);
    }
    // Nothing of the outer build's configuration may leak in. The jobserver
    // (CARGO_MAKEFLAGS) is kept so both builds share the same job slots.
    for var in [
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_BUILD_RUSTFLAGS",
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
    // Applies to the wasm target only (build scripts and proc macros are host code).
    build.env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128");

    let status = build
        .status()
        .expect("cannot run the nested cargo build of the edge modules");
    assert!(
        status.success(),
        "the nested cargo build of the edge modules failed: {status}"
    );

    let built = target_dir.join(TARGET).join(PROFILE);
    for (package, file) in GUESTS {
        let from = built.join(format!("{}.wasm", package.replace('-', "_")));
        let to = out_dir.join(file);
        std::fs::copy(&from, &to).unwrap_or_else(|err| {
            panic!("cannot copy {} to {}: {err}", from.display(), to.display())
        });
    }
}

/// `<outer target dir>/pushwire-edge`, found from `OUT_DIR`
/// (`<target>[/<triple>]/<profile>/build/<pkg>-<hash>/out`); `OUT_DIR/edge-target` if the layout is unexpected.
fn edge_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .find(|dir| dir.file_name().is_some_and(|name| name == "build"))
        .and_then(Path::parent) // <profile>
        .and_then(Path::parent) // <target> or <target>/<triple>
        .map_or_else(
            || out_dir.join("edge-target"),
            |target| target.join("pushwire-edge"),
        )
}
