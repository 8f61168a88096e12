//! Link state from rtnetlink events (`RTNLGRP_LINK`), for `track_interface` and the
//! instance's own interface.
//!
//! keepalived's rule: a link is "up" when it is administratively UP and RUNNING; a deleted
//! link is down.

use crate::NetError;
use neli::consts::rtnl::{Iff, Ifla, Rtm};
use neli::consts::socket::NlFamily;
use neli::nl::{NlPayload, Nlmsghdr};
use neli::router::synchronous::NlRouter;
use neli::rtnl::Ifinfomsg;
use neli::utils::Groups;
use tokio::sync::mpsc;

/// A change of one link's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkEvent {
    /// The interface index.
    pub ifindex: u32,
    /// The interface name, when the kernel sent it.
    pub name: Option<String>,
    /// Whether the link is UP and RUNNING (false when deleted).
    pub up: bool,
    /// Whether the link was deleted.
    pub deleted: bool,
}

/// Watches link events in the network namespace it was created in, and sends them on a tokio
/// channel. The watching thread ends after the receiver is dropped and the next event arrives.
#[derive(Debug)]
pub struct LinkWatcher {
    rx: mpsc::UnboundedReceiver<LinkEvent>,
}

impl LinkWatcher {
    /// Subscribes to link events and starts the watching thread.
    pub fn spawn() -> Result<LinkWatcher, NetError> {
        let (router, mcast) = NlRouter::connect(
            NlFamily::Route,
            None,
            Groups::new_groups(&[libc::RTNLGRP_LINK]),
        )
        .map_err(|e| NetError::Netlink {
            what: "subscribe to link events",
            message: e.to_string(),
        })?;
        let (tx, rx) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("vrrp-linkwatch".into())
            .spawn(move || {
                let _router = router;
                let mut mcast = mcast;
                while let Some(msg) = mcast.next_typed::<Rtm, Ifinfomsg>() {
                    let msg: Nlmsghdr<Rtm, Ifinfomsg> = match msg {
                        Ok(m) => m,
                        Err(e) => {
                            tracing::debug!(error = %e, "link watch: undecodable message");
                            continue;
                        }
                    };
                    if let Some(ev) = event_of(&msg)
                        && tx.send(ev).is_err()
                    {
                        break;
                    }
                }
            })
            .map_err(|e| NetError::Netlink {
                what: "start link watch thread",
                message: e.to_string(),
            })?;
        Ok(LinkWatcher { rx })
    }

    /// The next link event; `None` when the watch has stopped.
    pub async fn next(&mut self) -> Option<LinkEvent> {
        self.rx.recv().await
    }
}

fn event_of(msg: &Nlmsghdr<Rtm, Ifinfomsg>) -> Option<LinkEvent> {
    let NlPayload::Payload(p) = msg.nl_payload() else {
        return None;
    };
    let deleted = *msg.nl_type() == Rtm::Dellink;
    if !deleted && *msg.nl_type() != Rtm::Newlink {
        return None;
    }
    let flags = p.ifi_flags();
    let up = !deleted && flags.contains(Iff::UP) && flags.contains(Iff::RUNNING);
    let name = p
        .rtattrs()
        .get_attr_handle()
        .get_attr_payload_as_with_len::<String>(Ifla::Ifname)
        .ok();
    Some(LinkEvent {
        ifindex: u32::try_from(*p.ifi_index()).ok()?,
        name,
        up,
        deleted,
    })
}

/// Whether interface `name` is UP and RUNNING now (read with `getifaddrs(3)`).
pub fn is_up(name: &str) -> Result<bool, NetError> {
    use nix::net::if_::InterfaceFlags;
    let addrs = nix::ifaddrs::getifaddrs().map_err(|e| NetError::Interface {
        name: name.to_owned(),
        source: e.into(),
    })?;
    let mut found = None;
    for a in addrs.filter(|a| a.interface_name == name) {
        found = Some(
            a.flags.contains(InterfaceFlags::IFF_UP)
                && a.flags.contains(InterfaceFlags::IFF_RUNNING),
        );
    }
    found.ok_or_else(|| NetError::Interface {
        name: name.to_owned(),
        source: std::io::Error::from_raw_os_error(libc::ENODEV),
    })
}
