//! Fan-out through the real server with the built-in edge module.
//!
//! N SSE subscribers on loopback, M messages published back-to-back; the time
//! until every subscriber has every message. The median of the repetitions is
//! printed. (What the sandbox costs per call, against the same code called
//! natively, is `edge_call.rs`: the server runs the edge through wasmtime only.)
//!
//! `cargo bench -p pushwire-host --bench fanout` (env `FANOUT_SUBSCRIBERS`,
//! `FANOUT_MESSAGES`, `FANOUT_REPS` change the run).
#![allow(missing_docs, clippy::unwrap_used, clippy::indexing_slicing)]

extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use pushwire_core::hub::HubConfig;
use pushwire_core::longpoll::LongPollConfig;
use pushwire_host::edge::{Edge, EdgeConfig};
use pushwire_host::http::serve;
use pushwire_host::push::framing::Framer;
use pushwire_host::push::hub::SharedHub;
use pushwire_host::push::{App, ServerConfig};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(edge: Edge, subscribers: usize, messages: usize) -> Duration {
    let framer = Framer::new(Arc::new(edge)).unwrap();
    let hub = Arc::new(SharedHub::new(
        HubConfig::default(),
        LongPollConfig::default(),
        1,
    ));
    let app = Arc::new(App::new(ServerConfig::default(), Arc::clone(&hub), framer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, Arc::clone(&app), async {
        let _ = stopped.await;
    }));

    let payload = "x".repeat(100);
    let mut readers = Vec::new();
    for _ in 0..subscribers {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = hyper::Request::get("/sub/bench")
            .header("host", "bench")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = sender.send_request(request).await.unwrap();
        let mut body = response.into_body();
        readers.push(tokio::spawn(async move {
            let _keep = sender;
            let mut seen = 0;
            while seen < messages {
                let Some(Ok(frame)) = body.frame().await else {
                    break;
                };
                if let Ok(data) = frame.into_data() {
                    seen += data.windows(2).filter(|w| w == b"\n\n").count();
                }
            }
            seen
        }));
    }
    while hub.subscriber_count() < subscribers {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let started = Instant::now();
    for _ in 0..messages {
        app.publish("bench", "message", payload.clone().into_bytes())
            .unwrap();
    }
    for reader in readers {
        // The preamble comment ends in a blank line too: at least `messages`.
        assert!(reader.await.unwrap() >= messages);
    }
    let elapsed = started.elapsed();
    let _ = stop.send(());
    let _ = server.await;
    elapsed
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: do
    // a tiny run so the bench stays compiled and working.
    let quick = !std::env::args().any(|a| a == "--bench");
    let subscribers = env("FANOUT_SUBSCRIBERS", if quick { 5 } else { 500 });
    let messages = env("FANOUT_MESSAGES", if quick { 5 } else { 200 });
    let reps = env("FANOUT_REPS", if quick { 1 } else { 5 });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut times = Vec::new();
    for rep in 0..reps {
        let time = runtime.block_on(run(
            Edge::builtin(EdgeConfig::default()).unwrap(),
            subscribers,
            messages,
        ));
        println!("rep {rep}: {time:?}");
        times.push(time);
    }
    let time = median(times);
    let deliveries = (subscribers * messages) as f64;
    println!(
        "fan-out {subscribers} SSE subscribers x {messages} messages of 100 B ({reps} reps, median): \
         {time:?} ({:.0} deliveries/s)",
        deliveries / time.as_secs_f64()
    );
}
