//! Access tokens: JSON Web Tokens (RFC 7519, compact form, `HS256`) whose
//! claims name the channels a bearer may publish and subscribe to.
//!
//! This module reads a token; it does not check the signature (that needs
//! HMAC-SHA-256, which the caller brings: the edge module does). The flow:
//!
//! ```text
//! "eyJ….eyJ….sig" ──► Token::decode ──► signing_input() + signature() ──► caller's HMAC check
//!                                   └─► claims() ──► is_current(now) / may_publish / may_subscribe
//! ```
//!
//! The claims follow Mercure's model under a `pushwire` key:
//!
//! ```json
//! {"exp": 1893456000, "pushwire": {"publish": ["chat"], "subscribe": ["chat", "cam-*"]}}
//! ```
//!
//! A channel pattern is a channel name (exact match), a prefix ending in `*`
//! (`cam-*` matches `cam-1`), or `*` alone (every channel).
//!
//! ```
//! use pushwire_core::token::Token;
//! // {"alg":"HS256","typ":"JWT"} . {"exp":2000000000,"pushwire":{"publish":["chat"],"subscribe":["*"]}} . sig
//! let text = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjIwMDAwMDAwMDAsInB1c2h3aXJlIjp7InB1Ymxpc2giOlsiY2hhdCJdLCJzdWJzY3JpYmUiOlsiKiJdfX0.c2ln";
//! let token = Token::decode(text)?;
//! assert_eq!(token.signature(), b"sig");
//! let claims = token.claims();
//! assert!(claims.may_publish("chat") && !claims.may_publish("news"));
//! assert!(claims.may_subscribe("news"));
//! assert!(claims.is_current(1_900_000_000) && !claims.is_current(2_000_000_000));
//! # Ok::<(), pushwire_core::token::TokenError>(())
//! ```

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::wire::{Reader, WireError};

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Most channel patterns one claim list may hold.
pub const MAX_PATTERNS: usize = 256;

/// Nesting allowed inside a token's JSON (claims are shallow).
const MAX_DEPTH: usize = 16;

/// A decoded (not yet verified) token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    signing_input: &'a str,
    signature: Vec<u8>,
    claims: Claims,
}

/// What a token allows, and for how long.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Claims {
    /// `exp`: seconds since the Unix epoch from which the token is refused.
    pub expires: Option<u64>,
    /// `nbf`: seconds since the Unix epoch before which the token is refused.
    pub not_before: Option<u64>,
    /// `pushwire.publish`: patterns of the channels the bearer may publish to.
    pub publish: Vec<String>,
    /// `pushwire.subscribe`: patterns of the channels the bearer may subscribe to.
    pub subscribe: Vec<String>,
}

/// Why a token cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// The token is longer than [`MAX_TOKEN_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Not three dot-separated parts (`header.claims.signature`).
    NotCompact,
    /// A part is not unpadded base64url.
    BadBase64 {
        /// Which part: `"header"`, `"claims"` or `"signature"`.
        part: &'static str,
    },
    /// The header or the claims are not the JSON they must be.
    BadJson {
        /// Which part: `"header"` or `"claims"`.
        part: &'static str,
        /// What is wrong.
        error: WireError,
    },
    /// The header names another algorithm than `HS256` (e.g. `none`).
    Algorithm {
        /// The `alg` of the header (cut to 16 characters).
        alg: String,
    },
    /// A claim list holds more than [`MAX_PATTERNS`] patterns.
    TooManyPatterns,
}

impl fmt::Display for TokenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => {
                write!(f, "the token is {len} bytes, more than {MAX_TOKEN_LEN}")
            }
            Self::NotCompact => f.write_str(
                "the token is not a JWT (three base64url parts separated by dots) nor the configured token",
            ),
            Self::BadBase64 { part } => write!(f, "the token's {part} is not base64url"),
            Self::BadJson { part, error } => write!(f, "the token's {part} is not valid: {error}"),
            Self::Algorithm { alg } => {
                write!(f, "the token is signed with {alg:?}, only HS256 is accepted")
            }
            Self::TooManyPatterns => {
                write!(f, "a claim lists more than {MAX_PATTERNS} channel patterns")
            }
        }
    }
}

impl core::error::Error for TokenError {}

impl<'a> Token<'a> {
    /// Read a compact JWT: check its form, its `HS256` header, and read its claims.
    ///
    /// Unknown header fields and claims are ignored; `exp` and `nbf` may be
    /// fractional (the fraction is dropped); a missing `pushwire` claim
    /// allows nothing.
    ///
    /// # Errors
    /// [`TokenError`] for a token that is too long, not three base64url
    /// parts, has bad JSON, another algorithm than `HS256`, or too many patterns.
    pub fn decode(text: &'a str) -> Result<Self, TokenError> {
        if text.len() > MAX_TOKEN_LEN {
            return Err(TokenError::TooLong { len: text.len() });
        }
        let mut parts = text.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::NotCompact);
        };
        let signing_input = text
            .get(..header.len() + 1 + claims.len())
            .ok_or(TokenError::NotCompact)?;
        let header = base64url_decode(header).ok_or(TokenError::BadBase64 { part: "header" })?;
        let claims = base64url_decode(claims).ok_or(TokenError::BadBase64 { part: "claims" })?;
        let signature =
            base64url_decode(signature).ok_or(TokenError::BadBase64 { part: "signature" })?;
        check_header(&header)?;
        let claims = read_claims(&claims)?;
        Ok(Self {
            signing_input,
            signature,
            claims,
        })
    }

    /// The bytes the signature covers: `header.claims` as sent.
    pub fn signing_input(&self) -> &[u8] {
        self.signing_input.as_bytes()
    }

    /// The signature bytes (32 for a real HS256 token).
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// What the token allows (trust it only once the signature is checked).
    pub fn claims(&self) -> &Claims {
        &self.claims
    }
}

impl Claims {
    /// Whether the token may be used at `now` (seconds since the Unix epoch):
    /// before `exp` and not before `nbf`.
    pub fn is_current(&self, now: u64) -> bool {
        self.expires.is_none_or(|exp| now < exp) && self.not_before.is_none_or(|nbf| now >= nbf)
    }

    /// Whether a `publish` pattern matches `channel`.
    pub fn may_publish(&self, channel: &str) -> bool {
        self.publish.iter().any(|p| pattern_matches(p, channel))
    }

    /// Whether a `subscribe` pattern matches `channel`.
    pub fn may_subscribe(&self, channel: &str) -> bool {
        self.subscribe.iter().any(|p| pattern_matches(p, channel))
    }
}

/// Whether channel `pattern` (exact, `prefix*`, or `*`) matches `channel`.
pub fn pattern_matches(pattern: &str, channel: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => channel.starts_with(prefix),
        None => pattern == channel,
    }
}

/// Decode unpadded base64url (RFC 4648 §5), as JWT uses; `None` if it is not.
///
/// Trailing `=` padding is tolerated; any other byte outside the alphabet,
/// or a length that no encoding has, is refused.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Encode `bytes` as unpadded base64url (for tests and tools that mint tokens).
pub fn base64url_encode(bytes: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            let index = ((acc >> bits) & 63) as usize;
            out.extend(ALPHABET.get(index).map(|&b| char::from(b)));
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        let index = ((acc << (6 - bits)) & 63) as usize;
        out.extend(ALPHABET.get(index).map(|&b| char::from(b)));
    }
}

fn check_header(bytes: &[u8]) -> Result<(), TokenError> {
    let bad = |error| TokenError::BadJson {
        part: "header",
        error,
    };
    let mut reader = Reader::new(bytes, MAX_DEPTH).map_err(bad)?;
    let mut alg = None;
    reader
        .object(0, "the header", |reader, key, _| match key {
            "alg" => {
                alg = Some(reader.string_field("field \"alg\"")?);
                Ok(())
            }
            _ => reader.skip_value(1),
        })
        .map_err(bad)?;
    reader.end().map_err(bad)?;
    match alg {
        Some(alg) if alg == "HS256" => Ok(()),
        Some(alg) => Err(TokenError::Algorithm {
            alg: alg.chars().take(16).collect(),
        }),
        None => Err(TokenError::Algorithm { alg: String::new() }),
    }
}

fn read_claims(bytes: &[u8]) -> Result<Claims, TokenError> {
    let mut claims = Claims::default();
    let mut too_many = false;
    let bad = |error| TokenError::BadJson {
        part: "claims",
        error,
    };
    let mut reader = Reader::new(bytes, MAX_DEPTH).map_err(bad)?;
    reader
        .object(0, "the claims", |reader, key, _| match key {
            "exp" => {
                claims.expires = Some(reader.numeric_date("claim \"exp\"")?);
                Ok(())
            }
            "nbf" => {
                claims.not_before = Some(reader.numeric_date("claim \"nbf\"")?);
                Ok(())
            }
            "pushwire" => reader
                .object(1, "claim \"pushwire\"", |reader, key, _| {
                    let list = match key {
                        "publish" => &mut claims.publish,
                        "subscribe" => &mut claims.subscribe,
                        _ => return reader.skip_value(2),
                    };
                    reader.string_array(2, "a channel pattern list", |pattern| {
                        if list.len() == MAX_PATTERNS {
                            too_many = true;
                        } else {
                            list.push(pattern);
                        }
                    })
                })
                .map(drop),
            _ => reader.skip_value(1),
        })
        .map_err(bad)?;
    reader.end().map_err(bad)?;
    if too_many {
        return Err(TokenError::TooManyPatterns);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use alloc::format;

    use super::*;

    fn encode(text: &str) -> String {
        let mut out = String::new();
        base64url_encode(text.as_bytes(), &mut out);
        out
    }

    fn token(header: &str, claims: &str) -> String {
        format!("{}.{}.{}", encode(header), encode(claims), encode("sig"))
    }

    const HS256: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

    #[test]
    fn base64url_round_trips_every_length() {
        let bytes: Vec<u8> = (0..=255).collect();
        for len in 0..40 {
            let mut text = String::new();
            base64url_encode(&bytes[..len], &mut text);
            assert!(!text.contains(['=', '+', '/']));
            assert_eq!(base64url_decode(&text).as_deref(), Some(&bytes[..len]));
        }
    }

    #[test]
    fn base64url_refuses_other_alphabets_and_impossible_lengths() {
        assert_eq!(base64url_decode("ab+/"), None);
        assert_eq!(base64url_decode("abcde"), None);
        assert_eq!(base64url_decode("YQ=="), Some(b"a".to_vec()));
    }

    #[test]
    fn claims_name_publish_and_subscribe_patterns_and_times() {
        let text = token(
            HS256,
            r#"{"sub":"x","exp":1700000000.5,"nbf":10,"pushwire":{"publish":["chat"],"subscribe":["cam-*","news"],"other":{"a":[1]}}}"#,
        );
        let token = Token::decode(&text).unwrap();
        let claims = token.claims();
        assert_eq!(claims.expires, Some(1_700_000_000));
        assert_eq!(claims.not_before, Some(10));
        assert!(claims.may_publish("chat"));
        assert!(!claims.may_publish("chat2"));
        assert!(claims.may_subscribe("cam-1") && claims.may_subscribe("news"));
        assert!(!claims.may_subscribe("cam"));
        assert!(claims.is_current(1_699_999_999));
        assert!(!claims.is_current(1_700_000_000));
        assert!(!claims.is_current(9));
        let dot = text.rfind('.').unwrap();
        assert_eq!(token.signing_input(), &text.as_bytes()[..dot]);
    }

    #[test]
    fn a_token_without_pushwire_claims_allows_nothing() {
        let text = token(HS256, r#"{"exp":5}"#);
        let claims = Token::decode(&text).unwrap().claims().clone();
        assert!(!claims.may_publish("a") && !claims.may_subscribe("a"));
    }

    #[test]
    fn other_algorithms_and_broken_tokens_are_refused() {
        let none = token(r#"{"alg":"none"}"#, "{}");
        assert_eq!(
            Token::decode(&none),
            Err(TokenError::Algorithm { alg: "none".into() })
        );
        assert_eq!(Token::decode("abc"), Err(TokenError::NotCompact));
        assert_eq!(Token::decode("a.b.c.d"), Err(TokenError::NotCompact));
        assert_eq!(
            Token::decode("!!.e30.e30"),
            Err(TokenError::BadBase64 { part: "header" })
        );
        let not_json = format!("{}.{}.", encode(HS256), encode("{\"exp\":\"soon\"}"));
        assert!(matches!(
            Token::decode(&not_json),
            Err(TokenError::BadJson { part: "claims", .. })
        ));
        let negative = format!("{}.{}.", encode(HS256), encode("{\"exp\":-1}"));
        assert!(matches!(
            Token::decode(&negative),
            Err(TokenError::BadJson { part: "claims", .. })
        ));
        let long = "a".repeat(MAX_TOKEN_LEN + 1);
        assert!(matches!(
            Token::decode(&long),
            Err(TokenError::TooLong { .. })
        ));
        let mut many = String::from(r#"{"pushwire":{"publish":["#);
        for i in 0..=MAX_PATTERNS {
            many.push_str(&format!("{}\"c{i}\"", if i == 0 { "" } else { "," }));
        }
        many.push_str("]}}");
        assert_eq!(
            Token::decode(&token(HS256, &many)),
            Err(TokenError::TooManyPatterns)
        );
    }

    #[test]
    fn patterns_match_exactly_by_prefix_or_all() {
        assert!(pattern_matches("*", "anything"));
        assert!(pattern_matches("cam-*", "cam-"));
        assert!(pattern_matches("chat", "chat"));
        assert!(!pattern_matches("chat", "chatroom"));
        assert!(!pattern_matches("cam-*", "webcam-1"));
    }

    proptest::proptest! {
        #[test]
        fn decode_never_panics(text in "[A-Za-z0-9_.=-]{0,200}") {
            let _ = Token::decode(&text);
        }

        #[test]
        fn base64url_round_trips(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..100)) {
            let mut text = String::new();
            base64url_encode(&bytes, &mut text);
            proptest::prop_assert_eq!(base64url_decode(&text), Some(bytes));
        }
    }
}
