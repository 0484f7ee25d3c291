//! The client machine: the transport ladder and reconnect policy the browser
//! SDK and the CLI drive.
//!
//! [`ClientMachine`] decides *which* transport to open, *when* to (re)connect,
//! and *from which cursor*; the driver does the I/O (EventSource, fetch, a
//! hidden iframe, XHR) and hands the machine what happened: response heads,
//! decoded messages, liveness, the end of a response, timer expiries. The
//! machine decodes the bodies a browser cannot: `stream` bytes (SSE or NDJSON,
//! by content type) and long-poll / poll replies go to
//! [`ClientMachine::handle_bytes`]; native EventSource events and
//! forever-frame calls arrive decoded through [`ClientMachine::handle_message`].
//!
//! # Driving it
//!
//! 1. Build it with [`ClientMachine::new`] (the first [`Transmit::Connect`] is
//!    queued at once).
//! 2. Drain [`ClientMachine::poll_transmit`]: open the connection it names, or
//!    abort the current one on [`Transmit::Disconnect`] (and report nothing
//!    more about an aborted connection).
//! 3. Drain [`ClientMachine::poll_event`] and hand the events to the app.
//! 4. Arm one timer for [`ClientMachine::poll_timeout`].
//! 5. On input call the matching `handle_*` (`handle_opened` when the
//!    response head arrives, `handle_bytes` (or, for decoded events,
//!    `handle_message` / `handle_activity` / `handle_cursor` /
//!    `handle_retry`) while the body flows, `handle_closed`
//!    when it ends, `handle_timeout` when the timer fires), then go to 2.
//!
//! ```
//! use pushwire_core::Timestamp;
//! use pushwire_core::client::{
//!     Capabilities, ClientConfig, ClientEvent, ClientMachine, ClientMessage, EndReason,
//!     ReadyState, Transmit, Transport,
//! };
//!
//! let at = Timestamp::from_millis;
//! let mut client =
//!     ClientMachine::new(ClientConfig::default(), Capabilities::ALL, 7, at(0)).unwrap();
//! // The best transport this browser has is native EventSource.
//! assert_eq!(
//!     client.poll_transmit(),
//!     Some(Transmit::Connect { transport: Transport::Sse, last_event_id: None, attempt: 0 })
//! );
//! // Response head in, one message in.
//! client.handle_opened(at(20), 200, "text/event-stream");
//! client.handle_message(at(30), ClientMessage::new("42", "hello"));
//! assert_eq!(client.poll_event(), Some(ClientEvent::Open { transport: Transport::Sse }));
//! assert_eq!(client.poll_event(), Some(ClientEvent::Message(ClientMessage::new("42", "hello"))));
//! assert_eq!(client.ready_state(), ReadyState::Open);
//! // The stream ends: reconnect after the reconnection time, resuming from "42".
//! client.handle_closed(at(40), EndReason::Ended);
//! assert!(matches!(client.poll_event(), Some(ClientEvent::Error { .. })));
//! assert_eq!(client.poll_timeout(), Some(at(40 + 3000)));
//! client.handle_timeout(at(3040));
//! assert_eq!(
//!     client.poll_transmit(),
//!     Some(Transmit::Connect {
//!         transport: Transport::Sse,
//!         last_event_id: Some("42".into()),
//!         attempt: 0,
//!     })
//! );
//! ```
//!
//! # Policy
//!
//! **Ladder.** The machine uses the first transport of
//! [`ClientConfig::ladder`] that the [`Capabilities`] allow (or only
//! [`ClientConfig::forced`]). It steps down one rung after
//! [`ClientConfig::failures_before_step_down`] consecutive failures to open
//! (network error, timeout, 5xx / 408 / 429, wrong content type), at once when
//! an open streaming transport stays silent past
//! [`ClientConfig::heartbeat_window`] (a buffering proxy or compressing
//! middleware: the transport is remembered as stalled, see
//! [`ClientMachine::has_stalled`]), and at once when the user agent fails a
//! native EventSource without saying why ([`EndReason::Rejected`]; the rung
//! below can see the real status). It never steps back up. On the bottom rung
//! it keeps retrying with backoff. Every reconnect and every switch resumes
//! from the last event id.
//!
//! **Response heads** ([`ClientMachine::handle_opened`]):
//!
//! | transport | 200 + expected type | 200 + other type | 204 | 304, 408 | 429, 5xx | other |
//! |---|---|---|---|---|---|---|
//! | `sse` | open | failure (step down) | stop | stop | stop | stop |
//! | `stream`, `iframe` | open | failure | stop | 304 stop, 408 failure | failure | stop |
//! | `longpoll`, `poll` | open | failure | stop | no data: poll again | failure | stop |
//!
//! "stop" closes the machine for good ([`ClientEvent::Closed`], never
//! reconnects): for `sse` on any non-200 exactly like EventSource; on the
//! other transports 204 is pushwire's one "stop" signal (so it stops polls
//! too, unlike the Salesforce convention in docs/conformance.md §4) and other 4xx
//! mean a request that will not get better. A wrong content type with a 200
//! diverges from EventSource (which fails for good): it usually means a proxy
//! or a server without that transport, so the machine counts it as a failure
//! and lets the ladder move on. A `Retry-After` on 429 / 503 (passed through
//! [`ClientMachine::handle_response`]) is honoured as the delay and does not
//! count towards stepping down.
//!
//! **Ends** ([`ClientMachine::handle_closed`]): a streaming response that
//! delivered something and then ended (cleanly or with a network error) is
//! reconnected after exactly the reconnection time, like EventSource. A
//! long-poll reply that completed is followed by the next request at once, a
//! poll reply by the next one after [`ClientConfig::poll_interval`]. Anything
//! that delivered nothing is a failure. [`EndReason::Aborted`] closes for good
//! (EventSource fails on an aborted fetch).
//!
//! **Backoff.** After the `n`-th consecutive failure (n ≥ 1) the delay is
//! drawn uniformly ("full jitter") from `[0, min(cap, base × 2^(n-1))]` ms,
//! where `base` is the reconnection time (initially [`ClientConfig::retry`],
//! changed by [`ClientMachine::handle_retry`]) and `cap` is
//! `max(`[`ClientConfig::max_backoff`]`, base)` (a server asking for a longer
//! reconnection time raises the cap). The random numbers come from a
//! SplitMix64 generator seeded by the driver in [`ClientMachine::new`]; the
//! machine reads no entropy itself. Anything delivered (a message, a
//! heartbeat, a cursor) resets the failure counts.

use alloc::{collections::VecDeque, string::String, vec, vec::Vec};
use core::{fmt, str::FromStr, time::Duration};

use crate::Timestamp;
use crate::cursor::{self, Cursor};
use crate::media;
use crate::ndjson::{NdjsonParser, NdjsonParserConfig};
use crate::sse::{SseEvent, SseParser, SseParserConfig};
use crate::transport;
use crate::wire::{self, WireMessage};

/// A way of receiving pushed messages the client machine can drive: the
/// rungs of its ladder, in the SDK's order of preference. Names and media
/// types come from [`crate::transport::Transport`] (of which this is the
/// part a driver can open: all but multipart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// The browser's native `EventSource`.
    Sse,
    /// `fetch` + `ReadableStream`; SSE or NDJSON bytes parsed by core.
    Stream,
    /// A hidden iframe receiving `<script>` chunks (forever frame).
    Iframe,
    /// One held request per batch; the reply carries the next cursor.
    LongPoll,
    /// Interval polling: one short request every poll interval.
    Poll,
}

/// What a `stream` response may carry: NDJSON, or SSE from a server that
/// speaks only that.
const STREAM_TYPES: &[&str] = &[
    transport::Transport::Sse.media_type(),
    transport::Transport::Stream.media_type(),
];
const SSE_TYPES: &[&str] = &[transport::Transport::Sse.media_type()];
const IFRAME_TYPES: &[&str] = &[transport::Transport::Iframe.media_type()];
const POLL_TYPES: &[&str] = &[transport::Transport::Poll.media_type()];

impl Transport {
    /// Every transport, best first (the default ladder).
    pub const ALL: [Self; 5] = [
        Self::Sse,
        Self::Stream,
        Self::Iframe,
        Self::LongPoll,
        Self::Poll,
    ];

    /// Name the transport as it appears in `?transport=` and the SDK API.
    pub const fn as_str(self) -> &'static str {
        self.listed().as_str()
    }

    /// The same transport in [`transport::Transport`], the full list.
    const fn listed(self) -> transport::Transport {
        match self {
            Self::Sse => transport::Transport::Sse,
            Self::Stream => transport::Transport::Stream,
            Self::Iframe => transport::Transport::Iframe,
            Self::LongPoll => transport::Transport::LongPoll,
            Self::Poll => transport::Transport::Poll,
        }
    }

    /// Whether one response carries many messages over a long time.
    ///
    /// Streaming transports are watched for silence (the heartbeat window);
    /// polls are watched by their request timeout instead.
    pub const fn is_streaming(self) -> bool {
        self.listed().is_streaming()
    }

    /// The content-type essences a 200 response must carry on this transport.
    pub const fn content_types(self) -> &'static [&'static str] {
        match self {
            Self::Sse => SSE_TYPES,
            Self::Stream => STREAM_TYPES,
            Self::Iframe => IFRAME_TYPES,
            Self::LongPoll | Self::Poll => POLL_TYPES,
        }
    }

    /// The `Accept` value a driver that sets headers sends for this
    /// transport: [`Self::content_types`], NDJSON preferred on `stream`.
    pub const fn accept(self) -> &'static str {
        match self {
            Self::Stream => "application/x-ndjson, text/event-stream;q=0.9",
            other => other.listed().media_type(),
        }
    }

    /// Check a `Content-Type` header value against [`Self::content_types`].
    ///
    /// Only the essence counts: parameters (`; charset=utf-8`) are ignored,
    /// and the comparison is ASCII case-insensitive.
    pub fn accepts_content_type(self, content_type: &str) -> bool {
        let essence = media::essence(content_type);
        self.content_types()
            .iter()
            .any(|expected| expected.eq_ignore_ascii_case(essence))
    }

    const fn bit(self) -> u8 {
        match self {
            Self::Sse => 1,
            Self::Stream => 2,
            Self::Iframe => 4,
            Self::LongPoll => 8,
            Self::Poll => 16,
        }
    }
}

impl From<Transport> for transport::Transport {
    fn from(transport: Transport) -> Self {
        transport.listed()
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = ClientError;

    /// Parse one of `sse`, `stream`, `iframe`, `longpoll`, `poll` (exact case).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|transport| transport.as_str() == name)
            .ok_or(ClientError::UnknownTransport)
    }
}

/// What the environment the driver runs in can do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// A native `EventSource` exists (enables [`Transport::Sse`]).
    pub event_source: bool,
    /// `fetch` with a readable response body stream (enables [`Transport::Stream`]).
    pub fetch_streams: bool,
    /// Same-origin iframes can call into the page (enables [`Transport::Iframe`]).
    pub iframes: bool,
    /// `fetch` or `XMLHttpRequest` (enables [`Transport::LongPoll`] and [`Transport::Poll`]).
    pub fetch: bool,
}

impl Capabilities {
    /// Everything is available (a modern browser).
    pub const ALL: Self = Self {
        event_source: true,
        fetch_streams: true,
        iframes: true,
        fetch: true,
    };
    /// Nothing is available.
    pub const NONE: Self = Self {
        event_source: false,
        fetch_streams: false,
        iframes: false,
        fetch: false,
    };

    /// Whether `transport` can run here.
    pub const fn supports(self, transport: Transport) -> bool {
        match transport {
            Transport::Sse => self.event_source,
            Transport::Stream => self.fetch_streams,
            Transport::Iframe => self.iframes,
            Transport::LongPoll | Transport::Poll => self.fetch,
        }
    }
}

/// The client's policy knobs. See the field docs for the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientConfig {
    /// Transports to try, best first. Default: [`Transport::ALL`]
    /// (`sse`, `stream`, `iframe`, `longpoll`, `poll`). Duplicates are ignored.
    pub ladder: Vec<Transport>,
    /// Use only this transport (a ladder of one: it never steps down).
    /// Default: `None`.
    pub forced: Option<Transport>,
    /// Silence on an open streaming transport after which it counts as
    /// stalled. Default: 35 s (two 15 s server heartbeats plus 5 s margin).
    pub heartbeat_window: Duration,
    /// Watch an open `sse` connection for silence ([`Self::heartbeat_window`]).
    /// A driver on the browser's native `EventSource` sets this to false:
    /// EventSource hides the server's heartbeat comments, so an idle channel
    /// would look stalled. A stall that hides even the response head is still
    /// caught by [`Self::connect_timeout`]. Default: true (a driver that feeds
    /// the bytes sees the comments).
    pub watch_sse_silence: bool,
    /// Time to wait for a response head (and for a whole `poll` reply).
    /// Default: 15 s.
    pub connect_timeout: Duration,
    /// Time to wait for a whole long-poll reply; must exceed the server's
    /// hold time (about 30 s). Default: 45 s.
    pub long_poll_timeout: Duration,
    /// Initial reconnection time, also the backoff base. Default: 3000 ms
    /// (like WebKit's and the npm `eventsource` package's EventSource).
    pub retry: Duration,
    /// Backoff cap. Default: 30 s.
    pub max_backoff: Duration,
    /// Pause between two `poll` requests. Default: 5 s.
    pub poll_interval: Duration,
    /// Consecutive failures on one rung before stepping down (0 acts as 1).
    /// Default: 2.
    pub failures_before_step_down: u32,
    /// Last event id to resume from on the first request. Default: `None`.
    pub last_event_id: Option<String>,
    /// The subscription's channels, in the order of its URL. Messages that
    /// arrive without a channel (native EventSource and `stream` SSE carry
    /// none) are named by the one channel whose cursor position advanced.
    /// Default: empty (such messages keep `channel: None`).
    pub channels: Vec<String>,
    /// Limits for the bodies the machine decodes itself
    /// ([`ClientMachine::handle_bytes`]). Default: the parsers' defaults and
    /// 8 MiB for one long-poll or poll reply.
    pub body_limits: BodyLimits,
}

/// Limits for the bodies [`ClientMachine::handle_bytes`] decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    /// Limits of the SSE parser (`stream` transport, `text/event-stream`).
    pub sse: SseParserConfig,
    /// Limits of the NDJSON parser (`stream` transport, `application/x-ndjson`).
    pub ndjson: NdjsonParserConfig,
    /// The largest long-poll or poll reply, in bytes.
    pub max_reply_bytes: usize,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            sse: SseParserConfig::default(),
            ndjson: NdjsonParserConfig::default(),
            max_reply_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            ladder: Transport::ALL.to_vec(),
            forced: None,
            heartbeat_window: Duration::from_secs(35),
            watch_sse_silence: true,
            connect_timeout: Duration::from_secs(15),
            long_poll_timeout: Duration::from_secs(45),
            retry: Duration::from_millis(3000),
            max_backoff: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
            failures_before_step_down: 2,
            last_event_id: None,
            channels: Vec::new(),
            body_limits: BodyLimits::default(),
        }
    }
}

impl ClientConfig {
    /// List the rungs the machine would use with `capabilities`, best first.
    ///
    /// This is [`Self::forced`] alone if set, else [`Self::ladder`] without
    /// duplicates; either way only transports `capabilities` support.
    pub fn ladder_for(&self, capabilities: Capabilities) -> Vec<Transport> {
        let wanted = match self.forced {
            Some(forced) => vec![forced],
            None => self.ladder.clone(),
        };
        let mut ladder: Vec<Transport> = Vec::with_capacity(wanted.len());
        for transport in wanted {
            if capabilities.supports(transport) && !ladder.contains(&transport) {
                ladder.push(transport);
            }
        }
        ladder
    }
}

/// One decoded message, as the driver hands it to the machine and the
/// machine hands it to the app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientMessage {
    /// The last event id after this message (SSE: the event's `lastEventId`;
    /// other transports: the message's `id`). An empty string resets it.
    pub id: String,
    /// The event type (`"message"` by default, `"gap"` for a gap notice).
    pub event: String,
    /// The channel, when the transport says.
    pub channel: Option<String>,
    /// The payload text.
    pub data: String,
}

impl ClientMessage {
    /// Make a plain `"message"` event without a channel.
    pub fn new(id: impl Into<String>, data: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            event: String::from("message"),
            channel: None,
            data: data.into(),
        }
    }

    /// Set the event type.
    #[must_use]
    pub fn with_event(mut self, event: impl Into<String>) -> Self {
        self.event = event.into();
        self
    }

    /// Set the channel.
    #[must_use]
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = Some(channel.into());
        self
    }

    /// Whether this is a gap notice (event type `gap`, reserved).
    pub fn is_gap(&self) -> bool {
        self.event == "gap"
    }
}

impl From<WireMessage> for ClientMessage {
    fn from(message: WireMessage) -> Self {
        Self {
            id: message.id,
            event: message.event,
            channel: Some(message.channel),
            data: message.data,
        }
    }
}

/// The head of a response, for [`ClientMachine::handle_response`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// The HTTP status (after redirects).
    pub status: u16,
    /// The `Content-Type` header value (empty if missing).
    pub content_type: &'a str,
    /// The `Retry-After` header as a delay, if present and valid.
    pub retry_after: Option<Duration>,
}

/// How a connection ended, for [`ClientMachine::handle_closed`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EndReason {
    /// The response body ended cleanly (for an iframe: its `load` event).
    Ended,
    /// The network failed (before or after the response head).
    NetworkError,
    /// The user agent aborted the fetch (page unload, `window.stop()`).
    Aborted,
    /// The user agent failed the connection for good without telling the
    /// status: a native EventSource's `error` with `readyState` CLOSED.
    Rejected,
}

/// Why the machine is about to reconnect, in [`ClientEvent::Error`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorReason {
    /// The response ended.
    Ended,
    /// The network failed.
    NetworkError,
    /// A retriable status (408, 429, 5xx on non-`sse` transports).
    Status(u16),
    /// A 200 with a content type the transport does not expect.
    ContentType,
    /// No response head within the connect timeout, or a poll not answered
    /// within its timeout.
    Timeout,
    /// An open streaming transport was silent past the heartbeat window.
    Stalled,
    /// The user agent failed a native EventSource without a status.
    Rejected,
    /// The body broke its format (a line over the limit, a reply that is not
    /// the long-poll JSON): the connection is dropped and retried.
    Malformed,
}

/// Why the machine closed for good, in [`ClientEvent::Closed`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The server answered with a status that means "stop" (204, 4xx, any
    /// non-200 on `sse`).
    Status(u16),
    /// The user agent aborted the connection.
    Aborted,
    /// The user agent failed the connection and no rung is left to try.
    Rejected,
}

/// What the driver must do on the network.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Transmit {
    /// Open a connection with this transport.
    Connect {
        /// The transport to use.
        transport: Transport,
        /// Resume after this id (`Last-Event-ID` or `?since=`); only set when
        /// non-empty.
        last_event_id: Option<String>,
        /// Consecutive failures before this attempt (0: a fresh start).
        attempt: u32,
    },
    /// Abort the current connection and report nothing more about it.
    Disconnect,
}

/// What the machine tells the app.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ClientEvent {
    /// The connection is open (ready state OPEN), like EventSource's `open`.
    Open {
        /// The transport that opened.
        transport: Transport,
    },
    /// A message arrived.
    Message(ClientMessage),
    /// A gap notice arrived: messages were missed (its `data` says how many).
    Gap(ClientMessage),
    /// The machine stepped down the ladder.
    TransportChanged {
        /// The transport given up.
        from: Transport,
        /// The transport used from now on.
        to: Transport,
    },
    /// The connection was lost or could not be made; the machine reconnects
    /// after `reconnecting_in` (ready state CONNECTING), like EventSource's
    /// `error`.
    Error {
        /// Delay before the next attempt.
        reconnecting_in: Duration,
        /// What went wrong.
        reason: ErrorReason,
    },
    /// The machine stopped for good (ready state CLOSED).
    Closed {
        /// Why.
        reason: CloseReason,
    },
}

/// The EventSource `readyState` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum ReadyState {
    /// Connecting or waiting to reconnect (0).
    Connecting = 0,
    /// Open: messages flow (1).
    Open = 1,
    /// Closed for good (2).
    Closed = 2,
}

impl ReadyState {
    /// The numeric value EventSource exposes.
    pub const fn as_u16(self) -> u16 {
        self as u16
    }
}

/// Errors of the client family.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ClientError {
    /// The capabilities allow no transport of the configured ladder.
    NoUsableTransport,
    /// A transport name is not one of `sse`, `stream`, `iframe`, `longpoll`, `poll`.
    UnknownTransport,
}

impl ClientError {
    /// The message `Display` writes, for drivers that build messages
    /// without `core::fmt` (it costs a browser SDK kilobytes).
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::NoUsableTransport => {
                "no transport of the configured ladder is supported by this environment"
            }
            Self::UnknownTransport => {
                "unknown transport name (expected sse, stream, iframe, longpoll or poll)"
            }
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for ClientError {}

/// Where the current connection stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// No connection; the next attempt starts at `at`.
    Waiting { at: Timestamp },
    /// Request sent, no response head yet.
    Connecting { deadline: Timestamp },
    /// Response head accepted; body flowing. `deadline` is the silence limit
    /// (streaming) or the request timeout (polls).
    Open {
        deadline: Timestamp,
        delivered: bool,
    },
    /// Closed for good.
    Closed,
}

/// SplitMix64: a tiny, good-enough generator for jitter.
#[derive(Clone, Debug)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// The deadline of a connection that is not watched: never reached.
const NEVER: Timestamp = Timestamp::from_millis(u64::MAX);

/// When an open streaming connection that delivers now counts as stalled.
fn silence_deadline(config: &ClientConfig, transport: Transport, now: Timestamp) -> Timestamp {
    if transport == Transport::Sse && !config.watch_sse_silence {
        NEVER
    } else {
        now.saturating_add(config.heartbeat_window)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// What a response head means for the current transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Open,
    NoData,
    WrongType,
    Retry,
    Stop,
}

fn classify(transport: Transport, status: u16, content_type: &str) -> Verdict {
    let polling = !transport.is_streaming();
    match status {
        200 if transport.accepts_content_type(content_type) => Verdict::Open,
        200 => Verdict::WrongType,
        _ if transport == Transport::Sse => Verdict::Stop,
        304 | 408 if polling => Verdict::NoData,
        408 | 429 | 500..=599 => Verdict::Retry,
        _ => Verdict::Stop,
    }
}

/// The transport ladder and reconnect policy. See the [module docs](self).
#[derive(Clone, Debug)]
pub struct ClientMachine {
    config: ClientConfig,
    ladder: Vec<Transport>,
    rung: usize,
    transport: Transport,
    phase: Phase,
    announced: bool,
    last_event_id: String,
    reconnection_time: Duration,
    rung_failures: u32,
    failures: u32,
    stalled: u8,
    rng: SplitMix64,
    body: Body,
    transmits: VecDeque<Transmit>,
    events: VecDeque<ClientEvent>,
}

/// The decoder of the open connection's body, for [`ClientMachine::handle_bytes`].
#[derive(Clone, Debug)]
enum Body {
    /// The driver decodes (native EventSource, forever-frame calls).
    Driver,
    /// `stream` carrying `text/event-stream`.
    Sse(SseParser),
    /// `stream` carrying `application/x-ndjson`.
    Ndjson(NdjsonParser),
    /// A long-poll or poll reply, decoded when it ends.
    Reply(Vec<u8>),
}

impl Body {
    fn for_response(transport: Transport, content_type: &str, limits: &BodyLimits) -> Self {
        match transport {
            // `sse` too: a driver without a native EventSource (the CLI)
            // feeds the raw bytes; a browser driver reports decoded events.
            Transport::Sse | Transport::Stream
                if Transport::Sse.accepts_content_type(content_type) =>
            {
                Self::Sse(SseParser::new(limits.sse))
            }
            Transport::Stream => Self::Ndjson(NdjsonParser::new(limits.ndjson)),
            Transport::LongPoll | Transport::Poll => Self::Reply(Vec::new()),
            Transport::Sse | Transport::Iframe => Self::Driver,
        }
    }
}

impl ClientMachine {
    /// Build a machine and queue the first [`Transmit::Connect`].
    ///
    /// `seed` seeds the jitter generator: pass something random
    /// (`crypto.getRandomValues`, `getrandom`); tests pass constants.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoUsableTransport`] when `capabilities` support no
    /// transport of the ladder (or not the forced one).
    pub fn new(
        config: ClientConfig,
        capabilities: Capabilities,
        seed: u64,
        now: Timestamp,
    ) -> Result<Self, ClientError> {
        let ladder = config.ladder_for(capabilities);
        let Some(&transport) = ladder.first() else {
            return Err(ClientError::NoUsableTransport);
        };
        let mut machine = Self {
            last_event_id: config.last_event_id.clone().unwrap_or_default(),
            reconnection_time: config.retry,
            config,
            ladder,
            rung: 0,
            transport,
            phase: Phase::Waiting { at: now },
            announced: false,
            rung_failures: 0,
            failures: 0,
            stalled: 0,
            rng: SplitMix64(seed),
            body: Body::Driver,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        };
        machine.connect(now);
        Ok(machine)
    }

    // ---- getters ----

    /// The EventSource-style ready state.
    ///
    /// Between the requests of a working long-poll or poll cycle it stays
    /// [`ReadyState::Open`]; only failures make it CONNECTING.
    pub fn ready_state(&self) -> ReadyState {
        match self.phase {
            Phase::Closed => ReadyState::Closed,
            _ if self.announced => ReadyState::Open,
            _ => ReadyState::Connecting,
        }
    }

    /// The transport in use (or about to be).
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The last event id (cursor) the next request resumes from; empty if none.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The current reconnection time (the backoff base).
    pub fn reconnection_time(&self) -> Duration {
        self.reconnection_time
    }

    /// The rungs in use, best first.
    pub fn ladder(&self) -> &[Transport] {
        &self.ladder
    }

    /// Whether `transport` was seen stalling (open but silent past the
    /// heartbeat window); a driver may persist this for the next page load.
    pub fn has_stalled(&self, transport: Transport) -> bool {
        self.stalled & transport.bit() != 0
    }

    /// Consecutive failures since the last delivery.
    pub fn consecutive_failures(&self) -> u32 {
        self.failures
    }

    // ---- inputs ----

    /// Report a response head with no `Retry-After`.
    ///
    /// Call once per connection when the status and headers arrive (native
    /// EventSource: on `open`, as `200, "text/event-stream"`). See
    /// [`Self::handle_response`].
    pub fn handle_opened(&mut self, now: Timestamp, status: u16, content_type: &str) {
        self.handle_response(
            now,
            ResponseHead {
                status,
                content_type,
                retry_after: None,
            },
        );
    }

    /// Report a response head.
    ///
    /// Ignored unless a request is waiting for its head. Unless the head is
    /// accepted (the machine is then Open and waits for the body and its end),
    /// the machine queues [`Transmit::Disconnect`]: drop that response.
    pub fn handle_response(&mut self, now: Timestamp, head: ResponseHead<'_>) {
        let Phase::Connecting { deadline } = self.phase else {
            return;
        };
        match classify(self.transport, head.status, head.content_type) {
            Verdict::Open => {
                let deadline = if self.transport.is_streaming() {
                    self.silence_deadline(now)
                } else {
                    deadline
                };
                self.phase = Phase::Open {
                    deadline,
                    delivered: false,
                };
                self.body =
                    Body::for_response(self.transport, head.content_type, &self.config.body_limits);
                self.announce();
            }
            Verdict::NoData => {
                self.transmits.push_back(Transmit::Disconnect);
                self.delivered(now);
                self.announce();
                self.next_poll(now);
            }
            Verdict::WrongType => self.fail(now, ErrorReason::ContentType, None, true),
            Verdict::Retry => {
                let retry_after = match head.status {
                    429 | 503 => head.retry_after,
                    _ => None,
                };
                self.fail(now, ErrorReason::Status(head.status), retry_after, true);
            }
            Verdict::Stop => self.close_for_good(CloseReason::Status(head.status), true),
        }
    }

    /// Report a decoded message of the open connection.
    ///
    /// Updates the last event id to `message.id`, counts as activity, and
    /// surfaces the message ([`ClientEvent::Gap`] for event type `gap`).
    /// Ignored unless the connection is open.
    pub fn handle_message(&mut self, now: Timestamp, mut message: ClientMessage) {
        if !matches!(self.phase, Phase::Open { .. }) {
            return;
        }
        if message.channel.is_none() {
            message.channel = self.channel_between(&message.id);
        }
        self.delivered(now);
        self.last_event_id.clone_from(&message.id);
        self.events.push_back(if message.is_gap() {
            ClientEvent::Gap(message)
        } else {
            ClientEvent::Message(message)
        });
    }

    /// Feed body bytes of the open connection that the machine decodes
    /// itself: `sse` and `stream` (SSE or NDJSON, by the response's content
    /// type; a driver without a native EventSource, like the CLI) and
    /// the long-poll / poll replies (decoded when [`Self::handle_closed`]
    /// reports the end). Native EventSource and forever-frame drivers report
    /// decoded messages with [`Self::handle_message`] instead.
    ///
    /// Bytes count as activity. A body that breaks its format drops the
    /// connection ([`Transmit::Disconnect`]) and counts as a failure
    /// ([`ErrorReason::Malformed`]).
    pub fn handle_bytes(&mut self, now: Timestamp, bytes: &[u8]) {
        if !matches!(self.phase, Phase::Open { .. }) {
            return;
        }
        self.delivered(now);
        let fits = match &mut self.body {
            Body::Driver => true,
            Body::Sse(parser) => {
                parser.push(bytes);
                true
            }
            Body::Ndjson(parser) => {
                parser.push(bytes);
                true
            }
            Body::Reply(buffer) => {
                let fits = buffer.len().saturating_add(bytes.len())
                    <= self.config.body_limits.max_reply_bytes;
                if fits {
                    buffer.extend_from_slice(bytes);
                }
                fits
            }
        };
        if !fits || !self.drain_body(now) {
            self.malformed(now);
        }
    }

    /// Hand every complete item of a streaming body to the machine; false
    /// when the body broke its format.
    fn drain_body(&mut self, now: Timestamp) -> bool {
        loop {
            match &mut self.body {
                Body::Sse(parser) => match parser.poll_event() {
                    None => {
                        // An `id` dispatched without data still moves the cursor.
                        if parser.last_event_id() != self.last_event_id {
                            let id = String::from(parser.last_event_id());
                            self.handle_cursor(now, &id);
                        }
                        return true;
                    }
                    Some(Ok(SseEvent::Message(message))) => self.handle_message(
                        now,
                        ClientMessage::new(message.last_event_id, message.data)
                            .with_event(message.event),
                    ),
                    Some(Ok(SseEvent::Retry(millis))) => self.handle_retry(now, millis),
                    Some(Err(_)) => return false,
                },
                Body::Ndjson(parser) => match parser.poll_event() {
                    None => return true,
                    Some(Ok(message)) => self.handle_message(now, message.into()),
                    Some(Err(_)) => return false,
                },
                Body::Driver | Body::Reply(_) => return true,
            }
        }
    }

    /// The body ended cleanly: decode a poll reply. False when it was
    /// malformed (the machine has already acted on it).
    fn finish_body(&mut self, now: Timestamp) -> bool {
        let reply = match core::mem::replace(&mut self.body, Body::Driver) {
            // An empty body is "nothing new" (or a driver that decoded the
            // reply itself and reported it with `handle_message`).
            Body::Reply(bytes) if !bytes.is_empty() && matches!(self.phase, Phase::Open { .. }) => {
                wire::decode_longpoll_reply(&bytes)
            }
            _ => return true,
        };
        let Ok(reply) = reply else {
            self.malformed(now);
            return false;
        };
        for message in reply.messages {
            self.handle_message(now, message.into());
        }
        self.handle_cursor(now, &reply.cursor);
        true
    }

    fn malformed(&mut self, now: Timestamp) {
        self.body = Body::Driver;
        self.fail(now, ErrorReason::Malformed, None, true);
    }

    /// The subscribed channel whose position moved between the last event
    /// id and `next_id`.
    fn channel_between(&self, next_id: &str) -> Option<String> {
        if let [only] = self.config.channels.as_slice() {
            return Some(only.clone());
        }
        let previous = Cursor::parse(&self.last_event_id).ok()?;
        let next = Cursor::parse(next_id).ok()?;
        let index = cursor::advanced_channel(&previous, &next)?;
        self.config.channels.get(index).cloned()
    }

    /// Report that bytes arrived on the open connection (a heartbeat, a
    /// partial event): it is alive.
    pub fn handle_activity(&mut self, now: Timestamp) {
        if matches!(self.phase, Phase::Open { .. }) {
            self.delivered(now);
        }
    }

    /// Report a cursor without a message (a long-poll reply's `cursor`, an SSE
    /// `id` dispatched without data): the next request resumes from it.
    pub fn handle_cursor(&mut self, now: Timestamp, cursor: &str) {
        if matches!(self.phase, Phase::Open { .. }) {
            self.delivered(now);
            self.last_event_id.clear();
            self.last_event_id.push_str(cursor);
        }
    }

    /// Set the reconnection time from an SSE `retry` field (in ms).
    pub fn handle_retry(&mut self, _now: Timestamp, millis: u64) {
        if self.phase != Phase::Closed {
            self.reconnection_time = Duration::from_millis(millis);
        }
    }

    /// Report that the current connection ended (before or after its head).
    ///
    /// Ignored when no connection is outstanding.
    pub fn handle_closed(&mut self, now: Timestamp, reason: EndReason) {
        if reason == EndReason::Ended && !self.finish_body(now) {
            return;
        }
        self.body = Body::Driver;
        let delivered = match self.phase {
            Phase::Connecting { .. } => false,
            Phase::Open { delivered, .. } => delivered,
            Phase::Waiting { .. } | Phase::Closed => return,
        };
        let error = match reason {
            EndReason::Aborted => return self.close_for_good(CloseReason::Aborted, false),
            EndReason::Rejected => {
                self.announced = false;
                if !self.step_down(now, ErrorReason::Rejected) {
                    self.close_for_good(CloseReason::Rejected, false);
                }
                return;
            }
            EndReason::Ended => ErrorReason::Ended,
            EndReason::NetworkError => ErrorReason::NetworkError,
        };
        if !delivered {
            return self.fail(now, error, None, false);
        }
        if self.transport.is_streaming() {
            self.announced = false;
            let delay = self.reconnection_time;
            self.events.push_back(ClientEvent::Error {
                reconnecting_in: delay,
                reason: error,
            });
            self.schedule(now, delay);
        } else if reason == EndReason::Ended {
            self.next_poll(now);
        } else {
            self.fail(now, error, None, false);
        }
    }

    /// Act on the deadline returned by [`Self::poll_timeout`] (early calls do
    /// nothing).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        match self.phase {
            Phase::Waiting { at } if now >= at => self.connect(now),
            Phase::Connecting { deadline } if now >= deadline => {
                self.fail(now, ErrorReason::Timeout, None, true);
            }
            Phase::Open { deadline, .. } if now >= deadline => {
                if self.transport.is_streaming() {
                    self.stall(now);
                } else {
                    self.fail(now, ErrorReason::Timeout, None, true);
                }
            }
            _ => {}
        }
    }

    /// Close for good (ready state CLOSED), like `EventSource.close()`.
    ///
    /// Queued events are dropped and none is emitted; an outstanding
    /// connection gets one last [`Transmit::Disconnect`], then nothing more.
    pub fn close(&mut self) {
        let outstanding = matches!(self.phase, Phase::Connecting { .. } | Phase::Open { .. });
        self.phase = Phase::Closed;
        self.announced = false;
        self.events.clear();
        self.transmits.clear();
        if outstanding {
            self.transmits.push_back(Transmit::Disconnect);
        }
    }

    // ---- outputs ----

    /// Take the next network action.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Take the next event for the app.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    /// The next deadline: call [`Self::handle_timeout`] then. `None` once
    /// closed, and while an open `sse` connection is not watched for silence
    /// ([`ClientConfig::watch_sse_silence`]).
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match self.phase {
            Phase::Waiting { at } => Some(at),
            Phase::Connecting { deadline } | Phase::Open { deadline, .. } => {
                (deadline != NEVER).then_some(deadline)
            }
            Phase::Closed => None,
        }
    }

    // ---- internals ----

    fn connect(&mut self, now: Timestamp) {
        let timeout = match self.transport {
            Transport::LongPoll => self.config.long_poll_timeout,
            _ => self.config.connect_timeout,
        };
        self.transmits.push_back(Transmit::Connect {
            transport: self.transport,
            last_event_id: (!self.last_event_id.is_empty()).then(|| self.last_event_id.clone()),
            attempt: self.failures,
        });
        self.phase = Phase::Connecting {
            deadline: now.saturating_add(timeout),
        };
    }

    fn schedule(&mut self, now: Timestamp, delay: Duration) {
        if delay.is_zero() {
            self.connect(now);
        } else {
            self.phase = Phase::Waiting {
                at: now.saturating_add(delay),
            };
        }
    }

    fn silence_deadline(&self, now: Timestamp) -> Timestamp {
        silence_deadline(&self.config, self.transport, now)
    }

    fn announce(&mut self) {
        if !self.announced {
            self.announced = true;
            self.events.push_back(ClientEvent::Open {
                transport: self.transport,
            });
        }
    }

    /// Something arrived: the transport works.
    fn delivered(&mut self, now: Timestamp) {
        self.rung_failures = 0;
        self.failures = 0;
        if let Phase::Open {
            deadline,
            delivered,
        } = &mut self.phase
        {
            *delivered = true;
            if self.transport.is_streaming() {
                *deadline = silence_deadline(&self.config, self.transport, now);
            }
        }
    }

    /// A poll reply completed normally: ask again.
    fn next_poll(&mut self, now: Timestamp) {
        let delay = match self.transport {
            Transport::Poll => self.config.poll_interval,
            _ => Duration::ZERO,
        };
        self.schedule(now, delay);
    }

    fn backoff_delay(&mut self) -> Duration {
        let base = millis(self.reconnection_time);
        let cap = millis(self.config.max_backoff).max(base);
        let factor = 1u64
            .checked_shl(self.failures.saturating_sub(1))
            .unwrap_or(u64::MAX);
        let ceiling = base.saturating_mul(factor).min(cap);
        let random = self.rng.next_u64();
        Duration::from_millis(match ceiling.checked_add(1) {
            Some(span) => random % span,
            None => random,
        })
    }

    /// An attempt failed or an open connection was lost without delivering.
    fn fail(
        &mut self,
        now: Timestamp,
        reason: ErrorReason,
        retry_after: Option<Duration>,
        abort: bool,
    ) {
        if abort {
            self.transmits.push_back(Transmit::Disconnect);
        }
        self.announced = false;
        self.failures = self.failures.saturating_add(1);
        if retry_after.is_none() {
            self.rung_failures = self.rung_failures.saturating_add(1);
            if self.rung_failures >= self.config.failures_before_step_down.max(1)
                && self.step_down(now, reason)
            {
                return;
            }
        }
        let delay = match retry_after {
            Some(delay) => delay,
            None => self.backoff_delay(),
        };
        self.events.push_back(ClientEvent::Error {
            reconnecting_in: delay,
            reason,
        });
        self.schedule(now, delay);
    }

    /// An open streaming transport went silent: abort it and step down.
    fn stall(&mut self, now: Timestamp) {
        self.transmits.push_back(Transmit::Disconnect);
        self.stalled |= self.transport.bit();
        self.announced = false;
        if !self.step_down(now, ErrorReason::Stalled) {
            self.fail(now, ErrorReason::Stalled, None, false);
        }
    }

    /// Switch to the next rung and connect to it at once; false at the bottom.
    fn step_down(&mut self, now: Timestamp, reason: ErrorReason) -> bool {
        let Some(&next) = self.ladder.get(self.rung.saturating_add(1)) else {
            return false;
        };
        let from = self.transport;
        self.rung = self.rung.saturating_add(1);
        self.transport = next;
        self.rung_failures = 0;
        self.events.push_back(ClientEvent::Error {
            reconnecting_in: Duration::ZERO,
            reason,
        });
        self.events
            .push_back(ClientEvent::TransportChanged { from, to: next });
        self.connect(now);
        true
    }

    fn close_for_good(&mut self, reason: CloseReason, abort: bool) {
        if abort {
            self.transmits.push_back(Transmit::Disconnect);
        }
        self.phase = Phase::Closed;
        self.announced = false;
        self.events.push_back(ClientEvent::Closed { reason });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transport_names_round_trip() {
        // The `?transport=` values (docs/design.md "Transports").
        for (name, transport) in [
            ("sse", Transport::Sse),
            ("stream", Transport::Stream),
            ("iframe", Transport::Iframe),
            ("longpoll", Transport::LongPoll),
            ("poll", Transport::Poll),
        ] {
            assert_eq!(transport.as_str(), name);
            assert_eq!(name.parse::<Transport>(), Ok(transport));
        }
        for bad in ["", "SSE", "long-poll", "multipart", "sse "] {
            assert_eq!(
                bad.parse::<Transport>(),
                Err(ClientError::UnknownTransport),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn each_transport_accepts_what_it_asks_for() {
        for transport in Transport::ALL {
            let asked: Vec<&str> = media::media_ranges(transport.accept())
                .map(|range| range.media_type)
                .collect();
            assert_eq!(asked.len(), transport.content_types().len(), "{transport}");
            for media_type in asked {
                assert!(transport.accepts_content_type(media_type), "{transport}");
            }
        }
    }

    #[test]
    fn ladder_choice_follows_order_and_capabilities() {
        use Transport::*;
        let no_event_source = Capabilities {
            event_source: false,
            ..Capabilities::ALL
        };
        let old_browser = Capabilities {
            fetch: true,
            ..Capabilities::NONE
        };
        let iframes_only = Capabilities {
            iframes: true,
            ..Capabilities::NONE
        };
        let default = ClientConfig::default();
        let forced = |t| ClientConfig {
            forced: Some(t),
            ..ClientConfig::default()
        };
        let custom = ClientConfig {
            ladder: vec![LongPoll, Sse, LongPoll],
            ..ClientConfig::default()
        };
        // (config, capabilities, expected ladder): docs/design.md "The client ladder": pick the
        // best transport the capabilities allow, in the configured order.
        let table: [(&ClientConfig, Capabilities, &[Transport]); 8] = [
            (
                &default,
                Capabilities::ALL,
                &[Sse, Stream, Iframe, LongPoll, Poll],
            ),
            (&default, no_event_source, &[Stream, Iframe, LongPoll, Poll]),
            (&default, old_browser, &[LongPoll, Poll]),
            (&default, iframes_only, &[Iframe]),
            (&default, Capabilities::NONE, &[]),
            (&forced(Poll), Capabilities::ALL, &[Poll]),
            (&forced(Sse), no_event_source, &[]),
            (&custom, Capabilities::ALL, &[LongPoll, Sse]),
        ];
        for (config, capabilities, expected) in table {
            assert_eq!(
                config.ladder_for(capabilities),
                expected,
                "{capabilities:?}"
            );
        }
        assert_eq!(
            ClientMachine::new(
                ClientConfig::default(),
                Capabilities::NONE,
                0,
                Timestamp::ZERO
            )
            .err(),
            Some(ClientError::NoUsableTransport)
        );
    }

    #[test]
    fn content_type_essence_ignores_parameters_and_case() {
        // docs/conformance.md §1 "Processing model": the essence counts, parameters are ignored.
        let table = [
            (Transport::Sse, "text/event-stream", true),
            (Transport::Sse, "Text/Event-Stream; charset=utf-8", true),
            (Transport::Sse, " text/event-stream ;x=y", true),
            (Transport::Sse, "text/html", false),
            (Transport::Sse, "", false),
            (Transport::Stream, "application/x-ndjson", true),
            (Transport::Stream, "text/event-stream", true),
            (Transport::Stream, "application/json", false),
            (Transport::Iframe, "text/html; charset=UTF-8", true),
            (Transport::LongPoll, "application/json", true),
            (Transport::Poll, "application/json;charset=utf-8", true),
            (Transport::Poll, "text/plain", false),
        ];
        for (transport, content_type, expected) in table {
            assert_eq!(
                transport.accepts_content_type(content_type),
                expected,
                "{content_type:?}"
            );
        }
    }

    #[test]
    fn response_statuses_are_classified_per_transport() {
        use Verdict::*;
        // (transport, status, verdict). sse: docs/conformance.md §1 (any non-200 fails
        // for good); polls: §4 (304/408 = poll again); others: module docs table.
        let table = [
            (Transport::Sse, 200, Open),
            (Transport::Sse, 204, Stop),
            (Transport::Sse, 205, Stop),
            (Transport::Sse, 404, Stop),
            (Transport::Sse, 503, Stop),
            (Transport::Stream, 204, Stop),
            (Transport::Stream, 403, Stop),
            (Transport::Stream, 408, Retry),
            (Transport::Stream, 429, Retry),
            (Transport::Stream, 502, Retry),
            (Transport::Iframe, 304, Stop),
            (Transport::LongPoll, 204, Stop),
            (Transport::LongPoll, 304, NoData),
            (Transport::LongPoll, 408, NoData),
            (Transport::Poll, 504, Retry),
            (Transport::Poll, 401, Stop),
        ];
        for (transport, status, verdict) in table {
            let content_type = transport
                .content_types()
                .first()
                .copied()
                .unwrap_or_default();
            assert_eq!(
                classify(transport, status, content_type),
                verdict,
                "{transport} {status}"
            );
        }
        assert_eq!(classify(Transport::Sse, 200, "text/html"), WrongType);
    }

    #[test]
    fn ready_state_numbers_match_event_source() {
        // HTML §9.2: CONNECTING = 0, OPEN = 1, CLOSED = 2.
        assert_eq!(ReadyState::Connecting.as_u16(), 0);
        assert_eq!(ReadyState::Open.as_u16(), 1);
        assert_eq!(ReadyState::Closed.as_u16(), 2);
    }
}
