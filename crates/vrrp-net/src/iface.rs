//! What the VRRP I/O layer needs to know about a network interface: its index, MAC address,
//! primary IPv4 address and IPv6 link-local address.

use crate::NetError;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A snapshot of one interface, read from `getifaddrs(3)` in the caller's network namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// The interface name.
    pub name: String,
    /// The interface index.
    pub index: u32,
    /// The hardware address, if the interface has an Ethernet-style one.
    pub mac: Option<[u8; 6]>,
    /// The IPv4 addresses in the order the kernel lists them; the first is the primary one.
    pub ipv4: Vec<Ipv4Addr>,
    /// The IPv6 addresses in the order the kernel lists them.
    pub ipv6: Vec<Ipv6Addr>,
}

impl InterfaceInfo {
    /// Reads the interface called `name`.
    pub fn lookup(name: &str) -> Result<InterfaceInfo, NetError> {
        let index = nix::net::if_::if_nametoindex(name).map_err(|e| NetError::Interface {
            name: name.to_owned(),
            source: e.into(),
        })?;
        let mut info = InterfaceInfo {
            name: name.to_owned(),
            index,
            mac: None,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
        };
        let addrs = nix::ifaddrs::getifaddrs().map_err(|e| NetError::Interface {
            name: name.to_owned(),
            source: e.into(),
        })?;
        for a in addrs.filter(|a| a.interface_name == name) {
            let Some(addr) = a.address else { continue };
            if let Some(sin) = addr.as_sockaddr_in() {
                info.ipv4.push(sin.ip());
            } else if let Some(sin6) = addr.as_sockaddr_in6() {
                info.ipv6.push(sin6.ip());
            } else if let Some(ll) = addr.as_link_addr() {
                info.mac = ll.addr();
            }
        }
        Ok(info)
    }

    /// The primary IPv4 address (the first one), which VRRP uses as the advert source.
    pub fn primary_ipv4(&self) -> Option<Ipv4Addr> {
        self.ipv4.first().copied()
    }

    /// The first IPv6 link-local address (fe80::/10), which VRRPv3 uses as the advert source.
    pub fn link_local_ipv6(&self) -> Option<Ipv6Addr> {
        self.ipv6
            .iter()
            .copied()
            .find(|a| a.is_unicast_link_local())
    }
}

/// The interface index of `name` in the caller's network namespace.
pub fn index_of(name: &str) -> Result<u32, NetError> {
    nix::net::if_::if_nametoindex(name).map_err(|e| NetError::Interface {
        name: name.to_owned(),
        source: e.into(),
    })
}
