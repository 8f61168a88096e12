//! Raw IP protocol-112 sockets for VRRP adverts, one per (interface, address family).
//!
//! IPv4: `IP_HDRINCL` (we write the header: TTL 255, TOS 0xc0, our chosen source),
//! `IP_MULTICAST_ALL` off, `IP_MULTICAST_LOOP` off, `SO_BINDTODEVICE`, and a join of 224.0.0.18
//! on the interface. The kernel hands us the whole IPv4 packet, so the TTL is read from it.
//!
//! IPv6: `IPV6_CHECKSUM` at offset 6 (the kernel computes the pseudo-header checksum on send and
//! drops bad ones on receive), hop limit 255 for multicast and unicast, `IPV6_RECVHOPLIMIT` and
//! `IPV6_RECVPKTINFO` to learn the hop limit and destination, `SO_BINDTODEVICE`, and a join of
//! ff02::12. The source address and interface go in an `IPV6_PKTINFO` control message.

use crate::iface::InterfaceInfo;
use crate::{NetError, sys};
use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrIn6, setsockopt, sockopt,
};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd};
use tokio::io::unix::AsyncFd;

/// The IP protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;
/// The IPv4 multicast group of VRRP (RFC 9568 §5.1.1.2).
pub const VRRP_GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The IPv6 multicast group of VRRP (RFC 9568 §5.1.2.2).
pub const VRRP_GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// The TTL / hop limit VRRP sends and requires on multicast adverts.
pub const VRRP_TTL: u8 = 255;

/// Where adverts go: the multicast group, or a list of unicast peers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// The VRRP multicast group of the family (224.0.0.18 or ff02::12).
    Multicast,
    /// Unicast to each of these peers (`unicast_peer`).
    Unicast(Vec<IpAddr>),
}

/// How to open a [`VrrpSocket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketConfig {
    /// The interface to bind to.
    pub interface: String,
    /// IPv6 when true, IPv4 otherwise.
    pub ipv6: bool,
    /// The source address (`unicast_src_ip`); by default the interface's primary IPv4
    /// address or its IPv6 link-local address.
    pub source: Option<IpAddr>,
    /// Multicast or unicast peers.
    pub destination: Destination,
    /// The TTL / hop limit to send with (255 unless `unicast_ttl` says otherwise).
    pub ttl: u8,
}

impl SocketConfig {
    /// Multicast on `interface` for the given family, with keepalived's defaults.
    pub fn multicast(interface: &str, ipv6: bool) -> SocketConfig {
        SocketConfig {
            interface: interface.to_owned(),
            ipv6,
            source: None,
            destination: Destination::Multicast,
            ttl: VRRP_TTL,
        }
    }
}

/// One received VRRP packet with what the IP layer said about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxPacket {
    /// The IP source address.
    pub src: IpAddr,
    /// The IP destination address (the group, or our unicast address).
    pub dst: IpAddr,
    /// The TTL (IPv4) or hop limit (IPv6) the packet arrived with.
    pub ttl: u8,
    /// The VRRP message (the IP payload).
    pub payload: Vec<u8>,
    /// IPv4 only: the whole datagram as received, header included (empty for IPv6), for
    /// decoders that check the IP header themselves.
    pub datagram: Vec<u8>,
}

/// Why a received datagram could not be handed on as a VRRP packet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RxError {
    /// The socket failed.
    #[error("receive failed: {0}")]
    Io(#[from] io::Error),
    /// The datagram is shorter than its IP header says, or than an IP header.
    #[error("truncated IP packet ({len} bytes)")]
    Truncated {
        /// The number of bytes received.
        len: usize,
    },
    /// The IPv4 header is not a valid IPv4 header.
    #[error("malformed IPv4 header")]
    BadIpHeader,
    /// The IPv6 ancillary data had no hop limit or destination.
    #[error("missing IPv6 hop limit or packet info")]
    MissingAncillary,
}

/// A raw VRRP socket on one interface for one address family, usable from tokio.
#[derive(Debug)]
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    ifindex: u32,
    ipv6: bool,
    source: IpAddr,
    destination: Destination,
    ttl: u8,
}

fn io_err(e: nix::Error) -> io::Error {
    io::Error::from(e)
}

impl VrrpSocket {
    /// Opens the socket in the caller's network namespace. Must be called inside a tokio
    /// runtime (the socket is registered with its reactor).
    pub fn open(cfg: &SocketConfig) -> Result<VrrpSocket, NetError> {
        let info = InterfaceInfo::lookup(&cfg.interface)?;
        let source = match cfg.source {
            Some(s) => s,
            None if cfg.ipv6 => {
                IpAddr::V6(
                    info.link_local_ipv6()
                        .ok_or_else(|| NetError::NoSourceAddress {
                            interface: cfg.interface.clone(),
                        })?,
                )
            }
            None => IpAddr::V4(
                info.primary_ipv4()
                    .ok_or_else(|| NetError::NoSourceAddress {
                        interface: cfg.interface.clone(),
                    })?,
            ),
        };
        if source.is_ipv6() != cfg.ipv6 {
            return Err(NetError::FamilyMismatch { addr: source });
        }
        if let Destination::Unicast(peers) = &cfg.destination
            && let Some(p) = peers.iter().find(|p| p.is_ipv6() != cfg.ipv6)
        {
            return Err(NetError::FamilyMismatch { addr: *p });
        }
        let sock = Self::raw(cfg, &info, source).map_err(|source| NetError::Socket {
            interface: cfg.interface.clone(),
            source,
        })?;
        let fd = sys::register(sock).map_err(|source| NetError::Socket {
            interface: cfg.interface.clone(),
            source,
        })?;
        Ok(VrrpSocket {
            fd,
            ifindex: info.index,
            ipv6: cfg.ipv6,
            source,
            destination: cfg.destination.clone(),
            ttl: cfg.ttl,
        })
    }

    fn raw(cfg: &SocketConfig, info: &InterfaceInfo, source: IpAddr) -> io::Result<Socket> {
        let domain = if cfg.ipv6 { Domain::IPV6 } else { Domain::IPV4 };
        let sock = Socket::new(
            domain,
            Type::RAW.nonblocking().cloexec(),
            Some(Protocol::from(IPPROTO_VRRP)),
        )?;
        sock.bind_device(Some(cfg.interface.as_bytes()))?;
        let multicast = cfg.destination == Destination::Multicast;
        if cfg.ipv6 {
            sys::set_ipv6_checksum(sock.as_fd(), 6)?;
            sock.set_multicast_hops_v6(u32::from(cfg.ttl))?;
            sock.set_unicast_hops_v6(u32::from(cfg.ttl))?;
            sock.set_multicast_loop_v6(false)?;
            sock.set_multicast_if_v6(info.index)?;
            sock.set_recv_hoplimit_v6(true)?;
            setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true).map_err(io_err)?;
            if multicast {
                sock.join_multicast_v6(&VRRP_GROUP_V6, info.index)?;
            }
        } else {
            sock.set_header_included_v4(true)?;
            sock.set_multicast_all_v4(false)?;
            sock.set_multicast_loop_v4(false)?;
            if let IpAddr::V4(src) = source {
                // Best effort: the source may be a unicast_src_ip not (yet) on this interface.
                let _ = sock.set_multicast_if_v4(&src);
            }
            if multicast {
                sock.join_multicast_v4_n(
                    &VRRP_GROUP_V4,
                    &socket2::InterfaceIndexOrAddress::Index(info.index),
                )?;
            }
        }
        Ok(sock)
    }

    /// The interface index the socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The source address adverts are sent from.
    pub fn source(&self) -> IpAddr {
        self.source
    }

    /// Whether this is an IPv6 socket.
    pub fn is_ipv6(&self) -> bool {
        self.ipv6
    }

    /// Where [`VrrpSocket::send_advert`] sends to.
    pub fn destination(&self) -> &Destination {
        &self.destination
    }

    /// The destinations of one advert: the group, or every unicast peer.
    pub fn destinations(&self) -> Vec<IpAddr> {
        match &self.destination {
            Destination::Multicast if self.ipv6 => vec![IpAddr::V6(VRRP_GROUP_V6)],
            Destination::Multicast => vec![IpAddr::V4(VRRP_GROUP_V4)],
            Destination::Unicast(peers) => peers.clone(),
        }
    }

    /// Sends an encoded VRRP message to every destination. `encode` is called once per
    /// destination with (source, destination), since the IPv4 VRRPv3 checksum covers both.
    pub async fn send_advert<F>(&self, mut encode: F) -> io::Result<()>
    where
        F: FnMut(IpAddr, IpAddr) -> Vec<u8>,
    {
        for dst in self.destinations() {
            let msg = encode(self.source, dst);
            self.send_to(dst, &msg).await?;
        }
        Ok(())
    }

    /// Sends one VRRP message (the IP payload) to `dst`, with our source and TTL.
    pub async fn send_to(&self, dst: IpAddr, vrrp: &[u8]) -> io::Result<()> {
        self.send_to_with_ttl(dst, vrrp, self.ttl).await
    }

    /// Sends one VRRP message with a chosen TTL / hop limit (tests use this to send bad ones).
    pub async fn send_to_with_ttl(&self, dst: IpAddr, vrrp: &[u8], ttl: u8) -> io::Result<()> {
        self.write(|s| self.send_raw(s, dst, vrrp, ttl)).await
    }

    /// Sends one VRRP message now, without waiting for the socket to become writable (a raw
    /// socket's send buffer is practically never full; `WouldBlock` is returned if it is).
    pub fn try_send_to(&self, dst: IpAddr, vrrp: &[u8]) -> io::Result<()> {
        self.send_raw(self.fd.get_ref(), dst, vrrp, self.ttl)
    }

    fn send_raw(&self, s: &Socket, dst: IpAddr, vrrp: &[u8], ttl: u8) -> io::Result<()> {
        match (self.source, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                let pkt = ipv4_packet(src, dst, ttl, vrrp);
                let to = socket2::SockAddr::from(SocketAddr::V4(SocketAddrV4::new(dst, 0)));
                s.send_to(&pkt, &to).map(|_| ())
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                let scope = if dst.is_multicast() || dst.is_unicast_link_local() {
                    self.ifindex
                } else {
                    0
                };
                let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, scope));
                let info = libc::in6_pktinfo {
                    ipi6_addr: libc::in6_addr {
                        s6_addr: src.octets(),
                    },
                    ipi6_ifindex: self.ifindex,
                };
                let hops = libc::c_int::from(ttl);
                let iov = [IoSlice::new(vrrp)];
                let cmsgs = [
                    ControlMessage::Ipv6PacketInfo(&info),
                    ControlMessage::Ipv6HopLimit(&hops),
                ];
                nix::sys::socket::sendmsg(s.as_raw_fd(), &iov, &cmsgs, MsgFlags::empty(), Some(&to))
                    .map(|_| ())
                    .map_err(io_err)
            }
            _ => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "destination family differs from the socket's",
            )),
        }
    }

    async fn write<R>(&self, mut f: impl FnMut(&Socket) -> io::Result<R>) -> io::Result<R> {
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|inner| f(inner.get_ref())) {
                Ok(res) => return res,
                Err(_would_block) => continue,
            }
        }
    }

    /// Receives the next VRRP packet. Datagrams the IP layer could not describe come back as
    /// errors; the caller counts them and carries on.
    pub async fn recv(&self) -> Result<RxPacket, RxError> {
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|inner| {
                if self.ipv6 {
                    recv_v6(inner.get_ref())
                } else {
                    recv_v4(inner.get_ref())
                }
            }) {
                Ok(Ok(Ok(Some(p)))) => return Ok(p),
                Ok(Ok(Ok(None))) => continue,
                Ok(Ok(Err(e))) => return Err(e),
                Ok(Err(e)) => return Err(RxError::Io(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

/// Adapts a nested result so `try_io` sees `WouldBlock` as an `io::Error`.
fn recv_v4(sock: &Socket) -> io::Result<Result<Option<RxPacket>, RxError>> {
    let mut buf = [0u8; 2048];
    let n =
        nix::sys::socket::recv(sock.as_raw_fd(), &mut buf, MsgFlags::empty()).map_err(io_err)?;
    let data = buf.get(..n).unwrap_or(&[]);
    Ok(parse_ipv4(data).map(Some))
}

fn recv_v6(sock: &Socket) -> io::Result<Result<Option<RxPacket>, RxError>> {
    let mut buf = [0u8; 2048];
    let mut cmsg = nix::cmsg_space!(libc::c_int, libc::in6_pktinfo);
    let (n, src, hop, dst) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = nix::sys::socket::recvmsg::<SockaddrIn6>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io_err)?;
        let mut hop = None;
        let mut dst = None;
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                match c {
                    ControlMessageOwned::Ipv6HopLimit(h) => hop = u8::try_from(h).ok(),
                    ControlMessageOwned::Ipv6PacketInfo(pi) => {
                        dst = Some(Ipv6Addr::from(pi.ipi6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
        }
        (msg.bytes, msg.address.map(|a| a.ip()), hop, dst)
    };
    let (Some(src), Some(ttl), Some(dst)) = (src, hop, dst) else {
        return Ok(Err(RxError::MissingAncillary));
    };
    Ok(Ok(Some(RxPacket {
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl,
        payload: buf.get(..n).unwrap_or(&[]).to_vec(),
        datagram: Vec::new(),
    })))
}

/// Splits a received IPv4 datagram (header included, as raw sockets deliver it) into the
/// addresses, TTL and VRRP payload.
pub fn parse_ipv4(data: &[u8]) -> Result<RxPacket, RxError> {
    let truncated = RxError::Truncated { len: data.len() };
    let (Some(&vihl), Some(total), Some(&ttl), Some(src), Some(dst)) = (
        data.first(),
        data.get(2..4),
        data.get(8),
        data.get(12..16),
        data.get(16..20),
    ) else {
        return Err(truncated);
    };
    if vihl >> 4 != 4 {
        return Err(RxError::BadIpHeader);
    }
    let ihl = usize::from(vihl & 0x0f) * 4;
    if ihl < 20 {
        return Err(RxError::BadIpHeader);
    }
    let total = usize::from(u16::from_be_bytes([total[0], total[1]]));
    if total < ihl {
        return Err(RxError::BadIpHeader);
    }
    let Some(payload) = data.get(ihl..total) else {
        return Err(truncated);
    };
    let src: [u8; 4] = [src[0], src[1], src[2], src[3]];
    let dst: [u8; 4] = [dst[0], dst[1], dst[2], dst[3]];
    Ok(RxPacket {
        src: IpAddr::V4(Ipv4Addr::from(src)),
        dst: IpAddr::V4(Ipv4Addr::from(dst)),
        ttl,
        payload: payload.to_vec(),
        datagram: data.to_vec(),
    })
}

/// Builds the IPv4 datagram we send with `IP_HDRINCL`: a 20-byte header (TOS 0xc0, the
/// "internetwork control" precedence keepalived uses, protocol 112) and the VRRP message. The
/// kernel fills in the identification, total length and header checksum.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, vrrp: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + vrrp.len()).unwrap_or(u16::MAX);
    let mut p = Vec::with_capacity(20 + vrrp.len());
    p.extend_from_slice(&[0x45, 0xc0]);
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0, 0]); // id (kernel), flags + fragment offset
    p.extend_from_slice(&[ttl, IPPROTO_VRRP as u8, 0, 0]);
    p.extend_from_slice(&src.octets());
    p.extend_from_slice(&dst.octets());
    let ck = checksum(p.get(..20).unwrap_or(&[]));
    if let Some(c) = p.get_mut(10..12) {
        c.copy_from_slice(&ck.to_be_bytes());
    }
    p.extend_from_slice(vrrp);
    p
}

/// The Internet checksum (RFC 1071) of `data`.
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_round_trip() {
        let p = ipv4_packet(
            Ipv4Addr::new(192, 0, 2, 1),
            VRRP_GROUP_V4,
            255,
            &[1, 2, 3, 4],
        );
        assert_eq!(checksum(&p[..20]), 0, "header checksum verifies");
        let rx = parse_ipv4(&p).unwrap();
        assert_eq!(rx.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(rx.dst, IpAddr::V4(VRRP_GROUP_V4));
        assert_eq!(rx.ttl, 255);
        assert_eq!(rx.payload, vec![1, 2, 3, 4]);
    }

    #[test]
    fn ipv4_bad_input_is_an_error() {
        let p = ipv4_packet(Ipv4Addr::LOCALHOST, VRRP_GROUP_V4, 255, &[0; 8]);
        for n in 0..p.len() {
            assert!(parse_ipv4(&p[..n]).is_err(), "prefix of {n} bytes");
        }
        let mut bad = p.clone();
        bad[0] = 0x44;
        assert!(matches!(parse_ipv4(&bad), Err(RxError::BadIpHeader)));
        let mut bad = p;
        bad[0] = 0x65;
        assert!(matches!(parse_ipv4(&bad), Err(RxError::BadIpHeader)));
    }
}
