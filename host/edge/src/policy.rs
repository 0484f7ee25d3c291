//! The default edge policy: what a subscribe or publish request may do, and
//! the bytes of every transport, built from `pushwire-core`.
//!
//! Plain functions over the WIT types of `crate::bindings`, so they run (and
//! are tested) natively as well as inside the component. A replacement module
//! reuses them by including this file (`#[path]`, as `host/edge-example`
//! does) and adding its own rules before or after them: a component crate
//! cannot link another component crate's rlib, whose world exports would
//! collide with its own.
//!
//! Nothing here frames a protocol by hand: SSE, NDJSON, the forever frame,
//! multipart and the long-poll JSON all come from `pushwire-core`.

use alloc::borrow::{Cow, ToOwned};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use pushwire_core::cursor::Cursor;
use pushwire_core::frame::{self, CallbackName, FrameConfig, FrameEncoder};
use pushwire_core::hub::{HubError, validate_channel_name, validate_event_name};
use pushwire_core::media::{QValue, media_ranges};
use pushwire_core::multipart::{Boundary, MultipartEncoder};
use pushwire_core::transport::Transport as CoreTransport;
use pushwire_core::url::{self, DecodeError, percent_decode};
use pushwire_core::wire::{self, DEFAULT_EVENT, WireMessageRef};
use pushwire_core::{ndjson, sse};

use crate::auth::Policy;
use crate::bindings::{Message, Publish, Refusal, Request, ResponseHead, Subscription, Transport};

/// Most channels one subscription may name (the hub has its own limit too).
pub const MAX_CHANNELS: usize = 16;

/// Largest publish body accepted, in bytes (1 MiB; the host has its own limit too).
pub const MAX_PUBLISH_BYTES: u64 = 1 << 20;

/// The one multipart boundary token of every multipart response.
///
/// The edge has no randomness (it imports nothing) and its instances are
/// interchangeable, so the boundary is a constant rather than a token per
/// stream. It is public (it is in every Content-Type), so a payload that
/// contains `--` followed by it cannot travel on the multipart transport:
/// [`frame()`] refuses it (the host skips that message for multipart
/// subscribers and logs why) instead of letting it forge a part.
pub const MULTIPART_BOUNDARY: &str = "pushwire-4c1e9a7f3b6d2e80a5f1c7d39b2e6a04";

/// Milliseconds without a new part after which a multipart stream repeats
/// its last part, so Chromium shows it (docs/conformance.md §2, "Rendering
/// latency": an `<img>` shows part N only once part N+1 starts).
pub const MULTIPART_REPEAT_MS: u64 = 1000;

/// The highest `?fps=` a subscriber may ask for.
pub const MAX_FPS: f64 = 1000.0;

/// The lowest `?fps=`: one frame a day.
pub const MIN_FPS: f64 = 1.0 / 86_400.0;

/// The event name of a part of a multipart upload (`PUT /ingest/{channel}`)
/// unless the request names another.
pub const INGEST_EVENT: &str = "frame";

/// Query parameters that carry a resume cursor, after the `Last-Event-ID` header.
pub const CURSOR_PARAMS: [&str; 3] = ["since", "last_event_id", "lastEventId"];

/// Longest piece of user input quoted back in a refusal, in characters.
const SHOWN_CHARS: usize = 80;

/// Decide what a subscribe request (`GET /sub/{channels}`) gets, or refuse it.
///
/// Channels are percent-decoded, split on `,` and checked with the hub's
/// naming rule; the transport comes from `?transport=`, else from `Accept`
/// ([`negotiate`]); the cursor from `Last-Event-ID`, else `?since=` (or
/// `?last_event_id=`, `?lastEventId=`; an empty value counts as absent), and
/// must parse as a hub cursor; the forever frame's `?callback=` must be a
/// JavaScript name (default `pushwireFrame`); `?fps=N` (from [`MIN_FPS`] to
/// [`MAX_FPS`], fractions allowed) caps the rate at one message per 1/N s.
/// Private channels need a token ([`Policy::authorize_subscribe`]).
///
/// # Errors
/// A [`Refusal`]: 404 for another path, 405 for another method, 400 for a bad
/// channel list, transport, cursor, callback or frame rate, 401/403 for a
/// private channel without a token that allows it, each with a sentence.
pub fn route(policy: &Policy, req: &Request) -> Result<Subscription, Refusal> {
    let (list, picture) = if let Some(list) = req.path.strip_prefix("/sub/") {
        (list, None)
    } else if let Some(rest) = req.path.strip_prefix("/stream/") {
        (
            picture_channel(rest, ".mjpg", "stream", "/stream/{channel}.mjpg")?,
            Some(Picture::Stream),
        )
    } else if let Some(rest) = req.path.strip_prefix("/snapshot/") {
        (
            picture_channel(rest, ".jpg", "snapshot", "/snapshot/{channel}.jpg")?,
            Some(Picture::Snapshot),
        )
    } else {
        return Err(not_found(&req.path));
    };
    if picture.is_some() && req.method != "GET" && req.method != "HEAD" {
        return Err(refuse(
            405,
            format!(
                "{} is not allowed on {}: use GET.",
                shown(&req.method),
                shown(&req.path)
            ),
        ));
    }
    if picture.is_none() && req.method != "GET" {
        return Err(refuse(
            405,
            format!(
                "{} is not allowed on {}: subscribe with GET.",
                shown(&req.method),
                shown(&req.path)
            ),
        ));
    }
    let channels = channel_list(list)?;
    if picture.is_some() && channels.len() > 1 {
        return Err(refuse(
            400,
            format!(
                "{:?} names several channels: a picture shows one channel.",
                shown(list)
            ),
        ));
    }
    policy.authorize_subscribe(req, &channels)?;
    if picture.is_some() {
        // A picture is multipart; a stream may be paced (`?fps=`), a
        // snapshot is the newest frame (no cursor, no pace).
        let stream = picture == Some(Picture::Stream);
        let min_interval_ms = match query_param(&req.query, "fps")? {
            Some(fps) if stream => Some(frame_interval(&fps)?),
            _ => None,
        };
        return Ok(Subscription {
            channels,
            transport: Transport::Multipart,
            cursor: if stream { resume_cursor(req)? } else { None },
            callback: None,
            min_interval_ms,
        });
    }
    let transport = match query_param(&req.query, "transport")? {
        Some(name) => name
            .parse::<CoreTransport>()
            .map(Transport::from)
            .map_err(|_| {
                refuse(
                    400,
                    format!(
                        "Unknown transport {:?}: use one of {}.",
                        shown(&name),
                        CoreTransport::ALL.map(CoreTransport::as_str).join(", ")
                    ),
                )
            })?,
        None => negotiate(header(req, "accept")),
    };
    let cursor = resume_cursor(req)?;
    let callback = match transport {
        Transport::Iframe => Some(callback(req)?),
        _ => None,
    };
    let min_interval_ms = match query_param(&req.query, "fps")? {
        Some(fps) => Some(frame_interval(&fps)?),
        None => None,
    };
    Ok(Subscription {
        channels,
        transport,
        cursor,
        callback,
        min_interval_ms,
    })
}

/// The status, headers and preamble of an allowed subscription.
///
/// Every response gets its `content-type`; streams get
/// `cache-control: no-cache, no-transform` and `x-accel-buffering: no` (so
/// nginx does not buffer them), polls `cache-control: no-store`. Preambles:
/// SSE a `: ok` comment (bytes at once, so clients and proxies see the stream
/// is alive), multipart its first delimiter, the forever frame its padded
/// document head calling back `sub.callback` (an invalid name falls back to
/// the default, as `route` never returns one) and a 128 KiB byte budget.
pub fn open(sub: &Subscription) -> ResponseHead {
    let mut preamble = Vec::new();
    let mut byte_budget = None;
    let mut repeat_last_ms = None;
    // Multipart's type names its boundary; the others' come from core's list.
    let mut multipart_type = None;
    match sub.transport {
        Transport::Sse => {
            sse::encode_comment(&mut preamble, "ok");
            // The subscriber's starting position: a client that reconnects
            // before its first message resumes here, and an SDK can tell
            // which channel each later message advanced.
            if let Some(cursor) = &sub.cursor {
                // A cursor that cannot be an id is simply not announced.
                let _ = sse::encode_cursor(&mut preamble, cursor);
            }
        }
        Transport::Stream | Transport::Longpoll | Transport::Poll => {}
        Transport::Multipart => {
            let encoder = multipart_encoder();
            encoder.write_start(&mut preamble);
            // x-mixed-replace replaces: a repeated part changes nothing for
            // a viewer, and it carries the same `X-Pushwire-Id`.
            repeat_last_ms = Some(MULTIPART_REPEAT_MS);
            multipart_type = Some(encoder.content_type());
        }
        Transport::Iframe => {
            let config = FrameConfig {
                callback: sub
                    .callback
                    .as_deref()
                    .and_then(|name| CallbackName::new(name).ok())
                    .unwrap_or_default(),
                ..FrameConfig::default()
            };
            FrameEncoder::start(&config, &mut preamble);
            byte_budget = Some(config.byte_budget);
        }
    }
    let content_type = multipart_type.unwrap_or_else(|| {
        CoreTransport::from(sub.transport)
            .content_type()
            .unwrap_or_default()
            .to_owned()
    });
    let mut headers = Vec::with_capacity(4);
    headers.push(("content-type".to_owned(), content_type));
    match sub.transport {
        Transport::Longpoll | Transport::Poll => {
            headers.push(("cache-control".to_owned(), "no-store".to_owned()));
        }
        Transport::Multipart => {
            // docs/conformance.md §2 "Encoder rules": camera viewers also expect
            // no-store and the HTTP/1.0 `pragma`.
            headers.push((
                "cache-control".to_owned(),
                "no-cache, no-store, no-transform".to_owned(),
            ));
            headers.push(("pragma".to_owned(), "no-cache".to_owned()));
            headers.push(("x-accel-buffering".to_owned(), "no".to_owned()));
        }
        Transport::Sse | Transport::Stream | Transport::Iframe => {
            headers.push((
                "cache-control".to_owned(),
                "no-cache, no-transform".to_owned(),
            ));
            headers.push(("x-accel-buffering".to_owned(), "no".to_owned()));
        }
    }
    ResponseHead {
        status: 200,
        headers,
        preamble,
        byte_budget,
        repeat_last_ms,
    }
}

/// Frame one message for a streaming transport; the bytes go to every subscriber.
///
/// SSE: an event with `id`, `event` (unless `message`) and the data split
/// into `data:` lines. Stream: one NDJSON line. Forever frame: one
/// `<script>` call (escaped so no payload can end it). Multipart: one part
/// whose type is sniffed ([`sniff_content_type`]), with `X-Pushwire-Id`,
/// `X-Pushwire-Channel` and (unless `message`) `X-Pushwire-Event` headers.
///
/// # Errors
/// A sentence saying why this message cannot travel on `transport`: data
/// that is not UTF-8 on a text transport, an id or event SSE cannot carry, a
/// payload holding the multipart boundary, or a poll transport (those are
/// framed whole with [`frame_reply`]).
pub fn frame(transport: Transport, msg: &Message) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(msg.data.len() + 128);
    match transport {
        Transport::Sse => {
            let data = text_of(transport, msg)?;
            let event =
                (msg.event != DEFAULT_EVENT && !msg.event.is_empty()).then_some(msg.event.as_str());
            // No id: the host writes each subscriber's own `id:` line in
            // front (subscribers of several channels).
            let id = (!msg.id.is_empty()).then_some(msg.id.as_str());
            sse::encode_event(&mut out, id, event, data).map_err(|err| {
                format!(
                    "message {:?} on channel {:?} cannot be sent as SSE: {err}",
                    shown(&msg.id),
                    shown(&msg.channel)
                )
            })?;
        }
        Transport::Stream => ndjson::encode_message(wire_message(transport, msg)?, &mut out),
        Transport::Iframe => frame::encode_message(wire_message(transport, msg)?, &mut out),
        Transport::Multipart => {
            let mut headers = Vec::with_capacity(3);
            headers.push(("X-Pushwire-Id", msg.id.as_str()));
            headers.push(("X-Pushwire-Channel", msg.channel.as_str()));
            if msg.event != DEFAULT_EVENT && !msg.event.is_empty() {
                headers.push(("X-Pushwire-Event", msg.event.as_str()));
            }
            multipart_encoder()
                .write_part(&mut out, sniff_content_type(&msg.data), &headers, &msg.data)
                .map_err(|err| {
                    format!(
                        "message {:?} on channel {:?} cannot be sent as a multipart part: {err}",
                        shown(&msg.id),
                        shown(&msg.channel)
                    )
                })?;
        }
        Transport::Longpoll | Transport::Poll => {
            return Err(format!(
                "{} replies are framed whole with frame-reply, not message by message",
                transport_name(transport)
            ));
        }
    }
    Ok(out)
}

/// The whole body of a long-poll or poll reply: `{"cursor":…,"messages":[…]}`.
///
/// # Errors
/// A sentence if `transport` is a streaming one, or a message's data is not
/// UTF-8 (JSON carries text only).
pub fn frame_reply(
    transport: Transport,
    cursor: &str,
    msgs: &[Message],
) -> Result<Vec<u8>, String> {
    if !matches!(transport, Transport::Longpoll | Transport::Poll) {
        return Err(format!(
            "{} is a streaming transport: frame its messages one by one with frame",
            transport_name(transport)
        ));
    }
    let mut parts = Vec::with_capacity(msgs.len());
    let mut size = cursor.len() + 32;
    for msg in msgs {
        // A message that cannot travel as JSON text (binary data) is left
        // out; the reply's cursor still moves past it, so a poller is never
        // stuck on it. Streams skip it the same way (`frame` refuses it).
        if let Ok(part) = wire_message(transport, msg) {
            parts.push(part);
            size += msg.data.len() + msg.id.len() + msg.channel.len() + 48;
        }
    }
    let mut out = Vec::with_capacity(size);
    wire::encode_longpoll_reply(cursor, parts, &mut out);
    Ok(out)
}

/// The bytes that keep an idle stream alive: SSE `:` comment, an empty NDJSON
/// line, the forever frame's empty call; nothing for multipart and polls.
pub fn heartbeat(transport: Transport) -> Vec<u8> {
    let mut out = Vec::new();
    match transport {
        Transport::Sse => sse::encode_heartbeat(&mut out),
        Transport::Stream => ndjson::encode_heartbeat(&mut out),
        Transport::Iframe => out.extend_from_slice(frame::HEARTBEAT),
        Transport::Multipart | Transport::Longpoll | Transport::Poll => {}
    }
    out
}

/// The bytes that end a stream in order: the forever frame's `</body></html>`,
/// the multipart close delimiter; nothing for the others.
pub fn end(transport: Transport) -> Vec<u8> {
    let mut out = Vec::new();
    match transport {
        Transport::Iframe => out.extend_from_slice(frame::END),
        Transport::Multipart => multipart_encoder().write_close(&mut out),
        Transport::Sse | Transport::Stream | Transport::Longpoll | Transport::Poll => {}
    }
    out
}

/// Decide whether a publish request (`POST /pub/{channel}`) or a part of a
/// multipart upload (`PUT` or `POST /ingest/{channel}`) may go ahead.
///
/// The channel is percent-decoded and checked with the hub's naming rule; the
/// event name comes from `?event=`, else the `x-pushwire-event` header, else
/// `message` (`frame` for an upload, [`INGEST_EVENT`]), and must pass the
/// hub's event rule (`gap` is reserved). With a token or secret configured
/// the request needs one that may publish there ([`Policy::authorize_publish`]).
///
/// # Errors
/// A [`Refusal`]: 404 for another path, 405 for another method, 400 for a bad
/// channel or event name, 401/403 without a token that allows the channel,
/// 413 for a body (or part) over [`MAX_PUBLISH_BYTES`].
pub fn accept_publish(policy: &Policy, req: &Request, body_len: u64) -> Result<Publish, Refusal> {
    let (raw, default_event) = if let Some(raw) = req.path.strip_prefix("/pub/") {
        if req.method != "POST" {
            return Err(refuse(
                405,
                format!(
                    "{} is not allowed on {}: publish with POST (the body is the message).",
                    shown(&req.method),
                    shown(&req.path)
                ),
            ));
        }
        (raw, DEFAULT_EVENT)
    } else if let Some(raw) = req.path.strip_prefix("/ingest/") {
        if req.method != "PUT" && req.method != "POST" {
            return Err(refuse(
                405,
                format!(
                    "{} is not allowed on {}: upload a multipart/x-mixed-replace stream with PUT or POST.",
                    shown(&req.method),
                    shown(&req.path)
                ),
            ));
        }
        (raw, INGEST_EVENT)
    } else {
        return Err(not_found(&req.path));
    };
    let channel = percent_decode(raw)
        .map_err(|err| decode_refusal(err, "path"))?
        .into_owned();
    if channel.contains(',') {
        return Err(refuse(
            400,
            format!(
                "{:?} names several channels: publish to one channel at a time.",
                shown(&channel)
            ),
        ));
    }
    check_channel(&channel)?;
    policy.authorize_publish(req, &channel)?;
    let event = match query_param(&req.query, "event")? {
        Some(event) => event,
        None => header(req, "x-pushwire-event")
            .unwrap_or(default_event)
            .to_owned(),
    };
    validate_event_name(&event).map_err(|err| {
        refuse(
            400,
            format!("The event name {:?} is not allowed: {err}.", shown(&event)),
        )
    })?;
    if body_len > MAX_PUBLISH_BYTES {
        return Err(refuse(
            413,
            format!(
                "The message is {body_len} bytes, more than the limit of {MAX_PUBLISH_BYTES} bytes (1 MiB): send less data per message."
            ),
        ));
    }
    Ok(Publish { channel, event })
}

/// The transport a request's `Accept` header asks for; SSE when it names none.
///
/// Of the ranges naming a transport's media type exactly (without
/// parameters, case-insensitively; `application/json` is long-poll) the one
/// with the highest `q` wins, the first listed on a tie; `q=0` rules a type
/// out, a malformed `q` counts as 1, and wildcards select nothing.
pub fn negotiate(accept: Option<&str>) -> Transport {
    let mut best: Option<(QValue, CoreTransport)> = None;
    for range in media_ranges(accept.unwrap_or_default()) {
        let Some(transport) = CoreTransport::from_media_type(range.media_type) else {
            continue;
        };
        let quality = range.quality.unwrap_or(QValue::ONE);
        if quality > QValue::ZERO && best.is_none_or(|(best_quality, _)| quality > best_quality) {
            best = Some((quality, transport));
        }
    }
    best.map_or(Transport::Sse, |(_, transport)| transport.into())
}

/// The name of `transport` in `?transport=`.
pub fn transport_name(transport: Transport) -> &'static str {
    CoreTransport::from(transport).as_str()
}

/// The WIT enum's transport in core's list (the WIT enum is the ABI; names
/// and media types live in core).
impl From<Transport> for CoreTransport {
    fn from(transport: Transport) -> Self {
        match transport {
            Transport::Sse => Self::Sse,
            Transport::Stream => Self::Stream,
            Transport::Multipart => Self::Multipart,
            Transport::Iframe => Self::Iframe,
            Transport::Longpoll => Self::LongPoll,
            Transport::Poll => Self::Poll,
        }
    }
}

impl From<CoreTransport> for Transport {
    fn from(transport: CoreTransport) -> Self {
        match transport {
            CoreTransport::Sse => Self::Sse,
            CoreTransport::Stream => Self::Stream,
            CoreTransport::Multipart => Self::Multipart,
            CoreTransport::Iframe => Self::Iframe,
            CoreTransport::LongPoll => Self::Longpoll,
            CoreTransport::Poll => Self::Poll,
        }
    }
}

/// The part type of a multipart payload: `image/jpeg` for JPEG's magic bytes
/// (exactly that, as ffmpeg requires), text for UTF-8, else octet-stream.
pub fn sniff_content_type(data: &[u8]) -> &'static str {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else if core::str::from_utf8(data).is_ok() {
        "text/plain; charset=utf-8"
    } else {
        "application/octet-stream"
    }
}

/// A 400 refusal for a `what` (`path`, or a query parameter) that does not
/// percent-decode.
fn decode_refusal(err: DecodeError, what: &str) -> Refusal {
    let message = match err {
        DecodeError::BadEscape(at) => format!(
            "The {what} has a bad percent-escape at byte {at}: write % followed by two hex digits."
        ),
        DecodeError::NotUtf8 => format!("The {what} decodes to bytes that are not UTF-8 text."),
        _ => format!("The {what} cannot be percent-decoded: {err}."),
    };
    refuse(400, message)
}

/// The decoded value of the first `name` parameter of `query`, if any
/// ([`url::query_param`]: other parameters are not decoded, so a malformed
/// one elsewhere, a cache buster say, does not matter).
///
/// # Errors
/// A 400 [`Refusal`] if this parameter's value does not decode.
pub fn query_param(query: &str, name: &str) -> Result<Option<String>, Refusal> {
    url::query_param(query, name)
        .map(|value| value.map(Cow::into_owned))
        .map_err(|err| decode_refusal(err, &format!("{:?} parameter", shown(name))))
}

/// The value of header `name` (lower case, as the host sends names).
pub fn header<'r>(req: &'r Request, name: &str) -> Option<&'r str> {
    req.headers
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.trim())
}

/// Check one channel name with the hub's rule.
///
/// # Errors
/// A 400 [`Refusal`] naming the channel and the rule it breaks.
pub fn check_channel(name: &str) -> Result<(), Refusal> {
    validate_channel_name(name).map_err(|err| {
        let hint = match err {
            HubError::ChannelNameEmpty => {
                " (separate channels with single commas, e.g. /sub/news,sport)"
            }
            _ => "",
        };
        refuse(
            400,
            format!(
                "Channel {:?} is not a valid channel name: {err}{hint}.",
                shown(name)
            ),
        )
    })
}

/// A refusal with `status` and `message`.
pub fn refuse(status: u16, message: String) -> Refusal {
    Refusal {
        status,
        message,
        headers: Vec::new(),
    }
}

fn channel_list(raw: &str) -> Result<Vec<String>, Refusal> {
    if raw.is_empty() {
        return Err(refuse(
            400,
            "Name at least one channel to subscribe to: /sub/{channels}, e.g. /sub/news,sport."
                .to_owned(),
        ));
    }
    let decoded = percent_decode(raw).map_err(|err| decode_refusal(err, "path"))?;
    let count = decoded.split(',').count();
    if count > MAX_CHANNELS {
        return Err(refuse(
            400,
            format!(
                "{count} channels named, at most {MAX_CHANNELS} may be subscribed to at once: open another subscription for the rest."
            ),
        ));
    }
    let mut channels: Vec<String> = Vec::with_capacity(count);
    for name in decoded.split(',') {
        check_channel(name)?;
        if channels.iter().any(|known| known == name) {
            return Err(refuse(
                400,
                format!(
                    "Channel {:?} is named twice: name each channel once.",
                    shown(name)
                ),
            ));
        }
        channels.push(name.to_owned());
    }
    Ok(channels)
}

fn resume_cursor(req: &Request) -> Result<Option<String>, Refusal> {
    let mut text = header(req, "last-event-id")
        .filter(|value| !value.is_empty())
        .map(ToOwned::to_owned);
    for param in CURSOR_PARAMS {
        if text.is_some() {
            break;
        }
        text = query_param(&req.query, param)?.filter(|value| !value.is_empty());
    }
    if let Some(text) = &text {
        Cursor::parse(text).map_err(|err| {
            refuse(
                400,
                format!(
                    "The resume cursor {:?} is not valid: {err}; resume from an id this server sent.",
                    shown(text)
                ),
            )
        })?;
    }
    Ok(text)
}

/// The milliseconds between frames at `fps` frames per second.
fn frame_interval(fps: &str) -> Result<u64, Refusal> {
    match fps.trim().parse::<f64>() {
        // Rounded to the nearest millisecond (no `round` in core): the
        // quotient is between 1 and 8.64e7, so the cast is exact enough.
        Ok(rate) if (MIN_FPS..=MAX_FPS).contains(&rate) => {
            Ok(((1000.0 / rate + 0.5) as u64).max(1))
        }
        _ => Err(refuse(
            400,
            format!(
                "?fps={} is not a frame rate: give frames per second, at least one a day and at most {MAX_FPS}, e.g. ?fps=5 or ?fps=0.5.",
                shown(fps)
            ),
        )),
    }
}

fn callback(req: &Request) -> Result<String, Refusal> {
    match query_param(&req.query, "callback")? {
        None => Ok(CallbackName::default().as_str().to_owned()),
        Some(name) => CallbackName::new(&name)
            .map(|name| name.as_str().to_owned())
            .map_err(|err| refuse(400, format!("The forever frame cannot start: {err}."))),
    }
}

/// The two pictures of a webcam channel: `<img src=/stream/cam.mjpg>` and
/// `/snapshot/cam.jpg`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Picture {
    Stream,
    Snapshot,
}

/// The channel part of a picture's path `rest` (after `/stream/` or
/// `/snapshot/`), which must end in `suffix`.
fn picture_channel<'a>(
    rest: &'a str,
    suffix: &str,
    what: &str,
    shape: &str,
) -> Result<&'a str, Refusal> {
    rest.strip_suffix(suffix).ok_or_else(|| {
        refuse(
            404,
            format!(
                "No such {what} {:?}: ask for {shape}, e.g. {}.",
                shown(rest),
                shape.replace("{channel}", "demo-cam")
            ),
        )
    })
}

fn not_found(path: &str) -> Refusal {
    refuse(
        404,
        format!(
            "No such route {:?}: subscribe with GET /sub/{{channels}}, publish with POST /pub/{{channel}}.",
            shown(path)
        ),
    )
}

fn text_of(transport: Transport, msg: &Message) -> Result<&str, String> {
    core::str::from_utf8(&msg.data).map_err(|_| {
        format!(
            "message {:?} on channel {:?} is binary (not UTF-8) and the {} transport carries only text; multipart carries binary",
            shown(&msg.id),
            shown(&msg.channel),
            transport_name(transport)
        )
    })
}

fn wire_message(transport: Transport, msg: &Message) -> Result<WireMessageRef<'_>, String> {
    Ok(WireMessageRef {
        id: &msg.id,
        channel: &msg.channel,
        event: if msg.event.is_empty() {
            DEFAULT_EVENT
        } else {
            &msg.event
        },
        data: text_of(transport, msg)?,
    })
}

fn multipart_encoder() -> MultipartEncoder {
    // A unit test checks that the constant is a valid token.
    let boundary =
        Boundary::new(MULTIPART_BOUNDARY).unwrap_or_else(|_| Boundary::from_random([0; 16]));
    MultipartEncoder::new(boundary)
}

/// `text` cut to [`SHOWN_CHARS`] characters (with `…`), for quoting back.
fn shown(text: &str) -> String {
    match text.char_indices().nth(SHOWN_CHARS) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or_default()),
        None => text.to_owned(),
    }
}
