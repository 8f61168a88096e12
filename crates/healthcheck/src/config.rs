//! The healthcheck crate's own configuration model: virtual servers, real servers and checkers,
//! with keepalived 2.2.7's defaults.
//!
//! The director converts the parsed `keepalived.conf` into these types; this crate does not read
//! configuration files. Every default below is keepalived's (keepalived.conf(5) and
//! `check/check_data.c`), and is documented on the field.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// How a virtual server is identified, as keepalived compares them across a reload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum VirtualServerKey {
    /// `virtual_server IP PORT` with its `protocol` (keepalived's default protocol is UDP).
    Addr {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual address and port.
        addr: SocketAddr,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// `true` for an IPv6 fwmark service.
        ipv6: bool,
    },
    /// `virtual_server group NAME`.
    Group {
        /// The `virtual_server_group` name.
        name: String,
    },
}

/// IPVS transport protocol of a virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP (keepalived's default when `protocol` is absent).
    Udp,
    /// SCTP.
    Sctp,
}

/// Timing and retry options of one checker, after inheritance from the virtual and real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerTiming {
    /// `delay_loop`: interval between checks. keepalived's default: 60 s.
    pub delay_loop: Duration,
    /// `retry` (alias `nb_get_retry`): failures tolerated before the checker goes down; it goes
    /// down after `retry + 1` consecutive failures. Default: 1 (MISC_CHECK 0, DNS_CHECK 3).
    pub retry: u32,
    /// `delay_before_retry`: delay before re-checking after a tolerated failure. Default: 1 s
    /// (HTTP_GET/SSL_GET 3 s, DNS_CHECK = delay_loop).
    pub delay_before_retry: Duration,
    /// `warmup`: the first check runs at 1 s + random(0..=warmup). Default: `delay_loop`.
    pub warmup: Duration,
    /// `connect_timeout`: bound of each attempt. Default: 5 s (MISC_CHECK uses `misc_timeout`).
    pub connect_timeout: Duration,
    /// `alpha`: the checker starts down, so the real server is not added before it passes.
    pub alpha: bool,
}

impl CheckerTiming {
    /// keepalived's defaults for the given checker kind with the given `delay_loop`.
    pub fn keepalived_default(kind: &CheckerKind, delay_loop: Duration) -> Self {
        let (retry, delay_before_retry) = match kind {
            CheckerKind::Misc(_) => (0, Duration::from_secs(1)),
            CheckerKind::Dns(_) => (3, delay_loop),
            CheckerKind::Http(_) => (1, Duration::from_secs(3)),
            _ => (1, Duration::from_secs(1)),
        };
        let connect_timeout = match kind {
            CheckerKind::Misc(m) => m.timeout.unwrap_or(delay_loop),
            _ => Duration::from_secs(5),
        };
        CheckerTiming {
            delay_loop,
            retry,
            delay_before_retry,
            warmup: delay_loop,
            connect_timeout,
            alpha: false,
        }
    }
}

/// Where a network checker connects and binds (`connect_ip`, `connect_port`, `bindto`,
/// `bind_port`). `None` fields default to the real server's address and port, and to the
/// kernel's choice of source.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct ConnectOptions {
    /// `connect_ip`: address to check instead of the real server's.
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`: port to check instead of the real server's.
    pub connect_port: Option<u16>,
    /// `bindto`: source address.
    pub bindto: Option<IpAddr>,
    /// `bind_port`: source port.
    pub bind_port: Option<u16>,
    /// `fwmark`: SO_MARK on the checker's socket.
    pub fwmark: Option<u32>,
    /// `bind_if`: the interface the checker's socket is bound to (`SO_BINDTODEVICE`); needed
    /// to reach an IPv6 link-local real server.
    pub bind_if: Option<String>,
}

impl ConnectOptions {
    /// The address a checker of real server `rs` connects to.
    pub fn target(&self, rs: SocketAddr) -> SocketAddr {
        SocketAddr::new(
            self.connect_ip.unwrap_or(rs.ip()),
            self.connect_port.unwrap_or(rs.port()),
        )
    }
}

/// One checker: what it probes and its timing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerConfig {
    /// The probe and its options.
    pub kind: CheckerKind,
    /// Connection options (unused by MISC_CHECK and FILE_CHECK).
    pub connect: ConnectOptions,
    /// Timing and retry options.
    pub timing: CheckerTiming,
}

impl CheckerConfig {
    /// A checker with keepalived's default timing for `delay_loop` and default connect options.
    pub fn new(kind: CheckerKind, delay_loop: Duration) -> Self {
        let timing = CheckerTiming::keepalived_default(&kind, delay_loop);
        CheckerConfig {
            kind,
            connect: ConnectOptions::default(),
            timing,
        }
    }
}

/// The checker types keepalived supports (BFD_CHECK excepted).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckerKind {
    /// `TCP_CHECK`: a TCP connect within `connect_timeout`.
    Tcp,
    /// `HTTP_GET` (no TLS) or `SSL_GET` (with TLS).
    Http(HttpCheck),
    /// `MISC_CHECK`: run a program; its exit code is the result.
    Misc(MiscCheck),
    /// `SMTP_CHECK`: greeting 220, `HELO`, 250, `QUIT`.
    Smtp(SmtpCheck),
    /// `DNS_CHECK`: a query answered with the same id and RCODE 0.
    Dns(DnsCheck),
    /// `UDP_CHECK`: send a payload, optionally require a reply.
    Udp(UdpCheck),
    /// `PING_CHECK`: ICMP echo over an unprivileged datagram socket.
    Ping,
    /// `FILE_CHECK`: an integer read from a file.
    File(FileCheck),
}

/// `http_protocol`: the request line version and `Connection` header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HttpProtocol {
    /// `1.0` (default): `HTTP/1.0`, no `Connection` header.
    #[default]
    Http10,
    /// `1.0C`: `HTTP/1.0` with `Connection: close`.
    Http10Close,
    /// `1.1`: `HTTP/1.1` with `Connection: close`.
    Http11,
}

/// `HTTP_GET` / `SSL_GET` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpCheck {
    /// The `url` blocks, checked in turn, one per `delay_loop` (see
    /// [`UrlRange`](crate::sched::UrlRange)); empty means `GET /` with the default status codes.
    pub urls: Vec<UrlCheck>,
    /// `http_protocol` (default 1.0).
    pub protocol: HttpProtocol,
    /// `virtualhost`: the Host header (default `ip:port`, IPv6 in brackets).
    pub virtualhost: Option<String>,
    /// `Some` for `SSL_GET`.
    pub tls: Option<TlsOptions>,
    /// `fast_recovery`: a checker that is down (or starts in `alpha` mode) checks all its urls
    /// in one attempt instead of one per `delay_loop`.
    pub fast_recovery: bool,
}

/// TLS options of `SSL_GET`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// `enable_sni`: send SNI (the virtualhost, or `sni_name`).
    pub enable_sni: bool,
    /// `sni_name`: the SNI name to send.
    pub sni_name: Option<String>,
    /// Verify the server certificate against these PEM CA files. keepalived does not verify by
    /// default, and neither does this crate when this is `None`.
    pub verify_ca: Option<PathBuf>,
    /// A client certificate (PEM chain) and its private key (PEM), from the `SSL { }` block's
    /// `certificate` and `key`, presented when the server asks for one.
    pub client_cert: Option<ClientCert>,
    /// `tls_compliant`: a server that closes the connection without a TLS `close_notify` fails
    /// the check. Off by default, as in keepalived: an unannounced close ends the body.
    pub tls_compliant: bool,
}

/// A client certificate for `SSL_GET` (the `SSL { certificate; key }` block).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientCert {
    /// PEM file with the certificate chain, leaf first.
    pub certificate: PathBuf,
    /// PEM file with the (unencrypted) private key; defaults to the certificate file.
    pub key: PathBuf,
}

/// A url's `regex` (and `regex_no_match`): the response body must (or must not) match.
///
/// keepalived uses PCRE2; this is Rust's `regex` crate on bytes, which has the same syntax for
/// the common cases (classes, alternation, repetition, anchors, `(?i)`), but no backreferences or
/// look-around. A pattern that does not compile is a configuration error.
#[derive(Debug, Clone)]
pub struct BodyRegex {
    regex: regex::bytes::Regex,
    no_match: bool,
}

impl BodyRegex {
    /// Compiles `pattern`; `no_match` inverts the test (`regex_no_match`).
    pub fn new(pattern: &str, no_match: bool) -> Result<Self, regex::Error> {
        let regex = regex::bytes::RegexBuilder::new(pattern)
            .size_limit(1 << 20)
            .build()?;
        Ok(BodyRegex { regex, no_match })
    }

    /// The pattern as configured.
    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether `regex_no_match` is set.
    pub fn no_match(&self) -> bool {
        self.no_match
    }

    /// Whether `body` passes: it matches, or with `regex_no_match`, it does not.
    pub fn accepts(&self, body: &[u8]) -> bool {
        self.regex.is_match(body) != self.no_match
    }
}

impl PartialEq for BodyRegex {
    fn eq(&self, other: &Self) -> bool {
        self.pattern() == other.pattern() && self.no_match == other.no_match
    }
}

impl Eq for BodyRegex {}

/// One `url` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCheck {
    /// `path` (default `/`).
    pub path: String,
    /// `digest`: lower-case hex MD5 of the raw body.
    pub digest: Option<String>,
    /// `status_code` ranges (inclusive); empty means keepalived's default 200-299.
    pub status_codes: Vec<(u16, u16)>,
    /// `virtualhost` for this URL, overriding the checker's.
    pub virtualhost: Option<String>,
    /// `regex` / `regex_no_match` on the body.
    pub regex: Option<BodyRegex>,
}

impl Default for UrlCheck {
    fn default() -> Self {
        UrlCheck {
            path: "/".to_owned(),
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
        }
    }
}

impl UrlCheck {
    /// Whether `status` is accepted (default 200-299).
    pub fn status_ok(&self, status: u16) -> bool {
        if self.status_codes.is_empty() {
            return (200..=299).contains(&status);
        }
        self.status_codes
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&status))
    }
}

/// `MISC_CHECK` options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MiscCheck {
    /// `misc_path`, already split into argv (it is run without a shell).
    pub argv: Vec<String>,
    /// `misc_timeout` (default: the virtual server's `delay_loop`).
    pub timeout: Option<Duration>,
    /// `misc_dynamic`: exit codes 2..=255 mean up with weight adjustment `code - 2`.
    pub dynamic: bool,
    /// `user`: run as this uid/gid (default: the current user). Takes precedence over
    /// [`MiscCheck::run_as`].
    pub user: Option<(u32, u32)>,
    /// The user (and group) to run as, by name, looked up when the script runs (keepalived's
    /// `user U [G]` on the checker, else `global_defs script_user`, else `keepalived_script`
    /// when that user exists). An unknown user fails the check, except an
    /// [`RunAsUser::if_exists`] one, which falls back to the current user.
    pub run_as: Option<RunAsUser>,
}

/// A user (and group) to run a script as, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunAsUser {
    /// The user name.
    pub user: String,
    /// The group name; `None` uses the user's primary group.
    pub group: Option<String>,
    /// Use it only if it exists (keepalived's default `keepalived_script`); otherwise run as
    /// the current user.
    pub if_exists: bool,
}

/// `SMTP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpCheck {
    /// `helo_name` (default `smtpchecker.keepalived.org`).
    pub helo_name: String,
}

impl Default for SmtpCheck {
    fn default() -> Self {
        SmtpCheck {
            helo_name: "smtpchecker.keepalived.org".to_owned(),
        }
    }
}

/// `DNS_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsCheck {
    /// `type`: the query type number (default SOA = 6).
    pub qtype: u16,
    /// `name` (default the root `.`).
    pub name: String,
}

impl Default for DnsCheck {
    fn default() -> Self {
        DnsCheck {
            qtype: 6,
            name: ".".to_owned(),
        }
    }
}

/// `UDP_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCheck {
    /// `payload` (keepalived sends random bytes when unset; this crate sends 16 zero bytes).
    pub payload: Vec<u8>,
    /// `require_reply`: the expected reply prefix as nibbles, `None` = wildcard `X`.
    /// `Some(vec![])` requires any reply; `None` requires none.
    pub require_reply: Option<Vec<Option<u8>>>,
    /// `min_reply_length` (default 0).
    pub min_reply_length: usize,
    /// `max_reply_length` (default 255).
    pub max_reply_length: usize,
}

impl Default for UdpCheck {
    fn default() -> Self {
        UdpCheck {
            payload: Vec::new(),
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        }
    }
}

/// `FILE_CHECK` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileCheck {
    /// `track_file`'s file.
    pub path: PathBuf,
    /// `weight N`: 0 means a non-zero value is down; otherwise value × weight is added to the
    /// real server's weight.
    pub weight: i64,
    /// `weight N reverse`: the value is negated first.
    pub reverse: bool,
}

/// What to do with a real server before its checkers have run (issue #2064).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum StartupPolicy {
    /// keepalived's default: checkers without `alpha` start up, so the real server is in the pool
    /// before its first check, and the first failure removes it.
    #[default]
    Keepalived,
    /// Safer opt-in: every checker starts down (as with `alpha`), so a real server enters the pool
    /// only after its checkers pass.
    CheckFirst,
}

/// One `real_server` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServerConfig {
    /// Address and port (the port defaults to the virtual server's).
    pub addr: SocketAddr,
    /// `weight` (0..=i32::MAX, default the virtual server's `weight`, itself 1).
    pub weight: u32,
    /// `inhibit_on_failure`: a failed server stays with weight 0 instead of being removed.
    pub inhibit_on_failure: bool,
    /// `notify_up` script.
    pub notify_up: Option<String>,
    /// `notify_down` script.
    pub notify_down: Option<String>,
    /// The checkers; the server is alive iff all of them are up (always, if none).
    pub checkers: Vec<CheckerConfig>,
}

impl RealServerConfig {
    /// A real server with weight 1, no checker and no scripts.
    pub fn new(addr: SocketAddr) -> Self {
        RealServerConfig {
            addr,
            weight: 1,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            checkers: Vec::new(),
        }
    }
}

/// One `virtual_server` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerConfig {
    /// Identity across reloads.
    pub key: VirtualServerKey,
    /// Real servers.
    pub real_servers: Vec<RealServerConfig>,
    /// `quorum` (default 1; clamped to the total real-server weight).
    pub quorum: u64,
    /// `hysteresis` (default 0; clamped to quorum − 1).
    pub hysteresis: u64,
    /// `quorum_up` script.
    pub quorum_up: Option<String>,
    /// `quorum_down` script.
    pub quorum_down: Option<String>,
    /// `sorry_server`.
    pub sorry_server: Option<SocketAddr>,
    /// `sorry_server_inhibit`: keep the sorry server at weight 0 instead of removing it.
    pub sorry_server_inhibit: bool,
    /// `ha_suspend`: checkers run only while the virtual address is present locally.
    pub ha_suspend: bool,
    /// `omega`: on shutdown run `quorum_down` and the real servers' `notify_down` scripts.
    pub omega: bool,
}

impl VirtualServerConfig {
    /// A virtual server with keepalived's defaults and no real server.
    pub fn new(key: VirtualServerKey) -> Self {
        VirtualServerConfig {
            key,
            real_servers: Vec::new(),
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            ha_suspend: false,
            omega: false,
        }
    }
}
