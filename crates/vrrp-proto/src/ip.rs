//! The IP layer around an advertisement: decoding what a raw socket delivers, and building the
//! packets a sender hands to one.
//!
//! - IPv4: a raw `IPPROTO_VRRP` socket delivers the IPv4 header with the message;
//!   [`decode_ipv4`] parses it. keepalived sends with `IP_HDRINCL` and its own header (TOS
//!   0xc0, TTL 255, an incrementing identification, no DF); [`build_ipv4_advert`] writes the
//!   same bytes.
//! - IPv6: the socket delivers the payload only, with the hop limit and addresses in control
//!   data; [`decode_ipv6`] takes them as arguments. The kernel builds the header and, with
//!   `IPV6_CHECKSUM`, the checksum, so a sender needs only [`Advertisement::emit`] (or
//!   [`Advertisement::emit_without_checksum`]). [`decode_ipv6_packet`] and
//!   [`build_ipv6_advert`] handle a whole IPv6 packet, for packet sockets and captures.
//!
//! Multicast packets must arrive with TTL / hop limit 255 (RFC 9568 §7.1). Unicast packets are
//! not checked here (keepalived only compares them with optional per-peer limits); the value is
//! reported in [`Received::ttl`].

use crate::checksum::{ChecksumMode, IPPROTO_VRRP, RxChecksum};
use crate::error::Error;
use crate::units::{AddressFamily, Version};
use crate::vrrp::{AdvertView, Advertisement, Packet};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use etherparse::{IpDscp, IpEcn, IpNumber, Ipv4Header, Ipv4HeaderSlice, Ipv6FlowLabel, Ipv6Header};

/// The IPv4 header length keepalived sends (no options).
pub const IPV4_HEADER_LEN: usize = 20;
/// The IPv6 header length.
pub const IPV6_HEADER_LEN: usize = 40;
/// The TOS / traffic class keepalived sends adverts with: DSCP CS6, not ECN-capable.
pub const TOS_CS6: u8 = 0xc0;
/// Why [`write_ipv4_header`] refuses a payload length.
const TOO_LONG: &str = "IPv4 payload too long";
/// IP protocol number of the IP Authentication Header (VRRPv2 auth type 2).
const IPPROTO_AH: u8 = 51;

/// What a receiver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RxPolicy {
    /// Which checksum forms are valid.
    pub checksum: RxChecksum,
    /// If set, a packet of the other version is refused with [`Error::VersionMismatch`].
    pub version: Option<Version>,
}

/// A received advertisement that passed the IP-level and VRRP checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Received<'a> {
    /// The IP source: the sender's primary address, used as tie-break.
    pub src: IpAddr,
    /// The IP destination: the multicast group, or our address when unicast.
    pub dst: IpAddr,
    /// The TTL (IPv4) or hop limit (IPv6) received.
    pub ttl: u8,
    /// IPv4 only: the identification field of the IP header.
    pub ipv4_ident: Option<u16>,
    /// The checksum form that matched.
    pub checksum: ChecksumMode,
    /// The advertisement.
    pub advert: AdvertView<'a>,
}

/// Decodes an IPv4 packet as delivered by a raw `IPPROTO_VRRP` socket (header included).
///
/// Checks, in order: the IPv4 header (version, header length, total length, header checksum,
/// no fragmentation), protocol 112 (51, AH, gives [`Error::AuthUnsupported`]), TTL 255 when the
/// destination is multicast, then the VRRP message: version, length, checksum, type, VRID,
/// interval and authentication type. Bytes after the IP total length (Ethernet padding) are
/// ignored.
pub fn decode_ipv4<'a>(packet: &'a [u8], policy: &RxPolicy) -> Result<Received<'a>, Error> {
    use etherparse::err::ipv4::{HeaderError, HeaderSliceError};
    let header = Ipv4HeaderSlice::from_slice(packet).map_err(|e| match e {
        HeaderSliceError::Len(l) => Error::Truncated {
            needed: l.required_len,
            got: l.len,
        },
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }) => {
            Error::BadIpHeader("IP version is not 4")
        }
        HeaderSliceError::Content(HeaderError::HeaderLengthSmallerThanHeader { .. }) => {
            Error::BadIpHeader("IPv4 header length below 20 bytes")
        }
    })?;
    let header_len = header.slice().len();
    let total = usize::from(header.total_len());
    if total < header_len {
        return Err(Error::BadIpHeader(
            "IPv4 total length shorter than the header",
        ));
    }
    let packet = packet.get(..total).ok_or(Error::Truncated {
        needed: total,
        got: packet.len(),
    })?;
    let header_sum = etherparse::checksum::Sum16BitWords::new().add_slice(header.slice());
    if header_sum.ones_complement() != 0 {
        return Err(Error::BadIpHeader("IPv4 header checksum"));
    }
    if header.more_fragments() || header.fragments_offset().value() != 0 {
        return Err(Error::Fragmented);
    }
    match header.protocol().0 {
        IPPROTO_VRRP => {}
        IPPROTO_AH => return Err(Error::AuthUnsupported),
        other => return Err(Error::NotVrrp(other)),
    }
    let src = header.source_addr();
    let dst = header.destination_addr();
    let ttl = header.ttl();
    if dst.is_multicast() && ttl != 255 {
        return Err(Error::BadTtl(ttl));
    }
    let payload = packet.get(header_len..).unwrap_or(&[]);
    let mut received = decode_message(
        payload,
        AddressFamily::Ipv4,
        IpAddr::V4(src),
        IpAddr::V4(dst),
        ttl,
        policy,
    )?;
    received.ipv4_ident = Some(header.identification());
    Ok(received)
}

/// Decodes a VRRP message received on an IPv6 raw socket, with the addresses and hop limit
/// from the control data (`IPV6_RECVPKTINFO`, `IPV6_RECVHOPLIMIT`).
pub fn decode_ipv6<'a>(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: u8,
    payload: &'a [u8],
    policy: &RxPolicy,
) -> Result<Received<'a>, Error> {
    if dst.is_multicast() && hop_limit != 255 {
        return Err(Error::BadTtl(hop_limit));
    }
    decode_message(
        payload,
        AddressFamily::Ipv6,
        IpAddr::V6(src),
        IpAddr::V6(dst),
        hop_limit,
        policy,
    )
}

/// Decodes a whole IPv6 packet (fixed header directly followed by VRRP, no extension headers),
/// as seen on a packet socket or in a capture.
pub fn decode_ipv6_packet<'a>(packet: &'a [u8], policy: &RxPolicy) -> Result<Received<'a>, Error> {
    use etherparse::err::ipv6::{HeaderError, HeaderSliceError};
    let header = etherparse::Ipv6HeaderSlice::from_slice(packet).map_err(|e| match e {
        HeaderSliceError::Len(l) => Error::Truncated {
            needed: l.required_len,
            got: l.len,
        },
        HeaderSliceError::Content(HeaderError::UnexpectedVersion { .. }) => {
            Error::BadIpHeader("IP version is not 6")
        }
    })?;
    let len = IPV6_HEADER_LEN + usize::from(header.payload_length());
    let packet = packet.get(..len).ok_or(Error::Truncated {
        needed: len,
        got: packet.len(),
    })?;
    let next = header.next_header().0;
    if next != IPPROTO_VRRP {
        return Err(Error::NotVrrp(next));
    }
    let payload = packet.get(IPV6_HEADER_LEN..).unwrap_or(&[]);
    decode_ipv6(
        header.source_addr(),
        header.destination_addr(),
        header.hop_limit(),
        payload,
        policy,
    )
}

fn decode_message<'a>(
    payload: &'a [u8],
    family: AddressFamily,
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    policy: &RxPolicy,
) -> Result<Received<'a>, Error> {
    let packet = Packet::new_checked(payload, family)?;
    if let Some(expected) = policy.version {
        let got = packet.version()?;
        if got != expected {
            return Err(Error::VersionMismatch { expected, got });
        }
    }
    let checksum = packet.verify_checksum(src, dst, policy.checksum)?;
    let advert = packet.advert()?;
    Ok(Received {
        src,
        dst,
        ttl,
        ipv4_ident: None,
        checksum,
        advert,
    })
}

/// IPv4 header fields of an advertisement (see [`build_ipv4_advert_with`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Options {
    /// The identification field (keepalived increments it per packet, starting at 1).
    pub ident: u16,
    /// The TTL: 255 (RFC 9568 §5.1.1.3); keepalived's `unicast_ttl` may lower it for unicast.
    pub ttl: u8,
    /// The TOS byte: DSCP and ECN; keepalived sends 0xc0 (CS6).
    pub tos: u8,
}

impl Default for Ipv4Options {
    fn default() -> Self {
        Ipv4Options {
            ident: 0,
            ttl: 255,
            tos: TOS_CS6,
        }
    }
}

/// Writes an IPv4 packet (header and message) as keepalived sends it with `IP_HDRINCL`: TOS
/// 0xc0, TTL 255, identification `ip_id`, no DF, header checksum filled. Returns its length.
pub fn build_ipv4_advert(
    advert: &Advertisement,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ip_id: u16,
    mode: ChecksumMode,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let options = Ipv4Options {
        ident: ip_id,
        ..Ipv4Options::default()
    };
    build_ipv4_advert_with(advert, src, dst, &options, mode, buf)
}

/// [`build_ipv4_advert`] with every header field chosen by the caller.
pub fn build_ipv4_advert_with(
    advert: &Advertisement,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    options: &Ipv4Options,
    mode: ChecksumMode,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let got = buf.len();
    let needed = IPV4_HEADER_LEN + advert.buffer_len(AddressFamily::Ipv4);
    let (header_buf, body) = buf
        .split_first_chunk_mut::<IPV4_HEADER_LEN>()
        .ok_or(Error::BufferTooSmall { needed, got })?;
    let len = advert
        .emit(IpAddr::V4(src), IpAddr::V4(dst), mode, body)
        .map_err(|e| match e {
            Error::BufferTooSmall { .. } => Error::BufferTooSmall { needed, got },
            other => other,
        })?;
    write_ipv4_header(src, dst, len, options, header_buf).map_err(|e| match e {
        Error::BadIpHeader(TOO_LONG) => Error::TooManyAddresses(len),
        other => other,
    })?;
    Ok(IPV4_HEADER_LEN + len)
}

/// Writes the 20-byte IPv4 header (no options) of a VRRP packet carrying `payload_len` bytes,
/// with the fields of `options`, no DF, and the header checksum filled: what
/// [`build_ipv4_advert_with`] puts in front of the message, for senders that have the message
/// bytes already (or send something that is not an advertisement, as tests do).
pub fn write_ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    payload_len: usize,
    options: &Ipv4Options,
    buf: &mut [u8; IPV4_HEADER_LEN],
) -> Result<(), Error> {
    let too_long = Error::BadIpHeader(TOO_LONG);
    let len = u16::try_from(payload_len).map_err(|_| too_long)?;
    let mut header = Ipv4Header::new(
        len,
        options.ttl,
        IpNumber(IPPROTO_VRRP),
        src.octets(),
        dst.octets(),
    )
    .map_err(|_| too_long)?;
    header.dscp =
        IpDscp::try_new(options.tos >> 2).map_err(|_| Error::BadIpHeader("TOS out of range"))?;
    header.ecn =
        IpEcn::try_new(options.tos & 0x03).map_err(|_| Error::BadIpHeader("TOS out of range"))?;
    header.identification = options.ident;
    header.dont_fragment = false;
    header.header_checksum = header.calc_header_checksum();
    let bytes = header.to_bytes();
    if bytes.len() != IPV4_HEADER_LEN {
        return Err(Error::BadIpHeader("IPv4 header with options"));
    }
    buf.copy_from_slice(&bytes);
    Ok(())
}

/// Writes an IPv6 packet (header and message) as the kernel sends an advertisement: traffic
/// class 0xc0, flow label 0, hop limit 255, checksum with the IPv6 pseudo-header. For packet
/// sockets and tests; a raw IPv6 socket needs only [`Advertisement::emit`].
pub fn build_ipv6_advert(
    advert: &Advertisement,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let got = buf.len();
    let needed = IPV6_HEADER_LEN + advert.buffer_len(AddressFamily::Ipv6);
    let (header_buf, body) = buf
        .split_first_chunk_mut::<IPV6_HEADER_LEN>()
        .ok_or(Error::BufferTooSmall { needed, got })?;
    let len = advert
        .emit(
            IpAddr::V6(src),
            IpAddr::V6(dst),
            ChecksumMode::PseudoHeader,
            body,
        )
        .map_err(|e| match e {
            Error::BufferTooSmall { .. } => Error::BufferTooSmall { needed, got },
            other => other,
        })?;
    let header = Ipv6Header {
        traffic_class: TOS_CS6,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: u16::try_from(len).map_err(|_| Error::TooManyAddresses(len))?,
        next_header: IpNumber(IPPROTO_VRRP),
        hop_limit: 255,
        source: src.octets(),
        destination: dst.octets(),
    };
    header_buf.copy_from_slice(&header.to_bytes());
    Ok(IPV6_HEADER_LEN + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::VRRP_MULTICAST_V4;
    use crate::units::{Priority, Vrid};

    // decode-v3-ipv4.pcap, frame 1, IP layer.
    const V3_IPV4: [u8; 32] = [
        0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0x18, 0x99, 0xc0, 0x00, 0x02,
        0x01, 0xe0, 0x00, 0x00, 0x12, 0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0xd3, 0x71, 0xc0, 0x00,
        0x02, 0x64,
    ];

    #[test]
    fn keepalived_v3_ipv4_decodes_and_re_encodes() {
        let rx = decode_ipv4(&V3_IPV4, &RxPolicy::default()).unwrap();
        assert_eq!(rx.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(rx.dst, IpAddr::V4(VRRP_MULTICAST_V4));
        assert_eq!(rx.ttl, 255);
        assert_eq!(rx.ipv4_ident, Some(1));
        assert_eq!(rx.checksum, ChecksumMode::PseudoHeader);
        assert_eq!(rx.advert.vrid, Vrid::new(51).unwrap());
        assert_eq!(rx.advert.priority, Priority(150));
        assert_eq!(rx.advert.interval.centis(), 100);
        let adv = rx.advert.to_advertisement();
        let mut buf = [0u8; 64];
        let n = build_ipv4_advert(
            &adv,
            Ipv4Addr::new(192, 0, 2, 1),
            VRRP_MULTICAST_V4,
            1,
            ChecksumMode::PseudoHeader,
            &mut buf,
        )
        .unwrap();
        assert_eq!(&buf[..n], &V3_IPV4);
    }

    #[test]
    fn ip_level_errors() {
        let policy = RxPolicy::default();
        let mut p = V3_IPV4;
        p[8] = 254; // TTL
        assert!(matches!(
            decode_ipv4(&p, &policy),
            Err(Error::BadIpHeader(_))
        ));
        // Fix the header checksum for TTL 254: the TTL check fires.
        p[10] = 0x19;
        p[11] = 0x99;
        assert_eq!(decode_ipv4(&p, &policy), Err(Error::BadTtl(254)));
        let mut p = V3_IPV4;
        p[9] = 17;
        p[11] = 0x99 + (112 - 17);
        assert_eq!(decode_ipv4(&p, &policy), Err(Error::NotVrrp(17)));
        assert_eq!(
            decode_ipv4(&V3_IPV4[..30], &policy),
            Err(Error::Truncated {
                needed: 32,
                got: 30
            })
        );
        let strict_v2 = RxPolicy {
            version: Some(Version::V2),
            ..policy
        };
        assert_eq!(
            decode_ipv4(&V3_IPV4, &strict_v2),
            Err(Error::VersionMismatch {
                expected: Version::V2,
                got: Version::V3
            })
        );
        let mut p = V3_IPV4;
        p[31] ^= 1; // VIP byte
        assert!(matches!(
            decode_ipv4(&p, &policy),
            Err(Error::BadChecksum { found: 0xd371, .. })
        ));
        // AH (protocol 51) is VRRPv2 auth type 2: recognised, refused.
        let mut p = V3_IPV4;
        p[9] = 51;
        p[11] = 0x99 + (112 - 51);
        assert_eq!(decode_ipv4(&p, &policy), Err(Error::AuthUnsupported));
        // More-fragments flag set.
        let mut p = V3_IPV4;
        p[6] = 0x20;
        p[10..12].copy_from_slice(&[0, 0]);
        let sum = etherparse::checksum::Sum16BitWords::new()
            .add_slice(&p[..20])
            .ones_complement();
        p[10..12].copy_from_slice(&sum.to_ne_bytes());
        assert_eq!(decode_ipv4(&p, &policy), Err(Error::Fragmented));
        let mut p = V3_IPV4;
        p[0] = 0x65;
        assert!(matches!(
            decode_ipv4(&p, &policy),
            Err(Error::BadIpHeader(_))
        ));
        // Ethernet padding after the IP total length is ignored.
        let mut padded = [0u8; 46];
        padded[..32].copy_from_slice(&V3_IPV4);
        assert!(decode_ipv4(&padded, &policy).is_ok());
    }

    // decode-v3-ipv6.pcap, frame 1: fe80::ff:fe00:1 -> ff02::12, checksum 0x0c8f.
    const V3_IPV6_PAYLOAD: [u8; 24] = [
        0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x0c, 0x8f, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0x01, 0x00,
    ];

    #[test]
    fn keepalived_v3_ipv6_payload_from_control_data() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 1);
        let dst = crate::checksum::VRRP_MULTICAST_V6;
        let policy = RxPolicy::default();
        let rx = decode_ipv6(src, dst, 255, &V3_IPV6_PAYLOAD, &policy).unwrap();
        assert_eq!(rx.checksum, ChecksumMode::PseudoHeader);
        assert_eq!(rx.ipv4_ident, None);
        let vip: IpAddr = "2001:db8::100".parse::<Ipv6Addr>().unwrap().into();
        assert!(rx.advert.addresses_equal(&[vip]));
        // Hop limit must be 255 on multicast; unicast is the caller's business.
        assert_eq!(
            decode_ipv6(src, dst, 64, &V3_IPV6_PAYLOAD, &policy),
            Err(Error::BadTtl(64))
        );
        // Another source changes the pseudo-header: the checksum no longer verifies.
        let other = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0xff, 0xfe00, 2);
        assert!(matches!(
            decode_ipv6(other, dst, 255, &V3_IPV6_PAYLOAD, &policy),
            Err(Error::BadChecksum { found: 0x0c8f, .. })
        ));
        // Whole-packet form, and the encoder gives the same bytes.
        let adv = rx.advert.to_advertisement();
        let mut buf = [0u8; 128];
        let n = build_ipv6_advert(&adv, src, dst, &mut buf).unwrap();
        assert_eq!(&buf[40..n], &V3_IPV6_PAYLOAD);
        let again = decode_ipv6_packet(&buf[..n], &policy).unwrap();
        assert_eq!(again.advert, rx.advert);
        buf[6] = 17;
        assert_eq!(
            decode_ipv6_packet(&buf[..n], &policy),
            Err(Error::NotVrrp(17))
        );
    }
}
