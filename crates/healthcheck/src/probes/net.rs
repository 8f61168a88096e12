//! Sockets with keepalived's connection options (`bindto`, `bind_port`, `bind_if`, `fwmark`).

use super::ProbeError;
use crate::config::ConnectOptions;
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// A non-blocking socket of `ty` for `target`'s family, with the bind options applied.
pub(crate) fn socket(
    opts: &ConnectOptions,
    target: SocketAddr,
    ty: Type,
    proto: Protocol,
) -> Result<Socket, ProbeError> {
    let connect_err = |source| ProbeError::Connect {
        addr: target,
        source,
    };
    // Non-blocking from the start (and close-on-exec, which socket2 always sets on Linux).
    let sock = Socket::new(Domain::for_address(target), ty.nonblocking(), Some(proto))
        .map_err(connect_err)?;
    if let Some(mark) = opts.fwmark {
        sock.set_mark(mark).map_err(connect_err)?;
    }
    if let Some(dev) = &opts.bind_if {
        sock.bind_device(Some(dev.as_bytes()))
            .map_err(connect_err)?;
    }
    if opts.bindto.is_some() || opts.bind_port.is_some() {
        let ip = opts.bindto.unwrap_or(match target {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        if opts.bind_port.is_some() {
            sock.set_reuse_address(true).map_err(connect_err)?;
        }
        let local = SockAddr::from(SocketAddr::new(ip, opts.bind_port.unwrap_or(0)));
        sock.bind(&local).map_err(connect_err)?;
    }
    Ok(sock)
}

/// Connects a TCP stream to `target` with the bind options (no deadline: the caller has one).
pub(crate) async fn tcp_connect(
    opts: &ConnectOptions,
    target: SocketAddr,
) -> Result<TcpStream, ProbeError> {
    let sock = socket(opts, target, Type::STREAM, Protocol::TCP)?;
    let std_stream: std::net::TcpStream = sock.into();
    let sock = TcpSocket::from_std_stream(std_stream);
    sock.connect(target)
        .await
        .map_err(|source| ProbeError::Connect {
            addr: target,
            source,
        })
}

/// A UDP socket connected to `target` with the bind options.
pub(crate) fn udp_connect(
    opts: &ConnectOptions,
    target: SocketAddr,
) -> Result<UdpSocket, ProbeError> {
    let sock = socket(opts, target, Type::DGRAM, Protocol::UDP)?;
    sock.connect(&SockAddr::from(target))
        .map_err(|source| ProbeError::Connect {
            addr: target,
            source,
        })?;
    let std_sock: std::net::UdpSocket = sock.into();
    UdpSocket::from_std(std_sock).map_err(ProbeError::Io)
}
