//! The frames a new master sends to announce the virtual addresses: gratuitous ARP for IPv4,
//! unsolicited neighbour advertisements for IPv6 (RFC 9568 §6.4.1 / §8.1), and the VRRP
//! virtual MAC addresses.
//!
//! The frames are whole Ethernet frames for an `AF_PACKET` socket, byte-identical to
//! keepalived 2.2.7's (the minimum-size padding is left to the kernel/NIC, as keepalived does).

use crate::error::Error;
use crate::units::{AddressFamily, Vrid};
use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use etherparse::icmpv6::NeighborAdvertisementHeader;
use etherparse::{
    ArpEthIpv4Packet, ArpOperation, EtherType, Ethernet2Header, Icmpv6Header, Icmpv6Type, IpNumber,
    Ipv6FlowLabel, Ipv6Header,
};

/// An Ethernet (EUI-48) address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct MacAddr(pub [u8; 6]);

impl MacAddr {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: MacAddr = MacAddr([0xff; 6]);

    /// The six bytes.
    pub const fn octets(self) -> [u8; 6] {
        self.0
    }
}

impl From<[u8; 6]> for MacAddr {
    fn from(b: [u8; 6]) -> MacAddr {
        MacAddr(b)
    }
}

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The VRRP virtual router MAC address (RFC 9568 §7.3): 00-00-5e-00-01-VRID for IPv4,
/// 00-00-5e-00-02-VRID for IPv6.
pub const fn virtual_mac(family: AddressFamily, vrid: Vrid) -> MacAddr {
    let kind = match family {
        AddressFamily::Ipv4 => 0x01,
        AddressFamily::Ipv6 => 0x02,
    };
    MacAddr([0x00, 0x00, 0x5e, 0x00, kind, vrid.get()])
}

/// The Ethernet multicast address of an IP multicast group (RFC 1112 §6.4, RFC 2464 §7), or
/// `None` for a non-multicast address.
pub const fn multicast_mac(ip: IpAddr) -> Option<MacAddr> {
    match ip {
        IpAddr::V4(a) if a.is_multicast() => {
            let o = a.octets();
            Some(MacAddr([0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]))
        }
        IpAddr::V6(a) if a.is_multicast() => {
            let o = a.octets();
            Some(MacAddr([0x33, 0x33, o[12], o[13], o[14], o[15]]))
        }
        _ => None,
    }
}

/// The length of an Ethernet II header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// The length of a gratuitous ARP frame (Ethernet header and ARP, no padding).
pub const GARP_FRAME_LEN: usize = ETHERNET_HEADER_LEN + ArpEthIpv4Packet::LEN;
/// The length of an unsolicited neighbour advertisement frame.
pub const NA_FRAME_LEN: usize = ETHERNET_HEADER_LEN + 40 + 8 + 16 + 8;
/// IPv6 all-nodes multicast, ff02::1, where unsolicited NAs go.
pub const ALL_NODES_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Writes an Ethernet II header and returns its length.
pub fn write_ethernet_header(
    dst: MacAddr,
    src: MacAddr,
    ether_type: u16,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let got = buf.len();
    let out = buf
        .first_chunk_mut::<ETHERNET_HEADER_LEN>()
        .ok_or(Error::BufferTooSmall {
            needed: ETHERNET_HEADER_LEN,
            got,
        })?;
    *out = Ethernet2Header {
        source: src.0,
        destination: dst.0,
        ether_type: EtherType(ether_type),
    }
    .to_bytes();
    Ok(ETHERNET_HEADER_LEN)
}

/// The two forms of gratuitous ARP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum GarpKind {
    /// An ARP request for the address itself, target hardware address ff:ff:ff:ff:ff:ff:
    /// what keepalived sends (seen in every capture of 2.2.7).
    #[default]
    Request,
    /// An ARP reply, broadcast, with sender = target protocol address and the target hardware
    /// address set to our MAC too (RFC 5944 §4.6: a gratuitous ARP may be a request or a
    /// reply); for neighbours that only update their caches from replies.
    Reply,
}

/// Writes keepalived's gratuitous ARP for `ip` owned by `mac` (an ARP request, broadcast,
/// sender = target = `ip`) and returns its length, [`GARP_FRAME_LEN`].
pub fn garp_frame(mac: MacAddr, ip: Ipv4Addr, buf: &mut [u8]) -> Result<usize, Error> {
    garp_frame_with(GarpKind::Request, mac, ip, buf)
}

/// Writes a gratuitous ARP of either form, broadcast.
pub fn garp_frame_with(
    kind: GarpKind,
    mac: MacAddr,
    ip: Ipv4Addr,
    buf: &mut [u8],
) -> Result<usize, Error> {
    let got = buf.len();
    let out = buf
        .first_chunk_mut::<GARP_FRAME_LEN>()
        .ok_or(Error::BufferTooSmall {
            needed: GARP_FRAME_LEN,
            got,
        })?;
    let (eth, arp) = out.split_at_mut(ETHERNET_HEADER_LEN);
    write_ethernet_header(MacAddr::BROADCAST, mac, EtherType::ARP.0, eth)?;
    let (operation, target_mac) = match kind {
        GarpKind::Request => (ArpOperation::REQUEST, MacAddr::BROADCAST),
        GarpKind::Reply => (ArpOperation::REPLY, mac),
    };
    let packet = ArpEthIpv4Packet {
        operation,
        sender_mac: mac.0,
        sender_ipv4: ip.octets(),
        target_mac: target_mac.0,
        target_ipv4: ip.octets(),
    };
    arp.copy_from_slice(&packet.to_bytes());
    Ok(GARP_FRAME_LEN)
}

/// Writes keepalived's unsolicited neighbour advertisement for `ip` owned by `mac` and returns
/// its length, [`NA_FRAME_LEN`]: from `ip` to ff02::1, hop limit 255, only the Override flag,
/// a target link-layer address option, ICMPv6 checksum filled (RFC 4861 §7.2.6).
pub fn unsolicited_na_frame(mac: MacAddr, ip: Ipv6Addr, buf: &mut [u8]) -> Result<usize, Error> {
    let got = buf.len();
    let out = buf
        .first_chunk_mut::<NA_FRAME_LEN>()
        .ok_or(Error::BufferTooSmall {
            needed: NA_FRAME_LEN,
            got,
        })?;
    let (eth, rest) = out.split_at_mut(ETHERNET_HEADER_LEN);
    let (ip6, rest) = rest.split_at_mut(40);
    let (icmp, payload) = rest.split_at_mut(8);
    let dst_mac = multicast_mac(IpAddr::V6(ALL_NODES_V6)).unwrap_or(MacAddr::BROADCAST);
    write_ethernet_header(dst_mac, mac, EtherType::IPV6.0, eth)?;

    // Payload: target address, then option 2 (target link-layer address), length 1 (8 bytes).
    let (target, option) = payload.split_at_mut(16);
    target.copy_from_slice(&ip.octets());
    let [m0, m1, m2, m3, m4, m5] = mac.0;
    option.copy_from_slice(&[2, 1, m0, m1, m2, m3, m4, m5]);

    let header = Ipv6Header {
        traffic_class: 0,
        flow_label: Ipv6FlowLabel::ZERO,
        payload_length: 32,
        next_header: IpNumber::IPV6_ICMP,
        hop_limit: 255,
        source: ip.octets(),
        destination: ALL_NODES_V6.octets(),
    };
    ip6.copy_from_slice(&header.to_bytes());

    let icmp_type = Icmpv6Type::NeighborAdvertisement(NeighborAdvertisementHeader {
        router: false,
        solicited: false,
        r#override: true,
    });
    let icmp_header =
        Icmpv6Header::with_checksum(icmp_type, ip.octets(), ALL_NODES_V6.octets(), payload)
            .map_err(|_| Error::BufferTooSmall {
                needed: NA_FRAME_LEN,
                got,
            })?;
    let bytes = icmp_header.to_bytes();
    if bytes.len() != icmp.len() {
        return Err(Error::BadIpHeader("ICMPv6 header length"));
    }
    icmp.copy_from_slice(&bytes);
    Ok(NA_FRAME_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn virtual_macs() {
        let vrid = Vrid::new(51).unwrap();
        assert_eq!(
            virtual_mac(AddressFamily::Ipv4, vrid).to_string(),
            "00:00:5e:00:01:33"
        );
        assert_eq!(
            virtual_mac(AddressFamily::Ipv6, vrid).to_string(),
            "00:00:5e:00:02:33"
        );
        assert_eq!(
            multicast_mac(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))),
            Some(MacAddr([1, 0, 0x5e, 0, 0, 0x12]))
        );
        assert_eq!(
            multicast_mac(IpAddr::V4(Ipv4Addr::new(239, 200, 1, 2))),
            Some(MacAddr([1, 0, 0x5e, 0x48, 1, 2]))
        );
        assert_eq!(multicast_mac(IpAddr::V4(Ipv4Addr::LOCALHOST)), None);
    }

    #[test]
    fn garp_reply_form() {
        let mac = MacAddr([2, 0, 0, 0, 0, 1]);
        let mut buf = [0u8; 64];
        let n = garp_frame_with(
            GarpKind::Reply,
            mac,
            Ipv4Addr::new(192, 0, 2, 100),
            &mut buf,
        )
        .unwrap();
        assert_eq!(n, 42);
        assert_eq!(&buf[20..22], &[0, 2]); // opcode reply
        assert_eq!(&buf[32..38], &mac.0); // target MAC = ours
        assert_eq!(
            garp_frame(mac, Ipv4Addr::LOCALHOST, &mut buf[..41]),
            Err(Error::BufferTooSmall {
                needed: 42,
                got: 41
            })
        );
    }
}
