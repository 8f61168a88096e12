//! `--metrics-listen`: two hagroupd routers on a bridge; r1 (higher priority, metrics on
//! 127.0.0.1 inside its namespace) becomes Master and its `/metrics` shows it, with adverts
//! sent; r2 runs without the flag and listens on nothing; an address that cannot be bound
//! stops the daemon at once.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

use netns_lab::Netns;
use std::path::Path;
use std::process::{Command, Stdio};
use support::*;

const METRICS: &str = "127.0.0.1:9650";

/// hagroupd in `ns` with keepalived's flags plus `extra`, logs to DIR/NAME.log.
fn start_with_flags(ns: &Netns, dir: &Path, name: &str, conf: &str, extra: &[&str]) -> Daemon {
    let conf_path = dir.join(format!("{name}.conf"));
    std::fs::write(&conf_path, conf).unwrap();
    let log = dir.join(format!("{name}.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let mut cmd: Command = ns.command(hagroupd_bin());
    cmd.args(["-n", "-l", "-D", "-f"])
        .arg(&conf_path)
        .arg("-p")
        .arg(dir.join(format!("{name}.pid")))
        .arg("-r")
        .arg(dir.join(format!("{name}.vrrp.pid")))
        .args(extra)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf);
    Daemon {
        child: Some(cmd.spawn().expect("start hagroupd")),
        conf: conf_path,
        log,
        name: name.to_owned(),
    }
}

/// `GET path` on the metrics address from inside `ns`: the whole answer ("" if refused).
fn http_get(ns: &Netns, path: &'static str) -> String {
    vrrp_net::netns::spawn_in(ns.name(), move || async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut s) = tokio::net::TcpStream::connect(METRICS).await else {
            return String::new();
        };
        let req = format!("GET {path} HTTP/1.1\r\nHost: {METRICS}\r\n\r\n");
        if s.write_all(req.as_bytes()).await.is_err() {
            return String::new();
        }
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    })
    .join()
    .unwrap()
    .unwrap()
}

/// The value of the sample line starting with `series` (name and labels, exactly).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_metrics_show_the_master_and_its_adverts_and_are_off_without_the_flag() {
    let lan = lan("hgmx", 2);
    let dir = lan.dir.clone();
    let mut r1 = start_with_flags(
        &lan.routers[0],
        &dir,
        "r1",
        &Conf::v3(150).render(),
        &["--metrics-listen", METRICS],
    );
    let mut r2 = start_hagroupd(&lan.routers[1], &dir, "r2", &Conf::v3(100).render());

    let master = "hagroup_vrrp_instance_state{instance=\"VI_1\",state=\"MASTER\"}";
    let sent = "hagroup_vrrp_adverts_sent_total{instance=\"VI_1\"}";
    let mut last = String::new();
    wait_until("r1's metrics show MASTER and adverts sent", || {
        last = http_get(&lan.routers[0], "/metrics");
        sample(&last, master) == Some(1.0) && sample(&last, sent).is_some_and(|n| n > 0.0)
    });
    assert!(
        last.starts_with("HTTP/1.1 200 OK\r\n"),
        "status line: {last}"
    );
    assert!(last.contains("Content-Type: application/openmetrics-text"));
    assert_eq!(
        sample(&last, "hagroup_vrrp_state{instance=\"VI_1\"}"),
        Some(2.0)
    );
    assert!(
        sample(&last, "hagroup_vrrp_transitions_total{instance=\"VI_1\"}")
            .is_some_and(|n| n >= 2.0),
        "INIT -> BACKUP -> MASTER: {last}"
    );
    assert!(last.trim_end().ends_with("# EOF"), "{last}");
    // No virtual server configured: no director, so no health and no IPVS families.
    assert!(!last.contains("hagroup_ipvs_"), "{last}");
    let not_found = http_get(&lan.routers[0], "/");
    assert!(not_found.starts_with("HTTP/1.1 404 "), "{not_found}");
    assert!(r1.log_text().contains("serving metrics"));

    // r2 runs without the flag: it is Backup and nothing in its namespace listens on TCP.
    wait_until("r2 BACKUP", || log_state(&r2).as_deref() == Some("BACKUP"));
    let listening = lan.routers[1]
        .exec("ss", &["-H", "-t", "-l", "-n"])
        .unwrap();
    let listening = String::from_utf8_lossy(&listening.stdout).into_owned();
    assert!(listening.trim().is_empty(), "r2 listens: {listening}");
    assert_eq!(http_get(&lan.routers[1], "/metrics"), "");

    // An address that is not local: the daemon refuses to start, before running anything.
    let mut bad = start_with_flags(
        &lan.routers[1],
        &dir,
        "bad",
        &Conf::v3(50).render(),
        &["--metrics-listen", "203.0.113.9:9650"],
    );
    let mut child = bad.child.take().unwrap();
    let mut status = None;
    wait_until("the bad daemon exits", || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    assert_eq!(status.unwrap().code(), Some(1));
    assert!(
        bad.log_text().contains("--metrics-listen"),
        "{}",
        bad.log_text()
    );

    assert!(r1.stop().success());
    assert!(r2.stop().success());
    // Stopped: the endpoint is gone with the daemon.
    assert_eq!(http_get(&lan.routers[0], "/metrics"), "");
}
