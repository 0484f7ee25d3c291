//! The hub shared by every connection: `pushwire-core`'s [`Hub`] and
//! [`LongPoll`] machines behind one lock, driven by the server's clock, plus
//! the wakers of streaming subscribers waiting for news.
//!
//! The machines decide everything (sequence ids, replay logs, gaps, slow
//! subscribers, held polls); this module only feeds them time and requests
//! and wakes whoever they name.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};
use core::task::Waker;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use bytes::Bytes;
use pushwire_core::Timestamp;
use pushwire_core::hub::{
    Attachment, ChannelConfig, ChannelInfo, DeliveryPolicy, Entry, Hub, HubConfig, HubError,
    Published, ReadBatch, StartFrom, SubscriberId, SubscriberTag,
};
use pushwire_core::longpoll::{
    Answer, Hold, LongPoll, LongPollConfig, LongPollError, LongPollReply, RequestId,
};
use tokio::sync::{Notify, oneshot};

/// Frames a webcam channel keeps in its replay log.
pub const WEBCAM_LOG_FRAMES: usize = 8;

/// The hub, the held polls and the wakers, behind one lock.
pub struct SharedHub {
    inner: Mutex<Inner>,
    origin: Instant,
    /// Wakes the timer task when a new deadline may be earlier.
    timer: Notify,
    /// [`Wakers::wakes`], read without the lock.
    wakes: Arc<AtomicU64>,
}

struct Inner {
    hub: Hub,
    polls: LongPoll,
    next_request: u64,
    /// Held long polls: where to send each reply.
    waiting: HashMap<RequestId, oneshot::Sender<Arc<Answered>>>,
    /// Streaming subscribers parked until the hub names them ready.
    wakers: Wakers,
    /// When the timer task wakes next (`None`: it is about to look).
    armed: Option<Timestamp>,
    shutting_down: bool,
}

/// Whether a streaming subscriber's waker is parked in the hub, and since
/// which wake and with which waker (see [`SharedHub::read`]); one per
/// subscriber, `default` at first.
#[derive(Debug, Default)]
pub struct Parked(Option<(u64, Waker)>);

/// What a streaming subscriber's read found.
pub enum Read {
    /// Messages, gaps or a disconnect to write.
    Batch(ReadBatch),
    /// Nothing now: the caller's waker is parked until a publish.
    Parked,
    /// The server is shutting down: end the stream in order.
    ShuttingDown,
}

impl SharedHub {
    /// Make the hub; `epoch` should differ between server lives (so cursors
    /// from a previous life are recognised).
    pub fn new(hub: HubConfig, polls: LongPollConfig, epoch: u64) -> Self {
        let wakes = Arc::new(AtomicU64::new(0));
        Self {
            inner: Mutex::new(Inner {
                hub: Hub::new(hub, epoch),
                polls: LongPoll::new(polls),
                next_request: 0,
                waiting: HashMap::new(),
                wakers: Wakers {
                    by_id: HashMap::new(),
                    wakes: Arc::clone(&wakes),
                },
                armed: None,
                shutting_down: false,
            }),
            origin: Instant::now(),
            timer: Notify::new(),
            wakes,
        }
    }

    /// Milliseconds since the hub was made: the machines' clock.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millis(u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The machines stay consistent if a holder panicked mid-call: every
        // method of theirs either completes or changes nothing.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Publish a message with `attachment` kept in its log entry, run
    /// `prepare` (outside the lock: the host frames the message there), then
    /// wake its subscribers and answer the polls it completes.
    ///
    /// # Errors
    /// The hub's refusal (bad name, message too large, too many channels).
    pub fn publish(
        &self,
        channel: &str,
        event: &str,
        data: impl Into<Arc<[u8]>>,
        attachment: Attachment,
        prepare: impl FnOnce(&Published),
    ) -> Result<Published, HubError> {
        let now = self.now();
        let published =
            self.lock()
                .hub
                .publish_attached(channel, event, data, Some(attachment), now)?;
        prepare(&published);
        let mut inner = self.lock();
        inner.wake_ready(now);
        let earlier = inner.deadline_moved_earlier();
        drop(inner);
        if earlier {
            self.timer.notify_one();
        }
        Ok(published)
    }

    /// Subscribe a streaming connection, tagged (its transport) so that
    /// publishes report it.
    ///
    /// # Errors
    /// The hub's refusal (too many channels or subscribers, a cursor that
    /// does not fit the channels).
    pub fn subscribe(
        &self,
        channels: &[String],
        from: StartFrom,
        tag: SubscriberTag,
    ) -> Result<SubscriberId, HubError> {
        self.lock().hub.subscribe_tagged(channels, from, tag)
    }

    /// Read what `id` gets now, or park `waker` until it has something.
    ///
    /// A read that takes everything `id` has parks `waker` too, in the same
    /// lock, and `parked` remembers when: until the hub wakes anyone again,
    /// the next read answers [`Read::Parked`] without taking the lock (a
    /// stream asks again after every write, and a fan-out is a thousand of
    /// those).
    ///
    /// # Errors
    /// [`HubError::UnknownSubscriber`] once the hub has dropped it.
    pub fn read(
        &self,
        id: SubscriberId,
        max_batch: usize,
        waker: &Waker,
        parked: &mut Parked,
    ) -> Result<Read, HubError> {
        if let Some((since, parked_waker)) = &parked.0
            && *since == self.wakes.load(Ordering::Acquire)
            && parked_waker.will_wake(waker)
        {
            return Ok(Read::Parked);
        }
        parked.0 = None;
        let mut inner = self.lock();
        if inner.shutting_down {
            return Ok(Read::ShuttingDown);
        }
        let batch = inner.hub.read(id, max_batch)?;
        let empty = batch.items.is_empty() && batch.skipped == 0;
        if empty || !batch.more {
            parked.0 = Some((inner.wakers.park(id, waker), waker.clone()));
        }
        Ok(if empty {
            Read::Parked
        } else {
            Read::Batch(batch)
        })
    }

    /// Where subscriber `id` stands now.
    pub fn cursor(&self, id: SubscriberId) -> Option<pushwire_core::cursor::Cursor> {
        self.lock().hub.cursor(id)
    }

    /// Forget a streaming subscriber (its connection closed).
    pub fn unsubscribe(&self, id: SubscriberId) {
        let mut inner = self.lock();
        inner.wakers.by_id.remove(&id);
        inner.hub.unsubscribe(id);
    }

    /// Hold a long poll until it has something or times out.
    ///
    /// # Errors
    /// The hub's or the long-poll machine's refusal.
    pub fn long_poll(
        &self,
        channels: &[String],
        from: StartFrom,
    ) -> Result<HeldPoll<'_>, LongPollError> {
        let now = self.now();
        let mut inner = self.lock();
        // A first poll (no cursor) learns its position at once.
        let hold = if matches!(from, StartFrom::Newest) {
            Hold::Never
        } else {
            Hold::UntilNews
        };
        inner.next_request += 1;
        let request = RequestId(inner.next_request);
        let (sender, reply) = oneshot::channel();
        inner.waiting.insert(request, sender);
        let Inner { hub, polls, .. } = &mut *inner;
        if let Err(err) = polls.handle_request_with(hub, request, channels, from, now, hold) {
            inner.waiting.remove(&request);
            return Err(err);
        }
        inner.send_replies();
        let earlier = inner.deadline_moved_earlier();
        drop(inner);
        if earlier {
            self.timer.notify_one();
        }
        Ok(HeldPoll {
            hub: self,
            request,
            reply: Some(reply),
        })
    }

    /// Read once and answer at once (plain polling).
    ///
    /// # Errors
    /// The hub's refusal.
    pub fn poll_once(
        &self,
        channels: &[String],
        from: StartFrom,
        max_batch: usize,
    ) -> Result<(ReadBatch, String), HubError> {
        let mut inner = self.lock();
        let id = inner.hub.subscribe(channels, from)?;
        let batch = inner.hub.read(id, max_batch);
        let cursor = inner
            .hub
            .cursor(id)
            .map(|c| c.to_string())
            .unwrap_or_default();
        inner.hub.unsubscribe(id);
        Ok((batch?, cursor))
    }

    /// How many long polls are held.
    pub fn held_polls(&self) -> usize {
        self.lock().polls.pending_count()
    }

    /// Make `channel` a webcam channel: [`DeliveryPolicy::Latest`] (a viewer
    /// that falls behind skips to the newest frame) and a short replay log
    /// (old frames are of no use), the hub's other bounds otherwise. Calling
    /// it again changes nothing.
    ///
    /// # Errors
    /// The hub's refusal (bad name, too many channels).
    pub fn configure_webcam(&self, channel: &str) -> Result<(), HubError> {
        self.configure_channel(channel, |base| ChannelConfig {
            policy: DeliveryPolicy::Latest,
            max_count: WEBCAM_LOG_FRAMES,
            ..base
        })
    }

    /// Set `channel`'s bounds and policy to `change` of the hub's default
    /// channel config (for the built-in publishers' channels).
    ///
    /// # Errors
    /// The hub's refusal (bad name, too many channels).
    pub fn configure_channel(
        &self,
        channel: &str,
        change: impl FnOnce(ChannelConfig) -> ChannelConfig,
    ) -> Result<(), HubError> {
        let mut inner = self.lock();
        let config = change(inner.hub.config().channel);
        inner.hub.configure_channel(channel, config)
    }

    /// The newest message `channel` still holds (a webcam's current frame).
    pub fn newest(&self, channel: &str) -> Option<Arc<Entry>> {
        self.lock().hub.newest(channel)
    }

    /// Numbers about a channel, if it exists.
    pub fn channel_info(&self, channel: &str) -> Option<ChannelInfo> {
        self.lock().hub.channel_info(channel)
    }

    /// How many subscriptions (streams and held polls) are open.
    pub fn subscriber_count(&self) -> usize {
        self.lock().hub.subscriber_count()
    }

    /// End every stream in order and answer every held poll (empty, with its
    /// cursor), so clients resume elsewhere or after the restart.
    pub fn shut_down(&self) {
        let mut inner = self.lock();
        inner.shutting_down = true;
        inner.wakers.wake_all();
        let now = self.now();
        let Inner { hub, polls, .. } = &mut *inner;
        // A timeout far in the future answers every held poll now.
        polls.handle_timeout(hub, now.saturating_add(Duration::from_secs(86_400 * 365)));
        inner.send_replies();
    }

    /// Drive the machines' deadlines (replay-log ages, long-poll timeouts)
    /// until the process ends.
    pub async fn run_timers(self: Arc<Self>) {
        loop {
            let now = self.now();
            let wait = {
                let mut inner = self.lock();
                // Re-check at least every second: a deadline may appear without a notify.
                let wait = inner
                    .next_deadline()
                    .map_or(Duration::from_secs(1), |at| {
                        at.saturating_duration_since(now)
                    })
                    .min(Duration::from_secs(1));
                inner.armed = Some(now.saturating_add(wait));
                wait
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.timer.notified() => continue,
            }
            let now = self.now();
            let mut inner = self.lock();
            inner.armed = None;
            let Inner { hub, polls, .. } = &mut *inner;
            hub.handle_timeout(now);
            polls.handle_timeout(hub, now);
            inner.send_replies();
        }
    }
}

impl Inner {
    /// The machines' earliest deadline.
    fn next_deadline(&self) -> Option<Timestamp> {
        [self.hub.poll_timeout(), self.polls.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether the timer task must look again: a deadline is now earlier
    /// than the one it sleeps until (a new poll's is usually later, so a
    /// thousand polls do not wake it a thousand times).
    fn deadline_moved_earlier(&self) -> bool {
        match (self.next_deadline(), self.armed) {
            (Some(next), Some(armed)) => next < armed,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// Hand every subscriber the hub names ready to its poll or its waker.
    fn wake_ready(&mut self, now: Timestamp) {
        while let Some(id) = self.hub.poll_ready() {
            let Self { hub, polls, .. } = self;
            if !polls.handle_ready(hub, id, now) {
                self.wakers.wake(id);
            }
        }
        self.send_replies();
    }

    fn send_replies(&mut self) {
        while let Some(Answer { requests, reply }) = self.polls.poll_reply() {
            let answered = Arc::new(Answered {
                reply,
                framed: OnceLock::new(),
            });
            for request in requests {
                if let Some(sender) = self.waiting.remove(&request) {
                    // The client may have gone; its reply is simply dropped.
                    let _ = sender.send(Arc::clone(&answered));
                }
            }
        }
    }
}

/// The wakers of parked streaming subscribers, and a count of wakes that
/// moves before any of them is woken: a subscriber that parked at the
/// current count has not been woken since (see [`SharedHub::read`]).
struct Wakers {
    by_id: HashMap<SubscriberId, Waker>,
    wakes: Arc<AtomicU64>,
}

impl Wakers {
    /// Park `waker` for `id`; the count it parked at.
    fn park(&mut self, id: SubscriberId, waker: &Waker) -> u64 {
        self.by_id.insert(id, waker.clone());
        self.wakes.load(Ordering::Acquire)
    }

    /// Wake `id`'s parked waker, if any.
    fn wake(&mut self, id: SubscriberId) {
        if let Some(waker) = self.by_id.remove(&id) {
            self.wakes.fetch_add(1, Ordering::Release);
            waker.wake();
        }
    }

    /// Wake every parked waker.
    fn wake_all(&mut self) {
        self.wakes.fetch_add(1, Ordering::Release);
        for (_, waker) in self.by_id.drain() {
            waker.wake();
        }
    }
}

/// One reply to every long poll at a position that a message answered,
/// with its body, framed by the first of them for all.
pub struct Answered {
    /// The cursor and the messages.
    pub reply: LongPollReply,
    framed: OnceLock<Bytes>,
}

impl Answered {
    /// The reply's body: framed by `frame` for the first poll that asks,
    /// shared by the others (a failure is not kept: each tries again).
    ///
    /// # Errors
    /// What `frame` returned.
    pub fn framed<E>(
        &self,
        frame: impl FnOnce(&LongPollReply) -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        if let Some(body) = self.framed.get() {
            return Ok(body.clone());
        }
        let body = frame(&self.reply)?;
        Ok(self.framed.get_or_init(|| body).clone())
    }
}

/// A long poll in flight; dropping it (the client went away) cancels it.
pub struct HeldPoll<'a> {
    hub: &'a SharedHub,
    request: RequestId,
    reply: Option<oneshot::Receiver<Arc<Answered>>>,
}

impl HeldPoll<'_> {
    /// Wait for the reply (shared with the polls it answered too).
    pub async fn reply(mut self) -> Option<Arc<Answered>> {
        let receiver = self.reply.as_mut()?;
        let reply = receiver.await.ok();
        // Answered (or the hub is gone): nothing left to cancel.
        self.reply = None;
        reply
    }
}

impl Drop for HeldPoll<'_> {
    fn drop(&mut self) {
        if self.reply.is_some() {
            let mut inner = self.hub.lock();
            inner.waiting.remove(&self.request);
            let Inner { hub, polls, .. } = &mut *inner;
            polls.handle_cancel(hub, self.request);
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::task::Wake;
    use core::sync::atomic::AtomicUsize;

    use pushwire_core::hub::DEFAULT_EVENT;

    use super::*;

    /// A waker that counts its wakes.
    struct Counted(AtomicUsize);

    impl Wake for Counted {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counted() -> (Arc<Counted>, Waker) {
        let count = Arc::new(Counted(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    /// A hub with one streaming subscriber, of channel `news`.
    fn hub_with_one_stream() -> (SharedHub, SubscriberId) {
        let hub = SharedHub::new(HubConfig::default(), LongPollConfig::default(), 7);
        let id = hub
            .subscribe(&["news".to_owned()], StartFrom::Newest, SubscriberTag::NONE)
            .unwrap();
        (hub, id)
    }

    fn publish(hub: &SharedHub, channel: &str, data: &[u8]) {
        hub.publish(channel, DEFAULT_EVENT, data, Arc::new(()), |_| {})
            .unwrap();
    }

    fn messages(read: Read) -> usize {
        match read {
            Read::Batch(batch) => batch.items.len(),
            Read::Parked => 0,
            Read::ShuttingDown => usize::MAX,
        }
    }

    #[test]
    fn a_read_that_takes_everything_parks_until_the_next_wake() {
        let (hub, id) = hub_with_one_stream();
        let (wakes, waker) = counted();
        let mut parked = Parked::default();
        let mut read = |max| messages(hub.read(id, max, &waker, &mut parked).unwrap());
        let publish_n = |n: usize| {
            for _ in 0..n {
                publish(&hub, "news", b"x");
            }
        };

        publish_n(1);
        assert_eq!(read(64), 1, "the message, and the waker parked with it");
        assert_eq!(read(64), 0, "parked: nothing new");
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
        publish_n(1);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "the publish woke it");
        assert_eq!(read(64), 1);

        // A batch cut at its limit leaves the rest to read: not parked.
        publish_n(3);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);
        assert_eq!(read(2), 2);
        assert_eq!(read(2), 1);
        assert_eq!(read(2), 0);

        // A publish on another channel wakes no one here: still parked.
        publish(&hub, "other", b"y");
        assert_eq!(read(64), 0);
        assert_eq!(wakes.0.load(Ordering::SeqCst), 2);

        // Shutting down wakes the parked reader, and its read says so.
        hub.shut_down();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 3);
        assert_eq!(read(64), usize::MAX);
    }

    #[test]
    fn a_parked_read_with_another_waker_parks_that_one() {
        let (hub, id) = hub_with_one_stream();
        let (first, first_waker) = counted();
        let (second, second_waker) = counted();
        let mut parked = Parked::default();
        assert!(matches!(
            hub.read(id, 64, &first_waker, &mut parked),
            Ok(Read::Parked)
        ));
        assert!(matches!(
            hub.read(id, 64, &second_waker, &mut parked),
            Ok(Read::Parked)
        ));
        publish(&hub, "news", b"x");
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
    }
}
