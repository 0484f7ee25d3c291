//! URL mechanics: percent-decoding and -encoding, and query strings.
//!
//! The edge decodes `/sub/{channels}` and `?transport=` with these, the host
//! splits request targets with them and the CLI builds its URLs with them,
//! so a URL means the same thing everywhere. Nothing here allocates unless a
//! `%` escape (or a `+` in a query) has to be rewritten, and every input,
//! however hostile, gets an answer: a value or a [`DecodeError`].
//!
//! ```
//! use pushwire_core::url::{append_query_param, form_decode, percent_decode, query_param};
//!
//! assert_eq!(percent_decode("news%2Csport")?, "news,sport");
//! assert_eq!(form_decode("a+b%26c")?, "a b&c");
//! assert_eq!(query_param("transport=poll&since=7.3", "since")?.as_deref(), Some("7.3"));
//!
//! let mut target = String::from("/pub/chat");
//! append_query_param(&mut target, "event", "a b&c");
//! assert_eq!(target, "/pub/chat?event=a%20b%26c");
//! # Ok::<(), pushwire_core::url::DecodeError>(())
//! ```

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// Why percent-decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// A `%` not followed by two hex digits, at this byte offset.
    BadEscape(usize),
    /// The decoded bytes are not UTF-8.
    NotUtf8,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadEscape(at) => write!(f, "bad percent-escape at byte {at}"),
            Self::NotUtf8 => f.write_str("percent-decoded bytes are not UTF-8"),
        }
    }
}

impl core::error::Error for DecodeError {}

/// Percent-decode `text` (RFC 3986 §2.1), as in a path: `+` stays `+`.
///
/// Borrows `text` when it holds no `%`.
///
/// # Errors
/// [`DecodeError`] for a `%` without two hex digits after it, or a result
/// that is not UTF-8.
pub fn percent_decode(text: &str) -> Result<Cow<'_, str>, DecodeError> {
    decode(text, false)
}

/// Decode a query component the way HTML forms encode it
/// (`application/x-www-form-urlencoded`): `+` is a space, then percent-decode.
///
/// Borrows `text` when it holds no `%` and no `+`.
///
/// # Errors
/// As [`percent_decode`].
pub fn form_decode(text: &str) -> Result<Cow<'_, str>, DecodeError> {
    decode(text, true)
}

fn decode(text: &str, plus_as_space: bool) -> Result<Cow<'_, str>, DecodeError> {
    if !text
        .bytes()
        .any(|b| b == b'%' || (plus_as_space && b == b'+'))
    {
        return Ok(Cow::Borrowed(text));
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while let Some(&byte) = bytes.get(at) {
        match byte {
            b'%' => {
                let high = bytes.get(at + 1).and_then(|&b| hex_value(b));
                let low = bytes.get(at + 2).and_then(|&b| hex_value(b));
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(DecodeError::BadEscape(at));
                };
                out.push(high << 4 | low);
                at += 3;
            }
            b'+' if plus_as_space => {
                out.push(b' ');
                at += 1;
            }
            _ => {
                out.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| DecodeError::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Whether `byte` is an RFC 3986 unreserved character (never escaped).
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encode every byte of `text` but the RFC 3986 unreserved
/// characters (`A–Z a–z 0–9 - . _ ~`), with uppercase hex digits.
///
/// The result is safe in a path segment and in a query key or value, and
/// both [`percent_decode`] and [`form_decode`] give `text` back. Borrows
/// `text` when nothing needs escaping.
#[must_use]
pub fn percent_encode(text: &str) -> Cow<'_, str> {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    if text.bytes().all(is_unreserved) {
        return Cow::Borrowed(text);
    }
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if is_unreserved(byte) {
            encoded.push(char::from(byte));
        } else {
            let digit =
                |nibble: u8| char::from(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
            encoded.push('%');
            encoded.push(digit(byte >> 4));
            encoded.push(digit(byte & 0xf));
        }
    }
    Cow::Owned(encoded)
}

/// One `key=value` pair of a query string, as written (not yet decoded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QueryParam<'a> {
    pair: &'a str,
}

impl<'a> QueryParam<'a> {
    /// The pair as written, `key=value` (or just `key`).
    #[must_use]
    pub fn as_str(self) -> &'a str {
        self.pair
    }

    /// The key as written, before any `=`.
    #[must_use]
    pub fn raw_key(self) -> &'a str {
        self.pair.split_once('=').map_or(self.pair, |(key, _)| key)
    }

    /// The value as written, after the first `=` (`""` without one).
    #[must_use]
    pub fn raw_value(self) -> &'a str {
        self.pair.split_once('=').map_or("", |(_, value)| value)
    }

    /// The key, [form-decoded](form_decode).
    ///
    /// # Errors
    /// [`DecodeError`] if it does not decode.
    pub fn key(self) -> Result<Cow<'a, str>, DecodeError> {
        form_decode(self.raw_key())
    }

    /// The value, [form-decoded](form_decode).
    ///
    /// # Errors
    /// [`DecodeError`] if it does not decode.
    pub fn value(self) -> Result<Cow<'a, str>, DecodeError> {
        form_decode(self.raw_value())
    }

    /// Whether the decoded key is `name` (a key that does not decode names
    /// nothing).
    #[must_use]
    pub fn is_named(self, name: &str) -> bool {
        let key = self.raw_key();
        if key.contains(['%', '+']) {
            form_decode(key).is_ok_and(|key| key == name)
        } else {
            key == name
        }
    }
}

/// The pairs of a query string (what follows the `?`), in order; empty
/// pairs (`a=1&&b=2`) are skipped, as URLSearchParams does.
#[derive(Clone, Debug)]
pub struct QueryParams<'a> {
    rest: &'a str,
}

/// Iterate over the `&`-separated pairs of `query` (without its `?`).
#[must_use]
pub fn query_params(query: &str) -> QueryParams<'_> {
    QueryParams { rest: query }
}

impl<'a> Iterator for QueryParams<'a> {
    type Item = QueryParam<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.rest.is_empty() {
            let (pair, rest) = self.rest.split_once('&').unwrap_or((self.rest, ""));
            self.rest = rest;
            if !pair.is_empty() {
                return Some(QueryParam { pair });
            }
        }
        None
    }
}

/// The decoded value of the first `name` parameter of `query`, if any.
///
/// Only that parameter's value is decoded, so a malformed one elsewhere (a
/// cache buster, say) does not matter.
///
/// # Errors
/// [`DecodeError`] if this parameter's value does not decode.
pub fn query_param<'a>(query: &'a str, name: &str) -> Result<Option<Cow<'a, str>>, DecodeError> {
    query_params(query)
        .find(|param| param.is_named(name))
        .map(QueryParam::value)
        .transpose()
}

/// Append `key=value`, both [percent-encoded](percent_encode), to the query
/// of `target` (a path with an optional `?query`): after `?` if it has no
/// query yet, else after `&` (nothing after a bare trailing `?`).
pub fn append_query_param(target: &mut String, key: &str, value: &str) {
    match target.split_once('?') {
        None => target.push('?'),
        Some((_, "")) => {}
        Some(_) => target.push('&'),
    }
    target.push_str(&percent_encode(key));
    target.push('=');
    target.push_str(&percent_encode(value));
}

/// Split a request target (origin form) into its path and its query (after
/// the first `?`, without it; `""` when there is none).
#[must_use]
pub fn split_target(target: &str) -> (&str, &str) {
    target.split_once('?').unwrap_or((target, ""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    #[test]
    fn percent_decoding_follows_the_url_rules() {
        let cases: &[(&str, bool, Result<&str, DecodeError>)] = &[
            ("plain", false, Ok("plain")),
            ("a%2Cb", false, Ok("a,b")),
            ("a%2cb", false, Ok("a,b")),
            ("%e2%82%ac", false, Ok("€")),
            ("a+b", false, Ok("a+b")),
            ("a+b", true, Ok("a b")),
            ("a%2Bb", true, Ok("a+b")),
            ("100%", false, Err(DecodeError::BadEscape(3))),
            ("%4", false, Err(DecodeError::BadEscape(0))),
            ("x%g0", false, Err(DecodeError::BadEscape(1))),
            ("%c3%28", false, Err(DecodeError::NotUtf8)),
            ("%00", false, Ok("\0")),
            ("%", true, Err(DecodeError::BadEscape(0))),
        ];
        for (input, plus, expected) in cases {
            let decoded = if *plus {
                form_decode(input)
            } else {
                percent_decode(input)
            };
            assert_eq!(decoded.as_deref().map_err(|e| *e), *expected, "{input:?}");
        }
    }

    #[test]
    fn decoding_borrows_text_without_escapes() {
        assert!(matches!(percent_decode("a+b"), Ok(Cow::Borrowed("a+b"))));
        assert!(matches!(form_decode("a+b"), Ok(Cow::Owned(_))));
        assert!(matches!(percent_encode("a-b.c_d~9"), Cow::Borrowed(_)));
    }

    #[test]
    fn encoding_escapes_all_but_unreserved_characters() {
        assert_eq!(percent_encode("a b&c"), "a%20b%26c");
        assert_eq!(percent_encode("é+/?#"), "%C3%A9%2B%2F%3F%23");
    }

    #[test]
    fn query_params_are_found_by_decoded_key_and_decoded_alone() {
        let query = "bust=%zz&since=&since=2&trans%70ort=long+poll&flag";
        assert_eq!(query_param(query, "since").unwrap().as_deref(), Some(""));
        assert_eq!(
            query_param(query, "transport").unwrap().as_deref(),
            Some("long poll")
        );
        assert_eq!(query_param(query, "flag").unwrap().as_deref(), Some(""));
        assert_eq!(query_param(query, "missing").unwrap(), None);
        assert_eq!(query_param(query, "bust"), Err(DecodeError::BadEscape(0)));
        assert_eq!(query_param("", "a").unwrap(), None);
    }

    #[test]
    fn empty_pairs_are_skipped() {
        let pairs: Vec<&str> = query_params("&a=1&&b&=c&")
            .map(QueryParam::as_str)
            .collect();
        assert_eq!(pairs, vec!["a=1", "b", "=c"]);
        let param = query_params("a=b=c").next().unwrap();
        assert_eq!((param.raw_key(), param.raw_value()), ("a", "b=c"));
    }

    #[test]
    fn appended_params_get_the_right_separator() {
        for (start, expected) in [
            ("/pub/chat", "/pub/chat?event=a%20b"),
            ("/x?y=1", "/x?y=1&event=a%20b"),
            ("/x?", "/x?event=a%20b"),
        ] {
            let mut target = String::from(start);
            append_query_param(&mut target, "event", "a b");
            assert_eq!(target, expected);
        }
        assert_eq!(split_target("/a?b?c"), ("/a", "b?c"));
        assert_eq!(split_target("/a"), ("/a", ""));
    }

    proptest! {
        #[test]
        fn encoding_then_decoding_round_trips(text in any::<String>()) {
            let encoded = percent_encode(&text);
            prop_assert!(encoded.bytes().all(|b| is_unreserved(b) || b == b'%'));
            prop_assert_eq!(percent_decode(&encoded).unwrap(), text.as_str());
            prop_assert_eq!(form_decode(&encoded).unwrap(), text.as_str());
        }

        #[test]
        fn appended_params_read_back(
            pairs in proptest::collection::vec((any::<String>(), any::<String>()), 0..6),
        ) {
            let mut target = String::from("/p");
            for (key, value) in &pairs {
                append_query_param(&mut target, key, value);
            }
            let (path, query) = split_target(&target);
            prop_assert_eq!(path, "/p");
            let read: Vec<(String, String)> = query_params(query)
                .map(|param| (param.key().unwrap().into_owned(), param.value().unwrap().into_owned()))
                .collect();
            // Even an empty key and value is written as `=`: nothing is skipped.
            prop_assert_eq!(read, pairs);
        }

        #[test]
        fn decoding_any_text_never_panics_and_shrinks(text in "[%+a-fA-F0-9g\u{e9}]{0,24}") {
            if let Ok(decoded) = form_decode(&text) {
                prop_assert!(decoded.len() <= text.len());
            }
        }
    }
}
