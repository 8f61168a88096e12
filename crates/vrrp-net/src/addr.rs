//! Virtual addresses (VIPs) added to and removed from interfaces over rtnetlink, with
//! keepalived's per-address options: prefix, `dev`, `brd`, `scope`, `label` and IPv6 `nodad`.

use crate::NetError;
use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Ifa, IfaF, RtAddrFamily, RtScope, Rtm};
use neli::consts::socket::NlFamily;
use neli::err::RouterError;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::router::synchronous::NlRouter;
use neli::rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Rtattr, RtattrBuilder};
use neli::types::{Buffer, RtBuffer};
use neli::utils::Groups;
use std::net::{IpAddr, Ipv4Addr};

/// The scope of an address (`ip addr add ... scope S`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scope {
    /// `global` (0), the default.
    #[default]
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
}

impl Scope {
    fn rt(self) -> RtScope {
        match self {
            Scope::Global => RtScope::Universe,
            Scope::Site => RtScope::Site,
            Scope::Link => RtScope::Link,
            Scope::Host => RtScope::Host,
            Scope::Nowhere => RtScope::Nowhere,
        }
    }

    /// The scope for a keepalived keyword (`global`, `site`, `link`, `host`, `nowhere`).
    pub fn from_keyword(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            _ => return None,
        })
    }
}

/// One virtual address and how it goes on its interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length (keepalived's default is /32 for IPv4, /128 for IPv6).
    pub prefix_len: u8,
    /// The interface index (`dev`, or the instance's interface).
    pub ifindex: u32,
    /// The IPv4 broadcast address (`brd`), if any.
    pub broadcast: Option<Ipv4Addr>,
    /// The address scope.
    pub scope: Scope,
    /// The IPv4 label (`label eth0:1`), at most 15 bytes.
    pub label: Option<String>,
    /// IPv6: skip duplicate address detection (`nodad`).
    pub nodad: bool,
}

impl Vip {
    /// A host address (/32 or /128) on `ifindex` with default options.
    pub fn host(addr: IpAddr, ifindex: u32) -> Vip {
        Vip {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            ifindex,
            broadcast: None,
            scope: Scope::Global,
            label: None,
            nodad: false,
        }
    }
}

/// Adds and removes addresses over one long-lived rtnetlink socket.
pub struct AddressManager {
    router: NlRouter,
}

impl std::fmt::Debug for AddressManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AddressManager").finish_non_exhaustive()
    }
}

fn nl_err<E: std::fmt::Display>(what: &'static str) -> impl FnOnce(E) -> NetError {
    move |e| NetError::Netlink {
        what,
        message: e.to_string(),
    }
}

fn attr(kind: Ifa, payload: Vec<u8>) -> Result<Rtattr<Ifa, Buffer>, NetError> {
    RtattrBuilder::default()
        .rta_type(kind)
        .rta_payload(Buffer::from(payload))
        .build()
        .map_err(nl_err("build address attribute"))
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => v6.octets().to_vec(),
    }
}

impl AddressManager {
    /// Opens an rtnetlink socket in the caller's network namespace.
    pub fn new() -> Result<AddressManager, NetError> {
        let (router, _mcast) = NlRouter::connect(NlFamily::Route, None, Groups::empty())
            .map_err(nl_err("connect rtnetlink"))?;
        Ok(AddressManager { router })
    }

    fn message(vip: &Vip) -> Result<Ifaddrmsg, NetError> {
        let mut attrs = RtBuffer::new();
        attrs.push(attr(Ifa::Local, octets(vip.addr))?);
        attrs.push(attr(Ifa::Address, octets(vip.addr))?);
        if let Some(b) = vip.broadcast {
            attrs.push(attr(Ifa::Broadcast, b.octets().to_vec())?);
        }
        if let Some(l) = &vip.label {
            let mut bytes = l.as_bytes().to_vec();
            bytes.push(0);
            attrs.push(attr(Ifa::Label, bytes)?);
        }
        let mut flags = IfaF::empty();
        if vip.nodad && vip.addr.is_ipv6() {
            flags |= IfaF::NODAD;
        }
        IfaddrmsgBuilder::default()
            .ifa_family(if vip.addr.is_ipv4() {
                RtAddrFamily::Inet
            } else {
                RtAddrFamily::Inet6
            })
            .ifa_prefixlen(vip.prefix_len)
            .ifa_flags(flags)
            .ifa_scope(vip.scope.rt())
            .ifa_index(vip.ifindex)
            .rtattrs(attrs)
            .build()
            .map_err(nl_err("build address message"))
    }

    fn request(&self, kind: Rtm, flags: NlmF, vip: &Vip) -> Result<(), i32> {
        let msg = Self::message(vip).map_err(|_| libc::EINVAL)?;
        let recv = self
            .router
            .send::<_, _, Rtm, Ifaddrmsg>(kind, flags | NlmF::ACK, NlPayload::Payload(msg))
            .map_err(|_| libc::EIO)?;
        for reply in recv {
            let reply: Result<Nlmsghdr<Rtm, Ifaddrmsg>, _> = reply;
            match reply {
                Ok(_) => {}
                Err(RouterError::Nlmsgerr(e)) => return Err(-*e.error()),
                Err(_) => return Err(libc::EIO),
            }
        }
        Ok(())
    }

    /// Adds `vip`. An address that is already there counts as added (`EEXIST`).
    pub fn add(&self, vip: &Vip) -> Result<(), NetError> {
        match self.request(Rtm::Newaddr, NlmF::CREATE | NlmF::EXCL, vip) {
            Ok(()) | Err(libc::EEXIST) => Ok(()),
            Err(errno) => Err(NetError::Address {
                op: "add",
                addr: vip.addr,
                source: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// Removes `vip`. An address that is not there counts as removed (`EADDRNOTAVAIL`).
    pub fn remove(&self, vip: &Vip) -> Result<(), NetError> {
        match self.request(Rtm::Deladdr, NlmF::empty(), vip) {
            Ok(()) | Err(libc::EADDRNOTAVAIL) | Err(libc::ENODEV) => Ok(()),
            Err(errno) => Err(NetError::Address {
                op: "remove",
                addr: vip.addr,
                source: std::io::Error::from_raw_os_error(errno),
            }),
        }
    }

    /// The addresses now on interface `ifindex` (both families).
    pub fn list(&self, ifindex: u32) -> Result<Vec<IpAddr>, NetError> {
        let req = IfaddrmsgBuilder::default()
            .ifa_family(RtAddrFamily::Unspecified)
            .ifa_prefixlen(0)
            .ifa_scope(RtScope::Universe)
            .ifa_index(0)
            .build()
            .map_err(nl_err("build address dump"))?;
        let recv = self
            .router
            .send::<_, _, Rtm, Ifaddrmsg>(Rtm::Getaddr, NlmF::DUMP, NlPayload::Payload(req))
            .map_err(nl_err("dump addresses"))?;
        let mut out = Vec::new();
        for reply in recv {
            let reply = reply.map_err(nl_err("dump addresses"))?;
            let NlPayload::Payload(p) = reply.nl_payload() else {
                continue;
            };
            if *p.ifa_index() != ifindex {
                continue;
            }
            let handle = p.rtattrs().get_attr_handle();
            let raw = handle
                .get_attribute(Ifa::Local)
                .or_else(|| handle.get_attribute(Ifa::Address));
            if let Some(a) = raw {
                let b = a.rta_payload().as_ref();
                if let Ok(v4) = <[u8; 4]>::try_from(b) {
                    out.push(IpAddr::from(v4));
                } else if let Ok(v6) = <[u8; 16]>::try_from(b) {
                    out.push(IpAddr::from(v6));
                }
            }
        }
        Ok(out)
    }
}
