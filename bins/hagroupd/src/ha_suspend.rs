//! `ha_suspend`: the director is told which addresses are configured locally, at start and
//! whenever an address is added or removed (rtnetlink events), so the checks of a virtual
//! server whose address this director does not hold (a VRRP backup) are suspended, as
//! keepalived's checker process does.

use std::collections::HashSet;
use std::net::IpAddr;

use lvs_director::runner::AddressFeed;

/// The addresses configured locally now; `None` (logged) when they cannot be read.
pub(crate) fn local_addresses() -> Option<HashSet<IpAddr>> {
    match vrrp_net::local_addresses() {
        Ok(l) => Some(l),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list local addresses (ha_suspend)");
            None
        }
    }
}

/// Follows address changes and hands each new set to the director until it stops.
pub(crate) fn watch(feed: AddressFeed) {
    let mut watcher = match vrrp_net::AddressWatcher::spawn() {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch local addresses; ha_suspend follows the start-up addresses only");
            return;
        }
    };
    tokio::spawn(async move {
        // Once now: a change between the start-up read and the subscription is not lost.
        if let Some(l) = local_addresses()
            && !feed.send(l)
        {
            return;
        }
        while watcher.changed().await {
            if let Some(l) = local_addresses()
                && !feed.send(l)
            {
                return;
            }
        }
    });
}
