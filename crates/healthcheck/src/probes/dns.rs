//! DNS_CHECK: a UDP query (RD=1) answered with the same id, QR=1 and RCODE 0. The answer count
//! is not checked (keepalived does not either).

use super::{ProbeError, net};
use crate::config::{ConnectOptions, DnsCheck};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};

/// Largest reply read.
const MAX_REPLY: usize = 4096;

/// A query id that changes with every query.
fn next_id() -> u16 {
    static COUNTER: AtomicU16 = AtomicU16::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    COUNTER.fetch_add(0x9E37, Ordering::Relaxed) ^ (nanos as u16)
}

/// Encodes the query for `name`/`qtype` with `id`.
pub(crate) fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, ProbeError> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        let len = u8::try_from(label.len())
            .ok()
            .filter(|l| *l <= 63)
            .ok_or_else(|| ProbeError::Config(format!("DNS label too long in {name:?}")))?;
        q.push(len);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    Ok(q)
}

/// Whether `reply` answers query `id` successfully: `Some(Ok)` yes, `Some(Err)` an error answer,
/// `None` not an answer to this query.
pub(crate) fn judge_reply(id: u16, reply: &[u8]) -> Option<Result<(), ProbeError>> {
    let header = reply.get(..12)?;
    if header.get(..2)? != id.to_be_bytes() {
        return None;
    }
    let flags = header.get(2..4)?;
    if flags.first()? & 0x80 == 0 {
        return None;
    }
    let rcode = flags.get(1)? & 0x0f;
    Some(if rcode == 0 {
        Ok(())
    } else {
        Err(ProbeError::BadResponse(format!("DNS rcode {rcode}")))
    })
}

/// One DNS_CHECK attempt (the caller's deadline bounds it).
pub(crate) async fn check(
    d: &DnsCheck,
    opts: &ConnectOptions,
    target: SocketAddr,
) -> Result<(), ProbeError> {
    let sock = net::udp_connect(opts, target)?;
    let id = next_id();
    sock.send(&encode_query(id, &d.name, d.qtype)?).await?;
    let mut buf = vec![0u8; MAX_REPLY];
    loop {
        let n = sock.recv(&mut buf).await?;
        if let Some(r) = judge_reply(id, buf.get(..n).unwrap_or_default()) {
            return r;
        }
    }
}
