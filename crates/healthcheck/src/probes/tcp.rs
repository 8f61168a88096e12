//! TCP_CHECK: a connect within the deadline; the socket is closed at once and no data is sent.

use super::{ProbeError, net};
use crate::config::ConnectOptions;
use std::net::SocketAddr;

/// One TCP_CHECK attempt.
pub(crate) async fn check(opts: &ConnectOptions, target: SocketAddr) -> Result<(), ProbeError> {
    let stream = net::tcp_connect(opts, target).await?;
    drop(stream);
    Ok(())
}
