//! Cost of one edge call, through wasmtime (the component, an instance reused
//! from the pool, the deadline armed) and natively (the same `pushwire-edge`
//! code called directly, `tests/support/native.rs`): `frame` of a 100 B and a
//! 10 KiB message for SSE and NDJSON, and `route` of a two-channel subscribe
//! request.
#![allow(missing_docs, clippy::unwrap_used)]

use core::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use pushwire_host::edge::{Edge, EdgeConfig, Message, Refusal, Request, Subscription, Transport};

#[path = "../tests/support/native.rs"]
mod native;

/// The two ways to run the edge, behind one signature for the loop below.
enum Runner {
    Wasm(Box<Edge>),
    Native(native::NativeEdge),
}

impl Runner {
    fn frame(&self, transport: Transport, msg: &Message) -> Result<Vec<u8>, String> {
        match self {
            Self::Wasm(edge) => edge.frame(transport, msg).unwrap(),
            Self::Native(edge) => edge.frame(transport, msg),
        }
    }

    fn route(&self, req: &Request) -> Result<Subscription, Refusal> {
        match self {
            Self::Wasm(edge) => edge.route(req).unwrap(),
            Self::Native(edge) => edge.route(req),
        }
    }
}

fn edge_call(c: &mut Criterion) {
    let mut group = c.benchmark_group("edge_call");
    let edges = [
        (
            "wasm",
            Runner::Wasm(Box::new(Edge::builtin(EdgeConfig::default()).unwrap())),
        ),
        ("native", Runner::Native(native::NativeEdge::default())),
    ];
    for (mode, edge) in &edges {
        for size in [100_usize, 10 * 1024] {
            let msg = Message {
                id: "s44we8.1z".into(),
                channel: "news".into(),
                event: "message".into(),
                data: (0..size)
                    .map(|i| b'a' + u8::try_from(i % 26).unwrap())
                    .collect(),
            };
            group.throughput(Throughput::Bytes(size as u64));
            for transport in [Transport::Sse, Transport::Stream] {
                group.bench_with_input(
                    BenchmarkId::new(format!("frame_{transport}_{mode}"), size),
                    &msg,
                    |b, msg| b.iter(|| edge.frame(transport, black_box(msg)).unwrap()),
                );
            }
        }
        let req = Request {
            method: "GET".into(),
            path: "/sub/news,sport".into(),
            query: "transport=stream&since=s44we8.1z.0".into(),
            headers: vec![
                ("accept".into(), "*/*".into()),
                ("user-agent".into(), "bench".into()),
            ],
            unix_time: 1_700_000_000,
        };
        group.throughput(Throughput::Elements(1));
        group.bench_function(format!("route_{mode}"), |b| {
            b.iter(|| edge.route(black_box(&req)).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, edge_call);
criterion_main!(benches);
