//! Hand-written LAN scenarios on virtual time.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use core::net::{IpAddr, Ipv6Addr};
use core::time::Duration;
use proptest::prelude::*;
use vrrp_fsm::{Event, Reason, RouterConfig, State};
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};
use vrrp_sim::{Command, LinkParams, NodeId, Sim, SimConfig};

fn v6(host: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, host))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Constant clock offsets are invisible: the same LAN with other offsets has the same
    /// transcript in virtual (global) time.
    #[test]
    fn clock_offsets_do_not_change_the_outcome(s in scenario(5), other in prop::collection::vec(-9_000_000_000i64..9_000_000_000, 5)) {
        let run = |offsets: &[i64]| {
            let mut sc = s.clone();
            sc.offsets_us = offsets.to_vec();
            let mut sim = sc.build(false);
            sim.set_all_links(s.latency, 100_000);
            sim.run_for(s.settle() * 4);
            sim.crash(NodeId(0));
            sim.run_for(s.settle());
            sim.restart(NodeId(0)).unwrap();
            sim.run_for(s.settle());
            sim.transitions().to_vec()
        };
        prop_assert_eq!(run(&s.offsets_us), run(&other));
    }
}

/// RFC 9568 §6.4.2: a v3 Backup adopts the Master's interval, so after a crash it times out
/// on the Master's (shorter) interval, not its own.
#[test]
fn v3_backup_times_out_on_the_learned_interval() {
    let mut sim = Sim::new(SimConfig::default());
    let mk = |host: u8, prio: u8, centis: u16| {
        let mut c = RouterConfig::new(Vrid::new(7).unwrap(), addr(host), vec![addr(100)]);
        c.version = Version::V3;
        c.priority = Priority(prio);
        c.advert_interval = AdvertInterval::from_centis(centis).unwrap();
        c
    };
    let m = sim.add_router(mk(1, 200, 50)).unwrap();
    let b = sim.add_router(mk(2, 100, 100)).unwrap();
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters(), vec![m]);
    assert_eq!(
        sim.router(b).unwrap().master_adver_interval(),
        Duration::from_millis(500)
    );
    // The last advert left the master at some t ≤ crash; takeover = t + latency + 3 × 0.5 s +
    // 156 × 0.5 s / 256, well before 3 × 1 s.
    let crash = sim.now();
    sim.crash(m);
    let t = sim.run_until_pred(crash + Duration::from_secs(3), |s| {
        s.state(b) == Some(State::Master)
    });
    let t = t.unwrap();
    assert!(t <= crash + Duration::from_micros(1_500_000 + 304_687 + 100));
    assert!(t > crash + Duration::from_millis(1_000));
}

/// An IPv6 LAN (VRRPv3) elects and fails over like an IPv4 one.
#[test]
fn ipv6_lan_elects_and_fails_over() {
    let mut sim = Sim::new(SimConfig {
        seed: 3,
        default_link: LinkParams {
            latency: Duration::from_micros(50),
            loss_ppm: 0,
            up: true,
        },
        record_packets: true,
    });
    let ids: Vec<NodeId> = [(1u16, 150u8), (2, 100), (3, 100)]
        .into_iter()
        .map(|(h, p)| {
            let mut c = RouterConfig::new(Vrid::new(9).unwrap(), v6(h), vec![v6(0x100)]);
            c.priority = Priority(p);
            c.advert_interval = AdvertInterval::from_centis(10).unwrap();
            sim.add_router(c).unwrap()
        })
        .collect();
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.masters(), vec![ids[0]]);
    sim.event(ids[0], Event::Shutdown).unwrap();
    sim.run_for(Duration::from_secs(1));
    // Equal priorities: the higher address (::3) wins.
    assert_eq!(sim.masters(), vec![ids[2]]);
    assert!(sim.packets().iter().any(|p| p.priority == Priority(0)));
    assert!(
        sim.transitions()
            .iter()
            .any(|t| t.node == ids[2] && t.reason == Reason::MasterStopped)
    );
}

/// A one-way cut (the backup cannot hear the master) gives two masters while it lasts; the
/// master hears the backup's lower priority and answers (keepalived), and the split heals at
/// once when the cut is repaired.
#[test]
fn one_way_partition_and_heal() {
    let mut sim = Sim::new(SimConfig::default());
    let mk = |host: u8, prio: u8| {
        let mut c = RouterConfig::new(Vrid::new(1).unwrap(), addr(host), vec![addr(100)]);
        c.priority = Priority(prio);
        c
    };
    let m = sim.add_router(mk(1, 150)).unwrap();
    let b = sim.add_router(mk(2, 100)).unwrap();
    sim.run_for(Duration::from_secs(10));
    sim.partition_oneway(m, b);
    sim.run_for(Duration::from_secs(10));
    assert_eq!(sim.masters(), vec![m, b]);
    let lower_heard = sim.router(m).unwrap().counters().lower_priority_heard;
    assert!(
        lower_heard >= 5,
        "master heard {lower_heard} lower-priority adverts"
    );
    let t = sim.now();
    sim.heal_all();
    sim.run_for(Duration::from_secs(2));
    assert_eq!(sim.masters(), vec![m]);
    assert!(
        sim.transitions()
            .iter()
            .any(|r| r.time >= t && r.node == b && r.to == State::Backup)
    );
}

/// A scripted run and its human-readable transcript.
#[test]
fn scripted_run_and_transcript() {
    let mut sim = Sim::new(SimConfig::default());
    for (host, prio) in [(1u8, 150u8), (2, 100)] {
        let mut c = RouterConfig::new(Vrid::new(51).unwrap(), addr(host), vec![addr(100)]);
        c.priority = Priority(prio);
        sim.add_router(c).unwrap();
    }
    let (r1, r2) = (NodeId(0), NodeId(1));
    sim.run_script([
        Command::RunFor(Duration::from_secs(5)),
        Command::Event(r1, Event::Shutdown),
        Command::RunFor(Duration::from_secs(2)),
        Command::Event(r1, Event::Startup),
        Command::RunFor(Duration::from_secs(5)),
    ])
    .unwrap();
    let lines: Vec<String> = sim.transitions().iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "0.000000s r1 INIT -> BACKUP (Startup)",
            "0.000000s r2 INIT -> BACKUP (Startup)",
            "3.414062s r1 BACKUP -> MASTER (MasterDown)",
            "5.000000s r1 MASTER -> INIT (Shutdown)",
            "5.609475s r2 BACKUP -> MASTER (MasterStopped)",
            "7.000000s r1 INIT -> BACKUP (Startup)",
            "10.414062s r1 BACKUP -> MASTER (MasterDown)",
            "10.414162s r2 MASTER -> BACKUP (HigherPriority)",
        ]
    );
    assert!(sim.apply(Command::Restart(NodeId(9))).is_err());
    assert_eq!(sim.masters(), vec![r1]);
    let _ = r2;
}
