//! Fuzz body for `pushwire_core::ndjson::NdjsonParser`: no panic, bounded, and
//! any split of the input parses to the same events as the whole.

use pushwire_core::ndjson::{NdjsonError, NdjsonParser, NdjsonParserConfig};
use pushwire_core::wire::{WireConfig, WireMessage};

/// Push `chunks` one by one, draining after each, then finish; stop at the first (sticky) error.
fn parse(config: NdjsonParserConfig, chunks: &[&[u8]]) -> Vec<Result<WireMessage, NdjsonError>> {
    let mut parser = NdjsonParser::new(config);
    let mut events = Vec::new();
    let drain = |parser: &mut NdjsonParser, events: &mut Vec<_>| -> bool {
        while let Some(event) = parser.poll_event() {
            let failed = event.is_err();
            events.push(event);
            if failed {
                // Sticky: the same error again.
                assert_eq!(parser.poll_event(), events.last().cloned());
                return true;
            }
        }
        false
    };
    for chunk in chunks {
        parser.push(chunk);
        if drain(&mut parser, &mut events) {
            return events;
        }
    }
    parser.finish();
    drain(&mut parser, &mut events);
    events
}

/// Feed `data` (first byte: limits) whole, split in two and byte by byte; all must agree.
pub fn run(data: &[u8]) {
    // The first byte picks small limits so the limit paths get exercised too.
    let (limits, input) = data
        .split_first()
        .map_or((0, data), |(first, rest)| (*first, rest));
    let config = NdjsonParserConfig {
        max_line_len: 16 + usize::from(limits & 0x3f) * 8,
        wire: WireConfig {
            max_depth: 1 + usize::from(limits >> 6) * 4,
        },
    };
    let whole = parse(config, &[input]);

    let split = if input.is_empty() {
        0
    } else {
        usize::from(limits) * 7 % (input.len() + 1)
    };
    let (a, b) = input.split_at(split);
    assert_eq!(parse(config, &[a, b]), whole, "split at {split}");

    let bytewise: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(parse(config, &bytewise), whole, "byte by byte");
}
