//! A deterministic simulator of VRRP routers ([`vrrp_fsm::VirtualRouter`]) on a virtual LAN.
//!
//! Every router sees virtual time; the LAN has per-link latency and loss, one-way and two-way
//! partitions; routers crash (silently), restart, stop gracefully, and can run with a clock
//! offset. All randomness comes from one seed, so a run is reproducible from
//! `(seed, scenario)`. The simulator records every state transition, and optionally every
//! advert with its fate, with virtual timestamps.
//!
//! ```
//! use core::net::{IpAddr, Ipv4Addr};
//! use core::time::Duration;
//! use vrrp_fsm::{RouterConfig, State};
//! use vrrp_proto::{Priority, Vrid};
//! use vrrp_sim::{Sim, SimConfig};
//!
//! let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
//! let cfg = |host: u8, prio: u8| {
//!     let mut c = RouterConfig::new(Vrid::new(51).unwrap(),
//!                                   IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)), vec![vip]);
//!     c.priority = Priority(prio);
//!     c
//! };
//! let mut sim = Sim::new(SimConfig { seed: 7, ..SimConfig::default() });
//! let a = sim.add_router(cfg(1, 150)).unwrap();
//! let b = sim.add_router(cfg(2, 100)).unwrap();
//! sim.run_for(Duration::from_secs(10));
//! assert_eq!(sim.masters(), vec![a]);
//! sim.crash(a);
//! sim.run_for(Duration::from_secs(5));
//! assert_eq!(sim.state(b), Some(State::Master));
//! ```

use core::cmp::Ordering;
use core::time::Duration;
use std::collections::BinaryHeap;
use vrrp_fsm::{
    Action, ConfigError, Event, EventError, Instant, Reason, RouterConfig, State, VirtualRouter,
};
use vrrp_proto::{AdvertInterval, Advertisement, Priority, Version, Vrid};

/// Where virtual time starts (so that negative clock offsets stay representable).
pub const EPOCH: Instant = Instant::from_micros(1_000_000_000_000);

/// A router's handle in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

/// Properties of one direction of a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkParams {
    /// One-way latency.
    pub latency: Duration,
    /// Independent loss probability, in parts per million.
    pub loss_ppm: u32,
    /// Whether packets pass at all (false = partitioned in this direction).
    pub up: bool,
}

impl Default for LinkParams {
    fn default() -> Self {
        LinkParams {
            latency: Duration::from_micros(100),
            loss_ppm: 0,
            up: true,
        }
    }
}

/// A link as the simulator keeps it (latency in whole microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Link {
    latency_us: u64,
    loss_ppm: u32,
    up: bool,
}

impl From<LinkParams> for Link {
    fn from(p: LinkParams) -> Self {
        Link {
            latency_us: u64::try_from(p.latency.as_micros()).unwrap_or(u64::MAX),
            loss_ppm: p.loss_ppm,
            up: p.up,
        }
    }
}

/// Simulation settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimConfig {
    /// The seed of every random choice (loss).
    pub seed: u64,
    /// Link parameters for every pair of routers unless changed with [`Sim::set_link`].
    pub default_link: LinkParams,
    /// Record every advert in [`Sim::packets`] (costs memory on long runs).
    pub record_packets: bool,
}

/// What happened to one advert on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Delivered at this virtual time.
    Delivered(Instant),
    /// Dropped by random loss.
    Lost,
    /// Dropped by a partition.
    Partitioned,
    /// Arrived at a crashed router.
    ReceiverDown,
}

/// One advert on one link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketRecord {
    /// Virtual time of sending.
    pub sent: Instant,
    /// Sender.
    pub from: NodeId,
    /// Intended receiver.
    pub to: NodeId,
    /// The advertised priority.
    pub priority: Priority,
    /// What became of it.
    pub fate: Fate,
}

/// One state change of one router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionRecord {
    /// Virtual time.
    pub time: Instant,
    /// The router.
    pub node: NodeId,
    /// Old state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// A simulation error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SimError {
    /// The router configuration does not validate.
    Config(ConfigError),
    /// The router rejected an event.
    Event(EventError),
    /// No such router, or it is crashed.
    NoRouter(NodeId),
}

impl core::fmt::Display for TransitionRecord {
    /// `12.345678s r1 BACKUP -> MASTER (MasterDown)`: seconds since [`EPOCH`], routers
    /// numbered from 1.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let t = self.time.saturating_duration_since(EPOCH);
        write!(
            f,
            "{}.{:06}s r{} {} -> {} ({:?})",
            t.as_secs(),
            t.subsec_micros(),
            self.node.0 + 1,
            self.from,
            self.to,
            self.reason
        )
    }
}

/// A scripted step, for driving a simulation from a list (e.g. `hagroupd simulate`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Command {
    /// Run for this long.
    RunFor(Duration),
    /// [`Sim::crash`].
    Crash(NodeId),
    /// [`Sim::restart`].
    Restart(NodeId),
    /// [`Sim::event`] (e.g. a graceful [`Event::Shutdown`]).
    Event(NodeId, Event),
    /// [`Sim::partition`].
    Partition(NodeId, NodeId),
    /// [`Sim::partition_oneway`].
    PartitionOneway(NodeId, NodeId),
    /// [`Sim::heal_all`].
    HealAll,
    /// [`Sim::set_link`].
    SetLink(NodeId, NodeId, LinkParams),
}

impl core::fmt::Display for SimError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SimError::Config(e) => write!(f, "invalid router configuration: {e}"),
            SimError::Event(e) => write!(f, "event rejected: {e}"),
            SimError::NoRouter(n) => write!(f, "router {} does not exist or is down", n.0),
        }
    }
}

impl std::error::Error for SimError {}

/// An advert in flight. Kept small: the heap moves these around. The auth data and the
/// address list come from the sender's configuration at delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Delivery {
    at: Instant,
    seq: u64,
    from: u32,
    /// The receiver when `mask` is zero.
    to: u32,
    /// Receivers `j` with bit `j` set, all arriving at `at` (one heap entry per advert on a
    /// LAN with uniform latency).
    mask: u64,
    record: u32,
    interval: AdvertInterval,
    priority: u8,
    version: Version,
    vrid: Vrid,
}

impl Ord for Delivery {
    fn cmp(&self, other: &Self) -> Ordering {
        // Min-heap on (time, sequence).
        (other.at, other.seq).cmp(&(self.at, self.seq))
    }
}

impl PartialOrd for Delivery {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[derive(Debug)]
struct Node {
    config: RouterConfig,
    router: Option<VirtualRouter>,
    offset_us: i64,
    /// The router's next timer, in global time.
    next_timer: Option<Instant>,
}

/// SplitMix64: small, fast, and good enough for loss rolls.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// The simulated LAN.
#[derive(Debug)]
pub struct Sim {
    now: Instant,
    nodes: Vec<Node>,
    /// `links[from * n + to]`.
    links: Vec<Link>,
    default_link: Link,
    queue: BinaryHeap<Delivery>,
    seq: u64,
    rng: Rng,
    record_packets: bool,
    transitions: Vec<TransitionRecord>,
    packets: Vec<PacketRecord>,
    /// The advert handed to receivers, reused to avoid allocating per delivery.
    scratch: Option<Advertisement>,
    events_processed: u64,
}

impl Sim {
    /// An empty LAN at [`EPOCH`].
    pub fn new(config: SimConfig) -> Self {
        Sim {
            now: EPOCH,
            nodes: Vec::new(),
            links: Vec::new(),
            default_link: config.default_link.into(),
            queue: BinaryHeap::new(),
            seq: 0,
            rng: Rng(config.seed),
            record_packets: config.record_packets,
            transitions: Vec::new(),
            packets: Vec::new(),
            scratch: None,
            events_processed: 0,
        }
    }

    /// Adds a router and starts it now (RFC 9568 §6.4.1 Startup).
    pub fn add_router(&mut self, config: RouterConfig) -> Result<NodeId, SimError> {
        self.add_router_with_offset(config, 0)
    }

    /// Adds a router whose clock reads `offset_us` microseconds ahead of (or, negative, behind)
    /// virtual time.
    pub fn add_router_with_offset(
        &mut self,
        config: RouterConfig,
        offset_us: i64,
    ) -> Result<NodeId, SimError> {
        let id = self.nodes.len();
        let n = id + 1;
        let mut links = vec![self.default_link; n * n];
        for from in 0..id {
            for to in 0..id {
                if let (Some(new), Some(old)) =
                    (links.get_mut(from * n + to), self.links.get(from * id + to))
                {
                    *new = *old;
                }
            }
        }
        self.links = links;
        self.nodes.push(Node {
            config: config.clone(),
            router: None,
            offset_us,
            next_timer: None,
        });
        let local = self.local(id, self.now);
        let router = VirtualRouter::new(config, local).map_err(SimError::Config)?;
        if let Some(n) = self.nodes.get_mut(id) {
            n.router = Some(router);
        }
        self.after_input(id);
        Ok(NodeId(id))
    }

    /// The current virtual time.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Number of routers (crashed ones included).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether there are no routers.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// A router, unless crashed.
    pub fn router(&self, id: NodeId) -> Option<&VirtualRouter> {
        self.nodes.get(id.0).and_then(|n| n.router.as_ref())
    }

    /// A router's configuration (kept across crashes).
    pub fn config(&self, id: NodeId) -> Option<&RouterConfig> {
        self.nodes.get(id.0).map(|n| &n.config)
    }

    /// A router's state, unless crashed.
    pub fn state(&self, id: NodeId) -> Option<State> {
        self.router(id).map(VirtualRouter::state)
    }

    /// The routers currently in Master.
    pub fn masters(&self) -> Vec<NodeId> {
        (0..self.nodes.len())
            .map(NodeId)
            .filter(|&i| self.state(i) == Some(State::Master))
            .collect()
    }

    /// Every state change so far.
    pub fn transitions(&self) -> &[TransitionRecord] {
        &self.transitions
    }

    /// Every advert so far, per receiver (only with [`SimConfig::record_packets`]).
    pub fn packets(&self) -> &[PacketRecord] {
        &self.packets
    }

    /// Inputs handed to routers so far (timer expiries plus adverts).
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    /// Sets the parameters of the link `from → to`.
    pub fn set_link(&mut self, from: NodeId, to: NodeId, params: LinkParams) {
        if let Some(l) = self.link_mut(from.0, to.0) {
            *l = params.into();
        }
    }

    fn link_mut(&mut self, from: usize, to: usize) -> Option<&mut Link> {
        let n = self.nodes.len();
        if from >= n || to >= n {
            return None;
        }
        self.links.get_mut(from * n + to)
    }

    /// Sets both directions between `a` and `b`.
    pub fn set_link_both(&mut self, a: NodeId, b: NodeId, params: LinkParams) {
        self.set_link(a, b, params);
        self.set_link(b, a, params);
    }

    /// Sets every link's latency and loss, keeping partitions.
    pub fn set_all_links(&mut self, latency: Duration, loss_ppm: u32) {
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        for l in &mut self.links {
            l.latency_us = latency_us;
            l.loss_ppm = loss_ppm;
        }
    }

    /// Blocks `from → to` (a one-way partition).
    pub fn partition_oneway(&mut self, from: NodeId, to: NodeId) {
        if let Some(l) = self.link_mut(from.0, to.0) {
            l.up = false;
        }
    }

    /// Blocks both directions between `a` and `b`.
    pub fn partition(&mut self, a: NodeId, b: NodeId) {
        self.partition_oneway(a, b);
        self.partition_oneway(b, a);
    }

    /// Splits the LAN into two sides that cannot hear each other.
    pub fn partition_sets(&mut self, side_a: &[NodeId], side_b: &[NodeId]) {
        for &a in side_a {
            for &b in side_b {
                self.partition(a, b);
            }
        }
    }

    /// Removes every partition (latency and loss stay).
    pub fn heal_all(&mut self) {
        for l in &mut self.links {
            l.up = true;
        }
    }

    /// Applies one scripted step.
    pub fn apply(&mut self, command: Command) -> Result<(), SimError> {
        match command {
            Command::RunFor(d) => self.run_for(d),
            Command::Crash(n) => self.crash(n),
            Command::Restart(n) => self.restart(n)?,
            Command::Event(n, e) => self.event(n, e)?,
            Command::Partition(a, b) => self.partition(a, b),
            Command::PartitionOneway(a, b) => self.partition_oneway(a, b),
            Command::HealAll => self.heal_all(),
            Command::SetLink(a, b, p) => self.set_link(a, b, p),
        }
        Ok(())
    }

    /// Applies a script in order; stops at the first error.
    pub fn run_script(
        &mut self,
        script: impl IntoIterator<Item = Command>,
    ) -> Result<(), SimError> {
        script.into_iter().try_for_each(|c| self.apply(c))
    }

    /// Kills a router without a word (no priority-0 advert).
    pub fn crash(&mut self, id: NodeId) {
        if let Some(n) = self.nodes.get_mut(id.0) {
            n.router = None;
            n.next_timer = None;
        }
    }

    /// Restarts a crashed router with its configuration (RFC 9568 §6.4.1 Startup).
    pub fn restart(&mut self, id: NodeId) -> Result<(), SimError> {
        let local = self.local(id.0, self.now);
        let n = self.nodes.get_mut(id.0).ok_or(SimError::NoRouter(id))?;
        if n.router.is_none() {
            n.router = Some(VirtualRouter::new(n.config.clone(), local).map_err(SimError::Config)?);
            self.after_input(id.0);
        }
        Ok(())
    }

    /// Delivers an event to a router now (e.g. [`Event::Shutdown`] for a graceful stop).
    pub fn event(&mut self, id: NodeId, event: Event) -> Result<(), SimError> {
        let local = self.local(id.0, self.now);
        if let Event::Reload(cfg) = &event
            && let Some(n) = self.nodes.get_mut(id.0)
        {
            n.config = (**cfg).clone();
        }
        let r = self
            .nodes
            .get_mut(id.0)
            .and_then(|n| n.router.as_mut())
            .ok_or(SimError::NoRouter(id))?;
        let res = r.handle_event(local, event).map_err(SimError::Event);
        self.after_input(id.0);
        res
    }

    /// Runs until virtual time `end` (inclusive of everything due at `end`).
    pub fn run_until(&mut self, end: Instant) {
        while self.step_until(end) {}
        if self.now < end {
            self.now = end;
        }
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        self.run_until(end);
    }

    /// Runs until `pred` holds (checked after every step) or `end`; returns the time `pred`
    /// first held.
    pub fn run_until_pred(
        &mut self,
        end: Instant,
        mut pred: impl FnMut(&Sim) -> bool,
    ) -> Option<Instant> {
        if pred(self) {
            return Some(self.now);
        }
        while self.step_until(end) {
            if pred(self) {
                return Some(self.now);
            }
        }
        if self.now < end {
            self.now = end;
        }
        None
    }

    /// Processes the next input if it is due at or before `end`; false when none is.
    pub fn step_until(&mut self, end: Instant) -> bool {
        let mut timer: Option<(Instant, usize)> = None;
        for (i, n) in self.nodes.iter().enumerate() {
            if let Some(t) = n.next_timer
                && timer.is_none_or(|(bt, _)| t < bt)
            {
                timer = Some((t, i));
            }
        }
        let delivery_at = self.queue.peek().map(|d| d.at);
        match (timer, delivery_at) {
            (Some((t, i)), d) if d.is_none_or(|d| t <= d) => {
                if t > end {
                    return false;
                }
                self.now = self.now.max(t);
                self.fire_timer(i);
                true
            }
            (_, Some(d)) => {
                if d > end {
                    return false;
                }
                self.now = self.now.max(d);
                if let Some(del) = self.queue.pop() {
                    self.deliver(del);
                }
                true
            }
            (None, None) => false,
            _ => false,
        }
    }

    fn local(&self, i: usize, global: Instant) -> Instant {
        let off = self.nodes.get(i).map_or(0, |n| n.offset_us);
        Instant::from_micros(global.as_micros().saturating_add_signed(off))
    }

    fn fire_timer(&mut self, i: usize) {
        let local = self.local(i, self.now);
        if let Some(r) = self.nodes.get_mut(i).and_then(|n| n.router.as_mut()) {
            r.handle_timeout(local);
            self.events_processed += 1;
        }
        self.after_input(i);
    }

    fn deliver(&mut self, d: Delivery) {
        let from = d.from as usize;
        let Some(src) = self.nodes.get(from) else {
            return;
        };
        let (from_addr, auth) = (src.config.primary_address, src.config.auth);
        let adv = self.scratch.get_or_insert_with(|| Advertisement {
            version: d.version,
            vrid: d.vrid,
            priority: Priority(d.priority),
            interval: d.interval,
            auth,
            addresses: Vec::new(),
        });
        adv.version = d.version;
        adv.vrid = d.vrid;
        adv.priority = Priority(d.priority);
        adv.interval = d.interval;
        adv.auth = auth;
        if adv.addresses != src.config.virtual_addresses {
            adv.addresses.clone_from(&src.config.virtual_addresses);
        }
        if d.mask == 0 {
            self.deliver_one(d.to as usize, from_addr, d.record as usize);
        } else {
            let mut mask = d.mask;
            while mask != 0 {
                let to = mask.trailing_zeros() as usize;
                mask &= mask - 1;
                self.deliver_one(to, from_addr, usize::MAX);
            }
        }
    }

    fn deliver_one(&mut self, to: usize, from_addr: core::net::IpAddr, record: usize) {
        let local = self.local(to, self.now);
        let alive = self.nodes.get(to).is_some_and(|n| n.router.is_some());
        if let Some(p) = self.packets.get_mut(record) {
            p.fate = if alive {
                Fate::Delivered(self.now)
            } else {
                Fate::ReceiverDown
            };
        }
        if let Some(r) = self.nodes.get_mut(to).and_then(|n| n.router.as_mut())
            && let Some(adv) = self.scratch.as_ref()
        {
            // Discards are counted by the router; the simulator does not care.
            let _ = r.handle_advert(local, from_addr, adv);
            self.events_processed += 1;
            self.after_input(to);
        }
    }

    /// Drains a router's actions and refreshes its timer.
    fn after_input(&mut self, i: usize) {
        let now = self.now;
        let Some(node) = self.nodes.get_mut(i) else {
            return;
        };
        let Some(r) = node.router.as_mut() else {
            node.next_timer = None;
            return;
        };
        // Adverts to send, collected while the router is borrowed.
        let mut sends = [0u8; 4];
        let mut n_sends = 0usize;
        let mut more: Vec<u8> = Vec::new();
        while let Some(action) = r.poll_action() {
            match action {
                Action::SendAdvert { priority } => {
                    if let Some(slot) = sends.get_mut(n_sends) {
                        *slot = priority.get();
                        n_sends += 1;
                    } else {
                        more.push(priority.get());
                    }
                }
                Action::StateChanged { from, to, reason } => {
                    self.transitions.push(TransitionRecord {
                        time: now,
                        node: NodeId(i),
                        from,
                        to,
                        reason,
                    });
                }
                _ => {}
            }
        }
        let off = node.offset_us;
        node.next_timer = r
            .poll_timeout()
            .map(|t| Instant::from_micros(t.as_micros().saturating_add_signed(-off)));
        for k in 0..n_sends {
            if let Some(&p) = sends.get(k) {
                self.send(i, Priority(p));
            }
        }
        for p in more {
            self.send(i, Priority(p));
        }
    }

    fn send(&mut self, i: usize, priority: Priority) {
        let n = self.nodes.len();
        let Some(node) = self.nodes.get(i) else {
            return;
        };
        let cfg = &node.config;
        let (version, vrid, interval) = (cfg.version, cfg.vrid, cfg.advert_interval);
        let unicast = !cfg.unicast_peers.is_empty();
        let mut group: Option<Delivery> = None;
        for j in 0..n {
            if j == i {
                continue;
            }
            if unicast {
                let peer = self.nodes.get(j).map(|n| n.config.primary_address);
                let is_peer = peer.is_some_and(|p| {
                    self.nodes
                        .get(i)
                        .is_some_and(|n| n.config.unicast_peers.contains(&p))
                });
                if !is_peer {
                    continue;
                }
            }
            let link = self
                .links
                .get(i * n + j)
                .copied()
                .unwrap_or(self.default_link);
            let fate = if !link.up {
                Some(Fate::Partitioned)
            } else if link.loss_ppm > 0
                && self.rng.next_u64() % 1_000_000 < u64::from(link.loss_ppm)
            {
                Some(Fate::Lost)
            } else {
                None
            };
            let at = self.now.saturating_add_us(link.latency_us);
            let record = if self.record_packets {
                self.packets.push(PacketRecord {
                    sent: self.now,
                    from: NodeId(i),
                    to: NodeId(j),
                    priority,
                    fate: fate.unwrap_or(Fate::Delivered(at)),
                });
                u32::try_from(self.packets.len() - 1).unwrap_or(u32::MAX)
            } else {
                u32::MAX
            };
            if fate.is_some() {
                continue;
            }
            let groupable = !self.record_packets && j < 64;
            if groupable && let Some(g) = group.as_mut().filter(|g| g.at == at) {
                g.mask |= 1 << j;
                continue;
            }
            if let Some(g) = group.take() {
                self.queue.push(g);
            }
            self.seq += 1;
            let d = Delivery {
                at,
                seq: self.seq,
                from: i as u32,
                to: j as u32,
                mask: if groupable { 1 << j } else { 0 },
                record,
                interval,
                priority: priority.get(),
                version,
                vrid,
            };
            if groupable {
                group = Some(d);
            } else {
                self.queue.push(d);
            }
        }
        if let Some(g) = group {
            self.queue.push(g);
        }
    }
}
