//! The few system calls that neither socket2 nor nix wrap (or wrap with allocation):
//! `IPV6_CHECKSUM`, sending on or binding an `AF_PACKET` socket to an interface, and batched
//! `recvmmsg` / `sendmmsg` of IPv4 datagrams.
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

/// Registers an owned socket or timer with the tokio reactor, for readability only (sends
/// never wait for the socket: a raw socket's send buffer is practically never full, and
/// watching it for writability would wake the reactor after every send).
pub(crate) fn register<T: OwnsFd>(owned: T) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: the `OwnsFd` types (`socket2::Socket`, `Timer`) own their file descriptor: it
    // stays open and the same until the value is dropped, which happens only when the
    // `AsyncFd` that now owns it is dropped or unwrapped, and `as_raw_fd` always returns that
    // descriptor.
    unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE)
    }
    .map_err(io::Error::from)
}

/// The most datagrams one [`recv_many`] or [`send_many_v4`] call moves.
pub(crate) const BATCH: usize = 64;
/// The size of one receive buffer (VRRP messages are at most a few hundred bytes).
pub(crate) const RX_BUF: usize = 2048;

/// Receives up to `min(bufs.len(), BATCH)` datagrams with one non-blocking `recvmmsg`, the
/// i-th into `bufs[i]`, its length (at most [`RX_BUF`]: longer datagrams are truncated, as a
/// plain `recv` would) into `lens[i]`, and its `SO_TIMESTAMPNS` receive time (`CLOCK_REALTIME`,
/// since the epoch; `None` if the socket does not report it) into `stamps[i]`. Returns how
/// many arrived; `WouldBlock` if none.
pub(crate) fn recv_many(
    fd: BorrowedFd<'_>,
    bufs: &mut [[u8; RX_BUF]],
    lens: &mut [usize; BATCH],
    stamps: &mut [Option<std::time::Duration>; BATCH],
) -> io::Result<usize> {
    let n = bufs.len().min(BATCH);
    // Room for one `SCM_TIMESTAMPNS` message (CMSG_SPACE of a 16-byte timespec is 32), as u64s
    // so the buffer is aligned for `cmsghdr`.
    let mut control = [[0u64; 8]; BATCH];
    // SAFETY: `iovec` and `mmsghdr` are plain C structs of integers and pointers, for which the
    // all-zero bit pattern (null pointers, zero lengths) is a valid value.
    let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
    for (((buf, v), h), c) in bufs
        .iter_mut()
        .zip(iov.iter_mut())
        .zip(hdrs.iter_mut())
        .zip(control.iter_mut())
    {
        v.iov_base = buf.as_mut_ptr().cast();
        v.iov_len = RX_BUF;
        h.msg_hdr.msg_iov = v;
        h.msg_hdr.msg_iovlen = 1;
        h.msg_hdr.msg_control = c.as_mut_ptr().cast();
        h.msg_hdr.msg_controllen = std::mem::size_of_val(c);
    }
    // SAFETY: `fd` is a valid socket; the first `n` headers each point to one live iovec that
    // points to a live, exclusively borrowed buffer of `RX_BUF` bytes, and to a live control
    // buffer of the length given; no name buffer is given (null, length 0); `n` ≤ the length
    // of the arrays; the timeout is null (none) and MSG_DONTWAIT makes the call
    // non-blocking. Nothing is read from the arrays after they go out of scope.
    let rc = unsafe {
        libc::recvmmsg(
            fd.as_raw_fd(),
            hdrs.as_mut_ptr(),
            n as libc::c_uint,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    let got = (rc as usize).min(n);
    for ((len, stamp), h) in lens
        .iter_mut()
        .zip(stamps.iter_mut())
        .zip(hdrs.iter())
        .take(got)
    {
        *len = (h.msg_len as usize).min(RX_BUF);
        *stamp = rx_timestamp(&h.msg_hdr);
    }
    Ok(got)
}

/// The `SCM_TIMESTAMPNS` control message of a received `msghdr`, if there is one.
fn rx_timestamp(msg: &libc::msghdr) -> Option<std::time::Duration> {
    // SAFETY: `msg` was filled by `recvmmsg`: its control pointer and the length the kernel
    // wrote back describe initialised bytes of a live buffer (or length 0, for which
    // CMSG_FIRSTHDR gives null); CMSG_FIRSTHDR / CMSG_NXTHDR only return headers that lie
    // within it, and CMSG_DATA of a header of the checked level, type and length points to
    // a `timespec`, read unaligned.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(msg);
        while !c.is_null() {
            let h = &*c;
            if h.cmsg_level == libc::SOL_SOCKET
                && h.cmsg_type == libc::SO_TIMESTAMPNS
                && h.cmsg_len as usize
                    >= libc::CMSG_LEN(std::mem::size_of::<libc::timespec>() as u32) as usize
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                let secs = u64::try_from(ts.tv_sec).ok()?;
                let nanos = u32::try_from(ts.tv_nsec).ok()?;
                return Some(std::time::Duration::new(secs, nanos));
            }
            c = libc::CMSG_NXTHDR(msg, c);
        }
    }
    None
}

/// Sends complete IPv4 datagrams (`IP_HDRINCL`) with `sendmmsg`, up to `BATCH` per call:
/// datagram `i` is `data[start..end]` of `spans[i] = (start, end, destination)`. A datagram
/// the kernel refuses is reported to `failed` with its index and skipped; the others are sent.
pub(crate) fn send_many_v4(
    fd: BorrowedFd<'_>,
    data: &[u8],
    spans: &[(usize, usize, std::net::Ipv4Addr)],
    mut failed: impl FnMut(usize, io::Error),
) {
    for (c, chunk) in spans.chunks(BATCH).enumerate() {
        let base = c * BATCH;
        // SAFETY: plain C structs of integers and pointers; all-zero is a valid value.
        let mut iov: [libc::iovec; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut names: [libc::sockaddr_in; BATCH] = unsafe { std::mem::zeroed() };
        // SAFETY: as above.
        let mut hdrs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        let mut n = 0;
        for (((&(start, end, dst), v), name), h) in chunk
            .iter()
            .zip(iov.iter_mut())
            .zip(names.iter_mut())
            .zip(hdrs.iter_mut())
        {
            let bytes = data.get(start..end).unwrap_or(&[]);
            v.iov_base = bytes.as_ptr().cast_mut().cast();
            v.iov_len = bytes.len();
            name.sin_family = libc::AF_INET as libc::sa_family_t;
            name.sin_addr.s_addr = u32::from_ne_bytes(dst.octets());
            h.msg_hdr.msg_name = (name as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_hdr.msg_iov = v;
            h.msg_hdr.msg_iovlen = 1;
            n += 1;
        }
        let mut done = 0;
        while done < n {
            // SAFETY: `fd` is a valid socket; `done < n ≤ BATCH`, so the pointer stays inside
            // `hdrs`, and headers `done..n` each point to a live `sockaddr_in` with its exact
            // size and to one live iovec over a slice of `data`, which the kernel only reads.
            // MSG_DONTWAIT: never blocks.
            let rc = unsafe {
                libc::sendmmsg(
                    fd.as_raw_fd(),
                    hdrs.as_mut_ptr().add(done),
                    (n - done) as libc::c_uint,
                    libc::MSG_DONTWAIT,
                )
            };
            if rc > 0 {
                done += rc as usize;
            } else {
                // The datagram at `done` failed (rc < 0): report it and go on with the rest.
                let e = if rc < 0 {
                    io::Error::last_os_error()
                } else {
                    io::Error::from(io::ErrorKind::WriteZero)
                };
                failed(base + done, e);
                done += 1;
            }
        }
    }
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
