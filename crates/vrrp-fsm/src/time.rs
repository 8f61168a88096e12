//! Injected monotonic time.
//!
//! The state machine never reads a clock. Every handler takes `now: Instant`, a monotonic
//! microsecond count from an epoch the caller chooses (boot, process start, or zero in a
//! simulator). keepalived keeps its timers in microseconds (`TIMER_HZ` = 1e6), so this
//! resolution reproduces its timer arithmetic exactly.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};
use core::time::Duration;

/// A point in monotonic time, in microseconds since a caller-chosen epoch.
///
/// Use [`Instant::from_std`] to map `std::time::Instant` values onto it (the daemon), or
/// [`Instant::from_micros`] for virtual time (simulators, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Instant(u64);

impl Instant {
    /// The epoch.
    pub const ZERO: Instant = Instant(0);

    /// An instant `micros` microseconds after the epoch.
    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    /// Microseconds since the epoch.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Maps a `std::time::Instant` onto this type, counting from `origin` (saturating at the
    /// epoch for instants before `origin`). This does not read the clock.
    pub fn from_std(origin: std::time::Instant, now: std::time::Instant) -> Self {
        let d = now.saturating_duration_since(origin);
        Instant(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    /// The `std::time::Instant` this instant corresponds to, given the `origin` used in
    /// [`Instant::from_std`].
    pub fn to_std(self, origin: std::time::Instant) -> std::time::Instant {
        origin + Duration::from_micros(self.0)
    }

    /// Time elapsed from `earlier` to `self`, or zero if `earlier` is later.
    pub const fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_micros(self.0.saturating_sub(earlier.0))
    }

    /// `self + micros` microseconds, saturating.
    #[inline]
    pub const fn saturating_add_us(self, micros: u64) -> Instant {
        Instant(self.0.saturating_add(micros))
    }

    /// `self + micros` microseconds, saturating.
    #[inline]
    pub(crate) const fn plus_us(self, micros: u64) -> Instant {
        Instant(self.0.saturating_add(micros))
    }
}

/// Whole microseconds in a duration, saturating.
pub(crate) fn duration_us(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, rhs: Duration) -> Instant {
        self.plus_us(duration_us(rhs))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    /// Saturating: an earlier minus a later instant is zero.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    /// Saturating at the epoch.
    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0.saturating_sub(duration_us(rhs)))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:06}s", self.0 / 1_000_000, self.0 % 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_round_trips() {
        let t = Instant::from_micros(1_500_000);
        assert_eq!((t + Duration::from_millis(500)).as_micros(), 2_000_000);
        assert_eq!(t - Instant::from_micros(2_000_000), Duration::ZERO);
        assert_eq!(t - Duration::from_secs(5), Instant::ZERO);
        assert_eq!(t.to_string(), "1.500000s");
        let origin = std::time::Instant::now();
        let later = origin + Duration::from_micros(1234);
        assert_eq!(Instant::from_std(origin, later).as_micros(), 1234);
        assert_eq!(Instant::from_micros(1234).to_std(origin), later);
    }
}
