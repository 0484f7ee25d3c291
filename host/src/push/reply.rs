//! What the pipeline hands the front door: a request as the edge sees it,
//! and a reply (a whole response, a poll's shared reply, or a stream), with
//! the sentences every refusal and error carries.

use alloc::sync::Arc;
use core::convert::Infallible;

use bytes::Bytes;
use http_body_util::Full;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::{Response, StatusCode};
use pushwire_core::hub::HubError;

use crate::edge::{EdgeError, Refusal, Request, ResponseHead};
use crate::push::stream::StreamBody;

/// The response body every route uses.
pub type ReplyBody = UnsyncBoxBody<Bytes, Infallible>;

/// The request as the edge module sees it.
pub(crate) fn edge_request<B>(req: &hyper::Request<B>) -> Request {
    let mut headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    // HTTP/2 carries the host as `:authority`, which hyper keeps in the URI.
    if !req.headers().contains_key(hyper::header::HOST)
        && let Some(authority) = req.uri().authority()
    {
        headers.push(("host".to_owned(), authority.as_str().to_owned()));
    }
    Request {
        method: req.method().as_str().to_owned(),
        path: req.uri().path().to_owned(),
        query: req.uri().query().unwrap_or_default().to_owned(),
        headers,
        unix_time: unix_now(),
    }
}

/// Seconds since 1970 by the system clock (0 if it is set before that).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A reply's status and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// The HTTP status.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
}

impl From<ResponseHead> for Head {
    fn from(head: ResponseHead) -> Self {
        Self {
            status: head.status,
            headers: head.headers,
        }
    }
}

/// What a request is answered with: a whole reply (a refusal, a page, a
/// long-poll or poll reply), or a stream to write for as long as it lasts.
/// The HTTP/1.1 loop writes it on the socket as it is; hyper's routes turn
/// it into a response (`Reply::into_response`).
pub enum Reply {
    /// A whole response.
    Whole {
        /// Its status and headers (shared by every poll one publish answered).
        head: Arc<Head>,
        /// Headers added to this one (CORS).
        extra: Vec<(String, String)>,
        /// The body.
        body: Bytes,
    },
    /// A streaming subscription: its head, and the body that reads the hub.
    Stream {
        /// The edge's status and headers (plus CORS ones).
        head: Head,
        /// The hub reader.
        body: StreamBody,
    },
}

impl Reply {
    /// A whole reply.
    pub fn whole(status: u16, headers: Vec<(String, String)>, body: impl Into<Bytes>) -> Self {
        Self::Whole {
            head: Arc::new(Head { status, headers }),
            extra: Vec::new(),
            body: body.into(),
        }
    }

    /// The reply's status.
    pub fn status(&self) -> u16 {
        match self {
            Self::Whole { head, .. } => head.status,
            Self::Stream { head, .. } => head.status,
        }
    }

    /// Add `headers` (CORS, `Retry-After`) to the reply.
    pub(crate) fn add_headers(&mut self, headers: &[(String, String)]) {
        match self {
            Self::Whole { extra, .. } => extra.extend_from_slice(headers),
            Self::Stream { head, .. } => head.headers.extend_from_slice(headers),
        }
    }

    /// The reply as a hyper response (HTTP/2, and the requests the
    /// HTTP/1.1 loop leaves to hyper).
    pub(crate) fn into_response(self) -> Response<ReplyBody> {
        let (status, headers, body) = match self {
            Self::Whole { head, extra, body } => {
                let mut headers = head.headers.clone();
                headers.extend(extra);
                (head.status, headers, UnsyncBoxBody::new(Full::new(body)))
            }
            Self::Stream { head, body } => (head.status, head.headers, UnsyncBoxBody::new(body)),
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
        for (name, value) in &headers {
            if let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(name.as_bytes()),
                hyper::header::HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            } else {
                tracing::warn!(header = %name, "the edge module sent a header that is not valid HTTP; dropped");
            }
        }
        response
    }
}

/// A `(name, value)` header pair.
pub(crate) fn header(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Reply {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    Reply::whole(
        status.as_u16(),
        vec![
            header("content-type", "application/json"),
            header("cache-control", "no-store"),
        ],
        body,
    )
}

/// A plain-text reply: one sentence that says what happened.
pub fn text(status: StatusCode, message: &str) -> Reply {
    Reply::whole(
        status.as_u16(),
        vec![
            header("content-type", "text/plain; charset=utf-8"),
            header("cache-control", "no-store"),
        ],
        format!("{message}\n"),
    )
}

pub(crate) fn refused(refusal: &Refusal) -> Reply {
    let mut reply = text(
        StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
        &refusal.message,
    );
    reply.add_headers(&refusal.headers);
    reply
}

/// A 500 for a failed edge call: the cause goes to the log, not to the
/// client (a trap's message can carry the guest's backtrace).
pub(crate) fn edge_failed(err: &EdgeError) -> Reply {
    tracing::error!("edge module call failed: {err}");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        "The edge module failed on this request; the server's log says why. Try again shortly.",
    )
}

pub(crate) fn busy(message: &str) -> Reply {
    let mut reply = text(StatusCode::SERVICE_UNAVAILABLE, message);
    reply.add_headers(&[header("retry-after", "5")]);
    reply
}

pub(crate) fn too_large(max: usize) -> Reply {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("The message is larger than the server's limit of {max} bytes."),
    )
}

pub(crate) fn hub_refused(err: &HubError) -> Reply {
    match err {
        HubError::TooManySubscribers { .. } | HubError::TooManyChannels { .. } => {
            busy(&format!("{err}; try again shortly."))
        }
        HubError::MessageTooLarge { .. } => text(StatusCode::PAYLOAD_TOO_LARGE, &format!("{err}.")),
        _ => text(StatusCode::BAD_REQUEST, &format!("{err}.")),
    }
}
