//! Many instances on one socket: the driver's batched paths (a Master's adverts coalesced and
//! sent with `sendmmsg`, a Backup gathering each burst and timing every advert by its kernel
//! receive time). Election, no false takeover while the Master is alive, every advert
//! accepted, and takeover of every instance when the Master crashes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc;
use std::time::Duration;
use vrrp_fsm::{RouterConfig, State};
use vrrp_net::driver::{self, DriverConfig, DriverStats, InstanceConfig, UnitConfig, VipConfig};
use vrrp_net::netns;
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};

const INSTANCES: u8 = 30;

enum Cmd {
    Kill,
    Stop,
    Stats(mpsc::Sender<DriverStats>),
}

type States = BTreeMap<String, State>;

fn config(prio: u8) -> DriverConfig {
    let units = (1..=INSTANCES)
        .map(|v| {
            let vip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, v));
            let mut r =
                RouterConfig::new(Vrid::new(v).unwrap(), "0.0.0.0".parse().unwrap(), vec![vip]);
            r.name = format!("VI_{v}");
            r.version = Version::V3;
            r.advert_interval = AdvertInterval::from_centis(10).unwrap();
            r.priority = Priority(prio);
            UnitConfig::Instance(Box::new(InstanceConfig::new(
                r,
                "eth0",
                vec![VipConfig::host(vip)],
            )))
        })
        .collect();
    DriverConfig {
        units,
        ..Default::default()
    }
}

fn start_router(
    ns: &str,
    prio: u8,
    states: mpsc::Sender<States>,
) -> (
    tokio::sync::mpsc::UnboundedSender<Cmd>,
    std::thread::JoinHandle<Result<(), vrrp_net::NetError>>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let t = netns::spawn_in(ns, move || async move {
        let handle = driver::start(config(prio)).expect("driver");
        let mut status = handle.status();
        loop {
            tokio::select! {
                c = rx.recv() => match c {
                    Some(Cmd::Kill) | None => { handle.abort(); return; }
                    Some(Cmd::Stop) => { handle.shutdown().await; return; }
                    Some(Cmd::Stats(reply)) => { let _ = reply.send(handle.stats().await.unwrap()); }
                },
                r = status.changed() => {
                    if r.is_err() { return; }
                    let map = status
                        .borrow_and_update()
                        .iter()
                        .map(|(k, v)| (k.clone(), v.state))
                        .collect();
                    let _ = states.send(map);
                }
            }
        }
    });
    (tx, t)
}

/// Waits until every instance is in `state`; returns the last map seen.
fn wait_all(states: &mpsc::Receiver<States>, state: State, what: &str) -> States {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let mut last = States::new();
    while std::time::Instant::now() < deadline {
        if let Ok(m) = states.recv_timeout(Duration::from_millis(100)) {
            last = m;
            if last.len() == usize::from(INSTANCES) && last.values().all(|s| *s == state) {
                return last;
            }
        }
    }
    panic!("{what}: not every instance reached {state}: {last:?}");
}

fn stats(r: &tokio::sync::mpsc::UnboundedSender<Cmd>) -> DriverStats {
    let (tx, rx) = mpsc::channel();
    r.send(Cmd::Stats(tx)).unwrap();
    rx.recv_timeout(Duration::from_secs(10)).unwrap()
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_many_instances_on_one_socket_elect_hold_and_fail_over() {
    let lan = common::lan("vnmany", 2);
    let names: Vec<String> = lan.hosts.iter().map(|h| h.name().to_owned()).collect();
    let (s1_tx, s1) = mpsc::channel();
    let (s2_tx, s2) = mpsc::channel();
    let (r1, t1) = start_router(&names[0], 150, s1_tx);
    wait_all(&s1, State::Master, "r1 alone");
    let (r2, t2) = start_router(&names[1], 100, s2_tx);
    wait_all(&s2, State::Backup, "r2 next to a Master");

    // Let the Backup take many bursts of adverts (each instance at least 30).
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let st = loop {
        let st = stats(&r2);
        let least = st
            .instances
            .values()
            .map(|c| c.adverts_received)
            .min()
            .unwrap_or(0);
        if st.instances.len() == usize::from(INSTANCES) && least >= 30 {
            break st;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "adverts did not arrive: {st:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(
        st.rx_errors.is_empty(),
        "every advert is accepted: {:?}",
        st.rx_errors
    );
    for (name, c) in &st.instances {
        assert_eq!(
            c.became_master, 0,
            "{name} took over while the Master was alive"
        );
    }
    // No state change on either side while the Master is alive.
    while let Ok(m) = s2.try_recv() {
        assert!(
            m.values().all(|s| *s == State::Backup),
            "r2 changed state: {m:?}"
        );
    }
    while let Ok(m) = s1.try_recv() {
        assert!(
            m.values().all(|s| *s == State::Master),
            "r1 changed state: {m:?}"
        );
    }
    let st1 = stats(&r1);
    for (name, c) in &st1.instances {
        assert!(
            c.adverts_sent >= 30,
            "{name} sent {} adverts",
            c.adverts_sent
        );
    }

    // Crash the Master: every instance of the Backup takes over.
    r1.send(Cmd::Kill).ok();
    t1.join().unwrap().unwrap();
    wait_all(&s2, State::Master, "r2 after the Master crashed");
    r2.send(Cmd::Stop).ok();
    t2.join().unwrap().unwrap();
}
