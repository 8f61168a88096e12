//! Real-server health checking: a pure scheduling core with keepalived's semantics (injected
//! time, seeded randomness, no tokio) and the probes that run on tokio.
//!
//! - [`config`]: this crate's own model of virtual servers, real servers and checkers, with
//!   keepalived 2.2.7's defaults.
//! - [`sched`]: the scheduling core ([`Pool`]): retry/alpha/warmup, alive = all checkers up,
//!   dynamic weights, quorum with hysteresis, sorry server, inhibit, `ha_suspend`, reload with
//!   state carried over. It emits [`Event`]s, including the IPVS operations to apply.
//! - `probes` (cargo feature `probes`, default): the tokio probes and a driver.

pub mod config;
pub mod sched;

pub use config::*;
pub use sched::{CheckerId, DueCheck, Event, IpvsOp, NotifyKind, Outcome, Pool, PoolOptions};
#[cfg(feature = "probes")]
pub mod probes;
