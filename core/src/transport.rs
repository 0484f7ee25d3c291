//! The transports a subscriber can receive on: their `?transport=` names
//! and the media types of their responses, listed once.
//!
//! The edge routes and frames by them, the host counts connections by them,
//! and the client machine ([`crate::client::Transport`], the rungs a
//! browser or the CLI can drive) names its rungs by them.
//!
//! ```
//! use pushwire_core::transport::Transport;
//!
//! let transport: Transport = "longpoll".parse()?;
//! assert_eq!(transport, Transport::LongPoll);
//! assert_eq!(transport.media_type(), "application/json");
//! assert_eq!(Transport::from_media_type("Text/Event-Stream"), Some(Transport::Sse));
//! assert!("SSE".parse::<Transport>().is_err());
//! # Ok::<(), pushwire_core::transport::UnknownTransport>(())
//! ```

use alloc::borrow::ToOwned;
use alloc::string::String;
use core::fmt;
use core::str::FromStr;

/// A way of receiving pushed messages over HTTP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    /// Server-Sent Events (`text/event-stream`), for `EventSource`.
    Sse,
    /// Newline-delimited JSON over one response (`application/x-ndjson`),
    /// for fetch streams and curl.
    Stream,
    /// `multipart/x-mixed-replace`: each message replaces the last (an
    /// `<img>` showing a webcam).
    Multipart,
    /// The forever frame: an HTML document in a hidden iframe, one
    /// `<script>` call per message.
    Iframe,
    /// One held request per batch; the JSON reply carries the next cursor.
    LongPoll,
    /// Interval polling: a JSON reply at once, with whatever is new.
    Poll,
}

impl Transport {
    /// Every transport, in the order of the edge's WIT enum (and of
    /// preference when media types tie: `application/json` is long-poll).
    pub const ALL: [Self; 6] = [
        Self::Sse,
        Self::Stream,
        Self::Multipart,
        Self::Iframe,
        Self::LongPoll,
        Self::Poll,
    ];

    /// Name the transport as `?transport=` does (`sse`, `longpoll`, …).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Sse => "sse",
            Self::Stream => "stream",
            Self::Multipart => "multipart",
            Self::Iframe => "iframe",
            Self::LongPoll => "longpoll",
            Self::Poll => "poll",
        }
    }

    /// The media type of a response on this transport, without parameters:
    /// what `Accept` names to ask for it and what `Content-Type` starts with.
    #[must_use]
    pub const fn media_type(self) -> &'static str {
        match self {
            Self::Sse => "text/event-stream",
            Self::Stream => "application/x-ndjson",
            Self::Multipart => "multipart/x-mixed-replace",
            Self::Iframe => "text/html",
            Self::LongPoll | Self::Poll => "application/json",
        }
    }

    /// The whole `Content-Type` of a response on this transport: text types
    /// say `charset=utf-8`. `None` for multipart, whose type carries the
    /// stream's boundary (see `MultipartEncoder::content_type`).
    #[must_use]
    pub const fn content_type(self) -> Option<&'static str> {
        match self {
            Self::Sse => Some("text/event-stream; charset=utf-8"),
            Self::Stream => Some("application/x-ndjson; charset=utf-8"),
            Self::Multipart => None,
            Self::Iframe => Some("text/html; charset=utf-8"),
            Self::LongPoll | Self::Poll => Some("application/json"),
        }
    }

    /// The transport whose [`media_type`](Self::media_type) is `media_type`
    /// (ASCII case-insensitive; the first in [`Self::ALL`], so
    /// `application/json` is long-poll).
    #[must_use]
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|transport| transport.media_type().eq_ignore_ascii_case(media_type))
    }

    /// Whether one response carries many messages over a long time (not a
    /// poll).
    #[must_use]
    pub const fn is_streaming(self) -> bool {
        !matches!(self, Self::LongPoll | Self::Poll)
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = UnknownTransport;

    /// Parse a `?transport=` name (exact, lower case).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|transport| transport.as_str() == name)
            .ok_or_else(|| UnknownTransport {
                name: name.to_owned(),
            })
    }
}

/// A transport name that names no [`Transport`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownTransport {
    name: String,
}

impl UnknownTransport {
    /// The name that was given.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// `unknown transport "x": use one of sse, stream, …, poll`.
impl fmt::Display for UnknownTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown transport {:?}: use one of ", self.name)?;
        for (index, transport) in Transport::ALL.iter().enumerate() {
            if index > 0 {
                f.write_str(", ")?;
            }
            f.write_str(transport.as_str())?;
        }
        Ok(())
    }
}

impl core::error::Error for UnknownTransport {}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip_and_are_exact() {
        for transport in Transport::ALL {
            assert_eq!(transport.as_str().parse(), Ok(transport));
            assert_eq!(transport.to_string(), transport.as_str());
        }
        for bad in ["", "SSE", "long-poll", "websocket", "sse "] {
            let error = bad.parse::<Transport>().unwrap_err();
            assert_eq!(error.name(), bad);
        }
        assert_eq!(
            "SSE".parse::<Transport>().unwrap_err().to_string(),
            "unknown transport \"SSE\": use one of sse, stream, multipart, iframe, longpoll, poll"
        );
    }

    #[test]
    fn media_types_pick_a_transport_and_start_its_content_type() {
        for transport in Transport::ALL {
            let found = Transport::from_media_type(transport.media_type()).unwrap();
            assert_eq!(found.media_type(), transport.media_type());
            if let Some(content_type) = transport.content_type() {
                assert_eq!(crate::media::essence(content_type), transport.media_type());
            }
        }
        assert_eq!(
            Transport::from_media_type("application/json"),
            Some(Transport::LongPoll)
        );
        assert_eq!(Transport::from_media_type("text/*"), None);
    }
}
