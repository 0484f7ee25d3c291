//! The routing table: every route, and which step of the pipeline answers it.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /sub/{channels}` | subscribe (`?transport=` or `Accept`; resume with `Last-Event-ID` or `?since=`) |
//! | `POST /pub/{channel}` | publish the body (`?event=` names the event); JSON reply |
//! | `GET /pub/{channel}` | channel info as JSON |
//! | `PUT`/`POST /ingest/{channel}` | a multipart/x-mixed-replace upload, one message (event `frame`) per part |
//! | `GET /stream/{channel}.mjpg` | the channel as multipart for an `<img>` (`?fps=` caps the rate) |
//! | `GET /snapshot/{channel}.jpg` | the channel's newest frame |
//! | `GET /metrics`, `GET /healthz` | Prometheus text, liveness |
//! | `/sdk/…`, `/` | the browser SDK and the demo pages |

use alloc::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Response, StatusCode};

use crate::edge::Request;
use crate::push::App;
use crate::push::reply::{
    Reply, ReplyBody, edge_failed, edge_request, header, json, refused, text, too_large,
};
use crate::push::subscribe::{accept_publish, publish_accepted, subscribe};

/// Ask the edge about the request's origin first (CORS), then route it and
/// add the edge's CORS headers to whatever the route answered.
pub(crate) async fn handle(app: Arc<App>, req: hyper::Request<Incoming>) -> Response<ReplyBody> {
    let cross_origin =
        req.headers().contains_key(hyper::header::ORIGIN) || req.method() == Method::OPTIONS;
    if !cross_origin {
        return route(app, req).await.into_response();
    }
    let cors = match cors_headers(&app, &edge_request(&req)) {
        Ok(headers) => headers,
        Err(refusal) => return refusal.into_response(),
    };
    let mut reply = if req.method() == Method::OPTIONS {
        Reply::whole(204, Vec::new(), Bytes::new())
    } else {
        route(app, req).await
    };
    reply.add_headers(&cors);
    reply.into_response()
}

/// The edge's CORS headers for a request that carries an `Origin`, or its
/// refusal as the reply.
pub(crate) fn cors_headers(app: &App, req: &Request) -> Result<Vec<(String, String)>, Box<Reply>> {
    match app.edge().cors(req) {
        Ok(Ok(headers)) => Ok(headers),
        Ok(Err(refusal)) => Err(Box::new(refused(&refusal))),
        Err(err) => Err(Box::new(edge_failed(&err))),
    }
}

/// The server's routes: the one place a request path is matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route<'a> {
    /// `/healthz`.
    Health,
    /// `/metrics`.
    Metrics,
    /// `/sub/{channels}`, `/stream/{channel}.mjpg`: a subscription the edge
    /// routes (which channels, which transport, which cursor).
    Subscribe,
    /// `/snapshot/{channel}.jpg`: a channel's newest frame.
    Snapshot,
    /// `/pub/{channel}`: publish (`POST`), or the channel's numbers (`GET`).
    Publish {
        /// The path after `/pub/`, as sent.
        channel: &'a str,
    },
    /// `/ingest/{channel}`: a camera upload.
    Ingest,
    /// `/sdk/{file}`: the browser SDK.
    Sdk {
        /// The file's name.
        file: &'a str,
    },
    /// Anything else: a demo page, or 404.
    Page,
}

impl<'a> Route<'a> {
    /// The route of `path` (without its query).
    pub(crate) fn of(path: &'a str) -> Self {
        if path == "/healthz" {
            Self::Health
        } else if path == "/metrics" {
            Self::Metrics
        } else if path.starts_with("/sub/") || path.starts_with("/stream/") {
            Self::Subscribe
        } else if path.starts_with("/snapshot/") {
            Self::Snapshot
        } else if let Some(channel) = path.strip_prefix("/pub/") {
            Self::Publish { channel }
        } else if path.starts_with("/ingest/") {
            Self::Ingest
        } else if let Some(file) = path.strip_prefix("/sdk/") {
            Self::Sdk { file }
        } else {
            Self::Page
        }
    }
}

async fn route(app: Arc<App>, req: hyper::Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    match Route::of(&path) {
        Route::Health if req.method() == Method::GET || req.method() == Method::HEAD => {
            text(StatusCode::OK, "ok")
        }
        Route::Health => text(StatusCode::METHOD_NOT_ALLOWED, "Use GET for /healthz."),
        Route::Metrics => {
            let body = app
                .metrics
                .render(app.hub.subscriber_count(), app.edge().stats());
            Reply::whole(
                200,
                vec![
                    header("content-type", "text/plain; version=0.0.4; charset=utf-8"),
                    header("cache-control", "no-store"),
                ],
                body,
            )
        }
        Route::Subscribe => subscribe(app, &edge_request(&req)).await,
        Route::Snapshot => crate::webcam::snapshot(&app, &req),
        Route::Publish { channel } if req.method() == Method::GET => channel_info(&app, channel),
        Route::Publish { .. } => publish(&app, req).await,
        Route::Ingest => crate::webcam::ingest(&app, req).await,
        Route::Sdk { file } => crate::demo::sdk::serve(req.method(), file),
        Route::Page => crate::demo::www::serve(req.method(), &path).unwrap_or_else(|| {
            text(
                StatusCode::NOT_FOUND,
                &format!(
                    "No such route {path}: subscribe at /sub/{{channels}}, publish at /pub/{{channel}}, upload a camera at /ingest/{{channel}}, watch it at /stream/{{channel}}.mjpg."
                ),
            )
        }),
    }
}

async fn publish(app: &App, req: hyper::Request<Incoming>) -> Reply {
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(0);
    let accepted = match accept_publish(app, &edge_request(&req), declared) {
        Ok(accepted) => accepted,
        Err(refusal) => return *refusal,
    };
    let max = app.config.max_message_bytes;
    let data = match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => return too_large(max),
        Err(err) => {
            return text(
                StatusCode::BAD_REQUEST,
                &format!("The request body could not be read: {err}."),
            );
        }
    };
    publish_accepted(app, &accepted, data.to_vec())
}

fn channel_info(app: &App, channel: &str) -> Reply {
    let Some(info) = app.hub.channel_info(channel) else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("No channel {channel:?}: nothing was published or subscribed there yet."),
        );
    };
    let reply = serde_json::json!({
        "channel": channel,
        "subscribers": info.subscribers,
        "last_seq": info.last_seq,
        "log_len": info.log_len,
        "log_bytes": info.log_bytes,
    });
    json(StatusCode::OK, &reply)
}
