//! hagroupd's control socket.
//!
//! A Unix stream socket (default [`DEFAULT_SOCKET`], directory mode 0700, socket mode 0600,
//! only root or the daemon's own user may talk to it) carrying line-delimited JSON: a client
//! writes one [`Request`] per line and reads one [`Response`] line per request.
//!
//! - [`protocol`]: the messages (serde types) and the status table rendering.
//! - [`client`]: a small blocking client (what `hagroupctl` uses).
//! - `server` (cargo feature `server`, default): a tokio helper that binds the socket with the
//!   right permissions and hands each request to the daemon over a channel.

pub mod client;
pub mod protocol;
#[cfg(feature = "server")]
pub mod server;

pub use client::{Client, ClientError};
pub use protocol::{
    RealServer, RealServerRef, Request, Response, ServiceRef, Status, VirtualServer, VrrpInstance,
};

/// Where hagroupd listens unless told otherwise (`--control-socket`).
pub const DEFAULT_SOCKET: &str = "/run/hagroupd/control.sock";

/// The longest request line the server reads (bytes); longer ones are refused.
pub const MAX_REQUEST_LINE: usize = 64 * 1024;
