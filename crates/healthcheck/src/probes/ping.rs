//! PING_CHECK: one ICMP/ICMPv6 echo over an unprivileged datagram socket (`SOCK_DGRAM`,
//! `IPPROTO_ICMP`; allowed by `net.ipv4.ping_group_range`, whose value this crate does not
//! change). Where that is refused and the process has CAP_NET_RAW, a raw ICMP socket is used
//! instead.

use super::{ProbeError, net};
use crate::config::ConnectOptions;
use socket2::{Protocol, SockAddr, Type};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};

/// The Internet checksum (RFC 1071).
pub(crate) fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| {
            u32::from(u16::from_be_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ]))
        })
        .sum();
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An echo request with sequence `seq`.
pub(crate) fn echo_request(v6: bool, ident: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&ident.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(b"hagroup-ping-chk");
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// One PING_CHECK attempt (the caller's deadline bounds it).
pub(crate) async fn check(opts: &ConnectOptions, target: SocketAddr) -> Result<(), ProbeError> {
    static SEQ: AtomicU16 = AtomicU16::new(1);
    let v6 = target.is_ipv6();
    let proto = if v6 {
        Protocol::ICMPV6
    } else {
        Protocol::ICMPV4
    };
    let opts = ConnectOptions {
        bind_port: None,
        ..opts.clone()
    };
    let target = SocketAddr::new(target.ip(), 0);
    let (sock, raw) = match net::socket(&opts, target, Type::DGRAM, proto) {
        Ok(s) => (s, false),
        Err(ProbeError::Connect { source, .. })
            if source.kind() == std::io::ErrorKind::PermissionDenied =>
        {
            (net::socket(&opts, target, Type::RAW, proto)?, true)
        }
        Err(e) => return Err(e),
    };
    sock.connect(&SockAddr::from(target))
        .map_err(|source| ProbeError::Connect {
            addr: target,
            source,
        })?;
    let std_sock: std::net::UdpSocket = sock.into();
    let sock = tokio::net::UdpSocket::from_std(std_sock)?;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let ident = (std::process::id() as u16) ^ seq.rotate_left(8);
    sock.send(&echo_request(v6, ident, seq)).await?;
    let mut buf = [0u8; 1500];
    let reply_type = if v6 { 129 } else { 0 };
    loop {
        let n = sock.recv(&mut buf).await?;
        let mut reply = buf.get(..n).unwrap_or_default();
        if raw && !v6 {
            // A raw IPv4 socket hands over the IP header too.
            let ihl = usize::from(reply.first().copied().unwrap_or(0) & 0x0f) * 4;
            reply = reply.get(ihl..).unwrap_or_default();
        }
        // Datagram sockets get the kernel's identifier; raw sockets must match ours.
        let ident_ok = !raw || reply.get(4..6) == Some(&ident.to_be_bytes()[..]);
        if reply.first() == Some(&reply_type)
            && ident_ok
            && reply.get(6..8) == Some(&seq.to_be_bytes()[..])
        {
            return Ok(());
        }
    }
}
