//! cargo-fuzz target: see `pushwire_fuzz::token::run`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| pushwire_fuzz::token::run(data));
