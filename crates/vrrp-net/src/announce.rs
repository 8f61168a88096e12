//! Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) that a new master
//! sends so hosts and switches learn where the virtual addresses now live.
//!
//! Frames are built here and sent whole on an `AF_PACKET` socket, one per daemon.

use crate::socket::checksum;
use crate::{NetError, sys};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::AsFd;

const ETH_P_ARP: u16 = 0x0806;
const ETH_P_IPV6: u16 = 0x86dd;
/// The Ethernet broadcast address.
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// The Ethernet address of the IPv6 all-nodes group ff02::1.
pub const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// A gratuitous ARP request for `vip` from `mac` (RFC 5227 §3: sender and target protocol
/// address both the VIP, target hardware address zero), broadcast.
pub fn garp_frame(mac: [u8; 6], vip: Ipv4Addr) -> Vec<u8> {
    let mut f = Vec::with_capacity(42);
    f.extend_from_slice(&BROADCAST_MAC);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_ARP.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]); // Ethernet, IPv4, request
    f.extend_from_slice(&mac);
    f.extend_from_slice(&vip.octets());
    f.extend_from_slice(&[0; 6]);
    f.extend_from_slice(&vip.octets());
    f
}

/// An unsolicited neighbour advertisement (RFC 4861 §7.2.6) for `vip` from `mac`, to the
/// all-nodes group, with the Override flag, the Router flag when `router` is set, and the
/// target link-layer address option. Source address is the VIP itself, hop limit 255.
pub fn na_frame(mac: [u8; 6], vip: Ipv6Addr, router: bool) -> Vec<u8> {
    // ICMPv6 NA: type, code, checksum, flags(4), target(16), option type 2 len 1 + MAC.
    let mut icmp = Vec::with_capacity(32);
    icmp.extend_from_slice(&[136, 0, 0, 0]);
    let flags: u8 = if router { 0xa0 } else { 0x20 };
    icmp.extend_from_slice(&[flags, 0, 0, 0]);
    icmp.extend_from_slice(&vip.octets());
    icmp.extend_from_slice(&[2, 1]);
    icmp.extend_from_slice(&mac);
    let len = icmp.len() as u32;
    let mut pseudo = Vec::with_capacity(40 + icmp.len());
    pseudo.extend_from_slice(&vip.octets());
    pseudo.extend_from_slice(&ALL_NODES.octets());
    pseudo.extend_from_slice(&len.to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 58]);
    pseudo.extend_from_slice(&icmp);
    let ck = checksum(&pseudo);
    if let Some(c) = icmp.get_mut(2..4) {
        c.copy_from_slice(&ck.to_be_bytes());
    }

    let mut f = Vec::with_capacity(14 + 40 + icmp.len());
    f.extend_from_slice(&ALL_NODES_MAC);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&ETH_P_IPV6.to_be_bytes());
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&(icmp.len() as u16).to_be_bytes());
    f.extend_from_slice(&[58, 255]);
    f.extend_from_slice(&vip.octets());
    f.extend_from_slice(&ALL_NODES.octets());
    f.extend_from_slice(&icmp);
    f
}

/// A send-only `AF_PACKET` socket for announcement frames.
#[derive(Debug)]
pub struct Announcer {
    sock: Socket,
}

impl Announcer {
    /// Opens the packet socket in the caller's network namespace. It is created with protocol
    /// 0, so the kernel never queues received frames on it.
    pub fn new() -> Result<Announcer, NetError> {
        let sock = Socket::new(
            Domain::PACKET,
            Type::RAW.nonblocking().cloexec(),
            Some(Protocol::from(0)),
        )
        .map_err(|source| NetError::Socket {
            interface: "(packet)".into(),
            source,
        })?;
        Ok(Announcer { sock })
    }

    /// Sends one gratuitous ARP for `vip` out of `ifindex`.
    pub fn garp(&self, ifindex: u32, mac: [u8; 6], vip: Ipv4Addr) -> std::io::Result<()> {
        let f = garp_frame(mac, vip);
        sys::packet_send(self.sock.as_fd(), ifindex, ETH_P_ARP, BROADCAST_MAC, &f).map(|_| ())
    }

    /// Sends one unsolicited neighbour advertisement for `vip` out of `ifindex`.
    pub fn unsolicited_na(
        &self,
        ifindex: u32,
        mac: [u8; 6],
        vip: Ipv6Addr,
        router: bool,
    ) -> std::io::Result<()> {
        let f = na_frame(mac, vip, router);
        sys::packet_send(self.sock.as_fd(), ifindex, ETH_P_IPV6, ALL_NODES_MAC, &f).map(|_| ())
    }
}

/// A receive socket for every frame on one interface, for tests and the bench observer.
#[derive(Debug)]
pub struct FrameCapture {
    sock: Socket,
}

impl FrameCapture {
    /// Opens an `AF_PACKET` socket bound to `ifindex` receiving every ethertype. Blocking, with
    /// the given read timeout.
    pub fn open(ifindex: u32, timeout: std::time::Duration) -> Result<FrameCapture, NetError> {
        let err = |source| NetError::Socket {
            interface: format!("ifindex {ifindex}"),
            source,
        };
        let all = 0x0003u16;
        let sock = Socket::new(
            Domain::PACKET,
            Type::RAW.cloexec(),
            Some(Protocol::from(i32::from(all.to_be()))),
        )
        .map_err(err)?;
        sys::packet_bind(sock.as_fd(), ifindex, all).map_err(err)?;
        sock.set_read_timeout(Some(timeout)).map_err(err)?;
        Ok(FrameCapture { sock })
    }

    /// The next frame, or `None` after the timeout.
    pub fn next(&self) -> Option<Vec<u8>> {
        use std::io::Read;
        let mut buf = [0u8; 2048];
        let n = (&self.sock).read(&mut buf).ok()?;
        buf.get(..n).map(<[u8]>::to_vec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_layout() {
        let mac = [2, 0, 0, 0, 0, 1];
        let f = garp_frame(mac, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(f.len(), 42);
        assert_eq!(&f[12..14], &[0x08, 0x06]);
        assert_eq!(&f[28..32], &[192, 0, 2, 100]);
        assert_eq!(&f[38..42], &[192, 0, 2, 100]);
    }

    #[test]
    fn na_checksum_verifies() {
        let mac = [2, 0, 0, 0, 0, 1];
        let vip: Ipv6Addr = "2001:db8::100".parse().unwrap();
        let f = na_frame(mac, vip, true);
        let icmp = &f[54..];
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&vip.octets());
        pseudo.extend_from_slice(&ALL_NODES.octets());
        pseudo.extend_from_slice(&(icmp.len() as u32).to_be_bytes());
        pseudo.extend_from_slice(&[0, 0, 0, 58]);
        pseudo.extend_from_slice(icmp);
        assert_eq!(checksum(&pseudo), 0);
        assert_eq!(icmp[0], 136);
        assert_eq!(icmp[4], 0xa0);
        assert_eq!(f[21], 255, "hop limit");
    }
}
