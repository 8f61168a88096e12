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
use std::task::{Context, Poll};
use tokio::io::unix::AsyncFd;
use vrrp_proto::Ipv4Options;
use vrrp_proto::ip::{IPV4_HEADER_LEN, TOS_CS6};

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
    stamped: bool,
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
        // Receive times let the driver take a burst of adverts in one wake-up and still time
        // each by its arrival (IPv4 only: IPv6 is received one datagram at a time).
        let stamped = !cfg.ipv6 && setsockopt(&sock, sockopt::ReceiveTimestampns, &true).is_ok();
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
            stamped,
        })
    }

    /// Whether received datagrams carry their arrival time (see `RxBatch::stamp`).
    pub(crate) fn stamped(&self) -> bool {
        self.stamped
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

    /// The TTL / hop limit adverts are sent with.
    pub fn ttl(&self) -> u8 {
        self.ttl
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
                let mut pkt = vec![0u8; IPV4_HEADER_LEN + vrrp.len()];
                let (header, body) = pkt
                    .split_first_chunk_mut::<IPV4_HEADER_LEN>()
                    .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
                vrrp_proto::write_ipv4_header(src, dst, vrrp.len(), &ipv4_options(ttl), header)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
                body.copy_from_slice(vrrp);
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
        // The socket is registered for readability only (see `sys::register`): a full send
        // buffer, which a raw socket practically never has, is waited out by polling.
        loop {
            match f(self.fd.get_ref()) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                }
                res => return res,
            }
        }
    }

    /// Sends whole IPv4 datagrams (header included, as [`vrrp_proto::build_ipv4_advert_with`]
    /// writes them) in as few `sendmmsg` calls as possible: datagram `i` is
    /// `data[start..end]` of `spans[i] = (start, end, destination)`. A refused datagram is
    /// reported to `failed` with its index; the others are still sent.
    pub(crate) fn send_datagrams_v4(
        &self,
        data: &[u8],
        spans: &[(usize, usize, Ipv4Addr)],
        failed: impl FnMut(usize, io::Error),
    ) {
        sys::send_many_v4(self.fd.get_ref().as_fd(), data, spans, failed);
    }

    /// Whether a datagram is waiting (without reading it), or registers for a wake-up.
    pub(crate) fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.fd.poll_read_ready(cx).map_ok(|_guard| ())
    }

    /// Receives what is queued on the socket into `batch` (up to [`RxBatch::CAPACITY`]
    /// datagrams, without allocating), or registers for a wake-up when nothing is.
    pub(crate) fn poll_recv_batch(
        &self,
        cx: &mut Context<'_>,
        batch: &mut RxBatch,
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = match self.fd.poll_read_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(g)) => g,
            };
            let r = guard.try_io(|inner| {
                if self.ipv6 {
                    batch.recv_v6(inner.get_ref())
                } else {
                    batch.recv_v4(inner.get_ref())
                }
            });
            match r {
                Ok(Err(e)) => {
                    // A socket error is reported once; wait for the next datagram rather
                    // than asking again at once.
                    guard.clear_ready();
                    return Poll::Ready(Err(e));
                }
                Ok(Ok(n)) => {
                    if n < RxBatch::CAPACITY {
                        // The queue is empty now: the next datagram is a new readiness event,
                        // so there is no need to ask again (and get EAGAIN) first.
                        guard.clear_ready();
                    }
                    return Poll::Ready(Ok(n));
                }
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
    let mut buf = [0u8; sys::RX_BUF];
    let (n, meta) = recv_v6_into(sock, &mut buf)?;
    let Some(meta) = meta else {
        return Ok(Err(RxError::MissingAncillary));
    };
    Ok(Ok(Some(RxPacket {
        src: IpAddr::V6(meta.src),
        dst: IpAddr::V6(meta.dst),
        ttl: meta.hop_limit,
        payload: buf.get(..n).unwrap_or(&[]).to_vec(),
        datagram: Vec::new(),
    })))
}

/// One `recvmsg` on an IPv6 socket into `buf`: the length and the addresses and hop limit
/// (`None` if the ancillary data lacked them).
fn recv_v6_into(sock: &Socket, buf: &mut [u8]) -> io::Result<(usize, Option<V6Meta>)> {
    let mut cmsg = nix::cmsg_space!(libc::c_int, libc::in6_pktinfo);
    let mut iov = [IoSliceMut::new(buf)];
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
    let meta = match (msg.address.map(|a| a.ip()), hop, dst) {
        (Some(src), Some(hop_limit), Some(dst)) => Some(V6Meta {
            src,
            dst,
            hop_limit,
        }),
        _ => None,
    };
    Ok((msg.bytes, meta))
}

/// A received IPv4 datagram split into the addresses, TTL and VRRP payload, borrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ipv4Parts<'a> {
    pub(crate) src: Ipv4Addr,
    pub(crate) dst: Ipv4Addr,
    pub(crate) ttl: u8,
    pub(crate) payload: &'a [u8],
}

/// [`parse_ipv4`] without copying: the parts of `data`.
pub(crate) fn split_ipv4(data: &[u8]) -> Result<Ipv4Parts<'_>, RxError> {
    let truncated = RxError::Truncated { len: data.len() };
    let (Some(&vihl), Some(&[t0, t1]), Some(&ttl), Some(&src), Some(&dst)) = (
        data.first(),
        data.get(2..4).and_then(|s| s.first_chunk::<2>()),
        data.get(8),
        data.get(12..16).and_then(|s| s.first_chunk::<4>()),
        data.get(16..20).and_then(|s| s.first_chunk::<4>()),
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
    let total = usize::from(u16::from_be_bytes([t0, t1]));
    if total < ihl {
        return Err(RxError::BadIpHeader);
    }
    let Some(payload) = data.get(ihl..total) else {
        return Err(truncated);
    };
    Ok(Ipv4Parts {
        src: Ipv4Addr::from(src),
        dst: Ipv4Addr::from(dst),
        ttl,
        payload,
    })
}

/// Splits a received IPv4 datagram (header included, as raw sockets deliver it) into the
/// addresses, TTL and VRRP payload.
pub fn parse_ipv4(data: &[u8]) -> Result<RxPacket, RxError> {
    let p = split_ipv4(data)?;
    Ok(RxPacket {
        src: IpAddr::V4(p.src),
        dst: IpAddr::V4(p.dst),
        ttl: p.ttl,
        payload: p.payload.to_vec(),
        datagram: data.to_vec(),
    })
}

/// The IPv4 header fields of what we send with `IP_HDRINCL`: TOS 0xc0 (the "internetwork
/// control" precedence keepalived uses), the TTL, and identification 0 so the kernel fills it.
pub(crate) fn ipv4_options(ttl: u8) -> Ipv4Options {
    Ipv4Options {
        ident: 0,
        ttl,
        tos: TOS_CS6,
    }
}

/// What the IP layer said about one received IPv6 datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct V6Meta {
    pub(crate) src: Ipv6Addr,
    pub(crate) dst: Ipv6Addr,
    pub(crate) hop_limit: u8,
}

/// Reusable receive buffers for a batch of datagrams from one socket: no allocation per
/// packet. IPv4 entries hold the whole datagram, IPv6 ones the payload and [`V6Meta`] (or
/// `None` when the ancillary data was missing).
pub(crate) struct RxBatch {
    bufs: Box<[[u8; sys::RX_BUF]]>,
    lens: [usize; sys::BATCH],
    stamps: [Option<std::time::Duration>; sys::BATCH],
    v6: [Option<V6Meta>; sys::BATCH],
    count: usize,
}

impl std::fmt::Debug for RxBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RxBatch")
            .field("count", &self.count)
            .finish()
    }
}

impl RxBatch {
    /// The most datagrams one batch holds.
    pub(crate) const CAPACITY: usize = sys::BATCH;

    pub(crate) fn new() -> RxBatch {
        RxBatch {
            bufs: vec![[0u8; sys::RX_BUF]; sys::BATCH].into_boxed_slice(),
            lens: [0; sys::BATCH],
            stamps: [None; sys::BATCH],
            v6: [None; sys::BATCH],
            count: 0,
        }
    }

    /// The number of datagrams received by the last call.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// Datagram `i`: its bytes and, for IPv6, what the ancillary data said.
    pub(crate) fn get(&self, i: usize) -> Option<(&[u8], Option<V6Meta>)> {
        if i >= self.count {
            return None;
        }
        let len = *self.lens.get(i)?;
        let data = self.bufs.get(i)?.get(..len)?;
        Some((data, self.v6.get(i).copied().flatten()))
    }

    /// When datagram `i` arrived (`SO_TIMESTAMPNS`, `CLOCK_REALTIME` since the epoch), if
    /// the socket reports it.
    pub(crate) fn stamp(&self, i: usize) -> Option<std::time::Duration> {
        self.stamps.get(i).copied().flatten()
    }

    fn recv_v4(&mut self, sock: &Socket) -> io::Result<usize> {
        self.count = 0;
        let n = sys::recv_many(
            sock.as_fd(),
            &mut self.bufs,
            &mut self.lens,
            &mut self.stamps,
        )?;
        self.count = n;
        Ok(n)
    }

    fn recv_v6(&mut self, sock: &Socket) -> io::Result<usize> {
        self.count = 0;
        for i in 0..Self::CAPACITY {
            let (Some(buf), Some(len), Some(meta)) = (
                self.bufs.get_mut(i),
                self.lens.get_mut(i),
                self.v6.get_mut(i),
            ) else {
                break;
            };
            match recv_v6_into(sock, buf) {
                Ok((n, m)) => {
                    if let Some(st) = self.stamps.get_mut(i) {
                        *st = None;
                    }
                    *len = n;
                    *meta = m;
                    self.count += 1;
                }
                // Hand on what arrived; the error (`WouldBlock` included) comes back next time.
                Err(_) if self.count > 0 => break,
                Err(e) => return Err(e),
            }
        }
        Ok(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The datagram `send_raw` puts on the wire for `vrrp`.
    fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, vrrp: &[u8]) -> Vec<u8> {
        let mut header = [0u8; IPV4_HEADER_LEN];
        vrrp_proto::write_ipv4_header(src, dst, vrrp.len(), &ipv4_options(ttl), &mut header)
            .unwrap();
        let mut p = header.to_vec();
        p.extend_from_slice(vrrp);
        p
    }

    fn checksum(data: &[u8]) -> u16 {
        let mut sum: u32 = data
            .chunks(2)
            .map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0)))
            .sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    #[test]
    fn ipv4_header_is_what_keepalived_sends() {
        let p = ipv4_packet(
            Ipv4Addr::new(192, 0, 2, 1),
            VRRP_GROUP_V4,
            255,
            &[1, 2, 3, 4],
        );
        // Version 4, IHL 5, TOS 0xc0, total length 24, identification 0 (the kernel fills
        // it), no flags, TTL 255, protocol 112, then the addresses.
        assert_eq!(&p[..10], &[0x45, 0xc0, 0, 24, 0, 0, 0, 0, 255, 112]);
        assert_eq!(&p[12..20], &[192, 0, 2, 1, 224, 0, 0, 18]);
        assert_eq!(checksum(&p[..20]), 0, "header checksum verifies");
    }

    #[test]
    fn ipv4_round_trip() {
        let p = ipv4_packet(
            Ipv4Addr::new(192, 0, 2, 1),
            VRRP_GROUP_V4,
            255,
            &[1, 2, 3, 4],
        );
        let rx = parse_ipv4(&p).unwrap();
        assert_eq!(rx.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(rx.dst, IpAddr::V4(VRRP_GROUP_V4));
        assert_eq!(rx.ttl, 255);
        assert_eq!(rx.payload, vec![1, 2, 3, 4]);
        assert_eq!(rx.datagram, p);
        let parts = split_ipv4(&p).unwrap();
        assert_eq!(parts.payload, &[1, 2, 3, 4]);
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
