//! Operations on a running hagroupd: the control socket with `hagroupctl` (status, reload, a
//! broken reload refused with the reason) and keepalived's dump files (SIGUSR1, SIGUSR2,
//! SIGRTMIN+2, into `$TMPDIR` as keepalived does).
//!
//! `hagroupctl` is the workspace's binary next to `hagroupd` (built by `cargo test --workspace`,
//! as the netns tier runs, or `cargo build -p hagroupctl`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::*;

fn hagroupctl_bin() -> PathBuf {
    let p = Path::new(hagroupd_bin()).with_file_name("hagroupctl");
    assert!(
        p.exists(),
        "{} is missing: run the tier with `cargo test --workspace` or `cargo build -p hagroupctl`",
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

fn status(sock: &Path) -> Option<serde_json::Value> {
    let out = ctl(sock, &["status", "--json"]);
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// hagroupd in `ns` with its own control socket; `$TMPDIR` is `dir`.
fn start(ns: &netns_lab::Netns, dir: &Path, conf: &str, sock: &Path) -> Daemon {
    let conf_path = dir.join("d.conf");
    std::fs::write(&conf_path, conf).unwrap();
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

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_hagroupctl_status_reload_and_keepalived_dumps() {
    let lan = lan("hgctl", 1);
    let dir = lan.dir.clone();
    let sock = dir.join("run").join("control.sock");
    let conf = Conf::v3(150);
    let mut d = start(&lan.routers[0], &dir, &conf.render(), &sock);

    // Status: the one instance becomes MASTER.
    wait_until("hagroupctl status reports VI_1 MASTER", || {
        status(&sock).is_some_and(|s| s["vrrp"][0]["state"] == "MASTER")
    });
    let s = status(&sock).unwrap();
    let vi = &s["vrrp"][0];
    assert_eq!(vi["name"], "VI_1");
    assert_eq!(vi["priority"], 150);
    assert_eq!(vi["vrid"], 51);
    assert_eq!(vi["interface"], "eth0");
    assert_eq!(vi["vips"], serde_json::json!(["192.0.2.100/24"]));
    assert_eq!(vi["transitions"], 2, "INIT -> BACKUP -> MASTER");
    assert_eq!(s["pid"], d.pid());
    let table = ctl(&sock, &["status"]);
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    let row = text
        .lines()
        .find(|l| l.contains("VI_1"))
        .unwrap_or_default();
    assert!(row.contains("MASTER") && row.contains("eth0"), "{text}");

    // Root-only permissions.
    assert_eq!(mode(&sock), 0o600, "socket mode");
    assert_eq!(mode(sock.parent().unwrap()), 0o700, "directory mode");

    // Reload adding a VIP: done, no transition.
    let mut more = Conf::v3(150);
    more.vips.push("192.0.2.101/24".into());
    std::fs::write(&d.conf, more.render()).unwrap();
    let out = ctl(&sock, &["reload"]);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept [\"VI_1\"]"));
    let s = status(&sock).unwrap();
    assert_eq!(s["vrrp"][0]["vips"].as_array().unwrap().len(), 2);
    assert_eq!(s["vrrp"][0]["state"], "MASTER");
    assert_eq!(s["vrrp"][0]["transitions"], 2, "no transition on reload");

    // A configuration that does not parse is refused with the reason, and nothing changes.
    std::fs::write(
        &d.conf,
        more.render()
            .replace("virtual_router_id 51", "virtual_router_id 300"),
    )
    .unwrap();
    let out = ctl(&sock, &["reload"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused"), "{err}");
    assert!(err.contains("virtual router id must be set"), "{err}");
    // One the director cannot run (an undefined group) is refused too.
    std::fs::write(
        &d.conf,
        format!(
            "{}virtual_server group nosuch {{\n    protocol TCP\n    real_server 198.51.100.1 80 {{\n    }}\n}}\n",
            more.render()
        ),
    )
    .unwrap();
    let out = ctl(&sock, &["reload"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("LVS configuration refused"), "{err}");
    let s = status(&sock).unwrap();
    assert_eq!(s["vrrp"][0]["vips"].as_array().unwrap().len(), 2);
    assert_eq!(s["vrrp"][0]["state"], "MASTER");
    // SIGHUP takes the same path (and logs the same refusal).
    d.signal("-HUP");
    wait_until("SIGHUP refusal logged", || {
        d.log_text().matches("reload refused").count() >= 3
    });

    // keepalived's dumps into $TMPDIR, mode 0600.
    let stats = dir.join("keepalived.stats");
    let json = dir.join("keepalived.json");
    let data = dir.join("keepalived.data");
    d.signal("-USR2");
    let rtmin2 = (libc::SIGRTMIN() + 2).to_string();
    let _ = Command::new("kill")
        .args(["-s", &rtmin2, &d.pid().to_string()])
        .status();
    d.signal("-USR1");
    wait_until("dump files", || {
        stats.exists() && json.exists() && data.exists()
    });
    // Written whole, but give a just-created file its content.
    wait_until("dumps written", || {
        std::fs::read_to_string(&data).is_ok_and(|t| t.contains("Virtual IP"))
            && std::fs::read_to_string(&json).is_ok_and(|t| t.ends_with('\n'))
            && std::fs::read_to_string(&stats).is_ok_and(|t| t.contains("Priority Zero"))
    });
    for f in [&stats, &json, &data] {
        assert_eq!(mode(f), 0o600, "{}", f.display());
    }
    let st = std::fs::read_to_string(&stats).unwrap();
    assert!(
        st.starts_with("VRRP Instance: VI_1\n  Advertisements:\n"),
        "{st}"
    );
    for line in [
        "    Received: ",
        "    Sent: ",
        "  Became master: 1",
        "  Released master: 0",
    ] {
        assert!(st.contains(line), "{line:?} in\n{st}");
    }
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let e = &j[0];
    assert_eq!(e["data"]["iname"], "VI_1");
    assert_eq!(e["data"]["state"], 2, "keepalived's number for MASTER");
    assert_eq!(e["data"]["vrid"], 51);
    assert_eq!(e["data"]["version"], 3);
    assert_eq!(e["data"]["ifp_ifname"], "eth0");
    assert!(e["stats"]["advert_sent"].as_u64().unwrap() > 0);
    for k in [
        "advert_rcvd",
        "become_master",
        "release_master",
        "packet_len_err",
        "ip_ttl_err",
        "auth_failure",
        "pri_zero_sent",
    ] {
        assert!(e["stats"].get(k).is_some(), "stats.{k}");
    }
    let dt = std::fs::read_to_string(&data).unwrap();
    assert!(dt.contains("------< VRRP Topology >------"), "{dt}");
    assert!(dt.contains(" VRRP Instance = VI_1\n"), "{dt}");
    assert!(dt.contains("   State = MASTER\n"), "{dt}");

    // Stop: the socket goes away.
    assert!(d.stop().success());
    assert!(!sock.exists(), "socket removed on stop");
}
