//! The LVS director: `keepalived.conf`'s `virtual_server`, `virtual_server_group` and
//! `real_server` blocks plus the health state of the real servers, turned into the IPVS table
//! the kernel should hold, and kept there.
//!
//! - [`convert`]: the parsed configuration ([`kconf_parser`]) into IPVS services
//!   ([`ipvs_netlink`] types) and health checkers ([`healthcheck`] types) (pure).
//! - [`Director`]: the pure state: health results in, desired table out; reconcile against the
//!   kernel's table touching only owned services; reload carrying state across (pure).
//! - [`sync_daemon`]: `lvs_sync_daemon` to the IPVS connection sync daemons that should run
//!   given the followed VRRP instance's state, and the start/stop operations to get there (pure).
//! - `runner` (cargo feature `runtime`, default): runs a [`Director`] on tokio with the health
//!   probes, and a worker thread that applies the plans over netlink.
//!
//! ```
//! let parsed = kconf_parser::parse_str(
//!     "virtual_server 192.0.2.1 80 { lvs_sched rr\n lvs_method NAT\n protocol TCP\n \
//!      real_server 198.51.100.1 80 { weight 2\n TCP_CHECK { } } }",
//!     &kconf_parser::Options::default(),
//! );
//! let config = lvs_director::DirectorConfig::from_kconf(&parsed.config).unwrap();
//! let director = lvs_director::Director::new(config, 1, Default::default(), Default::default());
//! let ops = director.reconcile(&Default::default());
//! let text: Vec<String> = ops.iter().map(ToString::to_string).collect();
//! assert_eq!(
//!     text,
//!     ["-A -t 192.0.2.1:80 -s rr", "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2"]
//! );
//! ```

pub mod convert;
pub mod director;
pub mod error;
pub mod observe;
#[cfg(feature = "runtime")]
pub mod runner;
pub mod sync_daemon;

pub use convert::{DestSpec, DirectorConfig, VsSpec};
pub use director::{
    AdminWeightChange, AdminWeightError, Director, RealServerSelector, RealServerStatus,
    ServiceSelector, VirtualServerStatus,
};
pub use error::ConvertError;
pub use observe::{RealServerHealth, VirtualServerHealth};
