//! proptest strategies for IPVS tables (shared by the unit and kernel tests).

#![allow(dead_code, unreachable_pub)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs_netlink::{
    Desired, Destination, Family, Forward, Protocol, Service, ServiceFlags, ServiceKey,
    TunnelFlags, TunnelType,
};
use proptest::collection::vec;
use proptest::prelude::*;

/// Documentation addresses only: 192.0.2.x / 2001:db8::x for services, 198.51.100.x /
/// 2001:db8:1::x for real servers (a small range, so tables collide and edits happen).
fn addr(v6: bool, real: bool) -> impl Strategy<Value = IpAddr> {
    (1u8..8).prop_map(move |x| match (v6, real) {
        (false, false) => IpAddr::V4(Ipv4Addr::new(192, 0, 2, x)),
        (false, true) => IpAddr::V4(Ipv4Addr::new(198, 51, 100, x)),
        (true, false) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x.into())),
        (true, true) => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, x.into())),
    })
}

/// A service key.
pub fn key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        4 => (any::<bool>(), prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp), Just(Protocol::Sctp)], prop_oneof![Just(80u16), Just(443), Just(53)])
            .prop_flat_map(|(v6, protocol, port)| addr(v6, false).prop_map(move |addr| ServiceKey::Addr { addr, port, protocol })),
        1 => (any::<bool>(), 1u32..4).prop_map(|(v6, mark)| ServiceKey::FwMark {
            family: if v6 { Family::Inet6 } else { Family::Inet },
            mark,
        }),
    ]
}

/// A service with any valid settings for its key.
pub fn service(key: ServiceKey) -> impl Strategy<Value = Service> {
    let max = key.family().max_prefix();
    let udp = matches!(
        key,
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            ..
        }
    );
    (
        prop_oneof![
            Just("rr"),
            Just("wrr"),
            Just("wlc"),
            Just("lc"),
            Just("sh"),
            Just("mh"),
            Just("dh")
        ],
        any::<bool>(),
        1u32..1000,
        prop_oneof![Just(max), (max / 2)..=max],
        any::<bool>(),
        any::<bool>(),
        proptest::option::of(Just("sip")),
    )
        .prop_map(
            move |(sched, persistent, timeout, netmask, ops, sched1, pe)| {
                let mut s = Service::new(key, sched);
                if persistent {
                    s = s.persistent(timeout);
                    s.netmask = netmask;
                    // The SIP persistence engine needs a persistent UDP service.
                    if udp {
                        s.pe_name = pe.map(str::to_owned);
                    }
                }
                if ops && udp {
                    s.flags.0 |= ServiceFlags::ONEPACKET;
                }
                if sched1 {
                    s.flags.0 |= ServiceFlags::SCHED1;
                }
                s
            },
        )
}

/// A real server for a service of `family`.
pub fn destination(family: Family) -> impl Strategy<Value = Destination> {
    let v6 = family == Family::Inet6;
    (
        addr(v6, true),
        prop_oneof![Just(0u16), Just(80), Just(8080)],
        0u32..4,
        0u32..65536,
        (0u32..100, 0u32..100),
        (0u8..3, 1u16..65535, 0u16..4),
    )
        .prop_map(|(addr, port, fwd, weight, (a, b), (tt, tport, tflags))| {
            let forward = match fwd {
                0 => Forward::Masq,
                1 => Forward::Route,
                2 => Forward::Local,
                _ => {
                    let kind =
                        [TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre][usize::from(tt)];
                    Forward::Tunnel {
                        kind,
                        port: if kind == TunnelType::Gue { tport } else { 0 },
                        flags: TunnelFlags(if kind == TunnelType::Ipip {
                            0
                        } else {
                            tflags & 3
                        }),
                    }
                }
            };
            Destination {
                addr,
                port,
                forward,
                weight,
                upper_threshold: a.max(b),
                lower_threshold: a.min(b),
            }
        })
}

/// A table with unique keys, valid for the kernel.
pub fn kernel_table() -> impl Strategy<Value = Desired> {
    vec(key(), 0..6)
        .prop_map(|mut keys| {
            let mut seen = std::collections::HashSet::new();
            keys.retain(|k| seen.insert(*k));
            keys
        })
        .prop_flat_map(|keys| {
            keys.into_iter()
                .map(|k| (service(k), vec(destination(k.family()), 0..4)))
                .collect::<Vec<_>>()
        })
        .prop_map(|services| {
            let services = services
                .into_iter()
                .map(|(s, mut dests)| {
                    let mut seen = std::collections::HashSet::new();
                    dests.retain(|d| seen.insert(d.id()));
                    (s, dests)
                })
                .collect();
            Desired { services }
        })
}
