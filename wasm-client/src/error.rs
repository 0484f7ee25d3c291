//! Errors thrown to JavaScript: an `Error` with a stable `code`.

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
