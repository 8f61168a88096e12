//! The VRRP state machine (RFC 9568 §6, with keepalived's documented deviations) with no I/O.
//!
//! Time and packets are injected (`handle_*(now, ..)`), decisions come out (`poll_action()`,
//! `poll_timeout()`), in the style of quinn-proto. The crate never reads a clock, opens a socket
//! or spawns a task.
//!
//! # Where each RFC 9568 section lives
//!
//! | RFC 9568 | item |
//! |---|---|
//! | §6.1 parameters (Priority, Skew_Time, Master_Down_Interval, Preempt_Mode, Accept_Mode) | [`RouterConfig`], [`timers`], [`VirtualRouter::priority`] |
//! | §6.2 timers | [`VirtualRouter::poll_timeout`], [`VirtualRouter::handle_timeout`] |
//! | §6.4.1 Initialize | [`VirtualRouter::new`], [`Event::Startup`] |
//! | §6.4.2 Backup | [`VirtualRouter::handle_advert`] (Backup path), [`VirtualRouter::handle_timeout`] (Master_Down_Timer) |
//! | §6.4.3 Master | [`VirtualRouter::handle_advert`] (Master path), [`VirtualRouter::handle_timeout`] (Adver_Timer), [`Event::Shutdown`] |
//! | §7.1 receive validation (the part the FSM owns) | [`Discard`] |
//!
//! keepalived's deviations (Fault state, trackers, `preempt_delay`, `nopreempt`, answering a
//! lower priority, GARP schedule, sync groups) are described on the items that implement them,
//! with the section of `keepalived-behaviour.md` they follow.
//!
//! # Run loop
//!
//! ```text
//! loop {
//!     while let Some(action) = router.poll_action() { perform(action) }
//!     select! {
//!         packet = socket.recv() => router.handle_advert(now(), src, &decoded),
//!         _ = sleep_until(router.poll_timeout()) => router.handle_timeout(now()),
//!         ev = events.recv() => router.handle_event(now(), ev),
//!     }
//! }
//! ```

pub mod config;
pub mod event;
pub mod router;
pub mod sync_group;
pub mod time;
pub mod timers;

pub use config::{
    ConfigError, GarpConfig, InitialState, RouterConfig, TrackerConfig, TrackerKind, TrackerStatus,
};
pub use event::{
    Action, Counters, Discard, DiscardCounters, Event, GarpReason, NotifyEvent, Reason, State,
    SyncCommand,
};
pub use router::{EventError, VirtualRouter};
pub use sync_group::SyncGroup;
pub use time::Instant;
