use pushwire_core::http1::{
    BodyLength, ChunkHead, HeadError, RequestHead, head_len, http_date, parse_request_head, reason,
    write_response_head,
};

type Parsed<'a> = Result<Option<(RequestHead<'a>, usize)>, HeadError>;

/// Fuzz the HTTP/1.1 heads: read the bytes as a request head, and make a
/// response head and chunk lines out of them.
///
/// The whole input is the request, read with an 8 KiB limit and with the
/// limit its last byte picks (small limits make `TooLarge` reachable). The
/// bytes also give the response's status, header fields, body length and
/// date, and a chunk size. Properties:
/// - nothing panics;
/// - every prefix of the input answers `Ok(None)` up to some length and the
///   whole input's answer from there on: a head from exactly `used` bytes on,
///   `TooLarge` from exactly `limit` bytes on, any other error at most at
///   `limit`; `Ok(None)` for the whole input only while it is shorter than
///   `limit`;
/// - `0 < used <= data.len()` and `used <= limit`, and `head_len` finds
///   the same end (the front recognises known heads by it);
/// - a parsed head written back as `method target HTTP/1.1` and
///   `name: value` lines parses to an equal head, using all those bytes,
///   and `header` finds a field's first value whatever the name's case;
/// - a head's `content_length` is a length only when it has exactly one
///   `content-length` field, of digits only, and no `transfer-encoding`,
///   and then it is that field's number;
/// - `write_response_head` appends (keeps what the buffer held), writes the
///   status line for the status (500 outside 100–999), then exactly the
///   header lines its docs promise (a token name, a value of visible bytes,
///   space, tab or obs-text), the body length and the date, in order, and
///   counts what it dropped; its output ends in the only empty line and no
///   line holds CR, LF or NUL (no header injection); with its status line
///   swapped for a request line it parses back to the same fields;
/// - `http_date` is 29 printable ASCII bytes ending in ` GMT`;
/// - `ChunkHead::new(n)` is lowercase hex without leading zeros and CRLF,
///   and `usize::from_str_radix` reads `n` back.
pub fn run(data: &[u8]) {
    let small = usize::from(data.last().copied().unwrap_or(0));
    for limit in [8192, small] {
        if let Ok(Some((head, _))) = check_prefixes(data, limit) {
            check_round_trip(&head);
        }
    }

    // Up to 8 trailing bytes as a number: body length, date and chunk size.
    let mut tail = [0u8; 8];
    for (slot, &byte) in tail.iter_mut().zip(data.iter().rev()) {
        *slot = byte;
    }
    let number = u64::from_le_bytes(tail);
    check_response_head(data, number);
    for size in [
        usize::try_from(number).unwrap_or(usize::MAX),
        data.len(),
        usize::MAX >> (number % 64),
    ] {
        check_chunk_head(size);
    }
}

/// Parse every prefix of `data` and check it against the whole's answer.
fn check_prefixes(data: &[u8], limit: usize) -> Parsed<'_> {
    let whole = parse_request_head(data, limit);
    let mut decided = None;
    for split in 0..=data.len() {
        let prefix = parse_request_head(&data[..split], limit);
        if decided.is_none() && prefix != Ok(None) {
            decided = Some(split);
        }
        if decided.is_some() {
            assert_eq!(prefix, whole, "prefix of {split} bytes, limit {limit}");
        }
    }
    match &whole {
        Ok(None) => assert!(data.len() < limit, "undecided at the limit"),
        Ok(Some((_, used))) => {
            assert_eq!(decided, Some(*used), "a head is decided at its end");
            assert!(0 < *used && *used <= data.len() && *used <= limit);
            assert_eq!(head_len(data), Some(*used), "head_len disagrees");
        }
        Err(HeadError::TooLarge) => assert_eq!(decided, Some(limit)),
        Err(_) => assert!(decided.is_some_and(|at| at <= limit)),
    }
    whole
}

/// Write `head` back out and parse it again.
fn check_round_trip(head: &RequestHead<'_>) {
    let mut wire = format!("{} {} HTTP/1.1\r\n", head.method, head.target).into_bytes();
    for header in head.headers() {
        wire.extend_from_slice(header.name.as_bytes());
        wire.extend_from_slice(b": ");
        wire.extend_from_slice(header.value);
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"\r\n");
    assert_eq!(
        parse_request_head(&wire, usize::MAX),
        Ok(Some((*head, wire.len())))
    );
    let named = |name: &str| -> Vec<&[u8]> {
        head.headers()
            .filter(|header| header.is(name))
            .map(|header| header.value)
            .collect()
    };
    assert_eq!(
        head.header("Content-Length"),
        named("content-length").first().copied()
    );
    let lengths: Vec<String> = named("content-length")
        .into_iter()
        .map(|value| String::from_utf8_lossy(value).into_owned())
        .collect();
    let chunked = !named("transfer-encoding").is_empty();
    let plain = |value: &str| !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit());
    match head.content_length() {
        Some(length) => {
            assert!(!chunked && lengths.len() == 1 && plain(&lengths[0]));
            assert_eq!(lengths[0].parse::<u64>(), Ok(length));
        }
        None => assert!(
            chunked
                || lengths.len() != 1
                || !plain(&lengths[0])
                || lengths[0].parse::<u64>().is_err()
        ),
    }
}

/// Write a response head from fields cut out of `data` and check its lines.
fn check_response_head(data: &[u8], number: u64) {
    let status = match data {
        [a, b, ..] => u16::from_le_bytes([*a, *b]) % 1024,
        _ => 200,
    };
    let text = String::from_utf8_lossy(data);
    // Fields two ways: alternate pieces between colons (names and values with
    // spaces, CR and LF in them), and each line split at its first colon.
    let pieces: Vec<&str> = text.split(':').collect();
    let mut fields: Vec<(&str, &str)> = pieces
        .chunks(2)
        .take(30)
        .map(|pair| (pair[0], pair.get(1).copied().unwrap_or("")))
        .collect();
    fields.extend(
        text.split('\n')
            .filter_map(|line| line.strip_suffix('\r').unwrap_or(line).split_once(':'))
            .take(30),
    );
    let body = if number & 1 == 0 {
        BodyLength::Chunked
    } else {
        BodyLength::Known(number >> 1)
    };
    let date = (number & 2 == 0).then(|| http_date(number >> 2));
    if let Some(date) = &date {
        assert!(date.iter().all(|b| (b' '..=b'~').contains(b)) && date.ends_with(b" GMT"));
    }

    let mut out = b"held".to_vec();
    let dropped = write_response_head(
        &mut out,
        status,
        fields.iter().copied(),
        body,
        date.as_ref(),
    );
    let out = out
        .strip_prefix(b"held")
        .expect("appended to what was there");
    let out = core::str::from_utf8(out).expect("written from str and ASCII");

    let lines: Vec<&str> = out
        .strip_suffix("\r\n\r\n")
        .expect("ends in an empty line")
        .split("\r\n")
        .collect();
    for line in &lines {
        assert!(!line.is_empty(), "an empty line before the end: {out:?}");
        assert!(!line.contains(['\r', '\n', '\0']), "injection: {line:?}");
    }
    let shown = if (100..=999).contains(&status) {
        status
    } else {
        500
    };
    assert_eq!(lines[0], format!("HTTP/1.1 {shown} {}", reason(shown)));

    let valid = |(name, value): &(&str, &str)| {
        !name.is_empty() && name.bytes().all(is_token) && value.bytes().all(is_field_byte)
    };
    let framing = |name: &str| {
        name.eq_ignore_ascii_case("content-length")
            || name.eq_ignore_ascii_case("transfer-encoding")
    };
    let kept: Vec<(&str, &str)> = fields
        .iter()
        .filter(|field| valid(field) && !framing(field.0))
        .copied()
        .collect();
    assert_eq!(dropped, fields.iter().filter(|field| !valid(field)).count());
    let mut expected: Vec<String> = kept
        .iter()
        .map(|(name, value)| format!("{name}: {value}"))
        .collect();
    expected.push(match body {
        BodyLength::Known(length) => format!("content-length: {length}"),
        BodyLength::Chunked => "transfer-encoding: chunked".to_owned(),
    });
    if let Some(date) = &date {
        expected.push(format!("date: {}", core::str::from_utf8(date).unwrap()));
    }
    assert_eq!(lines[1..], expected[..]);

    // The same fields read back by this module's own head reader.
    let request = format!("GET / HTTP/1.1\r\n{}", &out[lines[0].len() + 2..]);
    // The writer keeps only values the reader takes, so every head it
    // writes reads back.
    let parsed = parse_request_head(request.as_bytes(), usize::MAX);
    let (head, used) = parsed.unwrap().expect("a whole head");
    assert_eq!(used, request.len());
    let again: Vec<(&str, &[u8])> = expected
        .iter()
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name, value.trim_ascii().as_bytes())
        })
        .collect();
    let read: Vec<(&str, &[u8])> = head
        .headers()
        .map(|header| (header.name, header.value))
        .collect();
    assert_eq!(read, again);
}

/// Check one chunk-size line.
fn check_chunk_head(size: usize) {
    let line = ChunkHead::new(size);
    let digits = core::str::from_utf8(line.as_bytes())
        .unwrap()
        .strip_suffix("\r\n")
        .expect("ends in CRLF");
    assert!(
        !digits.is_empty()
            && digits
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    assert!(digits == "0" || !digits.starts_with('0'), "{digits}");
    assert_eq!(usize::from_str_radix(digits, 16), Ok(size));
}

/// `tchar` (RFC 9110 §5.6.2), as the reader and writer take it.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A byte the reader takes in a field value: visible, space, tab, obs-text.
fn is_field_byte(b: u8) -> bool {
    b == b'\t' || (b' '..=b'~').contains(&b) || b >= 0x80
}
