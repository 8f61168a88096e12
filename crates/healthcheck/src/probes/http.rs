//! HTTP_GET and SSL_GET, with keepalived's request and digest semantics, on a minimal HTTP/1
//! client of our own.
//!
//! A general-purpose client (hyper) de-chunks bodies and normalises headers; keepalived does
//! neither, and its `digest` must be reproduced byte for byte. What keepalived 2.2.7 (and its
//! `genhash`) does, checked against Debian's build:
//!
//! - the request is `GET path HTTP/1.0` (or `1.1`), `User-Agent: KeepAliveClient`,
//!   `Connection: close` for `1.0C` and `1.1`, then `Host: vhost` or `Host: ip:port`;
//! - the response headers end at the first `\r\n\r\n` (a response without one is "no data");
//! - the body is every byte after that, **not de-chunked**, cut at `Content-Length` only when the
//!   header is spelled exactly `Content-Length:` and its value is all digits;
//! - the digest is the lower-case hex MD5 of those bytes.

use super::{ProbeError, net, tls};
use crate::config::{ConnectOptions, HttpCheck, HttpProtocol, TlsOptions, UrlCheck};
use crate::http_wire::{find_header_end, parse_content_length, parse_status};
use crate::sched::UrlRange;
use md5::{Digest, Md5};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Largest response header accepted.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest body hashed; a longer body fails the check (keepalived has no limit, but a checker
/// must not be kept busy for ever).
pub const MAX_BODY_BYTES: u64 = 64 * 1024 * 1024;

/// What one GET returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponseSummary {
    /// The status code.
    pub status: u16,
    /// Lower-case hex MD5 of the body, as keepalived computes it.
    pub digest: String,
    /// Number of body bytes hashed.
    pub body_len: u64,
    /// The raw response header, up to and including the blank line.
    pub header: Vec<u8>,
    /// The first body bytes, as many as [`ReadOptions::keep_body`] asked for.
    pub body: Vec<u8>,
}

/// The `Host` header value keepalived sends without `virtualhost`: `ip:port`, IPv6 in brackets.
pub fn default_host(target: SocketAddr) -> String {
    target.to_string()
}

/// The request bytes keepalived sends.
pub fn build_request(path: &str, protocol: HttpProtocol, host: &str) -> Vec<u8> {
    let (version, close) = match protocol {
        HttpProtocol::Http10 => ("1.0", false),
        HttpProtocol::Http10Close => ("1.0", true),
        HttpProtocol::Http11 => ("1.1", true),
    };
    let mut req = format!("GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n");
    if close {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("Host: ");
    req.push_str(host);
    req.push_str("\r\n\r\n");
    req.into_bytes()
}

/// Largest body prefix kept for `regex` matching; a longer body is matched on its first
/// `MAX_REGEX_BODY_BYTES` bytes (keepalived matches in a bounded buffer too).
pub const MAX_REGEX_BODY_BYTES: usize = 1024 * 1024;

/// How a response is read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// Keep up to this many body bytes in [`HttpResponseSummary::body`] (0: keep none).
    pub keep_body: usize,
    /// `tls_compliant`: a TLS peer closing without `close_notify` is an error instead of the end
    /// of the body.
    pub tls_compliant: bool,
}

/// Reads, treating a TLS peer that closes without close_notify as end of stream (keepalived
/// does the same unless `tls_compliant`).
async fn read_some<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut [u8],
    tls_compliant: bool,
) -> Result<usize, ProbeError> {
    match s.read(buf).await {
        Ok(n) => Ok(n),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !tls_compliant => Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(ProbeError::Tls(
            "tls_compliant: the server closed the connection without close_notify".to_owned(),
        )),
        Err(e) => Err(ProbeError::Io(e)),
    }
}

/// Sends `request` on `stream` and reads the response with keepalived's semantics.
pub async fn get<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
) -> Result<HttpResponseSummary, ProbeError> {
    get_with(stream, request, ReadOptions::default()).await
}

/// [`get`] with [`ReadOptions`] (body kept for `regex`, `tls_compliant`).
pub async fn get_with<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    request: &[u8],
    opts: ReadOptions,
) -> Result<HttpResponseSummary, ProbeError> {
    stream.write_all(request).await?;
    stream.flush().await?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let header_end = loop {
        if let Some(end) = find_header_end(&buf) {
            break end;
        }
        if buf.len() > MAX_HEADER_BYTES {
            return Err(ProbeError::TooLarge(MAX_HEADER_BYTES));
        }
        let n = read_some(stream, &mut chunk, opts.tls_compliant).await?;
        if n == 0 {
            return Err(ProbeError::BadResponse(if buf.is_empty() {
                "no data received".to_owned()
            } else {
                "connection closed before the end of the headers".to_owned()
            }));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    };
    if header_end > MAX_HEADER_BYTES {
        return Err(ProbeError::TooLarge(MAX_HEADER_BYTES));
    }
    let (header, rest) = buf.split_at(header_end);
    let status = parse_status(header).map_err(|e| ProbeError::BadResponse(e.to_string()))?;
    let limit = parse_content_length(header).unwrap_or(u64::MAX);
    let mut md5 = Md5::new();
    let mut hashed: u64 = 0;
    let mut body = Vec::new();
    let mut feed = |data: &[u8], md5: &mut Md5| -> Result<bool, ProbeError> {
        let room = limit.saturating_sub(hashed);
        let take = usize::try_from(room).unwrap_or(usize::MAX).min(data.len());
        let part = data.get(..take).unwrap_or_default();
        md5.update(part);
        let keep = opts.keep_body.saturating_sub(body.len()).min(part.len());
        body.extend_from_slice(part.get(..keep).unwrap_or_default());
        hashed += take as u64;
        if hashed > MAX_BODY_BYTES {
            return Err(ProbeError::TooLarge(MAX_BODY_BYTES as usize));
        }
        Ok(hashed >= limit)
    };
    let mut done = feed(rest, &mut md5)?;
    while !done {
        let n = read_some(stream, &mut chunk, opts.tls_compliant).await?;
        if n == 0 {
            break;
        }
        done = feed(chunk.get(..n).unwrap_or_default(), &mut md5)?;
    }
    let digest = md5
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>();
    Ok(HttpResponseSummary {
        status,
        digest,
        body_len: hashed,
        header: header.to_vec(),
        body,
    })
}

/// One GET of `path` on `target` (TLS when `tls` is set), without a deadline.
async fn fetch(
    opts: &ConnectOptions,
    target: SocketAddr,
    path: &str,
    host: &str,
    protocol: HttpProtocol,
    tls_opts: Option<&TlsOptions>,
    keep_body: usize,
) -> Result<HttpResponseSummary, ProbeError> {
    let tcp = net::tcp_connect(opts, target).await?;
    let request = build_request(path, protocol, host);
    let read = ReadOptions {
        keep_body,
        tls_compliant: tls_opts.is_some_and(|t| t.tls_compliant),
    };
    match tls_opts {
        None => {
            let mut tcp = tcp;
            get_with(&mut tcp, &request, read).await
        }
        Some(t) => {
            let mut stream = tls::connect(tcp, target, host, t).await?;
            get_with(&mut stream, &request, read).await
        }
    }
}

/// What `genhash` does: one GET with a deadline, returning the status and digest.
pub async fn fetch_digest(
    target: SocketAddr,
    path: &str,
    virtualhost: Option<&str>,
    protocol: HttpProtocol,
    tls_opts: Option<&TlsOptions>,
    timeout: Duration,
) -> Result<HttpResponseSummary, ProbeError> {
    let opts = ConnectOptions::default();
    fetch_digest_from(
        &opts,
        target,
        path,
        virtualhost,
        protocol,
        tls_opts,
        timeout,
    )
    .await
}

/// [`fetch_digest`] with connection options (`bindto`, `bind_port`, `fwmark`).
pub async fn fetch_digest_from(
    opts: &ConnectOptions,
    target: SocketAddr,
    path: &str,
    virtualhost: Option<&str>,
    protocol: HttpProtocol,
    tls_opts: Option<&TlsOptions>,
    timeout: Duration,
) -> Result<HttpResponseSummary, ProbeError> {
    let host = virtualhost.map_or_else(|| default_host(target), str::to_owned);
    let work = fetch(opts, target, path, &host, protocol, tls_opts, 0);
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| ProbeError::Timeout(timeout))?
}

/// Checks one `url` block against a response.
pub fn verify(url: &UrlCheck, resp: &HttpResponseSummary) -> Result<(), ProbeError> {
    if !url.status_ok(resp.status) {
        return Err(ProbeError::Status {
            path: url.path.clone(),
            status: resp.status,
        });
    }
    if let Some(want) = url
        .digest
        .as_ref()
        .filter(|want| !want.eq_ignore_ascii_case(&resp.digest))
    {
        return Err(ProbeError::Digest {
            path: url.path.clone(),
            got: resp.digest.clone(),
            want: want.clone(),
        });
    }
    if let Some(re) = url.regex.as_ref().filter(|re| !re.accepts(&resp.body)) {
        return Err(ProbeError::Regex {
            path: url.path.clone(),
            pattern: re.pattern().to_owned(),
            no_match: re.no_match(),
        });
    }
    Ok(())
}

/// One HTTP_GET / SSL_GET attempt: every url of `range` (all urls when `None`), in order, must
/// pass.
pub(crate) async fn check(
    h: &HttpCheck,
    opts: &ConnectOptions,
    target: SocketAddr,
    range: Option<UrlRange>,
) -> Result<(), ProbeError> {
    let default_url = [UrlCheck::default()];
    let all = if h.urls.is_empty() {
        &default_url[..]
    } else {
        &h.urls[..]
    };
    let urls = match range {
        Some(r) => all.get(r.start..r.end.min(all.len())).unwrap_or(all),
        None => all,
    };
    for url in urls {
        let host = url
            .virtualhost
            .as_deref()
            .or(h.virtualhost.as_deref())
            .map_or_else(|| default_host(target), str::to_owned);
        let keep = if url.regex.is_some() {
            MAX_REGEX_BODY_BYTES
        } else {
            0
        };
        let resp = fetch(
            opts,
            target,
            &url.path,
            &host,
            h.protocol,
            h.tls.as_ref(),
            keep,
        )
        .await?;
        verify(url, &resp)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_match_keepalived() {
        assert_eq!(
            build_request("/x", HttpProtocol::Http10, "127.0.0.1:80"),
            b"GET /x HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:80\r\n\r\n"
        );
        assert_eq!(
            build_request("/x", HttpProtocol::Http11, "foo"),
            b"GET /x HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: foo\r\n\r\n"
        );
        assert_eq!(
            build_request("/", HttpProtocol::Http10Close, "h"),
            b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: h\r\n\r\n"
        );
        assert_eq!(default_host("[::1]:8080".parse().unwrap()), "[::1]:8080");
    }
}
