//! Replies recorded from Debian's 6.1 kernel (`kernel_record_reply_fixtures` in the VM) decode
//! to exactly what was programmed: 16-byte IPv4 addresses, big-endian ports, the IPv4 netmask
//! in network order, STATS and STATS64 nests, HASHED stripped from the flags, tunnel settings,
//! mixed-family real servers, sync daemon attributes.

// Test helpers outside #[test] functions panic on purpose.
#![allow(clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr};

use common::rich_table;
use ipvs_netlink::consts::cmd_attr;
use ipvs_netlink::nl::Attrs;
use ipvs_netlink::{DestinationExtended, Family, Info, ServiceExtended, SyncDaemon, SyncState};

fn fixture(name: &str) -> Vec<Vec<u8>> {
    let path = format!("{}/tests/fixtures/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.lines()
        .map(|l| {
            (0..l.len())
                .step_by(2)
                .map(|i| {
                    u8::from_str_radix(&l[i..i + 2], 16).unwrap_or_else(|e| panic!("{path}: {e}"))
                })
                .collect()
        })
        .collect()
}

/// The payloads of top-level attribute `ty` in each recorded message (after the genl header).
fn nested(msgs: &[Vec<u8>], ty: u16) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for m in msgs {
        for a in Attrs::new(&m[4..]) {
            let a = a.unwrap_or_else(|e| panic!("{e}"));
            if a.ty == ty {
                out.push(a.payload.to_vec());
            }
        }
    }
    out
}

#[test]
fn service_dump_decodes_to_the_programmed_services() {
    let msgs = fixture("get_service_dump");
    let mut got: Vec<_> = nested(&msgs, cmd_attr::SERVICE)
        .iter()
        .map(|p| {
            ServiceExtended::decode(Attrs::new(p))
                .unwrap_or_else(|e| panic!("{e}"))
                .service
        })
        .collect();
    let mut want: Vec<_> = rich_table().services.into_iter().map(|(s, _)| s).collect();
    got.sort_by_key(|s| s.key.sort_key());
    want.sort_by_key(|s| s.key.sort_key());
    assert_eq!(got, want);
}

#[test]
fn service_replies_carry_16_byte_addresses_and_hashed_flag() {
    let msgs = fixture("get_service_dump");
    let first = &nested(&msgs, cmd_attr::SERVICE)[0];
    let mut saw_addr = false;
    for a in Attrs::new(first) {
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        if a.ty == ipvs_netlink::consts::svc::ADDR {
            assert_eq!(
                a.payload.len(),
                16,
                "the kernel always sends 16 address bytes"
            );
            saw_addr = true;
        }
        if a.ty == ipvs_netlink::consts::svc::FLAGS {
            let flags =
                u32::from_ne_bytes([a.payload[0], a.payload[1], a.payload[2], a.payload[3]]);
            assert_ne!(flags & 0x2, 0, "the kernel reports IP_VS_SVC_F_HASHED");
        }
    }
    assert!(saw_addr);
}

#[test]
fn dest_dumps_decode_to_the_programmed_real_servers() {
    let table = rich_table();
    for (name, idx) in [("get_dest_dump_tcp4", 0), ("get_dest_dump_tcp6", 4)] {
        let (svc, dests) = &table.services[idx];
        let mut got: Vec<_> = nested(&fixture(name), cmd_attr::DEST)
            .iter()
            .map(|p| {
                DestinationExtended::decode(Attrs::new(p), svc.key.family())
                    .unwrap_or_else(|e| panic!("{name}: {e}"))
            })
            .collect();
        assert!(
            got.iter()
                .all(|d| d.active_conns == 0 && d.stats == Default::default())
        );
        got.sort_by_key(|d| (Family::of(d.dest.addr), d.dest.addr, d.dest.port));
        let mut want = dests.clone();
        want.sort_by_key(|d| (Family::of(d.addr), d.addr, d.port));
        assert_eq!(
            got.into_iter().map(|d| d.dest).collect::<Vec<_>>(),
            want,
            "{name}"
        );
    }
}

#[test]
fn info_config_and_daemon_replies_decode() {
    let info = fixture("get_info");
    let info = Info::decode(Attrs::new(&info[0][4..])).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        info.to_string(),
        "IP Virtual Server version 1.2.1 (size=4096)"
    );

    let config = fixture("get_config");
    let mut timeouts = Vec::new();
    for a in Attrs::new(&config[0][4..]) {
        let a = a.unwrap_or_else(|e| panic!("{e}"));
        timeouts.push((a.ty, a.u32().unwrap_or_else(|e| panic!("{e}"))));
    }
    assert_eq!(timeouts, vec![(4, 900), (5, 120), (6, 300)]);

    let daemons: Vec<_> = nested(&fixture("get_daemon_dump"), cmd_attr::DAEMON)
        .iter()
        .map(|p| SyncDaemon::decode(Attrs::new(p)).unwrap_or_else(|e| panic!("{e}")))
        .collect();
    let mut master = SyncDaemon::new(SyncState::Master, "lo", 5);
    master.group = Some(IpAddr::V4(Ipv4Addr::new(239, 0, 0, 81)));
    master.port = Some(8849);
    master.ttl = Some(3);
    master.maxlen = Some(1400);
    assert_eq!(daemons, vec![master]);
}

#[test]
fn truncated_recorded_replies_fail_cleanly() {
    // Every prefix of every recorded service nest decodes or errors; nothing panics.
    for p in nested(&fixture("get_service_dump"), cmd_attr::SERVICE) {
        for cut in 0..p.len() {
            let _ = ServiceExtended::decode(Attrs::new(&p[..cut]));
        }
        assert!(ServiceExtended::decode(Attrs::new(&p[..8])).is_err());
    }
}
