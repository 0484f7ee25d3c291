//! Media types in HTTP fields: the ranges and weights of an `Accept` field
//! (RFC 9110 §12.5.1, §12.4.2) and the essence of a `Content-Type`.
//!
//! The edge picks a transport from `Accept` with these, and the client
//! machine checks a response's `Content-Type`. Reading never allocates and
//! never fails as a whole: a list is split into its ranges (commas inside
//! quoted parameter values do not split), and a range whose weight is
//! malformed says so in [`MediaRange::quality`], for the caller to decide.
//!
//! ```
//! use pushwire_core::media::{QValue, media_ranges};
//!
//! let accept = "text/html;level=1, application/x-ndjson;q=0.9, */*;q=0";
//! let ranges: Vec<_> = media_ranges(accept).map(|range| (range.media_type, range.quality)).collect();
//! assert_eq!(ranges, [
//!     ("text/html", Ok(QValue::ONE)),
//!     ("application/x-ndjson", Ok(QValue::from_thousandths(900).unwrap())),
//!     ("*/*", Ok(QValue::ZERO)),
//! ]);
//! ```

use core::fmt;

/// A weight (`q=`): a number from 0 to 1 with at most three decimals, kept
/// in thousandths. 0 means "not acceptable"; higher is preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QValue(u16);

impl QValue {
    /// `q=0`: not acceptable.
    pub const ZERO: Self = Self(0);
    /// `q=1`, the weight of a range that gives none.
    pub const ONE: Self = Self(1000);

    /// The weight of `thousandths` / 1000, if it is at most 1.
    #[must_use]
    pub const fn from_thousandths(thousandths: u16) -> Option<Self> {
        if thousandths <= 1000 {
            Some(Self(thousandths))
        } else {
            None
        }
    }

    /// The weight in thousandths (0–1000).
    #[must_use]
    pub const fn thousandths(self) -> u16 {
        self.0
    }

    /// Read a weight as RFC 9110 §12.4.2 writes it:
    /// `0`, `0.` or `0.` and up to three digits, or `1`, `1.` or `1.` and up
    /// to three zeros.
    ///
    /// # Errors
    /// [`QValueError`]: not such a number, more than three decimals, or
    /// above 1.
    pub fn parse(text: &str) -> Result<Self, QValueError> {
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !digits(whole) || !digits(fraction) {
            return Err(QValueError::Malformed);
        }
        let one = match whole {
            "0" => false,
            "1" => true,
            _ if whole.starts_with('0') => return Err(QValueError::Malformed),
            _ => return Err(QValueError::AboveOne),
        };
        if fraction.len() > 3 {
            return Err(QValueError::TooPrecise);
        }
        let mut thousandths = 0_u16;
        for (place, digit) in [100_u16, 10, 1].into_iter().zip(fraction.bytes()) {
            thousandths += place * u16::from(digit - b'0');
        }
        match (one, thousandths) {
            (false, _) => Ok(Self(thousandths)),
            (true, 0) => Ok(Self::ONE),
            (true, _) => Err(QValueError::AboveOne),
        }
    }
}

impl Default for QValue {
    /// [`QValue::ONE`], the weight of a range without `q=`.
    fn default() -> Self {
        Self::ONE
    }
}

/// The shortest form: `1`, `0`, `0.5`, `0.05`, `0.123`.
impl fmt::Display for QValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1000.. => f.write_str("1"),
            0 => f.write_str("0"),
            mut n => {
                let mut width = 3;
                while n % 10 == 0 {
                    n /= 10;
                    width -= 1;
                }
                write!(f, "0.{n:0width$}")
            }
        }
    }
}

/// Why a `q=` value is not a weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum QValueError {
    /// Not a decimal number such as `0.5` (a sign, a letter, quotes, nothing).
    Malformed,
    /// More than three digits after the point.
    TooPrecise,
    /// A number above 1.
    AboveOne,
}

impl fmt::Display for QValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Malformed => "a q value is a number from 0 to 1, such as 0.5",
            Self::TooPrecise => "a q value has at most three digits after the point",
            Self::AboveOne => "a q value is at most 1",
        })
    }
}

impl core::error::Error for QValueError {}

/// One element of an `Accept`-style list: `type/subtype;params;q=0.5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaRange<'a> {
    /// `type/subtype`, `type/*` or `*/*` as sent, without the whitespace
    /// around it (compare with [`MediaRange::is`]: media types ignore case).
    pub media_type: &'a str,
    /// The parameters before the weight as sent, without the `;` and
    /// whitespace around them (`level=1`, `charset="a;b"`); `""` for none.
    pub parameters: &'a str,
    /// The weight: [`QValue::ONE`] without a `q` parameter, the error when
    /// its value is malformed (RFC 9110 does not say what that means, so
    /// the caller decides).
    pub quality: Result<QValue, QValueError>,
}

impl MediaRange<'_> {
    /// Whether the range is exactly `media_type` (ASCII case-insensitive;
    /// wildcards match only themselves).
    #[must_use]
    pub fn is(&self, media_type: &str) -> bool {
        self.media_type.eq_ignore_ascii_case(media_type)
    }
}

/// The ranges of an `Accept`-style field value, in order; empty elements
/// (`a,,b`) are skipped, as the list rule allows (RFC 9110 §5.6.1).
#[derive(Clone, Debug)]
pub struct MediaRanges<'a> {
    rest: Option<&'a str>,
}

/// Iterate over the media ranges of `field` (an `Accept` value; several
/// fields may be joined with `,`).
#[must_use]
pub fn media_ranges(field: &str) -> MediaRanges<'_> {
    MediaRanges { rest: Some(field) }
}

impl<'a> Iterator for MediaRanges<'a> {
    type Item = MediaRange<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (element, rest) = split_unquoted(self.rest?, b',');
            self.rest = rest;
            let element = trim_ows(element);
            if !element.is_empty() {
                return Some(media_range(element));
            }
        }
    }
}

/// Read one non-empty list element.
fn media_range(element: &str) -> MediaRange<'_> {
    let (media_type, mut rest) = split_unquoted(element, b';');
    let mut parameters_end = 0;
    let mut quality = Ok(QValue::ONE);
    // Offsets in `element` of where the parameters start and end.
    let start = element.len() - rest.map_or(0, str::len);
    while let Some(params) = rest {
        let (param, next) = split_unquoted(params, b';');
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if trim_ows(name).eq_ignore_ascii_case("q") {
            quality = QValue::parse(trim_ows(value));
            break;
        }
        parameters_end = element.len() - next.map_or(0, |next| next.len() + 1);
        rest = next;
    }
    let parameters = element
        .get(start..parameters_end.max(start))
        .map_or("", |params| params.trim_matches([';', ' ', '\t']));
    MediaRange {
        media_type: trim_ows(media_type),
        parameters,
        quality,
    }
}

/// `text` up to the first `separator` outside a quoted string, and what
/// follows that separator (`None` if there is none).
fn split_unquoted(text: &str, separator: u8) -> (&str, Option<&str>) {
    let mut quoted = false;
    let mut escaped = false;
    for (at, byte) in text.bytes().enumerate() {
        match byte {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            _ if byte == separator && !quoted => {
                return (text.get(..at).unwrap_or_default(), text.get(at + 1..));
            }
            _ => {}
        }
    }
    (text, None)
}

/// `text` without the optional whitespace (space, tab) around it.
fn trim_ows(text: &str) -> &str {
    text.trim_matches([' ', '\t'])
}

/// The media type of a `Content-Type` value: what comes before its
/// parameters, without the whitespace around it (`text/html` for
/// `text/html; charset=utf-8`).
#[must_use]
pub fn essence(content_type: &str) -> &str {
    trim_ows(split_unquoted(content_type, b';').0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::string::{String, ToString};
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn q(thousandths: u16) -> QValue {
        QValue::from_thousandths(thousandths).unwrap()
    }

    #[test]
    fn q_values_follow_rfc_9110() {
        let cases: &[(&str, Result<QValue, QValueError>)] = &[
            ("1", Ok(QValue::ONE)),
            ("1.", Ok(QValue::ONE)),
            ("1.000", Ok(QValue::ONE)),
            ("0", Ok(QValue::ZERO)),
            ("0.", Ok(QValue::ZERO)),
            ("0.000", Ok(QValue::ZERO)),
            ("0.5", Ok(q(500))),
            ("0.05", Ok(q(50))),
            ("0.123", Ok(q(123))),
            ("0.1234", Err(QValueError::TooPrecise)),
            ("1.001", Err(QValueError::AboveOne)),
            ("1.5", Err(QValueError::AboveOne)),
            ("2", Err(QValueError::AboveOne)),
            ("00.5", Err(QValueError::Malformed)),
            ("", Err(QValueError::Malformed)),
            (".5", Err(QValueError::Malformed)),
            ("+0.5", Err(QValueError::Malformed)),
            ("-0", Err(QValueError::Malformed)),
            ("0.5x", Err(QValueError::Malformed)),
            ("\"0.5\"", Err(QValueError::Malformed)),
            ("0..5", Err(QValueError::Malformed)),
            ("bogus", Err(QValueError::Malformed)),
        ];
        for (text, expected) in cases {
            assert_eq!(QValue::parse(text), *expected, "{text:?}");
        }
        assert_eq!(QValue::from_thousandths(1001), None);
    }

    #[test]
    fn q_values_print_in_their_shortest_form() {
        for (thousandths, text) in [
            (1000, "1"),
            (0, "0"),
            (500, "0.5"),
            (50, "0.05"),
            (5, "0.005"),
            (120, "0.12"),
        ] {
            assert_eq!(q(thousandths).to_string(), text);
        }
    }

    #[test]
    fn ranges_split_on_commas_outside_quotes() {
        let ranges: Vec<MediaRange<'_>> = media_ranges(
            " text/html ; level=\"a,b;c\" ; q=0.2 ; ext=1 ,, application/json;q=bogus, */*,",
        )
        .collect();
        assert_eq!(
            ranges,
            [
                MediaRange {
                    media_type: "text/html",
                    parameters: "level=\"a,b;c\"",
                    quality: Ok(q(200)),
                },
                MediaRange {
                    media_type: "application/json",
                    parameters: "",
                    quality: Err(QValueError::Malformed),
                },
                MediaRange {
                    media_type: "*/*",
                    parameters: "",
                    quality: Ok(QValue::ONE),
                },
            ]
        );
        assert!(ranges[0].is("TEXT/HTML"));
        assert_eq!(media_ranges(",,;;=,").count(), 1);
        assert_eq!(media_ranges("").count(), 0);
        // An unterminated quote takes the rest of the field.
        assert_eq!(media_ranges("a/b;x=\"1,c/d").count(), 1);
    }

    #[test]
    fn the_first_q_parameter_is_the_weight() {
        let range = media_ranges("a/b; charset=utf-8; Q = 0.3; q=0.9")
            .next()
            .unwrap();
        assert_eq!(range.quality, Ok(q(300)));
        assert_eq!(range.parameters, "charset=utf-8");
    }

    #[test]
    fn essence_drops_parameters_and_whitespace() {
        assert_eq!(
            essence(" text/event-stream ;charset=utf-8"),
            "text/event-stream"
        );
        assert_eq!(essence("application/json"), "application/json");
        assert_eq!(essence(""), "");
    }

    fn media_type() -> impl Strategy<Value = String> {
        "[a-z*]{1,8}/[a-z0-9.+*-]{1,12}"
    }

    fn parameters() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(String::new()),
            "[a-p]{1,6}=[a-z0-9]{0,6}",
            "[a-p]{1,6}=\"[a-z ,;=]{0,8}\"",
        ]
    }

    proptest! {
        #[test]
        fn q_values_print_and_parse_back(thousandths in 0_u16..=1000) {
            let value = q(thousandths);
            prop_assert_eq!(QValue::parse(&value.to_string()), Ok(value));
        }

        #[test]
        fn written_ranges_read_back(
            ranges in proptest::collection::vec((media_type(), parameters(), proptest::option::of(0_u16..=1000)), 0..6),
            spaces in 0_usize..3,
        ) {
            let space = &"  "[..spaces];
            let mut field = String::new();
            for (media_type, parameters, weight) in &ranges {
                if !field.is_empty() {
                    field.push_str(&format!("{space},{space}"));
                }
                field.push_str(media_type);
                if !parameters.is_empty() {
                    field.push_str(&format!("{space};{space}{parameters}"));
                }
                if let Some(weight) = weight {
                    field.push_str(&format!("{space};{space}q={}", q(*weight)));
                }
            }
            let read: Vec<MediaRange<'_>> = media_ranges(&field).collect();
            prop_assert_eq!(read.len(), ranges.len());
            for (range, (media_type, parameters, weight)) in read.iter().zip(&ranges) {
                prop_assert_eq!(range.media_type, media_type.as_str());
                prop_assert_eq!(range.parameters, parameters.as_str());
                prop_assert_eq!(range.quality, Ok(weight.map_or(QValue::ONE, q)));
            }
        }

        #[test]
        fn any_field_reads_without_panicking(field in "[a-z/*;=q0-9.,\" \\\\]{0,40}") {
            for range in media_ranges(&field) {
                prop_assert!(field.contains(range.media_type) && field.contains(range.parameters));
            }
        }
    }
}
