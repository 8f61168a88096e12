//! `keepalived.conf`'s LVS blocks (as [`kconf_parser`] models them) into the two things the
//! director runs: the IPVS services of each virtual server (`ipvs-netlink` types) and the
//! checker configuration of the health-check core (`healthcheck` types).
//!
//! Index `i` of [`DirectorConfig::virtual_servers`] and of [`DirectorConfig::health`] is the same
//! `virtual_server` block, and real server `j` of both is the same `real_server` block.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use healthcheck as hc;
use ipvs_netlink::types::{TunnelFlags, TunnelType, mask_to_prefix};
use ipvs_netlink::{
    Desired, Family, Forward, Protocol, Service, ServiceFlags, ServiceKey, Timeouts,
};
use kconf_parser::model::{
    self as k, Config, IpFamily, LvsMethod, TunnelOptions, VirtualServer, VsTarget, VsgEntry,
};

use crate::error::ConvertError;

/// Addresses of one `virtual_server_group` range are expanded up to this many (keepalived
/// creates one IPVS service per address).
pub const MAX_RANGE: u128 = 65_536;

/// What the director runs for a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectorConfig {
    /// One entry per `virtual_server` block, in file order.
    pub virtual_servers: Vec<VsSpec>,
    /// The health-check core's view of the same blocks, same order.
    pub health: Vec<hc::VirtualServerConfig>,
    /// `lvs_timeouts` (0 = leave the kernel's value), if any is set.
    pub timeouts: Option<Timeouts>,
    /// `lvs_flush`: flush the whole IPVS table at startup.
    pub flush_at_start: bool,
    /// `lvs_flush_on_stop`: flush the whole IPVS table on stop.
    pub flush_on_stop: bool,
    /// Settings accepted but not acted on (e.g. `BFD_CHECK`), one line each.
    pub warnings: Vec<String>,
    /// Who runs the `notify_up`/`notify_down`/`quorum_up`/`quorum_down` scripts:
    /// `global_defs script_user`, else `keepalived_script` if that user exists, else the
    /// daemon's user (`None` here: the daemon's user).
    pub script_user: Option<hc::RunAsUser>,
}

/// The IPVS side of one `virtual_server` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsSpec {
    /// How the block reads (`192.0.2.1:80 TCP`, `fwmark 7`, `group web`), for logs.
    pub name: String,
    /// Its IPVS services: one, or one per address and mark of its group.
    pub services: Vec<Service>,
    /// Its real servers, in block order.
    pub real_servers: Vec<DestSpec>,
    /// Its `sorry_server`.
    pub sorry_server: Option<DestSpec>,
}

/// How a real server (or sorry server) appears under each service of its virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestSpec {
    /// Address.
    pub addr: IpAddr,
    /// Port; `None`: each service's own port.
    pub port: Option<u16>,
    /// Forwarding method.
    pub forward: Forward,
    /// `uthreshold` (0 = none).
    pub upper_threshold: u32,
    /// `lthreshold` (0 = none).
    pub lower_threshold: u32,
}

impl DestSpec {
    /// The destination under a service with key `key`, at `weight`.
    #[must_use]
    pub fn destination(&self, key: &ServiceKey, weight: u32) -> ipvs_netlink::Destination {
        ipvs_netlink::Destination {
            addr: self.addr,
            port: self.port.unwrap_or_else(|| key_port(key)),
            forward: self.forward,
            weight,
            upper_threshold: self.upper_threshold,
            lower_threshold: self.lower_threshold,
        }
    }
}

fn key_port(key: &ServiceKey) -> u16 {
    match key {
        ServiceKey::Addr { port, .. } => *port,
        ServiceKey::FwMark { .. } => 0,
    }
}

impl DirectorConfig {
    /// Converts a parsed configuration. Any error refuses the whole configuration (a reload
    /// with it changes nothing).
    pub fn from_kconf(config: &Config) -> Result<Self, ConvertError> {
        let mut virtual_servers = Vec::with_capacity(config.virtual_servers.len());
        let mut health = Vec::with_capacity(config.virtual_servers.len());
        let mut warnings = Vec::new();
        let mut seen: HashSet<ServiceKey> = HashSet::new();
        for vs in &config.virtual_servers {
            let name = vs_name(vs);
            let keys = service_keys(config, vs)?;
            let mut services = Vec::with_capacity(keys.len());
            for key in keys {
                if !seen.insert(key) {
                    return Err(ConvertError::DuplicateService(
                        Service::new(key, "x")
                            .save_line()
                            .trim_start_matches("-A ")
                            .split(" -s ")
                            .next()
                            .unwrap_or_default()
                            .to_owned(),
                    ));
                }
                services.push(service(vs, key, &name)?);
            }
            // The health checkers' view of a real server's port: its own, else the first
            // service's.
            let default_port = services.first().map_or(0, |s| key_port(&s.key));
            let mut real_servers = Vec::with_capacity(vs.real_servers.len());
            let mut hc_rs = Vec::with_capacity(vs.real_servers.len());
            for rs in &vs.real_servers {
                let dest = DestSpec {
                    addr: rs.address,
                    port: rs.port,
                    forward: forward(rs.lvs_method, vs.tunnel.as_ref(), &name)?,
                    upper_threshold: rs.uthreshold.unwrap_or(0),
                    lower_threshold: rs.lthreshold.unwrap_or(0),
                };
                let addr = SocketAddr::new(rs.address, rs.port.unwrap_or(default_port));
                let mut checkers = Vec::with_capacity(rs.checkers.len());
                for ck in &rs.checkers {
                    match checker(config, vs, ck, &name, addr)? {
                        Some(c) => checkers.push(c),
                        None => warnings.push(format!(
                            "virtual_server {name}, real_server {addr}: {} is not supported; ignored",
                            ck.kind.keyword()
                        )),
                    }
                }
                hc_rs.push(hc::RealServerConfig {
                    addr,
                    weight: rs.weight,
                    inhibit_on_failure: rs.inhibit_on_failure,
                    notify_up: rs.notify_up.as_ref().map(|s| s.command.clone()),
                    notify_down: rs.notify_down.as_ref().map(|s| s.command.clone()),
                    checkers,
                });
                real_servers.push(dest);
            }
            let sorry_server = match &vs.sorry_server {
                Some(s) => Some(DestSpec {
                    addr: s.address,
                    port: s.port,
                    forward: forward(
                        vs.sorry_server_lvs_method.unwrap_or(vs.lvs_method),
                        vs.tunnel.as_ref(),
                        &name,
                    )?,
                    upper_threshold: 0,
                    lower_threshold: 0,
                }),
                None => None,
            };
            let mut h = hc::VirtualServerConfig::new(hc_key(vs));
            h.real_servers = hc_rs;
            h.quorum = u64::from(vs.quorum);
            h.hysteresis = u64::from(vs.hysteresis);
            h.quorum_up = vs.quorum_up.as_ref().map(|s| s.command.clone());
            h.quorum_down = vs.quorum_down.as_ref().map(|s| s.command.clone());
            h.sorry_server = vs
                .sorry_server
                .as_ref()
                .map(|s| SocketAddr::new(s.address, s.port.unwrap_or(default_port)));
            h.sorry_server_inhibit = vs.sorry_server_inhibit;
            h.ha_suspend = vs.ha_suspend;
            h.omega = vs.omega;
            health.push(h);
            virtual_servers.push(VsSpec {
                name,
                services,
                real_servers,
                sorry_server,
            });
        }
        let g = &config.global_defs;
        let secs =
            |d: Option<Duration>| d.map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        let t = &g.lvs_timeouts;
        let timeouts =
            (t.tcp.is_some() || t.tcpfin.is_some() || t.udp.is_some()).then(|| Timeouts {
                tcp: secs(t.tcp),
                tcp_fin: secs(t.tcpfin),
                udp: secs(t.udp),
            });
        Ok(DirectorConfig {
            virtual_servers,
            health,
            timeouts,
            flush_at_start: g.lvs_flush,
            flush_on_stop: g.lvs_flush_on_stop,
            warnings,
            script_user: Some(default_script_user(config)),
        })
    }

    /// A configuration without any virtual server.
    #[must_use]
    pub fn empty() -> Self {
        DirectorConfig {
            virtual_servers: Vec::new(),
            health: Vec::new(),
            timeouts: None,
            flush_at_start: false,
            flush_on_stop: false,
            warnings: Vec::new(),
            script_user: None,
        }
    }

    /// The IPVS table the configuration asks for without health checks (`hagroupd ipvs
    /// apply`): every virtual server (groups expanded) with every real server at its configured
    /// weight, as the health-check core would have it with all real servers up. The quorum
    /// (clamped to the total configured weight) is then down only when the weights sum to 0:
    /// a `sorry_server` is then in the table at weight 1 instead of the real servers; otherwise
    /// it is present at weight 0 with `sorry_server_inhibit`, else absent.
    #[must_use]
    pub fn static_desired(&self) -> Desired {
        let mut services =
            Vec::with_capacity(self.virtual_servers.iter().map(|v| v.services.len()).sum());
        for (vi, spec) in self.virtual_servers.iter().enumerate() {
            let h = self.health.get(vi);
            let weights: Vec<u32> = (0..spec.real_servers.len())
                .map(|ri| {
                    h.and_then(|h| h.real_servers.get(ri))
                        .map_or(1, |r| r.weight)
                })
                .collect();
            let quorum_down = weights.iter().all(|w| *w == 0);
            let inhibit = h.is_some_and(|h| h.sorry_server_inhibit);
            let (real_servers_in, sorry_weight) = match (&spec.sorry_server, quorum_down) {
                (Some(_), true) => (false, Some(1)),
                (Some(_), false) => (true, inhibit.then_some(0)),
                (None, _) => (true, None),
            };
            for svc in &spec.services {
                let mut dests = Vec::with_capacity(spec.real_servers.len() + 1);
                if real_servers_in {
                    for (rs, w) in spec.real_servers.iter().zip(&weights) {
                        dests.push(rs.destination(&svc.key, *w));
                    }
                }
                if let (Some(sorry), Some(w)) = (&spec.sorry_server, sorry_weight) {
                    dests.push(sorry.destination(&svc.key, w));
                }
                services.push((svc.clone(), dests));
            }
        }
        Desired { services }
    }

    /// Every IPVS service key the configuration names.
    pub fn service_keys(&self) -> impl Iterator<Item = ServiceKey> + '_ {
        self.virtual_servers
            .iter()
            .flat_map(|v| v.services.iter().map(|s| s.key))
    }
}

fn vs_name(vs: &VirtualServer) -> String {
    match &vs.target {
        VsTarget::Address { address, port } => {
            let a = SocketAddr::new(*address, port.unwrap_or(0));
            format!("{a} {}", vs.protocol.as_str())
        }
        VsTarget::Fwmark { mark } => format!("fwmark {mark}"),
        VsTarget::Group { name } => format!("group {name}"),
    }
}

fn hc_key(vs: &VirtualServer) -> hc::VirtualServerKey {
    match &vs.target {
        VsTarget::Address { address, port } => hc::VirtualServerKey::Addr {
            protocol: match vs.protocol {
                k::Protocol::Tcp => hc::Protocol::Tcp,
                k::Protocol::Udp => hc::Protocol::Udp,
                k::Protocol::Sctp => hc::Protocol::Sctp,
            },
            addr: SocketAddr::new(*address, port.unwrap_or(0)),
        },
        VsTarget::Fwmark { mark } => hc::VirtualServerKey::Fwmark {
            mark: *mark,
            ipv6: vs.ip_family == Some(IpFamily::Inet6),
        },
        VsTarget::Group { name } => hc::VirtualServerKey::Group { name: name.clone() },
    }
}

fn protocol(p: k::Protocol) -> Protocol {
    match p {
        k::Protocol::Tcp => Protocol::Tcp,
        k::Protocol::Udp => Protocol::Udp,
        k::Protocol::Sctp => Protocol::Sctp,
    }
}

fn family(f: Option<IpFamily>) -> Family {
    match f {
        Some(IpFamily::Inet6) => Family::Inet6,
        _ => Family::Inet,
    }
}

fn service_keys(config: &Config, vs: &VirtualServer) -> Result<Vec<ServiceKey>, ConvertError> {
    let proto = protocol(vs.protocol);
    match &vs.target {
        VsTarget::Address { address, port } => Ok(vec![ServiceKey::Addr {
            addr: *address,
            port: port.unwrap_or(0),
            protocol: proto,
        }]),
        VsTarget::Fwmark { mark } => Ok(vec![ServiceKey::FwMark {
            family: family(vs.ip_family),
            mark: *mark,
        }]),
        VsTarget::Group { name } => {
            let group = config
                .virtual_server_groups
                .iter()
                .find(|g| &g.name == name)
                .ok_or_else(|| ConvertError::UnknownGroup(name.clone()))?;
            let mut keys = Vec::new();
            for entry in &group.entries {
                match entry {
                    VsgEntry::Range { start, end, port } => {
                        for addr in expand(name, *start, *end)? {
                            keys.push(ServiceKey::Addr {
                                addr,
                                port: port.unwrap_or(0),
                                protocol: proto,
                            });
                        }
                    }
                    VsgEntry::Fwmark { mark, family: f } => keys.push(ServiceKey::FwMark {
                        family: family(*f),
                        mark: *mark,
                    }),
                }
            }
            Ok(keys)
        }
    }
}

fn expand(group: &str, start: IpAddr, end: IpAddr) -> Result<Vec<IpAddr>, ConvertError> {
    let bad = |why| ConvertError::BadRange {
        group: group.to_owned(),
        start,
        end,
        why,
    };
    let (a, b, v6) = match (start, end) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            (u128::from(u32::from(a)), u128::from(u32::from(b)), false)
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), true),
        _ => return Err(bad("mixing IPv4 and IPv6")),
    };
    if b < a {
        return Err(bad("backwards"));
    }
    if b - a >= MAX_RANGE {
        return Err(bad("too large"));
    }
    Ok((a..=b)
        .map(|x| {
            if v6 {
                IpAddr::V6(x.into())
            } else {
                // Both ends came from IPv4 addresses, so x fits in 32 bits.
                IpAddr::V4(u32::try_from(x).unwrap_or(0).into())
            }
        })
        .collect())
}

fn service(vs: &VirtualServer, key: ServiceKey, name: &str) -> Result<Service, ConvertError> {
    let mut s = Service::new(key, vs.lvs_sched.as_str());
    if let Some(t) = vs.persistence_timeout {
        s = s.persistent(u32::try_from(t.as_secs()).unwrap_or(u32::MAX));
        if let Some(g) = &vs.persistence_granularity {
            s.netmask =
                granularity(key.family(), g).ok_or_else(|| ConvertError::BadGranularity {
                    vs: name.to_owned(),
                    value: g.clone(),
                })?;
        }
        s.pe_name.clone_from(&vs.persistence_engine);
    }
    let f = &vs.flags;
    if f.ops {
        s.flags.0 |= ServiceFlags::ONEPACKET;
    }
    if f.flag_1 || f.sh_fallback || f.mh_fallback {
        s.flags.0 |= ServiceFlags::SCHED1;
    }
    if f.flag_2 || f.sh_port || f.mh_port {
        s.flags.0 |= ServiceFlags::SCHED2;
    }
    if f.flag_3 {
        s.flags.0 |= ServiceFlags::SCHED3;
    }
    Ok(s)
}

/// `persistence_granularity`: a prefix length of the family, or an IPv4 netmask.
fn granularity(family: Family, g: &str) -> Option<u8> {
    if let Ok(p) = g.parse::<u8>()
        && (1..=family.max_prefix()).contains(&p)
    {
        return Some(p);
    }
    if family == Family::Inet
        && let Ok(mask) = g.parse::<std::net::Ipv4Addr>()
    {
        return mask_to_prefix(mask).ok();
    }
    None
}

fn forward(
    method: LvsMethod,
    tunnel: Option<&TunnelOptions>,
    name: &str,
) -> Result<Forward, ConvertError> {
    let bad = |value: &str| ConvertError::BadTunnel {
        vs: name.to_owned(),
        value: value.to_owned(),
    };
    Ok(match method {
        LvsMethod::Nat => Forward::Masq,
        LvsMethod::Dr => Forward::Route,
        LvsMethod::Tun => {
            let Some(t) = tunnel else {
                return Ok(Forward::ipip());
            };
            let kind = match t.tunnel_type.as_str() {
                "ipip" | "" => TunnelType::Ipip,
                "gue" => TunnelType::Gue,
                "gre" => TunnelType::Gre,
                other => return Err(bad(other)),
            };
            let flags = match t.checksum.as_deref() {
                None | Some("nocsum") => TunnelFlags::NOCSUM,
                Some("csum") => TunnelFlags::CSUM,
                Some("remcsum") => TunnelFlags::REMCSUM,
                Some(other) => return Err(bad(other)),
            };
            Forward::Tunnel {
                kind,
                port: t.port.unwrap_or(0),
                flags: TunnelFlags(flags),
            }
        }
    })
}

/// keepalived's default script user: `global_defs script_user`, else `keepalived_script` when
/// that user exists (else root).
fn default_script_user(config: &Config) -> hc::RunAsUser {
    match &config.global_defs.script_user {
        Some(u) => hc::RunAsUser {
            user: u.user.clone(),
            group: u.group.clone(),
            if_exists: false,
        },
        None => hc::RunAsUser {
            user: "keepalived_script".into(),
            group: None,
            if_exists: true,
        },
    }
}

/// One checker; `None` for a checker type the health core does not run (`BFD_CHECK`).
fn checker(
    config: &Config,
    vs: &VirtualServer,
    ck: &k::Checker,
    name: &str,
    rs: SocketAddr,
) -> Result<Option<hc::CheckerConfig>, ConvertError> {
    let bad = |why: String| ConvertError::BadChecker {
        vs: name.to_owned(),
        rs: rs.to_string(),
        checker: ck.kind.keyword(),
        why,
    };
    let mut connect_timeout = ck.connect_timeout;
    let kind = match &ck.kind {
        k::CheckerKind::Tcp => hc::CheckerKind::Tcp,
        k::CheckerKind::Http(h) => hc::CheckerKind::Http(http(h, vs, None).map_err(bad)?),
        k::CheckerKind::Ssl(h) => {
            hc::CheckerKind::Http(http(h, vs, Some(config.ssl.as_ref())).map_err(bad)?)
        }
        k::CheckerKind::Misc(m) => {
            let Some(script) = &m.misc_path else {
                return Err(bad("misc_path is missing".into()));
            };
            connect_timeout = m.misc_timeout;
            hc::CheckerKind::Misc(hc::MiscCheck {
                argv: script.argv.clone(),
                timeout: Some(m.misc_timeout),
                dynamic: m.misc_dynamic,
                user: None,
                // keepalived: the checker's `user`, else `script_user`, else
                // `keepalived_script` if that user exists, else root. Looked up at run time.
                run_as: Some(match &m.user {
                    Some(u) => hc::RunAsUser {
                        user: u.user.clone(),
                        group: u.group.clone(),
                        if_exists: false,
                    },
                    None => default_script_user(config),
                }),
            })
        }
        k::CheckerKind::Smtp(s) => hc::CheckerKind::Smtp(hc::SmtpCheck {
            helo_name: s.helo_name.clone(),
        }),
        k::CheckerKind::Dns(d) => hc::CheckerKind::Dns(hc::DnsCheck {
            qtype: dns_type(&d.query_type)
                .ok_or_else(|| bad(format!("unknown query type {}", d.query_type)))?,
            name: d.name.clone(),
        }),
        k::CheckerKind::Udp(u) => hc::CheckerKind::Udp(hc::UdpCheck {
            payload: match &u.payload {
                Some(p) => hex_bytes(p).ok_or_else(|| bad(format!("payload {p} is not hex")))?,
                None => Vec::new(),
            },
            require_reply: match &u.require_reply {
                Some(r) => Some(
                    hex_nibbles(r).ok_or_else(|| bad(format!("require_reply {r} is not hex")))?,
                ),
                None => None,
            },
            min_reply_length: usize::try_from(u.min_reply_length).unwrap_or(usize::MAX),
            max_reply_length: usize::try_from(u.max_reply_length).unwrap_or(usize::MAX),
        }),
        k::CheckerKind::Ping => hc::CheckerKind::Ping,
        k::CheckerKind::File(f) => {
            let Some(tname) = &f.track_file else {
                return Err(bad("track_file is missing".into()));
            };
            let tf = config
                .track_files
                .iter()
                .find(|t| &t.name == tname)
                .ok_or_else(|| bad(format!("track_file {tname} is not defined")))?;
            let Some(path) = &tf.file else {
                return Err(bad(format!("track_file {tname} has no file")));
            };
            hc::CheckerKind::File(hc::FileCheck {
                path: path.into(),
                weight: i64::from(f.weight.unwrap_or(tf.weight)),
                reverse: if f.weight.is_some() {
                    f.reverse
                } else {
                    tf.reverse
                },
            })
        }
        k::CheckerKind::Bfd(_) => return Ok(None),
    };
    Ok(Some(hc::CheckerConfig {
        kind,
        connect: hc::ConnectOptions {
            connect_ip: ck.connect_ip,
            connect_port: ck.connect_port,
            bindto: ck.bindto,
            bind_port: ck.bind_port,
            fwmark: ck.fwmark,
            bind_if: ck.bind_if.clone(),
        },
        timing: hc::CheckerTiming {
            delay_loop: ck.delay_loop,
            retry: ck.retry,
            delay_before_retry: ck.delay_before_retry,
            warmup: ck.warmup,
            connect_timeout,
            alpha: ck.alpha,
        },
    }))
}

/// `HTTP_GET` (`ssl` is `None`) or `SSL_GET` (`ssl` is the top-level `SSL { }` block, if any).
fn http(
    h: &k::HttpCheck,
    vs: &VirtualServer,
    ssl: Option<Option<&k::SslContext>>,
) -> Result<hc::HttpCheck, String> {
    let urls = h
        .urls
        .iter()
        .map(|u| {
            let regex = u
                .regex
                .as_deref()
                .map(|re| hc::BodyRegex::new(re, u.regex_no_match))
                .transpose()
                .map_err(|e| format!("url {}: regex: {e}", u.path))?;
            Ok(hc::UrlCheck {
                path: u.path.clone(),
                digest: u.digest.clone(),
                status_codes: u.status_codes.iter().map(|r| (r.min, r.max)).collect(),
                virtualhost: u.virtualhost.clone(),
                regex,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    let tls = match ssl {
        None => None,
        Some(ctx) => {
            let ctx = ctx.cloned().unwrap_or_default();
            if ctx.password.is_some() {
                return Err(
                    "the SSL block's `password` (an encrypted key) is not supported: decrypt the key"
                        .into(),
                );
            }
            let client_cert = match (&ctx.certificate, &ctx.key) {
                (Some(cert), key) => Some(hc::ClientCert {
                    certificate: cert.into(),
                    key: key.as_ref().unwrap_or(cert).into(),
                }),
                (None, Some(_)) => {
                    return Err("the SSL block has a `key` but no `certificate`".into());
                }
                (None, None) => None,
            };
            Some(hc::TlsOptions {
                enable_sni: h.enable_sni,
                sni_name: h.sni_name.clone(),
                // keepalived loads `ca` but never fails a handshake on verification
                // (SSL_VERIFY_NONE); doing otherwise would take real servers down after a
                // migration, so the server certificate is not verified here either.
                verify_ca: None,
                client_cert,
                tls_compliant: h.tls_compliant,
            })
        }
    };
    Ok(hc::HttpCheck {
        urls,
        protocol: match h.http_protocol.as_str() {
            "1.0C" => hc::HttpProtocol::Http10Close,
            "1.1" => hc::HttpProtocol::Http11,
            _ => hc::HttpProtocol::Http10,
        },
        virtualhost: h.virtualhost.clone().or_else(|| vs.virtualhost.clone()),
        tls,
        fast_recovery: h.fast_recovery,
    })
}

fn dns_type(name: &str) -> Option<u16> {
    Some(match name.to_ascii_uppercase().as_str() {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "SOA" => 6,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        "RRSIG" => 46,
        "DNSKEY" => 48,
        _ => return None,
    })
}

/// Nibbles of a free-format hex string (spaces ignored), `X` = any.
fn hex_nibbles(s: &str) -> Option<Vec<Option<u8>>> {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            'x' | 'X' => Some(None),
            c => c.to_digit(16).and_then(|d| u8::try_from(d).ok()).map(Some),
        })
        .collect()
}

/// Bytes of a free-format hex string (spaces ignored; an odd last nibble is the high half).
fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let nibbles = hex_nibbles(s)?;
    nibbles
        .chunks(2)
        .map(|pair| match pair {
            [Some(h), Some(l)] => Some(h << 4 | l),
            [Some(h)] => Some(h << 4),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_strings() {
        assert_eq!(hex_bytes("0a 1B2"), Some(vec![0x0a, 0x1b, 0x20]));
        assert_eq!(hex_bytes("zz"), None);
        assert_eq!(hex_bytes("0X"), None);
        assert_eq!(
            hex_nibbles("aX"),
            Some(vec![Some(10), None]),
            "X is a wildcard nibble"
        );
    }

    #[test]
    fn granularity_forms() {
        assert_eq!(granularity(Family::Inet, "255.255.255.0"), Some(24));
        assert_eq!(granularity(Family::Inet, "24"), Some(24));
        assert_eq!(granularity(Family::Inet, "33"), None);
        assert_eq!(granularity(Family::Inet6, "64"), Some(64));
        assert_eq!(granularity(Family::Inet6, "255.0.0.0"), None);
    }
}
