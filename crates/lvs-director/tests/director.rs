//! Table tests of the director core: configuration to services, health to the table,
//! ownership, reload.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use healthcheck::{Event, Outcome, PoolOptions};
use ipvs_netlink::{Desired, Destination, Forward, Op, Service, ServiceKey};
use lvs_director::{ConvertError, Director, DirectorConfig};

fn config(text: &str) -> DirectorConfig {
    let parsed = kconf_parser::parse_str(text, &kconf_parser::Options::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    DirectorConfig::from_kconf(&parsed.config).expect("converts")
}

fn director(text: &str) -> Director {
    Director::new(config(text), 7, Duration::ZERO, PoolOptions::default())
}

fn lines(ops: &[Op]) -> Vec<String> {
    ops.iter().map(ToString::to_string).collect()
}

/// Runs every check due up to `until`, with `outcome(real server)` as each result.
fn run(d: &mut Director, from: Duration, until: Duration, outcome: impl Fn(SocketAddr) -> Outcome) {
    let mut now = from;
    while let Some(t) = d.poll_timeout() {
        if t > until {
            break;
        }
        now = now.max(t);
        while let Some(due) = d.poll_due(now) {
            let (_, addr) = d.checker(due.id).unwrap();
            d.handle_result(now, due.id, outcome(addr));
        }
    }
    while d.poll_event().is_some() {}
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

const NAT: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 5
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.1 8080 {
        weight 3
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
    real_server 198.51.100.2 8080 {
        weight 1
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
";

#[test]
fn every_kind_of_virtual_server_becomes_services() {
    let d = director(
        "
virtual_server_group web {
    192.0.2.10-11 80
    fwmark 7
}
virtual_server group web {
    lvs_sched wrr
    lvs_method DR
    protocol TCP
    real_server 198.51.100.3 80 { weight 2 }
}
virtual_server 192.0.2.1 443 {
    lvs_sched sh
    lvs_method TUN type gue port 6080 csum
    protocol TCP
    persistence_timeout 300
    persistence_granularity 255.255.255.0
    sh-port
    real_server 198.51.100.1 8443 {
        weight 5
        uthreshold 100
        lthreshold 10
    }
}
virtual_server fwmark 9 {
    lvs_sched wlc
    lvs_method NAT
    ip_family inet6
    real_server 2001:db8::1 80 { }
}
virtual_server 192.0.2.2 53 {
    lvs_sched rr
    lvs_method NAT
    protocol UDP
    ops
    real_server 198.51.100.9 53 { weight 0 }
}
",
    );
    let text = lines(&d.reconcile(&Desired::default()));
    assert_eq!(
        text,
        [
            "-A -t 192.0.2.10:80 -s wrr",
            "-a -t 192.0.2.10:80 -r 198.51.100.3:80 -g -w 2",
            "-A -t 192.0.2.11:80 -s wrr",
            "-a -t 192.0.2.11:80 -r 198.51.100.3:80 -g -w 2",
            "-A -f 7 -s wrr",
            "-a -f 7 -r 198.51.100.3:0 -g -w 2",
            "-A -t 192.0.2.1:443 -s sh -p 300 -M 255.255.255.0 -b sh-port",
            "-a -t 192.0.2.1:443 -r 198.51.100.1:443 -i -w 5 --tun-type gue --tun-port 6080 --tun-csum",
            "-A -f 9 -6 -s wlc",
            "-a -f 9 -r [2001:db8::1]:80 -m -w 1",
            "-A -u 192.0.2.2:53 -s rr -o",
            "-a -u 192.0.2.2:53 -r 198.51.100.9:53 -m -w 0",
        ],
        "{text:#?}"
    );
    let tun = &d.desired().services[3].1[0];
    assert_eq!((tun.upper_threshold, tun.lower_threshold), (100, 10));
}

#[test]
fn bad_configurations_are_refused_with_a_reason() {
    let parse = |t: &str| {
        let p = kconf_parser::parse_str(t, &kconf_parser::Options::default());
        DirectorConfig::from_kconf(&p.config)
    };
    assert_eq!(
        parse("virtual_server group nope { protocol TCP\n real_server 198.51.100.1 80 { } }"),
        Err(ConvertError::UnknownGroup("nope".into()))
    );
    let dup = "virtual_server 192.0.2.1 80 { protocol TCP\n real_server 198.51.100.1 80 { } }\n";
    assert!(matches!(
        parse(&format!("{dup}{dup}")),
        Err(ConvertError::DuplicateService(s)) if s.contains("192.0.2.1:80")
    ));
    assert!(matches!(
        parse(
            "virtual_server 192.0.2.1 80 { protocol TCP\n persistence_timeout 30\n persistence_granularity 40\n real_server 198.51.100.1 80 { } }"
        ),
        Err(ConvertError::BadGranularity { .. })
    ));
}

#[test]
fn a_failed_real_server_leaves_the_table_and_returns_after_one_good_check() {
    let mut d = director(NAT);
    let start = d.desired();
    assert_eq!(
        start.services[0].1.len(),
        2,
        "both in before the first check"
    );
    assert_eq!(start.services[0].1[0].forward, Forward::Masq);
    let down = sa("198.51.100.2:8080");
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |a| {
        if a == down {
            Outcome::Down
        } else {
            Outcome::Up
        }
    });
    let ops = lines(&plan_from(&start, &d));
    assert_eq!(ops, ["-d -t 192.0.2.1:80 -r 198.51.100.2:8080"]);
    let after_down = d.desired();
    run(
        &mut d,
        Duration::from_secs(2),
        Duration::from_secs(8),
        |_| Outcome::Up,
    );
    assert_eq!(
        lines(&plan_from(&after_down, &d)),
        ["-a -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 1"]
    );
    assert_eq!(d.desired(), start);
}

fn plan_from(before: &Desired, d: &Director) -> Vec<Op> {
    ipvs_netlink::plan(&d.desired(), before)
}

#[test]
fn inhibit_on_failure_keeps_the_server_at_weight_zero() {
    let mut d = director(&NAT.replace("weight 1\n", "weight 1\n inhibit_on_failure\n"));
    let start = d.desired();
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |_| {
        Outcome::Down
    });
    assert_eq!(
        lines(&plan_from(&start, &d)),
        [
            "-d -t 192.0.2.1:80 -r 198.51.100.1:8080",
            "-e -t 192.0.2.1:80 -r 198.51.100.2:8080 -m -w 0"
        ]
    );
}

#[test]
fn alpha_servers_enter_after_their_first_good_check() {
    let mut d = director(&NAT.replace("retry 0", "retry 0\n alpha"));
    assert!(
        d.desired().services[0].1.is_empty(),
        "alpha: down until checked"
    );
    let up = sa("198.51.100.1:8080");
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |a| {
        if a == up { Outcome::Up } else { Outcome::Down }
    });
    assert_eq!(
        d.desired().services[0].1,
        vec![dest("198.51.100.1", 8080, 3)]
    );
}

fn dest(addr: &str, port: u16, weight: u32) -> Destination {
    let mut d = Destination::new(addr.parse().unwrap(), port, Forward::Masq);
    d.weight = weight;
    d
}

#[test]
fn dynamic_weights_follow_misc_dynamic() {
    let mut d = director(
        "
virtual_server 192.0.2.1 80 {
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.1 80 {
        weight 10
        MISC_CHECK {
            misc_path \"/bin/true\"
            misc_dynamic
            warmup 0
        }
    }
}",
    );
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |_| {
        Outcome::UpWithWeight(5)
    });
    assert_eq!(
        d.desired().services[0].1,
        vec![dest("198.51.100.1", 80, 15)]
    );
}

#[test]
fn quorum_loss_swaps_in_the_sorry_server_and_back() {
    let text = NAT.replace(
        "protocol TCP\n",
        "protocol TCP\n quorum 3\n sorry_server 203.0.113.9 80\n",
    );
    let mut d = director(&text);
    let start = d.desired();
    assert_eq!(start.services[0].1.len(), 2, "quorum 3 of 4: up at start");
    let heavy = sa("198.51.100.1:8080");
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |a| {
        if a == heavy {
            Outcome::Down
        } else {
            Outcome::Up
        }
    });
    assert_eq!(d.pool().quorum_up(0), Some(false));
    assert_eq!(d.desired().services[0].1, vec![dest("203.0.113.9", 80, 1)]);
    run(
        &mut d,
        Duration::from_secs(2),
        Duration::from_secs(8),
        |_| Outcome::Up,
    );
    assert_eq!(d.desired(), start);
}

#[test]
fn startup_adopts_matching_services_and_leaves_foreign_ones_alone() {
    let d = director(NAT);
    let mut kernel = d.desired();
    let foreign = (
        Service::new(ServiceKey::tcp("203.0.113.1".parse().unwrap(), 25), "wlc"),
        vec![dest("203.0.113.2", 25, 1)],
    );
    kernel.services.push(foreign.clone());
    assert!(
        d.reconcile(&kernel).is_empty(),
        "a matching table is adopted"
    );
    // A stale weight and an extra real server in an owned service are corrected.
    kernel.services[0].1[0].weight = 9;
    kernel.services[0].1.push(dest("198.51.100.7", 8080, 1));
    assert_eq!(
        lines(&d.reconcile(&kernel)),
        [
            "-d -t 192.0.2.1:80 -r 198.51.100.7:8080",
            "-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3"
        ]
    );
    // On stop only owned services go.
    assert_eq!(lines(&d.release(&kernel)), ["-D -t 192.0.2.1:80"]);
}

#[test]
fn a_reload_without_change_plans_nothing_and_keeps_health_state() {
    let mut d = director(NAT);
    let down = sa("198.51.100.2:8080");
    run(&mut d, Duration::ZERO, Duration::from_secs(2), |a| {
        if a == down {
            Outcome::Down
        } else {
            Outcome::Up
        }
    });
    let kernel = d.desired();
    let d = d.reload(config(NAT), 8, Duration::from_secs(3));
    assert!(d.reconcile(&kernel).is_empty());
    assert_eq!(
        d.desired().services[0].1.len(),
        1,
        "the failed server stays out"
    );
}

#[test]
fn a_reload_removing_a_service_deletes_it_once_then_forgets_it() {
    let two = format!("{NAT}{}", NAT.replace("192.0.2.1 80", "192.0.2.5 80"));
    let mut d = director(&two);
    let kernel = d.desired();
    d = d.reload(config(NAT), 1, Duration::ZERO);
    assert_eq!(lines(&d.reconcile(&kernel)), ["-D -t 192.0.2.5:80"]);
    d.forget_retired();
    assert!(!d.owns(&ServiceKey::tcp("192.0.2.5".parse().unwrap(), 80)));
    assert!(
        d.reconcile(&kernel).is_empty(),
        "no longer owned: left alone"
    );
}

#[test]
fn reload_changes_are_exactly_the_plan() {
    let d = director(NAT);
    let kernel = d.desired();
    let changed = NAT.replace("weight 3", "weight 4").replace(
        "    real_server 198.51.100.2 8080 {\n        weight 1\n        TCP_CHECK {
            retry 0
            warmup 0
        }\n    }\n",
        "    real_server 198.51.100.3 8080 { }\n",
    );
    let d = d.reload(config(&changed), 1, Duration::from_secs(1));
    assert_eq!(
        lines(&d.reconcile(&kernel)),
        [
            "-d -t 192.0.2.1:80 -r 198.51.100.2:8080",
            "-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 4",
            "-a -t 192.0.2.1:80 -r 198.51.100.3:8080 -m -w 1"
        ]
    );
}

#[test]
fn health_events_name_the_real_server() {
    let mut d = director(NAT);
    let mut seen = Vec::new();
    let now = d.poll_timeout().unwrap();
    while let Some(due) = d.poll_due(now) {
        d.handle_result(now, due.id, Outcome::Down);
    }
    while let Some(ev) = d.poll_event() {
        if let Event::RealServerDown { rs, .. } = ev {
            seen.push(rs.ip());
        }
    }
    seen.sort();
    let want: Vec<IpAddr> = vec![
        "198.51.100.1".parse().unwrap(),
        "198.51.100.2".parse().unwrap(),
    ];
    assert_eq!(seen, want);
    assert!(
        d.real_servers()
            .iter()
            .all(|r| !r.alive && r.ipvs_weight.is_none())
    );
}

#[test]
fn http_checker_options_reach_the_probes() {
    let text = "SSL {\n certificate /etc/hagroup/client.pem\n key /etc/hagroup/client.key\n ca /etc/hagroup/ca.pem\n}\n\
        virtual_server 192.0.2.1 443 { protocol TCP\n real_server 198.51.100.1 443 {\n\
        SSL_GET {\n url {\n path /health\n regex \"status: (ok|healthy)\"\n regex_no_match\n }\n tls_compliant\n bind_if eth1\n }\n\
        HTTP_GET {\n url {\n path /\n regex ^OK\n }\n }\n } }";
    let c = config(text);
    let checkers = &c.health[0].real_servers[0].checkers;
    let healthcheck::CheckerKind::Http(ssl) = &checkers[0].kind else {
        panic!("SSL_GET expected: {:?}", checkers[0].kind);
    };
    let re = ssl.urls[0].regex.as_ref().unwrap();
    assert_eq!(re.pattern(), "status: (ok|healthy)");
    assert!(re.no_match());
    let tls = ssl.tls.as_ref().unwrap();
    assert!(tls.tls_compliant);
    let cert = tls.client_cert.as_ref().unwrap();
    assert_eq!(
        cert.certificate,
        std::path::Path::new("/etc/hagroup/client.pem")
    );
    assert_eq!(cert.key, std::path::Path::new("/etc/hagroup/client.key"));
    // keepalived never fails a handshake on the CA: neither do we.
    assert_eq!(tls.verify_ca, None);
    assert_eq!(checkers[0].connect.bind_if.as_deref(), Some("eth1"));
    let healthcheck::CheckerKind::Http(http) = &checkers[1].kind else {
        panic!("HTTP_GET expected");
    };
    assert!(http.tls.is_none());
    assert!(!http.urls[0].regex.as_ref().unwrap().no_match());
    assert!(http.urls[0].regex.as_ref().unwrap().accepts(b"OK fine"));

    // A regex that does not compile, and an encrypted key, are refused with the reason.
    let parse = |t: &str| {
        let p = kconf_parser::parse_str(t, &kconf_parser::Options::default());
        DirectorConfig::from_kconf(&p.config)
    };
    let bad_re = "virtual_server 192.0.2.1 80 { protocol TCP\n real_server 198.51.100.1 80 {\n\
        HTTP_GET {\n url {\n path /\n regex \"(open\"\n }\n }\n } }";
    assert!(matches!(
        parse(bad_re),
        Err(ConvertError::BadChecker { checker: "HTTP_GET", why, .. }) if why.contains("regex")
    ));
    let encrypted = "SSL {\n certificate /c.pem\n key /c.key\n password secret\n}\n\
        virtual_server 192.0.2.1 443 { protocol TCP\n real_server 198.51.100.1 443 {\n\
        SSL_GET {\n url {\n path /\n }\n }\n } }";
    assert!(matches!(
        parse(encrypted),
        Err(ConvertError::BadChecker { checker: "SSL_GET", why, .. }) if why.contains("password")
    ));
}

#[test]
fn misc_check_users_follow_keepalived_defaults() {
    let misc_user = |text: &str| {
        let c = config(text);
        let healthcheck::CheckerKind::Misc(m) = &c.health[0].real_servers[0].checkers[0].kind
        else {
            panic!("MISC_CHECK expected");
        };
        m.run_as.clone().unwrap()
    };
    let vs = |checker_user: &str| {
        format!(
            "virtual_server 192.0.2.1 80 {{ protocol TCP\n real_server 198.51.100.1 80 {{\n\
             MISC_CHECK {{\n misc_path /bin/true\n {checker_user}\n }}\n }} }}"
        )
    };
    // Neither: keepalived_script if it exists.
    let d = misc_user(&vs(""));
    assert_eq!((d.user.as_str(), d.if_exists), ("keepalived_script", true));
    // global_defs script_user.
    let g = misc_user(&format!(
        "global_defs {{\n script_user nobody nogroup\n}}\n{}",
        vs("")
    ));
    assert_eq!(
        (g.user.as_str(), g.group.as_deref(), g.if_exists),
        ("nobody", Some("nogroup"), false)
    );
    // The checker's own user wins.
    let own = misc_user(&format!(
        "global_defs {{\n script_user nobody\n}}\n{}",
        vs("user daemon")
    ));
    assert_eq!((own.user.as_str(), own.group), ("daemon", None));
}

#[test]
fn ha_suspend_skips_checks_while_the_virtual_address_is_not_local() {
    let text = NAT
        .replace("protocol TCP", "protocol TCP\n    ha_suspend")
        .replace("retry 0", "retry 0\n alpha");
    let mut d = director(&text);
    let vip: IpAddr = "192.0.2.1".parse().unwrap();
    let other: IpAddr = "203.0.113.9".parse().unwrap();
    // Not local: no check runs, so the alpha servers never enter.
    assert_eq!(
        d.set_local_addresses(&[other].into_iter().collect()),
        vec![(0, false)]
    );
    run(&mut d, Duration::ZERO, Duration::from_secs(30), |_| {
        Outcome::Up
    });
    assert!(
        d.desired().services[0].1.is_empty(),
        "checks were suspended"
    );
    // The address arrives: the checks run and the servers enter.
    assert_eq!(
        d.set_local_addresses(&[other, vip].into_iter().collect()),
        vec![(0, true)]
    );
    run(
        &mut d,
        Duration::from_secs(30),
        Duration::from_secs(60),
        |_| Outcome::Up,
    );
    assert_eq!(d.desired().services[0].1.len(), 2);
    // Gone again: failures are not even looked at.
    assert_eq!(
        d.set_local_addresses(&std::collections::HashSet::new()),
        vec![(0, false)]
    );
    run(
        &mut d,
        Duration::from_secs(60),
        Duration::from_secs(90),
        |_| Outcome::Down,
    );
    assert_eq!(d.desired().services[0].1.len(), 2, "state frozen");
    // Without ha_suspend the address does not matter.
    let mut plain = director(&NAT.replace("retry 0", "retry 0\n alpha"));
    assert!(
        plain
            .set_local_addresses(&std::collections::HashSet::new())
            .is_empty()
    );
    run(&mut plain, Duration::ZERO, Duration::from_secs(30), |_| {
        Outcome::Up
    });
    assert_eq!(plain.desired().services[0].1.len(), 2);
}
