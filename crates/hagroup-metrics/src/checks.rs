//! Health-check results and latency, counted as the probes finish.

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
        self.results
            .get_or_create(&CheckResultLabels {
                virtual_server: virtual_server.to_owned(),
                real_server: real_server.to_owned(),
                checker: checker.to_owned(),
                result: result.to_owned(),
            })
            .inc();
        self.latency
            .get_or_create(&CheckLabels {
                virtual_server: virtual_server.to_owned(),
                real_server: real_server.to_owned(),
                checker: checker.to_owned(),
            })
            .observe(seconds);
    }

    /// Forgets every series (after a reload removed real servers, so that they do not linger).
    pub fn clear(&self) {
        self.results.clear();
        self.latency.clear();
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
