//! NDJSON: one wire message per line, for `fetch` streams and `curl`.
//!
//! The encoder writes each message as its wire JSON (see [`crate::wire`])
//! followed by `\n`, and a heartbeat as an empty line. The JSON form never holds
//! a raw line break (every control character is escaped), so a line is always
//! exactly one message.
//!
//! [`NdjsonParser`] is the incremental reader: push bytes as they arrive, in
//! any chunks, then drain [`NdjsonParser::poll_event`].
//!
//! ```
//! use pushwire_core::ndjson::{self, NdjsonParser, NdjsonParserConfig};
//! use pushwire_core::wire::WireMessageRef;
//!
//! let mut body = Vec::new();
//! ndjson::encode_message(WireMessageRef { id: "1", channel: "chat", event: "message", data: "hi" }, &mut body);
//! ndjson::encode_heartbeat(&mut body);
//! assert_eq!(body, b"{\"id\":\"1\",\"channel\":\"chat\",\"data\":\"hi\"}\n\n");
//!
//! let mut parser = NdjsonParser::new(NdjsonParserConfig::default());
//! let (first, rest) = body.split_at(7);
//! parser.push(first);
//! assert!(parser.poll_event().is_none()); // incomplete is not an error
//! parser.push(rest);
//! let message = parser.poll_event().unwrap().unwrap();
//! assert_eq!((message.id.as_str(), message.data.as_str()), ("1", "hi"));
//! assert!(parser.poll_event().is_none()); // the heartbeat is skipped
//! ```
//!
//! Parsing rules:
//! - A line ends at `\n`; one `\r` before it is dropped (CRLF is tolerated).
//! - Lines that are empty or hold only spaces, tabs and `\r` are heartbeats
//!   and are skipped.
//! - Every other line must be exactly one wire message
//!   ([`crate::wire::decode_message`]), else [`NdjsonError::BadLine`].
//! - A line longer than [`NdjsonParserConfig::max_line_len`] (not counting its
//!   terminator) is [`NdjsonError::LineTooLong`], reported as soon as the
//!   buffered part of the line is over the limit, without waiting for its end.
//! - Errors are **sticky**: once `poll_event` returns an error it returns the
//!   same error on every later call, and later pushes are discarded. A bad
//!   line means the sender is broken or hostile; skipping it could silently
//!   lose a message and move the cursor past it. Messages on lines before the
//!   bad one are still delivered first.

use alloc::vec::Vec;
use core::fmt;

use crate::wire::{WireConfig, WireError, WireMessage, WireMessageRef};

/// Append one message as an NDJSON line (`<wire JSON>\n`) to `out`.
pub fn encode_message(message: WireMessageRef<'_>, out: &mut Vec<u8>) {
    message.encode_json(out);
    out.push(b'\n');
}

/// Append a heartbeat (an empty line) to `out`.
pub fn encode_heartbeat(out: &mut Vec<u8>) {
    out.push(b'\n');
}

/// Limits of [`NdjsonParser`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NdjsonParserConfig {
    /// Longest line accepted, in bytes, not counting `\n` or `\r\n`.
    /// Default 1 MiB (1 048 576). It also bounds the parser's buffer.
    pub max_line_len: usize,
    /// Limits for decoding each line's JSON (default [`WireConfig::default`]).
    pub wire: WireConfig,
}

impl Default for NdjsonParserConfig {
    fn default() -> Self {
        Self {
            max_line_len: 1 << 20,
            wire: WireConfig::default(),
        }
    }
}

/// Why an NDJSON stream cannot be read further.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NdjsonError {
    /// A line is longer than [`NdjsonParserConfig::max_line_len`].
    LineTooLong {
        /// The line's number, counting from 1 (heartbeat lines count).
        line: u64,
        /// The limit.
        max_line_len: usize,
    },
    /// A line is neither blank nor one wire message.
    BadLine {
        /// The line's number, counting from 1 (heartbeat lines count).
        line: u64,
        /// What is wrong with it; offsets count from the line's start.
        error: WireError,
    },
}

impl fmt::Display for NdjsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { line, max_line_len } => {
                write!(f, "NDJSON line {line} is longer than {max_line_len} bytes")
            }
            Self::BadLine { line, error } => {
                write!(f, "NDJSON line {line} is not a wire message: {error}")
            }
        }
    }
}

impl core::error::Error for NdjsonError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::BadLine { error, .. } => Some(error),
            Self::LineTooLong { .. } => None,
        }
    }
}

/// Incremental NDJSON reader: bytes in, [`WireMessage`]s out.
#[derive(Clone, Debug)]
pub struct NdjsonParser {
    config: NdjsonParserConfig,
    /// Unread bytes; the current line starts at `line_start`.
    buf: Vec<u8>,
    line_start: usize,
    /// `buf[line_start..scanned]` holds no `\n`.
    scanned: usize,
    /// Number of the line starting at `line_start`.
    line: u64,
    finished: bool,
    error: Option<NdjsonError>,
}

impl NdjsonParser {
    /// Make a parser with the given limits.
    pub fn new(config: NdjsonParserConfig) -> Self {
        Self {
            config,
            buf: Vec::new(),
            line_start: 0,
            scanned: 0,
            line: 1,
            finished: false,
            error: None,
        }
    }

    /// Add bytes received from the stream.
    ///
    /// Call [`poll_event`](Self::poll_event) until it returns `None` after each
    /// push: the buffer holds what was pushed until it is polled. Bytes pushed
    /// after an error or after [`finish`](Self::finish) are ignored.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.error.is_some() || self.finished {
            return;
        }
        if self.line_start > 0 {
            self.buf.drain(..self.line_start);
            self.scanned -= self.line_start;
            self.line_start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Mark the end of the stream: a last line without `\n` is then read too.
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Take the next message, if a whole line for one has arrived.
    ///
    /// `None` means "push more bytes" (or, after [`finish`](Self::finish), the end).
    ///
    /// # Errors
    /// [`NdjsonError::LineTooLong`] or [`NdjsonError::BadLine`]; sticky (see
    /// the module docs): every later call returns the same error.
    pub fn poll_event(&mut self) -> Option<Result<WireMessage, NdjsonError>> {
        if let Some(error) = self.error {
            return Some(Err(error));
        }
        loop {
            let unscanned = self.buf.get(self.scanned..).unwrap_or_default();
            let line_end = match unscanned.iter().position(|&byte| byte == b'\n') {
                Some(at) => self.scanned + at,
                None => {
                    self.scanned = self.buf.len();
                    let pending = self.buf.get(self.line_start..).unwrap_or_default();
                    if content_len(pending) > self.config.max_line_len {
                        return Some(Err(self.fail(NdjsonError::LineTooLong {
                            line: self.line,
                            max_line_len: self.config.max_line_len,
                        })));
                    }
                    if !self.finished || pending.is_empty() {
                        return None;
                    }
                    self.buf.len()
                }
            };
            let number = self.line;
            let line = self.buf.get(self.line_start..line_end).unwrap_or_default();
            let event = parse_line(&self.config, line, number);
            self.line_start = (line_end + 1).min(self.buf.len());
            self.scanned = self.line_start;
            self.line += 1;
            match event {
                None => continue,
                Some(Ok(message)) => return Some(Ok(message)),
                Some(Err(error)) => return Some(Err(self.fail(error))),
            }
        }
    }

    fn fail(&mut self, error: NdjsonError) -> NdjsonError {
        self.error = Some(error);
        self.buf = Vec::new();
        self.line_start = 0;
        self.scanned = 0;
        error
    }
}

/// A line's length without one trailing `\r`.
fn content_len(line: &[u8]) -> usize {
    line.len() - usize::from(line.last() == Some(&b'\r'))
}

/// Read one complete line (without its `\n`); `None` for a heartbeat.
fn parse_line(
    config: &NdjsonParserConfig,
    line: &[u8],
    number: u64,
) -> Option<Result<WireMessage, NdjsonError>> {
    if content_len(line) > config.max_line_len {
        return Some(Err(NdjsonError::LineTooLong {
            line: number,
            max_line_len: config.max_line_len,
        }));
    }
    if line.iter().all(|byte| matches!(byte, b' ' | b'\t' | b'\r')) {
        return None;
    }
    Some(
        config
            .wire
            .decode_message(line)
            .map_err(|error| NdjsonError::BadLine {
                line: number,
                error,
            }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::tests::hostile_string;
    use alloc::{string::ToString, vec, vec::Vec};
    use proptest::prelude::*;

    fn message(id: &str, data: &str) -> WireMessage {
        WireMessageRef {
            id,
            channel: "c",
            event: "message",
            data,
        }
        .to_message()
    }

    /// Drain the parser: messages until the first error (included) or `None`.
    fn drain(parser: &mut NdjsonParser) -> Vec<Result<WireMessage, NdjsonError>> {
        let mut events = Vec::new();
        while let Some(event) = parser.poll_event() {
            let stop = event.is_err();
            events.push(event);
            if stop {
                break;
            }
        }
        events
    }

    fn parse_chunks(
        config: NdjsonParserConfig,
        chunks: &[&[u8]],
    ) -> Vec<Result<WireMessage, NdjsonError>> {
        let mut parser = NdjsonParser::new(config);
        let mut events = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            events.extend(drain(&mut parser));
            if events.last().is_some_and(Result::is_err) {
                return events;
            }
        }
        parser.finish();
        events.extend(drain(&mut parser));
        events
    }

    fn parse(input: &[u8]) -> Vec<Result<WireMessage, NdjsonError>> {
        parse_chunks(NdjsonParserConfig::default(), &[input])
    }

    const M1: &str = r#"{"id":"1","channel":"c","data":"a"}"#;
    const M2: &str = r#"{"id":"2","channel":"c","data":"b"}"#;

    #[test]
    fn parser_reads_lines_and_skips_heartbeats() {
        // docs/design.md "Wire contracts", NDJSON: a heartbeat is an empty line and parsers skip
        // empty lines; CRLF tolerated; whitespace-only lines are heartbeats too.
        let table: &[(&str, Vec<WireMessage>)] = &[
            ("", vec![]),
            ("\n\n\n", vec![]),
            (" \t\r\n\r\n", vec![]),
            (&[M1, "\n"].concat(), vec![message("1", "a")]),
            (
                &[M1, "\r\n", M2, "\r\n"].concat(),
                vec![message("1", "a"), message("2", "b")],
            ),
            (
                &["\n", M1, "\n\n \n", M2, "\n"].concat(),
                vec![message("1", "a"), message("2", "b")],
            ),
            (&["  ", M1, " \t\r\n"].concat(), vec![message("1", "a")]),
            // End of stream: a last line without "\n" is read after finish().
            (
                &[M1, "\n", M2].concat(),
                vec![message("1", "a"), message("2", "b")],
            ),
        ];
        for (input, expected) in table {
            let expected: Vec<_> = expected.iter().cloned().map(Ok).collect();
            assert_eq!(parse(input.as_bytes()), expected, "{input:?}");
        }
    }

    #[test]
    fn parser_names_the_bad_line_and_keeps_the_error() {
        // docs/design.md "Codecs": an error is sticky; messages before the bad line still arrive.
        let input = [M1, "\n\n", "{\"id\":\"2\"}\n", M2, "\n"].concat();
        let mut parser = NdjsonParser::new(NdjsonParserConfig::default());
        parser.push(input.as_bytes());
        assert_eq!(parser.poll_event(), Some(Ok(message("1", "a"))));
        let error = NdjsonError::BadLine {
            line: 3,
            error: WireError::MissingField {
                offset: 0,
                field: "channel",
            },
        };
        assert_eq!(parser.poll_event(), Some(Err(error)));
        parser.push(M2.as_bytes());
        parser.push(b"\n");
        assert_eq!(parser.poll_event(), Some(Err(error)));
        assert_eq!(
            error.to_string(),
            "NDJSON line 3 is not a wire message: missing field \"channel\" in the object at offset 0"
        );

        let table: &[(&str, NdjsonError)] = &[
            (
                "not json\n",
                NdjsonError::BadLine {
                    line: 1,
                    error: WireError::UnexpectedByte {
                        offset: 0,
                        found: b'n',
                        expected: "an object",
                    },
                },
            ),
            (
                &[M1, M1, "\n"].concat(),
                NdjsonError::BadLine {
                    line: 1,
                    error: WireError::TrailingGarbage { offset: M1.len() },
                },
            ),
            (
                &["\n", M1, "x\r\n"].concat(),
                NdjsonError::BadLine {
                    line: 2,
                    error: WireError::TrailingGarbage { offset: M1.len() },
                },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(
                parse(input.as_bytes()).last(),
                Some(&Err(*expected)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parser_rejects_line_over_limit() {
        // Hostile input: NdjsonParserConfig::max_line_len bounds the buffer; the
        // error comes before the line ends.
        let config = NdjsonParserConfig {
            max_line_len: M1.len(),
            ..NdjsonParserConfig::default()
        };
        let too_long = NdjsonError::LineTooLong {
            line: 2,
            max_line_len: M1.len(),
        };
        // Exactly at the limit, with LF or CRLF split anywhere: fine.
        let at_limit = [M1, "\r\n", M1, "\n"].concat();
        for split in 0..=at_limit.len() {
            let (a, b) = at_limit.as_bytes().split_at(split);
            assert_eq!(parse_chunks(config, &[a, b]).len(), 2, "split {split}");
        }
        // One byte over, terminated or not.
        let over = [M1, "\n ", M1, "\n"].concat();
        assert_eq!(
            parse_chunks(config, &[over.as_bytes()]).last(),
            Some(&Err(too_long))
        );
        let mut parser = NdjsonParser::new(config);
        parser.push(M1.as_bytes());
        parser.push(b"\n");
        parser.push(&[b'x'; 1000]);
        assert_eq!(
            drain(&mut parser),
            vec![Ok(message("1", "a")), Err(too_long)]
        );
        parser.push(&[b'x'; 1000]);
        assert_eq!(parser.poll_event(), Some(Err(too_long)));
        assert!(parser.buf.is_empty(), "nothing is buffered after an error");
    }

    proptest! {
        #[test]
        fn encoded_messages_parse_back(
            messages in prop::collection::vec(
                (hostile_string(), hostile_string(), hostile_string(), any::<bool>()), 0..6),
        ) {
            let mut body = Vec::new();
            let mut expected = Vec::new();
            for (id, event, data, heartbeat) in &messages {
                let parts = WireMessageRef { id, channel: "c", event, data };
                encode_message(parts, &mut body);
                if *heartbeat {
                    encode_heartbeat(&mut body);
                }
                expected.push(Ok(parts.to_message()));
            }
            prop_assert_eq!(parse(&body), expected);
        }

        #[test]
        fn any_split_parses_like_the_whole(
            lines in prop::collection::vec(prop_oneof![
                hostile_string().prop_map(|data| {
                    let mut line = Vec::new();
                    WireMessageRef { id: "1", channel: "c", event: "e", data: &data }.encode_json(&mut line);
                    line
                }),
                Just(b"\r".to_vec()),
                Just(b" ".to_vec()),
                Just(b"{\"id\":1}".to_vec()),
                prop::collection::vec(any::<u8>(), 0..8),
            ], 0..6),
            crlf in any::<bool>(),
            cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..4),
            max_line_len in 0usize..64,
        ) {
            let config = NdjsonParserConfig { max_line_len, ..NdjsonParserConfig::default() };
            let terminator: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let input = lines.join(terminator);
            let whole = parse_chunks(config, &[&input]);
            let mut cuts: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&input[from..cut]);
                from = cut;
            }
            chunks.push(&input[from..]);
            prop_assert_eq!(parse_chunks(config, &chunks), whole.clone());
            let bytewise: Vec<&[u8]> = input.chunks(1).collect();
            prop_assert_eq!(parse_chunks(config, &bytewise), whole);
        }
    }
}
