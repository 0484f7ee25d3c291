//! The little HTTP/1.1 the host's lean streaming path speaks itself: read a
//! request head, write a response head, frame chunks (RFC 9112).
//!
//! The server hands most requests to a full HTTP library. A subscription is
//! different: it holds its connection for hours, and a general-purpose
//! connection keeps two 8 KiB buffers per connection for all that time. So
//! the host reads the head of a plain `GET` itself with [`parse_request_head`]
//! (bounded, incremental: incomplete input is `Ok(None)`, never an error),
//! answers it with [`write_response_head`] and [`ChunkHead`], and holds no
//! buffer between messages. Anything this module does not accept (another
//! version, a request body, an `Upgrade`, an obs-folded header) is an error
//! the host answers by handing the bytes to the full library unchanged.
//!
//! ```
//! use pushwire_core::http1::{BodyLength, ChunkHead, parse_request_head, write_response_head};
//!
//! let bytes = b"GET /sub/chat?transport=sse HTTP/1.1\r\nHost: example\r\n\r\n";
//! let (head, used) = parse_request_head(bytes, 8192)?.expect("a whole head");
//! assert_eq!((head.method, head.path(), head.query()), ("GET", "/sub/chat", "transport=sse"));
//! assert_eq!(head.header("Host"), Some(b"example".as_slice()));
//! assert_eq!(used, bytes.len());
//!
//! let mut out = Vec::new();
//! let headers = [("content-type", "text/event-stream")];
//! write_response_head(&mut out, 200, headers, BodyLength::Chunked, None);
//! assert!(out.starts_with(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"));
//! assert_eq!(ChunkHead::new(255).as_bytes(), b"ff\r\n");
//! # Ok::<(), pushwire_core::http1::HeadError>(())
//! ```

use alloc::vec::Vec;
use core::fmt;

use crate::hub::push_decimal;
use crate::url::split_target;

/// The bytes after a chunk's data.
pub const CHUNK_END: &[u8] = b"\r\n";
/// The last chunk of a chunked body (no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";
/// Most header fields a head may have.
pub const MAX_HEADERS: usize = 64;

/// Why bytes are not a request head this module serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadError {
    /// No complete head within the size limit.
    TooLarge,
    /// More than [`MAX_HEADERS`] header fields.
    TooManyHeaders,
    /// The request line is not `method SP target SP version`.
    BadRequestLine,
    /// A version other than HTTP/1.1 (HTTP/1.0, or HTTP/2's preface).
    Version,
    /// A header line without a valid name and colon, or with a control byte.
    BadHeader,
    /// A header line continued on the next (obs-fold), which HTTP/1.1 retired.
    ObsFold,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLarge => "the request head is larger than the limit",
            Self::TooManyHeaders => "the request has too many header fields",
            Self::BadRequestLine => "the request line is malformed",
            Self::Version => "the request is not HTTP/1.1",
            Self::BadHeader => "a header field is malformed",
            Self::ObsFold => "a header field is folded over lines (obs-fold)",
        })
    }
}

impl core::error::Error for HeadError {}

/// A parsed HTTP/1.1 request head, borrowed from the caller's buffer (as
/// httparse does): reading one allocates nothing.
#[derive(Clone, Copy)]
pub struct RequestHead<'a> {
    /// The method, as sent (methods are case-sensitive).
    pub method: &'a str,
    /// The request target: path and query for the origin form.
    pub target: &'a str,
    /// The header lines, already checked, each ending in LF.
    fields: &'a [u8],
}

/// One header field of a [`RequestHead`], as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// The name as sent (compare with [`Header::is`]: names ignore case).
    pub name: &'a str,
    /// The value without the whitespace around it. Bytes, not text: a value
    /// may hold obs-text (bytes from 0x80), which is not always UTF-8.
    pub value: &'a [u8],
}

impl<'a> Header<'a> {
    /// Whether this field is named `name` (ASCII case-insensitive).
    #[must_use]
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    /// The value as text, if it is UTF-8.
    #[must_use]
    pub fn value_str(&self) -> Option<&'a str> {
        core::str::from_utf8(self.value).ok()
    }
}

impl<'a> RequestHead<'a> {
    /// The target's path (before any `?`).
    #[must_use]
    pub fn path(&self) -> &'a str {
        split_target(self.target).0
    }

    /// The target's query (after the first `?`), or `""`.
    #[must_use]
    pub fn query(&self) -> &'a str {
        split_target(self.target).1
    }

    /// The header fields in order.
    #[must_use]
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.fields }
    }

    /// The value of the first header field named `name` (ASCII
    /// case-insensitive).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'a [u8]> {
        self.headers()
            .find(|header| header.is(name))
            .map(|header| header.value)
    }

    /// Whether any `Connection` field lists `token` (case-insensitive).
    #[must_use]
    pub fn connection_has(&self, token: &str) -> bool {
        self.headers()
            .filter(|header| header.is("connection"))
            .flat_map(|header| header.value.split(|&b| b == b','))
            .any(|item| item.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Whether the request says it has a body (a `Transfer-Encoding`, or a
    /// `Content-Length` other than 0).
    #[must_use]
    pub fn has_body(&self) -> bool {
        self.headers().any(|header| {
            header.is("transfer-encoding") || (header.is("content-length") && header.value != b"0")
        })
    }

    /// The body's length when the request gives it by one plain
    /// `Content-Length` (digits only) and no `Transfer-Encoding`; `None`
    /// for any other framing (chunked, none, several or odd lengths), which
    /// a caller leaves to a full HTTP implementation.
    #[must_use]
    pub fn content_length(&self) -> Option<u64> {
        let mut length = None;
        for header in self.headers() {
            if header.is("transfer-encoding") {
                return None;
            }
            if header.is("content-length") {
                let digits = header.value;
                if length.is_some() || digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                    return None;
                }
                length = Some(core::str::from_utf8(digits).ok()?.parse().ok()?);
            }
        }
        length
    }
}

/// Heads are equal when their method, target and header fields are: how
/// the lines ended or how much whitespace the values had does not count.
impl PartialEq for RequestHead<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.method == other.method
            && self.target == other.target
            && self.headers().eq(other.headers())
    }
}

impl Eq for RequestHead<'_> {}

impl fmt::Debug for RequestHead<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &self.headers())
            .finish()
    }
}

/// The header fields of a [`RequestHead`], in order.
#[derive(Clone)]
pub struct Headers<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Headers<'a> {
    type Item = Header<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (line, rest) = match self.rest.iter().position(|&b| b == b'\n') {
                Some(at) => (
                    self.rest.get(..at).unwrap_or_default(),
                    self.rest.get(at + 1..).unwrap_or_default(),
                ),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            // Every line was checked by `parse_request_head`.
            if let Ok(header) = header_field(line) {
                return Some(header);
            }
        }
        None
    }
}

impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.clone()).finish()
    }
}

/// Read one request head from the start of `bytes`, at most `limit` bytes
/// long. `Ok(None)`: not all of it is here yet (read more and call again
/// with everything). `Ok(Some((head, used)))`: the head took `used` bytes;
/// whatever follows is the next request's. Lines end in CRLF or a bare LF
/// (RFC 9112 §2.2); empty lines before the request line are skipped. The
/// head borrows from `bytes`.
///
/// # Errors
/// [`HeadError`]: the bytes are not an HTTP/1.1 request head this module
/// accepts, or it does not end within `limit`.
pub fn parse_request_head(
    bytes: &[u8],
    limit: usize,
) -> Result<Option<(RequestHead<'_>, usize)>, HeadError> {
    let Some(end) = head_len(bytes) else {
        return if bytes.len() >= limit {
            Err(HeadError::TooLarge)
        } else {
            Ok(None)
        };
    };
    if end > limit {
        return Err(HeadError::TooLarge);
    }
    let head = bytes.get(..end).ok_or(HeadError::TooLarge)?;
    let head = head.get(leading_empty_lines(head)..).unwrap_or_default();
    // The request line, then the fields up to (not with) the empty line.
    let (request_line, fields) = match head.iter().position(|&b| b == b'\n') {
        Some(at) => (
            head.get(..at).unwrap_or_default(),
            head.get(at + 1..).unwrap_or_default(),
        ),
        None => (head, &[][..]),
    };
    let request_line = request_line.strip_suffix(b"\r").unwrap_or(request_line);
    let fields = fields
        .strip_suffix(b"\r\n")
        .or_else(|| fields.strip_suffix(b"\n"))
        .unwrap_or(fields);
    let (method, target) = request_line_parts(request_line)?;
    let mut count = 0;
    for line in fields.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        if count == MAX_HEADERS {
            return Err(HeadError::TooManyHeaders);
        }
        header_field(line)?;
        count += 1;
    }
    Ok(Some((
        RequestHead {
            method,
            target,
            fields,
        },
        end,
    )))
}

/// How many bytes of empty lines (CRLF or LF) start `bytes`.
fn leading_empty_lines(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(rest) = bytes.get(at..) {
        if rest.starts_with(b"\r\n") {
            at += 2;
        } else if rest.starts_with(b"\n") {
            at += 1;
        } else {
            break;
        }
    }
    at
}

/// The length of the request head at the start of `bytes` (through its
/// empty line), if all of it is there: what [`parse_request_head`] reports
/// as used when it accepts the head. Lets a caller recognise bytes it has
/// parsed before without parsing them again.
pub fn head_len(bytes: &[u8]) -> Option<usize> {
    // Empty lines before the request line are not the head's end.
    let at = leading_empty_lines(bytes);
    let mut line_start = at;
    for (i, &byte) in bytes.iter().enumerate().skip(at) {
        if byte == b'\n' {
            let line = bytes.get(line_start..i)?;
            if line.is_empty() || line == b"\r" {
                return Some(i + 1);
            }
            line_start = i + 1;
        }
    }
    None
}

fn request_line_parts(line: &[u8]) -> Result<(&str, &str), HeadError> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HeadError::BadRequestLine);
    };
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return Err(HeadError::BadRequestLine);
    }
    if target.is_empty() || !target.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(HeadError::BadRequestLine);
    }
    if version != b"HTTP/1.1" {
        return Err(HeadError::Version);
    }
    Ok((ascii(method)?, ascii(target)?))
}

fn header_field(line: &[u8]) -> Result<Header<'_>, HeadError> {
    if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
        return Err(HeadError::ObsFold);
    }
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(HeadError::BadHeader)?;
    let (name, value) = line.split_at_checked(colon).ok_or(HeadError::BadHeader)?;
    let value = value.get(1..).unwrap_or_default();
    if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
        return Err(HeadError::BadHeader);
    }
    if !value.iter().all(|&b| is_field_byte(b)) {
        return Err(HeadError::BadHeader);
    }
    Ok(Header {
        name: ascii(name)?,
        value: value.trim_ascii(),
    })
}

/// `tchar` (RFC 9110 §5.6.2).
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte allowed in a field value: visible, space, tab or obs-text
/// (RFC 9110 §5.5).
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}

/// Bytes already checked to be ASCII, as a `str`.
fn ascii(bytes: &[u8]) -> Result<&str, HeadError> {
    core::str::from_utf8(bytes).map_err(|_| HeadError::BadRequestLine)
}

/// How a response's body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyLength {
    /// `Content-Length: n`.
    Known(u64),
    /// `Transfer-Encoding: chunked`: a stream of [`ChunkHead`] + data +
    /// [`CHUNK_END`], ended by [`LAST_CHUNK`].
    Chunked,
}

/// Append a response head: the status line, `headers` (any field whose name
/// is not a token or whose value holds a control byte other than tab is
/// left out, and counted in the return value), the body's length, an optional `Date`
/// (see [`http_date`]) and the empty line. `Content-Length` and
/// `Transfer-Encoding` among `headers` are left out too: `body` says it.
pub fn write_response_head<'a>(
    out: &mut Vec<u8>,
    status: u16,
    headers: impl IntoIterator<Item = (&'a str, &'a str)>,
    body: BodyLength,
    date: Option<&[u8; 29]>,
) -> usize {
    let status = if (100..=999).contains(&status) {
        status
    } else {
        500
    };
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason(status).as_bytes());
    out.extend_from_slice(b"\r\n");
    let mut dropped = 0;
    for (name, value) in headers {
        let valid =
            !name.is_empty() && name.bytes().all(is_token) && value.bytes().all(is_field_byte);
        if !valid {
            dropped += 1;
            continue;
        }
        if name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
        {
            continue;
        }
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    match body {
        BodyLength::Known(length) => {
            out.extend_from_slice(b"content-length: ");
            push_decimal(out, length);
            out.extend_from_slice(b"\r\n");
        }
        BodyLength::Chunked => out.extend_from_slice(b"transfer-encoding: chunked\r\n"),
    }
    if let Some(date) = date {
        out.extend_from_slice(b"date: ");
        out.extend_from_slice(date);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    dropped
}

/// The reason phrase for the statuses the server sends (others get none).
#[must_use]
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        206 => "Partial Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// The size line of one chunk (`<hex>\r\n`), without allocating.
#[derive(Clone, Copy, Debug)]
pub struct ChunkHead {
    bytes: [u8; 18],
    len: u8,
}

impl ChunkHead {
    /// The line announcing `size` bytes of data (0 is the last chunk's).
    #[must_use]
    pub fn new(size: usize) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = [0u8; 18];
        let size = size as u64;
        let digits = (64 - size.leading_zeros()).div_ceil(4).max(1) as usize;
        for (i, slot) in bytes.iter_mut().take(digits).enumerate() {
            let shift = 4 * (digits - 1 - i);
            *slot = HEX
                .get(((size >> shift) & 0xf) as usize)
                .copied()
                .unwrap_or(b'0');
        }
        if let Some(end) = bytes.get_mut(digits..digits + 2) {
            end.copy_from_slice(b"\r\n");
        }
        Self {
            bytes,
            // At most 16 digits and the CRLF.
            len: (digits + 2) as u8,
        }
    }

    /// The line's bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// The IMF-fixdate (RFC 9110 §5.6.7) for `unix_secs`, e.g.
/// `Sun, 06 Nov 1994 08:49:37 GMT`, for a `Date` field.
#[must_use]
pub fn http_date(unix_secs: u64) -> [u8; 29] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = [b' '; 29];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        for &b in bytes {
            if let Some(slot) = out.get_mut(at) {
                *slot = b;
            }
            at += 1;
        }
    };
    let two = |n: u64| [b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8];
    put(DAYS
        .get((days % 7) as usize)
        .map_or(b"Thu".as_slice(), |d| d.as_slice()));
    put(b", ");
    put(&two(day));
    put(b" ");
    put(MONTHS
        .get(month.saturating_sub(1) as usize)
        .map_or(b"Jan".as_slice(), |m| m.as_slice()));
    put(b" ");
    put(&two(year / 100));
    put(&two(year % 100));
    put(b" ");
    put(&two(secs / 3600));
    put(b":");
    put(&two(secs / 60 % 60));
    put(b":");
    put(&two(secs % 60));
    put(b" GMT");
    out
}

/// Year, month (1–12) and day (1–31) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::String;
    use proptest::prelude::*;

    fn parse(bytes: &[u8]) -> Result<Option<(RequestHead<'_>, usize)>, HeadError> {
        parse_request_head(bytes, 8192)
    }

    #[test]
    fn a_whole_head_is_read_with_names_as_sent_and_trimmed_values() {
        let bytes = b"GET /sub/a,b?since=1.2 HTTP/1.1\r\nHost: x:8080\r\nLast-Event-ID:  7.3 \r\nAccept: text/event-stream\r\nX-Latin: caf\xe9\r\n\r\nNEXT";
        let (head, used) = parse(bytes).unwrap().unwrap();
        assert_eq!(used, bytes.len() - 4);
        assert_eq!(head.method, "GET");
        assert_eq!(head.path(), "/sub/a,b");
        assert_eq!(head.query(), "since=1.2");
        let fields: Vec<(&str, &[u8])> = head
            .headers()
            .map(|header| (header.name, header.value))
            .collect();
        assert_eq!(
            fields,
            [
                ("Host", &b"x:8080"[..]),
                ("Last-Event-ID", b"7.3"),
                ("Accept", b"text/event-stream"),
                ("X-Latin", b"caf\xe9"),
            ]
        );
        assert!(!head.has_body());
    }

    #[test]
    fn header_names_compare_without_case() {
        let (head, _) =
            parse(b"GET / HTTP/1.1\nlast-event-id: 1\nLAST-EVENT-ID: 2\nX: caf\xe9\n\n")
                .unwrap()
                .unwrap();
        assert_eq!(head.header("Last-Event-Id"), Some(&b"1"[..]));
        assert_eq!(head.header("missing"), None);
        let latin = head.headers().find(|header| header.is("x")).unwrap();
        assert_eq!(latin.value_str(), None);
        assert_eq!(head.headers().next().unwrap().value_str(), Some("1"));
    }

    #[test]
    fn incomplete_heads_ask_for_more_at_every_split() {
        let bytes = b"\r\nGET / HTTP/1.1\nHost: x\n\n";
        for split in 0..bytes.len() {
            assert_eq!(parse(&bytes[..split]), Ok(None), "split at {split}");
        }
        let (head, used) = parse(bytes).unwrap().unwrap();
        assert_eq!((head.target, used), ("/", bytes.len()));
    }

    #[test]
    fn head_len_is_what_an_accepted_parse_uses() {
        let pipelined = b"\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
        let (_, used) = parse(pipelined).unwrap().unwrap();
        assert_eq!(head_len(pipelined), Some(used));
        assert_eq!(head_len(b"GET /a HTTP/1.1\r\nHost: x\r\n"), None);
        assert_eq!(head_len(b"\r\n\r\n"), None);
    }

    #[test]
    fn what_this_module_does_not_serve_is_an_error() {
        let cases: &[(&[u8], HeadError)] = &[
            (b"GET / HTTP/1.0\r\n\r\n", HeadError::Version),
            (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", HeadError::Version),
            (b"GET  / HTTP/1.1\r\n\r\n", HeadError::BadRequestLine),
            (b"GET / HTTP/1.1 x\r\n\r\n", HeadError::BadRequestLine),
            (b"G(T / HTTP/1.1\r\n\r\n", HeadError::BadRequestLine),
            (b"GET /\x01 HTTP/1.1\r\n\r\n", HeadError::BadRequestLine),
            (b"GET / HTTP/1.1\r\nHost x\r\n\r\n", HeadError::BadHeader),
            (b"GET / HTTP/1.1\r\nHo st: x\r\n\r\n", HeadError::BadHeader),
            (b"GET / HTTP/1.1\r\n: x\r\n\r\n", HeadError::BadHeader),
            (b"GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n", HeadError::BadHeader),
            (b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", HeadError::ObsFold),
        ];
        for (bytes, error) in cases {
            assert_eq!(
                parse(bytes),
                Err(*error),
                "{:?}",
                core::str::from_utf8(bytes)
            );
        }
    }

    #[test]
    fn heads_are_bounded_in_size_and_field_count() {
        let mut long = b"GET / HTTP/1.1\r\nA: ".to_vec();
        long.resize(300, b'x');
        assert_eq!(parse_request_head(&long, 256), Err(HeadError::TooLarge));
        long.extend_from_slice(b"\r\n\r\n");
        assert_eq!(parse_request_head(&long, 256), Err(HeadError::TooLarge));
        assert!(parse_request_head(&long, 512).unwrap().is_some());
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend_from_slice(b"a: b\r\n");
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(&many), Err(HeadError::TooManyHeaders));
    }

    #[test]
    fn connection_tokens_and_bodies_are_recognised() {
        let (head, _) =
            parse(b"GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\nContent-Length: 0\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(head.connection_has("close"));
        assert!(!head.has_body());
        let (head, _) = parse(b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.has_body());
        let (head, _) = parse(b"GET / HTTP/1.1\r\ncontent-length: 5\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.has_body());
    }

    #[test]
    fn only_one_plain_content_length_gives_a_body_length() {
        let length = |fields: &str| {
            let bytes = alloc::format!("POST /pub/a HTTP/1.1\r\n{fields}\r\n");
            parse(bytes.as_bytes()).unwrap().unwrap().0.content_length()
        };
        assert_eq!(length("Content-Length: 12\r\n"), Some(12));
        assert_eq!(length("Content-Length: 0\r\n"), Some(0));
        for other in [
            "",
            "Transfer-Encoding: chunked\r\n",
            "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n",
            "Content-Length: 3\r\nContent-Length: 3\r\n",
            "Content-Length: +3\r\n",
            "Content-Length: 3, 3\r\n",
            "Content-Length: 99999999999999999999999\r\n",
        ] {
            assert_eq!(length(other), None, "{other:?}");
        }
    }

    #[test]
    fn response_heads_leave_out_fields_that_would_break_framing() {
        let mut out = Vec::new();
        let dropped = write_response_head(
            &mut out,
            401,
            [
                ("www-authenticate", "Bearer realm=\"pushwire\""),
                ("x-evil", "a\r\nset-cookie: b"),
                ("x-bell", "ding\x07"),
                ("bad name", "x"),
                ("Content-Length", "99"),
            ],
            BodyLength::Known(12),
            Some(&http_date(784_111_777)),
        );
        assert_eq!(dropped, 3);
        assert_eq!(
            core::str::from_utf8(&out).unwrap(),
            "HTTP/1.1 401 Unauthorized\r\nwww-authenticate: Bearer realm=\"pushwire\"\r\ncontent-length: 12\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
        );
    }

    #[test]
    fn chunk_heads_are_lowercase_hex_lines() {
        for (size, line) in [
            (0, "0\r\n"),
            (1, "1\r\n"),
            (15, "f\r\n"),
            (16, "10\r\n"),
            (51_200, "c800\r\n"),
            (usize::MAX, "ffffffffffffffff\r\n"),
        ] {
            assert_eq!(ChunkHead::new(size).as_bytes(), line.as_bytes());
        }
    }

    #[test]
    fn http_dates_match_known_instants() {
        assert_eq!(&http_date(0), b"Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(&http_date(951_782_400), b"Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(&http_date(1_795_478_399), b"Mon, 23 Nov 2026 23:59:59 GMT");
    }

    /// A header field as a client may write it: a token name, and a value of
    /// visible bytes, spaces, tabs and obs-text.
    fn field() -> impl Strategy<Value = (String, Vec<u8>)> {
        let byte = prop_oneof![0x21_u8..=0x7e, Just(b' '), Just(b'\t'), 0x80_u8..=0xff];
        (
            "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,12}",
            proptest::collection::vec(byte, 0..16),
        )
    }

    proptest! {
        #[test]
        fn written_heads_read_back_whole_and_wait_at_any_split(
            method in "[A-Z]{1,7}",
            target in "/[!-~]{0,20}",
            fields in proptest::collection::vec(field(), 0..8),
            crlf in any::<bool>(),
        ) {
            let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let mut wire = format!("{method} {target} HTTP/1.1").into_bytes();
            wire.extend_from_slice(end);
            for (name, value) in &fields {
                wire.extend_from_slice(name.as_bytes());
                wire.extend_from_slice(b":");
                wire.extend_from_slice(value);
                wire.extend_from_slice(end);
            }
            wire.extend_from_slice(end);
            let (head, used) = parse_request_head(&wire, usize::MAX).unwrap().unwrap();
            prop_assert_eq!(used, wire.len());
            prop_assert_eq!((head.method, head.target), (method.as_str(), target.as_str()));
            let read: Vec<(&str, &[u8])> = head.headers().map(|h| (h.name, h.value)).collect();
            let written: Vec<(&str, &[u8])> = fields
                .iter()
                .map(|(name, value)| (name.as_str(), value.trim_ascii()))
                .collect();
            prop_assert_eq!(read, written);
            for split in 0..wire.len() {
                prop_assert_eq!(parse_request_head(&wire[..split], usize::MAX), Ok(None));
            }
        }
    }
}
