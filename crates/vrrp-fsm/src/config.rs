//! Per-router configuration: every knob of a keepalived `vrrp_instance` the state machine
//! needs, with keepalived 2.2.7's defaults.

use core::net::IpAddr;
use core::time::Duration;
use vrrp_proto::{AddressFamily, AdvertInterval, Auth, Priority, Version, Vrid};

/// The state a router asks for at startup (keepalived's `state MASTER|BACKUP`).
///
/// Per RFC 9568 §6.4.1 only the address owner (priority 255) starts as Master. keepalived's
/// `state MASTER` on a non-owner only shortens the first wait to one advertisement interval
/// plus the minimal skew (see `keepalived-behaviour.md` §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InitialState {
    /// `state BACKUP` (or unset): wait a full `Master_Down_Interval`.
    #[default]
    Backup,
    /// `state MASTER`: owners take over at once; others wait one interval plus minimal skew.
    Master,
}

/// What a tracker watches. The kind only changes how a [`TrackerStatus::Value`] is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TrackerKind {
    /// `track_interface`: up = the link is UP and RUNNING.
    Interface,
    /// `track_script` (`vrrp_script`): up = exit status 0 after `rise` successes.
    #[default]
    Script,
    /// `track_file`: an integer read from a file, multiplied by the weight.
    File,
    /// `track_process`: up = the quorum of processes is running.
    Process,
    /// `track_bfd`: up = the BFD session is up.
    Bfd,
}

/// The reported status of one tracker (keepalived `vrrp_track.c`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum TrackerStatus {
    /// The tracked object is healthy.
    #[default]
    Up,
    /// The tracked object failed.
    Down,
    /// `track_file`: the integer in the file. With weight 0 a non-zero value is a failure;
    /// otherwise the priority changes by `value * weight` (negated with `reverse`).
    Value(i64),
}

/// One tracked object attached to a router (`track_interface`, `track_script`, `track_file`,
/// `track_process`, `track_bfd`).
///
/// Weight semantics (keepalived-behaviour.md §2.9): weight 0 puts the router in Fault while the
/// tracker is failed; a positive weight is added while it is up; a negative weight is added
/// while it is down; `reverse` swaps which status applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TrackerConfig {
    /// The tracker's name (script, file or interface name); used by [`crate::VirtualRouter::tracker_index`].
    pub name: String,
    /// What is tracked.
    pub kind: TrackerKind,
    /// Priority weight, -254..=254 (0 = fault on failure).
    pub weight: i32,
    /// Invert the status (`reverse`).
    pub reverse: bool,
    /// Status before the first report (`init_fail` gives [`TrackerStatus::Down`]).
    pub initial: TrackerStatus,
}

impl TrackerConfig {
    /// A tracker with the given name, kind and weight, not reversed, initially up.
    pub fn new(name: impl Into<String>, kind: TrackerKind, weight: i32) -> Self {
        TrackerConfig {
            name: name.into(),
            kind,
            weight,
            reverse: false,
            initial: TrackerStatus::Up,
        }
    }
}

/// Gratuitous ARP / unsolicited NA schedule (keepalived `garp_*` keywords).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct GarpConfig {
    /// `garp_master_delay`: delay of the second burst after becoming Master (default 5 s;
    /// zero = no second burst).
    pub master_delay: Duration,
    /// `garp_master_repeat`: GARPs per burst (default 5).
    pub master_repeat: u32,
    /// `garp_master_refresh`: period of refresh bursts while Master (default zero = off).
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`: GARPs per refresh burst (default 1).
    pub master_refresh_repeat: u32,
    /// `garp_lower_prio_delay`: delay of the second burst after a Master heard a
    /// lower-priority advert (default = `master_delay`).
    pub lower_prio_delay: Duration,
    /// `garp_lower_prio_repeat`: GARPs per burst when a Master hears a lower-priority advert
    /// (default = `master_repeat`; 0 in strict mode).
    pub lower_prio_repeat: u32,
}

impl Default for GarpConfig {
    fn default() -> Self {
        GarpConfig {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            master_refresh_repeat: 1,
            lower_prio_delay: Duration::from_secs(5),
            lower_prio_repeat: 5,
        }
    }
}

/// Configuration of one virtual router: one (interface, VRID, address family).
///
/// Field names follow keepalived's `vrrp_instance` keywords; [`RouterConfig::new`] fills in
/// keepalived 2.2.7's defaults. keepalived's implied rules are applied by the router, not
/// stored here: `nopreempt` is ignored for owners and `state MASTER`; `preempt_delay` is
/// ignored with `state MASTER`, `nopreempt` or `strict_mode`; strict mode implies
/// `lower_prio_no_advert`, `owner_ignore_adverts`, no lower-priority GARPs and `no_accept`
/// unless the router owns the addresses.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct RouterConfig {
    /// The `vrrp_instance` name (for notifies and logs).
    pub name: String,
    /// `virtual_router_id` (RFC 9568 §5.2.3).
    pub vrid: Vrid,
    /// `version`: 2 (RFC 3768) or 3 (RFC 9568); IPv6 requires 3. Default 2.
    pub version: Version,
    /// The address family served.
    pub family: AddressFamily,
    /// `priority` (RFC 9568 §6.1 `Priority`): 1..=255, 255 = address owner. Default 100.
    pub priority: Priority,
    /// `advert_int` (RFC 9568 §6.1 `Advertisement_Interval`). VRRPv2 needs whole seconds.
    /// Default 1 s.
    pub advert_interval: AdvertInterval,
    /// This router's primary address on the interface (`unicast_src_ip`/`mcast_src_ip` or
    /// the interface's primary address): the advert source, and the tie-break of RFC 9568
    /// §6.4.3 (the higher address wins).
    pub primary_address: IpAddr,
    /// `virtual_ipaddress` (RFC 9568 §6.1 `IPvX_Addresses`), all of [`RouterConfig::family`].
    pub virtual_addresses: Vec<IpAddr>,
    /// `state`: see [`InitialState`]. Default Backup.
    pub initial_state: InitialState,
    /// `preempt` (true, default) / `nopreempt` (false): RFC 9568 §6.1 `Preempt_Mode`.
    pub preempt: bool,
    /// `preempt_delay`: how long a Backup keeps accepting a lower-priority Master after it first
    /// hears one before taking over (default zero).
    pub preempt_delay: Duration,
    /// How the `preempt_delay` window ends. `false` (default, keepalived 2.2.7 as seen in the
    /// `preempt-*-delay2` captures): after the window, lower-priority adverts are discarded
    /// again, so the Master_Down_Timer, running since the last advert accepted in the window,
    /// takes over up to one `Master_Down_Interval` later. `true`: take over as soon as the
    /// window ends.
    pub preempt_at_delay_end: bool,
    /// `accept` (true, default) / `no_accept`: RFC 9568 §6.1 `Accept_Mode`, reported to the
    /// daemon as [`crate::Action::SetAcceptFilter`].
    pub accept: bool,
    /// `authentication` (VRRPv2 only); adverts with other auth data are discarded.
    pub auth: Auth,
    /// `unicast_peer`: when non-empty, adverts go to these addresses instead of the group.
    pub unicast_peers: Vec<IpAddr>,
    /// `check_unicast_src`: discard adverts whose source is not one of `unicast_peers`.
    pub check_unicast_src: bool,
    /// `down_timer_adverts` (1..=100, default 3): adverts missed before a Backup takes over.
    pub down_timer_adverts: u8,
    /// `lower_prio_no_advert`: a Master ignores lower-priority adverts (pre-RFC 9568
    /// behaviour) instead of answering with an advert of its own (default false).
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`: a Master yielding to a higher priority sends one advert
    /// first (default false).
    pub higher_prio_send_advert: bool,
    /// `owner_ignore_adverts`: an address owner discards every advert (RFC behaviour; default
    /// false, true in strict mode).
    pub owner_ignore_adverts: bool,
    /// `skip_check_adv_addr`: skip the address-list comparison for adverts from the current
    /// Master.
    pub skip_check_adv_addr: bool,
    /// `strict_mode` / global `vrrp_strict` (see the type docs for what it implies).
    pub strict_mode: bool,
    /// `dont_track_primary` inverted: the router's own interface going down puts it in Fault
    /// (default true).
    pub track_primary_interface: bool,
    /// `vrrp_startup_delay`: stay in Initialize this long after start-up (default zero).
    pub startup_delay: Duration,
    /// Gratuitous ARP / NA schedule.
    pub garp: GarpConfig,
    /// Tracked objects (interfaces, scripts, files, processes, BFD sessions).
    pub trackers: Vec<TrackerConfig>,
}

impl RouterConfig {
    /// A configuration with keepalived's defaults for the given VRID and addresses. The
    /// family comes from `primary_address`; IPv6 selects VRRPv3, IPv4 VRRPv2.
    pub fn new(vrid: Vrid, primary_address: IpAddr, virtual_addresses: Vec<IpAddr>) -> Self {
        let (family, version) = match primary_address {
            IpAddr::V4(_) => (AddressFamily::Ipv4, Version::V2),
            IpAddr::V6(_) => (AddressFamily::Ipv6, Version::V3),
        };
        RouterConfig {
            name: format!("VI_{}", vrid.get()),
            vrid,
            version,
            family,
            priority: Priority::DEFAULT,
            advert_interval: AdvertInterval::ONE_SECOND,
            primary_address,
            virtual_addresses,
            initial_state: InitialState::Backup,
            preempt: true,
            preempt_delay: Duration::ZERO,
            preempt_at_delay_end: false,
            accept: true,
            auth: Auth::None,
            unicast_peers: Vec::new(),
            check_unicast_src: false,
            down_timer_adverts: 3,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            skip_check_adv_addr: false,
            strict_mode: false,
            track_primary_interface: true,
            startup_delay: Duration::ZERO,
            garp: GarpConfig::default(),
            trackers: Vec::new(),
        }
    }

    /// Checks the invariants the state machine relies on.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.priority.is_stop() {
            return Err(ConfigError::PriorityZero);
        }
        if self.family == AddressFamily::Ipv6 && self.version == Version::V2 {
            return Err(ConfigError::Ipv6NeedsV3);
        }
        if !(1..=100).contains(&self.down_timer_adverts) {
            return Err(ConfigError::DownTimerAdverts(self.down_timer_adverts));
        }
        if self.version == Version::V2 && !self.advert_interval.centis().is_multiple_of(100) {
            return Err(ConfigError::V2IntervalNotWholeSeconds(self.advert_interval));
        }
        let family_of = |a: &IpAddr| match a {
            IpAddr::V4(_) => AddressFamily::Ipv4,
            IpAddr::V6(_) => AddressFamily::Ipv6,
        };
        if let Some(a) = core::iter::once(&self.primary_address)
            .chain(&self.virtual_addresses)
            .chain(&self.unicast_peers)
            .find(|a| family_of(a) != self.family)
        {
            return Err(ConfigError::FamilyMismatch(*a));
        }
        if let Some(t) = self
            .trackers
            .iter()
            .find(|t| !(-254..=254).contains(&t.weight))
        {
            return Err(ConfigError::TrackerWeight {
                name: t.name.clone(),
                weight: t.weight,
            });
        }
        Ok(())
    }
}

/// A configuration the state machine cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Priority 0 is reserved for "the Master is stopping" (RFC 9568 §5.2.4).
    #[error("priority 0 is reserved for a stopping master (RFC 9568 §5.2.4)")]
    PriorityZero,
    /// IPv6 virtual routers need VRRPv3 (RFC 9568 §1).
    #[error("IPv6 needs VRRP version 3")]
    Ipv6NeedsV3,
    /// `down_timer_adverts` outside 1..=100.
    #[error("down_timer_adverts {0} is outside 1..=100")]
    DownTimerAdverts(u8),
    /// A VRRPv2 advertisement interval must be whole seconds (RFC 3768 §5.3.7).
    #[error("VRRPv2 advertisement interval {0} is not a whole number of seconds")]
    V2IntervalNotWholeSeconds(AdvertInterval),
    /// An address (primary, virtual or peer) of the other family.
    #[error("address {0} is not of the router's address family")]
    FamilyMismatch(IpAddr),
    /// A tracker weight outside -254..=254.
    #[error("tracker {name}: weight {weight} is outside -254..=254")]
    TrackerWeight {
        /// The tracker's name.
        name: String,
        /// The offending weight.
        weight: i32,
    },
}
