//! Sync groups move their members together (keepalived-behaviour.md §2.10).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use vrrp_fsm::{
    Action, Event, Reason, State, SyncGroup, TrackerConfig, TrackerKind, TrackerStatus,
    VirtualRouter,
};
use vrrp_proto::Vrid;

fn member(vrid: u8, prio: u8) -> VirtualRouter {
    let mut c = cfg(2, prio);
    c.vrid = Vrid::new(vrid).unwrap();
    c.trackers = vec![TrackerConfig::new("chk", TrackerKind::Script, 0)];
    VirtualRouter::new(c, T0).unwrap()
}

fn states(g: &SyncGroup) -> Vec<State> {
    g.members().iter().map(VirtualRouter::state).collect()
}

fn transitions(g: &mut SyncGroup) -> Vec<(usize, State, Reason)> {
    std::iter::from_fn(|| g.poll_action())
        .filter_map(|(i, a)| match a {
            Action::StateChanged { to, reason, .. } => Some((i, to, reason)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_member_fault_holds_every_member_in_fault() {
    let mut g = SyncGroup::new("G", vec![member(1, 100), member(2, 100)], T0);
    transitions(&mut g);
    g.handle_event(
        at(0),
        0,
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    assert_eq!(states(&g), vec![State::Fault, State::Fault]);
    assert_eq!(
        transitions(&mut g),
        vec![
            (0, State::Fault, Reason::TrackerFault),
            (1, State::Fault, Reason::SyncGroup)
        ]
    );
    // Member 1 fails too, then member 0 recovers: member 0 is still held.
    g.handle_event(
        at(1),
        1,
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Down,
        },
    )
    .unwrap();
    g.handle_event(
        at(2),
        0,
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Up,
        },
    )
    .unwrap();
    assert_eq!(states(&g), vec![State::Fault, State::Fault]);
    g.handle_event(
        at(3),
        1,
        Event::Tracker {
            index: 0,
            status: TrackerStatus::Up,
        },
    )
    .unwrap();
    assert_eq!(states(&g), vec![State::Backup, State::Backup]);
}

#[test]
fn members_become_master_together_and_leave_together() {
    let mut g = SyncGroup::new("G", vec![member(1, 100), member(2, 50)], T0);
    transitions(&mut g);
    // Member 0 has the shorter down timer.
    let t = g.poll_timeout().unwrap();
    assert_eq!(t, at(3_609_375));
    g.handle_timeout(t);
    assert_eq!(states(&g), vec![State::Master, State::Master]);
    assert_eq!(
        transitions(&mut g),
        vec![
            (0, State::Master, Reason::MasterDown),
            (1, State::Master, Reason::SyncGroup)
        ]
    );
    // A higher priority for VRID 1 arrives: both yield.
    let mut c = cfg(1, 200);
    c.vrid = Vrid::new(1).unwrap();
    g.handle_advert(t, 0, v4(1), &advert(&c, 200)).unwrap();
    assert_eq!(states(&g), vec![State::Backup, State::Backup]);
    assert!(g.members().iter().all(|m| !m.vips_installed()));
    assert_eq!(g.name(), "G");
}

#[test]
fn no_member_becomes_master_while_another_is_in_fault() {
    let mut g = SyncGroup::new("G", vec![member(1, 100), member(2, 50)], T0);
    g.handle_event(at(0), 1, Event::InterfaceDown).unwrap();
    assert_eq!(states(&g), vec![State::Fault, State::Fault]);
    assert_eq!(g.poll_timeout(), None);
}
