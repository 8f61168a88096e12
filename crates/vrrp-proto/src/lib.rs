//! VRRP wire format: VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568) advertisements for IPv4 and
//! IPv6, their checksums, and the frames a new master sends to announce itself.
//!
//! The crate does no I/O and knows nothing of sockets or clocks; it is `no_std` with `alloc`
//! (only the owned [`Advertisement`] allocates). It is shaped like smoltcp's `wire` module:
//! borrowed packet views over `&[u8]` ([`Packet`], [`AdvertView`]) plus an owned representation
//! that writes into a caller's buffer ([`Advertisement::emit`]).
//!
//! - [`units`]: VRID, priority, advertisement interval, version, shared with `vrrp-fsm`.
//! - [`vrrp`]: the VRRP message itself.
//! - [`checksum`]: the checksum modes (v2, v3 IPv6, both v3 IPv4 forms, the legacy unicast one).
//! - [`ip`]: decoding what a raw socket delivers, building the IPv4 packet keepalived sends.
//! - [`announce`]: gratuitous ARP, unsolicited neighbour advertisements, virtual MACs.
//! - [`Error`]: one error type, a variant per receive check.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use vrrp_proto::{Advertisement, ChecksumMode, Priority, RxPolicy, Version, Vrid};
//! use vrrp_proto::checksum::VRRP_MULTICAST_V4;
//!
//! let advert = Advertisement::builder(Version::V3, Vrid::new(51)?)
//!     .priority(Priority(150))
//!     .address(Ipv4Addr::new(192, 0, 2, 100))
//!     .build();
//! let mut buf = [0u8; 64];
//! let src = Ipv4Addr::new(192, 0, 2, 1);
//! let n = vrrp_proto::ip::build_ipv4_advert(
//!     &advert, src, VRRP_MULTICAST_V4, 1, ChecksumMode::PseudoHeader, &mut buf)?;
//!
//! let rx = vrrp_proto::ip::decode_ipv4(&buf[..n], &RxPolicy::default())?;
//! assert_eq!(rx.src, IpAddr::V4(src));
//! assert_eq!(rx.advert.priority, Priority(150));
//! assert_eq!(rx.advert.to_advertisement(), advert);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod announce;
pub mod checksum;
mod error;
pub mod ip;
pub mod units;
pub mod vrrp;

pub use announce::{GarpKind, MacAddr, garp_frame, unsolicited_na_frame, virtual_mac};
pub use checksum::{ChecksumMode, RxChecksum};
pub use error::Error;
pub use ip::{
    Ipv4Options, Received, RxPolicy, build_ipv4_advert, build_ipv6_advert, decode_ipv4,
    decode_ipv6, decode_ipv6_packet, write_ipv4_header,
};
pub use units::{AddressFamily, AdvertInterval, Priority, UnitError, Version, Vrid};
pub use vrrp::{AdvertView, Advertisement, AdvertisementBuilder, Auth, Packet};
