//! Framing once per transport: the edge module frames each message the first
//! time a subscriber of a transport needs it, and every other subscriber of
//! that transport gets the same `Bytes`.
//!
//! The framed bytes of a message depend only on the transport, the message
//! and the cursor after it. For a single-channel subscription that cursor is
//! the same for everyone (`<epoch>.<seq>`), so the key is the transport and
//! the message's hub-wide publish number; a multi-channel subscription also
//! keys on its cursor text (subscribers of the same channel list that are
//! caught up share it).
//!
//! Long polls and polls the same way: pollers that were at the same position
//! send the same request and get the same reply, so a request is routed once
//! per distinct request, a reply framed once per distinct (transport,
//! messages, next cursor), and its head made once per distinct subscription;
//! a hundred long-pollers answered by one publish cost one edge call, not
//! three hundred (the edge contract says these calls depend only on their
//! arguments).

use alloc::sync::Arc;
use core::borrow::Borrow;
use core::hash::Hash;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};

use bytes::Bytes;

use pushwire_core::hub::{Delivery, GAP_EVENT};

use crate::edge::{
    Edge, EdgeError, Message, Refusal, Request, ResponseHead, Subscription, Transport,
};

/// How many framed messages a generation of the cache holds.
const GENERATION: usize = 4096;
/// How many framed bytes a generation holds: without it, 50 KiB webcam
/// frames kept up to 2 × 4096 of them alive (pushwire-bench multipart: 8.8 MB
/// of server RSS for 150 frames). A reader later than two generations
/// frames its message again, which costs an edge call, never a message.
const GENERATION_BYTES: usize = 1 << 20;

#[derive(Clone, PartialEq, Eq, Hash)]
struct Key {
    transport: Transport,
    global_seq: u64,
    /// The cursor text, for multi-channel subscriptions only.
    cursor: Option<Box<str>>,
}

/// A reply's identity: what `frame-reply` is given.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ReplyKey {
    transport: Transport,
    /// The cursor the reply carries.
    cursor: Box<str>,
    /// Each message's hub-wide publish number and, for multi-channel
    /// subscriptions, its cursor text.
    messages: Box<[(u64, Option<Box<str>>)]>,
}

/// Two generations of results: a lookup in the older one moves the entry
/// forward; the older one is dropped whole when the newer one fills (with
/// 4096 entries or 1 MiB).
pub(crate) struct Generations<K, V> {
    current: HashMap<K, V>,
    /// Framed bytes held by `current`.
    current_bytes: usize,
    previous: HashMap<K, V>,
}

impl<K, V> Default for Generations<K, V> {
    fn default() -> Self {
        Self {
            current: HashMap::new(),
            current_bytes: 0,
            previous: HashMap::new(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Generations<K, V> {
    /// The value kept for `key` (moved forward from the older generation).
    pub(crate) fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        if let Some(value) = self.current.get(key) {
            return Some(value.clone());
        }
        let (key, value) = self.previous.remove_entry(key)?;
        self.current.insert(key, value.clone());
        Some(value)
    }

    /// Keep `value` (`size` bytes) for `key`.
    pub(crate) fn insert(&mut self, key: K, value: V, size: usize) {
        if self.current.len() >= GENERATION || self.current_bytes >= GENERATION_BYTES {
            self.previous = core::mem::take(&mut self.current);
            self.current_bytes = 0;
        }
        self.current_bytes += size;
        self.current.insert(key, value);
    }

    /// The value for `key`, made by `make` (and kept, `size` bytes) if
    /// neither generation has it.
    fn get_or_try_insert<E>(
        &mut self,
        key: &K,
        size: impl Fn(&V) -> usize,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<V, E> {
        if let Some(value) = self.get(key) {
            return Ok(value);
        }
        let value = make()?;
        self.insert(key.clone(), value.clone(), size(&value));
        Ok(value)
    }
}

/// The caches, behind one lock.
#[derive(Default)]
struct Caches {
    frames: Generations<Key, Option<Bytes>>,
    replies: Generations<ReplyKey, Result<Bytes, String>>,
    heads: Generations<Subscription, Arc<ResponseHead>>,
}

/// What `route` answered for a request: shared by every identical request.
pub type Routed = Arc<Result<Route, Refusal>>;

/// A subscription `route` accepted, and the head of its poll replies once
/// asked (long-pollers at one position send the same request, so the head
/// is looked up once for all of them).
pub struct Route {
    /// The subscription.
    pub sub: Subscription,
    reply_head: OnceLock<Arc<ResponseHead>>,
}

/// What `route` answered, by request.
type Routes = Generations<Request, Routed>;

/// The edge module plus the shared framing cache and its constant bytes.
pub struct Framer {
    edge: Arc<Edge>,
    cache: Mutex<Caches>,
    /// Apart from the framing caches, and not held across the edge call:
    /// concurrent subscribe requests route in parallel.
    routes: Mutex<Routes>,
    heartbeats: HashMap<Transport, Bytes>,
    ends: HashMap<Transport, Bytes>,
}

impl Framer {
    /// Ask the edge for its constant bytes (heartbeat, end) once per transport.
    ///
    /// # Errors
    /// The edge module failed (a replacement module that traps at once).
    pub fn new(edge: Arc<Edge>) -> Result<Self, EdgeError> {
        let mut heartbeats = HashMap::new();
        let mut ends = HashMap::new();
        for transport in [
            Transport::Sse,
            Transport::Stream,
            Transport::Multipart,
            Transport::Iframe,
            Transport::Longpoll,
            Transport::Poll,
        ] {
            heartbeats.insert(transport, Bytes::from(edge.heartbeat(transport)?));
            ends.insert(transport, Bytes::from(edge.end(transport)?));
        }
        Ok(Self {
            edge,
            cache: Mutex::new(Caches::default()),
            routes: Mutex::new(Routes::default()),
            heartbeats,
            ends,
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

    /// The framed bytes of one delivery for `transport`: shared for messages,
    /// framed on the spot for gap notices. `None` when the edge refused this
    /// message for this transport (logged once).
    ///
    /// # Errors
    /// The edge module failed.
    pub fn frame(
        &self,
        transport: Transport,
        delivery: &Delivery,
        multi_channel: bool,
    ) -> Result<Option<Bytes>, EdgeError> {
        let Delivery::Message { entry, cursor, .. } = delivery else {
            return self.frame_now(transport, &message_of(delivery));
        };
        let key = Key {
            transport,
            global_seq: entry.global_seq(),
            cursor: multi_channel.then(|| cursor.to_string().into_boxed_str()),
        };
        // The lock is held across the edge call so that concurrent
        // subscribers of one transport frame a message exactly once.
        let mut cache = self.lock();
        cache.frames.get_or_try_insert(
            &key,
            |framed| framed.as_ref().map_or(0, Bytes::len),
            || self.frame_now(transport, &message_of(delivery)),
        )
    }

    /// What the edge's `route` answers for `req`: asked once per distinct
    /// request (every long-poller at one position sends the same one; the
    /// request's time is part of it, so token lifetimes still count).
    ///
    /// # Errors
    /// The edge module failed.
    pub fn route(&self, req: &Request) -> Result<Routed, EdgeError> {
        let lock = || self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(routed) = lock().get(req) {
            return Ok(routed);
        }
        let routed = self.edge.route(req)?.map(|sub| Route {
            sub,
            reply_head: OnceLock::new(),
        });
        let routed = Arc::new(routed);
        lock().insert(req.clone(), Arc::clone(&routed), request_bytes(req));
        Ok(routed)
    }

    /// The head (status, headers) of a long-poll or poll reply for the
    /// subscription of `route`: asked of the edge once per distinct
    /// subscription without its cursor (the WIT contract: the head is the
    /// same at every position), and kept with the route.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn reply_head(&self, route: &Route) -> Result<Arc<ResponseHead>, EdgeError> {
        if let Some(head) = route.reply_head.get() {
            return Ok(Arc::clone(head));
        }
        let sub = Subscription {
            cursor: None,
            ..route.sub.clone()
        };
        let head = self.lock().heads.get_or_try_insert(
            &sub,
            |head| head.headers.iter().map(|(n, v)| n.len() + v.len()).sum(),
            || self.edge.open(&sub).map(Arc::new),
        )?;
        Ok(Arc::clone(route.reply_head.get_or_init(|| head)))
    }

    /// The body of a long-poll or poll reply carrying `items` and `cursor`:
    /// framed once for every poller that was at the same position.
    /// `Ok(Err(reason))`: the edge cannot frame it.
    ///
    /// # Errors
    /// The edge module failed.
    pub fn frame_reply(
        &self,
        transport: Transport,
        cursor: &str,
        items: &[Delivery],
        multi_channel: bool,
    ) -> Result<Result<Bytes, String>, EdgeError> {
        let frame = || {
            let messages: Vec<_> = items
                .iter()
                .map(message_of)
                .filter(|m| !m.channel.is_empty())
                .collect();
            Ok(self
                .edge
                .frame_reply(transport, cursor, &messages)?
                .map(Bytes::from))
        };
        let mut messages = Vec::with_capacity(items.len());
        for item in items {
            match item {
                Delivery::Message { entry, cursor, .. } => messages.push((
                    entry.global_seq(),
                    multi_channel.then(|| cursor.to_string().into_boxed_str()),
                )),
                // A gap notice is the poller's own: framed on the spot.
                _ => return frame(),
            }
        }
        let key = ReplyKey {
            transport,
            cursor: cursor.into(),
            messages: messages.into_boxed_slice(),
        };
        let mut cache = self.lock();
        cache
            .replies
            .get_or_try_insert(&key, |reply| reply.as_ref().map_or(0, Bytes::len), frame)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Caches> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
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

/// The bytes a kept request holds (its path, query and header fields), for
/// the caches' size bound.
pub(crate) fn request_bytes(req: &Request) -> usize {
    req.path.len()
        + req.query.len()
        + req
            .headers
            .iter()
            .map(|(name, value)| name.len() + value.len())
            .sum::<usize>()
}

/// The edge's view of a delivery (a gap becomes a `gap` event).
pub fn message_of(delivery: &Delivery) -> Message {
    match delivery {
        Delivery::Message { entry, cursor, .. } => Message {
            id: cursor.to_string(),
            channel: entry.channel().to_owned(),
            event: entry.event().to_owned(),
            data: entry.data().to_vec(),
        },
        Delivery::Gap(gap) => {
            let mut data = Vec::new();
            gap.write_data(&mut data);
            Message {
                id: gap.resume.to_string(),
                channel: gap.channel.to_string(),
                event: GAP_EVENT.to_owned(),
                data,
            }
        }
        // A disconnect (or anything newer) is not a message: no channel.
        other => Message {
            id: other.cursor().to_string(),
            channel: String::new(),
            event: String::new(),
            data: Vec::new(),
        },
    }
}
