//! The VRRP state machine (RFC 9568 §6, with keepalived's documented deviations) with no I/O.
//!
//! Time and packets are injected (`handle_*(now, ..)`), decisions come out (`poll_action()`,
//! `poll_timeout()`), in the style of quinn-proto. The crate never reads a clock, opens a socket
//! or spawns a task.
