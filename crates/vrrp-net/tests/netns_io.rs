//! The VRRP I/O layer on real kernels, in throwaway network namespaces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::mpsc;
use std::time::Duration;
use vrrp_net::socket::{SocketConfig, VRRP_GROUP_V4, VRRP_GROUP_V6, VrrpSocket};
use vrrp_net::{AddressManager, Announcer, InterfaceInfo, LinkWatcher, Scope, Vip, netns};

const IGNORE: &str = "tier netns: needs root and network namespaces (scripts/test netns)";

async fn recv_timeout(s: &VrrpSocket) -> Option<vrrp_net::RxPacket> {
    tokio::time::timeout(Duration::from_secs(3), s.recv())
        .await
        .ok()
        .map(|r| r.expect("recv"))
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_raw_sockets_carry_vrrp_both_families() {
    let _ = IGNORE;
    let lan = common::lan("vnio", 2);
    let (h1, h2) = (
        lan.hosts[0].name().to_owned(),
        lan.hosts[1].name().to_owned(),
    );
    let (ready_tx, ready_rx) = mpsc::channel::<()>();

    let receiver = netns::spawn_in(&h2, move || async move {
        let v4 = VrrpSocket::open(&SocketConfig::multicast("eth0", false)).unwrap();
        let v6 = VrrpSocket::open(&SocketConfig::multicast("eth0", true)).unwrap();
        ready_tx.send(()).unwrap();
        let a = recv_timeout(&v4).await.expect("v4 advert");
        let b = recv_timeout(&v4).await.expect("v4 advert with ttl 1");
        let c = recv_timeout(&v6).await.expect("v6 advert");
        // The v6 packet with a bad checksum must have been dropped by the kernel: the next
        // one is the good one sent after it.
        let d = recv_timeout(&v6).await.expect("second v6 advert");
        (a, b, c, d)
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();

    let sender = netns::spawn_in(&h1, move || async move {
        let v4 = VrrpSocket::open(&SocketConfig::multicast("eth0", false)).unwrap();
        let v6 = VrrpSocket::open(&SocketConfig::multicast("eth0", true)).unwrap();
        assert_eq!(v4.source(), IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        v4.send_advert(|_, _| b"v4-one".to_vec()).await.unwrap();
        v4.send_to_with_ttl(IpAddr::V4(VRRP_GROUP_V4), b"v4-ttl", 1)
            .await
            .unwrap();
        // A VRRPv3 message whose checksum field (bytes 6..8) the kernel fills in.
        v6.send_advert(|_, _| vec![0x31, 1, 100, 1, 0, 100, 0, 0])
            .await
            .unwrap();
        // The same through a raw socket without IPV6_CHECKSUM: a wrong checksum on the wire.
        let raw = socket2::Socket::new(
            socket2::Domain::IPV6,
            socket2::Type::RAW,
            Some(socket2::Protocol::from(112)),
        )
        .unwrap();
        raw.set_multicast_hops_v6(255).unwrap();
        raw.set_multicast_if_v6(v6.ifindex()).unwrap();
        let dst = std::net::SocketAddrV6::new(VRRP_GROUP_V6, 0, 0, v6.ifindex());
        raw.send_to(&[0x31, 2, 100, 1, 0, 100, 0xde, 0xad], &dst.into())
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        v6.send_advert(|_, _| vec![0x31, 3, 100, 1, 0, 100, 0, 0])
            .await
            .unwrap();
        v6.source()
    });
    let h1_ll = sender.join().unwrap().unwrap();
    let (a, b, c, d) = receiver.join().unwrap().unwrap();

    assert_eq!(a.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(a.dst, IpAddr::V4(VRRP_GROUP_V4));
    assert_eq!(a.ttl, 255);
    assert_eq!(a.payload, b"v4-one");
    assert_eq!(b.ttl, 1, "the TTL is reported as received");
    assert_eq!(b.payload, b"v4-ttl");

    assert!(matches!(h1_ll, IpAddr::V6(a) if a.is_unicast_link_local()));
    assert_eq!(c.src, h1_ll);
    assert_eq!(c.dst, IpAddr::V6(VRRP_GROUP_V6));
    assert_eq!(c.ttl, 255);
    assert_eq!(&c.payload[..6], &[0x31, 1, 100, 1, 0, 100]);
    assert_ne!(&c.payload[6..8], &[0, 0], "kernel computed the checksum");
    assert_eq!(d.payload[1], 3, "the bad-checksum packet was dropped");
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_unicast_peers_and_source() {
    let lan = common::lan("vnuc", 2);
    let (h1, h2) = (
        lan.hosts[0].name().to_owned(),
        lan.hosts[1].name().to_owned(),
    );
    let (ready_tx, ready_rx) = mpsc::channel::<()>();
    let receiver = netns::spawn_in(&h2, move || async move {
        let mut cfg = SocketConfig::multicast("eth0", false);
        cfg.destination = vrrp_net::Destination::Unicast(vec!["192.0.2.1".parse().unwrap()]);
        let v4 = VrrpSocket::open(&cfg).unwrap();
        ready_tx.send(()).unwrap();
        recv_timeout(&v4).await.expect("unicast advert")
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    netns::spawn_in(&h1, move || async move {
        let mut cfg = SocketConfig::multicast("eth0", false);
        cfg.source = Some("192.0.2.1".parse().unwrap());
        cfg.destination = vrrp_net::Destination::Unicast(vec!["192.0.2.2".parse().unwrap()]);
        let v4 = VrrpSocket::open(&cfg).unwrap();
        v4.send_advert(|s, d| format!("{s}>{d}").into_bytes())
            .await
            .unwrap();
    })
    .join()
    .unwrap()
    .unwrap();
    let p = receiver.join().unwrap().unwrap();
    assert_eq!(p.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(p.dst, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2)));
    assert_eq!(p.ttl, 255);
    assert_eq!(p.payload, b"192.0.2.1>192.0.2.2");
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_vips_are_added_and_removed_with_options() {
    let lan = common::lan("vnvip", 1);
    let h = lan.hosts[0].clone();
    let name = h.name().to_owned();
    let v4 = Vip {
        addr: "192.0.2.100".parse().unwrap(),
        prefix_len: 24,
        ifindex: 0,
        broadcast: Some(Ipv4Addr::new(192, 0, 2, 255)),
        scope: Scope::Global,
        label: Some("eth0:vip".into()),
        nodad: false,
    };
    let v6 = Vip {
        addr: "2001:db8::100".parse().unwrap(),
        prefix_len: 64,
        ifindex: 0,
        broadcast: None,
        scope: Scope::Global,
        label: None,
        nodad: true,
    };
    let link = Vip {
        scope: Scope::Link,
        ..Vip::host("198.51.100.7".parse().unwrap(), 0)
    };
    let (step_tx, step_rx) = mpsc::channel::<&'static str>();
    let (ack_tx, ack_rx) = mpsc::channel::<Vec<IpAddr>>();
    let t = netns::spawn_in(&name, move || async move {
        let idx = InterfaceInfo::lookup("eth0").unwrap().index;
        let vips: Vec<Vip> = [v4, v6, link]
            .into_iter()
            .map(|v| Vip { ifindex: idx, ..v })
            .collect();
        let m = AddressManager::new().unwrap();
        for v in &vips {
            m.add(v).unwrap();
            m.add(v).unwrap(); // idempotent
        }
        ack_tx.send(m.list(idx).unwrap()).unwrap();
        step_rx.recv().unwrap();
        for v in &vips {
            m.remove(v).unwrap();
            m.remove(v).unwrap(); // idempotent
        }
        ack_tx.send(m.list(idx).unwrap()).unwrap();
    });
    let listed = ack_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(listed.contains(&"192.0.2.100".parse().unwrap()));
    assert!(listed.contains(&"2001:db8::100".parse().unwrap()));
    let shown = common::ip_out(&h, &["addr", "show", "dev", "eth0"]);
    assert!(
        shown.contains("inet 192.0.2.100/24 brd 192.0.2.255 scope global secondary eth0:vip"),
        "{shown}"
    );
    assert!(shown.contains("inet 198.51.100.7/32 scope link"), "{shown}");
    let shown6 = common::ip_out(&h, &["-6", "addr", "show", "dev", "eth0"]);
    let line = shown6
        .lines()
        .find(|l| l.contains("2001:db8::100/64"))
        .expect(&shown6);
    assert!(line.contains("nodad"), "{line}");
    step_tx.send("remove").unwrap();
    let listed = ack_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(!listed.contains(&"192.0.2.100".parse().unwrap()));
    assert!(!listed.contains(&"2001:db8::100".parse().unwrap()));
    assert!(!listed.contains(&"198.51.100.7".parse().unwrap()));
    assert!(
        listed.contains(&"192.0.2.1".parse().unwrap()),
        "primary untouched"
    );
    t.join().unwrap().unwrap();
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_link_events_report_down_and_up() {
    let lan = common::lan("vnlink", 1);
    let h = lan.hosts[0].clone();
    let name = h.name().to_owned();
    let (ready_tx, ready_rx) = mpsc::channel::<u32>();
    let t = netns::spawn_in(&name, move || async move {
        let idx = InterfaceInfo::lookup("eth0").unwrap().index;
        assert!(vrrp_net::link::is_up("eth0").unwrap());
        let mut w = LinkWatcher::spawn().unwrap();
        ready_tx.send(idx).unwrap();
        let mut seen = Vec::new();
        while let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(5), w.next()).await {
            if ev.ifindex == idx {
                seen.push(ev.up);
                if seen.contains(&false) && ev.up {
                    break;
                }
            }
        }
        seen
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    h.ip(&["link", "set", "eth0", "down"]).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    h.ip(&["link", "set", "eth0", "up"]).unwrap();
    let seen = t.join().unwrap().unwrap();
    let down = seen.iter().position(|u| !u).expect("a down event");
    assert!(
        seen[down..].contains(&true),
        "an up event after the down: {seen:?}"
    );
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_garp_and_na_update_neighbour_caches() {
    let lan = common::lan("vngarp", 2);
    let (h1, h2) = (lan.hosts[0].clone(), lan.hosts[1].clone());
    let mac1 = common::mac_of(&h1, "eth0");
    // h2 believes the VIPs live at a stale, wrong address.
    for (vip, fam) in [("192.0.2.100", "-4"), ("2001:db8::100", "-6")] {
        h2.ip(&[
            fam,
            "neigh",
            "replace",
            vip,
            "lladdr",
            "02:00:00:00:00:99",
            "dev",
            "eth0",
            "nud",
            "stale",
        ])
        .unwrap();
    }
    let name = h1.name().to_owned();
    netns::spawn_in(&name, move || async move {
        let info = InterfaceInfo::lookup("eth0").unwrap();
        let mac = info.mac.unwrap();
        let a = Announcer::new().unwrap();
        a.garp(info.index, mac, Ipv4Addr::new(192, 0, 2, 100))
            .unwrap();
        a.unsolicited_na(
            info.index,
            mac,
            "2001:db8::100".parse::<Ipv6Addr>().unwrap(),
        )
        .unwrap();
    })
    .join()
    .unwrap()
    .unwrap();
    let mut ok = (false, false);
    for _ in 0..50 {
        let n4 = common::ip_out(&h2, &["-4", "neigh", "show", "192.0.2.100"]);
        let n6 = common::ip_out(&h2, &["-6", "neigh", "show", "2001:db8::100"]);
        ok = (n4.contains(&mac1), n6.contains(&mac1));
        if ok == (true, true) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        ok,
        (true, true),
        "h2's neighbour entries now point at h1 ({mac1})"
    );
}
