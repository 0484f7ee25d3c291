use pushwire_core::media::{QValue, QValueError, essence, media_ranges};

/// Fuzz the `Accept` reader with the input as a field value (lossily as
/// text). Properties:
/// - nothing panics;
/// - every range's media type and parameters are pieces of the field,
///   without the whitespace around them;
/// - a weight that reads is at most 1 and prints back to itself; one that
///   does not says why consistently with `QValue::parse`;
/// - written back as `type;params;q=…` and joined with commas, the ranges
///   read back the same (when no piece holds a quote, which could swallow
///   the separators written after it);
/// - `essence` is a trimmed piece of the field with no unquoted `;`.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let field = text.as_ref();

    let ranges: Vec<_> = media_ranges(field).collect();
    for range in &ranges {
        for piece in [range.media_type, range.parameters] {
            assert!(field.contains(piece));
            assert_eq!(piece, piece.trim_matches([' ', '\t']));
        }
        match range.quality {
            Ok(weight) => {
                assert!(weight <= QValue::ONE);
                assert_eq!(QValue::parse(&weight.to_string()), Ok(weight));
            }
            Err(error) => assert!(matches!(
                error,
                QValueError::Malformed | QValueError::TooPrecise | QValueError::AboveOne
            )),
        }
    }

    let quoted = ranges
        .iter()
        .any(|range| range.media_type.contains('"') || range.parameters.contains('"'));
    if !quoted
        && ranges
            .iter()
            .all(|range| range.quality.is_ok() && !range.media_type.is_empty())
    {
        let written: Vec<String> = ranges
            .iter()
            .map(|range| {
                let mut element = range.media_type.to_owned();
                if !range.parameters.is_empty() {
                    element.push(';');
                    element.push_str(range.parameters);
                }
                element.push_str(&format!(";q={}", range.quality.unwrap()));
                element
            })
            .collect();
        let joined = written.join(",");
        let again: Vec<_> = media_ranges(&joined).collect();
        assert_eq!(again, ranges, "{joined:?}");
    }

    let media_type = essence(field);
    assert!(field.contains(media_type));
    assert_eq!(media_type, media_type.trim_matches([' ', '\t']));
    if !media_type.contains('"') {
        assert!(!media_type.contains(';'));
    }
}
