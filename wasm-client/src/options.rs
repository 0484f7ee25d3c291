//! The options bag of `new PushClient(url, options)`, turned into core's
//! [`ClientConfig`].

use alloc::{string::String, vec::Vec};
use core::time::Duration;

use js_sys::{Array, Object, Reflect};
use pushwire_core::client::{ClientConfig, Transport};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::{ErrorCode, concat, error};

/// The options as JavaScript passes them (every field optional).
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Transports to try, best first; one entry forces it.
    transports: Option<Vec<String>>,
    /// Resume point for the first request.
    last_event_id: Option<String>,
    /// Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`).
    pub(crate) with_credentials: bool,
    /// Request headers for the fetch-based transports.
    pub(crate) headers: Vec<(String, String)>,
    /// What the `stream` transport asks for: `"ndjson"` (default) or `"sse"`.
    stream_format: Option<String>,
    /// Initial reconnection time, ms.
    retry: Option<u32>,
    /// Silence on an open stream after which it counts as stalled, ms.
    heartbeat_window: Option<u32>,
    /// Time to wait for a response head, ms.
    connect_timeout: Option<u32>,
    /// Time to wait for a long-poll reply, ms.
    long_poll_timeout: Option<u32>,
    /// Pause between two polls, ms.
    poll_interval: Option<u32>,
    /// Backoff cap, ms.
    max_backoff: Option<u32>,
    /// Consecutive failures on one transport before stepping down.
    failures_before_step_down: Option<u32>,
}

/// Reads the fields of a JS options bag by name, refusing unknown keys.
///
/// Hand-written rather than serde: serde's error messages pull float
/// formatting into the module, about a fifth of the SDK's size.
pub(crate) struct Bag {
    object: JsValue,
}

impl Bag {
    /// Wrap `value` (`undefined` / `null`: an empty bag), refusing keys not in `known`.
    pub(crate) fn new(value: JsValue, known: &[&str]) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self {
                object: Object::new().into(),
            });
        }
        let Some(object) = value.dyn_ref::<Object>() else {
            return Err(bad("the options must be an object"));
        };
        for key in Object::keys(object).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(bad(&concat(&[
                    "unknown option \"",
                    &key,
                    "\" (see the PushClientOptions type)",
                ])));
            }
        }
        Ok(Self { object: value })
    }

    fn get(&self, name: &str) -> Option<JsValue> {
        Reflect::get(&self.object, &name.into())
            .ok()
            .filter(|value| !value.is_undefined() && !value.is_null())
    }

    /// A string option.
    pub(crate) fn string(&self, name: &str) -> Result<Option<String>, JsValue> {
        self.get(name)
            .map(|value| {
                value
                    .as_string()
                    .ok_or_else(|| bad(&concat(&["option ", name, " must be a string"])))
            })
            .transpose()
    }

    /// A boolean option (absent: false).
    pub(crate) fn flag(&self, name: &str) -> Result<bool, JsValue> {
        self.get(name).map_or(Ok(false), |value| {
            value
                .as_bool()
                .ok_or_else(|| bad(&concat(&["option ", name, " must be true or false"])))
        })
    }

    /// A whole number of milliseconds (or a count).
    pub(crate) fn millis(&self, name: &str) -> Result<Option<u32>, JsValue> {
        self.get(name)
            .map(|value| {
                value
                    .as_f64()
                    .and_then(|n| {
                        // The cast saturates and truncates (NaN: 0), so only a
                        // whole number in range survives the round trip
                        // (`f64::fract` needs std).
                        let whole = n as u32;
                        (f64::from(whole) == n).then_some(whole)
                    })
                    .ok_or_else(|| bad(&concat(&["option ", name, " must be a whole number ≥ 0"])))
            })
            .transpose()
    }

    /// An array of strings.
    pub(crate) fn strings(&self, name: &str) -> Result<Option<Vec<String>>, JsValue> {
        self.get(name)
            .map(|value| {
                let error = || bad(&concat(&["option ", name, " must be an array of strings"]));
                let array = value.dyn_into::<Array>().map_err(|_| error())?;
                array
                    .iter()
                    .map(|item| item.as_string().ok_or_else(error))
                    .collect()
            })
            .transpose()
    }

    /// An object of string values (request headers).
    pub(crate) fn string_pairs(&self, name: &str) -> Result<Vec<(String, String)>, JsValue> {
        let Some(value) = self.get(name) else {
            return Ok(Vec::new());
        };
        let error = || bad(&concat(&["option ", name, " must be an object of strings"]));
        let object = value.dyn_into::<Object>().map_err(|_| error())?;
        let mut map = Vec::new();
        for entry in Object::entries(&object).iter() {
            let pair = Array::from(&entry);
            let (Some(key), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string())
            else {
                return Err(error());
            };
            map.push((key, value));
        }
        Ok(map)
    }
}

fn bad(message: &str) -> JsValue {
    error(ErrorCode::BadOptions, &concat(&["bad options: ", message]))
}

/// How the `stream` transport asks for its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StreamFormat {
    /// `?transport=stream`: newline-delimited JSON.
    Ndjson,
    /// `?transport=sse` read through fetch: the same bytes EventSource gets.
    Sse,
}

/// What the driver keeps of the options besides core's config.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) with_credentials: bool,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) stream_format: StreamFormat,
}

impl Options {
    /// Read the options bag (`undefined` / `null` mean all defaults).
    pub(crate) fn from_js(value: JsValue) -> Result<Self, JsValue> {
        let bag = Bag::new(
            value,
            &[
                "transports",
                "lastEventId",
                "withCredentials",
                "headers",
                "streamFormat",
                "retry",
                "heartbeatWindow",
                "connectTimeout",
                "longPollTimeout",
                "pollInterval",
                "maxBackoff",
                "failuresBeforeStepDown",
            ],
        )?;
        Ok(Self {
            transports: bag.strings("transports")?,
            last_event_id: bag.string("lastEventId")?,
            with_credentials: bag.flag("withCredentials")?,
            headers: bag.string_pairs("headers")?,
            stream_format: bag.string("streamFormat")?,
            retry: bag.millis("retry")?,
            heartbeat_window: bag.millis("heartbeatWindow")?,
            connect_timeout: bag.millis("connectTimeout")?,
            long_poll_timeout: bag.millis("longPollTimeout")?,
            poll_interval: bag.millis("pollInterval")?,
            max_backoff: bag.millis("maxBackoff")?,
            failures_before_step_down: bag.millis("failuresBeforeStepDown")?,
        })
    }

    /// Build core's config for a subscription at `url`, and the driver's settings.
    pub(crate) fn into_config(self, url: &str) -> Result<(ClientConfig, Settings), JsValue> {
        let mut config = ClientConfig::default();
        if let Some(names) = &self.transports {
            let mut ladder = Vec::with_capacity(names.len());
            for name in names {
                let transport: Transport = name.parse().map_err(|_| {
                    error(
                        ErrorCode::UnknownTransport,
                        &concat(&[
                            "unknown transport \"",
                            name,
                            "\": use sse, stream, iframe, longpoll or poll",
                        ]),
                    )
                })?;
                ladder.push(transport);
            }
            if let [only] = ladder.as_slice() {
                config.forced = Some(*only);
            }
            config.ladder = ladder;
        }
        config.last_event_id = self.last_event_id.filter(|id| !id.is_empty());
        // The browser's EventSource hides heartbeat comments.
        config.watch_sse_silence = false;
        config.channels = channels_of(url);
        let ms = |value: Option<u32>, default: Duration| {
            value.map_or(default, |ms| Duration::from_millis(u64::from(ms)))
        };
        config.retry = ms(self.retry, config.retry);
        config.heartbeat_window = ms(self.heartbeat_window, config.heartbeat_window);
        config.connect_timeout = ms(self.connect_timeout, config.connect_timeout);
        config.long_poll_timeout = ms(self.long_poll_timeout, config.long_poll_timeout);
        config.poll_interval = ms(self.poll_interval, config.poll_interval);
        config.max_backoff = ms(self.max_backoff, config.max_backoff);
        if let Some(failures) = self.failures_before_step_down {
            config.failures_before_step_down = failures;
        }
        let stream_format = match self.stream_format.as_deref() {
            None | Some("ndjson") => StreamFormat::Ndjson,
            Some("sse") => StreamFormat::Sse,
            Some(other) => {
                return Err(error(
                    ErrorCode::BadOptions,
                    &concat(&[
                        "unknown streamFormat \"",
                        other,
                        "\": use \"ndjson\" or \"sse\"",
                    ]),
                ));
            }
        };
        Ok((
            config,
            Settings {
                with_credentials: self.with_credentials,
                headers: self.headers,
                stream_format,
            },
        ))
    }
}

/// The channels of a `/sub/{channels}` URL, in order (empty if it has none).
///
/// Core names a message that arrives without a channel (EventSource,
/// `stream` SSE) by the channel whose cursor position moved; it needs them.
pub(crate) fn channels_of(url: &str) -> Vec<String> {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    // A byte scan, not `rsplit_once("/sub/")`: that would link the two-way
    // string searcher into the SDK, whose size is a goal.
    let marker = b"/sub/";
    let Some(start) = path
        .as_bytes()
        .windows(marker.len())
        .rposition(|window| window == marker)
    else {
        return Vec::new();
    };
    let channels = path.get(start + marker.len()..).unwrap_or_default();
    channels
        .split(',')
        .filter(|channel| !channel.is_empty())
        .map(String::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_come_from_the_sub_path_in_order() {
        let table: [(&str, &[&str]); 5] = [
            ("/sub/chat,news", &["chat", "news"]),
            ("http://h:1/sub/chat?transport=sse", &["chat"]),
            ("/sub/a,,b#x", &["a", "b"]),
            ("/other/chat", &[]),
            ("/sub/", &[]),
        ];
        for (url, expected) in table {
            assert_eq!(channels_of(url), expected, "{url}");
        }
    }
}
