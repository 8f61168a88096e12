//! The LVS director side of the daemon: runs the configuration's `virtual_server` blocks
//! through `lvs-director` (health checks, IPVS table kept equal to the desired one).
//!
//! The daemon calls [`start`] after loading the configuration, [`check`] and [`reload`] on
//! SIGHUP (a configuration the director cannot run is refused before anything changes), and
//! [`stop`] on the way out.

use std::sync::OnceLock;

use kconf_parser::Config;
use lvs_director::DirectorConfig;
use lvs_director::runner::{self, Handle, RunnerOptions};

/// keepalived's LVS flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct DirectorArgs {
    /// Leave the IPVS table in place when stopping (keepalived's `-I`).
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub(crate) dont_release_ipvs: bool,
}

static ARGS: OnceLock<DirectorArgs> = OnceLock::new();

/// Records the command line's LVS flags (called once by `main`).
pub(crate) fn set_args(args: DirectorArgs) {
    let _ = ARGS.set(args);
}

/// Whether `-I/--dont-release-ipvs` was given: IPVS state (the table, the sync daemons) stays
/// in place on stop.
pub(crate) fn dont_release() -> bool {
    ARGS.get().is_some_and(|a| a.dont_release_ipvs)
}

fn options() -> RunnerOptions {
    RunnerOptions {
        dont_release: dont_release(),
        seed: u64::from(std::process::id()),
        observer: crate::metrics::observer(),
        local_addresses: crate::ha_suspend::local_addresses(),
        ..RunnerOptions::default()
    }
}

/// `enable_script_security` on the checker side: MISC_CHECKs and notify scripts that would
/// run as root from a path a non-root user can change are disabled (logged), as keepalived
/// does at load.
fn secure(mut dc: DirectorConfig, config: &Config) -> DirectorConfig {
    if config.global_defs.enable_script_security {
        let user = dc.script_user.clone();
        for w in healthcheck::script_security::secure(
            &mut dc.health,
            user.as_ref(),
            kconf_parser::split_command,
        ) {
            tracing::warn!("{w}");
        }
    }
    dc
}

/// The director's view of `config`, or the reason it cannot run it (logged).
fn convert(config: &Config) -> Option<DirectorConfig> {
    match DirectorConfig::from_kconf(config) {
        Ok(c) => Some(secure(c, config)),
        Err(e) => {
            tracing::error!(error = %e, "LVS configuration refused");
            None
        }
    }
}

/// The director's view of `config` if it can run it, or why not (logged). A reload checks this
/// first and hands the result to [`reload`], so the configuration is converted once.
pub(crate) fn check(config: &Config) -> Result<DirectorConfig, String> {
    DirectorConfig::from_kconf(config)
        .map(|dc| secure(dc, config))
        .map_err(|e| {
            tracing::error!(error = %e, "LVS configuration refused");
            format!("LVS configuration refused: {e}")
        })
}

/// Starts the director when the configuration has virtual servers and the VRRP-only flag
/// (`-P`) is not given.
pub(crate) async fn start(config: &Config, vrrp_only: bool) -> Option<Handle> {
    if vrrp_only || config.virtual_servers.is_empty() {
        return None;
    }
    start_converted(convert(config)?, config.virtual_servers.len()).await
}

/// Starts the director on an already converted configuration.
async fn start_converted(dc: DirectorConfig, virtual_servers: usize) -> Option<Handle> {
    let services: usize = dc.virtual_servers.iter().map(|v| v.services.len()).sum();
    match runner::start(dc, options()).await {
        Ok(h) => {
            crate::metrics::set_director(Some(h.health_source()));
            crate::ha_suspend::watch(h.address_feed());
            tracing::info!(
                virtual_servers,
                services,
                ops = h.started().ops,
                "LVS director started"
            );
            Some(h)
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start the LVS director");
            None
        }
    }
}

/// Applies a reloaded configuration, `dc` being what [`check`] made of `config`, starting the
/// director if it was not running. `Err` says what went wrong (also logged).
pub(crate) async fn reload(
    handle: &mut Option<Handle>,
    config: &Config,
    dc: DirectorConfig,
    vrrp_only: bool,
) -> Result<(), String> {
    match handle {
        Some(h) => match h.reload(dc).await {
            Some(r) if r.failed.is_empty() => {
                tracing::info!(ops = r.ops, "LVS reload applied");
                Ok(())
            }
            Some(r) => {
                tracing::warn!(ops = r.ops, failed = ?r.failed, "LVS reload partly applied");
                Err(format!(
                    "LVS reload partly applied; the kernel refused: {}",
                    r.failed.join("; ")
                ))
            }
            None => {
                tracing::error!("LVS director is not running");
                Err("the LVS director is not running".into())
            }
        },
        None => {
            if !vrrp_only && !config.virtual_servers.is_empty() {
                *handle = start_converted(dc, config.virtual_servers.len()).await;
            }
            Ok(())
        }
    }
}

/// Stops the director (releasing its IPVS services unless `-I`).
pub(crate) async fn stop(handle: Option<Handle>) {
    if let Some(h) = handle {
        h.stop().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        kconf_parser::parse_str(text, &kconf_parser::Options::default()).config
    }

    #[test]
    fn a_reload_the_director_cannot_run_is_refused_before_anything_changes() {
        assert!(
            check(&parse(
                "virtual_server 192.0.2.1 80 { protocol TCP\n real_server 198.51.100.1 80 {\n } }"
            ))
            .is_ok()
        );
        let refused = check(&parse(
            "virtual_server group missing { protocol TCP\n real_server 198.51.100.1 80 {\n } }",
        ));
        assert!(
            refused.is_err_and(|r| r.contains("missing")),
            "the reason names the group"
        );
    }

    #[tokio::test]
    async fn no_virtual_server_or_vrrp_only_starts_nothing() {
        let with_vs = parse(
            "virtual_server 192.0.2.1 80 { protocol TCP\n real_server 198.51.100.1 80 {\n } }",
        );
        assert!(start(&with_vs, true).await.is_none(), "-P: VRRP only");
        assert!(start(&parse(""), false).await.is_none());
    }
}
