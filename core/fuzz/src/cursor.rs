/// Parse arbitrary bytes as a cursor: never panics, and whatever parses is
/// canonical (re-encodes to the same text and parses back to the same value).
/// Cursor parsing is not incremental, so there is no whole-vs-split check.
pub fn run(data: &[u8]) {
    use pushwire_core::cursor::{Cursor, MAX_ENCODED_LEN};

    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(cursor) = Cursor::parse(text) else {
        return;
    };
    let mut encoded = Vec::new();
    cursor.encode(&mut encoded);
    assert!(encoded.len() <= MAX_ENCODED_LEN);
    assert_eq!(encoded, text.as_bytes());
    let again = core::str::from_utf8(&encoded).expect("cursor text is ASCII");
    assert_eq!(Cursor::parse(again), Ok(cursor));
}
