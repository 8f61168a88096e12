//! Property tests: encode/decode round trips for every version, family and checksum mode, and
//! arbitrary bytes never panic the decoders.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use vrrp_proto::checksum::{VRRP_MULTICAST_V4, VRRP_MULTICAST_V6};
use vrrp_proto::ip::decode_ipv6_packet;
use vrrp_proto::{
    AddressFamily, AdvertInterval, AdvertView, Advertisement, Auth, ChecksumMode, Packet, Priority,
    RxChecksum, RxPolicy, Version, Vrid, build_ipv4_advert, build_ipv6_advert, decode_ipv4,
    decode_ipv6,
};

fn mode() -> impl Strategy<Value = ChecksumMode> {
    prop_oneof![
        Just(ChecksumMode::PseudoHeader),
        Just(ChecksumMode::MessageOnly),
        Just(ChecksumMode::PseudoHeaderMulticastGroup),
    ]
}

fn addr(family: AddressFamily) -> BoxedStrategy<IpAddr> {
    match family {
        AddressFamily::Ipv4 => any::<[u8; 4]>()
            .prop_map(|o| IpAddr::V4(Ipv4Addr::from(o)))
            .boxed(),
        AddressFamily::Ipv6 => any::<[u8; 16]>()
            .prop_map(|o| IpAddr::V6(Ipv6Addr::from(o)))
            .boxed(),
    }
}

/// A destination: the multicast group or a unicast peer.
fn dst(family: AddressFamily) -> BoxedStrategy<IpAddr> {
    let group = match family {
        AddressFamily::Ipv4 => IpAddr::V4(VRRP_MULTICAST_V4),
        AddressFamily::Ipv6 => IpAddr::V6(VRRP_MULTICAST_V6),
    };
    let unicast = addr(family).prop_filter("unicast", |a| !a.is_multicast());
    prop_oneof![Just(group), unicast].boxed()
}

/// A valid advertisement with its family.
fn advert() -> impl Strategy<Value = (Advertisement, AddressFamily)> {
    prop_oneof![
        Just((Version::V2, AddressFamily::Ipv4)),
        Just((Version::V3, AddressFamily::Ipv4)),
        Just((Version::V3, AddressFamily::Ipv6)),
    ]
    .prop_flat_map(|(version, family)| {
        let interval = match version {
            Version::V2 => (1u8..=255)
                .prop_map(|s| AdvertInterval::from_secs(s).unwrap())
                .boxed(),
            Version::V3 => (1u16..=4095)
                .prop_map(|c| AdvertInterval::from_centis(c).unwrap())
                .boxed(),
        };
        let auth = match version {
            Version::V2 => prop_oneof![
                Just(Auth::None),
                any::<[u8; 8]>().prop_map(Auth::SimplePassword)
            ]
            .boxed(),
            Version::V3 => Just(Auth::None).boxed(),
        };
        (
            1u8..=255,
            any::<u8>(),
            interval,
            auth,
            prop::collection::vec(addr(family), 0..=40),
        )
            .prop_map(move |(vrid, prio, interval, auth, addresses)| {
                (
                    Advertisement {
                        version,
                        vrid: Vrid::new(vrid).unwrap(),
                        priority: Priority(prio),
                        interval,
                        auth,
                        addresses,
                    },
                    family,
                )
            })
    })
}

proptest! {
    #[test]
    fn message_round_trips(
        (adv, family, src, dst) in advert().prop_flat_map(|(adv, family)| {
            (Just(adv), Just(family), addr(family), dst(family))
        }),
        mode in mode(),
    ) {
        let mut buf = vec![0u8; adv.buffer_len(family)];
        let n = adv.emit(src, dst, mode, &mut buf).unwrap();
        prop_assert_eq!(n, buf.len());
        let packet = Packet::new_checked(&buf[..], family).unwrap();
        let matched = packet.verify_checksum(src, dst, RxChecksum::Expect(mode)).unwrap();
        // v2 always reports message-only, IPv6 always the pseudo-header.
        let expected = match (adv.version, family) {
            (Version::V2, _) => ChecksumMode::MessageOnly,
            (_, AddressFamily::Ipv6) => ChecksumMode::PseudoHeader,
            _ => mode,
        };
        prop_assert_eq!(matched, expected);
        prop_assert!(packet.verify_checksum(src, dst, RxChecksum::AcceptAny).is_ok());
        prop_assert_eq!(packet.advert().unwrap().to_advertisement(), adv.clone());

        // Without a checksum: same bytes but the checksum field.
        let mut bare = vec![0u8; n];
        adv.emit_without_checksum(family, &mut bare).unwrap();
        prop_assert_eq!(&bare[..6], &buf[..6]);
        prop_assert_eq!(&bare[8..], &buf[8..n]);
        prop_assert_eq!(&bare[6..8], &[0u8, 0][..]);
    }

    #[test]
    fn ip_packets_round_trip((adv, family) in advert(), ident in any::<u16>(), mode in mode()) {
        let mut buf = [0u8; 4200];
        match family {
            AddressFamily::Ipv4 => {
                let src = Ipv4Addr::new(192, 0, 2, 1);
                let n = build_ipv4_advert(&adv, src, VRRP_MULTICAST_V4, ident, mode, &mut buf).unwrap();
                let policy = RxPolicy { checksum: RxChecksum::Expect(mode), version: Some(adv.version) };
                let rx = decode_ipv4(&buf[..n], &policy).unwrap();
                prop_assert_eq!(rx.ipv4_ident, Some(ident));
                prop_assert_eq!(rx.src, IpAddr::V4(src));
                prop_assert_eq!(rx.advert.to_advertisement(), adv);
            }
            AddressFamily::Ipv6 => {
                let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
                let n = build_ipv6_advert(&adv, src, VRRP_MULTICAST_V6, &mut buf).unwrap();
                let rx = decode_ipv6_packet(&buf[..n], &RxPolicy::default()).unwrap();
                prop_assert_eq!(rx.ttl, 255);
                prop_assert_eq!(rx.advert.to_advertisement(), adv);
            }
        }
    }

    /// The Internet checksum catches every single-bit error, so a flipped bit in any encoded
    /// message is refused (by the checksum or an earlier structural check).
    #[test]
    fn single_bit_flips_are_refused((adv, family) in advert(), bit in any::<prop::sample::Index>(), mode in mode()) {
        let (src, dst) = match family {
            AddressFamily::Ipv4 => (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::V4(VRRP_MULTICAST_V4)),
            AddressFamily::Ipv6 => (IpAddr::V6(Ipv6Addr::LOCALHOST), IpAddr::V6(VRRP_MULTICAST_V6)),
        };
        let mut buf = vec![0u8; adv.buffer_len(family)];
        adv.emit(src, dst, mode, &mut buf).unwrap();
        let i = bit.index(buf.len() * 8);
        buf[i / 8] ^= 1 << (i % 8);
        let result = Packet::new_checked(&buf[..], family)
            .and_then(|p| p.verify_checksum(src, dst, RxChecksum::Expect(mode)).map(|_| p));
        prop_assert!(result.is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200), hop in any::<u8>()) {
        let any = RxPolicy { checksum: RxChecksum::AcceptAny, version: None };
        let _ = decode_ipv4(&bytes, &any);
        let _ = decode_ipv6_packet(&bytes, &any);
        let _ = decode_ipv6(Ipv6Addr::LOCALHOST, VRRP_MULTICAST_V6, hop, &bytes, &any);
        for family in [AddressFamily::Ipv4, AddressFamily::Ipv6] {
            let unchecked = Packet::new_unchecked(&bytes[..], family);
            let _ = (unchecked.count(), unchecked.address_bytes(), unchecked.auth_data(), unchecked.interval_field());
            if let Ok(view) = AdvertView::parse(&bytes, family) {
                // Whatever decodes re-encodes to something that decodes to the same value.
                let adv = view.to_advertisement();
                let mut out = vec![0u8; adv.buffer_len(family)];
                adv.emit_without_checksum(family, &mut out).unwrap();
                prop_assert_eq!(Advertisement::parse(&out, family).unwrap(), adv);
            }
        }
    }

    /// Structured-but-random VRRP headers (valid lengths, random fields) give a value or a
    /// typed error.
    #[test]
    fn random_headers_decode_or_error(
        head in any::<[u8; 8]>(),
        count in 0u8..8,
        v6 in any::<bool>(),
        fill in any::<u8>(),
    ) {
        let family = if v6 { AddressFamily::Ipv6 } else { AddressFamily::Ipv4 };
        let version = head[0] >> 4;
        let per = if v6 { 16 } else { 4 };
        let mut bytes = head.to_vec();
        bytes[3] = count;
        bytes.extend(std::iter::repeat_n(fill, usize::from(count) * per + if version == 2 { 8 } else { 0 }));
        match AdvertView::parse(&bytes, family) {
            Ok(view) => {
                prop_assert!(view.version.number() == version);
                prop_assert_eq!(view.count(), usize::from(count));
            }
            Err(e) => prop_assert!(!e.reason().is_empty()),
        }
    }
}
