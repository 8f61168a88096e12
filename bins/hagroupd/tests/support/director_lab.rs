//! Shared harness of the hagroupd LVS director kernel tests (included with `#[path]` next to
//! `netns_support.rs`, whose `Daemon` and helpers it uses): directors running hagroupd with a
//! VRRP instance and a `virtual_server`, real servers with an HTTP server and a TCP echo server,
//! a client, and readers of the kernel's IPVS state (`ipvsadm` in a namespace).
//!
//! ```text
//!  front LAN (bridge in `sw`), 192.0.2.0/24, VIP 192.0.2.100:
//!    d1 .1, d2 .2 (hagroupd)   client .200   [DR] rs1 .11, rs2 .12, rs3 .13 (VIP on lo)
//!  [NAT] back LAN (bridge in `bk`), 198.51.100.0/24, gateway VIP 198.51.100.254:
//!    d1 .1, d2 .2              rs1 .11, rs2 .12, rs3 .13 (default via .254)
//! ```
//!
//! Port 8080 is HTTP (`python3 -m http.server`, `/` answers `rsN`), checked with TCP_CHECK;
//! port 9000 is a line echo server on rs1 only, for long-lived connections.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::support::{Daemon, start_hagroupd_with, temp_dir};
use netns_lab::{Lab, Netns};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

pub const VIP: &str = "192.0.2.100";
pub const HTTP: &str = "192.0.2.100:8080";
pub const ECHO: &str = "192.0.2.100:9000";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Dr,
    Nat,
}

pub struct DirectorLab {
    pub lab: Lab,
    pub mode: Mode,
    pub directors: Vec<Netns>,
    pub servers: Vec<Netns>,
    pub client: Netns,
    pub dir: PathBuf,
}

/// The address of real server `n` (1-based) as the directors reach it.
pub fn rs_addr(mode: Mode, n: usize) -> String {
    match mode {
        Mode::Dr => format!("192.0.2.{}", 10 + n),
        Mode::Nat => format!("198.51.100.{}", 10 + n),
    }
}

impl DirectorLab {
    /// `directors` directors and `servers` real servers (nothing started yet).
    pub fn new(tag: &str, mode: Mode, directors: usize, servers: usize) -> DirectorLab {
        let mut lab = Lab::new(tag).unwrap();
        let sw = lab.add_ns("sw").unwrap();
        lab.bridge(&sw, "br0").unwrap();
        let bk = match mode {
            Mode::Nat => {
                let bk = lab.add_ns("bk").unwrap();
                lab.bridge(&bk, "br0").unwrap();
                Some(bk)
            }
            Mode::Dr => None,
        };
        let mut ds = Vec::new();
        for i in 1..=directors {
            let d = lab.add_ns(&format!("d{i}")).unwrap();
            lab.attach(&d, "eth0", &sw, "br0", &format!("d{i}"))
                .unwrap();
            d.ip(&["addr", "add", &format!("192.0.2.{i}/24"), "dev", "eth0"])
                .unwrap();
            if let Some(bk) = &bk {
                lab.attach(&d, "eth1", bk, "br0", &format!("d{i}")).unwrap();
                d.ip(&["addr", "add", &format!("198.51.100.{i}/24"), "dev", "eth1"])
                    .unwrap();
            }
            d.sysctl("net.ipv4.ip_forward", "1").unwrap();
            // IPVS connection table entries for connections the director only sees one way
            // (DR) must not expire during the test.
            ds.push(d);
        }
        let mut rss = Vec::new();
        for j in 1..=servers {
            let rs = lab.add_ns(&format!("rs{j}")).unwrap();
            let addr = rs_addr(mode, j);
            match &bk {
                None => {
                    lab.attach(&rs, "eth0", &sw, "br0", &format!("rs{j}"))
                        .unwrap();
                    rs.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"])
                        .unwrap();
                    // LVS-DR: the VIP on lo, never announced nor answered for by ARP.
                    for k in ["all", "eth0"] {
                        rs.sysctl(&format!("net.ipv4.conf.{k}.arp_ignore"), "1")
                            .unwrap();
                        rs.sysctl(&format!("net.ipv4.conf.{k}.arp_announce"), "2")
                            .unwrap();
                    }
                    rs.ip(&["addr", "add", &format!("{VIP}/32"), "dev", "lo"])
                        .unwrap();
                }
                Some(bk) => {
                    lab.attach(&rs, "eth0", bk, "br0", &format!("rs{j}"))
                        .unwrap();
                    rs.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"])
                        .unwrap();
                    rs.ip(&["route", "add", "default", "via", "198.51.100.254"])
                        .unwrap();
                }
            }
            rss.push(rs);
        }
        let client = lab.add_ns("client").unwrap();
        lab.attach(&client, "eth0", &sw, "br0", "client").unwrap();
        client
            .ip(&["addr", "add", "192.0.2.200/24", "dev", "eth0"])
            .unwrap();
        DirectorLab {
            lab,
            mode,
            directors: ds,
            servers: rss,
            client,
            dir: temp_dir(tag),
        }
    }

    /// Starts hagroupd in director `i` (0-based) with `conf` and extra flags.
    pub fn start(&self, i: usize, name: &str, conf: &str, extra: &[&str]) -> Daemon {
        start_hagroupd_with(&self.directors[i], &self.dir, name, conf, extra)
    }

    /// Starts real server `n`'s (1-based) HTTP server.
    pub fn httpd(&self, n: usize) -> Httpd {
        Httpd::start(&self.servers[n - 1], &self.dir, &format!("rs{n}"))
    }

    /// Starts the echo server on real server `n` (1-based), port 9000.
    pub fn echo_server(&self, n: usize) {
        echo_server(&self.servers[n - 1]);
    }
}

impl Drop for DirectorLab {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("logs kept in {}", self.dir.display());
        }
    }
}

/// What a director's configuration holds.
pub struct DirectorConf {
    pub mode: Mode,
    pub priority: u8,
    /// (real server number, weight) behind VIP:8080.
    pub servers: Vec<(usize, u32)>,
    /// VIP:9000 to rs1:9000 (no checker).
    pub echo: bool,
    /// `global_defs` lines (e.g. `lvs_sync_daemon eth0 VI_1`).
    pub global: String,
}

impl DirectorConf {
    pub fn new(mode: Mode, priority: u8, servers: &[(usize, u32)]) -> DirectorConf {
        DirectorConf {
            mode,
            priority,
            servers: servers.to_vec(),
            echo: false,
            global: String::new(),
        }
    }

    pub fn render(&self) -> String {
        let method = match self.mode {
            Mode::Dr => "DR",
            Mode::Nat => "NAT",
        };
        let mut s = format!(
            "global_defs {{\n    router_id d{}\n{}\n}}\n",
            self.priority, self.global
        );
        let instance = |name: &str, ifname: &str, vrid: u8, vip: &str| {
            format!(
                "vrrp_instance {name} {{\n    state BACKUP\n    interface {ifname}\n    \
                 virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n    \
                 virtual_ipaddress {{\n        {vip}\n    }}\n}}\n",
                self.priority
            )
        };
        if self.mode == Mode::Nat {
            s.push_str("vrrp_sync_group G {\n    group {\n        VI_1\n        VI_2\n    }\n}\n");
        }
        s.push_str(&instance("VI_1", "eth0", 51, &format!("{VIP}/24")));
        if self.mode == Mode::Nat {
            s.push_str(&instance("VI_2", "eth1", 52, "198.51.100.254/24"));
        }
        s.push_str(&format!(
            "virtual_server {VIP} 8080 {{\n    delay_loop 1\n    lvs_sched rr\n    \
             lvs_method {method}\n    protocol TCP\n"
        ));
        for (n, w) in &self.servers {
            s.push_str(&format!(
                "    real_server {} 8080 {{\n        weight {w}\n        TCP_CHECK {{\n            \
                 connect_timeout 2\n            retry 1\n            delay_before_retry 1\n            \
                 warmup 0\n        }}\n    }}\n",
                rs_addr(self.mode, *n)
            ));
        }
        s.push_str("}\n");
        if self.echo {
            s.push_str(&format!(
                "virtual_server {VIP} 9000 {{\n    lvs_sched rr\n    lvs_method {method}\n    \
                 protocol TCP\n    real_server {} 9000 {{\n        weight 1\n    }}\n}}\n",
                rs_addr(self.mode, 1)
            ));
        }
        s
    }
}

/// `python3 -m http.server 8080` in a real server's namespace, `/` answering its name; killed
/// on drop.
pub struct Httpd(Option<Child>);

impl Httpd {
    pub fn start(ns: &Netns, dir: &Path, name: &str) -> Httpd {
        let root = dir.join(format!("www-{name}"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("index.html"), format!("{name}\n")).unwrap();
        let child = ns
            .command("/usr/bin/python3")
            .args(["-m", "http.server", "8080", "--directory"])
            .arg(&root)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Httpd(Some(child))
    }

    pub fn stop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Httpd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A line echo server on port 9000 in `ns` (a thread of the test, for the rest of the run).
pub fn echo_server(ns: &Netns) {
    let (tx, rx) = std::sync::mpsc::channel();
    let _ = vrrp_net::netns::spawn_in(ns.name(), move || async move {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("0.0.0.0:9000").await.unwrap();
        let _ = tx.send(());
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut lines = tokio::io::BufReader::new(r).lines();
                while let Ok(Some(l)) = lines.next_line().await {
                    if w.write_all(format!("{l}\n").as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("echo server listening");
}

/// `GET /` on VIP:8080 from `ns`: the body's first line, or "" when it failed.
pub fn get(ns: &Netns) -> String {
    vrrp_net::netns::spawn_in(ns.name(), || async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let connect = tokio::net::TcpStream::connect(HTTP);
        let Ok(Ok(mut s)) = tokio::time::timeout(Duration::from_secs(5), connect).await else {
            return String::new();
        };
        let _ = s
            .write_all(b"GET / HTTP/1.0\r\nHost: 192.0.2.100\r\n\r\n")
            .await;
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out).into_owned();
        match text.split_once("\r\n\r\n") {
            Some((head, body)) if head.starts_with("HTTP/1.0 200") => {
                body.lines().next().unwrap_or_default().to_owned()
            }
            _ => String::new(),
        }
    })
    .join()
    .ok()
    .and_then(Result::ok)
    // The namespace is gone (a load thread outliving a failed test): nothing answered.
    .unwrap_or_default()
}

/// A TCP connection from `ns` to `addr`, usable from the test's own thread (a socket stays in
/// the namespace it was made in).
pub fn connect_in(ns: &Netns, addr: &'static str) -> Option<TcpStream> {
    vrrp_net::netns::spawn_in(ns.name(), move || async move {
        let c = tokio::net::TcpStream::connect(addr);
        let s = tokio::time::timeout(Duration::from_secs(5), c)
            .await
            .ok()?
            .ok()?;
        let s = s.into_std().ok()?;
        s.set_nonblocking(false).ok()?;
        Some(s)
    })
    .join()
    .unwrap()
    .unwrap()
}

/// Sends `line` on an echo connection and returns what came back ("" on failure; the read
/// gives up after `wait`).
pub fn echo(s: &TcpStream, line: &str, wait: Duration) -> String {
    let _ = s.set_read_timeout(Some(wait));
    let mut w = s;
    if w.write_all(format!("{line}\n").as_bytes()).is_err() {
        return String::new();
    }
    let mut out = String::new();
    let _ = BufReader::new(s).read_line(&mut out);
    out.trim_end().to_owned()
}

fn ipvsadm(ns: &Netns, args: &[&str]) -> String {
    let out = ns.exec_unchecked("ipvsadm", args).unwrap();
    assert!(out.status.success(), "ipvsadm {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The kernel's table in `ns`: service (`TCP 192.0.2.100:8080`) → real server → weight.
pub fn table(ns: &Netns) -> BTreeMap<String, BTreeMap<String, u32>> {
    let mut out: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    let mut cur = None;
    for l in ipvsadm(ns, &["-Ln"]).lines() {
        let t: Vec<&str> = l.split_whitespace().collect();
        match t.as_slice() {
            [proto @ ("TCP" | "UDP"), addr, ..] => {
                let k = format!("{proto} {addr}");
                out.entry(k.clone()).or_default();
                cur = Some(k);
            }
            ["->", addr, _fwd, w, ..] => {
                if let (Some(k), Ok(w)) = (&cur, w.parse()) {
                    out.entry(k.clone())
                        .or_default()
                        .insert((*addr).to_owned(), w);
                }
            }
            _ => {}
        }
    }
    out
}

/// The real servers of VIP:8080 with their weights (empty without the service).
pub fn http_dests(ns: &Netns) -> BTreeMap<String, u32> {
    table(ns).remove(&format!("TCP {HTTP}")).unwrap_or_default()
}

/// `(real server n, weight)` as [`http_dests`] shows them.
pub fn dests(mode: Mode, want: &[(usize, u32)]) -> BTreeMap<String, u32> {
    want.iter()
        .map(|(n, w)| (format!("{}:8080", rs_addr(mode, *n)), *w))
        .collect()
}

/// The connection counter of a service (`--stats --exact`): it only goes back to 0 when the
/// service is removed and added again.
pub fn service_conns(ns: &Netns, service: &str) -> Option<u64> {
    ipvsadm(ns, &["-Ln", "--stats", "--exact"])
        .lines()
        .find_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            match t.as_slice() {
                ["TCP", addr, conns, ..] if *addr == service => conns.parse().ok(),
                _ => None,
            }
        })
}

/// The IPVS connection entries (`ipvsadm -Lnc`) to `service`, as `STATE CLIENT DEST`.
pub fn connections(ns: &Netns, service: &str) -> Vec<String> {
    ipvsadm(ns, &["-Lnc"])
        .lines()
        .filter_map(|l| {
            let t: Vec<&str> = l.split_whitespace().collect();
            match t.as_slice() {
                [_, _, state, src, vs, dest] if *vs == service => {
                    Some(format!("{state} {src} {dest}"))
                }
                _ => None,
            }
        })
        .collect()
}

/// The running sync daemons (`ipvsadm -Ln --daemon`) as `master 51` / `backup 51`.
pub fn sync_daemons(ns: &Netns) -> Vec<String> {
    let mut v: Vec<String> = ipvsadm(ns, &["-Ln", "--daemon"])
        .lines()
        .filter_map(|l| {
            let state = l.split_whitespace().next()?;
            let id = l.split("syncid=").nth(1)?.split([',', ')']).next()?;
            Some(format!("{state} {id}"))
        })
        .collect();
    v.sort();
    v
}

/// Waits until `f` holds (every 200 ms, up to 120 s: the emulated VM is slow, and the first
/// start of each program on its file system slower still). The bound is generous on purpose:
/// the assertions are on the state reached, not on how fast.
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for: {what}");
}

/// Requests VIP:8080 `n` times; the bodies that answered.
pub fn spread(client: &Netns, n: usize) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for _ in 0..n {
        let b = get(client);
        if !b.is_empty() {
            *seen.entry(b).or_insert(0) += 1;
        }
    }
    seen
}

/// Prints a step with the time since `t0` (a stuck step shows where it is).
pub fn step(t0: std::time::Instant, test: &str, what: &str) {
    eprintln!("{test}: {:>6.1?} {what}", t0.elapsed());
}

/// SIGTERM and wait for the exit (up to 120 s: the VM is slow; then `kill -9`).
pub fn stop_daemon(d: &mut Daemon) -> std::process::ExitStatus {
    d.signal("-TERM");
    let mut c = d.child.take().expect("running");
    for _ in 0..1200 {
        if let Ok(Some(st)) = c.try_wait() {
            return st;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = c.kill();
    c.wait().unwrap()
}
