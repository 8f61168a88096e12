//! Table tests, one per row of RFC 9568 §6.4 and per keepalived deviation
//! (keepalived-behaviour.md §2). Times are virtual.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use core::time::Duration;
use vrrp_fsm::{
    Action, Discard, Event, GarpReason, InitialState, NotifyEvent, Reason, State, TrackerConfig,
    TrackerKind, TrackerStatus, VirtualRouter,
};
use vrrp_proto::{AdvertInterval, Auth, Priority, Version};

fn sends(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert { priority } => Some(priority.get()),
            _ => None,
        })
        .collect()
}

fn became(actions: &[Action]) -> Option<(State, Reason)> {
    actions.iter().rev().find_map(|a| match a {
        Action::StateChanged { to, reason, .. } => Some((*to, *reason)),
        _ => None,
    })
}

/// Puts a router in Master by letting its Master_Down_Timer fire.
fn master(c: vrrp_fsm::RouterConfig) -> (VirtualRouter, vrrp_fsm::Instant) {
    let mut r = new_router(c);
    let t = r.poll_timeout().unwrap();
    r.handle_timeout(t);
    assert_eq!(r.state(), State::Master);
    drain(&mut r);
    (r, t)
}

// ----- §6.4.1 Initialize ------------------------------------------------------------------

#[test]
fn s6_4_1_startup_non_owner_enters_backup_with_master_down_interval() {
    let mut r = new_router(cfg(2, 100));
    assert_eq!(r.state(), State::Backup);
    let a = drain(&mut r);
    assert_eq!(
        a,
        vec![
            Action::StateChanged {
                from: State::Initialize,
                to: State::Backup,
                reason: Reason::Startup
            },
            Action::Notify {
                event: NotifyEvent::Backup,
                priority: Priority(100)
            },
        ]
    );
    assert_eq!(r.poll_timeout(), Some(at(3_609_375)));
    // Nothing happens before the timer.
    r.handle_timeout(at(3_609_374));
    assert_eq!(r.state(), State::Backup);
    r.handle_timeout(at(3_609_375));
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        became(&drain(&mut r)),
        Some((State::Master, Reason::MasterDown))
    );
}

#[test]
fn s6_4_1_owner_becomes_master_at_once_in_keepalived_order() {
    let mut r = new_router(cfg(1, 255));
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        drain(&mut r),
        vec![
            Action::StateChanged {
                from: State::Initialize,
                to: State::Master,
                reason: Reason::OwnerStartup
            },
            Action::SendAdvert {
                priority: Priority(255)
            },
            Action::AddVips,
            Action::SendGarp {
                count: 5,
                reason: GarpReason::BecameMaster
            },
            Action::Notify {
                event: NotifyEvent::Master,
                priority: Priority(255)
            },
        ]
    );
    // Adver_Timer = Advertisement_Interval.
    assert_eq!(r.poll_timeout(), Some(at(1_000_000)));
}

#[test]
fn keepalived_state_master_non_owner_waits_one_interval_plus_minimal_skew() {
    let mut c = cfg(2, 100);
    c.initial_state = InitialState::Master;
    let r = new_router(c);
    assert_eq!(r.state(), State::Backup);
    // 1 s + (256 - 255) / 256 s.
    assert_eq!(r.poll_timeout(), Some(at(1_003_906)));
}

#[test]
fn keepalived_startup_delay_holds_initialize() {
    let mut c = cfg(2, 100);
    c.startup_delay = Duration::from_secs(2);
    let mut r = new_router(c);
    assert_eq!(r.state(), State::Initialize);
    assert_eq!(r.poll_timeout(), Some(at(2_000_000)));
    r.handle_timeout(at(2_000_000));
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.poll_timeout(), Some(at(5_609_375)));
}

// ----- §6.4.2 Backup ----------------------------------------------------------------------

#[test]
fn s6_4_2_higher_or_equal_priority_advert_resets_the_down_timer() {
    let c = cfg(2, 100);
    let mut r = new_router(c.clone());
    for prio in [100, 200] {
        r.handle_advert(at(1_000_000), v4(1), &advert(&c, prio))
            .unwrap();
        assert_eq!(r.poll_timeout(), Some(at(4_609_375)));
        assert_eq!(r.master(), Some((v4(1), Priority(prio))));
    }
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn s6_4_2_priority_zero_sets_the_down_timer_to_skew_time() {
    let c = cfg(2, 100);
    let mut r = new_router(c.clone());
    r.handle_advert(at(1_000_000), v4(1), &advert(&c, 0))
        .unwrap();
    assert_eq!(r.poll_timeout(), Some(at(1_609_375)));
    r.handle_timeout(at(1_609_375));
    assert_eq!(
        became(&drain(&mut r)),
        Some((State::Master, Reason::MasterStopped))
    );
    assert_eq!(r.counters().priority_zero_received, 1);
}

#[test]
fn s6_4_2_v3_backup_learns_master_adver_interval() {
    let c = cfg_v3(2, 100, 100);
    let mut r = new_router(c.clone());
    let mut a = advert(&c, 150);
    a.interval = AdvertInterval::from_centis(50).unwrap();
    r.handle_advert(at(0), v4(1), &a).unwrap();
    assert_eq!(r.master_adver_interval(), Duration::from_millis(500));
    // 3 * 0.5 s + 156 * 0.5 s / 256 = 1.5 s + 304 687 µs.
    assert_eq!(r.poll_timeout(), Some(at(1_804_687)));
}

#[test]
fn s6_4_2_v2_interval_mismatch_is_discarded_and_counted() {
    let c = cfg(2, 100);
    let mut r = new_router(c.clone());
    let mut a = advert(&c, 150);
    a.interval = AdvertInterval::from_secs(2).unwrap();
    assert_eq!(
        r.handle_advert(at(0), v4(1), &a),
        Err(Discard::IntervalMismatch)
    );
    assert_eq!(r.counters().discards.interval_mismatch, 1);
    assert_eq!(r.poll_timeout(), Some(at(3_609_375)));
}

#[test]
fn s6_4_2_preempt_ignores_lower_priority_and_takes_over_at_master_down() {
    let c = cfg(2, 100);
    let mut r = new_router(c.clone());
    r.handle_advert(at(500_000), v4(1), &advert(&c, 150))
        .unwrap();
    // The master drops to 50: its adverts no longer reset our timer.
    for k in 1..=3u64 {
        r.handle_advert(at(500_000 + k * 1_000_000), v4(1), &advert(&c, 50))
            .unwrap();
        assert_eq!(r.state(), State::Backup);
    }
    assert_eq!(r.counters().lower_priority_ignored, 3);
    assert_eq!(r.poll_timeout(), Some(at(4_109_375)));
    r.handle_timeout(at(4_109_375));
    assert_eq!(r.state(), State::Master);
}

#[test]
fn keepalived_nopreempt_accepts_lower_priority() {
    let mut c = cfg(2, 200);
    c.preempt = false;
    let mut r = new_router(c.clone());
    for k in 0..10u64 {
        r.handle_advert(at(k * 1_000_000), v4(1), &advert(&c, 50))
            .unwrap();
        r.handle_timeout(at(k * 1_000_000 + 999_999));
    }
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn keepalived_nopreempt_is_cleared_for_owners_and_state_master() {
    let mut c = cfg(2, 200);
    c.preempt = false;
    c.initial_state = InitialState::Master;
    let mut r = new_router(c.clone());
    r.handle_advert(at(0), v4(1), &advert(&c, 50)).unwrap();
    assert_eq!(r.counters().lower_priority_ignored, 1);
}

#[test]
fn keepalived_preempt_delay_window_then_down_timer() {
    // keepalived 2.2.7 (preempt-*-delay2 captures): lower-priority adverts are accepted for
    // the window, then discarded; the down timer from the last accepted one takes over.
    let mut c = cfg(2, 200);
    c.preempt_delay = Duration::from_secs(2);
    let mut r = new_router(c.clone());
    // The first lower-priority advert opens the window; it is accepted.
    r.handle_advert(at(1_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    r.handle_advert(at(2_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    // 2 s + 3 s + 56/256 s.
    assert_eq!(r.poll_timeout(), Some(at(5_218_750)));
    // The window is over at 3 s: this advert no longer resets the timer.
    r.handle_advert(at(3_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    r.handle_advert(at(4_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    assert_eq!(r.counters().lower_priority_ignored, 2);
    assert_eq!(r.poll_timeout(), Some(at(5_218_750)));
    r.handle_timeout(at(5_218_750));
    assert_eq!(
        became(&drain(&mut r)),
        Some((State::Master, Reason::MasterDown))
    );
}

#[test]
fn preempt_at_delay_end_takes_over_when_the_window_closes() {
    let mut c = cfg(2, 200);
    c.preempt_delay = Duration::from_secs(2);
    c.preempt_at_delay_end = true;
    let mut r = new_router(c.clone());
    r.handle_advert(at(1_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    assert_eq!(r.poll_timeout(), Some(at(3_000_000)));
    r.handle_advert(at(2_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    assert_eq!(r.state(), State::Backup);
    r.handle_timeout(at(3_000_000));
    assert_eq!(
        became(&drain(&mut r)),
        Some((State::Master, Reason::PreemptDelayExpired))
    );
}

#[test]
fn keepalived_preempt_delay_is_cancelled_by_a_higher_priority() {
    let mut c = cfg(2, 200);
    c.preempt_delay = Duration::from_secs(2);
    c.preempt_at_delay_end = true;
    let mut r = new_router(c.clone());
    r.handle_advert(at(1_000_000), v4(1), &advert(&c, 100))
        .unwrap();
    r.handle_advert(at(1_500_000), v4(3), &advert(&c, 250))
        .unwrap();
    // Window gone: the next deadline is the full down timer.
    assert_eq!(r.poll_timeout(), Some(at(1_500_000 + 3_000_000 + 218_750)));
}

// ----- §6.4.3 Master ----------------------------------------------------------------------

#[test]
fn s6_4_3_adver_timer_sends_every_interval_without_drift() {
    let (mut r, t) = master(cfg(2, 100));
    for k in 1..=5u64 {
        let next = r.poll_timeout().unwrap();
        assert_eq!(next, t + Duration::from_secs(k));
        r.handle_timeout(next);
        assert_eq!(sends(&drain(&mut r)), vec![100]);
    }
    assert_eq!(r.counters().adverts_sent, 6);
}

#[test]
fn keepalived_garp_schedule_second_burst_and_refresh() {
    let mut c = cfg(2, 100);
    c.garp.master_refresh = Duration::from_secs(7);
    c.garp.master_refresh_repeat = 2;
    let (mut r, t) = master(c);
    let mut garps = Vec::new();
    let end = t + Duration::from_secs(15);
    while let Some(next) = r.poll_timeout() {
        if next > end {
            break;
        }
        r.handle_timeout(next);
        for a in drain(&mut r) {
            if let Action::SendGarp { count, reason } = a {
                garps.push((next - t, count, reason));
            }
        }
    }
    assert_eq!(
        garps,
        vec![
            (Duration::from_secs(5), 5, GarpReason::MasterDelay),
            (Duration::from_secs(7), 2, GarpReason::Refresh),
            (Duration::from_secs(14), 2, GarpReason::Refresh),
        ]
    );
}

#[test]
fn s6_4_3_priority_zero_is_answered_with_an_advert() {
    let c = cfg(2, 100);
    let (mut r, t) = master(c.clone());
    r.handle_advert(t + Duration::from_millis(300), v4(1), &advert(&c, 0))
        .unwrap();
    assert_eq!(sends(&drain(&mut r)), vec![100]);
    assert_eq!(r.poll_timeout(), Some(t + Duration::from_millis(1300)));
}

#[test]
fn s6_4_3_higher_priority_makes_master_yield_without_priority_zero() {
    let c = cfg(2, 100);
    let (mut r, t) = master(c.clone());
    r.handle_advert(t, v4(1), &advert(&c, 150)).unwrap();
    let a = drain(&mut r);
    assert_eq!(r.state(), State::Backup);
    assert!(sends(&a).is_empty(), "{a:?}");
    assert!(a.contains(&Action::RemoveVips));
    assert_eq!(became(&a), Some((State::Backup, Reason::HigherPriority)));
    assert!(!r.vips_installed());
}

#[test]
fn keepalived_higher_prio_send_advert_sends_one_before_yielding() {
    let mut c = cfg(2, 100);
    c.higher_prio_send_advert = true;
    let (mut r, t) = master(c.clone());
    r.handle_advert(t, v4(1), &advert(&c, 150)).unwrap();
    assert_eq!(sends(&drain(&mut r)), vec![100]);
}

#[test]
fn s6_4_3_equal_priority_tie_break_on_primary_address() {
    let c = cfg(2, 100);
    let (mut r, t) = master(c.clone());
    // From a lower address: we stay and answer.
    r.handle_advert(t, v4(1), &advert(&c, 100)).unwrap();
    assert_eq!(r.state(), State::Master);
    assert_eq!(sends(&drain(&mut r)), vec![100]);
    // From a higher address: we yield.
    r.handle_advert(t, v4(3), &advert(&c, 100)).unwrap();
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn keepalived_master_answers_lower_priority_with_advert_and_garps() {
    let c = cfg(2, 100);
    let (mut r, t) = master(c.clone());
    r.handle_advert(t, v4(1), &advert(&c, 50)).unwrap();
    assert_eq!(
        drain(&mut r),
        vec![
            Action::SendAdvert {
                priority: Priority(100)
            },
            Action::SendGarp {
                count: 5,
                reason: GarpReason::LowerPriority
            },
            Action::Notify {
                event: NotifyEvent::MasterRxLowerPriority,
                priority: Priority(100)
            },
        ]
    );
}

#[test]
fn keepalived_answer_to_lower_priority_restarts_the_advert_timer() {
    // loss-v2-ipv4-adv1-excerpt: r1 adverts at 0.000, 1.000, 2.000 s; r2's advert arrives at
    // 2.610 s, r1 answers at once, and its next adverts are at 3.610 and 4.610 s.
    let c = cfg(2, 150);
    let (mut r, t) = master(c.clone());
    let heard = t + Duration::from_millis(610);
    r.handle_advert(heard, v4(3), &advert(&c, 100)).unwrap();
    assert_eq!(sends(&drain(&mut r)), vec![150]);
    assert_eq!(r.poll_timeout(), Some(heard + Duration::from_secs(1)));
}

#[test]
fn rfc_lower_prio_no_advert_stays_silent() {
    let mut c = cfg(2, 100);
    c.lower_prio_no_advert = true;
    c.garp.lower_prio_repeat = 0;
    let (mut r, t) = master(c.clone());
    r.handle_advert(t, v4(1), &advert(&c, 50)).unwrap();
    assert!(sends(&drain(&mut r)).is_empty());
    assert_eq!(r.state(), State::Master);
}

#[test]
fn s6_4_3_shutdown_sends_priority_zero_and_releases() {
    let (mut r, _) = master(cfg(2, 100));
    r.handle_event(at(9_000_000), Event::Shutdown).unwrap();
    assert_eq!(
        drain(&mut r),
        vec![
            Action::SendAdvert {
                priority: Priority(0)
            },
            Action::RemoveVips,
            Action::StateChanged {
                from: State::Master,
                to: State::Initialize,
                reason: Reason::Shutdown
            },
            Action::Notify {
                event: NotifyEvent::Stop,
                priority: Priority(100)
            },
        ]
    );
    assert_eq!(r.poll_timeout(), None);
    // Startup brings it back as Backup.
    r.handle_event(at(10_000_000), Event::Startup).unwrap();
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn shutdown_in_backup_sends_nothing() {
    let mut r = new_router(cfg(2, 100));
    drain(&mut r);
    r.handle_event(at(1), Event::Delete).unwrap();
    let a = drain(&mut r);
    assert!(sends(&a).is_empty());
    assert!(a.contains(&Action::Notify {
        event: NotifyEvent::Deleted,
        priority: Priority(100)
    }));
}

// ----- Accept_Mode (§6.1) -------------------------------------------------------------------

#[test]
fn s6_1_accept_mode_false_installs_a_filter_while_master() {
    let mut c = cfg(2, 100);
    c.accept = false;
    let mut r = new_router(c.clone());
    let t = r.poll_timeout().unwrap();
    r.handle_timeout(t);
    assert!(drain(&mut r).contains(&Action::SetAcceptFilter { block: true }));
    r.handle_advert(t, v4(3), &advert(&c, 200)).unwrap();
    assert!(drain(&mut r).contains(&Action::SetAcceptFilter { block: false }));
}

#[test]
fn keepalived_strict_mode_implies_no_accept_except_for_owners() {
    let mut c = cfg(2, 100);
    c.strict_mode = true;
    let (mut r, _) = {
        let mut r = new_router(c.clone());
        let t = r.poll_timeout().unwrap();
        r.handle_timeout(t);
        (r, t)
    };
    assert!(drain(&mut r).contains(&Action::SetAcceptFilter { block: true }));
    let mut o = cfg(2, 255);
    o.strict_mode = true;
    let mut r = new_router(o.clone());
    assert!(
        !drain(&mut r)
            .iter()
            .any(|a| matches!(a, Action::SetAcceptFilter { .. }))
    );
    // And strict owners ignore adverts (owner_ignore_adverts).
    assert_eq!(
        r.handle_advert(at(1), v4(1), &advert(&o, 255)),
        Err(Discard::OwnerIgnoresAdverts)
    );
}

// ----- validation the FSM owns (§7.1) -------------------------------------------------------

#[test]
fn s7_1_discards_are_typed_and_counted() {
    let mut c = cfg(2, 100);
    c.auth = Auth::SimplePassword(*b"s3cret\0\0");
    c.unicast_peers = vec![v4(1)];
    c.check_unicast_src = true;
    let mut r = new_router(c.clone());
    let mut good = advert(&c, 150);
    good.auth = c.auth;

    let mut a = good.clone();
    a.vrid = vrrp_proto::Vrid::new(52).unwrap();
    assert_eq!(r.handle_advert(at(0), v4(1), &a), Err(Discard::WrongVrid));
    let mut a = good.clone();
    a.version = Version::V3;
    assert_eq!(
        r.handle_advert(at(0), v4(1), &a),
        Err(Discard::WrongVersion)
    );
    assert_eq!(
        r.handle_advert(at(0), v6(1), &good),
        Err(Discard::WrongFamily)
    );
    assert_eq!(
        r.handle_advert(at(0), v4(1), &advert(&c, 150)),
        Err(Discard::AuthMismatch)
    );
    assert_eq!(
        r.handle_advert(at(0), v4(9), &good),
        Err(Discard::UnknownUnicastSource)
    );
    c.unicast_peers.push(v4(2));
    r.handle_event(at(0), Event::Reload(Box::new(c.clone())))
        .unwrap();
    assert_eq!(
        r.handle_advert(at(0), v4(2), &good),
        Err(Discard::OwnAddress)
    );
    assert_eq!(r.handle_advert(at(0), v4(1), &good), Ok(()));
    let d = r.counters().discards;
    assert_eq!(
        (
            d.wrong_vrid,
            d.wrong_version,
            d.wrong_family,
            d.auth_mismatch,
            d.unknown_unicast_source
        ),
        (1, 1, 1, 1, 1)
    );
    assert_eq!(d.own_address, 1);
    assert_eq!(d.total(), 6);
    assert_eq!(r.counters().adverts_received, 7);
}

#[test]
fn keepalived_address_list_mismatch_is_counted_not_dropped() {
    let c = cfg(2, 100);
    let mut r = new_router(c.clone());
    let mut a = advert(&c, 150);
    a.addresses.push(v4(101));
    assert_eq!(r.handle_advert(at(0), v4(1), &a), Ok(()));
    assert_eq!(r.counters().address_list_mismatch, 1);
    assert_eq!(r.poll_timeout(), Some(at(3_609_375)));
}

#[test]
fn keepalived_fault_state_ignores_adverts() {
    let mut r = new_router(cfg(2, 100));
    r.handle_event(at(0), Event::InterfaceDown).unwrap();
    assert_eq!(r.state(), State::Fault);
    assert_eq!(
        r.handle_advert(at(1), v4(1), &advert(&cfg(1, 100), 100)),
        Err(Discard::NotListening)
    );
    assert_eq!(r.poll_timeout(), None);
}

// ----- trackers (keepalived §2.9) ---------------------------------------------------------

#[test]
fn keepalived_weight_zero_tracker_faults_a_master_with_priority_zero() {
    let mut c = cfg(2, 100);
    c.trackers = vec![TrackerConfig::new("chk", TrackerKind::Script, 0)];
    let (mut r, t) = master(c);
    let i = r.tracker_index("chk").unwrap();
    r.handle_event(
        t,
        Event::Tracker {
            index: i,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    let a = drain(&mut r);
    assert_eq!(sends(&a), vec![0]);
    assert_eq!(became(&a), Some((State::Fault, Reason::TrackerFault)));
    r.handle_event(
        t,
        Event::Tracker {
            index: i,
            status: TrackerStatus::Up,
        },
    )
    .unwrap();
    assert_eq!(
        became(&drain(&mut r)),
        Some((State::Backup, Reason::FaultCleared))
    );
    assert_eq!(r.poll_timeout(), Some(t + Duration::from_micros(3_609_375)));
}

#[test]
fn keepalived_tracker_weights_clamp_and_recompute_the_down_timer() {
    let mut c = cfg(2, 250);
    c.trackers = vec![
        TrackerConfig::new("up", TrackerKind::Script, 10),
        TrackerConfig::new("down", TrackerKind::Interface, -254),
    ];
    let mut r = new_router(c);
    assert_eq!(r.priority(), Priority(254));
    assert_eq!(r.poll_timeout(), Some(at(3_007_812)));
    r.handle_event(
        at(0),
        Event::Tracker {
            index: 1,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    assert_eq!(r.priority(), Priority(6));
    // Recomputed in place from the same start: 3 s + 250/256 s.
    assert_eq!(r.poll_timeout(), Some(at(3_976_562)));
    r.handle_event(
        at(0),
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    assert_eq!(r.priority(), Priority(1));
    assert!(drain(&mut r).contains(&Action::Notify {
        event: NotifyEvent::PriorityChanged,
        priority: Priority(1)
    }));
}

#[test]
fn keepalived_owner_priority_never_changes() {
    let mut c = cfg(2, 255);
    c.trackers = vec![TrackerConfig::new("w", TrackerKind::Script, -50)];
    let mut r = new_router(c);
    r.handle_event(
        at(0),
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    assert_eq!(r.priority(), Priority(255));
    assert_eq!(r.state(), State::Master);
}

#[test]
fn keepalived_track_file_value_times_weight() {
    let mut c = cfg(2, 100);
    c.trackers = vec![
        TrackerConfig::new("f", TrackerKind::File, 5),
        TrackerConfig::new("f0", TrackerKind::File, 0),
    ];
    let mut r = new_router(c);
    r.handle_event(
        at(0),
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Value(-4),
        },
    )
    .unwrap();
    assert_eq!(r.priority(), Priority(80));
    r.handle_event(
        at(0),
        Event::Tracker {
            index: 1,
            status: TrackerStatus::Value(3),
        },
    )
    .unwrap();
    assert_eq!(r.state(), State::Fault);
    assert!(
        r.handle_event(
            at(0),
            Event::Tracker {
                index: 9,
                status: TrackerStatus::Up
            }
        )
        .is_err()
    );
}

// ----- reload (keepalived §5.4) -------------------------------------------------------------

#[test]
fn keepalived_reload_keeps_master_and_diffs_addresses() {
    let c = cfg(2, 100);
    let (mut r, t) = master(c.clone());
    let mut n = c.clone();
    n.virtual_addresses = vec![v4(101)];
    r.handle_event(t, Event::Reload(Box::new(n))).unwrap();
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        drain(&mut r),
        vec![Action::UpdateVips {
            added: vec![v4(101)],
            removed: vec![v4(100)]
        }]
    );
    let mut bad = c;
    bad.priority = Priority(0);
    assert!(r.handle_event(t, Event::Reload(Box::new(bad))).is_err());
}

#[test]
fn set_priority_to_owner_takes_over() {
    let mut r = new_router(cfg(2, 100));
    r.handle_event(at(5), Event::SetPriority(Priority(255)))
        .unwrap();
    assert_eq!(r.state(), State::Master);
    assert!(
        r.handle_event(at(5), Event::SetPriority(Priority(0)))
            .is_err()
    );
}

#[test]
fn ipv6_router_uses_v3() {
    let c = vrrp_fsm::RouterConfig::new(vrid(), v6(2), vec![v6(0x100)]);
    assert_eq!(c.version, Version::V3);
    let r = VirtualRouter::new(c, T0).unwrap();
    assert_eq!(r.state(), State::Backup);
    let mut bad = vrrp_fsm::RouterConfig::new(vrid(), v6(2), vec![v4(100)]);
    assert!(VirtualRouter::new(bad.clone(), T0).is_err());
    bad.virtual_addresses = vec![v6(1)];
    bad.version = Version::V2;
    assert!(VirtualRouter::new(bad, T0).is_err());
}
