//! SMTP_CHECK: greeting 220, `HELO name`, 250, `QUIT`.

use super::{ProbeError, net};
use crate::config::{ConnectOptions, SmtpCheck};
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest reply (all lines of a multi-line reply) accepted.
const MAX_REPLY_BYTES: usize = 8 * 1024;

/// Reads one SMTP reply (following `NNN-` continuation lines) and returns its code.
async fn read_reply<S: AsyncRead + Unpin>(s: &mut S, buf: &mut Vec<u8>) -> Result<u16, ProbeError> {
    buf.clear();
    let mut start = 0;
    let mut byte = [0u8; 512];
    loop {
        // Complete lines in buf[start..].
        while let Some(nl) = buf
            .get(start..)
            .and_then(|b| b.iter().position(|c| *c == b'\n'))
        {
            let line = buf.get(start..start + nl).unwrap_or_default();
            let code = line
                .get(..3)
                .filter(|c| c.iter().all(u8::is_ascii_digit))
                .and_then(|c| std::str::from_utf8(c).ok()?.parse::<u16>().ok())
                .ok_or_else(|| ProbeError::BadResponse("malformed SMTP reply".to_owned()))?;
            if line.get(3) != Some(&b'-') {
                return Ok(code);
            }
            start += nl + 1;
        }
        if buf.len() > MAX_REPLY_BYTES {
            return Err(ProbeError::TooLarge(MAX_REPLY_BYTES));
        }
        let n = s.read(&mut byte).await?;
        if n == 0 {
            return Err(ProbeError::BadResponse("connection closed".to_owned()));
        }
        buf.extend_from_slice(byte.get(..n).unwrap_or_default());
    }
}

/// The SMTP dialogue on any stream.
pub(crate) async fn dialogue<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    helo: &str,
) -> Result<(), ProbeError> {
    let mut buf = Vec::new();
    let code = read_reply(s, &mut buf).await?;
    if code != 220 {
        return Err(ProbeError::BadResponse(format!(
            "greeting {code}, want 220"
        )));
    }
    s.write_all(format!("HELO {helo}\r\n").as_bytes()).await?;
    let code = read_reply(s, &mut buf).await?;
    if code != 250 {
        return Err(ProbeError::BadResponse(format!(
            "HELO answered {code}, want 250"
        )));
    }
    // QUIT is a courtesy; its answer does not matter.
    let _ = s.write_all(b"QUIT\r\n").await;
    Ok(())
}

/// One SMTP_CHECK attempt.
pub(crate) async fn check(
    c: &SmtpCheck,
    opts: &ConnectOptions,
    target: SocketAddr,
) -> Result<(), ProbeError> {
    let mut stream = net::tcp_connect(opts, target).await?;
    dialogue(&mut stream, &c.helo_name).await
}
