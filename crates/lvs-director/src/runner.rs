//! Runs a [`Director`] on tokio (cargo feature `runtime`): the health probes on tokio tasks,
//! and one worker thread that owns the IPVS netlink socket and keeps the owned part of the
//! kernel table equal to the desired table.
//!
//! - Start: `lvs_flush` flushes the whole table; `lvs_timeouts` are set; then the kernel table
//!   is read and only the difference applied, so services already right are adopted (live
//!   connections survive a daemon restart) and services the configuration does not name are
//!   left alone.
//! - Health results that change the table trigger a reconcile (coalesced: one at a time, the
//!   latest desired table wins).
//! - Reload: [`Handle::reload`] with an already validated [`DirectorConfig`]; state of unchanged
//!   real servers and checkers is carried, and only the difference is applied.
//! - Stop: [`Handle::stop`] removes the owned services, or flushes the table with
//!   `lvs_flush_on_stop`, unless the handle was told to leave the table in place
//!   (keepalived's `-I/--dont-release-ipvs`).

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::mpsc as std_mpsc;
use std::time::Duration;

use healthcheck::{CheckerId, Event, Outcome, PoolOptions};
use ipvs_netlink::{Client, Desired, Error as IpvsError, Op, ServiceKey, Timeouts, apply, plan};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::convert::DirectorConfig;
use crate::director::{
    AdminWeightChange, AdminWeightError, Director, RealServerSelector, RealServerStatus,
    VirtualServerStatus,
};
use crate::observe::{ProbeObserver, ProbeReport, VirtualServerHealth};

/// How the runner behaves.
#[derive(Debug, Clone, Default)]
pub struct RunnerOptions {
    /// Leave the IPVS table in place on stop (keepalived's `-I/--dont-release-ipvs`).
    pub dont_release: bool,
    /// Seed of the checkers' start spreading.
    pub seed: u64,
    /// Health-check pool options.
    pub pool: PoolOptions,
    /// Told about every probe run (metrics); `None` by default.
    pub observer: Option<Arc<dyn ProbeObserver>>,
    /// The addresses configured locally at start, for `ha_suspend` ([`Director::
    /// set_local_addresses`]); later changes come through [`AddressFeed`]. `None`: unknown,
    /// every virtual server counts as present.
    pub local_addresses: Option<HashSet<IpAddr>>,
}

/// What the IPVS worker last did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Operations sent.
    pub ops: usize,
    /// Operations the kernel refused, as `ipvsadm` lines with the error.
    pub failed: Vec<String>,
}

enum Cmd {
    Reload(Box<DirectorConfig>, oneshot::Sender<SyncReport>),
    Status(oneshot::Sender<Vec<RealServerStatus>>),
    VirtualServers(oneshot::Sender<Vec<VirtualServerStatus>>),
    AdminWeight(
        RealServerSelector,
        Option<u32>,
        oneshot::Sender<AdminWeightReply>,
    ),
    Health(oneshot::Sender<Vec<VirtualServerHealth>>),
    LocalAddresses(HashSet<IpAddr>),
    Stop(oneshot::Sender<()>),
}

type AdminWeightReply = Result<(AdminWeightChange, SyncReport), AdminWeightError>;

/// Controls a running director.
#[derive(Debug)]
pub struct Handle {
    tx: mpsc::UnboundedSender<Cmd>,
    task: tokio::task::JoinHandle<()>,
    started: SyncReport,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Cmd::Reload(..) => "Reload",
            Cmd::Status(_) => "Status",
            Cmd::VirtualServers(_) => "VirtualServers",
            Cmd::AdminWeight(..) => "AdminWeight",
            Cmd::Health(_) => "Health",
            Cmd::LocalAddresses(_) => "LocalAddresses",
            Cmd::Stop(_) => "Stop",
        })
    }
}

/// Why the runner could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The IPVS netlink family could not be reached (no `ip_vs` module, no CAP_NET_ADMIN).
    #[error("IPVS: {0}")]
    Ipvs(#[from] IpvsError),
    /// The worker thread could not be created.
    #[error("cannot start the IPVS worker thread: {0}")]
    Thread(std::io::Error),
}

impl Handle {
    /// What the start-up reconcile did (no operation when the kernel already held the desired
    /// table: everything was adopted).
    #[must_use]
    pub fn started(&self) -> &SyncReport {
        &self.started
    }

    /// Runs `config` from now on (the caller parsed and validated it: a configuration that
    /// does not convert never gets here). Resolves once the difference is applied.
    pub async fn reload(&self, config: DirectorConfig) -> Option<SyncReport> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Reload(Box::new(config), tx)).ok()?;
        rx.await.ok()
    }

    /// Per real server: alive, and its weight in the table.
    pub async fn status(&self) -> Vec<RealServerStatus> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Status(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Per virtual server: name, services, quorum and real servers.
    pub async fn virtual_servers(&self) -> Vec<VirtualServerStatus> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::VirtualServers(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }

    /// Sets (`Some`) or removes (`None`) a real server's administrative weight
    /// ([`Director::set_admin_weight`]; 0 drains) and brings the kernel table there through
    /// the normal reconcile. `None` when the runner has stopped.
    pub async fn set_admin_weight(
        &self,
        target: RealServerSelector,
        weight: Option<u32>,
    ) -> Option<AdminWeightReply> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::AdminWeight(target, weight, tx)).ok()?;
        rx.await.ok()
    }

    /// A cloneable, read-only view of the director's health for other tasks (metrics). It
    /// does not keep the director running: dropping the handle still stops it.
    #[must_use]
    pub fn health_source(&self) -> HealthSource {
        HealthSource {
            tx: self.tx.downgrade(),
        }
    }

    /// A cloneable sender of the local addresses for `ha_suspend`, for the task that watches
    /// them. It does not keep the director running.
    #[must_use]
    pub fn address_feed(&self) -> AddressFeed {
        AddressFeed {
            tx: self.tx.downgrade(),
        }
    }

    /// Stops checking and releases the table (per the options), then returns.
    pub async fn stop(self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Stop(tx)).is_ok() {
            let _ = rx.await;
        }
        let _ = self.task.await;
    }
}

/// Asks a running director for its health; see [`Handle::health_source`].
#[derive(Debug, Clone)]
pub struct HealthSource {
    tx: mpsc::WeakUnboundedSender<Cmd>,
}

impl HealthSource {
    /// Per virtual server: quorum, real servers alive and weights; `None` once the director
    /// has stopped.
    pub async fn health(&self) -> Option<Vec<VirtualServerHealth>> {
        let (tx, rx) = oneshot::channel();
        self.tx.upgrade()?.send(Cmd::Health(tx)).ok()?;
        rx.await.ok()
    }
}

/// Logs the `ha_suspend` presence changes [`Director::set_local_addresses`] returned.
fn log_presence(director: &Director, changed: &[(usize, bool)]) {
    for &(vi, present) in changed {
        let name = director
            .config()
            .virtual_servers
            .get(vi)
            .map_or("?", |v| v.name.as_str());
        if present {
            tracing::info!(
                virtual_server = name,
                "ha_suspend: address is local, checks resume"
            );
        } else {
            tracing::info!(
                virtual_server = name,
                "ha_suspend: address is not local, checks suspended"
            );
        }
    }
}

/// Tells a running director which addresses are configured locally (`ha_suspend`); see
/// [`Handle::address_feed`].
#[derive(Debug, Clone)]
pub struct AddressFeed {
    tx: mpsc::WeakUnboundedSender<Cmd>,
}

impl AddressFeed {
    /// Sends the addresses configured locally now; `false` once the director has stopped.
    pub fn send(&self, local: HashSet<IpAddr>) -> bool {
        self.tx
            .upgrade()
            .is_some_and(|tx| tx.send(Cmd::LocalAddresses(local)).is_ok())
    }
}

/// Starts the director: opens the IPVS socket, applies the start-up reconcile, and returns
/// once the kernel table holds the desired table.
pub async fn start(config: DirectorConfig, options: RunnerOptions) -> Result<Handle, StartError> {
    let client = Client::new()?;
    let (jobs, job_rx) = std_mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("ipvs".into())
        .spawn(move || worker(client, &job_rx))
        .map_err(StartError::Thread)?;
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    let origin = Instant::now();
    if config.flush_at_start {
        let _ = ask(&jobs, Job::Flush).await;
    }
    if let Some(t) = config.timeouts {
        let _ = ask(&jobs, |r| Job::Timeouts(t, r)).await;
    }
    let t0 = std::time::Instant::now();
    let mut director = Director::new(config, options.seed, Duration::ZERO, options.pool);
    tracing::debug!(new_ms = t0.elapsed().as_millis(), "director built");
    if let Some(local) = &options.local_addresses {
        let changed = director.set_local_addresses(local);
        log_presence(&director, &changed);
    }
    let mut state = State {
        director,
        jobs,
        origin,
        options,
        epoch: 0,
        generation: 0,
    };
    let report = state.sync().await;
    tracing::info!(
        ops = report.ops,
        failed = report.failed.len(),
        "IPVS table reconciled"
    );
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(state.run(rx));
    Ok(Handle {
        tx,
        task,
        started: report,
    })
}

struct State {
    director: Director,
    jobs: std_mpsc::Sender<Job>,
    origin: Instant,
    options: RunnerOptions,
    /// Bumped on reload: results of probes started before are dropped.
    epoch: u64,
    /// Bumped on reload: a sync started before does not clear the retired services.
    generation: u64,
}

type ProbeResult = (u64, CheckerId, Outcome);

impl State {
    fn now(&self) -> Duration {
        Instant::now().saturating_duration_since(self.origin)
    }

    async fn sync(&mut self) -> SyncReport {
        let t0 = std::time::Instant::now();
        let desired = self.director.desired();
        let owned = self.director.owned_keys();
        tracing::debug!(desired_ms = t0.elapsed().as_millis(), "desired table");
        let generation = self.generation;
        let report = ask(&self.jobs, |r| Job::Sync(desired, owned, r))
            .await
            .unwrap_or_else(|| SyncReport {
                ops: 0,
                failed: vec!["the IPVS worker stopped".into()],
            });
        for f in &report.failed {
            tracing::warn!(op = %f, "IPVS operation failed");
        }
        if report.failed.is_empty() && generation == self.generation {
            self.director.forget_retired();
        }
        report
    }

    fn spawn_due(&mut self, results: &mpsc::UnboundedSender<ProbeResult>) {
        let now = self.now();
        while let Some(due) = self.director.poll_due(now) {
            let Some((cfg, rs)) = self.director.checker(due.id) else {
                continue;
            };
            let cfg = cfg.clone();
            let tx = results.clone();
            let epoch = self.epoch;
            let observer = self.options.observer.clone().and_then(|o| {
                let vs = self.director.pool().config().get(due.id.vs)?.key.clone();
                Some((o, vs))
            });
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                let result = healthcheck::probes::run_check(&cfg, rs, &due).await;
                if let Some((o, vs)) = observer {
                    o.probe_done(&ProbeReport {
                        virtual_server: &vs,
                        real_server: rs,
                        checker: &cfg.kind,
                        result: &result,
                        elapsed: started.elapsed(),
                    });
                }
                let outcome = match result {
                    Ok(o) => o,
                    Err(e) => {
                        tracing::debug!(real_server = %rs, error = %e, "check failed");
                        Outcome::Down
                    }
                };
                let _ = tx.send((epoch, due.id, outcome));
            });
        }
    }

    /// Drains the pool's events; whether the table changed.
    fn drain_events(&mut self) -> bool {
        let mut changed = false;
        while let Some(ev) = self.director.poll_event() {
            match ev {
                Event::Ipvs(_) => changed = true,
                Event::RealServerUp { vs, rs } => {
                    tracing::info!(vs, real_server = %rs, "real server up")
                }
                Event::RealServerDown { vs, rs } => {
                    tracing::warn!(vs, real_server = %rs, "real server down");
                }
                Event::QuorumLost { vs } => tracing::warn!(vs, "quorum lost"),
                Event::QuorumGained { vs } => tracing::info!(vs, "quorum gained"),
                Event::Notify { script, .. } => {
                    run_script(&script, self.director.config().script_user.as_ref());
                }
                _ => {}
            }
        }
        changed
    }

    async fn run(mut self, mut cmds: mpsc::UnboundedReceiver<Cmd>) {
        let (tx, mut rx) = mpsc::unbounded_channel::<ProbeResult>();
        self.drain_events();
        let mut watcher = self.file_watcher();
        loop {
            self.spawn_due(&tx);
            let wake = self.director.poll_timeout().map_or_else(
                || Instant::now() + Duration::from_secs(3600),
                |t| self.origin + t,
            );
            tokio::select! {
                biased;
                cmd = cmds.recv() => match cmd {
                    Some(Cmd::Reload(config, reply)) => {
                        let now = self.now();
                        self.epoch += 1;
                        self.generation += 1;
                        for w in &config.warnings {
                            tracing::warn!("{w}");
                        }
                        let timeouts = config.timeouts;
                        let old = std::mem::replace(&mut self.director, Director::new(
                            DirectorConfig::empty(), 0, now, self.options.pool));
                        let t0 = std::time::Instant::now();
                        self.director = old.reload(*config, self.options.seed ^ self.epoch, now);
                        let reloaded = t0.elapsed();
                        if let Some(local) = &self.options.local_addresses {
                            let changed = self.director.set_local_addresses(local);
                            log_presence(&self.director, &changed);
                        }
                        if let Some(t) = timeouts {
                            let _ = ask(&self.jobs, |r| Job::Timeouts(t, r)).await;
                        }
                        self.drain_events();
                        watcher = self.file_watcher();
                        let report = self.sync().await;
                        tracing::debug!(
                            reload_ms = reloaded.as_millis(),
                            sync_ms = (t0.elapsed() - reloaded).as_millis(),
                            "director reloaded and synced"
                        );
                        let _ = reply.send(report);
                    }
                    Some(Cmd::Status(reply)) => {
                        let _ = reply.send(self.director.real_servers());
                    }
                    Some(Cmd::VirtualServers(reply)) => {
                        let _ = reply.send(self.director.virtual_servers());
                    }
                    Some(Cmd::AdminWeight(target, weight, reply)) => {
                        let r = match self.director.set_admin_weight(&target, weight) {
                            Ok(change) => {
                                tracing::info!(vs = %change.vs, real_server = %change.rs,
                                    before = ?change.before, after = ?change.after,
                                    "administrative weight set");
                                Ok((change, self.sync().await))
                            }
                            Err(e) => Err(e),
                        };
                        let _ = reply.send(r);
                    }
                    Some(Cmd::Health(reply)) => {
                        let _ = reply.send(self.director.health());
                    }
                    Some(Cmd::LocalAddresses(local)) => {
                        let changed = self.director.set_local_addresses(&local);
                        log_presence(&self.director, &changed);
                        self.options.local_addresses = Some(local);
                    }
                    Some(Cmd::Stop(reply)) => {
                        self.stop().await;
                        let _ = reply.send(());
                        return;
                    }
                    None => {
                        self.stop().await;
                        return;
                    }
                },
                Some((epoch, id, outcome)) = rx.recv() => {
                    let now = self.now();
                    if epoch == self.epoch {
                        self.director.handle_result(now, id, outcome);
                    }
                    while let Ok((epoch, id, outcome)) = rx.try_recv() {
                        if epoch == self.epoch {
                            self.director.handle_result(now, id, outcome);
                        }
                    }
                    if self.drain_events() {
                        self.sync().await;
                    }
                }
                changed = async {
                    match watcher.as_mut() {
                        Some(w) => w.changed().await,
                        None => std::future::pending().await,
                    }
                } => match changed {
                    Ok(ids) => {
                        let now = self.now();
                        for id in ids {
                            self.director.check_now(now, id);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "track file watch failed; FILE_CHECK files are read every delay_loop");
                        watcher = None;
                    }
                },
                () = tokio::time::sleep_until(wake) => {}
            }
        }
    }

    /// The inotify watch of the FILE_CHECK files (keepalived re-reads a track file as soon as it
    /// changes); `None` when there is none or inotify is unavailable (then the files are read
    /// every `delay_loop`).
    fn file_watcher(&self) -> Option<healthcheck::probes::FileWatcher> {
        match healthcheck::probes::FileWatcher::new(self.director.pool().file_checkers()) {
            Ok((w, errors)) => {
                for (dir, e) in errors {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot watch track files");
                }
                w
            }
            Err(e) => {
                tracing::warn!(error = %e, "inotify unavailable; FILE_CHECK files are read every delay_loop");
                None
            }
        }
    }

    async fn stop(&mut self) {
        self.director.shutdown();
        self.drain_events();
        if self.options.dont_release {
            tracing::info!("leaving the IPVS table in place (--dont-release-ipvs)");
        } else if self.director.config().flush_on_stop {
            let _ = ask(&self.jobs, Job::Flush).await;
        } else {
            let owned = self.director.owned_keys();
            let _ = ask(&self.jobs, |r| Job::Release(owned, r)).await;
        }
    }
}

/// Runs a `notify_up`/`notify_down`/`quorum_up`/`quorum_down` script as keepalived does: split
/// into argv with keepalived's quoting and `execve`d directly when the program resolves to an
/// executable, else through `/bin/sh -c` (keepalived's `system()` fallback); as `user`
/// (`script_user`), in its own process group, not waited for.
fn run_script(script: &str, user: Option<&healthcheck::RunAsUser>) {
    tracing::info!(script, "running notify script");
    let argv = kconf_parser::split_command(script);
    let mut cmd = match argv.split_first() {
        Some((prog, args)) if executable(prog) => {
            let mut c = tokio::process::Command::new(prog);
            c.args(args);
            c
        }
        _ => {
            let mut c = tokio::process::Command::new("/bin/sh");
            c.arg("-c").arg(script);
            c
        }
    };
    cmd.stdin(std::process::Stdio::null())
        .process_group(0)
        .kill_on_drop(false);
    match user.map(healthcheck::probes::resolve_user).transpose() {
        Ok(Some(Some((uid, gid)))) => {
            cmd.gid(gid).uid(uid);
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(script, error = %e, "notify script not run");
            return;
        }
    }
    match cmd.spawn() {
        Ok(mut child) => {
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        Err(e) => tracing::warn!(script, error = %e, "cannot run notify script"),
    }
}

/// Whether `prog` names an executable file: a path, or a name found in `PATH`.
fn executable(prog: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let is_exec = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if prog.contains('/') {
        return is_exec(std::path::Path::new(prog));
    }
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| is_exec(&dir.join(prog))))
}

/// A job for the IPVS worker thread.
enum Job {
    Sync(Desired, HashSet<ServiceKey>, oneshot::Sender<SyncReport>),
    Release(HashSet<ServiceKey>, oneshot::Sender<SyncReport>),
    Flush(oneshot::Sender<SyncReport>),
    Timeouts(Timeouts, oneshot::Sender<SyncReport>),
}

async fn ask(
    jobs: &std_mpsc::Sender<Job>,
    job: impl FnOnce(oneshot::Sender<SyncReport>) -> Job,
) -> Option<SyncReport> {
    let (tx, rx) = oneshot::channel();
    jobs.send(job(tx)).ok()?;
    rx.await.ok()
}

fn owned_view(kernel: &Desired, owned: &HashSet<ServiceKey>) -> Desired {
    Desired {
        services: kernel
            .services
            .iter()
            .filter(|(s, _)| owned.contains(&s.key))
            .cloned()
            .collect(),
    }
}

fn report(results: Vec<ipvs_netlink::OpResult>) -> SyncReport {
    let ops = results.len();
    let failed = results
        .into_iter()
        .filter_map(|r| r.result.err().map(|e| format!("{}: {e}", r.op)))
        .collect();
    SyncReport { ops, failed }
}

fn one(result: Result<(), IpvsError>, what: &str) -> SyncReport {
    SyncReport {
        ops: 1,
        failed: result
            .err()
            .map(|e| format!("{what}: {e}"))
            .into_iter()
            .collect(),
    }
}

/// The worker: owns the socket and a cache of the owned part of the kernel table (what the
/// last fully successful sync left there); after any failure the table is read again.
fn worker(mut client: Client, jobs: &std_mpsc::Receiver<Job>) {
    let mut cache: Option<Desired> = None;
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Sync(desired, owned, reply) => {
                let actual = match cache.take() {
                    // The cache is the last desired table: normally every service in it is
                    // still owned, and it is used as it is instead of copied.
                    Some(c) if c.services.iter().all(|(s, _)| owned.contains(&s.key)) => c,
                    Some(c) => owned_view(&c, &owned),
                    None => match client.table() {
                        Ok(t) => owned_view(&Desired::from_table(&t), &owned),
                        Err(e) => {
                            let _ = reply.send(SyncReport {
                                ops: 0,
                                failed: vec![format!("reading the IPVS table: {e}")],
                            });
                            continue;
                        }
                    },
                };
                let t0 = std::time::Instant::now();
                let ops: Vec<Op> = plan(&desired, &actual);
                let planned = t0.elapsed();
                let r = report(apply(&mut client, ops));
                tracing::debug!(
                    plan_ms = planned.as_millis(),
                    apply_ms = (t0.elapsed() - planned).as_millis(),
                    ops = r.ops,
                    "IPVS sync"
                );
                if r.failed.is_empty() {
                    cache = Some(desired);
                }
                let _ = reply.send(r);
            }
            Job::Release(owned, reply) => {
                cache = None;
                let r = match client.table() {
                    Ok(t) => {
                        let ops = owned_view(&Desired::from_table(&t), &owned)
                            .services
                            .into_iter()
                            .map(|(s, _)| Op::DeleteService(s.key))
                            .collect();
                        report(apply(&mut client, ops))
                    }
                    Err(e) => one(Err(e), "reading the IPVS table"),
                };
                let _ = reply.send(r);
            }
            Job::Flush(reply) => {
                cache = None;
                let _ = reply.send(one(client.flush(), "flush"));
            }
            Job::Timeouts(t, reply) => {
                let _ = reply.send(one(client.set_timeouts(t), "set timeouts"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn wait_for(path: &std::path::Path) -> bool {
        for _ in 0..200 {
            if path.exists() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    #[tokio::test]
    async fn notify_scripts_are_execed_directly_or_through_the_shell_as_keepalived_does() {
        let dir = std::env::temp_dir().join(format!("hg-runner-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let d = dir.display();
        // An executable: argv, no shell, so `$HOME` and `>` are plain arguments.
        run_script(&format!("/usr/bin/touch '{d}/direct $HOME'"), None);
        assert!(
            wait_for(&dir.join("direct $HOME")),
            "execed without a shell"
        );
        // A shell built-in is not an executable: keepalived falls back to system().
        run_script(&format!("cd {d} && touch via-shell"), None);
        assert!(wait_for(&dir.join("via-shell")));
        // An unknown script user: not run at all.
        let nobody = healthcheck::RunAsUser {
            user: "hagroup-no-such-user".into(),
            group: None,
            if_exists: false,
        };
        run_script(&format!("/usr/bin/touch {d}/never"), Some(&nobody));
        let optional = healthcheck::RunAsUser {
            if_exists: true,
            ..nobody
        };
        run_script(&format!("/usr/bin/touch {d}/optional"), Some(&optional));
        assert!(wait_for(&dir.join("optional")));
        assert!(!dir.join("never").exists());
        assert!(executable("sh") && !executable("cd") && !executable("/etc/passwd"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
