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

/// What a subscription answered: a whole reply (a refusal, a long-poll or
/// poll reply), or a stream to write for as long as it lasts.
pub(crate) enum Reply {
    /// A whole response.
    Done(Response<ReplyBody>),
    /// A long-poll or poll reply: the edge's (shared) head, more headers
    /// (CORS), and the framed body.
    Whole {
        /// The edge's head for the subscription.
        head: Arc<ResponseHead>,
        /// Headers added here.
        extra: Vec<(String, String)>,
        /// The framed reply.
        body: Bytes,
    },
    /// A streaming subscription: its head, and the body that reads the hub.
    Stream {
        /// The edge's status.
        status: u16,
        /// The edge's headers (plus CORS ones).
        headers: Vec<(String, String)>,
        /// The hub reader.
        body: StreamBody,
    },
}

impl Reply {
    /// Add `headers` (CORS) to the reply.
    pub(crate) fn add_headers(&mut self, extra: &[(String, String)]) {
        match self {
            Self::Done(response) => add_headers(response, extra),
            Self::Whole { extra: mine, .. } => mine.extend_from_slice(extra),
            Self::Stream { headers, .. } => headers.extend_from_slice(extra),
        }
    }

    /// The reply as a hyper response.
    pub(crate) fn into_response(self) -> Response<ReplyBody> {
        match self {
            Self::Done(response) => response,
            Self::Whole { head, extra, body } => {
                let mut response = with_head(head.status, &head.headers, full(body));
                add_headers(&mut response, &extra);
                response
            }
            Self::Stream {
                status,
                headers,
                body,
            } => with_head(status, &headers, UnsyncBoxBody::new(body)),
        }
    }
}

impl From<Response<ReplyBody>> for Reply {
    fn from(response: Response<ReplyBody>) -> Self {
        Self::Done(response)
    }
}

pub(crate) fn with_head(
    status: u16,
    headers: &[(String, String)],
    body: ReplyBody,
) -> Response<ReplyBody> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    add_headers(&mut response, headers);
    response
}

/// Append the edge's `headers` to `response` (an invalid one is dropped and logged).
pub(crate) fn add_headers(response: &mut Response<ReplyBody>, headers: &[(String, String)]) {
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        } else {
            tracing::warn!(header = %name, "the edge module sent a header that is not valid HTTP; dropped");
        }
    }
}

pub(crate) fn full(body: impl Into<Bytes>) -> ReplyBody {
    UnsyncBoxBody::new(Full::new(body.into()))
}

pub(crate) fn json(status: StatusCode, value: &serde_json::Value) -> Response<ReplyBody> {
    let mut body = serde_json::to_vec(value).unwrap_or_default();
    body.push(b'\n');
    with_head(
        status.as_u16(),
        &[
            ("content-type".to_owned(), "application/json".to_owned()),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        full(body),
    )
}

/// A plain-text reply: one sentence that says what happened.
pub fn text(status: StatusCode, message: &str) -> Response<ReplyBody> {
    with_head(
        status.as_u16(),
        &[
            (
                "content-type".to_owned(),
                "text/plain; charset=utf-8".to_owned(),
            ),
            ("cache-control".to_owned(), "no-store".to_owned()),
        ],
        full(format!("{message}\n")),
    )
}

pub(crate) fn refused(refusal: &Refusal) -> Response<ReplyBody> {
    let mut response = text(
        StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST),
        &refusal.message,
    );
    add_headers(&mut response, &refusal.headers);
    response
}

pub(crate) fn edge_failed(err: &EdgeError) -> Response<ReplyBody> {
    tracing::error!("edge module call failed: {err}");
    text(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("The edge module failed on this request: {err}."),
    )
}

pub(crate) fn busy(message: &str) -> Response<ReplyBody> {
    let mut response = text(StatusCode::SERVICE_UNAVAILABLE, message);
    response.headers_mut().insert(
        hyper::header::RETRY_AFTER,
        hyper::header::HeaderValue::from_static("5"),
    );
    response
}

pub(crate) fn too_large(max: usize) -> Response<ReplyBody> {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("The message is larger than the server's limit of {max} bytes."),
    )
}

pub(crate) fn hub_refused(err: &HubError) -> Response<ReplyBody> {
    match err {
        HubError::TooManySubscribers { .. } | HubError::TooManyChannels { .. } => {
            busy(&format!("{err}; try again shortly."))
        }
        HubError::MessageTooLarge { .. } => text(StatusCode::PAYLOAD_TOO_LARGE, &format!("{err}.")),
        _ => text(StatusCode::BAD_REQUEST, &format!("{err}.")),
    }
}
