//! Linux IPVS (LVS) control over the generic netlink family `IPVS`, and a reconcile that turns
//! a desired table into the minimal sequence of kernel operations.
//!
//! Layers:
//! - [`nl`]: netlink/generic netlink framing and the attribute codec (pure, golden-tested);
//! - [`consts`]: the numbers of the IPVS family;
//! - [`types`]: services and real servers, identity apart from observation, printed like
//!   `ipvsadm -Ln` / `-Sn`;
//! - [`Client`]: the operations, over a neli socket with per-request timeouts;
//! - [`reconcile`]: [`plan`] (pure) the minimal operations from the kernel's table to a desired
//!   one, and [`apply`] them pipelined.

pub mod client;
pub mod consts;
pub mod daemon;
pub mod error;
pub mod nl;
pub mod reconcile;
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
