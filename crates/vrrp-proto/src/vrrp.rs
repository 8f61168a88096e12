//! VRRP advertisements (RFC 3768 §5, RFC 9568 §5): the owned representation.
//!
//! The borrowed `Packet<T: AsRef<[u8]>>` view, the checksum modes and the encoder live
//! beside this type; the fields of [`Advertisement`] are the contract `vrrp-fsm` builds on.

use crate::units::{AdvertInterval, Priority, Version, Vrid};
use core::net::IpAddr;

/// VRRPv2 authentication (RFC 3768 §5.3.6). VRRPv3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Auth {
    /// Type 0: no authentication.
    #[default]
    None,
    /// Type 1: a plain-text password of up to 8 bytes, zero padded on the wire.
    SimplePassword([u8; 8]),
    /// Type 2: IP Authentication Header, recognised but not supported.
    Ah,
}

/// An owned VRRP advertisement (type 1), version-independent.
///
/// For VRRPv2 the interval is whole seconds on the wire; it is held here in centiseconds like
/// VRRPv3's, see [`AdvertInterval`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Advertisement {
    /// Protocol version.
    pub version: Version,
    /// Virtual router identifier.
    pub vrid: Vrid,
    /// The sender's priority (0 = stopping, 255 = owner).
    pub priority: Priority,
    /// The sender's advertisement interval (VRRPv3: Max Advertise Interval).
    pub interval: AdvertInterval,
    /// VRRPv2 authentication; always [`Auth::None`] for VRRPv3.
    pub auth: Auth,
    /// The virtual addresses carried, all of one family.
    pub addresses: Vec<IpAddr>,
}
