//! The pushwire browser SDK: `PushClient`, an EventSource-like object that
//! picks the best transport the browser and the network allow.
//!
//! This crate is a *driver*. Transport choice, fallback, backoff, resume and
//! every parser are `pushwire-core`'s [`ClientMachine`]; this crate only
//! moves bytes, timers and DOM objects between the browser and the machine:
//!
//! ```text
//! EventSource / fetch body / iframe callback ─► ClientMachine::handle_* ─┐
//!        ▲                                                                │
//!        └── Transmit::Connect / Disconnect ◄── poll_transmit ◄───────────┤
//! app handlers (onmessage, …) ◄── poll_event ◄────────────────────────────┤
//! one setTimeout ◄── poll_timeout ◄───────────────────────────────────────┘
//! ```
//!
//! ```js
//! import init, { PushClient } from "/sdk/pushwire_client.js";
//! await init();
//! const c = new PushClient("/sub/chat,news", { transports: ["sse", "stream", "iframe", "longpoll", "poll"] });
//! c.onmessage = (e) => console.log(e.channel, e.data, e.lastEventId);
//! c.addEventListener("price", (e) => console.log(e.data));
//! ```
//!
//! Every listener, timer, EventSource, iframe and AbortController is owned
//! by a guard whose `Drop` removes it; `close()` (or `free()`) drops them.
//!
//! The default `std` feature links Rust's `std` (the tests need it). The
//! host serves a build without it (`--no-default-features`): the crate then
//! brings dlmalloc as its allocator and a panic handler that traps, and the
//! module carries no std panic machinery. Code on the SDK path builds
//! strings with `push_str` rather than `format!` and avoids panicking APIs
//! whose messages would link `core::fmt` (see `BENCHMARKS.md`).
//!
//! [`ClientMachine`]: pushwire_core::client::ClientMachine

#![cfg_attr(not(test), no_std)]

extern crate alloc;

mod driver;
mod error;
mod options;
mod timer;
mod transport;
mod webcam;

#[cfg(all(test, target_arch = "wasm32"))]
mod tests;

/// Without `std` (the served build), memory comes from dlmalloc, the
/// allocator `std` itself uses on `wasm32-unknown-unknown`.
#[cfg(all(target_arch = "wasm32", not(feature = "std")))]
#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// Without `std` (the served build), a panic traps at once, as `std` does
/// with `panic = "abort"`; nothing formats its message, so no `core::fmt`
/// code is linked for it.
#[cfg(all(target_arch = "wasm32", not(feature = "std"), not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

use alloc::{rc::Rc, string::String};
use core::cell::RefCell;
use core::sync::atomic::{AtomicU32, Ordering};

use js_sys::{Function, Reflect};
use pushwire_core::client::{Capabilities, ClientError, ClientMachine};
use wasm_bindgen::prelude::*;

use crate::driver::{Inner, Shared, drive, now};
use crate::error::{ErrorCode, error};
use crate::options::Options;

pub use crate::webcam::Webcam;

#[wasm_bindgen(typescript_custom_section)]
const TYPESCRIPT: &str = r#"
/** A transport, best first: native EventSource, fetch stream, forever frame, long-poll, poll. */
export type PushTransport = "sse" | "stream" | "iframe" | "longpoll" | "poll";

/** The options of `new PushClient(url, options)`; every field is optional. */
export interface PushClientOptions {
  /** Transports to try, best first; one entry forces it. Default: all five in this order. */
  transports?: PushTransport[];
  /** Resume after this id (cursor) on the first request. */
  lastEventId?: string;
  /** Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`). */
  withCredentials?: boolean;
  /** Request headers for the fetch-based transports; with headers, `sse` and `iframe` are skipped (they cannot send them). */
  headers?: Record<string, string>;
  /** What the `stream` transport asks for: NDJSON (default) or the SSE bytes EventSource would get. */
  streamFormat?: "ndjson" | "sse";
  /** Initial reconnection time in ms (default 3000). */
  retry?: number;
  /** Silence in ms after which an open stream counts as stalled (default 35000; not used for `sse`). */
  heartbeatWindow?: number;
  /** Time in ms to wait for a response head (default 15000). */
  connectTimeout?: number;
  /** Time in ms to wait for a long-poll reply (default 45000). */
  longPollTimeout?: number;
  /** Pause in ms between two polls (default 5000). */
  pollInterval?: number;
  /** Backoff cap in ms (default 30000). */
  maxBackoff?: number;
  /** Consecutive failures on one transport before stepping down (default 2). */
  failuresBeforeStepDown?: number;
}

/** A message (type "message", a named event, or "gap"). */
export interface PushMessageEvent {
  readonly type: string;
  /** The payload (for "gap": JSON `{"channel":…,"missed":n}`). */
  readonly data: string;
  /** The id to resume from after this message. */
  readonly lastEventId: string;
  /** The channel, or null when it cannot be told. */
  readonly channel: string | null;
  readonly transport: PushTransport;
}

/** The connection opened. */
export interface PushOpenEvent { readonly type: "open"; readonly transport: PushTransport; }

/** The connection failed or ended; `readyState` 0 means it reconnects in `reconnectingIn` ms, 2 that it stopped. */
export interface PushErrorEvent {
  readonly type: "error";
  readonly reason: string;
  readonly reconnectingIn?: number;
  readonly readyState: 0 | 1 | 2;
  readonly transport: PushTransport;
}

/** The client stepped down the ladder. */
export interface PushTransportEvent { readonly type: "transport"; readonly from: PushTransport; readonly to: PushTransport; }

export interface PushEventMap {
  open: PushOpenEvent;
  error: PushErrorEvent;
  transport: PushTransportEvent;
  message: PushMessageEvent;
  gap: PushMessageEvent;
}

/** A subscription, like EventSource, over the best transport available. */
export class PushClient {
  free(): void;
  [Symbol.dispose](): void;
  /** Subscribe to `url` (`/sub/{channels}`). Throws an Error with `code` on bad options. */
  constructor(url: string, options?: PushClientOptions);
  /** The transport in use now. */
  readonly transport: PushTransport;
  /** 0 CONNECTING, 1 OPEN, 2 CLOSED, as EventSource. */
  readonly readyState: 0 | 1 | 2;
  /** The id the next request resumes from ("" if none). */
  readonly lastEventId: string;
  /** The subscription URL given to the constructor. */
  readonly url: string;
  onopen: ((event: PushOpenEvent) => void) | null;
  onmessage: ((event: PushMessageEvent) => void) | null;
  ongap: ((event: PushMessageEvent) => void) | null;
  onerror: ((event: PushErrorEvent) => void) | null;
  addEventListener<K extends keyof PushEventMap>(type: K, listener: (event: PushEventMap[K]) => void): void;
  addEventListener(type: string, listener: (event: PushMessageEvent) => void): void;
  removeEventListener(type: string, listener: (event: any) => void): void;
  /** Stop for good: closes the connection, removes every listener, timer and iframe. */
  close(): void;
}

/** Options of `new Webcam(element, url, options)`. */
export interface WebcamOptions {
  /** Request headers; with headers the stream is read by fetch and core's multipart parser. */
  headers?: Record<string, string>;
  /** Send cookies cross-origin. */
  withCredentials?: boolean;
}

/** Shows a `multipart/x-mixed-replace` stream (e.g. `/stream/cam.mjpg`) in an `<img>` or `<canvas>`. */
export class Webcam {
  free(): void;
  [Symbol.dispose](): void;
  constructor(element: HTMLImageElement | HTMLCanvasElement, url: string, options?: WebcamOptions);
  /** "native" (img.src) or "fetch" (fetch + core's multipart parser). */
  readonly mode: "native" | "fetch";
  /** Frames shown so far (fetch mode only; 0 in native mode). */
  readonly frames: number;
  /** Stop reading and release the last frame. */
  close(): void;
}
"#;

/// Numbers the clients of a page (their iframe callback names must differ).
static SERIAL: AtomicU32 = AtomicU32::new(0);

/// A subscription, like `EventSource`, over the best transport available.
#[wasm_bindgen(skip_typescript)]
pub struct PushClient {
    shared: Shared,
}

#[wasm_bindgen]
impl PushClient {
    /// Subscribe to `url` with `options` (see the TypeScript types).
    ///
    /// # Errors
    /// An `Error` with `code` `BAD_OPTIONS`, `UNKNOWN_TRANSPORT` or
    /// `NO_USABLE_TRANSPORT`.
    #[wasm_bindgen(constructor)]
    pub fn new(url: String, options: JsValue) -> Result<Self, JsValue> {
        let (config, settings) = Options::from_js(options)?.into_config(&url)?;
        let global = js_sys::global();
        let has = |name: &str| Reflect::has(&global, &name.into()).unwrap_or(false);
        // EventSource and iframes cannot send request headers.
        let plain = settings.headers.is_empty();
        let capabilities = Capabilities {
            event_source: plain && has("EventSource"),
            fetch_streams: has("fetch") && has("ReadableStream"),
            iframes: plain && has("document"),
            fetch: has("fetch"),
        };
        // 53 random bits for the backoff jitter.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let seed = (js_sys::Math::random() * 9_007_199_254_740_992.0) as u64;
        let machine = ClientMachine::new(config, capabilities, seed, now()).map_err(|err| {
            let code = match err {
                ClientError::UnknownTransport => ErrorCode::UnknownTransport,
                _ => ErrorCode::NoUsableTransport,
            };
            error(code, err.as_str())
        })?;
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        let shared = Rc::new(RefCell::new(Inner::new(machine, url, settings, serial)));
        drive(&shared);
        Ok(Self { shared })
    }

    /// The transport in use now.
    #[wasm_bindgen(getter)]
    pub fn transport(&self) -> String {
        self.shared.borrow().machine.transport().as_str().into()
    }

    /// 0 CONNECTING, 1 OPEN, 2 CLOSED, as EventSource.
    #[wasm_bindgen(getter, js_name = readyState)]
    pub fn ready_state(&self) -> u16 {
        self.shared.borrow().machine.ready_state().as_u16()
    }

    /// The id the next request resumes from (`""` if none).
    #[wasm_bindgen(getter, js_name = lastEventId)]
    pub fn last_event_id(&self) -> String {
        self.shared.borrow().machine.last_event_id().into()
    }

    /// The subscription URL.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> String {
        self.shared.borrow().url.clone()
    }

    /// The `open` handler.
    #[wasm_bindgen(getter)]
    pub fn onopen(&self) -> Option<Function> {
        self.shared.borrow().handlers.onopen.clone()
    }

    /// Set the `open` handler.
    #[wasm_bindgen(setter)]
    pub fn set_onopen(&self, handler: Option<Function>) {
        self.shared.borrow_mut().handlers.onopen = handler;
    }

    /// The `message` handler.
    #[wasm_bindgen(getter)]
    pub fn onmessage(&self) -> Option<Function> {
        self.shared.borrow().handlers.onmessage.clone()
    }

    /// Set the `message` handler.
    #[wasm_bindgen(setter)]
    pub fn set_onmessage(&self, handler: Option<Function>) {
        self.shared.borrow_mut().handlers.onmessage = handler;
    }

    /// The `gap` handler.
    #[wasm_bindgen(getter)]
    pub fn ongap(&self) -> Option<Function> {
        self.shared.borrow().handlers.ongap.clone()
    }

    /// Set the `gap` handler.
    #[wasm_bindgen(setter)]
    pub fn set_ongap(&self, handler: Option<Function>) {
        self.shared.borrow_mut().handlers.ongap = handler;
    }

    /// The `error` handler.
    #[wasm_bindgen(getter)]
    pub fn onerror(&self) -> Option<Function> {
        self.shared.borrow().handlers.onerror.clone()
    }

    /// Set the `error` handler.
    #[wasm_bindgen(setter)]
    pub fn set_onerror(&self, handler: Option<Function>) {
        self.shared.borrow_mut().handlers.onerror = handler;
    }

    /// Call `listener` for every event of type `kind` (a named event,
    /// `message`, `gap`, `open`, `error`, `transport`).
    #[wasm_bindgen(js_name = addEventListener)]
    pub fn add_event_listener(&self, kind: String, listener: Function) {
        let mut inner = self.shared.borrow_mut();
        let present = inner
            .handlers
            .listeners
            .iter()
            .any(|(k, f)| *k == kind && *f == listener);
        if !present {
            if let Some(connection) = inner.connection.as_mut() {
                connection.watch_event_type(&kind);
            }
            inner.handlers.listeners.push((kind, listener));
        }
    }

    /// Stop calling `listener` for `kind`.
    #[wasm_bindgen(js_name = removeEventListener)]
    pub fn remove_event_listener(&self, kind: &str, listener: &Function) {
        self.shared
            .borrow_mut()
            .handlers
            .listeners
            .retain(|(k, f)| !(k == kind && f == listener));
    }

    /// Stop for good: close the connection, remove every listener, timer and iframe.
    pub fn close(&self) {
        self.shared.borrow_mut().close();
    }
}

impl Drop for PushClient {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.shared.try_borrow_mut() {
            inner.close();
        }
    }
}
