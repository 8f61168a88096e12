//! `lvs_sync_daemon`: keeps the kernel's IPVS connection sync daemons as the configuration and
//! the followed VRRP instance's state want them (`lvs_director::sync_daemon` decides; this
//! module reads the kernel's daemons and applies the operations over netlink).
//!
//! The daemon calls [`SyncDaemons::apply`] once VRRP has started, on every VRRP state change,
//! and after a reload; [`SyncDaemons::release`] on the way out. Only the difference is applied:
//! a daemon already running as wanted is adopted, not restarted (a daemon restart does not
//! interrupt the connection sync). Daemons nobody configured here are left alone. Errors are
//! logged and returned; nothing here panics.

use std::collections::{BTreeMap, BTreeSet};

use ipvs_netlink::Client;
use kconf_parser::Config;
pub(crate) use lvs_director::sync_daemon::Role;
use lvs_director::sync_daemon::{self, StateKey, SyncDaemonError, SyncOp};
use vrrp_net::driver::InstanceStatus;

/// Why the sync daemons could not be brought where the configuration wants them.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SyncError {
    /// The configuration's `lvs_sync_daemon` cannot run.
    #[error(transparent)]
    Config(#[from] SyncDaemonError),
    /// IPVS could not be reached or refused an operation.
    #[error("IPVS sync daemons: {0}")]
    Ipvs(#[from] ipvs_netlink::Error),
    /// The blocking netlink task did not finish.
    #[error("IPVS sync daemons: the netlink task failed: {0}")]
    Task(String),
}

/// The sync daemons this process owns (started, or found running as configured).
#[derive(Debug, Default)]
pub(crate) struct SyncDaemons {
    owned: BTreeSet<StateKey>,
    /// False with `-C` (checker side only): keepalived runs the sync daemon on the VRRP side.
    enabled: bool,
}

/// The role of an instance from the driver's status.
pub(crate) fn role_of(status: &BTreeMap<String, InstanceStatus>, name: &str) -> Option<Role> {
    status.get(name).map(|s| {
        if s.state == vrrp_fsm::State::Master {
            Role::Master
        } else {
            Role::Other
        }
    })
}

impl SyncDaemons {
    /// Sync daemons are handled when `enabled` (the VRRP side runs).
    pub(crate) fn new(enabled: bool) -> SyncDaemons {
        SyncDaemons {
            owned: BTreeSet::new(),
            enabled,
        }
    }

    /// Whether `config`'s `lvs_sync_daemon` can run (a reload checks this first).
    pub(crate) fn check(config: &Config) -> Result<(), SyncDaemonError> {
        sync_daemon::desired(config, |_| None).map(|_| ())
    }

    /// Brings the kernel's sync daemons to what `config` wants with the followed instance in
    /// the state `role` gives. Returns the number of operations applied; errors are logged.
    pub(crate) async fn apply(
        &mut self,
        config: &Config,
        role: impl Fn(&str) -> Option<Role>,
    ) -> Result<usize, SyncError> {
        let r = self.apply_inner(config, role).await;
        if let Err(e) = &r {
            tracing::error!(error = %e, "lvs_sync_daemon not applied");
        }
        r
    }

    async fn apply_inner(
        &mut self,
        config: &Config,
        role: impl Fn(&str) -> Option<Role>,
    ) -> Result<usize, SyncError> {
        let want = if self.enabled {
            sync_daemon::desired(config, role)?
        } else {
            Vec::new()
        };
        if want.is_empty() && self.owned.is_empty() {
            // Nothing configured and nothing of ours runs: IPVS is not touched (hosts without
            // ip_vs run VRRP only).
            return Ok(0);
        }
        let owned = self.owned.clone();
        let want2 = want.clone();
        let (ops, results) = tokio::task::spawn_blocking(move || -> Result<_, SyncError> {
            let mut c = Client::new()?;
            let running = c.daemons()?;
            let ops = sync_daemon::diff(&want2, &running, &owned);
            let results: Vec<Result<(), ipvs_netlink::Error>> =
                ops.iter().map(|op| run(&mut c, op)).collect();
            Ok((ops, results))
        })
        .await
        .map_err(|e| SyncError::Task(e.to_string()))??;
        let mut owned = sync_daemon::owned_after(&want);
        let mut first_error = None;
        for (op, r) in ops.iter().zip(results) {
            match r {
                Ok(()) => tracing::info!("{op}"),
                Err(e) => {
                    tracing::error!(error = %e, "cannot {op}");
                    match op {
                        // Still running: still ours to stop later.
                        SyncOp::Stop(s) => {
                            owned.insert(StateKey::from(*s));
                        }
                        SyncOp::Start(d) if !ops.contains(&SyncOp::Stop(d.state)) => {
                            owned.remove(&StateKey::from(d.state));
                        }
                        SyncOp::Start(_) => {}
                    }
                    first_error.get_or_insert(e);
                }
            }
        }
        self.owned = owned;
        match first_error {
            Some(e) => Err(e.into()),
            None => Ok(ops.len()),
        }
    }

    /// Stops the sync daemons this process owns, unless `leave` (`-I/--dont-release-ipvs`).
    pub(crate) async fn release(&mut self, leave: bool) {
        if self.owned.is_empty() {
            return;
        }
        if leave {
            tracing::info!("-I: leaving the IPVS sync daemons running");
            return;
        }
        let owned = std::mem::take(&mut self.owned);
        let done = tokio::task::spawn_blocking(move || -> Result<_, SyncError> {
            let mut c = Client::new()?;
            let running = c.daemons()?;
            Ok(sync_daemon::release(&running, &owned)
                .into_iter()
                .map(|op| {
                    let r = run(&mut c, &op);
                    (op, r)
                })
                .collect::<Vec<_>>())
        })
        .await;
        match done {
            Ok(Ok(results)) => {
                for (op, r) in results {
                    match r {
                        Ok(()) => tracing::info!("{op}"),
                        Err(e) => tracing::error!(error = %e, "cannot {op}"),
                    }
                }
            }
            Ok(Err(e)) => tracing::error!(error = %e, "cannot stop the IPVS sync daemons"),
            Err(e) => tracing::error!(error = %e, "cannot stop the IPVS sync daemons"),
        }
    }
}

fn run(c: &mut Client, op: &SyncOp) -> Result<(), ipvs_netlink::Error> {
    match op {
        SyncOp::Stop(s) => c.stop_daemon(*s),
        SyncOp::Start(d) => c.start_daemon(d),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        kconf_parser::parse_str(text, &kconf_parser::Options::default()).config
    }

    #[tokio::test]
    async fn without_lvs_sync_daemon_ipvs_is_not_touched() {
        // No IPVS on the test host is needed: nothing configured, nothing owned, no netlink.
        let mut s = SyncDaemons::new(true);
        assert_eq!(s.apply(&parse(""), |_| None).await.ok(), Some(0));
        let mut off = SyncDaemons::new(false);
        let c = parse("global_defs { lvs_sync_daemon eth0 }");
        assert_eq!(
            off.apply(&c, |_| None).await.ok(),
            Some(0),
            "-C: VRRP side off"
        );
        off.release(false).await;
    }

    #[test]
    fn a_sync_daemon_following_a_missing_instance_is_refused() {
        let c = parse("global_defs { lvs_sync_daemon eth0 VI_9 }");
        assert!(matches!(
            SyncDaemons::check(&c),
            Err(SyncDaemonError::UnknownInstance(n)) if n == "VI_9"
        ));
        assert!(SyncDaemons::check(&parse("global_defs { lvs_sync_daemon eth0 }")).is_ok());
    }

    #[test]
    fn role_follows_the_driver_status() {
        let mut st = BTreeMap::new();
        st.insert(
            "VI_1".to_owned(),
            InstanceStatus {
                state: vrrp_fsm::State::Master,
                priority: vrrp_proto::Priority(100),
                master: None,
            },
        );
        assert_eq!(role_of(&st, "VI_1"), Some(Role::Master));
        assert_eq!(role_of(&st, "VI_2"), None);
    }
}
