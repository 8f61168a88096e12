//! The director's state: a configuration, the health-check core's pool running it, and the
//! services it owns. Everything here is pure: time is injected, health results come in as
//! values, and the kernel table comes in as an `ipvs_netlink::Desired`.
//!
//! # Administrative weights (`hagroupctl drain` / `weight`)
//!
//! [`Director::set_admin_weight`] pins a real server's weight at run time, without a reload
//! (keepalived has no such thing). While it is set:
//! - an alive real server is in the table at the administrative weight, whatever the health
//!   checks (and dynamic weights) would give it, and passing checks do not undo it; weight 0
//!   drains it (it stays in the table, established connections go on, no new ones);
//! - a failed real server is still removed (or set to weight 0 with `inhibit_on_failure`): the
//!   administrative weight never puts a dead server into service, it applies again when the
//!   server comes back;
//! - quorum is computed from the health-decided weights, as before (draining for maintenance
//!   does not trigger the sorry server).
//!
//! Removing it (`None`) gives the health checks back the say. It survives a reload as long as
//! the virtual server (same address/port/protocol, fwmark or group name) still has a real
//! server with the same address and port; otherwise it is dropped with the real server.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use healthcheck::{CheckerId, DueCheck, Event, Outcome, Pool, PoolOptions, VirtualServerKey};
use ipvs_netlink::{Desired, Op, Protocol, ServiceKey, plan};

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
    /// Administrative weights, by virtual server identity and real server address.
    admin: HashMap<(VirtualServerKey, SocketAddr), u32>,
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
    /// The weight the configuration and the health checks give it.
    pub weight: u32,
    /// Its administrative weight ([`Director::set_admin_weight`]), if any.
    pub admin_weight: Option<u32>,
}

/// What the director reports about one virtual server (for status output).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerStatus {
    /// How the block reads (`192.0.2.1:80 TCP`, `fwmark 7`, `group web`).
    pub name: String,
    /// Its IPVS services.
    pub services: Vec<ServiceKey>,
    /// Whether its quorum is up.
    pub quorum_up: bool,
    /// Its real servers.
    pub real_servers: Vec<RealServerStatus>,
}

/// Names a virtual server by one of its IPVS services, as `ipvsadm` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceSelector {
    /// `-t`/`-u`/`--sctp-service ADDR:PORT`.
    Addr {
        /// The protocol.
        protocol: Protocol,
        /// Address and port.
        addr: SocketAddr,
    },
    /// `-f MARK` (either address family).
    FwMark(u32),
}

impl ServiceSelector {
    fn matches(&self, key: &ServiceKey) -> bool {
        match (self, key) {
            (
                ServiceSelector::Addr { protocol, addr },
                ServiceKey::Addr {
                    addr: a,
                    port,
                    protocol: p,
                },
            ) => p == protocol && *a == addr.ip() && *port == addr.port(),
            (ServiceSelector::FwMark(m), ServiceKey::FwMark { mark, .. }) => m == mark,
            _ => false,
        }
    }
}

impl std::fmt::Display for ServiceSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceSelector::Addr { protocol, addr } => {
                let flag = match protocol {
                    Protocol::Tcp => "-t",
                    Protocol::Udp => "-u",
                    Protocol::Sctp => "--sctp-service",
                };
                write!(f, "{flag} {addr}")
            }
            ServiceSelector::FwMark(m) => write!(f, "-f {m}"),
        }
    }
}

/// A real server of a virtual server, for [`Director::set_admin_weight`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RealServerSelector {
    /// The virtual server.
    pub service: ServiceSelector,
    /// The real server's address.
    pub addr: IpAddr,
    /// Its port; `None` when the address alone is unambiguous.
    pub port: Option<u16>,
}

/// Why an administrative weight could not be set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdminWeightError {
    /// No configured virtual server has this service.
    #[error("no virtual server has the service {0}")]
    NoService(ServiceSelector),
    /// The virtual server has no real server at this address (and port).
    #[error("virtual server {vs} has no real server {rs}")]
    NoRealServer {
        /// The virtual server.
        vs: String,
        /// The address asked for.
        rs: String,
    },
    /// Several real servers share the address: the port is needed.
    #[error("virtual server {vs} has several real servers at {addr}: give the port")]
    Ambiguous {
        /// The virtual server.
        vs: String,
        /// The address asked for.
        addr: IpAddr,
    },
    /// IPVS weights are at most 2147483647.
    #[error("weight {0} is out of range (0..=2147483647)")]
    OutOfRange(u32),
}

/// What [`Director::set_admin_weight`] changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminWeightChange {
    /// The virtual server's name.
    pub vs: String,
    /// The real server.
    pub rs: SocketAddr,
    /// The administrative weight before.
    pub before: Option<u32>,
    /// The administrative weight now.
    pub after: Option<u32>,
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
            admin: HashMap::new(),
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

    /// `ha_suspend`, from the addresses configured locally: a virtual server is present when
    /// one of its services' addresses is local (a virtual server of fwmark services only is
    /// always present). The checks of a virtual server with `ha_suspend` that is not present
    /// are skipped, as keepalived suspends them while the director does not hold the address.
    /// Returns the virtual servers with `ha_suspend` whose presence changed, with the new
    /// presence (`false`: their checks are now suspended).
    pub fn set_local_addresses(&mut self, local: &HashSet<IpAddr>) -> Vec<(usize, bool)> {
        let mut changed = Vec::new();
        for (vi, spec) in self.config.virtual_servers.iter().enumerate() {
            let mut addrs = spec
                .services
                .iter()
                .filter_map(|s| match s.key {
                    ServiceKey::Addr { addr, .. } => Some(addr),
                    _ => None,
                })
                .peekable();
            let present = addrs.peek().is_none() || addrs.any(|a| local.contains(&a));
            let suspends = self.pool.config().get(vi).is_some_and(|h| h.ha_suspend);
            if suspends && self.pool.vip_present(vi) != Some(present) {
                changed.push((vi, present));
            }
            self.pool.set_vip_present(vi, present);
        }
        changed
    }

    /// The IPVS table the configuration and the health state ask for, in configuration order.
    #[must_use]
    pub fn desired(&self) -> Desired {
        let mut services = Vec::with_capacity(self.keys.len());
        for (vi, spec) in self.config.virtual_servers.iter().enumerate() {
            let weights: Vec<Option<u32>> = (0..spec.real_servers.len())
                .map(|ri| self.table_weight(vi, ri))
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

    /// Real server `ri` of virtual server `vi`'s weight in the desired table: the health
    /// decision, with the administrative weight applied (see the module documentation).
    fn table_weight(&self, vi: usize, ri: usize) -> Option<u32> {
        let health = self.pool.ipvs_weight(vi, ri).flatten()?;
        match self.admin_weight(vi, ri) {
            None => Some(health),
            Some(w) if self.pool.is_alive(vi, ri) == Some(true) => Some(w),
            Some(w) => Some(health.min(w)),
        }
    }

    /// The administrative weight of real server `ri` of virtual server `vi`.
    fn admin_weight(&self, vi: usize, ri: usize) -> Option<u32> {
        if self.admin.is_empty() {
            return None;
        }
        let h = self.pool.config().get(vi)?;
        let rs = h.real_servers.get(ri)?;
        self.admin.get(&(h.key.clone(), rs.addr)).copied()
    }

    /// Sets (`Some`) or removes (`None`) the administrative weight of a real server (see the
    /// module documentation); [`Director::desired`] has it at once. Weight 0 drains.
    pub fn set_admin_weight(
        &mut self,
        target: &RealServerSelector,
        weight: Option<u32>,
    ) -> Result<AdminWeightChange, AdminWeightError> {
        if let Some(w) = weight
            && i32::try_from(w).is_err()
        {
            return Err(AdminWeightError::OutOfRange(w));
        }
        let vi = self
            .config
            .virtual_servers
            .iter()
            .position(|v| v.services.iter().any(|s| target.service.matches(&s.key)))
            .ok_or(AdminWeightError::NoService(target.service))?;
        let name = self
            .config
            .virtual_servers
            .get(vi)
            .map(|v| v.name.clone())
            .unwrap_or_default();
        let h = self
            .pool
            .config()
            .get(vi)
            .ok_or(AdminWeightError::NoService(target.service))?;
        let mut found = h.real_servers.iter().filter(|r| {
            r.addr.ip() == target.addr && target.port.is_none_or(|p| p == r.addr.port())
        });
        let rs = match (found.next(), found.next()) {
            (Some(r), None) => r.addr,
            (Some(_), Some(_)) => {
                return Err(AdminWeightError::Ambiguous {
                    vs: name,
                    addr: target.addr,
                });
            }
            (None, _) => {
                return Err(AdminWeightError::NoRealServer {
                    vs: name,
                    rs: target.port.map_or_else(
                        || target.addr.to_string(),
                        |p| SocketAddr::new(target.addr, p).to_string(),
                    ),
                });
            }
        };
        let key = (h.key.clone(), rs);
        let before = match weight {
            Some(w) => self.admin.insert(key, w),
            None => self.admin.remove(&key),
        };
        Ok(AdminWeightChange {
            vs: name,
            rs,
            before,
            after: weight,
        })
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
        let mut admin = self.admin;
        if !admin.is_empty() {
            let present: HashSet<(&VirtualServerKey, SocketAddr)> = pool
                .config()
                .iter()
                .flat_map(|v| v.real_servers.iter().map(move |r| (&v.key, r.addr)))
                .collect();
            admin.retain(|(k, a), _| present.contains(&(k, *a)));
        }
        Director {
            config,
            pool,
            keys,
            retired,
            admin,
        }
    }

    /// Per real server: alive, and its weight in the table.
    #[must_use]
    pub fn real_servers(&self) -> Vec<RealServerStatus> {
        let mut out = Vec::new();
        for (vi, h) in self.pool.config().iter().enumerate() {
            for (ri, rs) in h.real_servers.iter().enumerate() {
                out.push(self.real_server_status(vi, ri, rs.addr));
            }
        }
        out
    }

    fn real_server_status(&self, vi: usize, ri: usize, addr: SocketAddr) -> RealServerStatus {
        RealServerStatus {
            vs: vi,
            addr,
            alive: self.pool.is_alive(vi, ri).unwrap_or(false),
            ipvs_weight: self.table_weight(vi, ri),
            weight: self.pool.weight(vi, ri).unwrap_or(0),
            admin_weight: self.admin_weight(vi, ri),
        }
    }

    /// Per virtual server: name, services, quorum and real servers.
    #[must_use]
    pub fn virtual_servers(&self) -> Vec<VirtualServerStatus> {
        self.config
            .virtual_servers
            .iter()
            .zip(self.pool.config())
            .enumerate()
            .map(|(vi, (spec, h))| VirtualServerStatus {
                name: spec.name.clone(),
                services: spec.services.iter().map(|s| s.key).collect(),
                quorum_up: self.pool.quorum_up(vi).unwrap_or(false),
                real_servers: h
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(ri, rs)| self.real_server_status(vi, ri, rs.addr))
                    .collect(),
            })
            .collect()
    }

    /// Stops health checking (queues `omega` scripts as [`Pool::shutdown`] does).
    pub fn shutdown(&mut self) {
        self.pool.shutdown();
    }
}
