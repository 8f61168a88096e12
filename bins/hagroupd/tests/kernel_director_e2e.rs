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
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use support::{Daemon, log_state};

fn wait_state(d: &Daemon, state: &str) {
    wait_for(&format!("{} {state}", d.name), || {
        log_state(d).as_deref() == Some(state)
    });
}

fn write_and_reload(d: &Daemon, conf: &str) {
    std::fs::write(&d.conf, conf).unwrap();
    d.signal("-HUP");
}

fn count(d: &Daemon, needle: &str) -> usize {
    d.log_text().matches(needle).count()
}

/// The HTTP service's connection counter once it counts the requests made so far (the kernel
/// folds its per-CPU counters in every 2 s).
fn counted_conns(n: &netns_lab::Netns) -> u64 {
    let mut conns = 0;
    wait_for("the service's connection counter", || {
        conns = service_conns(n, HTTP).unwrap_or(0);
        conns >= 1
    });
    conns
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
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

/// Issue 9 test 2: the client keeps requesting while the master director is killed (`kill -9`
/// and its link down: the node is gone); requests go on through the new master, and a TCP
/// connection established before the failover (idle since) still works after it because
/// `lvs_sync_daemon` synced it to the backup's connection table.
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_failover_under_load_keeps_established_connections() {
    const T: &str = "kernel_e2e_failover";
    let t0 = Instant::now();
    let mode = Mode::Dr;
    let lab = DirectorLab::new("e2efo", mode, 2, 2);
    let _h1 = lab.httpd(1);
    let _h2 = lab.httpd(2);
    lab.echo_server(1);
    let both = [(1, 1), (2, 1)];
    let conf = |priority| {
        let mut c = DirectorConf::new(mode, priority, &both);
        c.echo = true;
        c.global = "    lvs_sync_daemon eth0 VI_1".into();
        c.render()
    };
    let mut d1 = lab.start(0, "d1", &conf(150), &[]);
    let d2 = lab.start(1, "d2", &conf(100), &[]);
    let (n1, n2) = (&lab.directors[0], &lab.directors[1]);
    wait_state(&d1, "MASTER");
    wait_state(&d2, "BACKUP");
    wait_for("the master sync daemon on d1", || {
        sync_daemons(n1) == ["master 51"]
    });
    wait_for("the backup sync daemon on d2", || {
        sync_daemons(n2) == ["backup 51"]
    });
    for d in &lab.directors {
        wait_for("both real servers in the table", || {
            http_dests(d) == dests(mode, &both)
        });
    }
    wait_for("requests answered through the VIP", || {
        !get(&lab.client).is_empty()
    });
    step(t0, T, "d1 master with the master sync daemon, d2 backup");

    // A connection established through d1, then idle.
    let mut conn = None;
    wait_for("an echo connection through the VIP", || {
        conn = connect_in(&lab.client, ECHO);
        conn.is_some()
    });
    let conn = conn.unwrap();
    assert_eq!(echo(&conn, "before", Duration::from_secs(10)), "before");
    let rs1_echo = format!("{}:9000", rs_addr(mode, 1));
    wait_for("the connection synced to d2's connection table", || {
        connections(n2, ECHO)
            .iter()
            .any(|c| c.starts_with("ESTABLISHED") && c.ends_with(&rs1_echo))
    });
    step(t0, T, "echo connection established and synced");

    // Load: the client requests all along.
    let stop = Arc::new(AtomicBool::new(false));
    // Stops the load also when an assertion fails.
    let _stop_load = StopOnDrop(Arc::clone(&stop));
    let answered = Arc::new(AtomicUsize::new(0));
    let load = {
        let (stop, answered, client) =
            (Arc::clone(&stop), Arc::clone(&answered), lab.client.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if !get(&client).is_empty() {
                    answered.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
    };
    wait_for("requests under load", || {
        answered.load(Ordering::Relaxed) >= 3
    });
    d1.kill();
    n1.ip(&["link", "set", "eth0", "down"]).unwrap();
    step(t0, T, "d1 killed");
    wait_state(&d2, "MASTER");
    let at_failover = answered.load(Ordering::Relaxed);
    wait_for("requests answered through the new master", || {
        answered.load(Ordering::Relaxed) >= at_failover + 3
    });
    step(t0, T, "d2 master, requests go on");
    assert_eq!(
        echo(&conn, "after", Duration::from_secs(15)),
        "after",
        "the established connection survives the failover"
    );
    assert!(
        connections(n2, ECHO)
            .iter()
            .any(|c| c.starts_with("ESTABLISHED") && c.ends_with(&rs1_echo)),
        "{:?}",
        connections(n2, ECHO)
    );
    wait_for("d2 runs the master sync daemon", || {
        sync_daemons(n2) == ["master 51"]
    });
    stop.store(true, Ordering::Relaxed);
    load.join().unwrap();
    step(t0, T, "established connection still works");
}

/// Issue 9 test 3: a reload (SIGHUP) that adds a real server, removes one and changes a weight
/// changes exactly that in the kernel (three operations; the service is not recreated, an
/// established connection of another service is not disturbed, no VRRP transition); a reload
/// with a broken configuration changes nothing.
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_reload_applies_exactly_the_difference() {
    const T: &str = "kernel_e2e_reload";
    let t0 = Instant::now();
    let mode = Mode::Dr;
    let lab = DirectorLab::new("e2erl", mode, 1, 3);
    let _h: Vec<Httpd> = (1..=3).map(|n| lab.httpd(n)).collect();
    lab.echo_server(1);
    let conf = |servers: &[(usize, u32)]| {
        let mut c = DirectorConf::new(mode, 150, servers);
        c.echo = true;
        c.render()
    };
    let d = lab.start(0, "d", &conf(&[(1, 1), (2, 1)]), &[]);
    let n = &lab.directors[0];
    wait_state(&d, "MASTER");
    wait_for("the table", || {
        http_dests(n) == dests(mode, &[(1, 1), (2, 1)])
    });
    wait_for("requests answered", || !get(&lab.client).is_empty());
    let _ = spread(&lab.client, 4);
    let mut conn = None;
    wait_for("an echo connection", || {
        conn = connect_in(&lab.client, ECHO);
        conn.is_some()
    });
    let conn = conn.unwrap();
    assert_eq!(echo(&conn, "x", Duration::from_secs(10)), "x");
    let before = table(n);
    let conns = counted_conns(n);
    let transitions = count(&d, "VRRP state change");
    step(t0, T, "running");

    write_and_reload(&d, &conf(&[(2, 3), (3, 1)]));
    wait_for("the reload done", || count(&d, "reload done") == 1);
    let after = table(n);
    let mut want = before.clone();
    want.insert(format!("TCP {HTTP}"), dests(mode, &[(2, 3), (3, 1)]));
    assert_eq!(after, want, "exactly the difference");
    assert_eq!(count(&d, "LVS reload applied ops=3"), 1, "{}", d.log_text());
    assert!(
        service_conns(n, HTTP).unwrap() >= conns,
        "service not recreated"
    );
    assert_eq!(echo(&conn, "y", Duration::from_secs(10)), "y");
    assert_eq!(
        count(&d, "VRRP state change"),
        transitions,
        "no VRRP transition"
    );
    // rs3 serves (a good check keeps it in).
    wait_for("rs3 answers", || spread(&lab.client, 4).contains_key("rs3"));
    step(t0, T, "reload applied its difference");

    write_and_reload(&d, "virtual_server 192.0.2.100 8080 {\n    real_server {\n");
    wait_for("the broken reload refused", || {
        count(&d, "reload refused") == 1
    });
    assert_eq!(table(n), after, "a refused reload changes nothing");
    assert_eq!(echo(&conn, "z", Duration::from_secs(10)), "z");
    assert_eq!(log_state(&d).as_deref(), Some("MASTER"));
    step(t0, T, "broken reload changed nothing");
}

/// Issue 9 test 4: hagroupd stopped with `-I` and started again on a live table adopts it:
/// the start-up reconcile sends no operation, the service's counters go on (a service
/// removed and added again starts from 0), and an established connection keeps working.
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_restart_adopts_the_live_table() {
    const T: &str = "kernel_e2e_restart";
    let t0 = Instant::now();
    let mode = Mode::Dr;
    let lab = DirectorLab::new("e2ers", mode, 1, 2);
    let _h: Vec<Httpd> = (1..=2).map(|n| lab.httpd(n)).collect();
    lab.echo_server(1);
    let mut c = DirectorConf::new(mode, 150, &[(1, 1), (2, 1)]);
    c.echo = true;
    let conf = c.render();
    let mut d = lab.start(0, "d", &conf, &["-I"]);
    let n = &lab.directors[0];
    wait_state(&d, "MASTER");
    wait_for("the table", || {
        http_dests(n) == dests(mode, &[(1, 1), (2, 1)])
    });
    wait_for("requests answered", || !get(&lab.client).is_empty());
    let mut conn = None;
    wait_for("an echo connection", || {
        conn = connect_in(&lab.client, ECHO);
        conn.is_some()
    });
    let conn = conn.unwrap();
    assert_eq!(echo(&conn, "x", Duration::from_secs(10)), "x");
    let conns = counted_conns(n);
    let table_before = table(n);
    step(t0, T, "running");

    assert!(stop_daemon(&mut d).success(), "{}", d.log_text());
    assert_eq!(table(n), table_before, "-I leaves the table in place");
    let d2 = lab.start(0, "d-again", &conf, &["-I"]);
    wait_for("the director started", || {
        d2.log_text().contains("LVS director started")
    });
    let started = d2
        .log_text()
        .lines()
        .find(|l| l.contains("LVS director started"))
        .unwrap_or_default()
        .to_owned();
    assert!(
        started.contains(" ops=0"),
        "nothing removed and re-added: {started}"
    );
    wait_state(&d2, "MASTER");
    step(t0, T, "restarted, table adopted");
    assert_eq!(table(n), table_before);
    assert!(
        service_conns(n, HTTP).unwrap() >= conns,
        "service not recreated"
    );
    assert_eq!(echo(&conn, "y", Duration::from_secs(15)), "y");
    wait_for("requests answered after the restart", || {
        !get(&lab.client).is_empty()
    });
    step(t0, T, "connection and requests go on");
}

/// `lvs_sync_daemon` follows VRRP: the master daemon on the MASTER, the backup daemon on the
/// BACKUP, swapped on failover and back on preemption; released on stop; a reload changes the
/// sync id (stop and start) or removes the daemon.
#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_e2e_sync_daemon_follows_the_vrrp_state() {
    const T: &str = "kernel_e2e_sync_daemon";
    let t0 = Instant::now();
    let mode = Mode::Dr;
    let lab = DirectorLab::new("e2esd", mode, 2, 1);
    let conf = |priority, global: &str| {
        let mut c = DirectorConf::new(mode, priority, &[(1, 1)]);
        c.global = global.into();
        c.render()
    };
    let sync = "    lvs_sync_daemon eth0 VI_1";
    let (n1, n2) = (&lab.directors[0], &lab.directors[1]);
    let mut d1 = lab.start(0, "d1", &conf(150, sync), &[]);
    let d2 = lab.start(1, "d2", &conf(100, sync), &[]);
    wait_state(&d1, "MASTER");
    wait_state(&d2, "BACKUP");
    wait_for("master on d1", || sync_daemons(n1) == ["master 51"]);
    wait_for("backup on d2", || sync_daemons(n2) == ["backup 51"]);
    step(t0, T, "d1 master, d2 backup");

    assert!(stop_daemon(&mut d1).success(), "{}", d1.log_text());
    assert_eq!(sync_daemons(n1), Vec::<String>::new(), "released on stop");
    wait_state(&d2, "MASTER");
    wait_for("master on d2", || sync_daemons(n2) == ["master 51"]);
    step(t0, T, "d1 stopped, d2 master");

    let d1 = lab.start(0, "d1-again", &conf(150, sync), &[]);
    wait_state(&d1, "MASTER");
    wait_state(&d2, "BACKUP");
    wait_for("master on d1 again", || sync_daemons(n1) == ["master 51"]);
    wait_for("backup on d2 again", || sync_daemons(n2) == ["backup 51"]);
    step(t0, T, "d1 back to master");

    write_and_reload(&d2, &conf(100, "    lvs_sync_daemon eth0 VI_1 id 9"));
    wait_for("the sync id changed by reload", || {
        sync_daemons(n2) == ["backup 9"]
    });
    write_and_reload(&d2, &conf(100, ""));
    wait_for("the daemon removed by reload", || {
        sync_daemons(n2).is_empty()
    });
    // A reload naming an unknown instance is refused: nothing changes.
    write_and_reload(&d1, &conf(150, "    lvs_sync_daemon eth0 VI_9"));
    wait_for("the reload refused", || count(&d1, "reload refused") == 1);
    assert_eq!(sync_daemons(n1), ["master 51"]);
    step(t0, T, "reloads applied");
}
