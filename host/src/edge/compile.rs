//! The engine settings that change compiled code, in one place: the build
//! compiles the built-in edge ahead of time with them (`host/build.rs`), and
//! the server's engine uses the same, so the precompiled module fits it.
//! Shared with the build script by `#[path]`.

/// Apply the settings that shape compiled guest code to `config`.
pub(crate) fn compile_settings(config: &mut wasmtime::Config) -> &mut wasmtime::Config {
    // Epoch checks are compiled into the guest code: the deadline needs them.
    config.epoch_interruption(true)
}
