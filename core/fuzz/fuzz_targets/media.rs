//! cargo-fuzz target: see `pushwire_fuzz::media::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushwire_fuzz::media::run(data));
