//! Fuzz bodies for every pushwire-core parser.
//!
//! Each module has one `run(data: &[u8])` that must never panic on any input
//! and checks the parser's properties (any split parses like the whole,
//! re-encoding round-trips). The cargo-fuzz targets in `fuzz_targets/` call
//! them; the tests below run them on seeds and on generated inputs, so plain
//! `cargo test` keeps them compiling and honest.
//!
//! Run one for a minute (cargo-fuzz needs a nightly toolchain):
//! `cd core && cargo +nightly fuzz run sse -- -max_total_time=60`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, missing_docs)]

extern crate alloc;

pub mod cursor;
pub mod http1;
pub mod media;
pub mod multipart;
pub mod ndjson;
pub mod sse;
pub mod token;
pub mod url;
pub mod wire;

#[cfg(test)]
mod tests {
    /// Protocol-flavoured fragments the generator glues together, so generated
    /// inputs reach deep states rather than failing on the first byte.
    const FRAGMENTS: &[&[u8]] = &[
        b"data: x\n",
        b"data:  spaced\r\n",
        b"id: 7\r",
        b"event: price\n",
        b"retry: 1500\n",
        b":comment\n",
        b"\n",
        b"\r\n",
        b"\r",
        b"\xEF\xBB\xBF",
        b"\xFF\xC3",
        b"--ffmpeg\r\n",
        b"--b\n",
        b"Content-Type: image/jpeg\r\n",
        b"Content-Length: 3\r\n\r\n",
        b"\r\n--ffmpeg--\r\n",
        b"{\"id\":\"1.2\",\"channel\":\"c\",\"data\":\"x\"}\n",
        b"{\"cursor\":\"1.2\",\"messages\":[]}",
        b"\"\\u00e9\\ud83d\\ude00\"",
        b"[{[{",
        b"1.a.zz",
        b"0",
        b"\x00",
        b"{\"exp\":17,\"pushwire\":{\"publish\":[\"a*\"],\"subscribe\":[\"*\"]}}",
        b"eyJhbGciOiJIUzI1NiJ9.",
        b"e30.",
        b"GET /sub/a HTTP/1.1\r\n",
        b"Host: x\r\n",
        b" folded\r\n",
        b"Content-Length: 5\r\n",
        b"/sub/a%2Cb?",
        b"transport=long+poll&",
        b"%zz",
        b"%e2%82%ac",
        b"text/html;q=0.5, ",
        b";level=\"a,b\"",
        b"q=1.000",
        b"*/*",
    ];

    /// Deterministic inputs: `count` byte strings built from fragments and noise.
    fn generated(count: usize) -> Vec<Vec<u8>> {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..count)
            .map(|_| {
                let mut input = Vec::new();
                for _ in 0..(next() % 24) {
                    let roll = next();
                    if roll % 5 == 0 {
                        input.push((roll >> 8) as u8);
                    } else {
                        let fragment = FRAGMENTS[(roll >> 8) as usize % FRAGMENTS.len()];
                        input.extend_from_slice(fragment);
                    }
                }
                input
            })
            .collect()
    }

    fn run_all(body: fn(&[u8])) {
        for input in generated(3000) {
            body(&input);
        }
        for seed in FRAGMENTS {
            body(seed);
        }
        body(&[]);
    }

    #[test]
    fn sse_body_holds_on_generated_inputs() {
        run_all(super::sse::run);
    }

    #[test]
    fn multipart_body_holds_on_generated_inputs() {
        run_all(super::multipart::run);
    }

    #[test]
    fn ndjson_body_holds_on_generated_inputs() {
        run_all(super::ndjson::run);
    }

    #[test]
    fn wire_body_holds_on_generated_inputs() {
        run_all(super::wire::run);
    }

    #[test]
    fn cursor_body_holds_on_generated_inputs() {
        run_all(super::cursor::run);
    }

    #[test]
    fn token_body_holds_on_generated_inputs() {
        run_all(super::token::run);
    }

    #[test]
    fn http1_body_holds_on_generated_inputs() {
        run_all(super::http1::run);
        // Found by `cargo fuzz run http1`: a written field value holding a
        // control byte other than CR, LF or NUL (the writer drops it).
        super::http1::run(b"G:\x0e");
    }

    #[test]
    fn url_body_holds_on_generated_inputs() {
        run_all(super::url::run);
    }

    #[test]
    fn media_body_holds_on_generated_inputs() {
        run_all(super::media::run);
    }
}
