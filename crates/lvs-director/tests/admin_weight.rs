//! Administrative weights (`hagroupctl drain` / `weight`) in the pure director: drain to 0,
//! health results do not undo it, reset gives the health checks back the say, reloads keep it
//! while the real server exists.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Duration;

use healthcheck::{Outcome, PoolOptions};
use ipvs_netlink::{Desired, Protocol};
use lvs_director::{
    AdminWeightError, Director, DirectorConfig, RealServerSelector, ServiceSelector,
};

const NAT: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 5
    lvs_sched wrr
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
        inhibit_on_failure
        TCP_CHECK {
            retry 0
            warmup 0
        }
    }
}
virtual_server fwmark 7 {
    lvs_sched rr
    lvs_method DR
    real_server 198.51.100.3 80 { weight 2 }
    real_server 198.51.100.3 81 { weight 2 }
}
";

fn config(text: &str) -> DirectorConfig {
    let parsed = kconf_parser::parse_str(text, &kconf_parser::Options::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    DirectorConfig::from_kconf(&parsed.config).expect("converts")
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn tcp(vs: &str, rs: &str) -> RealServerSelector {
    let rs = sa(rs);
    RealServerSelector {
        service: ServiceSelector::Addr {
            protocol: Protocol::Tcp,
            addr: sa(vs),
        },
        addr: rs.ip(),
        port: Some(rs.port()),
    }
}

/// Runs every check due in `[from, until]` with `outcome(real server)`.
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

/// The weight of `rs` under the first service, `None` when absent.
fn weight(d: &Director, rs: &str) -> Option<u32> {
    let rs = sa(rs);
    d.desired().services[0]
        .1
        .iter()
        .find(|x| x.addr == rs.ip() && x.port == rs.port())
        .map(|x| x.weight)
}

fn lines(d: &Director, kernel: &Desired) -> Vec<String> {
    d.reconcile(kernel)
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn drain_sets_weight_zero_and_passing_checks_do_not_restore_it() {
    let mut d = Director::new(config(NAT), 1, Duration::ZERO, PoolOptions::default());
    run(&mut d, Duration::ZERO, Duration::from_secs(6), |_| {
        Outcome::Up
    });
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(3));
    let kernel = d.desired();

    let change = d
        .set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.1:8080"), Some(0))
        .unwrap();
    assert_eq!(change.rs, sa("198.51.100.1:8080"));
    assert_eq!((change.before, change.after), (None, Some(0)));
    assert_eq!(
        weight(&d, "198.51.100.1:8080"),
        Some(0),
        "drained, still in the table"
    );
    assert_eq!(
        lines(&d, &kernel),
        ["-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 0"]
    );
    let drained = d.desired();

    // Many passing checks later, still drained: nothing to do.
    run(
        &mut d,
        Duration::from_secs(6),
        Duration::from_secs(60),
        |_| Outcome::Up,
    );
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(0));
    assert!(lines(&d, &drained).is_empty());

    let status = d.real_servers();
    let s = status
        .iter()
        .find(|s| s.addr == sa("198.51.100.1:8080"))
        .unwrap();
    assert!(s.alive);
    assert_eq!(
        (s.weight, s.ipvs_weight, s.admin_weight),
        (3, Some(0), Some(0))
    );

    // Reset: the health-decided weight again.
    let change = d
        .set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.1:8080"), None)
        .unwrap();
    assert_eq!((change.before, change.after), (Some(0), None));
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(3));
    assert_eq!(
        lines(&d, &drained),
        ["-e -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3"]
    );
}

#[test]
fn an_admin_weight_never_puts_a_failed_server_into_service() {
    let mut d = Director::new(config(NAT), 1, Duration::ZERO, PoolOptions::default());
    d.set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.1:8080"), Some(9))
        .unwrap();
    d.set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.2:8080"), Some(9))
        .unwrap();
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(9));
    run(&mut d, Duration::ZERO, Duration::from_secs(6), |_| {
        Outcome::Down
    });
    assert_eq!(weight(&d, "198.51.100.1:8080"), None, "failed: removed");
    assert_eq!(
        weight(&d, "198.51.100.2:8080"),
        Some(0),
        "failed with inhibit_on_failure: weight 0"
    );
    // Back up: the administrative weight applies again.
    run(
        &mut d,
        Duration::from_secs(6),
        Duration::from_secs(12),
        |_| Outcome::Up,
    );
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(9));
    assert_eq!(weight(&d, "198.51.100.2:8080"), Some(9));
}

#[test]
fn admin_weights_survive_a_reload_while_the_real_server_exists() {
    let mut d = Director::new(config(NAT), 1, Duration::ZERO, PoolOptions::default());
    run(&mut d, Duration::ZERO, Duration::from_secs(6), |_| {
        Outcome::Up
    });
    d.set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.1:8080"), Some(0))
        .unwrap();
    d.set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.2:8080"), Some(5))
        .unwrap();
    let kernel = d.desired();

    // Same configuration: nothing to do, both kept.
    let d = d.reload(config(NAT), 2, Duration::from_secs(7));
    assert!(lines(&d, &kernel).is_empty());
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(0));

    // 198.51.100.2 removed, then added back: its administrative weight went with it, while
    // 198.51.100.1 (a changed weight in the configuration) keeps its drain.
    let without = NAT.replacen("weight 3", "weight 4", 1).replace(
        "real_server 198.51.100.2 8080",
        "real_server 198.51.100.4 8080",
    );
    let d = d.reload(config(&without), 3, Duration::from_secs(8));
    assert_eq!(weight(&d, "198.51.100.1:8080"), Some(0));
    let d = d.reload(config(NAT), 4, Duration::from_secs(9));
    let status = d.real_servers();
    let by = |a: &str| {
        status
            .iter()
            .find(|s| s.addr == sa(a))
            .unwrap()
            .admin_weight
    };
    assert_eq!(by("198.51.100.1:8080"), Some(0));
    assert_eq!(by("198.51.100.2:8080"), None);
}

#[test]
fn real_servers_are_named_like_ipvsadm_and_mistakes_are_reported() {
    let mut d = Director::new(config(NAT), 1, Duration::ZERO, PoolOptions::default());
    // fwmark, by address and port.
    let fw = |port| RealServerSelector {
        service: ServiceSelector::FwMark(7),
        addr: "198.51.100.3".parse().unwrap(),
        port,
    };
    let change = d.set_admin_weight(&fw(Some(81)), Some(0)).unwrap();
    assert_eq!(change.vs, "fwmark 7");
    let vs = d.virtual_servers();
    assert_eq!(vs.len(), 2);
    assert!(vs[0].quorum_up);
    assert_eq!(vs[1].real_servers[1].admin_weight, Some(0));
    assert_eq!(vs[1].real_servers[0].admin_weight, None);
    // Without the port the address is ambiguous here.
    assert!(matches!(
        d.set_admin_weight(&fw(None), Some(0)),
        Err(AdminWeightError::Ambiguous { .. })
    ));
    // Address alone is enough when unique.
    let mut one = tcp("192.0.2.1:80", "198.51.100.2:8080");
    one.port = None;
    assert_eq!(
        d.set_admin_weight(&one, Some(2)).unwrap().rs,
        sa("198.51.100.2:8080")
    );
    // Wrong protocol, wrong port, unknown real server, out of range.
    let mut udp = tcp("192.0.2.1:80", "198.51.100.1:8080");
    udp.service = ServiceSelector::Addr {
        protocol: Protocol::Udp,
        addr: sa("192.0.2.1:80"),
    };
    assert!(matches!(
        d.set_admin_weight(&udp, Some(0)),
        Err(AdminWeightError::NoService(_))
    ));
    let e = d
        .set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.9:8080"), Some(0))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "virtual server 192.0.2.1:80 TCP has no real server 198.51.100.9:8080"
    );
    assert!(matches!(
        d.set_admin_weight(&tcp("192.0.2.1:80", "198.51.100.1:8080"), Some(u32::MAX)),
        Err(AdminWeightError::OutOfRange(_))
    ));
}
