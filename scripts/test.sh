#!/usr/bin/env bash
# The one command that checks everything: installs what it needs, then runs
# formatting, lints, every test, the no_std builds and the docs.
# Quick the second time: the target dir lives outside the clone.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pushwire-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
step() { printf '\n==> %s\n' "$*"; }

step "toolchain and targets (rust-toolchain.toml)"
# `rustup target add` reads the toolchain from rust-toolchain.toml; it installs
# the toolchain when missing, and is a no-op when everything is there.
rustup toolchain install "$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)" \
  --profile minimal --component rustfmt,clippy >/dev/null
rustup target add wasm32-unknown-unknown wasm32-wasip2 wasm32v1-none >/dev/null

step "tools the tests use as real clients (curl, ffmpeg, Chromium, Node.js)"
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
# ffmpeg uploads mpjpeg to /ingest and reads /stream back; ffprobe checks snapshots.
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || missing+=(ffmpeg)
# The SDK's end-to-end tests (tests/) drive Debian's Chromium with playwright-core.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
{ command -v node && command -v npm; } >/dev/null 2>&1 || missing+=(nodejs npm)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

step "Node packages of the end-to-end tests (tests/package-lock.json)"
[ -f tests/node_modules/playwright-core/package.json ] && [ -f tests/node_modules/typescript/package.json ] \
  || (cd tests && npm ci --no-audit --no-fund)

step "wasm-bindgen-test-runner 0.2.130 (runs the SDK's unit tests in Chromium)"
tools="$HOME/.cache/pushwire-tools"
runner="$tools/bin/wasm-bindgen-test-runner"
if ! "$runner" --version 2>/dev/null | grep -q ' 0\.2\.130'; then
  # Not --locked: a locked dependency of 0.2.130 is missing from the registry
  # (docs/toolchain.md "The browser SDK").
  CARGO_TARGET_DIR="$tools/build" cargo install wasm-bindgen-cli --version 0.2.130 --root "$tools" --force
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets -- -D warnings

step "core is no_std: builds for wasm32v1-none and wasm32-unknown-unknown without std"
cargo build -p pushwire-core --no-default-features --target wasm32v1-none
cargo build -p pushwire-core --no-default-features --target wasm32-unknown-unknown

step "tests"
cargo test --workspace

step "the browser SDK is clean for wasm32-unknown-unknown"
cargo clippy --target wasm32-unknown-unknown -p pushwire-client --all-targets -- -D warnings
# As served (host/build.rs): without std, with its own allocator and panic handler.
cargo clippy --target wasm32-unknown-unknown -p pushwire-client --no-default-features -- -D warnings

step "the SDK's driver pieces in headless Chromium (wasm-bindgen-test)"
CHROMEDRIVER=/usr/bin/chromedriver CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="$runner" \
  cargo test -p pushwire-client --target wasm32-unknown-unknown

step "the edge guests are clean for their wasm target"
cargo clippy --target wasm32-wasip2 -p pushwire-edge -p pushwire-edge-example -p pushwire-edge-testguest -- -D warnings

step "docs (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps
