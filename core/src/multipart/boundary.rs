//! The boundary token: validation, random generation and parsing from a Content-Type.

use alloc::string::String;
use core::fmt;

/// Longest boundary RFC 2046 §5.1.1 allows (and that we ever create).
const MAX_LEN: usize = 70;

/// Longest boundary we accept from someone else's Content-Type header.
///
/// Browsers take any length; this bound only keeps hostile headers small.
const MAX_FOREIGN_LEN: usize = 200;

/// What [`Boundary::from_random`] puts before the random hex digits.
const RANDOM_PREFIX: &str = "pushwire-";

/// A validated multipart boundary token (the text after `boundary=`).
///
/// Make your own with [`Boundary::from_random`] (or [`Boundary::new`] for a
/// fixed one); read someone else's with [`boundary_from_content_type`]. On the
/// wire a delimiter line is `--` followed by the token.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Boundary {
    token: String,
}

impl Boundary {
    /// Validate a boundary token of our own.
    ///
    /// Use it for a fixed, well-known token (say `ffmpeg` for tests); for
    /// streams, prefer [`Boundary::from_random`], which cannot collide with a
    /// payload by accident.
    ///
    /// # Errors
    /// The token must be 1–70 characters from `[A-Za-z0-9'()+_,-./:=?]` (the
    /// RFC 2046 set without space, which every consumer accepts) and must not
    /// start with `--` (some consumers would strip it; docs/conformance.md §2
    /// "Leading dashes in the parameter").
    pub fn new(token: &str) -> Result<Self, BoundaryError> {
        if token.is_empty() {
            return Err(BoundaryError::Empty);
        }
        if token.len() > MAX_LEN {
            return Err(BoundaryError::TooLong);
        }
        if !token.bytes().all(is_own_boundary_char) {
            return Err(BoundaryError::InvalidChar);
        }
        if token.starts_with("--") {
            return Err(BoundaryError::LeadingDashes);
        }
        Ok(Self {
            token: String::from(token),
        })
    }

    /// Make a fresh token from 16 random bytes the caller supplies.
    ///
    /// Call it once per stream with bytes from a CSPRNG (core has no
    /// randomness of its own). The token is `pushwire-` and 32 hex digits (41
    /// characters, 128 random bits), so it practically never occurs in a
    /// payload; the encoder still checks every payload.
    pub fn from_random(random: [u8; 16]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut token = String::with_capacity(RANDOM_PREFIX.len() + 32);
        token.push_str(RANDOM_PREFIX);
        for byte in random {
            for nibble in [byte >> 4, byte & 0xf] {
                let digit = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
                token.push(char::from(digit));
            }
        }
        Self { token }
    }

    /// The token as it appears after `boundary=` (without the `--` of the delimiter).
    pub fn as_str(&self) -> &str {
        &self.token
    }

    /// The token for a Content-Type parameter: bare when it is an RFC 2045
    /// token, otherwise quoted (docs/conformance.md §2: "quoting never hurts").
    pub(super) fn write_parameter(&self, out: &mut String) {
        if self.token.bytes().all(is_mime_token_char) {
            out.push_str(&self.token);
            return;
        }
        out.push('"');
        for ch in self.token.chars() {
            if ch == '"' || ch == '\\' {
                out.push('\\');
            }
            out.push(ch);
        }
        out.push('"');
    }
}

impl fmt::Display for Boundary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.token)
    }
}

/// Read the boundary from a `Content-Type` header value.
///
/// Call it with the value of a multipart response's (or upload's)
/// `Content-Type`, then hand the boundary to
/// [`MultipartParser::new`](super::MultipartParser::new). Matching is
/// case-insensitive; the essence must be `multipart/x-mixed-replace` or
/// `multipart/mixed`; other parameters may come before or after; the value may
/// be quoted (with `\` escapes) or bare, and is trimmed. A leading `--` in the
/// value (`boundary=--myboundary`, sent by some cameras) is kept: the parser
/// then accepts delimiter lines with or without that doubled prefix
/// (docs/conformance.md §2 "Leading dashes in the parameter").
///
/// # Errors
/// [`BoundaryError::NotMultipart`] for another media type,
/// [`BoundaryError::Missing`] without a `boundary` parameter,
/// [`BoundaryError::Empty`] for `boundary=` or `boundary=""`,
/// [`BoundaryError::TooLong`] over 200 bytes, and
/// [`BoundaryError::InvalidChar`] for control or non-ASCII characters.
pub fn boundary_from_content_type(content_type: &str) -> Result<Boundary, BoundaryError> {
    let (essence, mut params) = content_type.split_once(';').unwrap_or((content_type, ""));
    let essence = essence.trim_matches(is_space);
    if !essence.eq_ignore_ascii_case("multipart/x-mixed-replace")
        && !essence.eq_ignore_ascii_case("multipart/mixed")
    {
        return Err(BoundaryError::NotMultipart);
    }
    loop {
        params = params.trim_start_matches(|c| is_space(c) || c == ';');
        if params.is_empty() {
            return Err(BoundaryError::Missing);
        }
        let name_end = params.find(['=', ';']).unwrap_or(params.len());
        // `find` gives a char boundary, so this never falls back; unlike
        // `split_at` it cannot panic (whose message drags `char` escaping
        // and Unicode tables into a browser SDK).
        let (name, rest) = params.split_at_checked(name_end).unwrap_or((params, ""));
        let Some(rest) = rest.strip_prefix('=') else {
            // A parameter without a value: skip it.
            params = rest;
            continue;
        };
        let (value, rest) = parameter_value(rest);
        if name.trim_matches(is_space).eq_ignore_ascii_case("boundary") {
            return foreign_boundary(value);
        }
        params = rest;
    }
}

/// Read the boundary from the first line of a multipart body: `--<token>`.
///
/// Call it for an upload that names no boundary because it sends no
/// `Content-Type` at all (ffmpeg's HTTP output with `-f mpjpeg`, whose body
/// starts `--ffmpeg\r\n`; ffmpeg's own demuxer likewise requires the data to
/// start with `--`), with the body's first bytes; then hand the boundary to
/// [`MultipartParser::new`](super::MultipartParser::new) and push the same
/// bytes. One leading CRLF or LF is skipped (as the parser does); trailing
/// spaces and tabs on the line (transport padding) are ignored.
///
/// Returns `None` while `start` holds no whole first line yet: call again
/// with more bytes.
///
/// # Errors
/// [`BoundaryError::Missing`] when the first line does not start with `--`,
/// and as [`boundary_from_content_type`] for the token itself (a first line
/// longer than a token may be is [`BoundaryError::TooLong`] at once).
pub fn boundary_from_body_start(start: &[u8]) -> Option<Result<Boundary, BoundaryError>> {
    let start = start
        .strip_prefix(b"\r\n")
        .or_else(|| start.strip_prefix(b"\n"))
        .unwrap_or(start);
    let Some(end) = start.iter().position(|&b| b == b'\n') else {
        // `--`, the longest token, padding and CR fit well within this.
        return (start.len() > MAX_FOREIGN_LEN + 16).then_some(Err(BoundaryError::TooLong));
    };
    let line = start.get(..end).unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let Some(token) = line.strip_prefix(b"--") else {
        return Some(Err(BoundaryError::Missing));
    };
    let Ok(token) = core::str::from_utf8(token) else {
        return Some(Err(BoundaryError::InvalidChar));
    };
    Some(foreign_boundary(String::from(
        token.trim_end_matches(is_space),
    )))
}

/// Split one parameter value (bare or quoted) off the front of `text`.
fn parameter_value(text: &str) -> (String, &str) {
    let text = text.trim_start_matches(is_space);
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(';').unwrap_or(text.len());
        let (value, rest) = text.split_at_checked(end).unwrap_or((text, ""));
        return (String::from(value.trim_matches(is_space)), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((at, ch)) = chars.next() {
        match ch {
            '"' => {
                let rest = quoted.get(at + 1..).unwrap_or_default();
                let rest = rest
                    .find(';')
                    .map_or("", |end| rest.get(end..).unwrap_or_default());
                return (value, rest);
            }
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            _ => value.push(ch),
        }
    }
    // Unterminated quote: take everything (Firefox trims quotes the same way).
    (value, "")
}

/// Check a boundary someone else chose: looser than [`Boundary::new`].
fn foreign_boundary(value: String) -> Result<Boundary, BoundaryError> {
    let token = value.trim_matches(is_space);
    if token.is_empty() {
        return Err(BoundaryError::Empty);
    }
    if token.len() > MAX_FOREIGN_LEN {
        return Err(BoundaryError::TooLong);
    }
    if !token.bytes().all(|b| b == b' ' || b.is_ascii_graphic()) {
        return Err(BoundaryError::InvalidChar);
    }
    Ok(Boundary {
        token: String::from(token),
    })
}

fn is_space(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 2046 `bcharsnospace`.
fn is_own_boundary_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"'()+_,-./:=?".contains(&b)
}

/// RFC 2045 `token` characters (no tspecials, no space).
fn is_mime_token_char(b: u8) -> bool {
    b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?=".contains(&b)
}

/// Why a boundary token or a Content-Type was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BoundaryError {
    /// The boundary is empty (`boundary=` or `boundary=""`).
    Empty,
    /// The boundary is longer than allowed (70 for ours, 200 from a header).
    TooLong,
    /// The boundary has a character outside the allowed set.
    InvalidChar,
    /// Our own boundary must not start with `--`.
    LeadingDashes,
    /// The Content-Type is not `multipart/x-mixed-replace` or `multipart/mixed`.
    NotMultipart,
    /// The Content-Type has no `boundary` parameter.
    Missing,
}

impl fmt::Display for BoundaryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "the multipart boundary is empty",
            Self::TooLong => "the multipart boundary is too long (at most 70 characters)",
            Self::InvalidChar => {
                "the multipart boundary has a character outside [A-Za-z0-9'()+_,-./:=?]"
            }
            Self::LeadingDashes => "the multipart boundary must not start with `--`",
            Self::NotMultipart => {
                "the Content-Type is not multipart/x-mixed-replace or multipart/mixed"
            }
            Self::Missing => "the Content-Type has no boundary parameter",
        })
    }
}

impl core::error::Error for BoundaryError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_boundaries_are_validated() {
        // docs/conformance.md §2 "Encoder rules": 1–70 chars of
        // [A-Za-z0-9'()+_,-./:=?], no leading `--`.
        let cases: &[(&str, Result<&str, BoundaryError>)] = &[
            ("ffmpeg", Ok("ffmpeg")),
            ("boundarydonotcross", Ok("boundarydonotcross")),
            ("a'()+_,-./:=?Z9", Ok("a'()+_,-./:=?Z9")),
            ("-x", Ok("-x")),
            ("", Err(BoundaryError::Empty)),
            ("--myboundary", Err(BoundaryError::LeadingDashes)),
            ("has space", Err(BoundaryError::InvalidChar)),
            ("semi;colon", Err(BoundaryError::InvalidChar)),
            ("quote\"", Err(BoundaryError::InvalidChar)),
            ("line\r\nbreak", Err(BoundaryError::InvalidChar)),
            ("é", Err(BoundaryError::InvalidChar)),
        ];
        for (input, expected) in cases {
            let got = Boundary::new(input);
            assert_eq!(
                got.as_ref().map(Boundary::as_str),
                expected.as_ref().copied(),
                "{input:?}"
            );
        }
        assert!(Boundary::new(&"x".repeat(70)).is_ok());
        assert_eq!(Boundary::new(&"x".repeat(71)), Err(BoundaryError::TooLong));
    }

    #[test]
    fn random_boundaries_are_long_valid_and_distinct() {
        // docs/conformance.md §2 "Encoder rules": a random ≥ 30-char token.
        let a = Boundary::from_random([0; 16]);
        let b = Boundary::from_random([0xab; 16]);
        assert_eq!(a.as_str(), "pushwire-00000000000000000000000000000000");
        assert_eq!(b.as_str(), "pushwire-abababababababababababababababab");
        for boundary in [a, b] {
            assert!(boundary.as_str().len() >= 30);
            assert_eq!(Boundary::new(boundary.as_str()).as_ref(), Ok(&boundary));
        }
    }

    #[test]
    fn content_type_boundaries_are_parsed_like_browsers() {
        // docs/conformance.md §2 "Boundary from the header" and "Leading dashes in the parameter".
        let cases: &[(&str, Result<&str, BoundaryError>)] = &[
            ("multipart/x-mixed-replace;boundary=ffmpeg", Ok("ffmpeg")),
            (
                "multipart/x-mixed-replace; boundary=boundarydonotcross",
                Ok("boundarydonotcross"),
            ),
            ("Multipart/X-Mixed-Replace; BOUNDARY=Abc", Ok("Abc")),
            ("multipart/mixed; boundary=\"a b;c\"", Ok("a b;c")),
            (
                "multipart/x-mixed-replace;boundary=\"q\\\"x\"; charset=x",
                Ok("q\"x"),
            ),
            (
                "multipart/x-mixed-replace; charset=utf-8; boundary=myboundary",
                Ok("myboundary"),
            ),
            (
                "multipart/x-mixed-replace; boundary = myboundary ; x=y",
                Ok("myboundary"),
            ),
            (
                "  multipart/x-mixed-replace  ;\tboundary=  tok  ",
                Ok("tok"),
            ),
            ("multipart/x-mixed-replace; flag; boundary=tok", Ok("tok")),
            (
                "multipart/x-mixed-replace;boundary=--myboundary",
                Ok("--myboundary"),
            ),
            (
                "multipart/x-mixed-replace;boundary=\"unterminated",
                Ok("unterminated"),
            ),
            ("multipart/x-mixed-replace; boundary=a; boundary=b", Ok("a")),
            ("multipart/x-mixed-replace", Err(BoundaryError::Missing)),
            (
                "multipart/x-mixed-replace; charset=utf-8",
                Err(BoundaryError::Missing),
            ),
            (
                "multipart/x-mixed-replace; boundary=",
                Err(BoundaryError::Empty),
            ),
            (
                "multipart/x-mixed-replace; boundary=\"\"",
                Err(BoundaryError::Empty),
            ),
            (
                "multipart/x-mixed-replace; boundary= ;",
                Err(BoundaryError::Empty),
            ),
            (
                "multipart/x-mixed-replace; boundary=a\u{1}b",
                Err(BoundaryError::InvalidChar),
            ),
            ("image/jpeg; boundary=x", Err(BoundaryError::NotMultipart)),
            (
                "multipart/form-data; boundary=x",
                Err(BoundaryError::NotMultipart),
            ),
            ("", Err(BoundaryError::NotMultipart)),
        ];
        for (input, expected) in cases {
            let got = boundary_from_content_type(input);
            assert_eq!(
                got.as_ref().map(Boundary::as_str),
                expected.as_ref().copied(),
                "{input:?}"
            );
        }
        let long = alloc::format!("multipart/mixed; boundary={}", "x".repeat(201));
        assert_eq!(
            boundary_from_content_type(&long),
            Err(BoundaryError::TooLong)
        );
    }

    #[test]
    fn body_start_gives_the_boundary_of_an_upload_without_content_type() {
        type Found<'a> = Option<Result<&'a str, BoundaryError>>;
        let cases: &[(&[u8], Found<'_>)] = &[
            (
                b"--ffmpeg\r\nContent-type: image/jpeg\r\n",
                Some(Ok("ffmpeg")),
            ),
            (b"\r\n--cam \t\nrest", Some(Ok("cam"))),
            (b"----cam\r\n", Some(Ok("--cam"))),
            (b"--ffmp", None),
            (b"", None),
            (
                b"Content-type: image/jpeg\r\n",
                Some(Err(BoundaryError::Missing)),
            ),
            (b"--\r\n", Some(Err(BoundaryError::Empty))),
            (b"--a\x01b\n", Some(Err(BoundaryError::InvalidChar))),
            (b"--\xff\n", Some(Err(BoundaryError::InvalidChar))),
            (&[b'-'; 300], Some(Err(BoundaryError::TooLong))),
        ];
        for (start, expected) in cases {
            let found = boundary_from_body_start(start);
            let found = found.map(|result| result.map(|b| String::from(b.as_str())));
            let expected = expected.map(|result| result.map(String::from));
            assert_eq!(found, expected, "{:?}", String::from_utf8_lossy(start));
        }
    }

    #[test]
    fn parameters_are_quoted_only_when_needed() {
        // RFC 2045 §5.1: a parameter value outside `token` must be a quoted-string.
        let mut out = String::new();
        Boundary::new("abc-123").unwrap().write_parameter(&mut out);
        out.push('|');
        Boundary::new("a:b").unwrap().write_parameter(&mut out);
        out.push('|');
        boundary_from_content_type("multipart/mixed; boundary=\"a \\\"b\"")
            .unwrap()
            .write_parameter(&mut out);
        assert_eq!(out, "abc-123|\"a:b\"|\"a \\\"b\"");
    }
}
