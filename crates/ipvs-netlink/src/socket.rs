//! The netlink transport: one generic netlink socket (neli's [`NlSocket`]) with request timeouts
//! and pipelining (many requests in flight, replies matched by sequence number).
//!
//! Generic netlink handles a request synchronously inside `sendmsg`, so by the time `send`
//! returns the reply (or the first part of a dump) is queued on the socket. The socket is read
//! without blocking (`MSG_DONTWAIT`); while nothing is there we wait in short sleeps until the
//! request's deadline, then fail with [`Error::Timeout`].

use std::collections::HashMap;
use std::io;
use std::thread::sleep;
use std::time::{Duration, Instant};

use neli::consts::socket::{Msg, NlFamily};
use neli::socket::NlSocket;
use neli::utils::Groups;

use crate::error::{DecodeError, Error, Subject};
use crate::nl::{self, Attrs, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NlMsgs};
use crate::reply::{Scan, scan_datagram};

/// Receive buffer length passed to `recvmsg`. The kernel sizes each dump datagram to the
/// largest buffer the reader has passed (at most 32 KiB) but at least `NLMSG_GOODSIZE` (a page,
/// or 8 KiB minus overhead with larger pages), and non-dump replies to `NLMSG_GOODSIZE`: 8 KiB
/// always holds a whole datagram. Measured in the VM (docs/benchmarks.md, issue 7): with a
/// 64 KiB buffer every part of a dump, and its `NLMSG_DONE`, costs the kernel a 32 KiB
/// allocation; 8 KiB made the 1,001 dumps of a 1,000-service listing cheaper.
const RECV_BUF: usize = 8 * 1024;
/// Requests in flight at once when applying a batch: bounded so that the acknowledgements
/// never overflow the socket's receive buffer.
pub const DEFAULT_WINDOW: usize = 128;

/// A generic netlink socket.
pub struct Socket {
    sock: NlSocket,
    seq: u32,
    timeout: Duration,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("seq", &self.seq)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The reply to one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reply {
    /// The generic netlink payloads (genl header + attributes) of the data messages, in order.
    pub messages: Vec<Vec<u8>>,
}

impl Reply {
    /// The attributes of each data message, with its genl command.
    pub fn iter(&self) -> impl Iterator<Item = Result<(u8, Attrs<'_>), DecodeError>> {
        self.messages.iter().map(|m| {
            let h = m
                .get(0..nl::GENL_HDRLEN)
                .ok_or(DecodeError::Truncated("genlmsghdr"))?;
            Ok((h[0], Attrs::new(&m[nl::GENL_HDRLEN..])))
        })
    }
}

impl Socket {
    /// Opens a generic netlink socket; every request gets `timeout`.
    pub fn connect(timeout: Duration) -> Result<Self, Error> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty())?;
        // Room for a full window of acknowledgements; the kernel caps it at rmem_max.
        sock.set_recv_buffer_size(4 << 20)?;
        Ok(Self {
            sock,
            seq: 1,
            timeout,
            buf: vec![0; RECV_BUF],
        })
    }

    /// The per-request timeout.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Changes the per-request timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.timeout = timeout;
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Receives one datagram into the internal buffer and returns its length. The deadline is
    /// `timeout` after the first time nothing was there: a reply that is already queued (the
    /// usual case: the kernel answers inside `sendmsg`, and queues a dump's next part inside
    /// the `recvmsg` that takes the previous one) costs no clock read.
    fn recv(&mut self) -> Result<usize, Error> {
        let mut pause = Duration::from_micros(50);
        let mut deadline = None;
        loop {
            match self.sock.recv(&mut self.buf[..], Msg::DONTWAIT) {
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let now = Instant::now();
                    let end = *deadline.get_or_insert(now + self.timeout);
                    if now >= end {
                        return Err(Error::Timeout(self.timeout));
                    }
                    sleep(pause.min(end - now));
                    pause = (pause * 2).min(Duration::from_millis(5));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    fn send(&self, msg: &[u8]) -> Result<(), Error> {
        loop {
            match self.sock.send(msg, Msg::empty()) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// Sends one request and collects its reply. `dump` selects `NLM_F_DUMP` (the reply ends with
    /// `NLMSG_DONE`); otherwise `NLM_F_ACK` is set and the reply ends with the acknowledgement.
    /// `msg` is a message from [`nl::MsgBuilder`]; its flags and sequence number are set here.
    pub(crate) fn request(
        &mut self,
        msg: Vec<u8>,
        dump: bool,
        subject: Subject,
    ) -> Result<Reply, Error> {
        let mut reply = Reply::default();
        self.request_with(msg, dump, subject, |m| {
            reply.messages.push(m.to_vec());
            Ok(())
        })?;
        Ok(reply)
    }

    /// Like [`Socket::request`], but hands each data message's generic netlink payload to
    /// `on_data` straight from the receive buffer (nothing is copied or kept).
    pub(crate) fn request_with(
        &mut self,
        mut msg: Vec<u8>,
        dump: bool,
        subject: Subject,
        mut on_data: impl FnMut(&[u8]) -> Result<(), DecodeError>,
    ) -> Result<(), Error> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        if let Some(f) = msg.get_mut(6..8) {
            f.copy_from_slice(&flags.to_ne_bytes());
        }
        nl::set_seq(&mut msg, seq);
        self.send(&msg)?;
        loop {
            let n = self.recv()?;
            let datagram = self.buf.get(..n).unwrap_or(&[]);
            match scan_datagram(datagram, seq, |m| on_data(m))? {
                Scan::Pending => {}
                Scan::Complete => return Ok(()),
                Scan::Failed(errno) => return Err(Error::from_errno(errno, subject)),
            }
        }
    }

    /// Sends every request, at most `window` in flight, and returns one result per request,
    /// in order. Requests are packed several to a datagram; only the last request of a
    /// datagram carries `NLM_F_ACK`. The kernel processes a datagram's requests in order and
    /// answers a failed one with an error message whether or not it asked for an
    /// acknowledgement, so the acknowledgement of the last request says that every earlier one
    /// of its datagram without an error message succeeded. This saves the kernel an
    /// acknowledgement per request (an allocation and a queued datagram part) and us reading
    /// it.
    pub(crate) fn pipeline(
        &mut self,
        requests: impl Iterator<Item = (Vec<u8>, Subject)>,
        window: usize,
    ) -> Vec<Result<(), Error>> {
        let window = window.max(1);
        // One result per request, pushed as requests are taken.
        let mut results: Vec<Option<Result<(), Error>>> = Vec::new();
        // Requests sent and not settled, by sequence number.
        let mut in_flight: HashMap<u32, (usize, Subject)> = HashMap::new();
        // Per datagram in flight: the sequence number of its acknowledged last request and
        // those of all of its requests.
        let mut datagrams: HashMap<u32, Vec<u32>> = HashMap::new();
        let mut pending = requests.enumerate().peekable();
        let mut batch = Vec::with_capacity(64 * 1024);
        let mut done = 0;
        while done < results.len() || pending.peek().is_some() {
            // Fill the window: one datagram holding every request that fits.
            batch.clear();
            let mut sent = Vec::new();
            let mut last_at = 0;
            while in_flight.len() + sent.len() < window && batch.len() < 48 * 1024 {
                let Some((i, (mut msg, subject))) = pending.next() else {
                    break;
                };
                let seq = self.next_seq();
                results.push(None);
                if let Some(f) = msg.get_mut(6..8) {
                    f.copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
                }
                nl::set_seq(&mut msg, seq);
                last_at = batch.len();
                batch.extend_from_slice(&msg);
                sent.push((seq, i, subject));
            }
            if let Some(&(last, _, _)) = sent.last() {
                if let Some(f) = batch.get_mut(last_at + 6..last_at + 8) {
                    f.copy_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
                }
                if let Err(e) = self.send(&batch) {
                    // Nothing of this datagram reached the kernel.
                    let msg = e.to_string();
                    for (_, i, _) in sent {
                        results[i] = Some(Err(Error::Io(io::Error::other(msg.clone()))));
                        done += 1;
                    }
                    continue;
                }
                datagrams.insert(last, sent.iter().map(|(seq, _, _)| *seq).collect());
                for (seq, i, subject) in sent {
                    in_flight.insert(seq, (i, subject));
                }
            }
            // Drain the acknowledgements and errors that are there (at least one datagram).
            let mut first = true;
            while !in_flight.is_empty() {
                let n = if first {
                    match self.recv() {
                        Ok(n) => n,
                        Err(e) => {
                            let msg = e.to_string();
                            for (_, (i, _)) in in_flight.drain() {
                                results[i] = Some(Err(match &e {
                                    Error::Timeout(t) => Error::Timeout(*t),
                                    _ => Error::Io(io::Error::other(msg.clone())),
                                }));
                                done += 1;
                            }
                            datagrams.clear();
                            break;
                        }
                    }
                } else {
                    match self.sock.recv(&mut self.buf[..], Msg::DONTWAIT) {
                        Ok((n, _)) => n,
                        Err(_) => break,
                    }
                };
                first = false;
                for m in NlMsgs::new(&self.buf[..n]) {
                    let Ok(m) = m else { break };
                    if m.ty != nl::NLMSG_ERROR {
                        continue;
                    }
                    let code = m.error_code();
                    if let Some((i, subject)) = in_flight.remove(&m.seq) {
                        results[i] = Some(match code {
                            Ok(0) => Ok(()),
                            Ok(code) => Err(Error::from_errno(-code, subject)),
                            Err(e) => Err(Error::Decode(e)),
                        });
                        done += 1;
                    }
                    // The last request of a datagram answered: the others of it without an
                    // error message succeeded.
                    if let Some(seqs) = datagrams.remove(&m.seq) {
                        for seq in seqs {
                            if let Some((i, _)) = in_flight.remove(&seq) {
                                results[i] = Some(Ok(()));
                                done += 1;
                            }
                        }
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Timeout(self.timeout))))
            .collect()
    }

    /// Resolves a generic netlink family name to its id; `Ok(None)` when the family does not
    /// exist.
    pub fn resolve_family(&mut self, name: &str) -> Result<Option<u16>, Error> {
        let mut b = nl::MsgBuilder::new(nl::GENL_ID_CTRL, 0, 0, nl::CTRL_CMD_GETFAMILY, 2);
        b.string(nl::CTRL_ATTR_FAMILY_NAME, name);
        let reply = match self.request(b.finish(), false, Subject::Other) {
            Ok(r) => r,
            Err(Error::Kernel(libc::ENOENT) | Error::SchedulerNotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        for msg in reply.iter() {
            let (_, attrs) = msg?;
            for a in attrs {
                let a = a?;
                if a.ty == nl::CTRL_ATTR_FAMILY_ID {
                    return Ok(Some(a.u16()?));
                }
            }
        }
        Err(DecodeError::MissingAttribute("CTRL_ATTR_FAMILY_ID").into())
    }
}
