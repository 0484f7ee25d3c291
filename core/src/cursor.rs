//! Multi-channel cursors: where a subscriber is in every channel it reads.
//!
//! A [`Cursor`] holds one position per subscribed channel (the per-channel
//! sequence number of the last message delivered, `0` = before the first
//! message) and the hub's *epoch*, a number the driver picks when it creates
//! the hub (boot time, or random). A cursor from an earlier server life has a
//! different epoch, so the hub recognises it and reports a gap instead of
//! silently reading the new life's sequence numbers as if they were the old.
//!
//! A cursor is **relative to the subscription's channel list**: position `i`
//! belongs to the `i`-th channel in the order the subscriber named them. The
//! same cursor string means nothing with a different channel list.
//!
//! The text form is the SSE `id`, the long-poll cursor and the forever-frame
//! id alike: lowercase base-36 numbers joined by `.`, epoch first, e.g.
//! `s44we8.1z` (epoch 1700000000, one channel at sequence 71). It only uses
//! characters from `[0-9a-z.]`, a subset of the URL-safe `[A-Za-z0-9._~-]`,
//! and is canonical: [`Cursor::parse`] accepts exactly what
//! [`Cursor::encode`] writes (no leading zeros, no upper case).
//!
//! ```
//! use pushwire_core::cursor::{advanced_channel, Cursor};
//!
//! let before = Cursor::parse("s44we8.1z.0").unwrap();
//! assert_eq!(before.epoch(), 1_700_000_000);
//! assert_eq!(before.positions(), &[71, 0]);
//!
//! let after = Cursor::new(before.epoch(), vec![71, 1]).unwrap();
//! assert_eq!(after.to_string(), "s44we8.1z.1");
//! assert_eq!(advanced_channel(&before, &after), Some(1));
//! ```

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// The most positions (subscribed channels) a cursor can hold.
pub const MAX_POSITIONS: usize = 64;

/// The longest text a cursor can have: `MAX_POSITIONS + 1` numbers of at most
/// 13 base-36 digits, and the dots between them (909 bytes).
pub const MAX_ENCODED_LEN: usize = (MAX_POSITIONS + 1) * (MAX_DIGITS + 1) - 1;

/// Base-36 digits of `u64::MAX`.
const MAX_DIGITS: usize = 13;

const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// One position per subscribed channel, plus the epoch of the hub that made it.
///
/// Positions are ordered like the subscription's channel list. See the
/// [module docs](self) for the text form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    epoch: u64,
    positions: Vec<u64>,
}

impl Cursor {
    /// Make a cursor from an epoch and one position per channel.
    ///
    /// # Errors
    /// [`CursorError::NoPositions`] when `positions` is empty,
    /// [`CursorError::TooManyPositions`] when it has more than [`MAX_POSITIONS`].
    pub fn new(epoch: u64, positions: Vec<u64>) -> Result<Self, CursorError> {
        if positions.is_empty() {
            return Err(CursorError::NoPositions);
        }
        if positions.len() > MAX_POSITIONS {
            return Err(CursorError::TooManyPositions { max: MAX_POSITIONS });
        }
        Ok(Self { epoch, positions })
    }

    /// Make a cursor from positions the caller knows to be 1..=MAX_POSITIONS
    /// long (the hub's own subscriptions).
    pub(crate) fn from_trusted(epoch: u64, positions: Vec<u64>) -> Self {
        debug_assert!(!positions.is_empty() && positions.len() <= MAX_POSITIONS);
        Self { epoch, positions }
    }

    /// The epoch of the hub that issued this cursor.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The positions, one per channel of the subscription, in its order.
    pub fn positions(&self) -> &[u64] {
        &self.positions
    }

    /// The position for the channel at `index` in the subscription's list.
    pub fn position(&self, index: usize) -> Option<u64> {
        self.positions.get(index).copied()
    }

    /// How many channels this cursor covers.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Always `false`: a cursor covers at least one channel. (For clippy's
    /// `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// Append the text form to `out` (at most [`MAX_ENCODED_LEN`] bytes).
    pub fn encode(&self, out: &mut Vec<u8>) {
        push_base36(out, self.epoch);
        for &position in &self.positions {
            out.push(b'.');
            push_base36(out, position);
        }
    }

    /// Parse the text form written by [`Cursor::encode`].
    ///
    /// Work is bounded: text longer than [`MAX_ENCODED_LEN`] is rejected
    /// before it is scanned.
    ///
    /// # Errors
    /// A [`CursorError`] naming the first rule the text breaks.
    pub fn parse(text: &str) -> Result<Self, CursorError> {
        if text.is_empty() {
            return Err(CursorError::Empty);
        }
        if text.len() > MAX_ENCODED_LEN {
            return Err(CursorError::TooLong {
                len: text.len(),
                max: MAX_ENCODED_LEN,
            });
        }
        if let Some((at, found)) = text
            .char_indices()
            .find(|&(_, ch)| !matches!(ch, '0'..='9' | 'a'..='z' | '.'))
        {
            return Err(CursorError::InvalidCharacter { at, found });
        }
        let mut fields = text.split('.');
        let epoch = fields
            .next()
            .map_or(Err(CursorError::EmptyField { field: 0 }), |f| {
                parse_base36(f, 0)
            })?;
        let mut positions = Vec::new();
        for (index, field) in fields.enumerate() {
            if positions.len() == MAX_POSITIONS {
                return Err(CursorError::TooManyPositions { max: MAX_POSITIONS });
            }
            positions.push(parse_base36(field, index + 1)?);
        }
        Self::new(epoch, positions)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(16);
        self.encode(&mut out);
        // Only ASCII digits, letters and dots were written.
        f.write_str(core::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

impl FromStr for Cursor {
    type Err = CursorError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// Which channel advanced from `prev` to `next`: the index of the only
/// position that grew, when every other position stayed the same.
///
/// The SDK uses it to tell which channel an SSE message (whose `id` is the
/// cursor after it) came from. `None` when the epochs or the channel counts
/// differ (a new server life: its gap messages name their channels), when no
/// position grew, when several did, or when one went back.
pub fn advanced_channel(prev: &Cursor, next: &Cursor) -> Option<usize> {
    if prev.epoch != next.epoch || prev.positions.len() != next.positions.len() {
        return None;
    }
    let mut advanced = None;
    for (index, (before, after)) in prev.positions.iter().zip(&next.positions).enumerate() {
        if after < before || (after > before && advanced.is_some()) {
            return None;
        }
        if after > before {
            advanced = Some(index);
        }
    }
    advanced
}

fn push_base36(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; MAX_DIGITS];
    let mut start = MAX_DIGITS;
    loop {
        let digit = DIGITS.get((value % 36) as usize).copied().unwrap_or(b'0');
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            *slot = digit;
        }
        value /= 36;
        if value == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

/// Parse one canonical base-36 field (characters were checked already).
fn parse_base36(field: &str, index: usize) -> Result<u64, CursorError> {
    if field.is_empty() {
        return Err(CursorError::EmptyField { field: index });
    }
    if field.len() > 1 && field.starts_with('0') {
        return Err(CursorError::LeadingZero { field: index });
    }
    let mut value: u64 = 0;
    for byte in field.bytes() {
        let digit = match byte {
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'z' => byte - b'a' + 10,
            _ => return Err(CursorError::EmptyField { field: index }),
        };
        value = value
            .checked_mul(36)
            .and_then(|v| v.checked_add(u64::from(digit)))
            .ok_or(CursorError::Overflow { field: index })?;
    }
    Ok(value)
}

/// Why a cursor's text was rejected.
///
/// Fields are numbered from 0: field 0 is the epoch, field `i + 1` the
/// position of channel `i`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CursorError {
    /// The text is empty.
    Empty,
    /// The text is longer than [`MAX_ENCODED_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A character other than `0-9`, `a-z` or `.`.
    InvalidCharacter {
        /// Byte offset of the character.
        at: usize,
        /// The character.
        found: char,
    },
    /// Two dots in a row, or a dot at the start or end.
    EmptyField {
        /// Which field (0 = epoch).
        field: usize,
    },
    /// A number written with a leading zero (the form is canonical).
    LeadingZero {
        /// Which field (0 = epoch).
        field: usize,
    },
    /// A number larger than `u64::MAX`.
    Overflow {
        /// Which field (0 = epoch).
        field: usize,
    },
    /// Only an epoch, no channel position.
    NoPositions,
    /// More than [`MAX_POSITIONS`] channel positions.
    TooManyPositions {
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("cursor is empty"),
            Self::TooLong { len, max } => {
                write!(
                    f,
                    "cursor is {len} bytes long, more than the limit of {max}"
                )
            }
            Self::InvalidCharacter { at, found } => write!(
                f,
                "cursor has {found:?} at byte {at}; only 0-9, a-z and '.' are allowed"
            ),
            Self::EmptyField { field } => write!(f, "cursor field {field} is empty"),
            Self::LeadingZero { field } => {
                write!(f, "cursor field {field} has a leading zero")
            }
            Self::Overflow { field } => {
                write!(f, "cursor field {field} is larger than a 64-bit number")
            }
            Self::NoPositions => f.write_str("cursor has an epoch but no channel position"),
            Self::TooManyPositions { max } => {
                write!(f, "cursor has more than {max} channel positions")
            }
        }
    }
}

impl core::error::Error for CursorError {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use proptest::prelude::*;

    fn text(cursor: &Cursor) -> String {
        let mut out = Vec::new();
        cursor.encode(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn cursor_text_uses_canonical_base36_fields() {
        // docs/design.md "Wire contracts": ids are URL-safe [A-Za-z0-9._~-].
        let table: &[(u64, &[u64], &str)] = &[
            (0, &[0], "0.0"),
            (35, &[36], "z.10"),
            (1_700_000_000, &[71], "s44we8.1z"),
            (7, &[1, 0, 2], "7.1.0.2"),
            (u64::MAX, &[u64::MAX], "3w5e11264sgsf.3w5e11264sgsf"),
        ];
        for (epoch, positions, expected) in table {
            let cursor = Cursor::new(*epoch, positions.to_vec()).unwrap();
            assert_eq!(text(&cursor), *expected);
            assert_eq!(cursor.to_string(), *expected);
            assert_eq!(Cursor::parse(expected), Ok(cursor));
        }
    }

    #[test]
    fn parser_rejects_each_broken_rule_with_its_own_error() {
        // Cursor text rules (module docs): canonical lowercase base-36 joined by '.'.
        let long = "1.".repeat(MAX_ENCODED_LEN);
        let too_many = "1".to_string() + &".1".repeat(MAX_POSITIONS + 1);
        let table: &[(&str, CursorError)] = &[
            ("", CursorError::Empty),
            (
                &long,
                CursorError::TooLong {
                    len: long.len(),
                    max: MAX_ENCODED_LEN,
                },
            ),
            ("1.A", CursorError::InvalidCharacter { at: 2, found: 'A' }),
            ("1.-", CursorError::InvalidCharacter { at: 2, found: '-' }),
            ("1.é", CursorError::InvalidCharacter { at: 2, found: 'é' }),
            ("1..2", CursorError::EmptyField { field: 1 }),
            (".1", CursorError::EmptyField { field: 0 }),
            ("1.2.", CursorError::EmptyField { field: 2 }),
            ("01.2", CursorError::LeadingZero { field: 0 }),
            ("1.02", CursorError::LeadingZero { field: 1 }),
            ("1.3w5e11264sgsg", CursorError::Overflow { field: 1 }),
            ("1.zzzzzzzzzzzzzz", CursorError::Overflow { field: 1 }),
            ("abc", CursorError::NoPositions),
            (
                &too_many,
                CursorError::TooManyPositions { max: MAX_POSITIONS },
            ),
        ];
        for (input, expected) in table {
            assert_eq!(Cursor::parse(input), Err(*expected), "input {input:?}");
            assert!(!expected.to_string().is_empty());
        }
    }

    #[test]
    fn cursor_needs_between_one_and_max_positions() {
        assert_eq!(Cursor::new(1, vec![]), Err(CursorError::NoPositions));
        assert_eq!(
            Cursor::new(1, vec![0; MAX_POSITIONS + 1]),
            Err(CursorError::TooManyPositions { max: MAX_POSITIONS })
        );
        let widest = Cursor::new(u64::MAX, vec![u64::MAX; MAX_POSITIONS]).unwrap();
        assert_eq!(text(&widest).len(), MAX_ENCODED_LEN);
        assert_eq!(Cursor::parse(&text(&widest)), Ok(widest));
    }

    #[test]
    fn advanced_channel_names_the_only_position_that_grew() {
        let c = |epoch, positions: &[u64]| Cursor::new(epoch, positions.to_vec()).unwrap();
        let table: &[(Cursor, Cursor, Option<usize>)] = &[
            (c(1, &[4]), c(1, &[5]), Some(0)),
            (c(1, &[4, 2, 9]), c(1, &[4, 7, 9]), Some(1)),
            (c(1, &[4, 2]), c(1, &[4, 2]), None),
            (c(1, &[4, 2]), c(1, &[5, 3]), None),
            (c(1, &[4, 2]), c(1, &[5, 1]), None),
            (c(1, &[4]), c(2, &[5]), None),
            (c(1, &[4]), c(1, &[5, 0]), None),
        ];
        for (prev, next, expected) in table {
            assert_eq!(advanced_channel(prev, next), *expected, "{prev} -> {next}");
        }
    }

    #[test]
    fn single_channel_cursor_is_short() {
        // Epoch = boot time in seconds, a few thousand messages in.
        let cursor = Cursor::new(1_732_450_000, vec![4_000]).unwrap();
        assert!(cursor.to_string().len() <= 10, "{cursor}");
    }

    proptest! {
        #[test]
        fn encode_then_parse_round_trips(
            epoch in any::<u64>(),
            positions in proptest::collection::vec(any::<u64>(), 1..=MAX_POSITIONS),
        ) {
            let cursor = Cursor::new(epoch, positions).unwrap();
            let encoded = text(&cursor);
            prop_assert!(encoded.len() <= MAX_ENCODED_LEN);
            prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.'));
            prop_assert_eq!(Cursor::parse(&encoded), Ok(cursor));
        }

        #[test]
        fn parse_of_any_text_either_fails_or_is_canonical(input in "[0-9a-zA-Z._~-]{0,40}") {
            if let Ok(cursor) = Cursor::parse(&input) {
                prop_assert_eq!(text(&cursor), input);
            }
        }
    }
}
