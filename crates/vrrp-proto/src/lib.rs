//! VRRP wire format: VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568) advertisements for IPv4 and
//! IPv6, their checksums, and the frames a new master sends to announce itself.
//!
//! The crate does no I/O and knows nothing of sockets or clocks. It is shaped like smoltcp's
//! `wire` module: borrowed packet views over `&[u8]` plus owned representations.
//!
//! The value types in [`units`] (VRID, priority, advertisement interval, version) are shared
//! with `vrrp-fsm` and the daemon.

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod units;
pub mod vrrp;

pub use units::{AddressFamily, AdvertInterval, Priority, UnitError, Version, Vrid};
pub use vrrp::{Advertisement, Auth};
