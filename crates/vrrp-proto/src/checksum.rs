//! VRRP checksums: what they cover on each version and family, and how a receiver checks them.
//!
//! | version | family | covered                                                        |
//! |---------|--------|----------------------------------------------------------------|
//! | 2       | IPv4   | the VRRP message only (RFC 3768 §5.3.8)                         |
//! | 3       | IPv6   | IPv6 pseudo-header + message (RFC 9568 §5.2.8, RFC 8200 §8.1)   |
//! | 3       | IPv4   | [`ChecksumMode`]: pseudo-header (keepalived and FRR default) or message only (RFC 9568, Cisco, Juniper, keepalived `v3_checksum_as_v2`) |
//!
//! The pseudo-header destination is the packet's real destination (a unicast peer when
//! unicasting). keepalived 1.3.6 and older put the multicast group there even when unicasting;
//! [`ChecksumMode::PseudoHeaderMulticastGroup`] reproduces that (`old_unicast_checksum`).

use crate::error::Error;
use crate::units::{AddressFamily, Version};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use etherparse::checksum::Sum16BitWords;

/// The IPv4 VRRP multicast group, 224.0.0.18 (RFC 9568 §5.1.1.2).
pub const VRRP_MULTICAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 VRRP multicast group, ff02::12 (RFC 9568 §5.1.2.2).
pub const VRRP_MULTICAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;

/// How the checksum of a VRRPv3 advertisement over IPv4 is computed.
///
/// VRRPv2 always covers the message only and VRRPv3 over IPv6 always uses the IPv6
/// pseudo-header with the real addresses, whatever the mode; the mode matters for VRRPv3 over
/// IPv4 only. When a receiver reports which mode matched, it reports `MessageOnly` for VRRPv2
/// and `PseudoHeader` for IPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ChecksumMode {
    /// IPv4 pseudo-header (source, the packet's destination, protocol 112, length) plus the
    /// message: keepalived's and FRR's default.
    #[default]
    PseudoHeader,
    /// The VRRP message only: RFC 9568, Cisco, Juniper, keepalived `v3_checksum_as_v2`.
    MessageOnly,
    /// IPv4 pseudo-header whose destination is the multicast group 224.0.0.18 even when the
    /// packet is unicast: keepalived ≤ 1.3.6, kept as `old_unicast_checksum`.
    PseudoHeaderMulticastGroup,
}

/// What a receiver accepts as a valid checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum RxChecksum {
    /// Accept only this mode (it only matters for VRRPv3 over IPv4).
    Expect(ChecksumMode),
    /// Accept any of the three IPv4 forms, trying pseudo-header, message only, then the legacy
    /// multicast-group pseudo-header, and report the first that matched.
    AcceptAny,
}

impl Default for RxChecksum {
    fn default() -> Self {
        RxChecksum::Expect(ChecksumMode::PseudoHeader)
    }
}

/// What the checksum of one (version, family, mode) combination actually covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coverage {
    Message,
    Pseudo { group: bool },
}

fn coverage(version: Version, family: AddressFamily, mode: ChecksumMode) -> Coverage {
    match (version, family, mode) {
        (Version::V2, _, _) => Coverage::Message,
        (Version::V3, AddressFamily::Ipv6, _) => Coverage::Pseudo { group: false },
        (Version::V3, AddressFamily::Ipv4, ChecksumMode::PseudoHeader) => {
            Coverage::Pseudo { group: false }
        }
        (Version::V3, AddressFamily::Ipv4, ChecksumMode::MessageOnly) => Coverage::Message,
        (Version::V3, AddressFamily::Ipv4, ChecksumMode::PseudoHeaderMulticastGroup) => {
            Coverage::Pseudo { group: true }
        }
    }
}

/// The mode reported for a coverage that matched.
fn reported(version: Version, family: AddressFamily, mode: ChecksumMode) -> ChecksumMode {
    match (version, family) {
        (Version::V2, _) => ChecksumMode::MessageOnly,
        (Version::V3, AddressFamily::Ipv6) => ChecksumMode::PseudoHeader,
        (Version::V3, AddressFamily::Ipv4) => mode,
    }
}

/// The one's-complement sum of an IP pseudo-header for a VRRP message of `len` bytes.
///
/// `group` replaces the destination with the family's VRRP multicast group.
fn pseudo_sum(src: IpAddr, dst: IpAddr, len: usize, group: bool) -> Result<Sum16BitWords, Error> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let d = if group { VRRP_MULTICAST_V4 } else { d };
            let len = u16::try_from(len).map_err(|_| Error::TooManyAddresses(len))?;
            Ok(Sum16BitWords::new()
                .add_4bytes(s.octets())
                .add_4bytes(d.octets())
                .add_2bytes([0, IPPROTO_VRRP])
                .add_2bytes(len.to_be_bytes()))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let d = if group { VRRP_MULTICAST_V6 } else { d };
            let len = u32::try_from(len).map_err(|_| Error::TooManyAddresses(len))?;
            Ok(Sum16BitWords::new()
                .add_16bytes(s.octets())
                .add_16bytes(d.octets())
                .add_4bytes(len.to_be_bytes())
                .add_4bytes([0, 0, 0, IPPROTO_VRRP]))
        }
        _ => Err(Error::FamilyMismatch),
    }
}

/// Adds two partial sums (one's-complement addition is associative and commutative).
fn combine(a: &Sum16BitWords, b: &Sum16BitWords) -> u16 {
    // Fold each to 16 bits and add them as one more 2-byte word: the complement of a
    // complement restores the folded sum.
    let b_folded = !b.ones_complement();
    a.clone()
        .add_2bytes(b_folded.to_ne_bytes())
        .ones_complement()
}

/// The checksum to write into `message` (whose checksum field is ignored), in host order.
///
/// `message` is the whole VRRP message; `src`/`dst` are the IP addresses of the packet that
/// carries it (unused for message-only coverage, but their family must still match).
pub fn compute(
    version: Version,
    message: &[u8],
    src: IpAddr,
    dst: IpAddr,
    mode: ChecksumMode,
) -> Result<u16, Error> {
    let family = family_of(src, dst)?;
    let msg = message_sum_without_field(message);
    Ok(finish(version, family, &msg, message.len(), src, dst, mode))
}

fn finish(
    version: Version,
    family: AddressFamily,
    msg: &Sum16BitWords,
    len: usize,
    src: IpAddr,
    dst: IpAddr,
    mode: ChecksumMode,
) -> u16 {
    let raw = match coverage(version, family, mode) {
        Coverage::Message => msg.ones_complement(),
        Coverage::Pseudo { group } => match pseudo_sum(src, dst, len, group) {
            Ok(p) => combine(msg, &p),
            // Unreachable: the family was checked and VRRP messages are short.
            Err(_) => msg.ones_complement(),
        },
    };
    u16::from_be(raw)
}

/// The sum of a message with its checksum field (bytes 6..8) skipped.
fn message_sum_without_field(message: &[u8]) -> Sum16BitWords {
    let head = message.get(..6).unwrap_or(message);
    let tail = message.get(8..).unwrap_or(&[]);
    Sum16BitWords::new().add_slice(head).add_slice(tail)
}

/// The family shared by `src` and `dst`.
pub(crate) fn family_of(src: IpAddr, dst: IpAddr) -> Result<AddressFamily, Error> {
    match (src, dst) {
        (IpAddr::V4(_), IpAddr::V4(_)) => Ok(AddressFamily::Ipv4),
        (IpAddr::V6(_), IpAddr::V6(_)) => Ok(AddressFamily::Ipv6),
        _ => Err(Error::FamilyMismatch),
    }
}

/// Verifies the checksum of `message` (checksum field included) and reports the mode that
/// matched.
pub fn verify(
    version: Version,
    message: &[u8],
    src: IpAddr,
    dst: IpAddr,
    rx: RxChecksum,
) -> Result<ChecksumMode, Error> {
    let family = family_of(src, dst)?;
    // The sum over the whole message, checksum included, folds to zero when it verifies.
    let whole = Sum16BitWords::new().add_slice(message);
    let len = message.len();
    let ok = |mode: ChecksumMode| -> bool {
        match coverage(version, family, mode) {
            Coverage::Message => whole.ones_complement() == 0,
            Coverage::Pseudo { group } => match pseudo_sum(src, dst, len, group) {
                Ok(p) => combine(&whole, &p) == 0,
                Err(_) => false,
            },
        }
    };
    let first = match rx {
        RxChecksum::Expect(mode) => {
            if ok(mode) {
                return Ok(reported(version, family, mode));
            }
            mode
        }
        RxChecksum::AcceptAny => {
            for mode in [
                ChecksumMode::PseudoHeader,
                ChecksumMode::MessageOnly,
                ChecksumMode::PseudoHeaderMulticastGroup,
            ] {
                if ok(mode) {
                    return Ok(reported(version, family, mode));
                }
            }
            ChecksumMode::PseudoHeader
        }
    };
    let found = match (message.get(6), message.get(7)) {
        (Some(&a), Some(&b)) => u16::from_be_bytes([a, b]),
        _ => 0,
    };
    let msg = message_sum_without_field(message);
    let expected = finish(version, family, &msg, len, src, dst, first);
    Err(Error::BadChecksum { found, expected })
}

#[cfg(test)]
mod tests {
    use super::*;

    // keepalived 2.2.7, decode-v3-ipv4.pcap: checksum 0xd371 with the pseudo-header.
    const V3_V4: [u8; 12] = [
        0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0xd3, 0x71, 192, 0, 2, 100,
    ];
    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const DST: IpAddr = IpAddr::V4(VRRP_MULTICAST_V4);

    #[test]
    fn v3_ipv4_pseudo_header_vector() {
        assert_eq!(
            compute(Version::V3, &V3_V4, SRC, DST, ChecksumMode::PseudoHeader),
            Ok(0xd371)
        );
        assert_eq!(
            verify(Version::V3, &V3_V4, SRC, DST, RxChecksum::default()),
            Ok(ChecksumMode::PseudoHeader)
        );
        assert_eq!(
            verify(Version::V3, &V3_V4, SRC, DST, RxChecksum::AcceptAny),
            Ok(ChecksumMode::PseudoHeader)
        );
        // Multicast destination: the legacy mode computes the same sum.
        assert_eq!(
            verify(
                Version::V3,
                &V3_V4,
                SRC,
                DST,
                RxChecksum::Expect(ChecksumMode::PseudoHeaderMulticastGroup)
            ),
            Ok(ChecksumMode::PseudoHeaderMulticastGroup)
        );
        let err = verify(
            Version::V3,
            &V3_V4,
            SRC,
            DST,
            RxChecksum::Expect(ChecksumMode::MessageOnly),
        );
        assert!(matches!(err, Err(Error::BadChecksum { found: 0xd371, .. })));
    }

    #[test]
    fn message_only_and_legacy_group_are_detected() {
        let mut msg = V3_V4;
        let c = compute(Version::V3, &msg, SRC, DST, ChecksumMode::MessageOnly).unwrap();
        msg[6..8].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            verify(Version::V3, &msg, SRC, DST, RxChecksum::AcceptAny),
            Ok(ChecksumMode::MessageOnly)
        );

        let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let mut msg = V3_V4;
        let c = compute(
            Version::V3,
            &msg,
            SRC,
            peer,
            ChecksumMode::PseudoHeaderMulticastGroup,
        )
        .unwrap();
        msg[6..8].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            verify(Version::V3, &msg, SRC, peer, RxChecksum::AcceptAny),
            Ok(ChecksumMode::PseudoHeaderMulticastGroup)
        );
        assert!(matches!(
            verify(Version::V3, &msg, SRC, peer, RxChecksum::default()),
            Err(Error::BadChecksum { .. })
        ));
    }

    #[test]
    fn family_mismatch_is_an_error() {
        let v6 = IpAddr::V6(VRRP_MULTICAST_V6);
        assert_eq!(
            compute(Version::V3, &V3_V4, SRC, v6, ChecksumMode::PseudoHeader),
            Err(Error::FamilyMismatch)
        );
    }
}
