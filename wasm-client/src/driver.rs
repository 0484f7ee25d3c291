//! The run loop: core's [`ClientMachine`] in, browser objects and app events out.
//!
//! Every input (a response head, bytes, a decoded message, a timer) goes
//! through [`report`], which feeds the machine and then [`drive`]s it:
//! transmits open or drop connections, events go to the app's handlers, and
//! one timer is armed for the machine's next deadline. App handlers run with
//! no borrow held, so they may call `close()` or add listeners.

use alloc::{
    rc::{Rc, Weak},
    string::String,
    vec::Vec,
};
use core::cell::RefCell;

use js_sys::{Function, Object, Reflect};
use pushwire_core::Timestamp;
use pushwire_core::client::{
    ClientEvent, ClientMachine, ClientMessage, CloseReason, ErrorReason, ReadyState, Transmit,
};
use wasm_bindgen::JsValue;

use crate::error::{concat, decimal};
use crate::options::Settings;
use crate::timer::Timeout;
use crate::transport::{self, Connection};

/// The client's state, shared by the JS object and the callbacks (which hold
/// only a [`Weak`], so dropping the client frees everything).
pub(crate) type Shared = Rc<RefCell<Inner>>;

/// The app's handlers: `on*` properties and `addEventListener` entries.
#[derive(Default)]
pub(crate) struct Handlers {
    pub(crate) onopen: Option<Function>,
    pub(crate) onmessage: Option<Function>,
    pub(crate) ongap: Option<Function>,
    pub(crate) onerror: Option<Function>,
    pub(crate) listeners: Vec<(String, Function)>,
}

impl Handlers {
    /// The functions an event of type `kind` goes to, `on*` first.
    fn for_kind(&self, kind: &str) -> Vec<Function> {
        let property = match kind {
            "open" => self.onopen.as_ref(),
            "message" => self.onmessage.as_ref(),
            "gap" => self.ongap.as_ref(),
            "error" => self.onerror.as_ref(),
            _ => None,
        };
        property
            .into_iter()
            .chain(
                self.listeners
                    .iter()
                    .filter(|(listening, _)| listening == kind)
                    .map(|(_, function)| function),
            )
            .cloned()
            .collect()
    }
}

/// Everything one `PushClient` owns. Dropping it tears every connection,
/// listener and timer down (their guards' `Drop`).
pub(crate) struct Inner {
    pub(crate) machine: ClientMachine,
    pub(crate) url: String,
    pub(crate) settings: Settings,
    pub(crate) handlers: Handlers,
    /// The open connection's guard.
    pub(crate) connection: Option<Connection>,
    /// Bumped whenever the connection changes: callbacks of an older one are ignored.
    pub(crate) generation: u32,
    /// A number unique to this client in the page (iframe callback names).
    pub(crate) serial: u32,
    timer: Option<Timeout>,
    timer_at: Option<Timestamp>,
    /// `close()` was called: no more events.
    pub(crate) closed: bool,
}

impl Inner {
    pub(crate) fn new(
        machine: ClientMachine,
        url: String,
        settings: Settings,
        serial: u32,
    ) -> Self {
        Self {
            machine,
            url,
            settings,
            handlers: Handlers::default(),
            connection: None,
            generation: 0,
            serial,
            timer: None,
            timer_at: None,
            closed: false,
        }
    }

    /// Stop for good: the machine, the connection, the timer.
    pub(crate) fn close(&mut self) {
        self.closed = true;
        self.machine.close();
        while self.machine.poll_transmit().is_some() {}
        self.generation = self.generation.wrapping_add(1);
        self.connection = None;
        self.timer = None;
        self.timer_at = None;
    }
}

/// The driver's clock: `performance.now()` (monotonic), in ms.
pub(crate) fn now() -> Timestamp {
    let millis = web_sys::window()
        .and_then(|window| window.performance())
        .map_or_else(js_sys::Date::now, |performance| performance.now());
    // f64 → u64 saturates and maps NaN to 0; both are fine for a clock.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    Timestamp::from_millis(millis as u64)
}

/// Feed the machine on behalf of connection `generation`, then drive it.
///
/// Returns false when that connection is no longer the current one (its
/// input was ignored and the caller should stop reading it).
pub(crate) fn report(
    weak: &Weak<RefCell<Inner>>,
    generation: u32,
    input: impl FnOnce(&mut ClientMachine, Timestamp),
) -> bool {
    let Some(shared) = weak.upgrade() else {
        return false;
    };
    {
        let Ok(mut inner) = shared.try_borrow_mut() else {
            return false;
        };
        if inner.closed || inner.generation != generation {
            return false;
        }
        input(&mut inner.machine, now());
    }
    drive(&shared);
    shared
        .try_borrow()
        .is_ok_and(|inner| !inner.closed && inner.generation == generation)
}

/// Drain the machine: act on transmits, hand events to the app, arm the timer.
pub(crate) fn drive(shared: &Shared) {
    loop {
        let (transmits, events) = {
            let Ok(mut inner) = shared.try_borrow_mut() else {
                return;
            };
            if inner.closed {
                return;
            }
            let transmits: Vec<Transmit> =
                core::iter::from_fn(|| inner.machine.poll_transmit()).collect();
            let events: Vec<ClientEvent> =
                core::iter::from_fn(|| inner.machine.poll_event()).collect();
            (transmits, events)
        };
        if transmits.is_empty() && events.is_empty() {
            break;
        }
        for transmit in transmits {
            // The old guard is dropped after the borrow ends (statement end).
            let old = {
                let mut inner = shared.borrow_mut();
                inner.generation = inner.generation.wrapping_add(1);
                inner.connection.take()
            };
            drop(old);
            if let Transmit::Connect {
                transport,
                last_event_id,
                ..
            } = transmit
            {
                let generation = shared.borrow().generation;
                let connection = transport::open(shared, generation, transport, last_event_id);
                shared.borrow_mut().connection = connection;
            }
        }
        for event in events {
            if shared.borrow().closed {
                return;
            }
            dispatch(shared, &event);
        }
    }
    let mut inner = shared.borrow_mut();
    if inner.machine.ready_state() == ReadyState::Closed {
        inner.generation = inner.generation.wrapping_add(1);
        inner.connection = None;
    }
    arm_timer(shared, &mut inner);
}

/// Keep one timer armed for the machine's next deadline.
fn arm_timer(shared: &Shared, inner: &mut Inner) {
    let at = inner.machine.poll_timeout();
    if at == inner.timer_at {
        return;
    }
    inner.timer_at = at;
    inner.timer = at.map(|at| {
        let delay = at.as_millis().saturating_sub(now().as_millis());
        // setTimeout takes an i32 of ms; longer waits fire early and re-arm.
        let delay = u32::try_from(delay.min(0x7fff_ffff)).unwrap_or(0x7fff_ffff);
        let weak = Rc::downgrade(shared);
        Timeout::new(delay, move || {
            let Some(shared) = weak.upgrade() else {
                return;
            };
            {
                let mut inner = shared.borrow_mut();
                inner.timer_at = None;
                let now = now();
                inner.machine.handle_timeout(now);
            }
            drive(&shared);
        })
    });
}

/// Hand one machine event to the app's handlers.
fn dispatch(shared: &Shared, event: &ClientEvent) {
    let (kind, object) = {
        let inner = shared.borrow();
        let transport = inner.machine.transport().as_str();
        let ready_state = inner.machine.ready_state().as_u16();
        match event {
            ClientEvent::Open { transport } => (
                "open",
                js_event("open", &[("transport", transport.as_str().into())]),
            ),
            ClientEvent::Message(message) | ClientEvent::Gap(message) => {
                (message.event.as_str(), message_event(message, transport))
            }
            ClientEvent::TransportChanged { from, to } => (
                "transport",
                js_event(
                    "transport",
                    &[("from", from.as_str().into()), ("to", to.as_str().into())],
                ),
            ),
            ClientEvent::Error {
                reconnecting_in,
                reason,
            } => (
                "error",
                js_event(
                    "error",
                    &[
                        ("reason", error_reason(*reason).into()),
                        (
                            "reconnectingIn",
                            (reconnecting_in.as_millis() as f64).into(),
                        ),
                        ("readyState", ready_state.into()),
                        ("transport", transport.into()),
                    ],
                ),
            ),
            ClientEvent::Closed { reason } => (
                "error",
                js_event(
                    "error",
                    &[
                        ("reason", close_reason(*reason).into()),
                        ("readyState", ready_state.into()),
                        ("transport", transport.into()),
                    ],
                ),
            ),
        }
    };
    let kind = String::from(kind);
    let functions = shared.borrow().handlers.for_kind(&kind);
    for function in functions {
        if shared.borrow().closed {
            return;
        }
        if let Err(thrown) = function.call1(&JsValue::UNDEFINED, &object) {
            // Like EventTarget: a throwing listener is reported, the others still run.
            web_sys::console::error_1(&thrown);
        }
    }
}

/// A stable name for why the client reconnects (`error` events' `reason`).
fn error_reason(reason: ErrorReason) -> String {
    match reason {
        ErrorReason::Ended => "ended".into(),
        ErrorReason::NetworkError => "network-error".into(),
        ErrorReason::Status(status) => concat(&["status-", &decimal(status.into())]),
        ErrorReason::ContentType => "content-type".into(),
        ErrorReason::Timeout => "timeout".into(),
        ErrorReason::Stalled => "stalled".into(),
        ErrorReason::Rejected => "rejected".into(),
        ErrorReason::Malformed => "malformed".into(),
        _ => "error".into(),
    }
}

/// A stable name for why the client stopped for good.
fn close_reason(reason: CloseReason) -> String {
    match reason {
        CloseReason::Status(status) => concat(&["closed-status-", &decimal(status.into())]),
        CloseReason::Aborted => "closed-aborted".into(),
        CloseReason::Rejected => "closed-rejected".into(),
        _ => "closed".into(),
    }
}

fn message_event(message: &ClientMessage, transport: &str) -> Object {
    js_event(
        &message.event,
        &[
            ("data", message.data.as_str().into()),
            ("lastEventId", message.id.as_str().into()),
            (
                "channel",
                message
                    .channel
                    .as_deref()
                    .map_or(JsValue::NULL, JsValue::from),
            ),
            ("transport", transport.into()),
        ],
    )
}

fn js_event(kind: &str, fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    let _ = Reflect::set(&object, &"type".into(), &kind.into());
    for (name, value) in fields {
        let _ = Reflect::set(&object, &(*name).into(), value);
    }
    object
}
