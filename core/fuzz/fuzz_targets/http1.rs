//! cargo-fuzz target: see `pushwire_fuzz::http1::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushwire_fuzz::http1::run(data));
