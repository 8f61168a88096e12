//! `vrrp_script` failover as in the nginx HA seed configuration, and reloads (SIGHUP) that
//! add a VIP or change nothing: no transition on either node (keepalived issue #1603).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use std::time::Duration;
use support::*;

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_hagroupd_vrrp_script_fails_over_and_recovers() {
    let lan = lan("hgscr", 2);
    let dir = lan.dir.clone();
    let flag = dir.join("nginx-is-up");
    std::fs::write(&flag, "").unwrap();
    // As in the nginx seed config: `killall -0 nginx` becomes a file test here.
    let mut c1 = Conf::v3(150);
    c1.prelude = format!(
        "vrrp_script chk_nginx {{\n    script \"/usr/bin/test -e {}\"\n    interval 0.2\n    \
         weight -60\n    fall 2\n    rise 2\n}}\n",
        flag.display()
    );
    c1.extra_instance = "    track_script {\n        chk_nginx\n    }\n".into();
    let r1 = start_hagroupd(&lan.routers[0], &dir, "r1", &c1.render());
    let r2 = start_hagroupd(&lan.routers[1], &dir, "r2", &Conf::v3(100).render());
    responder(&lan.routers[0], "r1");
    responder(&lan.routers[1], "r2");
    wait_until("r1 MASTER", || log_state(&r1).as_deref() == Some("MASTER"));
    wait_until("r2 BACKUP", || log_state(&r2).as_deref() == Some("BACKUP"));
    assert_eq!(fetch(&lan.client), "r1");

    // The check fails: 150 - 60 = 90 < 100, r2 preempts.
    std::fs::remove_file(&flag).unwrap();
    wait_until("r2 MASTER", || log_state(&r2).as_deref() == Some("MASTER"));
    wait_until("r1 BACKUP", || log_state(&r1).as_deref() == Some("BACKUP"));
    assert!(r1.log_text().contains("vrrp_script status change"));
    assert_eq!(fetch(&lan.client), "r2");

    // It recovers: 150 again, r1 preempts back.
    std::fs::write(&flag, "").unwrap();
    wait_until("r1 MASTER again", || {
        log_state(&r1).as_deref() == Some("MASTER")
    });
    wait_until("r2 BACKUP again", || {
        log_state(&r2).as_deref() == Some("BACKUP")
    });
    assert_eq!(fetch(&lan.client), "r1");
}

fn transitions(d: &Daemon) -> usize {
    d.log_text().matches("VRRP state change").count()
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_hagroupd_reload_adds_vip_without_transition() {
    let lan = lan("hgrld", 2);
    let dir = lan.dir.clone();
    let mut c1 = Conf::v3(150);
    let c2 = Conf::v3(100);
    let r1 = start_hagroupd(&lan.routers[0], &dir, "r1", &c1.render());
    let r2 = start_hagroupd(&lan.routers[1], &dir, "r2", &c2.render());
    wait_until("r1 MASTER", || log_state(&r1).as_deref() == Some("MASTER"));
    wait_until("r2 BACKUP", || log_state(&r2).as_deref() == Some("BACKUP"));
    let (t1, t2) = (transitions(&r1), transitions(&r2));

    // A reload that changes nothing, on both nodes.
    r1.signal("-HUP");
    r2.signal("-HUP");
    wait_until("both reloaded", || {
        r1.log_text().contains("reload done") && r2.log_text().contains("reload done")
    });

    // The Master gets a second VIP first; the Backup still advertises one address, so the
    // address lists differ until it reloads too (issue #1603: this must not cause a second
    // Master).
    c1.vips.push("192.0.2.101/24".into());
    std::fs::write(&r1.conf, c1.render()).unwrap();
    r1.signal("-HUP");
    wait_until("the new VIP is on r1", || {
        ip_out(&lan.routers[0], &["addr", "show", "dev", "eth0"]).contains("192.0.2.101")
    });
    std::thread::sleep(Duration::from_millis(1000));
    let mut c2b = Conf::v3(100);
    c2b.vips.push("192.0.2.101/24".into());
    std::fs::write(&r2.conf, c2b.render()).unwrap();
    r2.signal("-HUP");
    wait_until("r2 reloaded twice", || {
        r2.log_text().matches("reload done").count() == 2
    });
    std::thread::sleep(Duration::from_millis(1000));

    assert_eq!(
        transitions(&r1),
        t1,
        "no transition on r1:\n{}",
        r1.log_text()
    );
    assert_eq!(
        transitions(&r2),
        t2,
        "no transition on r2:\n{}",
        r2.log_text()
    );
    assert_eq!(log_state(&r1).as_deref(), Some("MASTER"));
    assert_eq!(log_state(&r2).as_deref(), Some("BACKUP"));
    let shown = ip_out(&lan.routers[1], &["addr", "show", "dev", "eth0"]);
    assert!(
        !shown.contains("192.0.2.10"),
        "the Backup holds no VIP: {shown}"
    );
}
