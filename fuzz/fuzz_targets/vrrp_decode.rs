//! Fuzz the VRRP decoders: no input may panic, and whatever decodes re-encodes to bytes that
//! decode to the same advertisement (and, for the IP-level decoders, verify again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vrrp_proto::checksum::VRRP_MULTICAST_V6;
use vrrp_proto::{
    AddressFamily, AdvertView, Advertisement, ChecksumMode, Packet, RxChecksum, RxPolicy, Version,
    build_ipv4_advert, decode_ipv4, decode_ipv6, decode_ipv6_packet,
};

/// The Internet checksum of `bytes` (RFC 1071).
fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// `data` as an IPv4 packet with a valid header checksum and a valid VRRP checksum
/// (pseudo-header form), when it is long enough to carry both.
fn with_checksums(data: &[u8]) -> Option<Vec<u8>> {
    let ihl = usize::from(data.first()? & 0x0f) * 4;
    if ihl < 20 || data.len() < ihl + 8 {
        return None;
    }
    let mut pkt = data.to_vec();
    let total = u16::try_from(pkt.len()).ok()?;
    pkt[2..4].copy_from_slice(&total.to_be_bytes());
    let src = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&pkt[12..16]).ok()?));
    let dst = IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(&pkt[16..20]).ok()?));
    let mut vrrp = Packet::new_unchecked(&mut pkt[ihl..], AddressFamily::Ipv4);
    vrrp.fill_checksum(src, dst, ChecksumMode::PseudoHeader)
        .ok()?;
    pkt[10..12].copy_from_slice(&[0, 0]);
    let sum = internet_checksum(&pkt[..ihl]);
    pkt[10..12].copy_from_slice(&sum.to_be_bytes());
    Some(pkt)
}

fuzz_target!(|data: &[u8]| {
    let policy = RxPolicy {
        checksum: RxChecksum::AcceptAny,
        version: None,
    };

    // What an IPv4 raw socket delivers.
    if let Ok(rx) = decode_ipv4(data, &policy) {
        let advert = rx.advert.to_advertisement();
        if let (IpAddr::V4(src), IpAddr::V4(dst), Some(id)) = (rx.src, rx.dst, rx.ipv4_ident) {
            let mut buf = [0u8; 2048];
            let n = build_ipv4_advert(&advert, src, dst, id, rx.checksum, &mut buf)
                .expect("a decoded advert re-encodes");
            let again = decode_ipv4(&buf[..n], &policy).expect("a re-encoded advert decodes");
            assert_eq!(again.advert.to_advertisement(), advert);
        }
    }

    // The same with both checksums repaired, so the fuzzer reaches the field checks and the
    // re-encode behind them.
    if let Some(fixed) = with_checksums(data) {
        if let Ok(rx) = decode_ipv4(&fixed, &policy) {
            let expected = match rx.advert.version {
                Version::V2 => ChecksumMode::MessageOnly,
                Version::V3 => ChecksumMode::PseudoHeader,
            };
            assert_eq!(rx.checksum, expected);
        }
    }

    // Whole IPv6 packets, and IPv6 payloads with control-data addresses.
    let _ = decode_ipv6_packet(data, &policy);
    if let Some((&hop, payload)) = data.split_first() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        if let Ok(rx) = decode_ipv6(src, VRRP_MULTICAST_V6, hop, payload, &policy) {
            let advert = rx.advert.to_advertisement();
            let mut buf = [0u8; 4200];
            let n = advert
                .emit(rx.src, rx.dst, rx.checksum, &mut buf)
                .expect("a decoded advert re-encodes");
            let again = decode_ipv6(src, VRRP_MULTICAST_V6, hop, &buf[..n], &policy)
                .expect("a re-encoded advert decodes");
            assert_eq!(again.advert.to_advertisement(), advert);
        }
    }

    // The bare message, both families, without checksum verification.
    for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
        if let Ok(view) = AdvertView::parse(data, family) {
            let advert = view.to_advertisement();
            let mut buf = [0u8; 4200];
            let n = advert
                .emit_without_checksum(family, &mut buf)
                .expect("a decoded advert re-encodes");
            assert_eq!(Advertisement::parse(&buf[..n], family), Ok(advert));
        }
    }
});
