//! Gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6) that a new master
//! sends so hosts and switches learn where the virtual addresses now live.
//!
//! Frames are built by `vrrp-proto` (byte-identical with keepalived 2.2.7's) and sent whole on
//! an `AF_PACKET` socket, one per daemon.

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

    /// Sends one gratuitous ARP request for `vip` out of `ifindex` (the form keepalived sends:
    /// broadcast, sender = target = the VIP).
    pub fn garp(&self, ifindex: u32, mac: [u8; 6], vip: Ipv4Addr) -> std::io::Result<()> {
        let mut f = [0u8; vrrp_proto::announce::GARP_FRAME_LEN];
        let n = vrrp_proto::garp_frame(vrrp_proto::MacAddr(mac), vip, &mut f)
            .map_err(std::io::Error::other)?;
        let frame = f.get(..n).unwrap_or(&f);
        sys::packet_send(self.sock.as_fd(), ifindex, ETH_P_ARP, BROADCAST_MAC, frame).map(|_| ())
    }

    /// Sends one unsolicited neighbour advertisement for `vip` out of `ifindex` (to ff02::1,
    /// Override flag only, target link-layer address option: what keepalived sends).
    pub fn unsolicited_na(&self, ifindex: u32, mac: [u8; 6], vip: Ipv6Addr) -> std::io::Result<()> {
        let mut f = [0u8; vrrp_proto::announce::NA_FRAME_LEN];
        let n = vrrp_proto::unsolicited_na_frame(vrrp_proto::MacAddr(mac), vip, &mut f)
            .map_err(std::io::Error::other)?;
        let frame = f.get(..n).unwrap_or(&f);
        sys::packet_send(self.sock.as_fd(), ifindex, ETH_P_IPV6, ALL_NODES_MAC, frame).map(|_| ())
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
