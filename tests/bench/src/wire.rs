//! A streaming subscriber's HTTP/1.1 on a plain socket: the request, the
//! response head, and the body's framing (chunked, sized or until close).
//!
//! The load generator reads every stream on one core, and in a paced
//! fan-out it spends about as much per message as the server does (the
//! kernel's share of both is the same loopback TCP), so its own pace is part
//! of every latency it reports. Through hyper's client (a connection task, a
//! body channel and a subscriber task per stream) a delivery cost it
//! noticeably more CPU; here a subscriber is one task that reads its socket
//! and parses in place.

use anyhow::Context as _;
use pushwire_core::http1::BodyLength;

/// The most header lines and bytes a response head may have.
const MAX_HEADERS: usize = 64;
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The longest chunk-size line (size, extensions, CRLF) accepted.
const MAX_SIZE_LINE: usize = 256;

/// A GET request for `path_and_query` with `headers`, as bytes.
pub(crate) fn get_request(
    host: &str,
    path_and_query: &str,
    headers: &[(String, String)],
) -> Vec<u8> {
    let mut out = format!("GET {path_and_query} HTTP/1.1\r\nhost: {host}\r\n");
    for (name, value) in headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// What a response head says about the body that follows.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResponseHead {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    /// How the body's end is marked; `None`: by the close.
    pub(crate) framing: Option<BodyLength>,
    /// `Last-Modified` and `Etag`, both present (nchan's position).
    pub(crate) position: Option<(String, String)>,
    /// `Connection: close`: the server closes after this response.
    pub(crate) close: bool,
}

/// Parse a response head at the start of `bytes`: `Ok(None)` until it is
/// whole, else the head and how many bytes it took.
pub(crate) fn parse_response_head(bytes: &[u8]) -> anyhow::Result<Option<(ResponseHead, usize)>> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut headers);
    let used = match response
        .parse(bytes)
        .context("response head does not parse")?
    {
        httparse::Status::Complete(used) => used,
        httparse::Status::Partial => {
            anyhow::ensure!(
                bytes.len() <= MAX_HEAD_BYTES,
                "response head longer than {MAX_HEAD_BYTES} bytes"
            );
            return Ok(None);
        }
    };
    let status = response.code.context("response without a status")?;
    let mut content_type = String::new();
    let mut framing = None;
    let (mut last_modified, mut etag) = (None, None);
    let mut close = false;
    for header in response.headers.iter() {
        let value = core::str::from_utf8(header.value)
            .unwrap_or_default()
            .trim();
        if header.name.eq_ignore_ascii_case("content-type") {
            value.clone_into(&mut content_type);
        } else if header.name.eq_ignore_ascii_case("last-modified") {
            last_modified = Some(value.to_owned());
        } else if header.name.eq_ignore_ascii_case("etag") {
            etag = Some(value.to_owned());
        } else if header.name.eq_ignore_ascii_case("connection") {
            close |= value
                .split(',')
                .any(|token| token.trim().eq_ignore_ascii_case("close"));
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"))
            {
                framing = Some(BodyLength::Chunked);
            }
        } else if header.name.eq_ignore_ascii_case("content-length")
            && framing != Some(BodyLength::Chunked)
        {
            let length = value
                .parse()
                .with_context(|| format!("content-length {value:?} is not a number"))?;
            framing = Some(BodyLength::Known(length));
        }
    }
    Ok(Some((
        ResponseHead {
            status,
            content_type,
            framing,
            position: last_modified.zip(etag),
            close,
        },
        used,
    )))
}

/// Takes the body's payload bytes out of its framing, in place.
#[derive(Debug)]
pub(crate) struct Unframer {
    state: State,
}

#[derive(Debug)]
enum State {
    /// Reading a chunk-size line (bytes of it kept so far).
    Size(Vec<u8>),
    /// Inside a chunk: this many bytes left, then its CRLF.
    Data(u64),
    /// After a chunk's data: this many bytes of its CRLF left.
    DataEnd(u8),
    /// After the last chunk: trailer lines up to an empty one (the current line kept).
    Trailers(Vec<u8>),
    /// A sized body: this many bytes left.
    Length(u64),
    /// Everything up to the close is body.
    UntilClose,
    Done,
}

impl Unframer {
    pub(crate) fn new(framing: Option<BodyLength>) -> Self {
        let state = match framing {
            Some(BodyLength::Chunked) => State::Size(Vec::new()),
            Some(BodyLength::Known(0)) => State::Done,
            Some(BodyLength::Known(length)) => State::Length(length),
            None => State::UntilClose,
        };
        Self { state }
    }

    /// True once the body's last byte was seen.
    pub(crate) fn done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Feed the socket's `bytes`; `payload` gets the body's bytes, in order.
    pub(crate) fn push(
        &mut self,
        mut bytes: &[u8],
        mut payload: impl FnMut(&[u8]),
    ) -> anyhow::Result<()> {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Size(line) => {
                    if !take_line(line, &mut bytes, MAX_SIZE_LINE)? {
                        return Ok(());
                    }
                    let size = chunk_size(line)?;
                    self.state = if size == 0 {
                        State::Trailers(Vec::new())
                    } else {
                        State::Data(size)
                    };
                }
                State::Data(left) => {
                    if pass(left, &mut bytes, &mut payload) {
                        self.state = State::DataEnd(2);
                    }
                }
                State::DataEnd(left) => {
                    let want: &[u8] = if *left == 2 { b"\r\n" } else { b"\n" };
                    let (&first, rest) = bytes.split_first().unwrap_or((&0, &[]));
                    anyhow::ensure!(
                        want.first() == Some(&first),
                        "chunk data not followed by CRLF"
                    );
                    bytes = rest;
                    *left -= 1;
                    if *left == 0 {
                        self.state = State::Size(Vec::new());
                    }
                }
                State::Trailers(line) => {
                    if !take_line(line, &mut bytes, MAX_HEAD_BYTES)? {
                        return Ok(());
                    }
                    if line.as_slice() == b"\r" || line.is_empty() {
                        self.state = State::Done;
                    } else {
                        line.clear();
                    }
                }
                State::Length(left) => {
                    if pass(left, &mut bytes, &mut payload) {
                        self.state = State::Done;
                    }
                }
                State::UntilClose => {
                    payload(bytes);
                    return Ok(());
                }
                State::Done => anyhow::bail!("bytes after the body's end"),
            }
        }
        Ok(())
    }
}

/// Move `bytes` up to a line's end into `line` (without the LF): true once
/// the line is whole; an error past `max` bytes.
fn take_line(line: &mut Vec<u8>, bytes: &mut &[u8], max: usize) -> anyhow::Result<bool> {
    let end = bytes.iter().position(|&b| b == b'\n');
    let upto = end.unwrap_or(bytes.len());
    line.extend_from_slice(bytes.get(..upto).unwrap_or_default());
    *bytes = bytes
        .get(end.map_or(upto, |end| end + 1)..)
        .unwrap_or_default();
    anyhow::ensure!(
        line.len() <= max,
        "a line of the body's framing is over {max} bytes"
    );
    Ok(end.is_some())
}

/// Hand up to `left` bytes of `bytes` to `payload`: true once `left` is 0.
fn pass(left: &mut u64, bytes: &mut &[u8], payload: &mut impl FnMut(&[u8])) -> bool {
    let take = usize::try_from(*left)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let (data, rest) = bytes.split_at(take);
    payload(data);
    *bytes = rest;
    *left -= take as u64;
    *left == 0
}

/// The size of a chunk-size line (without its LF): hex digits, then
/// optional extensions after `;`, then CR.
fn chunk_size(line: &[u8]) -> anyhow::Result<u64> {
    let line = line
        .strip_suffix(b"\r")
        .context("chunk-size line without CRLF")?;
    let digits = line
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    anyhow::ensure!(
        !digits.is_empty() && digits.len() <= 15,
        "chunk size {:?} is not 1 to 15 hex digits",
        String::from_utf8_lossy(digits)
    );
    let text = core::str::from_utf8(digits).unwrap_or_default();
    u64::from_str_radix(text, 16).with_context(|| format!("chunk size {text:?} is not hexadecimal"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unframe_in_pieces(
        framing: Option<BodyLength>,
        wire: &[u8],
        piece: usize,
    ) -> anyhow::Result<(Vec<u8>, bool)> {
        let mut unframer = Unframer::new(framing);
        let mut out = Vec::new();
        for part in wire.chunks(piece) {
            unframer.push(part, |data| out.extend_from_slice(data))?;
        }
        Ok((out, unframer.done()))
    }

    #[test]
    fn chunked_bodies_come_out_whole_however_the_reads_split_them() {
        let wire = b"5\r\nhello\r\n1;ext=1\r\n \r\nA\r\n0123456789\r\n0\r\ntrailer: x\r\n\r\n";
        for piece in 1..=wire.len() {
            let (out, done) = unframe_in_pieces(Some(BodyLength::Chunked), wire, piece).unwrap();
            assert_eq!(out, b"hello 0123456789", "pieces of {piece}");
            assert!(done, "pieces of {piece}");
        }
    }

    #[test]
    fn sized_and_close_delimited_bodies_pass_through() {
        let (out, done) = unframe_in_pieces(Some(BodyLength::Known(5)), b"hello", 2).unwrap();
        assert_eq!((out.as_slice(), done), (&b"hello"[..], true));
        let (out, done) = unframe_in_pieces(None, b"hello", 2).unwrap();
        assert_eq!((out.as_slice(), done), (&b"hello"[..], false));
    }

    #[test]
    fn broken_chunk_framing_is_an_error_not_a_guess() {
        for wire in [
            &b"zz\r\nhi\r\n"[..],
            b"2\r\nhiXX",
            b"1234567890abcdef0\r\n",
            &[b'1'; MAX_SIZE_LINE + 2],
            b"0\r\n\r\nmore",
        ] {
            assert!(
                unframe_in_pieces(Some(BodyLength::Chunked), wire, wire.len()).is_err(),
                "{:?}",
                String::from_utf8_lossy(wire)
            );
        }
    }

    #[test]
    fn a_response_head_gives_status_type_and_framing() {
        let wire = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\nrest";
        assert_eq!(parse_response_head(&wire[..20]).unwrap(), None);
        let (head, used) = parse_response_head(wire).unwrap().unwrap();
        assert_eq!(
            head,
            ResponseHead {
                status: 200,
                content_type: "text/event-stream".to_owned(),
                framing: Some(BodyLength::Chunked),
                position: None,
                close: false,
            }
        );
        let (head, _) = parse_response_head(
            b"HTTP/1.1 200 OK\r\nLast-Modified: Tue, 08 Dec 2026 02:00:00 GMT\r\nEtag: 3\r\nConnection: keep-alive, close\r\ncontent-length: 1\r\n\r\nx",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            head.position,
            Some(("Tue, 08 Dec 2026 02:00:00 GMT".to_owned(), "3".to_owned()))
        );
        assert!(head.close);
        assert_eq!(wire.get(used..), Some(&b"rest"[..]));
        let (head, _) =
            parse_response_head(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                .unwrap()
                .unwrap();
        assert_eq!(
            (head.status, head.framing),
            (204, Some(BodyLength::Known(0)))
        );
        assert!(parse_response_head(b"HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n").is_err());
        let mut endless = b"HTTP/1.1 200 OK\r\nx: ".to_vec();
        endless.resize(MAX_HEAD_BYTES + 1, b'a');
        assert!(parse_response_head(&endless).is_err());
    }
}
