//! Tier `kernel` (inside the VM), issue 9 tests 1 to 4 and the sync daemon's lifecycle:
//! hagroupd as an LVS director end to end, in namespaces built by `support/director_lab.rs`
//! (directors sharing the VIP 192.0.2.100 by VRRP, real servers with HTTP on 8080 and an echo
//! server on 9000, a client; see that file for the addresses).
//!
//! Every wait is a bounded polling loop with a generous bound (the emulated VM is slow): the
//! assertions are on the state reached, never on how fast.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

#[path = "support/director_lab.rs"]
mod lab;

use lab::*;
use std::time::Instant;
use support::{Daemon, log_state};

fn wait_state(d: &Daemon, state: &str) {
    wait_for(&format!("{} {state}", d.name), || {
        log_state(d).as_deref() == Some(state)
    });
}

#[allow(dead_code)]
fn write_and_reload(d: &Daemon, conf: &str) {
    std::fs::write(&d.conf, conf).unwrap();
    d.signal("-HUP");
}

#[allow(dead_code)]
fn count(d: &Daemon, needle: &str) -> usize {
    d.log_text().matches(needle).count()
}

/// Issue 9 test 1: two directors, two real servers; the client's requests are spread over both
/// (rr); a real server whose HTTP server stops leaves the table of both directors and traffic
/// goes on through the other; it comes back after one good check.
fn spread_and_health(mode: Mode, tag: &str, test: &str) {
    let t0 = Instant::now();
    let lab = DirectorLab::new(tag, mode, 2, 2);
    let mut h1 = lab.httpd(1);
    let _h2 = lab.httpd(2);
    let both = [(1, 1), (2, 1)];
    let d1 = lab.start(0, "d1", &DirectorConf::new(mode, 150, &both).render(), &[]);
    let d2 = lab.start(1, "d2", &DirectorConf::new(mode, 100, &both).render(), &[]);
    step(t0, test, "lab built, directors started");
    wait_state(&d1, "MASTER");
    wait_state(&d2, "BACKUP");
    for d in &lab.directors {
        wait_for("both real servers in the table", || {
            http_dests(d) == dests(mode, &both)
        });
    }
    step(t0, test, "d1 master, tables programmed");
    // The HTTP servers may still be starting (python on the VM's file system).
    wait_for("both real servers answer through the VIP", || {
        let s = spread(&lab.client, 4);
        s.contains_key("rs1") && s.contains_key("rs2")
    });
    // rr: consecutive requests alternate.
    let s = spread(&lab.client, 10);
    assert_eq!(
        s.values().sum::<usize>(),
        10,
        "every request answered: {s:?}"
    );
    assert_eq!(s.get("rs1"), Some(&5), "rr spreads evenly: {s:?}");
    assert_eq!(s.get("rs2"), Some(&5), "rr spreads evenly: {s:?}");
    step(t0, test, "requests spread over rs1 and rs2");

    h1.stop();
    for d in &lab.directors {
        wait_for("rs1 removed after its failed checks", || {
            http_dests(d) == dests(mode, &[(2, 1)])
        });
    }
    let s = spread(&lab.client, 6);
    assert_eq!(s.get("rs2"), Some(&6), "traffic continues on rs2: {s:?}");
    step(t0, test, "rs1 removed, traffic on rs2");

    let _h1 = lab.httpd(1);
    for d in &lab.directors {
        wait_for("rs1 back after a good check", || {
            http_dests(d) == dests(mode, &both)
        });
    }
    wait_for("rs1 answers again", || {
        spread(&lab.client, 4).contains_key("rs1")
    });
    step(t0, test, "rs1 back");
    assert_eq!(log_state(&d1).as_deref(), Some("MASTER"), "no failover");
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_dr_requests_spread_and_follow_health() {
    spread_and_health(Mode::Dr, "e2edr", "kernel_e2e_dr");
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_nat_requests_spread_and_follow_health() {
    spread_and_health(Mode::Nat, "e2enat", "kernel_e2e_nat");
}
