//! The forever frame: a hidden iframe whose never-ending HTML document runs one
//! `<script>` per message (docs/conformance.md §3).
//!
//! Bytes out, per response:
//!
//! ```text
//! <!doctype html><html><head><meta charset="utf-8"></head><body>
//! <script>function p(m){parent.<callback>(m)}</script>
//! <padding: spaces>\r\n
//! <script>p()</script>\r\n                                      ← open signal
//! <script>p({"id":"7","channel":"c","data":"hi"})</script>\r\n  ← one per message
//! <script>p()</script>\r\n                                      ← heartbeat
//! </body></html>                                                ← byte budget spent: end the response
//! ```
//!
//! # The JavaScript contract
//! The parent page (same origin as the frame) defines a function reachable as
//! `parent.<callback>`, where `<callback>` is a [`CallbackName`] (default
//! `pushwireFrame`; dotted paths such as `pushwire.frames.deliver` work and the
//! function is called as a method of its object). It is called:
//! - with **no argument** (`undefined`) once when the preamble has arrived
//!   (the open signal) and again at every heartbeat: "the frame is alive";
//! - with **one wire message object** `{id, channel, event?, data}` per message
//!   (`event` absent means `"message"`; a `"gap"` event carries the gap JSON
//!   in `data`, as on every transport).
//!
//! The frame is over when the iframe's `load` event fires (the server ended the
//! response, e.g. because the byte budget was spent, or the network failed):
//! the parent then reopens the iframe with `?since=<last id>`. The frame does
//! not set `document.domain` (the setter is disabled since Chrome 115): it must
//! be same-origin with its parent.
//!
//! # Escaping
//! Message JSON is written with [`crate::json::write_str`], which escapes every
//! `<`, `>`, `&`, control character, U+2028 and U+2029. A message chunk
//! therefore contains no `<` between its `<script>` and `</script>` tags, so no
//! payload can end the element (`</script`) or switch the HTML tokenizer into
//! its escaped states (`<!--`). The callback name is restricted to identifier
//! characters, so the preamble is safe too.
//!
//! # Sharing and budget
//! A message chunk does not depend on the subscriber (the callback is bound in
//! the preamble as `p`), so a host frames each message once with
//! [`encode_message`] and writes the same bytes to every subscriber. Each
//! subscriber has its own small [`FrameEncoder`] that only counts bytes: once
//! the count reaches [`FrameConfig::byte_budget`] it appends `</body></html>`
//! and reports [`FrameStatus::Ended`], and the host ends the response. This
//! bounds the memory the iframe's DOM holds (each executed `<script>` stays in
//! it), like SockJS's `response_limit`.
//!
//! ```
//! use pushwire_core::frame::{self, CallbackName, FrameConfig, FrameEncoder, FrameStatus};
//! use pushwire_core::wire::WireMessageRef;
//!
//! let config = FrameConfig {
//!     callback: CallbackName::new("pushwire.deliver")?, // from ?callback=, else HTTP 400
//!     ..FrameConfig::default()
//! };
//! let mut out = Vec::new();
//! let mut encoder = FrameEncoder::start(&config, &mut out);
//! assert!(out.starts_with(b"<!doctype html>"));
//!
//! // Framed once, shared by every subscriber:
//! let mut chunk = Vec::new();
//! frame::encode_message(WireMessageRef { id: "7", channel: "c", event: "message", data: "</script>" }, &mut chunk);
//! assert_eq!(chunk, br#"<script>p({"id":"7","channel":"c","data":"\u003c/script\u003e"})</script>"#.iter()
//!     .chain(b"\r\n").copied().collect::<Vec<u8>>());
//!
//! // Per subscriber: write `chunk`, then count it.
//! let mut tail = Vec::new();
//! assert_eq!(encoder.record_shared_chunk(chunk.len(), &mut tail)?, FrameStatus::Open);
//! assert!(tail.is_empty());
//! # Ok::<(), pushwire_core::frame::FrameError>(())
//! ```

use alloc::{string::String, vec::Vec};
use core::fmt;

use crate::wire::WireMessageRef;

/// Bytes of a heartbeat (and of the open signal): the callback with no argument.
pub const HEARTBEAT: &[u8] = b"<script>p()</script>\r\n";

/// Bytes that end the document once the byte budget is spent.
pub const END: &[u8] = b"</body></html>";

/// Longest accepted callback name, in bytes.
pub const MAX_CALLBACK_LEN: usize = 128;

const DEFAULT_CALLBACK: &str = "pushwireFrame";

/// A validated name of the parent's callback: `[A-Za-z_$][A-Za-z0-9_$]*`
/// segments joined by `.`, at most [`MAX_CALLBACK_LEN`] bytes.
///
/// It comes from the request's query, so it is checked before it is written
/// into a script (docs/conformance.md §3 "Callback name"): only identifier characters
/// and dots, so it cannot inject code. The default is `pushwireFrame`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallbackName(String);

impl CallbackName {
    /// Check `name` and keep it.
    ///
    /// # Errors
    /// [`FrameError::CallbackEmpty`], [`FrameError::CallbackTooLong`],
    /// [`FrameError::CallbackInvalidChar`] or [`FrameError::CallbackEmptySegment`];
    /// the host answers 400 with the error's text.
    pub fn new(name: &str) -> Result<Self, FrameError> {
        if name.is_empty() {
            return Err(FrameError::CallbackEmpty);
        }
        if name.len() > MAX_CALLBACK_LEN {
            return Err(FrameError::CallbackTooLong {
                len: name.len(),
                max: MAX_CALLBACK_LEN,
            });
        }
        let mut segment_start = true;
        for (offset, ch) in name.char_indices() {
            let allowed = match ch {
                '.' if !segment_start => {
                    segment_start = true;
                    continue;
                }
                '.' => return Err(FrameError::CallbackEmptySegment { offset }),
                'A'..='Z' | 'a'..='z' | '_' | '$' => true,
                '0'..='9' => !segment_start,
                _ => false,
            };
            if !allowed {
                return Err(FrameError::CallbackInvalidChar { offset, ch });
            }
            segment_start = false;
        }
        if segment_start {
            return Err(FrameError::CallbackEmptySegment { offset: name.len() });
        }
        Ok(Self(name.into()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for CallbackName {
    fn default() -> Self {
        Self(DEFAULT_CALLBACK.into())
    }
}

/// How one forever-frame response is written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FrameConfig {
    /// The parent's function to call. Default `pushwireFrame`.
    pub callback: CallbackName,
    /// Spaces written after the preamble's script so that browsers start
    /// rendering (and running scripts) at once: Safari waits for 1 KiB, old IE
    /// for 256 bytes (docs/conformance.md §3 "Prelude"). Default 1024.
    pub padding: usize,
    /// Bytes after which the frame ends so the client reopens it, counting
    /// everything written to the response. Default 128 KiB (SockJS
    /// `response_limit`). The message that crosses it is still written whole.
    pub byte_budget: u64,
}

impl Default for FrameConfig {
    fn default() -> Self {
        Self {
            callback: CallbackName::default(),
            padding: 1024,
            byte_budget: 128 * 1024,
        }
    }
}

/// Whether the frame goes on after a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameStatus {
    /// Keep writing to this response.
    Open,
    /// The budget is spent and [`END`] was written: finish the response now.
    Ended,
}

/// Why a frame cannot be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameError {
    /// The callback name is empty (or missing from the request).
    CallbackEmpty,
    /// The callback name is longer than [`MAX_CALLBACK_LEN`].
    CallbackTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The callback name has a character other than `A-Z a-z 0-9 _ $ .`, or a
    /// segment starts with a digit.
    CallbackInvalidChar {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        ch: char,
    },
    /// The callback name starts or ends with `.`, or has `..`.
    CallbackEmptySegment {
        /// Byte offset where a segment is empty.
        offset: usize,
    },
    /// The frame already ended; nothing was written (the message must go in the next frame).
    Ended,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::CallbackEmpty => f.write_str("the \"callback\" parameter is missing or empty"),
            Self::CallbackTooLong { len, max } => {
                write!(
                    f,
                    "the \"callback\" parameter is {len} bytes long, at most {max} are allowed"
                )
            }
            Self::CallbackInvalidChar { offset, ch } => write!(
                f,
                "the \"callback\" parameter has {ch:?} at byte {offset}; use JavaScript identifiers \
                 ([A-Za-z_$][A-Za-z0-9_$]*) joined by dots"
            ),
            Self::CallbackEmptySegment { offset } => write!(
                f,
                "the \"callback\" parameter has an empty name at byte {offset} (a leading, trailing or double dot)"
            ),
            Self::Ended => f.write_str("the forever frame already ended"),
        }
    }
}

impl core::error::Error for FrameError {}

/// Append one message's script chunk `<script>p(<wire JSON>)</script>\r\n` to `out`.
///
/// The bytes do not depend on the subscriber: frame once, share with all, and
/// count them per subscriber with [`FrameEncoder::record_shared_chunk`].
pub fn encode_message(message: WireMessageRef<'_>, out: &mut Vec<u8>) {
    out.extend_from_slice(b"<script>p(");
    message.encode_json(out);
    out.extend_from_slice(b")</script>\r\n");
}

/// Per-subscriber state of one forever-frame response: a byte counter against the budget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameEncoder {
    byte_budget: u64,
    written: u64,
    ended: bool,
}

impl FrameEncoder {
    /// Begin a response: append the preamble (document head, callback binding,
    /// padding, open signal) to `out`.
    ///
    /// The preamble is counted but never ends the frame by itself, so every
    /// frame carries at least one message or heartbeat even with a tiny budget.
    pub fn start(config: &FrameConfig, out: &mut Vec<u8>) -> Self {
        let before = out.len();
        out.extend_from_slice(
            b"<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\n\
              <script>function p(m){parent.",
        );
        out.extend_from_slice(config.callback.as_str().as_bytes());
        out.extend_from_slice(b"(m)}</script>\n");
        out.resize(out.len().saturating_add(config.padding), b' ');
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(HEARTBEAT);
        Self {
            byte_budget: config.byte_budget,
            written: count(out.len() - before),
            ended: false,
        }
    }

    /// Append one message's chunk to `out` and count it.
    ///
    /// # Errors
    /// [`FrameError::Ended`] after the frame ended; nothing is written.
    pub fn encode_message(
        &mut self,
        message: WireMessageRef<'_>,
        out: &mut Vec<u8>,
    ) -> Result<FrameStatus, FrameError> {
        self.check_open()?;
        let before = out.len();
        encode_message(message, out);
        Ok(self.count_and_maybe_end(out.len() - before, out))
    }

    /// Append a heartbeat ([`HEARTBEAT`]) to `out` and count it.
    ///
    /// # Errors
    /// [`FrameError::Ended`] after the frame ended; nothing is written.
    pub fn encode_heartbeat(&mut self, out: &mut Vec<u8>) -> Result<FrameStatus, FrameError> {
        self.check_open()?;
        out.extend_from_slice(HEARTBEAT);
        Ok(self.count_and_maybe_end(HEARTBEAT.len(), out))
    }

    /// Count `len` bytes the host wrote itself from a shared chunk (made by
    /// [`encode_message`], or [`HEARTBEAT`]); append [`END`] to `out` if that
    /// spent the budget.
    ///
    /// Call it right after writing the shared bytes; then write `out`.
    ///
    /// # Errors
    /// [`FrameError::Ended`] if the frame had already ended: the shared bytes
    /// should not have been written (the message belongs to the next frame).
    pub fn record_shared_chunk(
        &mut self,
        len: usize,
        out: &mut Vec<u8>,
    ) -> Result<FrameStatus, FrameError> {
        self.check_open()?;
        Ok(self.count_and_maybe_end(len, out))
    }

    /// End the document now (server shutdown, unsubscribe): append [`END`]
    /// unless the frame already ended.
    pub fn end(&mut self, out: &mut Vec<u8>) {
        if !self.ended {
            self.write_end(out);
        }
    }

    /// Whether the frame is still open.
    pub fn status(&self) -> FrameStatus {
        if self.ended {
            FrameStatus::Ended
        } else {
            FrameStatus::Open
        }
    }

    /// Bytes written to this response so far, preamble and [`END`] included.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    fn check_open(&self) -> Result<(), FrameError> {
        if self.ended {
            Err(FrameError::Ended)
        } else {
            Ok(())
        }
    }

    fn count_and_maybe_end(&mut self, len: usize, out: &mut Vec<u8>) -> FrameStatus {
        self.written = self.written.saturating_add(count(len));
        if self.written >= self.byte_budget {
            self.write_end(out);
        }
        self.status()
    }

    fn write_end(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(END);
        self.written = self.written.saturating_add(count(END.len()));
        self.ended = true;
    }
}

fn count(len: usize) -> u64 {
    u64::try_from(len).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{self, WireMessage, tests::hostile_string};
    use alloc::{string::ToString, vec::Vec};
    use proptest::prelude::*;

    fn message(data: &str) -> WireMessage {
        WireMessageRef {
            id: "1",
            channel: "c",
            event: "message",
            data,
        }
        .to_message()
    }

    fn chunk(message: &WireMessage) -> Vec<u8> {
        let mut out = Vec::new();
        encode_message(message.as_parts(), &mut out);
        out
    }

    /// Check one message chunk is script-safe and return the JSON inside it.
    fn script_body_json(chunk: &[u8]) -> Result<&[u8], String> {
        let body = chunk
            .strip_prefix(b"<script>p(")
            .and_then(|rest| rest.strip_suffix(b")</script>\r\n"))
            .ok_or("chunk is not <script>p(…)</script>\\r\\n")?;
        let lower = body.to_ascii_lowercase();
        if lower.windows(8).any(|w| w == b"</script") {
            return Err("body contains </script".into());
        }
        if body.windows(4).any(|w| w == b"<!--") {
            return Err("body contains <!--".into());
        }
        if body.contains(&b'<') {
            return Err("body contains <".into());
        }
        if body
            .windows(3)
            .any(|w| w == "\u{2028}".as_bytes() || w == "\u{2029}".as_bytes())
        {
            return Err("body contains raw U+2028/U+2029".into());
        }
        if body.iter().any(|byte| *byte < 0x20) {
            return Err("body contains a raw control character".into());
        }
        Ok(body)
    }

    #[test]
    fn hostile_payloads_cannot_leave_the_script() {
        // docs/conformance.md §3 "Escaping": no payload may end the script element or
        // change tokenizer state; U+2028/9 escaped for pre-ES2019 engines.
        let table: &[&str] = &[
            "</script><script>window.__x=1</script>",
            "</SCRIPT >",
            "<!--",
            "-->",
            "<!--<script>",
            "]]>",
            "\u{2028}",
            "\u{2029}",
            "\u{0}",
            "<",
            "a<b>&amp;",
            "\"})</script>",
            "\\",
            "😀\u{feff}",
        ];
        for payload in table {
            let original = message(payload);
            let bytes = chunk(&original);
            let json = script_body_json(&bytes).unwrap_or_else(|why| panic!("{payload:?}: {why}"));
            assert_eq!(wire::decode_message(json), Ok(original), "{payload:?}");
        }
    }

    #[test]
    fn callback_names_are_identifier_paths() {
        // docs/conformance.md §3 "Callback name": validated, or it becomes script injection.
        let table: &[(&str, Result<(), FrameError>)] = &[
            ("pushwireFrame", Ok(())),
            ("pushwire.deliver", Ok(())),
            ("$._a1.b$2", Ok(())),
            ("", Err(FrameError::CallbackEmpty)),
            ("a.", Err(FrameError::CallbackEmptySegment { offset: 2 })),
            (".a", Err(FrameError::CallbackEmptySegment { offset: 0 })),
            ("a..b", Err(FrameError::CallbackEmptySegment { offset: 2 })),
            (
                "1a",
                Err(FrameError::CallbackInvalidChar { offset: 0, ch: '1' }),
            ),
            (
                "a.1",
                Err(FrameError::CallbackInvalidChar { offset: 2, ch: '1' }),
            ),
            (
                "a-b",
                Err(FrameError::CallbackInvalidChar { offset: 1, ch: '-' }),
            ),
            (
                "a(1)",
                Err(FrameError::CallbackInvalidChar { offset: 1, ch: '(' }),
            ),
            (
                "x</script>",
                Err(FrameError::CallbackInvalidChar { offset: 1, ch: '<' }),
            ),
            (
                "a[0]",
                Err(FrameError::CallbackInvalidChar { offset: 1, ch: '[' }),
            ),
            (
                "é",
                Err(FrameError::CallbackInvalidChar {
                    offset: 0, ch: 'é'
                }),
            ),
            (&"a".repeat(MAX_CALLBACK_LEN), Ok(())),
            (
                &"a".repeat(MAX_CALLBACK_LEN + 1),
                Err(FrameError::CallbackTooLong {
                    len: MAX_CALLBACK_LEN + 1,
                    max: MAX_CALLBACK_LEN,
                }),
            ),
        ];
        for (input, expected) in table {
            assert_eq!(CallbackName::new(input).map(|_| ()), *expected, "{input:?}");
        }
        assert_eq!(
            CallbackName::new("a-b").unwrap_err().to_string(),
            "the \"callback\" parameter has '-' at byte 1; use JavaScript identifiers \
             ([A-Za-z_$][A-Za-z0-9_$]*) joined by dots"
        );
    }

    #[test]
    fn preamble_binds_the_callback_and_is_padded() {
        // docs/conformance.md §3 "Prelude": bind to the parent's callback, pad ≥ 1 KiB
        // (Safari), then the open signal.
        let config = FrameConfig {
            callback: CallbackName::new("pushwire.deliver").unwrap(),
            ..FrameConfig::default()
        };
        let mut out = Vec::new();
        let encoder = FrameEncoder::start(&config, &mut out);
        let head = b"<!doctype html><html><head><meta charset=\"utf-8\"></head><body>\n\
                     <script>function p(m){parent.pushwire.deliver(m)}</script>\n";
        assert!(out.starts_with(head));
        assert!(out.ends_with(b"\r\n<script>p()</script>\r\n"));
        assert_eq!(out.len(), head.len() + 1024 + 2 + HEARTBEAT.len());
        assert!(out.len() > 1024);
        assert_eq!(encoder.bytes_written(), out.len() as u64);
        assert_eq!(encoder.status(), FrameStatus::Open);
    }

    #[test]
    fn frame_ends_once_the_byte_budget_is_spent() {
        // docs/conformance.md §3 "Bounded memory": end after a byte budget (SockJS
        // response_limit; its protocol test uses 4 KiB) so the client reopens.
        let config = FrameConfig {
            byte_budget: 4096,
            ..FrameConfig::default()
        };
        let mut out = Vec::new();
        let mut encoder = FrameEncoder::start(&config, &mut out);
        let payload = "x".repeat(500);
        let mut sent = 0;
        loop {
            let status = encoder
                .encode_message(message(&payload).as_parts(), &mut out)
                .unwrap();
            sent += 1;
            if status == FrameStatus::Ended {
                break;
            }
            assert!(encoder.bytes_written() < 4096);
        }
        assert!(
            out.ends_with(b")</script>\r\n</body></html>"),
            "the crossing message is whole"
        );
        assert_eq!(encoder.bytes_written(), out.len() as u64);
        assert!(encoder.bytes_written() >= 4096 && sent == 6);
        let before = out.len();
        assert_eq!(
            encoder.encode_message(message("late").as_parts(), &mut out),
            Err(FrameError::Ended)
        );
        assert_eq!(encoder.encode_heartbeat(&mut out), Err(FrameError::Ended));
        assert_eq!(
            encoder.record_shared_chunk(10, &mut out),
            Err(FrameError::Ended)
        );
        encoder.end(&mut out);
        assert_eq!(out.len(), before, "nothing more after the end");
    }

    #[test]
    fn shared_chunks_count_like_own_writes() {
        // docs/design.md "Framed once per transport": subscriber-independent chunk bytes,
        // per-subscriber budget counter.
        let config = FrameConfig {
            byte_budget: 2000,
            padding: 0,
            ..FrameConfig::default()
        };
        let shared = chunk(&message(&"y".repeat(300)));
        let (mut own, mut via_shared) = (Vec::new(), Vec::new());
        let mut a = FrameEncoder::start(&config, &mut own);
        let mut b = FrameEncoder::start(&config, &mut via_shared);
        loop {
            let status_a = a
                .encode_message(message(&"y".repeat(300)).as_parts(), &mut own)
                .unwrap();
            via_shared.extend_from_slice(&shared);
            let mut tail = Vec::new();
            let status_b = b.record_shared_chunk(shared.len(), &mut tail).unwrap();
            via_shared.extend_from_slice(&tail);
            assert_eq!(status_a, status_b);
            if status_a == FrameStatus::Ended {
                break;
            }
            let status = a.encode_heartbeat(&mut own).unwrap();
            via_shared.extend_from_slice(HEARTBEAT);
            let mut tail = Vec::new();
            assert_eq!(
                b.record_shared_chunk(HEARTBEAT.len(), &mut tail).unwrap(),
                status
            );
            via_shared.extend_from_slice(&tail);
            if status == FrameStatus::Ended {
                break;
            }
        }
        assert_eq!(own, via_shared);
        assert_eq!(a, b);
    }

    #[test]
    fn explicit_end_closes_the_document_once() {
        let mut out = Vec::new();
        let mut encoder = FrameEncoder::start(&FrameConfig::default(), &mut out);
        encoder.end(&mut out);
        encoder.end(&mut out);
        assert!(out.ends_with(b"<script>p()</script>\r\n</body></html>"));
        assert_eq!(encoder.status(), FrameStatus::Ended);
    }

    proptest! {
        #[test]
        fn any_payload_stays_inside_its_script_and_decodes_back(
            id in hostile_string(), channel in hostile_string(),
            event in hostile_string(), data in hostile_string(),
        ) {
            let original = WireMessageRef { id: &id, channel: &channel, event: &event, data: &data }.to_message();
            let bytes = chunk(&original);
            let json = script_body_json(&bytes).map_err(TestCaseError::fail)?;
            prop_assert_eq!(wire::decode_message(json), Ok(original));
        }
    }
}
