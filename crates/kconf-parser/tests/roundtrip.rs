//! Property: a model printed back to keepalived syntax parses to the same model, without
//! diagnostics. The generators produce *resolved* models (what the parser can produce: values
//! in range, derived fields consistent).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::model::*;
use kconf_parser::print::print_config;
use kconf_parser::{Options, parse_str};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

fn secs(max: u64) -> impl Strategy<Value = Duration> {
    (1..=max).prop_map(Duration::from_secs)
}

fn micros(min: u64, max: u64) -> impl Strategy<Value = Duration> {
    (min..=max).prop_map(Duration::from_micros)
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_.-]{0,8}"
}

fn v4() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn script() -> impl Strategy<Value = Script> {
    (
        "/[a-z]{1,6}(/[a-z]{1,6}){0,2}",
        prop::collection::vec("[a-z0-9]{1,5}", 0..3),
        prop::option::of(("[a-z]{1,6}", prop::option::of("[a-z]{1,6}"))),
    )
        .prop_map(|(path, args, user)| {
            let mut argv = vec![path];
            argv.extend(args);
            let (user, group) = match user {
                Some((u, g)) => (Some(u), g),
                None => (None, None),
            };
            Script {
                command: argv.join(" "),
                argv,
                user,
                group,
            }
        })
}

fn script_user() -> impl Strategy<Value = ScriptUser> {
    ("[a-z]{1,8}", prop::option::of("[a-z]{1,8}"), any::<bool>()).prop_map(|(user, group, supp)| {
        ScriptUser {
            user,
            supplementary_groups: supp && group.is_some(),
            group,
        }
    })
}

fn global_defs() -> impl Strategy<Value = GlobalDefs> {
    (
        (
            prop::option::of(name()),
            prop::collection::vec("[a-z]{1,6}@[a-z]{1,6}\\.org", 0..3),
            prop::option::of(("[a-z0-9.]{1,10}", 1u16..)),
        ),
        (
            0u64..=4294,
            any::<bool>(),
            any::<bool>(),
            0u64..100,
            1u32..10,
            2u8..=3,
            any::<bool>(),
        ),
        (
            prop::option::of(script_user()),
            any::<bool>(),
            prop::option::of(0u64..1_000_000),
            prop::option::of(micros(1, 10_000_000)),
        ),
    )
        .prop_map(
            |(
                (router_id, emails, smtp),
                (smtp_to, strict, skip, garp_delay, garp_rep, version, flush),
                (su, sec, seed, garp_int),
            )| {
                GlobalDefs {
                    router_id,
                    notification_email: emails,
                    smtp_server: smtp.map(|(host, port)| SmtpServer { host, port }),
                    smtp_connect_timeout: Duration::from_secs(smtp_to),
                    vrrp_strict: strict,
                    vrrp_skip_check_adv_addr: skip,
                    vrrp_garp_master_delay: Duration::from_secs(garp_delay),
                    vrrp_garp_master_repeat: garp_rep,
                    vrrp_garp_interval: garp_int.unwrap_or(Duration::ZERO),
                    vrrp_version: version,
                    lvs_flush: flush,
                    script_user: su,
                    enable_script_security: sec,
                    random_seed: seed,
                    ..GlobalDefs::default()
                }
            },
        )
}

fn vrrp_script(idx: usize) -> impl Strategy<Value = VrrpScript> {
    (
        script(),
        micros(1000, 100_000_000),
        prop::option::of(micros(1000, 100_000_000)),
        -253i32..=253,
        any::<bool>(),
        1u32..10,
        1u32..10,
        prop::option::of(script_user()),
        any::<bool>(),
    )
        .prop_map(
            move |(s, interval, timeout, weight, rev, rise, fall, user, init_fail)| VrrpScript {
                name: format!("chk{idx}"),
                script: Some(s),
                interval,
                timeout: timeout.unwrap_or(interval),
                weight,
                weight_reverse: rev,
                rise,
                fall,
                user,
                init_fail,
            },
        )
}

fn vip() -> impl Strategy<Value = VirtualIp> {
    (
        v4(),
        0u8..=32,
        prop::option::of("eth[0-9]"),
        prop::option::of("eth[0-9]:[0-9]"),
        any::<bool>(),
    )
        .prop_map(|(a, len, dev, label, nt)| VirtualIp {
            address: IpAddr::V4(a),
            prefix_len: len,
            brd: None,
            dev,
            scope: None,
            label,
            peer: None,
            no_track: nt,
            options: Vec::new(),
        })
}

fn track_ref(names: Vec<String>) -> impl Strategy<Value = Vec<TrackRef>> {
    let n = names.len();
    prop::sample::subsequence(names, 0..=n)
        .prop_flat_map(|picked| {
            let k = picked.len();
            (
                Just(picked),
                prop::collection::vec((prop::option::of(-253i32..=253), any::<bool>()), k),
            )
        })
        .prop_map(|(picked, ws)| {
            picked
                .into_iter()
                .zip(ws)
                .map(|(name, (weight, rev))| TrackRef {
                    name,
                    weight,
                    reverse: rev && weight.is_some(),
                })
                .collect()
        })
}

fn instance(
    idx: usize,
    scripts: Vec<String>,
    strict: bool,
    g: GlobalDefs,
) -> impl Strategy<Value = VrrpInstance> {
    (
        (
            any::<bool>(),
            1u8..=255,
            prop::option::of("eth[0-9]{1,2}"),
            1u8..=255,
            1u64..=255,
            any::<bool>(),
        ),
        (
            prop::collection::vec(vip(), 0..3),
            prop::option::of("[a-zA-Z0-9]{1,8}"),
            any::<bool>(),
            0u64..100,
            prop::collection::vec(v4(), 0..3),
            0u8..=255,
        ),
        (
            track_ref(scripts),
            prop::option::of(script()),
            prop::option::of(script()),
            prop::option::of(any::<bool>()),
            any::<bool>(),
            prop::option::of("[a-z0-9]{0,6}"),
        ),
        (
            prop::collection::vec(("eth[0-9]", -254i32..=254, any::<bool>()), 0..3),
            any::<bool>(),
            1u32..20,
        ),
    )
        .prop_map(
            move |(
                (master, prio, iface, vrid, adv, v3),
                (vips, pass, nopreempt, pdelay, peers, ttl),
                (tracks, nm, nb, smtp, accept, vmac),
                (tifs, promote, garp_rep),
            )| {
                let state = if master {
                    VrrpState::Master
                } else {
                    VrrpState::Backup
                };
                let version = if v3 { 3 } else { 2 };
                let advert_int = if v3 {
                    Duration::from_millis(adv * 10)
                } else {
                    Duration::from_secs(adv)
                };
                let nopreempt = nopreempt && !master && prio != 255;
                let preempt_delay = if master || nopreempt || strict {
                    Duration::ZERO
                } else {
                    Duration::from_secs(pdelay)
                };
                VrrpInstance {
                    name: format!("VI_{idx}"),
                    state,
                    interface: iface,
                    virtual_router_id: vrid,
                    priority: prio,
                    advert_int,
                    version,
                    authentication: if v3 {
                        None
                    } else {
                        pass.map(|p| Authentication {
                            auth_type: AuthType::Pass,
                            auth_pass: p,
                        })
                    },
                    virtual_ipaddress: vips,
                    virtual_ipaddress_excluded: Vec::new(),
                    virtual_routes: Vec::new(),
                    virtual_rules: Vec::new(),
                    nopreempt,
                    preempt_delay,
                    unicast_src_ip: None,
                    mcast_src_ip: None,
                    unicast_ttl: if peers.is_empty() { 255 } else { ttl },
                    unicast_peers: peers
                        .into_iter()
                        .map(|a| UnicastPeer {
                            address: IpAddr::V4(a),
                            min_ttl: None,
                            max_ttl: None,
                        })
                        .collect(),
                    track_interfaces: tifs
                        .into_iter()
                        .map(|(name, weight, reverse)| TrackInterface {
                            name,
                            weight,
                            reverse,
                        })
                        .collect(),
                    track_scripts: tracks,
                    track_files: Vec::new(),
                    track_processes: Vec::new(),
                    dont_track_primary: false,
                    notify_master: nm,
                    notify_backup: nb,
                    notify_fault: None,
                    notify_stop: None,
                    notify_deleted: None,
                    notify_master_rx_lower_pri: None,
                    notify: None,
                    smtp_alert: smtp,
                    notify_priority_changes: None,
                    garp_master_delay: g.vrrp_garp_master_delay,
                    garp_master_repeat: garp_rep,
                    garp_master_refresh: g.vrrp_garp_master_refresh,
                    garp_master_refresh_repeat: g.vrrp_garp_master_refresh_repeat,
                    use_vmac: vmac,
                    accept,
                    strict_mode: strict,
                    skip_check_adv_addr: g.vrrp_skip_check_adv_addr,
                    lower_prio_no_advert: false,
                    higher_prio_send_advert: false,
                    promote_secondaries: promote,
                    unsupported: Vec::new(),
                }
            },
        )
}

fn checker(delay_loop: Duration) -> impl Strategy<Value = Checker> {
    let kind = prop_oneof![
        Just(CheckerKind::Tcp),
        Just(CheckerKind::Ping),
        (
            "/[a-z]{0,8}",
            prop::option::of("[0-9a-f]{32}"),
            prop::collection::vec((200u16..300, 0u16..100), 0..3),
            prop::option::of("[a-z]{1,8}\\.org"),
            any::<bool>()
        )
            .prop_map(|(path, digest, codes, vh, ssl)| {
                let h = HttpCheck {
                    urls: vec![HttpUrl {
                        path,
                        digest,
                        status_codes: codes
                            .into_iter()
                            .map(|(a, d)| StatusRange { min: a, max: a + d })
                            .collect(),
                        virtualhost: None,
                        regex: None,
                        regex_no_match: false,
                    }],
                    http_protocol: "1.1".into(),
                    virtualhost: vh,
                    fast_recovery: false,
                    enable_sni: ssl,
                    sni_name: None,
                    tls_compliant: false,
                };
                if ssl {
                    CheckerKind::Ssl(h)
                } else {
                    CheckerKind::Http(h)
                }
            }),
        (script(), secs(100), any::<bool>()).prop_map(|(s, t, d)| CheckerKind::Misc(MiscCheck {
            misc_path: Some(s),
            misc_timeout: t,
            misc_dynamic: d,
            user: None
        })),
        "[a-z]{1,8}\\.[a-z]{2,3}".prop_map(|h| CheckerKind::Smtp(SmtpCheck { helo_name: h })),
        (
            prop::sample::select(vec!["A", "AAAA", "SOA", "MX"]),
            "[a-z]{1,8}\\.org"
        )
            .prop_map(|(t, n)| CheckerKind::Dns(DnsCheck {
                query_type: t.into(),
                name: n
            })),
        (prop::option::of("[0-9a-f]{2,8}"), 0u32..10, 10u32..300).prop_map(|(p, min, max)| {
            CheckerKind::Udp(UdpCheck {
                payload: p,
                require_reply: None,
                min_reply_length: min,
                max_reply_length: max,
            })
        }),
    ];
    (
        kind,
        prop::option::of(v4()),
        prop::option::of(1u16..),
        secs(10),
        0u32..5,
        secs(10),
        secs(100),
        any::<bool>(),
    )
        .prop_map(move |(kind, cip, cport, ct, retry, dbr, warmup, alpha)| {
            let connect = !matches!(kind, CheckerKind::Misc(_));
            Checker {
                kind,
                connect_ip: if connect { cip.map(IpAddr::V4) } else { None },
                connect_port: if connect { cport } else { None },
                bindto: None,
                bind_port: None,
                bind_if: None,
                fwmark: None,
                connect_timeout: if connect { ct } else { Duration::from_secs(5) },
                retry,
                delay_before_retry: dbr,
                warmup,
                delay_loop,
                alpha,
                log_all_failures: false,
            }
        })
}

fn real_server(
    idx: u8,
    port: Option<u16>,
    method: LvsMethod,
    delay_loop: Duration,
) -> impl Strategy<Value = RealServer> {
    (
        0u32..1000,
        any::<bool>(),
        prop::option::of(script()),
        prop::collection::vec(checker(delay_loop), 0..3),
        prop::option::of(any::<bool>()),
    )
        .prop_map(move |(weight, inhibit, up, checkers, smtp)| RealServer {
            address: IpAddr::V4(Ipv4Addr::new(198, 51, 100, idx)),
            port,
            weight,
            lvs_method: method,
            inhibit_on_failure: inhibit,
            notify_up: up,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            smtp_alert: smtp,
            checkers,
            unsupported: Vec::new(),
        })
}

fn virtual_server() -> impl Strategy<Value = VirtualServer> {
    (
        (
            v4(),
            prop::option::of(1u16..),
            prop::sample::select(Scheduler::ALL.to_vec()),
            prop::sample::select(vec![LvsMethod::Nat, LvsMethod::Dr, LvsMethod::Tun]),
        ),
        (
            prop::sample::select(vec![Protocol::Tcp, Protocol::Udp, Protocol::Sctp]),
            prop::option::of(1u64..=2_678_400),
            secs(100),
            1u32..100,
            1u32..10,
            0u32..5,
        ),
        (
            any::<bool>(),
            any::<bool>(),
            prop::option::of(secs(10)),
            prop::option::of(0u32..5),
            1usize..4,
        ),
    )
        .prop_map(
            |(
                (addr, port, sched, method),
                (proto, persist, delay_loop, weight, quorum, hyst),
                (inhibit, ha, ct, retry, n_rs),
            )| {
                let vs = VirtualServer {
                    target: VsTarget::Address {
                        address: IpAddr::V4(addr),
                        port,
                    },
                    ip_family: None,
                    lvs_sched: sched,
                    lvs_method: method,
                    tunnel: (method == LvsMethod::Tun).then(|| TunnelOptions {
                        tunnel_type: "ipip".into(),
                        port: None,
                        checksum: None,
                    }),
                    protocol: proto,
                    persistence_timeout: persist.map(Duration::from_secs),
                    persistence_granularity: None,
                    persistence_engine: None,
                    flags: LvsFlags::default(),
                    delay_loop,
                    connect_timeout: ct,
                    retry,
                    delay_before_retry: None,
                    warmup: None,
                    inhibit_on_failure: inhibit,
                    alpha: false,
                    omega: false,
                    quorum,
                    hysteresis: hyst,
                    quorum_up: None,
                    quorum_down: None,
                    sorry_server: None,
                    sorry_server_inhibit: false,
                    sorry_server_lvs_method: None,
                    ha_suspend: ha,
                    virtualhost: None,
                    weight,
                    smtp_alert: None,
                    real_servers: Vec::new(),
                    unsupported: Vec::new(),
                };
                (vs, n_rs)
            },
        )
        .prop_flat_map(|(vs, n_rs)| {
            let port = match vs.target {
                VsTarget::Address { port, .. } => port,
                _ => None,
            };
            let rss: Vec<_> = (0..n_rs)
                .map(|i| {
                    real_server(
                        u8::try_from(i + 1).unwrap_or(1),
                        port,
                        vs.lvs_method,
                        vs.delay_loop,
                    )
                })
                .collect();
            (Just(vs), rss)
        })
        .prop_map(|(mut vs, rss)| {
            vs.real_servers = rss;
            vs
        })
}

fn config() -> impl Strategy<Value = Config> {
    (global_defs(), 0usize..4, 0usize..4)
        .prop_flat_map(|(g, n_scripts, n_inst)| {
            let scripts: Vec<_> = (0..n_scripts).map(vrrp_script).collect();
            let names: Vec<String> = (0..n_scripts).map(|i| format!("chk{i}")).collect();
            let insts: Vec<_> = (0..n_inst)
                .map(|i| instance(i, names.clone(), g.vrrp_strict, g.clone()))
                .collect();
            (
                Just(g),
                scripts,
                insts,
                prop::collection::vec(virtual_server(), 0..3),
                any::<bool>(),
            )
        })
        .prop_map(|(g, scripts, insts, vss, sync)| {
            let group: Vec<String> = insts.iter().map(|i| i.name.clone()).collect();
            let vrrp_sync_groups = if sync && !group.is_empty() {
                vec![VrrpSyncGroup {
                    name: "SG".into(),
                    group,
                    track_interfaces: Vec::new(),
                    track_scripts: Vec::new(),
                    track_files: Vec::new(),
                    track_processes: Vec::new(),
                    notify_master: None,
                    notify_backup: None,
                    notify_fault: None,
                    notify_stop: None,
                    notify: None,
                    smtp_alert: None,
                    notify_priority_changes: None,
                    sync_group_tracking_weight: false,
                    unsupported: Vec::new(),
                }]
            } else {
                Vec::new()
            };
            Config {
                global_defs: g,
                vrrp_scripts: scripts,
                vrrp_instances: insts,
                vrrp_sync_groups,
                virtual_servers: vss,
                ..Config::default()
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_model_parses_back_to_the_same_model(c in config()) {
        let text = print_config(&c);
        let p = parse_str(&text, &Options { config_id: Some("x".into()), random_seed: Some(0), ..Options::default() });
        prop_assert!(p.diagnostics.is_empty(), "{}\n--- printed:\n{}", p.render_diagnostics(), text);
        prop_assert_eq!(&p.config, &c, "printed:\n{}", text);
    }
}
