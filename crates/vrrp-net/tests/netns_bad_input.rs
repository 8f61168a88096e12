//! Bad input on the wire: wrong TTL, bad checksum, wrong auth, truncated, wrong VRID and a
//! foreign version are counted by reason, and the Master does not change state although each
//! of them carries a higher priority.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::mpsc;
use std::time::Duration;
use vrrp_fsm::{InitialState, RouterConfig, State};
use vrrp_net::driver::{self, DriverConfig, InstanceConfig, UnitConfig, VipConfig};
use vrrp_net::netns;
use vrrp_net::socket::{SocketConfig, VRRP_GROUP_V4, VrrpSocket};
use vrrp_proto::{Advertisement, Auth, ChecksumMode, Priority, Version, Vrid};

fn advert(version: Version, vrid: u8, password: &[u8]) -> Advertisement {
    let mut b = Advertisement::builder(version, Vrid::new(vrid).unwrap())
        .priority(Priority(200))
        .address(Ipv4Addr::new(192, 0, 2, 100));
    if version == Version::V2 {
        b = b.auth(Auth::simple_password(password));
    }
    b.build()
}

fn encode(a: &Advertisement) -> Vec<u8> {
    let mut buf = [0u8; 128];
    let n = a
        .emit(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)),
            IpAddr::V4(VRRP_GROUP_V4),
            ChecksumMode::PseudoHeader,
            &mut buf,
        )
        .unwrap();
    buf[..n].to_vec()
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_bad_packets_are_counted_and_change_nothing() {
    let lan = common::lan("vnbad", 2);
    let (h1, h2) = (
        lan.hosts[0].name().to_owned(),
        lan.hosts[1].name().to_owned(),
    );
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let router = netns::spawn_in(&h1, move || async move {
        let vip: IpAddr = "192.0.2.100".parse().unwrap();
        let mut r = RouterConfig::new(
            Vrid::new(51).unwrap(),
            "0.0.0.0".parse().unwrap(),
            vec![vip],
        );
        r.name = "VI_1".into();
        r.initial_state = InitialState::Master;
        r.auth = Auth::simple_password(b"s3cret");
        let cfg = DriverConfig {
            units: vec![UnitConfig::Instance(Box::new(InstanceConfig::new(
                r,
                "eth0",
                vec![VipConfig::host(vip)],
            )))],
            ..Default::default()
        };
        let mut handle = driver::start(cfg).unwrap();
        let mut events = handle.take_events().unwrap();
        let mut status = handle.status();
        status
            .wait_for(|m| m.get("VI_1").is_some_and(|s| s.state == State::Master))
            .await
            .unwrap();
        while events.try_recv().is_ok() {}
        ready_tx.send(()).unwrap();
        tokio::task::spawn_blocking(move || done_rx.recv())
            .await
            .unwrap()
            .unwrap();
        let stats = handle.stats().await.unwrap();
        let state = status.borrow().get("VI_1").map(|s| s.state);
        let mut later = Vec::new();
        while let Ok(e) = events.try_recv() {
            later.push(e);
        }
        handle.shutdown().await;
        (stats, state, later)
    });
    ready_rx.recv_timeout(Duration::from_secs(15)).unwrap();

    netns::spawn_in(&h2, || async {
        let s = VrrpSocket::open(&SocketConfig::multicast("eth0", false)).unwrap();
        let group = IpAddr::V4(VRRP_GROUP_V4);
        let good = encode(&advert(Version::V2, 51, b"s3cret"));
        // Wrong TTL.
        s.send_to_with_ttl(group, &good, 64).await.unwrap();
        // Bad checksum.
        let mut bad = good.clone();
        bad[6] ^= 0xff;
        s.send_to(group, &bad).await.unwrap();
        // Wrong password.
        s.send_to(group, &encode(&advert(Version::V2, 51, b"wrong")))
            .await
            .unwrap();
        // Truncated.
        s.send_to(group, &good[..6]).await.unwrap();
        // Another VRID.
        s.send_to(group, &encode(&advert(Version::V2, 52, b"s3cret")))
            .await
            .unwrap();
        // A VRRPv3 advert to a VRRPv2 router.
        s.send_to(group, &encode(&advert(Version::V3, 51, b"")))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    })
    .join()
    .unwrap()
    .unwrap();
    done_tx.send(()).unwrap();
    let (stats, state, later) = router.join().unwrap().unwrap();

    assert_eq!(state, Some(State::Master), "no state change");
    assert!(later.is_empty(), "no events: {later:?}");
    let count = |k: &str| stats.rx_errors.get(k).copied().unwrap_or(0);
    assert_eq!(count("bad_ttl"), 1, "{:?}", stats.rx_errors);
    assert_eq!(count("bad_checksum"), 1, "{:?}", stats.rx_errors);
    assert_eq!(count("truncated"), 1, "{:?}", stats.rx_errors);
    assert_eq!(count("unknown_vrid"), 1, "{:?}", stats.rx_errors);
    let auth = count("AuthMismatch") + count("auth_mismatch");
    assert_eq!(auth, 1, "{:?}", stats.rx_errors);
    let version = count("WrongVersion") + count("version_mismatch");
    assert_eq!(version, 1, "{:?}", stats.rx_errors);
}
