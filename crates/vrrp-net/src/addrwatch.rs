//! The addresses configured in the network namespace, and a watch on their changes
//! (rtnetlink `RTNLGRP_IPV4_IFADDR` and `RTNLGRP_IPV6_IFADDR` events): what an LVS director's
//! `ha_suspend` follows, as keepalived's checker process does.

use std::collections::HashSet;
use std::net::IpAddr;

use crate::NetError;
use neli::consts::rtnl::Rtm;
use neli::consts::socket::NlFamily;
use neli::router::synchronous::NlRouter;
use neli::rtnl::Ifaddrmsg;
use neli::utils::Groups;
use tokio::sync::mpsc;

/// Every address configured on an interface of this network namespace now (read with
/// `getifaddrs(3)`), IPv4 and IPv6.
pub fn local_addresses() -> Result<HashSet<IpAddr>, NetError> {
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| NetError::Netlink {
        what: "list local addresses",
        message: e.to_string(),
    })?;
    Ok(addrs
        .filter_map(|a| {
            let sa = a.address?;
            if let Some(v4) = sa.as_sockaddr_in() {
                Some(IpAddr::V4(v4.ip()))
            } else {
                sa.as_sockaddr_in6().map(|v6| IpAddr::V6(v6.ip()))
            }
        })
        .collect())
}

/// Tells when an address is added to or removed from an interface of the network namespace
/// it was created in. The watching thread ends after the receiver is dropped and the next
/// event arrives.
#[derive(Debug)]
pub struct AddressWatcher {
    rx: mpsc::UnboundedReceiver<()>,
}

impl AddressWatcher {
    /// Subscribes to address events and starts the watching thread.
    pub fn spawn() -> Result<AddressWatcher, NetError> {
        let (router, mcast) = NlRouter::connect(
            NlFamily::Route,
            None,
            Groups::new_groups(&[libc::RTNLGRP_IPV4_IFADDR, libc::RTNLGRP_IPV6_IFADDR]),
        )
        .map_err(|e| NetError::Netlink {
            what: "subscribe to address events",
            message: e.to_string(),
        })?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("vrrp-addrwatch".into())
            .spawn(move || {
                let _router = router;
                let mut mcast = mcast;
                while let Some(msg) = mcast.next_typed::<Rtm, Ifaddrmsg>() {
                    match msg {
                        Ok(m) if matches!(*m.nl_type(), Rtm::Newaddr | Rtm::Deladdr) => {
                            if tx.send(()).is_err() {
                                break;
                            }
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::debug!(error = %e, "address watch: undecodable message");
                        }
                    }
                }
            })
            .map_err(|e| NetError::Netlink {
                what: "start address watch thread",
                message: e.to_string(),
            })?;
        Ok(AddressWatcher { rx })
    }

    /// Waits for the next change, then returns once the changes already queued are taken
    /// too (one wake-up for a burst); `false` when the watch has stopped.
    pub async fn changed(&mut self) -> bool {
        if self.rx.recv().await.is_none() {
            return false;
        }
        while self.rx.try_recv().is_ok() {}
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_among_the_local_addresses() {
        let local = local_addresses().unwrap_or_default();
        // Every namespace this runs in has lo; it is up with 127.0.0.1 on any normal host.
        if !local.is_empty() {
            assert!(local.iter().any(IpAddr::is_loopback), "{local:?}");
        }
    }
}
