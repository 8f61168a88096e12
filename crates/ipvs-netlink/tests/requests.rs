//! Requests checked byte for byte (attribute by attribute) against hand-written expectations,
//! encode/decode round trips (proptest), and properties of the reconcile plan on a model table.

// Test helpers outside #[test] functions panic on purpose.
#![allow(clippy::panic)]

mod common;

use std::collections::HashMap;
use std::net::IpAddr;

use common::{rs4, strategies, v4};
use ipvs_netlink::consts::{cmd, cmd_attr};
use ipvs_netlink::nl::NlMsgs;
use ipvs_netlink::{
    Desired, Destination, DestinationExtended, Forward, Op, Requests, Service, ServiceExtended,
    ServiceKey, TunnelFlags, TunnelType, plan,
};
use proptest::prelude::*;

const FAMILY: u16 = 0x24;

/// A model IPVS table: service key to settings and real servers by (address, port).
type Model = HashMap<ServiceKey, (Service, HashMap<(IpAddr, u16), Destination>)>;

fn attr(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&u16::try_from(4 + payload.len()).unwrap_or(0).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    while v.len() % 4 != 0 {
        v.push(0);
    }
    v
}

fn nest(ty: u16, children: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = children.concat();
    let mut v = attr(ty | 0x8000, &[]);
    v.extend_from_slice(&body);
    let len = u16::try_from(v.len()).unwrap_or(0);
    v[0..2].copy_from_slice(&len.to_ne_bytes());
    v
}

fn message(command: u8, attrs: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = attrs.concat();
    let mut v = Vec::new();
    v.extend_from_slice(&u32::try_from(20 + body.len()).unwrap_or(0).to_ne_bytes());
    v.extend_from_slice(&FAMILY.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes()); // flags: set when sent
    v.extend_from_slice(&0u32.to_ne_bytes()); // seq: set when sent
    v.extend_from_slice(&0u32.to_ne_bytes()); // pid
    v.extend_from_slice(&[command, 1, 0, 0]);
    v.extend_from_slice(&body);
    v
}

#[test]
fn new_service_ipv4_persistent_bytes() {
    let mut s = Service::new(ServiceKey::udp(v4(2, 2), 53), "wlc").persistent(300);
    s.netmask = 24;
    let got = Requests { family: FAMILY }
        .service(cmd::NEW_SERVICE, &s)
        .map(|b| b.finish())
        .unwrap_or_default();
    let mut flags = Vec::new();
    flags.extend_from_slice(&1u32.to_ne_bytes()); // IP_VS_SVC_F_PERSISTENT
    flags.extend_from_slice(&u32::MAX.to_ne_bytes()); // mask: every flag is set or cleared
    let want = message(
        cmd::NEW_SERVICE,
        &[nest(
            cmd_attr::SERVICE,
            &[
                attr(1, &2u16.to_ne_bytes()),   // AF_INET
                attr(2, &17u16.to_ne_bytes()),  // UDP
                attr(3, &[192, 0, 2, 2]),       // 4 address bytes
                attr(4, &[0, 53]),              // port, big-endian
                attr(6, b"wlc\0"),              // scheduler
                attr(7, &flags),                // struct ip_vs_flags
                attr(8, &300u32.to_ne_bytes()), // persistence timeout
                attr(9, &[255, 255, 255, 0]),   // IPv4 netmask, network order
            ],
        )],
    );
    assert_eq!(got, want);
}

#[test]
fn ipv6_fwmark_service_sends_prefix_length_and_mark() {
    let mut s = Service::new(
        ServiceKey::FwMark {
            family: ipvs_netlink::Family::Inet6,
            mark: 43,
        },
        "lc",
    )
    .persistent(60);
    s.netmask = 64;
    s.pe_name = Some("sip".into());
    let got = Requests { family: FAMILY }
        .service(cmd::SET_SERVICE, &s)
        .map(|b| b.finish())
        .unwrap_or_default();
    let mut flags = Vec::new();
    flags.extend_from_slice(&1u32.to_ne_bytes());
    flags.extend_from_slice(&u32::MAX.to_ne_bytes());
    let want = message(
        cmd::SET_SERVICE,
        &[nest(
            cmd_attr::SERVICE,
            &[
                attr(1, &10u16.to_ne_bytes()), // AF_INET6
                attr(5, &43u32.to_ne_bytes()), // fwmark
                attr(6, b"lc\0"),
                attr(11, b"sip\0"), // persistence engine
                attr(7, &flags),
                attr(8, &60u32.to_ne_bytes()),
                attr(9, &64u32.to_ne_bytes()), // IPv6: prefix length, host order
            ],
        )],
    );
    assert_eq!(got, want);
}

#[test]
fn new_dest_gue_tunnel_bytes_and_del_dest_identity_only() {
    let key = ServiceKey::tcp(v4(2, 1), 80);
    let d = Destination {
        weight: 5,
        upper_threshold: 100,
        lower_threshold: 10,
        ..Destination::new(
            rs4(3),
            80,
            Forward::Tunnel {
                kind: TunnelType::Gue,
                port: 6080,
                flags: TunnelFlags(TunnelFlags::CSUM),
            },
        )
    };
    let r = Requests { family: FAMILY };
    let svc = nest(
        cmd_attr::SERVICE,
        &[
            attr(1, &2u16.to_ne_bytes()),
            attr(2, &6u16.to_ne_bytes()),
            attr(3, &[192, 0, 2, 1]),
            attr(4, &[0, 80]),
        ],
    );
    let id = [
        attr(1, &[198, 51, 100, 3]),
        attr(2, &[0, 80]),
        attr(11, &2u16.to_ne_bytes()), // ADDR_FAMILY
    ];
    let mut full = id.to_vec();
    full.extend([
        attr(3, &2u32.to_ne_bytes()),     // FWD_METHOD tunnel
        attr(4, &5u32.to_ne_bytes()),     // WEIGHT
        attr(13, &[1]),                   // TUN_TYPE GUE
        attr(14, &6080u16.to_be_bytes()), // TUN_PORT, big-endian
        attr(15, &1u16.to_ne_bytes()),    // TUN_FLAGS CSUM
        attr(5, &100u32.to_ne_bytes()),   // U_THRESH
        attr(6, &10u32.to_ne_bytes()),    // L_THRESH
    ]);
    assert_eq!(
        r.dest(cmd::NEW_DEST, &key, &d, true).finish(),
        message(cmd::NEW_DEST, &[svc.clone(), nest(cmd_attr::DEST, &full)])
    );
    assert_eq!(
        r.dest(cmd::DEL_DEST, &key, &d, false).finish(),
        message(cmd::DEL_DEST, &[svc, nest(cmd_attr::DEST, &id)])
    );
}

#[test]
fn overlong_scheduler_name_is_refused_before_sending() {
    let s = Service::new(ServiceKey::tcp(v4(2, 1), 80), "a-scheduler-name-too-long");
    assert!(
        Requests { family: FAMILY }
            .service(cmd::NEW_SERVICE, &s)
            .is_err()
    );
}

/// The nest of type `ty` in a built request.
fn request_nest(bytes: &[u8], ty: u16) -> Vec<u8> {
    let msg = NlMsgs::new(bytes)
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no message"));
    let (_, _, attrs) = msg.genl().unwrap_or_else(|e| panic!("{e}"));
    for a in attrs {
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        if a.ty == ty {
            return a.payload.to_vec();
        }
    }
    panic!("no attribute {ty}")
}

proptest! {
    #[test]
    fn services_round_trip_through_encode_and_decode(s in strategies::key().prop_flat_map(strategies::service)) {
        let bytes = Requests { family: FAMILY }.service(cmd::NEW_SERVICE, &s).map(|b| b.finish());
        prop_assert!(bytes.is_ok());
        let bytes = bytes.unwrap_or_default();
        let nest = request_nest(&bytes, cmd_attr::SERVICE);
        let back = ServiceExtended::decode(ipvs_netlink::nl::Attrs::new(&nest));
        prop_assert_eq!(back.map(|b| b.service), Ok(s));
    }

    #[test]
    fn destinations_round_trip_through_encode_and_decode(
        (key, d) in strategies::key().prop_flat_map(|k| (Just(k), strategies::destination(k.family())))
    ) {
        let bytes = Requests { family: FAMILY }.dest(cmd::NEW_DEST, &key, &d, true).finish();
        let nest = request_nest(&bytes, cmd_attr::DEST);
        let back = DestinationExtended::decode(ipvs_netlink::nl::Attrs::new(&nest), key.family());
        prop_assert_eq!(back.map(|b| b.dest), Ok(d));
    }

    #[test]
    fn plan_applied_to_a_model_reaches_the_desired_table_with_edits_not_readds(
        start in strategies::kernel_table(),
        want in strategies::kernel_table(),
    ) {
        let ops = plan(&want, &start);
        let mut model: Model = start
            .services
            .iter()
            .map(|(s, d)| (s.key, (s.clone(), d.iter().map(|x| (x.id(), x.clone())).collect())))
            .collect();
        for op in &ops {
            match op {
                Op::AddService(s) => {
                    prop_assert!(!model.contains_key(&s.key), "add of an existing {}", s);
                    prop_assert!(!start.services.iter().any(|(x, _)| x.key == s.key), "re-add of {}", s);
                    model.insert(s.key, (s.clone(), HashMap::new()));
                }
                Op::EditService(s) => {
                    let e = model.get_mut(&s.key);
                    prop_assert!(e.is_some());
                    if let Some(e) = e { e.0 = s.clone(); }
                }
                Op::DeleteService(k) => {
                    prop_assert!(!want.services.iter().any(|(x, _)| x.key == *k), "delete of a wanted service");
                    prop_assert!(model.remove(k).is_some());
                }
                Op::AddDest(k, d) => {
                    let e = model.get_mut(k);
                    prop_assert!(e.is_some());
                    if let Some(e) = e { prop_assert!(e.1.insert(d.id(), d.clone()).is_none()); }
                }
                Op::EditDest(k, d) => {
                    let e = model.get_mut(k);
                    prop_assert!(e.is_some());
                    if let Some(e) = e { prop_assert!(e.1.insert(d.id(), d.clone()).is_some()); }
                }
                Op::DeleteDest(k, d) => {
                    let e = model.get_mut(k);
                    prop_assert!(e.is_some());
                    if let Some(e) = e { prop_assert!(e.1.remove(&d.id()).is_some()); }
                    let wanted = want.services.iter().find(|(x, _)| x.key == *k);
                    prop_assert!(!wanted.is_some_and(|(_, ds)| ds.iter().any(|x| x.id() == d.id())), "delete of a wanted real server");
                }
            }
        }
        let result = Desired {
            services: model
                .into_values()
                .map(|(s, d)| (s, d.into_values().collect()))
                .collect(),
        };
        prop_assert_eq!(result.sorted(), want.sorted());
        // Minimal: every op changes something, so planning again from the result is empty.
        prop_assert!(plan(&want, &want).is_empty());
    }
}
