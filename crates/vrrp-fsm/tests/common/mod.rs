//! Helpers shared by the vrrp-fsm integration tests (included with `#[path]`).
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::time::Duration;
use vrrp_fsm::{Action, Instant, RouterConfig, VirtualRouter};
use vrrp_proto::{AdvertInterval, Advertisement, Auth, Priority, Version, Vrid};

pub const T0: Instant = Instant::from_micros(1_000_000_000);

pub fn v4(host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, host))
}

pub fn v6(host: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, host))
}

pub fn vip() -> IpAddr {
    v4(100)
}

pub fn vrid() -> Vrid {
    Vrid::new(51).unwrap()
}

/// VRRPv2, 1 s, priority `prio`, address 192.0.2.`host`.
pub fn cfg(host: u8, prio: u8) -> RouterConfig {
    let mut c = RouterConfig::new(vrid(), v4(host), vec![vip()]);
    c.priority = Priority(prio);
    c
}

/// VRRPv3 at `centis` cs.
pub fn cfg_v3(host: u8, prio: u8, centis: u16) -> RouterConfig {
    let mut c = cfg(host, prio);
    c.version = Version::V3;
    c.advert_interval = AdvertInterval::from_centis(centis).unwrap();
    c
}

pub fn advert(c: &RouterConfig, prio: u8) -> Advertisement {
    Advertisement {
        version: c.version,
        vrid: c.vrid,
        priority: Priority(prio),
        interval: c.advert_interval,
        auth: Auth::None,
        addresses: c.virtual_addresses.clone(),
    }
}

pub fn at(us: u64) -> Instant {
    T0 + Duration::from_micros(us)
}

pub fn drain(r: &mut VirtualRouter) -> Vec<Action> {
    std::iter::from_fn(|| r.poll_action()).collect()
}

pub fn new_router(c: RouterConfig) -> VirtualRouter {
    VirtualRouter::new(c, T0).unwrap()
}
