//! Where a scrape reads from: the VRRP driver, the director's health, the kernel's IPVS table.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use lvs_director::runner::HealthSource;
use vrrp_net::driver::DriverHandle;

use crate::checks::CheckMetrics;
use crate::labels::virtual_server_label;
use crate::render::{Scrape, VrrpSample, render};

/// How long one part of a scrape may take before it is left out.
const PART_TIMEOUT: Duration = Duration::from_secs(5);

/// What the daemon runs, for the metrics endpoint to read at scrape time. Cheap to clone (the
/// clones share everything); the daemon sets the parts as it starts them.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    vrrp: Arc<Mutex<Option<Arc<DriverHandle>>>>,
    director: Arc<Mutex<Option<HealthSource>>>,
    checks: CheckMetrics,
}

impl Sources {
    /// Nothing to read yet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The health-check counters: give a clone to the director's runner
    /// (`RunnerOptions::observer`).
    #[must_use]
    pub fn checks(&self) -> &CheckMetrics {
        &self.checks
    }

    /// The VRRP driver to read state and counters from.
    pub fn set_vrrp(&self, driver: Arc<DriverHandle>) {
        *self.vrrp.lock().unwrap_or_else(PoisonError::into_inner) = Some(driver);
    }

    /// The running director (`None` when it stopped). While a director runs, a scrape also
    /// reads the kernel's IPVS table; without one it does not touch IPVS at all (no module
    /// load on a VRRP-only host).
    pub fn set_director(&self, source: Option<HealthSource>) {
        *self.director.lock().unwrap_or_else(PoisonError::into_inner) = source;
    }

    /// Reads everything the daemon runs.
    pub async fn scrape(&self) -> Scrape {
        let driver = self
            .vrrp
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let director = self
            .director
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut scrape = Scrape::default();
        if let Some(d) = driver {
            let status = d.status().borrow().clone();
            if let Ok(Ok(stats)) = tokio::time::timeout(PART_TIMEOUT, d.stats()).await {
                scrape.vrrp = Some(VrrpSample { status, stats });
            }
        }
        if let Some(h) = director
            && let Ok(Some(health)) = tokio::time::timeout(PART_TIMEOUT, h.health()).await
        {
            scrape.health = Some(health);
            scrape.ipvs = Some(read_ipvs().await);
        }
        scrape
    }

    /// Reads everything and renders the exposition text. Check series of real servers the
    /// director no longer runs (removed by a reload) are dropped first.
    ///
    /// The rendering runs on a blocking thread: with thousands of real servers it is tens of
    /// megabytes of text, which must not hold up the tasks sharing the daemon's runtime (VRRP
    /// adverts).
    pub async fn render(&self) -> String {
        let scrape = self.scrape().await;
        let checks = self.checks.clone();
        tokio::task::spawn_blocking(move || {
            forget_removed(&checks, &scrape);
            render(&scrape, &checks)
        })
        .await
        .unwrap_or_else(|_| "# EOF\n".to_owned())
    }
}

/// Drops the check series of real servers the director no longer runs.
fn forget_removed(checks: &CheckMetrics, scrape: &Scrape) {
    let Some(health) = &scrape.health else {
        return;
    };
    let running: HashSet<(String, String)> = health
        .iter()
        .flat_map(|v| {
            let vs = virtual_server_label(&v.key);
            v.real_servers
                .iter()
                .map(move |r| (vs.clone(), r.addr.to_string()))
        })
        .collect();
    checks.retain(|vs, rs| running.contains(&(vs.to_owned(), rs.to_owned())));
}

/// The kernel's IPVS table with its counters, read on a blocking thread (netlink is blocking).
async fn read_ipvs() -> Result<ipvs_netlink::Table, String> {
    let read = tokio::task::spawn_blocking(|| {
        let mut client = ipvs_netlink::Client::with_timeout(PART_TIMEOUT)?;
        client.table()
    });
    match read.await {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => {
            tracing::debug!(error = %e, "metrics: cannot read the IPVS table");
            Err(e.to_string())
        }
        Err(e) => Err(e.to_string()),
    }
}
