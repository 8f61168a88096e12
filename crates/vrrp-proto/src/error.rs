//! The one error type of the crate: every reason a packet is refused on receive (one variant per
//! RFC 9568 §7.1 / RFC 3768 §7.1 check) and every reason an encode fails.

use crate::units::{UnitError, Version};

/// Why a VRRP packet was refused, or could not be built.
///
/// The receive variants follow the checks of RFC 9568 §7.1 (and RFC 3768 §7.1 for VRRPv2),
/// so a daemon can count discarded packets per reason; [`Error::reason`] gives a stable short
/// label for that. Variants marked "reported by the caller" are never produced by this crate's
/// decoders: they exist so the daemon can count its own checks (VRID lookup, address owner,
/// interval and address-list comparison) in the same counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The packet is shorter than its fixed fields and address list (RFC 9568 §7.1).
    #[error("truncated packet: {needed} bytes needed, {got} present")]
    Truncated {
        /// Bytes the packet needs.
        needed: usize,
        /// Bytes present.
        got: usize,
    },
    /// The length does not match "Count IPvX Addrs" (plus the authentication data for VRRPv2).
    #[error("length {got} does not match {count} addresses (expected {expected} bytes)")]
    LengthMismatch {
        /// The address count field.
        count: u8,
        /// The length the count implies.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The version field is neither 2 nor 3, or is 2 over IPv6 (RFC 9568 §7.1).
    #[error("bad VRRP version {version}")]
    BadVersion {
        /// The 4-bit version received.
        version: u8,
    },
    /// The version is valid but not the one the receiver runs (reported by the caller or by
    /// [`crate::RxPolicy::version`]).
    #[error("{got} packet received by a {expected} router")]
    VersionMismatch {
        /// The version configured.
        expected: Version,
        /// The version received.
        got: Version,
    },
    /// The packet type is not 1 (Advertisement) (RFC 9568 §5.2.2).
    #[error("bad VRRP packet type {0} (only 1, advertisement, exists)")]
    BadType(u8),
    /// The virtual router identifier is 0 (RFC 9568 §5.2.3).
    #[error("virtual router id 0 is invalid")]
    BadVrid,
    /// The advertisement interval is 0.
    #[error("advertisement interval 0 is invalid")]
    BadInterval,
    /// The VRRP checksum does not verify under any accepted mode (RFC 9568 §7.1).
    #[error("bad VRRP checksum {found:#06x} (expected {expected:#06x})")]
    BadChecksum {
        /// The checksum carried in the packet.
        found: u16,
        /// The checksum computed under the first accepted mode.
        expected: u16,
    },
    /// A multicast advertisement arrived with a TTL / hop limit other than 255 (RFC 9568 §7.1).
    #[error("TTL/hop limit {0} is not 255")]
    BadTtl(u8),
    /// The IP header is malformed: bad version, header length, total length or header checksum.
    #[error("malformed IP header: {0}")]
    BadIpHeader(&'static str),
    /// The IP packet is a fragment; VRRP packets are never fragmented.
    #[error("fragmented IP packet")]
    Fragmented,
    /// The IP protocol / next header is not 112 (VRRP).
    #[error("IP protocol {0} is not VRRP (112)")]
    NotVrrp(u8),
    /// VRRPv2 authentication type 2 (IP Authentication Header) is recognised but not supported
    /// (RFC 3768 §5.3.6, RFC 2338).
    #[error("VRRPv2 IP Authentication Header (auth type 2) is not supported")]
    AuthUnsupported,
    /// A VRRPv2 authentication type other than 0, 1 or 2.
    #[error("unknown VRRPv2 authentication type {0}")]
    BadAuthType(u8),
    /// The authentication type differs from the one configured (RFC 3768 §7.1).
    #[error("authentication type {got} received, {expected} configured")]
    AuthTypeMismatch {
        /// The configured type.
        expected: u8,
        /// The received type.
        got: u8,
    },
    /// The simple-text password differs from the one configured (RFC 3768 §7.1).
    #[error("authentication password mismatch")]
    AuthMismatch,
    /// The VRRPv2 advertisement interval differs from the one configured (RFC 3768 §7.1;
    /// reported by the caller).
    #[error("advertisement interval {got} cs received, {expected} cs configured")]
    IntervalMismatch {
        /// The configured interval, in centiseconds.
        expected: u16,
        /// The received interval, in centiseconds.
        got: u16,
    },
    /// No virtual router with this VRID is configured on the interface (RFC 9568 §7.1;
    /// reported by the caller).
    #[error("no virtual router {0} on this interface")]
    UnknownVrid(u8),
    /// The local router is the address owner (priority 255) of this VRID (RFC 9568 §7.1;
    /// reported by the caller).
    #[error("received an advertisement for a virtual router we own")]
    AddressOwner,
    /// The address count or list differs from the configured one (RFC 9568 §7.1, a MAY check
    /// that only logs; reported by the caller).
    #[error("virtual address list does not match the configuration")]
    AddressListMismatch,
    /// Encode: the output buffer is too small.
    #[error("buffer too small: {needed} bytes needed, {got} available")]
    BufferTooSmall {
        /// Bytes the output needs.
        needed: usize,
        /// Bytes available.
        got: usize,
    },
    /// Encode: more than 255 addresses.
    #[error("{0} addresses do not fit in one advertisement (at most 255)")]
    TooManyAddresses(usize),
    /// Encode: an address, source or destination is not of the advertisement's family, or
    /// VRRPv2 was asked for over IPv6.
    #[error("address family mismatch")]
    FamilyMismatch,
    /// Encode: a value does not fit its wire field (e.g. a VRRPv3 interval above 4095 cs).
    #[error(transparent)]
    Unit(#[from] UnitError),
}

impl Error {
    /// A stable, short, lower-case label for the error, for per-reason counters and logs.
    pub const fn reason(&self) -> &'static str {
        match self {
            Error::Truncated { .. } => "truncated",
            Error::LengthMismatch { .. } => "length_mismatch",
            Error::BadVersion { .. } => "bad_version",
            Error::VersionMismatch { .. } => "version_mismatch",
            Error::BadType(_) => "bad_type",
            Error::BadVrid => "bad_vrid",
            Error::BadInterval => "bad_interval",
            Error::BadChecksum { .. } => "bad_checksum",
            Error::BadTtl(_) => "bad_ttl",
            Error::BadIpHeader(_) => "bad_ip_header",
            Error::Fragmented => "fragmented",
            Error::NotVrrp(_) => "not_vrrp",
            Error::AuthUnsupported => "auth_unsupported",
            Error::BadAuthType(_) => "bad_auth_type",
            Error::AuthTypeMismatch { .. } => "auth_type_mismatch",
            Error::AuthMismatch => "auth_mismatch",
            Error::IntervalMismatch { .. } => "interval_mismatch",
            Error::UnknownVrid(_) => "unknown_vrid",
            Error::AddressOwner => "address_owner",
            Error::AddressListMismatch => "address_list_mismatch",
            Error::BufferTooSmall { .. } => "buffer_too_small",
            Error::TooManyAddresses(_) => "too_many_addresses",
            Error::FamilyMismatch => "family_mismatch",
            Error::Unit(_) => "unit",
        }
    }
}
