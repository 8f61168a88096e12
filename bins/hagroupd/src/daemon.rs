//! The daemon: runs every `vrrp_instance` / `vrrp_sync_group` and `virtual_server` of the
//! configuration with keepalived's command line, signals (SIGTERM/SIGINT stop, SIGHUP reload by
//! diff, SIGUSR1/SIGUSR2/SIGRTMIN+2/SIGRTMAX-1 keepalived's dumps), the control socket (`control.rs`),
//! PID files, systemd `Type=notify` readiness and structured logs.
//!
//! [`Daemon`] holds what runs (the configuration, the VRRP driver, the LVS director, scripts);
//! the signal handlers and the control socket act on it through its methods.

use crate::config_cmd::ConfigArgs;
use crate::dumps;
use crate::sync_daemon::{self, SyncDaemons};
use crate::vrrp_config;
use crate::vrrp_notify::Notifier;
use crate::vrrp_scripts::{self, ScriptPolicy};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::signal::unix::{SignalKind, signal};
use vrrp_net::driver::{self, DriverConfig, DriverEvent, DriverHandle, UnitConfig};

/// keepalived's daemon flags. hagroupd always runs in the foreground and always logs to
/// stderr (the journal under systemd); the flags are accepted so existing units work.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DaemonArgs {
    /// Stay in the foreground (always the case; accepted for compatibility).
    #[arg(short = 'n', long = "dont-fork")]
    pub(crate) dont_fork: bool,
    /// Log to the console (always the case; accepted for compatibility).
    #[arg(short = 'l', long = "log-console")]
    pub(crate) log_console: bool,
    /// Detailed logs (debug level).
    #[arg(short = 'D', long = "log-detail")]
    pub(crate) log_detail: bool,
    /// Run the VRRP side only.
    #[arg(short = 'P', long = "vrrp")]
    pub(crate) vrrp: bool,
    /// Run the checker side only (the LVS director and its health checks; no VRRP instance).
    #[arg(short = 'C', long = "check")]
    pub(crate) check: bool,
    /// Main PID file.
    #[arg(
        short = 'p',
        long = "pid",
        value_name = "FILE",
        default_value = "/run/keepalived.pid"
    )]
    pub(crate) pid: PathBuf,
    /// VRRP PID file.
    #[arg(
        short = 'r',
        long = "vrrp_pid",
        value_name = "FILE",
        default_value = "/run/keepalived_vrrp.pid"
    )]
    pub(crate) vrrp_pid: PathBuf,
    /// Checkers PID file.
    #[arg(
        short = 'c',
        long = "checkers_pid",
        value_name = "FILE",
        default_value = "/run/keepalived_checkers.pid"
    )]
    pub(crate) checkers_pid: PathBuf,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    pub(crate) version: bool,
    /// The control socket `hagroupctl` talks to (directory 0700, socket 0600).
    #[arg(long = "control-socket", value_name = "PATH", default_value = hagroup_control::DEFAULT_SOCKET)]
    pub(crate) control_socket: PathBuf,
}

fn init_logging(args: &DaemonArgs) {
    let default = if args.log_detail { "debug" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

/// `READY=1` and friends to systemd when `NOTIFY_SOCKET` is set (`Type=notify`).
pub(crate) fn sd_notify(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let sock = match std::os::unix::net::UnixDatagram::unbound() {
        Ok(s) => s,
        Err(_) => return,
    };
    let bytes = path.as_encoded_bytes();
    let r = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name)
            .and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), Path::new(&path))
    };
    if let Err(e) = r {
        tracing::debug!(error = %e, "sd_notify failed");
    }
}

struct PidFiles(Vec<PathBuf>);

impl PidFiles {
    fn write(paths: &[&Path]) -> PidFiles {
        let pid = std::process::id().to_string();
        let mut written = Vec::new();
        for p in paths {
            match std::fs::write(p, format!("{pid}\n")) {
                Ok(()) => written.push(p.to_path_buf()),
                Err(e) => tracing::warn!(file = %p.display(), error = %e, "cannot write PID file"),
            }
        }
        PidFiles(written)
    }
}

impl Drop for PidFiles {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Runs the daemon until SIGTERM/SIGINT.
pub(crate) fn run(cfg: &ConfigArgs, args: &DaemonArgs) -> ExitCode {
    init_logging(args);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hagroupd: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    rt.block_on(run_async(cfg, args))
}

/// A parsed configuration and its baseline for the next reload.
type Loaded = (kconf_parser::Config, Option<kconf_parser::Baseline>);

/// Parses the configuration; `Err` is the reason it cannot run (diagnostics are on stderr).
/// With it comes the baseline for re-parsing only what a reload changes, when the file allows
/// it ([`kconf_parser::Baseline`]).
fn load(cfg: &ConfigArgs) -> Result<Loaded, String> {
    accept(cfg, cfg.load())
}

/// What a parse gives the daemon: the configuration and its baseline, or why it cannot run.
fn accept(
    cfg: &ConfigArgs,
    parsed: Result<kconf_parser::Parsed, ExitCode>,
) -> Result<Loaded, String> {
    match parsed {
        Ok(p) if !p.has_errors() => {
            let baseline = kconf_parser::Baseline::new(&p);
            Ok((p.config, baseline))
        }
        Ok(p) => {
            let errors: Vec<String> = p
                .diagnostics
                .iter()
                .filter(|d| d.severity == kconf_parser::Severity::Error)
                .map(ToString::to_string)
                .collect();
            let more = errors.len().saturating_sub(5);
            let mut reason = format!(
                "{}: configuration has errors: {}",
                cfg.use_file.display(),
                errors
                    .iter()
                    .take(5)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("; ")
            );
            if more > 0 {
                reason.push_str(&format!(" (and {more} more)"));
            }
            tracing::error!(file = %cfg.use_file.display(), "configuration has errors");
            Err(reason)
        }
        Err(_) => Err(format!(
            "{}: cannot read the configuration",
            cfg.use_file.display()
        )),
    }
}

/// A reloaded configuration.
enum Reloaded {
    /// Parsed whole, as [`load`] does.
    Full(Box<kconf_parser::Config>, Option<kconf_parser::Baseline>),
    /// Only the `virtual_server` blocks that changed were parsed and the running
    /// configuration was edited in place (the result equals a full parse); the undo restores
    /// it if the new one is refused.
    Edited(kconf_parser::Baseline, kconf_parser::Undo),
}

/// The configuration after a reload: when the file still suits the running baseline, only the
/// `virtual_server` blocks that changed are parsed and `running` is edited in place; else the
/// whole file is parsed and `running` is left alone.
fn reload_config(
    cfg: &ConfigArgs,
    running: &mut kconf_parser::Config,
    base: Option<&kconf_parser::Baseline>,
) -> Result<Reloaded, String> {
    let Some(base) = base else {
        return load(cfg).map(|(c, b)| Reloaded::Full(Box::new(c), b));
    };
    // The file is read once: the full parse, if needed, takes the same text.
    let Ok(text) = std::fs::read_to_string(&cfg.use_file) else {
        return load(cfg).map(|(c, b)| Reloaded::Full(Box::new(c), b));
    };
    if let Some(change) =
        kconf_parser::reparse_change(base, running, &text, &cfg.use_file, &cfg.options())
        && let Some((next, undo)) = change.apply(running)
    {
        tracing::debug!("reload: only the changed virtual_server blocks were parsed");
        return Ok(Reloaded::Edited(next, undo));
    }
    accept(cfg, Ok(cfg.load_text(&text))).map(|(c, b)| Reloaded::Full(Box::new(c), b))
}

/// How a reload went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ReloadOutcome {
    /// The new configuration runs.
    Done(String),
    /// The new configuration was refused; nothing changed.
    Refused(String),
    /// The new configuration runs, but part of it could not be applied.
    Failed(String),
}

/// Which keepalived dump a signal asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dump {
    /// SIGUSR1: `keepalived.data`.
    Data,
    /// SIGUSR2: `keepalived.stats`.
    Stats,
    /// SIGRTMIN+2: `keepalived.json`.
    Json,
}

/// What the daemon runs.
pub(crate) struct Daemon<'a> {
    cfg: &'a ConfigArgs,
    args: &'a DaemonArgs,
    /// The running configuration.
    pub(crate) config: kconf_parser::Config,
    /// Its text's baseline for re-parsing only what a reload changes (`None`: full parses).
    baseline: Option<kconf_parser::Baseline>,
    /// The VRRP side's configuration as the driver runs it.
    pub(crate) vrrp: DriverConfig,
    /// The VRRP driver.
    pub(crate) driver: Arc<DriverHandle>,
    /// The LVS director, when the configuration has virtual servers.
    pub(crate) lvs: Option<lvs_director::runner::Handle>,
    /// When each VRRP instance last changed state.
    pub(crate) last_transition: HashMap<String, SystemTime>,
    notifier: Notifier,
    policy: ScriptPolicy,
    trackers: Vec<tokio::task::JoinHandle<()>>,
    /// The IPVS connection sync daemons (`lvs_sync_daemon`).
    sync: SyncDaemons,
}

impl Daemon<'_> {
    /// Reloads the configuration (SIGHUP and `hagroupctl reload`): parse and validate first
    /// (a configuration that does not parse or that the director cannot run changes nothing),
    /// then apply the difference on the LVS and the VRRP side.
    pub(crate) async fn reload(&mut self) -> ReloadOutcome {
        sd_notify("RELOADING=1");
        tracing::info!("reloading configuration");
        let outcome = self.reload_inner().await;
        match &outcome {
            ReloadOutcome::Done(m) => tracing::info!("{m}"),
            ReloadOutcome::Refused(r) => {
                tracing::error!(reason = %r, "reload refused; keeping the running configuration");
            }
            ReloadOutcome::Failed(r) => tracing::error!(reason = %r, "reload partly failed"),
        }
        sd_notify("READY=1");
        outcome
    }

    async fn reload_inner(&mut self) -> ReloadOutcome {
        let t0 = std::time::Instant::now();
        let (new, baseline, undo) =
            match reload_config(self.cfg, &mut self.config, self.baseline.as_ref()) {
                Ok(Reloaded::Full(c, b)) => (*c, b, None),
                Ok(Reloaded::Edited(b, undo)) => {
                    (std::mem::take(&mut self.config), Some(b), Some(undo))
                }
                Err(reason) => return ReloadOutcome::Refused(reason),
            };
        let parsed = t0.elapsed();
        let checked = crate::director::check(&new).and_then(|dc| {
            SyncDaemons::check(&new)
                .map(|()| dc)
                .map_err(|e| e.to_string())
        });
        let dc = match checked {
            Ok(dc) => dc,
            Err(reason) => {
                // Refused: the running configuration stays (edited in place: undone).
                if let Some(undo) = undo {
                    let mut back = new;
                    let reverted = undo.revert(&mut back);
                    debug_assert!(reverted, "the undo fits the configuration it came with");
                    self.config = back;
                }
                return ReloadOutcome::Refused(reason);
            }
        };
        let converted = t0.elapsed();
        let lvs = crate::director::reload(&mut self.lvs, &new, dc, self.args.vrrp).await;
        tracing::debug!(
            parse_ms = parsed.as_millis(),
            convert_ms = (converted - parsed).as_millis(),
            lvs_ms = (t0.elapsed() - converted).as_millis(),
            "reload: configuration parsed, converted and applied to the director"
        );
        let (dcfg, errors) = vrrp_config::driver_config(&new);
        for e in &errors {
            tracing::error!(error = %e, "instance skipped");
        }
        let vrrp = match self.driver.reload(dcfg.clone()).await {
            Ok(s) => Ok(format!(
                "reload done: VRRP instances kept {:?}, added {:?}, removed {:?}",
                s.kept, s.added, s.removed
            )),
            Err(e) => Err(format!("VRRP reload failed: {e}")),
        };
        for t in self.trackers.drain(..) {
            t.abort();
        }
        self.policy = ScriptPolicy::from_config(&new);
        self.notifier.flush(Duration::ZERO).await;
        self.notifier = Notifier::new(&new);
        self.trackers = vrrp_scripts::spawn_trackers(&new, &self.policy, Arc::clone(&self.driver));
        self.config = new;
        self.baseline = baseline;
        if vrrp.is_ok() {
            self.vrrp = dcfg;
        }
        let status = self.driver.status().borrow().clone();
        let sync = self
            .sync
            .apply(&self.config, |n| sync_daemon::role_of(&status, n))
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        let lvs = match (lvs, sync) {
            (Ok(()), s) => s,
            (Err(a), Ok(())) => Err(a),
            (Err(a), Err(b)) => Err(format!("{a}; {b}")),
        };
        match (vrrp, lvs) {
            (Ok(m), Ok(())) => ReloadOutcome::Done(m),
            (Ok(_), Err(m)) | (Err(m), Ok(())) => ReloadOutcome::Failed(m),
            (Err(a), Err(b)) => ReloadOutcome::Failed(format!("{a}; {b}")),
        }
    }

    /// Handles an event of the VRRP driver.
    async fn on_event(&mut self, ev: &DriverEvent) {
        self.notifier.handle(ev);
        if let DriverEvent::StateChanged { instance, to, .. } = ev {
            self.last_transition
                .insert(instance.clone(), SystemTime::now());
            // The sync daemons follow their instance (the event's state: the status may lag);
            // a transition of another instance, or any without one, changes nothing for them.
            let follows = |sd: &kconf_parser::model::LvsSyncDaemon| {
                sd.instance.as_deref() == Some(instance.as_str())
            };
            if !self
                .config
                .global_defs
                .lvs_sync_daemon
                .as_ref()
                .is_some_and(follows)
            {
                return;
            }
            let status = self.driver.status().borrow().clone();
            let role = |n: &str| {
                if n == instance {
                    Some(if *to == vrrp_fsm::State::Master {
                        sync_daemon::Role::Master
                    } else {
                        sync_daemon::Role::Other
                    })
                } else {
                    sync_daemon::role_of(&status, n)
                }
            };
            let _ = self.sync.apply(&self.config, role).await;
        }
    }

    /// Every VRRP instance of the running configuration with its sync group.
    pub(crate) fn instances(
        &self,
    ) -> impl Iterator<Item = (&vrrp_net::driver::InstanceConfig, Option<&str>)> {
        self.vrrp.units.iter().flat_map(|u| match u {
            UnitConfig::Instance(i) => vec![(&**i, None)],
            UnitConfig::SyncGroup { name, members } => {
                members.iter().map(|m| (m, Some(name.as_str()))).collect()
            }
        })
    }

    /// Writes one of keepalived's dump files.
    pub(crate) async fn dump(&self, which: Dump) {
        let stats = self.driver.stats().await.unwrap_or_default();
        let status = self.driver.status().borrow().clone();
        let vs = match &self.lvs {
            Some(h) => h.virtual_servers().await,
            None => Vec::new(),
        };
        let input = dumps::DumpInput {
            config: &self.config,
            instances: self
                .instances()
                .map(|(cfg, group)| dumps::InstanceView {
                    cfg,
                    group,
                    status: status.get(&cfg.router.name).copied(),
                    counters: stats
                        .instances
                        .get(&cfg.router.name)
                        .cloned()
                        .unwrap_or_default(),
                    last_transition: self.last_transition.get(&cfg.router.name).copied(),
                })
                .collect(),
            rx_errors: &stats.rx_errors,
            virtual_servers: &vs,
        };
        match which {
            Dump::Data => dumps::write("keepalived.data", &dumps::data(&input)),
            Dump::Stats => dumps::write("keepalived.stats", &dumps::stats(&input)),
            Dump::Json => dumps::write("keepalived.json", &dumps::json(&input)),
        }
    }

    /// Stops everything: VRRP (priority-0 adverts, VIPs removed, notify_stop), the director
    /// (releasing its IPVS services unless `-I`), scripts.
    async fn stop(mut self, events: &mut tokio::sync::mpsc::UnboundedReceiver<DriverEvent>) {
        tracing::info!("stopping");
        sd_notify("STOPPING=1");
        for t in self.trackers.drain(..) {
            t.abort();
        }
        self.driver.shutdown().await;
        self.sync.release(crate::director::dont_release()).await;
        crate::director::stop(self.lvs.take()).await;
        // notify_stop and friends; STOP scripts are waited for up to 1 s (keepalived §2.11).
        while let Ok(ev) = events.try_recv() {
            self.notifier.handle(&ev);
        }
        self.notifier.flush(Duration::from_secs(1)).await;
        tracing::info!("stopped");
    }
}

async fn run_async(cfg: &ConfigArgs, args: &DaemonArgs) -> ExitCode {
    if args.check && !args.vrrp {
        tracing::info!("-C/--check: running the checker side only; no VRRP instance runs");
    }
    let t0 = std::time::Instant::now();
    let (config, baseline) = match load(cfg) {
        Ok(c) => c,
        Err(_) => return ExitCode::from(1),
    };
    tracing::debug!(parse_ms = t0.elapsed().as_millis(), "configuration loaded");
    let _pids = PidFiles::write(&[&args.pid, &args.vrrp_pid]);
    let lvs = crate::director::start(&config, args.vrrp).await;
    let (dcfg, errors) = if args.check && !args.vrrp {
        (driver::DriverConfig::default(), Vec::new())
    } else {
        vrrp_config::driver_config(&config)
    };
    for e in &errors {
        tracing::error!(error = %e, "instance skipped");
    }
    let mut handle = match driver::start(dcfg.clone()) {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "cannot start VRRP");
            return ExitCode::from(1);
        }
    };
    let Some(mut events) = handle.take_events() else {
        return ExitCode::from(1);
    };
    let driver = Arc::new(handle);
    let _metrics = crate::metrics::start(&driver);
    let policy = ScriptPolicy::from_config(&config);
    let trackers = vrrp_scripts::spawn_trackers(&config, &policy, Arc::clone(&driver));
    let mut daemon = Daemon {
        cfg,
        args,
        notifier: Notifier::new(&config),
        config,
        baseline,
        vrrp: dcfg,
        driver,
        lvs,
        last_transition: HashMap::new(),
        policy,
        trackers,
        sync: SyncDaemons::new(!args.check || args.vrrp),
    };
    // The sync daemons as the instances start (BACKUP or INIT: the backup daemon).
    let status = daemon.driver.status().borrow().clone();
    let _ = daemon
        .sync
        .apply(&daemon.config, |n| sync_daemon::role_of(&status, n))
        .await;
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined1()),
        signal(SignalKind::user_defined2()),
        signal(SignalKind::from_raw(libc::SIGRTMIN() + 2)),
        signal(SignalKind::from_raw(libc::SIGRTMAX() - 1)),
    );
    let (
        Ok(mut term),
        Ok(mut int),
        Ok(mut hup),
        Ok(mut usr1),
        Ok(mut usr2),
        Ok(mut rtmin2),
        Ok(mut rtmax1),
    ) = signals
    else {
        tracing::error!("cannot install signal handlers");
        return ExitCode::from(1);
    };
    let (control_tx, mut control) = tokio::sync::mpsc::channel(16);
    let _control = crate::control::start(&args.control_socket, control_tx);
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        instances = daemon.config.vrrp_instances.len(),
        "hagroupd started"
    );
    sd_notify("READY=1");
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => { daemon.reload().await; }
            _ = usr1.recv() => daemon.dump(Dump::Data).await,
            _ = usr2.recv() => daemon.dump(Dump::Stats).await,
            _ = rtmin2.recv() => daemon.dump(Dump::Json).await,
            // keepalived's STATS_CLEAR: the statistics file; the counters are not zeroed (they
            // also feed the metrics, whose counters must never go backwards).
            _ = rtmax1.recv() => {
                tracing::info!("SIGRTMAX-1: statistics written; counters are not cleared");
                daemon.dump(Dump::Stats).await;
            }
            Some(incoming) = control.recv() => crate::control::handle(&mut daemon, incoming).await,
            ev = events.recv() => match ev {
                Some(ev) => daemon.on_event(&ev).await,
                None => break,
            },
        }
    }
    drop(_control);
    daemon.stop(&mut events).await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config_cmd::DumpFormat;

    fn args(path: &std::path::Path) -> ConfigArgs {
        ConfigArgs {
            use_file: path.to_path_buf(),
            config_test: false,
            config_id: None,
            strict: false,
            dump_config: false,
            format: DumpFormat::Json,
        }
    }

    const VS: &str = "virtual_server 192.0.2.1 80 {\n    lb_algo rr\n    lb_kind DR\n    protocol TCP\n    real_server 198.51.100.1 80 {\n        weight 1\n    }\n}\n";

    /// The configuration a reload leaves running, as the daemon takes it.
    fn reloaded(
        cfg: &ConfigArgs,
        running: &mut kconf_parser::Config,
        base: Option<&kconf_parser::Baseline>,
    ) -> Result<(kconf_parser::Config, Option<kconf_parser::Baseline>, bool), String> {
        match reload_config(cfg, running, base)? {
            Reloaded::Full(c, b) => Ok((*c, b, false)),
            Reloaded::Edited(b, _) => Ok((running.clone(), Some(b), true)),
        }
    }

    #[test]
    fn a_reload_equals_a_full_parse_whether_or_not_only_the_changes_are_parsed() {
        let dir = std::env::temp_dir().join(format!("hagroupd-reload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("keepalived.conf");
        let cfg = args(&path);
        std::fs::write(&path, format!("global_defs {{\n    router_id a\n}}\n{VS}")).unwrap();
        let (mut running, base) = load(&cfg).unwrap();
        assert!(base.is_some(), "a clean single file is a baseline");
        // Only a virtual server changed: edited in place; the result is the full parse's.
        std::fs::write(
            &path,
            format!(
                "global_defs {{\n    router_id a\n}}\n{}",
                VS.replace("weight 1", "weight 3")
            ),
        )
        .unwrap();
        let (new, next, edited) = reloaded(&cfg, &mut running, base.as_ref()).unwrap();
        assert!(edited, "only a virtual server changed");
        assert_eq!(new, load(&cfg).unwrap().0);
        assert_eq!(new.virtual_servers[0].real_servers[0].weight, 3);
        // global_defs changed: the full parse, same answer as load, running left alone.
        std::fs::write(&path, format!("global_defs {{\n    router_id b\n}}\n{VS}")).unwrap();
        let before = running.clone();
        let (again, _, edited) = reloaded(&cfg, &mut running, next.as_ref()).unwrap();
        assert!(!edited);
        assert_eq!(running, before);
        assert_eq!(again.global_defs.router_id.as_deref(), Some("b"));
        assert_eq!(again, load(&cfg).unwrap().0);
        // A broken file is refused either way, and the running configuration stays.
        std::fs::write(
            &path,
            format!("global_defs {{\n    router_id a\n}}\n{VS}virtual_server 192.0.2.2 80 {{\n    real_server x\n}}\n"),
        )
        .unwrap();
        assert!(reloaded(&cfg, &mut running, next.as_ref()).is_err());
        assert_eq!(running, before);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
