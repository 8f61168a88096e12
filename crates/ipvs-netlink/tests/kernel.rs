//! Tier `kernel`: tests against a real IPVS kernel (`scripts/test kernel` runs them inside a
//! qemu VM booting Debian's kernel). Each test runs in a fresh network namespace
//! (`common::in_fresh_netns`), so each starts from an empty IPVS table.

// Helpers outside #[test] functions panic on purpose: a failed kernel call fails the test.
#![allow(clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::{SCHEDULERS, client, in_fresh_netns, ip, ipvsadm, rich_table, rs4, v4, v6};
use ipvs_netlink::{
    Desired, Destination, Error, Forward, ListFormat, Service, ServiceKey, SyncDaemon, SyncState,
    Timeouts, apply, plan,
};

fn program(c: &mut ipvs_netlink::Client, d: &Desired) {
    for (s, dests) in &d.services {
        c.add_service(s).unwrap_or_else(|e| panic!("add {s}: {e}"));
        for x in dests {
            c.add_destination(&s.key, x)
                .unwrap_or_else(|e| panic!("add {x:?} to {s}: {e}"));
        }
    }
}

fn read_back(c: &mut ipvs_netlink::Client) -> Desired {
    Desired::from_table(&c.table().unwrap_or_else(|e| panic!("list: {e}")))
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_ipvs_family_resolves() {
    in_fresh_netns("kernel_ipvs_family_resolves", || {
        let mut c = client();
        assert!(
            c.family_id() >= 0x10,
            "dynamic genl ids start above GENL_ID_CTRL"
        );
        let info = c.info().unwrap_or_else(|e| panic!("GET_INFO: {e}"));
        assert_eq!(info.version.0, 1, "IPVS major version: {info}");
        assert!(info.conn_tab_size > 0, "{info}");
        println!("{info}");
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_every_attribute_round_trips() {
    in_fresh_netns("kernel_every_attribute_round_trips", || {
        let mut c = client();
        let want = rich_table();
        program(&mut c, &want);
        assert_eq!(read_back(&mut c), want.sorted());
        // And one by one through GET_SERVICE.
        for (s, _) in &want.services {
            let got = c.service(&s.key).unwrap_or_else(|e| panic!("get {s}: {e}"));
            assert_eq!(&got.service, s);
        }
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_list_and_save_match_ipvsadm() {
    in_fresh_netns("kernel_list_and_save_match_ipvsadm", || {
        let mut c = client();
        program(&mut c, &rich_table());
        let table = c.table().unwrap_or_else(|e| panic!("list: {e}"));
        assert_eq!(table.list(ListFormat::Default), ipvsadm(&["-Ln"], None));
        assert_eq!(
            table.list(ListFormat::Stats),
            ipvsadm(&["-Ln", "--stats"], None)
        );
        assert_eq!(
            table.list(ListFormat::Rate),
            ipvsadm(&["-Ln", "--rate"], None)
        );
        assert_eq!(table.save(), ipvsadm(&["-Sn"], None));
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_what_ipvsadm_restores_we_read_back() {
    in_fresh_netns("kernel_what_ipvsadm_restores_we_read_back", || {
        let mut c = client();
        // Our -Sn rendering of the rich table, restored by ipvsadm -R, reads back as the same
        // table (thresholds are not part of ipvsadm -S, so they are dropped first).
        let mut want = rich_table();
        for (_, dests) in &mut want.services {
            for d in dests {
                d.upper_threshold = 0;
                d.lower_threshold = 0;
            }
        }
        let mut staging = ipvs_netlink::Table::default();
        for (s, dests) in &want.services {
            staging.services.push(ipvs_netlink::ServiceEntry {
                service: ipvs_netlink::ServiceExtended {
                    service: s.clone(),
                    stats: Default::default(),
                },
                dests: dests
                    .iter()
                    .map(|d| ipvs_netlink::DestinationExtended {
                        dest: d.clone(),
                        active_conns: 0,
                        inact_conns: 0,
                        persist_conns: 0,
                        stats: Default::default(),
                    })
                    .collect(),
            });
        }
        ipvsadm(&["-R"], Some(&staging.save()));
        assert_eq!(read_back(&mut c), want.sorted());
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_every_scheduler_and_forward_method() {
    in_fresh_netns("kernel_every_scheduler_and_forward_method", || {
        let mut c = client();
        let forwards = [
            Forward::Masq,
            Forward::Local,
            Forward::ipip(),
            Forward::Route,
            Forward::Bypass,
        ];
        for (i, sched) in SCHEDULERS.iter().enumerate() {
            for (fam, addr) in [(4, v4(2, 100 + i as u8)), (6, v6(0x100 + i as u16))] {
                let s = Service::new(ServiceKey::tcp(addr, 80), sched);
                c.add_service(&s)
                    .unwrap_or_else(|e| panic!("scheduler {sched} (IPv{fam}): {e}"));
                for (j, f) in forwards.iter().enumerate() {
                    let rs = if fam == 4 {
                        rs4(j as u8 + 1)
                    } else {
                        v6(0x200 + j as u16)
                    };
                    let d = Destination::new(rs, 8000, *f);
                    c.add_destination(&s.key, &d)
                        .unwrap_or_else(|e| panic!("{sched} IPv{fam} {f:?}: {e}"));
                }
                let got = c
                    .destinations(&s.key)
                    .unwrap_or_else(|e| panic!("dests: {e}"));
                let mut methods: Vec<_> = got.iter().map(|d| d.dest.forward.number()).collect();
                methods.sort_unstable();
                assert_eq!(methods, vec![0, 1, 2, 3, 4], "{sched} IPv{fam}");
                assert_eq!(
                    c.service(&s.key)
                        .map(|x| x.service.scheduler)
                        .ok()
                        .as_deref(),
                    Some(*sched)
                );
            }
        }
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_edit_delete_and_typed_errors() {
    in_fresh_netns("kernel_edit_delete_and_typed_errors", || {
        let mut c = client();
        let key = ServiceKey::tcp(v4(2, 1), 80);
        let missing = ServiceKey::tcp(v4(2, 99), 80);
        let mut s = Service::new(key, "rr");
        c.add_service(&s).unwrap_or_else(|e| panic!("add: {e}"));
        assert!(matches!(c.add_service(&s), Err(Error::AlreadyExists)));
        assert!(matches!(c.service(&missing), Err(Error::ServiceNotFound)));
        assert!(matches!(
            c.delete_service(&missing),
            Err(Error::ServiceNotFound)
        ));
        assert!(matches!(
            c.add_service(&Service::new(ServiceKey::tcp(v4(2, 2), 80), "nosuch")),
            Err(Error::SchedulerNotFound)
        ));
        s.scheduler = "wlc".into();
        s = s.persistent(120);
        c.edit_service(&s).unwrap_or_else(|e| panic!("edit: {e}"));
        assert_eq!(c.service(&key).map(|x| x.service).ok(), Some(s.clone()));
        let mut d = Destination::new(rs4(1), 80, Forward::Route);
        c.add_destination(&key, &d)
            .unwrap_or_else(|e| panic!("add dest: {e}"));
        assert!(matches!(
            c.add_destination(&key, &d),
            Err(Error::AlreadyExists)
        ));
        assert!(matches!(
            c.add_destination(&missing, &d),
            Err(Error::ServiceNotFound)
        ));
        d.weight = 7;
        d.forward = Forward::Masq;
        c.edit_destination(&key, &d)
            .unwrap_or_else(|e| panic!("edit dest: {e}"));
        let got = c
            .destinations(&key)
            .unwrap_or_else(|e| panic!("dests: {e}"));
        assert_eq!(
            got.iter().map(|x| x.dest.clone()).collect::<Vec<_>>(),
            vec![d.clone()]
        );
        c.delete_destination(&key, &d)
            .unwrap_or_else(|e| panic!("del dest: {e}"));
        assert!(matches!(
            c.delete_destination(&key, &d),
            Err(Error::DestinationNotFound)
        ));
        c.delete_service(&key)
            .unwrap_or_else(|e| panic!("del: {e}"));
        assert!(c.services().map(|v| v.is_empty()).unwrap_or(false));
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_timeouts_zero_flush() {
    in_fresh_netns("kernel_timeouts_zero_flush", || {
        let mut c = client();
        let t = c.timeouts().unwrap_or_else(|e| panic!("get config: {e}"));
        assert_eq!(ipvsadm(&["-Ln", "--timeout"], None), format!("{t}\n"));
        c.set_timeouts(Timeouts {
            tcp: 901,
            tcp_fin: 0,
            udp: 301,
        })
        .unwrap_or_else(|e| panic!("set config: {e}"));
        let t2 = c.timeouts().unwrap_or_else(|e| panic!("get config: {e}"));
        assert_eq!(
            t2,
            Timeouts {
                tcp: 901,
                tcp_fin: t.tcp_fin,
                udp: 301
            },
            "0 leaves tcp_fin as is"
        );
        program(&mut c, &rich_table());
        let key = ServiceKey::tcp(v4(2, 1), 80);
        c.zero(Some(&key))
            .unwrap_or_else(|e| panic!("zero one: {e}"));
        c.zero(None).unwrap_or_else(|e| panic!("zero all: {e}"));
        assert!(matches!(
            c.zero(Some(&ServiceKey::tcp(v4(2, 99), 1))),
            Err(Error::ServiceNotFound)
        ));
        c.flush().unwrap_or_else(|e| panic!("flush: {e}"));
        assert_eq!(c.services().map(|v| v.len()).ok(), Some(0));
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_sync_daemons() {
    in_fresh_netns("kernel_sync_daemons", || {
        // The daemons multicast on lo: make it multicast-capable and route the groups to it.
        ip(&["link", "set", "lo", "multicast", "on"]);
        ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);
        let mut c = client();
        assert_eq!(c.daemons().map(|d| d.len()).ok(), Some(0));
        let mut master = SyncDaemon::new(SyncState::Master, "lo", 5);
        master.group = Some(IpAddr::V4(Ipv4Addr::new(239, 0, 0, 81)));
        master.port = Some(8849);
        master.ttl = Some(3);
        master.maxlen = Some(1400);
        c.start_daemon(&master)
            .unwrap_or_else(|e| panic!("start master: {e}"));
        let mut backup = SyncDaemon::new(SyncState::Backup, "lo", 6);
        backup.group = Some(IpAddr::V6(
            "ff02::81".parse().unwrap_or(Ipv6Addr::UNSPECIFIED),
        ));
        backup.port = Some(8850);
        backup.ttl = Some(1);
        backup.maxlen = Some(1400);
        c.start_daemon(&backup)
            .unwrap_or_else(|e| panic!("start backup: {e}"));
        let mut got = c.daemons().unwrap_or_else(|e| panic!("daemons: {e}"));
        got.sort_by_key(|d| d.state.number());
        assert_eq!(got, vec![master.clone(), backup.clone()]);
        let shown = ipvsadm(&["-Ln", "--daemon"], None);
        assert!(
            shown.contains("master sync daemon (mcast=lo, syncid=5"),
            "{shown}"
        );
        assert!(matches!(
            c.start_daemon(&master),
            Err(Error::AlreadyExists) | Err(Error::Kernel(_))
        ));
        c.stop_daemon(SyncState::Master)
            .unwrap_or_else(|e| panic!("stop master: {e}"));
        c.stop_daemon(SyncState::Backup)
            .unwrap_or_else(|e| panic!("stop backup: {e}"));
        assert_eq!(c.daemons().map(|d| d.len()).ok(), Some(0));
    });
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_reconcile_reaches_desired_and_then_is_a_no_op() {
    in_fresh_netns(
        "kernel_reconcile_reaches_desired_and_then_is_a_no_op",
        || {
            let mut c = client();
            // From empty to the rich table, then to a changed table, then nothing to do.
            let want = rich_table();
            let actual = read_back(&mut c);
            let results = apply(&mut c, plan(&want, &actual));
            assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
            assert_eq!(read_back(&mut c), want.sorted());
            let mut next = want.clone();
            next.services.remove(1);
            next.services[0].0.scheduler = "lc".into();
            next.services[0].1[0].weight = 9;
            next.services[0].1.remove(1);
            next.services[2]
                .1
                .push(Destination::new(rs4(20), 514, Forward::Masq));
            let ops = plan(&next, &read_back(&mut c));
            assert_eq!(ops.len(), 5, "{ops:?}");
            let results = apply(&mut c, ops);
            assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
            assert_eq!(read_back(&mut c), next.sorted());
            assert!(plan(&next, &read_back(&mut c)).is_empty());
        },
    );
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_apply_reports_per_op_errors() {
    in_fresh_netns("kernel_apply_reports_per_op_errors", || {
        let mut c = client();
        let good = Service::new(ServiceKey::tcp(v4(2, 1), 80), "rr");
        let bad = Service::new(ServiceKey::tcp(v4(2, 2), 80), "nosuch");
        let ops = vec![
            ipvs_netlink::Op::AddService(good.clone()),
            ipvs_netlink::Op::AddService(bad.clone()),
            ipvs_netlink::Op::AddDest(bad.key, Destination::new(rs4(1), 80, Forward::Route)),
            ipvs_netlink::Op::AddService(good.clone()),
            ipvs_netlink::Op::AddDest(good.key, Destination::new(rs4(1), 80, Forward::Route)),
        ];
        let r = apply(&mut c, ops);
        assert!(r[0].result.is_ok());
        assert!(
            matches!(r[1].result, Err(Error::SchedulerNotFound)),
            "{:?}",
            r[1]
        );
        assert!(
            matches!(r[2].result, Err(Error::ServiceNotFound)),
            "{:?}",
            r[2]
        );
        assert!(
            matches!(r[3].result, Err(Error::AlreadyExists)),
            "{:?}",
            r[3]
        );
        assert!(r[4].result.is_ok());
        // Only the last request of a datagram asks for an acknowledgement: a failing last
        // request, and failures spread over several datagrams and windows, are each reported
        // on the right operation (2,600 operations: encoded on a second thread as they go).
        let r = apply(
            &mut c,
            vec![
                ipvs_netlink::Op::AddDest(good.key, Destination::new(rs4(2), 80, Forward::Route)),
                ipvs_netlink::Op::AddDest(good.key, Destination::new(rs4(2), 80, Forward::Route)),
            ],
        );
        assert!(r[0].result.is_ok(), "{:?}", r[0]);
        assert!(
            matches!(r[1].result, Err(Error::AlreadyExists)),
            "{:?}",
            r[1]
        );
        let many: Vec<ipvs_netlink::Op> = (0..2600u16)
            .map(|i| {
                let sched = if i % 97 == 5 || i == 2599 {
                    "nosuch"
                } else {
                    "wlc"
                };
                ipvs_netlink::Op::AddService(Service::new(
                    ServiceKey::tcp(v4(2, 3), 1000 + i),
                    sched,
                ))
            })
            .collect();
        let r = apply(&mut c, many);
        assert_eq!(r.len(), 2600);
        for (i, x) in r.iter().enumerate() {
            if i % 97 == 5 || i == 2599 {
                assert!(
                    matches!(x.result, Err(Error::SchedulerNotFound)),
                    "{i}: {x:?}"
                );
            } else {
                assert!(x.result.is_ok(), "{i}: {x:?}");
            }
        }
        let services = c.services().expect("services");
        assert_eq!(
            services.len(),
            1 + 2600 - 28,
            "what the results say is in the kernel"
        );
    });
}

/// Records the kernel's replies for the rich table (and `kernel_record_daemon_fixture` the sync
/// daemon dump) as hex fixtures (one generic netlink
/// payload per line) into `$IPVS_RECORD_FIXTURES` when set; the unit tests in
/// `tests/fixtures.rs` decode them. Without the variable it checks that every reply decodes.
/// Record with:
/// `IPVS_RECORD_FIXTURES=$PWD/crates/ipvs-netlink/tests/fixtures VM_WRITABLE=crates/ipvs-netlink/tests/fixtures scripts/vm/run <kernel test exe> --ignored kernel_record`
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_record_reply_fixtures() {
    in_fresh_netns("kernel_record_reply_fixtures", || {
        let mut c = client();
        let table = rich_table();
        program(&mut c, &table);
        let r = c.requests();
        use ipvs_netlink::consts::cmd;
        let recordings = [
            ("get_info", r.msg(cmd::GET_INFO), false),
            ("get_config", r.msg(cmd::GET_CONFIG), false),
            ("get_service_dump", r.msg(cmd::GET_SERVICE), true),
            (
                "get_dest_dump_tcp4",
                r.key(cmd::GET_DEST, &table.services[0].0.key),
                true,
            ),
            (
                "get_dest_dump_tcp6",
                r.key(cmd::GET_DEST, &table.services[4].0.key),
                true,
            ),
        ];
        let dir = std::env::var_os("IPVS_RECORD_FIXTURES");
        let mut replies = Vec::new();
        for (name, msg, dump) in recordings {
            let reply = c
                .raw_request(msg, dump)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            replies.push((name, reply));
        }
        for (name, reply) in replies {
            assert!(!reply.messages.is_empty(), "{name}: empty reply");
            if let Some(dir) = &dir {
                let text: String = reply
                    .messages
                    .iter()
                    .map(|m| m.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
                    .collect();
                let path = std::path::Path::new(dir).join(format!("{name}.hex"));
                std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
        }
    });
}

/// Records the sync daemon dump (see `kernel_record_reply_fixtures`). The daemon is not stopped:
/// sync daemons and mixed-family real servers exclude each other, so this has its own namespace,
/// and the kernel stops the daemon when the namespace goes away.
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_record_daemon_fixture() {
    in_fresh_netns("kernel_record_daemon_fixture", || {
        ip(&["link", "set", "lo", "multicast", "on"]);
        ip(&["route", "add", "224.0.0.0/4", "dev", "lo"]);
        let mut c = client();
        let mut master = SyncDaemon::new(SyncState::Master, "lo", 5);
        master.group = Some(IpAddr::V4(Ipv4Addr::new(239, 0, 0, 81)));
        master.port = Some(8849);
        master.ttl = Some(3);
        master.maxlen = Some(1400);
        c.start_daemon(&master)
            .unwrap_or_else(|e| panic!("start master: {e}"));
        let reply = c
            .raw_request(
                c.requests().msg(ipvs_netlink::consts::cmd::GET_DAEMON),
                true,
            )
            .unwrap_or_else(|e| panic!("daemons: {e}"));
        assert_eq!(reply.messages.len(), 1);
        if let Some(dir) = std::env::var_os("IPVS_RECORD_FIXTURES") {
            let text: String = reply
                .messages
                .iter()
                .map(|m| m.iter().map(|b| format!("{b:02x}")).collect::<String>() + "\n")
                .collect();
            let path = std::path::Path::new(&dir).join("get_daemon_dump.hex");
            std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    });
}

mod reconcile_props {
    //! Reconcile from random start states to random desired states ends with the kernel's
    //! table equal to the desired one; a second plan is empty.

    use super::common::{client, in_fresh_netns, strategies};
    use ipvs_netlink::{Desired, apply, plan};
    use proptest::prelude::*;

    #[test]
    #[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
    fn kernel_reconcile_random_tables() {
        in_fresh_netns("reconcile_props::kernel_reconcile_random_tables", || {
            let client = std::cell::RefCell::new(client());
            let config = ProptestConfig {
                cases: 24,
                failure_persistence: None,
                ..ProptestConfig::default()
            };
            proptest!(config, |(start in strategies::kernel_table(), want in strategies::kernel_table())| {
                let mut guard = client.borrow_mut();
                let c = &mut *guard;
                c.flush().map_err(|e| TestCaseError::fail(format!("flush: {e}")))?;
                let empty = Desired::default();
                for r in apply(c, plan(&start, &empty)) {
                    prop_assert!(r.result.is_ok(), "start state: {} -> {:?}", r.op, r.result);
                }
                let actual = Desired::from_table(&c.table().map_err(|e| TestCaseError::fail(e.to_string()))?);
                prop_assert_eq!(&actual, &start.sorted());
                for r in apply(c, plan(&want, &actual)) {
                    prop_assert!(r.result.is_ok(), "reconcile: {} -> {:?}", r.op, r.result);
                }
                let after = Desired::from_table(&c.table().map_err(|e| TestCaseError::fail(e.to_string()))?);
                prop_assert_eq!(&after, &want.sorted());
                prop_assert!(plan(&want, &after).is_empty());
            });
        });
    }
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_large_table_lists_like_ipvsadm() {
    in_fresh_netns("kernel_large_table_lists_like_ipvsadm", || {
        // Enough services for Client::table to dump real servers over several sockets.
        let mut c = client();
        let mut want = Desired::default();
        for i in 0..80u16 {
            let key = ServiceKey::tcp(v4(2, (i % 200 + 1) as u8), 1000 + i);
            let dests = (1..=3)
                .map(|j| Destination::new(rs4(j), 1000 + i, Forward::Masq))
                .collect();
            want.services.push((Service::new(key, "wlc"), dests));
        }
        let results = apply(&mut c, plan(&want, &Desired::default()));
        assert!(results.iter().all(|r| r.result.is_ok()));
        let table = c.table().unwrap_or_else(|e| panic!("list: {e}"));
        assert_eq!(Desired::from_table(&table), want.sorted());
        assert_eq!(table.list(ListFormat::Default), ipvsadm(&["-Ln"], None));
        assert_eq!(table.save(), ipvsadm(&["-Sn"], None));
    });
}
