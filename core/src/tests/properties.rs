//! Properties of the client machine under any schedule of inputs.

use alloc::{collections::BTreeSet, string::String};
use core::time::Duration;

use proptest::prelude::*;

use crate::Timestamp;
use crate::client::{
    Capabilities, ClientConfig, ClientEvent, ClientMachine, ClientMessage, EndReason, ReadyState,
    ResponseHead, Transmit, Transport,
};

#[derive(Clone, Debug)]
enum Op {
    Advance(u64),
    Timeout,
    Head {
        status: u16,
        content_type: &'static str,
        retry_after: Option<u64>,
    },
    Message {
        id: u8,
        gap: bool,
    },
    Activity,
    Cursor(u8),
    Closed(EndReason),
    Retry(u64),
    Close,
}

fn op() -> impl Strategy<Value = Op> {
    let statuses = prop::sample::select(&[200u16, 200, 200, 204, 304, 404, 408, 429, 500, 503][..]);
    let types = prop::sample::select(
        &[
            "text/event-stream",
            "application/x-ndjson",
            "text/html",
            "application/json",
            "text/plain",
        ][..],
    );
    let reasons = prop::sample::select(
        &[
            EndReason::Ended,
            EndReason::NetworkError,
            EndReason::Aborted,
            EndReason::Rejected,
        ][..],
    );
    prop_oneof![
        6 => (0u64..70_000).prop_map(Op::Advance),
        3 => Just(Op::Timeout),
        4 => (statuses, types, prop::option::of(0u64..100_000))
            .prop_map(|(status, content_type, retry_after)| Op::Head { status, content_type, retry_after }),
        4 => (any::<u8>(), prop::bool::weighted(0.1)).prop_map(|(id, gap)| Op::Message { id, gap }),
        2 => Just(Op::Activity),
        1 => any::<u8>().prop_map(Op::Cursor),
        3 => reasons.prop_map(Op::Closed),
        1 => (0u64..120_000).prop_map(Op::Retry),
        1 => Just(Op::Close),
    ]
}

fn config() -> impl Strategy<Value = ClientConfig> {
    let forced = prop::option::of(prop::sample::select(&Transport::ALL[..]));
    (forced, 0u32..4, prop::option::of("[a-z0-9]{1,4}")).prop_map(
        |(forced, failures_before_step_down, last_event_id)| ClientConfig {
            forced,
            failures_before_step_down,
            last_event_id,
            ..ClientConfig::default()
        },
    )
}

proptest! {
    /// For any schedule the machine never opens a second connection, never
    /// announces a delay over its cap, and only resumes from ids it was given.
    #[test]
    fn machine_invariants_hold_for_any_schedule(
        config in config(),
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 0..120),
    ) {
        let cap = config.max_backoff;
        let mut given: BTreeSet<String> = config.last_event_id.iter().cloned().collect();
        given.insert(String::new());
        let mut now = Timestamp::ZERO;
        let mut machine = ClientMachine::new(config, Capabilities::ALL, seed, now).unwrap();
        // The driver's view: a connection is outstanding, and has a head.
        let mut outstanding = false;
        let mut opened = false;
        let mut closed = false;
        let mut largest_retry_after = Duration::ZERO;
        // `None` first: drain the Connect queued by `new` before any input.
        for op in core::iter::once(None).chain(ops.into_iter().map(Some)) {
            match op {
                None => {}
                Some(Op::Advance(ms)) => now = Timestamp::from_millis(now.as_millis() + ms),
                Some(Op::Timeout) => machine.handle_timeout(now),
                Some(Op::Head { status, content_type, retry_after }) if outstanding && !opened => {
                    let retry_after = retry_after.map(Duration::from_millis);
                    largest_retry_after = largest_retry_after.max(retry_after.unwrap_or_default());
                    machine.handle_response(now, ResponseHead { status, content_type, retry_after });
                    opened = true;
                }
                Some(Op::Message { id, gap }) if opened => {
                    let id = alloc::format!("{id}");
                    given.insert(id.clone());
                    let message = ClientMessage::new(id, "x");
                    machine.handle_message(now, if gap { message.with_event("gap") } else { message });
                }
                Some(Op::Activity) if opened => machine.handle_activity(now),
                Some(Op::Cursor(id)) if opened => {
                    let id = alloc::format!("c{id}");
                    given.insert(id.clone());
                    machine.handle_cursor(now, &id);
                }
                Some(Op::Closed(reason)) if outstanding => {
                    machine.handle_closed(now, reason);
                    outstanding = false;
                    opened = false;
                }
                Some(Op::Retry(ms)) => machine.handle_retry(now, ms),
                Some(Op::Close) => machine.close(),
                // Inputs about a connection the driver does not have: it never sends them,
                // but a stray one must be ignored.
                Some(Op::Head { .. } | Op::Message { .. } | Op::Activity | Op::Cursor(_) | Op::Closed(_))
                    if !outstanding =>
                {
                    machine.handle_activity(now);
                    machine.handle_closed(now, EndReason::NetworkError);
                }
                Some(_) => {}
            }
            while let Some(transmit) = machine.poll_transmit() {
                match transmit {
                    Transmit::Connect { last_event_id, .. } => {
                        prop_assert!(!outstanding, "Connect while a connection is outstanding");
                        prop_assert!(!closed, "Connect after CLOSED");
                        prop_assert!(last_event_id.as_deref() != Some(""));
                        outstanding = true;
                        opened = false;
                    }
                    Transmit::Disconnect => {
                        outstanding = false;
                        opened = false;
                    }
                }
            }
            while let Some(event) = machine.poll_event() {
                prop_assert!(!closed, "event after CLOSED: {event:?}");
                match event {
                    ClientEvent::Error { reconnecting_in, .. } => {
                        let bound = cap.max(machine.reconnection_time()).max(largest_retry_after);
                        prop_assert!(reconnecting_in <= bound, "{reconnecting_in:?} > {bound:?}");
                    }
                    ClientEvent::Closed { .. } => closed = true,
                    _ => {}
                }
            }
            if machine.ready_state() == ReadyState::Closed {
                closed = true;
                prop_assert_eq!(machine.poll_timeout(), None);
            }
            prop_assert!(given.contains(machine.last_event_id()), "{:?}", machine.last_event_id());
            if machine.transport().is_streaming() && machine.ready_state() == ReadyState::Open {
                prop_assert!(outstanding, "a streaming transport is Open only with a connection");
            }
        }
    }
}
