//! Codec throughput: SSE parse and encode (against the `eventsource-stream`
//! crate on the same bytes) and multipart parse on an MJPEG-like stream.
//!
//! Run with `cargo bench -p pushwire-core --bench codecs`; the numbers are
//! recorded in BENCHMARKS.md.
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::StreamExt;
use pushwire_core::multipart::{
    Boundary, MultipartEncoder, MultipartEvent, MultipartParser, MultipartParserConfig,
};
use pushwire_core::sse::{self, SseEvent, SseParser, SseParserConfig};

/// Network-sized pieces, as a socket would hand them over.
const CHUNK: usize = 8 * 1024;

/// 1000 events, each with an id, an event name and 1 KiB of data.
fn small_events() -> Vec<u8> {
    let data: String = "x".repeat(1024);
    let mut out = Vec::new();
    for i in 0..1000 {
        sse::encode_event(&mut out, Some(&i.to_string()), Some("price"), &data).unwrap();
    }
    out
}

/// 20 events, each one 100 KiB `data:` line.
fn long_lines() -> Vec<u8> {
    let data: String = "y".repeat(100 * 1024);
    let mut out = Vec::new();
    for i in 0..20 {
        sse::encode_event(&mut out, Some(&i.to_string()), None, &data).unwrap();
    }
    out
}

fn parse_pushwire(bytes: &[u8]) -> usize {
    let mut parser = SseParser::new(SseParserConfig::default());
    let mut events = 0;
    for chunk in bytes.chunks(CHUNK) {
        parser.push(chunk);
        while let Some(event) = parser.poll_event() {
            if let Ok(SseEvent::Message(message)) = event {
                events += message.data.len();
            }
        }
    }
    events
}

fn parse_eventsource_stream(bytes: &[u8]) -> usize {
    use eventsource_stream::Eventsource;
    let chunks = bytes
        .chunks(CHUNK)
        .map(|chunk| Ok::<_, core::convert::Infallible>(bytes::Bytes::copy_from_slice(chunk)));
    let mut stream = futures::stream::iter(chunks).eventsource();
    futures::executor::block_on(async {
        let mut events = 0;
        while let Some(event) = stream.next().await {
            events += event.unwrap().data.len();
        }
        events
    })
}

fn sse_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_parse");
    for (name, input) in [
        ("1KiB_events", small_events()),
        ("100KiB_lines", long_lines()),
    ] {
        // Both parsers must see the same events, or the comparison means nothing.
        assert_eq!(parse_pushwire(&input), parse_eventsource_stream(&input));
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(BenchmarkId::new("pushwire", name), &input, |b, input| {
            b.iter(|| parse_pushwire(black_box(input)));
        });
        group.bench_with_input(
            BenchmarkId::new("eventsource-stream", name),
            &input,
            |b, input| b.iter(|| parse_eventsource_stream(black_box(input))),
        );
    }
    group.finish();
}

fn sse_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("sse_encode");
    let data = "z".repeat(1024);
    let multiline = "line one\nline two\r\nline three\n".repeat(32);
    for (name, payload) in [("1KiB", data.as_str()), ("multiline", multiline.as_str())] {
        group.throughput(Throughput::Bytes((payload.len() * 100) as u64));
        group.bench_function(name, |b| {
            let mut out = Vec::with_capacity(payload.len() * 110);
            b.iter(|| {
                out.clear();
                for _ in 0..100 {
                    sse::encode_event(&mut out, Some("a1.b2"), Some("price"), black_box(payload))
                        .unwrap();
                }
                out.len()
            });
        });
    }
    group.finish();
}

/// A 5 MiB MJPEG-like stream: 100 frames of 50 KiB pseudo-random bytes, laid
/// out as ffmpeg's `mpjpeg` muxer writes them.
fn mjpeg_stream(with_length: bool) -> Vec<u8> {
    let mut state = 0x2545_F491_4F6C_DD1D_u64;
    let mut frame = vec![0_u8; 50 * 1024];
    let mut out = Vec::with_capacity(5 * 1024 * 1024 + 100 * 128);
    out.extend_from_slice(b"--ffmpeg\r\n");
    for _ in 0..100 {
        for byte in &mut frame {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        if with_length {
            out.extend_from_slice(
                format!(
                    "Content-type: image/jpeg\r\nContent-length: {}\r\n\r\n",
                    frame.len()
                )
                .as_bytes(),
            );
        } else {
            out.extend_from_slice(b"Content-type: image/jpeg\r\n\r\n");
        }
        out.extend_from_slice(&frame);
        out.extend_from_slice(b"\r\n--ffmpeg\r\n");
    }
    out
}

fn parse_multipart(boundary: &Boundary, bytes: &[u8]) -> usize {
    let mut parser = MultipartParser::new(boundary, MultipartParserConfig::default());
    let mut body_bytes = 0;
    for chunk in bytes.chunks(64 * 1024) {
        parser.push(chunk);
        while let Some(event) = parser.poll_event() {
            if let MultipartEvent::Part(part) = event.unwrap() {
                body_bytes += part.body.len();
            }
        }
    }
    body_bytes
}

fn multipart(c: &mut Criterion) {
    let boundary = Boundary::new("ffmpeg").unwrap();
    let mut group = c.benchmark_group("multipart_parse");
    for (name, input) in [
        ("5MiB_with_content_length", mjpeg_stream(true)),
        ("5MiB_boundary_scan", mjpeg_stream(false)),
    ] {
        assert_eq!(parse_multipart(&boundary, &input), 100 * 50 * 1024);
        group.throughput(Throughput::Bytes(input.len() as u64));
        group.bench_with_input(name, &input, |b, input| {
            b.iter(|| parse_multipart(&boundary, black_box(input)));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("multipart_encode");
    let encoder = MultipartEncoder::new(Boundary::from_random([7; 16]));
    let frame = vec![0x55_u8; 50 * 1024];
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("50KiB_part", |b| {
        let mut out = Vec::with_capacity(frame.len() + 256);
        b.iter(|| {
            out.clear();
            encoder
                .write_part(&mut out, "image/jpeg", &[], black_box(&frame))
                .unwrap();
            out.len()
        });
    });
    group.finish();
}

criterion_group!(benches, sse_parse, sse_encode, multipart);
criterion_main!(benches);
