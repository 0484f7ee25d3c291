//! The server side of long polling: hold each poll until the subscriber has
//! something newer than its cursor, or until a timeout, then answer with the
//! messages and the next cursor.
//!
//! A poll names its channels and the request's cursor
//! ([`StartFrom::Cursor`]); [`LongPoll::handle_request`]
//! answers it at once when the hub already has something newer, otherwise
//! holds it. Polls held at the same position (every poller answered by one
//! message sends the same next poll) share one hub subscriber, one read and
//! one reply ([`Answer`]).
//! Nothing is lost between polls: messages published after reply N wait in the
//! channel's replay log, and request N+1 carries reply N's cursor, so it reads
//! them (or a gap, if the log let them go).
//!
//! ```
//! use pushwire_core::hub::{Hub, HubConfig, StartFrom};
//! use pushwire_core::longpoll::{encode_reply, LongPoll, LongPollConfig, RequestId};
//! use pushwire_core::Timestamp;
//!
//! let mut hub = Hub::new(HubConfig::default(), 7);
//! let mut polls = LongPoll::new(LongPollConfig::default());
//! let t0 = Timestamp::from_millis(0);
//!
//! // A poll from the start: nothing yet, so it is held.
//! polls.handle_request(&mut hub, RequestId(1), &["chat"], StartFrom::Newest, t0).unwrap();
//! assert!(polls.poll_reply().is_none());
//!
//! // A publish wakes it.
//! hub.publish("chat", "message", b"hi".as_slice(), t0).unwrap();
//! while let Some(ready) = hub.poll_ready() {
//!     polls.handle_ready(&mut hub, ready, t0);
//! }
//! let answer = polls.poll_reply().unwrap();
//! assert_eq!(answer.requests, [RequestId(1)]);
//! let mut body = Vec::new();
//! encode_reply(&answer.reply, &mut body).unwrap();
//! assert_eq!(
//!     body,
//!     br#"{"cursor":"7.1","messages":[{"id":"7.1","channel":"chat","data":"hi"}]}"#
//! );
//! ```
//!
//! # Driving it
//! 1. For each poll request, parse its cursor and call
//!    [`LongPoll::handle_request`] with the host's id for the request, its
//!    channels and where it starts.
//! 2. After every publish, pass each id from [`Hub::poll_ready`] to
//!    [`LongPoll::handle_ready`] (it returns `false` for ids that are not
//!    long polls, which belong to the host's streaming connections).
//! 3. Call [`LongPoll::handle_timeout`] when [`LongPoll::poll_timeout`] is due.
//! 4. Drain [`LongPoll::poll_reply`] and answer each of an [`Answer`]'s
//!    requests with its reply, encoded once with [`encode_reply`]
//!    (`Cache-Control: no-store`). An empty `messages` array means "timed
//!    out, poll again now".
//! 5. If a client goes away, call [`LongPoll::handle_cancel`].

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::Timestamp;
use crate::cursor::Cursor;
use crate::hub::{Delivery, Hub, HubError, ReadBatch, StartFrom, SubscriberId};
use crate::wire::{self, WireMessageRef};

/// The host's id for one poll request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(pub u64);

/// Limits of a [`LongPoll`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LongPollConfig {
    /// How long a poll is held before an empty reply. Default 30 s, below
    /// the usual 60 s idle timeout of proxies (RFC 6202 §5.5).
    pub timeout: Duration,
    /// Most messages in one reply. Default 256.
    pub max_batch: usize,
    /// Most polls held at once. Default 10 000.
    pub max_pending: usize,
}

impl Default for LongPollConfig {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            max_batch: 256,
            max_pending: 10_000,
        }
    }
}

/// The answer to one poll.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LongPollReply {
    /// The cursor the next poll must carry.
    pub cursor: Cursor,
    /// Gaps and messages; empty when the poll timed out (or the subscriber
    /// fell behind and must poll again from `cursor`).
    pub items: Vec<Delivery>,
}

impl LongPollReply {
    /// Whether this reply says "nothing new, poll again now".
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// Whether a poll with nothing to read is held or answered at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hold {
    /// Hold it until a message or the timeout (a poll that carries a cursor).
    UntilNews,
    /// Answer at once with the position (a first poll, without a cursor).
    Never,
}

/// Why a poll could not be taken or a reply not encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LongPollError {
    /// [`LongPollConfig::max_pending`] polls are already held.
    TooManyPending {
        /// The limit.
        max: usize,
    },
    /// A poll with this request id is already held.
    DuplicateRequest(RequestId),
    /// The hub refused (e.g. the subscriber does not exist).
    Hub(HubError),
    /// A message's data is not UTF-8, so it cannot travel as JSON text.
    DataNotUtf8 {
        /// The message's channel.
        channel: Arc<str>,
        /// Its sequence number.
        seq: u64,
    },
}

impl fmt::Display for LongPollError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyPending { max } => write!(f, "already holding the maximum of {max} polls"),
            Self::DuplicateRequest(id) => write!(f, "poll request {} is already held", id.0),
            Self::Hub(error) => write!(f, "hub: {error}"),
            Self::DataNotUtf8 { channel, seq } => write!(
                f,
                "message {seq} on channel {channel:?} is binary, not UTF-8 text; long polls carry text only"
            ),
        }
    }
}

impl core::error::Error for LongPollError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Hub(error) => Some(error),
            _ => None,
        }
    }
}

impl From<HubError> for LongPollError {
    fn from(error: HubError) -> Self {
        Self::Hub(error)
    }
}

#[derive(Debug)]
struct Pending {
    /// The hub subscriber of the poll's group.
    group: SubscriberId,
    deadline: Timestamp,
}

/// Held polls at one position: one hub subscriber reads for all of them,
/// and one reply answers them all.
#[derive(Debug)]
struct Group {
    requests: BTreeSet<RequestId>,
    /// The channels and cursor the polls carried, when they carried one
    /// (only then may later polls join).
    position: Option<(Vec<String>, Cursor)>,
    /// The cursor when the group was made, the answer if the subscriber vanishes.
    cursor: Cursor,
}

/// One reply, for every poll in `requests`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The polls it answers, oldest first.
    pub requests: Vec<RequestId>,
    /// The reply, the same for each of them.
    pub reply: LongPollReply,
}

/// Held polls and the replies ready to send; see the [module docs](self).
#[derive(Debug)]
pub struct LongPoll {
    config: LongPollConfig,
    pending: BTreeMap<RequestId, Pending>,
    groups: BTreeMap<SubscriberId, Group>,
    /// Groups by the cursor their polls carried.
    positions: BTreeMap<Cursor, Vec<SubscriberId>>,
    deadlines: BTreeSet<(Timestamp, RequestId)>,
    answers: VecDeque<Answer>,
}

impl LongPoll {
    /// Make a machine holding no polls.
    pub fn new(config: LongPollConfig) -> Self {
        Self {
            config,
            pending: BTreeMap::new(),
            groups: BTreeMap::new(),
            positions: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            answers: VecDeque::new(),
        }
    }

    /// How many polls are held.
    pub fn pending_count(&self) -> usize {
        self.pending.len()
    }

    /// Take a poll of `channels` from `from`: answer it at once if there is
    /// something newer, else hold it until a message or the timeout.
    ///
    /// # Errors
    /// [`LongPollError::Hub`] when the hub refuses the subscription (a bad
    /// channel name, a cursor that does not fit the channels, too many
    /// subscribers), [`LongPollError::DuplicateRequest`],
    /// [`LongPollError::TooManyPending`].
    pub fn handle_request<S: AsRef<str>>(
        &mut self,
        hub: &mut Hub,
        request: RequestId,
        channels: &[S],
        from: StartFrom,
        now: Timestamp,
    ) -> Result<(), LongPollError> {
        self.handle_request_with(hub, request, channels, from, now, Hold::UntilNews)
    }

    /// [`LongPoll::handle_request`], saying whether an empty read is held.
    ///
    /// A poll that carries no cursor ([`Hold::Never`]) is answered at once
    /// even with nothing to read: its reply gives the client its position
    /// (the newest cursor), so it opens at once, and the next poll, from
    /// that cursor, loses nothing published in between. (SSE announces its
    /// start cursor the same way.)
    ///
    /// Held polls of the same channels from the same cursor are held
    /// together: pollers that were answered by one message send the same
    /// next poll, and one hub subscriber and one read serve them all.
    ///
    /// # Errors
    /// As [`LongPoll::handle_request`].
    pub fn handle_request_with<S: AsRef<str>>(
        &mut self,
        hub: &mut Hub,
        request: RequestId,
        channels: &[S],
        from: StartFrom,
        now: Timestamp,
        hold: Hold,
    ) -> Result<(), LongPollError> {
        if self.pending.contains_key(&request) {
            return Err(LongPollError::DuplicateRequest(request));
        }
        let at = match &from {
            StartFrom::Cursor(cursor) if hold == Hold::UntilNews => Some(cursor),
            _ => None,
        };
        if let Some(group) = at.and_then(|at| self.group_at(at, channels)) {
            // Its group has nothing to read (or it would have been answered).
            self.check_room()?;
            self.hold(request, group, now);
            return Ok(());
        }
        // Kept only by a poll that may start a group (the others joined one).
        let at = at.cloned();
        let subscriber = hub.subscribe(channels, from)?;
        let Some(cursor) = hub.cursor(subscriber) else {
            return Err(HubError::UnknownSubscriber(subscriber).into());
        };
        let batch = match hub.read(subscriber, self.config.max_batch) {
            Ok(batch) => batch,
            Err(err) => {
                hub.unsubscribe(subscriber);
                return Err(err.into());
            }
        };
        if !batch.items.is_empty() || hold == Hold::Never {
            self.answer(hub, vec![request], subscriber, batch, cursor);
            return Ok(());
        }
        if let Err(err) = self.check_room() {
            hub.unsubscribe(subscriber);
            return Err(err);
        }
        let position = at.map(|at| {
            let names = channels.iter().map(|name| name.as_ref().into()).collect();
            self.positions
                .entry(at.clone())
                .or_default()
                .push(subscriber);
            (names, at)
        });
        self.groups.insert(
            subscriber,
            Group {
                requests: BTreeSet::new(),
                position,
                cursor,
            },
        );
        self.hold(request, subscriber, now);
        Ok(())
    }

    /// Answer the held polls of `subscriber` if it now has something to read.
    ///
    /// Call with every id from [`Hub::poll_ready`]. Returns whether the id
    /// belongs to held polls.
    pub fn handle_ready(
        &mut self,
        hub: &mut Hub,
        subscriber: SubscriberId,
        _now: Timestamp,
    ) -> bool {
        if !self.groups.contains_key(&subscriber) {
            return false;
        }
        let batch = hub
            .read(subscriber, self.config.max_batch)
            .unwrap_or_default();
        if !batch.items.is_empty() || hub.cursor(subscriber).is_none() {
            self.release(hub, subscriber, batch);
        }
        true
    }

    /// Forget a held poll whose client went away. Returns whether it was held.
    pub fn handle_cancel(&mut self, hub: &mut Hub, request: RequestId) -> bool {
        let Some(pending) = self.forget(request) else {
            return false;
        };
        self.leave(hub, pending.group, request);
        true
    }

    /// Answer the polls whose timeout is due, with whatever they have (an
    /// empty reply if nothing).
    pub fn handle_timeout(&mut self, hub: &mut Hub, now: Timestamp) {
        while let Some(&(deadline, request)) = self.deadlines.first() {
            if deadline > now {
                break;
            }
            let Some(group) = self.pending.get(&request).map(|pending| pending.group) else {
                self.deadlines.remove(&(deadline, request));
                continue;
            };
            let batch = hub.read(group, self.config.max_batch).unwrap_or_default();
            if !batch.items.is_empty() || hub.cursor(group).is_none() {
                // News for the whole group: every poll in it gets it.
                self.release(hub, group, batch);
                continue;
            }
            // Nothing new: only this poll is due; the others stay held.
            self.forget(request);
            if let Some(held) = self.groups.get(&group) {
                let cursor = hub.cursor(group).unwrap_or_else(|| held.cursor.clone());
                self.answers.push_back(Answer {
                    requests: vec![request],
                    reply: LongPollReply {
                        cursor,
                        items: Vec::new(),
                    },
                });
            }
            self.leave(hub, group, request);
        }
    }

    /// When the next held poll times out.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.deadlines.first().map(|&(deadline, _)| deadline)
    }

    /// The next reply to send, with the polls it answers.
    pub fn poll_reply(&mut self) -> Option<Answer> {
        self.answers.pop_front()
    }

    /// The held group of `channels` at `cursor`, if there is one.
    fn group_at<S: AsRef<str>>(&self, cursor: &Cursor, channels: &[S]) -> Option<SubscriberId> {
        let same = |group: &&SubscriberId| {
            self.groups
                .get(group)
                .and_then(|group| group.position.as_ref())
                .is_some_and(|(names, _)| {
                    names.len() == channels.len()
                        && names
                            .iter()
                            .zip(channels)
                            .all(|(name, given)| name == given.as_ref())
                })
        };
        self.positions.get(cursor)?.iter().find(same).copied()
    }

    fn check_room(&self) -> Result<(), LongPollError> {
        if self.pending.len() >= self.config.max_pending {
            return Err(LongPollError::TooManyPending {
                max: self.config.max_pending,
            });
        }
        Ok(())
    }

    /// Hold `request` in `group` until `now` plus the timeout.
    fn hold(&mut self, request: RequestId, group: SubscriberId, now: Timestamp) {
        let deadline = now.saturating_add(self.config.timeout);
        if let Some(held) = self.groups.get_mut(&group) {
            held.requests.insert(request);
        }
        self.pending.insert(request, Pending { group, deadline });
        self.deadlines.insert((deadline, request));
    }

    /// Stop holding the polls of `group` and answer them all with `batch`.
    fn release(&mut self, hub: &mut Hub, group: SubscriberId, batch: ReadBatch) {
        let Some(held) = self.dissolve(group) else {
            return;
        };
        let mut requests = Vec::with_capacity(held.requests.len());
        for request in held.requests {
            if let Some(pending) = self.pending.remove(&request) {
                self.deadlines.remove(&(pending.deadline, request));
                requests.push(request);
            }
        }
        self.answer(hub, requests, group, batch, held.cursor);
    }

    /// Take `request` out of `group`, and the group out of the hub once empty.
    fn leave(&mut self, hub: &mut Hub, group: SubscriberId, request: RequestId) {
        let empty = self.groups.get_mut(&group).is_some_and(|held| {
            held.requests.remove(&request);
            held.requests.is_empty()
        });
        if empty {
            self.dissolve(group);
            hub.unsubscribe(group);
        }
    }

    /// Forget `group` and its position (not its polls).
    fn dissolve(&mut self, group: SubscriberId) -> Option<Group> {
        let held = self.groups.remove(&group)?;
        if let Some((_, cursor)) = &held.position
            && let Some(groups) = self.positions.get_mut(cursor)
        {
            groups.retain(|other| *other != group);
            if groups.is_empty() {
                self.positions.remove(cursor);
            }
        }
        Some(held)
    }

    fn forget(&mut self, request: RequestId) -> Option<Pending> {
        let pending = self.pending.remove(&request)?;
        self.deadlines.remove(&(pending.deadline, request));
        Some(pending)
    }

    /// Queue the reply made of `batch` for `requests` and unsubscribe.
    fn answer(
        &mut self,
        hub: &mut Hub,
        requests: Vec<RequestId>,
        subscriber: SubscriberId,
        batch: ReadBatch,
        fallback: Cursor,
    ) {
        let disconnect = batch.items.iter().find_map(|item| match item {
            Delivery::Disconnect { resume } => Some(resume.clone()),
            _ => None,
        });
        let reply = match disconnect {
            // Fell behind while held: an empty reply makes the client poll
            // again from where it was, reading its backlog.
            Some(resume) => LongPollReply {
                cursor: resume,
                items: Vec::new(),
            },
            None => LongPollReply {
                cursor: hub.cursor(subscriber).unwrap_or(fallback),
                items: batch.items,
            },
        };
        hub.unsubscribe(subscriber);
        if !requests.is_empty() {
            self.answers.push_back(Answer { requests, reply });
        }
    }
}

/// Append a reply body: `{"cursor":"…","messages":[<wire message>,…]}`.
///
/// Each message is `{"id":"…","channel":"…","event":"…","data":"…"}` with
/// `event` left out when it is `"message"`; a gap is a message with event
/// `"gap"` whose data is `{"channel":"…","missed":n}`. Nothing is written
/// when an error is returned.
///
/// # Errors
/// [`LongPollError::DataNotUtf8`] when a message's data is not UTF-8.
pub fn encode_reply(reply: &LongPollReply, out: &mut Vec<u8>) -> Result<(), LongPollError> {
    for item in &reply.items {
        if let Delivery::Message { entry, .. } = item
            && core::str::from_utf8(entry.data()).is_err()
        {
            return Err(LongPollError::DataNotUtf8 {
                channel: Arc::from(entry.channel()),
                seq: entry.seq(),
            });
        }
    }
    // Every id as text, and each message's data (a gap's written out); the
    // shared wire encoder then writes the JSON.
    let owned: Vec<_> = reply
        .items
        .iter()
        .filter_map(Delivery::message)
        .map(|message| (message.id.to_string(), message))
        .collect();
    let messages = owned.iter().map(|(id, message)| WireMessageRef {
        id,
        channel: message.channel,
        event: message.event,
        data: core::str::from_utf8(&message.data).unwrap_or_default(),
    });
    wire::encode_longpoll_reply(&reply.cursor.to_string(), messages, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::{ChannelConfig, Gap, GapCause, HubConfig, StartFrom};
    use alloc::string::{String, ToString};
    use alloc::vec;

    const EPOCH: u64 = 7;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn setup() -> (Hub, LongPoll) {
        (
            Hub::new(HubConfig::default(), EPOCH),
            LongPoll::new(LongPollConfig::default()),
        )
    }

    fn body(reply: &LongPollReply) -> String {
        let mut out = Vec::new();
        encode_reply(reply, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_poll_without_a_cursor_is_answered_at_once_with_the_position() {
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"before".to_vec(), at(0))
            .unwrap();
        polls
            .handle_request_with(
                &mut hub,
                RequestId(1),
                &["chat"],
                StartFrom::Newest,
                at(1),
                Hold::Never,
            )
            .unwrap();
        let (request, reply) = one(&mut polls);
        assert_eq!(request, RequestId(1));
        assert!(reply.is_empty());
        assert_eq!(polls.pending_count(), 0);
        // From that position the next poll gets what came after, and only that.
        hub.publish("chat", "message", b"after".to_vec(), at(2))
            .unwrap();
        poll(&mut hub, &mut polls, 2, Some(&reply.cursor), 3);
        let (_, next) = one(&mut polls);
        assert!(body(&next).contains("after") && !body(&next).contains("before"));
    }

    /// Poll `chat` from `cursor` (or newest).
    fn poll(hub: &mut Hub, polls: &mut LongPoll, request: u64, cursor: Option<&Cursor>, now: u64) {
        poll_of(hub, polls, request, "chat", cursor, now);
    }

    fn poll_of(
        hub: &mut Hub,
        polls: &mut LongPoll,
        request: u64,
        channel: &str,
        cursor: Option<&Cursor>,
        now: u64,
    ) {
        let from = cursor.map_or(StartFrom::Newest, |c| StartFrom::Cursor(c.clone()));
        polls
            .handle_request(hub, RequestId(request), &[channel], from, at(now))
            .unwrap();
    }

    /// No poll, deadline or hub subscriber is left.
    fn assert_nothing_held(hub: &Hub, polls: &LongPoll) {
        assert_eq!(
            (
                polls.pending_count(),
                polls.poll_timeout(),
                hub.subscriber_count()
            ),
            (0, None, 0)
        );
    }

    /// The next answer, which must be for one poll.
    fn one(polls: &mut LongPoll) -> (RequestId, LongPollReply) {
        let answer = polls.poll_reply().expect("an answer");
        assert_eq!(answer.requests.len(), 1, "{answer:?}");
        (answer.requests[0], answer.reply)
    }

    fn wake(hub: &mut Hub, polls: &mut LongPoll, now: u64) {
        while let Some(id) = hub.poll_ready() {
            assert!(polls.handle_ready(hub, id, at(now)));
        }
    }

    #[test]
    fn poll_is_answered_at_once_when_something_is_newer() {
        // docs/conformance.md §4 "Model": answer at once with what is newer.
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"1".as_slice(), at(0))
            .unwrap();
        poll(
            &mut hub,
            &mut polls,
            1,
            Some(&Cursor::new(EPOCH, vec![0]).unwrap()),
            0,
        );
        let (request, reply) = one(&mut polls);
        assert_eq!(request, RequestId(1));
        assert_eq!(
            body(&reply),
            r#"{"cursor":"7.1","messages":[{"id":"7.1","channel":"chat","data":"1"}]}"#
        );
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (0, 0));
    }

    #[test]
    fn held_poll_is_answered_by_a_publish() {
        let (mut hub, mut polls) = setup();
        poll(&mut hub, &mut polls, 1, None, 0);
        assert_eq!(polls.poll_reply(), None);
        assert_eq!(polls.poll_timeout(), Some(at(30_000)));
        hub.publish("chat", "message", b"hello".as_slice(), at(500))
            .unwrap();
        wake(&mut hub, &mut polls, 500);
        let (_, reply) = one(&mut polls);
        assert_eq!(reply.cursor.to_string(), "7.1");
        assert_eq!(reply.items.len(), 1);
        assert_nothing_held(&hub, &polls);
    }

    #[test]
    fn held_poll_times_out_with_an_empty_reply_and_its_cursor() {
        // docs/conformance.md §4 "Timeout response": empty = poll again now.
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"old".as_slice(), at(0))
            .unwrap();
        poll(&mut hub, &mut polls, 9, None, 1_000);
        polls.handle_timeout(&mut hub, at(30_999));
        assert_eq!(polls.poll_reply(), None);
        polls.handle_timeout(&mut hub, at(31_000));
        let (request, reply) = one(&mut polls);
        assert_eq!(request, RequestId(9));
        assert!(reply.is_empty());
        assert_eq!(body(&reply), r#"{"cursor":"7.1","messages":[]}"#);
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (0, 0));
    }

    #[test]
    fn nothing_is_lost_between_a_reply_and_the_next_poll() {
        // docs/conformance.md §4 "Server-side buffer": messages published between
        // response N and request N+1 must reach request N+1.
        let (mut hub, mut polls) = setup();
        poll(&mut hub, &mut polls, 1, None, 0);
        hub.publish("chat", "message", b"a".as_slice(), at(10))
            .unwrap();
        wake(&mut hub, &mut polls, 10);
        let (_, reply) = one(&mut polls);
        // Between reply 1 and request 2:
        hub.publish("chat", "message", b"b".as_slice(), at(20))
            .unwrap();
        hub.publish("chat", "message", b"c".as_slice(), at(21))
            .unwrap();
        wake(&mut hub, &mut polls, 21); // no poll held: nothing to wake
        poll(&mut hub, &mut polls, 2, Some(&reply.cursor), 30);
        let (request, reply) = one(&mut polls);
        assert_eq!(request, RequestId(2));
        assert_eq!(
            body(&reply),
            r#"{"cursor":"7.3","messages":[{"id":"7.2","channel":"chat","data":"b"},{"id":"7.3","channel":"chat","data":"c"}]}"#
        );
    }

    #[test]
    fn reply_body_follows_the_wire_contract() {
        // docs/design.md "Wire contracts": long-poll body, wire message, event
        // omitted when "message", gap data, strings via json::write_str.
        let mut hub = Hub::new(HubConfig::default(), EPOCH);
        let id = hub.subscribe(&["room"], StartFrom::Newest).unwrap();
        hub.publish("room", "message", b"plain".as_slice(), at(0))
            .unwrap();
        hub.publish("room", "price", "q\"</script>\n\u{2028}".as_bytes(), at(0))
            .unwrap();
        let items = hub.read(id, 10).unwrap().items;
        let cursor = items[1].cursor().clone();
        let gap = Delivery::Gap(Gap {
            channel_index: 0,
            channel: Arc::from("room"),
            missed: 3,
            cause: GapCause::FellOffLog,
            resume: Cursor::new(EPOCH, vec![5]).unwrap(),
        });
        let table: Vec<(LongPollReply, &str)> = vec![
            (
                LongPollReply {
                    cursor: cursor.clone(),
                    items: Vec::new(),
                },
                r#"{"cursor":"7.2","messages":[]}"#,
            ),
            (
                LongPollReply {
                    cursor: cursor.clone(),
                    items: items.clone(),
                },
                r#"{"cursor":"7.2","messages":[{"id":"7.1","channel":"room","data":"plain"},{"id":"7.2","channel":"room","event":"price","data":"q\"\u003c/script\u003e\n\u2028"}]}"#,
            ),
            (
                LongPollReply {
                    cursor: Cursor::new(EPOCH, vec![5]).unwrap(),
                    items: vec![gap],
                },
                r#"{"cursor":"7.5","messages":[{"id":"7.5","channel":"room","event":"gap","data":"{\"channel\":\"room\",\"missed\":3}"}]}"#,
            ),
        ];
        for (reply, expected) in &table {
            assert_eq!(body(reply), *expected);
        }
    }

    #[test]
    fn binary_data_is_refused_without_writing_anything() {
        let (mut hub, _) = setup();
        let id = hub.subscribe(&["cam"], StartFrom::Newest).unwrap();
        hub.publish("cam", "message", vec![0xff, 0xd8], at(0))
            .unwrap();
        let reply = LongPollReply {
            cursor: hub.cursor(id).unwrap(),
            items: hub.read(id, 1).unwrap().items,
        };
        let mut out = b"kept".to_vec();
        let error = encode_reply(&reply, &mut out).unwrap_err();
        assert_eq!(
            error,
            LongPollError::DataNotUtf8 {
                channel: Arc::from("cam"),
                seq: 1
            }
        );
        assert!(!error.to_string().is_empty());
        assert_eq!(out, b"kept");
    }

    #[test]
    fn gap_is_replied_when_the_cursor_fell_off_between_polls() {
        let mut hub = Hub::new(
            HubConfig {
                channel: ChannelConfig {
                    max_count: 2,
                    ..ChannelConfig::default()
                },
                ..HubConfig::default()
            },
            EPOCH,
        );
        let mut polls = LongPoll::new(LongPollConfig::default());
        for data in ["1", "2", "3", "4"] {
            hub.publish("chat", "message", data.as_bytes(), at(0))
                .unwrap();
        }
        poll(
            &mut hub,
            &mut polls,
            1,
            Some(&Cursor::new(EPOCH, vec![1]).unwrap()),
            0,
        );
        let (_, reply) = one(&mut polls);
        assert!(body(&reply).contains(r#"{"id":"7.2","channel":"chat","event":"gap","data":"{\"channel\":\"chat\",\"missed\":1}"}"#));
        assert_eq!(reply.cursor.to_string(), "7.4");
    }

    #[test]
    fn cancel_forgets_the_poll_and_its_subscriber() {
        let (mut hub, mut polls) = setup();
        poll(&mut hub, &mut polls, 1, None, 0);
        assert!(polls.handle_cancel(&mut hub, RequestId(1)));
        assert!(!polls.handle_cancel(&mut hub, RequestId(1)));
        assert_nothing_held(&hub, &polls);
        hub.publish("chat", "message", b"x".as_slice(), at(1))
            .unwrap();
        assert_eq!(polls.poll_reply(), None);
    }

    #[test]
    fn limits_and_bad_requests_give_clear_errors() {
        let mut hub = Hub::new(HubConfig::default(), EPOCH);
        let mut polls = LongPoll::new(LongPollConfig {
            max_pending: 1,
            ..LongPollConfig::default()
        });
        let mut poll = |request, channel: &str| {
            polls.handle_request(
                &mut hub,
                RequestId(request),
                &[channel],
                StartFrom::Newest,
                at(0),
            )
        };
        poll(1, "a").unwrap();
        assert_eq!(
            poll(1, "a"),
            Err(LongPollError::DuplicateRequest(RequestId(1)))
        );
        assert_eq!(poll(2, "a"), Err(LongPollError::TooManyPending { max: 1 }));
        assert_eq!(
            poll(3, "no spaces"),
            Err(LongPollError::Hub(HubError::ChannelNameCharacter {
                at: 2,
                found: ' '
            }))
        );
        // Refused polls' subscribers are gone; the held one stays.
        assert_eq!((hub.subscriber_count(), polls.pending_count()), (1, 1));
    }

    #[test]
    fn ready_ids_of_other_subscribers_are_left_alone() {
        let (mut hub, mut polls) = setup();
        let stream = hub.subscribe(&["chat"], StartFrom::Newest).unwrap();
        hub.publish("chat", "message", b"x".as_slice(), at(0))
            .unwrap();
        assert_eq!(hub.poll_ready(), Some(stream));
        assert!(!polls.handle_ready(&mut hub, stream, at(0)));
        assert_eq!(hub.read(stream, 10).unwrap().items.len(), 1);
    }

    #[test]
    fn polls_at_one_position_share_one_subscriber_and_one_reply() {
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"seen".as_slice(), at(0))
            .unwrap();
        let seen = Cursor::new(EPOCH, vec![1]).unwrap();
        for request in 1..=3 {
            poll(&mut hub, &mut polls, request, Some(&seen), request);
        }
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (3, 1));
        hub.publish("chat", "message", b"news".as_slice(), at(10))
            .unwrap();
        wake(&mut hub, &mut polls, 10);
        let answer = polls.poll_reply().expect("one answer for all three");
        assert_eq!(answer.requests, [RequestId(1), RequestId(2), RequestId(3)]);
        assert_eq!(
            body(&answer.reply),
            r#"{"cursor":"7.2","messages":[{"id":"7.2","channel":"chat","data":"news"}]}"#
        );
        assert_eq!(polls.poll_reply(), None);
        assert_nothing_held(&hub, &polls);
    }

    #[test]
    fn polls_of_other_channels_or_cursors_are_held_apart() {
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"1".as_slice(), at(0))
            .unwrap();
        hub.publish("news", "message", b"1".as_slice(), at(0))
            .unwrap();
        let one_seen = Cursor::new(EPOCH, vec![1]).unwrap();
        poll_of(&mut hub, &mut polls, 1, "chat", Some(&one_seen), 0);
        poll_of(&mut hub, &mut polls, 2, "news", Some(&one_seen), 0);
        let both = Cursor::new(EPOCH, vec![1, 1]).unwrap();
        polls
            .handle_request(
                &mut hub,
                RequestId(3),
                &["chat", "news"],
                StartFrom::Cursor(both),
                at(0),
            )
            .unwrap();
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (3, 3));
        hub.publish("chat", "message", b"2".as_slice(), at(5))
            .unwrap();
        wake(&mut hub, &mut polls, 5);
        let mut answered: Vec<_> = [one(&mut polls), one(&mut polls)]
            .into_iter()
            .map(|(request, reply)| (request, reply.cursor.to_string()))
            .collect();
        answered.sort();
        assert_eq!(
            answered,
            [
                (RequestId(1), "7.2".to_string()),
                (RequestId(3), "7.2.1".to_string())
            ]
        );
        assert_eq!(polls.poll_reply(), None);
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (1, 1));
    }

    #[test]
    fn a_shared_poll_that_times_out_leaves_the_others_held() {
        let (mut hub, mut polls) = setup();
        hub.publish("chat", "message", b"seen".as_slice(), at(0))
            .unwrap();
        let seen = Cursor::new(EPOCH, vec![1]).unwrap();
        poll(&mut hub, &mut polls, 1, Some(&seen), 0);
        poll(&mut hub, &mut polls, 2, Some(&seen), 10_000);
        polls.handle_timeout(&mut hub, at(30_000));
        let (request, reply) = one(&mut polls);
        assert_eq!(request, RequestId(1));
        assert_eq!(body(&reply), r#"{"cursor":"7.1","messages":[]}"#);
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (1, 1));
        assert_eq!(polls.poll_timeout(), Some(at(40_000)));
        hub.publish("chat", "message", b"news".as_slice(), at(31_000))
            .unwrap();
        wake(&mut hub, &mut polls, 31_000);
        let (request, reply) = one(&mut polls);
        assert_eq!((request, reply.items.len()), (RequestId(2), 1));
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (0, 0));
    }

    #[test]
    fn a_shared_poll_ends_when_its_last_client_leaves() {
        let (mut hub, mut polls) = setup();
        let start = Cursor::new(EPOCH, vec![0]).unwrap();
        poll(&mut hub, &mut polls, 1, Some(&start), 0);
        poll(&mut hub, &mut polls, 2, Some(&start), 0);
        assert!(polls.handle_cancel(&mut hub, RequestId(1)));
        assert_eq!((polls.pending_count(), hub.subscriber_count()), (1, 1));
        assert!(polls.handle_cancel(&mut hub, RequestId(2)));
        assert_nothing_held(&hub, &polls);
        // A poll from there now starts a group of its own again.
        poll(&mut hub, &mut polls, 3, Some(&start), 1);
        hub.publish("chat", "message", b"x".as_slice(), at(2))
            .unwrap();
        wake(&mut hub, &mut polls, 2);
        assert_eq!(one(&mut polls).0, RequestId(3));
    }

    #[test]
    fn queue_lag_while_held_answers_empty_with_the_resume_cursor() {
        let config = ChannelConfig {
            policy: crate::hub::DeliveryPolicy::Queue { max_lag: 1 },
            ..ChannelConfig::default()
        };
        let mut hub = Hub::new(
            HubConfig {
                channel: config,
                ..HubConfig::default()
            },
            EPOCH,
        );
        let mut polls = LongPoll::new(LongPollConfig::default());
        poll(&mut hub, &mut polls, 1, None, 0);
        hub.publish("chat", "message", b"1".as_slice(), at(0))
            .unwrap();
        hub.publish("chat", "message", b"2".as_slice(), at(0))
            .unwrap();
        wake(&mut hub, &mut polls, 0);
        let (_, reply) = one(&mut polls);
        assert_eq!(body(&reply), r#"{"cursor":"7.0","messages":[]}"#);
        // Polling again from that cursor reads both.
        poll(&mut hub, &mut polls, 2, Some(&reply.cursor), 0);
        assert_eq!(one(&mut polls).1.items.len(), 2);
    }
}
