//! Timer formulas of RFC 9568 §6.1 (and RFC 3768 §6.1 for VRRPv2), in integer microseconds.
//!
//! keepalived computes the same values in microseconds (`include/vrrp.h`):
//!
//! - VRRPv2 `Skew_Time = ((256 - Priority) * 1 s) / 256` (RFC 3768 §6.1): it does **not**
//!   scale with the advertisement interval.
//! - VRRPv3 `Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256` (RFC 9568 §6.1).
//! - `Master_Down_Interval = down_timer_adverts * Master_Adver_Interval + Skew_Time`, where
//!   the RFC fixes `down_timer_adverts` at 3 and keepalived makes it configurable (1..=100).
//!
//! The priority used is the effective priority; an address owner always uses 255.
//! Divisions truncate, as keepalived's integer arithmetic does.

use core::time::Duration;
use vrrp_proto::{AdvertInterval, Priority, Version};

/// Microseconds in one centisecond.
pub(crate) const US_PER_CS: u64 = 10_000;
/// Microseconds in one second.
pub(crate) const US_PER_S: u64 = 1_000_000;

/// An advertisement interval in microseconds.
pub(crate) const fn interval_us(i: AdvertInterval) -> u64 {
    i.centis() as u64 * US_PER_CS
}

/// `Skew_Time` in microseconds (RFC 9568 §6.1; RFC 3768 §6.1 for v2).
pub(crate) const fn skew_us(version: Version, priority: u8, master_adver_interval_us: u64) -> u64 {
    let weight = 256 - priority as u64;
    match version {
        Version::V2 => weight * US_PER_S / 256,
        Version::V3 => weight * master_adver_interval_us / 256,
    }
}

/// `Master_Down_Interval` in microseconds (RFC 9568 §6.1).
pub(crate) const fn master_down_us(
    version: Version,
    priority: u8,
    master_adver_interval_us: u64,
    down_timer_adverts: u8,
) -> u64 {
    down_timer_adverts as u64 * master_adver_interval_us
        + skew_us(version, priority, master_adver_interval_us)
}

/// `Skew_Time` (RFC 9568 §6.1 for v3, RFC 3768 §6.1 for v2) for a priority and a
/// `Master_Adver_Interval`.
///
/// ```
/// use core::time::Duration;
/// use vrrp_fsm::timers::skew_time;
/// use vrrp_proto::{AdvertInterval, Priority, Version};
/// // VRRPv2, priority 100: 156/256 s.
/// assert_eq!(skew_time(Version::V2, Priority(100), AdvertInterval::ONE_SECOND),
///            Duration::from_micros(609_375));
/// ```
pub fn skew_time(
    version: Version,
    priority: Priority,
    master_adver_interval: AdvertInterval,
) -> Duration {
    Duration::from_micros(skew_us(
        version,
        priority.get(),
        interval_us(master_adver_interval),
    ))
}

/// `Master_Down_Interval` (RFC 9568 §6.1): `down_timer_adverts` advertisement intervals plus
/// `Skew_Time`. The RFC value of `down_timer_adverts` is 3.
///
/// ```
/// use core::time::Duration;
/// use vrrp_fsm::timers::master_down_interval;
/// use vrrp_proto::{AdvertInterval, Priority, Version};
/// // The well-known VRRPv2 figure: 3.609375 s for priority 100 at 1 s adverts.
/// assert_eq!(master_down_interval(Version::V2, Priority(100), AdvertInterval::ONE_SECOND, 3),
///            Duration::from_micros(3_609_375));
/// ```
pub fn master_down_interval(
    version: Version,
    priority: Priority,
    master_adver_interval: AdvertInterval,
    down_timer_adverts: u8,
) -> Duration {
    Duration::from_micros(master_down_us(
        version,
        priority.get(),
        interval_us(master_adver_interval),
        down_timer_adverts,
    ))
}
