//! Fuzz the VRRP decoders: no input may panic, and whatever decodes re-encodes to bytes that
//! decode to the same advertisement (and, for the IP-level decoders, verify again).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv6Addr};
use vrrp_proto::checksum::VRRP_MULTICAST_V6;
use vrrp_proto::{
    AddressFamily, AdvertView, Advertisement, RxChecksum, RxPolicy, build_ipv4_advert, decode_ipv4,
    decode_ipv6, decode_ipv6_packet,
};

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
