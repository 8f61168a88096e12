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
        ..RunnerOptions::default()
    }
}

/// The director's view of `config`, or the reason it cannot run it (logged).
fn convert(config: &Config) -> Option<DirectorConfig> {
    match DirectorConfig::from_kconf(config) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "LVS configuration refused");
            None
        }
    }
}

/// Whether the director can run `config`, or why not (logged). A reload checks this first.
pub(crate) fn check(config: &Config) -> Result<(), String> {
    match DirectorConfig::from_kconf(config) {
        Ok(_) => Ok(()),
        Err(e) => {
            tracing::error!(error = %e, "LVS configuration refused");
            Err(format!("LVS configuration refused: {e}"))
        }
    }
}

/// Starts the director when the configuration has virtual servers and the VRRP-only flag
/// (`-P`) is not given.
pub(crate) async fn start(config: &Config, vrrp_only: bool) -> Option<Handle> {
    if vrrp_only || config.virtual_servers.is_empty() {
        return None;
    }
    let dc = convert(config)?;
    let services: usize = dc.virtual_servers.iter().map(|v| v.services.len()).sum();
    match runner::start(dc, options()).await {
        Ok(h) => {
            crate::metrics::set_director(Some(h.health_source()));
            tracing::info!(
                virtual_servers = config.virtual_servers.len(),
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

/// Applies a reloaded (validated) configuration, starting the director if it was not running.
/// `Err` says what went wrong (also logged).
pub(crate) async fn reload(
    handle: &mut Option<Handle>,
    config: &Config,
    vrrp_only: bool,
) -> Result<(), String> {
    match handle {
        Some(h) => {
            let Some(dc) = convert(config) else {
                return Err("LVS configuration refused".into());
            };
            match h.reload(dc).await {
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
            }
        }
        None => {
            *handle = start(config, vrrp_only).await;
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
