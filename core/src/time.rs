//! Time as a value: the driver's monotonic clock, passed in.

use core::time::Duration;

/// A point on the driver's monotonic clock, in milliseconds.
///
/// Core never reads a clock: drivers pass `now` into every `handle_*` call and
/// core answers deadlines as `Timestamp`s. The origin is whatever the driver
/// chose (process start, page load); only differences matter. Successive
/// values handed to one machine must never decrease.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    /// The clock's origin.
    pub const ZERO: Self = Self(0);

    /// Make a timestamp from milliseconds since the driver's origin.
    pub const fn from_millis(millis: u64) -> Self {
        Self(millis)
    }

    /// Milliseconds since the driver's origin.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Add a duration, saturating at the end of time.
    pub fn saturating_add(self, duration: Duration) -> Self {
        let millis = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(millis))
    }

    /// Time elapsed since `earlier`, or zero when `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_saturates_instead_of_wrapping() {
        let late = Timestamp::from_millis(u64::MAX - 1);
        assert_eq!(
            late.saturating_add(Duration::from_secs(5)).as_millis(),
            u64::MAX
        );
    }

    #[test]
    fn duration_since_a_later_time_is_zero() {
        let a = Timestamp::from_millis(10);
        let b = Timestamp::from_millis(25);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(15));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    }
}
