//! Property 7 of issue 5: tracker weights and Fault transitions follow keepalived's rules
//! (keepalived-behaviour.md §2.9) for arbitrary trackers and arbitrary status sequences.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use core::time::Duration;
use proptest::prelude::*;
use vrrp_fsm::{Action, Event, State, TrackerConfig, TrackerKind, TrackerStatus};
use vrrp_proto::Priority;

#[derive(Debug, Clone)]
enum Step {
    Tracker(usize, TrackerStatus),
    Interface(bool),
    /// Let time pass up to the router's next timer.
    Tick,
}

fn status() -> impl Strategy<Value = TrackerStatus> {
    prop_oneof![
        Just(TrackerStatus::Up),
        Just(TrackerStatus::Down),
        (-3i64..=3).prop_map(TrackerStatus::Value),
    ]
}

fn tracker() -> impl Strategy<Value = TrackerConfig> {
    (
        prop_oneof![Just(0i32), -254i32..=254, -20i32..=20],
        any::<bool>(),
        status(),
        any::<bool>(),
    )
        .prop_map(|(weight, reverse, initial, file)| TrackerConfig {
            name: String::new(),
            kind: if file {
                TrackerKind::File
            } else {
                TrackerKind::Script
            },
            weight,
            reverse,
            initial,
        })
}

fn step(n: usize) -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..n.max(1), status()).prop_map(|(i, s)| Step::Tracker(i, s)),
        1 => any::<bool>().prop_map(Step::Interface),
        2 => Just(Step::Tick),
    ]
}

/// The model, written from the rules table rather than from the implementation.
fn model(base: u8, trackers: &[TrackerConfig], st: &[TrackerStatus], if_up: bool) -> (u8, bool) {
    let mut sum = 0i64;
    let mut fault = !if_up;
    for (t, s) in trackers.iter().zip(st) {
        let w = i64::from(t.weight);
        match *s {
            TrackerStatus::Value(v) if w == 0 => fault |= v != 0,
            TrackerStatus::Value(v) => {
                let a = (v * w).clamp(-254, 254);
                sum += if t.reverse { -a } else { a };
            }
            s => {
                let failed = (s == TrackerStatus::Down) != t.reverse;
                match w {
                    0 => fault |= failed,
                    w if w > 0 && !failed => sum += w,
                    w if w < 0 && failed => sum += w,
                    _ => {}
                }
            }
        }
    }
    let prio = if base == 255 {
        255
    } else {
        (i64::from(base) + sum).clamp(1, 254) as u8
    };
    (prio, fault)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn property_7_tracker_weights_and_fault(
        base in prop_oneof![1u8..=255, Just(255u8), Just(254u8)],
        trackers in prop::collection::vec(tracker(), 0..6),
        steps in prop::collection::vec(step(6), 0..40),
    ) {
        let mut c = cfg(2, base);
        c.trackers = trackers.clone();
        let mut r = new_router(c);
        let mut st: Vec<TrackerStatus> = trackers.iter().map(|t| t.initial).collect();
        let mut if_up = true;
        let mut now = T0;
        let (p, f) = model(base, &trackers, &st, if_up);
        prop_assert_eq!(r.priority(), Priority(p));
        prop_assert_eq!(r.state() == State::Fault, f);
        drain(&mut r);
        for s in steps {
            let was = r.state();
            match s {
                Step::Tracker(i, status) => {
                    let res = r.handle_event(now, Event::Tracker { index: i, status });
                    if i < st.len() {
                        prop_assert!(res.is_ok());
                        st[i] = status;
                    } else {
                        prop_assert!(res.is_err());
                    }
                }
                Step::Interface(up) => {
                    if_up = up;
                    let ev = if up { Event::InterfaceUp } else { Event::InterfaceDown };
                    r.handle_event(now, ev).unwrap();
                }
                Step::Tick => {
                    if let Some(t) = r.poll_timeout() {
                        now = t.max(now);
                        r.handle_timeout(now);
                    } else {
                        now += Duration::from_millis(100);
                    }
                }
            }
            let actions = drain(&mut r);
            let (p, f) = model(base, &trackers, &st, if_up);
            prop_assert_eq!(r.priority(), Priority(p), "priority after {:?}", st);
            prop_assert_eq!(r.state() == State::Fault, f, "fault after {:?}", st);
            if base == 255 {
                prop_assert_eq!(r.priority(), Priority(255), "owners never change priority");
            }
            if !f {
                prop_assert!(matches!(r.state(), State::Backup | State::Master));
            }
            // Every advert carries the effective priority, except the priority-0 advert a
            // Master sends when it enters Fault (keepalived §2.2).
            for a in &actions {
                if let Action::SendAdvert { priority } = a {
                    if priority.get() == 0 {
                        prop_assert_eq!(was, State::Master);
                        prop_assert_eq!(r.state(), State::Fault);
                    } else {
                        prop_assert_eq!(*priority, Priority(p));
                    }
                }
            }
            if was == State::Master && r.state() == State::Fault {
                let zero = actions.iter().position(|a| *a == Action::SendAdvert { priority: Priority(0) });
                let rm = actions.iter().position(|a| *a == Action::RemoveVips);
                prop_assert!(zero.is_some() && rm.is_some() && zero < rm, "{:?}", actions);
            }
            prop_assert_eq!(r.vips_installed(), r.state() == State::Master);
        }
    }
}
