//! cargo-fuzz target: see `pushwire_fuzz::url::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushwire_fuzz::url::run(data));
