//! The pure scheduling core: keepalived's checker state machine and pool semantics on injected
//! time, with seeded randomness and no I/O.
//!
//! The caller owns the clock and the probes:
//!
//! 1. build a [`Pool`] from the configuration, a seed and the current time;
//! 2. sleep until [`Pool::poll_timeout`], then take every [`DueCheck`] from [`Pool::poll_due`]
//!    and run the probe it names (each with its `timeout`);
//! 3. hand each probe's [`Outcome`] back with [`Pool::handle_result`];
//! 4. drain [`Pool::poll_event`]: real servers up/down, weight and quorum changes, scripts to run
//!    and the IPVS operations ([`IpvsOp`]) that keep the kernel table in line.
//!
//! Time is a [`Duration`] since an origin the caller chooses (monotonic).
//!
//! # Semantics (keepalived 2.2.7, `check/ipwrapper.c` and the checkers' epilogs)
//!
//! - A checker that is up and fails with `retry_it < retry` is re-checked after
//!   `delay_before_retry`; it goes down after `retry + 1` consecutive failures. One success
//!   brings a down checker up. Before its first run a checker without `alpha` is up with its
//!   retry counter preset, so its first failure takes it down at once; with `alpha` it starts down.
//! - The first check runs at 1 s + random(0..=warmup).
//! - A real server is alive iff all its checkers are up (always, without checkers).
//! - Its weight is the configured weight plus dynamic adjustments (MISC_CHECK `misc_dynamic`,
//!   FILE_CHECK with a weight), clamped to 0..=i32::MAX.
//! - Quorum: the sum of the weights of alive servers; it starts up iff sum ≥ quorum +
//!   hysteresis, goes down when sum < quorum − hysteresis or sum is 0, and up again when sum ≥
//!   quorum + hysteresis. `quorum` is clamped to the total configured weight, `hysteresis` to
//!   quorum − 1.
//! - IPVS: an alive server is in the table with its weight, unless quorum is down and a sorry
//!   server exists (then the sorry server is in the table instead). A failed server is removed, or
//!   kept at weight 0 with `inhibit_on_failure`. The sorry server is removed on quorum gain, or
//!   kept at weight 0 with `sorry_server_inhibit`.
//! - `ha_suspend`: the checks of a virtual server whose address is not local are skipped (see
//!   [`Pool::set_vip_present`]).

use crate::config::{CheckerKind, StartupPolicy, VirtualServerConfig, VirtualServerKey};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

/// keepalived's fixed start offset of the first check.
const FIRST_CHECK_OFFSET: Duration = Duration::from_secs(1);

/// Weight given to a sorry server in the IPVS table (keepalived adds it with weight 1).
const SORRY_WEIGHT: u32 = 1;

/// Identifies one checker: indices of its virtual server, real server and checker in the
/// configuration the [`Pool`] was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CheckerId {
    /// Index of the virtual server.
    pub vs: usize,
    /// Index of the real server within the virtual server.
    pub rs: usize,
    /// Index of the checker within the real server.
    pub checker: usize,
}

/// A check that is due: run the probe of checker `id`, bounded by `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCheck {
    /// The checker to run.
    pub id: CheckerId,
    /// When it was due (the lag of a check is its start time minus this).
    pub due: Duration,
    /// The bound of this attempt (`connect_timeout`, or `misc_timeout` for MISC_CHECK; for an
    /// HTTP_GET/SSL_GET attempt covering several urls, `connect_timeout` per url).
    pub timeout: Duration,
    /// HTTP_GET/SSL_GET: the `url` blocks this attempt checks (indexes into
    /// [`HttpCheck::urls`](crate::config::HttpCheck::urls)); `0..1` for the other checkers.
    pub urls: UrlRange,
}

/// The `url` blocks one HTTP_GET/SSL_GET attempt checks, `start..end`.
///
/// keepalived checks one url per `delay_loop`, in turn. A checker that is down (or starts in
/// `alpha` mode) comes up once every url has passed, one per `delay_loop`; with
/// `fast_recovery` the recovering checker checks all the remaining urls in one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UrlRange {
    /// First url index checked.
    pub start: usize,
    /// One past the last url index checked.
    pub end: usize,
}

/// The result of one probe run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The probe passed.
    Up,
    /// The probe failed (connect refused, timeout, bad status, digest mismatch, exit 1, ...).
    Down,
    /// MISC_CHECK with `misc_dynamic`: passed, with weight adjustment `exit code − 2`.
    UpWithWeight(i64),
    /// FILE_CHECK: the integer read from the tracked file.
    FileValue(i64),
}

/// A change of the kernel IPVS table of one virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsOp {
    /// Add destination `rs` with `weight`.
    AddDest {
        /// Index of the virtual server.
        vs: usize,
        /// The destination.
        rs: SocketAddr,
        /// Its weight.
        weight: u32,
    },
    /// Change the weight of destination `rs`.
    EditDest {
        /// Index of the virtual server.
        vs: usize,
        /// The destination.
        rs: SocketAddr,
        /// Its new weight.
        weight: u32,
    },
    /// Remove destination `rs`.
    DelDest {
        /// Index of the virtual server.
        vs: usize,
        /// The destination.
        rs: SocketAddr,
    },
}

/// Why a script is to be run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotifyKind {
    /// A real server's `notify_up`.
    RealServerUp,
    /// A real server's `notify_down`.
    RealServerDown,
    /// A virtual server's `quorum_up`.
    QuorumUp,
    /// A virtual server's `quorum_down`.
    QuorumDown,
}

/// What the pool tells its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A real server became alive (all its checkers up).
    RealServerUp {
        /// Index of the virtual server.
        vs: usize,
        /// The real server.
        rs: SocketAddr,
    },
    /// A real server stopped being alive.
    RealServerDown {
        /// Index of the virtual server.
        vs: usize,
        /// The real server.
        rs: SocketAddr,
    },
    /// A real server's effective weight changed (dynamic weights).
    WeightChanged {
        /// Index of the virtual server.
        vs: usize,
        /// The real server.
        rs: SocketAddr,
        /// The new effective weight.
        weight: u32,
    },
    /// The virtual server lost its quorum.
    QuorumLost {
        /// Index of the virtual server.
        vs: usize,
    },
    /// The virtual server regained its quorum.
    QuorumGained {
        /// Index of the virtual server.
        vs: usize,
    },
    /// Run a notify script.
    Notify {
        /// Why.
        kind: NotifyKind,
        /// Index of the virtual server.
        vs: usize,
        /// The real server, for real-server notifies.
        rs: Option<SocketAddr>,
        /// The script, as configured.
        script: String,
    },
    /// Apply this change to the IPVS table.
    Ipvs(IpvsOp),
}

/// Options of the pool that are not keepalived configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolOptions {
    /// What a real server does before its first check (keepalived's default, or check first).
    pub startup: StartupPolicy,
}

/// State of one checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct CheckerState {
    is_up: bool,
    has_run: bool,
    retry_it: u32,
    /// Dynamic weight contribution.
    adjust: i64,
    /// Bumped whenever the pending heap entry is superseded.
    generation: u64,
    running: bool,
    /// HTTP_GET/SSL_GET: the next url to check.
    url_next: usize,
    /// HTTP_GET/SSL_GET: the urls the running attempt checks.
    url_running: UrlRange,
    /// [`Pool::check_now`] came while the check ran: run again as soon as it ends.
    recheck: bool,
}

#[derive(Debug, Clone)]
struct RsState {
    alive: bool,
    weight: u32,
    /// What the IPVS table holds for this server (None = absent).
    in_ipvs: Option<u32>,
    checkers: Vec<CheckerState>,
}

#[derive(Debug, Clone)]
struct VsState {
    quorum_up: bool,
    /// Sum of the weights of alive real servers (kept up to date incrementally).
    alive_sum: u64,
    /// Sum of the configured real-server weights (quorum is clamped to it).
    total_weight: u64,
    vip_present: bool,
    sorry_in_ipvs: Option<u32>,
    rs: Vec<RsState>,
}

/// A small deterministic PRNG (splitmix64) so that warmup spreading is reproducible from a seed.
#[derive(Debug, Clone)]
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform-ish in 0..=max.
    fn up_to(&mut self, max: Duration) -> Duration {
        let nanos = u64::try_from(max.as_nanos()).unwrap_or(u64::MAX);
        if nanos == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.next() % nanos.saturating_add(1))
    }
}

/// The whole checker side: every virtual server, its real servers and their checkers.
#[derive(Debug, Clone)]
pub struct Pool {
    config: Vec<VirtualServerConfig>,
    state: Vec<VsState>,
    options: PoolOptions,
    /// (due, sequence, flat checker index, generation).
    heap: BinaryHeap<Reverse<(Duration, u64, usize, u64)>>,
    /// Flat index → checker id.
    ids: Vec<CheckerId>,
    seq: u64,
    rng: SplitMix,
    events: VecDeque<Event>,
    shut_down: bool,
}

fn clamp_weight(base: u32, adjust: i64) -> u32 {
    let w = i64::from(base).saturating_add(adjust);
    u32::try_from(w.clamp(0, i64::from(i32::MAX))).unwrap_or(0)
}

impl Pool {
    /// Builds the pool at time `now` with keepalived's startup semantics. The startup IPVS
    /// operations (servers added before their first check, sorry servers, inhibited servers at
    /// weight 0) are queued as events.
    pub fn new(
        config: Vec<VirtualServerConfig>,
        seed: u64,
        now: Duration,
        options: PoolOptions,
    ) -> Self {
        Self::build(config, seed, now, options, &HashMap::new())
    }

    /// Builds the pool; `carried` is what a reload keeps from the previous pool, by virtual
    /// server key (one hash lookup per virtual server, then one per real server address).
    fn build(
        config: Vec<VirtualServerConfig>,
        seed: u64,
        now: Duration,
        options: PoolOptions,
        carried: &HashMap<VirtualServerKey, CarriedVs>,
    ) -> Self {
        let mut pool = Pool {
            config,
            state: Vec::new(),
            options,
            heap: BinaryHeap::new(),
            ids: Vec::new(),
            seq: 0,
            rng: SplitMix(seed),
            events: VecDeque::new(),
            shut_down: false,
        };
        let checker_total = pool
            .config
            .iter()
            .flat_map(|v| v.real_servers.iter())
            .map(|r| r.checkers.len())
            .sum();
        pool.ids.reserve(checker_total);
        pool.heap.reserve(checker_total);
        let mut old_vss = Vec::with_capacity(pool.config.len());
        for (vi, vs) in pool.config.iter().enumerate() {
            let old_vs = carried.get(&vs.key);
            old_vss.push(old_vs);
            let mut rs_states = Vec::with_capacity(vs.real_servers.len());
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                let old = old_vs.and_then(|o| o.rs.get(&rs.addr));
                let mut checkers = Vec::with_capacity(rs.checkers.len());
                for (ci, ck) in rs.checkers.iter().enumerate() {
                    let migrated = old.and_then(|o| {
                        o.checkers
                            .iter()
                            .find(|(cfg, _)| cfg == ck)
                            .map(|(_, st)| *st)
                    });
                    let state = match migrated {
                        Some(st) => CheckerState {
                            running: false,
                            generation: 0,
                            recheck: false,
                            ..st
                        },
                        None => {
                            let starts_down = ck.timing.alpha
                                || options.startup == StartupPolicy::CheckFirst
                                // A new or changed checker on a failed server stays down until
                                // it runs (keepalived's migrate_checkers).
                                || old.is_some_and(|o| !o.alive);
                            CheckerState {
                                is_up: !starts_down,
                                has_run: false,
                                retry_it: ck.timing.retry,
                                adjust: 0,
                                generation: 0,
                                running: false,
                                url_next: 0,
                                url_running: UrlRange { start: 0, end: 1 },
                                recheck: false,
                            }
                        }
                    };
                    checkers.push(state);
                    let id = CheckerId {
                        vs: vi,
                        rs: ri,
                        checker: ci,
                    };
                    pool.ids.push(id);
                    let due = if migrated.is_some() {
                        // An unchanged checker keeps its state; spread its next run over one
                        // delay_loop instead of re-running the startup warmup.
                        now.saturating_add(pool.rng.up_to(ck.timing.delay_loop))
                    } else {
                        now.saturating_add(FIRST_CHECK_OFFSET)
                            .saturating_add(pool.rng.up_to(ck.timing.warmup))
                    };
                    let flat = pool.ids.len() - 1;
                    pool.seq += 1;
                    pool.heap.push(Reverse((due, pool.seq, flat, 0)));
                }
                rs_states.push(RsState {
                    alive: false,
                    weight: rs.weight.min(i32::MAX as u32),
                    in_ipvs: old.and_then(|o| o.in_ipvs),
                    checkers,
                });
            }
            pool.state.push(VsState {
                quorum_up: false,
                alive_sum: 0,
                total_weight: vs.real_servers.iter().map(|r| u64::from(r.weight)).sum(),
                vip_present: true,
                sorry_in_ipvs: old_vs
                    .and_then(|c| c.sorry)
                    .filter(|(addr, _)| Some(*addr) == vs.sorry_server)
                    .map(|(_, w)| w),
                rs: rs_states,
            });
        }
        for (vi, old_vs) in old_vss.into_iter().enumerate() {
            pool.init_vs(vi, old_vs);
        }
        pool
    }

    /// Computes alive/weight/quorum at startup (or after a reload, from `old_vs`: what the
    /// previous pool had for this virtual server's key) and syncs IPVS.
    fn init_vs(&mut self, vi: usize, old_vs: Option<&CarriedVs>) {
        let Some(vs) = self.config.get(vi) else {
            return;
        };
        let n = vs.real_servers.len();
        for ri in 0..n {
            let (alive, weight) = self.compute_rs(vi, ri);
            let Some(addr) = self
                .config
                .get(vi)
                .and_then(|v| v.real_servers.get(ri))
                .map(|r| r.addr)
            else {
                continue;
            };
            if let Some(rs) = self.state.get_mut(vi).and_then(|v| v.rs.get_mut(ri)) {
                rs.alive = alive;
                rs.weight = weight;
            }
            if old_vs
                .and_then(|o| o.rs.get(&addr))
                .is_some_and(|old| old.alive && !alive)
            {
                self.rs_notify(vi, ri, false);
            }
        }
        self.recompute_alive_sum(vi);
        let sum = self.alive_sum(vi);
        let (q, h) = self.quorum_params(vi);
        let was = old_vs.map(|c| c.quorum_up);
        let up = match was {
            Some(true) => !(sum == 0 || sum < q.saturating_sub(h)),
            Some(false) => sum >= q + h,
            None => sum >= q + h,
        };
        if let Some(v) = self.state.get_mut(vi) {
            v.quorum_up = up;
        }
        self.sync_ipvs(vi);
    }

    /// (alive, effective weight) of a real server from its checkers' states.
    fn compute_rs(&self, vi: usize, ri: usize) -> (bool, u32) {
        let (Some(cfg), Some(st)) = (
            self.config.get(vi).and_then(|v| v.real_servers.get(ri)),
            self.state.get(vi).and_then(|v| v.rs.get(ri)),
        ) else {
            return (false, 0);
        };
        let alive = st.checkers.iter().all(|c| c.is_up);
        let adjust = st
            .checkers
            .iter()
            .fold(0i64, |a, c| a.saturating_add(c.adjust));
        (alive, clamp_weight(cfg.weight, adjust))
    }

    /// Recomputes the cached sum of alive weights of `vi` from scratch.
    fn recompute_alive_sum(&mut self, vi: usize) {
        if let Some(v) = self.state.get_mut(vi) {
            v.alive_sum =
                v.rs.iter()
                    .filter(|r| r.alive)
                    .map(|r| u64::from(r.weight))
                    .sum();
        }
    }

    fn alive_sum(&self, vi: usize) -> u64 {
        self.state.get(vi).map_or(0, |v| v.alive_sum)
    }

    /// (quorum, hysteresis) after keepalived's clamping.
    fn quorum_params(&self, vi: usize) -> (u64, u64) {
        let (Some(vs), Some(st)) = (self.config.get(vi), self.state.get(vi)) else {
            return (1, 0);
        };
        let total = st.total_weight;
        let q = vs.quorum.min(total.max(1)).max(1);
        let h = vs.hysteresis.min(q - 1);
        (q, h)
    }

    /// Desired IPVS state of every destination of `vi`, diffed against what is there.
    fn sync_ipvs(&mut self, vi: usize) {
        let Some(vs) = self.config.get(vi) else {
            return;
        };
        let sorry = vs.sorry_server;
        let sorry_inhibit = vs.sorry_server_inhibit;
        let Some(st) = self.state.get_mut(vi) else {
            return;
        };
        let use_sorry = sorry.is_some() && !st.quorum_up;
        let mut ops = Vec::new();
        for (ri, rs) in st.rs.iter_mut().enumerate() {
            let Some(rcfg) = vs.real_servers.get(ri) else {
                continue;
            };
            let desired = if rs.alive {
                if use_sorry { None } else { Some(rs.weight) }
            } else if rcfg.inhibit_on_failure {
                Some(0)
            } else {
                None
            };
            diff_dest(&mut ops, vi, rcfg.addr, &mut rs.in_ipvs, desired);
        }
        if let Some(addr) = sorry {
            let desired = if use_sorry {
                Some(SORRY_WEIGHT)
            } else if sorry_inhibit {
                Some(0)
            } else {
                None
            };
            diff_dest(&mut ops, vi, addr, &mut st.sorry_in_ipvs, desired);
        }
        self.events.extend(ops.into_iter().map(Event::Ipvs));
    }

    /// Syncs one real server of `vi` with IPVS (quorum unchanged).
    fn sync_rs(&mut self, vi: usize, ri: usize) {
        let (Some(vs), Some(st)) = (self.config.get(vi), self.state.get_mut(vi)) else {
            return;
        };
        let use_sorry = vs.sorry_server.is_some() && !st.quorum_up;
        let (Some(rcfg), Some(rs)) = (vs.real_servers.get(ri), st.rs.get_mut(ri)) else {
            return;
        };
        let desired = if rs.alive {
            if use_sorry { None } else { Some(rs.weight) }
        } else if rcfg.inhibit_on_failure {
            Some(0)
        } else {
            None
        };
        let mut ops = Vec::new();
        diff_dest(&mut ops, vi, rcfg.addr, &mut rs.in_ipvs, desired);
        self.events.extend(ops.into_iter().map(Event::Ipvs));
    }

    /// Queues the notify script of a real server, if any.
    fn rs_notify(&mut self, vi: usize, ri: usize, up: bool) {
        let Some(rcfg) = self.config.get(vi).and_then(|v| v.real_servers.get(ri)) else {
            return;
        };
        let (script, kind) = if up {
            (&rcfg.notify_up, NotifyKind::RealServerUp)
        } else {
            (&rcfg.notify_down, NotifyKind::RealServerDown)
        };
        if let Some(script) = script {
            self.events.push_back(Event::Notify {
                kind,
                vs: vi,
                rs: Some(rcfg.addr),
                script: script.clone(),
            });
        }
    }

    fn quorum_notify(&mut self, vi: usize, up: bool) {
        let Some(vs) = self.config.get(vi) else {
            return;
        };
        let (script, kind) = if up {
            (&vs.quorum_up, NotifyKind::QuorumUp)
        } else {
            (&vs.quorum_down, NotifyKind::QuorumDown)
        };
        if let Some(script) = script {
            self.events.push_back(Event::Notify {
                kind,
                vs: vi,
                rs: None,
                script: script.clone(),
            });
        }
    }

    /// The earliest time at which [`Pool::poll_due`] has something to return, if any check is
    /// scheduled.
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        while let Some(Reverse((due, _, flat, generation))) = self.heap.peek().copied() {
            if self.entry_valid(flat, generation) {
                return Some(due);
            }
            self.heap.pop();
        }
        None
    }

    fn entry_valid(&self, flat: usize, generation: u64) -> bool {
        self.ids
            .get(flat)
            .and_then(|id| self.checker(*id))
            .is_some_and(|c| c.generation == generation && !c.running)
    }

    fn checker(&self, id: CheckerId) -> Option<&CheckerState> {
        self.state
            .get(id.vs)?
            .rs
            .get(id.rs)?
            .checkers
            .get(id.checker)
    }

    fn checker_mut(&mut self, id: CheckerId) -> Option<&mut CheckerState> {
        self.state
            .get_mut(id.vs)?
            .rs
            .get_mut(id.rs)?
            .checkers
            .get_mut(id.checker)
    }

    /// The configuration of a checker.
    pub fn checker_config(&self, id: CheckerId) -> Option<&crate::config::CheckerConfig> {
        self.config
            .get(id.vs)?
            .real_servers
            .get(id.rs)?
            .checkers
            .get(id.checker)
    }

    /// The address a checker targets (the real server's, before `connect_ip`/`connect_port`).
    pub fn real_server_addr(&self, id: CheckerId) -> Option<SocketAddr> {
        Some(self.config.get(id.vs)?.real_servers.get(id.rs)?.addr)
    }

    /// The configuration the pool runs.
    pub fn config(&self) -> &[VirtualServerConfig] {
        &self.config
    }

    /// The next check due at or before `now`, marked running until its result comes back. Checks
    /// of a suspended virtual server (`ha_suspend` without its address) are skipped and
    /// rescheduled after `delay_loop`.
    pub fn poll_due(&mut self, now: Duration) -> Option<DueCheck> {
        if self.shut_down {
            return None;
        }
        loop {
            let Reverse((due, _, flat, generation)) = *self.heap.peek()?;
            if due > now {
                return None;
            }
            self.heap.pop();
            if !self.entry_valid(flat, generation) {
                continue;
            }
            let id = *self.ids.get(flat)?;
            let cfg = self.checker_config(id)?;
            let timing = cfg.timing;
            let suspended = self.config.get(id.vs).is_some_and(|v| v.ha_suspend)
                && self.state.get(id.vs).is_some_and(|v| !v.vip_present);
            if suspended {
                self.schedule(flat, now.saturating_add(timing.delay_loop));
                continue;
            }
            let (url_count, fast_recovery) = match &cfg.kind {
                CheckerKind::Http(h) => (h.urls.len().max(1), h.fast_recovery),
                _ => (1, false),
            };
            let Some(c) = self.checker_mut(id) else {
                continue;
            };
            c.running = true;
            let start = c.url_next.min(url_count - 1);
            let end = if !c.is_up && fast_recovery {
                url_count
            } else {
                start + 1
            };
            c.url_running = UrlRange { start, end };
            let per_url = u32::try_from(end - start).unwrap_or(u32::MAX);
            return Some(DueCheck {
                id,
                due,
                timeout: timing.connect_timeout.saturating_mul(per_url),
                urls: c.url_running,
            });
        }
    }

    fn schedule(&mut self, flat: usize, at: Duration) {
        let Some(id) = self.ids.get(flat).copied() else {
            return;
        };
        let Some(c) = self.checker_mut(id) else {
            return;
        };
        c.generation += 1;
        c.running = false;
        let generation = c.generation;
        self.seq += 1;
        self.heap.push(Reverse((at, self.seq, flat, generation)));
    }

    fn flat_index(&self, id: CheckerId) -> Option<usize> {
        // ids are pushed in (vs, rs, checker) order, so binary search works.
        self.ids.binary_search(&id).ok()
    }

    /// Feeds back the outcome of a check returned by [`Pool::poll_due`]. Results for a checker
    /// that is not running (stale or unknown ids) are ignored.
    pub fn handle_result(&mut self, now: Duration, id: CheckerId, outcome: Outcome) {
        if self.shut_down {
            return;
        }
        let Some(flat) = self.flat_index(id) else {
            return;
        };
        let Some(cfg) = self.checker_config(id) else {
            return;
        };
        let timing = cfg.timing;
        let file_weight = match &cfg.kind {
            CheckerKind::File(f) => Some((f.weight, f.reverse)),
            _ => None,
        };
        let url_count = match &cfg.kind {
            CheckerKind::Http(h) => h.urls.len().max(1),
            _ => 1,
        };
        let base = self
            .config
            .get(id.vs)
            .and_then(|v| v.real_servers.get(id.rs))
            .map_or(0, |r| r.weight);
        let Some(c) = self.checker_mut(id) else {
            return;
        };
        if !c.running {
            return;
        }
        let (success, adjust) = match outcome {
            Outcome::Up => (true, 0),
            Outcome::Down => (false, c.adjust),
            Outcome::UpWithWeight(a) => (true, a),
            Outcome::FileValue(v) => match file_weight {
                Some((0, _)) | None => (v == 0, 0),
                Some((w, reverse)) => {
                    let mut a = v.saturating_mul(w);
                    if reverse {
                        a = a.saturating_neg();
                    }
                    (i64::from(base).saturating_add(a) >= 0, a)
                }
            },
        };
        // FILE_CHECK follows the file at once: keepalived does not retry it.
        let retry = if matches!(outcome, Outcome::FileValue(_)) {
            0
        } else {
            timing.retry
        };
        let delay;
        if success {
            c.retry_it = 0;
            c.url_next = c.url_running.end;
            let full_pass = c.url_next >= url_count;
            if full_pass {
                c.url_next = 0;
            }
            // A recovering HTTP checker comes up once every url has passed in turn.
            if c.is_up || full_pass {
                c.is_up = true;
                c.adjust = adjust;
            }
            delay = timing.delay_loop;
        } else if (c.is_up || !c.has_run) && c.retry_it < retry {
            c.retry_it += 1;
            delay = timing.delay_before_retry;
        } else {
            c.retry_it = 0;
            // Recovery starts again from the first url.
            c.url_next = 0;
            c.is_up = false;
            delay = timing.delay_loop;
        }
        c.has_run = true;
        let delay = if std::mem::take(&mut c.recheck) {
            Duration::ZERO
        } else {
            delay
        };
        self.schedule(flat, now.saturating_add(delay));
        self.update_rs(id.vs, id.rs);
    }

    /// Runs checker `id` at `now` instead of at its scheduled time (a FILE_CHECK whose file just
    /// changed: keepalived follows track files with inotify). A check already running is run
    /// once more when its result arrives.
    pub fn check_now(&mut self, now: Duration, id: CheckerId) {
        if self.shut_down {
            return;
        }
        let Some(flat) = self.flat_index(id) else {
            return;
        };
        let Some(c) = self.checker_mut(id) else {
            return;
        };
        if c.running {
            c.recheck = true;
        } else {
            self.schedule(flat, now);
        }
    }

    /// Every FILE_CHECK checker and the file it tracks.
    pub fn file_checkers(&self) -> Vec<(CheckerId, std::path::PathBuf)> {
        let mut out = Vec::new();
        for (vs, v) in self.config.iter().enumerate() {
            for (rs, r) in v.real_servers.iter().enumerate() {
                for (checker, c) in r.checkers.iter().enumerate() {
                    if let CheckerKind::File(f) = &c.kind {
                        out.push((CheckerId { vs, rs, checker }, f.path.clone()));
                    }
                }
            }
        }
        out
    }

    /// Recomputes a real server after one of its checkers changed, and everything that follows.
    fn update_rs(&mut self, vi: usize, ri: usize) {
        let (alive, weight) = self.compute_rs(vi, ri);
        let Some(rs) = self.state.get_mut(vi).and_then(|v| v.rs.get_mut(ri)) else {
            return;
        };
        let was_alive = rs.alive;
        let old_weight = rs.weight;
        rs.alive = alive;
        rs.weight = weight;
        if let Some(v) = self.state.get_mut(vi) {
            let before = if was_alive { u64::from(old_weight) } else { 0 };
            let after = if alive { u64::from(weight) } else { 0 };
            v.alive_sum = v.alive_sum.saturating_sub(before).saturating_add(after);
        }
        let Some(addr) = self.real_server_addr(CheckerId {
            vs: vi,
            rs: ri,
            checker: 0,
        }) else {
            return;
        };
        if alive != was_alive {
            self.events.push_back(if alive {
                Event::RealServerUp { vs: vi, rs: addr }
            } else {
                Event::RealServerDown { vs: vi, rs: addr }
            });
            self.rs_notify(vi, ri, alive);
        }
        if weight != old_weight {
            self.events.push_back(Event::WeightChanged {
                vs: vi,
                rs: addr,
                weight,
            });
        }
        if self.update_quorum(vi) {
            self.sync_ipvs(vi);
        } else {
            self.sync_rs(vi, ri);
        }
    }

    /// Applies quorum hysteresis; returns whether the quorum state changed.
    fn update_quorum(&mut self, vi: usize) -> bool {
        let sum = self.alive_sum(vi);
        let (q, h) = self.quorum_params(vi);
        let Some(st) = self.state.get_mut(vi) else {
            return false;
        };
        if st.quorum_up && (sum == 0 || sum < q.saturating_sub(h)) {
            st.quorum_up = false;
            self.events.push_back(Event::QuorumLost { vs: vi });
            self.quorum_notify(vi, false);
            true
        } else if !st.quorum_up && sum >= q + h {
            st.quorum_up = true;
            self.events.push_back(Event::QuorumGained { vs: vi });
            self.quorum_notify(vi, true);
            true
        } else {
            false
        }
    }

    /// The next queued event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// `ha_suspend`: tells the pool whether virtual server `vs`'s address is configured locally.
    /// While it is absent, that virtual server's checks are skipped (if it has `ha_suspend`).
    pub fn set_vip_present(&mut self, vs: usize, present: bool) {
        if let Some(st) = self.state.get_mut(vs) {
            st.vip_present = present;
        }
    }

    /// `ha_suspend`: whether the pool counts virtual server `vs`'s address as local.
    pub fn vip_present(&self, vs: usize) -> Option<bool> {
        Some(self.state.get(vs)?.vip_present)
    }

    /// Whether real server `rs` of virtual server `vs` is alive.
    pub fn is_alive(&self, vs: usize, rs: usize) -> Option<bool> {
        Some(self.state.get(vs)?.rs.get(rs)?.alive)
    }

    /// The effective weight of real server `rs` of virtual server `vs`.
    pub fn weight(&self, vs: usize, rs: usize) -> Option<u32> {
        Some(self.state.get(vs)?.rs.get(rs)?.weight)
    }

    /// Whether virtual server `vs` has its quorum.
    pub fn quorum_up(&self, vs: usize) -> Option<bool> {
        Some(self.state.get(vs)?.quorum_up)
    }

    /// What the IPVS table holds for real server `rs` of `vs` (None = absent), as far as the
    /// pool has told its driver.
    pub fn ipvs_weight(&self, vs: usize, rs: usize) -> Option<Option<u32>> {
        Some(self.state.get(vs)?.rs.get(rs)?.in_ipvs)
    }

    /// What the IPVS table holds for the sorry server of `vs` (None = absent), as far as the pool
    /// has told its driver; `None` for an unknown virtual server.
    pub fn sorry_ipvs_weight(&self, vs: usize) -> Option<Option<u32>> {
        Some(self.state.get(vs)?.sorry_in_ipvs)
    }

    /// Whether checker `id` is up.
    pub fn checker_up(&self, id: CheckerId) -> Option<bool> {
        Some(self.checker(id)?.is_up)
    }

    /// Number of checkers in the pool.
    pub fn checker_count(&self) -> usize {
        self.ids.len()
    }

    /// Stops checking. With `omega`, queues the `quorum_down` script (if quorum was up) and the
    /// `notify_down` scripts of alive real servers. IPVS cleanup on shutdown is the director's
    /// policy (`lvs_flush_on_stop`, `-I`), so no IPVS operation is queued.
    pub fn shutdown(&mut self) {
        if self.shut_down {
            return;
        }
        self.shut_down = true;
        for vi in 0..self.config.len() {
            if !self.config.get(vi).is_some_and(|v| v.omega) {
                continue;
            }
            let n = self.state.get(vi).map_or(0, |v| v.rs.len());
            for ri in 0..n {
                if self.is_alive(vi, ri) == Some(true) {
                    self.rs_notify(vi, ri, false);
                }
            }
            if self.quorum_up(vi) == Some(true) {
                self.quorum_notify(vi, false);
            }
        }
    }

    /// A reload: builds the pool for `config`, carrying over the state of unchanged checkers
    /// (same virtual server key, same real server address, equal checker configuration), the
    /// quorum state and what the IPVS table holds, and queues the IPVS operations that take the
    /// table from the old configuration to the new one (removed real servers and virtual servers
    /// are deleted, new ones added as at startup).
    pub fn reload(self, config: Vec<VirtualServerConfig>, seed: u64, now: Duration) -> Pool {
        // The new configuration by key. A key configured twice resolves to its first virtual
        // server, as a front-to-back search would.
        let mut new_index: HashMap<&VirtualServerKey, usize> = HashMap::with_capacity(config.len());
        for (vi, vs) in config.iter().enumerate() {
            new_index.entry(&vs.key).or_insert(vi);
        }
        // Destinations the table holds that the new configuration drops, as (index in the new
        // configuration, address). Those of removed virtual servers are not listed: the
        // director deletes those services, which removes their destinations.
        let mut removed = Vec::new();
        for (vs, vst) in self.config.iter().zip(&self.state) {
            let Some(&new_vi) = new_index.get(&vs.key) else {
                continue;
            };
            let new_servers = config
                .get(new_vi)
                .map(|n| n.real_servers.as_slice())
                .unwrap_or_default();
            // The new virtual server's addresses, built only if a server moved.
            let mut new_addrs: Option<HashSet<SocketAddr>> = None;
            for (ri, (rs, rst)) in vs.real_servers.iter().zip(&vst.rs).enumerate() {
                if rst.in_ipvs.is_none() || new_servers.get(ri).is_some_and(|r| r.addr == rs.addr) {
                    continue;
                }
                let addrs =
                    new_addrs.get_or_insert_with(|| new_servers.iter().map(|r| r.addr).collect());
                if !addrs.contains(&rs.addr) {
                    removed.push((new_vi, rs.addr));
                }
            }
            if let (Some(addr), Some(_)) = (vs.sorry_server, vst.sorry_in_ipvs)
                && config.get(new_vi).and_then(|n| n.sorry_server) != Some(addr)
            {
                removed.push((new_vi, addr));
            }
        }
        // What carries over, moved (not cloned) out of the old pool. A key configured twice
        // merges as one map keyed by (key, address) would: the later virtual server wins.
        let mut carried: HashMap<VirtualServerKey, CarriedVs> =
            HashMap::with_capacity(self.config.len());
        for (vs, vst) in self.config.into_iter().zip(self.state) {
            if vs.real_servers.is_empty() || vst.rs.is_empty() {
                // Nothing of a virtual server without real servers carries over.
                continue;
            }
            let sorry = vs.sorry_server.zip(vst.sorry_in_ipvs);
            let entry = carried.entry(vs.key).or_insert_with(|| CarriedVs {
                quorum_up: vst.quorum_up,
                sorry,
                rs: HashMap::with_capacity(vs.real_servers.len()),
            });
            entry.quorum_up = vst.quorum_up;
            entry.sorry = sorry;
            for (rs, rst) in vs.real_servers.into_iter().zip(vst.rs) {
                entry.rs.insert(
                    rs.addr,
                    CarriedRs {
                        alive: rst.alive,
                        in_ipvs: rst.in_ipvs,
                        checkers: rs.checkers.into_iter().zip(rst.checkers).collect(),
                    },
                );
            }
        }
        let mut pool = Pool::build(config, seed, now, self.options, &carried);
        // Deletions first.
        let mut dels: VecDeque<Event> = removed
            .into_iter()
            .map(|(vi, addr)| Event::Ipvs(IpvsOp::DelDest { vs: vi, rs: addr }))
            .collect();
        dels.extend(pool.events.drain(..));
        pool.events = dels;
        pool
    }
}

/// What a reload carries over for one virtual server key.
#[derive(Debug, Clone)]
struct CarriedVs {
    quorum_up: bool,
    /// The sorry server and what IPVS held for it.
    sorry: Option<(SocketAddr, u32)>,
    /// By real server address.
    rs: HashMap<SocketAddr, CarriedRs>,
}

/// What a reload carries over for one real server.
#[derive(Debug, Clone)]
struct CarriedRs {
    alive: bool,
    in_ipvs: Option<u32>,
    checkers: Vec<(crate::config::CheckerConfig, CheckerState)>,
}

fn diff_dest(
    ops: &mut Vec<IpvsOp>,
    vs: usize,
    rs: SocketAddr,
    current: &mut Option<u32>,
    desired: Option<u32>,
) {
    match (*current, desired) {
        (None, Some(weight)) => ops.push(IpvsOp::AddDest { vs, rs, weight }),
        (Some(_), None) => ops.push(IpvsOp::DelDest { vs, rs }),
        (Some(a), Some(b)) if a != b => ops.push(IpvsOp::EditDest { vs, rs, weight: b }),
        _ => {}
    }
    *current = desired;
}
