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
    /// One queue per instance or group: its scripts run one after the other, in the order of
    /// the transitions (keepalived runs them concurrently, so their order is not guaranteed).
    queues: HashMap<String, Queue>,
}

#[derive(Debug)]
struct Queue {
    tx: tokio::sync::mpsc::UnboundedSender<tokio::process::Command>,
    worker: tokio::task::JoinHandle<()>,
}

/// How long a notify script may hold up the next one of the same instance.
const SCRIPT_TURN: std::time::Duration = std::time::Duration::from_secs(5);

fn queue() -> Queue {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<tokio::process::Command>();
    let worker = tokio::spawn(async move {
        while let Some(mut cmd) = rx.recv().await {
            match cmd.spawn() {
                Ok(mut child) => {
                    if tokio::time::timeout(SCRIPT_TURN, child.wait())
                        .await
                        .is_err()
                    {
                        tracing::warn!("notify script still running after 5 s; not waiting for it");
                        tokio::spawn(async move {
                            let _ = child.wait().await;
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "notify script failed to start"),
            }
        }
    });
    Queue { tx, worker }
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
            queues: HashMap::new(),
        }
    }

    fn spawn(&mut self, key: &str, s: &Script, extra: &[String]) {
        match self.policy.script_command(s, extra) {
            Ok(cmd) => {
                let q = self.queues.entry(key.to_owned()).or_insert_with(queue);
                let _ = q.tx.send(cmd);
            }
            Err(e) => {
                tracing::warn!(script = %s.command, error = %e, "notify script not run");
            }
        }
    }

    /// Waits until every queued script has finished, for at most `limit` (keepalived waits
    /// up to 1 s for STOP scripts).
    pub(crate) async fn flush(&mut self, limit: std::time::Duration) {
        let workers: Vec<_> = self.queues.drain().map(|(_, q)| q.worker).collect();
        let _ = tokio::time::timeout(limit, async {
            for w in workers {
                let _ = w.await;
            }
        })
        .await;
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

    fn fire(&mut self, kind: &str, name: &str, group: bool, event: NotifyEvent, priority: u8) {
        let scripts = if group {
            self.groups.get(name).cloned()
        } else {
            self.instances.get(name).cloned()
        };
        let key = format!("{kind} {name}");
        if let Some(sc) = scripts {
            if let Some(s) = sc.for_event(event) {
                self.spawn(&key, s, &[]);
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
                self.spawn(&key, g, &extra);
            }
        }
        if let Some(word) = state_word(event) {
            self.write_fifo(&format!("{kind} \"{name}\" {word} {priority}\n"));
        }
    }

    /// Handles one driver event: queues its scripts and writes the FIFO line.
    pub(crate) fn handle(&mut self, ev: &DriverEvent) {
        let DriverEvent::Notify {
            instance,
            group,
            event,
            priority,
        } = ev
        else {
            return;
        };
        self.fire("INSTANCE", instance, false, *event, priority.get());
        if let Some(g) = group
            && state_word(*event).is_some()
            && *event != NotifyEvent::MasterRxLowerPriority
            && self.group_state.get(g) != Some(event)
        {
            self.group_state.insert(g.clone(), *event);
            self.fire("GROUP", g, true, *event, 0);
        }
    }
}
