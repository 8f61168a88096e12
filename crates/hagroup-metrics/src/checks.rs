//! Health-check results and latency, counted as the probes finish.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use healthcheck::Outcome;
use healthcheck::probes::ProbeError;
use lvs_director::observe::{ProbeObserver, ProbeReport};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

use crate::labels::{checker_name, virtual_server_label};

/// Upper bounds of the check latency buckets, in seconds (1 ms to 10 s).
const LATENCY_BUCKETS: [f64; 13] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct CheckLabels {
    pub(crate) virtual_server: String,
    pub(crate) real_server: String,
    pub(crate) checker: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct CheckResultLabels {
    pub(crate) virtual_server: String,
    pub(crate) real_server: String,
    pub(crate) checker: String,
    pub(crate) result: String,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// Counters of check results and histograms of check latency, per virtual server, real server
/// and checker type. Cheap to clone (the clones share the counters); give one to the director's
/// runner as its probe observer and render the same one at scrape time.
#[derive(Debug, Clone)]
pub struct CheckMetrics {
    results: Family<CheckResultLabels, Counter>,
    latency: Family<CheckLabels, Histogram, fn() -> Histogram>,
    /// Every series created, so that those of removed real servers can be dropped.
    known: Arc<Mutex<HashSet<CheckResultLabels>>>,
}

impl Default for CheckMetrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The `result` label of a probe: `success`, `failure`, `timeout` or `value` (FILE_CHECK read
/// a value; whether that is up depends on the checker's weight).
fn result_label(result: &Result<Outcome, ProbeError>) -> &'static str {
    match result {
        Ok(Outcome::Up | Outcome::UpWithWeight(_)) => "success",
        Ok(Outcome::FileValue(_)) => "value",
        Ok(_) => "failure",
        Err(ProbeError::Timeout(_)) => "timeout",
        Err(_) => "failure",
    }
}

impl CheckMetrics {
    /// No check counted yet.
    #[must_use]
    pub fn new() -> Self {
        CheckMetrics {
            results: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            known: Arc::default(),
        }
    }

    /// Counts one probe of `checker` (a keepalived checker keyword) on `real_server` of
    /// `virtual_server` (label values) with `result` (a label value) that took `seconds`.
    pub fn record(
        &self,
        virtual_server: &str,
        real_server: &str,
        checker: &str,
        result: &str,
        seconds: f64,
    ) {
        let labels = CheckResultLabels {
            virtual_server: virtual_server.to_owned(),
            real_server: real_server.to_owned(),
            checker: checker.to_owned(),
            result: result.to_owned(),
        };
        self.results.get_or_create(&labels).inc();
        self.known
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(labels);
        self.latency
            .get_or_create(&CheckLabels {
                virtual_server: virtual_server.to_owned(),
                real_server: real_server.to_owned(),
                checker: checker.to_owned(),
            })
            .observe(seconds);
    }

    /// Forgets every series.
    pub fn clear(&self) {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        self.results.clear();
        self.latency.clear();
        known.clear();
    }

    /// Drops the series of real servers for which `keep(virtual_server, real_server)` (label
    /// values) is false: those a reload removed. Returns how many series were dropped.
    pub fn retain(&self, mut keep: impl FnMut(&str, &str) -> bool) -> usize {
        let mut known = self.known.lock().unwrap_or_else(PoisonError::into_inner);
        let before = known.len();
        known.retain(|l| {
            if keep(&l.virtual_server, &l.real_server) {
                return true;
            }
            self.results.remove(l);
            self.latency.remove(&CheckLabels {
                virtual_server: l.virtual_server.clone(),
                real_server: l.real_server.clone(),
                checker: l.checker.clone(),
            });
            false
        });
        before - known.len()
    }

    /// Registers the families (sharing the counters) in `registry`.
    pub(crate) fn register(&self, registry: &mut Registry) {
        registry.register(
            "hagroup_check_results",
            "Health-check probes run, by virtual server, real server, checker type and result \
             (success, failure, timeout, value)",
            self.results.clone(),
        );
        registry.register_with_unit(
            "hagroup_check_duration",
            "How long health-check probes took, by virtual server, real server and checker type",
            Unit::Seconds,
            self.latency.clone(),
        );
    }
}

impl ProbeObserver for CheckMetrics {
    fn probe_done(&self, report: &ProbeReport<'_>) {
        self.record(
            &virtual_server_label(report.virtual_server),
            &report.real_server.to_string(),
            checker_name(report.checker),
            result_label(report.result),
            report.elapsed.as_secs_f64(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn retain_drops_the_series_of_removed_real_servers_only() {
        let m = CheckMetrics::new();
        m.record(
            "tcp/192.0.2.1:80",
            "198.51.100.1:80",
            "TCP_CHECK",
            "success",
            0.1,
        );
        m.record(
            "tcp/192.0.2.1:80",
            "198.51.100.1:80",
            "TCP_CHECK",
            "failure",
            0.1,
        );
        m.record(
            "tcp/192.0.2.1:80",
            "198.51.100.2:80",
            "TCP_CHECK",
            "success",
            0.1,
        );
        let dropped = m.retain(|_, rs| rs != "198.51.100.1:80");
        assert_eq!(dropped, 2);
        let text = crate::render(&crate::Scrape::default(), &m);
        assert!(!text.contains("198.51.100.1:80"), "{text}");
        assert!(text.contains("real_server=\"198.51.100.2:80\""), "{text}");
        assert_eq!(m.retain(|_, _| true), 0);
    }

    #[test]
    fn results_are_classified() {
        assert_eq!(result_label(&Ok(Outcome::Up)), "success");
        assert_eq!(result_label(&Ok(Outcome::UpWithWeight(3))), "success");
        assert_eq!(result_label(&Ok(Outcome::Down)), "failure");
        assert_eq!(result_label(&Ok(Outcome::FileValue(1))), "value");
        assert_eq!(
            result_label(&Err(ProbeError::Timeout(Duration::from_secs(1)))),
            "timeout"
        );
        assert_eq!(
            result_label(&Err(ProbeError::BadResponse("x".into()))),
            "failure"
        );
    }
}
