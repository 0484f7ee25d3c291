//! Fast substring search without dependencies (and without `unsafe`).
//!
//! Candidates are found with a word-at-a-time ("SWAR") scan for the needle's
//! first byte, eight bytes per `u64`, four words per step; each candidate is
//! then compared in full. Delimiter needles start with `\n` or `-`, both rare
//! in JPEG data, so nearly all time is spent in the word loop.

/// Where a needle was found in a haystack that may still grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Search {
    /// The whole needle starts at this index.
    Found(usize),
    /// The haystack ends with a prefix of the needle starting at this index.
    Partial(usize),
    /// No occurrence, not even a partial one at the end.
    Absent,
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// Bytes of `word` equal to zero get their high bit set; bits above the
/// first zero byte may be set spuriously, so only the lowest is exact.
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LO) & !word & HI
}

/// Index of the first `byte` in `hay`.
pub(super) fn find_byte(byte: u8, hay: &[u8]) -> Option<usize> {
    let splat = LO * u64::from(byte);
    let (blocks, tail) = hay.as_chunks::<32>();
    for (block_index, block) in blocks.iter().enumerate() {
        let (words, _) = block.as_chunks::<8>();
        let any = words.iter().fold(0, |any, word| {
            any | zero_bytes(u64::from_le_bytes(*word) ^ splat)
        });
        if any == 0 {
            continue;
        }
        for (word_index, word) in words.iter().enumerate() {
            let hits = zero_bytes(u64::from_le_bytes(*word) ^ splat);
            if hits != 0 {
                let in_word = (hits.trailing_zeros() / 8) as usize;
                return Some(block_index * 32 + word_index * 8 + in_word);
            }
        }
    }
    let done = blocks.len() * 32;
    tail.iter().position(|&b| b == byte).map(|at| done + at)
}

/// Index of the first complete `needle` in `hay`.
pub(super) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    match search(hay, needle) {
        Search::Found(at) => Some(at),
        Search::Partial(_) | Search::Absent => None,
    }
}

/// Look for `needle` in `hay`, reporting a prefix of it cut off by the end.
pub(super) fn search(hay: &[u8], needle: &[u8]) -> Search {
    let Some((&first, _)) = needle.split_first() else {
        return Search::Found(0);
    };
    let mut from = 0;
    while let Some(rest) = hay.get(from..) {
        let Some(offset) = find_byte(first, rest) else {
            return Search::Absent;
        };
        let at = from + offset;
        let candidate = hay.get(at..).unwrap_or_default();
        if candidate.starts_with(needle) {
            return Search::Found(at);
        }
        if candidate.len() < needle.len() && needle.starts_with(candidate) {
            return Search::Partial(at);
        }
        from = at + 1;
    }
    Search::Absent
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(hay: &[u8], needle: &[u8]) -> Search {
        for at in 0..hay.len() {
            let candidate = &hay[at..];
            if candidate.starts_with(needle) {
                return Search::Found(at);
            }
            if candidate.len() < needle.len() && needle.starts_with(candidate) {
                return Search::Partial(at);
            }
        }
        Search::Absent
    }

    #[test]
    fn byte_search_finds_every_position() {
        for len in 0..100 {
            for at in 0..len {
                let mut hay = alloc::vec![0x80u8; len];
                hay[at] = b'\n';
                if at + 1 < len {
                    hay[at + 1] = b'\n';
                }
                assert_eq!(find_byte(b'\n', &hay), Some(at), "len {len} at {at}");
            }
            assert_eq!(find_byte(b'\n', &alloc::vec![0x0bu8; len]), None);
        }
    }

    proptest! {
        #[test]
        fn search_agrees_with_a_naive_scan(
            hay in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'-'), Just(b'a'), any::<u8>()], 0..200),
            needle in proptest::collection::vec(prop_oneof![Just(b'\n'), Just(b'-'), Just(b'a')], 1..6),
        ) {
            prop_assert_eq!(search(&hay, &needle), naive(&hay, &needle));
            let expected = hay.windows(needle.len()).position(|w| w == needle.as_slice());
            prop_assert_eq!(find(&hay, &needle), expected);
        }
    }
}
