//! UDP_CHECK: send the payload; without `require_reply` a timeout is success and only an ICMP
//! error (port/host/net unreachable, seen as a socket error) fails; with it a reply of the right
//! length and prefix (nibbles, `X` = any) must arrive.

use super::{ProbeError, net};
use crate::config::{ConnectOptions, UdpCheck};
use crate::sched::Outcome;
use std::net::SocketAddr;
use std::time::Duration;

/// Largest reply read.
const MAX_REPLY: usize = 64 * 1024;

/// Whether `reply` matches the nibble pattern (`None` = wildcard) as a prefix.
pub(crate) fn matches(pattern: &[Option<u8>], reply: &[u8]) -> bool {
    pattern.iter().enumerate().all(|(i, want)| {
        let Some(byte) = reply.get(i / 2) else {
            return false;
        };
        let nibble = if i % 2 == 0 { byte >> 4 } else { byte & 0x0f };
        want.is_none_or(|w| w == nibble)
    })
}

/// One UDP_CHECK attempt.
pub(crate) async fn check(
    u: &UdpCheck,
    opts: &ConnectOptions,
    target: SocketAddr,
    timeout: Duration,
) -> Result<Outcome, ProbeError> {
    let sock = net::udp_connect(opts, target)?;
    let payload: &[u8] = if u.payload.is_empty() {
        &[0u8; 16]
    } else {
        &u.payload
    };
    let mut buf = vec![0u8; MAX_REPLY];
    let exchange = async {
        sock.send(payload).await?;
        sock.recv(&mut buf).await
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => match u.require_reply {
            None => Ok(Outcome::Up),
            Some(_) => Err(ProbeError::Timeout(timeout)),
        },
        Ok(Err(e)) => Err(ProbeError::Connect {
            addr: target,
            source: e,
        }),
        Ok(Ok(n)) => {
            let Some(pattern) = &u.require_reply else {
                return Ok(Outcome::Up);
            };
            let reply = buf.get(..n).unwrap_or_default();
            if n < u.min_reply_length || n > u.max_reply_length {
                return Err(ProbeError::BadResponse(format!(
                    "reply of {n} bytes outside {}..={}",
                    u.min_reply_length, u.max_reply_length
                )));
            }
            if !matches(pattern, reply) {
                return Err(ProbeError::BadResponse("reply does not match".to_owned()));
            }
            Ok(Outcome::Up)
        }
    }
}
