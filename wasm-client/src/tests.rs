//! The driver's pieces in a real browser (`wasm-bindgen-test`, headless
//! Chromium): guards remove what they added, options map to core's config,
//! bad options throw errors with stable codes.
//!
//! ```sh
//! CHROMEDRIVER=/usr/bin/chromedriver \
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!   cargo test -p pushwire-client --target wasm32-unknown-unknown
//! ```

use alloc::rc::Rc;
use core::cell::Cell;

use js_sys::{Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

use crate::PushClient;
use crate::transport::{Listener, request_url};

wasm_bindgen_test_configure!(run_in_browser);

fn options(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON parses")
}

fn code_of(result: Result<PushClient, JsValue>) -> String {
    let Err(err) = result else {
        panic!("the constructor accepted bad options");
    };
    Reflect::get(&err, &"code".into())
        .ok()
        .and_then(|code| code.as_string())
        .unwrap_or_default()
}

fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("a document")
}

fn pushwire_globals() -> usize {
    let window = web_sys::window().expect("a window");
    Object::keys(&window)
        .iter()
        .filter(|key| key.as_string().is_some_and(|k| k.starts_with("__pushwire")))
        .count()
}

#[wasm_bindgen_test]
fn bad_options_throw_errors_with_stable_codes() {
    let table = [
        (r#"{"transports":["websocket"]}"#, "UNKNOWN_TRANSPORT"),
        (r#"{"transport":["sse"]}"#, "BAD_OPTIONS"),
        (r#"{"retry":-1}"#, "BAD_OPTIONS"),
        (r#"{"retry":1.5}"#, "BAD_OPTIONS"),
        (r#"{"headers":{"a":1}}"#, "BAD_OPTIONS"),
        (r#"{"withCredentials":"yes"}"#, "BAD_OPTIONS"),
        (r#"{"streamFormat":"xml"}"#, "BAD_OPTIONS"),
        (r#"{"transports":[]}"#, "NO_USABLE_TRANSPORT"),
        // EventSource cannot send headers: sse alone cannot run.
        (
            r#"{"transports":["sse"],"headers":{"a":"b"}}"#,
            "NO_USABLE_TRANSPORT",
        ),
    ];
    for (json, code) in table {
        assert_eq!(
            code_of(PushClient::new("/sub/x".into(), options(json))),
            code,
            "{json}"
        );
    }
    assert_eq!(
        code_of(PushClient::new("/sub/x".into(), JsValue::from(3))),
        "BAD_OPTIONS"
    );
}

#[wasm_bindgen_test]
fn headers_skip_the_transports_that_cannot_send_them() {
    let client = PushClient::new(
        "/sub/x".into(),
        options(r#"{"headers":{"authorization":"Bearer t"}}"#),
    )
    .expect("valid options");
    assert_eq!(client.transport(), "stream");
    client.close();
    let client = PushClient::new("/sub/x".into(), JsValue::UNDEFINED).expect("no options");
    assert_eq!(client.transport(), "sse");
    assert_eq!(client.ready_state(), 0);
    client.close();
    assert_eq!(client.ready_state(), 2);
}

#[wasm_bindgen_test]
fn the_forever_frame_guard_removes_its_iframe_and_callback() {
    let frames = || {
        document()
            .query_selector_all("iframe")
            .map_or(0, |list| list.length())
    };
    let (frames_before, globals_before) = (frames(), pushwire_globals());
    let client = PushClient::new(
        "/sub/x".into(),
        options(r#"{"transports":["iframe"],"lastEventId":"7.1"}"#),
    )
    .expect("valid options");
    assert_eq!(frames(), frames_before + 1);
    assert_eq!(pushwire_globals(), globals_before + 1);
    let src = document()
        .query_selector("iframe")
        .ok()
        .flatten()
        .and_then(|frame| frame.get_attribute("src"))
        .unwrap_or_default();
    assert!(
        src.starts_with("/sub/x?transport=iframe&since=7.1&callback=__pushwire"),
        "{src}"
    );
    client.close();
    assert_eq!(frames(), frames_before);
    assert_eq!(pushwire_globals(), globals_before);
}

#[wasm_bindgen_test]
fn dropping_the_client_tears_down_like_close() {
    let before = pushwire_globals();
    let client = PushClient::new("/sub/y".into(), options(r#"{"transports":["iframe"]}"#))
        .expect("valid options");
    assert_eq!(pushwire_globals(), before + 1);
    drop(client);
    assert_eq!(pushwire_globals(), before);
}

#[wasm_bindgen_test]
fn a_listener_guard_removes_its_listener_when_dropped() {
    let target: web_sys::EventTarget = document()
        .create_element("div")
        .expect("a div")
        .unchecked_into();
    let calls = Rc::new(Cell::new(0));
    let listener = Listener::new(&target, "ping", {
        let calls = Rc::clone(&calls);
        move |_| calls.set(calls.get() + 1)
    });
    let fire = || {
        let event = web_sys::Event::new("ping").expect("an event");
        target.dispatch_event(&event).expect("dispatch");
    };
    fire();
    assert_eq!(calls.get(), 1);
    drop(listener);
    fire();
    assert_eq!(calls.get(), 1, "the listener was removed");
}

#[wasm_bindgen_test]
fn request_urls_carry_transport_cursor_and_callback_encoded() {
    assert_eq!(
        request_url("/sub/a,b", "sse", None, &[]),
        "/sub/a,b?transport=sse"
    );
    assert_eq!(
        request_url("/sub/a?fps=5", "longpoll", Some("7.1a&x=1"), &[]),
        "/sub/a?fps=5&transport=longpoll&since=7.1a%26x%3D1"
    );
    assert_eq!(
        request_url(
            "/sub/a",
            "iframe",
            Some("1"),
            &[("callback", "__pushwire1_2")]
        ),
        "/sub/a?transport=iframe&since=1&callback=__pushwire1_2"
    );
}
