//! The probes, on tokio (cargo feature `probes`).
//!
//! Each probe is one attempt with a deadline: [`run_probe`] returns the [`Outcome`] the scheduling
//! core expects, or a [`ProbeError`] saying why the check failed (a failure for the core). Every
//! read is bounded in size and every attempt in time, so nothing a server sends can panic the
//! probe or exhaust memory.

mod dns;
mod driver;
mod file;
mod file_watch;
pub mod http;
mod misc;
mod net;
mod ping;
mod smtp;
mod sys;
mod tcp;
mod tls;
mod udp;

pub use driver::{Control, Driver, DriverStats};
pub use file_watch::{FileWatcher, WatchErrors};
pub use http::{HttpResponseSummary, fetch_digest, fetch_digest_from};
pub use misc::resolve_user;

use crate::config::{CheckerConfig, CheckerKind};
use crate::sched::{DueCheck, Outcome, UrlRange};
use std::net::SocketAddr;
use std::time::Duration;

/// Why a probe failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// The attempt did not finish before its deadline.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// Connecting failed (refused, unreachable, ...).
    #[error("connect to {addr} failed: {source}")]
    Connect {
        /// The target.
        addr: SocketAddr,
        /// The OS error.
        source: std::io::Error,
    },
    /// Reading or writing failed after connecting.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The server sent something this probe cannot accept.
    #[error("bad response: {0}")]
    BadResponse(String),
    /// The response exceeded the size limit.
    #[error("response larger than {0} bytes")]
    TooLarge(usize),
    /// HTTP status code not in the accepted set.
    #[error("url {path}: status {status} not accepted")]
    Status {
        /// The url path.
        path: String,
        /// The status code received.
        status: u16,
    },
    /// The body's MD5 is not the configured `digest`.
    #[error("url {path}: digest {got} does not match {want}")]
    Digest {
        /// The url path.
        path: String,
        /// MD5 of the body received.
        got: String,
        /// The configured digest.
        want: String,
    },
    /// The body does not match the url's `regex` (or matches it, with `regex_no_match`).
    #[error("url {path}: body {} regex `{pattern}`", if *no_match { "matches" } else { "does not match" })]
    Regex {
        /// The url path.
        path: String,
        /// The configured pattern.
        pattern: String,
        /// Whether `regex_no_match` is set.
        no_match: bool,
    },
    /// TLS set-up or handshake failure.
    #[error("tls: {0}")]
    Tls(String),
    /// MISC_CHECK: the program failed, was killed or could not start.
    #[error("script: {0}")]
    Script(String),
    /// A configuration the probe cannot run (e.g. an empty `misc_path`).
    #[error("invalid checker configuration: {0}")]
    Config(String),
}

/// Runs one attempt of `checker` against real server `rs`, bounded by `timeout`. An HTTP_GET /
/// SSL_GET attempt checks every url; [`run_check`] checks the urls the scheduling core chose.
pub async fn run_probe(
    checker: &CheckerConfig,
    rs: SocketAddr,
    timeout: Duration,
) -> Result<Outcome, ProbeError> {
    run(checker, rs, timeout, None).await
}

/// Runs the attempt `due` of `checker` against real server `rs`: bounded by `due.timeout`, and
/// for HTTP_GET / SSL_GET, on the urls `due.urls` (keepalived checks one url per `delay_loop`).
pub async fn run_check(
    checker: &CheckerConfig,
    rs: SocketAddr,
    due: &DueCheck,
) -> Result<Outcome, ProbeError> {
    run(checker, rs, due.timeout, Some(due.urls)).await
}

async fn run(
    checker: &CheckerConfig,
    rs: SocketAddr,
    timeout: Duration,
    urls: Option<UrlRange>,
) -> Result<Outcome, ProbeError> {
    let target = checker.connect.target(rs);
    let c = &checker.connect;
    // MISC_CHECK kills its process group on timeout and UDP_CHECK may treat a timeout as
    // success, so those two handle their deadline themselves.
    let work = async {
        match &checker.kind {
            CheckerKind::Misc(m) => return misc::check(m, timeout).await,
            CheckerKind::Udp(u) => return udp::check(u, c, target, timeout).await,
            CheckerKind::File(f) => file::check(f).await,
            CheckerKind::Tcp => tcp::check(c, target).await.map(|()| Outcome::Up),
            CheckerKind::Http(h) => http::check(h, c, target, urls).await.map(|()| Outcome::Up),
            CheckerKind::Smtp(s) => smtp::check(s, c, target).await.map(|()| Outcome::Up),
            CheckerKind::Dns(d) => dns::check(d, c, target).await.map(|()| Outcome::Up),
            CheckerKind::Ping => ping::check(c, target).await.map(|()| Outcome::Up),
        }
    };
    match &checker.kind {
        CheckerKind::Misc(_) | CheckerKind::Udp(_) => work.await,
        _ => match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(ProbeError::Timeout(timeout)),
        },
    }
}
