use alloc::borrow::Cow;

use pushwire_core::url::{
    DecodeError, append_query_param, form_decode, percent_decode, percent_encode, query_param,
    query_params, split_target,
};

/// Fuzz the URL mechanics with the input as a request target (lossily as
/// text). Properties:
/// - nothing panics;
/// - decoding fails exactly where a `%` lacks two hex digits (at that byte)
///   or when the bytes are not UTF-8, borrows when there is nothing to
///   rewrite, and never grows the text;
/// - `percent_encode` leaves only unreserved bytes and `%XX`, and both
///   decoders give the text back;
/// - the query's pairs are its non-empty `&`-separated pieces, in order;
///   `query_param` answers the first pair whose decoded key matches;
/// - every pair appended with `append_query_param` reads back decoded, after
///   the ones already there.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let text = text.as_ref();

    for (decoded, plus) in [(percent_decode(text), false), (form_decode(text), true)] {
        match decoded {
            Ok(Cow::Borrowed(same)) => {
                assert_eq!(same, text);
                assert!(!text.contains('%') && (!plus || !text.contains('+')));
            }
            Ok(Cow::Owned(owned)) => assert!(owned.len() <= text.len()),
            Err(DecodeError::BadEscape(at)) => {
                assert_eq!(text.as_bytes()[at], b'%');
                let hex = |i: usize| {
                    text.as_bytes()
                        .get(at + i)
                        .is_some_and(u8::is_ascii_hexdigit)
                };
                assert!(!(hex(1) && hex(2)));
            }
            Err(error) => assert_eq!(error, DecodeError::NotUtf8),
        }
    }

    let encoded = percent_encode(text);
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b))
    );
    assert_eq!(percent_decode(&encoded).unwrap(), text);
    assert_eq!(form_decode(&encoded).unwrap(), text);

    let (path, query) = split_target(text);
    assert!(!path.contains('?'));
    let pieces: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    let params: Vec<&str> = query_params(query).map(|p| p.as_str()).collect();
    assert_eq!(params, pieces);
    for param in query_params(query).take(8) {
        if let Ok(key) = param.key() {
            let first = query_params(query)
                .find(|p| p.key().is_ok_and(|k| k == key))
                .unwrap();
            assert!(param.is_named(&key));
            assert_eq!(query_param(query, &key), first.value().map(Some));
        }
    }

    let mut target = text.to_owned();
    let before = query_params(split_target(&target).1).count();
    let pairs = [("k", text), (text, "v")];
    for (key, value) in pairs {
        append_query_param(&mut target, key, value);
    }
    let read: Vec<(String, String)> = query_params(split_target(&target).1)
        .skip(before)
        .map(|p| {
            (
                p.key().unwrap().into_owned(),
                p.value().unwrap().into_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(read, expected);
}
