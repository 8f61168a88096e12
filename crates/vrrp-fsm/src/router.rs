//! [`VirtualRouter`]: the RFC 9568 §6 state machine with keepalived's deviations.

use crate::config::{ConfigError, InitialState, RouterConfig, TrackerConfig, TrackerStatus};
use crate::event::{
    Action, Counters, Discard, Event, GarpReason, NotifyEvent, Reason, State, SyncCommand,
};
use crate::time::{Instant, duration_us};
use crate::timers::{interval_us, master_down_us, skew_us};
use core::net::IpAddr;
use std::collections::VecDeque;
use vrrp_proto::{AddressFamily, Advertisement, Auth, Priority, Version};

/// An input [`VirtualRouter::handle_event`] could not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// [`Event::Reload`] carried a configuration that does not validate.
    #[error("invalid configuration: {0}")]
    InvalidConfig(#[from] ConfigError),
    /// [`Event::Tracker`] named a tracker index the configuration does not have.
    #[error("no tracker with index {0}")]
    UnknownTracker(usize),
    /// [`Event::SetPriority`] with priority 0.
    #[error("priority 0 is reserved for a stopping master")]
    PriorityZero,
}

/// How the running Master_Down_Timer was armed, so a priority change can recompute it in
/// place (keepalived-behaviour.md §2.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownKind {
    /// `Master_Down_Interval` (RFC 9568 §6.4.2).
    Full,
    /// `Skew_Time` after a priority-0 advert (RFC 9568 §6.4.2).
    Skew,
    /// keepalived `state MASTER` start-up: one interval plus minimal skew.
    Short,
}

/// One VRRP virtual router: one (interface, VRID, address family), RFC 9568 §6.
///
/// Drive it like quinn-proto's `Connection`: feed inputs with [`handle_timeout`],
/// [`handle_advert`] and [`handle_event`], then drain [`poll_action`] and re-arm a timer for
/// [`poll_timeout`]. It never reads a clock, sends a packet or allocates on the steady path
/// (adverts in Backup, advert timers in Master).
///
/// [`handle_timeout`]: VirtualRouter::handle_timeout
/// [`handle_advert`]: VirtualRouter::handle_advert
/// [`handle_event`]: VirtualRouter::handle_event
/// [`poll_action`]: VirtualRouter::poll_action
/// [`poll_timeout`]: VirtualRouter::poll_timeout
///
/// ```
/// use core::net::{IpAddr, Ipv4Addr};
/// use core::time::Duration;
/// use vrrp_fsm::{Action, Instant, RouterConfig, State, VirtualRouter};
/// use vrrp_proto::Vrid;
///
/// let me = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
/// let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
/// let cfg = RouterConfig::new(Vrid::new(51).unwrap(), me, vec![vip]);
/// let mut r = VirtualRouter::new(cfg, Instant::ZERO).unwrap();
/// assert_eq!(r.state(), State::Backup);
/// // No advert heard: the Master_Down_Timer fires after 3 + 156/256 s.
/// let t = r.poll_timeout().unwrap();
/// assert_eq!(t, Instant::ZERO + Duration::from_micros(3_609_375));
/// r.handle_timeout(t);
/// assert_eq!(r.state(), State::Master);
/// assert!(std::iter::from_fn(|| r.poll_action()).any(|a| a == Action::AddVips));
/// ```
#[derive(Debug, Clone)]
pub struct VirtualRouter {
    config: RouterConfig,
    state: State,
    /// Stopped by Shutdown/Delete (stays in Initialize until Startup).
    stopped: bool,
    /// Effective priority (RFC 9568 §6.1 `Priority`, after trackers).
    priority: u8,
    /// Own `Advertisement_Interval` in µs.
    adver_interval_us: u64,
    /// `Master_Adver_Interval` in µs (RFC 9568 §6.1; learned from the Master in v3).
    master_adver_interval_us: u64,
    /// Derived flags (keepalived's implied rules).
    preempt: bool,
    preempt_delay_us: u64,
    accept: bool,
    lower_prio_no_advert: bool,
    owner_ignore_adverts: bool,
    lower_prio_garp_repeat: u32,

    // Timers.
    startup_timer: Option<Instant>,
    adver_timer: Option<Instant>,
    master_down_timer: Option<Instant>,
    down_base: Instant,
    down_kind: DownKind,
    preempt_deadline: Option<Instant>,
    garp_second: Option<(Instant, u32, GarpReason)>,
    garp_refresh: Option<Instant>,

    // Inputs.
    tracker_status: Vec<TrackerStatus>,
    interface_up: bool,
    group_fault: bool,

    // Observations.
    master_address: Option<IpAddr>,
    master_priority: u8,
    vips_installed: bool,
    accept_filter_installed: bool,

    actions: VecDeque<Action>,
    counters: Counters,
}

impl VirtualRouter {
    /// Creates a router and performs RFC 9568 §6.4.1's Startup event at `now` (after
    /// `startup_delay`, if configured). Owners (priority 255) become Master at once; others
    /// enter Backup; a failed weight-0 tracker gives Fault.
    pub fn new(config: RouterConfig, now: Instant) -> Result<Self, ConfigError> {
        config.validate()?;
        let tracker_status = config.trackers.iter().map(|t| t.initial).collect();
        let mut r = VirtualRouter {
            state: State::Initialize,
            stopped: false,
            priority: config.priority.get(),
            adver_interval_us: 0,
            master_adver_interval_us: 0,
            preempt: true,
            preempt_delay_us: 0,
            accept: true,
            lower_prio_no_advert: false,
            owner_ignore_adverts: false,
            lower_prio_garp_repeat: 0,
            startup_timer: None,
            adver_timer: None,
            master_down_timer: None,
            down_base: now,
            down_kind: DownKind::Full,
            preempt_deadline: None,
            garp_second: None,
            garp_refresh: None,
            tracker_status,
            interface_up: true,
            group_fault: false,
            master_address: None,
            master_priority: 0,
            vips_installed: false,
            accept_filter_installed: false,
            actions: VecDeque::with_capacity(16),
            counters: Counters::default(),
            config,
        };
        r.derive_from_config();
        r.priority = r.compute_priority();
        if r.config.startup_delay.is_zero() {
            r.start(now);
        } else {
            r.startup_timer = Some(now + r.config.startup_delay);
        }
        Ok(r)
    }

    // ----- accessors ------------------------------------------------------------------

    /// The current state (RFC 9568 §6.2).
    #[inline]
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration in force.
    pub fn config(&self) -> &RouterConfig {
        &self.config
    }

    /// The effective priority (RFC 9568 §6.1 `Priority`): base plus tracker weights clamped to
    /// 1..=254, or 255 for an owner.
    pub fn priority(&self) -> Priority {
        Priority(self.priority)
    }

    /// `Master_Adver_Interval` (RFC 9568 §6.1) in force, as a duration.
    pub fn master_adver_interval(&self) -> core::time::Duration {
        core::time::Duration::from_micros(self.master_adver_interval_us)
    }

    /// `Master_Down_Interval` (RFC 9568 §6.1) for the current priority and
    /// `Master_Adver_Interval`.
    pub fn master_down_interval(&self) -> core::time::Duration {
        core::time::Duration::from_micros(self.master_down_us())
    }

    /// `Skew_Time` (RFC 9568 §6.1) for the current priority and `Master_Adver_Interval`.
    pub fn skew_time(&self) -> core::time::Duration {
        core::time::Duration::from_micros(skew_us(
            self.config.version,
            self.priority,
            self.master_adver_interval_us,
        ))
    }

    /// The last Master heard while Backup: its address and priority.
    pub fn master(&self) -> Option<(IpAddr, Priority)> {
        self.master_address
            .map(|a| (a, Priority(self.master_priority)))
    }

    /// Whether the virtual addresses are currently installed (between `AddVips` and
    /// `RemoveVips`).
    pub fn vips_installed(&self) -> bool {
        self.vips_installed
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// The index of the tracker with this name, for [`Event::Tracker`].
    pub fn tracker_index(&self, name: &str) -> Option<usize> {
        self.config.trackers.iter().position(|t| t.name == name)
    }

    /// The advertisement this router sends with `priority` (RFC 9568 §5), for the daemon to
    /// encode. Allocates; see [`VirtualRouter::fill_advertisement`] to reuse one.
    pub fn advertisement(&self, priority: Priority) -> Advertisement {
        Advertisement {
            version: self.config.version,
            vrid: self.config.vrid,
            priority,
            interval: self.config.advert_interval,
            auth: self.sent_auth(),
            addresses: self.config.virtual_addresses.clone(),
        }
    }

    /// Overwrites `adv` with the advertisement this router sends with `priority`, reusing its
    /// address buffer.
    pub fn fill_advertisement(&self, priority: Priority, adv: &mut Advertisement) {
        adv.version = self.config.version;
        adv.vrid = self.config.vrid;
        adv.priority = priority;
        adv.interval = self.config.advert_interval;
        adv.auth = self.sent_auth();
        if adv.addresses != self.config.virtual_addresses {
            adv.addresses.clear();
            adv.addresses
                .extend_from_slice(&self.config.virtual_addresses);
        }
    }

    fn sent_auth(&self) -> Auth {
        match self.config.version {
            Version::V2 => self.config.auth,
            Version::V3 => Auth::None,
        }
    }

    // ----- the quinn-proto-shaped interface --------------------------------------------

    /// The next action to perform, in order; `None` when drained.
    #[inline]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The earliest instant at which [`VirtualRouter::handle_timeout`] must be called, if any
    /// timer is armed (Adver_Timer in Master, Master_Down_Timer and the preempt-delay window in
    /// Backup, GARP bursts, the start-up delay).
    #[inline]
    pub fn poll_timeout(&self) -> Option<Instant> {
        let mut t = self.startup_timer;
        for c in [
            self.adver_timer,
            self.master_down_timer,
            self.preempt_deadline
                .filter(|_| self.config.preempt_at_delay_end),
            self.garp_second.map(|g| g.0),
            self.garp_refresh,
        ] {
            t = match (t, c) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        t
    }

    /// Fires every timer due at or before `now`:
    /// RFC 9568 §6.4.2 (Backup: Master_Down_Timer → Master), §6.4.3 (Master: Adver_Timer →
    /// send an advert), keepalived's `preempt_delay` window and GARP schedule, and the
    /// `vrrp_startup_delay`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.startup_timer.is_some_and(|t| t <= now) {
            self.startup_timer = None;
            self.start(now);
        }
        match self.state {
            State::Backup => {
                if self.config.preempt_at_delay_end
                    && self.preempt_deadline.is_some_and(|t| t <= now)
                {
                    self.preempt_deadline = None;
                    self.become_master(now, Reason::PreemptDelayExpired);
                } else if self.master_down_timer.is_some_and(|t| t <= now) {
                    let reason = match self.down_kind {
                        DownKind::Skew => Reason::MasterStopped,
                        DownKind::Full | DownKind::Short => Reason::MasterDown,
                    };
                    self.become_master(now, reason);
                }
            }
            State::Master => {
                if let Some(t) = self.adver_timer
                    && t <= now
                {
                    self.send_advert(self.priority);
                    let mut next = t.plus_us(self.adver_interval_us);
                    if next <= now {
                        next = now.plus_us(self.adver_interval_us);
                    }
                    self.adver_timer = Some(next);
                }
                if let Some((t, count, reason)) = self.garp_second
                    && t <= now
                {
                    self.garp_second = None;
                    self.push_garp(count, reason);
                }
                if let Some(t) = self.garp_refresh
                    && t <= now
                {
                    self.push_garp(self.config.garp.master_refresh_repeat, GarpReason::Refresh);
                    let period = duration_us(self.config.garp.master_refresh).max(1);
                    let mut next = t.plus_us(period);
                    if next <= now {
                        next = now.plus_us(period);
                    }
                    self.garp_refresh = Some(next);
                }
            }
            State::Initialize | State::Fault => {}
        }
    }

    /// Processes a received ADVERTISEMENT from `from` (RFC 9568 §6.4.2 in Backup, §6.4.3 in
    /// Master), after the daemon checked TTL, length and checksum (RFC 9568 §7.1).
    ///
    /// The router checks what it owns: VRID, version, family, the VRRPv2 interval and auth,
    /// unicast source, `owner_ignore_adverts`, its own address. A discarded advert returns the
    /// reason and is counted. An address-list mismatch is counted, not dropped (keepalived
    /// §2.4 step 12).
    pub fn handle_advert(
        &mut self,
        now: Instant,
        from: IpAddr,
        advert: &Advertisement,
    ) -> Result<(), Discard> {
        self.counters.adverts_received += 1;
        if let Err(d) = self.check_advert(from, advert) {
            self.counters.discards.bump(d);
            return Err(d);
        }
        if advert.priority.is_stop() {
            self.counters.priority_zero_received += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(now, from, advert),
            State::Master => self.master_rx(now, from, advert),
            State::Initialize | State::Fault => {}
        }
        Ok(())
    }

    /// Applies a non-timer, non-packet input: interface and tracker changes, priority change,
    /// Startup/Shutdown (RFC 9568 §6.4.1–§6.4.3), reload, sync-group commands.
    pub fn handle_event(&mut self, now: Instant, event: Event) -> Result<(), EventError> {
        match event {
            Event::Startup => {
                if self.state == State::Initialize && self.stopped {
                    self.stopped = false;
                    self.start(now);
                }
            }
            Event::Shutdown => self.shutdown(NotifyEvent::Stop),
            Event::Delete => self.shutdown(NotifyEvent::Deleted),
            Event::InterfaceUp => {
                self.interface_up = true;
                self.reevaluate(now);
            }
            Event::InterfaceDown => {
                self.interface_up = false;
                self.reevaluate(now);
            }
            Event::Tracker { index, status } => {
                let slot = self
                    .tracker_status
                    .get_mut(index)
                    .ok_or(EventError::UnknownTracker(index))?;
                *slot = status;
                self.reevaluate(now);
            }
            Event::SetPriority(p) => {
                if p.is_stop() {
                    return Err(EventError::PriorityZero);
                }
                let was_owner = self.config.priority.is_owner();
                self.config.priority = p;
                self.derive_from_config();
                self.owner_change(now, was_owner);
                self.reevaluate(now);
            }
            Event::Reload(cfg) => self.reload(now, *cfg)?,
            Event::Sync(cmd) => self.sync(now, cmd),
        }
        Ok(())
    }

    // ----- receive paths ----------------------------------------------------------------

    fn check_advert(&self, from: IpAddr, adv: &Advertisement) -> Result<(), Discard> {
        if matches!(self.state, State::Initialize | State::Fault) {
            return Err(Discard::NotListening);
        }
        if adv.vrid != self.config.vrid {
            return Err(Discard::WrongVrid);
        }
        if adv.version != self.config.version {
            return Err(Discard::WrongVersion);
        }
        let fam = match from {
            IpAddr::V4(_) => AddressFamily::Ipv4,
            IpAddr::V6(_) => AddressFamily::Ipv6,
        };
        if fam != self.config.family {
            return Err(Discard::WrongFamily);
        }
        if self.config.version == Version::V2 {
            if adv.interval != self.config.advert_interval {
                return Err(Discard::IntervalMismatch);
            }
            if self.config.auth != Auth::None && adv.auth != self.config.auth {
                return Err(Discard::AuthMismatch);
            }
        }
        if self.config.check_unicast_src
            && !self.config.unicast_peers.is_empty()
            && !self.config.unicast_peers.contains(&from)
        {
            return Err(Discard::UnknownUnicastSource);
        }
        if self.owner_ignore_adverts && self.config.priority.is_owner() {
            return Err(Discard::OwnerIgnoresAdverts);
        }
        if from == self.config.primary_address {
            return Err(Discard::OwnAddress);
        }
        Ok(())
    }

    fn count_address_mismatch(&mut self, from: IpAddr, adv: &Advertisement) {
        if adv.priority.is_stop() {
            return;
        }
        if self.config.skip_check_adv_addr && self.master_address == Some(from) {
            return;
        }
        let ours = &self.config.virtual_addresses;
        // Same order is the common case; any order is accepted.
        let same = adv.addresses == *ours
            || (adv.addresses.len() == ours.len()
                && adv.addresses.iter().all(|a| ours.contains(a)));
        if !same {
            self.counters.address_list_mismatch += 1;
        }
    }

    /// RFC 9568 §6.4.2 "If an ADVERTISEMENT is received" in Backup, with keepalived's
    /// `nopreempt` and `preempt_delay` (keepalived-behaviour.md §2.4).
    fn backup_rx(&mut self, now: Instant, from: IpAddr, adv: &Advertisement) {
        self.count_address_mismatch(from, adv);
        let p = adv.priority.get();
        if p == 0 {
            // §6.4.2: Set the Master_Down_Timer to Skew_Time.
            self.arm_down(now, DownKind::Skew);
            return;
        }
        let ours = self.priority;
        let window_running = self.preempt_deadline.is_some_and(|t| t > now);
        let window_over = self.preempt_deadline.is_some() && !window_running;
        if window_over && p < ours && self.config.preempt_at_delay_end {
            // The preempt_delay window ran out and the Master is still lower: take over.
            self.preempt_deadline = None;
            self.become_master(now, Reason::PreemptDelayExpired);
            return;
        }
        // keepalived: a window opens at the first lower-priority advert; once it is over,
        // lower-priority adverts are discarded again (the down timer then takes over).
        let delay_applies =
            self.preempt && self.preempt_delay_us > 0 && self.preempt_deadline.is_none();
        if !self.preempt || p >= ours || window_running || delay_applies {
            if self.preempt && self.preempt_delay_us > 0 {
                if p >= ours {
                    self.preempt_deadline = None;
                } else if self.preempt_deadline.is_none() {
                    self.preempt_deadline = Some(now.plus_us(self.preempt_delay_us));
                }
            }
            // §6.4.2: Set Master_Adver_Interval to the advert's interval (v3), recompute
            // Master_Down_Interval, reset the Master_Down_Timer.
            if self.config.version == Version::V3 {
                self.master_adver_interval_us = interval_us(adv.interval);
            }
            self.arm_down(now, DownKind::Full);
            self.master_address = Some(from);
            self.master_priority = p;
        } else {
            // §6.4.2: preempt and a lower priority: discard (the down timer keeps running).
            self.counters.lower_priority_ignored += 1;
        }
    }

    /// RFC 9568 §6.4.3 "If an ADVERTISEMENT is received" in Master, with keepalived's answer to
    /// a lower priority (keepalived-behaviour.md §2.4).
    fn master_rx(&mut self, now: Instant, from: IpAddr, adv: &Advertisement) {
        self.count_address_mismatch(from, adv);
        let p = adv.priority.get();
        if p == 0 {
            // §6.4.3: send an ADVERTISEMENT, reset the Adver_Timer.
            self.send_advert(self.priority);
            self.adver_timer = Some(now.plus_us(self.adver_interval_us));
            return;
        }
        let ours = self.priority;
        if p > ours || (p == ours && from > self.config.primary_address) {
            // §6.4.3: cancel Adver_Timer, learn Master_Adver_Interval, go Backup.
            if self.config.higher_prio_send_advert {
                self.send_advert(self.priority);
            }
            if self.config.version == Version::V3 {
                self.master_adver_interval_us = interval_us(adv.interval);
            }
            self.leave_master();
            self.set_state(State::Backup, Reason::HigherPriority);
            self.arm_down(now, DownKind::Full);
            self.master_address = Some(from);
            self.master_priority = p;
            self.notify(NotifyEvent::Backup);
        } else {
            // §6.4.3 (RFC 9568): a lower priority is answered with an advert, unless
            // `lower_prio_no_advert` selects the older RFC behaviour (discard).
            self.counters.lower_priority_heard += 1;
            if !self.lower_prio_no_advert {
                // keepalived restarts its advert timer after this advert (loss-* captures:
                // the next periodic advert follows the answer by one interval).
                self.send_advert(self.priority);
                self.adver_timer = Some(now.plus_us(self.adver_interval_us));
            }
            if self.lower_prio_garp_repeat > 0 {
                self.push_garp(self.lower_prio_garp_repeat, GarpReason::LowerPriority);
                if !self.config.garp.lower_prio_delay.is_zero() {
                    self.garp_second = Some((
                        now + self.config.garp.lower_prio_delay,
                        self.lower_prio_garp_repeat,
                        GarpReason::LowerPriority,
                    ));
                }
            }
            self.notify(NotifyEvent::MasterRxLowerPriority);
        }
    }

    // ----- transitions ------------------------------------------------------------------

    /// RFC 9568 §6.4.1 Startup (and keepalived's `vrrp_init_state`).
    fn start(&mut self, now: Instant) {
        self.master_adver_interval_us = self.adver_interval_us;
        if let Some(reason) = self.fault_reason() {
            self.set_state(State::Fault, reason);
            self.notify(NotifyEvent::Fault);
            return;
        }
        if self.config.priority.is_owner() {
            self.become_master(now, Reason::OwnerStartup);
            return;
        }
        self.set_state(State::Backup, Reason::Startup);
        let kind = match self.config.initial_state {
            InitialState::Master => DownKind::Short,
            InitialState::Backup => DownKind::Full,
        };
        self.arm_down(now, kind);
        self.notify(NotifyEvent::Backup);
    }

    /// RFC 9568 §6.4.2 "transition to the Master state" (and §6.4.1 for owners), in
    /// keepalived's order: advert, addresses, accept filter, GARPs, notify (§2.3).
    fn become_master(&mut self, now: Instant, reason: Reason) {
        self.master_down_timer = None;
        self.preempt_deadline = None;
        self.master_address = None;
        self.master_adver_interval_us = self.adver_interval_us;
        self.set_state(State::Master, reason);
        self.send_advert(self.priority);
        self.actions.push_back(Action::AddVips);
        self.vips_installed = true;
        if !self.accept {
            self.actions
                .push_back(Action::SetAcceptFilter { block: true });
            self.accept_filter_installed = true;
        }
        let g = self.config.garp;
        if g.master_repeat > 0 {
            self.push_garp(g.master_repeat, GarpReason::BecameMaster);
            if !g.master_delay.is_zero() {
                self.garp_second = Some((
                    now + g.master_delay,
                    g.master_repeat,
                    GarpReason::MasterDelay,
                ));
            }
        }
        self.garp_refresh = if g.master_refresh.is_zero() {
            None
        } else {
            Some(now + g.master_refresh)
        };
        self.adver_timer = Some(now.plus_us(self.adver_interval_us));
        self.notify(NotifyEvent::Master);
    }

    /// Cancels Master's timers and releases the addresses (RFC 9568 §6.4.3 leaving Master).
    fn leave_master(&mut self) {
        self.adver_timer = None;
        self.garp_second = None;
        self.garp_refresh = None;
        if self.vips_installed {
            self.actions.push_back(Action::RemoveVips);
            self.vips_installed = false;
        }
        if self.accept_filter_installed {
            self.actions
                .push_back(Action::SetAcceptFilter { block: false });
            self.accept_filter_installed = false;
        }
    }

    fn cancel_backup_timers(&mut self) {
        self.master_down_timer = None;
        self.preempt_deadline = None;
    }

    /// RFC 9568 §6.4.2/§6.4.3 Shutdown: a Master sends priority 0 first (keepalived §2.2).
    fn shutdown(&mut self, event: NotifyEvent) {
        self.startup_timer = None;
        if self.state == State::Initialize {
            self.stopped = true;
            return;
        }
        if self.state == State::Master {
            self.send_advert(0);
            self.leave_master();
        }
        self.cancel_backup_timers();
        self.stopped = true;
        self.set_state(State::Initialize, Reason::Shutdown);
        self.notify(event);
    }

    /// keepalived FAULT entry: a Master sends priority 0 first, then releases (§2.2).
    fn enter_fault(&mut self, reason: Reason) {
        if self.state == State::Master {
            self.send_advert(0);
            self.leave_master();
        }
        self.cancel_backup_timers();
        self.master_address = None;
        self.set_state(State::Fault, reason);
        self.notify(NotifyEvent::Fault);
    }

    /// Recomputes the effective priority and the fault condition after an input changed.
    fn reevaluate(&mut self, now: Instant) {
        let new = self.compute_priority();
        if new != self.priority {
            self.priority = new;
            self.recompute_down_in_place();
            self.notify(NotifyEvent::PriorityChanged);
        }
        match (self.fault_reason(), self.state) {
            (Some(reason), State::Backup | State::Master) => self.enter_fault(reason),
            (None, State::Fault) => {
                // Leave Fault as after Startup, but report FaultCleared.
                self.master_adver_interval_us = self.adver_interval_us;
                if self.config.priority.is_owner() {
                    self.become_master(now, Reason::FaultCleared);
                } else {
                    self.set_state(State::Backup, Reason::FaultCleared);
                    self.arm_down(now, DownKind::Full);
                    self.notify(NotifyEvent::Backup);
                }
            }
            _ => {}
        }
    }

    /// A base priority change to or from 255 changes who is owner.
    fn owner_change(&mut self, now: Instant, was_owner: bool) {
        let is_owner = self.config.priority.is_owner();
        if !was_owner && is_owner && self.state == State::Backup {
            self.priority = self.compute_priority();
            self.become_master(now, Reason::Reload);
        }
    }

    fn sync(&mut self, now: Instant, cmd: SyncCommand) {
        match cmd {
            SyncCommand::Fault => {
                self.group_fault = true;
                if matches!(self.state, State::Backup | State::Master) {
                    self.enter_fault(Reason::SyncGroup);
                }
            }
            SyncCommand::ClearFault => {
                self.group_fault = false;
                self.reevaluate(now);
            }
            SyncCommand::GoMaster => {
                if self.state == State::Backup {
                    self.become_master(now, Reason::SyncGroup);
                }
            }
            SyncCommand::GoBackup => {
                if self.state == State::Master {
                    self.leave_master();
                    self.set_state(State::Backup, Reason::SyncGroup);
                    self.arm_down(now, DownKind::Full);
                    self.notify(NotifyEvent::Backup);
                }
            }
        }
    }

    /// keepalived §5.4: a reload keeps the state; a Master applies the address difference.
    fn reload(&mut self, now: Instant, new: RouterConfig) -> Result<(), EventError> {
        new.validate()?;
        let was_owner = self.config.priority.is_owner();
        let old = core::mem::replace(&mut self.config, new);
        // Keep tracker statuses by name.
        let statuses: Vec<TrackerStatus> = self
            .config
            .trackers
            .iter()
            .map(|t: &TrackerConfig| {
                old.trackers
                    .iter()
                    .position(|o| o.name == t.name)
                    .and_then(|i| self.tracker_status.get(i).copied())
                    .unwrap_or(t.initial)
            })
            .collect();
        self.tracker_status = statuses;
        self.derive_from_config();
        if self.state == State::Master {
            let added: Vec<IpAddr> = self
                .config
                .virtual_addresses
                .iter()
                .filter(|a| !old.virtual_addresses.contains(a))
                .copied()
                .collect();
            let removed: Vec<IpAddr> = old
                .virtual_addresses
                .iter()
                .filter(|a| !self.config.virtual_addresses.contains(a))
                .copied()
                .collect();
            if !added.is_empty() || !removed.is_empty() {
                self.actions
                    .push_back(Action::UpdateVips { added, removed });
            }
            if self.accept_filter_installed == self.accept {
                self.accept_filter_installed = !self.accept;
                self.actions.push_back(Action::SetAcceptFilter {
                    block: !self.accept,
                });
            }
            self.master_adver_interval_us = self.adver_interval_us;
        } else if self.config.version == Version::V2 {
            self.master_adver_interval_us = self.adver_interval_us;
        }
        self.owner_change(now, was_owner);
        self.reevaluate(now);
        self.recompute_down_in_place();
        Ok(())
    }

    // ----- helpers ----------------------------------------------------------------------

    fn derive_from_config(&mut self) {
        let c = &self.config;
        let owner = c.priority.is_owner();
        self.adver_interval_us = interval_us(c.advert_interval);
        if self.config.version == Version::V2 || self.state != State::Backup {
            self.master_adver_interval_us = self.adver_interval_us;
        }
        self.preempt = c.preempt || owner || c.initial_state == InitialState::Master;
        self.preempt_delay_us =
            if !c.preempt || c.initial_state == InitialState::Master || c.strict_mode {
                0
            } else {
                duration_us(c.preempt_delay)
            };
        self.accept = if c.strict_mode { owner } else { c.accept };
        self.lower_prio_no_advert = c.lower_prio_no_advert || c.strict_mode;
        self.owner_ignore_adverts = c.owner_ignore_adverts || c.strict_mode;
        self.lower_prio_garp_repeat = if c.strict_mode {
            0
        } else {
            c.garp.lower_prio_repeat
        };
    }

    /// keepalived-behaviour.md §2.9: base + tracker weights, clamped to 1..=254; owners 255.
    fn compute_priority(&self) -> u8 {
        if self.config.priority.is_owner() {
            return 255;
        }
        let sum: i64 = self
            .config
            .trackers
            .iter()
            .zip(&self.tracker_status)
            .map(|(t, s)| tracker_effect(t, *s).0)
            .sum();
        let p = i64::from(self.config.priority.get()) + sum;
        // In range 1..=254 by the clamp.
        p.clamp(1, 254) as u8
    }

    /// The fault this router has on its own (interface down, failed weight-0 tracker),
    /// ignoring a sync group's hold; `None` when healthy.
    pub fn local_fault(&self) -> Option<Reason> {
        if self.config.track_primary_interface && !self.interface_up {
            return Some(Reason::InterfaceDown);
        }
        if self
            .config
            .trackers
            .iter()
            .zip(&self.tracker_status)
            .any(|(t, s)| tracker_effect(t, *s).1)
        {
            return Some(Reason::TrackerFault);
        }
        None
    }

    fn fault_reason(&self) -> Option<Reason> {
        if let Some(r) = self.local_fault() {
            return Some(r);
        }
        if self.group_fault {
            return Some(Reason::SyncGroup);
        }
        None
    }

    fn master_down_us(&self) -> u64 {
        master_down_us(
            self.config.version,
            self.priority,
            self.master_adver_interval_us,
            self.config.down_timer_adverts,
        )
    }

    fn down_us(&self, kind: DownKind) -> u64 {
        let v = self.config.version;
        match kind {
            DownKind::Full => self.master_down_us(),
            DownKind::Skew => skew_us(v, self.priority, self.master_adver_interval_us),
            DownKind::Short => {
                self.master_adver_interval_us + skew_us(v, 255, self.master_adver_interval_us)
            }
        }
    }

    fn arm_down(&mut self, now: Instant, kind: DownKind) {
        self.down_base = now;
        self.down_kind = kind;
        self.master_down_timer = Some(now.plus_us(self.down_us(kind)));
    }

    fn recompute_down_in_place(&mut self) {
        if self.state == State::Backup && self.master_down_timer.is_some() {
            self.master_down_timer = Some(self.down_base.plus_us(self.down_us(self.down_kind)));
        }
    }

    fn set_state(&mut self, to: State, reason: Reason) {
        let from = self.state;
        if from == to {
            return;
        }
        self.state = to;
        let c = &mut self.counters;
        c.transitions += 1;
        match to {
            State::Master => c.became_master += 1,
            State::Backup => c.became_backup += 1,
            State::Fault => c.became_fault += 1,
            State::Initialize => {}
        }
        if from == State::Master {
            c.released_master += 1;
        }
        self.actions
            .push_back(Action::StateChanged { from, to, reason });
    }

    fn send_advert(&mut self, priority: u8) {
        self.counters.adverts_sent += 1;
        if priority == 0 {
            self.counters.priority_zero_sent += 1;
        }
        self.actions.push_back(Action::SendAdvert {
            priority: Priority(priority),
        });
    }

    fn push_garp(&mut self, count: u32, reason: GarpReason) {
        if count > 0 && !self.config.virtual_addresses.is_empty() {
            self.actions.push_back(Action::SendGarp { count, reason });
        }
    }

    fn notify(&mut self, event: NotifyEvent) {
        self.actions.push_back(Action::Notify {
            event,
            priority: Priority(self.priority),
        });
    }
}

/// The effect of one tracker: (priority adjustment, fault). keepalived-behaviour.md §2.9.
pub(crate) fn tracker_effect(t: &TrackerConfig, s: TrackerStatus) -> (i64, bool) {
    let w = i64::from(t.weight);
    match s {
        TrackerStatus::Value(v) => {
            if w == 0 {
                (0, v != 0)
            } else {
                let a = v.saturating_mul(w).clamp(-254, 254);
                (if t.reverse { -a } else { a }, false)
            }
        }
        TrackerStatus::Up | TrackerStatus::Down => {
            let ok = (s == TrackerStatus::Up) != t.reverse;
            if w == 0 {
                (0, !ok)
            } else if w > 0 {
                (if ok { w } else { 0 }, false)
            } else {
                (if ok { 0 } else { w }, false)
            }
        }
    }
}
