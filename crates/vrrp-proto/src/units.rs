//! Typed protocol units: VRID, priority, advertisement interval and protocol version.
//!
//! All time quantities are integers. VRRPv3 carries the advertisement interval in
//! centiseconds (RFC 9568 §5.2.7, 12 bits); VRRPv2 carries whole seconds (RFC 3768 §5.3.7,
//! 8 bits). [`AdvertInterval`] stores centiseconds for both so timer arithmetic is uniform.

use core::fmt;
use core::time::Duration;

/// A value outside the range the protocol allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnitError {
    /// A virtual router identifier outside 1..=255 (RFC 9568 §5.2.3).
    #[error("virtual router id {0} is outside 1..=255")]
    Vrid(u16),
    /// A VRRPv3 advertisement interval outside 1..=4095 centiseconds (RFC 9568 §5.2.7).
    #[error("VRRPv3 advertisement interval {0} cs is outside 1..=4095 cs")]
    IntervalV3(u32),
    /// A VRRPv2 advertisement interval outside 1..=255 seconds (RFC 3768 §5.3.7).
    #[error("VRRPv2 advertisement interval {0} s is outside 1..=255 s")]
    IntervalV2(u32),
    /// A protocol version other than 2 or 3.
    #[error("VRRP version {0} is not 2 or 3")]
    Version(u8),
}

/// The VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Version {
    /// VRRPv2, RFC 3768 (IPv4 only).
    V2,
    /// VRRPv3, RFC 9568 (IPv4 and IPv6).
    V3,
}

impl Version {
    /// The 4-bit version number carried on the wire.
    pub const fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }

    /// The version for a 4-bit wire number.
    pub const fn from_number(n: u8) -> Result<Self, UnitError> {
        match n {
            2 => Ok(Version::V2),
            3 => Ok(Version::V3),
            other => Err(UnitError::Version(other)),
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VRRPv{}", self.number())
    }
}

/// The address family a virtual router serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AddressFamily {
    /// IPv4.
    Ipv4,
    /// IPv6 (VRRPv3 only).
    Ipv6,
}

/// A virtual router identifier, 1..=255 (RFC 9568 §5.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Vrid(u8);

impl Vrid {
    /// A VRID; 0 is not a valid identifier.
    pub const fn new(id: u8) -> Result<Self, UnitError> {
        if id == 0 {
            Err(UnitError::Vrid(0))
        } else {
            Ok(Vrid(id))
        }
    }

    /// The identifier as carried on the wire.
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Vrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A VRRP priority (RFC 9568 §5.2.4): 0 means the master is stopping, 255 means the
/// router owns the virtual addresses, 1..=254 are ordinary backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Priority(pub u8);

impl Priority {
    /// Priority 0: the current master is giving up (RFC 9568 §5.2.4).
    pub const STOP: Priority = Priority(0);
    /// Priority 255: the address owner.
    pub const OWNER: Priority = Priority(255);
    /// The default backup priority, 100.
    pub const DEFAULT: Priority = Priority(100);

    /// The priority value.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// Whether this is the address owner's priority, 255.
    pub const fn is_owner(self) -> bool {
        self.0 == 255
    }

    /// Whether this is the stop priority, 0.
    pub const fn is_stop(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An advertisement interval, stored in centiseconds for both protocol versions.
///
/// VRRPv3 allows 1..=4095 cs (10 ms to 40.95 s); VRRPv2 allows 1..=255 s, which is
/// 100..=25500 cs here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AdvertInterval(u16);

impl AdvertInterval {
    /// The default interval, 1 s.
    pub const ONE_SECOND: AdvertInterval = AdvertInterval(100);

    /// A VRRPv3 interval from its 12-bit centisecond wire value (1..=4095).
    pub const fn from_centis(cs: u16) -> Result<Self, UnitError> {
        if cs == 0 || cs > 4095 {
            Err(UnitError::IntervalV3(cs as u32))
        } else {
            Ok(AdvertInterval(cs))
        }
    }

    /// A VRRPv2 interval from its 8-bit whole-second wire value (1..=255).
    pub const fn from_secs(s: u8) -> Result<Self, UnitError> {
        if s == 0 {
            Err(UnitError::IntervalV2(0))
        } else {
            Ok(AdvertInterval(s as u16 * 100))
        }
    }

    /// The interval in centiseconds.
    pub const fn centis(self) -> u16 {
        self.0
    }

    /// The interval in whole seconds, rounded to nearest and at least 1, as VRRPv2 sends it.
    pub const fn secs_v2(self) -> u8 {
        let s = (self.0 as u32 + 50) / 100;
        if s == 0 {
            1
        } else if s > 255 {
            255
        } else {
            s as u8
        }
    }

    /// The interval as a [`Duration`].
    pub const fn as_duration(self) -> Duration {
        Duration::from_millis(self.0 as u64 * 10)
    }
}

impl From<AdvertInterval> for Duration {
    fn from(i: AdvertInterval) -> Duration {
        i.as_duration()
    }
}

impl fmt::Display for AdvertInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}s", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_units_round_trip() {
        // The cadenthecreator/vrrp-rs bug class: one "second" must be 1000 ms.
        for s in 1..=255u8 {
            let i = AdvertInterval::from_secs(s).unwrap();
            assert_eq!(i.as_duration(), Duration::from_secs(u64::from(s)));
            assert_eq!(i.secs_v2(), s);
        }
        for cs in 1..=4095u16 {
            let i = AdvertInterval::from_centis(cs).unwrap();
            assert_eq!(i.as_duration(), Duration::from_millis(u64::from(cs) * 10));
        }
    }

    #[test]
    fn ranges_are_enforced() {
        assert_eq!(Vrid::new(0), Err(UnitError::Vrid(0)));
        assert_eq!(Vrid::new(255).unwrap().get(), 255);
        assert!(AdvertInterval::from_centis(0).is_err());
        assert!(AdvertInterval::from_centis(4096).is_err());
        assert!(AdvertInterval::from_secs(0).is_err());
        assert_eq!(Version::from_number(4), Err(UnitError::Version(4)));
        assert_eq!(Version::from_number(3), Ok(Version::V3));
    }

    #[test]
    fn priority_roles() {
        assert!(Priority::OWNER.is_owner());
        assert!(Priority::STOP.is_stop());
        assert!(!Priority::DEFAULT.is_owner());
    }
}
