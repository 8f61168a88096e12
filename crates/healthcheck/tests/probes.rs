//! Probes against real servers started on loopback: hyper, a misbehaving raw HTTP server, a TLS
//! server with an rcgen certificate, SMTP/DNS/UDP stubs, closed ports, a silent listener,
//! scripts with each exit code and a hung script. Assertions are on results, never on time.
#![cfg(feature = "probes")]
// Test support code: a failing set-up should panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use healthcheck::Outcome;
use healthcheck::config::*;
use healthcheck::probes::{ProbeError, fetch_digest, run_probe};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame};
use hyper::service::service_fn;
use hyper::{Request, Response};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

const SHORT: Duration = Duration::from_millis(300);

fn md5_hex(data: &[u8]) -> String {
    use md5::{Digest, Md5};
    Md5::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn binary_body() -> Vec<u8> {
    (0..=255u8).cycle().take(3000).collect()
}

type BoxBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn hyper_handler(
    req: Request<hyper::body::Incoming>,
) -> Result<Response<BoxBody>, Infallible> {
    let full = |status: u16, body: Vec<u8>| {
        Response::builder()
            .status(status)
            .body(Full::new(Bytes::from(body)).boxed())
            .unwrap()
    };
    Ok(match req.uri().path() {
        "/" => full(200, b"hello".to_vec()),
        "/binary" => full(200, binary_body()),
        "/empty" => full(200, Vec::new()),
        "/missing" => full(404, b"no".to_vec()),
        "/redirect" => full(302, Vec::new()),
        "/host" => {
            let host = req
                .headers()
                .get("host")
                .map(|h| h.as_bytes().to_vec())
                .unwrap_or_default();
            full(200, host)
        }
        "/chunked" => Response::new(
            Chunks(vec![
                Bytes::from_static(b" world"),
                Bytes::from_static(b"hello"),
            ])
            .boxed(),
        ),
        _ => full(500, Vec::new()),
    })
}

/// A body of unknown length (so hyper sends it chunked to an HTTP/1.1 client); frames are
/// popped from the end.
struct Chunks(Vec<Bytes>);

impl hyper::body::Body for Chunks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        std::task::Poll::Ready(self.0.pop().map(|b| Ok(Frame::data(b))))
    }
}

/// A hyper server on 127.0.0.1:0.
async fn hyper_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service_fn(hyper_handler))
                    .await;
            });
        }
    });
    addr
}

/// A raw server answering every connection with `response` (then closing).
async fn raw_server(response: Vec<u8>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let response = Arc::new(response);
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let response = response.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s.write_all(&response).await;
                let _ = s.shutdown().await;
            });
        }
    });
    addr
}

/// Misbehaviours of the raw server.
#[derive(Clone, Copy)]
enum Misbehave {
    /// Sends half a header, then nothing.
    SlowHeaders,
    /// Resets the connection after reading the request.
    Reset,
    /// Sends headers forever.
    HugeHeaders,
    /// Sends a body forever.
    EndlessBody,
    /// Accepts and never answers.
    Silent,
}

async fn misbehaving_server(mode: Misbehave) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                if !matches!(mode, Misbehave::Silent) {
                    let _ = s.read(&mut buf).await;
                }
                match mode {
                    Misbehave::SlowHeaders => {
                        let _ = s.write_all(b"HTTP/1.0 200 OK\r\nServer: sl").await;
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                    Misbehave::Reset => {
                        let std = s.into_std().unwrap();
                        socket2::SockRef::from(&std)
                            .set_linger(Some(Duration::ZERO))
                            .unwrap();
                        drop(std);
                    }
                    Misbehave::HugeHeaders => {
                        let _ = s.write_all(b"HTTP/1.0 200 OK\r\n").await;
                        let line = b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n";
                        while s.write_all(line).await.is_ok() {}
                    }
                    Misbehave::EndlessBody => {
                        let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
                        let block = vec![b'z'; 64 * 1024];
                        while s.write_all(&block).await.is_ok() {}
                    }
                    Misbehave::Silent => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                    }
                }
            });
        }
    });
    addr
}

fn http(urls: Vec<UrlCheck>) -> CheckerConfig {
    CheckerConfig::new(
        CheckerKind::Http(HttpCheck {
            urls,
            ..Default::default()
        }),
        Duration::from_secs(1),
    )
}

fn url(path: &str, digest: Option<&str>) -> UrlCheck {
    UrlCheck {
        path: path.to_owned(),
        digest: digest.map(str::to_owned),
        ..Default::default()
    }
}

async fn closed_port() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap()
}

// ---- TCP_CHECK ----

#[tokio::test]
async fn tcp_check_up_down_and_timeout() {
    let open = hyper_server().await;
    let tcp = CheckerConfig::new(CheckerKind::Tcp, Duration::from_secs(1));
    assert_eq!(run_probe(&tcp, open, SHORT).await.unwrap(), Outcome::Up);
    let closed = closed_port().await;
    assert!(matches!(
        run_probe(&tcp, closed, SHORT).await,
        Err(ProbeError::Connect { .. })
    ));
    // A non-routable documentation address never answers: timeout (or unreachable).
    let blackhole: SocketAddr = "192.0.2.1:9".parse().unwrap();
    assert!(
        run_probe(&tcp, blackhole, Duration::from_millis(100))
            .await
            .is_err()
    );
}

#[tokio::test]
async fn tcp_check_honours_connect_port_and_bindto() {
    let open = hyper_server().await;
    let closed = closed_port().await;
    let mut tcp = CheckerConfig::new(CheckerKind::Tcp, Duration::from_secs(1));
    tcp.connect.connect_port = Some(open.port());
    tcp.connect.bindto = Some("127.0.0.2".parse().unwrap());
    assert_eq!(run_probe(&tcp, closed, SHORT).await.unwrap(), Outcome::Up);
    tcp.connect.bindto = Some("192.0.2.77".parse().unwrap());
    assert!(matches!(
        run_probe(&tcp, closed, SHORT).await,
        Err(ProbeError::Connect { .. })
    ));
}

// ---- HTTP_GET ----

#[tokio::test]
async fn http_get_status_and_digest() {
    let addr = hyper_server().await;
    let ok = http(vec![url("/", Some(&md5_hex(b"hello")))]);
    assert_eq!(run_probe(&ok, addr, SHORT).await.unwrap(), Outcome::Up);
    let bad_digest = http(vec![url("/", Some(&md5_hex(b"other")))]);
    assert!(matches!(
        run_probe(&bad_digest, addr, SHORT).await,
        Err(ProbeError::Digest { .. })
    ));
    let missing = http(vec![url("/missing", None)]);
    assert!(matches!(
        run_probe(&missing, addr, SHORT).await,
        Err(ProbeError::Status { status: 404, .. })
    ));
    // status_code sets and ranges.
    let mut m = url("/missing", None);
    m.status_codes = vec![(200, 200), (400, 404)];
    assert_eq!(
        run_probe(&http(vec![m]), addr, SHORT).await.unwrap(),
        Outcome::Up
    );
    let mut r = url("/redirect", None);
    r.status_codes = vec![(301, 302)];
    assert_eq!(
        run_probe(&http(vec![r]), addr, SHORT).await.unwrap(),
        Outcome::Up
    );
}

#[tokio::test]
async fn http_get_all_urls_must_pass() {
    let addr = hyper_server().await;
    let both = http(vec![url("/", None), url("/empty", Some(&md5_hex(b"")))]);
    assert_eq!(run_probe(&both, addr, SHORT).await.unwrap(), Outcome::Up);
    let second_fails = http(vec![url("/", None), url("/missing", None)]);
    assert!(run_probe(&second_fails, addr, SHORT).await.is_err());
}

#[tokio::test]
async fn http_get_binary_and_chunked_digests() {
    let addr = hyper_server().await;
    let bin = fetch_digest(addr, "/binary", None, HttpProtocol::Http10, None, SHORT)
        .await
        .unwrap();
    assert_eq!(bin.digest, md5_hex(&binary_body()));
    // keepalived does not de-chunk: the digest covers the chunk framing.
    let chunked = fetch_digest(addr, "/chunked", None, HttpProtocol::Http11, None, SHORT)
        .await
        .unwrap();
    assert_eq!(
        chunked.digest,
        md5_hex(b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    );
}

#[tokio::test]
async fn http_get_host_header_and_virtualhost() {
    let addr = hyper_server().await;
    let r = fetch_digest(addr, "/host", None, HttpProtocol::Http10, None, SHORT)
        .await
        .unwrap();
    assert_eq!(r.digest, md5_hex(addr.to_string().as_bytes()));
    let r = fetch_digest(
        addr,
        "/host",
        Some("www.example"),
        HttpProtocol::Http11,
        None,
        SHORT,
    )
    .await
    .unwrap();
    assert_eq!(r.digest, md5_hex(b"www.example"));
    let mut u = url("/host", Some(&md5_hex(b"per-url")));
    u.virtualhost = Some("per-url".into());
    let mut c = http(vec![u]);
    if let CheckerKind::Http(h) = &mut c.kind {
        h.virtualhost = Some("checker-wide".into());
    }
    assert_eq!(run_probe(&c, addr, SHORT).await.unwrap(), Outcome::Up);
}

#[tokio::test]
async fn http_raw_responses_follow_keepalived() {
    // Content-Length cuts the body; a truncated body hashes what arrived.
    let cut = raw_server(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhello".to_vec()).await;
    let r = fetch_digest(cut, "/", None, HttpProtocol::Http10, None, SHORT)
        .await
        .unwrap();
    assert_eq!(r.digest, md5_hex(b"hel"));
    let trunc = raw_server(b"HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\nhello".to_vec()).await;
    let r = fetch_digest(trunc, "/", None, HttpProtocol::Http10, None, SHORT)
        .await
        .unwrap();
    assert_eq!(
        (r.digest.as_str(), r.body_len),
        (md5_hex(b"hello").as_str(), 5)
    );
    // Raw chunked framing is hashed as is.
    let chunked = raw_server(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n".to_vec(),
    )
    .await;
    let r = fetch_digest(chunked, "/", None, HttpProtocol::Http11, None, SHORT)
        .await
        .unwrap();
    assert_eq!(r.digest, md5_hex(b"5\r\nhello\r\n0\r\n\r\n"));
    // Wrong status.
    let wrong = raw_server(b"HTTP/1.0 503 Busy\r\n\r\n".to_vec()).await;
    assert!(matches!(
        run_probe(&http(vec![url("/", None)]), wrong, SHORT).await,
        Err(ProbeError::Status { status: 503, .. })
    ));
    // Garbage, LF-only headers and an empty response fail.
    for junk in [&b"garbage\r\n\r\n"[..], b"HTTP/1.0 200 OK\n\nhello", b""] {
        let a = raw_server(junk.to_vec()).await;
        assert!(matches!(
            run_probe(&http(vec![url("/", None)]), a, SHORT).await,
            Err(ProbeError::BadResponse(_))
        ));
    }
}

#[tokio::test]
async fn http_misbehaving_servers_fail_cleanly() {
    let check = http(vec![url("/", Some(&md5_hex(b"x")))]);
    let slow = misbehaving_server(Misbehave::SlowHeaders).await;
    assert!(matches!(
        run_probe(&check, slow, SHORT).await,
        Err(ProbeError::Timeout(_))
    ));
    let silent = misbehaving_server(Misbehave::Silent).await;
    assert!(matches!(
        run_probe(&check, silent, SHORT).await,
        Err(ProbeError::Timeout(_))
    ));
    let reset = misbehaving_server(Misbehave::Reset).await;
    assert!(matches!(
        run_probe(&check, reset, SHORT).await,
        Err(ProbeError::Io(_) | ProbeError::BadResponse(_))
    ));
    let huge = misbehaving_server(Misbehave::HugeHeaders).await;
    assert!(matches!(
        run_probe(&check, huge, Duration::from_secs(5)).await,
        Err(ProbeError::TooLarge(_))
    ));
    let endless = misbehaving_server(Misbehave::EndlessBody).await;
    assert!(matches!(
        run_probe(&check, endless, Duration::from_secs(30)).await,
        Err(ProbeError::TooLarge(_) | ProbeError::Timeout(_))
    ));
    let closed = closed_port().await;
    assert!(matches!(
        run_probe(&check, closed, SHORT).await,
        Err(ProbeError::Connect { .. })
    ));
}

// ---- SSL_GET ----

struct TlsServer {
    addr: SocketAddr,
    ca_file: std::path::PathBuf,
    _dir: TempDir,
}

/// A throwaway directory, removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("hc-test-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A TLS server with a self-signed certificate for `localhost`, answering `body` and recording
/// the SNI it saw (empty when none) in the `X-Sni` header.
async fn tls_server(body: &'static [u8]) -> TlsServer {
    tls_server_with(body, true, None).await
}

/// [`tls_server`] that may close without `close_notify`, and may require a client certificate
/// issued by `client_ca`.
async fn tls_server_with(
    body: &'static [u8],
    close_notify: bool,
    client_ca: Option<rustls::pki_types::CertificateDer<'static>>,
) -> TlsServer {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let dir = TempDir::new("tls");
    let ca_file = dir.0.join("ca.pem");
    std::fs::write(&ca_file, cert.cert.pem()).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(ca).unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let sni = tls.get_ref().1.server_name().unwrap_or("").to_owned();
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.0 200 OK\r\nX-Sni: {sni}\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = tls.write_all(head.as_bytes()).await;
                let _ = tls.write_all(body).await;
                if close_notify {
                    let _ = tls.shutdown().await;
                } else {
                    let _ = tls.flush().await;
                    // Close the TCP connection under the TLS session: no close_notify.
                    let (tcp, _) = tls.into_inner();
                    drop(tcp);
                }
            });
        }
    });
    TlsServer {
        addr,
        ca_file,
        _dir: dir,
    }
}

fn ssl(urls: Vec<UrlCheck>, tls: TlsOptions) -> CheckerConfig {
    CheckerConfig::new(
        CheckerKind::Http(HttpCheck {
            urls,
            tls: Some(tls),
            ..Default::default()
        }),
        Duration::from_secs(1),
    )
}

fn sni_of(header: &[u8]) -> String {
    let text = String::from_utf8_lossy(header);
    text.lines()
        .find_map(|l| l.strip_prefix("X-Sni: "))
        .unwrap_or("")
        .to_owned()
}

#[tokio::test]
async fn ssl_get_digest_sni_and_verification() {
    let srv = tls_server(b"secure").await;
    let timeout = Duration::from_secs(5);
    // No verification (keepalived's default), no SNI.
    let c = ssl(
        vec![url("/", Some(&md5_hex(b"secure")))],
        TlsOptions::default(),
    );
    assert_eq!(run_probe(&c, srv.addr, timeout).await.unwrap(), Outcome::Up);
    let r = fetch_digest(
        srv.addr,
        "/",
        None,
        HttpProtocol::Http10,
        Some(&TlsOptions::default()),
        timeout,
    )
    .await
    .unwrap();
    assert_eq!(sni_of(&r.header), "");
    // SNI from the virtualhost (port stripped) or sni_name.
    let sni = TlsOptions {
        enable_sni: true,
        ..Default::default()
    };
    let r = fetch_digest(
        srv.addr,
        "/",
        Some("localhost"),
        HttpProtocol::Http10,
        Some(&sni),
        timeout,
    )
    .await
    .unwrap();
    assert_eq!(sni_of(&r.header), "localhost");
    // Verification against the CA: passes for the certificate's name, fails otherwise.
    let verify = |name: &str| TlsOptions {
        enable_sni: true,
        sni_name: Some(name.to_owned()),
        verify_ca: Some(srv.ca_file.clone()),
        ..Default::default()
    };
    let good = ssl(vec![url("/", None)], verify("localhost"));
    assert_eq!(
        run_probe(&good, srv.addr, timeout).await.unwrap(),
        Outcome::Up
    );
    let bad = ssl(vec![url("/", None)], verify("wrong.example"));
    assert!(matches!(
        run_probe(&bad, srv.addr, timeout).await,
        Err(ProbeError::Tls(_))
    ));
    // TLS against a plain HTTP server fails cleanly.
    let plain = hyper_server().await;
    assert!(run_probe(&c, plain, timeout).await.is_err());
}

// ---- MISC_CHECK ----

fn misc(script: &str, dynamic: bool, timeout: Duration) -> CheckerConfig {
    CheckerConfig::new(
        CheckerKind::Misc(MiscCheck {
            argv: vec!["/bin/sh".into(), "-c".into(), script.into()],
            timeout: Some(timeout),
            dynamic,
            ..Default::default()
        }),
        Duration::from_secs(1),
    )
}

#[tokio::test]
async fn misc_check_exit_code_protocol() {
    let rs: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let t = Duration::from_secs(10);
    assert_eq!(
        run_probe(&misc("exit 0", false, t), rs, t).await.unwrap(),
        Outcome::Up
    );
    assert!(run_probe(&misc("exit 1", false, t), rs, t).await.is_err());
    assert!(run_probe(&misc("exit 7", false, t), rs, t).await.is_err());
    assert!(run_probe(&misc("exit 1", true, t), rs, t).await.is_err());
    assert_eq!(
        run_probe(&misc("exit 2", true, t), rs, t).await.unwrap(),
        Outcome::UpWithWeight(0)
    );
    assert_eq!(
        run_probe(&misc("exit 255", true, t), rs, t).await.unwrap(),
        Outcome::UpWithWeight(253)
    );
    assert!(matches!(
        run_probe(&misc("kill -9 $$", false, t), rs, t).await,
        Err(ProbeError::Script(_))
    ));
    let mut none = misc("", false, t);
    if let CheckerKind::Misc(m) = &mut none.kind {
        m.argv.clear();
    }
    assert!(matches!(
        run_probe(&none, rs, t).await,
        Err(ProbeError::Config(_))
    ));
    let mut missing = misc("", false, t);
    if let CheckerKind::Misc(m) = &mut missing.kind {
        m.argv = vec!["/nonexistent/script".into()];
    }
    assert!(matches!(
        run_probe(&missing, rs, t).await,
        Err(ProbeError::Script(_))
    ));
}

#[tokio::test]
async fn misc_check_hung_script_is_killed_with_its_group() {
    let dir = TempDir::new("misc");
    let pidfile = dir.0.join("grandchild.pid");
    // The script starts a grandchild in its process group and hangs.
    let script = format!("sleep 60 & echo $! > {}; wait", pidfile.display());
    let rs: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let r = run_probe(&misc(&script, false, SHORT), rs, SHORT).await;
    assert!(matches!(r, Err(ProbeError::Timeout(_))));
    let pid: i32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The grandchild got the group's SIGTERM/SIGKILL; poll until it is reaped by init.
    let mut gone = false;
    for _ in 0..100 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Absent, or a zombie waiting for its reaper.
        if stat.is_empty() || stat.split_whitespace().nth(2) == Some("Z") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(gone, "grandchild {pid} still running");
}

// ---- SMTP_CHECK ----

async fn smtp_stub(greeting: &'static [u8], helo_reply: &'static [u8]) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = s.write_all(greeting).await;
                let mut buf = [0u8; 512];
                let n = s.read(&mut buf).await.unwrap_or(0);
                if buf[..n].starts_with(b"HELO smtpchecker.keepalived.org\r\n") {
                    let _ = s.write_all(helo_reply).await;
                } else {
                    let _ = s.write_all(b"500 what\r\n").await;
                }
                let _ = s.read(&mut buf).await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn smtp_check() {
    let c = CheckerConfig::new(
        CheckerKind::Smtp(SmtpCheck::default()),
        Duration::from_secs(1),
    );
    let good = smtp_stub(b"220-mail ESMTP\r\n220 ready\r\n", b"250 hello\r\n").await;
    assert_eq!(run_probe(&c, good, SHORT).await.unwrap(), Outcome::Up);
    let busy = smtp_stub(b"421 busy\r\n", b"250 hello\r\n").await;
    assert!(matches!(
        run_probe(&c, busy, SHORT).await,
        Err(ProbeError::BadResponse(_))
    ));
    let refuse = smtp_stub(b"220 ready\r\n", b"550 no\r\n").await;
    assert!(run_probe(&c, refuse, SHORT).await.is_err());
    let junk = smtp_stub(b"hello there\r\n", b"").await;
    assert!(run_probe(&c, junk, SHORT).await.is_err());
    let silent = misbehaving_server(Misbehave::Silent).await;
    assert!(matches!(
        run_probe(&c, silent, SHORT).await,
        Err(ProbeError::Timeout(_))
    ));
}

// ---- DNS_CHECK ----

/// A DNS stub answering with `rcode` (and a reply with the wrong id first).
async fn dns_stub(rcode: u8) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let q = &buf[..n];
            let mut wrong = q.to_vec();
            wrong[0] ^= 0xff;
            wrong[2] |= 0x80;
            let _ = sock.send_to(&wrong, peer).await;
            let mut r = q.to_vec();
            r[2] |= 0x80;
            r[3] = (r[3] & 0xf0) | rcode;
            let _ = sock.send_to(&r, peer).await;
        }
    });
    addr
}

#[tokio::test]
async fn dns_check() {
    let c = CheckerConfig::new(
        CheckerKind::Dns(DnsCheck::default()),
        Duration::from_secs(1),
    );
    assert_eq!(
        run_probe(&c, dns_stub(0).await, SHORT).await.unwrap(),
        Outcome::Up
    );
    assert!(matches!(
        run_probe(&c, dns_stub(3).await, SHORT).await,
        Err(ProbeError::BadResponse(_))
    ));
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    assert!(matches!(
        run_probe(&c, silent.local_addr().unwrap(), SHORT).await,
        Err(ProbeError::Timeout(_))
    ));
    let long = CheckerConfig::new(
        CheckerKind::Dns(DnsCheck {
            qtype: 1,
            name: "a".repeat(64),
        }),
        Duration::from_secs(1),
    );
    assert!(matches!(
        run_probe(&long, dns_stub(0).await, SHORT).await,
        Err(ProbeError::Config(_))
    ));
}

// ---- UDP_CHECK ----

async fn udp_echo(prefix: &'static [u8]) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let mut r = prefix.to_vec();
            r.extend_from_slice(&buf[..n]);
            let _ = sock.send_to(&r, peer).await;
        }
    });
    addr
}

fn udp(require_reply: Option<Vec<Option<u8>>>) -> CheckerConfig {
    CheckerConfig::new(
        CheckerKind::Udp(UdpCheck {
            payload: b"ping".to_vec(),
            require_reply,
            ..Default::default()
        }),
        Duration::from_secs(1),
    )
}

#[tokio::test]
async fn udp_check() {
    // "AB" then a wildcard nibble then "D": matches 0xAB 0x?D.
    let pattern = vec![Some(0xA), Some(0xB), None, Some(0xD)];
    let echo = udp_echo(&[0xAB, 0x7D]).await;
    assert_eq!(
        run_probe(&udp(Some(pattern.clone())), echo, SHORT)
            .await
            .unwrap(),
        Outcome::Up
    );
    let other = udp_echo(&[0xAB, 0x7E]).await;
    assert!(matches!(
        run_probe(&udp(Some(pattern)), other, SHORT).await,
        Err(ProbeError::BadResponse(_))
    ));
    // Length bounds.
    let mut short_max = udp(Some(vec![]));
    if let CheckerKind::Udp(u) = &mut short_max.kind {
        u.max_reply_length = 3;
    }
    assert!(run_probe(&short_max, echo, SHORT).await.is_err());
    // No reply: success without require_reply, failure with it.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent = silent.local_addr().unwrap();
    assert_eq!(
        run_probe(&udp(None), silent, SHORT).await.unwrap(),
        Outcome::Up
    );
    assert!(matches!(
        run_probe(&udp(Some(vec![])), silent, SHORT).await,
        Err(ProbeError::Timeout(_))
    ));
    // ICMP port unreachable fails.
    let closed = {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.local_addr().unwrap()
    };
    assert!(matches!(
        run_probe(&udp(None), closed, SHORT).await,
        Err(ProbeError::Connect { .. })
    ));
}

// ---- PING_CHECK ----

#[tokio::test]
async fn ping_check_loopback_v4_and_v6() {
    let c = CheckerConfig::new(CheckerKind::Ping, Duration::from_secs(1));
    let timeout = Duration::from_secs(2);
    let can_ping = {
        // Unprivileged ICMP sockets or CAP_NET_RAW.
        socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::DGRAM,
            Some(socket2::Protocol::ICMPV4),
        )
        .is_ok()
            || socket2::Socket::new(
                socket2::Domain::IPV4,
                socket2::Type::RAW,
                Some(socket2::Protocol::ICMPV4),
            )
            .is_ok()
    };
    let v4 = run_probe(&c, "127.0.0.1:0".parse().unwrap(), timeout).await;
    if can_ping {
        assert_eq!(v4.unwrap(), Outcome::Up);
        let v6 = run_probe(&c, "[::1]:0".parse().unwrap(), timeout).await;
        if std::net::UdpSocket::bind("[::1]:0").is_ok() {
            assert_eq!(v6.unwrap(), Outcome::Up);
        }
    } else {
        assert!(matches!(v4, Err(ProbeError::Connect { .. })));
    }
}

// ---- FILE_CHECK ----

#[tokio::test]
async fn file_check_reads_an_integer() {
    let dir = TempDir::new("file");
    let path = dir.0.join("weight");
    let c = CheckerConfig::new(
        CheckerKind::File(FileCheck {
            path: path.clone(),
            weight: 1,
            reverse: false,
        }),
        Duration::from_secs(1),
    );
    let rs: SocketAddr = "192.0.2.1:80".parse().unwrap();
    assert!(matches!(
        run_probe(&c, rs, SHORT).await,
        Err(ProbeError::Io(_))
    ));
    std::fs::write(&path, " -12\n").unwrap();
    assert_eq!(
        run_probe(&c, rs, SHORT).await.unwrap(),
        Outcome::FileValue(-12)
    );
    std::fs::write(&path, "7 extra").unwrap();
    assert_eq!(
        run_probe(&c, rs, SHORT).await.unwrap(),
        Outcome::FileValue(7)
    );
    std::fs::write(&path, "none").unwrap();
    assert!(matches!(
        run_probe(&c, rs, SHORT).await,
        Err(ProbeError::BadResponse(_))
    ));
}

// ---- cross-check with Debian's keepalived genhash (tier netns: keepalived installed) ----

/// Runs keepalived's `genhash` with `args` and returns the digest it printed.
async fn keepalived_genhash(args: &[&str]) -> String {
    let out = tokio::process::Command::new("genhash")
        .args(args)
        .output()
        .await
        .expect("keepalived's genhash (Debian package keepalived) is installed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 32 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| panic!("no digest in genhash output {stdout:?}"))
        .to_ascii_lowercase()
}

async fn ours(
    addr: SocketAddr,
    path: &str,
    vhost: Option<&str>,
    proto: HttpProtocol,
    tls: bool,
) -> String {
    let tls = tls.then(TlsOptions::default);
    fetch_digest(
        addr,
        path,
        vhost,
        proto,
        tls.as_ref(),
        Duration::from_secs(5),
    )
    .await
    .unwrap()
    .digest
}

#[tokio::test]
#[ignore = "tier netns: needs keepalived's genhash installed (scripts/test netns)"]
async fn netns_genhash_digests_equal_keepalived() {
    let addr = hyper_server().await;
    let port = addr.port().to_string();
    for (path, proto, flag) in [
        ("/", HttpProtocol::Http10, "1.0"),
        ("/binary", HttpProtocol::Http10, "1.0"),
        ("/empty", HttpProtocol::Http10, "1.0"),
        ("/missing", HttpProtocol::Http10, "1.0"),
        ("/chunked", HttpProtocol::Http11, "1.1"),
        ("/binary", HttpProtocol::Http10Close, "1.0c"),
        ("/host", HttpProtocol::Http11, "1.1"),
    ] {
        let theirs =
            keepalived_genhash(&["-s", "127.0.0.1", "-p", &port, "-u", path, "-P", flag]).await;
        assert_eq!(
            ours(addr, path, None, proto, false).await,
            theirs,
            "{path} {flag}"
        );
    }
    // The Host header with a virtualhost.
    let theirs = keepalived_genhash(&[
        "-s",
        "127.0.0.1",
        "-p",
        &port,
        "-u",
        "/host",
        "-V",
        "vh.example",
    ])
    .await;
    assert_eq!(
        ours(
            addr,
            "/host",
            Some("vh.example"),
            HttpProtocol::Http10,
            false
        )
        .await,
        theirs
    );
    // Raw responses: Content-Length cut, truncation, raw chunked framing.
    for raw in [
        &b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nhello"[..],
        b"HTTP/1.0 200 OK\r\nContent-Length: 50\r\n\r\nhello",
        b"HTTP/1.0 200 OK\r\ncontent-length: 3\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    ] {
        let a = raw_server(raw.to_vec()).await;
        let theirs =
            keepalived_genhash(&["-s", "127.0.0.1", "-p", &a.port().to_string(), "-u", "/"]).await;
        assert_eq!(
            ours(a, "/", None, HttpProtocol::Http10, false).await,
            theirs
        );
    }
    // SSL_GET.
    let srv = tls_server(b"secure body").await;
    let theirs = keepalived_genhash(&[
        "-S",
        "-s",
        "127.0.0.1",
        "-p",
        &srv.addr.port().to_string(),
        "-u",
        "/",
    ])
    .await;
    assert_eq!(
        ours(srv.addr, "/", None, HttpProtocol::Http10, true).await,
        theirs
    );
}

#[tokio::test]
async fn misc_check_runs_as_script_user() {
    let rs: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let t = Duration::from_secs(10);
    let mut c = misc(
        "[ \"$(id -u)\" = 65534 ] && [ \"$(id -g)\" = 65534 ]",
        false,
        t,
    );
    if let CheckerKind::Misc(m) = &mut c.kind {
        m.user = Some((65534, 65534));
    }
    let r = run_probe(&c, rs, t).await;
    // Root may switch users; anyone else gets a clean error.
    let root = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1).map(|e| e == "0"))
        .unwrap();
    if root {
        assert_eq!(r.unwrap(), Outcome::Up);
    } else {
        assert!(matches!(r, Err(ProbeError::Script(_))));
    }
}

#[tokio::test]
async fn misc_check_runs_as_a_user_named_in_the_configuration() {
    let rs: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let t = Duration::from_secs(10);
    let me = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap();
    let with = |script: &str, user: &str, group: Option<&str>, if_exists: bool| {
        let mut c = misc(script, false, t);
        if let CheckerKind::Misc(m) = &mut c.kind {
            m.run_as = Some(RunAsUser {
                user: user.into(),
                group: group.map(Into::into),
                if_exists,
            });
        }
        c
    };
    if me == "0" {
        // `nobody` is uid 65534 on Debian; its primary group, or the one named.
        let c = with("[ \"$(id -u)\" = 65534 ]", "nobody", None, false);
        assert_eq!(run_probe(&c, rs, t).await.unwrap(), Outcome::Up);
        let c = with("[ \"$(id -g)\" = 0 ]", "nobody", Some("root"), false);
        assert_eq!(run_probe(&c, rs, t).await.unwrap(), Outcome::Up);
    }
    // An unknown user fails the check with the reason...
    let c = with("true", "hagroup-no-such-user", None, false);
    let err = run_probe(&c, rs, t).await.unwrap_err();
    assert!(
        matches!(&err, ProbeError::Script(m) if m.contains("hagroup-no-such-user")),
        "{err}"
    );
    let c = with("true", "nobody", Some("hagroup-no-such-group"), false);
    assert!(run_probe(&c, rs, t).await.is_err());
    // ...unless it is keepalived's optional default, which falls back to the current user.
    let c = with(
        &format!("[ \"$(id -u)\" = {me} ]"),
        "hagroup-no-such-user",
        None,
        true,
    );
    assert_eq!(run_probe(&c, rs, t).await.unwrap(), Outcome::Up);
}

// ---- the HTTP reader on arbitrary input ----

/// Runs the HTTP reader over `response` as if a server had sent it.
fn read_response(response: &[u8]) -> Result<healthcheck::probes::HttpResponseSummary, ProbeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut stream = tokio::io::join(response, tokio::io::sink());
        healthcheck::probes::http::get(&mut stream, b"GET / HTTP/1.0\r\n\r\n").await
    })
}

proptest::proptest! {
    #[test]
    fn http_reader_never_panics(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
        let _ = read_response(&data);
    }

    #[test]
    fn http_reader_digest_matches_reference(
        status in 100u16..600,
        body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000),
        content_length in proptest::option::of(0usize..3000),
        exact_spelling in proptest::prelude::any::<bool>(),
    ) {
        let mut response = format!("HTTP/1.1 {status} Whatever\r\nServer: x\r\n").into_bytes();
        if let Some(cl) = content_length {
            let name = if exact_spelling { "Content-Length" } else { "content-length" };
            response.extend_from_slice(format!("{name}: {cl}\r\n").as_bytes());
        }
        response.extend_from_slice(b"\r\n");
        response.extend_from_slice(&body);
        let r = read_response(&response).unwrap();
        let hashed = match content_length {
            Some(cl) if exact_spelling => &body[..cl.min(body.len())],
            _ => &body[..],
        };
        proptest::prop_assert_eq!(r.status, status);
        proptest::prop_assert_eq!(r.digest, md5_hex(hashed));
        proptest::prop_assert_eq!(r.body_len, hashed.len() as u64);
    }
}

// ---- the driver: the pure core on tokio with real probes ----

#[tokio::test]
async fn driver_takes_a_dead_server_out_and_keeps_a_live_one() {
    use healthcheck::probes::Driver;
    use healthcheck::{Event, IpvsOp, Pool, PoolOptions};
    let live = hyper_server().await;
    let dead = closed_port().await;
    let mut vs = VirtualServerConfig::new(VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1:80".parse().unwrap(),
    });
    for addr in [live, dead] {
        let mut c = CheckerConfig::new(CheckerKind::Tcp, Duration::from_millis(50));
        c.timing.warmup = Duration::ZERO;
        c.timing.retry = 0;
        c.timing.connect_timeout = SHORT;
        let mut rs = RealServerConfig::new(addr);
        rs.checkers.push(c);
        vs.real_servers.push(rs);
    }
    let origin = tokio::time::Instant::now();
    let pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    // Stop once the dead server has been removed from IPVS (or give up after 20 s).
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut stop = Some(stop_tx);
        while let Some(ev) = rx.recv().await {
            if ev == Event::Ipvs(IpvsOp::DelDest { vs: 0, rs: dead })
                && let Some(s) = stop.take()
            {
                let _ = s.send(());
            }
            seen.push(ev);
        }
        seen
    });
    let shutdown = async {
        let _ = tokio::time::timeout(Duration::from_secs(20), stop_rx).await;
    };
    let (pool, stats) = Driver::new(pool, origin).run(tx, shutdown).await;
    let seen = watcher.await.unwrap();
    assert!(seen.contains(&Event::RealServerDown { vs: 0, rs: dead }));
    assert!(!seen.contains(&Event::RealServerDown { vs: 0, rs: live }));
    assert_eq!(pool.is_alive(0, 0), Some(true));
    assert_eq!(pool.is_alive(0, 1), Some(false));
    assert!(stats.checks_started >= 2);
    assert!(stats.lag_quantile(0.5).is_some());
}

#[tokio::test]
async fn driver_ha_suspend_waits_for_the_vip() {
    use healthcheck::probes::{Control, Driver};
    use healthcheck::{Event, Pool, PoolOptions};
    let dead = closed_port().await;
    let mut vs = VirtualServerConfig::new(VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1:80".parse().unwrap(),
    });
    vs.ha_suspend = true;
    let mut c = CheckerConfig::new(CheckerKind::Tcp, Duration::from_millis(50));
    c.timing.warmup = Duration::ZERO;
    c.timing.retry = 0;
    let mut rs = RealServerConfig::new(dead);
    rs.checkers.push(c);
    vs.real_servers.push(rs);
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    pool.set_vip_present(0, false);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (ctl_tx, ctl_rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let shutdown = tokio::time::sleep(Duration::from_secs(20));
        Driver::new(pool, tokio::time::Instant::now())
            .run_with_control(tx, ctl_rx, shutdown)
            .await
    });
    // Suspended: the first check (due at 1 s) is skipped, so nothing but startup events.
    let quiet = tokio::time::timeout(Duration::from_millis(1300), async {
        loop {
            match rx.recv().await {
                Some(Event::RealServerDown { .. }) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    })
    .await;
    assert!(quiet.is_err(), "no check may run while the VIP is absent");
    ctl_tx
        .send(Control::SetVipPresent {
            vs: 0,
            present: true,
        })
        .unwrap();
    let down = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(Event::RealServerDown { rs, .. }) = rx.recv().await {
                return rs;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(down, dead);
    driver.abort();
}

#[tokio::test]
async fn tcp_and_http_over_ipv6_loopback() {
    let Ok(listener) = TcpListener::bind("[::1]:0").await else {
        // No IPv6 loopback in this environment: nothing to check over IPv6.
        assert!(std::net::TcpListener::bind("[::1]:0").is_err());
        return;
    };
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let n = s.read(&mut buf).await.unwrap_or(0);
                // Echo the Host header back as the body.
                let req = String::from_utf8_lossy(&buf[..n]).into_owned();
                let host = req
                    .lines()
                    .find_map(|l| l.strip_prefix("Host: "))
                    .unwrap_or("")
                    .to_owned();
                let resp = format!(
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{host}",
                    host.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    let tcp = CheckerConfig::new(CheckerKind::Tcp, Duration::from_secs(1));
    assert_eq!(run_probe(&tcp, addr, SHORT).await.unwrap(), Outcome::Up);
    // keepalived's default Host for IPv6 is `[addr]:port`.
    let want = md5_hex(format!("[::1]:{}", addr.port()).as_bytes());
    let c = http(vec![url("/", Some(&want))]);
    assert_eq!(run_probe(&c, addr, SHORT).await.unwrap(), Outcome::Up);
}

#[tokio::test]
async fn ssl_get_tls_compliant_requires_close_notify() {
    let timeout = Duration::from_secs(5);
    let rude = tls_server_with(b"bye", false, None).await;
    let polite = tls_server_with(b"bye", true, None).await;
    let lenient = ssl(
        vec![url("/", Some(&md5_hex(b"bye")))],
        TlsOptions::default(),
    );
    let strict = ssl(
        vec![url("/", Some(&md5_hex(b"bye")))],
        TlsOptions {
            tls_compliant: true,
            ..Default::default()
        },
    );
    // keepalived's default: an unannounced close ends the body (and here, Content-Length has
    // been read in full before the close anyway).
    assert_eq!(
        run_probe(&lenient, rude.addr, timeout).await.unwrap(),
        Outcome::Up
    );
    assert_eq!(
        run_probe(&strict, polite.addr, timeout).await.unwrap(),
        Outcome::Up
    );
    // Without Content-Length the reader needs the end of stream, which must be close_notify.
    let rude_no_length = {
        // A body without Content-Length: the probe reads until the close.
        tls_server_raw(b"HTTP/1.0 200 OK\r\n\r\nbye", false).await
    };
    assert_eq!(
        run_probe(&lenient, rude_no_length.addr, timeout)
            .await
            .unwrap(),
        Outcome::Up
    );
    let err = run_probe(&strict, rude_no_length.addr, timeout)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProbeError::Tls(m) if m.contains("close_notify")),
        "{err}"
    );
}

/// A TLS server sending `response` verbatim, then closing with or without `close_notify`.
async fn tls_server_raw(response: &'static [u8], close_notify: bool) -> TlsServer {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.signing_key.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(s).await else {
                    return;
                };
                let mut buf = [0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let _ = tls.write_all(response).await;
                if close_notify {
                    let _ = tls.shutdown().await;
                } else {
                    let _ = tls.flush().await;
                    let (tcp, _) = tls.into_inner();
                    drop(tcp);
                }
            });
        }
    });
    let dir = TempDir::new("tls-raw");
    TlsServer {
        addr,
        ca_file: dir.0.join("unused.pem"),
        _dir: dir,
    }
}

#[tokio::test]
async fn ssl_get_presents_the_client_certificate_of_the_ssl_block() {
    let timeout = Duration::from_secs(5);
    // A client CA, and a client certificate it issued.
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let client_key = rcgen::KeyPair::generate().unwrap();
    let client = rcgen::CertificateParams::new(vec!["checker.example".to_owned()])
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    let dir = TempDir::new("client-cert");
    let cert_file = dir.0.join("client.pem");
    let key_file = dir.0.join("client.key");
    std::fs::write(&cert_file, client.pem()).unwrap();
    std::fs::write(&key_file, client_key.serialize_pem()).unwrap();

    let srv = tls_server_with(b"mtls", true, Some(ca.der().clone())).await;
    let without = ssl(vec![url("/", None)], TlsOptions::default());
    assert!(run_probe(&without, srv.addr, timeout).await.is_err());
    let with = ssl(
        vec![url("/", Some(&md5_hex(b"mtls")))],
        TlsOptions {
            client_cert: Some(ClientCert {
                certificate: cert_file.clone(),
                key: key_file.clone(),
            }),
            ..Default::default()
        },
    );
    assert_eq!(
        run_probe(&with, srv.addr, timeout).await.unwrap(),
        Outcome::Up
    );
    // A key that is not there is a clear error, not a panic.
    let missing = ssl(
        vec![url("/", None)],
        TlsOptions {
            client_cert: Some(ClientCert {
                certificate: cert_file,
                key: dir.0.join("nope.key"),
            }),
            ..Default::default()
        },
    );
    let err = run_probe(&missing, srv.addr, timeout).await.unwrap_err();
    assert!(
        matches!(&err, ProbeError::Tls(m) if m.contains("nope.key")),
        "{err}"
    );
}

#[tokio::test]
async fn http_get_regex_and_regex_no_match() {
    let addr = raw_server(b"HTTP/1.0 200 OK\r\n\r\n<html>status: healthy</html>".to_vec()).await;
    let timeout = Duration::from_secs(5);
    let with = |pattern: &str, no_match: bool| {
        let mut u = url("/", None);
        u.regex = Some(BodyRegex::new(pattern, no_match).unwrap());
        http(vec![u])
    };
    assert_eq!(
        run_probe(&with("status: (healthy|ok)", false), addr, timeout)
            .await
            .unwrap(),
        Outcome::Up
    );
    let err = run_probe(&with("status: down", false), addr, timeout)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ProbeError::Regex {
                no_match: false,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        run_probe(&with("(?i)ERROR", true), addr, timeout)
            .await
            .unwrap(),
        Outcome::Up
    );
    let err = run_probe(&with("healthy", true), addr, timeout)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProbeError::Regex { no_match: true, .. }),
        "{err}"
    );
    assert!(BodyRegex::new("(unclosed", false).is_err());
}

#[tokio::test]
async fn tcp_check_bind_if() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            drop(s);
        }
    });
    let timeout = Duration::from_secs(5);
    let mut c = CheckerConfig::new(CheckerKind::Tcp, Duration::from_secs(1));
    c.connect.bind_if = Some("lo".to_owned());
    assert_eq!(run_probe(&c, addr, timeout).await.unwrap(), Outcome::Up);
    c.connect.bind_if = Some("hagroup-none0".to_owned());
    let err = run_probe(&c, addr, timeout).await.unwrap_err();
    assert!(matches!(err, ProbeError::Connect { .. }), "{err}");
}

#[tokio::test]
async fn run_check_fetches_only_the_urls_the_core_chose() {
    let addr = hyper_server().await;
    let c = http(vec![
        url("/", None),
        url("/missing", None),
        url("/empty", None),
    ]);
    let due = |start, end| healthcheck::DueCheck {
        id: healthcheck::CheckerId {
            vs: 0,
            rs: 0,
            checker: 0,
        },
        due: Duration::ZERO,
        timeout: Duration::from_secs(5),
        urls: healthcheck::UrlRange { start, end },
    };
    use healthcheck::probes::run_check;
    assert_eq!(run_check(&c, addr, &due(0, 1)).await.unwrap(), Outcome::Up);
    assert_eq!(run_check(&c, addr, &due(2, 3)).await.unwrap(), Outcome::Up);
    let err = run_check(&c, addr, &due(1, 2)).await.unwrap_err();
    assert!(matches!(&err, ProbeError::Status { path, status: 404 } if path == "/missing"));
    assert!(run_check(&c, addr, &due(0, 3)).await.is_err());
    // run_probe checks every url.
    assert!(run_probe(&c, addr, Duration::from_secs(5)).await.is_err());
}

#[tokio::test]
async fn driver_follows_a_track_file_as_soon_as_it_changes() {
    use healthcheck::probes::Driver;
    use healthcheck::{Event, Pool, PoolOptions};
    let dir = TempDir::new("track-file");
    let file = dir.0.join("rs1.state");
    std::fs::write(&file, "0\n").unwrap();
    let mut vs = VirtualServerConfig::new(VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: "198.51.100.1:80".parse().unwrap(),
    });
    // delay_loop of an hour: only the inotify watch can notice a change during this test.
    let mut c = CheckerConfig::new(
        CheckerKind::File(FileCheck {
            path: file.clone(),
            weight: 0,
            reverse: false,
        }),
        Duration::from_secs(3600),
    );
    c.timing.warmup = Duration::ZERO;
    let rs_addr: SocketAddr = "192.0.2.10:80".parse().unwrap();
    let mut rs = RealServerConfig::new(rs_addr);
    rs.checkers.push(c);
    vs.real_servers.push(rs);
    let pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let driver = tokio::spawn(async move {
        let shutdown = tokio::time::sleep(Duration::from_secs(60));
        Driver::new(pool, tokio::time::Instant::now())
            .run(tx, shutdown)
            .await
    });
    async fn wait_for(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>, want: Event) -> bool {
        tokio::time::timeout(Duration::from_secs(20), async {
            while let Some(ev) = rx.recv().await {
                if ev == want {
                    return true;
                }
            }
            false
        })
        .await
        .unwrap_or(false)
    }
    // The first read happens 1 s after start (keepalived's minimum start delay).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Written in place: down at once (weight 0: a non-zero value is a failure).
    std::fs::write(&file, "1\n").unwrap();
    assert!(
        wait_for(&mut rx, Event::RealServerDown { vs: 0, rs: rs_addr }).await,
        "the change was not noticed"
    );
    // Replaced by rename, as tools do: up again.
    let tmp = dir.0.join("rs1.state.tmp");
    std::fs::write(&tmp, "0\n").unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    assert!(
        wait_for(&mut rx, Event::RealServerUp { vs: 0, rs: rs_addr }).await,
        "the replacement was not noticed"
    );
    driver.abort();
}
