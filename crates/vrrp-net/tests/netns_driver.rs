//! The driver running three `vrrp-fsm` routers on a bridge: election, crash of the Master,
//! graceful stop, and a client reaching the VIP on whichever router is Master.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::IpAddr;
use std::sync::mpsc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use vrrp_fsm::{RouterConfig, State};
use vrrp_net::driver::{self, DriverConfig, InstanceConfig, UnitConfig, VipConfig};
use vrrp_net::netns;
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};

enum Cmd {
    Kill,
    Stop,
}

const VIP: &str = "192.0.2.100";

fn instance(prio: u8) -> InstanceConfig {
    let vip: IpAddr = VIP.parse().unwrap();
    let mut r = RouterConfig::new(
        Vrid::new(51).unwrap(),
        "0.0.0.0".parse().unwrap(),
        vec![vip],
    );
    r.name = "VI_1".into();
    r.version = Version::V3;
    r.advert_interval = AdvertInterval::from_centis(10).unwrap();
    r.priority = Priority(prio);
    let mut v = VipConfig::host(vip);
    v.prefix_len = 24;
    InstanceConfig::new(r, "eth0", vec![v])
}

fn start_router(
    ns: &str,
    label: &'static str,
    prio: u8,
    events: mpsc::Sender<(&'static str, State)>,
) -> (
    tokio::sync::mpsc::UnboundedSender<Cmd>,
    std::thread::JoinHandle<Result<(), vrrp_net::NetError>>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let t = netns::spawn_in(ns, move || async move {
        let cfg = DriverConfig {
            units: vec![UnitConfig::Instance(Box::new(instance(prio)))],
            ..Default::default()
        };
        let handle = driver::start(cfg).expect("driver");
        let mut status = handle.status();
        let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                let _ = s.write_all(label.as_bytes()).await;
            }
        });
        let mut last = None;
        loop {
            tokio::select! {
                c = rx.recv() => {
                    match c {
                        Some(Cmd::Kill) | None => { handle.abort(); return; }
                        Some(Cmd::Stop) => { handle.shutdown().await; return; }
                    }
                }
                r = status.changed() => {
                    if r.is_err() { return; }
                    let st = status.borrow_and_update().get("VI_1").map(|s| s.state);
                    if st.is_some() && st != last {
                        last = st;
                        let _ = events.send((label, st.unwrap_or(State::Initialize)));
                    }
                }
            }
        }
    });
    (tx, t)
}

fn wait_for(
    events: &mpsc::Receiver<(&'static str, State)>,
    log: &mut Vec<(&'static str, State)>,
    who: &str,
    state: State,
) {
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if let Ok(ev) = events.recv_timeout(Duration::from_millis(100)) {
            log.push(ev);
            if ev.0 == who && ev.1 == state {
                return;
            }
        }
    }
    panic!("{who} never reached {state}; events: {log:?}");
}

fn fetch(client: &str) -> String {
    netns::spawn_in(client, || async {
        for _ in 0..50 {
            if let Ok(Ok(mut s)) = tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect((VIP, 8080)),
            )
            .await
            {
                let mut out = String::new();
                if s.read_to_string(&mut out).await.is_ok() {
                    return out;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        String::from("unreachable")
    })
    .join()
    .unwrap()
    .unwrap()
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_driver_three_routers_fail_over_and_client_follows() {
    let lan = common::lan("vndrv", 4);
    let names: Vec<String> = lan.hosts.iter().map(|h| h.name().to_owned()).collect();
    let client = names[3].clone();
    let (ev_tx, ev_rx) = mpsc::channel();
    let mut log = Vec::new();
    let (r1, t1) = start_router(&names[0], "r1", 150, ev_tx.clone());
    let (r2, t2) = start_router(&names[1], "r2", 100, ev_tx.clone());
    let (r3, t3) = start_router(&names[2], "r3", 50, ev_tx);

    wait_for(&ev_rx, &mut log, "r1", State::Master);
    assert_eq!(fetch(&client), "r1");

    // Crash the Master: no priority-0 advert; r2 (next priority) takes over.
    r1.send(Cmd::Kill).ok();
    t1.join().unwrap().unwrap();
    wait_for(&ev_rx, &mut log, "r2", State::Master);
    assert!(
        !log.contains(&("r3", State::Master)),
        "r3 must not become Master while r2 is alive: {log:?}"
    );
    assert_eq!(
        fetch(&client),
        "r2",
        "the client's ARP cache followed the GARP"
    );

    // Graceful stop: priority 0 advert, r3 takes over.
    r2.send(Cmd::Stop).ok();
    t2.join().unwrap().unwrap();
    wait_for(&ev_rx, &mut log, "r3", State::Master);
    let shown = common::ip_out(&lan.hosts[1], &["addr", "show", "dev", "eth0"]);
    assert!(
        !shown.contains(VIP),
        "a stopped master removes its VIP: {shown}"
    );
    assert_eq!(fetch(&client), "r3");
    r3.send(Cmd::Stop).ok();
    t3.join().unwrap().unwrap();
}
