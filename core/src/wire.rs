//! The wire message and its JSON form, shared by NDJSON, long-poll and the forever frame.
//!
//! A message on the wire carries an `id` (the opaque cursor to resume from), a
//! `channel`, an `event` type (default `"message"`) and UTF-8 `data`. Its JSON
//! form is one object with the keys in this order, no spaces, `event` left out
//! when it is `"message"`, and every string written by [`json::write_str`] (so
//! the text is also safe inside an HTML `<script>` element):
//!
//! ```text
//! {"id":"…","channel":"…","event":"…","data":"…"}
//! ```
//!
//! A long-poll reply wraps a batch: `{"cursor":"…","messages":[<wire message>,…]}`.
//!
//! Decoding uses a small, bounded JSON reader: it accepts full JSON syntax
//! (whitespace anywhere, unknown keys of any type which it skips, every string
//! escape), caps nesting at [`WireConfig::max_depth`], never recurses on
//! input it skips, and answers hostile input with a [`WireError`], never a
//! panic. Output never exceeds the input in size.
//!
//! ```
//! use pushwire_core::wire::{self, WireMessageRef};
//!
//! // Encode from borrowed parts (the server's hot path: no struct to build).
//! let mut out = Vec::new();
//! WireMessageRef { id: "7", channel: "chat", event: "message", data: "hi <b>" }
//!     .encode_json(&mut out);
//! assert_eq!(out, br#"{"id":"7","channel":"chat","data":"hi \u003cb\u003e"}"#);
//!
//! // Bytes in, message out.
//! let message = wire::decode_message(&out).unwrap();
//! assert_eq!((message.id.as_str(), message.event.as_str()), ("7", "message"));
//! assert_eq!(message.data, "hi <b>");
//! ```
//!
//! Decisions worth knowing:
//! - `id`, `channel` and `data` are required strings; `event` is an optional
//!   string and defaults to `"message"`. A key given twice is an error
//!   ([`WireError::DuplicateField`]), so two readers can never disagree on
//!   which copy counts.
//! - A `\uXXXX` escape naming a UTF-16 surrogate without its partner is an
//!   error ([`WireError::LoneSurrogate`]), not U+FFFD: our encoders write Rust
//!   strings and so never produce one, and silently changing data is worse than
//!   refusing it.
//! - The codec does not check the characters of `id` (the hub owns cursor
//!   syntax); any string round-trips.
//! - A leading byte-order mark is not JSON and is refused like any other byte.

use alloc::{string::String, vec::Vec};
use core::fmt;

use crate::json;

/// The event type a message has when none is given; left out of the JSON form.
pub const DEFAULT_EVENT: &str = "message";

/// One message as it travels on every text transport.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct WireMessage {
    /// The opaque cursor a subscriber resumes from (also the SSE `id`).
    pub id: String,
    /// The channel the message was published to.
    pub channel: String,
    /// The event type; [`DEFAULT_EVENT`] (`"message"`) unless the publisher named one.
    pub event: String,
    /// The payload, UTF-8 text.
    pub data: String,
}

impl WireMessage {
    /// Borrow the message's parts, e.g. to encode them.
    pub fn as_parts(&self) -> WireMessageRef<'_> {
        WireMessageRef {
            id: &self.id,
            channel: &self.channel,
            event: &self.event,
            data: &self.data,
        }
    }

    /// Append the message's JSON form to `out`.
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        self.as_parts().encode_json(out);
    }
}

/// A wire message made of borrowed parts: encode without building a [`WireMessage`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WireMessageRef<'a> {
    /// The opaque cursor a subscriber resumes from.
    pub id: &'a str,
    /// The channel name.
    pub channel: &'a str,
    /// The event type; [`DEFAULT_EVENT`] is left out of the JSON form.
    pub event: &'a str,
    /// The payload.
    pub data: &'a str,
}

impl WireMessageRef<'_> {
    /// Append the JSON form `{"id":…,"channel":…,"event":…,"data":…}` to `out`.
    ///
    /// `event` is left out when it is `"message"`. Every string goes through
    /// [`json::write_str`], so the output contains no raw control character,
    /// `<`, `>`, `&`, U+2028 or U+2029. Any strings are valid input.
    pub fn encode_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"id\":");
        json::write_str(out, self.id);
        out.extend_from_slice(b",\"channel\":");
        json::write_str(out, self.channel);
        if self.event != DEFAULT_EVENT {
            out.extend_from_slice(b",\"event\":");
            json::write_str(out, self.event);
        }
        out.extend_from_slice(b",\"data\":");
        json::write_str(out, self.data);
        out.push(b'}');
    }

    /// Copy the parts into an owned [`WireMessage`].
    pub fn to_message(&self) -> WireMessage {
        WireMessage {
            id: self.id.into(),
            channel: self.channel.into(),
            event: self.event.into(),
            data: self.data.into(),
        }
    }
}

impl<'a> From<&'a WireMessage> for WireMessageRef<'a> {
    fn from(message: &'a WireMessage) -> Self {
        message.as_parts()
    }
}

/// A decoded long-poll reply: the cursor for the next poll and a batch of messages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LongPollReply {
    /// The cursor the next poll carries.
    pub cursor: String,
    /// The messages, oldest first; empty means "timed out, poll again now".
    pub messages: Vec<WireMessage>,
}

/// Append a long-poll reply `{"cursor":…,"messages":[…]}` to `out`.
pub fn encode_longpoll_reply<'a>(
    cursor: &str,
    messages: impl IntoIterator<Item = WireMessageRef<'a>>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"cursor\":");
    json::write_str(out, cursor);
    out.extend_from_slice(b",\"messages\":[");
    for (index, message) in messages.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        message.encode_json(out);
    }
    out.extend_from_slice(b"]}");
}

/// Append a long-poll reply whose messages are already encoded.
///
/// For a host that encodes each message once and shares the bytes between
/// transports: each item must be the output of [`WireMessageRef::encode_json`]
/// (it is copied verbatim, so anything else makes the reply invalid).
pub fn encode_longpoll_reply_from_json<'a>(
    cursor: &str,
    messages_json: impl IntoIterator<Item = &'a [u8]>,
    out: &mut Vec<u8>,
) {
    out.extend_from_slice(b"{\"cursor\":");
    json::write_str(out, cursor);
    out.extend_from_slice(b",\"messages\":[");
    for (index, message) in messages_json.into_iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        out.extend_from_slice(message);
    }
    out.extend_from_slice(b"]}");
}

/// Decode one wire message with the default [`WireConfig`].
///
/// # Errors
/// Any [`WireError`]: the input is not one JSON object, or lacks a required
/// string field, or nests deeper than 32 levels.
pub fn decode_message(bytes: &[u8]) -> Result<WireMessage, WireError> {
    WireConfig::default().decode_message(bytes)
}

/// Decode one long-poll reply with the default [`WireConfig`].
///
/// # Errors
/// Any [`WireError`]: not one JSON object, `cursor` missing or not a string,
/// `messages` missing or not an array of wire messages, or too deep.
pub fn decode_longpoll_reply(bytes: &[u8]) -> Result<LongPollReply, WireError> {
    WireConfig::default().decode_longpoll_reply(bytes)
}

/// Limits of the JSON reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WireConfig {
    /// Deepest nesting of objects and arrays accepted, counting the outer
    /// object as 1 (a long-poll reply needs 3). Default 32.
    pub max_depth: usize,
}

impl Default for WireConfig {
    fn default() -> Self {
        Self { max_depth: 32 }
    }
}

impl WireConfig {
    /// Decode one wire message under these limits.
    ///
    /// # Errors
    /// See [`decode_message`].
    pub fn decode_message(&self, bytes: &[u8]) -> Result<WireMessage, WireError> {
        let mut reader = Reader::new(bytes, self.max_depth)?;
        let message = reader.message(1, "the wire message")?;
        reader.end()?;
        Ok(message)
    }

    /// Decode one long-poll reply under these limits.
    ///
    /// # Errors
    /// See [`decode_longpoll_reply`].
    pub fn decode_longpoll_reply(&self, bytes: &[u8]) -> Result<LongPollReply, WireError> {
        let mut reader = Reader::new(bytes, self.max_depth)?;
        let reply = reader.longpoll_reply()?;
        reader.end()?;
        Ok(reply)
    }
}

/// Why bytes are not a wire message or long-poll reply. Offsets count bytes from the input's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WireError {
    /// The input is not UTF-8; `offset` is where the first bad sequence starts.
    InvalidUtf8 {
        /// Byte offset of the bad sequence.
        offset: usize,
    },
    /// The input ended where more was due.
    UnexpectedEnd {
        /// Byte offset of the end (the input's length).
        offset: usize,
        /// What was due, e.g. `"':'"`.
        expected: &'static str,
    },
    /// A byte JSON does not allow here.
    UnexpectedByte {
        /// Byte offset of the byte.
        offset: usize,
        /// The byte.
        found: u8,
        /// What was allowed, e.g. `"',' or '}'"`.
        expected: &'static str,
    },
    /// A `\` escape that JSON does not define, or a `\u` without four hex digits.
    InvalidEscape {
        /// Byte offset of the backslash.
        offset: usize,
    },
    /// A `\uXXXX` escape naming a UTF-16 surrogate that is not part of a pair.
    LoneSurrogate {
        /// Byte offset of the backslash.
        offset: usize,
    },
    /// Objects and arrays nest deeper than [`WireConfig::max_depth`].
    TooDeep {
        /// Byte offset of the `{` or `[` that went too deep.
        offset: usize,
        /// The limit.
        max_depth: usize,
    },
    /// A required field is absent.
    MissingField {
        /// Byte offset of the object's `{`.
        offset: usize,
        /// The field's name, e.g. `"id"`.
        field: &'static str,
    },
    /// A field appears twice in one object.
    DuplicateField {
        /// Byte offset of the second key.
        offset: usize,
        /// The field's name.
        field: &'static str,
    },
    /// A value has the wrong JSON type.
    WrongType {
        /// Byte offset of the value.
        offset: usize,
        /// What the value is, e.g. `"field \"id\""`.
        what: &'static str,
        /// The type it must have, e.g. `"a string"`.
        expected: &'static str,
        /// The type it has, e.g. `"a number"`.
        found: &'static str,
    },
    /// More than whitespace follows the JSON value.
    TrailingGarbage {
        /// Byte offset of the first extra byte.
        offset: usize,
    },
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::InvalidUtf8 { offset } => write!(f, "invalid UTF-8 at offset {offset}"),
            Self::UnexpectedEnd { offset, expected } => {
                write!(f, "input ends at offset {offset}, expected {expected}")
            }
            Self::UnexpectedByte {
                offset,
                found,
                expected,
            } => {
                if found.is_ascii_graphic() {
                    let shown = char::from(found);
                    write!(
                        f,
                        "unexpected byte '{shown}' at offset {offset}, expected {expected}"
                    )
                } else {
                    write!(
                        f,
                        "unexpected byte 0x{found:02x} at offset {offset}, expected {expected}"
                    )
                }
            }
            Self::InvalidEscape { offset } => write!(f, "invalid string escape at offset {offset}"),
            Self::LoneSurrogate { offset } => {
                write!(
                    f,
                    "\\u escape at offset {offset} is a lone UTF-16 surrogate"
                )
            }
            Self::TooDeep { offset, max_depth } => {
                write!(
                    f,
                    "nesting deeper than {max_depth} levels at offset {offset}"
                )
            }
            Self::MissingField { offset, field } => {
                write!(
                    f,
                    "missing field \"{field}\" in the object at offset {offset}"
                )
            }
            Self::DuplicateField { offset, field } => {
                write!(
                    f,
                    "field \"{field}\" appears twice (again at offset {offset})"
                )
            }
            Self::WrongType {
                offset,
                what,
                expected,
                found,
            } => {
                write!(
                    f,
                    "{what} must be {expected} but is {found} (offset {offset})"
                )
            }
            Self::TrailingGarbage { offset } => {
                write!(f, "unexpected data after the JSON value at offset {offset}")
            }
        }
    }
}

impl core::error::Error for WireError {}

/// A cursor over UTF-8 JSON text (also used by [`crate::token`]).
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    max_depth: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], max_depth: usize) -> Result<Self, WireError> {
        let text = core::str::from_utf8(bytes).map_err(|error| WireError::InvalidUtf8 {
            offset: error.valid_up_to(),
        })?;
        Ok(Self {
            text,
            pos: 0,
            max_depth,
        })
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    pub(crate) fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// The error for "not what was expected here".
    fn unexpected(&self, expected: &'static str) -> WireError {
        match self.peek() {
            Some(found) => WireError::UnexpectedByte {
                offset: self.pos,
                found,
                expected,
            },
            None => WireError::UnexpectedEnd {
                offset: self.pos,
                expected,
            },
        }
    }

    pub(crate) fn expect(&mut self, byte: u8, expected: &'static str) -> Result<(), WireError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// Accept only trailing whitespace.
    pub(crate) fn end(&mut self) -> Result<(), WireError> {
        self.skip_whitespace();
        if self.pos < self.text.len() {
            return Err(WireError::TrailingGarbage { offset: self.pos });
        }
        Ok(())
    }

    /// The JSON type of the value starting here, judged by its first token, if
    /// one starts here.
    fn value_type(&self) -> Option<&'static str> {
        let rest = self.text.as_bytes().get(self.pos..)?;
        Some(match rest.first()? {
            b'{' => "an object",
            b'[' => "an array",
            b'"' => "a string",
            b'0'..=b'9' => "a number",
            b'-' if matches!(rest.get(1), Some(b'0'..=b'9')) => "a number",
            _ if rest.starts_with(b"true") || rest.starts_with(b"false") => "a boolean",
            _ if rest.starts_with(b"null") => "null",
            _ => return None,
        })
    }

    /// Error for a value that is not of type `expected` (or not a value at all).
    pub(crate) fn wrong_type(&self, what: &'static str, expected: &'static str) -> WireError {
        match self.value_type() {
            Some(found) => WireError::WrongType {
                offset: self.pos,
                what,
                expected,
                found,
            },
            None => self.unexpected(expected),
        }
    }

    /// Enter a container whose opening byte is at `pos`, checking the depth.
    pub(crate) fn open(&mut self, depth: usize) -> Result<(), WireError> {
        if depth > self.max_depth {
            return Err(WireError::TooDeep {
                offset: self.pos,
                max_depth: self.max_depth,
            });
        }
        self.pos += 1;
        Ok(())
    }

    /// Read a string starting at `"`, appending its value to `sink` when given.
    fn string(&mut self, mut sink: Option<&mut String>) -> Result<(), WireError> {
        self.expect(b'"', "'\"'")?;
        let mut run = self.pos;
        loop {
            let Some(byte) = self.peek() else {
                return Err(self.unexpected("'\"' closing the string"));
            };
            match byte {
                b'"' | b'\\' => {
                    if let Some(out) = sink.as_deref_mut() {
                        // Both ends sit on ASCII bytes, so this is a char boundary.
                        let plain = self
                            .text
                            .get(run..self.pos)
                            .ok_or(WireError::InvalidUtf8 { offset: run })?;
                        out.push_str(plain);
                    }
                    if byte == b'"' {
                        self.pos += 1;
                        return Ok(());
                    }
                    let ch = self.escape()?;
                    if let Some(out) = sink.as_deref_mut() {
                        out.push(ch);
                    }
                    run = self.pos;
                }
                0x00..=0x1f => {
                    return Err(
                        self.unexpected("a string character (control characters must be escaped)")
                    );
                }
                _ => self.pos += 1,
            }
        }
    }

    fn owned_string(&mut self) -> Result<String, WireError> {
        let mut out = String::new();
        self.string(Some(&mut out))?;
        Ok(out)
    }

    /// Read one escape starting at its backslash.
    fn escape(&mut self) -> Result<char, WireError> {
        let start = self.pos;
        self.pos += 1;
        let Some(kind) = self.peek() else {
            return Err(self.unexpected("an escape character"));
        };
        self.pos += 1;
        Ok(match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4(start)?;
                match unit {
                    0xd800..=0xdbff => {
                        let bytes = self.text.as_bytes();
                        if bytes.get(self.pos..self.pos + 2) != Some(b"\\u".as_slice()) {
                            return Err(WireError::LoneSurrogate { offset: start });
                        }
                        self.pos += 2;
                        let low = self.hex4(start)?;
                        if !(0xdc00..=0xdfff).contains(&low) {
                            return Err(WireError::LoneSurrogate { offset: start });
                        }
                        let code = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
                        char::from_u32(code).ok_or(WireError::InvalidEscape { offset: start })?
                    }
                    0xdc00..=0xdfff => return Err(WireError::LoneSurrogate { offset: start }),
                    _ => char::from_u32(unit).ok_or(WireError::InvalidEscape { offset: start })?,
                }
            }
            _ => return Err(WireError::InvalidEscape { offset: start }),
        })
    }

    /// Read four hex digits of a `\u` escape that started at `start`.
    fn hex4(&mut self, start: usize) -> Result<u32, WireError> {
        let mut value = 0;
        for _ in 0..4 {
            let Some(byte) = self.peek() else {
                return Err(self.unexpected("a hex digit"));
            };
            let digit = char::from(byte)
                .to_digit(16)
                .ok_or(WireError::InvalidEscape { offset: start })?;
            value = value * 16 + digit;
            self.pos += 1;
        }
        Ok(value)
    }

    fn literal(&mut self, word: &'static str) -> Result<(), WireError> {
        for &byte in word.as_bytes() {
            self.expect(byte, word)?;
        }
        Ok(())
    }

    fn digits(&mut self) -> Result<(), WireError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.unexpected("a digit"));
        }
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        Ok(())
    }

    /// Check one number (RFC 8259 §6 grammar); its value is not needed.
    pub(crate) fn number(&mut self) -> Result<(), WireError> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else {
            self.digits()?;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.digits()?;
        }
        Ok(())
    }

    /// Read `"key"` and the `:` after it.
    fn key(&mut self) -> Result<String, WireError> {
        if self.peek() != Some(b'"') {
            return Err(self.unexpected("a string key"));
        }
        let key = self.owned_string()?;
        self.skip_whitespace();
        self.expect(b':', "':'")?;
        Ok(key)
    }

    /// Check and skip any JSON value inside a container at `depth`.
    ///
    /// Iterative, with an explicit stack (one byte per open container, at most
    /// `max_depth`), so hostile nesting cannot overflow the call stack.
    pub(crate) fn skip_value(&mut self, depth: usize) -> Result<(), WireError> {
        let mut open_objects: Vec<bool> = Vec::new();
        'value: loop {
            self.skip_whitespace();
            match self.peek() {
                Some(opener @ (b'{' | b'[')) => {
                    self.open(depth + open_objects.len() + 1)?;
                    let is_object = opener == b'{';
                    open_objects.push(is_object);
                    self.skip_whitespace();
                    let closer = if is_object { b'}' } else { b']' };
                    if self.peek() == Some(closer) {
                        self.pos += 1;
                        open_objects.pop();
                    } else {
                        if is_object {
                            self.key()?;
                        }
                        continue 'value;
                    }
                }
                Some(b'"') => self.string(None)?,
                Some(b't') => self.literal("true")?,
                Some(b'f') => self.literal("false")?,
                Some(b'n') => self.literal("null")?,
                Some(b'-' | b'0'..=b'9') => self.number()?,
                _ => return Err(self.unexpected("a JSON value")),
            }
            // A value is complete: close containers until one continues.
            loop {
                let Some(&is_object) = open_objects.last() else {
                    return Ok(());
                };
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        if is_object {
                            self.skip_whitespace();
                            self.key()?;
                        }
                        continue 'value;
                    }
                    Some(b'}') if is_object => self.pos += 1,
                    Some(b']') if !is_object => self.pos += 1,
                    _ => {
                        return Err(self.unexpected(if is_object {
                            "',' or '}'"
                        } else {
                            "',' or ']'"
                        }));
                    }
                }
                open_objects.pop();
            }
        }
    }

    /// Walk an object at `depth`, calling `field` with each key (and its offset)
    /// when the reader sits just after the key's `:`; `field` must consume the value.
    pub(crate) fn object(
        &mut self,
        depth: usize,
        what: &'static str,
        mut field: impl FnMut(&mut Self, &str, usize) -> Result<(), WireError>,
    ) -> Result<usize, WireError> {
        self.skip_whitespace();
        let start = self.pos;
        if self.peek() != Some(b'{') {
            return Err(self.wrong_type(what, "an object"));
        }
        self.open(depth)?;
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(start);
        }
        loop {
            self.skip_whitespace();
            let key_offset = self.pos;
            let key = self.key()?;
            self.skip_whitespace();
            field(self, &key, key_offset)?;
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(start);
                }
                _ => return Err(self.unexpected("',' or '}'")),
            }
        }
    }

    /// Read a non-negative JSON number as whole seconds (a JWT NumericDate):
    /// a fraction is dropped, a value past `u64` saturates; an exponent is
    /// refused (no token minter writes one).
    pub(crate) fn numeric_date(&mut self, what: &'static str) -> Result<u64, WireError> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.wrong_type(what, "a number of seconds"));
        }
        let start = self.pos;
        self.number()?;
        let text = self.text.get(start..self.pos).unwrap_or_default();
        if text.contains(['e', 'E']) {
            return Err(WireError::WrongType {
                offset: start,
                what,
                expected: "a number of seconds without an exponent",
                found: "a number with an exponent",
            });
        }
        let whole = text.split('.').next().unwrap_or_default();
        Ok(whole.bytes().fold(0, |acc: u64, digit| {
            acc.saturating_mul(10)
                .saturating_add(u64::from(digit.wrapping_sub(b'0')))
        }))
    }

    /// Read an array of strings inside a container at `depth`, giving each to `item`.
    pub(crate) fn string_array(
        &mut self,
        depth: usize,
        what: &'static str,
        mut item: impl FnMut(String),
    ) -> Result<(), WireError> {
        if self.peek() != Some(b'[') {
            return Err(self.wrong_type(what, "an array of strings"));
        }
        self.open(depth + 1)?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.skip_whitespace();
            item(self.string_field(what)?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    pub(crate) fn string_field(&mut self, what: &'static str) -> Result<String, WireError> {
        if self.peek() != Some(b'"') {
            return Err(self.wrong_type(what, "a string"));
        }
        self.owned_string()
    }

    fn message(&mut self, depth: usize, what: &'static str) -> Result<WireMessage, WireError> {
        let (mut id, mut channel, mut event, mut data) = (None, None, None, None);
        let start = self.object(depth, what, |reader, key, offset| {
            let (slot, field, what) = match key {
                "id" => (&mut id, "id", "field \"id\""),
                "channel" => (&mut channel, "channel", "field \"channel\""),
                "event" => (&mut event, "event", "field \"event\""),
                "data" => (&mut data, "data", "field \"data\""),
                _ => return reader.skip_value(depth),
            };
            if slot.is_some() {
                return Err(WireError::DuplicateField { offset, field });
            }
            *slot = Some(reader.string_field(what)?);
            Ok(())
        })?;
        let missing = |field| WireError::MissingField {
            offset: start,
            field,
        };
        Ok(WireMessage {
            id: id.ok_or(missing("id"))?,
            channel: channel.ok_or(missing("channel"))?,
            event: event.unwrap_or_else(|| DEFAULT_EVENT.into()),
            data: data.ok_or(missing("data"))?,
        })
    }

    /// Read `[` wire message, … `]` whose `[` sits at `depth`.
    fn message_array(&mut self, depth: usize) -> Result<Vec<WireMessage>, WireError> {
        let mut messages = Vec::new();
        if self.peek() != Some(b'[') {
            return Err(self.wrong_type("field \"messages\"", "an array"));
        }
        self.open(depth)?;
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(messages);
        }
        loop {
            messages.push(self.message(depth + 1, "an entry of \"messages\"")?);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(messages);
                }
                _ => return Err(self.unexpected("',' or ']'")),
            }
        }
    }

    fn longpoll_reply(&mut self) -> Result<LongPollReply, WireError> {
        let (mut cursor, mut messages) = (None, None);
        let start = self.object(1, "the long-poll reply", |reader, key, offset| match key {
            "cursor" => {
                if cursor.is_some() {
                    return Err(WireError::DuplicateField {
                        offset,
                        field: "cursor",
                    });
                }
                cursor = Some(reader.string_field("field \"cursor\"")?);
                Ok(())
            }
            "messages" => {
                if messages.is_some() {
                    return Err(WireError::DuplicateField {
                        offset,
                        field: "messages",
                    });
                }
                messages = Some(reader.message_array(2)?);
                Ok(())
            }
            _ => reader.skip_value(1),
        })?;
        let missing = |field| WireError::MissingField {
            offset: start,
            field,
        };
        Ok(LongPollReply {
            cursor: cursor.ok_or(missing("cursor"))?,
            messages: messages.ok_or(missing("messages"))?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use alloc::{string::ToString, vec};
    use proptest::prelude::*;

    fn message(id: &str, channel: &str, event: &str, data: &str) -> WireMessage {
        WireMessageRef {
            id,
            channel,
            event,
            data,
        }
        .to_message()
    }

    fn encoded(message: &WireMessage) -> Vec<u8> {
        let mut out = Vec::new();
        message.encode_json(&mut out);
        out
    }

    #[test]
    fn encoder_writes_the_shared_contract_form() {
        // docs/design.md "Wire contracts", wire message JSON: key order id, channel, event,
        // data; event omitted when "message"; strings via json::write_str.
        let table: &[(WireMessage, &str)] = &[
            (
                message("1", "chat", "message", "hi"),
                r#"{"id":"1","channel":"chat","data":"hi"}"#,
            ),
            (
                message("2", "chat", "typing", ""),
                r#"{"id":"2","channel":"chat","event":"typing","data":""}"#,
            ),
            (
                message("3", "c", "gap", r#"{"channel":"c","missed":4}"#),
                r#"{"id":"3","channel":"c","event":"gap","data":"{\"channel\":\"c\",\"missed\":4}"}"#,
            ),
            (
                message("4", "c", "", "</script>\u{2028}"),
                r#"{"id":"4","channel":"c","event":"","data":"\u003c/script\u003e\u2028"}"#,
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                String::from_utf8(encoded(input)).unwrap(),
                *expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn decoder_accepts_full_json_syntax() {
        // RFC 8259: whitespace around every token (§2), unknown members of any type
        // (skipped), all escapes incl. surrogate pairs (§7); event defaults to "message".
        let table: &[(&str, WireMessage)] = &[
            (
                r#"{"id":"1","channel":"c","data":"d"}"#,
                message("1", "c", "message", "d"),
            ),
            (
                " \t\r\n{ \"id\" : \"1\" ,\n\"channel\":\"c\",\"data\" :\"d\" } \n",
                message("1", "c", "message", "d"),
            ),
            (
                r#"{"data":"d","event":"e","channel":"c","id":"1"}"#,
                message("1", "c", "e", "d"),
            ),
            (
                r#"{"x":{"a":[1,-2.5e+3,0.0,1E9,true,false,null,{},[],"s\"]"]},"id":"1","y":[[[]]],"channel":"c","z":-0,"data":"d"}"#,
                message("1", "c", "message", "d"),
            ),
            (
                r#"{"id":"\"\\\/\b\f\n\r\t","channel":"\u0041\u00e9\u20ac","data":"\ud83d\ude00\u0000"}"#,
                message("1", "c", "message", "d")
                    .with(|m| m.id = "\"\\/\u{8}\u{c}\n\r\t".into())
                    .with(|m| m.channel = "Aé€".into())
                    .with(|m| m.data = "😀\u{0}".into()),
            ),
            (
                r#"{"\u0069d":"1","channel":"c","data":"é€😀 raw"}"#,
                message("1", "c", "message", "é€😀 raw"),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                decode_message(input.as_bytes()).as_ref(),
                Ok(expected),
                "{input}"
            );
        }
    }

    trait With: Sized {
        fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
            change(&mut self);
            self
        }
    }
    impl With for WireMessage {}

    #[test]
    fn decoder_names_what_is_wrong() {
        use WireError::*;
        // Each row: hostile or malformed input → the precise error (RFC 8259 grammar,
        // docs/design.md "Wire contracts" for required fields and types).
        let table: &[(&[u8], WireError)] = &[
            (
                b"",
                UnexpectedEnd {
                    offset: 0,
                    expected: "an object",
                },
            ),
            (
                b"[]",
                WrongType {
                    offset: 0,
                    what: "the wire message",
                    expected: "an object",
                    found: "an array",
                },
            ),
            (
                b"{\"id\":1}",
                WrongType {
                    offset: 6,
                    what: "field \"id\"",
                    expected: "a string",
                    found: "a number",
                },
            ),
            (
                b"{\"channel\":\"c\",\"data\":\"d\"}",
                MissingField {
                    offset: 0,
                    field: "id",
                },
            ),
            (
                b"{\"id\":\"1\",\"data\":\"d\"}",
                MissingField {
                    offset: 0,
                    field: "channel",
                },
            ),
            (
                b"{\"id\":\"1\",\"channel\":\"c\"}",
                MissingField {
                    offset: 0,
                    field: "data",
                },
            ),
            (
                b"{\"id\":\"1\",\"id\":\"2\",\"channel\":\"c\",\"data\":\"d\"}",
                DuplicateField {
                    offset: 10,
                    field: "id",
                },
            ),
            (
                b"{\"id\" \"1\"}",
                UnexpectedByte {
                    offset: 6,
                    found: b'"',
                    expected: "':'",
                },
            ),
            (
                b"{\"id\":\"1\";}",
                UnexpectedByte {
                    offset: 9,
                    found: b';',
                    expected: "',' or '}'",
                },
            ),
            (
                b"{\"id\":\"1\",}",
                UnexpectedByte {
                    offset: 10,
                    found: b'}',
                    expected: "a string key",
                },
            ),
            (
                b"{\"id\":\"1",
                UnexpectedEnd {
                    offset: 8,
                    expected: "'\"' closing the string",
                },
            ),
            (
                b"{\"id\":\"a\nb\"}",
                UnexpectedByte {
                    offset: 8,
                    found: b'\n',
                    expected: "a string character (control characters must be escaped)",
                },
            ),
            (b"{\"id\":\"\\x\"}", InvalidEscape { offset: 7 }),
            (b"{\"id\":\"\\u12g4\"}", InvalidEscape { offset: 7 }),
            (b"{\"id\":\"\\ud83d\"}", LoneSurrogate { offset: 7 }),
            (b"{\"id\":\"\\ud83d\\u0041\"}", LoneSurrogate { offset: 7 }),
            (b"{\"id\":\"\\ude00\"}", LoneSurrogate { offset: 7 }),
            (
                b"{\"x\":01}",
                UnexpectedByte {
                    offset: 6,
                    found: b'1',
                    expected: "',' or '}'",
                },
            ),
            (
                b"{\"x\":-}",
                UnexpectedByte {
                    offset: 6,
                    found: b'}',
                    expected: "a digit",
                },
            ),
            (
                b"{\"x\":1.}",
                UnexpectedByte {
                    offset: 7,
                    found: b'}',
                    expected: "a digit",
                },
            ),
            (
                b"{\"x\":tru}",
                UnexpectedByte {
                    offset: 8,
                    found: b'}',
                    expected: "true",
                },
            ),
            (
                b"{\"x\":[1 2]}",
                UnexpectedByte {
                    offset: 8,
                    found: b'2',
                    expected: "',' or ']'",
                },
            ),
            (
                b"{\"x\":{\"a\"}}",
                UnexpectedByte {
                    offset: 9,
                    found: b'}',
                    expected: "':'",
                },
            ),
            (
                b"{\"x\":'s'}",
                UnexpectedByte {
                    offset: 5,
                    found: b'\'',
                    expected: "a JSON value",
                },
            ),
            (
                b"{\"id\":\"1\",\"channel\":\"c\",\"data\":\"d\"} x",
                TrailingGarbage { offset: 36 },
            ),
            (
                b"{\"id\":\"1\",\"channel\":\"c\",\"data\":\"d\"}{}",
                TrailingGarbage { offset: 35 },
            ),
            (b"{\"id\":\"\xff\"}", InvalidUtf8 { offset: 7 }),
            (
                b"\xef\xbb\xbf{}",
                UnexpectedByte {
                    offset: 0,
                    found: 0xef,
                    expected: "an object",
                },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                decode_message(input),
                Err(*expected),
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn decoder_rejects_nesting_past_the_limit_without_recursion() {
        // Hostile input: depth bound (WireConfig::max_depth) with a clear error.
        let config = WireConfig { max_depth: 3 };
        let ok = br#"{"x":[{"y":1}],"id":"1","channel":"c","data":"d"}"#;
        assert!(config.decode_message(ok).is_ok());
        let deep = br#"{"x":[[{"y":1}]],"id":"1","channel":"c","data":"d"}"#;
        assert_eq!(
            config.decode_message(deep),
            Err(WireError::TooDeep {
                offset: 7,
                max_depth: 3
            })
        );

        // A million open brackets: error, no stack overflow, even with no real limit.
        let mut hostile = b"{\"x\":".to_vec();
        hostile.extend(core::iter::repeat_n(b'[', 1_000_000));
        let error = decode_message(&hostile).unwrap_err();
        assert_eq!(
            error,
            WireError::TooDeep {
                offset: 5 + 31,
                max_depth: 32
            }
        );
        let unlimited = WireConfig {
            max_depth: usize::MAX,
        };
        assert!(matches!(
            unlimited.decode_message(&hostile),
            Err(WireError::UnexpectedEnd { .. })
        ));
    }

    #[test]
    fn longpoll_reply_round_trips_and_names_errors() {
        // docs/design.md "Wire contracts", long-poll reply body: {"cursor":…,"messages":[…]};
        // an empty array = poll again.
        let batch = [
            message("5", "a", "message", "x"),
            message("6", "b", "gap", "{}"),
        ];
        let mut out = Vec::new();
        encode_longpoll_reply("6", batch.iter().map(WireMessageRef::from), &mut out);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            r#"{"cursor":"6","messages":[{"id":"5","channel":"a","data":"x"},{"id":"6","channel":"b","event":"gap","data":"{}"}]}"#
        );
        let reply = decode_longpoll_reply(&out).unwrap();
        assert_eq!(
            reply,
            LongPollReply {
                cursor: "6".into(),
                messages: batch.to_vec()
            }
        );

        let mut shared = Vec::new();
        let jsons: Vec<Vec<u8>> = batch.iter().map(encoded).collect();
        encode_longpoll_reply_from_json("6", jsons.iter().map(Vec::as_slice), &mut shared);
        assert_eq!(shared, out);

        let table: &[(&str, Result<LongPollReply, WireError>)] = &[
            (
                r#"{"messages":[],"cursor":"9","retry":{"after":[1]}}"#,
                Ok(LongPollReply {
                    cursor: "9".into(),
                    messages: vec![],
                }),
            ),
            (
                r#"{"cursor":"9"}"#,
                Err(WireError::MissingField {
                    offset: 0,
                    field: "messages",
                }),
            ),
            (
                r#"{"messages":[]}"#,
                Err(WireError::MissingField {
                    offset: 0,
                    field: "cursor",
                }),
            ),
            (
                r#"{"cursor":"9","messages":{}}"#,
                Err(WireError::WrongType {
                    offset: 25,
                    what: "field \"messages\"",
                    expected: "an array",
                    found: "an object",
                }),
            ),
            (
                r#"{"cursor":"9","messages":[{"id":"1"}]}"#,
                Err(WireError::MissingField {
                    offset: 26,
                    field: "channel",
                }),
            ),
            (
                r#"{"cursor":"9","messages":[null]}"#,
                Err(WireError::WrongType {
                    offset: 26,
                    what: "an entry of \"messages\"",
                    expected: "an object",
                    found: "null",
                }),
            ),
            (
                r#"{"cursor":"9","messages":[],"messages":[]}"#,
                Err(WireError::DuplicateField {
                    offset: 28,
                    field: "messages",
                }),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                &decode_longpoll_reply(input.as_bytes()),
                expected,
                "{input}"
            );
        }
    }

    #[test]
    fn errors_read_as_sentences() {
        let error = decode_message(b"{\"id\":\"1\";}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unexpected byte ';' at offset 9, expected ',' or '}'"
        );
        let error = decode_message(b"{\"channel\":\"c\",\"data\":\"d\"}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "missing field \"id\" in the object at offset 0"
        );
        let error = decode_message(b"{\"id\":true}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "field \"id\" must be a string but is a boolean (offset 6)"
        );
    }

    /// Strings rich in what breaks codecs: control chars, escapes, HTML, separators, non-BMP.
    pub(crate) fn hostile_string() -> impl Strategy<Value = String> {
        let special = prop::sample::select(vec![
            '\u{0}',
            '\u{1f}',
            '\n',
            '\r',
            '\t',
            '"',
            '\\',
            '/',
            '<',
            '>',
            '&',
            '!',
            '-',
            ']',
            '\u{7f}',
            '\u{2028}',
            '\u{2029}',
            '\u{feff}',
            '\u{fffd}',
            '😀',
            '\u{10ffff}',
            'é',
        ]);
        let ch = prop_oneof![any::<char>(), special];
        prop::collection::vec(ch, 0..24).prop_map(String::from_iter)
    }

    proptest! {
        #[test]
        fn any_message_round_trips_through_json(
            id in hostile_string(),
            channel in hostile_string(),
            event in prop_oneof![Just(String::from("message")), hostile_string()],
            data in hostile_string(),
        ) {
            let original = message(&id, &channel, &event, &data);
            let bytes = encoded(&original);
            prop_assert_eq!(decode_message(&bytes), Ok(original));
        }

        #[test]
        fn decoder_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(decoded) = decode_message(&bytes) {
                prop_assert_eq!(decode_message(&encoded(&decoded)), Ok(decoded));
            }
            let _ = decode_longpoll_reply(&bytes);
        }

        #[test]
        fn any_mutation_of_a_valid_message_is_decoded_or_refused(
            data in hostile_string(), at in any::<prop::sample::Index>(), byte in any::<u8>()
        ) {
            let mut bytes = encoded(&message("1", "c", "e", &data));
            let at = at.index(bytes.len());
            bytes[at] = byte;
            if let Ok(decoded) = decode_message(&bytes) {
                prop_assert_eq!(decode_message(&encoded(&decoded)), Ok(decoded));
            }
        }
    }
}
