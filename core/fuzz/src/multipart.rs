// Fuzz body for `pushwire_core::multipart::MultipartParser`.
//
// The first byte picks the boundary form, the limits and the split point; the
// rest is the stream. The whole input, the input split in two and the input
// fed byte by byte must give the same events; errors must be sticky.

/// Feed `data` to the multipart parser whole and split, and compare the events.
pub fn run(data: &[u8]) {
    use pushwire_core::multipart::{
        Boundary, MultipartError, MultipartEvent, MultipartParser, MultipartParserConfig,
        boundary_from_content_type,
    };

    type Polled = Result<MultipartEvent, MultipartError>;

    /// Poll until `None` or an error; true after an error (which must be sticky).
    fn drain(parser: &mut MultipartParser, out: &mut Vec<Polled>) -> bool {
        while let Some(polled) = parser.poll_event() {
            if let Err(error) = polled {
                assert_eq!(parser.poll_event(), Some(Err(error)));
                out.push(Err(error));
                return true;
            }
            out.push(polled);
        }
        false
    }

    fn events(boundary: &Boundary, config: MultipartParserConfig, chunks: &[&[u8]]) -> Vec<Polled> {
        let mut parser = MultipartParser::new(boundary, config);
        let mut out = Vec::new();
        for chunk in chunks {
            parser.push(chunk);
            if drain(&mut parser, &mut out) {
                return out;
            }
        }
        parser.finish();
        drain(&mut parser, &mut out);
        out
    }

    let Some((&selector, stream)) = data.split_first() else {
        return;
    };
    let content_type = if selector & 1 == 0 {
        "multipart/x-mixed-replace; boundary=b"
    } else {
        "multipart/x-mixed-replace; boundary=--b"
    };
    let Ok(boundary) = boundary_from_content_type(content_type) else {
        return;
    };
    let config = if selector & 2 == 0 {
        MultipartParserConfig::default()
    } else {
        MultipartParserConfig {
            max_header_line: 32,
            max_header_count: 4,
            max_part_size: 64,
        }
    };
    let split = usize::from(selector >> 2).wrapping_mul(31) % (stream.len() + 1);
    let (head, tail) = stream.split_at(split);
    let whole = events(&boundary, config, &[stream]);
    assert_eq!(whole, events(&boundary, config, &[head, tail]));
    let bytes: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(whole, events(&boundary, config, &bytes));
}
