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

use alloc::sync::Arc;
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use pushwire_core::hub::{Delivery, GAP_EVENT};

use crate::edge::{Edge, EdgeError, Message, Transport};

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

#[derive(Default)]
struct Generations {
    current: HashMap<Key, Option<Bytes>>,
    /// Framed bytes held by `current`.
    current_bytes: usize,
    previous: HashMap<Key, Option<Bytes>>,
}

/// The edge module plus the shared framing cache and its constant bytes.
pub struct Framer {
    edge: Arc<Edge>,
    cache: Mutex<Generations>,
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
            cache: Mutex::new(Generations::default()),
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
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(framed) = cache.current.get(&key) {
            return Ok(framed.clone());
        }
        let framed = match cache.previous.remove(&key) {
            Some(framed) => framed,
            None => self.frame_now(transport, &message_of(delivery))?,
        };
        if cache.current.len() >= GENERATION || cache.current_bytes >= GENERATION_BYTES {
            cache.previous = core::mem::take(&mut cache.current);
            cache.current_bytes = 0;
        }
        cache.current_bytes += framed.as_ref().map_or(0, Bytes::len);
        cache.current.insert(key, framed.clone());
        Ok(framed)
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
