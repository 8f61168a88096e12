//! The IPVS model: what identifies a service or a real server, what is configured on it, and what
//! the kernel observes (counters, connection numbers), kept apart.
//!
//! - [`ServiceKey`] identifies a virtual service; [`Service`] is a key plus its settings (what a
//!   caller desires); [`ServiceExtended`] is a [`Service`] plus statistics (what the kernel has).
//! - [`Destination`] is a real server's address plus its settings; [`DestinationExtended`] adds
//!   connection counts and statistics.

use std::fmt::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::consts::{AF_INET, AF_INET6, dest, stats, svc};
use crate::error::DecodeError;
use crate::nl::{Attrs, MsgBuilder};

/// An address family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
}

impl Family {
    /// The `AF_*` number.
    #[must_use]
    pub fn af(self) -> u16 {
        match self {
            Self::Inet => AF_INET,
            Self::Inet6 => AF_INET6,
        }
    }

    /// From an `AF_*` number.
    pub fn from_af(af: u16) -> Result<Self, DecodeError> {
        match af {
            AF_INET => Ok(Self::Inet),
            AF_INET6 => Ok(Self::Inet6),
            v => Err(DecodeError::UnknownValue {
                what: "address family",
                value: v.into(),
            }),
        }
    }

    /// The family of an address.
    #[must_use]
    pub fn of(addr: IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Self::Inet,
            IpAddr::V6(_) => Self::Inet6,
        }
    }

    /// The longest prefix for this family (32 or 128).
    #[must_use]
    pub fn max_prefix(self) -> u8 {
        match self {
            Self::Inet => 32,
            Self::Inet6 => 128,
        }
    }
}

/// A transport protocol of a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (6).
    Tcp,
    /// UDP (17).
    Udp,
    /// SCTP (132).
    Sctp,
}

impl Protocol {
    /// The IP protocol number.
    #[must_use]
    pub fn number(self) -> u16 {
        match self {
            Self::Tcp => 6,
            Self::Udp => 17,
            Self::Sctp => 132,
        }
    }

    /// From the IP protocol number.
    pub fn from_number(n: u16) -> Result<Self, DecodeError> {
        match n {
            6 => Ok(Self::Tcp),
            17 => Ok(Self::Udp),
            132 => Ok(Self::Sctp),
            v => Err(DecodeError::UnknownValue {
                what: "protocol",
                value: v.into(),
            }),
        }
    }

    /// `TCP`, `UDP` or `SCTP`, as `ipvsadm -L` prints it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Tcp => "TCP",
            Self::Udp => "UDP",
            Self::Sctp => "SCTP",
        }
    }

    /// `-t`, `-u` or `--sctp-service`, as `ipvsadm -S` prints it.
    #[must_use]
    pub fn option(self) -> &'static str {
        match self {
            Self::Tcp => "-t",
            Self::Udp => "-u",
            Self::Sctp => "--sctp-service",
        }
    }
}

/// What identifies a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKey {
    /// An address, port and protocol.
    Addr {
        /// The virtual address.
        addr: IpAddr,
        /// The virtual port (0 = all ports, with persistence).
        port: u16,
        /// The transport protocol.
        protocol: Protocol,
    },
    /// A firewall mark, per address family.
    FwMark {
        /// The address family of the packets the mark applies to.
        family: Family,
        /// The mark.
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    #[must_use]
    pub fn tcp(addr: IpAddr, port: u16) -> Self {
        Self::Addr {
            addr,
            port,
            protocol: Protocol::Tcp,
        }
    }

    /// A UDP service.
    #[must_use]
    pub fn udp(addr: IpAddr, port: u16) -> Self {
        Self::Addr {
            addr,
            port,
            protocol: Protocol::Udp,
        }
    }

    /// The address family.
    #[must_use]
    pub fn family(&self) -> Family {
        match self {
            Self::Addr { addr, .. } => Family::of(*addr),
            Self::FwMark { family, .. } => *family,
        }
    }

    /// The order `ipvsadm -L` lists services in: address services first, then by family,
    /// protocol, address, port; firewall-mark services by mark.
    #[must_use]
    pub fn sort_key(&self) -> (u32, Family, u16, IpAddr, u16) {
        match *self {
            Self::Addr {
                addr,
                port,
                protocol,
            } => (0, Family::of(addr), protocol.number(), addr, port),
            Self::FwMark { family, mark } => {
                (mark, family, 0, IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)
            }
        }
    }

    /// Appends the identifying attributes (inside an open `IPVS_CMD_ATTR_SERVICE` nest).
    pub fn encode(&self, b: &mut MsgBuilder) {
        match *self {
            Self::Addr {
                addr,
                port,
                protocol,
            } => {
                b.u16(svc::AF, Family::of(addr).af());
                b.u16(svc::PROTOCOL, protocol.number());
                match addr {
                    IpAddr::V4(a) => b.bytes(svc::ADDR, &a.octets()),
                    IpAddr::V6(a) => b.bytes(svc::ADDR, &a.octets()),
                };
                b.be16(svc::PORT, port);
            }
            Self::FwMark { family, mark } => {
                b.u16(svc::AF, family.af());
                b.u32(svc::FWMARK, mark);
            }
        }
    }

    /// `ipvsadm -S`'s service option, e.g. `-t 192.0.2.1:80` or `-f 42 -6`... (without the `-6`,
    /// which `-S` prints after `-f MARK`).
    fn save_option(&self) -> String {
        match *self {
            Self::Addr {
                addr,
                port,
                protocol,
            } => {
                format!("{} {}", protocol.option(), SockAddr(addr, port))
            }
            Self::FwMark { mark, .. } => format!("-f {mark}"),
        }
    }
}

impl fmt::Display for ServiceKey {
    /// `TCP  192.0.2.1:80`, `UDP  [2001:db8::1]:53`, `FWM  42` or `FWM  42 IPv6`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = StackStr::new();
        let _ = match *self {
            Self::Addr {
                addr,
                port,
                protocol,
            } => write!(s, "{:<4} {}", protocol.name(), SockAddr(addr, port)),
            Self::FwMark {
                family: Family::Inet,
                mark,
            } => write!(s, "FWM  {mark}"),
            Self::FwMark {
                family: Family::Inet6,
                mark,
            } => write!(s, "FWM  {mark} IPv6"),
        };
        f.pad(s.as_str())
    }
}

/// `addr:port`, with brackets around IPv6 addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SockAddr(pub IpAddr, pub u16);

impl fmt::Display for SockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = StackStr::new();
        let _ = match self.0 {
            IpAddr::V4(a) => write!(s, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(s, "[{a}]:{}", self.1),
        };
        f.pad(s.as_str())
    }
}

/// A short string formatted on the stack (for padded columns without an allocation per
/// line): at most 64 bytes, more is cut at a character boundary.
struct StackStr {
    buf: [u8; 64],
    len: usize,
}

impl StackStr {
    fn new() -> Self {
        Self {
            buf: [0; 64],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        let b = self.buf.get(..self.len).unwrap_or(&[]);
        std::str::from_utf8(b).unwrap_or("")
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            let mut tmp = [0; 4];
            let e = c.encode_utf8(&mut tmp).as_bytes();
            let end = self.len + e.len();
            let Some(dst) = self.buf.get_mut(self.len..end) else {
                return Ok(());
            };
            dst.copy_from_slice(e);
            self.len = end;
        }
        Ok(())
    }
}

/// Service flags (`IP_VS_SVC_F_*`). `HASHED` is kernel-internal and never part of a [`Service`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    /// Persistent service.
    pub const PERSISTENT: u32 = 0x1;
    /// Hashed entry (kernel-internal; stripped when decoding).
    pub const HASHED: u32 = 0x2;
    /// One-packet scheduling (UDP only).
    pub const ONEPACKET: u32 = 0x4;
    /// Scheduler flag 1 (`sh-fallback`, `mh-fallback`).
    pub const SCHED1: u32 = 0x8;
    /// Scheduler flag 2 (`sh-port`, `mh-port`).
    pub const SCHED2: u32 = 0x10;
    /// Scheduler flag 3.
    pub const SCHED3: u32 = 0x20;
    /// Every flag a user may set.
    pub const USER_MASK: u32 =
        Self::PERSISTENT | Self::ONEPACKET | Self::SCHED1 | Self::SCHED2 | Self::SCHED3;

    /// Whether every bit of `bits` is set.
    #[must_use]
    pub fn contains(self, bits: u32) -> bool {
        self.0 & bits == bits
    }

    /// The scheduler flags as `ipvsadm` names them for `scheduler`, e.g. `sh-fallback,sh-port`.
    #[must_use]
    pub fn sched_flag_names(self, scheduler: &str) -> Option<String> {
        let prefix = match scheduler {
            "sh" | "mh" => scheduler,
            _ => "",
        };
        let mut names = Vec::new();
        for (bit, suffix, generic) in [
            (Self::SCHED1, "fallback", "flag-1"),
            (Self::SCHED2, "port", "flag-2"),
            (Self::SCHED3, "", "flag-3"),
        ] {
            if self.contains(bit) {
                if prefix.is_empty() || suffix.is_empty() {
                    names.push(generic.to_owned());
                } else {
                    names.push(format!("{prefix}-{suffix}"));
                }
            }
        }
        (!names.is_empty()).then(|| names.join(","))
    }
}

/// A virtual service: its key and its settings (no counters). This is what a caller desires,
/// and what [`crate::reconcile::plan`] compares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// Scheduler name (`rr`, `wlc`, `sh`, ...), at most 15 bytes.
    pub scheduler: String,
    /// Flags ([`ServiceFlags::USER_MASK`] bits only).
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// Persistence granularity as a prefix length (32 / 128 = per client address).
    pub netmask: u8,
    /// Persistence engine (e.g. `sip`).
    pub pe_name: Option<String>,
}

impl Service {
    /// A service with scheduler `scheduler`, no flags, no persistence and a full netmask.
    #[must_use]
    pub fn new(key: ServiceKey, scheduler: &str) -> Self {
        Self {
            netmask: key.family().max_prefix(),
            key,
            scheduler: scheduler.to_owned(),
            flags: ServiceFlags::default(),
            timeout: 0,
            pe_name: None,
        }
    }

    /// Makes the service persistent for `timeout` seconds.
    #[must_use]
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags.0 |= ServiceFlags::PERSISTENT;
        self.timeout = timeout;
        self
    }

    /// Appends every attribute of a full service (inside an open `IPVS_CMD_ATTR_SERVICE` nest),
    /// as `NEW_SERVICE` and `SET_SERVICE` need them.
    pub fn encode(&self, b: &mut MsgBuilder) -> Result<(), crate::Error> {
        check_name("scheduler", &self.scheduler)?;
        self.key.encode(b);
        b.string(svc::SCHED_NAME, &self.scheduler);
        if let Some(pe) = &self.pe_name {
            check_name("persistence engine", pe)?;
            b.string(svc::PE_NAME, pe);
        }
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&(self.flags.0 & ServiceFlags::USER_MASK).to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        b.bytes(svc::FLAGS, &flags);
        b.u32(svc::TIMEOUT, self.timeout);
        let family = self.key.family();
        if self.netmask == 0 || self.netmask > family.max_prefix() {
            return Err(crate::Error::InvalidRequest(format!(
                "netmask /{} out of range for {family:?}",
                self.netmask
            )));
        }
        match family {
            // The IPv4 mask travels as the mask's bytes in network order.
            Family::Inet => b.bytes(svc::NETMASK, &prefix_to_mask(self.netmask).octets()),
            Family::Inet6 => b.u32(svc::NETMASK, u32::from(self.netmask)),
        };
        Ok(())
    }

    /// `ipvsadm -Ln`'s flags after the scheduler: ` persistent 300 mask 255.255.255.0 pe sip`,
    /// ` ops`, ` (sh-fallback,sh-port)`.
    fn list_flags(&self) -> String {
        let mut s = String::new();
        if self.flags.contains(ServiceFlags::PERSISTENT) {
            s.push_str(&format!(" persistent {}", self.timeout));
            if self.netmask != self.key.family().max_prefix() {
                s.push_str(&format!(" mask {}", self.mask_text()));
            }
            if let Some(pe) = &self.pe_name {
                s.push_str(&format!(" pe {pe}"));
            }
        }
        if self.flags.contains(ServiceFlags::ONEPACKET) {
            s.push_str(" ops");
        }
        if let Some(names) = self.flags.sched_flag_names(&self.scheduler) {
            s.push_str(&format!(" ({names})"));
        }
        s
    }

    fn mask_text(&self) -> String {
        match self.key.family() {
            Family::Inet => prefix_to_mask(self.netmask).to_string(),
            Family::Inet6 => self.netmask.to_string(),
        }
    }

    /// The `ipvsadm -S` line adding this service, e.g. `-A -t 192.0.2.1:80 -s rr -p 300`.
    #[must_use]
    pub fn save_line(&self) -> String {
        let mut s = format!("-A {}", self.key.save_option());
        if let ServiceKey::FwMark {
            family: Family::Inet6,
            ..
        } = self.key
        {
            s.push_str(" -6");
        }
        s.push_str(&format!(" -s {}", self.scheduler));
        if self.flags.contains(ServiceFlags::PERSISTENT) {
            s.push_str(&format!(" -p {}", self.timeout));
            if self.netmask != self.key.family().max_prefix() {
                s.push_str(&format!(" -M {}", self.mask_text()));
            }
            if let Some(pe) = &self.pe_name {
                s.push_str(&format!(" --pe {pe}"));
            }
        }
        if self.flags.contains(ServiceFlags::ONEPACKET) {
            s.push_str(" -o");
        }
        if let Some(names) = self.flags.sched_flag_names(&self.scheduler) {
            s.push_str(&format!(" -b {names}"));
        }
        s
    }
}

impl fmt::Display for Service {
    /// The service line of `ipvsadm -Ln`, e.g. `TCP  192.0.2.1:80 rr persistent 300`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}{}", self.key, self.scheduler, self.list_flags())
    }
}

fn check_name(what: &str, name: &str) -> Result<(), crate::Error> {
    if name.is_empty() || name.len() > 15 || name.contains('\0') {
        return Err(crate::Error::InvalidRequest(format!(
            "{what} name {name:?} must be 1 to 15 bytes without NUL"
        )));
    }
    Ok(())
}

/// The IPv4 netmask of a prefix length.
#[must_use]
pub fn prefix_to_mask(prefix: u8) -> Ipv4Addr {
    let p = u32::from(prefix.min(32));
    Ipv4Addr::from(u32::MAX.checked_shl(32 - p).unwrap_or(0))
}

/// The prefix length of a contiguous IPv4 netmask.
pub fn mask_to_prefix(mask: Ipv4Addr) -> Result<u8, DecodeError> {
    let m = u32::from(mask);
    let ones = m.leading_ones();
    if m.checked_shl(ones).unwrap_or(0) != 0 {
        return Err(DecodeError::UnknownValue {
            what: "non-contiguous netmask",
            value: m.into(),
        });
    }
    // At most 32, so the cast is exact.
    Ok(ones as u8)
}

/// Traffic counters and rates (`IPVS_STATS_ATTR_*`), from `STATS64` when the kernel sends it
/// (Linux ≥ 4.0), else widened from the 32-bit `STATS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

impl Stats {
    /// Decodes a `STATS` or `STATS64` nest (each field as u32 or u64, whichever its size says).
    pub fn decode(attrs: Attrs<'_>) -> Result<Self, DecodeError> {
        let mut s = Self::default();
        for a in attrs {
            let a = a?;
            let v = match a.payload.len() {
                4 => u64::from(a.u32()?),
                8 => a.u64()?,
                _ => continue, // PAD and unknown attributes
            };
            match a.ty {
                stats::CONNS => s.conns = v,
                stats::INPKTS => s.inpkts = v,
                stats::OUTPKTS => s.outpkts = v,
                stats::INBYTES => s.inbytes = v,
                stats::OUTBYTES => s.outbytes = v,
                stats::CPS => s.cps = v,
                stats::INPPS => s.inpps = v,
                stats::OUTPPS => s.outpps = v,
                stats::INBPS => s.inbps = v,
                stats::OUTBPS => s.outbps = v,
                _ => {}
            }
        }
        Ok(s)
    }
}

/// A virtual service as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceExtended {
    /// The service's key and settings.
    pub service: Service,
    /// Its counters.
    pub stats: Stats,
}

impl ServiceExtended {
    /// Decodes an `IPVS_CMD_ATTR_SERVICE` nest from the kernel.
    pub fn decode(attrs: Attrs<'_>) -> Result<Self, DecodeError> {
        let mut af = None;
        let mut protocol = None;
        let mut addr: Option<&[u8]> = None;
        let mut port = None;
        let mut fwmark = None;
        let mut scheduler = None;
        let mut flags = None;
        let mut timeout = 0;
        let mut netmask = None;
        let mut pe_name = None;
        let mut stats32 = None;
        let mut stats64 = None;
        for a in attrs {
            let a = a?;
            match a.ty {
                svc::AF => af = Some(Family::from_af(a.u16()?)?),
                svc::PROTOCOL => protocol = Some(a.u16()?),
                svc::ADDR => addr = Some(a.payload),
                svc::PORT => port = Some(a.be16()?),
                svc::FWMARK => fwmark = Some(a.u32()?),
                svc::SCHED_NAME => scheduler = Some(a.string()?),
                svc::FLAGS => {
                    let b = a.payload.get(0..4).ok_or(DecodeError::BadAttribute {
                        ty: a.ty,
                        what: "ip_vs_flags",
                    })?;
                    flags = Some(u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
                }
                svc::TIMEOUT => timeout = a.u32()?,
                svc::NETMASK => netmask = Some(a.payload),
                svc::PE_NAME => pe_name = Some(a.string()?),
                svc::STATS => stats32 = Some(Stats::decode(a.nested())?),
                svc::STATS64 => stats64 = Some(Stats::decode(a.nested())?),
                _ => {}
            }
        }
        let family = af.ok_or(DecodeError::MissingAttribute("IPVS_SVC_ATTR_AF"))?;
        let key = match fwmark {
            Some(mark) if mark != 0 => ServiceKey::FwMark { family, mark },
            _ => ServiceKey::Addr {
                addr: decode_addr(
                    family,
                    addr.ok_or(DecodeError::MissingAttribute("IPVS_SVC_ATTR_ADDR"))?,
                )?,
                port: port.ok_or(DecodeError::MissingAttribute("IPVS_SVC_ATTR_PORT"))?,
                protocol: Protocol::from_number(
                    protocol.ok_or(DecodeError::MissingAttribute("IPVS_SVC_ATTR_PROTOCOL"))?,
                )?,
            },
        };
        let netmask = match (family, netmask) {
            (_, None) => family.max_prefix(),
            (Family::Inet, Some(m)) => {
                let b: [u8; 4] = m.try_into().map_err(|_| DecodeError::BadAttribute {
                    ty: svc::NETMASK,
                    what: "IPv4 netmask",
                })?;
                mask_to_prefix(Ipv4Addr::from(b))?
            }
            (Family::Inet6, Some(m)) => {
                let b: [u8; 4] = m.try_into().map_err(|_| DecodeError::BadAttribute {
                    ty: svc::NETMASK,
                    what: "IPv6 prefix length",
                })?;
                let p = u32::from_ne_bytes(b);
                u8::try_from(p)
                    .ok()
                    .filter(|p| *p <= 128)
                    .ok_or(DecodeError::UnknownValue {
                        what: "IPv6 prefix length",
                        value: p.into(),
                    })?
            }
        };
        Ok(Self {
            service: Service {
                key,
                scheduler: scheduler
                    .ok_or(DecodeError::MissingAttribute("IPVS_SVC_ATTR_SCHED_NAME"))?,
                flags: ServiceFlags(flags.unwrap_or(0) & ServiceFlags::USER_MASK),
                timeout,
                netmask,
                pe_name: pe_name.filter(|p| !p.is_empty()),
            },
            stats: stats64.or(stats32).unwrap_or_default(),
        })
    }
}

/// Decodes an address attribute: 4 bytes, or 16 (the kernel always sends 16, IPv4 zero-padded).
pub fn decode_addr(family: Family, b: &[u8]) -> Result<IpAddr, DecodeError> {
    match (family, b.len()) {
        (Family::Inet, 4 | 16) => Ok(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
        (Family::Inet6, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            Ok(IpAddr::V6(Ipv6Addr::from(a)))
        }
        _ => Err(DecodeError::BadAttribute {
            ty: svc::ADDR,
            what: "address",
        }),
    }
}

/// A tunnel encapsulation (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TunnelType {
    /// IP-in-IP (0).
    Ipip,
    /// Generic UDP Encapsulation (1).
    Gue,
    /// GRE (2).
    Gre,
}

impl TunnelType {
    fn number(self) -> u8 {
        match self {
            Self::Ipip => 0,
            Self::Gue => 1,
            Self::Gre => 2,
        }
    }

    fn from_number(n: u8) -> Result<Self, DecodeError> {
        match n {
            0 => Ok(Self::Ipip),
            1 => Ok(Self::Gue),
            2 => Ok(Self::Gre),
            v => Err(DecodeError::UnknownValue {
                what: "tunnel type",
                value: v.into(),
            }),
        }
    }

    /// `ipip`, `gue` or `gre`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipip => "ipip",
            Self::Gue => "gue",
            Self::Gre => "gre",
        }
    }
}

/// Tunnel checksum flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelFlags(pub u16);

impl TunnelFlags {
    /// No checksum.
    pub const NOCSUM: u16 = 0;
    /// Checksum.
    pub const CSUM: u16 = 1 << 0;
    /// Remote checksum offload.
    pub const REMCSUM: u16 = 1 << 1;
}

/// How packets reach a real server. Tunnel settings only exist with [`Forward::Tunnel`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forward {
    /// NAT (`-m`, 0).
    Masq,
    /// Local node (1).
    Local,
    /// IP tunnel (`-i`, 2).
    Tunnel {
        /// The encapsulation.
        kind: TunnelType,
        /// The GUE UDP port (0 otherwise).
        port: u16,
        /// Checksum flags.
        flags: TunnelFlags,
    },
    /// Direct routing (`-g`, 3).
    Route,
    /// Bypass (4).
    Bypass,
}

impl Forward {
    /// The `IP_VS_CONN_F_*` forwarding method number.
    #[must_use]
    pub fn number(self) -> u32 {
        match self {
            Self::Masq => 0,
            Self::Local => 1,
            Self::Tunnel { .. } => 2,
            Self::Route => 3,
            Self::Bypass => 4,
        }
    }

    /// IP-in-IP tunnelling.
    #[must_use]
    pub fn ipip() -> Self {
        Self::Tunnel {
            kind: TunnelType::Ipip,
            port: 0,
            flags: TunnelFlags::default(),
        }
    }

    /// `Masq`, `Local`, `Tunnel`, `Route` or `Bypass`, as `ipvsadm -L` prints it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Masq => "Masq",
            Self::Local => "Local",
            Self::Tunnel { .. } => "Tunnel",
            Self::Route => "Route",
            Self::Bypass => "Bypass",
        }
    }
}

/// A real server of a service: address, port and settings (no counters).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    /// The address; its family may differ from the service's only with tunnelling.
    pub addr: IpAddr,
    /// The port.
    pub port: u16,
    /// The forwarding method.
    pub forward: Forward,
    /// The weight (0 = quiesced).
    pub weight: u32,
    /// Upper connection threshold (0 = none).
    pub upper_threshold: u32,
    /// Lower connection threshold (0 = none).
    pub lower_threshold: u32,
}

impl Destination {
    /// A real server with weight 1 and no thresholds.
    #[must_use]
    pub fn new(addr: IpAddr, port: u16, forward: Forward) -> Self {
        Self {
            addr,
            port,
            forward,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
        }
    }

    /// What identifies the destination within its service.
    #[must_use]
    pub fn id(&self) -> (IpAddr, u16) {
        (self.addr, self.port)
    }

    /// Appends the attributes identifying the destination (inside an open
    /// `IPVS_CMD_ATTR_DEST` nest), as `DEL_DEST` needs them.
    pub fn encode_id(&self, b: &mut MsgBuilder) {
        match self.addr {
            IpAddr::V4(a) => b.bytes(dest::ADDR, &a.octets()),
            IpAddr::V6(a) => b.bytes(dest::ADDR, &a.octets()),
        };
        b.be16(dest::PORT, self.port);
        b.u16(dest::ADDR_FAMILY, Family::of(self.addr).af());
    }

    /// Appends every attribute (inside an open `IPVS_CMD_ATTR_DEST` nest), as `NEW_DEST` and
    /// `SET_DEST` need them.
    pub fn encode(&self, b: &mut MsgBuilder) {
        self.encode_id(b);
        b.u32(dest::FWD_METHOD, self.forward.number());
        b.u32(dest::WEIGHT, self.weight);
        if let Forward::Tunnel { kind, port, flags } = self.forward {
            b.u8(dest::TUN_TYPE, kind.number());
            b.be16(dest::TUN_PORT, port);
            b.u16(dest::TUN_FLAGS, flags.0);
        }
        b.u32(dest::U_THRESH, self.upper_threshold);
        b.u32(dest::L_THRESH, self.lower_threshold);
    }

    /// The `ipvsadm -S` options after `-r ADDR:PORT`, e.g. `-m -w 3`.
    fn save_options(&self) -> String {
        let mut s = match self.forward {
            Forward::Masq => "-m".to_owned(),
            Forward::Route => "-g".to_owned(),
            Forward::Tunnel { .. } => "-i".to_owned(),
            // ipvsadm has no option for these; it falls back to its default (-g).
            Forward::Local | Forward::Bypass => "-g".to_owned(),
        };
        s.push_str(&format!(" -w {}", self.weight));
        if let Forward::Tunnel { kind, port, flags } = self.forward {
            s.push_str(&format!(" --tun-type {}", kind.name()));
            if kind == TunnelType::Gue {
                s.push_str(&format!(" --tun-port {port}"));
            }
            if kind != TunnelType::Ipip {
                s.push_str(match flags.0 {
                    TunnelFlags::NOCSUM => " --tun-nocsum",
                    TunnelFlags::CSUM => " --tun-csum",
                    _ => " --tun-remcsum",
                });
            }
        }
        s
    }
}

/// A real server as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationExtended {
    /// The server's address and settings.
    pub dest: Destination,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inact_conns: u32,
    /// Persistent connection templates.
    pub persist_conns: u32,
    /// Its counters.
    pub stats: Stats,
}

impl DestinationExtended {
    /// Decodes an `IPVS_CMD_ATTR_DEST` nest from the kernel; `service_family` is used when the
    /// kernel (older than 4.3) does not send the destination's own family.
    pub fn decode(attrs: Attrs<'_>, service_family: Family) -> Result<Self, DecodeError> {
        let mut addr: Option<&[u8]> = None;
        let mut port = None;
        let mut fwd = None;
        let mut weight = 0;
        let mut uth = 0;
        let mut lth = 0;
        let mut active = 0;
        let mut inact = 0;
        let mut persist = 0;
        let mut family = service_family;
        let mut tun_type = 0;
        let mut tun_port = 0;
        let mut tun_flags = 0;
        let mut stats32 = None;
        let mut stats64 = None;
        for a in attrs {
            let a = a?;
            match a.ty {
                dest::ADDR => addr = Some(a.payload),
                dest::PORT => port = Some(a.be16()?),
                dest::FWD_METHOD => fwd = Some(a.u32()?),
                dest::WEIGHT => weight = a.u32()?,
                dest::U_THRESH => uth = a.u32()?,
                dest::L_THRESH => lth = a.u32()?,
                dest::ACTIVE_CONNS => active = a.u32()?,
                dest::INACT_CONNS => inact = a.u32()?,
                dest::PERSIST_CONNS => persist = a.u32()?,
                dest::ADDR_FAMILY => family = Family::from_af(a.u16()?)?,
                dest::TUN_TYPE => tun_type = a.u8()?,
                dest::TUN_PORT => tun_port = a.be16()?,
                dest::TUN_FLAGS => tun_flags = a.u16()?,
                dest::STATS => stats32 = Some(Stats::decode(a.nested())?),
                dest::STATS64 => stats64 = Some(Stats::decode(a.nested())?),
                _ => {}
            }
        }
        let forward = match fwd.ok_or(DecodeError::MissingAttribute("IPVS_DEST_ATTR_FWD_METHOD"))? {
            0 => Forward::Masq,
            1 => Forward::Local,
            2 => Forward::Tunnel {
                kind: TunnelType::from_number(tun_type)?,
                port: tun_port,
                flags: TunnelFlags(tun_flags),
            },
            3 => Forward::Route,
            4 => Forward::Bypass,
            v => {
                return Err(DecodeError::UnknownValue {
                    what: "forwarding method",
                    value: v.into(),
                });
            }
        };
        Ok(Self {
            dest: Destination {
                addr: decode_addr(
                    family,
                    addr.ok_or(DecodeError::MissingAttribute("IPVS_DEST_ATTR_ADDR"))?,
                )?,
                port: port.ok_or(DecodeError::MissingAttribute("IPVS_DEST_ATTR_PORT"))?,
                forward,
                weight,
                upper_threshold: uth,
                lower_threshold: lth,
            },
            active_conns: active,
            inact_conns: inact,
            persist_conns: persist,
            stats: stats64.or(stats32).unwrap_or_default(),
        })
    }
}

impl fmt::Display for DestinationExtended {
    /// The real-server line of `ipvsadm -Ln`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "  -> {:<28} {:<7} {:<6} {:<10} {:<10}",
            SockAddr(self.dest.addr, self.dest.port),
            self.dest.forward.name(),
            self.dest.weight,
            self.active_conns,
            self.inact_conns
        )
    }
}

/// The connection timeouts (`IPVS_CMD_ATTR_TIMEOUT_*`), in seconds; 0 in a set request leaves
/// that timeout unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timeouts {
    /// Established TCP.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

impl fmt::Display for Timeouts {
    /// Like `ipvsadm -L --timeout`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Timeout (tcp tcpfin udp): {} {} {}",
            self.tcp, self.tcp_fin, self.udp
        )
    }
}

/// A service with its real servers, as listed from the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// The service.
    pub service: ServiceExtended,
    /// Its real servers.
    pub dests: Vec<DestinationExtended>,
}

/// The whole IPVS table of a namespace, sorted like `ipvsadm -L` sorts it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    /// The IPVS version and connection table size, when known (the header line).
    pub info: Option<crate::Info>,
    /// The services, each with its real servers.
    pub services: Vec<ServiceEntry>,
}

/// What `ipvsadm -L` shows per line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ListFormat {
    /// Scheduler, flags, forwarding, weight, connections (`-Ln`).
    #[default]
    Default,
    /// Counters (`-Ln --stats`).
    Stats,
    /// Rates (`-Ln --rate`).
    Rate,
}

impl Table {
    /// Sorts services and real servers in `ipvsadm`'s order (see [`ServiceKey::sort_key`];
    /// real servers by family, address, port).
    ///
    /// `ipvsadm` compares addresses by subtracting them as C `int`s, which overflows when two
    /// addresses are more than 2^31 apart (a high address is then listed before a low one);
    /// this sort is plain numeric order.
    pub fn sort(&mut self) {
        self.services
            .sort_by_key(|e| e.service.service.key.sort_key());
        for e in &mut self.services {
            e.dests
                .sort_by_key(|d| (Family::of(d.dest.addr), d.dest.addr, d.dest.port));
        }
    }

    /// The table in `ipvsadm -Ln` format (with `--stats` or `--rate` per `format`).
    #[must_use]
    pub fn list(&self, format: ListFormat) -> String {
        let lines: usize = self.services.iter().map(|e| 1 + e.dests.len()).sum();
        let mut out = String::with_capacity(256 + lines * 80);
        // Writing into a String cannot fail.
        let _ = self.write_list(&mut out, format);
        out
    }

    fn write_list(&self, out: &mut String, format: ListFormat) -> fmt::Result {
        if let Some(info) = &self.info {
            writeln!(out, "{info}")?;
        }
        match format {
            ListFormat::Default => {
                out.push_str("Prot LocalAddress:Port Scheduler Flags\n");
                out.push_str(
                    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
                );
            }
            ListFormat::Stats => {
                out.push_str("Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n");
                out.push_str("  -> RemoteAddress:Port\n");
            }
            ListFormat::Rate => {
                out.push_str("Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n");
                out.push_str("  -> RemoteAddress:Port\n");
            }
        }
        for e in &self.services {
            let s = &e.service;
            match format {
                ListFormat::Default => writeln!(out, "{}", s.service)?,
                _ => {
                    write!(out, "{:<33}", s.service.key)?;
                    write_stats_columns(out, &s.stats, format)?;
                    out.push('\n');
                }
            }
            for d in &e.dests {
                match format {
                    ListFormat::Default => writeln!(out, "{d}")?,
                    _ => {
                        write!(out, "  -> {:<28}", SockAddr(d.dest.addr, d.dest.port))?;
                        write_stats_columns(out, &d.stats, format)?;
                        out.push('\n');
                    }
                }
            }
        }
        Ok(())
    }

    /// The table in `ipvsadm -Sn` format (the input of `ipvsadm -R`).
    #[must_use]
    pub fn save(&self) -> String {
        let lines: usize = self.services.iter().map(|e| 1 + e.dests.len()).sum();
        let mut out = String::with_capacity(lines * 64);
        for e in &self.services {
            let s = &e.service.service;
            out.push_str(&s.save_line());
            out.push('\n');
            let opt = s.key.save_option();
            for d in &e.dests {
                // Writing into a String cannot fail.
                let _ = writeln!(
                    out,
                    "-a {opt} -r {} {}",
                    SockAddr(d.dest.addr, d.dest.port),
                    d.dest.save_options()
                );
            }
        }
        out
    }
}

impl fmt::Display for Table {
    /// Like `ipvsadm -Ln`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.list(ListFormat::Default))
    }
}

fn write_stats_columns(out: &mut String, s: &Stats, format: ListFormat) -> fmt::Result {
    let v = match format {
        ListFormat::Rate => [s.cps, s.inpps, s.outpps, s.inbps, s.outbps],
        _ => [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes],
    };
    for n in v {
        write!(out, " {}", large_number(n))?;
    }
    Ok(())
}

/// A counter in 8 columns, as `ipvsadm` prints it: exact up to 8 digits, then in thousands
/// (`K`), millions (`M`), ... with 7 digits and the unit letter.
#[must_use]
pub fn large_number(n: u64) -> String {
    if n < 100_000_000 {
        return format!("{n:>8}");
    }
    let mut v = n;
    for unit in ['K', 'M', 'G', 'T', 'P', 'E'] {
        v /= 1000;
        if v < 10_000_000 {
            return format!("{v:>7}{unit}");
        }
    }
    format!("{v:>7}E")
}
