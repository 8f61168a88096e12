//! The tokio driver: runs `vrrp-fsm` routers (and sync groups) over the sockets, address
//! manager, announcer and link watch of this crate.
//!
//! One task runs every router, like keepalived's single-threaded VRRP process: one timer
//! (the earliest deadline of all routers and pending GARP bursts), the sockets, and a command
//! channel. Routers that share an interface and family share a socket; received packets are
//! dispatched by VRID.
//!
//! The hot paths are cheap at hundreds of instances: datagrams are received in batches
//! (`recvmmsg`) into reused buffers and decoded through borrowed views; a Backup's
//! Master_Down_Timer, pushed back by every advert, costs no timer-queue operation and no
//! system call until it is next due; the `timerfd` is re-armed only for an earlier deadline;
//! Master advert timers due within 1 ms (or 1% of the interval) of each other fire together;
//! IPv4 adverts go out in batches (`sendmmsg`); the status watch is updated per instance
//! and only when a state changes. A socket serving several instances lets a burst of adverts
//! gather for up to 1 ms (1% of the interval) before reading it in one go, and times each
//! advert by its kernel receive time (`SO_TIMESTAMPNS`), so Master_Down_Timers are exact.
//!
//! The embedding program gets:
//! - a [`watch`] of every instance's [`InstanceStatus`] ([`DriverHandle::status`]),
//! - a stream of [`DriverEvent`]s (state changes and notifications) for scripts and logs,
//! - commands: tracker and other FSM events, reload by diff, statistics, graceful shutdown.

use crate::addr::{AddressManager, Scope, Vip};
use crate::announce::Announcer;
use crate::iface::InterfaceInfo;
use crate::link::LinkWatcher;
use crate::socket::{Destination, RxBatch, RxError, SocketConfig, VrrpSocket};
use crate::{NetError, iface};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use vrrp_fsm::{
    Action, Event, Instant, NotifyEvent, Reason, RouterConfig, State, SyncGroup, TrackerKind,
    TrackerStatus, VirtualRouter,
};
use vrrp_proto::{AddressFamily, Advertisement, ChecksumMode, Priority, RxChecksum, RxPolicy};

/// One virtual address of an instance, with its `ip addr` options.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VipConfig {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length.
    pub prefix_len: u8,
    /// `dev`: the interface to put it on; default the instance's interface.
    pub dev: Option<String>,
    /// `brd`.
    pub broadcast: Option<Ipv4Addr>,
    /// `scope`.
    pub scope: Scope,
    /// `label`.
    pub label: Option<String>,
    /// IPv6 `nodad`.
    pub nodad: bool,
}

impl VipConfig {
    /// A host address (/32 or /128) with default options.
    pub fn host(addr: IpAddr) -> VipConfig {
        VipConfig {
            addr,
            prefix_len: if addr.is_ipv4() { 32 } else { 128 },
            dev: None,
            broadcast: None,
            scope: Scope::Global,
            label: None,
            nodad: false,
        }
    }
}

/// One `vrrp_instance`: the state machine's configuration and what the network side needs.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceConfig {
    /// The state machine's configuration. An unspecified `primary_address` (0.0.0.0 or ::)
    /// is replaced by the interface's primary IPv4 or link-local IPv6 address;
    /// `virtual_addresses` is replaced by the addresses of [`InstanceConfig::vips`].
    pub router: RouterConfig,
    /// The interface adverts are sent and received on.
    pub interface: String,
    /// The virtual addresses and their options.
    pub vips: Vec<VipConfig>,
    /// How VRRPv3 over IPv4 checksums are sent (`v3_checksum_as_v2` gives `MessageOnly`).
    pub checksum: ChecksumMode,
    /// Which received checksums are accepted.
    pub rx_checksum: RxChecksum,
    /// The TTL / hop limit of unicast adverts (`unicast_ttl`, default 255).
    pub unicast_ttl: u8,
    /// Spacing of the GARPs / NAs within one burst (`garp_interval`, default zero).
    pub garp_interval: Duration,
    /// `track_interface` names, in the order of their trackers in `router.trackers`.
    pub track_interfaces: Vec<String>,
}

impl InstanceConfig {
    /// An instance on `interface` with keepalived's defaults for the network side.
    pub fn new(router: RouterConfig, interface: &str, vips: Vec<VipConfig>) -> InstanceConfig {
        InstanceConfig {
            router,
            interface: interface.to_owned(),
            vips,
            checksum: ChecksumMode::PseudoHeader,
            rx_checksum: RxChecksum::Expect(ChecksumMode::PseudoHeader),
            unicast_ttl: 255,
            garp_interval: Duration::ZERO,
            track_interfaces: Vec::new(),
        }
    }

    fn key(&self) -> (String, u8, AddressFamily) {
        (
            self.interface.clone(),
            self.router.vrid.get(),
            self.router.family,
        )
    }
}

/// A unit of scheduling: one instance, or a `vrrp_sync_group` of instances.
#[derive(Debug, Clone, PartialEq)]
pub enum UnitConfig {
    /// A lone `vrrp_instance`.
    Instance(Box<InstanceConfig>),
    /// A `vrrp_sync_group` and its member instances.
    SyncGroup {
        /// The group name.
        name: String,
        /// The members.
        members: Vec<InstanceConfig>,
    },
}

impl UnitConfig {
    fn members(&self) -> &[InstanceConfig] {
        match self {
            UnitConfig::Instance(i) => std::slice::from_ref(&**i),
            UnitConfig::SyncGroup { members, .. } => members,
        }
    }

    fn key(&self) -> Vec<(String, u8, AddressFamily)> {
        self.members().iter().map(InstanceConfig::key).collect()
    }
}

/// Everything the driver runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DriverConfig {
    /// The instances and sync groups.
    pub units: Vec<UnitConfig>,
    /// keepalived's `vrrp_rt_priority`: run the driver's thread under `SCHED_RR` at this
    /// priority (1..=99), so a busy CPU cannot delay adverts into a false takeover. `None`
    /// leaves the scheduling alone.
    pub realtime_priority: Option<u8>,
}

/// What the embedding program sees of one instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceStatus {
    /// The protocol state.
    pub state: State,
    /// The effective priority.
    pub priority: Priority,
    /// The Master last heard from (address, priority), when Backup.
    pub master: Option<(IpAddr, Priority)>,
}

/// Something the embedding program may want to act on.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverEvent {
    /// An instance changed state.
    StateChanged {
        /// The instance name.
        instance: String,
        /// The old state.
        from: State,
        /// The new state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// Run the notify scripts / write the FIFO line for this event.
    Notify {
        /// The instance name.
        instance: String,
        /// The sync group the instance belongs to, if any.
        group: Option<String>,
        /// What happened.
        event: NotifyEvent,
        /// The effective priority.
        priority: Priority,
    },
}

/// Counters of the driver: received packets refused, by reason, and per-instance counters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DriverStats {
    /// Packets refused before reaching a router, by reason (`bad_ttl`, `bad_checksum`,
    /// `truncated`, `unknown_vrid`, `auth_mismatch`, ...), plus routers' own discards.
    pub rx_errors: BTreeMap<String, u64>,
    /// Each instance's state-machine counters.
    pub instances: BTreeMap<String, vrrp_fsm::Counters>,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ReloadSummary {
    /// Instances kept (their state is preserved).
    pub kept: Vec<String>,
    /// Instances added.
    pub added: Vec<String>,
    /// Instances removed.
    pub removed: Vec<String>,
}

/// Why a command to the driver failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// The driver task has stopped.
    #[error("the VRRP driver has stopped")]
    Stopped,
    /// No instance has this name.
    #[error("no VRRP instance named {0}")]
    UnknownInstance(String),
    /// The state machine refused the event.
    #[error("instance {instance}: {message}")]
    Rejected {
        /// The instance name.
        instance: String,
        /// The state machine's error.
        message: String,
    },
    /// Setting up the network side failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The driver's thread or its runtime could not be started.
    #[error("cannot start the VRRP driver thread: {0}")]
    Thread(std::io::Error),
}

enum Command {
    Event(String, Event, oneshot::Sender<Result<(), DriverError>>),
    Tracker(String, TrackerStatus, oneshot::Sender<usize>),
    Reload(
        Box<DriverConfig>,
        oneshot::Sender<Result<ReloadSummary, DriverError>>,
    ),
    Stats(oneshot::Sender<DriverStats>),
    Shutdown(oneshot::Sender<()>),
}

/// The handle an embedding program keeps.
#[derive(Debug)]
pub struct DriverHandle {
    cmd: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<BTreeMap<String, InstanceStatus>>,
    events: Option<mpsc::UnboundedReceiver<DriverEvent>>,
    /// Stops the driver's thread abruptly ([`DriverHandle::abort`]).
    abort: oneshot::Sender<()>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Command::Event(..) => "Event",
            Command::Tracker(..) => "Tracker",
            Command::Reload(..) => "Reload",
            Command::Stats(..) => "Stats",
            Command::Shutdown(..) => "Shutdown",
        })
    }
}

impl DriverHandle {
    /// A watch of every instance's status, keyed by instance name.
    pub fn status(&self) -> watch::Receiver<BTreeMap<String, InstanceStatus>> {
        self.status.clone()
    }

    /// Takes the stream of state changes and notifications (once).
    pub fn take_events(&mut self) -> Option<mpsc::UnboundedReceiver<DriverEvent>> {
        self.events.take()
    }

    /// Feeds a state-machine event to one instance.
    pub async fn event(&self, instance: &str, event: Event) -> Result<(), DriverError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Event(instance.to_owned(), event, tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Reports the status of the tracker called `name` (a `vrrp_script`, file, ...) to every
    /// instance that tracks it; returns how many instances track it.
    pub async fn tracker(&self, name: &str, status: TrackerStatus) -> Result<usize, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Tracker(name.to_owned(), status, tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// Applies a new configuration by difference: instances with the same (interface, VRID,
    /// family) keep their state and get the new settings; others are added or removed.
    pub async fn reload(&self, config: DriverConfig) -> Result<ReloadSummary, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Reload(Box::new(config), tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// The driver's counters.
    pub async fn stats(&self) -> Result<DriverStats, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.cmd
            .send(Command::Stats(tx))
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)
    }

    /// Stops the driver abruptly, as `kill -9` would: no priority-0 advert, the addresses stay.
    pub fn abort(self) {
        let _ = self.abort.send(());
    }

    /// Stops every instance (a Master sends a priority-0 advert and removes its addresses,
    /// and `notify_stop` fires) and waits until that is done; the driver task then ends.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

// ----- internals ------------------------------------------------------------------------

fn precise_timer() -> std::io::Result<tokio::io::unix::AsyncFd<crate::sys::Timer>> {
    let t = TimerFd::new(
        ClockId::CLOCK_MONOTONIC,
        TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
    )
    .map_err(std::io::Error::from)?;
    crate::sys::register(crate::sys::Timer(t))
}

enum Machine {
    Single(Box<VirtualRouter>),
    Group(SyncGroup),
}

impl Machine {
    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Machine::Single(r) => r.poll_timeout(),
            Machine::Group(g) => g.poll_timeout(),
        }
    }
    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Machine::Single(r) => r.handle_timeout(now),
            Machine::Group(g) => g.handle_timeout(now),
        }
    }
    fn handle_advert(
        &mut self,
        now: Instant,
        member: usize,
        from: IpAddr,
        adv: &vrrp_proto::Advertisement,
    ) -> Result<(), vrrp_fsm::Discard> {
        match self {
            Machine::Single(r) => r.handle_advert(now, from, adv),
            Machine::Group(g) => g.handle_advert(now, member, from, adv),
        }
    }
    fn handle_event(
        &mut self,
        now: Instant,
        member: usize,
        ev: Event,
    ) -> Result<(), vrrp_fsm::EventError> {
        match self {
            Machine::Single(r) => r.handle_event(now, ev),
            Machine::Group(g) => g.handle_event(now, member, ev),
        }
    }
    fn poll_action(&mut self) -> Option<(usize, Action)> {
        match self {
            Machine::Single(r) => r.poll_action().map(|a| (0, a)),
            Machine::Group(g) => g.poll_action(),
        }
    }
    fn member(&self, m: usize) -> Option<&VirtualRouter> {
        match self {
            Machine::Single(r) => (m == 0).then_some(r),
            Machine::Group(g) => g.members().get(m),
        }
    }
}

struct MemberIo {
    name: String,
    socket: usize,
    ifindex: u32,
    mac: Option<[u8; 6]>,
    vips: Vec<Vip>,
    retired_vips: Vec<Vip>,
    checksum: ChecksumMode,
    garp_interval: Duration,
    track_interfaces: Vec<(u32, usize)>,
    config: InstanceConfig,
}

struct Unit {
    machine: Machine,
    group: Option<String>,
    members: Vec<MemberIo>,
    /// The machine's next timeout, as of the last `refresh_timer`.
    deadline: Option<Instant>,
    /// The earliest entry of this unit in `Core::timers` (at or before `deadline` when that is
    /// set); later entries of the unit are stale and skipped when they come up.
    queued: Option<Instant>,
    key: Vec<(String, u8, AddressFamily)>,
    dead: bool,
}

struct SocketEntry {
    sock: Arc<VrrpSocket>,
    key: (String, bool, IpAddr, Destination),
    policy: RxPolicy,
    /// (vrid) -> (unit, member)
    routes: HashMap<u8, Vec<(usize, usize)>>,
    /// How long a burst of adverts is left to gather in the socket before it is read in one
    /// go (zero: read at once). Only sockets that report each datagram's arrival time hold,
    /// so every advert is still timed by its arrival. The driver's thread sleeps for the
    /// hold: while it waits in epoll, every datagram of the burst would wake it.
    hold: Duration,
    rx: RxState,
}

/// What the receive branch of the driver loop saw on a socket.
enum Rx {
    /// A datagram arrived on a holding socket (not read yet).
    Arrived,
    /// A batch was read into `Core::rx_batch`.
    Batch(std::io::Result<usize>),
}

impl SocketEntry {
    /// Whether bursts are gathered on this socket: it can time each datagram by its arrival,
    /// and it serves more than one instance (a lone instance gets no bursts).
    fn holds(&self) -> bool {
        !self.hold.is_zero() && self.routes.values().map(Vec::len).sum::<usize>() > 1
    }
}

/// Where a socket is in taking a burst: see [`SocketEntry::hold`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RxState {
    /// Waiting for a datagram.
    Idle,
    /// Being read (since `.0`, when the first datagram of a held burst was seen) until the
    /// queue is empty.
    Draining(Option<Instant>),
}

/// When a held datagram arrived, on the driver's clock: `now` less its age by the wall clock
/// (`wall` now, `stamp` its kernel receive time), the age at most `now - since` (the burst
/// was first seen at `since`), so a wall-clock step never makes a datagram look older than
/// its burst: an advert is never timed earlier than it could have arrived.
fn arrival(now: Instant, since: Instant, wall: Duration, stamp: Duration) -> Instant {
    now - wall.saturating_sub(stamp).min(now - since)
}

/// The hold of a socket carrying adverts at `interval`: 1% of it, at most 1 ms.
fn hold_for(interval: vrrp_proto::AdvertInterval) -> Duration {
    (interval.as_duration() / 100).min(Duration::from_millis(1))
}

/// One queued IPv4 advert: `Core::tx_buf[start..end]` to `dst` on socket `socket`, for
/// member `member` of unit `unit`.
struct TxSpan {
    socket: usize,
    start: usize,
    end: usize,
    dst: Ipv4Addr,
    unit: usize,
    member: usize,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct GarpJob {
    due: Instant,
    seq: u64,
    unit: usize,
    member: usize,
    remaining: u32,
}

struct RateLimit {
    window_start: Option<std::time::Instant>,
    logged: BTreeSet<String>,
}

struct Core {
    origin: std::time::Instant,
    units: Vec<Unit>,
    sockets: Vec<SocketEntry>,
    /// Receive buffers, taken out while a batch is processed.
    rx_batch: Option<Box<RxBatch>>,
    /// The latest instant handed to a state machine (they never see time go backwards).
    floor: Instant,
    /// The socket to poll first next time (round robin, so one busy socket cannot starve the
    /// others).
    rx_next: usize,
    /// The received advert, its address list reused from packet to packet.
    rx_adv: Option<Advertisement>,
    /// The advert being sent, reused likewise.
    tx_adv: Option<Advertisement>,
    /// IPv4 adverts queued for one `sendmmsg` per socket (see [`Core::flush_sends`]).
    tx_buf: Vec<u8>,
    tx_spans: Vec<TxSpan>,
    tx_scratch: Vec<(usize, usize, Ipv4Addr)>,
    addrs: AddressManager,
    announcer: Announcer,
    /// Unit deadlines, earliest first; may hold stale entries (see [`Unit::queued`]).
    timers: BinaryHeap<std::cmp::Reverse<(Instant, usize)>>,
    garps: BinaryHeap<std::cmp::Reverse<GarpJob>>,
    garp_seq: u64,
    status_tx: watch::Sender<BTreeMap<String, InstanceStatus>>,
    events_tx: mpsc::UnboundedSender<DriverEvent>,
    rx_errors: BTreeMap<String, u64>,
    rate: RateLimit,
    adv_buf: Vec<u8>,
}

/// Starts the driver on a thread of its own, with its own current-thread tokio runtime, in
/// the calling thread's network namespace, and returns once its instances are set up. Its
/// timing then depends on nothing else the program runs (and `realtime_priority` applies to
/// that thread only). Dropping the handle stops the driver as [`DriverHandle::shutdown`]
/// does; [`DriverHandle::abort`] stops it as `kill -9` would.
pub fn start(config: DriverConfig) -> Result<DriverHandle, DriverError> {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (abort_tx, mut abort_rx) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("vrrp-driver".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(DriverError::Thread(e)));
                    return;
                }
            };
            rt.block_on(async move {
                let (core, cmd_rx, links, parts) = match setup(config) {
                    Ok(parts) => parts,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                if ready_tx.send(Ok(parts)).is_err() {
                    return;
                }
                tokio::select! {
                    () = core.run(cmd_rx, links) => {}
                    // Only an abort ends it here: a dropped handle closes the command channel,
                    // which shuts the driver down gracefully.
                    Ok(()) = &mut abort_rx => {}
                }
            });
        })
        .map_err(DriverError::Thread)?;
    let parts = ready_rx.recv().map_err(|_| DriverError::Stopped)??;
    Ok(DriverHandle {
        cmd: parts.cmd,
        status: parts.status,
        events: Some(parts.events),
        abort: abort_tx,
    })
}

/// What the embedding program's handle gets from the driver's thread.
struct HandleParts {
    cmd: mpsc::UnboundedSender<Command>,
    status: watch::Receiver<BTreeMap<String, InstanceStatus>>,
    events: mpsc::UnboundedReceiver<DriverEvent>,
}

/// The driver and its inputs, and the handle's parts.
type Setup = (
    Core,
    mpsc::UnboundedReceiver<Command>,
    LinkWatcher,
    HandleParts,
);

/// Builds the driver inside its runtime (its sockets register with that runtime).
fn setup(config: DriverConfig) -> Result<Setup, DriverError> {
    let (status_tx, status_rx) = watch::channel(BTreeMap::new());
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    if let Some(p) = config.realtime_priority {
        match crate::sys::set_realtime(i32::from(p.clamp(1, 99))) {
            Ok(()) => tracing::info!(priority = p, "VRRP driver runs with SCHED_RR"),
            Err(e) => tracing::warn!(error = %e, "cannot use realtime scheduling"),
        }
    }
    let links = LinkWatcher::spawn()?;
    let mut core = Core {
        origin: std::time::Instant::now(),
        units: Vec::new(),
        sockets: Vec::new(),
        rx_batch: Some(Box::new(RxBatch::new())),
        rx_next: 0,
        floor: Instant::default(),
        rx_adv: None,
        tx_adv: None,
        tx_buf: Vec::new(),
        tx_spans: Vec::new(),
        tx_scratch: Vec::new(),
        addrs: AddressManager::new()?,
        announcer: Announcer::new()?,
        timers: BinaryHeap::new(),
        garps: BinaryHeap::new(),
        garp_seq: 0,
        status_tx,
        events_tx,
        rx_errors: BTreeMap::new(),
        rate: RateLimit {
            window_start: None,
            logged: BTreeSet::new(),
        },
        adv_buf: vec![0u8; 2048],
    };
    // Every instance starts at the same instant, as in keepalived: their timers then run in
    // step, and a Master's adverts for all of them go out in one wake-up.
    let now = core.now();
    for unit in config.units {
        core.add_unit(unit, now)?;
    }
    core.drain_all();
    core.flush_sends();
    Ok((
        core,
        cmd_rx,
        links,
        HandleParts {
            cmd: cmd_tx,
            status: status_rx,
            events: events_rx,
        },
    ))
}

fn resolve_vips(cfg: &InstanceConfig, ifindex: u32) -> Result<Vec<Vip>, NetError> {
    cfg.vips
        .iter()
        .map(|v| {
            let idx = match &v.dev {
                Some(d) => iface::index_of(d)?,
                None => ifindex,
            };
            Ok(Vip {
                addr: v.addr,
                prefix_len: v.prefix_len,
                ifindex: idx,
                broadcast: v.broadcast,
                scope: v.scope,
                label: v.label.clone(),
                nodad: v.nodad,
            })
        })
        .collect()
}

impl Core {
    fn now(&self) -> Instant {
        Instant::from_std(self.origin, std::time::Instant::now())
    }

    fn socket_for(&mut self, cfg: &InstanceConfig, source: IpAddr) -> Result<usize, NetError> {
        let ipv6 = cfg.router.family == AddressFamily::Ipv6;
        let destination = if cfg.router.unicast_peers.is_empty() {
            Destination::Multicast
        } else {
            Destination::Unicast(cfg.router.unicast_peers.clone())
        };
        let key = (cfg.interface.clone(), ipv6, source, destination.clone());
        if let Some(i) = self.sockets.iter().position(|s| s.key == key) {
            if let Some(s) = self.sockets.get_mut(i) {
                if s.policy.checksum != cfg.rx_checksum {
                    s.policy.checksum = RxChecksum::AcceptAny;
                }
                s.hold = s.hold.min(hold_for(cfg.router.advert_interval));
            }
            return Ok(i);
        }
        let sock = Arc::new(VrrpSocket::open(&SocketConfig {
            interface: cfg.interface.clone(),
            ipv6,
            source: Some(source),
            ttl: if destination == Destination::Multicast {
                255
            } else {
                cfg.unicast_ttl
            },
            destination,
        })?);
        let idx = self.sockets.len();
        self.sockets.push(SocketEntry {
            key,
            policy: RxPolicy {
                checksum: cfg.rx_checksum,
                version: None,
            },
            routes: HashMap::new(),
            hold: if sock.stamped() {
                hold_for(cfg.router.advert_interval)
            } else {
                Duration::ZERO
            },
            rx: RxState::Idle,
            sock,
        });
        Ok(idx)
    }

    fn member_io(&mut self, cfg: &InstanceConfig) -> Result<(MemberIo, RouterConfig), NetError> {
        let info = InterfaceInfo::lookup(&cfg.interface)?;
        let mut router = cfg.router.clone();
        router.virtual_addresses = cfg.vips.iter().map(|v| v.addr).collect();
        if router.primary_address.is_unspecified() {
            router.primary_address = match router.family {
                AddressFamily::Ipv4 => info.primary_ipv4().map(IpAddr::V4),
                AddressFamily::Ipv6 => info.link_local_ipv6().map(IpAddr::V6),
            }
            .ok_or_else(|| NetError::NoSourceAddress {
                interface: cfg.interface.clone(),
            })?;
        }
        let socket = self.socket_for(cfg, router.primary_address)?;
        let mut track_interfaces = Vec::new();
        for name in &cfg.track_interfaces {
            if let Some(t) = router
                .trackers
                .iter()
                .position(|t| t.kind == TrackerKind::Interface && &t.name == name)
            {
                track_interfaces.push((iface::index_of(name)?, t));
            }
        }
        Ok((
            MemberIo {
                name: router.name.clone(),
                socket,
                ifindex: info.index,
                mac: info.mac,
                vips: resolve_vips(cfg, info.index)?,
                retired_vips: Vec::new(),
                checksum: cfg.checksum,
                garp_interval: cfg.garp_interval,
                track_interfaces,
                config: cfg.clone(),
            },
            router,
        ))
    }

    /// Sets up a unit whose state machines start at `now`.
    fn add_unit(&mut self, unit: UnitConfig, now: Instant) -> Result<usize, DriverError> {
        let key = unit.key();
        let mut members = Vec::new();
        let mut routers = Vec::new();
        for cfg in unit.members() {
            let (io, router) = self.member_io(cfg)?;
            let vr = VirtualRouter::new(router, now).map_err(|e| DriverError::Rejected {
                instance: cfg.router.name.clone(),
                message: e.to_string(),
            })?;
            members.push(io);
            routers.push(vr);
        }
        let (machine, group) = match unit {
            UnitConfig::Instance(_) => match routers.pop() {
                Some(r) => (Machine::Single(Box::new(r)), None),
                None => return Err(DriverError::UnknownInstance(String::new())),
            },
            UnitConfig::SyncGroup { name, .. } => (
                Machine::Group(SyncGroup::new(name.clone(), routers, now)),
                Some(name),
            ),
        };
        let idx = self.units.len();
        for (m, io) in members.iter().enumerate() {
            let vrid = io.config.router.vrid.get();
            if let Some(s) = self.sockets.get_mut(io.socket) {
                s.routes.entry(vrid).or_default().push((idx, m));
            }
        }
        let mut unit = Unit {
            machine,
            group,
            members,
            deadline: None,
            queued: None,
            key,
            dead: false,
        };
        // Addresses left behind by a crashed predecessor would answer for a VIP this router
        // does not own yet (keepalived also clears them at start-up).
        for io in &unit.members {
            for v in &io.vips {
                let _ = self.addrs.remove(v);
            }
        }
        // Interfaces that are down now: tell the routers before they start.
        for (m, io) in unit.members.iter().enumerate() {
            if !crate::link::is_up(&io.config.interface).unwrap_or(true) {
                let _ = unit.machine.handle_event(now, m, Event::InterfaceDown);
            }
        }
        self.units.push(unit);
        self.refresh_timer(idx);
        self.publish_unit(idx);
        Ok(idx)
    }

    /// Records unit `u`'s next timeout. A later deadline (a Backup's Master_Down_Timer
    /// pushed back by an advert) leaves the queue alone: the queued entry comes up early and
    /// is then moved to the real deadline. Only an earlier one is queued now.
    fn refresh_timer(&mut self, u: usize) {
        let Some(unit) = self.units.get_mut(u) else {
            return;
        };
        unit.deadline = if unit.dead {
            None
        } else {
            unit.machine.poll_timeout()
        };
        if let Some(t) = unit.deadline
            && unit.queued.is_none_or(|q| t < q)
        {
            unit.queued = Some(t);
            self.timers.push(std::cmp::Reverse((t, u)));
        }
    }

    /// Updates the status watch for unit `u`'s instances (only what changed).
    fn publish_unit(&mut self, u: usize) {
        let Some(unit) = self.units.get(u).filter(|x| !x.dead) else {
            return;
        };
        self.status_tx.send_if_modified(|cur| {
            let mut changed = false;
            for (m, io) in unit.members.iter().enumerate() {
                let Some(r) = unit.machine.member(m) else {
                    continue;
                };
                let status = InstanceStatus {
                    state: r.state(),
                    priority: r.priority(),
                    master: r.master(),
                };
                match cur.get_mut(&io.name) {
                    Some(old) if *old == status => {}
                    Some(old) => {
                        *old = status;
                        changed = true;
                    }
                    None => {
                        cur.insert(io.name.clone(), status);
                        changed = true;
                    }
                }
            }
            changed
        });
    }

    fn publish_status(&mut self) {
        let mut map = BTreeMap::new();
        for unit in self.units.iter().filter(|u| !u.dead) {
            for (m, io) in unit.members.iter().enumerate() {
                if let Some(r) = unit.machine.member(m) {
                    map.insert(
                        io.name.clone(),
                        InstanceStatus {
                            state: r.state(),
                            priority: r.priority(),
                            master: r.master(),
                        },
                    );
                }
            }
        }
        self.status_tx.send_if_modified(|cur| {
            if *cur == map {
                false
            } else {
                *cur = map;
                true
            }
        });
    }

    fn drain_all(&mut self) {
        for u in 0..self.units.len() {
            self.drain(u);
        }
    }

    /// Performs every pending action of unit `u`, then re-arms its timer.
    fn drain(&mut self, u: usize) {
        let mut changed = false;
        loop {
            let Some(unit) = self.units.get_mut(u) else {
                return;
            };
            let Some((m, action)) = unit.machine.poll_action() else {
                break;
            };
            changed |= matches!(action, Action::StateChanged { .. });
            self.perform(u, m, action);
        }
        self.refresh_timer(u);
        if changed {
            self.publish_unit(u);
        }
    }

    fn perform(&mut self, u: usize, m: usize, action: Action) {
        if !matches!(
            action,
            Action::SendAdvert { .. } | Action::StateChanged { .. } | Action::Notify { .. }
        ) {
            // Queued adverts go out before anything else reaches the network, so the order on
            // the wire stays the state machine's (advert, then addresses and GARPs).
            self.flush_sends();
        }
        let Some(unit) = self.units.get(u) else {
            return;
        };
        let (Some(io), Some(router)) = (unit.members.get(m), unit.machine.member(m)) else {
            return;
        };
        match action {
            Action::SendAdvert { priority } => {
                let adv = self
                    .tx_adv
                    .get_or_insert_with(|| router.advertisement(priority));
                router.fill_advertisement(priority, adv);
                let Some(sock) = self.sockets.get(io.socket).map(|s| &s.sock) else {
                    return;
                };
                let src = sock.source();
                let group = [if sock.is_ipv6() {
                    IpAddr::V6(crate::socket::VRRP_GROUP_V6)
                } else {
                    IpAddr::V4(crate::socket::VRRP_GROUP_V4)
                }];
                let dsts: &[IpAddr] = match sock.destination() {
                    Destination::Multicast => &group,
                    Destination::Unicast(peers) => peers,
                };
                for &dst in dsts {
                    if let (IpAddr::V4(s4), IpAddr::V4(d4)) = (src, dst) {
                        // Queued: sent with the others due now by `flush_sends`.
                        let start = self.tx_buf.len();
                        let room = 20 + adv.buffer_len(AddressFamily::Ipv4);
                        self.tx_buf.resize(start + room, 0);
                        let out = self.tx_buf.get_mut(start..).unwrap_or_default();
                        let opts = crate::socket::ipv4_options(sock.ttl());
                        match vrrp_proto::ip::build_ipv4_advert_with(
                            adv,
                            s4,
                            d4,
                            &opts,
                            io.checksum,
                            out,
                        ) {
                            Ok(n) => {
                                self.tx_buf.truncate(start + n);
                                self.tx_spans.push(TxSpan {
                                    socket: io.socket,
                                    start,
                                    end: start + n,
                                    dst: d4,
                                    unit: u,
                                    member: m,
                                });
                            }
                            Err(e) => {
                                self.tx_buf.truncate(start);
                                tracing::warn!(instance = %io.name, error = %e, "advert encode failed");
                            }
                        }
                        continue;
                    }
                    match adv.emit(src, dst, io.checksum, &mut self.adv_buf) {
                        Ok(n) => {
                            let msg = self.adv_buf.get(..n).unwrap_or(&[]);
                            if let Err(e) = sock.try_send_to(dst, msg) {
                                tracing::warn!(instance = %io.name, %dst, error = %e, "advert send failed");
                            }
                        }
                        Err(e) => {
                            tracing::warn!(instance = %io.name, error = %e, "advert encode failed")
                        }
                    }
                }
            }
            Action::AddVips => {
                for v in &io.vips {
                    if let Err(e) = self.addrs.add(v) {
                        tracing::warn!(instance = %io.name, error = %e, "adding VIP failed");
                    }
                }
                tracing::info!(instance = %io.name, count = io.vips.len(), "VIPs added");
            }
            Action::RemoveVips => {
                for v in io.vips.iter().chain(&io.retired_vips) {
                    if let Err(e) = self.addrs.remove(v) {
                        tracing::warn!(instance = %io.name, error = %e, "removing VIP failed");
                    }
                }
                tracing::info!(instance = %io.name, count = io.vips.len(), "VIPs removed");
            }
            Action::UpdateVips { added, removed } => {
                for a in &removed {
                    if let Some(v) = io
                        .retired_vips
                        .iter()
                        .chain(&io.vips)
                        .find(|v| v.addr == *a)
                        && let Err(e) = self.addrs.remove(v)
                    {
                        tracing::warn!(instance = %io.name, error = %e, "removing VIP failed");
                    }
                }
                for a in &added {
                    if let Some(v) = io.vips.iter().find(|v| v.addr == *a)
                        && let Err(e) = self.addrs.add(v)
                    {
                        tracing::warn!(instance = %io.name, error = %e, "adding VIP failed");
                    }
                }
                tracing::info!(instance = %io.name, added = added.len(), removed = removed.len(), "VIPs updated");
            }
            Action::SendGarp { count, reason } => {
                tracing::debug!(instance = %io.name, count, ?reason, "GARP burst");
                let interval = io.garp_interval;
                if count == 0 {
                    return;
                }
                if interval.is_zero() {
                    for _ in 0..count {
                        self.announce(u, m);
                    }
                } else {
                    self.announce(u, m);
                    if count > 1 {
                        let due = self.now_plus(interval);
                        self.push_garp(u, m, due, count - 1);
                    }
                }
            }
            Action::SetAcceptFilter { block } => {
                tracing::info!(instance = %io.name, block, "accept mode filter (not enforced: no firewall backend yet)");
            }
            Action::StateChanged { from, to, reason } => {
                tracing::info!(instance = %io.name, %from, %to, ?reason, "VRRP state change");
                let _ = self.events_tx.send(DriverEvent::StateChanged {
                    instance: io.name.clone(),
                    from,
                    to,
                    reason,
                });
            }
            Action::Notify { event, priority } => {
                let _ = self.events_tx.send(DriverEvent::Notify {
                    instance: io.name.clone(),
                    group: unit.group.clone(),
                    event,
                    priority,
                });
            }
            _ => {}
        }
    }

    /// Sends the queued IPv4 adverts: one `sendmmsg` per run of adverts on the same socket.
    fn flush_sends(&mut self) {
        if self.tx_spans.is_empty() {
            return;
        }
        let mut i = 0;
        while let Some(first) = self.tx_spans.get(i) {
            let socket = first.socket;
            let run = self
                .tx_spans
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|t| t.socket == socket)
                .count();
            let spans = self.tx_spans.get(i..i + run).unwrap_or_default();
            self.tx_scratch.clear();
            self.tx_scratch
                .extend(spans.iter().map(|t| (t.start, t.end, t.dst)));
            if let Some(entry) = self.sockets.get(socket) {
                let units = &self.units;
                entry
                    .sock
                    .send_datagrams_v4(&self.tx_buf, &self.tx_scratch, |k, e| {
                        let name = spans
                            .get(k)
                            .and_then(|t| units.get(t.unit)?.members.get(t.member))
                            .map_or("", |io| io.name.as_str());
                        let dst = spans.get(k).map(|t| t.dst);
                        tracing::warn!(instance = %name, ?dst, error = %e, "advert send failed");
                    });
            }
            i += run.max(1);
        }
        self.tx_spans.clear();
        self.tx_buf.clear();
    }

    fn now_plus(&self, d: Duration) -> Instant {
        Instant::from_std(self.origin, std::time::Instant::now() + d)
    }

    fn push_garp(&mut self, unit: usize, member: usize, due: Instant, remaining: u32) {
        self.garp_seq += 1;
        self.garps.push(std::cmp::Reverse(GarpJob {
            due,
            seq: self.garp_seq,
            unit,
            member,
            remaining,
        }));
    }

    fn announce(&self, u: usize, m: usize) {
        let Some(io) = self.units.get(u).and_then(|x| x.members.get(m)) else {
            return;
        };
        let Some(mac) = io.mac else {
            return;
        };
        for v in &io.vips {
            let r = match v.addr {
                IpAddr::V4(a) => self.announcer.garp(v.ifindex, mac, a),
                IpAddr::V6(a) => self.announcer.unsolicited_na(v.ifindex, mac, a),
            };
            if let Err(e) = r {
                tracing::debug!(instance = %io.name, error = %e, "GARP/NA send failed");
            }
        }
    }

    fn count_rx_error(&mut self, reason: &str, detail: &dyn std::fmt::Display) {
        *self.rx_errors.entry(reason.to_owned()).or_default() += 1;
        let now = std::time::Instant::now();
        let fresh = !matches!(self.rate.window_start,
            Some(t) if now.duration_since(t) < Duration::from_secs(10));
        if fresh {
            self.rate.window_start = Some(now);
            self.rate.logged.clear();
        }
        if self.rate.logged.insert(reason.to_owned()) {
            tracing::warn!(reason, %detail, "VRRP packet refused (further ones with this reason are counted, logged again in 10 s)");
        }
    }

    /// A datagram arrived on holding socket `s`: let the rest of the burst arrive (for the
    /// socket's hold, or until the next timer is due if that is sooner), then read it all.
    /// The thread sleeps: waiting in epoll would wake it for every datagram of the burst.
    /// It is the driver's own thread (see [`start`]): nothing else waits meanwhile.
    fn hold(&mut self, s: usize) {
        let now = self.now();
        let Some(entry) = self.sockets.get(s) else {
            return;
        };
        let mut pause = entry.hold;
        if let Some(next) = self.next_deadline() {
            pause = pause.min(next - now);
        }
        if !pause.is_zero() {
            std::thread::sleep(pause);
        }
        if let Some(entry) = self.sockets.get_mut(s) {
            entry.rx = RxState::Draining(Some(now));
        }
    }

    /// Handles the datagrams [`VrrpSocket::poll_recv_batch`] put in `self.rx_batch`.
    fn on_batch(&mut self, s: usize) {
        let Some(batch) = self.rx_batch.take() else {
            return;
        };
        let now = self.now();
        // Held datagrams are timed by their arrival: the kernel's receive time, as an age
        // (wall clock now minus then) at most the time since the first was seen, so a step
        // of the wall clock can only make one look newer, never older, than it is.
        let since = match self.sockets.get(s).map(|e| e.rx) {
            Some(RxState::Draining(Some(since))) => Some(since),
            _ => None,
        };
        let wall = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok();
        for i in 0..batch.len() {
            let Some((data, v6)) = batch.get(i) else {
                continue;
            };
            let at = match (since, batch.stamp(i), wall) {
                (Some(since), Some(stamp), Some(wall)) => arrival(now, since, wall, stamp),
                _ => now,
            };
            // The state machines never see time go backwards.
            let at = at.max(self.floor);
            self.floor = at;
            self.on_datagram(s, at, data, v6);
        }
        self.rx_batch = Some(batch);
    }

    /// One received datagram: the whole IPv4 packet, or an IPv6 payload and what the
    /// ancillary data said (`None`: it said too little).
    fn on_datagram(
        &mut self,
        s: usize,
        now: Instant,
        data: &[u8],
        v6: Option<crate::socket::V6Meta>,
    ) {
        let Some(entry) = self.sockets.get(s) else {
            return;
        };
        let (src, dst) = if entry.sock.is_ipv6() {
            let Some(meta) = v6 else {
                self.count_rx_error("bad_ip_header", &RxError::MissingAncillary);
                return;
            };
            (IpAddr::V6(meta.src), IpAddr::V6(meta.dst))
        } else {
            match crate::socket::split_ipv4(data) {
                Ok(p) => (IpAddr::V4(p.src), IpAddr::V4(p.dst)),
                Err(e) => {
                    self.count_rx_error("bad_ip_header", &e);
                    return;
                }
            }
        };
        // A multicast socket also sees unicast VRRP to our address, and a unicast socket
        // only cares about its peers.
        match entry.sock.destination() {
            Destination::Multicast if !dst.is_multicast() => return,
            Destination::Unicast(peers) if !peers.contains(&src) => return,
            _ => {}
        }
        let policy = entry.policy;
        let decoded = match (v6, src, dst) {
            (Some(meta), _, _) => {
                vrrp_proto::decode_ipv6(meta.src, meta.dst, meta.hop_limit, data, &policy)
            }
            _ => vrrp_proto::decode_ipv4(data, &policy),
        };
        let rx = match decoded {
            Ok(rx) => rx,
            Err(e) => {
                self.count_rx_error(e.reason(), &format_args!("from {src}: {e}"));
                return;
            }
        };
        let vrid = rx.advert.vrid.get();
        if !entry.routes.contains_key(&vrid) {
            self.count_rx_error("unknown_vrid", &format_args!("from {src}: VRID {vrid}"));
            return;
        }
        // The owned form the state machines take, its address list reused.
        let adv = self
            .rx_adv
            .get_or_insert_with(|| rx.advert.to_advertisement());
        adv.version = rx.advert.version;
        adv.vrid = rx.advert.vrid;
        adv.priority = rx.advert.priority;
        adv.interval = rx.advert.interval;
        adv.auth = rx.advert.auth;
        if !rx.advert.addresses_equal(&adv.addresses) {
            adv.addresses.clear();
            adv.addresses.extend(rx.advert.addresses());
        }
        for k in 0.. {
            let Some(&(u, m)) = self
                .sockets
                .get(s)
                .and_then(|e| e.routes.get(&vrid))
                .and_then(|v| v.get(k))
            else {
                break;
            };
            let (Some(unit), Some(adv)) = (self.units.get_mut(u), self.rx_adv.as_ref()) else {
                continue;
            };
            if unit.dead {
                continue;
            }
            if let Err(d) = unit.machine.handle_advert(now, m, src, adv) {
                let reason = format!("{d:?}");
                self.count_rx_error(&reason, &format_args!("from {src}: {d}"));
            }
            self.drain(u);
        }
    }

    /// How early a unit's timeout may fire to share a wake-up with others: Master advert
    /// timers (and GARP refreshes) up to 1 ms or 1% of the advert interval early, whichever
    /// is less; anything else (a Backup's Master_Down_Timer) never early.
    fn early_slack(unit: &Unit) -> Duration {
        match &unit.machine {
            Machine::Single(r) if r.state() == State::Master => {
                (r.config().advert_interval.as_duration() / 100).min(Duration::from_millis(1))
            }
            _ => Duration::ZERO,
        }
    }

    fn on_timer(&mut self) {
        let now = self.now();
        self.floor = self.floor.max(now);
        // Entries up to this far ahead are examined now: a pushed-back deadline is moved to
        // its real time (cheap, no timeout fires), so units whose deadlines moved together
        // keep sharing wake-ups.
        let horizon = now + Duration::from_millis(1);
        let mut requeue = Vec::new();
        while let Some(&std::cmp::Reverse((t, u))) = self.timers.peek() {
            if t > horizon {
                break;
            }
            self.timers.pop();
            let Some(unit) = self.units.get_mut(u) else {
                continue;
            };
            if unit.queued != Some(t) {
                continue; // stale: an earlier entry of this unit came first
            }
            unit.queued = None;
            let Some(d) = unit.deadline else {
                continue;
            };
            let due = if d <= now {
                Some(now)
            } else if d <= now + Self::early_slack(unit) {
                Some(d)
            } else {
                None
            };
            match due {
                Some(at) => {
                    unit.deadline = None;
                    unit.machine.handle_timeout(at);
                    self.floor = self.floor.max(at);
                    self.drain(u);
                }
                None => requeue.push((d, u)),
            }
        }
        for (d, u) in requeue {
            if let Some(unit) = self.units.get_mut(u)
                && unit.deadline == Some(d)
                && unit.queued.is_none_or(|q| d < q)
            {
                unit.queued = Some(d);
                self.timers.push(std::cmp::Reverse((d, u)));
            }
        }
        while let Some(std::cmp::Reverse(job)) = self.garps.peek() {
            if job.due > now {
                break;
            }
            let Some(std::cmp::Reverse(job)) = self.garps.pop() else {
                break;
            };
            if self.units.get(job.unit).is_some_and(|x| {
                !x.dead
                    && x.machine
                        .member(job.member)
                        .is_some_and(|r| r.state() == State::Master)
            }) {
                self.flush_sends();
                self.announce(job.unit, job.member);
                if job.remaining > 1 {
                    let interval = self
                        .units
                        .get(job.unit)
                        .and_then(|x| x.members.get(job.member))
                        .map_or(Duration::ZERO, |io| io.garp_interval);
                    let due = self.now_plus(interval);
                    self.push_garp(job.unit, job.member, due, job.remaining - 1);
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let t = self.timers.peek().map(|r| r.0.0);
        let g = self.garps.peek().map(|j| j.0.due);
        [t, g].into_iter().flatten().min()
    }

    fn find(&self, name: &str) -> Option<(usize, usize)> {
        self.units.iter().enumerate().find_map(|(u, unit)| {
            if unit.dead {
                return None;
            }
            unit.members
                .iter()
                .position(|io| io.name == name)
                .map(|m| (u, m))
        })
    }

    fn on_link(&mut self, ifindex: u32, up: bool) {
        let now = self.now();
        for u in 0..self.units.len() {
            let Some(unit) = self.units.get_mut(u) else {
                continue;
            };
            if unit.dead {
                continue;
            }
            let mut touched = false;
            for m in 0..unit.members.len() {
                let Some(io) = unit.members.get(m) else {
                    continue;
                };
                let own = io.ifindex == ifindex;
                let tracked: Vec<usize> = io
                    .track_interfaces
                    .iter()
                    .filter(|(i, _)| *i == ifindex)
                    .map(|(_, t)| *t)
                    .collect();
                if own {
                    let ev = if up {
                        Event::InterfaceUp
                    } else {
                        Event::InterfaceDown
                    };
                    let _ = unit.machine.handle_event(now, m, ev);
                    touched = true;
                }
                for index in tracked {
                    let status = if up {
                        TrackerStatus::Up
                    } else {
                        TrackerStatus::Down
                    };
                    let _ = unit
                        .machine
                        .handle_event(now, m, Event::Tracker { index, status });
                    touched = true;
                }
            }
            if touched {
                self.drain(u);
            }
        }
    }

    fn on_tracker(&mut self, name: &str, status: TrackerStatus) -> usize {
        let now = self.now();
        let mut n = 0;
        for u in 0..self.units.len() {
            let Some(unit) = self.units.get_mut(u) else {
                continue;
            };
            if unit.dead {
                continue;
            }
            for m in 0..unit.members.len() {
                let idx = unit.machine.member(m).and_then(|r| r.tracker_index(name));
                if let Some(index) = idx {
                    let _ = unit
                        .machine
                        .handle_event(now, m, Event::Tracker { index, status });
                    n += 1;
                }
            }
            self.drain(u);
        }
        n
    }

    fn remove_unit(&mut self, u: usize, event: Event) {
        let now = self.now();
        if let Some(unit) = self.units.get_mut(u) {
            for m in 0..unit.members.len() {
                let _ = unit.machine.handle_event(now, m, event.clone());
            }
        }
        self.drain(u);
        if let Some(unit) = self.units.get_mut(u) {
            unit.dead = true;
        }
        self.refresh_timer(u);
        for s in &mut self.sockets {
            for v in s.routes.values_mut() {
                v.retain(|(x, _)| *x != u);
            }
        }
        if let Some(unit) = self.units.get(u) {
            self.status_tx.send_if_modified(|cur| {
                let before = cur.len();
                for io in &unit.members {
                    cur.remove(&io.name);
                }
                cur.len() != before
            });
        }
    }

    fn reload(&mut self, config: DriverConfig) -> Result<ReloadSummary, DriverError> {
        let mut summary = ReloadSummary::default();
        let mut keep: Vec<bool> = vec![false; self.units.len()];
        let mut new_units = Vec::new();
        let now = self.now();
        for unit_cfg in config.units {
            let key = unit_cfg.key();
            let found = self.units.iter().enumerate().position(|(i, x)| {
                !x.dead && x.key == key && !keep.get(i).copied().unwrap_or(true)
            });
            let Some(u) = found else {
                new_units.push(unit_cfg);
                continue;
            };
            if let Some(k) = keep.get_mut(u) {
                *k = true;
            }
            for (m, cfg) in unit_cfg.members().iter().enumerate() {
                let (mut io, router) = self.member_io(cfg)?;
                let Some(unit) = self.units.get_mut(u) else {
                    continue;
                };
                if let Some(old) = unit.members.get(m) {
                    io.retired_vips = old
                        .vips
                        .iter()
                        .filter(|v| !io.vips.iter().any(|n| n.addr == v.addr))
                        .cloned()
                        .collect();
                    // Keep the VRID route of the old socket if the socket changed.
                    io.name = router.name.clone();
                }
                if let Some(slot) = unit.members.get_mut(m) {
                    *slot = io;
                }
                unit.machine
                    .handle_event(now, m, Event::Reload(Box::new(router)))
                    .map_err(|e| DriverError::Rejected {
                        instance: cfg.router.name.clone(),
                        message: e.to_string(),
                    })?;
                summary.kept.push(cfg.router.name.clone());
            }
            self.drain(u);
        }
        for (u, kept) in keep.iter().enumerate() {
            if !kept && self.units.get(u).is_some_and(|x| !x.dead) {
                if let Some(unit) = self.units.get(u) {
                    summary
                        .removed
                        .extend(unit.members.iter().map(|io| io.name.clone()));
                }
                self.remove_unit(u, Event::Delete);
            }
        }
        for unit_cfg in new_units {
            summary
                .added
                .extend(unit_cfg.members().iter().map(|c| c.router.name.clone()));
            let u = self.add_unit(unit_cfg, now)?;
            self.drain(u);
        }
        // Routes of kept units may point at new sockets (a changed source); rebuild them.
        for s in &mut self.sockets {
            s.routes.clear();
        }
        for (u, unit) in self.units.iter().enumerate() {
            if unit.dead {
                continue;
            }
            for (m, io) in unit.members.iter().enumerate() {
                if let Some(s) = self.sockets.get_mut(io.socket) {
                    s.routes
                        .entry(io.config.router.vrid.get())
                        .or_default()
                        .push((u, m));
                }
            }
        }
        self.publish_status();
        Ok(summary)
    }

    fn stats(&self) -> DriverStats {
        let mut st = DriverStats {
            rx_errors: self.rx_errors.clone(),
            instances: BTreeMap::new(),
        };
        for unit in self.units.iter().filter(|u| !u.dead) {
            for (m, io) in unit.members.iter().enumerate() {
                if let Some(r) = unit.machine.member(m) {
                    st.instances.insert(io.name.clone(), *r.counters());
                }
            }
        }
        st
    }

    fn shutdown(&mut self) {
        for u in 0..self.units.len() {
            if self.units.get(u).is_some_and(|x| !x.dead) {
                self.remove_unit(u, Event::Shutdown);
            }
        }
        self.flush_sends();
    }

    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Command>, mut links: LinkWatcher) {
        let mut links_open = true;
        // tokio's timers round up to whole milliseconds; a timerfd wakes us at the deadline
        // itself, which is what takeover latency at 10 ms adverts needs.
        let timer = match precise_timer() {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, "no timerfd; falling back to tokio's millisecond timers");
                None
            }
        };
        // What the timerfd is armed for: it is re-armed only for an earlier deadline (a later
        // one just means an early wake-up, after which it is armed again).
        let mut armed: Option<Instant> = None;
        loop {
            self.flush_sends();
            let next = self.next_deadline();
            if let (Some(t), Some(n)) = (&timer, next)
                && armed.is_none_or(|a| n < a)
            {
                let left = n
                    .to_std(self.origin)
                    .saturating_duration_since(std::time::Instant::now())
                    .max(Duration::from_nanos(1));
                if t.get_ref()
                    .0
                    .set(
                        Expiration::OneShot(TimeSpec::from_duration(left)),
                        TimerSetTimeFlags::empty(),
                    )
                    .is_ok()
                {
                    armed = Some(n);
                }
            }
            let deadline = next.map(|t| t.to_std(self.origin));
            let sleep = async {
                match (&timer, deadline) {
                    (Some(t), _) if armed.is_some() => {
                        // Wait for an expiration and consume it; EAGAIN (readiness left over
                        // from the last one, or a re-arm) means wait again.
                        loop {
                            let Ok(mut guard) = t.readable().await else {
                                break;
                            };
                            let read = guard.try_io(|inner| {
                                inner.get_ref().0.wait().map_err(std::io::Error::from)
                            });
                            if let Ok(r) = read {
                                // A one-shot timer is not readable again until re-armed.
                                guard.clear_ready();
                                if r.is_ok() {
                                    break;
                                }
                            }
                        }
                    }
                    (None, Some(d)) => {
                        tokio::time::sleep_until(tokio::time::Instant::from_std(d)).await
                    }
                    _ => std::future::pending().await,
                }
            };
            let (sockets, batch, first) = (&mut self.sockets, &mut self.rx_batch, self.rx_next);
            let recv = std::future::poll_fn(|cx| {
                let Some(batch) = batch.as_deref_mut() else {
                    return Poll::Pending;
                };
                let n = sockets.len();
                for k in 0..n {
                    let i = (first + k) % n;
                    let Some(entry) = sockets.get_mut(i) else {
                        continue;
                    };
                    match entry.rx {
                        RxState::Idle if entry.holds() => match entry.sock.poll_readable(cx) {
                            Poll::Ready(Ok(())) => return Poll::Ready((i, Rx::Arrived)),
                            Poll::Ready(Err(e)) => return Poll::Ready((i, Rx::Batch(Err(e)))),
                            Poll::Pending => continue,
                        },
                        _ => match entry.sock.poll_recv_batch(cx, batch) {
                            Poll::Ready(r) => return Poll::Ready((i, Rx::Batch(r))),
                            Poll::Pending => entry.rx = RxState::Idle,
                        },
                    }
                }
                Poll::Pending
            });
            tokio::select! {
                biased;
                _ = sleep => {
                    armed = None;
                    self.on_timer();
                }
                (s, r) = recv => {
                    self.rx_next = s + 1;
                    match r {
                        Rx::Arrived => self.hold(s),
                        Rx::Batch(Ok(n)) => {
                            self.on_batch(s);
                            if n < RxBatch::CAPACITY
                                && let Some(entry) = self.sockets.get_mut(s)
                            {
                                entry.rx = RxState::Idle;
                            }
                        }
                        Rx::Batch(Err(e)) => {
                            if let Some(entry) = self.sockets.get_mut(s) {
                                entry.rx = RxState::Idle;
                            }
                            tracing::warn!(error = %e, "VRRP socket receive failed");
                        }
                    }
                }
                ev = links.next(), if links_open => match ev {
                    Some(ev) => self.on_link(ev.ifindex, ev.up),
                    None => links_open = false,
                },
                cmd = cmds.recv() => match cmd {
                    None => {
                        self.shutdown();
                        return;
                    }
                    Some(Command::Shutdown(done)) => {
                        self.shutdown();
                        let _ = done.send(());
                        return;
                    }
                    Some(Command::Stats(tx)) => {
                        let _ = tx.send(self.stats());
                    }
                    Some(Command::Tracker(name, status, tx)) => {
                        let n = self.on_tracker(&name, status);
                        let _ = tx.send(n);
                    }
                    Some(Command::Reload(cfg, tx)) => {
                        let _ = tx.send(self.reload(*cfg));
                    }
                    Some(Command::Event(name, ev, tx)) => {
                        let r = match self.find(&name) {
                            None => Err(DriverError::UnknownInstance(name)),
                            Some((u, m)) => {
                                let now = self.now();
                                let r = self.units.get_mut(u).map(|unit| {
                                    unit.machine.handle_event(now, m, ev)
                                });
                                self.drain(u);
                                match r {
                                    Some(Err(e)) => Err(DriverError::Rejected {
                                        instance: name,
                                        message: e.to_string(),
                                    }),
                                    _ => Ok(()),
                                }
                            }
                        };
                        let _ = tx.send(r);
                    }
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_adverts_are_timed_by_arrival_within_their_burst() {
        let t = |us: u64| Instant::default() + Duration::from_micros(us);
        let wall = Duration::from_secs(1_700_000_000);
        let (since, now) = (t(10_000), t(11_000));
        // Arrived 300 µs ago by the kernel's stamp.
        let a = arrival(now, since, wall, wall - Duration::from_micros(300));
        assert_eq!(a, t(10_700));
        // A stamp older than the burst (or a wall clock stepped forward) is clamped to the
        // moment the burst was seen.
        let a = arrival(now, since, wall, wall - Duration::from_secs(5));
        assert_eq!(a, since);
        // A stamp in the future (wall clock stepped back) counts as arriving now.
        let a = arrival(now, since, wall, wall + Duration::from_secs(5));
        assert_eq!(a, now);
    }

    #[test]
    fn hold_is_one_percent_of_the_interval_at_most_1_ms() {
        let i = |cs: u16| vrrp_proto::AdvertInterval::from_centis(cs).unwrap();
        assert_eq!(hold_for(i(1)), Duration::from_micros(100));
        assert_eq!(hold_for(i(10)), Duration::from_millis(1));
        assert_eq!(hold_for(i(100)), Duration::from_millis(1));
    }
}
