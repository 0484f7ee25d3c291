//! JSON text for the wire formats (NDJSON lines, long-poll batches, forever-frame calls).
//!
//! Strings are escaped so that the output is safe both as JSON and inside an
//! HTML `<script>` element: `<`, `>` and `&` become `\u003c`, `\u003e` and
//! `\u0026`, so no payload can close the element (`</script>`) or open an HTML
//! comment (`<!--`); U+2028 and U+2029 are escaped for pre-ES2019 engines.

use alloc::vec::Vec;

/// Append `s` to `out` as a quoted, escaped JSON string.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut plain_from = 0;
    for (at, ch) in s.char_indices() {
        let escape: Option<&[u8]> = match ch {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => Some(b""),
            _ => None,
        };
        let Some(escape) = escape else { continue };
        out.extend_from_slice(s.as_bytes().get(plain_from..at).unwrap_or_default());
        if escape.is_empty() {
            let code = u32::from(ch);
            out.extend_from_slice(b"\\u");
            for shift in [12, 8, 4, 0] {
                let nibble = (code >> shift) & 0xf;
                out.push(HEX.get(nibble as usize).copied().unwrap_or(b'0'));
            }
        } else {
            out.extend_from_slice(escape);
        }
        plain_from = at + ch.len_utf8();
    }
    out.extend_from_slice(s.as_bytes().get(plain_from..).unwrap_or_default());
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn quoted(s: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_are_escaped_for_json_and_html_script_context() {
        let table: &[(&str, &str)] = &[
            ("plain", r#""plain""#),
            ("a\"b\\c", r#""a\"b\\c""#),
            ("l1\nl2\r\t", r#""l1\nl2\r\t""#),
            ("\u{0}\u{1f}", r#""\u0000\u001f""#),
            ("</script><!--", r#""\u003c/script\u003e\u003c!--""#),
            ("a&b", r#""a\u0026b""#),
            ("\u{2028}\u{2029}", r#""\u2028\u2029""#),
            ("é€😀", "\"é€😀\""),
        ];
        for (input, expected) in table {
            assert_eq!(quoted(input), *expected, "input {input:?}");
        }
    }
}
