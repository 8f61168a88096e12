//! What the director lets an observer (metrics, status output) see, read-only:
//!
//! - [`Director::health`]: per virtual server, quorum and its real servers' alive flag and
//!   weights (a snapshot; pure).
//! - [`ProbeObserver`] (with the `runtime` feature): told about every probe the runner ran,
//!   with its result and how long it took.

use std::net::SocketAddr;

use healthcheck::VirtualServerKey;

use crate::director::Director;

/// The health of one virtual server, as [`Director::health`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerHealth {
    /// Which virtual server (its identity across reloads).
    pub key: VirtualServerKey,
    /// Whether it has its quorum (`None` if the pool does not know it).
    pub quorum_up: Option<bool>,
    /// Its real servers, in configuration order.
    pub real_servers: Vec<RealServerHealth>,
}

/// The health of one real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RealServerHealth {
    /// The real server, as its checkers see it.
    pub addr: SocketAddr,
    /// All its checkers are up.
    pub alive: bool,
    /// Its effective weight (configured plus dynamic adjustments).
    pub weight: u32,
    /// Its weight in the IPVS table, `None` when it is not in the table.
    pub ipvs_weight: Option<u32>,
}

impl Director {
    /// A snapshot of every virtual server's health (quorum, real servers alive and weights).
    #[must_use]
    pub fn health(&self) -> Vec<VirtualServerHealth> {
        let pool = self.pool();
        pool.config()
            .iter()
            .enumerate()
            .map(|(vi, h)| VirtualServerHealth {
                key: h.key.clone(),
                quorum_up: pool.quorum_up(vi),
                real_servers: h
                    .real_servers
                    .iter()
                    .enumerate()
                    .map(|(ri, rs)| RealServerHealth {
                        addr: rs.addr,
                        alive: pool.is_alive(vi, ri).unwrap_or(false),
                        weight: pool.weight(vi, ri).unwrap_or(0),
                        ipvs_weight: pool.ipvs_weight(vi, ri).flatten(),
                    })
                    .collect(),
            })
            .collect()
    }
}

/// One probe the runner ran, as a [`ProbeObserver`] sees it.
#[cfg(feature = "runtime")]
#[derive(Debug)]
pub struct ProbeReport<'a> {
    /// The virtual server of the checker.
    pub virtual_server: &'a VirtualServerKey,
    /// The real server probed.
    pub real_server: SocketAddr,
    /// The checker's type and options.
    pub checker: &'a healthcheck::CheckerKind,
    /// What the probe returned (an error is a failed check).
    pub result: &'a Result<healthcheck::Outcome, healthcheck::probes::ProbeError>,
    /// How long the probe took.
    pub elapsed: std::time::Duration,
}

/// Told about every probe the runner runs (set in `RunnerOptions::observer`). Called on the
/// probe's task right after it finished: keep it short and non-blocking (atomic counters).
#[cfg(feature = "runtime")]
pub trait ProbeObserver: Send + Sync + std::fmt::Debug {
    /// A probe finished.
    fn probe_done(&self, report: &ProbeReport<'_>);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DirectorConfig;

    #[test]
    fn health_lists_every_real_server_with_its_weight_and_the_quorum() {
        let parsed = kconf_parser::parse_str(
            "virtual_server 192.0.2.1 80 { protocol TCP\n quorum 1\n \
             real_server 198.51.100.1 80 { weight 3\n } \
             real_server 198.51.100.2 80 { weight 2\n } }",
            &kconf_parser::Options::default(),
        );
        let config = DirectorConfig::from_kconf(&parsed.config).unwrap();
        let director = Director::new(config, 1, Default::default(), Default::default());
        let health = director.health();
        assert_eq!(health.len(), 1);
        assert_eq!(health[0].quorum_up, Some(true));
        let rs: Vec<(String, bool, u32, Option<u32>)> = health[0]
            .real_servers
            .iter()
            .map(|r| (r.addr.to_string(), r.alive, r.weight, r.ipvs_weight))
            .collect();
        assert_eq!(
            rs,
            [
                ("198.51.100.1:80".to_owned(), true, 3, Some(3)),
                ("198.51.100.2:80".to_owned(), true, 2, Some(2)),
            ]
        );
    }
}
