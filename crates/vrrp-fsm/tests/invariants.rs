//! Arbitrary input sequences keep the state machine's invariants: no panic, addresses
//! installed exactly while Master, handle_timeout consumes every due timer (so a driver never
//! spins), priorities in range, Fault exactly while a local fault exists.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use core::time::Duration;
use proptest::prelude::*;
use vrrp_fsm::{
    Action, Event, InitialState, State, TrackerConfig, TrackerKind, TrackerStatus, VirtualRouter,
};
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};

#[derive(Debug, Clone)]
enum Op {
    Wait(u32),
    Timeout,
    Advert {
        host: u8,
        prio: u8,
        centis: u16,
        vrid: u8,
        v3: bool,
    },
    Tracker(TrackerStatus),
    Interface(bool),
    SetPriority(u8),
    Shutdown,
    Startup,
    Reload {
        prio: u8,
        preempt: bool,
        delay_ms: u16,
        extra_vip: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0u32..3_000_000).prop_map(Op::Wait),
        4 => Just(Op::Timeout),
        6 => (1u8..=4, 0u8..=255, prop_oneof![Just(100u16), 1u16..=300], prop_oneof![Just(51u8), 1u8..=255], any::<bool>())
            .prop_map(|(host, prio, centis, vrid, v3)| Op::Advert { host, prio, centis, vrid, v3 }),
        1 => prop_oneof![Just(TrackerStatus::Up), Just(TrackerStatus::Down)].prop_map(Op::Tracker),
        1 => any::<bool>().prop_map(Op::Interface),
        1 => (0u8..=255).prop_map(Op::SetPriority),
        1 => Just(Op::Shutdown),
        1 => Just(Op::Startup),
        1 => (1u8..=255, any::<bool>(), 0u16..3000, any::<bool>())
            .prop_map(|(prio, preempt, delay_ms, extra_vip)| Op::Reload { prio, preempt, delay_ms, extra_vip }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_inputs_keep_invariants(
        v3 in any::<bool>(),
        prio in 1u8..=255,
        master_state in any::<bool>(),
        weight in -50i32..=50,
        strict in any::<bool>(),
        ops in prop::collection::vec(op(), 0..80),
    ) {
        let mut c = if v3 { cfg_v3(2, prio, 10) } else { cfg(2, prio) };
        c.initial_state = if master_state { InitialState::Master } else { InitialState::Backup };
        c.strict_mode = strict;
        c.trackers = vec![TrackerConfig::new("t", TrackerKind::Script, weight)];
        let mut r = VirtualRouter::new(c.clone(), T0).unwrap();
        let mut now = T0;
        let mut stopped = false;
        // Start-up actions (an owner is Master at once).
        let mut vips = drain(&mut r).contains(&Action::AddVips);
        for op in ops {
            match op {
                Op::Wait(us) => now += Duration::from_micros(u64::from(us)),
                Op::Timeout => {
                    if let Some(t) = r.poll_timeout() {
                        now = now.max(t);
                    }
                    r.handle_timeout(now);
                    // Every due timer was consumed.
                    prop_assert!(r.poll_timeout().is_none_or(|t| t > now), "timer left due");
                }
                Op::Advert { host, prio, centis, vrid, v3 } => {
                    let mut a = advert(&c, prio);
                    a.version = if v3 { Version::V3 } else { Version::V2 };
                    a.interval = AdvertInterval::from_centis(centis).unwrap();
                    a.vrid = Vrid::new(vrid.max(1)).unwrap();
                    let _ = r.handle_advert(now, v4(host), &a);
                }
                Op::Tracker(s) => r.handle_event(now, Event::Tracker { index: 0, status: s }).unwrap(),
                Op::Interface(up) => {
                    r.handle_event(now, if up { Event::InterfaceUp } else { Event::InterfaceDown }).unwrap();
                }
                Op::SetPriority(p) => {
                    prop_assert_eq!(r.handle_event(now, Event::SetPriority(Priority(p))).is_ok(), p != 0);
                }
                Op::Shutdown => {
                    r.handle_event(now, Event::Shutdown).unwrap();
                    stopped = true;
                }
                Op::Startup => {
                    r.handle_event(now, Event::Startup).unwrap();
                    stopped = false;
                }
                Op::Reload { prio, preempt, delay_ms, extra_vip } => {
                    let mut n = r.config().clone();
                    n.priority = Priority(prio);
                    n.preempt = preempt;
                    n.preempt_delay = Duration::from_millis(u64::from(delay_ms));
                    if extra_vip {
                        n.virtual_addresses.push(v4(101));
                    }
                    r.handle_event(now, Event::Reload(Box::new(n.clone()))).unwrap();
                    c = n;
                }
            }
            for a in drain(&mut r) {
                match a {
                    Action::AddVips => {
                        prop_assert!(!vips, "AddVips twice");
                        vips = true;
                    }
                    Action::RemoveVips => {
                        prop_assert!(vips, "RemoveVips without AddVips");
                        vips = false;
                    }
                    Action::UpdateVips { .. } => prop_assert!(vips),
                    Action::SendAdvert { priority } => {
                        prop_assert!(priority.get() == 0 || priority == r.priority() || r.state() != State::Master);
                    }
                    Action::StateChanged { from, to, .. } => prop_assert_ne!(from, to),
                    _ => {}
                }
            }
            prop_assert_eq!(vips, r.state() == State::Master);
            prop_assert_eq!(r.vips_installed(), vips);
            prop_assert!(r.priority().get() >= 1);
            if r.config().priority.is_owner() {
                prop_assert_eq!(r.priority(), Priority(255));
            }
            if stopped {
                prop_assert_eq!(r.state(), State::Initialize);
                prop_assert_eq!(r.poll_timeout(), None);
            } else {
                prop_assert_eq!(r.state() == State::Fault, r.local_fault().is_some());
                if r.state() == State::Backup || r.state() == State::Master {
                    prop_assert!(r.poll_timeout().is_some(), "a running router always has a timer");
                }
            }
        }
    }
}
