//! The messages: one JSON object per line each way.
//!
//! A client writes a [`Request`] on one line and reads one [`Response`] line back; it may send
//! further requests on the same connection. Both are tagged objects:
//!
//! ```text
//! → {"command":"status"}
//! ← {"result":"status","version":"0.1.0","pid":4242,"vrrp":[...],"virtual_servers":[...]}
//! → {"command":"weight","service":{"tcp":"192.0.2.1:80"},"real_server":"198.51.100.1:80","weight":0}
//! ← {"result":"done","message":"..."}
//! → {"command":"reload"}
//! ← {"result":"refused","reason":"configuration has errors"}
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A virtual service, named as `ipvsadm` names it: `-t`/`-u`/`--sctp-service ADDR:PORT`, or
/// `-f MARK`. For a `virtual_server group`, any one service of the group names the whole
/// `virtual_server` block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServiceRef {
    /// A TCP service (`-t`).
    Tcp(SocketAddr),
    /// A UDP service (`-u`).
    Udp(SocketAddr),
    /// An SCTP service (`--sctp-service`).
    Sctp(SocketAddr),
    /// A firewall-mark service (`-f`), of either address family.
    Fwmark(u32),
}

impl fmt::Display for ServiceRef {
    /// As the `ipvsadm` option: `-t 192.0.2.1:80`, `-u [2001:db8::1]:53`, `-f 7`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceRef::Tcp(a) => write!(f, "-t {a}"),
            ServiceRef::Udp(a) => write!(f, "-u {a}"),
            ServiceRef::Sctp(a) => write!(f, "--sctp-service {a}"),
            ServiceRef::Fwmark(m) => write!(f, "-f {m}"),
        }
    }
}

/// A real server: `-r ADDR[:PORT]`. Without a port it names the virtual server's only real
/// server with that address (an error when several ports share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RealServerRef {
    /// The address.
    pub addr: IpAddr,
    /// The port, if given.
    pub port: Option<u16>,
}

impl RealServerRef {
    /// Whether `addr` is this real server.
    #[must_use]
    pub fn matches(&self, addr: SocketAddr) -> bool {
        addr.ip() == self.addr && self.port.is_none_or(|p| p == addr.port())
    }
}

impl fmt::Display for RealServerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => SocketAddr::new(self.addr, p).fmt(f),
            None => self.addr.fmt(f),
        }
    }
}

/// A string that is neither `ADDR:PORT` nor `ADDR`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address or address:port: {0:?}")]
pub struct AddrParseError(pub String);

impl FromStr for RealServerRef {
    type Err = AddrParseError;

    /// `198.51.100.1:80`, `[2001:db8::1]:80`, `198.51.100.1` or `2001:db8::1`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Ok(a) = s.parse::<SocketAddr>() {
            return Ok(RealServerRef {
                addr: a.ip(),
                port: Some(a.port()),
            });
        }
        let bare = s.strip_prefix('[').and_then(|r| r.strip_suffix(']'));
        match bare.unwrap_or(s).parse::<IpAddr>() {
            Ok(addr) => Ok(RealServerRef { addr, port: None }),
            Err(_) => Err(AddrParseError(s.to_owned())),
        }
    }
}

impl Serialize for RealServerRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RealServerRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a client asks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Request {
    /// The VRRP instances and the virtual servers' real servers.
    Status,
    /// The kernel's IPVS table, as `ipvsadm -Ln` prints it.
    Ipvs {
        /// With the counters (`ipvsadm -Ln --stats`).
        #[serde(default)]
        stats: bool,
        /// With the rates (`ipvsadm -Ln --rate`).
        #[serde(default)]
        rate: bool,
    },
    /// Sets (or with `weight: null` removes) the administrative weight of a real server.
    /// Weight 0 drains it: it stays in the table and gets no new connections.
    Weight {
        /// The virtual service.
        service: ServiceRef,
        /// The real server.
        real_server: RealServerRef,
        /// The weight; `None` gives the health checks back the say.
        weight: Option<u32>,
    },
    /// Reloads the configuration (as SIGHUP does).
    Reload,
}

/// What the daemon answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Response {
    /// The answer to [`Request::Status`].
    Status(Status),
    /// The answer to [`Request::Ipvs`].
    Ipvs {
        /// The table, as `ipvsadm -Ln` lines.
        table: String,
    },
    /// The request was carried out.
    Done {
        /// What was done.
        message: String,
    },
    /// The request was refused and nothing changed (e.g. a reload of a broken configuration).
    Refused {
        /// Why.
        reason: String,
    },
    /// The request could not be understood or carried out.
    Error {
        /// What went wrong.
        message: String,
    },
}

/// The daemon's state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// hagroupd's version.
    pub version: String,
    /// The daemon's process id.
    pub pid: u32,
    /// The VRRP instances, by name.
    pub vrrp: Vec<VrrpInstance>,
    /// The virtual servers, in configuration order.
    pub virtual_servers: Vec<VirtualServer>,
}

/// One `vrrp_instance`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// The instance name.
    pub name: String,
    /// `INIT`, `BACKUP`, `MASTER` or `FAULT`.
    pub state: String,
    /// The effective priority.
    pub priority: u8,
    /// The configured priority.
    pub base_priority: u8,
    /// The VRID.
    pub vrid: u8,
    /// The interface adverts go out on.
    pub interface: String,
    /// The virtual addresses (`192.0.2.100/24`).
    pub vips: Vec<String>,
    /// State changes since the instance started.
    pub transitions: u64,
    /// The Master last heard from, when Backup.
    pub master: Option<String>,
}

/// One `virtual_server` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServer {
    /// How the block reads (`192.0.2.1:80 TCP`, `fwmark 7`, `group web`).
    pub name: String,
    /// Its IPVS services, as `ipvsadm -Ln` names them (`TCP  192.0.2.1:80`).
    pub services: Vec<String>,
    /// Whether its quorum is up.
    pub quorum_up: bool,
    /// Its real servers.
    pub real_servers: Vec<RealServer>,
}

/// One `real_server`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address and port, as its checkers see it.
    pub address: String,
    /// All its checkers are up.
    pub alive: bool,
    /// The weight the configuration and the health checks give it.
    pub weight: u32,
    /// Its weight in the IPVS table (`None`: not in the table).
    pub ipvs_weight: Option<u32>,
    /// The administrative weight set with `hagroupctl weight`/`drain`, if any.
    pub admin_weight: Option<u32>,
}

impl Status {
    /// The status as the tables `hagroupctl status` prints.
    #[must_use]
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "hagroupd {} (pid {})\n\nVRRP instances\n",
            self.version, self.pid
        ));
        if self.vrrp.is_empty() {
            out.push_str("  (none)\n");
        } else {
            let rows: Vec<[String; 7]> = self
                .vrrp
                .iter()
                .map(|i| {
                    [
                        i.name.clone(),
                        i.state.clone(),
                        format!("{}/{}", i.priority, i.base_priority),
                        i.vrid.to_string(),
                        i.interface.clone(),
                        i.transitions.to_string(),
                        i.vips.join(","),
                    ]
                })
                .collect();
            table(
                &mut out,
                [
                    "NAME",
                    "STATE",
                    "PRIO",
                    "VRID",
                    "INTERFACE",
                    "TRANSITIONS",
                    "VIPS",
                ],
                &rows,
            );
        }
        out.push_str("\nVirtual servers\n");
        if self.virtual_servers.is_empty() {
            out.push_str("  (none)\n");
        }
        for vs in &self.virtual_servers {
            out.push_str(&format!(
                "  {}  quorum {}  [{}]\n",
                vs.name,
                if vs.quorum_up { "up" } else { "down" },
                vs.services.join(", ")
            ));
            let rows: Vec<[String; 5]> = vs
                .real_servers
                .iter()
                .map(|r| {
                    [
                        r.address.clone(),
                        if r.alive { "alive" } else { "down" }.to_owned(),
                        r.weight.to_string(),
                        r.ipvs_weight
                            .map_or_else(|| "-".to_owned(), |w| w.to_string()),
                        match r.admin_weight {
                            Some(0) => "drain".to_owned(),
                            Some(w) => w.to_string(),
                            None => "-".to_owned(),
                        },
                    ]
                })
                .collect();
            table(
                &mut out,
                ["REAL SERVER", "HEALTH", "WEIGHT", "IPVS", "ADMIN"],
                &rows,
            );
        }
        out
    }
}

/// Left-aligned columns, two spaces apart, indented by four.
fn table<const N: usize>(out: &mut String, head: [&str; N], rows: &[[String; N]]) {
    let mut width = head.map(str::len);
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::from("    ");
        for (w, c) in width.iter().zip(cells) {
            s.push_str(&format!("{c:<w$}  "));
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(out, &mut head.iter().copied());
    for r in rows {
        line(out, &mut r.iter().map(String::as_str));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_json_lines() {
        let r = Request::Weight {
            service: ServiceRef::Tcp("192.0.2.1:80".parse().unwrap()),
            real_server: "198.51.100.1:80".parse().unwrap(),
            weight: Some(0),
        };
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"command":"weight","service":{"tcp":"192.0.2.1:80"},"real_server":"198.51.100.1:80","weight":0}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&line).unwrap(), r);
        assert_eq!(
            serde_json::to_string(&Request::Status).unwrap(),
            r#"{"command":"status"}"#
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"command":"ipvs"}"#).unwrap(),
            Request::Ipvs {
                stats: false,
                rate: false
            }
        );
        let reset: Request = serde_json::from_str(
            r#"{"command":"weight","service":{"fwmark":7},"real_server":"2001:db8::1","weight":null}"#,
        )
        .unwrap();
        assert_eq!(
            reset,
            Request::Weight {
                service: ServiceRef::Fwmark(7),
                real_server: RealServerRef {
                    addr: "2001:db8::1".parse().unwrap(),
                    port: None
                },
                weight: None
            }
        );
    }

    #[test]
    fn unknown_or_malformed_requests_are_errors() {
        assert!(serde_json::from_str::<Request>(r#"{"command":"format_disk"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"command":"weight"}"#).is_err());
        assert!(
            serde_json::from_str::<Request>(
                r#"{"command":"weight","service":{"tcp":"192.0.2.1"},"real_server":"x","weight":1}"#
            )
            .is_err()
        );
    }

    #[test]
    fn responses_round_trip() {
        let status = Response::Status(Status {
            version: "0.1.0".into(),
            pid: 7,
            vrrp: vec![VrrpInstance {
                name: "VI_1".into(),
                state: "MASTER".into(),
                priority: 150,
                base_priority: 150,
                vrid: 51,
                interface: "eth0".into(),
                vips: vec!["192.0.2.100/24".into()],
                transitions: 1,
                master: None,
            }],
            virtual_servers: vec![VirtualServer {
                name: "192.0.2.1:80 TCP".into(),
                services: vec!["TCP  192.0.2.1:80".into()],
                quorum_up: true,
                real_servers: vec![RealServer {
                    address: "198.51.100.1:80".into(),
                    alive: true,
                    weight: 1,
                    ipvs_weight: Some(0),
                    admin_weight: Some(0),
                }],
            }],
        });
        for r in [
            status,
            Response::Ipvs {
                table: "IP Virtual Server\n".into(),
            },
            Response::Done {
                message: "ok".into(),
            },
            Response::Refused {
                reason: "bad".into(),
            },
            Response::Error {
                message: "no".into(),
            },
        ] {
            let line = serde_json::to_string(&r).unwrap();
            assert!(!line.contains('\n'), "one line: {line}");
            assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), r);
        }
        let refused = serde_json::to_value(Response::Refused { reason: "x".into() }).unwrap();
        assert_eq!(refused["result"], "refused");
        assert_eq!(refused["reason"], "x");
    }

    #[test]
    fn real_server_refs_parse_like_ipvsadm() {
        let r: RealServerRef = "[2001:db8::5]:8080".parse().unwrap();
        assert_eq!(r.port, Some(8080));
        assert!(r.matches("[2001:db8::5]:8080".parse().unwrap()));
        assert!(!r.matches("[2001:db8::5]:80".parse().unwrap()));
        let any: RealServerRef = "198.51.100.1".parse().unwrap();
        assert!(any.matches("198.51.100.1:443".parse().unwrap()));
        assert!(!any.matches("198.51.100.2:443".parse().unwrap()));
        assert_eq!(any.to_string(), "198.51.100.1");
        assert!("198.51.100.1:http".parse::<RealServerRef>().is_err());
        assert_eq!(
            ServiceRef::Udp("[2001:db8::1]:53".parse().unwrap()).to_string(),
            "-u [2001:db8::1]:53"
        );
        assert_eq!(ServiceRef::Fwmark(7).to_string(), "-f 7");
    }

    #[test]
    fn the_table_shows_drained_servers_and_quorum() {
        let s = Status {
            version: "0.1.0".into(),
            pid: 1,
            vrrp: vec![],
            virtual_servers: vec![VirtualServer {
                name: "fwmark 7".into(),
                services: vec!["FWM  7".into()],
                quorum_up: false,
                real_servers: vec![RealServer {
                    address: "198.51.100.1:80".into(),
                    alive: false,
                    weight: 3,
                    ipvs_weight: None,
                    admin_weight: Some(0),
                }],
            }],
        };
        let t = s.render_table();
        assert!(t.contains("fwmark 7  quorum down  [FWM  7]"), "{t}");
        let row = t.lines().find(|l| l.contains("198.51.100.1:80")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells, ["198.51.100.1:80", "down", "3", "-", "drain"]);
    }
}
