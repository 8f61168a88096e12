//! `hagroupd`: VRRP failover of virtual IPs, IPVS management and real-server health checking,
//! configured by the `keepalived.conf` a keepalived user already has.

mod config_cmd;
mod control;
mod daemon;
mod demo;
mod director;
mod dumps;
mod genhash_cmd;
mod ha_suspend;
mod ipvs_cmd;
mod metrics;
mod sync_daemon;
mod vrrp_config;
mod vrrp_notify;
mod vrrp_scripts;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// The built-in example configuration used by `hagroupd demo`.
const DEMO_CONF: &str = include_str!("demo.conf");

/// Command line, compatible with keepalived's where the flags overlap.
#[derive(Debug, Parser)]
#[command(name = "hagroupd", version, about, disable_version_flag = true)]
struct Cli {
    /// What to do; without a subcommand hagroupd runs the daemon.
    #[command(subcommand)]
    command: Option<Command>,
    /// keepalived's configuration flags (`-f`, `-t`, `-i`, `--dump-config`).
    #[command(flatten)]
    config: config_cmd::ConfigArgs,
    /// keepalived's daemon flags (`-n`, `-l`, `-D`, `-P`, `-C`, `-p`, `-r`, `-c`, `-v`).
    #[command(flatten)]
    daemon: daemon::DaemonArgs,
    /// keepalived's LVS flags (`-I`).
    #[command(flatten)]
    director: director::DirectorArgs,
    /// Prometheus metrics (`--metrics-listen`).
    #[command(flatten)]
    metrics: metrics::MetricsArgs,
}

/// hagroupd's own subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Show what hagroupd does, on a built-in example configuration.
    Demo,
    /// Print the MD5 digest of a URL's body, as keepalived's genhash (for HTTP_GET `digest`).
    Genhash(genhash_cmd::GenhashArgs),
    /// The kernel's IPVS table: list, save, apply a keepalived.conf's virtual servers.
    Ipvs(ipvs_cmd::IpvsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.daemon.version {
        println!("hagroupd {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(code) = config_cmd::run(&cli.config) {
        return code;
    }
    match cli.command {
        Some(Command::Demo) => demo::run(DEMO_CONF),
        Some(Command::Genhash(args)) => genhash_cmd::run(&args),
        Some(Command::Ipvs(args)) => ipvs_cmd::run(&args),
        None => {
            if let Err(e) = metrics::bind(&cli.metrics) {
                eprintln!("hagroupd: --metrics-listen: {e}");
                return ExitCode::from(1);
            }
            director::set_args(cli.director);
            daemon::run(&cli.config, &cli.daemon)
        }
    }
}
