//! A routed subscription, answered: a stream that reads the hub, or a long
//! poll's or a poll's whole reply; and a publish the edge accepted.

use alloc::sync::Arc;
use core::time::Duration;

use bytes::Bytes;
use hyper::StatusCode;
use pushwire_core::cursor::Cursor;
use pushwire_core::hub::{Delivery, StartFrom};
use pushwire_core::longpoll::LongPollError;

use crate::edge::{EdgeError, Publish, Request, ResponseHead, Subscription, Transport};
use crate::push::App;
use crate::push::framing::Routed;
use crate::push::reply::{
    Head, Reply, busy, edge_failed, hub_refused, json, refused, text, too_large,
};
use crate::push::stream::{Shape, StreamBody};

/// Subscribe as the edge decides for `req`.
pub(crate) async fn subscribe(app: Arc<App>, req: &Request) -> Reply {
    let routed = app.framer.route(req);
    subscribe_routed(app, routed).await
}

/// Subscribe as the edge's `route` answered (`routed`) for a request.
pub(crate) async fn subscribe_routed(app: Arc<App>, routed: Result<Routed, EdgeError>) -> Reply {
    let routed = match routed {
        Ok(routed) => routed,
        Err(err) => return edge_failed(&err),
    };
    let (route, sub) = match &*routed {
        Ok(route) => (route, &route.sub),
        Err(refusal) => return refused(refusal),
    };
    let from = match &sub.cursor {
        Some(given) => match Cursor::parse(given) {
            Ok(cursor) => StartFrom::Cursor(cursor),
            Err(err) => {
                return text(
                    StatusCode::BAD_REQUEST,
                    &format!("The resume cursor {given:?} is not valid: {err}."),
                );
            }
        },
        // A picture shows its current frame at once, however long ago it came.
        None if sub.transport == Transport::Multipart => StartFrom::Last,
        None => StartFrom::Newest,
    };
    let Some(slot) = app.connection_slot() else {
        return app.no_slot();
    };
    if matches!(sub.transport, Transport::Longpoll | Transport::Poll) {
        let head = match app.framer.reply_head(route) {
            Ok(head) => head,
            Err(err) => return edge_failed(&err),
        };
        app.metrics.connection_opened(sub.transport);
        let reply = match sub.transport {
            Transport::Longpoll => long_poll(&app, sub, from, head).await,
            _ => poll(&app, sub, from, head),
        };
        app.metrics.connection_closed(sub.transport);
        return reply;
    }
    let id = match app
        .framer
        .subscribe(&app.hub, &sub.channels, from, sub.transport)
    {
        Ok(id) => id,
        Err(err) => return hub_refused(&err),
    };
    // The stream opens at the subscriber's actual position, so the edge can
    // announce it (an SSE `id:`): a client that reconnects before its first
    // message resumes there instead of losing what was published meanwhile.
    let mut sub = sub.clone();
    sub.cursor = app.hub.cursor(id).map(|cursor| cursor.to_string());
    let head = match app.edge().open(&sub) {
        Ok(head) => head,
        Err(err) => {
            app.hub.unsubscribe(id);
            return edge_failed(&err);
        }
    };
    tracing::debug!(transport = sub.transport.as_str(), channels = ?sub.channels, "stream opened");
    let ResponseHead {
        status,
        headers,
        preamble,
        byte_budget,
        repeat_last_ms,
    } = head;
    let shape = Shape {
        preamble,
        byte_budget,
        repeat_last: repeat_last_ms.map(Duration::from_millis),
        min_interval: sub.min_interval_ms.map(Duration::from_millis),
    };
    let body = StreamBody::new(
        Arc::clone(&app),
        id,
        sub.transport,
        sub.channels.len() > 1,
        shape,
        slot,
    );
    Reply::Stream {
        head: Head { status, headers },
        body,
    }
}

async fn long_poll(app: &App, sub: &Subscription, from: StartFrom, head: Arc<Head>) -> Reply {
    let held = match app.hub.long_poll(&sub.channels, from) {
        Ok(held) => held,
        Err(LongPollError::Hub(err)) => return hub_refused(&err),
        Err(err) => return busy(&format!("{err}.")),
    };
    let Some(answered) = held.reply().await else {
        return busy("The server is shutting down; poll again shortly.");
    };
    let body = answered.framed(|reply| frame(app, sub, &reply.cursor.to_string(), &reply.items));
    whole(app, &answered.reply.items, body, head)
}

fn poll(app: &App, sub: &Subscription, from: StartFrom, head: Arc<Head>) -> Reply {
    let (batch, cursor) = match app.hub.poll_once(&sub.channels, from, 256) {
        Ok(read) => read,
        Err(err) => return hub_refused(&err),
    };
    let body = frame(app, sub, &cursor, &batch.items);
    whole(app, &batch.items, body, head)
}

/// The body of a poll's reply carrying `items` and `cursor`, or the reply
/// that says why it cannot be framed.
fn frame(
    app: &App,
    sub: &Subscription,
    cursor: &str,
    items: &[Delivery],
) -> Result<Bytes, Box<Reply>> {
    match app.framer.frame_reply(sub.transport, cursor, items) {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(reason)) => Err(Box::new(text(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("The reply cannot be framed: {reason}."),
        ))),
        Err(err) => Err(Box::new(edge_failed(&err))),
    }
}

/// A poll's whole reply: `head` and the framed `body` of `items`.
fn whole(app: &App, items: &[Delivery], body: Result<Bytes, Box<Reply>>, head: Arc<Head>) -> Reply {
    let body = match body {
        Ok(body) => body,
        Err(reply) => return *reply,
    };
    let delivered = items
        .iter()
        .filter(|item| matches!(item, Delivery::Message { .. } | Delivery::Gap(_)))
        .count();
    app.metrics.delivered(delivered);
    app.metrics.bytes_out(body.len());
    Reply::Whole {
        head,
        extra: Vec::new(),
        body,
    }
}

/// The edge's acceptance of a publish whose body says it is `declared`
/// bytes long, or the reply that refuses it (too large, refused by the edge).
pub(crate) fn accept_publish(
    app: &App,
    req: &Request,
    declared: u64,
) -> Result<Publish, Box<Reply>> {
    let max = app.config.max_message_bytes;
    if declared > max as u64 {
        return Err(Box::new(too_large(max)));
    }
    match app.edge().accept_publish(req, declared) {
        Ok(Ok(accepted)) => Ok(accepted),
        Ok(Err(refusal)) => Err(Box::new(refused(&refusal))),
        Err(err) => Err(Box::new(edge_failed(&err))),
    }
}

/// Publish `data` where the edge said (`accepted`): the reply.
pub(crate) fn publish_accepted(app: &App, accepted: &Publish, data: Vec<u8>) -> Reply {
    match app.publish(&accepted.channel, &accepted.event, data) {
        Ok(published) => {
            let reply = serde_json::json!({
                "id": published.cursor().to_string(),
                "channel": accepted.channel,
                "event": accepted.event,
                "seq": published.seq,
                "subscribers": published.reached,
            });
            json(StatusCode::OK, &reply)
        }
        Err(err) => hub_refused(&err),
    }
}
