//! Tier `kernel` (inside the VM), issue 9 test 5: `hagroupctl drain` moves a real server to
//! weight 0 in the kernel's IPVS table and back, passing health checks and a reload do not
//! undo it, and `hagroupctl status` shows it.
//!
//! ```text
//!  director (hagroupd, VIP 192.0.2.1 on lo)  198.51.100.1 ── 198.51.100.2 rs1 (HTTP :8080, TCP_CHECK)
//!                                            198.51.100.5 ── 198.51.100.6 rs2 (no checker)
//! ```
//!
//! `hagroupctl` is the workspace's binary next to `hagroupd` (`cargo build -p hagroupctl`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use support::*;

const CONF: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 1
    alpha
    lvs_sched wrr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.2 8080 {
        weight 2
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 198.51.100.6 8080 {
        weight 1
    }
}
";

const RS1: &str = "198.51.100.2:8080";

fn hagroupctl_bin() -> PathBuf {
    let p = Path::new(hagroupd_bin()).with_file_name("hagroupctl");
    assert!(
        p.exists(),
        "{} is missing: `cargo build -p hagroupctl` first",
        p.display()
    );
    p
}

fn ctl(sock: &Path, args: &[&str]) -> Output {
    Command::new(hagroupctl_bin())
        .arg("--socket")
        .arg(sock)
        .args(args)
        .output()
        .unwrap()
}

/// The weights of the real servers of 192.0.2.1:80 in an `ipvsadm -Ln`-style listing.
fn weights(listing: &str) -> Vec<(String, u32)> {
    let mut out = Vec::new();
    let mut in_vip = false;
    for l in listing.lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        match t.as_slice() {
            ["TCP", addr, ..] => in_vip = *addr == "192.0.2.1:80",
            ["->", addr, _fwd, w, ..] if in_vip => {
                if let Ok(w) = w.parse() {
                    out.push(((*addr).to_owned(), w));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out
}

/// The kernel's view, read with the reference tool.
fn ipvsadm(ns: &netns_lab::Netns) -> Vec<(String, u32)> {
    let out = Command::new("ip")
        .args(["netns", "exec", ns.name(), "ipvsadm", "-Ln"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ipvsadm: {out:?}");
    weights(&String::from_utf8_lossy(&out.stdout))
}

fn want(rs1: u32, rs2: u32) -> Vec<(String, u32)> {
    vec![(RS1.into(), rs1), ("198.51.100.6:8080".into(), rs2)]
}

fn status(sock: &Path) -> serde_json::Value {
    let out = ctl(sock, &["status", "--json"]);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rs1_status(sock: &Path) -> serde_json::Value {
    status(sock)["virtual_servers"][0]["real_servers"][0].clone()
}

fn httpd(ns: &netns_lab::Netns) -> Child {
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns.name(),
            "/usr/bin/python3",
            "-m",
            "http.server",
            "8080",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `f` holds (every 100 ms, up to 90 s: the VM's file system makes the first start
/// of each program slow).
fn wait_long(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..900 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for: {what}");
}

fn start(ns: &netns_lab::Netns, dir: &Path, sock: &Path) -> Daemon {
    let conf_path = dir.join("d.conf");
    std::fs::write(&conf_path, CONF).unwrap();
    let log = dir.join("d.log");
    let logf = std::fs::File::create(&log).unwrap();
    let mut cmd = ns.command(hagroupd_bin());
    cmd.args(["-n", "-l", "-D", "-f"])
        .arg(&conf_path)
        .arg("-p")
        .arg(dir.join("d.pid"))
        .arg("-r")
        .arg(dir.join("d.vrrp.pid"))
        .arg("--control-socket")
        .arg(sock)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf);
    Daemon {
        child: Some(cmd.spawn().expect("start hagroupd")),
        conf: conf_path,
        log,
        name: "d".into(),
    }
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_hagroupctl_drain_moves_a_real_server_to_weight_0_and_back() {
    let t0 = std::time::Instant::now();
    let step = |what: &str| eprintln!("kernel_ctl: {:>6.1?} {what}", t0.elapsed());
    let mut lab = netns_lab::Lab::new("hgdrain").unwrap();
    let d = lab.add_ns("d").unwrap();
    let rs1 = lab.add_ns("rs1").unwrap();
    let rs2 = lab.add_ns("rs2").unwrap();
    for (ns, dif, dip, rip) in [
        (&rs1, "to-rs1", "198.51.100.1/30", "198.51.100.2/30"),
        (&rs2, "to-rs2", "198.51.100.5/30", "198.51.100.6/30"),
    ] {
        lab.veth(&d, dif, ns, "eth0").unwrap();
        d.ip(&["addr", "add", dip, "dev", dif]).unwrap();
        ns.ip(&["addr", "add", rip, "dev", "eth0"]).unwrap();
    }
    d.ip(&["addr", "add", "192.0.2.1/32", "dev", "lo"]).unwrap();
    let dir = temp_dir("hgdrain");
    let sock = dir.join("run").join("control.sock");
    let mut server = httpd(&rs1);
    // rs1's server answers before hagroupd starts (the VM starts python slowly): otherwise its
    // first check may fail after the drain below and take rs1 out of the table, which is not
    // what this test is about.
    wait_long("rs1's HTTP server", || {
        d.exec_unchecked(
            "curl",
            &[
                "-s",
                "-o",
                "/dev/null",
                "-m",
                "2",
                "http://198.51.100.2:8080/",
            ],
        )
        .is_ok_and(|o| o.status.success())
    });
    let mut daemon = start(&d, &dir, &sock);
    step("lab built, hagroupd started");

    wait_long("the table with both real servers", || {
        ipvsadm(&d) == want(2, 1)
    });
    wait_long("rs1 checked alive", || {
        sock.exists() && rs1_status(&sock)["alive"] == true
    });

    step("rs1 alive");
    // Drain: weight 0 in the kernel once hagroupctl returns.
    let out = ctl(&sock, &["drain", "-t", "192.0.2.1:80", "-r", RS1]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("drained"));
    assert_eq!(ipvsadm(&d), want(0, 1));
    let s = rs1_status(&sock);
    assert_eq!(s["admin_weight"], 0);
    assert_eq!(s["ipvs_weight"], 0);
    assert_eq!(s["weight"], 2);
    assert_eq!(s["alive"], true);
    let table = String::from_utf8_lossy(&ctl(&sock, &["status"]).stdout).into_owned();
    let row = table.lines().find(|l| l.contains(RS1)).unwrap_or_default();
    assert!(row.ends_with("drain"), "{table}");
    // `hagroupctl ipvs` lists the same table as ipvsadm.
    let listed = ctl(&sock, &["ipvs"]);
    assert!(listed.status.success(), "{listed:?}");
    assert_eq!(
        weights(&String::from_utf8_lossy(&listed.stdout)),
        want(0, 1)
    );

    step("drained");
    // Passing checks (delay_loop 1: several) do not undo it.
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(rs1_status(&sock)["alive"], true);
    assert_eq!(ipvsadm(&d), want(0, 1));

    // A reload keeps it (the real server still exists).
    let out = ctl(&sock, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ipvsadm(&d), want(0, 1));
    assert_eq!(rs1_status(&sock)["admin_weight"], 0);

    step("reloaded");
    // Another weight, then back to the health-decided one.
    let out = ctl(&sock, &["weight", "-t", "192.0.2.1:80", "-r", RS1, "5"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ipvsadm(&d), want(5, 1));
    let out = ctl(
        &sock,
        &["weight", "-t", "192.0.2.1:80", "-r", RS1, "--reset"],
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(ipvsadm(&d), want(2, 1));
    assert!(rs1_status(&sock)["admin_weight"].is_null());

    // Mistakes are refused with the reason.
    let out = ctl(
        &sock,
        &["drain", "-t", "192.0.2.1:80", "-r", "198.51.100.9:8080"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no real server"));
    let out = ctl(&sock, &["drain", "-u", "192.0.2.1:80", "-r", RS1]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no virtual server"));
    assert_eq!(ipvsadm(&d), want(2, 1));

    step("weights set and reset");
    assert!(daemon.stop().success());
    step("stopped");
    assert!(ipvsadm(&d).is_empty(), "owned service released on stop");
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
