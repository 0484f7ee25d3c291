//! One `setTimeout`, owned by a guard whose `Drop` clears it.
//!
//! Written here rather than taken from `gloo-timers`: that crate turns on
//! the `std` features of wasm-bindgen and js-sys, and the SDK's release
//! build links no `std` (see the crate docs).

use js_sys::Function;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, millis: i32) -> JsValue;

    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
}

/// A pending `setTimeout`; dropping it cancels the call.
pub(crate) struct Timeout {
    handle: JsValue,
    /// Kept alive until the timer fires or is cleared.
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Call `callback` once after `millis` ms (at most `i32::MAX`).
    pub(crate) fn new(millis: u32, callback: impl FnOnce() + 'static) -> Self {
        let callback = Closure::once(callback);
        let millis = i32::try_from(millis).unwrap_or(i32::MAX);
        let handle = set_timeout(callback.as_ref().unchecked_ref(), millis);
        Self {
            handle,
            _callback: callback,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.handle);
    }
}
