//! `lvs_sync_daemon`: which IPVS connection sync daemons should run, and the operations that
//! bring the kernel's daemons there (pure; the daemon applies them over netlink).
//!
//! keepalived's behaviour (`global_defs { lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N]
//! [port N] [ttl N] [group ADDR] }`): the daemon follows the named VRRP instance: the **master**
//! sync daemon runs while the instance is MASTER, the **backup** one otherwise (BACKUP, FAULT,
//! INIT). Without an instance both run. The sync id defaults to the instance's VRID (0 without
//! an instance), the port to 8848 and the group to 224.0.0.81 (the kernel's defaults, left to
//! the kernel when not configured).
//!
//! ```
//! use ipvs_netlink::SyncState;
//! use lvs_director::sync_daemon::{self, Role, SyncOp};
//!
//! let parsed = kconf_parser::parse_str(
//!     "global_defs { lvs_sync_daemon eth0 VI_1 }\n\
//!      vrrp_instance VI_1 { interface eth0\n virtual_router_id 51\n priority 100\n \
//!      virtual_ipaddress { 192.0.2.1 } }",
//!     &kconf_parser::Options::default(),
//! );
//! let want = sync_daemon::desired(&parsed.config, |_| Some(Role::Master)).unwrap();
//! assert_eq!(want.len(), 1);
//! assert_eq!((want[0].state, want[0].sync_id), (SyncState::Master, 51));
//! let ops = sync_daemon::diff(&want, &[], &Default::default());
//! assert_eq!(ops, vec![SyncOp::Start(want[0].clone())]);
//! ```

use std::collections::BTreeSet;
use std::fmt;

use ipvs_netlink::{SyncDaemon, SyncState};
use kconf_parser::Config;

/// The state of the VRRP instance a sync daemon follows, as far as the daemon cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The instance is MASTER: the master sync daemon runs.
    Master,
    /// Any other state (BACKUP, FAULT, INIT, stopped): the backup sync daemon runs.
    Other,
}

/// Why `lvs_sync_daemon` cannot be run as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncDaemonError {
    /// `inst VI` names no `vrrp_instance`.
    #[error("lvs_sync_daemon: no vrrp_instance named {0}")]
    UnknownInstance(String),
    /// The interface name cannot be given to the kernel (1 to 15 bytes).
    #[error("lvs_sync_daemon: interface name {0:?} must be 1 to 15 bytes")]
    BadInterface(String),
}

/// One operation on the kernel's sync daemons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncOp {
    /// Stop the daemon in this state (`DEL_DAEMON`).
    Stop(SyncState),
    /// Start this daemon (`NEW_DAEMON`).
    Start(SyncDaemon),
}

impl fmt::Display for SyncOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncOp::Stop(s) => write!(f, "stop the {} sync daemon", state_name(*s)),
            SyncOp::Start(d) => write!(
                f,
                "start the {} sync daemon (mcast={}, syncid={})",
                state_name(d.state),
                d.ifname,
                d.sync_id
            ),
        }
    }
}

/// `master` or `backup`.
#[must_use]
pub fn state_name(s: SyncState) -> &'static str {
    match s {
        SyncState::Master => "master",
        SyncState::Backup => "backup",
    }
}

/// The sync daemons `config` wants, given the role of the instance it follows (`role` is
/// asked with the instance's name; `None`, an instance not running yet, counts as
/// [`Role::Other`]). Empty without `lvs_sync_daemon`. At most one daemon per state, master
/// first.
pub fn desired(
    config: &Config,
    role: impl Fn(&str) -> Option<Role>,
) -> Result<Vec<SyncDaemon>, SyncDaemonError> {
    let Some(cfg) = &config.global_defs.lvs_sync_daemon else {
        return Ok(Vec::new());
    };
    if cfg.interface.is_empty() || cfg.interface.len() > 15 {
        return Err(SyncDaemonError::BadInterface(cfg.interface.clone()));
    }
    let (states, default_id) = match &cfg.instance {
        None => (vec![SyncState::Master, SyncState::Backup], 0),
        Some(name) => {
            let Some(inst) = config.vrrp_instances.iter().find(|i| &i.name == name) else {
                return Err(SyncDaemonError::UnknownInstance(name.clone()));
            };
            let state = match role(name) {
                Some(Role::Master) => SyncState::Master,
                Some(Role::Other) | None => SyncState::Backup,
            };
            (vec![state], inst.virtual_router_id)
        }
    };
    Ok(states
        .into_iter()
        .map(|state| {
            let mut d = SyncDaemon::new(
                state,
                &cfg.interface,
                u32::from(cfg.id.unwrap_or(default_id)),
            );
            d.maxlen = cfg.maxlen;
            d.port = cfg.port;
            d.ttl = cfg.ttl;
            d.group = cfg.group;
            d
        })
        .collect())
}

/// Whether the kernel's `running` daemon is what `want` asks for: same state, interface and
/// sync id, and every option `want` sets equal (options left to the kernel's defaults are
/// not compared: the kernel reports the values it chose).
#[must_use]
pub fn matches(want: &SyncDaemon, running: &SyncDaemon) -> bool {
    fn opt<T: PartialEq>(w: Option<T>, r: Option<T>) -> bool {
        w.is_none() || w == r
    }
    want.state == running.state
        && want.ifname == running.ifname
        && want.sync_id == running.sync_id
        && opt(want.maxlen, running.maxlen)
        && opt(want.port, running.port)
        && opt(want.ttl, running.ttl)
        && opt(want.group, running.group)
}

/// The operations from the kernel's `running` daemons to `want` (from [`desired`]): a wanted
/// daemon already running as wanted is kept (adopted); one running differently is stopped
/// and started again; a running daemon that is no longer wanted is stopped only if it is
/// `owned` (started or adopted by us before): daemons someone else runs are left alone.
/// Stops come before starts.
#[must_use]
pub fn diff(
    want: &[SyncDaemon],
    running: &[SyncDaemon],
    owned: &BTreeSet<StateKey>,
) -> Vec<SyncOp> {
    let mut stops = Vec::new();
    let mut starts = Vec::new();
    for state in [SyncState::Master, SyncState::Backup] {
        let w = want.iter().find(|d| d.state == state);
        let r = running.iter().find(|d| d.state == state);
        match (w, r) {
            (Some(w), Some(r)) if matches(w, r) => {}
            (Some(w), Some(_)) => {
                stops.push(SyncOp::Stop(state));
                starts.push(SyncOp::Start(w.clone()));
            }
            (Some(w), None) => starts.push(SyncOp::Start(w.clone())),
            (None, Some(_)) if owned.contains(&StateKey::from(state)) => {
                stops.push(SyncOp::Stop(state));
            }
            (None, _) => {}
        }
    }
    stops.extend(starts);
    stops
}

/// The operations that release `owned` daemons on stop (each one still running).
#[must_use]
pub fn release(running: &[SyncDaemon], owned: &BTreeSet<StateKey>) -> Vec<SyncOp> {
    diff(&[], running, owned)
}

/// A [`SyncState`] that can live in ordered sets (master before backup).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StateKey(u32);

impl From<SyncState> for StateKey {
    fn from(s: SyncState) -> Self {
        StateKey(s.number())
    }
}

impl StateKey {
    /// The state.
    #[must_use]
    pub fn state(self) -> SyncState {
        if self.0 == SyncState::Master.number() {
            SyncState::Master
        } else {
            SyncState::Backup
        }
    }
}

/// The states owned after `want` is in place: what we want now (started or adopted).
#[must_use]
pub fn owned_after(want: &[SyncDaemon]) -> BTreeSet<StateKey> {
    want.iter().map(|d| StateKey::from(d.state)).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use std::net::IpAddr;

    fn config(global: &str) -> Config {
        let text = format!(
            "global_defs {{\n{global}\n}}\n\
             vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 51\n priority 100\n \
             virtual_ipaddress {{ 192.0.2.1 }}\n}}\n\
             vrrp_instance VI_2 {{\n interface eth0\n virtual_router_id 52\n priority 100\n \
             virtual_ipaddress {{ 192.0.2.2 }}\n}}\n"
        );
        let parsed = kconf_parser::parse_str(&text, &kconf_parser::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        parsed.config
    }

    fn d(state: SyncState, ifname: &str, id: u32) -> SyncDaemon {
        SyncDaemon::new(state, ifname, id)
    }

    #[test]
    fn desired_follows_the_instance_state() {
        use SyncState::{Backup, Master};
        let group: IpAddr = "239.0.0.81".parse().unwrap();
        let full = {
            let mut x = d(Master, "eth1", 7);
            x.maxlen = Some(1400);
            x.port = Some(8849);
            x.ttl = Some(2);
            x.group = Some(group);
            x
        };
        let full_backup = SyncDaemon {
            state: Backup,
            ..full.clone()
        };
        // (global_defs line, role of VI_1, wanted daemons)
        let table: Vec<(&str, Option<Role>, Vec<SyncDaemon>)> = vec![
            ("", Some(Role::Master), vec![]),
            (
                "lvs_sync_daemon eth0 VI_1",
                Some(Role::Master),
                vec![d(Master, "eth0", 51)],
            ),
            (
                "lvs_sync_daemon eth0 VI_1",
                Some(Role::Other),
                vec![d(Backup, "eth0", 51)],
            ),
            (
                "lvs_sync_daemon eth0 VI_1",
                None,
                vec![d(Backup, "eth0", 51)],
            ),
            (
                "lvs_sync_daemon eth0 inst VI_2",
                Some(Role::Master),
                vec![d(Backup, "eth0", 52)],
            ),
            (
                "lvs_sync_daemon eth0 VI_1 id 9",
                Some(Role::Master),
                vec![d(Master, "eth0", 9)],
            ),
            (
                "lvs_sync_daemon eth0",
                Some(Role::Master),
                vec![d(Master, "eth0", 0), d(Backup, "eth0", 0)],
            ),
            (
                "lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.0.0.81",
                Some(Role::Master),
                vec![full],
            ),
            (
                "lvs_sync_daemon eth1 VI_1 id 7 maxlen 1400 port 8849 ttl 2 group 239.0.0.81",
                Some(Role::Other),
                vec![full_backup],
            ),
        ];
        for (global, role, want) in table {
            let c = config(global);
            let got = desired(&c, |name| if name == "VI_1" { role } else { None });
            assert_eq!(got, Ok(want), "{global} with VI_1 {role:?}");
        }
    }

    #[test]
    fn desired_refuses_what_cannot_run() {
        assert_eq!(
            desired(&config("lvs_sync_daemon eth0 VI_9"), |_| None),
            Err(SyncDaemonError::UnknownInstance("VI_9".into()))
        );
        assert_eq!(
            desired(
                &config("lvs_sync_daemon averyverylonginterface VI_1"),
                |_| None
            ),
            Err(SyncDaemonError::BadInterface(
                "averyverylonginterface".into()
            ))
        );
    }

    /// (want, running, owned, ops)
    type DiffRow<'a> = (
        Vec<SyncDaemon>,
        Vec<SyncDaemon>,
        &'a BTreeSet<StateKey>,
        Vec<SyncOp>,
    );

    #[test]
    fn diff_table() {
        use SyncState::{Backup, Master};
        let m = d(Master, "eth0", 51);
        let b = d(Backup, "eth0", 51);
        let m_other_id = d(Master, "eth0", 52);
        // The kernel fills in what we left to it: still a match.
        let m_kernel = {
            let mut x = m.clone();
            x.port = Some(8848);
            x.group = Some("224.0.0.81".parse().unwrap());
            x.ttl = Some(1);
            x.maxlen = Some(1472);
            x
        };
        let m_port = {
            let mut x = m.clone();
            x.port = Some(9000);
            x
        };
        let none = BTreeSet::new();
        let both: BTreeSet<StateKey> = [Master.into(), Backup.into()].into();
        let only_master: BTreeSet<StateKey> = [Master.into()].into();
        // (want, running, owned, ops)
        let table: Vec<DiffRow<'_>> = vec![
            (vec![], vec![], &none, vec![]),
            (
                vec![m.clone()],
                vec![],
                &none,
                vec![SyncOp::Start(m.clone())],
            ),
            (vec![m.clone()], vec![m.clone()], &none, vec![]),
            (vec![m.clone()], vec![m_kernel.clone()], &none, vec![]),
            // Backup to master: the backup we ran stops, the master starts.
            (
                vec![m.clone()],
                vec![b.clone()],
                &both,
                vec![SyncOp::Stop(Backup), SyncOp::Start(m.clone())],
            ),
            // A backup daemon someone else runs is left alone.
            (
                vec![m.clone()],
                vec![b.clone()],
                &only_master,
                vec![SyncOp::Start(m.clone())],
            ),
            // A different sync id or option: stopped and started again.
            (
                vec![m.clone()],
                vec![m_other_id.clone()],
                &none,
                vec![SyncOp::Stop(Master), SyncOp::Start(m.clone())],
            ),
            (
                vec![m_port.clone()],
                vec![m_kernel.clone()],
                &both,
                vec![SyncOp::Stop(Master), SyncOp::Start(m_port.clone())],
            ),
            // Both wanted, one runs.
            (
                vec![m.clone(), b.clone()],
                vec![b.clone()],
                &both,
                vec![SyncOp::Start(m.clone())],
            ),
            // lvs_sync_daemon removed by a reload: ours stop.
            (
                vec![],
                vec![m.clone(), b.clone()],
                &both,
                vec![SyncOp::Stop(Master), SyncOp::Stop(Backup)],
            ),
            (vec![], vec![m.clone(), b.clone()], &none, vec![]),
        ];
        for (i, (want, running, owned, ops)) in table.into_iter().enumerate() {
            assert_eq!(diff(&want, &running, owned), ops, "row {i}");
        }
    }

    #[test]
    fn release_stops_only_owned_running_daemons() {
        use SyncState::{Backup, Master};
        let running = [d(Master, "eth0", 1)];
        let both: BTreeSet<StateKey> = [Master.into(), Backup.into()].into();
        assert_eq!(release(&running, &both), vec![SyncOp::Stop(Master)]);
        assert_eq!(release(&running, &BTreeSet::new()), vec![]);
        assert_eq!(release(&[], &both), vec![]);
    }

    #[test]
    fn owned_after_and_state_key_round_trip() {
        use SyncState::{Backup, Master};
        let o = owned_after(&[d(Backup, "eth0", 1)]);
        assert_eq!(o.iter().map(|k| k.state()).collect::<Vec<_>>(), [Backup]);
        assert_eq!(StateKey::from(Master).state(), Master);
        assert_eq!(
            SyncOp::Start(d(Master, "eth0", 5)).to_string(),
            "start the master sync daemon (mcast=eth0, syncid=5)"
        );
        assert_eq!(
            SyncOp::Stop(Backup).to_string(),
            "stop the backup sync daemon"
        );
    }
}
