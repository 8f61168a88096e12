//! keepalived's defaults, ranges, derived values, aliases and the warn-and-continue model.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::model::*;
use kconf_parser::{DiagKind, MemFs, Options, Parsed, Severity, parse_file_with, parse_str};
use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

fn parse(text: &str) -> Parsed {
    parse_str(
        text,
        &Options {
            config_id: Some("t".into()),
            random_seed: Some(1),
            ..Options::default()
        },
    )
}

fn kinds(p: &Parsed) -> Vec<(Severity, DiagKind)> {
    p.diagnostics.iter().map(|d| (d.severity, d.kind)).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

const RS: &str = "real_server 192.0.2.10 80 { TCP_CHECK { } }";

#[test]
fn virtual_server_defaults_udp_wlc_nat_with_warnings() {
    let p = parse(&format!("virtual_server 192.0.2.1 80 {{\n{RS}\n}}"));
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.protocol, Protocol::Udp);
    assert_eq!(vs.lvs_sched, Scheduler::Wlc);
    assert_eq!(vs.lvs_method, LvsMethod::Nat);
    assert_eq!(vs.delay_loop, Duration::from_secs(60));
    assert_eq!(vs.persistence_timeout, None);
    assert_eq!(
        kinds(&p)
            .iter()
            .filter(|k| k.1 == DiagKind::DefaultApplied)
            .count(),
        3,
        "{}",
        p.render_diagnostics()
    );
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.message.contains("no protocol set - defaulting to UDP"))
    );
    let ck = &vs.real_servers[0].checkers[0];
    assert_eq!(ck.connect_timeout, Duration::from_secs(5));
    assert_eq!(ck.retry, 1);
    assert_eq!(ck.delay_before_retry, Duration::from_secs(1));
    assert_eq!(ck.warmup, Duration::from_secs(60));
}

#[test]
fn fwmark_service_has_no_protocol_warning_but_a_protocol_is_ignored_with_one() {
    let p = parse(&format!(
        "virtual_server fwmark 7 {{ lb_algo rr\nlb_kind DR\n{RS}\n}}"
    ));
    assert!(p.diagnostics.is_empty(), "{}", p.render_diagnostics());
    assert_eq!(
        p.config.virtual_servers[0].target,
        VsTarget::Fwmark { mark: 7 }
    );
    let p = parse(&format!(
        "virtual_server fwmark 7 {{ lb_algo rr\nlb_kind DR\nprotocol TCP\n{RS}\n}}"
    ));
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.message.contains("protocol will be ignored"))
    );
}

#[test]
fn persistence_timeout_without_value_is_360() {
    let p = parse(&format!(
        "virtual_server 192.0.2.1 80 {{ protocol TCP\nlb_algo rr\nlb_kind DR\npersistence_timeout\n{RS}\n}}"
    ));
    assert_eq!(
        p.config.virtual_servers[0].persistence_timeout,
        Some(Duration::from_secs(360))
    );
    let p = parse(&format!(
        "virtual_server 192.0.2.1 80 {{ protocol TCP\nlb_algo rr\nlb_kind DR\npersistence_granularity 255.255.255.0\n{RS}\n}}"
    ));
    assert_eq!(
        p.config.virtual_servers[0].persistence_timeout,
        Some(Duration::from_secs(360))
    );
}

#[test]
fn virtual_server_without_real_servers_is_dropped() {
    let p = parse("virtual_server 192.0.2.1 80 { protocol TCP\nlb_algo rr\nlb_kind NAT }");
    assert!(p.config.virtual_servers.is_empty());
    assert!(
        p.diagnostics
            .iter()
            .any(|d| d.message.contains("has no real servers"))
    );
}

#[test]
fn master_without_priority_is_255_and_backup_is_100() {
    let p = parse(
        "vrrp_instance A { state MASTER\nvirtual_router_id 1 }\nvrrp_instance B { state BACKUP\nvirtual_router_id 2 }\nvrrp_instance C { virtual_router_id 3\npriority 255 }",
    );
    let i = &p.config.vrrp_instances;
    assert_eq!((i[0].priority, i[0].state), (255, VrrpState::Master));
    assert_eq!((i[1].priority, i[1].state), (100, VrrpState::Backup));
    assert_eq!(
        i[2].state,
        VrrpState::Master,
        "no state + priority 255 = MASTER"
    );
    assert!(p.diagnostics.is_empty(), "{}", p.render_diagnostics());
}

#[test]
fn out_of_range_priority_falls_back_to_100_with_a_warning() {
    for bad in ["0", "256", "abc"] {
        let p = parse(&format!(
            "vrrp_instance A {{ virtual_router_id 1\npriority {bad} }}"
        ));
        assert_eq!(p.config.vrrp_instances[0].priority, 100);
        assert_eq!(kinds(&p), vec![(Severity::Warning, DiagKind::InvalidValue)]);
        assert_eq!(p.diagnostics[0].text, bad);
    }
}

#[test]
fn missing_virtual_router_id_drops_the_instance_with_an_error() {
    let p = parse("vrrp_instance A { state MASTER }");
    assert!(p.config.vrrp_instances.is_empty());
    assert!(p.has_errors());
}

#[test]
fn advert_int_rounding_v2_and_v3_and_ipv6_forces_v3() {
    let p = parse(
        "vrrp_instance A { virtual_router_id 1\nadvert_int 1.6 }\nvrrp_instance B { virtual_router_id 2\nversion 3\nadvert_int 0.123 }\nvrrp_instance C { virtual_router_id 3\nvirtual_ipaddress { 2001:db8::1/64 } }",
    );
    let i = &p.config.vrrp_instances;
    assert_eq!(i[0].advert_int, Duration::from_secs(2));
    assert_eq!(i[1].advert_int, Duration::from_millis(120));
    assert_eq!(i[2].version, 3);
    assert_eq!(i[2].virtual_ipaddress[0].prefix_len, 64);
}

#[test]
fn auth_pass_is_truncated_to_8() {
    let p = parse(
        "vrrp_instance A { virtual_router_id 1\nauthentication { auth_type PASS\nauth_pass 123456789 } }",
    );
    assert_eq!(
        p.config.vrrp_instances[0]
            .authentication
            .as_ref()
            .map(|a| a.auth_pass.as_str()),
        Some("12345678")
    );
    assert_eq!(kinds(&p), vec![(Severity::Warning, DiagKind::InvalidValue)]);
}

#[test]
fn nopreempt_is_cleared_for_master_and_strict_means_no_accept() {
    let p = parse(
        "global_defs { vrrp_strict }\nvrrp_instance A { state MASTER\npriority 100\nvirtual_router_id 1\nnopreempt }\nvrrp_instance B { virtual_router_id 2\npriority 255 }",
    );
    let i = &p.config.vrrp_instances;
    assert!(!i[0].nopreempt);
    assert!(i[0].strict_mode);
    assert!(!i[0].accept, "strict and priority != 255: no_accept");
    assert!(i[1].accept, "priority 255 keeps accept");
}

#[test]
fn vips_parse_with_options() {
    let p = parse(
        "vrrp_instance A { virtual_router_id 1\nvirtual_ipaddress {\n203.0.113.100/16 dev eth0 label eth0:1\n192.0.2.5 brd + scope link no_track\nbogus\n} }",
    );
    let v = &p.config.vrrp_instances[0].virtual_ipaddress;
    assert_eq!(v.len(), 2);
    assert_eq!((v[0].address, v[0].prefix_len), (ip("203.0.113.100"), 16));
    assert_eq!(v[0].dev.as_deref(), Some("eth0"));
    assert_eq!(v[0].label.as_deref(), Some("eth0:1"));
    assert_eq!(v[1].prefix_len, 32);
    assert!(v[1].no_track);
    assert_eq!(kinds(&p), vec![(Severity::Warning, DiagKind::InvalidValue)]);
}

#[test]
fn scripts_are_quoted_and_split_with_user_and_group() {
    let p = parse(
        "vrrp_script chk { script \"/usr/bin/check 'a b' c\\td\"\nweight -20 reverse\ninterval 2 }\nvrrp_instance A { virtual_router_id 1\nnotify_master '/bin/x \"q\"' nobody :wheel\ntrack_script { chk weight 254 } }",
    );
    let s = &p.config.vrrp_scripts[0];
    let cmd = s
        .script
        .as_ref()
        .map(|c| c.argv.clone())
        .unwrap_or_default();
    assert_eq!(cmd, vec!["/usr/bin/check", "a b", "c\td"]);
    assert_eq!(
        (s.weight, s.weight_reverse, s.interval, s.timeout),
        (-20, true, Duration::from_secs(2), Duration::from_secs(2))
    );
    let i = &p.config.vrrp_instances[0];
    let n = i
        .notify_master
        .as_ref()
        .map(|n| (n.command.clone(), n.user.clone(), n.group.clone()));
    assert_eq!(
        n,
        Some((
            "/bin/x \"q\"".into(),
            Some("nobody".into()),
            Some("wheel".into())
        ))
    );
    // ±254 is accepted for track_script and coerced to ±253.
    assert_eq!(i.track_scripts[0].weight, Some(253));
    assert!(p.diagnostics.is_empty(), "{}", p.render_diagnostics());
}

#[test]
fn deprecated_aliases() {
    let p = parse(
        "vrrp_track_file f { file /tmp/x }\nglobal_defs { lvs_flush_onstop }\nvirtual_server 192.0.2.1 80 { protocol TCP\nlb_algo sh\nlb_kind TUN type gue port 6080 csum\nreal_server 192.0.2.9 80 { HTTP_GET { url { path /health\nstatus_code 200-299 204 }\nnb_get_retry 4 } } }",
    );
    assert_eq!(p.config.track_files[0].name, "f");
    assert_eq!(p.config.track_files[0].weight, 1);
    assert!(p.config.global_defs.lvs_flush_on_stop);
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.lvs_sched, Scheduler::Sh);
    assert_eq!(
        vs.tunnel.as_ref().map(|t| (t.tunnel_type.as_str(), t.port)),
        Some(("gue", Some(6080)))
    );
    let ck = &vs.real_servers[0].checkers[0];
    assert_eq!(ck.retry, 4);
    assert_eq!(
        ck.delay_before_retry,
        Duration::from_secs(3),
        "HTTP_GET default"
    );
    match &ck.kind {
        CheckerKind::Http(h) => {
            assert_eq!(
                h.urls[0].status_codes,
                vec![
                    StatusRange { min: 200, max: 299 },
                    StatusRange { min: 204, max: 204 }
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        kinds(&p)
            .iter()
            .filter(|k| k.1 == DiagKind::Deprecated)
            .count(),
        3,
        "{}",
        p.render_diagnostics()
    );
}

#[test]
fn checker_timing_is_inherited_vs_rs_checker() {
    let p = parse(
        "virtual_server 192.0.2.1 80 {\nprotocol TCP\nlb_algo rr\nlb_kind NAT\ndelay_loop 10\nconnect_timeout 2\nretry 5\nalpha\n\
         real_server 192.0.2.2 8080 {\nretry 6\nweight 3\nTCP_CHECK { connect_timeout 1 }\nMISC_CHECK { misc_path \"/bin/true\" }\nDNS_CHECK { }\n}\n\
         real_server 192.0.2.3 {\nTCP_CHECK { }\n}\n}",
    );
    let vs = &p.config.virtual_servers[0];
    let rs = &vs.real_servers[0];
    assert_eq!((rs.port, rs.weight), (Some(8080), 3));
    let [tcp, misc, dns] = &rs.checkers[..] else {
        panic!("{:?}", rs.checkers)
    };
    assert_eq!(
        (tcp.connect_timeout, tcp.retry, tcp.delay_loop, tcp.alpha),
        (Duration::from_secs(1), 6, Duration::from_secs(10), true)
    );
    assert_eq!(misc.retry, 6);
    match &misc.kind {
        CheckerKind::Misc(m) => assert_eq!(m.misc_timeout, Duration::from_secs(10)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        (dns.retry, dns.delay_before_retry),
        (6, Duration::from_secs(10))
    );
    let rs2 = &vs.real_servers[1];
    assert_eq!(rs2.port, Some(80), "port defaults to the virtual server's");
    assert_eq!(rs2.checkers[0].retry, 5);
    assert_eq!(rs2.checkers[0].connect_timeout, Duration::from_secs(2));
}

#[test]
fn non_nat_real_server_port_is_reset_and_duplicates_removed() {
    let p = parse(
        "virtual_server 192.0.2.1 80 { protocol TCP\nlb_algo rr\nlb_kind DR\nreal_server 192.0.2.2 81 { }\nreal_server 192.0.2.2 80 { } }",
    );
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.real_servers.len(), 1);
    assert_eq!(vs.real_servers[0].port, Some(80));
    assert_eq!(
        kinds(&p)
            .iter()
            .filter(|k| k.1 == DiagKind::Semantic)
            .count(),
        2
    );
}

#[test]
fn every_checker_type_parses() {
    let p = parse(
        "SSL { ca /etc/ca.pem }\nvirtual_server 192.0.2.1 443 { protocol TCP\nlb_algo rr\nlb_kind NAT\nreal_server 192.0.2.2 443 {\n\
         SSL_GET { url { path / digest 0123456789abcdef0123456789ABCDEF }\nenable_sni\nsni_name example.org }\n\
         SMTP_CHECK { helo_name me.example }\nDNS_CHECK { type aaaa\nname example.org }\n\
         UDP_CHECK { payload 00ff\nrequire_reply 0X\nmax_reply_length 100 }\nPING_CHECK { }\nFILE_CHECK { track_file f\nweight 5 }\nBFD_CHECK { name b }\n} }",
    );
    let kinds_: Vec<&str> = p.config.virtual_servers[0].real_servers[0]
        .checkers
        .iter()
        .map(|c| c.kind.keyword())
        .collect();
    assert_eq!(
        kinds_,
        vec![
            "SSL_GET",
            "SMTP_CHECK",
            "DNS_CHECK",
            "UDP_CHECK",
            "PING_CHECK",
            "FILE_CHECK",
            "BFD_CHECK"
        ]
    );
    assert_eq!(
        p.config.ssl.as_ref().and_then(|s| s.ca.as_deref()),
        Some("/etc/ca.pem")
    );
    // BFD_CHECK is accepted, not supported yet: a note.
    assert_eq!(
        kinds(&p),
        vec![(Severity::Note, DiagKind::Unsupported)],
        "{}",
        p.render_diagnostics()
    );
}

#[test]
fn unsupported_keywords_are_kept_with_a_note() {
    let p = parse(
        "global_defs { enable_snmp_vrrp\nnftables keepalived }\nbfd_instance b { neighbor_ip 192.0.2.1 }\nvrrp_instance A { virtual_router_id 1\nauth_hmac { key 1 ascii:abc } }",
    );
    assert_eq!(p.config.global_defs.unsupported.len(), 2);
    assert_eq!(p.config.unsupported[0].keyword, "bfd_instance");
    assert_eq!(
        p.config.unsupported[0].block.as_ref().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        p.config.vrrp_instances[0].unsupported[0].keyword,
        "auth_hmac"
    );
    assert!(
        kinds(&p)
            .iter()
            .all(|k| *k == (Severity::Note, DiagKind::Unsupported))
    );
    assert!(!p.has_errors());
}

#[test]
fn unknown_keywords_warn_with_location_and_suggestion() {
    let p = parse("global_defs {\n  router_idd x\n}\nvrrp_instnce A {\n}");
    assert_eq!(p.diagnostics.len(), 2);
    let d = &p.diagnostics[0];
    assert_eq!((d.line, d.column, d.text.as_str()), (2, 3, "router_idd"));
    assert_eq!(d.help.as_deref(), Some("did you mean `router_id`?"));
    assert_eq!(
        p.diagnostics[1].help.as_deref(),
        Some("did you mean `vrrp_instance`?")
    );
}

#[test]
fn brace_errors_are_reported() {
    let p = parse("global_defs {\nrouter_id x\n}\n}\nvrrp_instance A {\nvirtual_router_id 1\n");
    assert_eq!(
        kinds(&p).iter().filter(|k| k.1 == DiagKind::Syntax).count(),
        2,
        "{}",
        p.render_diagnostics()
    );
    // The unclosed block is still interpreted.
    assert_eq!(p.config.vrrp_instances.len(), 1);
}

#[test]
fn sync_groups_and_vs_groups() {
    let p = parse(
        "vrrp_instance A { virtual_router_id 1 }\nvrrp_sync_group G { group { A B } }\n\
         virtual_server_group W { 192.0.2.1-10 80\n198.51.100.0/30 443\nfwmark 5 inet6\n2001:db8::1 53 }\n\
         virtual_server group W { protocol TCP\nlb_algo rr\nlb_kind DR\nreal_server 203.0.113.1 { } }",
    );
    assert_eq!(p.config.vrrp_sync_groups[0].group, vec!["A"]);
    let e = &p.config.virtual_server_groups[0].entries;
    assert_eq!(e.len(), 4);
    assert_eq!(
        e[0],
        VsgEntry::Range {
            start: ip("192.0.2.1"),
            end: ip("192.0.2.10"),
            port: Some(80)
        }
    );
    assert_eq!(
        e[2],
        VsgEntry::Fwmark {
            mark: 5,
            family: Some(IpFamily::Inet6)
        }
    );
    assert_eq!(
        kinds(&p),
        vec![(Severity::Warning, DiagKind::Semantic)],
        "{}",
        p.render_diagnostics()
    );
}

#[test]
fn parse_file_with_includes_through_memfs() {
    let mut fs = MemFs::new();
    fs.add("/etc/keepalived/keepalived.conf", "include conf.d/*.conf\n");
    fs.add(
        "/etc/keepalived/conf.d/10-vi.conf",
        "vrrp_instance A {\n virtual_router_id 1\n bogus_kw 1\n}\n",
    );
    let p = match parse_file_with(
        &fs,
        Path::new("/etc/keepalived/keepalived.conf"),
        &Options::default(),
    ) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(p.config.vrrp_instances.len(), 1);
    let d = &p.diagnostics[0];
    assert_eq!(
        (&*d.file, d.line, d.column),
        ("/etc/keepalived/conf.d/10-vi.conf", 3, 2)
    );
    assert!(parse_file_with(&fs, Path::new("/nope.conf"), &Options::default()).is_err());
}
