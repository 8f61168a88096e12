//! Linux IPVS (LVS) control over the generic netlink family `IPVS`, and a reconcile that turns
//! a desired table into the minimal sequence of kernel operations.
//!
//! Layers:
//! - [`nl`]: netlink/generic netlink framing and the attribute codec (pure, golden-tested);
//! - [`consts`]: the numbers of the IPVS family;
//! - [`Client`]: the operations, over a neli socket with per-request timeouts.

pub mod client;
pub mod consts;
pub mod error;
pub mod nl;
pub mod socket;

pub use client::{Client, DEFAULT_TIMEOUT, Info};
pub use error::{DecodeError, Error};
