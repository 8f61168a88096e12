//! The few system calls that neither socket2 nor nix wrap: `IPV6_CHECKSUM` and sending on or
//! binding an `AF_PACKET` socket to an interface.
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Asks the kernel to compute (on send) and verify (on receive) the 16-bit checksum at `offset`
/// bytes into the payload of a raw IPv6 socket, over the IPv6 pseudo-header (RFC 3542 §3.1).
pub(crate) fn set_ipv6_checksum(fd: BorrowedFd<'_>, offset: i32) -> io::Result<()> {
    let value: libc::c_int = offset;
    // SAFETY: `fd` is a valid open socket for the duration of the call; the option value points
    // to a live `c_int` and the length passed is exactly its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn link_addr(ifindex: u32, protocol: u16, dst_mac: Option<[u8; 6]>) -> libc::sockaddr_ll {
    // SAFETY: `sockaddr_ll` is a plain C struct of integers and byte arrays, for which the
    // all-zero bit pattern is a valid value.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as libc::c_int;
    if let Some(mac) = dst_mac {
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&mac);
    }
    sll
}

/// Sends a complete Ethernet frame (header included) out of interface `ifindex` on an
/// `AF_PACKET`/`SOCK_RAW` socket.
pub(crate) fn packet_send(
    fd: BorrowedFd<'_>,
    ifindex: u32,
    ethertype: u16,
    dst_mac: [u8; 6],
    frame: &[u8],
) -> io::Result<usize> {
    let sll = link_addr(ifindex, ethertype, Some(dst_mac));
    // SAFETY: `fd` is a valid socket; `frame` is a live slice whose pointer and length are
    // passed together; `sll` is a fully initialised `sockaddr_ll` and its exact size is passed.
    let rc = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            frame.as_ptr().cast(),
            frame.len(),
            0,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as usize)
    }
}

/// Binds an `AF_PACKET` socket to one interface and one ethertype (`0x0003` = every protocol),
/// so it receives only that interface's frames.
pub(crate) fn packet_bind(fd: BorrowedFd<'_>, ifindex: u32, protocol: u16) -> io::Result<()> {
    let sll = link_addr(ifindex, protocol, None);
    // SAFETY: `fd` is a valid socket; `sll` is a fully initialised `sockaddr_ll` and its exact
    // size is passed.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An owned file-descriptor type whose `as_raw_fd` is always the descriptor it owns.
pub(crate) trait OwnsFd: AsRawFd {}
impl OwnsFd for socket2::Socket {}
impl OwnsFd for Timer {}

/// A `timerfd` that tokio can watch (nix's `TimerFd` has `AsFd` only).
#[derive(Debug)]
pub(crate) struct Timer(pub(crate) nix::sys::timerfd::TimerFd);

impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

/// Registers an owned socket or timer with the tokio reactor.
pub(crate) fn register<T: OwnsFd>(owned: T) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: the `OwnsFd` types (`socket2::Socket`, `Timer`) own their file descriptor: it
    // stays open and the same until the value is dropped, which happens only when the
    // `AsyncFd` that now owns it is dropped or unwrapped, and `as_raw_fd` always returns that
    // descriptor.
    unsafe { tokio::io::unix::AsyncFd::register(owned) }.map_err(io::Error::from)
}

/// Puts the calling thread under `SCHED_RR` with `priority` (1..=99), as keepalived's
/// `vrrp_rt_priority` does, so adverts and takeovers are not delayed by busy CPUs.
pub(crate) fn set_realtime(priority: i32) -> io::Result<()> {
    let param = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `param` is a fully initialised `sched_param` that outlives the call; pid 0 means
    // the calling thread.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_RR, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
