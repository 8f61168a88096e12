//! Three hagroupd routers on a bridge (VRRPv3, 100 ms adverts): election, `kill -9` of the
//! Master, restart and preemption, graceful stop, `nopreempt`, `preempt_delay`, and a client
//! whose TCP connection to the VIP always reaches the current Master.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use std::time::Duration;
use support::*;

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_hagroupd_election_kill_restart_preempt_stop() {
    let lan = lan("hgfo", 3);
    let dir = lan.dir.clone();
    let mut notify = Vec::new();
    let mut daemons = Vec::new();
    for (i, (prio, label)) in [(150u8, "r1"), (100, "r2"), (50, "r3")]
        .into_iter()
        .enumerate()
    {
        let (script, out) = notify_script(&dir, label);
        let mut c = Conf::v3(prio);
        c.notify = Some(script);
        let ns = &lan.routers[i];
        responder(ns, label);
        daemons.push(start_hagroupd(ns, &dir, label, &c.render()));
        notify.push((out, c));
    }
    let st = |i: usize| last_state(&notify[i].0);
    wait_until("r1 MASTER", || st(0).as_deref() == Some("MASTER"));
    wait_until("r2, r3 BACKUP", || {
        st(1).as_deref() == Some("BACKUP") && st(2).as_deref() == Some("BACKUP")
    });
    assert_eq!(
        states(&notify[0].0).first().map(String::as_str),
        Some("INSTANCE VI_1 BACKUP 150"),
        "keepalived's notify arguments: {:?}",
        states(&notify[0].0)
    );
    assert_eq!(fetch(&lan.client), "r1");

    // kill -9 of the Master: r2 (next priority) takes over, r3 stays Backup.
    daemons[0].kill();
    wait_until("r2 MASTER after kill -9", || {
        st(1).as_deref() == Some("MASTER")
    });
    assert!(
        !states(&notify[2].0).iter().any(|l| l.contains("MASTER")),
        "r3 never became Master: {:?}",
        states(&notify[2].0)
    );
    assert_eq!(fetch(&lan.client), "r2", "client follows the GARP to r2");

    // Restart r1: it starts as Backup, clears the VIP its crashed predecessor left, then
    // preempts r2 (preempt is the default).
    std::fs::remove_file(&notify[0].0).ok();
    daemons[0] = start_hagroupd(&lan.routers[0], &dir, "r1", &notify[0].1.render());
    wait_until("r1 MASTER again", || st(0).as_deref() == Some("MASTER"));
    assert_eq!(
        states(&notify[0].0).first().map(String::as_str),
        Some("INSTANCE VI_1 BACKUP 150")
    );
    wait_until("r2 back to BACKUP", || st(1).as_deref() == Some("BACKUP"));
    assert_eq!(fetch(&lan.client), "r1");

    // Graceful stop: priority-0 advert, VIP removed, notify STOP; r2 takes over.
    let status = daemons[0].stop();
    assert!(status.success(), "clean exit: {status:?}");
    assert_eq!(last_state(&notify[0].0).as_deref(), Some("STOP"));
    let shown = ip_out(&lan.routers[0], &["addr", "show", "dev", "eth0"]);
    assert!(!shown.contains(VIP), "VIP removed on stop: {shown}");
    wait_until("r2 MASTER after stop", || {
        st(1).as_deref() == Some("MASTER")
    });
    assert!(daemons[0].log_text().contains("stopped"));
    assert_eq!(fetch(&lan.client), "r2");
    assert!(!states(&notify[2].0).iter().any(|l| l.contains("MASTER")));
    for d in &mut daemons {
        if d.child.is_some() {
            assert!(d.stop().success());
        }
    }
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_hagroupd_nopreempt_and_preempt_delay() {
    let lan = lan("hgnp", 2);
    let dir = lan.dir.clone();
    // r2 (100) becomes Master alone.
    let (s2, o2) = notify_script(&dir, "r2");
    let mut c2 = Conf::v3(100);
    c2.notify = Some(s2);
    let _r2 = start_hagroupd(&lan.routers[1], &dir, "r2", &c2.render());
    wait_until("r2 MASTER", || last_state(&o2).as_deref() == Some("MASTER"));

    // r1 (150, nopreempt) joins: it must stay Backup.
    let (s1, o1) = notify_script(&dir, "r1");
    let mut c1 = Conf::v3(150);
    c1.notify = Some(s1.clone());
    c1.extra_instance = "    nopreempt\n".into();
    let mut r1 = start_hagroupd(&lan.routers[0], &dir, "r1", &c1.render());
    wait_until("r1 BACKUP", || last_state(&o1).as_deref() == Some("BACKUP"));
    // 15 advert intervals (more than 3 Master_Down_Intervals) later it is still Backup.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        states(&o1),
        vec!["INSTANCE VI_1 BACKUP 150"],
        "nopreempt holds"
    );
    assert_eq!(last_state(&o2).as_deref(), Some("MASTER"));
    r1.stop();

    // r1 with preempt_delay 1: still Backup half-way through the delay, Master after it.
    std::fs::remove_file(&o1).ok();
    let mut c1 = Conf::v3(150);
    c1.notify = Some(s1);
    c1.extra_instance = "    preempt_delay 1\n".into();
    let started = std::time::Instant::now();
    let _r1 = start_hagroupd(&lan.routers[0], &dir, "r1", &c1.render());
    wait_until("r1 BACKUP", || last_state(&o1).as_deref() == Some("BACKUP"));
    wait_until("r1 MASTER after the delay", || {
        last_state(&o1).as_deref() == Some("MASTER")
    });
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "preemption cannot happen before preempt_delay"
    );
    wait_until("r2 BACKUP", || last_state(&o2).as_deref() == Some("BACKUP"));
}
