//! Webcams: a multipart/x-mixed-replace upload turned into frames
//! (`/ingest`), the frames as multipart for a plain `<img>` (`/stream`) and
//! the newest one as a still (`/snapshot`).
//!
//! ```text
//! PUT /ingest/cam ──► MultipartParser (core) ──► Edge::accept_publish per part ──► hub.publish("frame")
//! GET /stream/cam.mjpg ──► Edge::route (a multipart subscription) ──► StreamBody (repeat last, ?fps=)
//! GET /snapshot/cam.jpg ──► Edge::route (who may see it) ──► hub.newest
//! ```
//!
//! Nothing here parses or frames multipart: core's parser reads the upload,
//! the edge frames the parts and decides every name and limit. Webcam
//! channels use [`DeliveryPolicy::Latest`](pushwire_core::hub::DeliveryPolicy)
//! ([`SharedHub::configure_webcam`](crate::push::hub::SharedHub::configure_webcam)),
//! so a slow viewer skips to the newest frame instead of slowing anyone.

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, StatusCode};
use pushwire_core::multipart::{
    MultipartError, MultipartEvent, MultipartParser, MultipartParserConfig,
    boundary_from_body_start, boundary_from_content_type,
};

use pushwire_core::hub::{HubError, Published};

use crate::edge::{Publish, Request};
use crate::push::App;
use crate::push::reply::{
    Reply, edge_failed, edge_request, header, hub_refused, json, refused, text,
};

/// `PUT` or `POST /ingest/{channel}`: read a multipart/x-mixed-replace upload
/// part by part and publish each part's body on the channel (event `frame`
/// unless `?event=` says otherwise); reply `{"channel","frames"}` when the
/// upload ends.
pub(crate) async fn ingest(app: &App, req: hyper::Request<Incoming>) -> Reply {
    let edge_req = edge_request(&req);
    // The edge decides the channel and event (and refuses bad names) before
    // any byte is read; the body length of a stream is not known yet.
    let accepted = match app.edge().accept_publish(&edge_req, 0) {
        Ok(Ok(accepted)) => accepted,
        Ok(Err(refusal)) => return refused(&refusal),
        Err(err) => return edge_failed(&err),
    };
    let Some(_slot) = app.connection_slot() else {
        return app.no_slot();
    };
    let idle = app.config.upload_idle;
    let content_type = req
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let mut body = req.into_body();
    // Bytes read before the parser exists (to find the boundary in them).
    let mut start = Vec::new();
    let boundary = match &content_type {
        Some(content_type) => boundary_from_content_type(content_type).map_err(|err| {
            format!(
                "The upload's Content-Type {content_type:?} cannot be read: {err}; send multipart/x-mixed-replace;boundary=… or no Content-Type and a body that starts with --boundary (as ffmpeg -f mpjpeg does)."
            )
        }),
        // ffmpeg's HTTP output sends no Content-Type: the body's first line
        // names the boundary.
        None => loop {
            if let Some(found) = boundary_from_body_start(&start) {
                break found.map_err(|err| {
                    format!(
                        "The upload has no Content-Type and its body does not start with a boundary line (--boundary): {err}; send Content-Type: multipart/x-mixed-replace;boundary=…"
                    )
                });
            }
            let Ok(frame) = tokio::time::timeout(idle, body.frame()).await else {
                return idle_upload(idle);
            };
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        start.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) | None => {
                    break Err("The upload has no Content-Type and ended before its first boundary line: send Content-Type: multipart/x-mixed-replace;boundary=… and the parts.".to_owned());
                }
            }
        },
    };
    let boundary = match boundary {
        Ok(boundary) => boundary,
        Err(message) => return text(StatusCode::BAD_REQUEST, &message),
    };
    if let Err(err) = app.hub.configure_webcam(&accepted.channel) {
        return hub_refused(&err);
    }
    let max = app.config.max_message_bytes;
    let mut parser = MultipartParser::new(
        &boundary,
        MultipartParserConfig {
            max_part_size: max,
            ..MultipartParserConfig::default()
        },
    );
    let mut upload = Upload {
        app,
        edge_req,
        accepted,
        frames: 0,
    };
    tracing::info!(channel = %upload.accepted.channel, "camera upload started");
    parser.push(&start);
    loop {
        let Ok(frame) = tokio::time::timeout(idle, body.frame()).await else {
            tracing::info!(channel = %upload.accepted.channel, frames = upload.frames, "camera upload idle, ended");
            return idle_upload(idle);
        };
        let ended = frame.is_none();
        match frame {
            Some(Ok(frame)) => {
                if let Ok(data) = frame.into_data() {
                    parser.push(&data);
                }
            }
            Some(Err(err)) => {
                // The uploader went away mid-stream: nobody reads a reply.
                tracing::info!(channel = %upload.accepted.channel, frames = upload.frames, "camera upload broke off: {err}");
                return upload.reply();
            }
            None => parser.finish(),
        }
        while let Some(event) = parser.poll_event() {
            match event {
                Ok(MultipartEvent::Part(part)) => {
                    if let Err(response) = upload.publish(part.body) {
                        return *response;
                    }
                }
                Ok(MultipartEvent::End) => return upload.reply(),
                // The input ended inside a part: the frames before it count.
                Err(MultipartError::UnexpectedEnd) => return upload.reply(),
                Err(MultipartError::PartTooLarge { limit }) => {
                    return text(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        &format!(
                            "Frame {} of the upload to {:?} is larger than the server's limit of {limit} bytes; the upload ended after {} frames: send smaller frames (a lower resolution or quality).",
                            upload.frames + 1,
                            upload.accepted.channel,
                            upload.frames
                        ),
                    );
                }
                Err(err) => {
                    return text(
                        StatusCode::BAD_REQUEST,
                        &format!(
                            "The upload to {:?} is not a readable multipart stream ({err}); it ended after {} frames.",
                            upload.accepted.channel, upload.frames
                        ),
                    );
                }
            }
        }
        if ended {
            return upload.reply();
        }
    }
}

/// One upload in progress.
struct Upload<'a> {
    app: &'a App,
    edge_req: Request,
    accepted: Publish,
    frames: u64,
}

impl Upload<'_> {
    /// Publish one part's body as a frame, if the edge accepts its size.
    fn publish(&mut self, data: Vec<u8>) -> Result<(), Box<Reply>> {
        match self
            .app
            .edge()
            .accept_publish(&self.edge_req, data.len() as u64)
        {
            Ok(Ok(_)) => {}
            Ok(Err(refusal)) => return Err(Box::new(refused(&refusal))),
            Err(err) => return Err(Box::new(edge_failed(&err))),
        }
        publish_frame(self.app, &self.accepted.channel, &self.accepted.event, data)
            .map_err(|err| Box::new(hub_refused(&err)))?;
        self.frames += 1;
        Ok(())
    }

    fn reply(&self) -> Reply {
        tracing::info!(channel = %self.accepted.channel, frames = self.frames, "camera upload ended");
        json(
            StatusCode::OK,
            &serde_json::json!({
                "channel": self.accepted.channel,
                "frames": self.frames,
            }),
        )
    }
}

/// The reply to an upload that sent nothing for `idle`.
fn idle_upload(idle: core::time::Duration) -> Reply {
    text(
        StatusCode::REQUEST_TIMEOUT,
        &format!(
            "The upload sent nothing for {} s and was ended; send frames steadily (or reconnect).",
            idle.as_secs()
        ),
    )
}

/// Publish one frame on a webcam channel (an upload's part, a demo frame).
///
/// # Errors
/// The hub's refusal (frame too large, bad name).
pub fn publish_frame(
    app: &App,
    channel: &str,
    event: &str,
    data: Vec<u8>,
) -> Result<Published, HubError> {
    app.publish(channel, event, data)
}

/// `GET /snapshot/{channel}.jpg`: the channel's newest frame, or 404.
pub(crate) fn snapshot(app: &App, req: &hyper::Request<Incoming>) -> Reply {
    // The edge decides who may see the channel and what its name is, as for
    // a subscription.
    let channel = match app.framer.route(&edge_request(req)).as_deref() {
        Ok(Ok(route)) => route.sub.channels.first().cloned().unwrap_or_default(),
        Ok(Err(refusal)) => return refused(refusal),
        Err(err) => return edge_failed(err),
    };
    let newest = app.hub.newest(&channel);
    // JPEG's start-of-image marker: a text message is not a snapshot.
    let Some(frame) = newest.filter(|entry| entry.data().starts_with(&[0xFF, 0xD8, 0xFF])) else {
        return text(
            StatusCode::NOT_FOUND,
            &format!(
                "Channel {channel:?} has no JPEG frame yet: upload a camera to /ingest/{channel} (ffmpeg -f mpjpeg) or publish a JPEG to /pub/{channel}."
            ),
        );
    };
    let body = if req.method() == Method::HEAD {
        bytes::Bytes::new()
    } else {
        bytes::Bytes::copy_from_slice(frame.data())
    };
    Reply::whole(
        200,
        vec![
            header("content-type", "image/jpeg"),
            header("cache-control", "no-store"),
            // Also for HEAD, whose body is left out.
            header("content-length", &frame.data().len().to_string()),
        ],
        body,
    )
}
