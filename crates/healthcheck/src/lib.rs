//! Real-server health checking: a pure scheduling core with keepalived's semantics (injected
//! time, seeded randomness, no tokio) and the probes that run on tokio.
//!
//! - [`config`]: this crate's own model of virtual servers, real servers and checkers, with
//!   keepalived 2.2.7's defaults.
//! - [`sched`]: the scheduling core ([`Pool`]): retry/alpha/warmup, alive = all checkers up,
//!   dynamic weights, quorum with hysteresis, sorry server, inhibit, `ha_suspend`, reload with
//!   state carried over. It emits [`Event`]s, including the IPVS operations to apply.
//! - `probes` (cargo feature `probes`, default): the tokio probes and a driver.
//!
//! # Where this crate differs from keepalived 2.2.7
//!
//! - `regex` uses Rust's `regex` crate, not PCRE2: no backreferences or look-around, and it is
//!   matched against the first MiB of the body (`MAX_REGEX_BODY_BYTES`) once the body
//!   is read; `regex_options`, `regex_min_offset`, `regex_max_offset` and `regex_stack` are
//!   parsed and warned about, not acted on.
//! - The `SSL { }` block: `certificate`/`key` give the client certificate; an encrypted key
//!   (`password`) is refused as a configuration error rather than decrypted; `ca` is loaded by
//!   keepalived but never fails a handshake, so it is not used here either (set
//!   [`config::TlsOptions::verify_ca`] to verify).
//! - FILE_CHECK is re-read as soon as its file changes (inotify on the file's directory, as
//!   keepalived does) and also every `delay_loop`; it is never retried, and is down when `weight` is 0 and the value non-zero, or when value × weight would make the
//!   real server's weight negative (our reading of keepalived's "fault" threshold).
//! - MISC_CHECK with `misc_dynamic`: exit 0 resets the weight adjustment to 0.
//! - UDP_CHECK without `payload` sends 16 zero bytes (keepalived sends random bytes).
//! - PING_CHECK does not rewrite `net.ipv4.ping_group_range`; with CAP_NET_RAW it falls back to a
//!   raw ICMP socket.
//! - [`config::StartupPolicy::CheckFirst`] is an opt-in that keepalived does not have (issue
//!   #2064): real servers enter the pool only after their checkers pass.

pub mod config;
pub mod http_wire;
pub mod sched;

pub use config::*;
pub use sched::{
    CheckerId, DueCheck, Event, IpvsOp, NotifyKind, Outcome, Pool, PoolOptions, UrlRange,
};
#[cfg(feature = "probes")]
pub mod probes;
#[cfg(feature = "probes")]
pub mod script_security;
