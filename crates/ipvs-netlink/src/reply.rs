//! Pure decoding of the kernel's replies: which messages of a received datagram belong to a
//! request and whether its reply is complete ([`scan_datagram`]), and the IPVS payloads of each
//! reply kind (services, real servers, sync daemons, info, timeouts).
//!
//! No I/O and no allocation besides the decoded values: [`crate::Client`] feeds these straight
//! from its receive buffer, and the fuzz target `ipvs_reply` feeds them arbitrary bytes.

use crate::consts::cmd_attr;
use crate::daemon::SyncDaemon;
use crate::error::DecodeError;
use crate::nl::{self, Attrs, NlMsgs};
use crate::types::{DestinationExtended, Family, ServiceExtended, Timeouts};

/// Where the reply to one request stands after a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scan {
    /// More datagrams belong to it.
    Pending,
    /// Complete: acknowledged (`NLMSG_ERROR` with 0) or ended (`NLMSG_DONE`).
    Complete,
    /// The kernel refused it: the (positive) errno of `NLMSG_ERROR` or of a dump's `NLMSG_DONE`.
    Failed(i32),
}

/// Scans one received datagram for the reply to the request with sequence number `seq`:
/// `on_data` gets the generic netlink payload (genl header + attributes) of each data message,
/// in order; messages of other sequence numbers (late replies to timed-out requests) are
/// skipped. Stops at the message that completes the reply.
pub fn scan_datagram<E: From<DecodeError>>(
    datagram: &[u8],
    seq: u32,
    mut on_data: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<Scan, E> {
    for m in NlMsgs::new(datagram) {
        let m = m?;
        if m.seq != seq {
            continue;
        }
        match m.ty {
            nl::NLMSG_ERROR => {
                let code = m.error_code()?;
                return Ok(if code == 0 {
                    Scan::Complete
                } else {
                    Scan::Failed(code.saturating_abs())
                });
            }
            nl::NLMSG_DONE => {
                // A dump that fails mid-way reports the error in the DONE payload.
                let code = m.error_code().unwrap_or(0);
                return Ok(if code < 0 {
                    Scan::Failed(code.saturating_abs())
                } else {
                    Scan::Complete
                });
            }
            _ => on_data(m.payload)?,
        }
    }
    Ok(Scan::Pending)
}

/// The command and attributes of a generic netlink payload.
pub fn genl(payload: &[u8]) -> Result<(u8, Attrs<'_>), DecodeError> {
    let h = payload
        .get(0..nl::GENL_HDRLEN)
        .ok_or(DecodeError::Truncated("genlmsghdr"))?;
    Ok((h[0], Attrs::new(&payload[nl::GENL_HDRLEN..])))
}

/// Decodes every top-level attribute `ty` of a message with `decode`, appending to `out`.
fn each_nested<T>(
    payload: &[u8],
    ty: u16,
    out: &mut Vec<T>,
    mut decode: impl FnMut(Attrs<'_>) -> Result<T, DecodeError>,
) -> Result<(), DecodeError> {
    let (_, attrs) = genl(payload)?;
    for a in attrs {
        let a = a?;
        if a.ty == ty {
            out.push(decode(a.nested())?);
        }
    }
    Ok(())
}

/// A message of a `GET_SERVICE` reply (dump or single): its services, appended to `out`.
pub fn services(payload: &[u8], out: &mut Vec<ServiceExtended>) -> Result<(), DecodeError> {
    each_nested(payload, cmd_attr::SERVICE, out, ServiceExtended::decode)
}

/// A message of a `GET_DEST` dump for a service of `family`: its real servers, appended to
/// `out`.
pub fn destinations(
    payload: &[u8],
    family: Family,
    out: &mut Vec<DestinationExtended>,
) -> Result<(), DecodeError> {
    each_nested(payload, cmd_attr::DEST, out, |a| {
        DestinationExtended::decode(a, family)
    })
}

/// A message of a `GET_DAEMON` dump: its sync daemons, appended to `out`.
pub fn daemons(payload: &[u8], out: &mut Vec<SyncDaemon>) -> Result<(), DecodeError> {
    each_nested(payload, cmd_attr::DAEMON, out, SyncDaemon::decode)
}

/// A message of a `GET_CONFIG` reply: the timeouts it carries, set in `t`.
pub fn timeouts(payload: &[u8], t: &mut Timeouts) -> Result<(), DecodeError> {
    let (_, attrs) = genl(payload)?;
    for a in attrs {
        let a = a?;
        match a.ty {
            cmd_attr::TIMEOUT_TCP => t.tcp = a.u32()?,
            cmd_attr::TIMEOUT_TCP_FIN => t.tcp_fin = a.u32()?,
            cmd_attr::TIMEOUT_UDP => t.udp = a.u32()?,
            _ => {}
        }
    }
    Ok(())
}

/// A message of a `GET_INFO` reply.
pub fn info(payload: &[u8]) -> Result<crate::Info, DecodeError> {
    let (_, attrs) = genl(payload)?;
    crate::Info::decode(attrs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nl::MsgBuilder;

    fn msg(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = (nl::NLMSG_HDRLEN + payload.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&ty.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(payload);
        while m.len() % 4 != 0 {
            m.push(0);
        }
        m
    }

    #[test]
    fn scan_collects_data_until_done_and_skips_other_sequence_numbers() {
        let mut b = MsgBuilder::new(0x20, 0, 7, 1, 1);
        b.u32(cmd_attr::TIMEOUT_TCP, 900);
        let data = b.finish();
        let mut dgram = data.clone();
        nl::set_seq(&mut dgram, 6); // a late reply to an earlier request
        let mut ours = data;
        nl::set_seq(&mut ours, 7);
        dgram.extend_from_slice(&ours);
        let mut seen = Vec::new();
        let r = scan_datagram::<DecodeError>(&dgram, 7, |p| {
            seen.push(p.to_vec());
            Ok(())
        });
        assert_eq!(r, Ok(Scan::Pending));
        assert_eq!(seen.len(), 1);
        let mut t = Timeouts::default();
        assert_eq!(timeouts(&seen[0], &mut t), Ok(()));
        assert_eq!(t.tcp, 900);
        let done = msg(nl::NLMSG_DONE, 7, &0i32.to_ne_bytes());
        assert_eq!(
            scan_datagram::<DecodeError>(&done, 7, |_| Ok(())),
            Ok(Scan::Complete)
        );
        let failed = msg(nl::NLMSG_DONE, 7, &(-libc::EBUSY).to_ne_bytes());
        assert_eq!(
            scan_datagram::<DecodeError>(&failed, 7, |_| Ok(())),
            Ok(Scan::Failed(libc::EBUSY))
        );
        let nack = msg(nl::NLMSG_ERROR, 7, &(-libc::ESRCH).to_ne_bytes());
        assert_eq!(
            scan_datagram::<DecodeError>(&nack, 7, |_| Ok(())),
            Ok(Scan::Failed(libc::ESRCH))
        );
        let ack = msg(nl::NLMSG_ERROR, 7, &0i32.to_ne_bytes());
        assert_eq!(
            scan_datagram::<DecodeError>(&ack, 7, |_| Ok(())),
            Ok(Scan::Complete)
        );
    }

    #[test]
    fn scan_rejects_a_bad_length_and_extreme_errno() {
        let mut m = msg(nl::NLMSG_ERROR, 1, &i32::MIN.to_ne_bytes());
        assert_eq!(
            scan_datagram::<DecodeError>(&m, 1, |_| Ok(())),
            Ok(Scan::Failed(i32::MAX))
        );
        m[0] = 200; // longer than the datagram
        assert_eq!(
            scan_datagram::<DecodeError>(&m, 1, |_| Ok(())),
            Err(DecodeError::BadLength("nlmsghdr"))
        );
        assert!(matches!(
            genl(&[1, 2]),
            Err(DecodeError::Truncated("genlmsghdr"))
        ));
    }
}
