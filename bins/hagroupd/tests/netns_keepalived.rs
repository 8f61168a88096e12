//! Interop with Debian's keepalived 2.2.7 in one VRRP group, each side as Master and as
//! Backup: VRRPv2 with PASS auth, VRRPv3 IPv4 with both checksum modes, VRRPv3 IPv6, unicast.
//! Elections must be right, neither side may complain about the other's packets, and there
//! must never be two Masters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use support::*;

fn have_keepalived() -> bool {
    std::process::Command::new("keepalived")
        .arg("--version")
        .output()
        .is_ok()
}

/// Words in keepalived's log that mean it refused or disliked one of our packets.
const KEEPALIVED_COMPLAINTS: &[&str] = &[
    "checksum",
    "bogus",
    "invalid",
    "ttl",
    "authentication",
    "mismatch",
    "received an invalid",
    "wrong",
];

fn complaints(log: &str) -> Vec<String> {
    log.lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            KEEPALIVED_COMPLAINTS.iter().any(|w| l.contains(w))
                && !l.contains("security violation")
                && !l.contains("unknown keyword")
        })
        .map(str::to_owned)
        .collect()
}

/// keepalived (r1) and hagroupd (r2) in one group; `conf(priority, is_r1)` builds each side's
/// configuration. Phase 1: keepalived Master, hagroupd Backup, then keepalived stops and
/// hagroupd takes over. Phase 2: keepalived returns and preempts. Phase 3: hagroupd restarts
/// with a higher priority and preempts keepalived; then it is killed and keepalived takes over.
fn interop(tag: &str, conf: impl Fn(u8, bool) -> Conf, vip: &str) {
    if !have_keepalived() {
        panic!("keepalived is not installed (scripts/test netns installs it)");
    }
    let lan = lan(tag, 2);
    let dir = lan.dir.clone();
    let (ks, ko) = notify_script(&dir, "ka");
    let (hs, ho) = notify_script(&dir, "hg");
    let kconf = |p| {
        let mut c = conf(p, true);
        c.notify = Some(ks.clone());
        c.render()
    };
    let hconf = |p| {
        let mut c = conf(p, false);
        c.notify = Some(hs.clone());
        c.render()
    };
    let holds_vip =
        |i: usize| ip_out(&lan.routers[i], &["addr", "show", "dev", "eth0"]).contains(vip);
    let dual_master = || holds_vip(0) && holds_vip(1);

    // Phase 1.
    let mut ka = start_keepalived(&lan.routers[0], &dir, "ka", &kconf(150));
    let mut hg = start_hagroupd(&lan.routers[1], &dir, "hg", &hconf(100));
    wait_until("keepalived MASTER", || {
        log_state(&ka).as_deref() == Some("MASTER")
    });
    wait_until("hagroupd BACKUP", || {
        log_state(&hg).as_deref() == Some("BACKUP")
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        log_state(&hg).as_deref(),
        Some("BACKUP"),
        "hagroupd accepts keepalived as Master"
    );
    assert!(!dual_master(), "one Master");
    ka.stop();
    wait_until("hagroupd MASTER after keepalived stops", || {
        log_state(&hg).as_deref() == Some("MASTER")
    });

    // Phase 2: keepalived (150) comes back and preempts hagroupd (100).
    ka = start_keepalived(&lan.routers[0], &dir, "ka2", &kconf(150));
    wait_until("keepalived MASTER again", || {
        log_state(&ka).as_deref() == Some("MASTER")
    });
    wait_until("hagroupd BACKUP again", || {
        log_state(&hg).as_deref() == Some("BACKUP")
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(!dual_master(), "one Master");

    // Phase 3: hagroupd with 200 preempts keepalived; keepalived accepts it as Master.
    hg.stop();
    hg = start_hagroupd(&lan.routers[1], &dir, "hg2", &hconf(200));
    wait_until("hagroupd MASTER by preemption", || {
        log_state(&hg).as_deref() == Some("MASTER")
    });
    wait_until("keepalived BACKUP", || {
        log_state(&ka).as_deref() == Some("BACKUP")
    });
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        log_state(&ka).as_deref(),
        Some("BACKUP"),
        "keepalived accepts hagroupd as Master"
    );
    assert!(!dual_master(), "one Master");
    hg.kill();
    wait_until("keepalived MASTER after kill -9", || {
        log_state(&ka).as_deref() == Some("MASTER")
    });

    let klog = format!(
        "{}{}",
        std::fs::read_to_string(dir.join("ka.log")).unwrap_or_default(),
        ka.log_text()
    );
    let c = complaints(&klog);
    assert!(
        c.is_empty(),
        "keepalived complained about our packets: {c:#?}"
    );
    for log in ["hg.log", "hg2.log"] {
        let text = std::fs::read_to_string(dir.join(log)).unwrap_or_default();
        assert!(
            !text.contains("VRRP packet refused"),
            "hagroupd refused keepalived's packets ({log}):\n{text}"
        );
    }
    assert!(
        states(&ho).iter().any(|l| l == "INSTANCE VI_1 MASTER 200"),
        "hagroupd's notify script ran: {:?}",
        states(&ho)
    );
    assert!(states(&ko).iter().any(|l| l == "INSTANCE VI_1 MASTER 150"));
    ka.stop();
}

fn v4(p: u8, version: u8) -> Conf {
    let mut c = Conf::v3(p);
    c.version = version;
    c.advert = if version == 2 { "1" } else { "0.1" };
    c
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_keepalived_interop_v2_pass_auth() {
    interop(
        "kav2",
        |p, _| {
            let mut c = v4(p, 2);
            c.auth = true;
            c
        },
        VIP,
    );
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_keepalived_interop_v3_ipv4_pseudo_header() {
    interop("kav3", |p, _| v4(p, 3), VIP);
}

/// keepalived 2.2.7 predates `v3_checksum_as_v2` (it logs "Unknown keyword"): it always
/// sends and checks the VRRPv3 IPv4 checksum with the pseudo-header. hagroupd with the option
/// accepts keepalived's adverts (it accepts both forms on receive, as keepalived >= 2.3 does)
/// and stays Backup; as Master it sends the RFC 9568 message-only form, which keepalived 2.2.7
/// refuses as "Invalid VRRPv3 checksum" — proof that the mode really changes the wire.
#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_keepalived_interop_v3_ipv4_checksum_as_v2() {
    let lan = lan("kav3m", 2);
    let dir = lan.dir.clone();
    let ka = start_keepalived(&lan.routers[0], &dir, "ka", &v4(150, 3).render());
    wait_until("keepalived MASTER", || {
        log_state(&ka).as_deref() == Some("MASTER")
    });
    let mut h = v4(100, 3);
    h.extra_global = "    v3_checksum_as_v2\n".into();
    let mut hg = start_hagroupd(&lan.routers[1], &dir, "hg", &h.render());
    wait_until("hagroupd BACKUP", || {
        log_state(&hg).as_deref() == Some("BACKUP")
    });
    std::thread::sleep(std::time::Duration::from_millis(1000));
    assert_eq!(
        log_state(&hg).as_deref(),
        Some("BACKUP"),
        "keepalived's adverts accepted"
    );
    assert!(
        !hg.log_text().contains("VRRP packet refused"),
        "{}",
        hg.log_text()
    );
    assert!(!ka.log_text().contains("Invalid VRRPv3 checksum"));
    // hagroupd with priority 200 preempts; keepalived 2.2.7 cannot verify its adverts.
    hg.stop();
    h.priority = 200;
    let hg = start_hagroupd(&lan.routers[1], &dir, "hg2", &h.render());
    wait_until("hagroupd MASTER", || {
        log_state(&hg).as_deref() == Some("MASTER")
    });
    wait_until("keepalived refuses the message-only checksum", || {
        ka.log_text().contains("Invalid VRRPv3 checksum")
    });
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_keepalived_interop_v3_ipv6() {
    interop(
        "kav6",
        |p, _| {
            let mut c = v4(p, 3);
            c.vips = vec!["2001:db8::100/64".into()];
            c
        },
        "2001:db8::100",
    );
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_keepalived_interop_unicast() {
    interop(
        "kauc",
        |p, is_r1| {
            let mut c = v4(p, 3);
            let (me, peer) = if is_r1 { (1, 2) } else { (2, 1) };
            c.extra_instance = format!(
                "    unicast_src_ip 192.0.2.{me}\n    unicast_peer {{\n        192.0.2.{peer}\n    }}\n"
            );
            c
        },
        VIP,
    );
}
