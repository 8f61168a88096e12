//! With the `serde` feature, configurations and counters round-trip through JSON
//! (`cargo test -p vrrp-fsm --features serde`).
#![cfg(feature = "serde")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use core::time::Duration;
use vrrp_fsm::{Counters, RouterConfig, TrackerConfig, TrackerKind, TrackerStatus};

#[test]
fn router_config_round_trips_through_json() {
    let mut c = cfg_v3(2, 120, 10);
    c.preempt_delay = Duration::from_millis(1500);
    c.unicast_peers = vec![v4(1), v4(3)];
    c.trackers = vec![TrackerConfig {
        initial: TrackerStatus::Value(-2),
        ..TrackerConfig::new("f", TrackerKind::File, 5)
    }];
    let json = serde_json::to_string(&c).unwrap();
    let back: RouterConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, c);
    let counters: Counters =
        serde_json::from_str(&serde_json::to_string(&Counters::default()).unwrap()).unwrap();
    assert_eq!(counters, Counters::default());
}
