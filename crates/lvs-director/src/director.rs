//! The director's state: a configuration, the health-check core's pool running it, and the
//! services it owns. Everything here is pure: time is injected, health results come in as
//! values, and the kernel table comes in as an `ipvs_netlink::Desired`.

use std::collections::HashSet;
use std::time::Duration;

use healthcheck::{CheckerId, DueCheck, Event, Outcome, Pool, PoolOptions};
use ipvs_netlink::{Desired, Op, ServiceKey, plan};

use crate::convert::DirectorConfig;

/// The LVS director core.
///
/// - [`Director::desired`]: the IPVS table the configuration and the health state ask for.
/// - [`Director::reconcile`]: the operations that take the kernel's table there, touching only
///   services the director owns (those its configuration names, and those a reload removed
///   until [`Director::forget_retired`]), so foreign services are left alone and matching
///   services are adopted as they are.
/// - [`Director::reload`]: a new configuration, carrying the state of unchanged real servers
///   and checkers across.
#[derive(Debug, Clone)]
pub struct Director {
    config: DirectorConfig,
    pool: Pool,
    keys: HashSet<ServiceKey>,
    retired: HashSet<ServiceKey>,
}

/// What the director reports about one real server (for status output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealServerStatus {
    /// Index of the virtual server.
    pub vs: usize,
    /// The real server, as its checkers see it.
    pub addr: std::net::SocketAddr,
    /// All its checkers are up.
    pub alive: bool,
    /// Its weight in the IPVS table, `None` when it is not in the table.
    pub ipvs_weight: Option<u32>,
}

impl Director {
    /// Starts the director at time `now` (keepalived's startup semantics: real servers without
    /// `alpha` are in the table before their first check). `seed` spreads the first checks.
    #[must_use]
    pub fn new(mut config: DirectorConfig, seed: u64, now: Duration, options: PoolOptions) -> Self {
        // The health side moves into the pool (no copy of 10,000s of checkers).
        let pool = Pool::new(std::mem::take(&mut config.health), seed, now, options);
        let keys = config.service_keys().collect();
        Director {
            config,
            pool,
            keys,
            retired: HashSet::new(),
        }
    }

    /// The configuration being run. Its `health` part lives in the pool
    /// ([`Pool::config`] through [`Director::pool`]), so here it is empty.
    #[must_use]
    pub fn config(&self) -> &DirectorConfig {
        &self.config
    }

    /// The health-check pool (read-only).
    #[must_use]
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The earliest time a check is due ([`Pool::poll_timeout`]).
    pub fn poll_timeout(&mut self) -> Option<Duration> {
        self.pool.poll_timeout()
    }

    /// The next check due at `now` ([`Pool::poll_due`]).
    pub fn poll_due(&mut self, now: Duration) -> Option<DueCheck> {
        self.pool.poll_due(now)
    }

    /// The configuration of checker `id` and the address of its real server.
    #[must_use]
    pub fn checker(
        &self,
        id: CheckerId,
    ) -> Option<(&healthcheck::CheckerConfig, std::net::SocketAddr)> {
        Some((
            self.pool.checker_config(id)?,
            self.pool.real_server_addr(id)?,
        ))
    }

    /// Runs checker `id` now (its FILE_CHECK file changed): [`Pool::check_now`].
    pub fn check_now(&mut self, now: Duration, id: CheckerId) {
        self.pool.check_now(now, id);
    }

    /// A health result: feeds the pool. Afterwards [`Director::desired`] is the new desired
    /// table, and [`Director::poll_event`] has what changed (real servers up/down, quorum,
    /// scripts to run).
    pub fn handle_result(&mut self, now: Duration, id: CheckerId, outcome: Outcome) {
        self.pool.handle_result(now, id, outcome);
    }

    /// The next event of the pool (the IPVS operations among them are informative: the
    /// director reconciles whole tables instead).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.pool.poll_event()
    }

    /// `ha_suspend`: whether virtual server `vs`'s address is configured locally.
    pub fn set_vip_present(&mut self, vs: usize, present: bool) {
        self.pool.set_vip_present(vs, present);
    }

    /// The IPVS table the configuration and the health state ask for, in configuration order.
    #[must_use]
    pub fn desired(&self) -> Desired {
        let mut services = Vec::with_capacity(self.keys.len());
        for (vi, spec) in self.config.virtual_servers.iter().enumerate() {
            let weights: Vec<Option<u32>> = (0..spec.real_servers.len())
                .map(|ri| self.pool.ipvs_weight(vi, ri).flatten())
                .collect();
            let sorry_weight = self.sorry_weight(vi);
            for svc in &spec.services {
                let mut dests = Vec::with_capacity(spec.real_servers.len() + 1);
                for (rs, w) in spec.real_servers.iter().zip(&weights) {
                    if let Some(w) = w {
                        dests.push(rs.destination(&svc.key, *w));
                    }
                }
                if let (Some(sorry), Some(w)) = (&spec.sorry_server, sorry_weight) {
                    dests.push(sorry.destination(&svc.key, w));
                }
                services.push((svc.clone(), dests));
            }
        }
        Desired { services }
    }

    /// The sorry server's weight in the table (the pool's rule: weight 1 while quorum is down,
    /// 0 with `sorry_server_inhibit`, else absent).
    fn sorry_weight(&self, vi: usize) -> Option<u32> {
        let h = self.pool.config().get(vi)?;
        h.sorry_server?;
        if self.pool.quorum_up(vi) == Some(false) {
            Some(1)
        } else if h.sorry_server_inhibit {
            Some(0)
        } else {
            None
        }
    }

    /// Whether the director owns service `key`: its configuration names it, or a reload
    /// removed it and it was not yet deleted.
    #[must_use]
    pub fn owns(&self, key: &ServiceKey) -> bool {
        self.keys.contains(key) || self.retired.contains(key)
    }

    /// Every service the director owns (see [`Director::owns`]).
    #[must_use]
    pub fn owned_keys(&self) -> HashSet<ServiceKey> {
        self.keys.union(&self.retired).copied().collect()
    }

    /// The part of a kernel table the director owns.
    #[must_use]
    pub fn owned_view(&self, kernel: &Desired) -> Desired {
        Desired {
            services: kernel
                .services
                .iter()
                .filter(|(s, _)| self.owns(&s.key))
                .cloned()
                .collect(),
        }
    }

    /// The operations that make the owned part of `kernel` equal to [`Director::desired`].
    /// Services the director does not own are never touched; owned services already right
    /// produce no operation (adoption at startup).
    #[must_use]
    pub fn reconcile(&self, kernel: &Desired) -> Vec<Op> {
        plan(&self.desired(), &self.owned_view(kernel))
    }

    /// Forgets the services removed by earlier reloads (call once the kernel no longer has
    /// them, i.e. after a reconcile whose operations all succeeded).
    pub fn forget_retired(&mut self) {
        self.retired.clear();
    }

    /// The operations that remove what the director owns from `kernel` (on stop, unless told
    /// to leave the table in place).
    #[must_use]
    pub fn release(&self, kernel: &Desired) -> Vec<Op> {
        self.owned_view(kernel)
            .services
            .into_iter()
            .map(|(s, _)| Op::DeleteService(s.key))
            .collect()
    }

    /// Runs `config` from now on. Unchanged real servers keep their health and table state
    /// and unchanged checkers their state; services no longer configured stay owned (so the
    /// next [`Director::reconcile`] deletes them) until [`Director::forget_retired`].
    #[must_use]
    pub fn reload(self, mut config: DirectorConfig, seed: u64, now: Duration) -> Self {
        let keys: HashSet<ServiceKey> = config.service_keys().collect();
        let mut retired = self.retired;
        retired.extend(self.keys.difference(&keys).copied());
        retired.retain(|k| !keys.contains(k));
        let pool = self
            .pool
            .reload(std::mem::take(&mut config.health), seed, now);
        Director {
            config,
            pool,
            keys,
            retired,
        }
    }

    /// Per real server: alive, and its weight in the table.
    #[must_use]
    pub fn real_servers(&self) -> Vec<RealServerStatus> {
        let mut out = Vec::new();
        for (vi, h) in self.pool.config().iter().enumerate() {
            for (ri, rs) in h.real_servers.iter().enumerate() {
                out.push(RealServerStatus {
                    vs: vi,
                    addr: rs.addr,
                    alive: self.pool.is_alive(vi, ri).unwrap_or(false),
                    ipvs_weight: self.pool.ipvs_weight(vi, ri).flatten(),
                });
            }
        }
        out
    }

    /// Stops health checking (queues `omega` scripts as [`Pool::shutdown`] does).
    pub fn shutdown(&mut self) {
        self.pool.shutdown();
    }
}
