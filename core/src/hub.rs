//! The hub: channels, their bounded replay logs, and subscribers reading them
//! by cursor.
//!
//! Publishing appends a message to a channel's log with the next per-channel
//! sequence number (starting at 1) and a hub-wide publish number used to merge
//! channels in publish order. The log is bounded by count, bytes and age; a
//! message is stored once (`Arc`) and shared by every reader.
//!
//! A subscriber is a cursor over a list of channels (see [`crate::cursor`]).
//! [`Hub::read`] answers "what does this subscriber get now": backlog messages
//! in publish order, each with the cursor after it; a [`Gap`] when its cursor
//! fell off a log (it then continues from the oldest message kept); nothing;
//! or, for a [`DeliveryPolicy::Queue`] channel it no longer keeps up with, a
//! [`Delivery::Disconnect`] carrying a cursor to resume from.
//!
//! ```
//! use pushwire_core::hub::{Delivery, Hub, HubConfig, StartFrom};
//! use pushwire_core::Timestamp;
//!
//! let mut hub = Hub::new(HubConfig::default(), 7);
//! let now = Timestamp::from_millis(0);
//! let chat = hub.subscribe(&["chat"], StartFrom::Newest).unwrap();
//! let published = hub.publish("chat", "message", b"hi".as_slice(), now).unwrap();
//! assert_eq!(published.seq, 1);
//! assert_eq!(hub.poll_ready(), Some(chat));
//!
//! let batch = hub.read(chat, 100).unwrap();
//! let Some(Delivery::Message { entry, cursor, .. }) = batch.items.first() else { panic!() };
//! assert_eq!(entry.data(), b"hi");
//! assert_eq!(cursor.to_string(), "7.1"); // epoch 7, channel "chat" at 1
//! ```
//!
//! # Driving it
//! 1. Create one `Hub` with an epoch that differs between server lives.
//! 2. On a publish request call [`Hub::publish`]; then drain
//!    [`Hub::poll_ready`] and wake the connection of every id it yields.
//! 3. A woken connection calls [`Hub::read`] while it can write and
//!    [`ReadBatch::more`] is true, frames the items and writes them.
//! 4. Call [`Hub::handle_timeout`] when [`Hub::poll_timeout`] is due, so
//!    messages past their age leave the logs.
//! 5. Call [`Hub::unsubscribe`] when a connection closes.
//!
//! # Framing once per transport
//! The framed bytes of a message depend only on the transport, the entry and
//! the cursor text after it. For a single-channel subscription the cursor
//! after sequence `n` is `<epoch>.<n>` for every subscriber, so a driver
//! frames a message once per transport and writes the same bytes to all of
//! them. Two mechanisms let it do that at publish time, with the bytes kept
//! where the message is:
//! - a subscriber carries a [`SubscriberTag`] (its transport, say), and
//!   [`Published::tags`] says which tags the channel's subscribers carry:
//!   the transports to frame the new message for;
//! - [`Hub::publish_attached`] stores an [`Attachment`] with the entry (the
//!   driver's framed bytes), which readers find with [`Entry::attachment`]
//!   and which leaves the log with the entry.
//!
//! For a multi-channel subscription the cursor also holds the other channels'
//! positions; a driver writes that per-subscriber part in front of a shared
//! body, or frames per cursor text.

use alloc::borrow::Cow;
use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;
use core::time::Duration;

use crate::Timestamp;
use crate::cursor::{Cursor, MAX_POSITIONS};

/// The longest channel name, in bytes.
pub const MAX_CHANNEL_NAME_LEN: usize = 128;

/// The longest event name, in bytes.
pub const MAX_EVENT_NAME_LEN: usize = 64;

pub use crate::wire::DEFAULT_EVENT;

/// The event name reserved for gap notices on every transport.
pub const GAP_EVENT: &str = "gap";

/// A subscriber's handle. Ids are not reused while the old one is subscribed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub u32);

/// What a channel does with a subscriber that falls behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeliveryPolicy {
    /// Deliver every message in order. A subscriber that had caught up and
    /// then falls more than `max_lag` messages behind is disconnected with a
    /// cursor to resume from (its connection is not keeping up). A subscriber
    /// still reading its backlog after (re)subscribing is never disconnected;
    /// if it falls off the log it gets a [`Gap`].
    Queue {
        /// How many unread messages a caught-up subscriber may fall behind.
        max_lag: u64,
    },
    /// Deliver only the newest message: a subscriber with several unread
    /// messages skips to the newest (tickers, webcams). Skips are counted in
    /// [`ChannelInfo::skipped`] and [`ReadBatch::skipped`], never reported as
    /// gaps.
    Latest,
}

/// Bounds and policy of one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelConfig {
    /// Most messages kept in the replay log. Default 1024. With 0 nothing is
    /// kept and every reader gets gaps.
    pub max_count: usize,
    /// Most data bytes kept in the replay log; also the largest message the
    /// channel accepts. Default 4 MiB.
    pub max_bytes: usize,
    /// How long a message stays in the log; `None` keeps it until count or
    /// bytes push it out. Default 5 minutes.
    pub max_age: Option<Duration>,
    /// What happens to a subscriber that falls behind. Default
    /// `Queue { max_lag: 512 }`.
    pub policy: DeliveryPolicy,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            max_count: 1024,
            max_bytes: 4 * 1024 * 1024,
            max_age: Some(Duration::from_secs(300)),
            policy: DeliveryPolicy::Queue { max_lag: 512 },
        }
    }
}

/// The configuration of the channels whose names match a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelRule {
    /// A channel name, or a prefix followed by `*` (`ticker-*`); `*` alone
    /// matches every channel.
    pub pattern: String,
    /// What matching channels get when they are created.
    pub config: ChannelConfig,
}

impl ChannelRule {
    /// Whether `name` matches this rule's pattern.
    pub fn matches(&self, name: &str) -> bool {
        match self.pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == self.pattern,
        }
    }
}

/// Limits of a hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubConfig {
    /// Most channels. Channels are created by their first publish or
    /// subscribe and are not removed. Default 10 000.
    pub max_channels: usize,
    /// Most subscribers at once. Default 100 000.
    pub max_subscribers: usize,
    /// Most channels in one subscription; capped at
    /// [`MAX_POSITIONS`]. Default 16.
    pub max_channels_per_subscription: usize,
    /// Largest message data, in bytes. Default 1 MiB.
    pub max_message_bytes: usize,
    /// The configuration of channels that no rule matches and that were not
    /// set with [`Hub::configure_channel`].
    pub channel: ChannelConfig,
    /// Configurations by channel-name pattern, applied when a channel is
    /// created; the first matching rule wins. Default: none.
    pub channel_rules: Vec<ChannelRule>,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            max_channels: 10_000,
            max_subscribers: 100_000,
            max_channels_per_subscription: 16,
            max_message_bytes: 1024 * 1024,
            channel: ChannelConfig::default(),
            channel_rules: Vec::new(),
        }
    }
}

/// Where a new subscription starts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartFrom {
    /// At the oldest message each log still holds (no gap reported).
    Oldest,
    /// After the newest message: only what is published from now on.
    Newest,
    /// At the newest message the log holds, which is delivered first (a
    /// picture's current frame); as [`StartFrom::Newest`] when the log is
    /// empty.
    Last,
    /// Where a cursor left off. A cursor from another epoch (an earlier
    /// server life) starts at the beginning of this life with a
    /// [`GapCause::EpochChanged`] gap on every channel.
    Cursor(Cursor),
}

/// What a driver keeps with a log entry ([`Hub::publish_attached`]), e.g. the
/// message's framed bytes per transport: shared by every reader, dropped when
/// the entry leaves the log and the last reader is done with it.
pub type Attachment = Arc<dyn Any + Send + Sync>;

/// A label a driver gives a subscriber ([`Hub::subscribe_tagged`]), such as
/// its transport: [`Published::tags`] reports which labels a channel's
/// subscribers carry when a message is published. From 0 to
/// [`SubscriberTag::MAX`]; [`Hub::subscribe`] gives [`SubscriberTag::NONE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SubscriberTag(u8);

impl SubscriberTag {
    /// The tag of subscribers made with [`Hub::subscribe`].
    pub const NONE: Self = Self(0);
    /// The largest tag.
    pub const MAX: u8 = 31;

    /// Tag `value`, or `None` above [`SubscriberTag::MAX`].
    pub const fn new(value: u8) -> Option<Self> {
        if value <= Self::MAX {
            Some(Self(value))
        } else {
            None
        }
    }

    /// The tag's number.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// This tag's bit in [`Published::tags`].
    pub const fn bit(self) -> u32 {
        1 << self.0
    }
}

/// One published message, stored once and shared by every reader.
pub struct Entry {
    channel: Arc<str>,
    seq: u64,
    global_seq: u64,
    event: Option<Arc<str>>,
    data: Arc<[u8]>,
    published_at: Timestamp,
    attachment: Option<Attachment>,
}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("channel", &self.channel)
            .field("seq", &self.seq)
            .field("global_seq", &self.global_seq)
            .field("event", &self.event)
            .field("data", &self.data)
            .field("published_at", &self.published_at)
            .field("attachment", &self.attachment.is_some())
            .finish()
    }
}

/// Entries are equal when their messages are: the attachment is the
/// driver's, not part of the message.
impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.channel == other.channel
            && self.seq == other.seq
            && self.global_seq == other.global_seq
            && self.event == other.event
            && self.data == other.data
            && self.published_at == other.published_at
    }
}

impl Eq for Entry {}

impl Entry {
    /// The channel's name.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    /// The sequence number within the channel, from 1.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// The hub-wide publish number (orders messages across channels).
    pub fn global_seq(&self) -> u64 {
        self.global_seq
    }

    /// The event name ([`DEFAULT_EVENT`] when none was given).
    pub fn event(&self) -> &str {
        self.event.as_deref().unwrap_or(DEFAULT_EVENT)
    }

    /// The data.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// The data as the shared allocation it is stored in.
    pub fn shared_data(&self) -> &Arc<[u8]> {
        &self.data
    }

    /// When it was published.
    pub fn published_at(&self) -> Timestamp {
        self.published_at
    }

    /// What the driver stored with it ([`Hub::publish_attached`]).
    pub fn attachment(&self) -> Option<&(dyn Any + Send + Sync)> {
        self.attachment.as_deref()
    }
}

/// What [`Hub::publish`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Published {
    /// The hub's epoch.
    pub epoch: u64,
    /// The message's sequence number within its channel.
    pub seq: u64,
    /// The message's hub-wide publish number.
    pub global_seq: u64,
    /// How many subscribers the channel has (all of them have something to
    /// read now; the ones not already waiting are queued for
    /// [`Hub::poll_ready`]).
    pub reached: usize,
    /// How many messages left the channel's log to make room or by age.
    pub evicted: usize,
    /// The [`SubscriberTag::bit`]s of the channel's subscribers, or-ed.
    pub tags: u32,
}

impl Published {
    /// The cursor after this message for a subscription to its channel alone
    /// (the `id` a publish reply reports).
    pub fn cursor(&self) -> Cursor {
        Cursor::from_trusted(self.epoch, alloc::vec![self.seq])
    }
}

/// Why a subscriber missed messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GapCause {
    /// Its cursor fell off the replay log (count, bytes or age).
    FellOffLog,
    /// Its cursor came from an earlier server life (another epoch): whatever
    /// that life published after the cursor is unknown.
    EpochChanged,
}

/// A subscriber missed messages on a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gap {
    /// The channel's index in the subscription's list.
    pub channel_index: usize,
    /// The channel's name.
    pub channel: Arc<str>,
    /// How many messages of this server life the subscriber can no longer
    /// get (for [`GapCause::EpochChanged`] the earlier life's are not counted).
    pub missed: u64,
    /// Why.
    pub cause: GapCause,
    /// The cursor to continue from (the gap message's `id`).
    pub resume: Cursor,
}

impl Gap {
    /// Append the gap message's `data`, `{"channel":"<name>","missed":<n>}`.
    pub fn write_data(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"{\"channel\":");
        crate::json::write_str(out, &self.channel);
        out.extend_from_slice(b",\"missed\":");
        push_decimal(out, self.missed);
        out.push(b'}');
    }
}

/// One thing a subscriber gets from [`Hub::read`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Delivery {
    /// A message.
    Message {
        /// The shared message.
        entry: Arc<Entry>,
        /// Its channel's index in the subscription's list.
        channel_index: usize,
        /// The subscriber's cursor after it (the message's `id`).
        cursor: Cursor,
    },
    /// Missed messages (send it as a message with event [`GAP_EVENT`]).
    Gap(Gap),
    /// The subscriber fell too far behind a [`DeliveryPolicy::Queue`]
    /// channel: close its connection. It has been unsubscribed; the client
    /// resumes with `resume`.
    Disconnect {
        /// Where the subscriber was.
        resume: Cursor,
    },
}

impl Delivery {
    /// The subscriber's cursor after this item.
    pub fn cursor(&self) -> &Cursor {
        match self {
            Self::Message { cursor, .. } => cursor,
            Self::Gap(gap) => &gap.resume,
            Self::Disconnect { resume } => resume,
        }
    }

    /// The message a subscriber is sent for this item: the message itself,
    /// or for a gap a message with event [`GAP_EVENT`] and [`Gap::write_data`]
    /// as its data; `None` for a disconnect (nothing is sent).
    pub fn message(&self) -> Option<MessageRef<'_>> {
        match self {
            Self::Message { entry, cursor, .. } => Some(MessageRef {
                id: cursor,
                channel: entry.channel(),
                event: entry.event(),
                data: Cow::Borrowed(entry.data()),
            }),
            Self::Gap(gap) => {
                let mut data = Vec::new();
                gap.write_data(&mut data);
                Some(MessageRef {
                    id: &gap.resume,
                    channel: &gap.channel,
                    event: GAP_EVENT,
                    data: Cow::Owned(data),
                })
            }
            Self::Disconnect { .. } => None,
        }
    }
}

/// A message as a subscriber is sent it ([`Delivery::message`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRef<'a> {
    /// The subscriber's cursor after it: the message's id.
    pub id: &'a Cursor,
    /// The channel it came from.
    pub channel: &'a str,
    /// The event name.
    pub event: &'a str,
    /// The payload.
    pub data: Cow<'a, [u8]>,
}

/// The answer of [`Hub::read`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadBatch {
    /// Gaps first (in channel order), then messages in publish order.
    pub items: Vec<Delivery>,
    /// Whether more is ready to read now (the batch limit was reached).
    pub more: bool,
    /// How many messages [`DeliveryPolicy::Latest`] channels skipped.
    pub skipped: u64,
}

/// Numbers about one channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelInfo {
    /// How many subscriptions include it.
    pub subscribers: usize,
    /// The sequence number of its newest message (0 = none yet).
    pub last_seq: u64,
    /// Messages in its replay log.
    pub log_len: usize,
    /// Data bytes in its replay log.
    pub log_bytes: usize,
    /// Messages subscribers skipped under [`DeliveryPolicy::Latest`].
    pub skipped: u64,
    /// Messages that left its log (count, bytes or age).
    pub evicted: u64,
}

/// Why the hub refused a request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HubError {
    /// Channel names are 1 to [`MAX_CHANNEL_NAME_LEN`] bytes: this one is empty.
    ChannelNameEmpty,
    /// Channel names are at most [`MAX_CHANNEL_NAME_LEN`] bytes.
    ChannelNameTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Channel names use only `A-Z a-z 0-9 _ . : @ ~ -`.
    ChannelNameCharacter {
        /// Byte offset of the character.
        at: usize,
        /// The character.
        found: char,
    },
    /// Event names are 1 to [`MAX_EVENT_NAME_LEN`] bytes: this one is empty.
    EventNameEmpty,
    /// Event names are at most [`MAX_EVENT_NAME_LEN`] bytes.
    EventNameTooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// Event names contain no control characters (they would break SSE lines).
    EventNameControl {
        /// Byte offset of the character.
        at: usize,
    },
    /// The event name [`GAP_EVENT`] is reserved for gap notices.
    EventNameReserved,
    /// The message data is larger than the hub's or the channel's limit.
    MessageTooLarge {
        /// Its size in bytes.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Creating the channel would exceed [`HubConfig::max_channels`].
    TooManyChannels {
        /// The limit.
        max: usize,
    },
    /// A subscription needs at least one channel.
    NoChannels,
    /// The subscription names more channels than
    /// [`HubConfig::max_channels_per_subscription`].
    SubscriptionTooLarge {
        /// Channels named.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The subscription names a channel twice.
    DuplicateChannel {
        /// The second occurrence's index.
        index: usize,
    },
    /// Subscribing would exceed [`HubConfig::max_subscribers`].
    TooManySubscribers {
        /// The limit.
        max: usize,
    },
    /// No subscriber has this id (never was, unsubscribed, or disconnected).
    UnknownSubscriber(SubscriberId),
    /// The cursor has a different number of positions than the subscription
    /// has channels (cursors are relative to the channel list).
    CursorChannelCount {
        /// Channels in the subscription.
        expected: usize,
        /// Positions in the cursor.
        found: usize,
    },
    /// The cursor is of this epoch but beyond a channel's newest message.
    CursorAhead {
        /// The channel's index in the subscription's list.
        channel_index: usize,
        /// The cursor's position.
        position: u64,
        /// The channel's newest sequence number.
        last_seq: u64,
    },
}

impl fmt::Display for HubError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ChannelNameEmpty => f.write_str("channel name is empty"),
            Self::ChannelNameTooLong { len } => write!(
                f,
                "channel name is {len} bytes long, more than {MAX_CHANNEL_NAME_LEN}"
            ),
            Self::ChannelNameCharacter { at, found } => write!(
                f,
                "channel name has {found:?} at byte {at}; only A-Z a-z 0-9 _ . : @ ~ - are allowed"
            ),
            Self::EventNameEmpty => f.write_str("event name is empty"),
            Self::EventNameTooLong { len } => {
                write!(
                    f,
                    "event name is {len} bytes long, more than {MAX_EVENT_NAME_LEN}"
                )
            }
            Self::EventNameControl { at } => {
                write!(f, "event name has a control character at byte {at}")
            }
            Self::EventNameReserved => {
                write!(f, "event name {GAP_EVENT:?} is reserved for gap notices")
            }
            Self::MessageTooLarge { size, max } => {
                write!(f, "message is {size} bytes, more than the limit of {max}")
            }
            Self::TooManyChannels { max } => {
                write!(f, "the hub already has its maximum of {max} channels")
            }
            Self::NoChannels => f.write_str("a subscription needs at least one channel"),
            Self::SubscriptionTooLarge { count, max } => {
                write!(f, "subscription names {count} channels, more than {max}")
            }
            Self::DuplicateChannel { index } => {
                write!(f, "subscription names channel {index} a second time")
            }
            Self::TooManySubscribers { max } => {
                write!(f, "the hub already has its maximum of {max} subscribers")
            }
            Self::UnknownSubscriber(id) => write!(f, "no subscriber has id {}", id.0),
            Self::CursorChannelCount { expected, found } => write!(
                f,
                "cursor has {found} positions but the subscription has {expected} channels"
            ),
            Self::CursorAhead {
                channel_index,
                position,
                last_seq,
            } => write!(
                f,
                "cursor position {position} for channel {channel_index} is beyond its newest message {last_seq}"
            ),
        }
    }
}

impl core::error::Error for HubError {}

/// Check a channel name: 1 to [`MAX_CHANNEL_NAME_LEN`] bytes of
/// `[A-Za-z0-9_.:@~-]` (safe in URL paths and query strings unescaped, and
/// no `,` so a list of channels can be comma-separated).
///
/// # Errors
/// [`HubError::ChannelNameEmpty`], [`HubError::ChannelNameTooLong`] or
/// [`HubError::ChannelNameCharacter`].
pub fn validate_channel_name(name: &str) -> Result<(), HubError> {
    if name.is_empty() {
        return Err(HubError::ChannelNameEmpty);
    }
    if name.len() > MAX_CHANNEL_NAME_LEN {
        return Err(HubError::ChannelNameTooLong { len: name.len() });
    }
    let allowed =
        |ch: char| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | ':' | '@' | '~' | '-');
    match name.char_indices().find(|&(_, ch)| !allowed(ch)) {
        Some((at, found)) => Err(HubError::ChannelNameCharacter { at, found }),
        None => Ok(()),
    }
}

/// Check an event name: 1 to [`MAX_EVENT_NAME_LEN`] bytes, no control
/// characters, not [`GAP_EVENT`].
///
/// # Errors
/// [`HubError::EventNameEmpty`], [`HubError::EventNameTooLong`],
/// [`HubError::EventNameControl`] or [`HubError::EventNameReserved`].
pub fn validate_event_name(event: &str) -> Result<(), HubError> {
    if event.is_empty() {
        return Err(HubError::EventNameEmpty);
    }
    if event.len() > MAX_EVENT_NAME_LEN {
        return Err(HubError::EventNameTooLong { len: event.len() });
    }
    if let Some((at, _)) = event.char_indices().find(|&(_, ch)| ch.is_control()) {
        return Err(HubError::EventNameControl { at });
    }
    if event == GAP_EVENT {
        return Err(HubError::EventNameReserved);
    }
    Ok(())
}

/// A channel and its replay log.
#[derive(Debug)]
struct Channel {
    name: Arc<str>,
    config: ChannelConfig,
    /// Consecutive sequence numbers, oldest first.
    log: VecDeque<Arc<Entry>>,
    log_bytes: usize,
    last_seq: u64,
    subscribers: BTreeSet<u32>,
    skipped: u64,
    evicted: u64,
    /// This channel's key in `Hub::expiries`.
    expiry: Option<Timestamp>,
}

impl Channel {
    fn new(name: &str, config: ChannelConfig) -> Self {
        Self {
            name: Arc::from(name),
            config,
            log: VecDeque::new(),
            log_bytes: 0,
            last_seq: 0,
            subscribers: BTreeSet::new(),
            skipped: 0,
            evicted: 0,
            expiry: None,
        }
    }

    /// The sequence number of the oldest message kept (`last_seq + 1` when
    /// the log is empty).
    fn first_retained(&self) -> u64 {
        self.log
            .front()
            .map_or(self.last_seq.saturating_add(1), |entry| entry.seq)
    }

    /// The message after `position`, if the log holds it.
    fn entry_after(&self, position: u64) -> Option<&Arc<Entry>> {
        let offset = position
            .checked_add(1)?
            .checked_sub(self.first_retained())?;
        self.log.get(usize::try_from(offset).ok()?)
    }

    /// Drop messages beyond the count and byte bounds, and (with `now`) the
    /// ones past their age. Returns how many left.
    fn evict(&mut self, now: Option<Timestamp>) -> usize {
        let mut evicted = 0;
        while let Some(front) = self.log.front() {
            let expired = match (now, self.config.max_age) {
                (Some(now), Some(age)) => front.published_at.saturating_add(age) <= now,
                _ => false,
            };
            let over =
                self.log.len() > self.config.max_count || self.log_bytes > self.config.max_bytes;
            if !(expired || over) {
                break;
            }
            if let Some(entry) = self.log.pop_front() {
                self.log_bytes = self.log_bytes.saturating_sub(entry.data.len());
                evicted += 1;
            }
        }
        self.evicted = self.evicted.saturating_add(evicted as u64);
        evicted
    }
}

/// Keep `expiries` holding the time the channel's oldest message expires.
fn refresh_expiry(
    expiries: &mut BTreeSet<(Timestamp, usize)>,
    channel: &mut Channel,
    index: usize,
) {
    let next = match (channel.config.max_age, channel.log.front()) {
        (Some(age), Some(front)) => Some(front.published_at.saturating_add(age)),
        _ => None,
    };
    if next != channel.expiry {
        if let Some(old) = channel.expiry {
            expiries.remove(&(old, index));
        }
        if let Some(new) = next {
            expiries.insert((new, index));
        }
        channel.expiry = next;
    }
}

/// A subscriber's place in one channel.
#[derive(Clone, Copy, Debug)]
struct Slot {
    channel: usize,
    position: u64,
    /// Caught up with the channel at least once since subscribing: from now
    /// on the `Queue` lag limit applies.
    live: bool,
    /// Owes an epoch-changed gap notice.
    epoch_gap: bool,
}

#[derive(Debug)]
struct Subscriber {
    slots: Vec<Slot>,
    /// Queued in `Hub::ready` and not yet polled.
    ready: bool,
    tag: SubscriberTag,
}

/// Channels, replay logs and subscribers; see the [module docs](self).
#[derive(Debug)]
pub struct Hub {
    config: HubConfig,
    epoch: u64,
    channels: Vec<Channel>,
    channel_ids: BTreeMap<Arc<str>, usize>,
    subscribers: BTreeMap<u32, Subscriber>,
    next_subscriber: u32,
    ready: VecDeque<SubscriberId>,
    /// (when the oldest message expires, channel index) for channels with a
    /// `max_age` and a non-empty log.
    expiries: BTreeSet<(Timestamp, usize)>,
    global_seq: u64,
}

impl Hub {
    /// Make an empty hub. `epoch` must differ between server lives (boot
    /// time in seconds, or a random number) so old cursors are recognised.
    pub fn new(config: HubConfig, epoch: u64) -> Self {
        Self {
            config,
            epoch,
            channels: Vec::new(),
            channel_ids: BTreeMap::new(),
            subscribers: BTreeMap::new(),
            next_subscriber: 0,
            ready: VecDeque::new(),
            expiries: BTreeSet::new(),
            global_seq: 0,
        }
    }

    /// The epoch given to [`Hub::new`].
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The configuration given to [`Hub::new`].
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// How many channels exist.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// How many subscribers exist.
    pub fn subscriber_count(&self) -> usize {
        self.subscribers.len()
    }

    /// Numbers about a channel, or `None` if it does not exist.
    pub fn channel_info(&self, name: &str) -> Option<ChannelInfo> {
        let channel = self.channels.get(*self.channel_ids.get(name)?)?;
        Some(ChannelInfo {
            subscribers: channel.subscribers.len(),
            last_seq: channel.last_seq,
            log_len: channel.log.len(),
            log_bytes: channel.log_bytes,
            skipped: channel.skipped,
            evicted: channel.evicted,
        })
    }

    /// The newest message a channel's log still holds, or `None` if the
    /// channel does not exist or its log is empty (never published, or
    /// everything evicted).
    ///
    /// Call it to answer "what is on this channel now" without subscribing:
    /// a webcam snapshot is the newest frame.
    pub fn newest(&self, channel: &str) -> Option<Arc<Entry>> {
        let channel = self.channels.get(*self.channel_ids.get(channel)?)?;
        channel.log.back().cloned()
    }

    /// A subscriber's current cursor, or `None` if it does not exist.
    pub fn cursor(&self, id: SubscriberId) -> Option<Cursor> {
        let subscriber = self.subscribers.get(&id.0)?;
        Some(cursor_of(self.epoch, &subscriber.slots))
    }

    /// Set a channel's bounds and policy, creating it if needed.
    ///
    /// Call before the channel's first use (or any time: a smaller count or
    /// byte bound applies at once, a new age at the next
    /// [`Hub::handle_timeout`]).
    ///
    /// # Errors
    /// A channel-name error, or [`HubError::TooManyChannels`].
    pub fn configure_channel(&mut self, name: &str, config: ChannelConfig) -> Result<(), HubError> {
        validate_channel_name(name)?;
        let index = self.channel_index_or_create(name)?;
        if let Some(channel) = self.channels.get_mut(index) {
            channel.config = config;
            channel.evict(None);
            refresh_expiry(&mut self.expiries, channel, index);
        }
        Ok(())
    }

    /// Append a message to a channel's log (creating the channel if needed)
    /// and queue its subscribers for [`Hub::poll_ready`].
    ///
    /// `event` is the event name ([`DEFAULT_EVENT`] for plain messages).
    /// `data` may be an `Arc<[u8]>` already shared with others (no copy), a
    /// `Vec<u8>` or a `&[u8]` (copied once). Messages past their age in any
    /// channel are evicted too.
    ///
    /// # Errors
    /// A channel- or event-name error, [`HubError::MessageTooLarge`] (the
    /// limit is the smaller of [`HubConfig::max_message_bytes`] and the
    /// channel's `max_bytes`), or [`HubError::TooManyChannels`].
    pub fn publish(
        &mut self,
        channel: &str,
        event: &str,
        data: impl Into<Arc<[u8]>>,
        now: Timestamp,
    ) -> Result<Published, HubError> {
        self.publish_attached(channel, event, data, None, now)
    }

    /// [`Hub::publish`], keeping `attachment` with the entry for its readers
    /// ([`Entry::attachment`]).
    ///
    /// # Errors
    /// As [`Hub::publish`]; the attachment is dropped then.
    pub fn publish_attached(
        &mut self,
        channel: &str,
        event: &str,
        data: impl Into<Arc<[u8]>>,
        attachment: Option<Attachment>,
        now: Timestamp,
    ) -> Result<Published, HubError> {
        validate_channel_name(channel)?;
        if event != DEFAULT_EVENT {
            validate_event_name(event)?;
        }
        let data: Arc<[u8]> = data.into();
        let channel_max = self
            .channel_ids
            .get(channel)
            .and_then(|&index| self.channels.get(index))
            .map_or(self.config.channel.max_bytes, |c| c.config.max_bytes);
        let max = self.config.max_message_bytes.min(channel_max);
        if data.len() > max {
            return Err(HubError::MessageTooLarge {
                size: data.len(),
                max,
            });
        }
        let index = self.channel_index_or_create(channel)?;
        self.global_seq = self.global_seq.saturating_add(1);
        let global_seq = self.global_seq;
        let epoch = self.epoch;
        let max_channels = self.config.max_channels;
        let Hub {
            channels,
            subscribers,
            ready,
            expiries,
            ..
        } = self;
        let Some(target) = channels.get_mut(index) else {
            return Err(HubError::TooManyChannels { max: max_channels });
        };
        target.last_seq = target.last_seq.saturating_add(1);
        let size = data.len();
        target.log.push_back(Arc::new(Entry {
            channel: Arc::clone(&target.name),
            seq: target.last_seq,
            global_seq,
            event: (event != DEFAULT_EVENT).then(|| Arc::from(event)),
            data,
            published_at: now,
            attachment,
        }));
        target.log_bytes = target.log_bytes.saturating_add(size);
        let evicted = target.evict(Some(now));
        refresh_expiry(expiries, target, index);
        let mut tags = 0;
        for &id in &target.subscribers {
            tags |= mark_ready(subscribers, ready, id);
        }
        let published = Published {
            epoch,
            seq: target.last_seq,
            global_seq,
            reached: target.subscribers.len(),
            evicted,
            tags,
        };
        self.handle_timeout(now);
        Ok(published)
    }

    /// Subscribe to `channels` (creating missing ones), starting `from`.
    ///
    /// The subscriber is queued for [`Hub::poll_ready`] at once if it has
    /// something to read. Nothing changes when an error is returned.
    ///
    /// # Errors
    /// [`HubError::NoChannels`], [`HubError::SubscriptionTooLarge`],
    /// [`HubError::DuplicateChannel`], a channel-name error,
    /// [`HubError::TooManySubscribers`], [`HubError::TooManyChannels`],
    /// [`HubError::CursorChannelCount`] or [`HubError::CursorAhead`].
    pub fn subscribe<S: AsRef<str>>(
        &mut self,
        channels: &[S],
        from: StartFrom,
    ) -> Result<SubscriberId, HubError> {
        self.subscribe_tagged(channels, from, SubscriberTag::NONE)
    }

    /// [`Hub::subscribe`] with a tag that publishes to its channels report
    /// ([`Published::tags`]).
    ///
    /// # Errors
    /// As [`Hub::subscribe`].
    pub fn subscribe_tagged<S: AsRef<str>>(
        &mut self,
        channels: &[S],
        from: StartFrom,
        tag: SubscriberTag,
    ) -> Result<SubscriberId, HubError> {
        if channels.is_empty() {
            return Err(HubError::NoChannels);
        }
        let max = self.config.max_channels_per_subscription.min(MAX_POSITIONS);
        if channels.len() > max {
            return Err(HubError::SubscriptionTooLarge {
                count: channels.len(),
                max,
            });
        }
        let mut missing = 0;
        for (index, name) in channels.iter().enumerate() {
            let name = name.as_ref();
            validate_channel_name(name)?;
            if channels
                .iter()
                .take(index)
                .any(|earlier| earlier.as_ref() == name)
            {
                return Err(HubError::DuplicateChannel { index });
            }
            if !self.channel_ids.contains_key(name) {
                missing += 1;
            }
        }
        if self.subscribers.len() >= self.config.max_subscribers {
            return Err(HubError::TooManySubscribers {
                max: self.config.max_subscribers,
            });
        }
        if self.channels.len().saturating_add(missing) > self.config.max_channels {
            return Err(HubError::TooManyChannels {
                max: self.config.max_channels,
            });
        }
        if let StartFrom::Cursor(cursor) = &from {
            if cursor.len() != channels.len() {
                return Err(HubError::CursorChannelCount {
                    expected: channels.len(),
                    found: cursor.len(),
                });
            }
            if cursor.epoch() == self.epoch {
                for (channel_index, (name, &position)) in
                    channels.iter().zip(cursor.positions()).enumerate()
                {
                    let last_seq = self
                        .channel_info(name.as_ref())
                        .map_or(0, |info| info.last_seq);
                    if position > last_seq {
                        return Err(HubError::CursorAhead {
                            channel_index,
                            position,
                            last_seq,
                        });
                    }
                }
            }
        }

        let id = self.free_subscriber_id();
        let mut slots = Vec::with_capacity(channels.len());
        for (index, name) in channels.iter().enumerate() {
            let channel_index = self.channel_index_or_create(name.as_ref())?;
            let Some(channel) = self.channels.get_mut(channel_index) else {
                return Err(HubError::TooManyChannels {
                    max: self.config.max_channels,
                });
            };
            let (position, epoch_gap) = match &from {
                StartFrom::Oldest => (channel.first_retained().saturating_sub(1), false),
                StartFrom::Newest => (channel.last_seq, false),
                StartFrom::Last => (
                    channel
                        .last_seq
                        .saturating_sub(1)
                        .max(channel.first_retained().saturating_sub(1)),
                    false,
                ),
                StartFrom::Cursor(cursor) if cursor.epoch() == self.epoch => {
                    (cursor.position(index).unwrap_or(0), false)
                }
                StartFrom::Cursor(_) => (0, true),
            };
            channel.subscribers.insert(id.0);
            slots.push(Slot {
                channel: channel_index,
                position,
                live: position >= channel.last_seq && !epoch_gap,
                epoch_gap,
            });
        }
        let has_something = slots.iter().any(|slot| {
            slot.epoch_gap
                || self
                    .channels
                    .get(slot.channel)
                    .is_some_and(|c| slot.position < c.last_seq)
        });
        self.subscribers.insert(
            id.0,
            Subscriber {
                slots,
                ready: false,
                tag,
            },
        );
        if has_something {
            mark_ready(&mut self.subscribers, &mut self.ready, id.0);
        }
        Ok(id)
    }

    /// Remove a subscriber. Returns whether it existed.
    pub fn unsubscribe(&mut self, id: SubscriberId) -> bool {
        let Some(subscriber) = self.subscribers.remove(&id.0) else {
            return false;
        };
        for slot in &subscriber.slots {
            if let Some(channel) = self.channels.get_mut(slot.channel) {
                channel.subscribers.remove(&id.0);
            }
        }
        true
    }

    /// Read what the subscriber gets now, and advance its cursor past it.
    ///
    /// Returns gaps first (they do not count toward `max_batch`), then up to
    /// `max_batch` messages (at least one) in publish order across the
    /// subscription's channels, each with the cursor after it. An empty batch
    /// means nothing is waiting. A [`Delivery::Disconnect`] comes alone and
    /// removes the subscriber. Call again while [`ReadBatch::more`] is true.
    ///
    /// # Errors
    /// [`HubError::UnknownSubscriber`].
    pub fn read(&mut self, id: SubscriberId, max_batch: usize) -> Result<ReadBatch, HubError> {
        let max_batch = max_batch.max(1);
        let epoch = self.epoch;
        let Some(subscriber) = self.subscribers.get_mut(&id.0) else {
            return Err(HubError::UnknownSubscriber(id));
        };
        let channels = &mut self.channels;

        // A caught-up subscriber that fell behind a Queue channel's lag.
        let lagging = subscriber.slots.iter().any(|slot| {
            let Some(channel) = channels.get(slot.channel) else {
                return false;
            };
            match channel.config.policy {
                DeliveryPolicy::Queue { max_lag } => {
                    slot.live && channel.last_seq.saturating_sub(slot.position) > max_lag
                }
                DeliveryPolicy::Latest => false,
            }
        });
        if lagging {
            let resume = cursor_of(epoch, &subscriber.slots);
            self.unsubscribe(id);
            return Ok(ReadBatch {
                items: alloc::vec![Delivery::Disconnect { resume }],
                more: false,
                skipped: 0,
            });
        }

        let mut batch = ReadBatch::default();
        for channel_index in 0..subscriber.slots.len() {
            let Some(slot) = subscriber.slots.get_mut(channel_index) else {
                break;
            };
            let Some(channel) = channels.get_mut(slot.channel) else {
                continue;
            };
            let first = channel.first_retained();
            let behind_log = slot.position.saturating_add(1) < first;
            let latest = channel.config.policy == DeliveryPolicy::Latest;
            let cause = if slot.epoch_gap {
                Some(GapCause::EpochChanged)
            } else if behind_log && !latest {
                Some(GapCause::FellOffLog)
            } else {
                None
            };
            let missed = first.saturating_sub(slot.position.saturating_add(1));
            slot.epoch_gap = false;
            if cause.is_some() {
                slot.position = slot.position.max(first.saturating_sub(1));
            }
            if latest {
                let target = channel
                    .last_seq
                    .saturating_sub(1)
                    .max(first.saturating_sub(1));
                if target > slot.position {
                    let skipped = target - slot.position;
                    slot.position = target;
                    channel.skipped = channel.skipped.saturating_add(skipped);
                    batch.skipped = batch.skipped.saturating_add(skipped);
                }
            }
            if let Some(cause) = cause {
                let name = Arc::clone(&channel.name);
                batch.items.push(Delivery::Gap(Gap {
                    channel_index,
                    channel: name,
                    missed,
                    cause,
                    resume: cursor_of(epoch, &subscriber.slots),
                }));
            }
        }

        let mut messages = 0;
        while messages < max_batch {
            let mut next: Option<(usize, &Arc<Entry>)> = None;
            for (index, slot) in subscriber.slots.iter().enumerate() {
                let Some(entry) = channels
                    .get(slot.channel)
                    .and_then(|c| c.entry_after(slot.position))
                else {
                    continue;
                };
                if next.is_none_or(|(_, best)| entry.global_seq < best.global_seq) {
                    next = Some((index, entry));
                }
            }
            let Some((channel_index, entry)) = next else {
                break;
            };
            let entry = Arc::clone(entry);
            if let Some(slot) = subscriber.slots.get_mut(channel_index) {
                slot.position = entry.seq;
            }
            batch.items.push(Delivery::Message {
                entry,
                channel_index,
                cursor: cursor_of(epoch, &subscriber.slots),
            });
            messages += 1;
        }

        for slot in &mut subscriber.slots {
            let Some(channel) = channels.get(slot.channel) else {
                continue;
            };
            if channel.entry_after(slot.position).is_some() {
                batch.more = true;
            } else {
                slot.live = true;
            }
        }
        Ok(batch)
    }

    /// The next subscriber with something to read, once per wake-up: an id
    /// is queued again only by a later publish (or new subscription).
    /// Ids of subscribers removed since they were queued are skipped.
    pub fn poll_ready(&mut self) -> Option<SubscriberId> {
        while let Some(id) = self.ready.pop_front() {
            if let Some(subscriber) = self.subscribers.get_mut(&id.0)
                && subscriber.ready
            {
                subscriber.ready = false;
                return Some(id);
            }
        }
        None
    }

    /// Evict messages past their channel's `max_age`.
    ///
    /// Call when [`Hub::poll_timeout`] is due (calling early or late is
    /// harmless).
    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some(&(at, index)) = self.expiries.first() {
            if at > now {
                break;
            }
            let Some(channel) = self.channels.get_mut(index) else {
                self.expiries.remove(&(at, index));
                continue;
            };
            channel.evict(Some(now));
            refresh_expiry(&mut self.expiries, channel, index);
        }
    }

    /// When the next message expires, if any channel has one with an age.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.expiries.first().map(|&(at, _)| at)
    }

    fn channel_index_or_create(&mut self, name: &str) -> Result<usize, HubError> {
        if let Some(&index) = self.channel_ids.get(name) {
            return Ok(index);
        }
        if self.channels.len() >= self.config.max_channels {
            return Err(HubError::TooManyChannels {
                max: self.config.max_channels,
            });
        }
        let config = self
            .config
            .channel_rules
            .iter()
            .find(|rule| rule.matches(name))
            .map_or(self.config.channel, |rule| rule.config);
        let channel = Channel::new(name, config);
        let index = self.channels.len();
        self.channel_ids.insert(Arc::clone(&channel.name), index);
        self.channels.push(channel);
        Ok(index)
    }

    fn free_subscriber_id(&mut self) -> SubscriberId {
        // `max_subscribers` below 2^32 leaves a free id; the wrap keeps ids
        // fresh for a long time before one is reused.
        while self.subscribers.contains_key(&self.next_subscriber) {
            self.next_subscriber = self.next_subscriber.wrapping_add(1);
        }
        let id = SubscriberId(self.next_subscriber);
        self.next_subscriber = self.next_subscriber.wrapping_add(1);
        id
    }
}

/// Queue subscriber `id` for [`Hub::poll_ready`] unless it is queued; its
/// tag's bit (0 if it does not exist).
fn mark_ready(
    subscribers: &mut BTreeMap<u32, Subscriber>,
    ready: &mut VecDeque<SubscriberId>,
    id: u32,
) -> u32 {
    let Some(subscriber) = subscribers.get_mut(&id) else {
        return 0;
    };
    if !subscriber.ready {
        subscriber.ready = true;
        ready.push_back(SubscriberId(id));
    }
    subscriber.tag.bit()
}

fn cursor_of(epoch: u64, slots: &[Slot]) -> Cursor {
    Cursor::from_trusted(epoch, slots.iter().map(|slot| slot.position).collect())
}

/// Append `value` in decimal.
pub(crate) fn push_decimal(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        if let Some(slot) = digits.get_mut(start) {
            *slot = b'0' + (value % 10) as u8;
        }
        value /= 10;
        if value == 0 || start == 0 {
            break;
        }
    }
    out.extend_from_slice(digits.get(start..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cursor::advanced_channel;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use proptest::prelude::*;

    const EPOCH: u64 = 7;

    fn at(millis: u64) -> Timestamp {
        Timestamp::from_millis(millis)
    }

    fn hub_with(channel: ChannelConfig) -> Hub {
        Hub::new(
            HubConfig {
                channel,
                ..HubConfig::default()
            },
            EPOCH,
        )
    }

    fn unbounded() -> ChannelConfig {
        ChannelConfig {
            max_count: usize::MAX,
            max_bytes: usize::MAX,
            max_age: None,
            policy: DeliveryPolicy::Queue { max_lag: u64::MAX },
        }
    }

    #[test]
    fn starting_at_the_last_message_delivers_it_first() {
        let mut hub = hub_with(unbounded());
        let empty = hub.subscribe(&["cam"], StartFrom::Last).unwrap();
        assert!(hub.read(empty, 8).unwrap().items.is_empty(), "nothing yet");
        for frame in [b"1", b"2", b"3"] {
            hub.publish("cam", DEFAULT_EVENT, frame.as_slice(), at(0))
                .unwrap();
        }
        let viewer = hub.subscribe(&["cam"], StartFrom::Last).unwrap();
        let batch = hub.read(viewer, 8).unwrap();
        let data: Vec<&[u8]> = batch
            .items
            .iter()
            .filter_map(|item| match item {
                Delivery::Message { entry, .. } => Some(entry.data()),
                _ => None,
            })
            .collect();
        assert_eq!(data, [b"3".as_slice()]);
    }

    #[test]
    fn a_publish_reports_the_tags_of_its_channels_subscribers() {
        let mut hub = hub_with(unbounded());
        let tag = |n| SubscriberTag::new(n).unwrap();
        hub.subscribe_tagged(&["a"], StartFrom::Newest, tag(1))
            .unwrap();
        hub.subscribe_tagged(&["a", "b"], StartFrom::Newest, tag(3))
            .unwrap();
        hub.subscribe(&["b"], StartFrom::Newest).unwrap();
        let published = hub
            .publish("a", DEFAULT_EVENT, b"x".as_slice(), at(0))
            .unwrap();
        assert_eq!(published.tags, 0b1010);
        let published = hub
            .publish("b", DEFAULT_EVENT, b"x".as_slice(), at(0))
            .unwrap();
        assert_eq!(published.tags, 0b1001, "tag 3 and the untagged subscriber");
        let published = hub
            .publish("c", DEFAULT_EVENT, b"x".as_slice(), at(0))
            .unwrap();
        assert_eq!(published.tags, 0, "nobody listens on c");
        assert_eq!(SubscriberTag::new(SubscriberTag::MAX + 1), None);
    }

    #[test]
    fn an_attachment_reaches_readers_and_leaves_the_log_with_its_entry() {
        let mut hub = hub_with(ChannelConfig {
            max_count: 1,
            ..unbounded()
        });
        let reader = hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        let framed: Attachment = Arc::new(String::from("framed"));
        hub.publish_attached(
            "a",
            DEFAULT_EVENT,
            b"x".as_slice(),
            Some(Arc::clone(&framed)),
            at(0),
        )
        .unwrap();
        let batch = hub.read(reader, 8).unwrap();
        let Some(Delivery::Message { entry, .. }) = batch.items.first() else {
            panic!("a message: {batch:?}");
        };
        let attached = entry
            .attachment()
            .and_then(|any| any.downcast_ref::<String>());
        assert_eq!(attached.map(String::as_str), Some("framed"));
        drop(batch);
        assert_eq!(Arc::strong_count(&framed), 2, "the log holds it");
        hub.publish("a", DEFAULT_EVENT, b"y".as_slice(), at(0))
            .unwrap();
        assert_eq!(Arc::strong_count(&framed), 1, "evicted with its entry");
    }

    fn publish(hub: &mut Hub, channel: &str, data: &str, now: u64) -> u64 {
        hub.publish(channel, DEFAULT_EVENT, data.as_bytes(), at(now))
            .unwrap()
            .seq
    }

    /// Read until nothing is left.
    fn read_all(hub: &mut Hub, id: SubscriberId) -> Vec<Delivery> {
        let mut items = Vec::new();
        loop {
            let batch = hub.read(id, 3).unwrap();
            items.extend(batch.items);
            if !batch.more {
                return items;
            }
        }
    }

    /// Messages as "channel:data", gaps as "gap:channel:missed".
    fn summary(items: &[Delivery]) -> Vec<String> {
        items
            .iter()
            .map(|item| match item {
                Delivery::Message { entry, .. } => {
                    alloc::format!(
                        "{}:{}",
                        entry.channel(),
                        String::from_utf8_lossy(entry.data())
                    )
                }
                Delivery::Gap(gap) => alloc::format!("gap:{}:{}", gap.channel, gap.missed),
                Delivery::Disconnect { resume } => alloc::format!("disconnect:{resume}"),
            })
            .collect()
    }

    #[test]
    fn sequence_ids_count_from_one_per_channel() {
        let mut hub = hub_with(unbounded());
        assert_eq!(publish(&mut hub, "a", "1", 0), 1);
        assert_eq!(publish(&mut hub, "b", "1", 0), 1);
        assert_eq!(publish(&mut hub, "a", "2", 0), 2);
        let third = hub.publish("a", "tick", b"3".as_slice(), at(0)).unwrap();
        assert_eq!((third.seq, third.global_seq, third.epoch), (3, 4, EPOCH));
        assert_eq!(third.cursor().to_string(), "7.3");
    }

    #[test]
    fn reads_merge_channels_in_publish_order() {
        let mut hub = hub_with(unbounded());
        let id = hub.subscribe(&["a", "b", "c"], StartFrom::Newest).unwrap();
        for (channel, data) in [("b", "1"), ("a", "2"), ("b", "3"), ("c", "4"), ("a", "5")] {
            publish(&mut hub, channel, data, 0);
        }
        publish(&mut hub, "other", "x", 0);
        let items = read_all(&mut hub, id);
        assert_eq!(summary(&items), ["b:1", "a:2", "b:3", "c:4", "a:5"]);
        let cursors: Vec<String> = items.iter().map(|i| i.cursor().to_string()).collect();
        assert_eq!(
            cursors,
            ["7.0.1.0", "7.1.1.0", "7.1.2.0", "7.1.2.1", "7.2.2.1"]
        );
    }

    #[test]
    fn advanced_channel_names_the_channel_each_message_came_from() {
        let mut hub = hub_with(unbounded());
        let id = hub.subscribe(&["a", "b"], StartFrom::Newest).unwrap();
        let mut prev = hub.cursor(id).unwrap();
        for channel in ["b", "a", "a", "b"] {
            publish(&mut hub, channel, "x", 0);
        }
        for item in read_all(&mut hub, id) {
            let Delivery::Message {
                channel_index,
                cursor,
                ..
            } = &item
            else {
                panic!()
            };
            assert_eq!(advanced_channel(&prev, cursor), Some(*channel_index));
            prev = cursor.clone();
        }
    }

    #[test]
    fn resuming_from_a_cursor_loses_nothing() {
        let mut hub = hub_with(unbounded());
        let first = hub.subscribe(&["a", "b"], StartFrom::Newest).unwrap();
        publish(&mut hub, "a", "1", 0);
        publish(&mut hub, "b", "2", 0);
        let batch = hub.read(first, 1).unwrap();
        assert!(batch.more);
        let cursor = batch.items[0].cursor().clone();
        hub.unsubscribe(first);
        // Published while no one was connected.
        publish(&mut hub, "a", "3", 0);
        let again = hub
            .subscribe(&["a", "b"], StartFrom::Cursor(cursor))
            .unwrap();
        assert_eq!(summary(&read_all(&mut hub, again)), ["b:2", "a:3"]);
    }

    #[test]
    fn oldest_starts_at_the_oldest_retained_message_without_a_gap() {
        let mut hub = hub_with(ChannelConfig {
            max_count: 2,
            ..unbounded()
        });
        for data in ["1", "2", "3"] {
            publish(&mut hub, "a", data, 0);
        }
        let id = hub.subscribe(&["a"], StartFrom::Oldest).unwrap();
        assert_eq!(summary(&read_all(&mut hub, id)), ["a:2", "a:3"]);
    }

    #[test]
    fn gap_is_reported_exactly_when_the_cursor_fell_off_by_count() {
        let mut hub = hub_with(ChannelConfig {
            max_count: 3,
            ..unbounded()
        });
        for data in ["1", "2", "3", "4", "5"] {
            publish(&mut hub, "a", data, 0);
        }
        // Log holds 3..=5. Cursor at 2: 3 is next, nothing missed.
        let kept = hub
            .subscribe(
                &["a"],
                StartFrom::Cursor(Cursor::new(EPOCH, vec![2]).unwrap()),
            )
            .unwrap();
        assert_eq!(summary(&read_all(&mut hub, kept)), ["a:3", "a:4", "a:5"]);
        // Cursor at 1: message 2 is gone.
        let fell = hub
            .subscribe(
                &["a"],
                StartFrom::Cursor(Cursor::new(EPOCH, vec![1]).unwrap()),
            )
            .unwrap();
        let items = read_all(&mut hub, fell);
        assert_eq!(summary(&items), ["gap:a:1", "a:3", "a:4", "a:5"]);
        let Delivery::Gap(gap) = &items[0] else {
            panic!()
        };
        assert_eq!(
            (gap.cause, gap.resume.to_string().as_str()),
            (GapCause::FellOffLog, "7.2")
        );
        // From the very start: 1 and 2 are gone.
        let zero = hub
            .subscribe(
                &["a"],
                StartFrom::Cursor(Cursor::new(EPOCH, vec![0]).unwrap()),
            )
            .unwrap();
        assert_eq!(summary(&read_all(&mut hub, zero))[0], "gap:a:2");
    }

    #[test]
    fn gap_is_reported_when_the_cursor_fell_off_by_bytes() {
        let mut hub = hub_with(ChannelConfig {
            max_bytes: 10,
            ..unbounded()
        });
        let id = hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        publish(&mut hub, "a", "1234", 0);
        publish(&mut hub, "a", "5678", 0);
        assert_eq!(hub.channel_info("a").unwrap().log_bytes, 8);
        publish(&mut hub, "a", "9abc", 0); // 12 bytes: the first leaves
        let info = hub.channel_info("a").unwrap();
        assert_eq!((info.log_len, info.log_bytes, info.evicted), (2, 8, 1));
        assert_eq!(
            summary(&read_all(&mut hub, id)),
            ["gap:a:1", "a:5678", "a:9abc"]
        );
    }

    #[test]
    fn gap_is_reported_when_the_cursor_fell_off_by_age() {
        let mut hub = hub_with(ChannelConfig {
            max_age: Some(Duration::from_secs(10)),
            ..unbounded()
        });
        let id = hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        publish(&mut hub, "a", "old", 1_000);
        publish(&mut hub, "a", "new", 5_000);
        assert_eq!(hub.poll_timeout(), Some(at(11_000)));
        hub.handle_timeout(at(10_999));
        assert_eq!(hub.channel_info("a").unwrap().log_len, 2);
        hub.handle_timeout(at(11_000));
        assert_eq!(hub.channel_info("a").unwrap().log_len, 1);
        assert_eq!(hub.poll_timeout(), Some(at(15_000)));
        assert_eq!(summary(&read_all(&mut hub, id)), ["gap:a:1", "a:new"]);
        hub.handle_timeout(at(15_000));
        assert_eq!(hub.poll_timeout(), None);
    }

    #[test]
    fn age_eviction_also_happens_on_publish() {
        let mut hub = hub_with(ChannelConfig {
            max_age: Some(Duration::from_secs(1)),
            ..unbounded()
        });
        publish(&mut hub, "a", "1", 0);
        publish(&mut hub, "b", "1", 0);
        let published = hub
            .publish("a", DEFAULT_EVENT, b"2".as_slice(), at(1_000))
            .unwrap();
        assert_eq!(published.evicted, 1);
        // Publishing runs every channel's due expiry.
        assert_eq!(hub.channel_info("b").unwrap().log_len, 0);
        assert_eq!(hub.channel_info("a").unwrap().log_len, 1);
    }

    #[test]
    fn cursor_from_another_epoch_gets_an_epoch_gap_on_every_channel() {
        let mut hub = hub_with(ChannelConfig {
            max_count: 2,
            ..unbounded()
        });
        for data in ["1", "2", "3"] {
            publish(&mut hub, "a", data, 0);
        }
        publish(&mut hub, "b", "x", 0);
        let old = Cursor::new(EPOCH + 1, vec![40, 2]).unwrap();
        let id = hub.subscribe(&["a", "b"], StartFrom::Cursor(old)).unwrap();
        let items = read_all(&mut hub, id);
        assert_eq!(summary(&items), ["gap:a:1", "gap:b:0", "a:2", "a:3", "b:x"]);
        for item in &items[..2] {
            let Delivery::Gap(gap) = item else { panic!() };
            assert_eq!(gap.cause, GapCause::EpochChanged);
            assert_eq!(gap.resume.epoch(), EPOCH);
        }
        // A position beyond the log is fine in another epoch, an error in this one.
        let ahead = Cursor::new(EPOCH, vec![40, 2]).unwrap();
        assert_eq!(
            hub.subscribe(&["a", "b"], StartFrom::Cursor(ahead)),
            Err(HubError::CursorAhead {
                channel_index: 0,
                position: 40,
                last_seq: 3
            })
        );
    }

    #[test]
    fn newest_is_the_last_message_the_log_holds() {
        let mut hub = hub_with(ChannelConfig {
            max_count: 2,
            ..unbounded()
        });
        assert!(hub.newest("cam").is_none());
        hub.subscribe(&["cam"], StartFrom::Newest).unwrap();
        assert!(hub.newest("cam").is_none(), "an empty log has no newest");
        for frame in ["f1", "f2", "f3"] {
            publish(&mut hub, "cam", frame, 0);
        }
        let newest = hub.newest("cam").unwrap();
        assert_eq!((newest.data(), newest.seq()), (&b"f3"[..], 3));
        assert!(hub.newest("other").is_none());
        hub.configure_channel(
            "cam",
            ChannelConfig {
                max_count: 0,
                ..unbounded()
            },
        )
        .unwrap();
        assert!(hub.newest("cam").is_none(), "evicted messages are gone");
    }

    #[test]
    fn latest_policy_skips_to_the_newest_message() {
        let mut hub = hub_with(ChannelConfig {
            policy: DeliveryPolicy::Latest,
            max_count: 2,
            ..unbounded()
        });
        let id = hub.subscribe(&["cam"], StartFrom::Newest).unwrap();
        for frame in ["f1", "f2", "f3", "f4"] {
            publish(&mut hub, "cam", frame, 0);
        }
        let batch = hub.read(id, 10).unwrap();
        assert_eq!(summary(&batch.items), ["cam:f4"]);
        assert_eq!((batch.skipped, batch.more), (3, false));
        publish(&mut hub, "cam", "f5", 0);
        assert_eq!(summary(&hub.read(id, 10).unwrap().items), ["cam:f5"]);
        assert_eq!(hub.channel_info("cam").unwrap().skipped, 3);
    }

    #[test]
    fn queue_policy_disconnects_a_lagging_subscriber_with_a_resumable_cursor() {
        let mut hub = hub_with(ChannelConfig {
            policy: DeliveryPolicy::Queue { max_lag: 2 },
            ..unbounded()
        });
        let id = hub.subscribe(&["q"], StartFrom::Newest).unwrap();
        publish(&mut hub, "q", "1", 0);
        assert_eq!(summary(&read_all(&mut hub, id)), ["q:1"]);
        for data in ["2", "3", "4"] {
            publish(&mut hub, "q", data, 0);
        }
        let batch = hub.read(id, 10).unwrap();
        let [Delivery::Disconnect { resume }] = batch.items.as_slice() else {
            panic!("{batch:?}")
        };
        assert_eq!(resume.to_string(), "7.1");
        assert_eq!(hub.read(id, 10), Err(HubError::UnknownSubscriber(id)));
        assert_eq!(hub.channel_info("q").unwrap().subscribers, 0);
        // Resuming reads the backlog (not disconnected while catching up).
        publish(&mut hub, "q", "5", 0);
        let again = hub
            .subscribe(&["q"], StartFrom::Cursor(resume.clone()))
            .unwrap();
        assert_eq!(
            summary(&read_all(&mut hub, again)),
            ["q:2", "q:3", "q:4", "q:5"]
        );
    }

    #[test]
    fn resuming_after_disconnect_gets_a_gap_when_the_log_moved_on() {
        let mut hub = hub_with(ChannelConfig {
            policy: DeliveryPolicy::Queue { max_lag: 2 },
            max_count: 3,
            ..unbounded()
        });
        let id = hub.subscribe(&["q"], StartFrom::Newest).unwrap();
        assert!(read_all(&mut hub, id).is_empty());
        for data in ["1", "2", "3", "4", "5"] {
            publish(&mut hub, "q", data, 0);
        }
        let batch = hub.read(id, 10).unwrap();
        let [Delivery::Disconnect { resume }] = batch.items.as_slice() else {
            panic!()
        };
        let again = hub
            .subscribe(&["q"], StartFrom::Cursor(resume.clone()))
            .unwrap();
        assert_eq!(
            summary(&read_all(&mut hub, again)),
            ["gap:q:2", "q:3", "q:4", "q:5"]
        );
    }

    #[test]
    fn channel_names_follow_the_documented_rules() {
        // Rule: 1..=128 bytes of [A-Za-z0-9_.:@~-] (validate_channel_name docs).
        let long = "a".repeat(MAX_CHANNEL_NAME_LEN + 1);
        let longest = "a".repeat(MAX_CHANNEL_NAME_LEN);
        let table: &[(&str, Result<(), HubError>)] = &[
            ("chat", Ok(())),
            ("room_1.sub:x@host~v-2", Ok(())),
            (&longest, Ok(())),
            ("", Err(HubError::ChannelNameEmpty)),
            (
                &long,
                Err(HubError::ChannelNameTooLong {
                    len: MAX_CHANNEL_NAME_LEN + 1,
                }),
            ),
            (
                "a,b",
                Err(HubError::ChannelNameCharacter { at: 1, found: ',' }),
            ),
            (
                "a b",
                Err(HubError::ChannelNameCharacter { at: 1, found: ' ' }),
            ),
            (
                "a/b",
                Err(HubError::ChannelNameCharacter { at: 1, found: '/' }),
            ),
            (
                "né",
                Err(HubError::ChannelNameCharacter { at: 1, found: 'é' }),
            ),
        ];
        let mut hub = hub_with(unbounded());
        for (name, expected) in table {
            assert_eq!(validate_channel_name(name), *expected, "{name:?}");
            let published = hub
                .publish(name, DEFAULT_EVENT, b"x".as_slice(), at(0))
                .map(|_| ());
            assert_eq!(published, *expected, "{name:?}");
            if let Err(error) = expected {
                assert!(!error.to_string().is_empty());
            }
        }
    }

    #[test]
    fn event_names_follow_the_documented_rules() {
        // Rule: 1..=64 bytes, no control characters (SSE lines), "gap" reserved
        // (docs/design.md "Wire contracts").
        let long = "e".repeat(MAX_EVENT_NAME_LEN + 1);
        let table: &[(&str, Result<(), HubError>)] = &[
            ("tick", Ok(())),
            ("price update", Ok(())),
            ("", Err(HubError::EventNameEmpty)),
            (
                &long,
                Err(HubError::EventNameTooLong {
                    len: MAX_EVENT_NAME_LEN + 1,
                }),
            ),
            ("a\nb", Err(HubError::EventNameControl { at: 1 })),
            ("a\rb", Err(HubError::EventNameControl { at: 1 })),
            ("gap", Err(HubError::EventNameReserved)),
        ];
        let mut hub = hub_with(unbounded());
        for (event, expected) in table {
            assert_eq!(validate_event_name(event), *expected, "{event:?}");
            let published = hub.publish("c", event, b"x".as_slice(), at(0)).map(|_| ());
            assert_eq!(published, *expected, "{event:?}");
        }
    }

    #[test]
    fn limits_give_clear_errors_and_change_nothing() {
        let config = HubConfig {
            max_channels: 3,
            max_subscribers: 2,
            max_channels_per_subscription: 2,
            max_message_bytes: 8,
            channel: unbounded(),
            channel_rules: Vec::new(),
        };
        let mut hub = Hub::new(config, EPOCH);
        assert_eq!(
            hub.publish("a", "message", vec![0; 9], at(0)),
            Err(HubError::MessageTooLarge { size: 9, max: 8 })
        );
        hub.configure_channel(
            "small",
            ChannelConfig {
                max_bytes: 4,
                ..unbounded()
            },
        )
        .unwrap();
        assert_eq!(
            hub.publish("small", "message", vec![0; 5], at(0)),
            Err(HubError::MessageTooLarge { size: 5, max: 4 })
        );
        let none: [&str; 0] = [];
        assert_eq!(
            hub.subscribe(&none, StartFrom::Newest),
            Err(HubError::NoChannels)
        );
        assert_eq!(
            hub.subscribe(&["a", "b", "c"], StartFrom::Newest),
            Err(HubError::SubscriptionTooLarge { count: 3, max: 2 })
        );
        assert_eq!(
            hub.subscribe(&["a", "a"], StartFrom::Newest),
            Err(HubError::DuplicateChannel { index: 1 })
        );
        assert_eq!(
            hub.subscribe(
                &["a"],
                StartFrom::Cursor(Cursor::new(EPOCH, vec![0, 0]).unwrap())
            ),
            Err(HubError::CursorChannelCount {
                expected: 1,
                found: 2
            })
        );
        hub.subscribe(&["a", "b"], StartFrom::Newest).unwrap();
        assert_eq!(hub.channel_count(), 3);
        assert_eq!(
            hub.subscribe(&["d"], StartFrom::Newest),
            Err(HubError::TooManyChannels { max: 3 })
        );
        assert_eq!(
            hub.publish("d", "message", b"x".as_slice(), at(0)),
            Err(HubError::TooManyChannels { max: 3 })
        );
        hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        assert_eq!(
            hub.subscribe(&["a"], StartFrom::Newest),
            Err(HubError::TooManySubscribers { max: 2 })
        );
        assert_eq!((hub.channel_count(), hub.subscriber_count()), (3, 2));
        assert_eq!(
            hub.read(SubscriberId(99), 1),
            Err(HubError::UnknownSubscriber(SubscriberId(99)))
        );
    }

    #[test]
    fn poll_ready_yields_each_woken_subscriber_once() {
        let mut hub = hub_with(unbounded());
        let a = hub.subscribe(&["x"], StartFrom::Newest).unwrap();
        let b = hub.subscribe(&["x", "y"], StartFrom::Newest).unwrap();
        let other = hub.subscribe(&["z"], StartFrom::Newest).unwrap();
        assert_eq!(hub.poll_ready(), None);
        let published = hub
            .publish("x", DEFAULT_EVENT, b"1".as_slice(), at(0))
            .unwrap();
        assert_eq!(published.reached, 2);
        publish(&mut hub, "y", "2", 0);
        assert_eq!(
            (hub.poll_ready(), hub.poll_ready(), hub.poll_ready()),
            (Some(a), Some(b), None)
        );
        hub.unsubscribe(a);
        publish(&mut hub, "x", "3", 0);
        assert_eq!((hub.poll_ready(), hub.poll_ready()), (Some(b), None));
        assert!(!hub.unsubscribe(a));
        assert!(hub.unsubscribe(other));
    }

    #[test]
    fn messages_are_stored_once_and_shared_with_the_same_cursor() {
        let mut hub = hub_with(unbounded());
        let data: Arc<[u8]> = Arc::from(b"frame".as_slice());
        let a = hub.subscribe(&["cam"], StartFrom::Newest).unwrap();
        let b = hub.subscribe(&["cam"], StartFrom::Newest).unwrap();
        hub.publish("cam", DEFAULT_EVENT, Arc::clone(&data), at(0))
            .unwrap();
        let (first, second) = (read_all(&mut hub, a), read_all(&mut hub, b));
        let (
            Delivery::Message {
                entry: e1,
                cursor: c1,
                ..
            },
            Delivery::Message {
                entry: e2,
                cursor: c2,
                ..
            },
        ) = (&first[0], &second[0])
        else {
            panic!()
        };
        assert!(Arc::ptr_eq(e1, e2));
        assert!(Arc::ptr_eq(e1.shared_data(), &data));
        assert_eq!(c1, c2);
        assert_eq!(
            (e1.event(), e1.seq(), e1.published_at()),
            ("message", 1, at(0))
        );
    }

    #[test]
    fn channel_info_reports_subscribers_and_log() {
        let mut hub = hub_with(unbounded());
        assert_eq!(hub.channel_info("a"), None);
        hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        publish(&mut hub, "a", "abc", 0);
        publish(&mut hub, "a", "de", 0);
        let info = hub.channel_info("a").unwrap();
        assert_eq!(
            info,
            ChannelInfo {
                subscribers: 1,
                last_seq: 2,
                log_len: 2,
                log_bytes: 5,
                skipped: 0,
                evicted: 0
            }
        );
    }

    #[test]
    fn gap_data_is_the_wire_json() {
        // docs/design.md "Wire contracts", Gap: data is {"channel":"<name>","missed":<n>}.
        let gap = Gap {
            channel_index: 0,
            channel: Arc::from("room:1"),
            missed: 12,
            cause: GapCause::FellOffLog,
            resume: Cursor::new(1, vec![13]).unwrap(),
        };
        let mut out = Vec::new();
        gap.write_data(&mut out);
        assert_eq!(out, br#"{"channel":"room:1","missed":12}"#);
    }

    #[test]
    fn batch_limit_leaves_the_rest_for_the_next_read() {
        let mut hub = hub_with(unbounded());
        let id = hub.subscribe(&["a"], StartFrom::Newest).unwrap();
        for data in ["1", "2", "3"] {
            publish(&mut hub, "a", data, 0);
        }
        let first = hub.read(id, 2).unwrap();
        assert_eq!(
            (summary(&first.items), first.more),
            (vec!["a:1".to_string(), "a:2".to_string()], true)
        );
        let zero = hub.read(id, 0).unwrap();
        assert_eq!(
            (summary(&zero.items), zero.more),
            (vec!["a:3".to_string()], false)
        );
        assert_eq!(hub.read(id, 5).unwrap(), ReadBatch::default());
    }

    #[derive(Clone, Debug)]
    enum Op {
        Publish(usize, u8),
        Read(usize),
        Reconnect,
        Tick(u64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0..4usize, any::<u8>()).prop_map(|(c, b)| Op::Publish(c, b)),
            2 => (1..5usize).prop_map(Op::Read),
            1 => Just(Op::Reconnect),
            1 => (0..3_000u64).prop_map(Op::Tick),
        ]
    }

    const NAMES: [&str; 4] = ["a", "b", "c", "other"];

    /// Run `ops` against a hub subscribed to a, b, c; return what was
    /// published on those channels and what the subscriber read.
    fn run_model(hub: &mut Hub, ops: &[Op]) -> (Vec<(usize, u64, u8)>, Vec<Delivery>) {
        let subscription = ["a", "b", "c"];
        let mut id = hub.subscribe(&subscription, StartFrom::Newest).unwrap();
        let mut published = Vec::new();
        let mut read = Vec::new();
        let mut now = 0;
        for op in ops {
            match op {
                Op::Publish(channel, byte) => {
                    let p = hub
                        .publish(NAMES[*channel], DEFAULT_EVENT, vec![*byte], at(now))
                        .unwrap();
                    if *channel < 3 {
                        published.push((*channel, p.seq, *byte));
                    }
                }
                Op::Read(max) => read.extend(hub.read(id, *max).unwrap().items),
                Op::Reconnect => {
                    let cursor = hub.cursor(id).unwrap();
                    hub.unsubscribe(id);
                    id = hub
                        .subscribe(&subscription, StartFrom::Cursor(cursor))
                        .unwrap();
                }
                Op::Tick(millis) => {
                    now += millis;
                    hub.handle_timeout(at(now));
                }
            }
        }
        read.extend(read_all(hub, id));
        (published, read)
    }

    proptest! {
        #[test]
        fn subscriber_reading_to_completion_gets_exactly_what_was_published(
            ops in proptest::collection::vec(op(), 0..60)
        ) {
            let mut hub = hub_with(unbounded());
            let (published, read) = run_model(&mut hub, &ops);
            let got: Vec<(usize, u64, u8)> = read
                .iter()
                .map(|item| match item {
                    Delivery::Message { entry, channel_index, .. } => (*channel_index, entry.seq(), entry.data()[0]),
                    other => panic!("unexpected {other:?}"),
                })
                .collect();
            prop_assert_eq!(got, published);
        }

        #[test]
        fn small_logs_lose_messages_only_as_counted_gaps(
            ops in proptest::collection::vec(op(), 0..80),
            max_count in 1..6usize,
        ) {
            let config = ChannelConfig { max_count, max_age: Some(Duration::from_secs(2)), ..unbounded() };
            let mut hub = hub_with(config);
            let (published, read) = run_model(&mut hub, &ops);
            let mut delivered = [0u64; 3];
            let mut missed = [0u64; 3];
            let mut last_seq = [0u64; 3];
            let mut last_global = 0;
            for item in &read {
                match item {
                    Delivery::Message { entry, channel_index, .. } => {
                        prop_assert!(entry.seq() > last_seq[*channel_index]);
                        prop_assert!(entry.global_seq() > last_global);
                        last_seq[*channel_index] = entry.seq();
                        last_global = entry.global_seq();
                        delivered[*channel_index] += 1;
                    }
                    Delivery::Gap(gap) => {
                        missed[gap.channel_index] += gap.missed;
                        last_global = 0; // gaps restart the publish-order check
                    }
                    Delivery::Disconnect { .. } => panic!("max_lag is unbounded"),
                }
            }
            for channel in 0..3 {
                let count = published.iter().filter(|p| p.0 == channel).count() as u64;
                prop_assert_eq!(delivered[channel] + missed[channel], count, "channel {}", channel);
            }
        }
    }

    #[test]
    fn channel_rules_configure_new_channels_by_pattern_first_match_wins() {
        let latest = ChannelConfig {
            policy: DeliveryPolicy::Latest,
            ..ChannelConfig::default()
        };
        let tiny = ChannelConfig {
            max_count: 1,
            ..ChannelConfig::default()
        };
        let config = HubConfig {
            channel_rules: vec![
                ChannelRule {
                    pattern: "ticker-*".into(),
                    config: latest,
                },
                ChannelRule {
                    pattern: "audit".into(),
                    config: tiny,
                },
                ChannelRule {
                    pattern: "ticker-slow".into(),
                    config: tiny,
                },
            ],
            ..HubConfig::default()
        };
        assert!(config.channel_rules[0].matches("ticker-"));
        assert!(!config.channel_rules[1].matches("audit-2"));
        let mut hub = Hub::new(config, EPOCH);
        for name in ["ticker-slow", "audit", "chat"] {
            for i in 0..3_u8 {
                hub.publish(name, "message", vec![i], at(0)).unwrap();
            }
        }
        // `ticker-*` came first, so `ticker-slow` keeps the default log.
        assert_eq!(hub.channel_info("ticker-slow").unwrap().log_len, 3);
        assert_eq!(hub.channel_info("audit").unwrap().log_len, 1);
        assert_eq!(hub.channel_info("chat").unwrap().log_len, 3);
        // Latest policy: a subscriber from the start skips to the newest.
        let reader = hub.subscribe(&["ticker-slow"], StartFrom::Oldest).unwrap();
        let batch = hub.read(reader, 10).unwrap();
        assert_eq!(batch.items.len(), 1);
        assert_eq!(batch.skipped, 2);
    }
}
