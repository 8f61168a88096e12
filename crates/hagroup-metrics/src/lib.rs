//! Prometheus metrics of hagroup, in the OpenMetrics text format (`prometheus-client`), served
//! over a small HTTP endpoint.
//!
//! - [`CheckMetrics`]: live counters and latency histograms of the health checks; it is the
//!   [`lvs_director::observe::ProbeObserver`] the director's runner calls after each probe.
//! - [`Scrape`] and [`render`]: everything read at scrape time (VRRP state and counters from
//!   the `vrrp-net` driver, real-server health and quorum from the director, the kernel's IPVS
//!   counters) turned into the exposition text, together with the [`CheckMetrics`].
//! - [`Sources`]: where a scrape reads from (a driver handle, a director health source, IPVS
//!   over netlink), and [`Sources::scrape`] which gathers a [`Scrape`].
//! - [`http`]: `GET /metrics` on a TCP listener (everything else 404), with a bounded request
//!   size, a deadline per connection and a bounded number of connections, so a slow client
//!   never blocks the daemon.
//!
//! The metric names are listed in `docs/metrics.md`.
//!
//! ```
//! let checks = hagroup_metrics::CheckMetrics::new();
//! checks.record("tcp/192.0.2.1:80", "198.51.100.1:80", "TCP_CHECK", "success", 0.002);
//! let text = hagroup_metrics::render(&hagroup_metrics::Scrape::default(), &checks);
//! assert!(text.contains("# TYPE hagroup_check_results counter"));
//! assert!(text.contains(
//!     "hagroup_check_results_total{virtual_server=\"tcp/192.0.2.1:80\",\
//!      real_server=\"198.51.100.1:80\",checker=\"TCP_CHECK\",result=\"success\"} 1"
//! ));
//! assert!(text.ends_with("# EOF\n"));
//! ```

mod checks;
pub mod http;
mod labels;
mod render;
mod sources;

pub use checks::CheckMetrics;
pub use labels::{checker_name, service_label, virtual_server_label};
pub use render::{CONTENT_TYPE, Scrape, VrrpSample, render};
pub use sources::Sources;
