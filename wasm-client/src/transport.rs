//! The browser side of each transport: open a connection, report what
//! happens on it to the machine, and tear it down when its guard drops.
//!
//! | transport | browser object | what reaches the machine |
//! |---|---|---|
//! | `sse` | `EventSource` | `open`, decoded `MessageEvent`s, `error` |
//! | `stream` | `fetch` + `ReadableStream` | the head, raw bytes (core parses SSE / NDJSON), the end |
//! | `iframe` | hidden `<iframe>` + a global callback | the open signal and heartbeats, each message object (decoded by core's wire parser), `load` |
//! | `longpoll`, `poll` | `fetch` | the head, the reply bytes (core decodes), the end |

use alloc::{
    rc::{Rc, Weak},
    string::{String, ToString},
    vec::Vec,
};
use core::cell::RefCell;

use js_sys::{Function, Reflect, Uint8Array};
use pushwire_core::client::{ClientMessage, EndReason, ResponseHead, Transport};
use pushwire_core::wire;
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, EventSource, EventSourceInit, EventTarget, HtmlIFrameElement, MessageEvent,
    ReadableStreamDefaultReader, RequestCredentials, RequestInit, Response,
};

use crate::driver::{Inner, Shared, report};
use crate::error::{concat, decimal};
use crate::options::StreamFormat;

/// An event listener that is removed when dropped.
pub(crate) struct Listener {
    target: EventTarget,
    kind: String,
    closure: Closure<dyn FnMut(web_sys::Event)>,
}

impl Listener {
    /// Add `callback` for `kind` on `target`.
    pub(crate) fn new(
        target: &EventTarget,
        kind: &str,
        callback: impl FnMut(web_sys::Event) + 'static,
    ) -> Self {
        let closure = Closure::<dyn FnMut(web_sys::Event)>::new(callback);
        let _ = target.add_event_listener_with_callback(kind, closure.as_ref().unchecked_ref());
        Self {
            target: target.clone(),
            kind: kind.to_string(),
            closure,
        }
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        let _ = self
            .target
            .remove_event_listener_with_callback(&self.kind, self.closure.as_ref().unchecked_ref());
    }
}

/// The guard of the current connection: dropping it closes the
/// EventSource, aborts the fetch or removes the iframe, and removes every
/// listener and callback it added.
pub(crate) enum Connection {
    /// A native EventSource and its listeners.
    EventSource(EventSourceGuard),
    /// A fetch (stream, long-poll, poll) and the controller that aborts it.
    Fetch(#[allow(dead_code, reason = "held for its Drop")] FetchGuard),
    /// A forever frame.
    Iframe(#[allow(dead_code, reason = "held for its Drop")] IframeGuard),
}

impl Connection {
    /// Make sure events of type `kind` reach the machine (EventSource
    /// delivers named events only to listeners of that name).
    pub(crate) fn watch_event_type(&mut self, kind: &str) {
        if let Self::EventSource(guard) = self {
            guard.watch(kind);
        }
    }
}

/// Open a connection for `transport`; `None` if the browser refused at once
/// (the machine has been told).
pub(crate) fn open(
    shared: &Shared,
    generation: u32,
    transport: Transport,
    last_event_id: Option<String>,
) -> Option<Connection> {
    let weak = Rc::downgrade(shared);
    let opened = {
        let inner = shared.borrow();
        match transport {
            Transport::Sse => {
                open_event_source(&inner, &weak, generation, last_event_id.as_deref())
                    .map(Connection::EventSource)
            }
            Transport::Iframe => open_iframe(&inner, &weak, generation, last_event_id.as_deref())
                .map(Connection::Iframe),
            Transport::Stream | Transport::LongPoll | Transport::Poll => open_fetch(
                &inner,
                &weak,
                generation,
                transport,
                last_event_id.as_deref(),
            )
            .map(Connection::Fetch),
        }
    };
    match opened {
        Ok(connection) => Some(connection),
        Err(thrown) => {
            web_sys::console::warn_1(&thrown);
            let mut inner = shared.borrow_mut();
            let now = crate::driver::now();
            inner.machine.handle_closed(now, EndReason::NetworkError);
            None
        }
    }
}

/// `url` with `transport=`, `since=` and extra query parameters appended.
pub(crate) fn request_url(
    base: &str,
    transport: &str,
    since: Option<&str>,
    extra: &[(&str, &str)],
) -> String {
    let mut url = String::from(base);
    let mut separator = if base.contains('?') { '&' } else { '?' };
    let mut push = |name: &str, value: &str| {
        url.push(separator);
        separator = '&';
        url.push_str(name);
        url.push('=');
        url.push_str(&String::from(js_sys::encode_uri_component(value)));
    };
    push("transport", transport);
    if let Some(since) = since {
        push("since", since);
    }
    for (name, value) in extra {
        push(name, value);
    }
    url
}

// ---- sse: the browser's EventSource ----

/// A native EventSource with one listener per event type it must deliver.
pub(crate) struct EventSourceGuard {
    source: EventSource,
    weak: Weak<RefCell<Inner>>,
    generation: u32,
    listeners: Vec<Listener>,
    watched: Vec<String>,
}

fn open_event_source(
    inner: &Inner,
    weak: &Weak<RefCell<Inner>>,
    generation: u32,
    since: Option<&str>,
) -> Result<EventSourceGuard, JsValue> {
    let url = request_url(&inner.url, "sse", since, &[]);
    let init = EventSourceInit::new();
    init.set_with_credentials(inner.settings.with_credentials);
    let source = EventSource::new_with_event_source_init_dict(&url, &init)?;
    let mut guard = EventSourceGuard {
        source: source.clone(),
        weak: weak.clone(),
        generation,
        listeners: Vec::new(),
        watched: Vec::new(),
    };
    let target: &EventTarget = source.as_ref();
    let on_open = {
        let weak = weak.clone();
        move |_| {
            report(&weak, generation, |machine, now| {
                machine.handle_opened(now, 200, "text/event-stream");
            });
        }
    };
    guard.listeners.push(Listener::new(target, "open", on_open));
    let on_error = {
        let weak = weak.clone();
        let source = source.clone();
        move |_| {
            // CLOSED: the user agent failed it for good (a non-200, a wrong
            // type) without saying why. CONNECTING: it lost the stream and
            // would reconnect by itself; the machine decides instead.
            let reason = if source.ready_state() == EventSource::CLOSED {
                EndReason::Rejected
            } else {
                EndReason::NetworkError
            };
            source.close();
            report(&weak, generation, |machine, now| {
                machine.handle_closed(now, reason)
            });
        }
    };
    guard
        .listeners
        .push(Listener::new(target, "error", on_error));
    guard.watch("message");
    guard.watch("gap");
    for (kind, _) in &inner.handlers.listeners {
        guard.watch(kind);
    }
    Ok(guard)
}

impl EventSourceGuard {
    fn watch(&mut self, kind: &str) {
        if ["open", "error", "transport"].contains(&kind) || self.watched.iter().any(|k| k == kind)
        {
            return;
        }
        self.watched.push(kind.to_string());
        let weak = self.weak.clone();
        let generation = self.generation;
        let on_event = move |event: web_sys::Event| {
            let Some(event) = event.dyn_ref::<MessageEvent>() else {
                return;
            };
            let message = ClientMessage::new(
                event.last_event_id(),
                event.data().as_string().unwrap_or_default(),
            )
            .with_event(event.type_());
            report(&weak, generation, |machine, now| {
                machine.handle_message(now, message)
            });
        };
        self.listeners
            .push(Listener::new(self.source.as_ref(), kind, on_event));
    }
}

impl Drop for EventSourceGuard {
    fn drop(&mut self) {
        self.source.close();
    }
}

// ---- stream, longpoll, poll: fetch ----

/// A fetch in flight; dropping it aborts the request and its body.
pub(crate) struct FetchGuard {
    controller: AbortController,
}

impl Drop for FetchGuard {
    fn drop(&mut self) {
        self.controller.abort();
    }
}

fn open_fetch(
    inner: &Inner,
    weak: &Weak<RefCell<Inner>>,
    generation: u32,
    transport: Transport,
    since: Option<&str>,
) -> Result<FetchGuard, JsValue> {
    let name = match (transport, inner.settings.stream_format) {
        (Transport::Stream, StreamFormat::Sse) => "sse",
        _ => transport.as_str(),
    };
    let url = request_url(&inner.url, name, since, &[]);
    let controller = AbortController::new()?;
    let headers = web_sys::Headers::new()?;
    for (name, value) in &inner.settings.headers {
        headers.append(name, value)?;
    }
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));
    init.set_credentials(if inner.settings.with_credentials {
        RequestCredentials::Include
    } else {
        RequestCredentials::SameOrigin
    });
    let fetch: Function = Reflect::get(&js_sys::global(), &"fetch".into())?.dyn_into()?;
    let promise: js_sys::Promise = fetch
        .call2(&JsValue::UNDEFINED, &url.into(), &init)?
        .dyn_into()?;
    wasm_bindgen_futures::spawn_local(read_fetch(weak.clone(), generation, promise));
    Ok(FetchGuard { controller })
}

/// Report a fetch's head, body bytes and end; stop as soon as the
/// connection is no longer current (aborted, replaced, closed).
async fn read_fetch(weak: Weak<RefCell<Inner>>, generation: u32, promise: js_sys::Promise) {
    let network_error = |weak: &Weak<RefCell<Inner>>| {
        report(weak, generation, |machine, now| {
            machine.handle_closed(now, EndReason::NetworkError);
        });
    };
    let response: Response = match JsFuture::from(promise).await.and_then(JsCast::dyn_into) {
        Ok(response) => response,
        Err(_) => return network_error(&weak),
    };
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let content_type = header("content-type").unwrap_or_default();
    let retry_after = header("retry-after")
        .and_then(|value| value.trim().parse::<u64>().ok())
        .map(core::time::Duration::from_secs);
    let status = response.status();
    let current = report(&weak, generation, |machine, now| {
        machine.handle_response(
            now,
            ResponseHead {
                status,
                content_type: &content_type,
                retry_after,
            },
        );
    });
    if !current {
        return;
    }
    let Some(body) = response.body() else {
        report(&weak, generation, |machine, now| {
            machine.handle_closed(now, EndReason::Ended);
        });
        return;
    };
    let reader: ReadableStreamDefaultReader = match body.get_reader().dyn_into() {
        Ok(reader) => reader,
        Err(_) => return network_error(&weak),
    };
    loop {
        let Ok(chunk) = JsFuture::from(reader.read()).await else {
            return network_error(&weak);
        };
        let done = Reflect::get(&chunk, &"done".into()).is_ok_and(|done| done.is_truthy());
        if done {
            report(&weak, generation, |machine, now| {
                machine.handle_closed(now, EndReason::Ended);
            });
            return;
        }
        let bytes = Reflect::get(&chunk, &"value".into())
            .map(|value| Uint8Array::new(&value).to_vec())
            .unwrap_or_default();
        if !report(&weak, generation, |machine, now| {
            machine.handle_bytes(now, &bytes)
        }) {
            let _ = reader.cancel();
            return;
        }
    }
}

// ---- iframe: the forever frame ----

/// A hidden iframe, the global callback its scripts call, and its `load`
/// listener; dropping it removes all three.
pub(crate) struct IframeGuard {
    element: HtmlIFrameElement,
    callback_name: String,
    _callback: Closure<dyn FnMut(JsValue)>,
    _load: Listener,
}

fn open_iframe(
    inner: &Inner,
    weak: &Weak<RefCell<Inner>>,
    generation: u32,
    since: Option<&str>,
) -> Result<IframeGuard, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let document = window
        .document()
        .ok_or_else(|| JsValue::from_str("no document"))?;
    let callback_name = concat(&[
        "__pushwire",
        &decimal(inner.serial),
        "_",
        &decimal(generation),
    ]);
    let url = request_url(
        &inner.url,
        "iframe",
        since,
        &[("callback", callback_name.as_str())],
    );
    // The frame calls `parent.<name>()` (alive) or `parent.<name>(message)`.
    let callback = Closure::<dyn FnMut(JsValue)>::new({
        let weak = weak.clone();
        move |message: JsValue| {
            if message.is_undefined() {
                report(&weak, generation, |machine, now| {
                    machine.handle_opened(now, 200, "text/html");
                    machine.handle_activity(now);
                });
                return;
            }
            // The object is the wire message JSON: core decodes it.
            let decoded = js_sys::JSON::stringify(&message)
                .ok()
                .and_then(|json| json.as_string())
                .map(|json| wire::decode_message(json.as_bytes()));
            report(&weak, generation, |machine, now| match decoded {
                Some(Ok(message)) => {
                    machine.handle_opened(now, 200, "text/html");
                    machine.handle_message(now, message.into());
                }
                _ => machine.handle_closed(now, EndReason::NetworkError),
            });
        }
    });
    Reflect::set(&window, &callback_name.as_str().into(), callback.as_ref())?;
    let element: HtmlIFrameElement = document.create_element("iframe")?.dyn_into()?;
    element.set_attribute("aria-hidden", "true")?;
    element.set_attribute(
        "style",
        "position:absolute;width:0;height:0;border:0;visibility:hidden",
    )?;
    element.set_src(&url);
    // The server ended the document (byte budget, restart) or the network failed.
    let load = Listener::new(element.as_ref(), "load", {
        let weak = weak.clone();
        move |_| {
            report(&weak, generation, |machine, now| {
                machine.handle_closed(now, EndReason::Ended);
            });
        }
    });
    let parent = document
        .body()
        .map(web_sys::Node::from)
        .or_else(|| document.document_element().map(web_sys::Node::from))
        .ok_or_else(|| JsValue::from_str("no document element"))?;
    parent.append_child(&element)?;
    Ok(IframeGuard {
        element,
        callback_name,
        _callback: callback,
        _load: load,
    })
}

impl Drop for IframeGuard {
    fn drop(&mut self) {
        self.element.remove();
        if let Some(window) = web_sys::window() {
            let _ = Reflect::delete_property(&window, &self.callback_name.as_str().into());
        }
    }
}
