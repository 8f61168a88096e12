//! Linux IPVS (LVS) control over the generic netlink family `IPVS`, and a reconcile that turns
//! a desired table into the minimal sequence of kernel operations.
//!
//! Layers:
//! - [`nl`]: netlink/generic netlink framing and the attribute codec (pure, golden-tested);
//! - [`consts`]: the numbers of the IPVS family;
//! - [`types`]: services and real servers, identity apart from observation, printed like
//!   `ipvsadm -Ln` / `-Sn`;
//! - [`reply`]: the replies' messages decoded (pure; fuzzed);
//! - [`Client`]: the operations, over a neli socket with per-request timeouts;
//! - [`reconcile`]: [`plan`] (pure) the minimal operations from the kernel's table to a desired
//!   one, and [`apply`] them pipelined.
//!
//! ```no_run
//! use std::net::{IpAddr, Ipv4Addr};
//! use ipvs_netlink::{Client, Desired, Destination, Forward, Service, ServiceKey, apply, plan};
//!
//! let mut client = Client::new()?; // Error::ModuleNotLoaded without IPVS
//! let vip = ServiceKey::tcp(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 80);
//! let real = Destination::new(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1)), 80, Forward::Route);
//! let desired = Desired { services: vec![(Service::new(vip, "wlc"), vec![real])] };
//! let actual = Desired::from_table(&client.table()?);
//! for op in plan(&desired, &actual) {
//!     println!("{op}"); // as an ipvsadm command line, e.g. "-A -t 192.0.2.1:80 -s wlc"
//! }
//! for r in apply(&mut client, plan(&desired, &actual)) {
//!     r.result?;
//! }
//! print!("{}", client.table()?); // like `ipvsadm -Ln`
//! # Ok::<(), ipvs_netlink::Error>(())
//! ```
//!
//! Tests: requests are checked byte for byte, replies recorded from a real kernel are decoded
//! (`tests/fixtures/`), encode/decode and plan properties run under proptest, and the tier
//! `kernel` tests (`scripts/test kernel`) run against Debian's kernel in a VM, each in a fresh
//! network namespace, cross-checked with `ipvsadm`.

pub mod client;
pub mod consts;
pub mod daemon;
pub mod error;
pub mod nl;
pub mod reconcile;
pub mod reply;
pub mod socket;
pub mod types;

pub use client::{Client, DEFAULT_TIMEOUT, Info, Requests};
pub use daemon::{SyncDaemon, SyncState};
pub use error::{DecodeError, Error};
pub use reconcile::{Desired, Op, OpResult, apply, plan};
pub use types::{
    Destination, DestinationExtended, Family, Forward, ListFormat, Protocol, Service, ServiceEntry,
    ServiceExtended, ServiceFlags, ServiceKey, Stats, Table, Timeouts, TunnelFlags, TunnelType,
};
