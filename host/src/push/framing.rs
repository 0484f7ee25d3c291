//! Framing once per transport, at publish.
//!
//! When a message is published, the edge module frames it once for each
//! streaming transport its channel's subscribers use (the hub reports them as
//! [`Published::tags`]), outside the hub's lock and before any subscriber is
//! woken. The bytes are kept with the log entry ([`Framed`], the entry's
//! attachment): every subscriber of a transport writes the same `Bytes`, and
//! they leave the log with the entry. A subscriber whose message was not
//! framed at publish (it subscribed meanwhile) frames it on its first read,
//! for everyone after it.
//!
//! A subscriber of several channels has a cursor of its own after each
//! message. On SSE it writes its `id:` line (core's [`sse::encode_id`]) in
//! front of a body the edge framed without one; on the other transports the
//! message is framed per distinct cursor text (subscribers that are caught up
//! share one). Gap notices are each subscriber's own, framed when read.
//!
//! Long polls: the polls held at one position share one reply
//! ([`crate::push::hub::Answered`]), framed once. What the edge's `route` answered
//! is kept by the front door per request; a poll reply's head is kept here
//! per subscription (`heads`), so a poller that moves on costs no new head.

use alloc::sync::Arc;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use bytes::Bytes;
use pushwire_core::hub::{
    Attachment, Delivery, HubError, MessageRef, Published, StartFrom, SubscriberId, SubscriberTag,
};
use pushwire_core::sse;

use crate::edge::{Edge, EdgeError, Message, Refusal, Subscription, Transport};
use crate::push::hub::SharedHub;
use crate::push::reply::Head;

/// The streaming transports, and SSE without its `id:` line: what a message
/// is framed for at publish. A slot's [`SubscriberTag`] is its index + 1 (0 is
/// untagged: polls, and multi-channel subscribers of the other transports).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Sse,
    Stream,
    Multipart,
    Iframe,
    /// SSE for subscribers of several channels: each writes its own `id:` line.
    BareSse,
}

impl Slot {
    const ALL: [Self; 5] = [
        Self::Sse,
        Self::Stream,
        Self::Multipart,
        Self::Iframe,
        Self::BareSse,
    ];

    /// The slot a subscriber of `transport` to one (`multi_channel` false)
    /// or several channels reads from, if it shares framed bytes with others.
    fn of(transport: Transport, multi_channel: bool) -> Option<Self> {
        match (transport, multi_channel) {
            (Transport::Sse, false) => Some(Self::Sse),
            (Transport::Sse, true) => Some(Self::BareSse),
            (Transport::Stream, false) => Some(Self::Stream),
            (Transport::Multipart, false) => Some(Self::Multipart),
            (Transport::Iframe, false) => Some(Self::Iframe),
            _ => None,
        }
    }

    fn transport(self) -> Transport {
        match self {
            Self::Sse | Self::BareSse => Transport::Sse,
            Self::Stream => Transport::Stream,
            Self::Multipart => Transport::Multipart,
            Self::Iframe => Transport::Iframe,
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn tag(self) -> SubscriberTag {
        // Five slots, all below the largest tag.
        SubscriberTag::new(self as u8 + 1).unwrap_or(SubscriberTag::NONE)
    }
}

/// The hub tag of a subscriber of `transport` to one or several channels.
pub fn tag(transport: Transport, multi_channel: bool) -> SubscriberTag {
    Slot::of(transport, multi_channel).map_or(SubscriberTag::NONE, Slot::tag)
}

/// How many distinct cursors a message keeps framed bytes for (subscribers of
/// several channels on stream, multipart or iframe); past it each further
/// cursor frames without keeping, so a message holds a bounded amount.
const MAX_CURSORS: usize = 32;

/// A message's framed bytes, kept with its log entry: `None` inside a slot
/// when the edge refused the message for that transport (logged once).
#[derive(Default)]
pub struct Framed {
    slots: [OnceLock<Option<Bytes>>; Slot::ALL.len()],
    by_cursor: Mutex<Vec<ByCursor>>,
}

/// A message's bytes for subscribers of a transport at one cursor.
struct ByCursor {
    transport: Transport,
    cursor: Box<str>,
    bytes: Option<Bytes>,
}

/// What a subscriber writes for one delivery: its own prefix (an SSE `id:`
/// line) and the shared body.
pub struct Framing {
    /// Written first, when the subscriber has a part of its own.
    pub prefix: Option<Bytes>,
    /// The framed message.
    pub body: Bytes,
}

/// What `route` answered for a request.
pub type Routed = Arc<Result<Route, Refusal>>;

/// A subscription `route` accepted, and the head of its poll replies once
/// asked.
pub struct Route {
    /// The subscription.
    pub sub: Subscription,
    reply_head: OnceLock<Arc<Head>>,
}

impl Route {
    /// A route for `sub`.
    pub fn new(sub: Subscription) -> Self {
        Self {
            sub,
            reply_head: OnceLock::new(),
        }
    }
}

/// Most poll-reply heads kept (one per distinct subscription without its
/// cursor); past it the kept ones are dropped and asked for again.
const MAX_HEADS: usize = 4096;

/// The edge module, its constant bytes, and the poll-reply heads.
pub struct Framer {
    edge: Arc<Edge>,
    heartbeats: HashMap<Transport, Bytes>,
    ends: HashMap<Transport, Bytes>,
    heads: Mutex<HashMap<Subscription, Arc<Head>>>,
}

impl Framer {
    /// Ask the edge for its constant bytes (heartbeat, end) once per transport.
    ///
    /// # Errors
    /// The edge module failed (a replacement module that traps at once).
    pub fn new(edge: Arc<Edge>) -> Result<Self, EdgeError> {
        let mut heartbeats = HashMap::new();
        let mut ends = HashMap::new();
        for transport in Transport::ALL {
            heartbeats.insert(transport, Bytes::from(edge.heartbeat(transport)?));
            ends.insert(transport, Bytes::from(edge.end(transport)?));
        }
        Ok(Self {
            edge,
            heartbeats,
            ends,
            heads: Mutex::new(HashMap::new()),
        })
    }

    /// The edge module.
    pub fn edge(&self) -> &Edge {
        &self.edge
    }

    /// The bytes that keep an idle `transport` stream alive (may be empty).
    pub fn heartbeat(&self, transport: Transport) -> Bytes {
        self.heartbeats.get(&transport).cloned().unwrap_or_default()
    }

    /// The bytes that end a `transport` stream in order (may be empty).
    pub fn end(&self, transport: Transport) -> Bytes {
        self.ends.get(&transport).cloned().unwrap_or_default()
    }

    /// Publish on `hub`, frame the message for the transports its channel's
    /// subscribers use (outside the hub's lock), then wake them.
    ///
    /// # Errors
    /// The hub's refusal (bad name, message too large, too many channels).
    pub fn publish(
        &self,
        hub: &SharedHub,
        channel: &str,
        event: &str,
        data: Vec<u8>,
    ) -> Result<Published, HubError> {
        let framed = Arc::new(Framed::default());
        let data: Arc<[u8]> = data.into();
        let attachment: Attachment = Arc::clone(&framed) as Attachment;
        hub.publish(channel, event, Arc::clone(&data), attachment, |published| {
            let mut message = Message {
                id: published.cursor().to_string(),
                channel: channel.to_owned(),
                event: event.to_owned(),
                data: data.to_vec(),
            };
            for slot in Slot::ALL {
                if published.tags & slot.tag().bit() == 0 {
                    continue;
                }
                if slot == Slot::BareSse {
                    message.id.clear();
                }
                let _ = framed.slot(slot, || self.frame_message(slot, &message));
            }
        })
    }

    /// Subscribe a stream of `transport` to `channels` on `hub`, tagged so
    /// that publishes frame for it.
    ///
    /// # Errors
    /// The hub's refusal.
    pub fn subscribe(
        &self,
        hub: &SharedHub,
        channels: &[String],
        from: StartFrom,
        transport: Transport,
    ) -> Result<SubscriberId, HubError> {
        hub.subscribe(channels, from, tag(transport, channels.len() > 1))
    }

    /// What a subscriber of `transport` writes for `delivery`: the bytes
    /// framed at publish, or framed now (and kept with the message) if it
    /// was not; `None` when the edge refused this message for the transport.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn frame(
        &self,
        transport: Transport,
        delivery: &Delivery,
        multi_channel: bool,
    ) -> Result<Option<Framing>, EdgeError> {
        let Some(message) = delivery.message() else {
            return Ok(None);
        };
        let framed = match delivery {
            Delivery::Message { entry, .. } => entry
                .attachment()
                .and_then(|attached| attached.downcast_ref::<Framed>()),
            // A gap notice is the subscriber's own.
            _ => None,
        };
        let Some(framed) = framed else {
            return Ok(self
                .frame_now(transport, &edge_message(&message))?
                .map(whole));
        };
        match Slot::of(transport, multi_channel) {
            Some(Slot::BareSse) => {
                let Some(body) = framed.slot(Slot::BareSse, || {
                    let mut bare = edge_message(&message);
                    bare.id.clear();
                    self.frame_message(Slot::BareSse, &bare)
                })?
                else {
                    return Ok(None);
                };
                let mut prefix = Vec::with_capacity(32);
                if let Err(err) = sse::encode_id(&mut prefix, &message.id.to_string()) {
                    tracing::warn!(channel = %message.channel, "message not delivered on sse: {err}");
                    return Ok(None);
                }
                Ok(Some(Framing {
                    prefix: Some(Bytes::from(prefix)),
                    body,
                }))
            }
            Some(slot) => Ok(framed
                .slot(slot, || self.frame_message(slot, &edge_message(&message)))?
                .map(whole)),
            None => framed
                .by_cursor(transport, &message.id.to_string(), || {
                    self.frame_now(transport, &edge_message(&message))
                })
                .map(|body| body.map(whole)),
        }
    }

    /// What the edge's `route` answers for `req`.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn route(&self, req: &crate::edge::Request) -> Result<Routed, EdgeError> {
        Ok(Arc::new(self.edge.route(req)?.map(Route::new)))
    }

    /// The head (status, headers) of a long-poll or poll reply for the
    /// subscription of `route`: asked of the edge once per distinct
    /// subscription without its cursor (the WIT contract: the head is the
    /// same at every position), and kept with the route.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn reply_head(&self, route: &Route) -> Result<Arc<Head>, EdgeError> {
        if let Some(head) = route.reply_head.get() {
            return Ok(Arc::clone(head));
        }
        let sub = Subscription {
            cursor: None,
            ..route.sub.clone()
        };
        let lock = || self.heads.lock().unwrap_or_else(PoisonError::into_inner);
        let kept = lock().get(&sub).cloned();
        let head = match kept {
            Some(head) => head,
            None => {
                let head = Arc::new(Head::from(self.edge.open(&sub)?));
                let mut heads = lock();
                if heads.len() >= MAX_HEADS {
                    heads.clear();
                }
                heads.insert(sub, Arc::clone(&head));
                head
            }
        };
        Ok(Arc::clone(route.reply_head.get_or_init(|| head)))
    }

    /// The body of a long-poll or poll reply carrying `items` and `cursor`.
    /// `Ok(Err(reason))`: the edge cannot frame it.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn frame_reply(
        &self,
        transport: Transport,
        cursor: &str,
        items: &[Delivery],
    ) -> Result<Result<Bytes, String>, EdgeError> {
        let messages: Vec<_> = items
            .iter()
            .filter_map(Delivery::message)
            .map(|message| edge_message(&message))
            .collect();
        Ok(self
            .edge
            .frame_reply(transport, cursor, &messages)?
            .map(Bytes::from))
    }

    /// Frame `message` for `slot` at its first use: a refusal is logged and
    /// kept as `None`, an edge failure is not kept.
    fn frame_message(&self, slot: Slot, message: &Message) -> Result<Option<Bytes>, EdgeError> {
        self.frame_now(slot.transport(), message)
    }

    fn frame_now(
        &self,
        transport: Transport,
        message: &Message,
    ) -> Result<Option<Bytes>, EdgeError> {
        Ok(match self.edge.frame(transport, message)? {
            Ok(bytes) => Some(Bytes::from(bytes)),
            Err(reason) => {
                tracing::warn!(
                    channel = %message.channel,
                    id = %message.id,
                    transport = transport.as_str(),
                    "message not delivered on this transport: {reason}"
                );
                None
            }
        })
    }
}

impl Framed {
    /// The bytes of `slot`, made by `frame` if no one made them yet (a
    /// concurrent reader waits for the first one's call instead of making
    /// its own); an edge failure is not kept, so the next reader tries again.
    fn slot(
        &self,
        slot: Slot,
        frame: impl FnOnce() -> Result<Option<Bytes>, EdgeError>,
    ) -> Result<Option<Bytes>, EdgeError> {
        let Some(cell) = self.slots.get(slot.index()) else {
            return frame();
        };
        if let Some(bytes) = cell.get() {
            return Ok(bytes.clone());
        }
        let mut failed = None;
        let bytes = cell.get_or_init(|| {
            frame().unwrap_or_else(|err| {
                failed = Some(err);
                None
            })
        });
        match failed {
            // Not kept: a failed call says nothing about the message.
            Some(err) => Err(err),
            None => Ok(bytes.clone()),
        }
    }

    /// The bytes of `transport` for a subscriber at `cursor`, made by
    /// `frame` (outside the lock) if none are kept.
    fn by_cursor(
        &self,
        transport: Transport,
        cursor: &str,
        frame: impl FnOnce() -> Result<Option<Bytes>, EdgeError>,
    ) -> Result<Option<Bytes>, EdgeError> {
        let lock = || {
            self.by_cursor
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
        };
        let kept = lock()
            .iter()
            .find(|kept| kept.transport == transport && &*kept.cursor == cursor)
            .map(|kept| kept.bytes.clone());
        if let Some(bytes) = kept {
            return Ok(bytes);
        }
        let bytes = frame()?;
        let mut kept = lock();
        if kept.len() < MAX_CURSORS {
            kept.push(ByCursor {
                transport,
                cursor: cursor.into(),
                bytes: bytes.clone(),
            });
        }
        Ok(bytes)
    }
}

/// A frame with no part of its own.
fn whole(body: Bytes) -> Framing {
    Framing { prefix: None, body }
}

/// The edge's view of a message.
pub fn edge_message(message: &MessageRef<'_>) -> Message {
    Message {
        id: message.id.to_string(),
        channel: message.channel.to_owned(),
        event: message.event.to_owned(),
        data: message.data.to_vec(),
    }
}
