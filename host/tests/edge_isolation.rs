//! The edge module through wasmtime: a bad module costs only the call that
//! met it, a replacement module's policy applies, and the built-in module
//! gives exactly what the same code gives natively (`support/native.rs`).
#![allow(missing_docs, clippy::unwrap_used)]

extern crate alloc;

use alloc::sync::Arc;
use core::time::Duration;
use std::time::Instant;

use pushwire_host::edge::{Edge, EdgeConfig, EdgeError, Message, Request, Subscription, Transport};
use pushwire_test_guests::{EXAMPLE_EDGE, MISBEHAVING_EDGE};

#[path = "support/native.rs"]
mod native;

use native::NativeEdge;

fn request(method: &str, path: &str, query: &str, headers: &[(&str, &str)]) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: headers
            .iter()
            .map(|(name, value)| ((*name).into(), (*value).into()))
            .collect(),
        unix_time: 1_700_000_000,
    }
}

fn get(path: &str) -> Request {
    request("GET", path, "", &[])
}

fn message(event: &str, data: &[u8]) -> Message {
    Message {
        id: "s44we8.1z".into(),
        channel: "news".into(),
        event: event.into(),
        data: data.to_vec(),
    }
}

fn config(reuse_instances: bool) -> EdgeConfig {
    EdgeConfig {
        deadline: Duration::from_millis(50),
        reuse_instances,
        ..EdgeConfig::default()
    }
}

#[test]
fn builtin_edge_imports_nothing_and_routes() {
    let edge = Edge::builtin(EdgeConfig::default()).unwrap();
    assert_eq!(edge.imports(), Vec::<String>::new());
    let req = request(
        "GET",
        "/sub/news,sport",
        "since=s44we8.1z.0",
        &[("accept", "application/x-ndjson")],
    );
    let sub = edge.route(&req).unwrap().unwrap();
    assert_eq!(sub.channels, ["news", "sport"]);
    assert_eq!(sub.transport, Transport::Stream);
    assert_eq!(sub.cursor.as_deref(), Some("s44we8.1z.0"));
    let refusal = edge.route(&get("/sub/bad name")).unwrap().unwrap_err();
    assert_eq!(refusal.status, 400);
    assert!(
        refusal.message.contains("\"bad name\""),
        "{}",
        refusal.message
    );
}

#[test]
fn builtin_edge_frames_with_core() {
    let edge = Edge::builtin(EdgeConfig::default()).unwrap();
    let msg = message("tick", b"hi");
    assert_eq!(
        edge.frame(Transport::Sse, &msg).unwrap().unwrap(),
        b"id: s44we8.1z\nevent: tick\ndata: hi\n\n"
    );
    assert_eq!(
        edge.frame(Transport::Stream, &msg).unwrap().unwrap(),
        b"{\"id\":\"s44we8.1z\",\"channel\":\"news\",\"event\":\"tick\",\"data\":\"hi\"}\n"
    );
    let reason = edge
        .frame(Transport::Sse, &message("message", b"\xff"))
        .unwrap()
        .unwrap_err();
    assert!(reason.contains("not UTF-8"), "{reason}");
    assert_eq!(edge.heartbeat(Transport::Sse).unwrap(), b":\n");
    assert_eq!(edge.end(Transport::Iframe).unwrap(), b"</body></html>");
}

#[test]
fn looping_guest_is_stopped_at_its_deadline_and_the_edge_keeps_working() {
    for reuse in [true, false] {
        let edge = Edge::from_bytes(MISBEHAVING_EDGE, config(reuse)).unwrap();
        let started = Instant::now();
        let err = edge.route(&get("/sub/loop")).unwrap_err();
        let took = started.elapsed();
        assert!(matches!(err, EdgeError::Timeout(_)), "{err}");
        // Bounded, not timed: a guest that was never stopped would hang here.
        assert!(took < Duration::from_secs(5), "stopped after {took:?}");
        assert_eq!(
            edge.route(&get("/sub/ok")).unwrap().unwrap().channels,
            ["/sub/ok"]
        );
        // Any export, not only `route`.
        let err = edge
            .frame(Transport::Sse, &message("message", b"loop"))
            .unwrap_err();
        assert!(matches!(err, EdgeError::Timeout(_)), "{err}");
        assert_eq!(
            edge.frame(Transport::Sse, &message("message", b"fine"))
                .unwrap()
                .unwrap(),
            b"fine"
        );
        let stats = edge.stats();
        assert_eq!((stats.timeouts, stats.traps), (2, 0), "{stats:?}");
    }
}

#[test]
fn trapping_guest_returns_an_error_and_the_edge_keeps_working() {
    for reuse in [true, false] {
        let edge = Edge::from_bytes(MISBEHAVING_EDGE, config(reuse)).unwrap();
        assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
        let err = edge.route(&get("/sub/trap")).unwrap_err();
        assert!(matches!(err, EdgeError::Trap(_)), "{err}");
        assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
        let err = edge
            .accept_publish(&request("POST", "/pub/trap", "", &[]), 0)
            .unwrap_err();
        assert!(matches!(err, EdgeError::Trap(_)), "{err}");
        assert_eq!(edge.stats().traps, 2);
    }
}

#[test]
fn guest_that_eats_memory_hits_the_cap_and_the_edge_keeps_working() {
    let edge = Edge::from_bytes(MISBEHAVING_EDGE, config(true)).unwrap();
    let started = Instant::now();
    let err = edge.route(&get("/sub/oom")).unwrap_err();
    assert!(matches!(err, EdgeError::Trap(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
}

#[test]
fn many_threads_share_one_edge_and_a_full_pool_waits_instead_of_failing() {
    // Two instances for eight threads: calls wait for a free instance.
    let edge = Arc::new(
        Edge::builtin(EdgeConfig {
            max_instances: 2,
            ..EdgeConfig::default()
        })
        .unwrap(),
    );
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let edge = Arc::clone(&edge);
            std::thread::spawn(move || {
                for _ in 0..200 {
                    let framed = edge
                        .frame(Transport::Stream, &message("message", b"x"))
                        .unwrap()
                        .unwrap();
                    assert!(framed.ends_with(b"\n"));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let stats = edge.stats();
    assert_eq!((stats.traps, stats.busy), (0, 0), "{stats:?}");
}

#[test]
fn a_call_stopped_at_its_deadline_stops_no_call_on_another_thread() {
    // The epoch is the engine's: the call that overruns moves it for every
    // store, and only that call may stop there.
    let edge = Arc::new(Edge::from_bytes(MISBEHAVING_EDGE, config(true)).unwrap());
    let looping = {
        let edge = Arc::clone(&edge);
        std::thread::spawn(move || edge.route(&get("/sub/loop")))
    };
    let mut calls = 0_u64;
    while !looping.is_finished() {
        let framed = edge.frame(Transport::Stream, &message("message", b"x"));
        assert_eq!(framed.unwrap().unwrap(), b"x");
        calls += 1;
    }
    assert!(matches!(
        looping.join().unwrap(),
        Err(EdgeError::Timeout(_))
    ));
    // And after it, on this thread and on a fresh one.
    assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
    let fresh =
        std::thread::spawn(move || edge.route(&get("/sub/ok")).map(|routed| routed.is_ok()));
    assert!(fresh.join().unwrap().unwrap());
    assert!(calls > 0);
}

#[test]
fn a_call_waits_for_the_instance_a_looping_call_holds() {
    let edge = Arc::new(
        Edge::from_bytes(
            MISBEHAVING_EDGE,
            EdgeConfig {
                max_instances: 1,
                deadline: Duration::from_millis(300),
                ..EdgeConfig::default()
            },
        )
        .unwrap(),
    );
    let looping = {
        let edge = Arc::clone(&edge);
        std::thread::spawn(move || edge.route(&get("/sub/loop")))
    };
    // Let the looping call start first (ordering only: the assertions below
    // hold whichever call takes the one instance).
    while edge.stats().calls == 0 {
        std::thread::yield_now();
    }
    // The one instance loops; this call waits for it (it comes back after
    // its deadline, as a timeout), then gets a fresh instance.
    assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
    assert!(matches!(
        looping.join().unwrap(),
        Err(EdgeError::Timeout(_))
    ));
}

#[test]
fn calls_that_cannot_get_an_instance_within_a_deadline_are_busy() {
    let edge = Arc::new(
        Edge::from_bytes(
            MISBEHAVING_EDGE,
            EdgeConfig {
                max_instances: 1,
                deadline: Duration::from_millis(200),
                ..EdgeConfig::default()
            },
        )
        .unwrap(),
    );
    // One instance, four calls that each hold it for a whole deadline; a
    // caller waits up to two deadlines for it.
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let edge = Arc::clone(&edge);
            std::thread::spawn(move || edge.route(&get("/sub/loop")))
        })
        .collect();
    let results: Vec<_> = threads
        .into_iter()
        .map(|thread| match thread.join().unwrap() {
            Err(EdgeError::Timeout(_)) => "timeout",
            Err(EdgeError::Busy(1)) => "busy",
            other => panic!("{other:?}"),
        })
        .collect();
    // How many waiters get the instance in time depends on scheduling (the
    // machines are shared): the first two calls run (and time out), the
    // last one cannot get it within two deadlines, the third may do either.
    let timeouts = results.iter().filter(|r| **r == "timeout").count() as u64;
    let busy = results.iter().filter(|r| **r == "busy").count() as u64;
    assert!(timeouts >= 2 && busy >= 1, "{results:?}");
    let stats = edge.stats();
    assert_eq!((stats.timeouts, stats.busy), (timeouts, busy), "{stats:?}");
    assert!(edge.route(&get("/sub/ok")).unwrap().is_ok());
}

#[test]
fn example_edge_only_allows_its_prefix_through_the_real_wasm() {
    let edge = Edge::from_bytes(EXAMPLE_EDGE, EdgeConfig::default()).unwrap();
    assert_eq!(edge.imports(), Vec::<String>::new());
    let sub = edge
        .route(&request("GET", "/sub/public-news", "transport=stream", &[]))
        .unwrap()
        .unwrap();
    assert_eq!(sub.channels, ["public-news"]);
    assert_eq!(sub.transport, Transport::Stream);
    let refusal = edge
        .route(&get("/sub/public-a,secret"))
        .unwrap()
        .unwrap_err();
    assert_eq!(refusal.status, 403);
    assert!(
        refusal.message.contains("\"secret\" is private"),
        "{}",
        refusal.message
    );
    // The default rules still apply, and it frames like the built-in edge.
    assert_eq!(
        edge.route(&get("/sub/public a"))
            .unwrap()
            .unwrap_err()
            .status,
        400
    );
    let builtin = Edge::builtin(EdgeConfig::default()).unwrap();
    let msg = message("message", b"hello");
    assert_eq!(
        edge.frame(Transport::Sse, &msg).unwrap(),
        builtin.frame(Transport::Sse, &msg).unwrap()
    );
}

#[test]
fn bytes_that_are_not_a_component_are_refused_at_load() {
    for bytes in [&b"\0asm nonsense"[..], b"", b"not wasm at all"] {
        let Err(err) = Edge::from_bytes(bytes, EdgeConfig::default()) else {
            panic!("loaded {bytes:?}")
        };
        assert!(matches!(err, EdgeError::Load(_)), "{err}");
    }
}

#[test]
fn native_and_wasm_edges_give_identical_results() {
    let wasm = Edge::builtin(EdgeConfig::default()).unwrap();
    let native = NativeEdge::default();
    let requests = [
        get("/sub/news"),
        get("/sub/news,sport,news"),
        get("/sub/a%20b"),
        get("/sub/"),
        get("/nowhere"),
        request("POST", "/sub/news", "", &[]),
        request(
            "GET",
            "/sub/news",
            "transport=iframe&callback=app.deliver",
            &[],
        ),
        request(
            "GET",
            "/sub/news",
            "transport=iframe&callback=alert(1)",
            &[],
        ),
        request("GET", "/sub/news", "transport=carrier-pigeon", &[]),
        request("GET", "/sub/news,sport", "since=s44we8.1z.0", &[]),
        request("GET", "/sub/news", "since=nope!", &[]),
        request("GET", "/sub/news", "", &[("last-event-id", "s44we8.1z")]),
        request("GET", "/sub/news", "", &[("accept", "text/html,*/*;q=0.8")]),
        request(
            "GET",
            "/sub/cam",
            "",
            &[("accept", "multipart/x-mixed-replace")],
        ),
        request("GET", "/sub/news", "", &[("accept", "application/json")]),
        request("GET", "/sub/news", "transport=poll", &[]),
    ];
    for req in &requests {
        let from_wasm = wasm.route(req).unwrap();
        assert_eq!(from_wasm, native.route(req), "{req:?}");
        if let Ok(sub) = from_wasm {
            assert_eq!(wasm.open(&sub).unwrap(), native.open(&sub), "{sub:?}");
        }
    }
    let made_up = Subscription {
        channels: vec!["x".into()],
        transport: Transport::Iframe,
        cursor: None,
        callback: Some("bad name".into()),
        min_interval_ms: None,
    };
    assert_eq!(wasm.open(&made_up).unwrap(), native.open(&made_up));

    let big: Vec<u8> = (0..10 * 1024).map(|i| b'a' + (i % 26) as u8).collect();
    let messages = [
        message("message", b"hello"),
        message("tick", b"line\nline\r\n"),
        message("gap", b"{\"channel\":\"news\",\"missed\":3}"),
        message("message", b"</script><!--\xe2\x80\xa8"),
        message("message", b"\xff\xd8\xff\xe0jpeg"),
        message("message", b"\x00\x01\xfe binary"),
        message("message", b"--pushwire-4c1e9a7f3b6d2e80a5f1c7d39b2e6a04"),
        message("", b""),
        message("message", &big),
    ];
    for transport in Transport::ALL {
        assert_eq!(
            wasm.heartbeat(transport).unwrap(),
            native.heartbeat(transport)
        );
        assert_eq!(wasm.end(transport).unwrap(), native.end(transport));
        for msg in &messages {
            assert_eq!(
                wasm.frame(transport, msg).unwrap(),
                native.frame(transport, msg),
                "{transport} {:?}",
                msg.data
            );
        }
        assert_eq!(
            wasm.frame_reply(transport, "s44we8.2", &messages[..4])
                .unwrap(),
            native.frame_reply(transport, "s44we8.2", &messages[..4]),
            "{transport}"
        );
        assert_eq!(
            wasm.frame_reply(transport, "s44we8.2", &messages).unwrap(),
            native.frame_reply(transport, "s44we8.2", &messages),
            "{transport}"
        );
    }

    let publishes = [
        (request("POST", "/pub/news", "event=tick", &[]), 10),
        (request("POST", "/pub/news", "event=gap", &[]), 10),
        (request("POST", "/pub/a,b", "", &[]), 10),
        (
            request("POST", "/pub/news", "", &[("x-pushwire-event", "alert")]),
            10,
        ),
        (request("PUT", "/pub/news", "", &[]), 10),
        (request("POST", "/pub/news", "", &[]), 2 << 20),
        (request("POST", "/elsewhere", "", &[]), 0),
    ];
    for (req, len) in &publishes {
        assert_eq!(
            wasm.accept_publish(req, *len).unwrap(),
            native.accept_publish(req, *len),
            "{req:?}"
        );
    }
}

#[test]
fn builtin_edge_loads_ahead_of_time_compiled() {
    let edge = Edge::builtin(EdgeConfig::default()).unwrap();
    assert!(
        edge.precompiled(),
        "the build's precompiled edge fits the engine"
    );
    let msg = message("tick", b"hi");
    assert_eq!(
        edge.frame(Transport::Sse, &msg).unwrap().unwrap(),
        b"id: s44we8.1z\nevent: tick\ndata: hi\n\n"
    );
    // A module given at run time is compiled at load.
    let compiled =
        Edge::from_bytes(pushwire_host::edge::BUILTIN_EDGE, EdgeConfig::default()).unwrap();
    assert!(!compiled.precompiled());
}
