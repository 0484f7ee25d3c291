//! A simulated server and network driving a [`ClientMachine`] on a simulated
//! clock (in the spirit of quinn-proto's `Pair`): no sockets, no sleeps.

use alloc::{
    collections::VecDeque,
    format,
    string::{String, ToString},
    vec::Vec,
};
use core::time::Duration;

use crate::Timestamp;
use crate::client::{
    Capabilities, ClientConfig, ClientEvent, ClientMachine, ClientMessage, EndReason, ResponseHead,
    Transmit, Transport,
};

/// How the simulated network and server treat one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Behaviour {
    /// A working server: head, messages as published, heartbeats.
    Normal,
    /// A buffering proxy: the head (200, right type) passes, no byte of the body does.
    Buffering,
    /// The head carries this status (with the transport's content type).
    Status(u16),
    /// The head carries this status and a `Retry-After`.
    StatusRetryAfter(u16, Duration),
    /// A 200 with `text/plain`.
    WrongType,
    /// A network error instead of a head.
    NetworkDown,
    /// No head, ever.
    Silent,
    /// Like `Normal`, but the server ends the response after this many messages.
    EndAfter(usize),
    /// The user agent fails the connection without a status.
    Rejected,
}

/// One `Connect` the machine asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Connect {
    pub(super) at: Timestamp,
    pub(super) transport: Transport,
    pub(super) last_event_id: Option<String>,
    pub(super) attempt: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ConnState {
    /// The head arrives at `at`.
    AwaitHead { at: Timestamp },
    /// Streaming; the next heartbeat is due at `heartbeat`.
    Streaming { heartbeat: Timestamp },
    /// A long poll held until `until` (or the next publish).
    Holding { until: Timestamp },
    /// Open (or not) but nothing will ever arrive.
    Dead,
}

#[derive(Clone, Debug)]
struct Conn {
    transport: Transport,
    behaviour: Behaviour,
    /// Index into the server log of the next message to send.
    cursor: usize,
    sent: usize,
    state: ConnState,
}

/// The simulated world.
pub(super) struct Sim {
    pub(super) machine: ClientMachine,
    pub(super) now: Timestamp,
    /// Behaviour per transport (default `Normal`).
    pub(super) behaviours: Vec<(Transport, Behaviour)>,
    /// Overrides for the next connections, consumed one per `Connect`.
    pub(super) script: VecDeque<Behaviour>,
    /// Published payloads; the id of `log[i]` is `i + 1`.
    pub(super) log: Vec<String>,
    /// Messages before this index fell off the replay log.
    pub(super) first_kept: usize,
    /// Scheduled publishes.
    pub(super) publishes: VecDeque<(Timestamp, String)>,
    /// Server heartbeat interval on streaming transports.
    pub(super) heartbeat: Duration,
    /// How long the server holds a long poll.
    pub(super) hold: Duration,
    /// An SSE `retry` field the server sends right after the head.
    pub(super) retry_field: Option<u64>,
    /// Network latency to the head.
    pub(super) latency: Duration,
    pub(super) connects: Vec<Connect>,
    pub(super) disconnects: Vec<Timestamp>,
    pub(super) events: Vec<(Timestamp, ClientEvent)>,
    conn: Option<Conn>,
    generation: u64,
}

fn content_type(transport: Transport) -> &'static str {
    match transport {
        Transport::Sse => "text/event-stream",
        Transport::Stream => "application/x-ndjson",
        Transport::Iframe => "text/html; charset=UTF-8",
        Transport::LongPoll | Transport::Poll => "application/json",
    }
}

impl Sim {
    pub(super) fn new(config: ClientConfig, capabilities: Capabilities, seed: u64) -> Self {
        let machine = ClientMachine::new(config, capabilities, seed, Timestamp::ZERO).unwrap();
        Self {
            machine,
            now: Timestamp::ZERO,
            behaviours: Vec::new(),
            script: VecDeque::new(),
            log: Vec::new(),
            first_kept: 0,
            publishes: VecDeque::new(),
            heartbeat: Duration::from_secs(15),
            hold: Duration::from_secs(30),
            retry_field: None,
            latency: Duration::from_millis(10),
            connects: Vec::new(),
            disconnects: Vec::new(),
            events: Vec::new(),
            conn: None,
            generation: 0,
        }
    }

    pub(super) fn with_defaults() -> Self {
        Self::new(ClientConfig::default(), Capabilities::ALL, 1)
    }

    pub(super) fn set(&mut self, transport: Transport, behaviour: Behaviour) {
        self.behaviours.retain(|(t, _)| *t != transport);
        self.behaviours.push((transport, behaviour));
    }

    /// Publish `count` messages `m1`, `m2`, … every `every`, starting at `from`.
    pub(super) fn publish_every(&mut self, from: Duration, every: Duration, count: usize) {
        let first = self.log.len() + self.publishes.len();
        for k in 0..count {
            let at = Timestamp::ZERO.saturating_add(from + every * u32::try_from(k).unwrap());
            self.publishes
                .push_back((at, format!("m{}", first + k + 1)));
        }
    }

    /// Run until `millis` on the simulated clock.
    pub(super) fn run_until(&mut self, millis: u64) {
        let end = Timestamp::from_millis(millis);
        loop {
            self.drain();
            let next = [self.machine.poll_timeout(), self.next_sim_time()]
                .into_iter()
                .flatten()
                .min();
            let Some(next) = next.filter(|next| *next <= end) else {
                break;
            };
            self.now = self.now.max(next);
            self.step();
        }
        self.now = self.now.max(end);
    }

    /// Ids of the delivered `Message` events, in order.
    pub(super) fn message_ids(&self) -> Vec<String> {
        self.events
            .iter()
            .filter_map(|(_, event)| match event {
                ClientEvent::Message(message) => Some(message.id.clone()),
                _ => None,
            })
            .collect()
    }

    /// Ids `"1"..="n"`.
    pub(super) fn ids(range: core::ops::RangeInclusive<usize>) -> Vec<String> {
        range.map(|id| id.to_string()).collect()
    }

    fn behaviour_of(&self, transport: Transport) -> Behaviour {
        self.behaviours
            .iter()
            .find(|(t, _)| *t == transport)
            .map_or(Behaviour::Normal, |(_, b)| *b)
    }

    fn next_sim_time(&self) -> Option<Timestamp> {
        let publish = self.publishes.front().map(|(at, _)| *at);
        let conn = self.conn.as_ref().and_then(|conn| match conn.state {
            ConnState::AwaitHead { at } => Some(at),
            ConnState::Streaming { heartbeat } => Some(heartbeat),
            ConnState::Holding { until } => Some(until),
            ConnState::Dead => None,
        });
        [publish, conn].into_iter().flatten().min()
    }

    /// Handle everything due at `self.now`.
    fn step(&mut self) {
        let now = self.now;
        while self.publishes.front().is_some_and(|(at, _)| *at <= now) {
            let (_, data) = self.publishes.pop_front().unwrap();
            self.log.push(data);
            self.on_publish();
        }
        if let Some(state) = self.conn.as_ref().map(|conn| conn.state) {
            match state {
                ConnState::AwaitHead { at } if at <= now => self.on_head(),
                ConnState::Streaming { heartbeat } if heartbeat <= now => {
                    self.machine.handle_activity(now);
                    self.drain();
                    if let Some(conn) = self.conn.as_mut().filter(|conn| conn.state == state) {
                        conn.state = ConnState::Streaming {
                            heartbeat: now.saturating_add(self.heartbeat),
                        };
                    }
                }
                ConnState::Holding { until } if until <= now => self.reply(),
                _ => {}
            }
        }
        if self.machine.poll_timeout().is_some_and(|at| at <= now) {
            self.machine.handle_timeout(now);
        }
        self.drain();
    }

    fn on_publish(&mut self) {
        match self.conn.as_ref().map(|conn| conn.state) {
            Some(ConnState::Streaming { .. }) => self.stream_pending(),
            Some(ConnState::Holding { .. }) => self.reply(),
            _ => {}
        }
    }

    fn on_head(&mut self) {
        let now = self.now;
        let conn = self.conn.clone().unwrap();
        let transport = conn.transport;
        let head = |status| ResponseHead {
            status,
            content_type: content_type(transport),
            retry_after: None,
        };
        match conn.behaviour {
            Behaviour::Normal | Behaviour::EndAfter(_) => {
                if !transport.is_streaming() {
                    let has_news = conn.cursor < self.log.len();
                    if transport == Transport::Poll || has_news {
                        return self.reply();
                    }
                    self.set_state(ConnState::Holding {
                        until: now.saturating_add(self.hold),
                    });
                    return;
                }
                self.machine.handle_response(now, head(200));
                if let Some(retry) = self.retry_field {
                    self.machine.handle_retry(now, retry);
                }
                self.set_state(ConnState::Streaming {
                    heartbeat: now.saturating_add(self.heartbeat),
                });
                if self.alive() {
                    self.stream_pending();
                }
            }
            Behaviour::Buffering => {
                self.machine.handle_response(now, head(200));
                self.set_state(ConnState::Dead);
            }
            Behaviour::Status(status) => {
                self.machine.handle_response(now, head(status));
                self.set_state(ConnState::Dead);
            }
            Behaviour::StatusRetryAfter(status, delay) => {
                let head = ResponseHead {
                    retry_after: Some(delay),
                    ..head(status)
                };
                self.machine.handle_response(now, head);
                self.set_state(ConnState::Dead);
            }
            Behaviour::WrongType => {
                self.machine.handle_opened(now, 200, "text/plain");
                self.set_state(ConnState::Dead);
            }
            Behaviour::NetworkDown => self.end(EndReason::NetworkError),
            Behaviour::Silent => self.set_state(ConnState::Dead),
            Behaviour::Rejected => self.end(EndReason::Rejected),
        }
    }

    fn set_state(&mut self, state: ConnState) {
        if let Some(conn) = self.conn.as_mut() {
            conn.state = state;
        }
    }

    fn alive(&self) -> bool {
        self.conn.is_some()
    }

    fn end(&mut self, reason: EndReason) {
        self.conn = None;
        self.machine.handle_closed(self.now, reason);
    }

    /// The next message for a connection at `cursor`: a gap notice when the
    /// cursor fell off the log, else the message at the cursor.
    fn next_message(&self, cursor: usize) -> Option<(ClientMessage, usize)> {
        if cursor < self.first_kept {
            let missed = self.first_kept - cursor;
            let data = format!("{{\"channel\":\"c\",\"missed\":{missed}}}");
            let gap = ClientMessage::new(self.first_kept.to_string(), data)
                .with_event("gap")
                .with_channel("c");
            return Some((gap, self.first_kept));
        }
        let data = self.log.get(cursor)?;
        Some((
            ClientMessage::new((cursor + 1).to_string(), data.clone()).with_channel("c"),
            cursor + 1,
        ))
    }

    /// Send what the streaming connection has not seen yet.
    fn stream_pending(&mut self) {
        let generation = self.generation;
        loop {
            let Some(conn) = self.conn.as_ref() else {
                return;
            };
            if self.generation != generation {
                return;
            }
            let Some((message, next)) = self.next_message(conn.cursor) else {
                return;
            };
            let conn = self.conn.as_mut().unwrap();
            conn.cursor = next;
            conn.sent += 1;
            let ended = conn.behaviour == Behaviour::EndAfter(conn.sent);
            self.machine.handle_message(self.now, message);
            self.drain();
            if ended && self.generation == generation && self.alive() {
                return self.end(EndReason::Ended);
            }
        }
    }

    /// Answer a long poll or poll with everything newer than its cursor.
    fn reply(&mut self) {
        let now = self.now;
        let mut cursor = self.conn.as_ref().unwrap().cursor;
        let transport = self.conn.as_ref().unwrap().transport;
        self.machine.handle_response(
            now,
            ResponseHead {
                status: 200,
                content_type: content_type(transport),
                retry_after: None,
            },
        );
        self.machine.handle_activity(now);
        while let Some((message, next)) = self.next_message(cursor) {
            cursor = next;
            self.machine.handle_message(now, message);
        }
        let next_cursor = if cursor == 0 {
            String::new()
        } else {
            cursor.to_string()
        };
        self.machine.handle_cursor(now, &next_cursor);
        self.end(EndReason::Ended);
    }

    /// Apply the machine's transmits and collect its events.
    pub(super) fn drain(&mut self) {
        while let Some(transmit) = self.machine.poll_transmit() {
            match transmit {
                Transmit::Connect {
                    transport,
                    last_event_id,
                    attempt,
                } => {
                    assert!(
                        self.conn.is_none(),
                        "Connect while a connection is outstanding"
                    );
                    let cursor = last_event_id.as_deref().map_or(0, |id| id.parse().unwrap());
                    let behaviour = self
                        .script
                        .pop_front()
                        .unwrap_or_else(|| self.behaviour_of(transport));
                    self.connects.push(Connect {
                        at: self.now,
                        transport,
                        last_event_id,
                        attempt,
                    });
                    self.generation += 1;
                    self.conn = Some(Conn {
                        transport,
                        behaviour,
                        cursor,
                        sent: 0,
                        state: ConnState::AwaitHead {
                            at: self.now.saturating_add(self.latency),
                        },
                    });
                }
                Transmit::Disconnect => {
                    self.disconnects.push(self.now);
                    self.conn = None;
                    self.generation += 1;
                }
            }
        }
        while let Some(event) = self.machine.poll_event() {
            self.events.push((self.now, event));
        }
    }
}
