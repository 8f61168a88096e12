//! Why a configuration cannot be run by the director.

use std::net::IpAddr;

/// A `virtual_server` / `virtual_server_group` / checker setting the director cannot turn into
/// IPVS services or health checkers. A reload that meets one changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// `virtual_server group NAME` names no `virtual_server_group`.
    #[error("virtual_server group {0}: no virtual_server_group of that name")]
    UnknownGroup(String),
    /// A `virtual_server_group` range mixes IPv4 and IPv6, runs backwards or is too large.
    #[error("virtual_server_group {group}: address range {start}-{end} is {why}")]
    BadRange {
        /// The group.
        group: String,
        /// First address.
        start: IpAddr,
        /// Last address.
        end: IpAddr,
        /// What is wrong with it.
        why: &'static str,
    },
    /// Two virtual servers (or group entries) name the same IPVS service.
    #[error("IPVS service {0} is configured twice")]
    DuplicateService(String),
    /// `persistence_granularity` is neither a netmask nor a prefix length of the family.
    #[error("virtual_server {vs}: persistence_granularity {value} is not valid for its family")]
    BadGranularity {
        /// The virtual server.
        vs: String,
        /// The configured value.
        value: String,
    },
    /// `lvs_method TUN type …` or its checksum option is unknown.
    #[error("virtual_server {vs}: tunnel option {value} is not known")]
    BadTunnel {
        /// The virtual server.
        vs: String,
        /// The unknown value.
        value: String,
    },
    /// A checker option that cannot be used (a bad hex string, an unknown DNS type, a missing
    /// `track_file`, ...).
    #[error("virtual_server {vs}, real_server {rs}: {checker}: {why}")]
    BadChecker {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
        /// The checker keyword.
        checker: &'static str,
        /// What is wrong.
        why: String,
    },
}
