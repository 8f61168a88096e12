//! Our encoded frames, dissected by Wireshark's `tshark -V`, carry no checksum, malformed or
//! expert warnings (tier `netns`, which installs tshark).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use vrrp_proto::announce::{GarpKind, garp_frame_with, multicast_mac, write_ethernet_header};
use vrrp_proto::checksum::{VRRP_MULTICAST_V4, VRRP_MULTICAST_V6};
use vrrp_proto::{
    AdvertInterval, Advertisement, Auth, ChecksumMode, MacAddr, Priority, Version, Vrid,
    build_ipv4_advert, build_ipv6_advert, garp_frame, unsolicited_na_frame,
};

const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 1]);
const PEER_MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 2]);

fn v4_frame(adv: &Advertisement, dst: Ipv4Addr, ip_id: u16, mode: ChecksumMode) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let eth_dst = multicast_mac(IpAddr::V4(dst)).unwrap_or(PEER_MAC);
    let h = write_ethernet_header(eth_dst, MAC, 0x0800, &mut buf).unwrap();
    let n = build_ipv4_advert(
        adv,
        Ipv4Addr::new(192, 0, 2, 1),
        dst,
        ip_id,
        mode,
        &mut buf[h..],
    )
    .unwrap();
    buf.truncate(h + n);
    buf
}

fn v6_frame(adv: &Advertisement) -> Vec<u8> {
    let mut buf = vec![0u8; 1514];
    let dst = VRRP_MULTICAST_V6;
    let h = write_ethernet_header(
        multicast_mac(IpAddr::V6(dst)).unwrap(),
        MAC,
        0x86dd,
        &mut buf,
    )
    .unwrap();
    let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
    let n = build_ipv6_advert(adv, src, dst, &mut buf[h..]).unwrap();
    buf.truncate(h + n);
    buf
}

fn vips_v4(n: u8) -> Vec<IpAddr> {
    (0..n)
        .map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100 + i)))
        .collect()
}

/// Runs `tshark -V` on frames and returns its text output.
fn dissect(frames: &[Vec<u8>], extra: &[&str]) -> String {
    let dir = std::env::temp_dir().join(format!("vrrp-proto-tshark-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    static RUN: AtomicUsize = AtomicUsize::new(0);
    let path = dir.join(format!(
        "frames-{}.pcap",
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, common::write_pcap(frames)).unwrap();
    let out = Command::new("tshark")
        .args(["-V", "-o", "ip.check_checksum:TRUE"])
        .args(extra)
        .arg("-r")
        .arg(&path)
        .output()
        .expect("tshark is installed (tier netns installs it)");
    // VRRP_PROTO_KEEP_PCAP=1 keeps the files for a look in Wireshark.
    if std::env::var_os("VRRP_PROTO_KEEP_PCAP").is_none() {
        let _ = std::fs::remove_file(&path);
    }
    assert!(out.status.success(), "tshark failed: {out:?}");
    String::from_utf8(out.stdout).unwrap()
}

fn assert_clean(text: &str) {
    for bad in [
        "incorrect",
        "Bad",
        "Malformed",
        "Expert Info (Warning",
        "Expert Info (Error",
        "Unknown",
    ] {
        assert!(!text.contains(bad), "tshark reports {bad:?}:\n{text}");
    }
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_tshark_dissects_our_frames() {
    let vrid = Vrid::new(51).unwrap();
    let v2 = Advertisement::builder(Version::V2, vrid)
        .priority(Priority(150))
        .addresses(vips_v4(1))
        .build();
    let v2_pass = Advertisement {
        auth: Auth::simple_password(b"s3cret"),
        ..v2.clone()
    };
    let v3 = Advertisement {
        version: Version::V3,
        ..v2.clone()
    };
    let v3_many_stop = Advertisement::builder(Version::V3, Vrid::new(255).unwrap())
        .priority(Priority::STOP)
        .interval(AdvertInterval::from_centis(10).unwrap())
        .addresses(vips_v4(20))
        .build();
    let v3_v6 = Advertisement::builder(Version::V3, vrid)
        .priority(Priority::OWNER)
        .address("2001:db8::100".parse::<Ipv6Addr>().unwrap())
        .address("2001:db8::101".parse::<Ipv6Addr>().unwrap())
        .build();
    let pseudo = ChecksumMode::PseudoHeader;
    let peer = Ipv4Addr::new(192, 0, 2, 2);
    let mut frames = vec![
        v4_frame(&v2, VRRP_MULTICAST_V4, 1, pseudo),
        v4_frame(&v2_pass, VRRP_MULTICAST_V4, 2, pseudo),
        v4_frame(&v3, VRRP_MULTICAST_V4, 3, pseudo),
        // Unicast: the pseudo-header carries the peer, as Wireshark expects.
        v4_frame(&v3, peer, 4, pseudo),
        v4_frame(&v3_many_stop, VRRP_MULTICAST_V4, 5, pseudo),
        v6_frame(&v3_v6),
    ];
    let mut buf = [0u8; 128];
    let n = garp_frame(MAC, Ipv4Addr::new(192, 0, 2, 100), &mut buf).unwrap();
    frames.push(buf[..n].to_vec());
    let n = garp_frame_with(
        GarpKind::Reply,
        MAC,
        Ipv4Addr::new(192, 0, 2, 101),
        &mut buf,
    )
    .unwrap();
    frames.push(buf[..n].to_vec());
    let n = unsolicited_na_frame(MAC, "2001:db8::100".parse().unwrap(), &mut buf).unwrap();
    frames.push(buf[..n].to_vec());

    let text = dissect(&frames, &[]);
    assert_clean(&text);
    // Six VRRP checksums, one ICMPv6 checksum, five IPv4 header checksums, all verified.
    assert_eq!(text.matches("[Checksum Status: Good]").count(), 7, "{text}");
    assert_eq!(
        text.matches("[Header checksum status: Good]").count(),
        5,
        "{text}"
    );
    assert_eq!(text.matches("[Is gratuitous: True]").count(), 2, "{text}");
    assert!(text.contains("Authentication String: s3cret"), "{text}");
    assert!(text.contains("Priority: 0 "), "{text}");
    assert!(text.contains("Addr Count: 20"), "{text}");
    assert!(text.contains("Flags: 0x20000000, Override"), "{text}");
    assert!(
        text.contains("Target link-layer address : 02:00:00:00:00:01"),
        "{text}"
    );

    // RFC 9568 message-only checksum: clean when Wireshark is told to compute it that way...
    let message_only = vec![v4_frame(
        &v3,
        VRRP_MULTICAST_V4,
        6,
        ChecksumMode::MessageOnly,
    )];
    let text = dissect(&message_only, &["-o", "vrrp.v3_checksum_as_in_v2:TRUE"]);
    assert_clean(&text);
    assert_eq!(text.matches("[Checksum Status: Good]").count(), 1, "{text}");
    // ...and flagged when it is not, which shows the check above can fail.
    let text = dissect(&message_only, &[]);
    assert!(text.contains("incorrect"), "{text}");
}
