//! `--metrics-listen ADDR:PORT`: Prometheus metrics over HTTP (off by default). The work is in
//! `hagroup-metrics`; this module only wires it:
//!
//! - [`bind`] (from `main`, before the runtime starts): binds the address, so a bad or busy
//!   address stops the daemon before anything runs;
//! - [`observer`] and [`set_director`] (from `director`): the health-check counters the
//!   director's runner feeds, and the running director's health for scrapes;
//! - [`start`] (from `daemon`, once the VRRP driver runs): serves `GET /metrics`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use hagroup_metrics::Sources;
use hagroup_metrics::http::{self, Server, ServerOptions};
use lvs_director::observe::ProbeObserver;
use lvs_director::runner::HealthSource;
use vrrp_net::driver::DriverHandle;

/// The metrics flag.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct MetricsArgs {
    /// Serve Prometheus metrics at `http://ADDR:PORT/metrics` (e.g. `127.0.0.1:9650` or
    /// `[::1]:9650`); off by default.
    #[arg(long = "metrics-listen", value_name = "ADDR:PORT")]
    pub(crate) metrics_listen: Option<SocketAddr>,
}

struct Endpoint {
    listener: Mutex<Option<std::net::TcpListener>>,
    sources: Sources,
}

static ENDPOINT: OnceLock<Endpoint> = OnceLock::new();

/// Binds the metrics address when the flag names one (called once by `main`).
pub(crate) fn bind(args: &MetricsArgs) -> std::io::Result<()> {
    let Some(addr) = args.metrics_listen else {
        return Ok(());
    };
    let listener = http::bind(addr)?;
    let _ = ENDPOINT.set(Endpoint {
        listener: Mutex::new(Some(listener)),
        sources: Sources::new(),
    });
    Ok(())
}

/// The probe observer for the director's runner, when metrics are on.
pub(crate) fn observer() -> Option<Arc<dyn ProbeObserver>> {
    let e = ENDPOINT.get()?;
    Some(Arc::new(e.sources.checks().clone()))
}

/// The running director (or `None`), for scrapes.
pub(crate) fn set_director(source: Option<HealthSource>) {
    if let Some(e) = ENDPOINT.get() {
        e.sources.set_director(source);
    }
}

/// Starts serving, reading the VRRP side from `driver`; the endpoint stops when the returned
/// server is dropped. `None` when metrics are off.
pub(crate) fn start(driver: &Arc<DriverHandle>) -> Option<Server> {
    let e = ENDPOINT.get()?;
    e.sources.set_vrrp(Arc::clone(driver));
    let listener = e
        .listener
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take()?;
    match http::spawn(listener, e.sources.clone(), ServerOptions::default()) {
        Ok(server) => {
            tracing::info!(address = %server.local_addr(), "serving metrics at /metrics");
            Some(server)
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot serve metrics");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        metrics: MetricsArgs,
    }

    #[test]
    fn the_flag_takes_ipv4_and_bracketed_ipv6_and_is_off_by_default() {
        let v4 = Cli::try_parse_from(["hagroupd", "--metrics-listen", "127.0.0.1:9650"]).unwrap();
        assert_eq!(
            v4.metrics.metrics_listen,
            Some("127.0.0.1:9650".parse().unwrap())
        );
        let v6 = Cli::try_parse_from(["hagroupd", "--metrics-listen", "[::1]:9650"]).unwrap();
        assert_eq!(
            v6.metrics.metrics_listen,
            Some("[::1]:9650".parse().unwrap())
        );
        assert!(Cli::try_parse_from(["hagroupd", "--metrics-listen", "::1:9650"]).is_err());
        assert!(Cli::try_parse_from(["hagroupd", "--metrics-listen", "localhost"]).is_err());
        let off = Cli::try_parse_from(["hagroupd"]).unwrap();
        assert_eq!(off.metrics.metrics_listen, None);
        assert!(
            bind(&off.metrics).is_ok(),
            "nothing to bind without the flag"
        );
    }
}
