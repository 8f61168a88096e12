//! Notifications on VRRP state changes: `notify_master/backup/fault/stop/deleted` scripts,
//! the generic `notify` script with keepalived's four arguments, and the notify FIFO
//! (keepalived §2.11).

use crate::vrrp_scripts::ScriptPolicy;
use kconf_parser::model::{Config, RawItem, Script};
use std::collections::HashMap;
use std::io::Write as _;
use vrrp_fsm::NotifyEvent;
use vrrp_net::driver::DriverEvent;

#[derive(Debug, Clone, Default)]
struct Scripts {
    master: Option<Script>,
    backup: Option<Script>,
    fault: Option<Script>,
    stop: Option<Script>,
    deleted: Option<Script>,
    rx_lower: Option<Script>,
    generic: Option<Script>,
}

impl Scripts {
    fn for_event(&self, e: NotifyEvent) -> Option<&Script> {
        match e {
            NotifyEvent::Master => self.master.as_ref(),
            NotifyEvent::Backup => self.backup.as_ref(),
            NotifyEvent::Fault => self.fault.as_ref(),
            NotifyEvent::Stop => self.stop.as_ref(),
            NotifyEvent::Deleted => self.deleted.as_ref(),
            NotifyEvent::MasterRxLowerPriority => self.rx_lower.as_ref(),
            _ => None,
        }
    }
}

/// The word keepalived passes to `notify` scripts and writes to the FIFO for an event; `None`
/// for events that only have their own script.
pub(crate) fn state_word(e: NotifyEvent) -> Option<&'static str> {
    Some(match e {
        NotifyEvent::Master => "MASTER",
        NotifyEvent::Backup => "BACKUP",
        NotifyEvent::Fault => "FAULT",
        NotifyEvent::Stop => "STOP",
        NotifyEvent::Deleted => "DELETED",
        NotifyEvent::MasterRxLowerPriority => "MASTER_RX_LOWER_PRI",
        _ => return None,
    })
}

/// Runs notifications for driver events.
#[derive(Debug)]
pub(crate) struct Notifier {
    policy: ScriptPolicy,
    instances: HashMap<String, Scripts>,
    groups: HashMap<String, Scripts>,
    group_state: HashMap<String, NotifyEvent>,
    fifo: Option<std::path::PathBuf>,
}

fn fifo_path(items: &[RawItem]) -> Option<std::path::PathBuf> {
    items
        .iter()
        .find(|i| i.keyword == "vrrp_notify_fifo" || i.keyword == "notify_fifo")
        .and_then(|i| i.args.first())
        .map(std::path::PathBuf::from)
}

impl Notifier {
    /// The notification settings of a configuration.
    pub(crate) fn new(config: &Config) -> Notifier {
        let instances = config
            .vrrp_instances
            .iter()
            .map(|i| {
                (
                    i.name.clone(),
                    Scripts {
                        master: i.notify_master.clone(),
                        backup: i.notify_backup.clone(),
                        fault: i.notify_fault.clone(),
                        stop: i.notify_stop.clone(),
                        deleted: i.notify_deleted.clone(),
                        rx_lower: i.notify_master_rx_lower_pri.clone(),
                        generic: i.notify.clone(),
                    },
                )
            })
            .collect();
        let groups = config
            .vrrp_sync_groups
            .iter()
            .map(|g| {
                (
                    g.name.clone(),
                    Scripts {
                        master: g.notify_master.clone(),
                        backup: g.notify_backup.clone(),
                        fault: g.notify_fault.clone(),
                        stop: g.notify_stop.clone(),
                        deleted: None,
                        rx_lower: None,
                        generic: g.notify.clone(),
                    },
                )
            })
            .collect();
        Notifier {
            policy: ScriptPolicy::from_config(config),
            instances,
            groups,
            group_state: HashMap::new(),
            fifo: fifo_path(&config.global_defs.unsupported),
        }
    }

    fn spawn(&self, s: &Script, extra: &[String]) -> Option<tokio::task::JoinHandle<()>> {
        match self.policy.script_command(s, extra) {
            Ok(mut cmd) => match cmd.spawn() {
                Ok(mut child) => Some(tokio::spawn(async move {
                    let _ = child.wait().await;
                })),
                Err(e) => {
                    tracing::warn!(script = %s.command, error = %e, "notify script failed to start");
                    None
                }
            },
            Err(e) => {
                tracing::warn!(script = %s.command, error = %e, "notify script not run");
                None
            }
        }
    }

    fn write_fifo(&self, line: &str) {
        let Some(path) = &self.fifo else {
            return;
        };
        use std::os::unix::fs::OpenOptionsExt;
        let r = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        if let Err(e) = r {
            tracing::debug!(fifo = %path.display(), error = %e, "notify FIFO write skipped");
        }
    }

    fn fire(
        &self,
        kind: &str,
        name: &str,
        scripts: Option<&Scripts>,
        event: NotifyEvent,
        priority: u8,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let mut running = Vec::new();
        if let Some(sc) = scripts {
            if let Some(s) = sc.for_event(event) {
                running.extend(self.spawn(s, &[]));
            }
            if let (Some(g), Some(word)) = (&sc.generic, state_word(event))
                && event != NotifyEvent::MasterRxLowerPriority
            {
                let extra = [
                    kind.to_owned(),
                    name.to_owned(),
                    word.to_owned(),
                    priority.to_string(),
                ];
                running.extend(self.spawn(g, &extra));
            }
        }
        if let Some(word) = state_word(event) {
            self.write_fifo(&format!("{kind} \"{name}\" {word} {priority}\n"));
        }
        running
    }

    /// Handles one driver event; returns the started scripts (STOP scripts are waited for).
    pub(crate) fn handle(&mut self, ev: &DriverEvent) -> Vec<tokio::task::JoinHandle<()>> {
        let DriverEvent::Notify {
            instance,
            group,
            event,
            priority,
        } = ev
        else {
            return Vec::new();
        };
        let mut running = self.fire(
            "INSTANCE",
            instance,
            self.instances.get(instance),
            *event,
            priority.get(),
        );
        if let Some(g) = group
            && state_word(*event).is_some()
            && *event != NotifyEvent::MasterRxLowerPriority
            && self.group_state.get(g) != Some(event)
        {
            self.group_state.insert(g.clone(), *event);
            running.extend(self.fire("GROUP", g, self.groups.get(g), *event, 0));
        }
        running
    }
}
