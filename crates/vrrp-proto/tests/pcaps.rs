//! Every frame keepalived 2.2.7 sent in `shared/pcaps/` decodes, verifies and re-encodes
//! byte-identical: VRRP adverts (v2, v3 IPv4 at 1 s and 100 ms, v3 IPv6, priority-0 stops),
//! gratuitous ARPs and unsolicited neighbour advertisements.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vrrp_proto::announce::multicast_mac;
use vrrp_proto::ip::decode_ipv6_packet;
use vrrp_proto::{
    AddressFamily, Auth, ChecksumMode, MacAddr, RxChecksum, RxPolicy, Version, Vrid,
    build_ipv4_advert, build_ipv6_advert, decode_ipv4, garp_frame, unsolicited_na_frame,
    virtual_mac,
};

/// What one capture held.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Tally {
    vrrp: usize,
    garp: usize,
    na: usize,
    /// Router solicitations the kernel sent; not ours to build.
    other: usize,
    stops: usize,
    intervals: Vec<u16>,
    first_vrrp: Option<(Vec<u8>, usize)>,
}

fn check_frame(name: &str, frame: &[u8], tally: &mut Tally) {
    let eth_dst = MacAddr(frame[0..6].try_into().unwrap());
    let eth_src = MacAddr(frame[6..12].try_into().unwrap());
    let ether_type = u16::from_be_bytes([frame[12], frame[13]]);
    let ip = &frame[14..];
    if name.contains("vmac") && ether_type != 0x86dd {
        // With use_vmac, adverts and GARPs come from the virtual MAC (after the first
        // frames, keepalived also sends from the base interface).
        assert!(
            eth_src == virtual_mac(AddressFamily::Ipv4, Vrid::new(51).unwrap())
                || eth_src == MacAddr([2, 0, 0, 0, 0, 1]),
            "{name}: unexpected source MAC {eth_src}"
        );
    }
    match ether_type {
        0x0800 => {
            assert_eq!(ip[9], 112, "{name}: IPv4 frame that is not VRRP");
            let rx = decode_ipv4(ip, &RxPolicy::default()).unwrap_or_else(|e| {
                panic!("{name}: keepalived advert refused: {e}");
            });
            // keepalived's default v3 IPv4 checksum includes the pseudo-header.
            let expected_mode = match rx.advert.version {
                Version::V2 => ChecksumMode::MessageOnly,
                Version::V3 => ChecksumMode::PseudoHeader,
            };
            assert_eq!(rx.checksum, expected_mode, "{name}");
            let any = RxPolicy {
                checksum: RxChecksum::AcceptAny,
                ..RxPolicy::default()
            };
            assert_eq!(decode_ipv4(ip, &any).unwrap().checksum, expected_mode);
            assert_eq!(rx.ttl, 255);
            assert_eq!(Some(eth_dst), multicast_mac(rx.dst), "{name}");

            let advert = rx.advert.to_advertisement();
            let (IpAddr::V4(src), IpAddr::V4(dst)) = (rx.src, rx.dst) else {
                panic!("{name}: IPv4 decode gave non-IPv4 addresses");
            };
            let mut buf = [0u8; 1500];
            let n = build_ipv4_advert(
                &advert,
                src,
                dst,
                rx.ipv4_ident.unwrap(),
                rx.checksum,
                &mut buf,
            )
            .unwrap();
            assert_eq!(&buf[..n], ip, "{name}: IPv4 advert re-encode differs");
            tally.record(&rx.advert, ip, 20);
        }
        0x86dd if ip[6] == 112 => {
            let rx = decode_ipv6_packet(ip, &RxPolicy::default())
                .unwrap_or_else(|e| panic!("{name}: keepalived advert refused: {e}"));
            assert_eq!(rx.checksum, ChecksumMode::PseudoHeader);
            assert_eq!(rx.ttl, 255);
            assert_eq!(Some(eth_dst), multicast_mac(rx.dst), "{name}");
            let advert = rx.advert.to_advertisement();
            let (IpAddr::V6(src), IpAddr::V6(dst)) = (rx.src, rx.dst) else {
                panic!("{name}: IPv6 decode gave non-IPv6 addresses");
            };
            // The payload, as handed to the kernel, is byte-identical...
            let mut payload = [0u8; 1500];
            let n = advert
                .emit(rx.src, rx.dst, ChecksumMode::PseudoHeader, &mut payload)
                .unwrap();
            assert_eq!(&payload[..n], &ip[40..], "{name}: IPv6 payload differs");
            // ...and so is the whole packet, but for the kernel's random flow label.
            let mut buf = [0u8; 1500];
            let n = build_ipv6_advert(&advert, src, dst, &mut buf).unwrap();
            buf[1] = (buf[1] & 0xf0) | (ip[1] & 0x0f);
            buf[2..4].copy_from_slice(&ip[2..4]);
            assert_eq!(&buf[..n], ip, "{name}: IPv6 advert re-encode differs");
            tally.record(&rx.advert, ip, 40);
        }
        0x86dd if ip[6] == 58 && ip[40] == 136 => {
            let target = Ipv6Addr::from(<[u8; 16]>::try_from(&ip[48..64]).unwrap());
            let mut buf = [0u8; 128];
            let n = unsolicited_na_frame(eth_src, target, &mut buf).unwrap();
            assert_eq!(&buf[..n], frame, "{name}: unsolicited NA re-encode differs");
            tally.na += 1;
        }
        0x86dd if ip[6] == 58 && ip[40] == 133 => tally.other += 1,
        0x0806 => {
            let sender_mac = MacAddr(ip[8..14].try_into().unwrap());
            let sender_ip = Ipv4Addr::from(<[u8; 4]>::try_from(&ip[14..18]).unwrap());
            assert_eq!(sender_mac, eth_src);
            let mut buf = [0u8; 64];
            let n = garp_frame(sender_mac, sender_ip, &mut buf).unwrap();
            assert_eq!(&buf[..n], frame, "{name}: GARP re-encode differs");
            tally.garp += 1;
        }
        other => panic!("{name}: unexpected frame type {other:#06x}"),
    }
}

impl Tally {
    fn record(&mut self, advert: &vrrp_proto::AdvertView<'_>, ip: &[u8], header: usize) {
        assert_eq!(advert.vrid, Vrid::new(51).unwrap());
        let vip: IpAddr = match advert.family {
            AddressFamily::Ipv4 => Ipv4Addr::new(192, 0, 2, 100).into(),
            AddressFamily::Ipv6 => "2001:db8::100".parse::<Ipv6Addr>().unwrap().into(),
        };
        assert!(advert.addresses_equal(&[vip]));
        self.vrrp += 1;
        if advert.priority.is_stop() {
            self.stops += 1;
        }
        if !self.intervals.contains(&advert.interval.centis()) {
            self.intervals.push(advert.interval.centis());
        }
        if self.first_vrrp.is_none() {
            self.first_vrrp = Some((ip.to_vec(), header));
        }
    }
}

fn tally(name: &str) -> Tally {
    let bytes = std::fs::read(common::pcap_dir().join(name)).unwrap();
    let mut t = Tally::default();
    for frame in common::read_pcap(&bytes) {
        check_frame(name, &frame, &mut t);
    }
    t
}

#[test]
fn every_keepalived_frame_round_trips() {
    let mut names: Vec<String> = std::fs::read_dir(common::pcap_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".pcap"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 26, "expected the 26 captures of shared/pcaps");
    let mut totals = BTreeMap::new();
    for name in &names {
        let t = tally(name);
        assert!(t.vrrp > 0, "{name}: no VRRP packet");
        // Each capture holds one takeover's GARP or NA burst(s) of 5.
        assert_eq!((t.garp + t.na) % 5, 0, "{name}: {t:?}");
        // The interval in the name: adv1 = 100 cs, adv0.1 = 10 cs.
        let expected_interval = if name.contains("adv0.1") { 10 } else { 100 };
        if !name.starts_with("decode-") {
            assert_eq!(t.intervals, vec![expected_interval], "{name}");
        }
        if name.starts_with("graceful-term") {
            assert_eq!(t.stops, 1, "{name}: one priority-0 advert on stop");
        }
        totals.insert(name.clone(), (t.vrrp, t.garp, t.na));
    }
    // Cross-check against tshark's count of VRRP frames per file.
    for (name, vrrp) in [
        ("decode-v2-ipv4.pcap", 6),
        ("decode-v3-ipv6.pcap", 6),
        ("failover-kill-v3-ipv4-adv0.1.pcap", 14),
        ("graceful-term-v3-ipv6-adv0.1.pcap", 15),
        ("loss-v3-ipv4-adv0.1-excerpt.pcap", 25),
        ("preempt-v3-ipv4-adv0.1-nopreempt.pcap", 44),
    ] {
        assert_eq!(totals[name].0, vrrp, "{name}");
    }
    let sum: usize = totals.values().map(|t| t.0).sum();
    assert_eq!(sum, 260, "VRRP adverts over all captures (tshark -Y vrrp)");
}

/// The fields tshark printed for frame 1 of a `decode-*` capture.
fn tshark_fields(txt: &str) -> BTreeMap<&'static str, String> {
    let keys = [
        ("Virtual Rtr ID: ", "vrid"),
        ("Priority: ", "priority"),
        ("Addr Count: ", "count"),
        ("Adver Int: ", "interval"),
        ("Checksum: ", "checksum"),
        ("IP Address: ", "address"),
        ("IPv6 Address: ", "address"),
        ("Authentication String: ", "auth"),
        ("Auth Type: ", "auth_type"),
    ];
    let mut out = BTreeMap::new();
    let section = txt
        .split("Virtual Router Redundancy Protocol")
        .nth(1)
        .unwrap()
        .split("Frame 2:")
        .next()
        .unwrap();
    for line in section.lines() {
        let line = line.trim();
        // Bit-field lines carry the value after " = NAME: ".
        let line = line.rsplit(" = ").next().unwrap();
        for (prefix, key) in keys {
            if let Some(v) = line.strip_prefix(prefix) {
                let v = v.split_whitespace().next().unwrap().to_string();
                out.entry(key).or_insert(v);
            }
        }
    }
    out
}

#[test]
fn decode_captures_match_tshark() {
    for name in [
        "decode-v2-ipv4",
        "decode-v2-ipv4-authpass",
        "decode-v3-ipv4",
        "decode-v3-ipv4-vmac",
        "decode-v3-ipv6",
    ] {
        let txt = std::fs::read_to_string(common::pcap_dir().join(format!("{name}.txt"))).unwrap();
        let want = tshark_fields(&txt);
        let t = tally(&format!("{name}.pcap"));
        let (ip, header) = t.first_vrrp.unwrap();
        let family = if header == 20 {
            AddressFamily::Ipv4
        } else {
            AddressFamily::Ipv6
        };
        let view = vrrp_proto::AdvertView::parse(&ip[header..], family).unwrap();
        assert_eq!(view.vrid.get().to_string(), want["vrid"], "{name}");
        assert_eq!(view.priority.get().to_string(), want["priority"], "{name}");
        assert_eq!(view.count().to_string(), want["count"], "{name}");
        let interval = match view.version {
            Version::V2 => u16::from(view.interval.secs_v2()),
            Version::V3 => view.interval.centis(),
        };
        assert_eq!(interval.to_string(), want["interval"], "{name}");
        assert_eq!(
            format!("{:#06x}", view.checksum),
            want["checksum"],
            "{name}"
        );
        assert_eq!(
            view.addresses().next().unwrap().to_string(),
            want["address"],
            "{name}"
        );
        match view.auth {
            Auth::SimplePassword(p) => {
                let s = String::from_utf8(p.iter().copied().take_while(|&b| b != 0).collect());
                assert_eq!(s.unwrap(), want["auth"], "{name}");
                assert!(want["auth_type"].starts_with("Simple"));
            }
            Auth::None => assert!(!want.contains_key("auth")),
            Auth::Ah => panic!("{name}: AH"),
        }
    }
}
