//! The incremental, tolerant multipart parser.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::encoder::is_token_char;
use super::search::{Search, find, find_byte, search};
use super::{Boundary, BoundaryError, boundary_from_content_type};

/// Limits of a [`MultipartParser`]; exceeding one is a [`MultipartError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultipartParserConfig {
    /// Longest header line (and delimiter line), in bytes before its LF.
    /// Default: 8 KiB.
    pub max_header_line: usize,
    /// Most header fields in one part. Default: 64.
    pub max_header_count: usize,
    /// Largest part body, in bytes, whether declared by Content-Length or
    /// found by scanning. Default: 16 MiB.
    pub max_part_size: usize,
}

impl Default for MultipartParserConfig {
    fn default() -> Self {
        Self {
            max_header_line: 8 * 1024,
            max_header_count: 64,
            max_part_size: 16 * 1024 * 1024,
        }
    }
}

/// What the parser found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultipartEvent {
    /// One complete part (for x-mixed-replace: the new frame).
    Part(Part),
    /// The close delimiter `--<token>--`: the stream ended in order. Nothing
    /// follows; the epilogue is ignored.
    End,
}

/// One part: its header fields and its body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Part {
    /// Header fields in order: names as sent, values with surrounding spaces
    /// and tabs trimmed (folded continuation lines joined by one space);
    /// invalid UTF-8 is replaced by U+FFFD. Look them up with [`Part::header`].
    pub headers: Vec<(String, String)>,
    /// The body, without the line break that belongs to the next delimiter.
    pub body: Vec<u8>,
}

impl Part {
    /// The first header field called `name` (compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The part's `Content-Type`, if it has one.
    pub fn content_type(&self) -> Option<&str> {
        self.header("content-type")
    }

    /// The part's `Content-Length`, if it has a valid one.
    pub fn content_length(&self) -> Option<u64> {
        self.header("content-length")
            .and_then(|value| value.parse().ok())
    }
}

/// Why the parser stopped. Errors are sticky: once one is returned, every
/// later [`MultipartParser::poll_event`] returns it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MultipartError {
    /// A header line (or the rest of a delimiter line) is longer than
    /// [`MultipartParserConfig::max_header_line`].
    HeaderLineTooLong {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A part has more header fields than [`MultipartParserConfig::max_header_count`].
    TooManyHeaders {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// A part's Content-Length or scanned body exceeds
    /// [`MultipartParserConfig::max_part_size`].
    PartTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// [`MultipartParser::finish`] was called in the middle of a part.
    UnexpectedEnd,
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HeaderLineTooLong { limit } => {
                write!(f, "a multipart header line is longer than {limit} bytes")
            }
            Self::TooManyHeaders { limit } => {
                write!(f, "a multipart part has more than {limit} header fields")
            }
            Self::PartTooLarge { limit } => {
                write!(f, "a multipart part is larger than {limit} bytes")
            }
            Self::UnexpectedEnd => {
                f.write_str("the multipart stream ended in the middle of a part")
            }
        }
    }
}

impl core::error::Error for MultipartError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Start of the stream: delimiter, headers (no first delimiter) or preamble?
    Top,
    /// Skipping the preamble up to the first delimiter line.
    Preamble,
    /// Just after `--<token>`: close (`--`) or the rest of the line.
    DelimiterLine,
    /// Reading a part's header lines.
    Headers,
    /// Reading a part's body.
    Body,
    /// After the close delimiter, the end of input or an error.
    Done,
}

/// What one step of the state machine did.
enum Step {
    /// State changed; step again.
    Continue,
    /// Nothing more can be decided without more input.
    NeedMore,
    /// An event is ready.
    Emit(MultipartEvent),
}

/// An incremental `multipart/x-mixed-replace` (and `multipart/mixed`) parser.
///
/// Feed bytes as they arrive with [`push`](Self::push), then drain
/// [`poll_event`](Self::poll_event) until it returns `None`; call
/// [`finish`](Self::finish) when the input ends. Any split of the input into
/// chunks gives the same events. Memory is bounded by the configured limits
/// plus the bytes pushed and not yet polled.
///
/// Tolerance, following browsers and ffmpeg (docs/conformance.md §2):
/// * A delimiter is a line starting with `--<token>`; anything after it on the
///   line (RFC transport padding, or other text) is ignored. `--<token>--` is
///   the close delimiter; the epilogue after it is ignored.
/// * Lines end in CRLF or bare LF; the CRLF or LF before a delimiter belongs
///   to the delimiter, not to the body.
/// * Start of stream: one leading CRLF or LF is skipped (Chromium). If the
///   stream then starts with a header line (`name:`), a first delimiter is
///   synthesised, as Chromium does, so that part is kept. Otherwise
///   everything before the first delimiter line is preamble and is dropped
///   (RFC 2046).
/// * Boundary parameter with a leading `--` (`boundary=--cam`) or without:
///   delimiter lines `--cam` and `----cam` are both accepted; the first
///   delimiter seen fixes which form the rest of the stream must use (as
///   modern Firefox does). A synthesised first delimiter fixes the shorter form.
/// * Header names are case-insensitive, values trimmed; folded lines are
///   joined; lines without a colon are ignored. A delimiter line where a
///   header was expected ends the part with an empty body (no part at all
///   when it had no headers, so the encoder's `--tok--` after a part's
///   trailing delimiter is just the end).
/// * With a valid `Content-Length: N` (the last one wins) exactly N body bytes
///   are read, like ffmpeg; then, after optional blank lines, the delimiter
///   line must follow. If it does not, the Content-Length is wrong and the
///   part is found by scanning for the delimiter from its first byte instead,
///   as browsers always do. Without Content-Length the body is found by
///   scanning.
///   A Content-Length larger than the part delays the part until that many
///   bytes arrived (or the input ends).
/// * At [`finish`](Self::finish), a Content-Length part whose bytes all
///   arrived is emitted even without its delimiter; a shorter one is looked
///   for by scanning; any other unterminated part is
///   [`MultipartError::UnexpectedEnd`].
#[derive(Clone, Debug)]
pub struct MultipartParser {
    config: MultipartParserConfig,
    /// `--` + token (a leading `--` of the parameter stripped once).
    short: Vec<u8>,
    /// `----` + token: the form with the doubled prefix.
    long: Vec<u8>,
    /// `\n` + the delimiter form the stream committed to; empty before that.
    line_needle: Vec<u8>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// How far past `pos` the current state already searched.
    scan: usize,
    state: State,
    headers: Vec<(String, String)>,
    content_length: Option<usize>,
    finished: bool,
    error: Option<MultipartError>,
}

impl MultipartParser {
    /// Make a parser for streams delimited by `boundary`.
    pub fn new(boundary: &Boundary, config: MultipartParserConfig) -> Self {
        let token = boundary.as_str();
        let token = token
            .strip_prefix("--")
            .filter(|rest| !rest.is_empty())
            .unwrap_or(token);
        let mut short = Vec::with_capacity(token.len() + 2);
        short.extend_from_slice(b"--");
        short.extend_from_slice(token.as_bytes());
        let mut long = Vec::with_capacity(token.len() + 4);
        long.extend_from_slice(b"--");
        long.extend_from_slice(&short);
        Self {
            config,
            short,
            long,
            line_needle: Vec::new(),
            buf: Vec::new(),
            pos: 0,
            scan: 0,
            state: State::Top,
            headers: Vec::new(),
            content_length: None,
            finished: false,
            error: None,
        }
    }

    /// Make a parser from a response's `Content-Type` value.
    ///
    /// # Errors
    /// As [`boundary_from_content_type`].
    pub fn from_content_type(
        content_type: &str,
        config: MultipartParserConfig,
    ) -> Result<Self, BoundaryError> {
        Ok(Self::new(
            &boundary_from_content_type(content_type)?,
            config,
        ))
    }

    /// Append received bytes.
    ///
    /// Bytes pushed after the close delimiter, after [`finish`](Self::finish)
    /// or after an error are dropped.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.finished || self.error.is_some() || self.state == State::Done {
            return;
        }
        // Drop consumed bytes once they are at least half the buffer, so each
        // byte is moved at most a constant number of times on average.
        if self.pos > 0 && self.pos >= self.buf.len() / 2 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Mark the end of the input.
    ///
    /// Call it when the connection closes; later polls then report what the
    /// end means (a last Content-Length part, or [`MultipartError::UnexpectedEnd`]).
    pub fn finish(&mut self) {
        self.finished = true;
    }

    /// Take the next event, or `None` when more input is needed (or the stream is over).
    ///
    /// # Errors
    /// A [`MultipartError`] when a limit is exceeded or the input ended inside
    /// a part. Errors are sticky: every later call returns the same error.
    pub fn poll_event(&mut self) -> Option<Result<MultipartEvent, MultipartError>> {
        if let Some(error) = self.error {
            return Some(Err(error));
        }
        let result = loop {
            match self.step() {
                Ok(Step::Continue) => {}
                Ok(Step::Emit(event)) => break Ok(event),
                Ok(Step::NeedMore) if !self.finished => return None,
                Ok(Step::NeedMore) if self.counted_part_cut_short() => {
                    // The input ended before N bytes: the Content-Length may be
                    // too large, so look for the delimiter as browsers do.
                    self.content_length = None;
                    self.scan = 0;
                }
                Ok(Step::NeedMore) => match self.end_of_input() {
                    Ok(Some(event)) => break Ok(event),
                    Ok(None) => return None,
                    Err(error) => break Err(error),
                },
                Err(error) => break Err(error),
            }
        };
        if let Err(error) = result {
            self.error = Some(error);
            self.stop();
        }
        Some(result)
    }

    fn step(&mut self) -> Result<Step, MultipartError> {
        match self.state {
            State::Top => Ok(self.step_top()),
            State::Preamble => Ok(self.step_preamble()),
            State::DelimiterLine => self.step_delimiter_line(),
            State::Headers => self.step_headers(),
            State::Body => self.step_body(),
            State::Done => Ok(Step::NeedMore),
        }
    }

    fn unconsumed(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or_default()
    }

    fn consume(&mut self, len: usize) {
        self.pos = self.pos.saturating_add(len).min(self.buf.len());
        self.scan = 0;
    }

    fn commit(&mut self, long: bool) {
        let form = if long { &self.long } else { &self.short };
        self.line_needle.clear();
        self.line_needle.push(b'\n');
        self.line_needle.extend_from_slice(form);
    }

    /// The committed delimiter form, `--<token>` or `----<token>`.
    fn form(&self) -> &[u8] {
        self.line_needle.get(1..).unwrap_or_default()
    }

    fn stop(&mut self) {
        self.state = State::Done;
        self.buf = Vec::new();
        self.pos = 0;
        self.scan = 0;
    }

    fn step_top(&mut self) -> Step {
        let data = self.unconsumed();
        let skip = if data.starts_with(b"\r\n") {
            2
        } else if data.starts_with(b"\n") {
            1
        } else if data == b"\r" {
            return Step::NeedMore;
        } else {
            0
        };
        let rest = data.get(skip..).unwrap_or_default();
        let (long, short) = (&self.long, &self.short);
        let is_long = if rest.starts_with(long) {
            true
        } else if rest.len() < long.len() && long.starts_with(rest) {
            return Step::NeedMore;
        } else if rest.starts_with(short) {
            false
        } else if rest.len() < short.len() && short.starts_with(rest) {
            return Step::NeedMore;
        } else {
            let max = self.config.max_header_line;
            let name_end = rest.iter().position(|&b| !is_token_char(b));
            let synthesise = match name_end {
                Some(end) if end > max => false,
                Some(end) => end > 0 && rest.get(end) == Some(&b':'),
                None if rest.len() > max => false,
                None => return Step::NeedMore,
            };
            if synthesise {
                // Chromium: "Some servers don't send a boundary token before
                // the first chunk of data"; it prepends one.
                self.commit(false);
                self.consume(skip);
                self.state = State::Headers;
                self.headers.clear();
            } else {
                self.state = State::Preamble;
            }
            return Step::Continue;
        };
        let form_len = if is_long { long.len() } else { short.len() };
        self.commit(is_long);
        self.consume(skip + form_len);
        self.state = State::DelimiterLine;
        Step::Continue
    }

    fn step_preamble(&mut self) -> Step {
        let data = self.unconsumed();
        let mut from = 0;
        while let Some(at) = data.get(from..).and_then(|rest| find(rest, &self.short)) {
            let at = from + at;
            let before = data.get(..at).unwrap_or_default();
            let is_long = before.ends_with(b"\n--");
            if is_long || before.ends_with(b"\n") {
                let consumed = at + self.short.len();
                self.commit(is_long);
                self.consume(consumed);
                self.state = State::DelimiterLine;
                return Step::Continue;
            }
            from = at + 1;
        }
        // Drop the preamble, keeping enough for a delimiter line cut in two.
        let keep_from = data.len().saturating_sub(self.long.len() + 1);
        self.consume(keep_from);
        Step::NeedMore
    }

    fn step_delimiter_line(&mut self) -> Result<Step, MultipartError> {
        let data = self.unconsumed();
        if data.starts_with(b"--") {
            self.stop();
            return Ok(Step::Emit(MultipartEvent::End));
        }
        if data.is_empty() || data == b"-" {
            return Ok(Step::NeedMore);
        }
        let end = self.line_end(data)?;
        let Some(end) = end else {
            return Ok(Step::NeedMore);
        };
        // The rest of the line (transport padding or anything else) is ignored.
        self.consume(end + 1);
        self.state = State::Headers;
        self.headers.clear();
        self.content_length = None;
        Ok(Step::Continue)
    }

    /// Find the LF ending the line that starts `data`, remembering how far
    /// we looked; a line longer than the limit is an error.
    fn line_end(&self, data: &[u8]) -> Result<Option<usize>, MultipartError> {
        let limit = self.config.max_header_line;
        let found = data
            .get(self.scan..)
            .and_then(|rest| find_byte(b'\n', rest))
            .map(|at| self.scan + at);
        let line_len = found.unwrap_or(data.len());
        if line_len > limit {
            return Err(MultipartError::HeaderLineTooLong { limit });
        }
        Ok(found)
    }

    fn step_headers(&mut self) -> Result<Step, MultipartError> {
        let data = self.unconsumed();
        let form = self.form();
        if data.len() < form.len() && form.starts_with(data) {
            return Ok(Step::NeedMore);
        }
        if data.starts_with(form) {
            // A delimiter where a header was expected: the part (if any) has no body.
            let form_len = self.form().len();
            self.consume(form_len);
            self.state = State::DelimiterLine;
            if self.headers.is_empty() {
                return Ok(Step::Continue);
            }
            let headers = core::mem::take(&mut self.headers);
            return Ok(Step::Emit(MultipartEvent::Part(Part {
                headers,
                body: Vec::new(),
            })));
        }
        let Some(end) = self.line_end(data)? else {
            self.scan = data.len();
            return Ok(Step::NeedMore);
        };
        let line = data.get(..end).unwrap_or_default();
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            self.consume(end + 1);
            self.state = State::Body;
            return Ok(Step::Continue);
        }
        let folded = matches!(line.first(), Some(b' ' | b'\t'));
        let field = if folded { None } else { split_field(line) };
        let continuation = if folded {
            Some(lossy(trim(line)))
        } else {
            None
        };
        self.consume(end + 1);
        if let Some(more) = continuation {
            if let Some((_, value)) = self.headers.last_mut() {
                if !value.is_empty() && !more.is_empty() {
                    value.push(' ');
                }
                value.push_str(&more);
            }
            return Ok(Step::Continue);
        }
        let Some((name, value)) = field else {
            // Not a header line: ignored, as HTTP header parsers do.
            return Ok(Step::Continue);
        };
        if self.headers.len() >= self.config.max_header_count {
            return Err(MultipartError::TooManyHeaders {
                limit: self.config.max_header_count,
            });
        }
        let length = if name.eq_ignore_ascii_case("content-length") {
            parse_length(&value)
        } else {
            None
        };
        if let Some(length) = length {
            let limit = self.config.max_part_size;
            if length > limit {
                return Err(MultipartError::PartTooLarge { limit });
            }
            self.content_length = Some(length);
        }
        self.headers.push((name, value));
        Ok(Step::Continue)
    }

    fn step_body(&mut self) -> Result<Step, MultipartError> {
        if let Some(length) = self.content_length {
            return Ok(self.step_counted_body(length));
        }
        let data = self.unconsumed();
        let form = self.form();
        if self.scan == 0 {
            // The body starts at a line start: it may be empty and end at once.
            if data.starts_with(form) {
                let form_len = form.len();
                return Ok(self.emit_part(0, form_len));
            }
            if data.len() < form.len() && form.starts_with(data) {
                return Ok(Step::NeedMore);
            }
        }
        let from = self.scan;
        let (found, scanned) = match search(data.get(from..).unwrap_or_default(), &self.line_needle)
        {
            Search::Found(at) => (Some(from + at), from),
            Search::Partial(at) => (None, from + at),
            Search::Absent => (None, data.len()),
        };
        let limit = self.config.max_part_size;
        let Some(at) = found else {
            // No delimiter starts before `scanned`, so the body has at least `scanned - 1` bytes.
            self.scan = scanned;
            if scanned.saturating_sub(1) > limit {
                return Err(MultipartError::PartTooLarge { limit });
            }
            return Ok(Step::NeedMore);
        };
        let body_end = if at > 0 && data.get(at - 1) == Some(&b'\r') {
            at - 1
        } else {
            at
        };
        if body_end > limit {
            return Err(MultipartError::PartTooLarge { limit });
        }
        let consumed = at + self.line_needle.len();
        Ok(self.emit_part(body_end, consumed))
    }

    fn step_counted_body(&mut self, length: usize) -> Step {
        let data = self.unconsumed();
        let Some(after) = data.get(length..) else {
            return Step::NeedMore;
        };
        let form = self.form();
        let blank = after
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .unwrap_or(after.len());
        if blank <= self.config.max_header_line {
            let tail = after.get(blank..).unwrap_or_default();
            if tail.starts_with(form) {
                let consumed = length + blank + form.len();
                return self.emit_part(length, consumed);
            }
            if tail.len() < form.len() && form.starts_with(tail) {
                return Step::NeedMore;
            }
        }
        // No delimiter after N bytes: the Content-Length is wrong; find the
        // end of the part the way browsers do.
        self.content_length = None;
        self.scan = 0;
        Step::Continue
    }

    fn emit_part(&mut self, body_end: usize, consumed: usize) -> Step {
        let body = self
            .unconsumed()
            .get(..body_end)
            .unwrap_or_default()
            .to_vec();
        let headers = core::mem::take(&mut self.headers);
        self.consume(consumed);
        self.content_length = None;
        self.state = State::DelimiterLine;
        Step::Emit(MultipartEvent::Part(Part { headers, body }))
    }

    fn counted_part_cut_short(&self) -> bool {
        self.state == State::Body
            && self
                .content_length
                .is_some_and(|length| self.unconsumed().len() < length)
    }

    fn end_of_input(&mut self) -> Result<Option<MultipartEvent>, MultipartError> {
        let data = self.unconsumed();
        let outcome = match self.state {
            State::Top | State::Preamble | State::DelimiterLine | State::Done => Ok(None),
            // Only blank lines after the last delimiter: nothing was cut off.
            State::Headers | State::Body
                if self.headers.is_empty() && data.iter().all(|b| b" \t\r\n".contains(b)) =>
            {
                Ok(None)
            }
            State::Headers => Err(MultipartError::UnexpectedEnd),
            State::Body => match self.content_length {
                Some(length) if data.len() >= length => {
                    let body = data.get(..length).unwrap_or_default().to_vec();
                    let headers = core::mem::take(&mut self.headers);
                    Ok(Some(MultipartEvent::Part(Part { headers, body })))
                }
                _ => Err(MultipartError::UnexpectedEnd),
            },
        };
        self.stop();
        outcome
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b != b' ' && b != b'\t')
        .map_or(start, |at| at + 1);
    bytes.get(start..end).unwrap_or_default()
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Split `name: value`; `None` without a colon or with an empty name.
fn split_field(line: &[u8]) -> Option<(String, String)> {
    let colon = line.iter().position(|&b| b == b':')?;
    let (name, value) = line.split_at(colon);
    let name = trim(name);
    if name.is_empty() {
        return None;
    }
    let value = value.get(1..).unwrap_or_default();
    Some((lossy(name), lossy(trim(value))))
}

/// A Content-Length value: digits only; huge values saturate (and then
/// exceed any limit).
fn parse_length(value: &str) -> Option<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(value.bytes().fold(0usize, |n, digit| {
        n.saturating_mul(10)
            .saturating_add(usize::from(digit - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::super::{EncodeError, MultipartEncoder};
    use super::*;
    use alloc::borrow::ToOwned;
    use alloc::format;
    use alloc::vec;
    use proptest::prelude::*;

    type Polled = Result<MultipartEvent, MultipartError>;

    /// Poll until `None` or the first error.
    fn drain(parser: &mut MultipartParser, into: &mut Vec<Polled>) {
        while let Some(polled) = parser.poll_event() {
            let failed = polled.is_err();
            into.push(polled);
            if failed {
                return;
            }
        }
    }

    fn parse_chunks(
        token: &str,
        config: MultipartParserConfig,
        chunks: &[&[u8]],
        finish: bool,
    ) -> Vec<Polled> {
        let boundary =
            boundary_from_content_type(&format!("multipart/x-mixed-replace; boundary={token}"))
                .unwrap();
        let mut parser = MultipartParser::new(&boundary, config);
        let mut events = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            drain(&mut parser, &mut events);
            if events.last().is_some_and(Result::is_err) {
                return events;
            }
        }
        if finish {
            parser.finish();
            drain(&mut parser, &mut events);
        }
        events
    }

    fn parse(token: &str, input: &[u8]) -> Vec<Polled> {
        parse_chunks(token, MultipartParserConfig::default(), &[input], true)
    }

    fn part(headers: &[(&str, &str)], body: &[u8]) -> Polled {
        Ok(MultipartEvent::Part(Part {
            headers: headers
                .iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
            body: body.to_vec(),
        }))
    }

    const END: Polled = Ok(MultipartEvent::End);

    fn byte_by_byte(token: &str, input: &[u8]) -> Vec<Polled> {
        let chunks: Vec<&[u8]> = input.chunks(1).collect();
        parse_chunks(token, MultipartParserConfig::default(), &chunks, true)
    }

    /// Check one table: whole input and byte-by-byte input give `expected`.
    fn check_table(token: &str, cases: &[(&str, &[u8], Vec<Polled>)]) {
        for (rule, input, expected) in cases {
            assert_eq!(
                &parse(token, input),
                expected,
                "{rule}: {}",
                input.escape_ascii()
            );
            assert_eq!(
                &byte_by_byte(token, input),
                expected,
                "{rule} (byte by byte)"
            );
        }
    }

    #[test]
    fn parser_reads_ffmpeg_mpjpeg() {
        // docs/conformance.md §2 "Real producers": ffmpeg 5.1 mpjpeg, delimiter after each
        // frame, lower-case `Content-type`/`Content-length`, no close delimiter.
        let input = b"--ffmpeg\r\nContent-type: image/jpeg\r\nContent-length: 6\r\n\r\n\xff\xd8\r\n--\xff\xd9\r\n--ffmpeg\r\n\
                      Content-type: image/jpeg\r\nContent-length: 2\r\n\r\n\xff\xd8\r\n--ffmpeg\r\n";
        let headers6 = [("Content-type", "image/jpeg"), ("Content-length", "6")];
        let headers2 = [("Content-type", "image/jpeg"), ("Content-length", "2")];
        let expected = vec![
            part(&headers6, b"\xff\xd8\r\n--\xff\xd9"),
            part(&headers2, b"\xff\xd8"),
        ];
        check_table("ffmpeg", &[("ffmpeg mpjpeg", input, expected)]);
    }

    #[test]
    fn parser_reads_old_ffmpeg_with_bare_line_feeds() {
        // docs/conformance.md §2: older ffmpeg/libav used `ffserver` and LF-only lines.
        let input = b"--ffserver\nContent-type: image/jpeg\nContent-length: 3\n\nabc\n--ffserver\n\
                      Content-type: image/jpeg\n\nxyz\n--ffserver\n";
        let expected = vec![
            part(
                &[("Content-type", "image/jpeg"), ("Content-length", "3")],
                b"abc",
            ),
            part(&[("Content-type", "image/jpeg")], b"xyz"),
        ];
        check_table("ffserver", &[("old ffmpeg LF", input, expected)]);
    }

    #[test]
    fn parser_reads_mjpg_streamer_and_ustreamer() {
        // docs/conformance.md §2: mjpg-streamer (Content-Length, X-Timestamp) and
        // ustreamer (same boundary, no Content-Length, extra headers).
        let mjpg = b"--boundarydonotcross\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\nX-Timestamp: 1718000000.123456\r\n\r\nJPEG\r\n--boundarydonotcross\r\n";
        let ustreamer = b"--boundarydonotcross\r\nContent-Type: image/jpeg\r\nX-UStreamer-Online: true\r\nX-UStreamer-Width: 640\r\nX-UStreamer-Height: 480\r\n\r\nJP\r\nEG\r\n--boundarydonotcross\r\nContent-Type: image/jpeg\r\nX-UStreamer-Online: false\r\n\r\nJ2\r\n--boundarydonotcross\r\n";
        check_table(
            "boundarydonotcross",
            &[
                (
                    "mjpg-streamer",
                    mjpg,
                    vec![part(
                        &[
                            ("Content-Type", "image/jpeg"),
                            ("Content-Length", "4"),
                            ("X-Timestamp", "1718000000.123456"),
                        ],
                        b"JPEG",
                    )],
                ),
                (
                    "ustreamer extra_headers",
                    ustreamer,
                    vec![
                        part(
                            &[
                                ("Content-Type", "image/jpeg"),
                                ("X-UStreamer-Online", "true"),
                                ("X-UStreamer-Width", "640"),
                                ("X-UStreamer-Height", "480"),
                            ],
                            b"JP\r\nEG",
                        ),
                        part(
                            &[
                                ("Content-Type", "image/jpeg"),
                                ("X-UStreamer-Online", "false"),
                            ],
                            b"J2",
                        ),
                    ],
                ),
            ],
        );
    }

    #[test]
    fn parser_reads_axis_cameras_with_and_without_dashed_parameters() {
        // docs/conformance.md §2 "IP cameras" and "Leading dashes in the parameter".
        let stream = b"--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nAB\r\n--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: 2\r\n\r\nCD\r\n--myboundary\r\n";
        let doubled = b"----myboundary\r\nContent-Type: image/jpeg\r\n\r\nAB\r\n----myboundary\r\nContent-Type: image/jpeg\r\n\r\nCD\r\n----myboundary--\r\n";
        let h = [("Content-Type", "image/jpeg"), ("Content-Length", "2")];
        let expected = vec![part(&h, b"AB"), part(&h, b"CD")];
        let h = [("Content-Type", "image/jpeg")];
        let expected_doubled = vec![part(&h, b"AB"), part(&h, b"CD"), END];
        // `boundary=myboundary`: `--myboundary` lines (RFC) and `----myboundary` (Chromium tolerance).
        check_table(
            "myboundary",
            &[
                ("axis", stream, expected.clone()),
                ("doubled", doubled, expected_doubled.clone()),
            ],
        );
        // `boundary=--myboundary` (cam2web): both forms again.
        check_table(
            "--myboundary",
            &[
                ("cam2web", stream, expected),
                ("cam2web RFC", doubled, expected_doubled),
            ],
        );
        // After committing to one form, the other is body text.
        let mixed = b"--b\r\n\r\nx\r\n----b\r\n\r\ny\r\n--b--";
        check_table(
            "b",
            &[(
                "committed",
                mixed,
                vec![part(&[], b"x\r\n----b\r\n\r\ny"), END],
            )],
        );
    }

    #[test]
    fn parser_follows_the_tolerance_rules() {
        let h = [("Content-Type", "text/plain")];
        let cases: &[(&str, &[u8], Vec<Polled>)] = &[
            // RFC 2046 §5.1.1: preamble before the first delimiter is ignored.
            ("preamble", b"This is a MIME message.\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--\r\n", vec![part(&h, b"hi"), END]),
            ("preamble with dashes", b"x--b\r\n---b\r\n--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[], b"hi")]),
            // RFC 2046 §5.1.1: the first delimiter may lack the leading CRLF.
            ("first delimiter without CRLF", b"--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[], b"hi")]),
            // Chromium: one leading CRLF or LF is skipped.
            ("leading CRLF", b"\r\n--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[], b"hi")]),
            ("leading LF", b"\n--b\n\nhi\n--b\n", vec![part(&[], b"hi")]),
            ("leading blank lines are preamble", b"\r\n\r\n\n--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[], b"hi")]),
            // Chromium: a stream starting with headers gets a synthesised first delimiter.
            ("no first delimiter", b"Content-Type: text/plain\r\n\r\nhi\r\n--b\r\n\r\nyo\r\n--b\r\n", vec![part(&h, b"hi"), part(&[], b"yo")]),
            ("no first delimiter after CRLF", b"\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b--", vec![part(&h, b"hi"), END]),
            // RFC 2046 §5.1.1: transport padding after the boundary is ignored.
            ("padding", b"--b \t \r\n\r\nhi\r\n--b\t\r\n\r\nyo\r\n--b  \r\n", vec![part(&[], b"hi"), part(&[], b"yo")]),
            // RFC 2046 §5.1.1: a line that begins with the delimiter matches even if more follows.
            ("text after boundary", b"--b junk\r\n\r\nhi\r\n--bxyz\r\n", vec![part(&[], b"hi")]),
            // §2 "Line endings": CRLF or LF; the one before a delimiter is not body.
            ("CRLF before delimiter", b"--b\r\n\r\nhi\r\n\r\n--b\r\n", vec![part(&[], b"hi\r\n")]),
            ("LF before delimiter", b"--b\n\nhi\n\n--b\n", vec![part(&[], b"hi\n")]),
            ("bare CR kept", b"--b\r\n\r\nhi\r\r\n--b\r\n", vec![part(&[], b"hi\r")]),
            ("mixed endings", b"--b\nContent-Type: text/plain\r\n\nhi\r\n--b\n", vec![part(&h, b"hi")]),
            // §2 "Part headers": names case-insensitive, values trimmed.
            ("header trimming", b"--b\r\ncontent-TYPE :\t text/plain  \r\n\r\nhi\r\n--b\r\n", vec![part(&[("content-TYPE", "text/plain")], b"hi")]),
            ("folded header", b"--b\r\nX-A: one\r\n  two\r\n\r\nhi\r\n--b\r\n", vec![part(&[("X-A", "one two")], b"hi")]),
            ("line without colon ignored", b"--b\r\nnonsense\r\n: empty name\r\nX: y\r\n\r\nhi\r\n--b\r\n", vec![part(&[("X", "y")], b"hi")]),
            // RFC 2046: a part with no headers.
            ("no headers", b"--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[], b"hi")]),
            ("empty body", b"--b\r\nX: y\r\n\r\n\r\n--b\r\nX: z\r\n\r\n--b\r\n", vec![part(&[("X", "y")], b""), part(&[("X", "z")], b"")]),
            // A delimiter where headers were expected: headers-only part, or nothing.
            ("delimiter inside headers", b"--b\r\nX: y\r\n--b\r\n\r\nhi\r\n--b\r\n", vec![part(&[("X", "y")], b""), part(&[], b"hi")]),
            ("repeated delimiters", b"--b\r\n--b\r\n--b\r\n\r\nhi\r\n--b\r\n--b--\r\n", vec![part(&[], b"hi"), END]),
            // ffmpeg: Content-Length is read exactly, even over delimiter-like bytes.
            ("content-length exact", b"--b\r\nContent-Length: 7\r\n\r\n\r\n--b\r\n\r\n--b\r\n", vec![part(&[("Content-Length", "7")], b"\r\n--b\r\n")]),
            ("content-length blank lines", b"--b\r\nContent-Length: 2\r\n\r\nhi\r\n\r\n\n--b\r\n", vec![part(&[("Content-Length", "2")], b"hi")]),
            ("content-length no line break", b"--b\r\nContent-Length: 2\r\n\r\nhi--b\r\n", vec![part(&[("Content-Length", "2")], b"hi")]),
            // Our choice: a wrong Content-Length falls back to scanning (browsers).
            ("content-length too small", b"--b\r\nContent-Length: 1\r\n\r\nhi\r\n--b\r\n", vec![part(&[("Content-Length", "1")], b"hi")]),
            ("content-length too large", b"--b\r\nContent-Length: 9\r\n\r\nhi\r\n--b\r\n\r\nyo\r\n--b\r\n", vec![part(&[("Content-Length", "9")], b"hi"), part(&[], b"yo")]),
            ("content-length invalid", b"--b\r\nContent-Length: 2x\r\n\r\nhi!\r\n--b\r\n", vec![part(&[("Content-Length", "2x")], b"hi!")]),
            // RFC 2046 §5.1.1: close delimiter, epilogue ignored.
            ("close and epilogue", b"--b\r\n\r\nhi\r\n--b--\r\nepilogue --b\r\n\r\nnot a part\r\n--b\r\n", vec![part(&[], b"hi"), END]),
            ("close right after start", b"--b\r\n--b--\r\n", vec![END]),
            ("close without CRLF", b"--b\r\n\r\nhi\r\n--b--", vec![part(&[], b"hi"), END]),
            // Boundary matching is at line starts only, and never inside another token.
            ("boundary mid-line is body", b"--b\r\n\r\nx--b y\r\n--b\r\n", vec![part(&[], b"x--b y")]),
            ("only preamble", b"garbage without delimiter\r\n", vec![]),
            ("empty", b"", vec![]),
        ];
        check_table("b", cases);
    }

    #[test]
    fn parser_handles_the_end_of_input() {
        // Our choice (documented on MultipartParser): a complete Content-Length part is
        // kept at the end of input; any other unterminated part is an error.
        let cases: &[(&str, &[u8], Vec<Polled>)] = &[
            (
                "ffmpeg end",
                b"--b\r\n\r\nhi\r\n--b\r\n",
                vec![part(&[], b"hi")],
            ),
            (
                "counted part without delimiter",
                b"--b\r\nContent-Length: 2\r\n\r\nhi\r\n--",
                vec![part(&[("Content-Length", "2")], b"hi")],
            ),
            (
                "truncated counted part",
                b"--b\r\nContent-Length: 5\r\n\r\nhi",
                vec![Err(MultipartError::UnexpectedEnd)],
            ),
            (
                "content-length past the end",
                b"--b\r\nContent-Length: 99\r\n\r\nhi\r\n--b\r\n",
                vec![part(&[("Content-Length", "99")], b"hi")],
            ),
            (
                "content-length past the close",
                b"--b\r\nContent-Length: 99\r\n\r\nhi\r\n--b--\r\n",
                vec![part(&[("Content-Length", "99")], b"hi"), END],
            ),
            (
                "truncated scanned part",
                b"--b\r\n\r\nhi\r\n--",
                vec![Err(MultipartError::UnexpectedEnd)],
            ),
            (
                "truncated headers",
                b"--b\r\nContent-Type: te",
                vec![Err(MultipartError::UnexpectedEnd)],
            ),
            (
                "trailing blank lines",
                b"--b\r\n\r\nhi\r\n--b\r\n\r\n\r\n",
                vec![part(&[], b"hi")],
            ),
            (
                "empty part cut off",
                b"--b\r\n\r\nhi\r\n--b\r\n\r\nx",
                vec![part(&[], b"hi"), Err(MultipartError::UnexpectedEnd)],
            ),
            (
                "trailing padding",
                b"--b\r\n\r\nhi\r\n--b\r\n  ",
                vec![part(&[], b"hi")],
            ),
            ("partial delimiter at start", b"--", vec![]),
            ("delimiter without line end", b"--b", vec![]),
        ];
        check_table("b", cases);
        // Nothing is polled before finish() for the unterminated part.
        assert_eq!(
            parse_chunks(
                "b",
                MultipartParserConfig::default(),
                &[b"--b\r\nContent-Length: 2\r\n\r\nhi"],
                false
            ),
            vec![]
        );
    }

    #[test]
    fn parser_rejects_input_over_its_limits() {
        // docs/design.md "Wire contracts", hostile input: limits hit give a clear error,
        // never a panic.
        let config = MultipartParserConfig {
            max_header_line: 24,
            max_header_count: 2,
            max_part_size: 8,
        };
        let cases: &[(&str, Vec<u8>, Polled)] = &[
            (
                "long header line",
                [b"--b\r\nX: ".as_slice(), &[b'a'; 100], b"\r\n\r\n"].concat(),
                Err(MultipartError::HeaderLineTooLong { limit: 24 }),
            ),
            (
                "endless header line",
                [b"--b\r\nX: ".as_slice(), &[b'a'; 100]].concat(),
                Err(MultipartError::HeaderLineTooLong { limit: 24 }),
            ),
            (
                "long delimiter line",
                [b"--b".as_slice(), &[b' '; 100]].concat(),
                Err(MultipartError::HeaderLineTooLong { limit: 24 }),
            ),
            (
                "too many headers",
                b"--b\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n".to_vec(),
                Err(MultipartError::TooManyHeaders { limit: 2 }),
            ),
            (
                "declared too large",
                b"--b\r\nContent-Length: 9\r\n".to_vec(),
                Err(MultipartError::PartTooLarge { limit: 8 }),
            ),
            (
                "declared huge",
                b"--b\r\nContent-Length:99999999\r\n".to_vec(),
                Err(MultipartError::PartTooLarge { limit: 8 }),
            ),
            (
                "scanned too large",
                b"--b\r\n\r\n0123456789\r\n--b\r\n".to_vec(),
                Err(MultipartError::PartTooLarge { limit: 8 }),
            ),
            (
                "scanned endless",
                [b"--b\r\n\r\n".as_slice(), &[0u8; 1000]].concat(),
                Err(MultipartError::PartTooLarge { limit: 8 }),
            ),
        ];
        for (rule, input, expected) in cases {
            let whole = parse_chunks("b", config, &[input], false);
            assert_eq!(whole.last(), Some(expected), "{rule}");
            let chunks: Vec<&[u8]> = input.chunks(3).collect();
            assert_eq!(
                parse_chunks("b", config, &chunks, false),
                whole,
                "{rule} (chunked)"
            );
        }
        // Exactly at the limits is fine.
        let at_limit = b"--b\r\nContent-Length: 8\r\nX: 12345678901234567890\r\n\r\n01234567\r\n--b\r\n\r\n01234567\r\n--b\r\n";
        let events = parse_chunks("b", config, &[at_limit], true);
        assert!(events.iter().all(Result::is_ok), "{events:?}");
        assert_eq!(events.len(), 2);
    }

    #[test]
    fn huge_content_lengths_saturate() {
        assert_eq!(parse_length("99999999999999999999999999"), Some(usize::MAX));
        assert_eq!(parse_length("0012"), Some(12));
        assert_eq!(parse_length(""), None);
        assert_eq!(parse_length("+1"), None);
    }

    #[test]
    fn parser_errors_are_sticky_and_later_input_is_dropped() {
        let config = MultipartParserConfig {
            max_part_size: 4,
            ..MultipartParserConfig::default()
        };
        let mut parser = MultipartParser::new(&Boundary::new("b").unwrap(), config);
        parser.push(b"--b\r\nContent-Length: 5\r\n\r\n");
        let error = MultipartError::PartTooLarge { limit: 4 };
        assert_eq!(parser.poll_event(), Some(Err(error)));
        parser.push(b"--b\r\n\r\nok\r\n--b\r\n");
        assert_eq!(parser.poll_event(), Some(Err(error)));
        parser.finish();
        assert_eq!(parser.poll_event(), Some(Err(error)));
        assert!(parser.buf.is_empty());
    }

    #[test]
    fn parser_survives_garbage_and_keeps_the_preamble_small() {
        // Hostile input: a huge preamble is dropped as it is scanned.
        let mut parser = MultipartParser::new(
            &Boundary::new("b").unwrap(),
            MultipartParserConfig::default(),
        );
        for round in 0..1000u32 {
            let garbage: Vec<u8> = (0..1024u32)
                .map(|i| (i.wrapping_mul(2_654_435_761) ^ round) as u8)
                .collect();
            parser.push(&garbage);
            while let Some(event) = parser.poll_event() {
                assert!(event.is_ok());
            }
            assert!(
                parser.buf.len() <= 4096,
                "buffer grew to {}",
                parser.buf.len()
            );
        }
        parser.push(b"\r\n--b\r\n\r\nhi\r\n--b\r\n");
        assert_eq!(parser.poll_event(), Some(part(&[], b"hi")));
        // Junk after the close delimiter is not even buffered.
        parser.push(b"--b--");
        assert_eq!(parser.poll_event(), Some(END));
        parser.push(&[0; 4096]);
        assert!(parser.buf.is_empty());
        assert_eq!(parser.poll_event(), None);
    }

    #[test]
    fn part_accessors_look_headers_up_case_insensitively() {
        let events = parse(
            "b",
            b"--b\r\ncontent-type: image/jpeg\r\nCONTENT-LENGTH: 2\r\n\r\nhi\r\n--b\r\n",
        );
        let Ok(MultipartEvent::Part(part)) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(part.content_type(), Some("image/jpeg"));
        assert_eq!(part.content_length(), Some(2));
        assert_eq!(part.header("Content-Length"), Some("2"));
        assert_eq!(part.header("x-missing"), None);
    }

    #[test]
    fn parser_is_made_from_a_content_type() {
        let mut parser = MultipartParser::from_content_type(
            "multipart/x-mixed-replace; boundary=\"--cam\"",
            MultipartParserConfig::default(),
        )
        .unwrap();
        parser.push(b"--cam\r\n\r\nhi\r\n--cam\r\n");
        assert_eq!(parser.poll_event(), Some(part(&[], b"hi")));
        assert_eq!(
            MultipartParser::from_content_type("text/html", MultipartParserConfig::default()).err(),
            Some(BoundaryError::NotMultipart)
        );
    }

    #[test]
    fn encoded_streams_parse_back() {
        let encoder = MultipartEncoder::new(Boundary::new("tok").unwrap());
        let mut wire = Vec::new();
        encoder.write_start(&mut wire);
        encoder
            .write_part(
                &mut wire,
                "image/jpeg",
                &[("X-Timestamp", "1.5")],
                b"\r\n--to\r\n",
            )
            .unwrap();
        encoder
            .write_part(&mut wire, "text/plain", &[], b"")
            .unwrap();
        encoder.write_close(&mut wire);
        assert_eq!(
            parse("tok", &wire),
            vec![
                part(
                    &[
                        ("Content-Type", "image/jpeg"),
                        ("Content-Length", "8"),
                        ("X-Timestamp", "1.5")
                    ],
                    b"\r\n--to\r\n"
                ),
                part(
                    &[("Content-Type", "text/plain"), ("Content-Length", "0")],
                    b""
                ),
                END,
            ]
        );
    }

    /// Fragments that make interesting multipart input for boundary `b`.
    fn fragment() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"--b".to_vec()),
            Just(b"----b".to_vec()),
            Just(b"--b--".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"-".to_vec()),
            Just(b" ".to_vec()),
            Just(b"Content-Type: x".to_vec()),
            Just(b"Content-Length: 3".to_vec()),
            Just(b"Content-Length: 0".to_vec()),
            Just(b"X:".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ]
    }

    fn small_config() -> MultipartParserConfig {
        MultipartParserConfig {
            max_header_line: 24,
            max_header_count: 3,
            max_part_size: 40,
        }
    }

    proptest! {
        #[test]
        fn any_chunking_parses_like_the_whole_input(
            fragments in proptest::collection::vec(fragment(), 0..40),
            cuts in proptest::collection::vec(any::<usize>(), 0..8),
            finish in any::<bool>(),
            token in prop_oneof![Just("b"), Just("--b")],
        ) {
            let input = fragments.concat();
            let mut cuts: Vec<usize> = cuts.into_iter().map(|cut| cut % (input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut chunks = Vec::new();
            let mut from = 0;
            for cut in cuts {
                chunks.push(&input[from..cut]);
                from = cut;
            }
            chunks.push(&input[from..]);
            for config in [small_config(), MultipartParserConfig::default()] {
                let whole = parse_chunks(token, config, &[&input], finish);
                prop_assert_eq!(parse_chunks(token, config, &chunks, finish), whole.clone());
                let single: Vec<&[u8]> = input.chunks(1).collect();
                prop_assert_eq!(parse_chunks(token, config, &single, finish), whole);
            }
        }

        #[test]
        fn encoded_parts_round_trip(
            random in any::<[u8; 16]>(),
            parts in proptest::collection::vec(
                (
                    prop_oneof![Just("image/jpeg"), Just("text/plain; charset=utf-8")],
                    proptest::collection::vec(
                        prop_oneof![any::<u8>(), Just(b'\r'), Just(b'\n'), Just(b'-')],
                        0..300,
                    ),
                    any::<bool>(),
                ),
                0..6,
            ),
            close in any::<bool>(),
            chunk_len in 1usize..64,
        ) {
            let encoder = MultipartEncoder::new(Boundary::from_random(random));
            let mut wire = Vec::new();
            encoder.write_start(&mut wire);
            let mut expected = Vec::new();
            for (content_type, payload, extra) in &parts {
                let extra_headers: &[(&str, &str)] = if *extra { &[("X-Frame", "1")] } else { &[] };
                match encoder.write_part(&mut wire, content_type, extra_headers, payload) {
                    Ok(()) => {}
                    Err(EncodeError::BoundaryInPayload) => continue,
                    Err(other) => return Err(TestCaseError::fail(format!("{other}"))),
                }
                let length = format!("{}", payload.len());
                let mut headers = vec![("Content-Type", *content_type), ("Content-Length", length.as_str())];
                headers.extend_from_slice(extra_headers);
                expected.push(part(&headers, payload));
            }
            if close {
                encoder.write_close(&mut wire);
                expected.push(END);
            }
            let chunks: Vec<&[u8]> = wire.chunks(chunk_len).collect();
            let content_type = encoder.content_type();
            let token = boundary_from_content_type(&content_type).unwrap();
            prop_assert_eq!(&token, encoder.boundary());
            prop_assert_eq!(parse_chunks(token.as_str(), MultipartParserConfig::default(), &chunks, true), expected);
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            input in proptest::collection::vec(any::<u8>(), 0..512),
            chunk_len in 1usize..32,
        ) {
            let chunks: Vec<&[u8]> = input.chunks(chunk_len).collect();
            let whole = parse_chunks("b", small_config(), &[&input], true);
            prop_assert_eq!(parse_chunks("b", small_config(), &chunks, true), whole);
        }
    }
}
