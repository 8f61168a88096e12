//! Pinned timer values (RFC 9568 §6.1, RFC 3768 §6.1, keepalived `include/vrrp.h`).
//!
//! Every figure is integer microseconds with keepalived's truncating division.
#![allow(clippy::unwrap_used)]

use core::time::Duration;
use vrrp_fsm::timers::{master_down_interval, skew_time};
use vrrp_proto::{AdvertInterval, Priority, Version};

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

fn cs(n: u16) -> AdvertInterval {
    AdvertInterval::from_centis(n).unwrap()
}

#[test]
fn pinned_v2_one_second_priority_100_is_3_609375_s() {
    // The well-known "3.6 s failover": 3 + 156/256 s.
    assert_eq!(skew_time(Version::V2, Priority(100), cs(100)), us(609_375));
    assert_eq!(
        master_down_interval(Version::V2, Priority(100), cs(100), 3),
        us(3_609_375)
    );
}

#[test]
fn pinned_v2_priority_120_is_3_53125_s() {
    // keepalived-behaviour.md §2.2: the netns run saw priority 120 take over after ~3.5 s.
    assert_eq!(
        master_down_interval(Version::V2, Priority(120), cs(100), 3),
        us(3_531_250)
    );
}

#[test]
fn pinned_v2_skew_ignores_the_interval() {
    // RFC 3768 §6.1: Skew_Time = (256 - Priority) / 256 seconds, whatever the interval.
    assert_eq!(skew_time(Version::V2, Priority(100), cs(500)), us(609_375));
    assert_eq!(
        master_down_interval(Version::V2, Priority(100), cs(500), 3),
        us(15_609_375)
    );
}

#[test]
fn pinned_v2_extreme_priorities() {
    // 2/256 s = 7812.5 µs, truncated.
    assert_eq!(skew_time(Version::V2, Priority(254), cs(100)), us(7_812));
    assert_eq!(skew_time(Version::V2, Priority(1), cs(100)), us(996_093));
    assert_eq!(skew_time(Version::V2, Priority(255), cs(100)), us(3_906));
    assert_eq!(
        master_down_interval(Version::V2, Priority(255), cs(100), 3),
        us(3_003_906)
    );
}

#[test]
fn pinned_v3_10ms_priority_254() {
    // (256 - 254) * 10 000 µs / 256 = 78.125 µs, truncated to 78.
    assert_eq!(skew_time(Version::V3, Priority(254), cs(1)), us(78));
    assert_eq!(
        master_down_interval(Version::V3, Priority(254), cs(1), 3),
        us(30_078)
    );
}

#[test]
fn pinned_v3_100ms_priority_100() {
    // 156 * 100 000 / 256 = 60 937.5 µs. The graceful-term-v3 capture shows r2 (prio 100)
    // taking over ~63.5 ms after the priority-0 advert, i.e. this skew plus scheduling.
    assert_eq!(skew_time(Version::V3, Priority(100), cs(10)), us(60_937));
    assert_eq!(
        master_down_interval(Version::V3, Priority(100), cs(10), 3),
        us(360_937)
    );
}

#[test]
fn pinned_v3_one_second_matches_v2() {
    assert_eq!(
        master_down_interval(Version::V3, Priority(100), cs(100), 3),
        us(3_609_375)
    );
}

#[test]
fn pinned_v3_longest_interval_does_not_overflow() {
    // keepalived PR #405 fixed a u32 overflow here (priority 1, long intervals).
    // 255 * 40 950 000 / 256 = 40 790 039.06 µs.
    assert_eq!(
        skew_time(Version::V3, Priority(1), cs(4095)),
        us(40_790_039)
    );
    assert_eq!(
        master_down_interval(Version::V3, Priority(1), cs(4095), 3),
        us(163_640_039)
    );
}

#[test]
fn pinned_down_timer_adverts_scales_the_interval_only() {
    assert_eq!(
        master_down_interval(Version::V3, Priority(100), cs(100), 1),
        us(1_609_375)
    );
    assert_eq!(
        master_down_interval(Version::V3, Priority(100), cs(100), 100),
        us(100_609_375)
    );
}
