//! Support for the tier `kernel` tests: each runs in a fresh network namespace.
//!
//! IPVS tables are per network namespace, so a test that starts in its own namespace starts
//! from an empty table and cannot disturb (or be disturbed by) another test. Rather than calling
//! `unshare(2)` in the test process (threads make that fragile, and it needs `unsafe`), the test
//! re-executes its own binary under `unshare --net` (loopback up), filtered to exactly this test, with
//! `IPVS_TEST_IN_NETNS=1` set; in that child the body runs. The parent checks that the child ran
//! exactly one test and that it passed, and shows its output.

#![allow(dead_code, unreachable_pub, clippy::panic)]

use std::process::Command;

pub mod strategies;

const CHILD_ENV: &str = "IPVS_TEST_IN_NETNS";

/// Runs `body` in a fresh network namespace (see the module docs). `name` is the test
/// function's name, as libtest lists it.
pub fn in_fresh_netns(name: &str, body: impl FnOnce()) {
    if std::env::var_os(CHILD_ENV).is_some() {
        body();
        return;
    }
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    // The loopback comes up first: without any local address the namespace has no local
    // routing table, and the kernel then refuses every IPv4 real server as "not unicast".
    let out = Command::new("unshare")
        .args([
            "--net",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(&exe)
        .args([
            name,
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run unshare --net {}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    eprint!("{stderr}");
    assert!(
        out.status.success(),
        "{name} failed in its network namespace ({})",
        out.status
    );
    assert!(
        stdout.contains("test result: ok. 1 passed"),
        "{name}: the child process did not run exactly this one test"
    );
}

/// A client for the current namespace, or a panic saying why not.
///
/// Requests get 30 s: under software emulation on a loaded machine some kernel operations
/// (stopping a sync daemon's threads) take seconds.
pub fn client() -> ipvs_netlink::Client {
    ipvs_netlink::Client::with_timeout(std::time::Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("IPVS client: {e}"))
}

/// Runs `ipvsadm ARGS` (with `stdin` as its input, if any) and returns its stdout; panics when
/// it fails.
pub fn ipvsadm(args: &[&str], stdin: Option<&str>) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new("ipvsadm")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run ipvsadm: {e}"));
    // Dropping stdin (with or without input written) closes it.
    if let (Some(mut input), Some(text)) = (child.stdin.take(), stdin) {
        input
            .write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("ipvsadm stdin: {e}"));
    }
    let out = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("ipvsadm: {e}"));
    assert!(
        out.status.success(),
        "ipvsadm {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The schedulers Debian's kernel ships as modules (`ip_vs_<name>.ko`), all loaded by
/// scripts/vm/run.
pub const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
];

/// Runs `ip ARGS` in the current namespace; panics when it fails.
pub fn ip(args: &[&str]) {
    let st = Command::new("ip")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
    assert!(st.success(), "ip {args:?} failed");
}

use ipvs_netlink::{
    Desired, Destination, Family, Forward, Protocol, Service, ServiceFlags, ServiceKey,
    TunnelFlags, TunnelType,
};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A documentation address 192.0.A.B (services).
pub fn v4(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, a, b))
}
/// A real server 198.51.100.B.
pub fn rs4(b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, b))
}
/// 2001:db8::X.
pub fn v6(x: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, x))
}

/// A table exercising every attribute: IPv4/IPv6/fwmark services, TCP/UDP/SCTP, persistence
/// with netmasks, a persistence engine, one-packet scheduling, scheduler flags, every
/// forwarding method, tunnel types with ports and checksum flags, thresholds, mixed families.
pub fn rich_table() -> Desired {
    let tcp = Service::new(ServiceKey::tcp(v4(2, 1), 80), "wrr");
    let tcp_dests = vec![
        Destination {
            weight: 3,
            ..Destination::new(rs4(1), 8080, Forward::Masq)
        },
        Destination {
            weight: 0,
            upper_threshold: 100,
            lower_threshold: 10,
            ..Destination::new(rs4(2), 80, Forward::Route)
        },
        Destination::new(
            rs4(3),
            80,
            Forward::Tunnel {
                kind: TunnelType::Gue,
                port: 6080,
                flags: TunnelFlags(TunnelFlags::NOCSUM),
            },
        ),
        Destination::new(
            rs4(4),
            80,
            Forward::Tunnel {
                kind: TunnelType::Gre,
                port: 0,
                flags: TunnelFlags(TunnelFlags::CSUM),
            },
        ),
        Destination::new(rs4(5), 80, Forward::ipip()),
    ];
    let mut udp = Service::new(ServiceKey::udp(v4(2, 2), 53), "wlc").persistent(300);
    udp.netmask = 24;
    let mut sip = Service::new(ServiceKey::udp(v4(2, 4), 5060), "rr").persistent(60);
    sip.pe_name = Some("sip".into());
    let mut ops = Service::new(ServiceKey::udp(v4(2, 5), 514), "rr");
    ops.flags.0 |= ServiceFlags::ONEPACKET;
    let mut sh6 = Service::new(ServiceKey::tcp(v6(1), 443), "sh");
    sh6.flags.0 |= ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
    let sh6_dests = vec![
        Destination::new(v6(0x10), 443, Forward::Masq),
        Destination::new(rs4(9), 443, Forward::ipip()), // mixed family: tunnel only
    ];
    let mut fwm = Service::new(
        ServiceKey::FwMark {
            family: Family::Inet,
            mark: 42,
        },
        "mh",
    );
    fwm.flags.0 |= ServiceFlags::SCHED1;
    let mut fwm6 = Service::new(
        ServiceKey::FwMark {
            family: Family::Inet6,
            mark: 43,
        },
        "lc",
    )
    .persistent(60);
    fwm6.netmask = 64;
    let sctp = Service::new(
        ServiceKey::Addr {
            addr: v4(2, 3),
            port: 9,
            protocol: Protocol::Sctp,
        },
        "dh",
    );
    Desired {
        services: vec![
            (tcp, tcp_dests),
            (udp, vec![]),
            (sip, vec![Destination::new(rs4(6), 5060, Forward::Route)]),
            (ops, vec![Destination::new(rs4(7), 514, Forward::Masq)]),
            (sh6, sh6_dests),
            (fwm, vec![Destination::new(rs4(8), 0, Forward::Route)]),
            (fwm6, vec![]),
            (sctp, vec![Destination::new(rs4(10), 9, Forward::Masq)]),
        ],
    }
}
