//! The harness behind `benches/scripts/vrrp-bench`: VRRP daemons (hagroupd and keepalived,
//! same keepalived.conf) on a throwaway netns bridge, measured on the wire from an observer
//! namespace. Needs root.
//!
//! ```text
//! vrrp_lab_bench failover NAME=BINARY... [--runs N] [--modes v2-1s,v3-1s,v3-100ms,v3-10ms]
//! vrrp_lab_bench stress   NAME=BINARY... [--seconds S]
//! vrrp_lab_bench cpu      NAME=BINARY... [--instances N] [--seconds S]
//! ```
//!
//! `failover`: routers with priorities 150/100/50; the Master's VRRP process is killed with
//! SIGKILL; reported: last advert of the old Master to the first advert and the first GARP of
//! the new one, median and worst over the runs, against Master_Down_Interval of priority 100.
//! `stress`: two routers at VRRPv3 10 ms, every core kept busy by spinning processes; counts
//! takeovers by the Backup while the Master is alive. `cpu`: N instances at VRRPv3 100 ms on
//! one router pair; CPU seconds per minute of the Master side and of the Backup side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use netns_lab::{Lab, Netns};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

#[derive(Clone, Copy, Debug)]
enum Seen {
    Advert(Ipv4Addr, u8),
    Garp(Ipv4Addr),
}

fn classify(f: &[u8]) -> Option<Seen> {
    let ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    match ethertype {
        0x0806 => {
            let spa = f.get(28..32)?;
            (spa == f.get(38..42)?)
                .then(|| Seen::Garp(Ipv4Addr::new(spa[0], spa[1], spa[2], spa[3])))
        }
        0x0800 => {
            let ip = f.get(14..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 112 {
                return None;
            }
            let s = ip.get(12..16)?;
            Some(Seen::Advert(
                Ipv4Addr::new(s[0], s[1], s[2], s[3]),
                *ip.get(ihl + 2)?,
            ))
        }
        _ => None,
    }
}

type Log = Arc<Mutex<Vec<(Instant, Seen)>>>;

fn observe(ns: &Netns, stop: Arc<Mutex<bool>>) -> Log {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let l2 = Arc::clone(&log);
    let name = ns.name().to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        vrrp_net::netns::enter(&name).unwrap();
        let idx = vrrp_net::iface::index_of("eth0").unwrap();
        let cap = vrrp_net::announce::FrameCapture::open(idx, Duration::from_millis(50)).unwrap();
        tx.send(()).unwrap();
        while !*stop.lock().unwrap() {
            if let Some(f) = cap.next() {
                let now = Instant::now();
                if let Some(s) = classify(&f) {
                    l2.lock().unwrap().push((now, s));
                }
            }
        }
    });
    rx.recv().unwrap();
    log
}

struct Lan {
    _lab: Lab,
    routers: Vec<Netns>,
    obs: Netns,
    dir: PathBuf,
}

fn lan(n: usize) -> Lan {
    let mut lab = Lab::new("bench").unwrap();
    let sw = lab.add_ns("sw").unwrap();
    lab.bridge(&sw, "br0").unwrap();
    let mut routers = Vec::new();
    for i in 1..=n {
        let r = lab.add_ns(&format!("r{i}")).unwrap();
        lab.attach(&r, "eth0", &sw, "br0", &format!("p{i}"))
            .unwrap();
        r.ip(&["addr", "add", &format!("192.0.2.{i}/24"), "dev", "eth0"])
            .unwrap();
        routers.push(r);
    }
    let obs = lab.add_ns("obs").unwrap();
    lab.attach(&obs, "eth0", &sw, "br0", "po").unwrap();
    let dir = std::env::temp_dir().join(format!("vrrp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    Lan {
        _lab: lab,
        routers,
        obs,
        dir,
    }
}

struct Mode {
    name: &'static str,
    version: u8,
    advert: &'static str,
    interval: Duration,
}

const MODES: [Mode; 4] = [
    Mode {
        name: "v2-1s",
        version: 2,
        advert: "1",
        interval: Duration::from_secs(1),
    },
    Mode {
        name: "v3-1s",
        version: 3,
        advert: "1",
        interval: Duration::from_secs(1),
    },
    Mode {
        name: "v3-100ms",
        version: 3,
        advert: "0.1",
        interval: Duration::from_millis(100),
    },
    Mode {
        name: "v3-10ms",
        version: 3,
        advert: "0.01",
        interval: Duration::from_millis(10),
    },
];

fn conf(instances: &[(u8, u8, Ipv4Addr)], version: u8, advert: &str) -> String {
    let mut s = String::from("global_defs {\n    router_id bench\n}\n");
    for (vrid, prio, vip) in instances {
        s.push_str(&format!(
            "vrrp_instance VI_{vrid} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {vrid}\n    \
             priority {prio}\n    advert_int {advert}\n    version {version}\n    \
             virtual_ipaddress {{\n        {vip}/24\n    }}\n}}\n"
        ));
    }
    s
}

struct Daemon {
    child: Child,
    vrrp_pid_file: PathBuf,
}

fn start(ns: &Netns, dir: &Path, tag: &str, bin: &str, conf: &str) -> Daemon {
    let c = dir.join(format!("{tag}.conf"));
    std::fs::write(&c, conf).unwrap();
    let log = std::fs::File::create(dir.join(format!("{tag}.log"))).unwrap();
    let vrrp_pid_file = dir.join(format!("{tag}.vrrp.pid"));
    let mut cmd = ns.command(bin);
    cmd.args(["-n", "-l", "-f"])
        .arg(&c)
        .arg("-p")
        .arg(dir.join(format!("{tag}.pid")))
        .arg("-r")
        .arg(&vrrp_pid_file);
    if bin.ends_with("keepalived") {
        cmd.arg("-P");
    }
    let child = cmd
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Daemon {
        child,
        vrrp_pid_file,
    }
}

impl Daemon {
    /// The PIDs doing VRRP work: the VRRP child (keepalived) and the main process.
    fn pids(&self) -> Vec<u32> {
        let mut v = vec![self.child.id()];
        if let Some(p) = std::fs::read_to_string(&self.vrrp_pid_file)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            && p != self.child.id()
        {
            v.insert(0, p);
        }
        v
    }

    /// SIGKILL to the VRRP process first, then the parent (keepalived's parent would otherwise
    /// SIGTERM its child, a graceful stop).
    fn kill9(&mut self) {
        for p in self.pids() {
            let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
        }
        let _ = self.child.wait();
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn cpu_ticks(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let get = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // Fields after the command: state is 0, utime is 11, stime is 12.
    get(11) + get(12)
}

fn wait_for(log: &Log, timeout: Duration, f: impl Fn(&[(Instant, Seen)]) -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if f(&log.lock().unwrap()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn failover_run(bin: &str, mode: &Mode) -> Option<(f64, f64)> {
    let lan = lan(3);
    let stop = Arc::new(Mutex::new(false));
    let log = observe(&lan.obs, Arc::clone(&stop));
    let r = |i: u8| Ipv4Addr::new(192, 0, 2, i);
    let mut ds = Vec::new();
    for (i, prio) in [(1u8, 150u8), (2, 100), (3, 50)] {
        let c = conf(&[(51, prio, VIP)], mode.version, mode.advert);
        ds.push(start(
            &lan.routers[usize::from(i - 1)],
            &lan.dir,
            &format!("r{i}"),
            bin,
            &c,
        ));
    }
    let settle = mode.interval * 3 + Duration::from_secs(5);
    let ok = wait_for(&log, settle * 2, |l| {
        l.iter()
            .filter(|(_, s)| matches!(s, Seen::Advert(a, p) if *a == r(1) && *p > 0))
            .count()
            >= 5
    });
    if !ok {
        eprintln!("  r1 never became Master");
        return None;
    }
    log.lock().unwrap().clear();
    std::thread::sleep(mode.interval * 2);
    ds[0].kill9();
    let limit = mode.interval * 3 + mode.interval * (256 - 100) / 256;
    let got = wait_for(&log, limit * 3 + Duration::from_secs(1), |l| {
        l.iter().any(|(_, s)| matches!(s, Seen::Garp(_)))
            && l.iter()
                .any(|(_, s)| matches!(s, Seen::Advert(a, _) if *a != r(1)))
    });
    std::thread::sleep(Duration::from_millis(50));
    *stop.lock().unwrap() = true;
    if !got {
        eprintln!("  no takeover seen");
        return None;
    }
    let l = log.lock().unwrap().clone();
    let last_old = l
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Advert(a, p) if *a == r(1) && *p > 0))
        .map(|(t, _)| *t)
        .next_back()?;
    let first_new = l
        .iter()
        .find(|(t, s)| *t > last_old && matches!(s, Seen::Advert(a, _) if *a != r(1)))?;
    if !matches!(first_new.1, Seen::Advert(a, _) if a == r(2)) {
        eprintln!("  the wrong router took over: {:?}", first_new.1);
    }
    let garp = l
        .iter()
        .find(|(t, s)| *t > last_old && matches!(s, Seen::Garp(a) if *a == VIP))?;
    Some((ms(first_new.0 - last_old), ms(garp.0 - last_old)))
}

fn stats(v: &mut [f64]) -> (f64, f64) {
    v.sort_by(|a, b| a.total_cmp(b));
    let median = if v.is_empty() {
        f64::NAN
    } else if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v.last().copied().unwrap_or(f64::NAN))
}

fn failover(impls: &[(String, String)], runs: usize, modes: &[&str]) {
    println!(
        "| mode | implementation | runs | advert→advert median | worst | advert→GARP median | worst | limit (Master_Down_Interval, prio 100) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for mode in MODES.iter().filter(|m| modes.contains(&m.name)) {
        let limit = ms(mode.interval * 3 + mode.interval * (256 - 100) / 256);
        for (name, bin) in impls {
            let mut adv = Vec::new();
            let mut garp = Vec::new();
            for i in 0..runs {
                eprintln!("{} {name} run {}/{runs}", mode.name, i + 1);
                if let Some((a, g)) = failover_run(bin, mode) {
                    adv.push(a);
                    garp.push(g);
                }
            }
            let n = adv.len();
            let (am, aw) = stats(&mut adv);
            let (gm, gw) = stats(&mut garp);
            println!(
                "| {} | {name} | {n} | {am:.1} ms | {aw:.1} ms | {gm:.1} ms | {gw:.1} ms | {limit:.1} ms |",
                mode.name
            );
        }
    }
}

fn spinners() -> Vec<Child> {
    let n = std::thread::available_parallelism().map_or(2, |n| n.get());
    (0..n)
        .map(|_| {
            Command::new("sh")
                .args(["-c", "while :; do :; done"])
                .spawn()
                .unwrap()
        })
        .collect()
}

fn stress(impls: &[(String, String)], seconds: u64) {
    println!(
        "| implementation | seconds | busy spinners | takeovers by the Backup | Backup adverts |"
    );
    println!("|---|---|---|---|---|");
    for (name, bin) in impls {
        let lan = lan(2);
        let stop = Arc::new(Mutex::new(false));
        let log = observe(&lan.obs, Arc::clone(&stop));
        let _d1 = start(
            &lan.routers[0],
            &lan.dir,
            "r1",
            bin,
            &conf(&[(51, 150, VIP)], 3, "0.01"),
        );
        let _d2 = start(
            &lan.routers[1],
            &lan.dir,
            "r2",
            bin,
            &conf(&[(51, 100, VIP)], 3, "0.01"),
        );
        std::thread::sleep(Duration::from_secs(3));
        log.lock().unwrap().clear();
        let mut spin = spinners();
        let n = spin.len();
        std::thread::sleep(Duration::from_secs(seconds));
        for s in &mut spin {
            let _ = s.kill();
            let _ = s.wait();
        }
        *stop.lock().unwrap() = true;
        let l = log.lock().unwrap().clone();
        let backup = Ipv4Addr::new(192, 0, 2, 2);
        let times: Vec<Instant> = l
            .iter()
            .filter(|(_, s)| matches!(s, Seen::Advert(a, p) if *a == backup && *p > 0))
            .map(|(t, _)| *t)
            .collect();
        let mut episodes = 0;
        let mut prev: Option<Instant> = None;
        for t in &times {
            if prev.is_none_or(|p| *t - p > Duration::from_millis(100)) {
                episodes += 1;
            }
            prev = Some(*t);
        }
        println!(
            "| {name} | {seconds} | {n} | {episodes} | {} |",
            times.len()
        );
    }
}

fn cpu(impls: &[(String, String)], instances: u8, seconds: u64) {
    println!("| implementation | instances | role | CPU s per minute |");
    println!("|---|---|---|---|");
    let tick = 100.0; // USER_HZ
    for (name, bin) in impls {
        let lan = lan(2);
        let list = |prio: u8| -> Vec<(u8, u8, Ipv4Addr)> {
            (1..=instances)
                .map(|v| (v, prio, Ipv4Addr::new(198, 51, 100, v)))
                .collect()
        };
        let d1 = start(
            &lan.routers[0],
            &lan.dir,
            "r1",
            bin,
            &conf(&list(150), 3, "0.1"),
        );
        let d2 = start(
            &lan.routers[1],
            &lan.dir,
            "r2",
            bin,
            &conf(&list(100), 3, "0.1"),
        );
        std::thread::sleep(Duration::from_secs(6));
        let sum = |d: &Daemon| d.pids().iter().map(|p| cpu_ticks(*p)).sum::<u64>();
        let (a0, b0) = (sum(&d1), sum(&d2));
        std::thread::sleep(Duration::from_secs(seconds));
        let (a1, b1) = (sum(&d1), sum(&d2));
        let per_min = |d: u64| d as f64 / tick * 60.0 / seconds as f64;
        println!(
            "| {name} | {instances} | Master | {:.2} |",
            per_min(a1 - a0)
        );
        println!(
            "| {name} | {instances} | Backup | {:.2} |",
            per_min(b1 - b0)
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(cmd) = args.first().cloned() else {
        eprintln!("usage: vrrp_lab_bench failover|stress|cpu NAME=BINARY... [options]");
        std::process::exit(2);
    };
    let mut impls = Vec::new();
    let mut opt = std::collections::HashMap::new();
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        if let Some(k) = a.strip_prefix("--") {
            opt.insert(k.to_owned(), it.next().cloned().unwrap_or_default());
        } else if let Some((n, b)) = a.split_once('=') {
            impls.push((n.to_owned(), b.to_owned()));
        }
    }
    let num = |k: &str, d: u64| opt.get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
    match cmd.as_str() {
        "failover" => {
            let modes = opt
                .get("modes")
                .cloned()
                .unwrap_or_else(|| "v2-1s,v3-1s,v3-100ms,v3-10ms".into());
            let modes: Vec<&str> = modes.split(',').collect();
            failover(&impls, num("runs", 20) as usize, &modes);
        }
        "stress" => stress(&impls, num("seconds", 60)),
        "cpu" => cpu(&impls, num("instances", 200) as u8, num("seconds", 60)),
        other => {
            eprintln!("unknown command {other}");
            std::process::exit(2);
        }
    }
}
