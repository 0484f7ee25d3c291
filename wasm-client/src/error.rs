//! Errors thrown to JavaScript: an `Error` with a stable `code`.

use alloc::string::String;

use wasm_bindgen::JsValue;

/// The stable codes of the errors the SDK throws (`err.code`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorCode {
    /// The options bag has a wrong type or an unknown key.
    BadOptions,
    /// A name in `transports` is not a transport.
    UnknownTransport,
    /// No transport of the ladder can run here (e.g. `headers` with only `sse`).
    NoUsableTransport,
    /// The page has no `window` / `document` where one is needed.
    NoBrowser,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::BadOptions => "BAD_OPTIONS",
            Self::UnknownTransport => "UNKNOWN_TRANSPORT",
            Self::NoUsableTransport => "NO_USABLE_TRANSPORT",
            Self::NoBrowser => "NO_BROWSER",
        }
    }
}

/// An `Error` with `message` and `code`.
pub(crate) fn error(code: ErrorCode, message: &str) -> JsValue {
    let err = js_sys::Error::new(message);
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&err, &"code".into(), &code.as_str().into());
    err.into()
}

/// `parts` joined, without `format!`: the served SDK links no `core::fmt`.
pub(crate) fn concat(parts: &[&str]) -> String {
    let mut out = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        out.push_str(part);
    }
    out
}

/// `n` in decimal, without `core::fmt`.
pub(crate) fn decimal(mut n: u32) -> String {
    let mut digits = [0u8; 10];
    let mut start = digits.len();
    loop {
        start -= 1;
        // `n % 10 < 10`: the cast is exact.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (n % 10) as u8;
        if let Some(slot) = digits.get_mut(start) {
            *slot = b'0' + digit;
        }
        n /= 10;
        if n == 0 || start == 0 {
            break;
        }
    }
    digits
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|&digit| char::from(digit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_writes_every_digit() {
        for (n, expected) in [(0, "0"), (7, "7"), (204, "204"), (u32::MAX, "4294967295")] {
            assert_eq!(decimal(n), expected);
        }
    }

    #[test]
    fn concat_joins_in_order() {
        assert_eq!(concat(&["a", "", "bc"]), "abc");
    }
}
