//! Framing parts the way every consumer accepts (docs/conformance.md §2 "Encoder rules").

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::Boundary;
use super::search::find;

/// Frames a `multipart/x-mixed-replace` stream.
///
/// The encoder holds only the boundary, so one encoder serves every
/// subscriber: frame a part once with [`write_part`](Self::write_part) (or
/// [`write_part_head`](Self::write_part_head) + payload +
/// [`write_part_tail`](Self::write_part_tail) to avoid copying the payload) and
/// write the same bytes to each response after its
/// [`write_start`](Self::write_start). Each part carries its delimiter at its
/// end, so a flushed part is complete for browsers at once.
///
/// The bytes, for token `tok`:
///
/// ```text
/// --tok\r\n                                   write_start
/// Content-Type: image/jpeg\r\n                write_part / write_part_head
/// Content-Length: 3\r\n
/// \r\n
/// <3 bytes>                                   (the payload)
/// \r\n--tok\r\n                               write_part_tail
/// --tok--\r\n                                 write_close
/// ```
#[derive(Clone, Debug)]
pub struct MultipartEncoder {
    boundary: Boundary,
    /// `--` + token: must not occur in a payload.
    dash_boundary: Vec<u8>,
}

impl MultipartEncoder {
    /// Make an encoder for `boundary` (best from [`Boundary::from_random`]).
    pub fn new(boundary: Boundary) -> Self {
        let mut dash_boundary = Vec::with_capacity(boundary.as_str().len() + 2);
        dash_boundary.extend_from_slice(b"--");
        dash_boundary.extend_from_slice(boundary.as_str().as_bytes());
        Self {
            boundary,
            dash_boundary,
        }
    }

    /// The boundary this encoder frames with.
    pub fn boundary(&self) -> &Boundary {
        &self.boundary
    }

    /// The response's `Content-Type` value: `multipart/x-mixed-replace;boundary=<token>`.
    ///
    /// Send it with `Cache-Control: no-cache, no-store`, `Pragma: no-cache`,
    /// `X-Accel-Buffering: no`, no compression and no outer Content-Length
    /// (docs/conformance.md §2 "Encoder rules").
    pub fn content_type(&self) -> String {
        let mut out = String::from("multipart/x-mixed-replace;boundary=");
        self.boundary.write_parameter(&mut out);
        out
    }

    /// Append the first bytes of a response body: `--<token>\r\n`.
    ///
    /// Call it once per response, before its first part. No preamble and no
    /// transport padding are written (Firefox rejects padding).
    pub fn write_start(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dash_boundary);
        out.extend_from_slice(b"\r\n");
    }

    /// Append one whole part: headers, payload and the trailing delimiter.
    ///
    /// `content_type` is the part's type (`image/jpeg` exactly, for ffmpeg);
    /// `extra_headers` are written after `Content-Type` and `Content-Length`.
    ///
    /// # Errors
    /// See [`write_part_head`](Self::write_part_head); nothing is appended on error.
    pub fn write_part(
        &self,
        out: &mut Vec<u8>,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<(), EncodeError> {
        self.write_part_head(out, content_type, extra_headers, payload)?;
        out.extend_from_slice(payload);
        self.write_part_tail(out);
        Ok(())
    }

    /// Append a part's header block for `payload`, without the payload.
    ///
    /// Use it with [`write_part_tail`](Self::write_part_tail) when the host
    /// writes the payload from its own (shared) buffer: head, payload, tail.
    /// The payload is taken here only to check it and to count its length.
    ///
    /// # Errors
    /// [`EncodeError::BoundaryInPayload`] if `payload` contains `--<token>`
    /// anywhere (Chromium finds the boundary even mid-line, so this is
    /// stricter than RFC 2046's line-start rule; pick a random token);
    /// [`EncodeError::InvalidHeader`] if a header name is not an HTTP token,
    /// a value holds CR, LF or another control character, or an extra header
    /// repeats `Content-Type` or `Content-Length`;
    /// [`EncodeError::BoundaryInHeader`] if a header value contains `--<token>`.
    /// Nothing is appended on error.
    pub fn write_part_head(
        &self,
        out: &mut Vec<u8>,
        content_type: &str,
        extra_headers: &[(&str, &str)],
        payload: &[u8],
    ) -> Result<(), EncodeError> {
        self.check_value(content_type)?;
        for (name, value) in extra_headers {
            if name.is_empty()
                || !name.bytes().all(is_token_char)
                || name.eq_ignore_ascii_case("content-type")
                || name.eq_ignore_ascii_case("content-length")
            {
                return Err(EncodeError::InvalidHeader);
            }
            self.check_value(value)?;
        }
        if find(payload, &self.dash_boundary).is_some() {
            return Err(EncodeError::BoundaryInPayload);
        }
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(content_type.as_bytes());
        out.extend_from_slice(b"\r\nContent-Length: ");
        write_decimal(out, payload.len());
        out.extend_from_slice(b"\r\n");
        for (name, value) in extra_headers {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }

    /// Append the delimiter that ends a part: `\r\n--<token>\r\n`.
    ///
    /// Call it right after the payload and flush: browsers finish a part only
    /// when they see its delimiter.
    pub fn write_part_tail(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.dash_boundary);
        out.extend_from_slice(b"\r\n");
    }

    /// Append the close delimiter of an orderly end: `--<token>--\r\n`.
    ///
    /// Call it after the last part's tail (or right after
    /// [`write_start`](Self::write_start) for a stream with no parts); the
    /// line break before it is the one that ended the previous delimiter.
    pub fn write_close(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.dash_boundary);
        out.extend_from_slice(b"--\r\n");
    }

    fn check_value(&self, value: &str) -> Result<(), EncodeError> {
        if !value.bytes().all(|b| b == b'\t' || !b.is_ascii_control()) {
            return Err(EncodeError::InvalidHeader);
        }
        if find(value.as_bytes(), &self.dash_boundary).is_some() {
            return Err(EncodeError::BoundaryInHeader);
        }
        Ok(())
    }
}

fn write_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    for slot in digits.iter_mut().rev() {
        // `n % 10` is below 10, so the cast cannot truncate.
        *slot = b'0' + (n % 10) as u8;
        start -= 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

/// RFC 9110 `tchar`.
pub(super) fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why a part could not be framed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The payload contains `--<token>`; use a random boundary.
    BoundaryInPayload,
    /// A header value contains `--<token>`.
    BoundaryInHeader,
    /// A header name is not a token, a value holds CR/LF or another control
    /// character, or an extra header repeats Content-Type/Content-Length.
    InvalidHeader,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::BoundaryInPayload => {
                "the part payload contains the multipart boundary; use a random boundary"
            }
            Self::BoundaryInHeader => "a part header value contains the multipart boundary",
            Self::InvalidHeader => {
                "a part header is invalid (bad name, control character or line break in the value, or a repeated Content-Type/Content-Length)"
            }
        })
    }
}

impl core::error::Error for EncodeError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoder(token: &str) -> MultipartEncoder {
        MultipartEncoder::new(Boundary::new(token).unwrap())
    }

    #[test]
    fn encoder_writes_the_documented_bytes() {
        // docs/conformance.md §2 "Encoder rules": start, part with delimiter after it, close.
        let enc = encoder("tok");
        assert_eq!(enc.content_type(), "multipart/x-mixed-replace;boundary=tok");
        let mut out = Vec::new();
        enc.write_start(&mut out);
        enc.write_part(&mut out, "image/jpeg", &[], b"abc").unwrap();
        enc.write_part(&mut out, "text/plain", &[("X-Timestamp", "1.5")], b"")
            .unwrap();
        enc.write_close(&mut out);
        assert_eq!(
            out,
            b"--tok\r\n\
              Content-Type: image/jpeg\r\nContent-Length: 3\r\n\r\nabc\r\n--tok\r\n\
              Content-Type: text/plain\r\nContent-Length: 0\r\nX-Timestamp: 1.5\r\n\r\n\r\n--tok\r\n\
              --tok--\r\n"
        );
    }

    #[test]
    fn split_framing_equals_whole_framing() {
        let enc = MultipartEncoder::new(Boundary::from_random([7; 16]));
        let payload = b"\xff\xd8 jpeg \xff\xd9";
        let mut whole = Vec::new();
        enc.write_part(&mut whole, "image/jpeg", &[("X-A", "b")], payload)
            .unwrap();
        let mut split = Vec::new();
        enc.write_part_head(&mut split, "image/jpeg", &[("X-A", "b")], payload)
            .unwrap();
        split.extend_from_slice(payload);
        enc.write_part_tail(&mut split);
        assert_eq!(whole, split);
    }

    #[test]
    fn content_length_is_written_in_decimal() {
        for n in [0usize, 1, 9, 10, 99, 100, 12345, usize::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, n);
            assert_eq!(out, alloc::format!("{n}").into_bytes());
        }
    }

    #[test]
    fn encoder_refuses_bad_parts_and_appends_nothing() {
        // docs/conformance.md §2 "Encoder rules": the token never occurs in a payload;
        // header lines cannot be split or smuggled.
        let enc = encoder("tok");
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [u8], EncodeError);
        let cases: &[Case<'_>] = &[
            (
                "image/jpeg",
                &[],
                b"a\r\n--tok\r\nb",
                EncodeError::BoundaryInPayload,
            ),
            (
                "image/jpeg",
                &[],
                b"a\n--tok",
                EncodeError::BoundaryInPayload,
            ),
            ("image/jpeg", &[], b"--tok", EncodeError::BoundaryInPayload),
            (
                "image/jpeg",
                &[],
                b"mid--tokline",
                EncodeError::BoundaryInPayload,
            ),
            ("image/jpeg\r\nX: y", &[], b"", EncodeError::InvalidHeader),
            (
                "image/jpeg",
                &[("X-A", "b\nc")],
                b"",
                EncodeError::InvalidHeader,
            ),
            (
                "image/jpeg",
                &[("X A", "b")],
                b"",
                EncodeError::InvalidHeader,
            ),
            ("image/jpeg", &[("", "b")], b"", EncodeError::InvalidHeader),
            (
                "image/jpeg",
                &[("X:A", "b")],
                b"",
                EncodeError::InvalidHeader,
            ),
            (
                "image/jpeg",
                &[("content-length", "9")],
                b"",
                EncodeError::InvalidHeader,
            ),
            (
                "image/jpeg",
                &[("Content-Type", "x")],
                b"",
                EncodeError::InvalidHeader,
            ),
            (
                "image/jpeg",
                &[("X-A", "--tok")],
                b"",
                EncodeError::BoundaryInHeader,
            ),
        ];
        for (content_type, headers, payload, expected) in cases {
            let mut out = b"keep".to_vec();
            let got = enc.write_part(&mut out, content_type, headers, payload);
            assert_eq!(
                got,
                Err(*expected),
                "{content_type:?} {headers:?} {payload:?}"
            );
            assert_eq!(out, b"keep");
        }
        // Near misses are fine.
        let mut out = Vec::new();
        enc.write_part(
            &mut out,
            "image/jpeg",
            &[("X-A", "-tok")],
            b"-tok\r\n-tok--to",
        )
        .unwrap();
    }

    #[test]
    fn content_type_quotes_tokens_with_specials() {
        let enc = encoder("a=b");
        assert_eq!(
            enc.content_type(),
            "multipart/x-mixed-replace;boundary=\"a=b\""
        );
        let parsed = super::super::boundary_from_content_type(&enc.content_type()).unwrap();
        assert_eq!(parsed.as_str(), "a=b");
    }
}
