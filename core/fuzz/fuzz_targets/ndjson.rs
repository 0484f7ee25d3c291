//! cargo-fuzz target: see `pushwire_fuzz::ndjson::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushwire_fuzz::ndjson::run(data));
