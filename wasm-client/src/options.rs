//! The options bag of `new PushClient(url, options)`, turned into core's
//! [`ClientConfig`].

use alloc::{collections::BTreeMap, string::String, vec::Vec};
use core::time::Duration;

use pushwire_core::client::{ClientConfig, Transport};
use serde::Deserialize;
use wasm_bindgen::JsValue;

use crate::error::{ErrorCode, error};

/// The options as JavaScript passes them (every field optional).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub(crate) struct Options {
    /// Transports to try, best first; one entry forces it.
    transports: Option<Vec<String>>,
    /// Resume point for the first request.
    last_event_id: Option<String>,
    /// Send cookies cross-origin (EventSource `withCredentials`, fetch `credentials: "include"`).
    pub(crate) with_credentials: bool,
    /// Request headers for the fetch-based transports.
    pub(crate) headers: BTreeMap<String, String>,
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
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) stream_format: StreamFormat,
}

impl Options {
    /// Read the options bag (`undefined` / `null` mean all defaults).
    pub(crate) fn from_js(value: JsValue) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self::default());
        }
        serde_wasm_bindgen::from_value(value)
            .map_err(|err| error(ErrorCode::BadOptions, &alloc::format!("bad options: {err}")))
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
                        &alloc::format!(
                            "unknown transport {name:?}: use sse, stream, iframe, longpoll or poll"
                        ),
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
                    &alloc::format!("unknown streamFormat {other:?}: use \"ndjson\" or \"sse\""),
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
    let Some((_, channels)) = path.rsplit_once("/sub/") else {
        return Vec::new();
    };
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
