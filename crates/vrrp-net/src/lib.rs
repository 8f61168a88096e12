//! VRRP on a real network: the I/O side of hagroup's VRRP.
//!
//! - [`socket`]: raw IP protocol-112 sockets (IPv4 with `IP_HDRINCL`, IPv6 with
//!   `IPV6_CHECKSUM`), multicast group join per interface or unicast peers, TTL / hop limit 255
//!   sent and reported on receive, bound to the interface.
//! - [`addr`]: virtual addresses added and removed over rtnetlink (neli).
//! - [`announce`]: gratuitous ARP and unsolicited neighbour advertisements on `AF_PACKET`.
//! - [`link`]: link up/down from rtnetlink events.
//! - [`iface`]: interface index, MAC and primary addresses.
//!
//! Everything opens its sockets in the network namespace of the calling thread.

pub mod addr;
pub mod addrwatch;
pub mod announce;
pub mod driver;
pub mod iface;
pub mod link;
pub mod netns;
pub mod socket;
mod sys;

pub use addr::{AddressManager, Scope, Vip};
pub use addrwatch::{AddressWatcher, local_addresses};
pub use announce::Announcer;
pub use iface::InterfaceInfo;
pub use link::{LinkEvent, LinkWatcher};
pub use socket::{Destination, RxPacket, SocketConfig, VrrpSocket};

use std::net::IpAddr;

/// What can go wrong in the VRRP I/O layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// An interface could not be found or read.
    #[error("interface {name}: {source}")]
    Interface {
        /// The interface name.
        name: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The interface has no address to send adverts from.
    #[error("interface {interface} has no address to send VRRP adverts from")]
    NoSourceAddress {
        /// The interface name.
        interface: String,
    },
    /// An address is of the other family than the socket.
    #[error("address {addr} is not of the instance's address family")]
    FamilyMismatch {
        /// The offending address.
        addr: IpAddr,
    },
    /// Opening or configuring a socket failed.
    #[error("socket on {interface}: {source}")]
    Socket {
        /// The interface (or a description of the socket).
        interface: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A netlink operation failed before the kernel answered.
    #[error("netlink: {what}: {message}")]
    Netlink {
        /// What was being done.
        what: &'static str,
        /// The error message.
        message: String,
    },
    /// The kernel refused to add or remove an address.
    #[error("could not {op} address {addr}: {source}")]
    Address {
        /// `add` or `remove`.
        op: &'static str,
        /// The address.
        addr: IpAddr,
        /// The kernel's error.
        source: std::io::Error,
    },
}
