//! Client machine scenarios on a simulated clock.

use alloc::{string::String, vec, vec::Vec};
use core::time::Duration;

use super::util::{Behaviour, Sim};
use crate::client::{
    Capabilities, ClientConfig, ClientEvent, ClientMessage, CloseReason, ErrorReason, ReadyState,
    Transport,
};

const SECOND: Duration = Duration::from_secs(1);

fn forced(transport: Transport) -> ClientConfig {
    ClientConfig {
        forced: Some(transport),
        ..ClientConfig::default()
    }
}

fn transports(sim: &Sim) -> Vec<Transport> {
    sim.connects
        .iter()
        .map(|connect| connect.transport)
        .collect()
}

fn changes(sim: &Sim) -> Vec<(Transport, Transport)> {
    sim.events
        .iter()
        .filter_map(|(_, event)| match event {
            ClientEvent::TransportChanged { from, to } => Some((*from, *to)),
            _ => None,
        })
        .collect()
}

fn errors(sim: &Sim) -> Vec<(u64, Duration, ErrorReason)> {
    sim.events
        .iter()
        .filter_map(|(at, event)| match event {
            ClientEvent::Error {
                reconnecting_in,
                reason,
            } => Some((at.as_millis(), *reconnecting_in, *reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn sse_delivers_messages_in_order_after_one_open() {
    // docs/conformance.md §1 "Processing model": 200 + text/event-stream announces the connection.
    let mut sim = Sim::with_defaults();
    sim.publish_every(SECOND, SECOND, 5);
    sim.run_until(10_000);
    assert_eq!(
        sim.events.first().map(|(_, e)| e),
        Some(&ClientEvent::Open {
            transport: Transport::Sse
        })
    );
    assert_eq!(sim.message_ids(), Sim::ids(1..=5));
    assert_eq!(transports(&sim), [Transport::Sse]);
    assert_eq!(sim.machine.ready_state(), ReadyState::Open);
    assert_eq!(sim.machine.last_event_id(), "5");
    assert!(errors(&sim).is_empty());
}

#[test]
fn reconnect_after_stream_end_resumes_from_last_event_id_after_retry_time() {
    // docs/conformance.md §1: after the body ends, wait the reconnection time (3000 ms
    // default) and re-fetch with Last-Event-ID.
    let mut sim = Sim::with_defaults();
    sim.script.push_back(Behaviour::EndAfter(2));
    sim.publish_every(SECOND, SECOND, 5);
    sim.run_until(20_000);
    assert_eq!(
        errors(&sim),
        [(2000, Duration::from_millis(3000), ErrorReason::Ended)]
    );
    let second = &sim.connects[1];
    assert_eq!(second.at.as_millis(), 5000);
    assert_eq!(second.last_event_id.as_deref(), Some("2"));
    assert_eq!(second.attempt, 0);
    assert_eq!(
        sim.message_ids(),
        Sim::ids(1..=5),
        "nothing lost, nothing repeated"
    );
    let opens = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, ClientEvent::Open { .. }))
        .count();
    assert_eq!(
        opens, 2,
        "open fires again after the reconnect, like EventSource"
    );
}

#[test]
fn retry_field_changes_the_reconnection_time() {
    // docs/conformance.md §1 "Fields": retry sets the reconnection time.
    let mut sim = Sim::with_defaults();
    sim.retry_field = Some(500);
    sim.script.push_back(Behaviour::EndAfter(1));
    sim.publish_every(SECOND, SECOND, 3);
    sim.run_until(10_000);
    assert_eq!(sim.machine.reconnection_time(), Duration::from_millis(500));
    assert_eq!(
        errors(&sim),
        [(1000, Duration::from_millis(500), ErrorReason::Ended)]
    );
    assert_eq!(sim.connects[1].at.as_millis(), 1500);
    assert_eq!(sim.message_ids(), Sim::ids(1..=3));
}

#[test]
fn status_204_stops_every_transport_for_good() {
    // docs/conformance.md §1 "Response handling": 204 stops an EventSource for good;
    // pushwire uses 204 as the one stop signal on every transport (module docs).
    for transport in Transport::ALL {
        let mut sim = Sim::new(forced(transport), Capabilities::ALL, 3);
        sim.set(transport, Behaviour::Status(204));
        sim.run_until(600_000);
        assert_eq!(sim.connects.len(), 1, "{transport}: never reconnects");
        assert_eq!(sim.machine.ready_state(), ReadyState::Closed, "{transport}");
        assert_eq!(sim.machine.poll_timeout(), None, "{transport}");
        let last = sim.events.last().map(|(_, e)| e.clone());
        assert_eq!(
            last,
            Some(ClientEvent::Closed {
                reason: CloseReason::Status(204)
            })
        );
    }
}

#[test]
fn any_non_200_on_sse_stops_for_good_without_stepping_down() {
    // docs/conformance.md §1 "Response handling": any other status fails the connection.
    for status in [201, 205, 301, 304, 404, 408, 429, 500, 503] {
        let mut sim = Sim::with_defaults();
        sim.set(Transport::Sse, Behaviour::Status(status));
        sim.run_until(600_000);
        assert_eq!(transports(&sim), [Transport::Sse], "{status}");
        assert_eq!(sim.machine.ready_state(), ReadyState::Closed, "{status}");
        assert!(changes(&sim).is_empty(), "{status}");
        assert_eq!(
            sim.disconnects.len(),
            1,
            "{status}: the response is dropped"
        );
    }
}

#[test]
fn network_errors_back_off_with_full_jitter_that_grows_and_is_capped() {
    // docs/conformance.md §4 "Errors and backoff": back off with jitter; module docs:
    // delay in [0, min(cap, retry × 2^(n-1))].
    const ROUNDS: usize = 10;
    let mut per_attempt: Vec<Vec<u64>> = vec![Vec::new(); ROUNDS];
    for seed in 0..64 {
        let mut sim = Sim::new(forced(Transport::Sse), Capabilities::ALL, seed);
        sim.set(Transport::Sse, Behaviour::NetworkDown);
        sim.run_until(3_000_000);
        let errors = errors(&sim);
        assert!(errors.len() > ROUNDS);
        for (k, (at, delay, reason)) in errors.iter().enumerate() {
            assert_eq!(*reason, ErrorReason::NetworkError);
            let ceiling = (3000u64 << k.min(20)).min(30_000);
            let delay = u64::try_from(delay.as_millis()).unwrap();
            assert!(
                delay <= ceiling,
                "seed {seed} attempt {k}: {delay} > {ceiling}"
            );
            let Some(next) = sim.connects.get(k + 1) else {
                break;
            };
            assert_eq!(
                next.at.as_millis(),
                at + delay,
                "the delay announced is the delay waited"
            );
            assert_eq!(next.attempt, u32::try_from(k + 1).unwrap());
            if let Some(bucket) = per_attempt.get_mut(k) {
                bucket.push(delay);
            }
        }
    }
    let mean = |k: usize| per_attempt[k].iter().sum::<u64>() / per_attempt[k].len() as u64;
    assert!(
        mean(0) < mean(2) && mean(2) < mean(4),
        "delays grow: {}, {}, {}",
        mean(0),
        mean(2),
        mean(4)
    );
    assert!(
        per_attempt[ROUNDS - 1].iter().all(|delay| *delay <= 30_000),
        "capped"
    );
    let mut late = per_attempt[ROUNDS - 1].clone();
    late.sort_unstable();
    late.dedup();
    assert!(late.len() > 32, "jittered, not synchronised");
}

#[test]
fn buffering_proxy_makes_the_machine_step_down_and_resume_without_loss() {
    // docs/conformance.md §0 "Reverse-proxy buffering" and "Idle timeouts": a stream that
    // opens but stays silent past the heartbeat window (35 s) is stalled.
    let mut sim = Sim::with_defaults();
    // The first SSE response ends after 3 messages; the reconnect goes through a
    // buffering proxy that passes the head and holds every byte.
    sim.script.push_back(Behaviour::EndAfter(3));
    sim.script.push_back(Behaviour::Buffering);
    sim.publish_every(SECOND, SECOND, 60);
    sim.run_until(120_000);
    assert_eq!(
        transports(&sim),
        [Transport::Sse, Transport::Sse, Transport::Stream]
    );
    let stream = &sim.connects[2];
    assert_eq!(
        stream.at.as_millis(),
        6010 + 35_000,
        "after exactly the heartbeat window"
    );
    assert_eq!(
        stream.last_event_id.as_deref(),
        Some("3"),
        "resumes from the last id"
    );
    assert_eq!(sim.disconnects.len(), 1, "the stalled response is aborted");
    assert_eq!(changes(&sim), [(Transport::Sse, Transport::Stream)]);
    assert!(sim.machine.has_stalled(Transport::Sse));
    assert!(!sim.machine.has_stalled(Transport::Stream));
    assert_eq!(
        sim.message_ids(),
        Sim::ids(1..=60),
        "every message exactly once, in order"
    );
    assert_eq!(sim.machine.ready_state(), ReadyState::Open);
}

#[test]
fn buffering_on_every_stream_lands_on_long_poll_without_loss() {
    // docs/conformance.md §0: buffering holds a stream until it ends, so only
    // response-per-batch transports get through.
    let mut sim = Sim::with_defaults();
    for transport in [Transport::Sse, Transport::Stream, Transport::Iframe] {
        sim.set(transport, Behaviour::Buffering);
    }
    sim.publish_every(SECOND, 3 * SECOND, 60);
    sim.run_until(300_000);
    assert_eq!(
        changes(&sim),
        [
            (Transport::Sse, Transport::Stream),
            (Transport::Stream, Transport::Iframe),
            (Transport::Iframe, Transport::LongPoll),
        ]
    );
    assert!(
        Transport::ALL
            .iter()
            .take(3)
            .all(|t| sim.machine.has_stalled(*t))
    );
    assert_eq!(sim.machine.transport(), Transport::LongPoll);
    assert_eq!(sim.message_ids(), Sim::ids(1..=60));
}

#[test]
fn missing_event_source_picks_stream() {
    // docs/design.md "The client ladder": pick the best transport the capabilities allow.
    let capabilities = Capabilities {
        event_source: false,
        ..Capabilities::ALL
    };
    let mut sim = Sim::new(ClientConfig::default(), capabilities, 5);
    sim.publish_every(SECOND, SECOND, 3);
    sim.run_until(10_000);
    assert_eq!(transports(&sim), [Transport::Stream]);
    assert_eq!(sim.message_ids(), Sim::ids(1..=3));
}

#[test]
fn forced_transport_never_steps_down() {
    // Module docs: a forced transport is a ladder of one.
    let mut sim = Sim::new(forced(Transport::Sse), Capabilities::ALL, 9);
    sim.set(Transport::Sse, Behaviour::Buffering);
    sim.run_until(600_000);
    assert!(sim.connects.len() > 5);
    assert!(transports(&sim).iter().all(|t| *t == Transport::Sse));
    assert!(changes(&sim).is_empty());
    assert!(
        errors(&sim)
            .iter()
            .all(|(_, _, reason)| *reason == ErrorReason::Stalled)
    );
    assert_eq!(sim.machine.ladder(), [Transport::Sse]);
}

#[test]
fn long_poll_reply_is_followed_at_once_by_a_request_with_the_new_cursor() {
    // docs/conformance.md §4 "Model": the client immediately issues the next request
    // carrying the new cursor; an empty reply means "poll again now".
    let mut sim = Sim::new(forced(Transport::LongPoll), Capabilities::ALL, 2);
    sim.publish_every(SECOND, SECOND, 5);
    sim.run_until(40_000);
    let cursors: Vec<Option<&str>> = sim
        .connects
        .iter()
        .map(|c| c.last_event_id.as_deref())
        .collect();
    assert_eq!(
        cursors,
        [
            None,
            Some("1"),
            Some("2"),
            Some("3"),
            Some("4"),
            Some("5"),
            Some("5")
        ]
    );
    let times: Vec<u64> = sim.connects.iter().map(|c| c.at.as_millis()).collect();
    // Held replies answer at each publish; the last poll is held 30 s and answered empty.
    assert_eq!(times, [0, 1000, 2000, 3000, 4000, 5000, 35_010]);
    assert!(errors(&sim).is_empty(), "a completed reply is not an error");
    assert_eq!(sim.machine.ready_state(), ReadyState::Open);
    assert_eq!(sim.message_ids(), Sim::ids(1..=5));
}

#[test]
fn long_poll_treats_304_and_408_as_poll_again() {
    // docs/conformance.md §4 "Timeout response": these mean "poll again now", not errors.
    let mut sim = Sim::new(forced(Transport::LongPoll), Capabilities::ALL, 2);
    sim.script
        .extend([Behaviour::Status(304), Behaviour::Status(408)]);
    sim.run_until(100);
    let times: Vec<u64> = sim.connects.iter().map(|c| c.at.as_millis()).collect();
    assert_eq!(times, [0, 10, 20]);
    assert!(errors(&sim).is_empty());
}

#[test]
fn poll_interval_is_respected() {
    // Module docs: a poll reply is followed by the next request after the poll interval.
    let mut sim = Sim::new(forced(Transport::Poll), Capabilities::ALL, 4);
    sim.publish_every(SECOND, 6 * SECOND, 3);
    sim.run_until(30_000);
    let times: Vec<u64> = sim.connects.iter().map(|c| c.at.as_millis()).collect();
    assert!(times.len() >= 5);
    for pair in times.windows(2) {
        assert_eq!(pair[1] - pair[0], 5010, "interval after each 10 ms reply");
    }
    assert!(errors(&sim).is_empty());
    assert_eq!(sim.message_ids(), Sim::ids(1..=3));
}

#[test]
fn gap_is_surfaced_and_the_next_request_resumes_from_its_cursor() {
    // docs/design.md "Wire contracts", Gap: one message with event "gap" whose id is the
    // cursor to continue from.
    for transport in [Transport::Sse, Transport::LongPoll] {
        let config = ClientConfig {
            last_event_id: Some(String::from("2")),
            ..forced(transport)
        };
        let mut sim = Sim::new(config, Capabilities::ALL, 6);
        sim.log = (1..=10).map(|n| alloc::format!("m{n}")).collect();
        sim.first_kept = 6;
        sim.run_until(100);
        assert_eq!(sim.connects[0].last_event_id.as_deref(), Some("2"));
        let gaps: Vec<&ClientMessage> = sim
            .events
            .iter()
            .filter_map(|(_, e)| match e {
                ClientEvent::Gap(message) => Some(message),
                _ => None,
            })
            .collect();
        assert_eq!(gaps.len(), 1, "{transport}");
        assert_eq!(gaps[0].id, "6");
        assert_eq!(gaps[0].data, r#"{"channel":"c","missed":4}"#);
        assert_eq!(
            sim.message_ids(),
            Sim::ids(7..=10),
            "{transport}: no Message for the gap"
        );
        assert_eq!(sim.machine.last_event_id(), "10");
    }
}

#[test]
fn close_stops_everything() {
    // docs/conformance.md §1: close() → CLOSED immediately; queued events are dropped.
    let mut sim = Sim::with_defaults();
    sim.publish_every(SECOND, SECOND, 5);
    sim.run_until(2500);
    sim.machine
        .handle_message(sim.now, ClientMessage::new("99", "queued"));
    sim.machine.close();
    sim.drain();
    assert_eq!(sim.disconnects.len(), 1, "the open stream is aborted");
    sim.machine
        .handle_message(sim.now, ClientMessage::new("100", "late"));
    sim.machine.handle_timeout(sim.now);
    sim.run_until(600_000);
    assert_eq!(sim.connects.len(), 1);
    assert_eq!(sim.machine.ready_state(), ReadyState::Closed);
    assert_eq!(sim.machine.poll_timeout(), None);
    assert_eq!(
        sim.message_ids(),
        Sim::ids(1..=2),
        "queued and late messages are dropped"
    );
    assert!(
        sim.events
            .iter()
            .all(|(_, e)| !matches!(e, ClientEvent::Closed { .. }))
    );
}

#[test]
fn stream_5xx_backs_off_and_503_honours_retry_after() {
    // docs/conformance.md §4 "Errors and backoff": back off on 5xx; RFC 9110 Retry-After.
    let mut sim = Sim::new(forced(Transport::Stream), Capabilities::ALL, 8);
    sim.script.extend([
        Behaviour::StatusRetryAfter(503, Duration::from_secs(20)),
        Behaviour::Status(502),
    ]);
    sim.publish_every(60 * SECOND, SECOND, 2);
    sim.run_until(90_000);
    let errors = errors(&sim);
    assert_eq!(
        errors[0],
        (10, Duration::from_secs(20), ErrorReason::Status(503))
    );
    assert_eq!(sim.connects[1].at.as_millis(), 20_010);
    assert_eq!(errors[1].2, ErrorReason::Status(502));
    assert!(
        errors[1].1 <= Duration::from_millis(6000),
        "second failure: ceiling 2 × 3000 ms"
    );
    assert_eq!(sim.message_ids(), Sim::ids(1..=2));
    assert_eq!(
        sim.machine.consecutive_failures(),
        0,
        "delivery resets the failures"
    );
}

#[test]
fn wrong_content_type_steps_down_after_two_failures() {
    // Module docs: a 200 with a wrong type is a transport failure (not EventSource's fail).
    let mut sim = Sim::with_defaults();
    sim.set(Transport::Sse, Behaviour::WrongType);
    sim.publish_every(20 * SECOND, SECOND, 2);
    sim.run_until(30_000);
    assert_eq!(
        transports(&sim),
        [Transport::Sse, Transport::Sse, Transport::Stream]
    );
    assert_eq!(sim.disconnects.len(), 2, "each wrong response is dropped");
    assert_eq!(changes(&sim), [(Transport::Sse, Transport::Stream)]);
    assert_eq!(sim.message_ids(), Sim::ids(1..=2));
}

#[test]
fn connect_timeout_counts_as_failure_and_steps_down() {
    // Module docs: no head within the connect timeout (15 s) is a failure.
    let mut sim = Sim::with_defaults();
    sim.set(Transport::Sse, Behaviour::Silent);
    sim.run_until(60_000);
    assert_eq!(
        transports(&sim),
        [Transport::Sse, Transport::Sse, Transport::Stream]
    );
    let errors = errors(&sim);
    assert_eq!((errors[0].0, errors[0].2), (15_000, ErrorReason::Timeout));
    let retry_at = sim.connects[1].at.as_millis();
    assert_eq!(
        retry_at,
        15_000 + u64::try_from(errors[0].1.as_millis()).unwrap()
    );
    assert_eq!(sim.connects[2].at.as_millis(), retry_at + 15_000);
    assert_eq!(sim.disconnects.len(), 2);
}

#[test]
fn rejected_event_source_falls_to_stream_at_once_unless_forced() {
    // docs/conformance.md §1: a native EventSource fails without telling why; the rung
    // below sees the status. Forced, it follows EventSource and stays closed.
    let mut sim = Sim::with_defaults();
    sim.set(Transport::Sse, Behaviour::Rejected);
    sim.run_until(1000);
    assert_eq!(transports(&sim), [Transport::Sse, Transport::Stream]);
    assert_eq!(sim.connects[1].at.as_millis(), 10);

    let mut sim = Sim::new(forced(Transport::Sse), Capabilities::ALL, 1);
    sim.set(Transport::Sse, Behaviour::Rejected);
    sim.run_until(600_000);
    assert_eq!(sim.connects.len(), 1);
    assert_eq!(
        sim.events.last().map(|(_, e)| e.clone()),
        Some(ClientEvent::Closed {
            reason: CloseReason::Rejected
        })
    );
}

// ---- bodies the machine decodes itself (`handle_bytes`) ----

mod bodies {
    use super::*;
    use crate::Timestamp;
    use crate::client::{ClientMachine, Transmit};

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn open(config: ClientConfig, content_type: &str) -> ClientMachine {
        let mut machine = ClientMachine::new(config, Capabilities::ALL, 1, at(0)).unwrap();
        assert!(matches!(
            machine.poll_transmit(),
            Some(Transmit::Connect { .. })
        ));
        machine.handle_opened(at(1), 200, content_type);
        assert!(matches!(
            machine.poll_event(),
            Some(ClientEvent::Open { .. })
        ));
        machine
    }

    fn drained(machine: &mut ClientMachine) -> Vec<ClientEvent> {
        core::iter::from_fn(|| machine.poll_event()).collect()
    }

    #[test]
    fn stream_sse_bytes_are_parsed_in_any_chunking_with_retry_and_ids() {
        // docs/design.md "Transports": the `stream` transport's SSE bytes are parsed by core.
        let body = b"retry: 500\n\nid: 7.1\nevent: price\ndata: a\ndata: b\n\n: hb\n\nid: 7.2\n\n";
        for cut in 0..body.len() {
            let mut machine = open(
                forced(Transport::Stream),
                "text/event-stream; charset=utf-8",
            );
            machine.handle_bytes(at(2), &body[..cut]);
            machine.handle_bytes(at(3), &body[cut..]);
            let events = drained(&mut machine);
            assert_eq!(
                events,
                vec![ClientEvent::Message(
                    ClientMessage::new("7.1", "a\nb").with_event("price")
                )],
                "cut at {cut}"
            );
            // An id dispatched without data still moves the resume point.
            assert_eq!(machine.last_event_id(), "7.2");
            assert_eq!(machine.reconnection_time(), Duration::from_millis(500));
        }
    }

    #[test]
    fn stream_ndjson_lines_carry_their_channel() {
        let mut machine = open(forced(Transport::Stream), "application/x-ndjson");
        machine.handle_bytes(
            at(2),
            b"{\"id\":\"7.1.0\",\"channel\":\"chat\",\"data\":\"hi\"}\n\n{\"id\":",
        );
        machine.handle_bytes(
            at(3),
            b"\"7.1.1\",\"channel\":\"news\",\"event\":\"gap\",\"data\":\"{}\"}\n",
        );
        assert_eq!(
            drained(&mut machine),
            vec![
                ClientEvent::Message(ClientMessage::new("7.1.0", "hi").with_channel("chat")),
                ClientEvent::Gap(
                    ClientMessage::new("7.1.1", "{}")
                        .with_event("gap")
                        .with_channel("news")
                ),
            ]
        );
        assert_eq!(machine.last_event_id(), "7.1.1");
    }

    #[test]
    fn long_poll_reply_is_decoded_when_it_ends_and_its_cursor_is_the_next_request() {
        let mut machine = open(forced(Transport::LongPoll), "application/json");
        let reply = br#"{"cursor":"7.2","messages":[{"id":"7.1","channel":"c","data":"one"},{"id":"7.2","channel":"c","data":"two"}]}"#;
        let (head, tail) = reply.split_at(20);
        machine.handle_bytes(at(2), head);
        machine.handle_bytes(at(3), tail);
        assert!(
            drained(&mut machine).is_empty(),
            "nothing before the reply ends"
        );
        machine.handle_closed(at(4), crate::client::EndReason::Ended);
        assert_eq!(
            drained(&mut machine),
            vec![
                ClientEvent::Message(ClientMessage::new("7.1", "one").with_channel("c")),
                ClientEvent::Message(ClientMessage::new("7.2", "two").with_channel("c")),
            ]
        );
        assert_eq!(
            machine.poll_transmit(),
            Some(Transmit::Connect {
                transport: Transport::LongPoll,
                last_event_id: Some(String::from("7.2")),
                attempt: 0,
            })
        );
    }

    #[test]
    fn malformed_bodies_drop_the_connection_and_retry() {
        let mut config = forced(Transport::LongPoll);
        config.body_limits.max_reply_bytes = 16;
        let mut machine = open(config, "application/json");
        machine.handle_bytes(at(2), b"{\"cursor\":\"7.2\",\"messages\":[]}");
        assert_eq!(machine.poll_transmit(), Some(Transmit::Disconnect));
        assert!(drained(&mut machine).iter().any(|event| matches!(
            event,
            ClientEvent::Error {
                reason: ErrorReason::Malformed,
                ..
            }
        )));

        let mut machine = open(forced(Transport::LongPoll), "application/json");
        machine.handle_bytes(at(2), b"<html>proxy error</html>");
        machine.handle_closed(at(3), crate::client::EndReason::Ended);
        assert_eq!(machine.poll_transmit(), Some(Transmit::Disconnect));
        assert_eq!(machine.ready_state(), ReadyState::Connecting);
    }

    #[test]
    fn sse_messages_are_named_by_the_channel_whose_position_advanced() {
        let mut config = forced(Transport::Sse);
        config.channels = vec![String::from("chat"), String::from("news")];
        config.last_event_id = Some(String::from("7.1.4"));
        let mut machine = open(config, "text/event-stream");
        machine.handle_message(at(2), ClientMessage::new("7.1.5", "n1"));
        machine.handle_message(at(3), ClientMessage::new("7.2.5", "c2"));
        assert_eq!(
            drained(&mut machine),
            vec![
                ClientEvent::Message(ClientMessage::new("7.1.5", "n1").with_channel("news")),
                ClientEvent::Message(ClientMessage::new("7.2.5", "c2").with_channel("chat")),
            ]
        );
    }
}

#[test]
fn native_event_source_is_not_watched_for_silence_when_it_hides_heartbeats() {
    // EventSource never shows the server's heartbeat comments (docs/conformance.md
    // §1 "comment → ignore"), so a browser driver turns the silence watch off
    // for `sse`; `stream` still sees the comments and stays watched.
    use crate::Timestamp;
    use crate::client::ClientMachine;
    let at = Timestamp::from_millis;
    let config = ClientConfig {
        watch_sse_silence: false,
        ..ClientConfig::default()
    };
    let mut machine = ClientMachine::new(config.clone(), Capabilities::ALL, 1, at(0)).unwrap();
    assert_eq!(machine.poll_timeout(), Some(at(15_000)), "connect timeout");
    machine.handle_opened(at(10), 200, "text/event-stream");
    assert_eq!(machine.poll_timeout(), None, "idle sse is not a stall");
    machine.handle_timeout(at(3_600_000));
    assert_eq!(machine.transport(), Transport::Sse);
    assert_eq!(machine.ready_state(), ReadyState::Open);
    machine.handle_message(at(3_600_001), ClientMessage::new("1", "late"));
    assert_eq!(machine.poll_timeout(), None);

    let stream = ClientConfig {
        forced: Some(Transport::Stream),
        ..config
    };
    let mut machine = ClientMachine::new(stream, Capabilities::ALL, 1, at(0)).unwrap();
    machine.handle_opened(at(10), 200, "text/event-stream");
    assert_eq!(machine.poll_timeout(), Some(at(35_010)));
}
