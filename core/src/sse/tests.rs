//! Tests of the SSE encoder and parser. Rule names refer to docs/conformance.md §1.

use super::*;
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use proptest::prelude::*;

type Polled = Result<SseEvent, SseParseError>;

/// Push `chunks` one by one, draining after each, then return everything polled.
fn parse_chunks(config: SseParserConfig, chunks: &[&[u8]]) -> Vec<Polled> {
    let mut parser = SseParser::new(config);
    let mut out = Vec::new();
    for chunk in chunks {
        parser.push(chunk);
        while let Some(polled) = parser.poll_event() {
            out.push(polled);
        }
    }
    out
}

fn parse(input: &[u8]) -> Vec<Polled> {
    parse_chunks(SseParserConfig::default(), &[input])
}

/// Parse `input` whole, then one byte at a time, then split at every point;
/// all must agree. Returns the whole-input result.
fn parse_every_way(input: &[u8]) -> Vec<Polled> {
    let whole = parse(input);
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(
        parse_chunks(SseParserConfig::default(), &bytes),
        whole,
        "bytewise {input:?}"
    );
    for at in 0..=input.len() {
        let (a, b) = input.split_at(at);
        assert_eq!(
            parse_chunks(SseParserConfig::default(), &[a, b]),
            whole,
            "split {at} {input:?}"
        );
    }
    whole
}

fn msg(event: &str, data: &str, id: &str) -> Polled {
    Ok(SseEvent::Message(SseMessage {
        event: event.to_string(),
        data: data.to_string(),
        last_event_id: id.to_string(),
    }))
}

fn retry(millis: u64) -> Polled {
    Ok(SseEvent::Retry(millis))
}

/// Run a table of `(input, expected events)` rows, every row parsed every way.
fn check_table(rule: &str, table: &[(&[u8], Vec<Polled>)]) {
    for (input, expected) in table {
        assert_eq!(
            &parse_every_way(input),
            expected,
            "{rule}: input {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

// ----- Decoding -----------------------------------------------------------

#[test]
fn decoding_strips_at_most_one_leading_bom() {
    // §1 Decoding 1: UTF-8 decode strips at most one leading BOM.
    check_table(
        "Decoding 1 (BOM)",
        &[
            (b"\xEF\xBB\xBFdata: a\n\n", vec![msg("message", "a", "")]),
            // A second BOM is part of the field name: unknown field.
            (
                b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n",
                vec![msg("message", "b", "")],
            ),
            // A BOM that is not at the start is an ordinary character.
            (
                b"data: \xEF\xBB\xBFa\n\n",
                vec![msg("message", "\u{FEFF}a", "")],
            ),
            // A lone BOM prefix followed by other bytes is malformed UTF-8.
            (
                b"\xEF\xBBdata: a\n\ndata: b\n\n",
                vec![msg("message", "b", "")],
            ),
            (b"\xEF\xBB\xBF", vec![]),
            (b"\xEF\xBB\xBF\n", vec![]),
        ],
    );
}

#[test]
fn decoding_replaces_malformed_utf8_per_maximal_subpart() {
    // §1 Decoding 1: one U+FFFD per maximal ill-formed subpart.
    check_table(
        "Decoding 1 (U+FFFD)",
        &[
            (b"data: a\xFFb\n\n", vec![msg("message", "a\u{FFFD}b", "")]),
            // Truncated 3-byte sequence: one maximal subpart.
            (
                b"data: \xE2\x82x\n\n",
                vec![msg("message", "\u{FFFD}x", "")],
            ),
            // Truncated sequence cut by a line end.
            (
                b"data: \xE2\x82\r\n\n",
                vec![msg("message", "\u{FFFD}", "")],
            ),
            // F0 80: 80 is not a valid second byte after F0, so three subparts.
            (
                b"data: \xF0\x80\x80\n\n",
                vec![msg("message", "\u{FFFD}\u{FFFD}\u{FFFD}", "")],
            ),
            // Encoded surrogate: three subparts.
            (
                b"data: \xED\xA0\x80\n\n",
                vec![msg("message", "\u{FFFD}\u{FFFD}\u{FFFD}", "")],
            ),
            // Overlong encoding of '/'.
            (
                b"data: \xC0\xAF\n\n",
                vec![msg("message", "\u{FFFD}\u{FFFD}", "")],
            ),
            (b"event: \xFF\ndata: x\n\n", vec![msg("\u{FFFD}", "x", "")]),
            (
                b"id: \xFF\ndata: x\n\n",
                vec![msg("message", "x", "\u{FFFD}")],
            ),
            // Malformed bytes in a field name never make a known name.
            (b"dat\xFF: x\n\ndata: y\n\n", vec![msg("message", "y", "")]),
        ],
    );
}

#[test]
fn decoding_is_streaming_across_chunk_boundaries() {
    // §1 Decoding 2: a multi-byte sequence or the BOM may be split.
    // `check_table` parses each input split at every point.
    check_table(
        "Decoding 2",
        &[
            (
                b"\xEF\xBB\xBFdata: \xE2\x80\xA6\n\n",
                vec![msg("message", "\u{2026}", "")],
            ),
            (
                b"data: \xF0\x9F\x98\x80\n\n",
                vec![msg("message", "\u{1F600}", "")],
            ),
        ],
    );
    let split = parse_chunks(
        SseParserConfig::default(),
        &[b"\xEF", b"\xBB", b"\xBFdata: x\n", b"\n"],
    );
    assert_eq!(split, vec![msg("message", "x", "")]);
}

// ----- Grammar --------------------------------------------------------------

#[test]
fn grammar_accepts_cr_lf_and_crlf_line_ends() {
    // §1 Grammar: end-of-line = CRLF / CR / LF.
    check_table(
        "Grammar end-of-line",
        &[
            (b"data: a\n\n", vec![msg("message", "a", "")]),
            (b"data: a\r\r", vec![msg("message", "a", "")]),
            (b"data: a\r\n\r\n", vec![msg("message", "a", "")]),
            (
                b"data: a\rdata: b\ndata: c\r\n\n",
                vec![msg("message", "a\nb\nc", "")],
            ),
        ],
    );
}

#[test]
fn grammar_crlf_split_across_chunks_is_one_line_end() {
    // §1 Grammar: remember a trailing CR and swallow one following LF.
    let events = parse_chunks(
        SseParserConfig::default(),
        &[b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
    );
    assert_eq!(events, vec![msg("message", "a\nb", "")]);
    // The LF after a CR at a chunk end is swallowed only once.
    let events = parse_chunks(SseParserConfig::default(), &[b"data: a\r", b"\n", b"\n"]);
    assert_eq!(events, vec![msg("message", "a", "")]);
}

#[test]
fn grammar_cr_cr_lf_lf_is_three_line_ends() {
    // §1 Grammar: `\r\r\n\n` is CR, CRLF, LF (Hickson, public-webapps 2009).
    check_table(
        "Grammar CR CRLF LF",
        &[
            (
                b"data: a\r\r\n\ndata: b\n\n",
                vec![msg("message", "a", ""), msg("message", "b", "")],
            ),
            // After "data: a" the three ends give: dispatch, empty dispatch.
            (b"id: 1\rdata: a\r\r\n\n", vec![msg("message", "a", "1")]),
        ],
    );
}

#[test]
fn grammar_treats_nul_tab_and_unicode_separators_as_ordinary_chars() {
    // §1 Grammar: any-char is anything except LF and CR.
    check_table(
        "Grammar any-char",
        &[
            (b"data: a\0b\tc\n\n", vec![msg("message", "a\0b\tc", "")]),
            (
                "data: a\u{2028}b\u{85}c\u{2029}\n\n".as_bytes(),
                vec![msg("message", "a\u{2028}b\u{85}c\u{2029}", "")],
            ),
            (b"event: a\0b\ndata: x\n\n", vec![msg("a\0b", "x", "")]),
        ],
    );
}

// ----- Line processing ----------------------------------------------------

#[test]
fn line_processing_empty_line_dispatches() {
    // §1 Line processing 1: empty line → dispatch the event.
    check_table(
        "Line processing 1",
        &[
            (b"data: a\n\n", vec![msg("message", "a", "")]),
            (b"data: a\n", vec![]),
            (b"\n\n\n", vec![]),
        ],
    );
}

#[test]
fn line_processing_colon_first_is_a_comment() {
    // §1 Line processing 2: first char ":" → ignore the line.
    check_table(
        "Line processing 2",
        &[
            (b":\n", vec![]),
            (b": data: x\n\n", vec![]),
            (
                b"data: a\n:comment\ndata: b\n\n",
                vec![msg("message", "a\nb", "")],
            ),
            (b":\xFF\xFE\0 \n\n", vec![]),
        ],
    );
}

#[test]
fn line_processing_splits_at_first_colon_and_removes_one_space() {
    // §1 Line processing 3: name before the first colon, one leading SP removed.
    check_table(
        "Line processing 3",
        &[
            (b"data:a\n\n", vec![msg("message", "a", "")]),
            (b"data: a\n\n", vec![msg("message", "a", "")]),
            (b"data:  a\n\n", vec![msg("message", " a", "")]),
            (b"data:\ta\n\n", vec![msg("message", "\ta", "")]),
            (b"data: \ta\n\n", vec![msg("message", "\ta", "")]),
            (b"data: a:b: c\n\n", vec![msg("message", "a:b: c", "")]),
            (b"data:\n\n", vec![msg("message", "", "")]),
            (b"data: \n\n", vec![msg("message", "", "")]),
            (b"data: a \n\n", vec![msg("message", "a ", "")]),
        ],
    );
}

#[test]
fn line_processing_line_without_colon_is_a_name_with_empty_value() {
    // §1 Line processing 4: no colon → whole line is the name, value "".
    check_table(
        "Line processing 4",
        &[
            (b"data\n\n", vec![msg("message", "", "")]),
            (b"data\ndata\n\n", vec![msg("message", "\n", "")]),
            (b"event\ndata: x\n\n", vec![msg("message", "x", "")]),
            (
                b"id: 1\ndata: a\n\nid\ndata: b\n\n",
                vec![msg("message", "a", "1"), msg("message", "b", "")],
            ),
        ],
    );
}

#[test]
fn line_processing_names_are_case_sensitive_and_literal() {
    // §1 Line processing 5: ` data` and `Data` are unknown fields.
    check_table(
        "Line processing 5",
        &[
            (b" data: a\n\n", vec![]),
            (b"Data: a\n\n", vec![]),
            (b"DATA: a\ndata: b\n\n", vec![msg("message", "b", "")]),
            (b"data : a\n\n", vec![]),
            (b"Event: x\ndata: b\n\n", vec![msg("message", "b", "")]),
        ],
    );
}

// ----- Fields ---------------------------------------------------------------

#[test]
fn field_event_sets_the_type() {
    // §1 Fields: `event` → event-type buffer := value (the last one wins).
    check_table(
        "Fields event",
        &[
            (b"event: tick\ndata: 1\n\n", vec![msg("tick", "1", "")]),
            (b"event: a\nevent: b\ndata: 1\n\n", vec![msg("b", "1", "")]),
            (
                b"event: a\ndata: 1\n\ndata: 2\n\n",
                vec![msg("a", "1", ""), msg("message", "2", "")],
            ),
            (b"event:\ndata: 1\n\n", vec![msg("message", "1", "")]),
            (b"event:  x\ndata: 1\n\n", vec![msg(" x", "1", "")]),
        ],
    );
}

#[test]
fn field_data_appends_value_and_lf() {
    // §1 Fields: `data` → append value then LF (WPT format-field-data).
    check_table(
        "Fields data",
        &[
            (b"data: a\ndata: b\n\n", vec![msg("message", "a\nb", "")]),
            (b"data:\ndata:\n\n", vec![msg("message", "\n", "")]),
            (b"data: a\ndata:\n\n", vec![msg("message", "a\n", "")]),
            (b"data:\ndata: a\n\n", vec![msg("message", "\na", "")]),
        ],
    );
}

#[test]
fn field_id_with_nul_is_ignored_and_empty_id_resets() {
    // §1 Fields: `id` containing NUL is ignored; "" resets (WPT format-field-id-*).
    check_table(
        "Fields id",
        &[
            (b"id: 1\ndata: a\n\n", vec![msg("message", "a", "1")]),
            (
                b"id: 1\ndata: a\n\nid: 2\0\ndata: b\n\n",
                vec![msg("message", "a", "1"), msg("message", "b", "1")],
            ),
            (
                b"id: 1\ndata: a\n\nid:\ndata: b\n\n",
                vec![msg("message", "a", "1"), msg("message", "b", "")],
            ),
            (
                b"id: 1\ndata: a\n\nid\ndata: b\n\n",
                vec![msg("message", "a", "1"), msg("message", "b", "")],
            ),
            (b"id:  1\ndata: a\n\n", vec![msg("message", "a", " 1")]),
            (
                "id: \u{2026}\ndata: a\n\n".as_bytes(),
                vec![msg("message", "a", "\u{2026}")],
            ),
        ],
    );
}

#[test]
fn field_retry_accepts_ascii_digits_only() {
    // §1 Fields: `retry` only when non-empty and all ASCII digits (WPT format-field-retry-bogus).
    check_table(
        "Fields retry",
        &[
            (b"retry: 1000\n", vec![retry(1000)]),
            (b"retry:0\n", vec![retry(0)]),
            (b"retry: 007\n", vec![retry(7)]),
            (b"retry: 99999999999999999999999\n", vec![retry(u64::MAX)]),
            (b"retry: 1a\n", vec![]),
            (b"retry:  1\n", vec![]),
            (b"retry: -1\n", vec![]),
            (b"retry: +1\n", vec![]),
            (b"retry: 1.5\n", vec![]),
            (b"retry: 1 \n", vec![]),
            (b"retry:\n", vec![]),
            (b"retry\n", vec![]),
            ("retry: \u{0661}\n".as_bytes(), vec![]),
            // retry takes effect at once; the event still needs its blank line.
            (
                b"data: a\nretry: 5\n\n",
                vec![retry(5), msg("message", "a", "")],
            ),
        ],
    );
    let mut parser = SseParser::default();
    parser.push(b"retry: 1\nretry: x\n");
    while parser.poll_event().is_some() {}
    assert_eq!(parser.retry(), Some(1));
}

#[test]
fn field_unknown_names_are_ignored() {
    // §1 Fields: anything else → ignore.
    check_table(
        "Fields unknown",
        &[
            (b"foo: bar\n\n", vec![]),
            (b"foo: bar\ndata: a\nbaz\n\n", vec![msg("message", "a", "")]),
            (b"\xEF\xBB\xBFfoo:\n\n", vec![]),
        ],
    );
}

// ----- Dispatch -------------------------------------------------------------

#[test]
fn dispatch_copies_last_event_id_even_without_an_event() {
    // §1 Dispatch 1: the ID is copied even if nothing is dispatched, and persists.
    let mut parser = SseParser::default();
    parser.push(b"id: 5\n\n");
    assert_eq!(parser.poll_event(), None);
    assert_eq!(parser.last_event_id(), "5");
    parser.push(b"data: a\n\ndata: b\n\n");
    assert_eq!(parser.poll_event(), Some(msg("message", "a", "5")));
    assert_eq!(parser.poll_event(), Some(msg("message", "b", "5")));
    assert_eq!(parser.last_event_id(), "5");
    check_table(
        "Dispatch 1",
        &[(b"id: 5\n\ndata: a\n\n", vec![msg("message", "a", "5")])],
    );
}

#[test]
fn dispatch_of_empty_data_fires_nothing_and_resets_the_type() {
    // §1 Dispatch 2: empty data buffer → clear data and event type, no event.
    check_table(
        "Dispatch 2",
        &[
            (b"event: x\n\ndata: a\n\n", vec![msg("message", "a", "")]),
            (b"event: x\n\n", vec![]),
            (b"data\n\n", vec![msg("message", "", "")]),
        ],
    );
}

#[test]
fn dispatch_removes_exactly_one_trailing_lf() {
    // §1 Dispatch 3: one trailing LF removed.
    check_table(
        "Dispatch 3",
        &[
            (b"data: a\n\n", vec![msg("message", "a", "")]),
            (b"data: a\ndata:\n\n", vec![msg("message", "a\n", "")]),
            (
                b"data: a\ndata:\ndata:\n\n",
                vec![msg("message", "a\n\n", "")],
            ),
        ],
    );
}

#[test]
fn dispatch_type_defaults_to_message_and_buffers_clear() {
    // §1 Dispatch 4 and 5: type defaults to "message"; buffers cleared after.
    check_table(
        "Dispatch 4-5",
        &[
            (b"data: a\n\n", vec![msg("message", "a", "")]),
            (
                b"event: e\ndata: a\n\ndata: b\n\n",
                vec![msg("e", "a", ""), msg("message", "b", "")],
            ),
            (
                b"event: message\ndata: a\n\n",
                vec![msg("message", "a", "")],
            ),
        ],
    );
}

// ----- End of stream --------------------------------------------------------

#[test]
fn end_of_stream_drops_the_unterminated_event_and_its_id() {
    // §1 End of stream (WPT format-data-before-final-empty-line).
    check_table(
        "End of stream",
        &[
            (
                b"data: a\n\nid: 9\ndata: b\n",
                vec![msg("message", "a", "")],
            ),
            (b"data: a\n\ndata: b", vec![msg("message", "a", "")]),
        ],
    );
    let mut parser = SseParser::default();
    parser.push(b"id: 1\ndata: a\n\nid: 2\nevent: e\ndata: b\n");
    assert_eq!(parser.poll_event(), Some(msg("message", "a", "1")));
    assert_eq!(parser.poll_event(), None);
    parser.finish();
    assert_eq!(parser.last_event_id(), "1");
    // The next stream starts clean: no leftover data, type or id, and a BOM again.
    parser.push(b"\xEF\xBB\xBFdata: c\n\n");
    assert_eq!(parser.poll_event(), Some(msg("message", "c", "1")));
}

#[test]
fn end_of_stream_keeps_last_event_id_for_the_reconnected_stream() {
    // §1 Processing model (reestablish) and WPT `last-event-id.py`: the
    // second response has no `id` line, yet its event carries the first one's id.
    let mut parser = SseParser::default();
    parser.push("id: \u{2026}\nretry: 200\ndata: hello\n\n".as_bytes());
    assert_eq!(parser.poll_event(), Some(retry(200)));
    assert_eq!(
        parser.poll_event(),
        Some(msg("message", "hello", "\u{2026}"))
    );
    assert_eq!(parser.poll_event(), None);
    parser.finish();
    assert_eq!(parser.last_event_id(), "\u{2026}");
    parser.push("data: \u{2026}\n\n".as_bytes());
    assert_eq!(
        parser.poll_event(),
        Some(msg("message", "\u{2026}", "\u{2026}"))
    );
}

#[test]
fn end_of_stream_forgets_a_pending_cr() {
    // §1 End of stream: a new stream's leading LF is its own line end.
    let mut parser = SseParser::default();
    parser.push(b"data: a\r");
    assert_eq!(parser.poll_event(), None);
    parser.finish();
    parser.push(b"\ndata: b\n\n");
    assert_eq!(parser.poll_event(), Some(msg("message", "b", "")));
}

// ----- Limits and errors ------------------------------------------------------

#[test]
fn parser_rejects_line_over_limit() {
    let config = SseParserConfig::default().with_max_line_len(8);
    let ok = parse_chunks(config, &[b"data: 12\n\n"]);
    assert_eq!(ok, vec![msg("message", "12", "")]);
    let too_long = || Err(SseParseError::LineTooLong { limit: 8 });
    // Complete or not, split or not, the same error.
    assert_eq!(parse_chunks(config, &[b"data: 123\n\n"]), vec![too_long()]);
    assert_eq!(parse_chunks(config, &[b"data: 123"]), vec![too_long()]);
    assert_eq!(
        parse_chunks(config, &[b"data: ", b"123", b"\n"]),
        vec![too_long()]
    );
    // Comments count too; events before the long line still come out.
    assert_eq!(
        parse_chunks(config, &[b"data: 1\n\n:123456789"]),
        vec![msg("message", "1", ""), too_long()]
    );
}

#[test]
fn parser_rejects_data_over_limit() {
    let config = SseParserConfig::default().with_max_data_len(4);
    assert_eq!(
        parse_chunks(config, &[b"data: abc\n\n"]),
        vec![msg("message", "abc", "")]
    );
    let too_large = || Err(SseParseError::DataTooLarge { limit: 4 });
    assert_eq!(
        parse_chunks(config, &[b"data: ab\ndata: c\n\n"]),
        vec![too_large()]
    );
    assert_eq!(parse_chunks(config, &[b"data: abcd\n"]), vec![too_large()]);
}

#[test]
fn parser_error_is_reported_once_then_stream_is_over_until_finish() {
    let config = SseParserConfig::default().with_max_line_len(6);
    let mut parser = SseParser::new(config);
    parser.push(b"id: 1\n\ndata: 12345\n\ndata: a\n\n");
    assert_eq!(
        parser.poll_event(),
        Some(Err(SseParseError::LineTooLong { limit: 6 }))
    );
    assert_eq!(parser.poll_event(), None);
    parser.push(b"data: b\n\n");
    assert_eq!(parser.poll_event(), None);
    parser.finish();
    parser.push(b"data\n\n");
    assert_eq!(parser.poll_event(), Some(msg("message", "", "1")));
}

#[test]
fn parser_survives_hostile_input_without_panicking() {
    let config = SseParserConfig::default()
        .with_max_line_len(64)
        .with_max_data_len(64);
    let hostile: &[&[u8]] = &[
        &[0xFF; 1000],
        &[b'\r'; 1000],
        &[b':'; 1000],
        b"data:\xF0\x9F\x98",
        b"retry: 99999999999999999999999999999999999999\n",
    ];
    for input in hostile {
        let _ = parse_chunks(config, &[input]);
        let bytes: Vec<&[u8]> = input.chunks(3).collect();
        let _ = parse_chunks(config, &bytes);
    }
    // A long line that is never finished errors instead of buffering without bound.
    let mut parser = SseParser::new(config);
    for _ in 0..100 {
        parser.push(b"data: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        while parser.poll_event().is_some() {}
    }
    assert!(parser.buf.capacity() < 1024);
}

#[test]
fn parser_finds_line_breaks_at_every_offset_of_a_long_line() {
    for len in 0..40 {
        for end in [b"\n", b"\r"] {
            let mut input = b"data:".to_vec();
            input.extend(core::iter::repeat_n(b'x', len));
            input.extend_from_slice(end);
            input.extend_from_slice(end);
            let expected = "x".repeat(len);
            assert_eq!(parse(&input), vec![msg("message", &expected, "")]);
        }
    }
}

// ----- Encoder ------------------------------------------------------------

fn encoded(id: Option<&str>, event: Option<&str>, data: &str) -> String {
    let mut out = Vec::new();
    encode_event(&mut out, id, event, data).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn encoder_writes_events_in_the_documented_layout() {
    let table: &[(Option<&str>, Option<&str>, &str, &str)] = &[
        (None, None, "a", "data: a\n\n"),
        (
            Some("7"),
            Some("tick"),
            "a",
            "id: 7\nevent: tick\ndata: a\n\n",
        ),
        (Some(""), None, "a", "id:\ndata: a\n\n"),
        (None, Some(""), "a", "data: a\n\n"),
        (None, None, "", "data:\n\n"),
        (None, None, " x", "data:  x\n\n"),
        (None, None, "a\nb", "data: a\ndata: b\n\n"),
        (None, None, "a\rb\r\nc", "data: a\ndata: b\ndata: c\n\n"),
        (None, None, "a\n", "data: a\ndata:\n\n"),
        (None, None, "\r\n", "data:\ndata:\n\n"),
        (None, None, "\n\r", "data:\ndata:\ndata:\n\n"),
        (
            Some(" 1"),
            Some(" e"),
            "d",
            "id:  1\nevent:  e\ndata: d\n\n",
        ),
    ];
    for (id, event, data, expected) in table {
        assert_eq!(
            encoded(*id, *event, data),
            *expected,
            "{id:?} {event:?} {data:?}"
        );
    }
}

#[test]
fn encoder_rejects_forbidden_ids_and_event_names_without_writing() {
    // §1 Server rules: id without CR, LF, NUL; event without CR, LF.
    let table: &[(Option<&str>, Option<&str>, SseEncodeError)] = &[
        (Some("a\nb"), None, SseEncodeError::IdContainsLineBreak),
        (Some("a\rb"), None, SseEncodeError::IdContainsLineBreak),
        (Some("a\r\n"), None, SseEncodeError::IdContainsLineBreak),
        (Some("a\0b"), None, SseEncodeError::IdContainsNul),
        (None, Some("a\nb"), SseEncodeError::EventContainsLineBreak),
        (None, Some("a\rb"), SseEncodeError::EventContainsLineBreak),
        (
            Some("ok"),
            Some("\r\n"),
            SseEncodeError::EventContainsLineBreak,
        ),
    ];
    for (id, event, error) in table {
        let mut out = b"kept".to_vec();
        assert_eq!(encode_event(&mut out, *id, *event, "data"), Err(*error));
        assert_eq!(out, b"kept");
        if let (Some(id), None) = (id, event) {
            assert_eq!(encode_id(&mut out, id), Err(*error));
        }
        if event.is_some() {
            assert_eq!(encode_event_body(&mut out, *event, "data"), Err(*error));
        }
        assert_eq!(out, b"kept");
    }
    let mut out = Vec::new();
    assert_eq!(
        encode_event(&mut out, None, Some("a\0b"), "x"),
        Ok(()),
        "NUL is allowed in event names"
    );
    assert!(!SseEncodeError::IdContainsNul.to_string().is_empty());
}

#[test]
fn encoder_id_plus_body_equals_whole_event() {
    let mut split = Vec::new();
    encode_id(&mut split, "42").unwrap();
    encode_event_body(&mut split, Some("gap"), "{\"channel\":\"c\",\"missed\":3}").unwrap();
    let mut whole = Vec::new();
    encode_event(
        &mut whole,
        Some("42"),
        Some("gap"),
        "{\"channel\":\"c\",\"missed\":3}",
    )
    .unwrap();
    assert_eq!(split, whole);
}

#[test]
fn encoder_data_round_trips_through_the_parser() {
    // Line breaks come back as LF: clients normalise CR and CRLF (§1 Grammar).
    let table: &[(&str, &str)] = &[
        ("", ""),
        ("a", "a"),
        (" a", " a"),
        ("  a", "  a"),
        ("a\n", "a\n"),
        ("a\n\n", "a\n\n"),
        ("\n", "\n"),
        ("a\rb", "a\nb"),
        ("a\r\nb", "a\nb"),
        ("a\r\n", "a\n"),
        ("a\r", "a\n"),
        ("\r\r\n\n", "\n\n\n"),
        (":a", ":a"),
        ("data: x\n\nid: 1", "data: x\n\nid: 1"),
    ];
    for (data, expected) in table {
        let wire = encoded(Some("1"), Some("e"), data);
        assert_eq!(
            parse(wire.as_bytes()),
            vec![msg("e", expected, "1")],
            "{data:?}"
        );
    }
}

#[test]
fn encoder_writes_retry_comments_heartbeats_and_preamble() {
    let mut out = Vec::new();
    encode_retry(&mut out, 0);
    encode_retry(&mut out, u64::MAX);
    encode_comment(&mut out, "ping");
    encode_comment(&mut out, "");
    encode_comment(&mut out, "a\nb\r\n\rdata: evil");
    encode_heartbeat(&mut out);
    assert_eq!(
        String::from_utf8(out.clone()).unwrap(),
        "retry: 0\nretry: 18446744073709551615\n: ping\n:\n: a\n: b\n:\n: data: evil\n:\n"
    );
    assert_eq!(parse(&out), vec![retry(0), retry(u64::MAX)]);

    let mut out = Vec::new();
    encode_preamble(&mut out, &SsePreambleConfig::default());
    assert!(out.is_empty());
    let config = SsePreambleConfig::default()
        .with_padding(SsePreambleConfig::PROXY_PADDING)
        .with_retry_millis(Some(3000));
    encode_preamble(&mut out, &config);
    assert_eq!(out.len(), 2048 + "retry: 3000\n".len());
    assert!(out.starts_with(b": "));
    assert!(out.ends_with(b"\nretry: 3000\n"));
    assert_eq!(parse(&out), vec![retry(3000)]);
    let mut tiny = Vec::new();
    encode_preamble(&mut tiny, &SsePreambleConfig::default().with_padding(1));
    assert_eq!(tiny, b":\n");
}

// ----- Properties -------------------------------------------------------------

fn id_strategy() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[^\r\n\u{0}]{0,12}")
}

fn event_strategy() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[^\r\n]{0,12}")
}

/// Text rich in line breaks, spaces, colons and non-ASCII.
fn data_strategy() -> impl Strategy<Value = String> {
    prop_oneof!["[a \r\n:\u{FEFF}\u{e9}\u{1F600}]{0,24}", any::<String>(),]
}

/// Bytes rich in SSE syntax.
fn stream_strategy() -> impl Strategy<Value = Vec<u8>> {
    let token = prop_oneof![
        Just(&b"data"[..]),
        Just(&b"id"[..]),
        Just(&b"event"[..]),
        Just(&b"retry"[..]),
        Just(&b":"[..]),
        Just(&b" "[..]),
        Just(&b"\n"[..]),
        Just(&b"\r"[..]),
        Just(&b"\r\n"[..]),
        Just(&b"\xEF\xBB\xBF"[..]),
        Just(&b"\xE2\x80"[..]),
        Just(&b"\xA6"[..]),
        Just(&b"\0"[..]),
        Just(&b"12"[..]),
        Just(&b"x"[..]),
    ];
    proptest::collection::vec(token, 0..48).prop_map(|tokens| tokens.concat())
}

proptest! {
    #[test]
    fn encoded_events_parse_back_to_the_same_event(
        events in proptest::collection::vec((id_strategy(), event_strategy(), data_strategy()), 1..5),
    ) {
        let mut wire = Vec::new();
        let mut expected = Vec::new();
        let mut last_id = String::new();
        for (id, event, data) in &events {
            encode_event(&mut wire, id.as_deref(), event.as_deref(), data).unwrap();
            if let Some(id) = id {
                last_id.clone_from(id);
            }
            let event = event.as_deref().filter(|event| !event.is_empty()).unwrap_or("message");
            let data = data.replace("\r\n", "\n").replace('\r', "\n");
            expected.push(msg(event, &data, &last_id));
        }
        prop_assert_eq!(parse(&wire), expected);
    }

    #[test]
    fn any_chunk_split_parses_like_the_whole_input(
        input in stream_strategy(),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
        small_limits in any::<bool>(),
    ) {
        let config = if small_limits {
            SseParserConfig::default().with_max_line_len(12).with_max_data_len(16)
        } else {
            SseParserConfig::default()
        };
        let whole = parse_chunks(config, &[&input]);
        let mut points: Vec<usize> = cuts.iter().map(|cut| cut.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut chunks: Vec<&[u8]> = Vec::new();
        let mut from = 0;
        for point in points {
            chunks.push(&input[from..point]);
            from = point;
        }
        chunks.push(&input[from..]);
        prop_assert_eq!(parse_chunks(config, &chunks), whole);
    }
}

#[test]
fn display_messages_name_the_limit() {
    assert_eq!(
        format!("{}", SseParseError::LineTooLong { limit: 5 }),
        "SSE line longer than the limit of 5 bytes"
    );
    assert_eq!(
        format!("{}", SseParseError::DataTooLarge { limit: 5 }),
        "SSE event data larger than the limit of 5 bytes"
    );
}

#[test]
fn encoded_cursor_sets_last_event_id_without_firing_an_event() {
    // §1 "Dispatch": the id is copied even when nothing is dispatched.
    let mut wire = Vec::new();
    encode_cursor(&mut wire, "7.3").unwrap();
    assert_eq!(wire, b"id: 7.3\n\n");
    let mut parser = SseParser::default();
    parser.push(&wire);
    assert!(parser.poll_event().is_none());
    assert_eq!(parser.last_event_id(), "7.3");
    assert_eq!(
        encode_cursor(&mut wire, "a\nb"),
        Err(SseEncodeError::IdContainsLineBreak)
    );
}
