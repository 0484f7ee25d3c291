//! Server-Sent Events (`text/event-stream`): an encoder for servers and an
//! incremental parser for clients.
//!
//! The encoder functions append one event, `retry`, comment or heartbeat to a
//! caller's `Vec<u8>`, splitting text on every line break so that no value can
//! break the framing. [`SseParser`] follows the WHATWG "event stream
//! interpretation" to the letter: bytes go in with [`SseParser::push`] in chunks
//! of any size, events come out of [`SseParser::poll_event`].
//!
//! ```
//! use pushwire_core::sse::{self, SseEvent, SseParser};
//!
//! let mut wire = Vec::new();
//! sse::encode_event(&mut wire, Some("7"), Some("tick"), "line one\nline two")?;
//! sse::encode_heartbeat(&mut wire);
//!
//! let mut parser = SseParser::default();
//! let (first, second) = wire.split_at(5); // any split gives the same events
//! parser.push(first);
//! assert!(parser.poll_event().is_none());
//! parser.push(second);
//! let Some(Ok(SseEvent::Message(message))) = parser.poll_event() else { panic!() };
//! assert_eq!(message.event, "tick");
//! assert_eq!(message.data, "line one\nline two");
//! assert_eq!(message.last_event_id, "7");
//! assert!(parser.poll_event().is_none());
//! # Ok::<(), pushwire_core::sse::SseEncodeError>(())
//! ```
//!
//! Rules: docs/conformance.md §1, from the WHATWG HTML Living Standard §9.2
//! (`#event-stream-interpretation`).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

// ---------------------------------------------------------------------------
// Encoder
// ---------------------------------------------------------------------------

/// Why an encoder refused its input. Nothing is written when an error is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SseEncodeError {
    /// The `id` contains CR or LF, which would end the `id:` line early.
    IdContainsLineBreak,
    /// The `id` contains U+0000 NULL, which makes every client ignore the field.
    IdContainsNul,
    /// The event name contains CR or LF, which would end the `event:` line early.
    EventContainsLineBreak,
}

impl fmt::Display for SseEncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::IdContainsLineBreak => "SSE id contains a CR or LF line break",
            Self::IdContainsNul => "SSE id contains a NUL character, which clients ignore",
            Self::EventContainsLineBreak => "SSE event name contains a CR or LF line break",
        })
    }
}

impl core::error::Error for SseEncodeError {}

/// Options for [`encode_preamble`], the first bytes of a stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SsePreambleConfig {
    /// Length in bytes of a comment line written first, to push old proxies and
    /// `EventSource` polyfills into streaming mode; 0 (the default) writes none.
    /// [`SsePreambleConfig::PROXY_PADDING`] is the customary 2 KiB. Values below
    /// 2 are raised to 2 (`:` and LF).
    pub padding: usize,
    /// Reconnection time in milliseconds announced with a `retry:` line; `None`
    /// (the default) leaves the client's own default (3 s in most clients).
    pub retry_millis: Option<u64>,
}

impl SsePreambleConfig {
    /// The 2 KiB padding some servers send for old proxies and IE polyfills.
    pub const PROXY_PADDING: usize = 2048;

    /// Set [`SsePreambleConfig::padding`].
    #[must_use]
    pub const fn with_padding(mut self, padding: usize) -> Self {
        self.padding = padding;
        self
    }

    /// Set [`SsePreambleConfig::retry_millis`].
    #[must_use]
    pub const fn with_retry_millis(mut self, retry_millis: Option<u64>) -> Self {
        self.retry_millis = retry_millis;
        self
    }
}

/// Append the first bytes of a stream: optional padding comment, optional `retry:`.
///
/// Call once, before the first event. With the default config this writes nothing.
pub fn encode_preamble(out: &mut Vec<u8>, config: &SsePreambleConfig) {
    if config.padding > 0 {
        let spaces = config.padding.saturating_sub(2);
        out.reserve(spaces + 2);
        out.push(b':');
        out.resize(out.len() + spaces, b' ');
        out.push(b'\n');
    }
    if let Some(millis) = config.retry_millis {
        encode_retry(out, millis);
    }
}

/// Append a whole event: the `id:` line (when `id` is `Some`), then the body.
///
/// `id: Some("")` writes an empty `id:` line, which resets the client's last
/// event ID. See [`encode_event_body`] for `event` and `data`.
///
/// # Errors
/// [`SseEncodeError`] when `id` contains CR, LF or NUL, or `event` contains CR
/// or LF; nothing is written then.
pub fn encode_event(
    out: &mut Vec<u8>,
    id: Option<&str>,
    event: Option<&str>,
    data: &str,
) -> Result<(), SseEncodeError> {
    if let Some(id) = id {
        check_id(id)?;
    }
    if let Some(event) = event {
        check_event(event)?;
    }
    if let Some(id) = id {
        write_line(out, b"id", id);
    }
    write_body(out, event, data);
    Ok(())
}

/// Append the `id:` line of an event, to be followed by a body from [`encode_event_body`].
///
/// Lets a host frame a shared body once and prefix a per-subscriber id line.
/// The id is written after `id: `, so a leading space survives.
///
/// # Errors
/// [`SseEncodeError::IdContainsLineBreak`] or [`SseEncodeError::IdContainsNul`];
/// nothing is written then.
pub fn encode_id(out: &mut Vec<u8>, id: &str) -> Result<(), SseEncodeError> {
    check_id(id)?;
    write_line(out, b"id", id);
    Ok(())
}

/// Append an `id:` line and the blank line that dispatches it: clients take
/// it as their last event id without firing any event (the data buffer is
/// empty, docs/conformance.md §1 "Dispatch" step 1 and 2).
///
/// A server opens a stream with it so that a client which reconnects before
/// its first message resumes from where it subscribed.
///
/// # Errors
/// As [`encode_id`]; nothing is written then.
pub fn encode_cursor(out: &mut Vec<u8>, id: &str) -> Result<(), SseEncodeError> {
    encode_id(out, id)?;
    out.push(b'\n');
    Ok(())
}

/// Append the body of an event: `event:` line, `data:` lines and the blank line.
///
/// `event` of `None` or `Some("")` writes no `event:` line (clients then use
/// `"message"`). `data` is split on CR, LF and CRLF into one `data:` line per
/// piece, so any text survives, except that clients turn every CR and CRLF into
/// LF. A `data` ending in a line break gets its final empty `data:` line, so the
/// trailing LF survives; every value is written after `data: `, so a leading
/// space survives too. Empty `data` still makes an event (with empty data).
///
/// # Errors
/// [`SseEncodeError::EventContainsLineBreak`]; nothing is written then.
pub fn encode_event_body(
    out: &mut Vec<u8>,
    event: Option<&str>,
    data: &str,
) -> Result<(), SseEncodeError> {
    if let Some(event) = event {
        check_event(event)?;
    }
    write_body(out, event, data);
    Ok(())
}

/// Append a `retry:` line that sets the client's reconnection time in milliseconds.
pub fn encode_retry(out: &mut Vec<u8>, millis: u64) {
    use core::fmt::Write as _;
    let mut digits = DigitBuffer::default();
    // Writing a u64 into a 20-byte buffer cannot fail.
    let _ = write!(digits, "{millis}");
    out.extend_from_slice(b"retry: ");
    out.extend_from_slice(digits.as_bytes());
    out.push(b'\n');
}

/// Append a comment, one `: …` line per line of `text` (split on CR, LF, CRLF).
///
/// Clients ignore comments; they keep idle connections alive. An empty `text`
/// is the heartbeat `:` line.
pub fn encode_comment(out: &mut Vec<u8>, text: &str) {
    for piece in lines_of(text) {
        if piece.is_empty() {
            out.extend_from_slice(b":\n");
        } else {
            out.extend_from_slice(b": ");
            out.extend_from_slice(piece.as_bytes());
            out.push(b'\n');
        }
    }
}

/// Append the heartbeat comment `:\n`, to be sent about every 15 s of silence.
pub fn encode_heartbeat(out: &mut Vec<u8>) {
    out.extend_from_slice(b":\n");
}

fn check_id(id: &str) -> Result<(), SseEncodeError> {
    for byte in id.bytes() {
        match byte {
            b'\r' | b'\n' => return Err(SseEncodeError::IdContainsLineBreak),
            0 => return Err(SseEncodeError::IdContainsNul),
            _ => {}
        }
    }
    Ok(())
}

fn check_event(event: &str) -> Result<(), SseEncodeError> {
    if event.bytes().any(|byte| byte == b'\r' || byte == b'\n') {
        return Err(SseEncodeError::EventContainsLineBreak);
    }
    Ok(())
}

/// Write `name: value\n` (or `name:\n` for an empty value); `value` has no line break.
fn write_line(out: &mut Vec<u8>, name: &[u8], value: &str) {
    out.reserve(name.len() + value.len() + 3);
    out.extend_from_slice(name);
    if value.is_empty() {
        out.push(b':');
    } else {
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
    }
    out.push(b'\n');
}

fn write_body(out: &mut Vec<u8>, event: Option<&str>, data: &str) {
    if let Some(event) = event.filter(|event| !event.is_empty()) {
        write_line(out, b"event", event);
    }
    out.reserve(data.len() + 8);
    for piece in lines_of(data) {
        write_line(out, b"data", piece);
    }
    out.push(b'\n');
}

/// Split `text` on CR, LF and CRLF; `""` gives one empty piece, `"a\n"` gives `"a"`, `""`.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    core::iter::from_fn(move || {
        let current = rest?;
        match current.find(['\r', '\n']) {
            None => {
                rest = None;
                Some(current)
            }
            Some(at) => {
                let (piece, tail) = current.split_at(at);
                let tail = tail
                    .strip_prefix("\r\n")
                    .or_else(|| tail.get(1..))
                    .unwrap_or_default();
                rest = Some(tail);
                Some(piece)
            }
        }
    })
}

/// Room for the decimal digits of any `u64`.
#[derive(Default)]
struct DigitBuffer {
    bytes: [u8; 20],
    len: usize,
}

impl DigitBuffer {
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Write for DigitBuffer {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------

/// One dispatched `MessageEvent`, as an `EventSource` would fire it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SseMessage {
    /// The event type: the last `event:` value, or `"message"` when there was none.
    pub event: String,
    /// The `data:` values joined with LF (without a final LF).
    pub data: String,
    /// The last event ID string at dispatch: the last `id:` value seen, which
    /// persists across events until an `id` field changes it.
    pub last_event_id: String,
}

/// What [`SseParser::poll_event`] yields.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SseEvent {
    /// A complete event, dispatched by a blank line.
    Message(SseMessage),
    /// A valid `retry:` field: the new reconnection time in milliseconds
    /// (saturating at `u64::MAX`). Takes effect at once, not at dispatch.
    Retry(u64),
}

/// Why [`SseParser`] stopped. After an error the current stream is over: see
/// [`SseParser::poll_event`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SseParseError {
    /// A line (without its line break) is longer than [`SseParserConfig::max_line_len`].
    LineTooLong {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// An event's data buffer grew past [`SseParserConfig::max_data_len`].
    DataTooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
}

impl fmt::Display for SseParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => {
                write!(f, "SSE line longer than the limit of {limit} bytes")
            }
            Self::DataTooLarge { limit } => {
                write!(f, "SSE event data larger than the limit of {limit} bytes")
            }
        }
    }
}

impl core::error::Error for SseParseError {}

/// Limits for [`SseParser`]; the defaults accept events of up to 1 MiB of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SseParserConfig {
    /// Most bytes one line may hold, line break excluded (comments included).
    /// Default [`SseParserConfig::DEFAULT_MAX_LINE_LEN`]: 1 MiB + 1 KiB, room
    /// for a 1 MiB `data:` value and its field name.
    pub max_line_len: usize,
    /// Most bytes an event's data buffer may hold: the decoded `data` values
    /// each followed by LF (malformed UTF-8 counts as the 3 bytes of U+FFFD).
    /// Default [`SseParserConfig::DEFAULT_MAX_DATA_LEN`]: 1 MiB + 1 KiB.
    pub max_data_len: usize,
}

impl SseParserConfig {
    /// Default for [`SseParserConfig::max_line_len`]: 1 MiB + 1 KiB.
    pub const DEFAULT_MAX_LINE_LEN: usize = (1 << 20) + 1024;
    /// Default for [`SseParserConfig::max_data_len`]: 1 MiB + 1 KiB.
    pub const DEFAULT_MAX_DATA_LEN: usize = (1 << 20) + 1024;

    /// Set [`SseParserConfig::max_line_len`].
    #[must_use]
    pub const fn with_max_line_len(mut self, max_line_len: usize) -> Self {
        self.max_line_len = max_line_len;
        self
    }

    /// Set [`SseParserConfig::max_data_len`].
    #[must_use]
    pub const fn with_max_data_len(mut self, max_data_len: usize) -> Self {
        self.max_data_len = max_data_len;
        self
    }
}

impl Default for SseParserConfig {
    fn default() -> Self {
        Self {
            max_line_len: Self::DEFAULT_MAX_LINE_LEN,
            max_data_len: Self::DEFAULT_MAX_DATA_LEN,
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Incremental `text/event-stream` parser (WHATWG "event stream interpretation").
///
/// Driving loop: [`push`](Self::push) the bytes of each network read, then call
/// [`poll_event`](Self::poll_event) until it returns `None`. When the body ends
/// (cleanly or not), call [`finish`](Self::finish): the unterminated last event
/// is dropped, and the parser is ready for the body of the reconnection, with
/// [`last_event_id`](Self::last_event_id) kept for its `Last-Event-ID` header.
///
/// Decoding is UTF-8 whatever the Content-Type says; one leading BOM is
/// stripped and malformed sequences become U+FFFD. Lines end in CR, LF or CRLF,
/// even when a CRLF is split between two pushes.
#[derive(Clone, Debug, Default)]
pub struct SseParser {
    config: SseParserConfig,
    /// Received bytes; `buf[pos..]` is not yet interpreted.
    buf: Vec<u8>,
    /// Start of the current (unfinished) line in `buf`.
    pos: usize,
    /// Bytes `buf[pos..scan_from]` are known to hold no CR or LF.
    scan_from: usize,
    /// The previous line ended in a CR that was the last byte received: an LF
    /// arriving next belongs to it.
    skip_lf: bool,
    /// The start of the stream is past: no BOM can come any more.
    bom_done: bool,
    /// The sticky error of the current stream.
    error: Option<SseParseError>,
    /// Whether `error` was already returned by `poll_event`.
    error_reported: bool,
    fields: Fields,
}

/// The interpretation buffers, apart from `buf` so a line can borrow `buf`.
#[derive(Clone, Debug, Default)]
struct Fields {
    data: String,
    event_type: String,
    id_buffer: String,
    last_event_id: String,
    retry: Option<u64>,
}

impl SseParser {
    /// Make a parser with the given limits.
    pub fn new(config: SseParserConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// The last event ID string: the `id` of the latest dispatch, kept across
    /// events and across [`finish`](Self::finish). Send it as `Last-Event-ID`
    /// when it is not empty.
    pub fn last_event_id(&self) -> &str {
        &self.fields.last_event_id
    }

    /// The reconnection time from the latest valid `retry:` field, in milliseconds.
    pub fn retry(&self) -> Option<u64> {
        self.fields.retry
    }

    /// The limits this parser enforces.
    pub fn config(&self) -> &SseParserConfig {
        &self.config
    }

    /// Feed the next bytes of the body, split anywhere.
    ///
    /// Drain [`poll_event`](Self::poll_event) after each push: bytes wait in
    /// the parser until they are polled. Ignored after an error, until
    /// [`finish`](Self::finish).
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_some() || bytes.is_empty() {
            return;
        }
        if self.pos >= self.buf.len() {
            self.buf.clear();
        } else if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.scan_from = self.scan_from.saturating_sub(self.pos);
        }
        self.scan_from = self.scan_from.min(self.buf.len());
        self.pos = 0;
        self.buf.extend_from_slice(bytes);
    }

    /// Take the next event, or `None` when the bytes pushed so far hold no more.
    ///
    /// Incomplete input is never an error. After an error, this returns
    /// `Some(Err(_))` once, then `None` (and [`push`](Self::push) is ignored)
    /// until [`finish`](Self::finish) starts a new stream: the driver should
    /// drop the connection and reconnect.
    ///
    /// # Errors
    /// [`SseParseError::LineTooLong`] or [`SseParseError::DataTooLarge`] when a
    /// limit of [`SseParserConfig`] is exceeded.
    pub fn poll_event(&mut self) -> Option<Result<SseEvent, SseParseError>> {
        if let Some(error) = self.error {
            if self.error_reported {
                return None;
            }
            self.error_reported = true;
            return Some(Err(error));
        }
        match self.next_event() {
            Ok(event) => event.map(Ok),
            Err(error) => {
                self.error = Some(error);
                self.error_reported = true;
                self.buf = Vec::new();
                self.pos = 0;
                self.scan_from = 0;
                Some(Err(error))
            }
        }
    }

    /// End the current stream: drop everything not yet dispatched.
    ///
    /// Call when the body ends, after draining [`poll_event`](Self::poll_event)
    /// (complete events still buffered are dropped too). The unterminated final
    /// event is discarded, including an `id` inside it; the last event ID and
    /// the reconnection time are kept, and the next [`push`](Self::push) starts
    /// a new stream (a BOM may come again). A sticky error is cleared.
    ///
    /// The next stream starts from the kept last event ID, so events of a
    /// resumed stream without an `id` carry the old one, as browsers do (WPT
    /// `eventsource/eventsource-request-last-event-id`, `resources/last-event-id.py`).
    pub fn finish(&mut self) {
        self.buf.clear();
        self.pos = 0;
        self.scan_from = 0;
        self.skip_lf = false;
        self.bom_done = false;
        self.error = None;
        self.error_reported = false;
        let fields = &mut self.fields;
        fields.data.clear();
        fields.event_type.clear();
        fields.id_buffer.clone_from(&fields.last_event_id);
    }

    fn next_event(&mut self) -> Result<Option<SseEvent>, SseParseError> {
        loop {
            let rest = self.buf.get(self.pos..).unwrap_or_default();
            if !self.bom_done {
                if rest.len() < BOM.len() && BOM.starts_with(rest) {
                    // Empty, or a possible BOM cut short: wait for more bytes.
                    return Ok(None);
                }
                if rest.starts_with(BOM) {
                    self.pos += BOM.len();
                }
                self.bom_done = true;
                continue;
            }
            if self.skip_lf {
                match rest.first() {
                    None => return Ok(None),
                    Some(&byte) => {
                        self.skip_lf = false;
                        if byte == b'\n' {
                            self.pos += 1;
                            continue;
                        }
                    }
                }
            }
            let scan_from = self.scan_from.max(self.pos);
            let unscanned = self.buf.get(scan_from..).unwrap_or_default();
            let Some(found) = find_line_break(unscanned) else {
                self.scan_from = self.buf.len();
                if rest.len() > self.config.max_line_len {
                    return Err(SseParseError::LineTooLong {
                        limit: self.config.max_line_len,
                    });
                }
                return Ok(None);
            };
            let end = scan_from + found;
            let line = self.buf.get(self.pos..end).unwrap_or_default();
            if line.len() > self.config.max_line_len {
                return Err(SseParseError::LineTooLong {
                    limit: self.config.max_line_len,
                });
            }
            let mut next = end + 1;
            if self.buf.get(end) == Some(&b'\r') {
                match self.buf.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.skip_lf = true,
                }
            }
            let event = self.fields.process_line(line, &self.config)?;
            self.pos = next;
            self.scan_from = next;
            if event.is_some() {
                return Ok(event);
            }
        }
    }
}

impl Fields {
    /// Interpret one line (line break removed), per the "Line processing" rules.
    fn process_line(
        &mut self,
        line: &[u8],
        config: &SseParserConfig,
    ) -> Result<Option<SseEvent>, SseParseError> {
        if line.is_empty() {
            return Ok(self.dispatch().map(SseEvent::Message));
        }
        // ':' is ASCII, so the first ':' byte is the first ':' of the decoded
        // text (malformed bytes decode to U+FFFD, never to ':').
        let (name, value) = match line.iter().position(|&byte| byte == b':') {
            Some(0) => return Ok(None), // comment
            Some(colon) => {
                let (name, value) = line.split_at(colon);
                let value = value.get(1..).unwrap_or_default();
                (name, value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &[][..]),
        };
        match name {
            b"event" => {
                self.event_type.clear();
                decode_into(&mut self.event_type, value);
            }
            b"data" => {
                decode_into(&mut self.data, value);
                self.data.push('\n');
                if self.data.len() > config.max_data_len {
                    self.data = String::new();
                    return Err(SseParseError::DataTooLarge {
                        limit: config.max_data_len,
                    });
                }
            }
            b"id" if !value.contains(&0) => {
                self.id_buffer.clear();
                decode_into(&mut self.id_buffer, value);
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let millis = value.iter().fold(0_u64, |acc, &digit| {
                    acc.saturating_mul(10)
                        .saturating_add(u64::from(digit - b'0'))
                });
                self.retry = Some(millis);
                return Ok(Some(SseEvent::Retry(millis)));
            }
            _ => {}
        }
        Ok(None)
    }

    /// "Dispatch the event" on a blank line.
    fn dispatch(&mut self) -> Option<SseMessage> {
        if self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        if self.data.is_empty() {
            self.event_type.clear();
            return None;
        }
        if self.data.ends_with('\n') {
            self.data.pop();
        }
        let data = core::mem::take(&mut self.data);
        let event = if self.event_type.is_empty() {
            String::from("message")
        } else {
            core::mem::take(&mut self.event_type)
        };
        Some(SseMessage {
            event,
            data,
            last_event_id: self.last_event_id.clone(),
        })
    }
}

/// Append `bytes` decoded as UTF-8, one U+FFFD per maximal ill-formed subpart.
fn decode_into(out: &mut String, bytes: &[u8]) {
    match core::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => {
            for chunk in bytes.utf8_chunks() {
                out.push_str(chunk.valid());
                if !chunk.invalid().is_empty() {
                    out.push(char::REPLACEMENT_CHARACTER);
                }
            }
        }
    }
}

/// Index of the first CR or LF in `hay`, eight bytes at a time.
fn find_line_break(hay: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    const LFS: u64 = u64::from_ne_bytes([b'\n'; 8]);
    const CRS: u64 = u64::from_ne_bytes([b'\r'; 8]);
    /// High bit set in each zero byte of `word` (and maybe in bytes above the
    /// first zero one, which does not matter: only the lowest one is used).
    const fn zero_bytes(word: u64) -> u64 {
        word.wrapping_sub(ONES) & !word & HIGHS
    }
    let (words, tail) = hay.as_chunks::<8>();
    for (index, word) in words.iter().enumerate() {
        let word = u64::from_le_bytes(*word);
        let found = zero_bytes(word ^ LFS) | zero_bytes(word ^ CRS);
        if found != 0 {
            return Some(index * 8 + (found.trailing_zeros() / 8) as usize);
        }
    }
    tail.iter()
        .position(|&byte| byte == b'\n' || byte == b'\r')
        .map(|at| words.len() * 8 + at)
}

#[cfg(test)]
mod tests;
