//! The daemon: runs every `vrrp_instance` / `vrrp_sync_group` of the configuration with
//! keepalived's command line, signals (SIGTERM/SIGINT stop, SIGHUP reload by diff, SIGUSR2
//! statistics), PID files, systemd `Type=notify` readiness and structured logs.

use crate::config_cmd::ConfigArgs;
use crate::vrrp_config;
use crate::vrrp_notify::Notifier;
use crate::vrrp_scripts::{self, ScriptPolicy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::signal::unix::{SignalKind, signal};
use vrrp_net::driver::{self, DriverHandle};

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
    /// Run the checker side only (not built yet: nothing VRRP runs).
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

fn load(cfg: &ConfigArgs) -> Option<kconf_parser::Config> {
    match cfg.load() {
        Ok(p) if !p.has_errors() => Some(p.config),
        Ok(_) => {
            tracing::error!(file = %cfg.use_file.display(), "configuration has errors");
            None
        }
        Err(_) => None,
    }
}

fn stats_path() -> PathBuf {
    let dir = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    dir.join("hagroupd.stats")
}

async fn write_stats(driver: &DriverHandle) {
    let Ok(st) = driver.stats().await else {
        return;
    };
    let mut out = String::new();
    for (reason, n) in &st.rx_errors {
        out.push_str(&format!("rx_error {reason} {n}\n"));
    }
    for (name, c) in &st.instances {
        out.push_str(&format!(
            "instance {name} adverts_received {} adverts_sent {} became_master {} transitions {} discards {}\n",
            c.adverts_received,
            c.adverts_sent,
            c.became_master,
            c.transitions,
            c.discards.total()
        ));
    }
    let path = stats_path();
    if let Err(e) = std::fs::write(&path, out) {
        tracing::warn!(file = %path.display(), error = %e, "cannot write statistics");
    }
}

async fn run_async(cfg: &ConfigArgs, args: &DaemonArgs) -> ExitCode {
    if args.check && !args.vrrp {
        tracing::warn!("-C/--check: the checker side is not built yet; no VRRP instance runs");
    }
    let Some(config) = load(cfg) else {
        return ExitCode::from(1);
    };
    let _pids = PidFiles::write(&[&args.pid, &args.vrrp_pid]);
    let mut lvs = crate::director::start(&config, args.vrrp).await;
    let (dcfg, errors) = if args.check && !args.vrrp {
        (driver::DriverConfig::default(), Vec::new())
    } else {
        vrrp_config::driver_config(&config)
    };
    for e in &errors {
        tracing::error!(error = %e, "instance skipped");
    }
    let mut handle = match driver::start(dcfg) {
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
    let mut notifier = Notifier::new(&config);
    let mut policy = ScriptPolicy::from_config(&config);
    let mut trackers = vrrp_scripts::spawn_trackers(&config, &policy, Arc::clone(&driver));
    let signals = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
        signal(SignalKind::hangup()),
        signal(SignalKind::user_defined2()),
    );
    let (Ok(mut term), Ok(mut int), Ok(mut hup), Ok(mut usr2)) = signals else {
        tracing::error!("cannot install signal handlers");
        return ExitCode::from(1);
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        instances = config.vrrp_instances.len(),
        "hagroupd started"
    );
    sd_notify("READY=1");
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = usr2.recv() => write_stats(&driver).await,
            _ = hup.recv() => {
                sd_notify("RELOADING=1");
                tracing::info!("reloading configuration");
                if let Some(new) = load(cfg).filter(crate::director::validate) {
                    crate::director::reload(&mut lvs, &new, args.vrrp).await;
                    let (dcfg, errors) = vrrp_config::driver_config(&new);
                    for e in &errors {
                        tracing::error!(error = %e, "instance skipped");
                    }
                    match driver.reload(dcfg).await {
                        Ok(s) => tracing::info!(kept = ?s.kept, added = ?s.added, removed = ?s.removed, "reload done"),
                        Err(e) => tracing::error!(error = %e, "reload failed"),
                    }
                    for t in trackers.drain(..) {
                        t.abort();
                    }
                    policy = ScriptPolicy::from_config(&new);
                    notifier.flush(Duration::ZERO).await;
                    notifier = Notifier::new(&new);
                    trackers = vrrp_scripts::spawn_trackers(&new, &policy, Arc::clone(&driver));
                } else {
                    tracing::error!("reload refused; keeping the running configuration");
                }
                sd_notify("READY=1");
            }
            ev = events.recv() => match ev {
                Some(ev) => { notifier.handle(&ev); }
                None => break,
            },
        }
    }
    tracing::info!("stopping");
    sd_notify("STOPPING=1");
    for t in trackers.drain(..) {
        t.abort();
    }
    driver.shutdown().await;
    crate::director::stop(lvs).await;
    // notify_stop and friends; STOP scripts are waited for up to 1 s (keepalived §2.11).
    while let Ok(ev) = events.try_recv() {
        notifier.handle(&ev);
    }
    notifier.flush(Duration::from_secs(1)).await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
