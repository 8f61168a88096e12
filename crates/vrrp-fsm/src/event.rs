//! What goes into a [`crate::VirtualRouter`] ([`Event`]) and what comes out ([`Action`]).

use crate::config::{RouterConfig, TrackerStatus};
use core::fmt;
use core::net::IpAddr;
use vrrp_proto::Priority;

/// The protocol state (RFC 9568 §6.2, plus keepalived's Fault).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum State {
    /// RFC 9568 §6.4.1 Initialize: not started, or stopped by [`Event::Shutdown`].
    Initialize,
    /// RFC 9568 §6.4.2 Backup: monitoring the Master.
    Backup,
    /// RFC 9568 §6.4.3 Master (the RFC's "Active" router): forwarding for the addresses.
    Master,
    /// keepalived's FAULT: a weight-0 tracker or the interface failed; not participating.
    Fault,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Initialize => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        })
    }
}

/// Why a state change happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Reason {
    /// RFC 9568 §6.4.1 Startup event, non-owner: enter Backup.
    Startup,
    /// RFC 9568 §6.4.1 Startup event with priority 255: enter Master at once.
    OwnerStartup,
    /// RFC 9568 §6.4.2: the Master_Down_Timer fired (no advert heard for
    /// `Master_Down_Interval`, or a lower-priority Master was preempted).
    MasterDown,
    /// RFC 9568 §6.4.2: the Master_Down_Timer fired after a priority-0 advert (Skew_Time).
    MasterStopped,
    /// `preempt_delay` with [`crate::RouterConfig::preempt_at_delay_end`]: the delay after the
    /// first lower-priority advert ran out. (keepalived's own behaviour reports
    /// [`Reason::MasterDown`].)
    PreemptDelayExpired,
    /// RFC 9568 §6.4.3: an advert with a higher priority (or equal priority and a higher
    /// address) arrived while Master.
    HigherPriority,
    /// A weight-0 tracker failed (keepalived FAULT).
    TrackerFault,
    /// The router's interface went down (keepalived FAULT).
    InterfaceDown,
    /// The sync group moved this member (keepalived `vrrp_sync.c`).
    SyncGroup,
    /// Every fault cleared; the router restarts as after RFC 9568 §6.4.1 Startup.
    FaultCleared,
    /// RFC 9568 §6.4.2/§6.4.3 Shutdown event.
    Shutdown,
    /// A reload changed the priority to or from 255.
    Reload,
}

/// Which burst of gratuitous ARPs / unsolicited NAs this is (keepalived §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum GarpReason {
    /// The burst on becoming Master (RFC 9568 §6.4.1/§6.4.2 "broadcast a gratuitous ARP").
    BecameMaster,
    /// The second burst, `garp_master_delay` after becoming Master.
    MasterDelay,
    /// A periodic `garp_master_refresh` burst.
    Refresh,
    /// A Master heard a lower-priority advert (`garp_lower_prio_repeat`), now or
    /// `garp_lower_prio_delay` later.
    LowerPriority,
}

/// A notification for scripts and FIFOs (keepalived §2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum NotifyEvent {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
    /// `notify_deleted`: the instance was removed by a reload.
    Deleted,
    /// `notify_master_rx_lower_pri` / FIFO `MASTER_RX_LOWER_PRI`.
    MasterRxLowerPriority,
    /// FIFO `MASTER_PRIORITY` / `BACKUP_PRIORITY` (`notify_priority_changes`).
    PriorityChanged,
}

/// A command from a sync-group coordinator ([`crate::SyncGroup`]) to a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum SyncCommand {
    /// Another member is in Fault: go (or stay) in Fault.
    Fault,
    /// No other member is in Fault any more.
    ClearFault,
    /// Another member became Master: become Master too.
    GoMaster,
    /// Another member left Master for Backup: leave Master too.
    GoBackup,
}

/// An input other than a timer or an advert.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// RFC 9568 §6.4.1 Startup: restart a router stopped with [`Event::Shutdown`].
    Startup,
    /// RFC 9568 §6.4.2/§6.4.3 Shutdown: a Master sends a priority-0 advert and releases the
    /// addresses; the router goes to Initialize and notifies `STOP`.
    Shutdown,
    /// Like [`Event::Shutdown`], for an instance a reload removed: notifies `DELETED`.
    Delete,
    /// The router's interface is up (UP and RUNNING).
    InterfaceUp,
    /// The router's interface went down: Fault unless `dont_track_primary`.
    InterfaceDown,
    /// A tracker (index into [`RouterConfig::trackers`]) reported a status.
    Tracker {
        /// Index of the tracker in the configuration.
        index: usize,
        /// The new status.
        status: TrackerStatus,
    },
    /// Change the base priority (as a reload changing `priority` would).
    SetPriority(Priority),
    /// Apply a new configuration, keeping the current state (keepalived §5.4).
    Reload(Box<RouterConfig>),
    /// A sync-group coordinator's command.
    Sync(SyncCommand),
}

/// An output: something the daemon must do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Send an ADVERTISEMENT (RFC 9568 §6.4.3) with this priority to the group, or to every
    /// unicast peer. Priority 0 means "this Master is stopping". The rest of the packet comes
    /// from the configuration (see [`crate::VirtualRouter::advertisement`]).
    SendAdvert {
        /// The priority to put in the packet.
        priority: Priority,
    },
    /// Add the configured virtual addresses (becoming Master).
    AddVips,
    /// Remove the configured virtual addresses (leaving Master).
    RemoveVips,
    /// A reload changed the virtual addresses while Master: apply the difference.
    UpdateVips {
        /// Addresses to add.
        added: Vec<IpAddr>,
        /// Addresses to remove.
        removed: Vec<IpAddr>,
    },
    /// Send `count` gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for every virtual
    /// address, spaced by the daemon's `garp_interval`.
    SendGarp {
        /// How many per address.
        count: u32,
        /// Which burst this is.
        reason: GarpReason,
    },
    /// RFC 9568 §6.1 Accept_Mode: `block = true` means drop traffic to the virtual addresses
    /// (`no_accept` while Master); `false` removes the filter.
    SetAcceptFilter {
        /// Whether to drop packets addressed to the virtual addresses.
        block: bool,
    },
    /// The state changed.
    StateChanged {
        /// The old state.
        from: State,
        /// The new state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// Run the notify scripts / write the FIFO line for this event.
    Notify {
        /// What happened.
        event: NotifyEvent,
        /// The effective priority to report.
        priority: Priority,
    },
}

/// Why an advert was discarded by [`crate::VirtualRouter::handle_advert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Discard {
    /// The router is in Initialize or Fault and does not listen (RFC 9568 §6.4.1).
    #[error("not listening in this state")]
    NotListening,
    /// The VRID is not this router's (RFC 9568 §7.1).
    #[error("VRID does not match")]
    WrongVrid,
    /// The version is not this router's (RFC 9568 §7.1).
    #[error("VRRP version does not match")]
    WrongVersion,
    /// The source address is of the other family.
    #[error("source address family does not match")]
    WrongFamily,
    /// VRRPv2: the advert interval differs from ours (RFC 3768 §7.1).
    #[error("VRRPv2 advertisement interval does not match")]
    IntervalMismatch,
    /// VRRPv2: the authentication data differs from ours (RFC 3768 §5.3.6).
    #[error("authentication does not match")]
    AuthMismatch,
    /// `check_unicast_src`: the source is not a configured unicast peer.
    #[error("source is not a configured unicast peer")]
    UnknownUnicastSource,
    /// `owner_ignore_adverts`: an address owner ignores adverts (RFC 9568 §6.4.3).
    #[error("address owner ignores adverts")]
    OwnerIgnoresAdverts,
    /// The advert came from our own primary address (a loop, or a duplicate address).
    #[error("advert from our own address")]
    OwnAddress,
}

/// Adverts discarded, by reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct DiscardCounters {
    /// [`Discard::NotListening`].
    pub not_listening: u64,
    /// [`Discard::WrongVrid`].
    pub wrong_vrid: u64,
    /// [`Discard::WrongVersion`].
    pub wrong_version: u64,
    /// [`Discard::WrongFamily`].
    pub wrong_family: u64,
    /// [`Discard::IntervalMismatch`].
    pub interval_mismatch: u64,
    /// [`Discard::AuthMismatch`].
    pub auth_mismatch: u64,
    /// [`Discard::UnknownUnicastSource`].
    pub unknown_unicast_source: u64,
    /// [`Discard::OwnerIgnoresAdverts`].
    pub owner_ignores_adverts: u64,
    /// [`Discard::OwnAddress`].
    pub own_address: u64,
}

impl DiscardCounters {
    /// The counter for a reason.
    pub fn get(&self, reason: Discard) -> u64 {
        *self.slot_ref(reason)
    }

    /// The sum of all discards.
    pub fn total(&self) -> u64 {
        self.not_listening
            + self.wrong_vrid
            + self.wrong_version
            + self.wrong_family
            + self.interval_mismatch
            + self.auth_mismatch
            + self.unknown_unicast_source
            + self.owner_ignores_adverts
            + self.own_address
    }

    pub(crate) fn bump(&mut self, reason: Discard) {
        let s = match reason {
            Discard::NotListening => &mut self.not_listening,
            Discard::WrongVrid => &mut self.wrong_vrid,
            Discard::WrongVersion => &mut self.wrong_version,
            Discard::WrongFamily => &mut self.wrong_family,
            Discard::IntervalMismatch => &mut self.interval_mismatch,
            Discard::AuthMismatch => &mut self.auth_mismatch,
            Discard::UnknownUnicastSource => &mut self.unknown_unicast_source,
            Discard::OwnerIgnoresAdverts => &mut self.owner_ignores_adverts,
            Discard::OwnAddress => &mut self.own_address,
        };
        *s += 1;
    }

    fn slot_ref(&self, reason: Discard) -> &u64 {
        match reason {
            Discard::NotListening => &self.not_listening,
            Discard::WrongVrid => &self.wrong_vrid,
            Discard::WrongVersion => &self.wrong_version,
            Discard::WrongFamily => &self.wrong_family,
            Discard::IntervalMismatch => &self.interval_mismatch,
            Discard::AuthMismatch => &self.auth_mismatch,
            Discard::UnknownUnicastSource => &self.unknown_unicast_source,
            Discard::OwnerIgnoresAdverts => &self.owner_ignores_adverts,
            Discard::OwnAddress => &self.own_address,
        }
    }
}

/// Per-router counters for the daemon's metrics (keepalived's `/tmp/keepalived.stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Counters {
    /// Adverts passed to `handle_advert`.
    pub adverts_received: u64,
    /// `SendAdvert` actions emitted.
    pub adverts_sent: u64,
    /// Accepted adverts with priority 0.
    pub priority_zero_received: u64,
    /// `SendAdvert` actions with priority 0.
    pub priority_zero_sent: u64,
    /// Accepted adverts whose address list differed from ours (counted, not dropped).
    pub address_list_mismatch: u64,
    /// Backup: lower-priority adverts ignored so that this router preempts (RFC 9568 §6.4.2).
    pub lower_priority_ignored: u64,
    /// Master: lower-priority adverts heard (keepalived answers them).
    pub lower_priority_heard: u64,
    /// Discards by reason.
    pub discards: DiscardCounters,
    /// Transitions into Master.
    pub became_master: u64,
    /// Transitions into Backup.
    pub became_backup: u64,
    /// Transitions into Fault.
    pub became_fault: u64,
    /// Transitions out of Master.
    pub released_master: u64,
    /// All state changes.
    pub transitions: u64,
}
