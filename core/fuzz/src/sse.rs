/// Fuzz the SSE parser: never panic, and any split of the input parses like the whole.
///
/// The first byte picks the limits (small ones make errors reachable) and the
/// second the split point; the rest is the stream. Also re-encodes every
/// message and checks that it parses back to itself.
pub fn run(data: &[u8]) {
    use pushwire_core::sse::{self, SseEvent, SseParseError, SseParser, SseParserConfig};

    fn parse(config: SseParserConfig, chunks: &[&[u8]]) -> Vec<Result<SseEvent, SseParseError>> {
        let mut parser = SseParser::new(config);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            while let Some(polled) = parser.poll_event() {
                out.push(polled);
            }
        }
        parser.finish();
        assert!(parser.poll_event().is_none());
        out
    }

    let Some((&limits, rest)) = data.split_first() else {
        return;
    };
    let Some((&cut, stream)) = rest.split_first() else {
        return;
    };
    let config = if limits & 1 == 0 {
        SseParserConfig::default()
    } else {
        SseParserConfig::default()
            .with_max_line_len(usize::from(limits >> 1))
            .with_max_data_len(usize::from(limits))
    };

    let whole = parse(config, &[stream]);
    let at = if stream.is_empty() {
        0
    } else {
        usize::from(cut) * stream.len() / 255
    };
    let (head, tail) = stream.split_at(at.min(stream.len()));
    assert_eq!(parse(config, &[head, tail]), whole);
    let bytewise: Vec<&[u8]> = stream.chunks(usize::from(cut % 7) + 1).collect();
    assert_eq!(parse(config, &bytewise), whole);

    // Every parsed message survives encode -> parse (line breaks are LF already).
    for polled in &whole {
        let Ok(SseEvent::Message(message)) = polled else {
            continue;
        };
        let mut wire = Vec::new();
        let event = Some(message.event.as_str());
        sse::encode_event(
            &mut wire,
            Some(&message.last_event_id),
            event,
            &message.data,
        )
        .expect("parsed ids and event names have no CR, LF or NUL");
        let again = parse(SseParserConfig::default(), &[&wire]);
        assert_eq!(again, vec![Ok(SseEvent::Message(message.clone()))]);
    }
}
