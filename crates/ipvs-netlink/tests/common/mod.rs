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
pub fn client() -> ipvs_netlink::Client {
    ipvs_netlink::Client::new().unwrap_or_else(|e| panic!("IPVS client: {e}"))
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
