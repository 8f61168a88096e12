//! Director bench against the real kernel (run inside the VM by `benches/scripts/director-bench`):
//! a daemon (hagroupd or keepalived) is started on a keepalived.conf of SERVICES virtual servers
//! x REALS real servers (no checkers: keepalived keeps such real servers up), and timed to a
//! converged kernel table (it equals the expected one); then one real server's weight is changed
//! in the file, the daemon gets SIGHUP, and the reload is timed until the kernel shows the new
//! weight (and the whole table equals the expected one). Each run happens in a fresh network
//! namespace.
//!
//! Usage: `director_bench SERVICES REALS ROUNDS NAME=CMD...` where CMD is the daemon's command
//! line with `{conf}` for the configuration path and `{dir}` for a scratch directory, e.g.
//! `hagroupd='/path/hagroupd -n -l -C -f {conf}'`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_netlink::{Client, Desired, Destination, Forward, Service, ServiceKey};

const TIMEOUT: Duration = Duration::from_secs(900);
const POLL: Duration = Duration::from_millis(10);
const SETTLE: Duration = Duration::from_secs(5);

fn key(i: usize) -> ServiceKey {
    ServiceKey::tcp(
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250 + 1) as u8)),
        1000 + (i / 250) as u16,
    )
}

fn real(j: usize) -> IpAddr {
    if j < 250 {
        IpAddr::V4(Ipv4Addr::new(198, 51, 100, (j + 1) as u8))
    } else {
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, (j % 250 + 1) as u8))
    }
}

/// The weight of real server `j` of service `i`; `changed` raises one weight (the reload).
fn weight(i: usize, j: usize, changed: bool) -> u32 {
    if changed && i == 0 && j == 0 { 5 } else { 1 }
}

fn conf(n: usize, m: usize, changed: bool) -> String {
    let mut s = String::with_capacity(n * m * 40);
    let _ = writeln!(s, "global_defs {{\n    router_id bench\n}}");
    for i in 0..n {
        let ServiceKey::Addr { addr, port, .. } = key(i) else {
            continue;
        };
        let _ = writeln!(
            s,
            "virtual_server {addr} {port} {{\n    lb_algo wlc\n    lb_kind NAT\n    protocol TCP"
        );
        for j in 0..m {
            let _ = writeln!(
                s,
                "    real_server {} 8080 {{\n        weight {}\n    }}",
                real(j),
                weight(i, j, changed)
            );
        }
        s.push_str("}\n");
    }
    s
}

fn desired(n: usize, m: usize, changed: bool) -> Desired {
    let mut d = Desired::default();
    for i in 0..n {
        let dests = (0..m)
            .map(|j| {
                let mut r = Destination::new(real(j), 8080, Forward::Masq);
                r.weight = weight(i, j, changed);
                r
            })
            .collect();
        d.services.push((Service::new(key(i), "wlc"), dests));
    }
    d.sorted()
}

/// Polls until the kernel table equals `want`: `probe` (cheap: one or two services' real
/// servers, never a dump of every service, which would hold the kernel's IPVS mutex that the
/// daemon's writes need), then the whole table (its time is not counted).
fn wait_for(
    c: &mut Client,
    want: &Desired,
    probe: &dyn Fn(&mut Client) -> bool,
    child: &mut Child,
    start: Instant,
) -> Result<Duration, String> {
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            return Err(format!("the daemon exited: {st}"));
        }
        if probe(c) {
            let at = start.elapsed();
            let table = c.table().map_err(|e| e.to_string())?;
            if Desired::from_table(&table) == *want {
                return Ok(at);
            }
        }
        if start.elapsed() > TIMEOUT {
            return Err("no convergence within the timeout".into());
        }
        std::thread::sleep(POLL);
    }
}

fn spawn(cmd: &str, conf: &str, dir: &str) -> Result<Child, String> {
    let line = cmd.replace("{conf}", conf).replace("{dir}", dir);
    // Its own process group (setsid), so that all of its processes can be killed at the end.
    Command::new("setsid")
        .args(["sh", "-c", &format!("exec {line}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{line}: {e}"))
}

/// One round for one daemon, in the current (fresh) namespace: prints `startup S` and
/// `reload S` (seconds).
fn measure(cmd: &str, n: usize, m: usize) -> Result<(), String> {
    let dir = std::env::temp_dir().join(format!("director-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("keepalived.conf");
    let conf_path = path.to_string_lossy().into_owned();
    let dir_s = dir.to_string_lossy().into_owned();
    std::fs::write(&path, conf(n, m, false)).map_err(|e| e.to_string())?;
    let mut c = Client::with_timeout(Duration::from_secs(60)).map_err(|e| e.to_string())?;
    let first = key(0);
    let t0 = Instant::now();
    let mut child = spawn(cmd, &conf_path, &dir_s)?;
    // The last and the first service complete (a daemon adding in configuration order is then
    // done; if not, the whole-table check fails and polling goes on).
    let all_in = move |c: &mut Client| {
        [key(n - 1), key(0)]
            .iter()
            .all(|k| c.destinations(k).map(|d| d.len() == m).unwrap_or(false))
    };
    let r = wait_for(&mut c, &desired(n, m, false), &all_in, &mut child, t0);
    let result = r.and_then(|startup| {
        println!("startup {}", startup.as_secs_f64());
        std::fs::write(&path, conf(n, m, true)).map_err(|e| e.to_string())?;
        let t1 = Instant::now();
        Command::new("kill")
            .args(["-HUP", &child.id().to_string()])
            .status()
            .map_err(|e| e.to_string())?;
        let changed = move |c: &mut Client| {
            c.destinations(&first)
                .map(|d| d.iter().any(|d| d.dest.weight == 5))
                .unwrap_or(false)
        };
        let reload = wait_for(&mut c, &desired(n, m, true), &changed, &mut child, t1)?;
        println!("reload {}", reload.as_secs_f64());
        Ok(())
    });
    // Kill the whole process group (keepalived's checker child would otherwise delete its
    // 40,000 real servers one by one, under the kernel's IPVS mutex, during the next run) and
    // wait until every process of it is gone.
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
    let gone = Instant::now();
    while Command::new("kill")
        .args(["-0", "--", &group])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && gone.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--measure") {
        let cmd = args.get(2).cloned().unwrap_or_default();
        return measure(&cmd, arg(3, 2000), arg(4, 20));
    }
    let (n, m, rounds) = (arg(1, 2000), arg(2, 20), arg(3, 1));
    let daemons: Vec<(String, String)> = args
        .iter()
        .skip(4)
        .filter_map(|a| a.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut all: Vec<(String, Vec<f64>, Vec<f64>)> = daemons
        .iter()
        .map(|(k, _)| (k.clone(), Vec::new(), Vec::new()))
        .collect();
    // Warm the guest's page cache with each daemon's executable and libraries (the VM reads
    // the host's files over 9p under emulation; a director's binary is normally on a local
    // disk): its `--version`, once, before any round.
    for (_, cmd) in &daemons {
        if let Some(bin) = cmd.split_whitespace().next() {
            let _ = std::fs::read(bin);
            let _ = Command::new(bin)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    for round in 0..rounds {
        // Alternate the order, and let the kernel clean the previous namespace's table up
        // (asynchronously, under the same IPVS mutex) before the next run.
        let mut order: Vec<usize> = (0..daemons.len()).collect();
        if round % 2 == 1 {
            order.reverse();
        }
        for i in order {
            let (name, cmd) = &daemons[i];
            std::thread::sleep(SETTLE);
            let out = Command::new("unshare")
                .args([
                    "--net",
                    "sh",
                    "-c",
                    "ip link set lo up && exec \"$0\" \"$@\"",
                ])
                .arg(&exe)
                .args(["--measure", cmd, &n.to_string(), &m.to_string()])
                .stderr(Stdio::inherit())
                .output()
                .map_err(|e| format!("unshare: {e}"))?;
            let text = String::from_utf8_lossy(&out.stdout);
            eprintln!("round {round} {name}: {}", text.trim().replace('\n', ", "));
            if !out.status.success() {
                return Err(format!("{name}: measurement failed: {}", out.status));
            }
            for l in text.lines() {
                match l.split_once(' ') {
                    Some(("startup", v)) => all[i].1.push(v.parse().unwrap_or(0.0)),
                    Some(("reload", v)) => all[i].2.push(v.parse().unwrap_or(0.0)),
                    _ => {}
                }
            }
        }
    }
    println!(
        "director bench: {n} virtual servers x {m} real servers, fresh namespace per run, median of {rounds} rounds (guest clock)"
    );
    println!(
        "| daemon | startup to converged table | reload (one weight) to converged table | rounds (startup / reload) |"
    );
    println!("|---|---|---|---|");
    for (name, s, r) in &all {
        let list = |v: &Vec<f64>| {
            v.iter()
                .map(|x| format!("{:.2}", x))
                .collect::<Vec<_>>()
                .join(", ")
        };
        println!(
            "| {name} | {:.2} s | {:.3} s | {} / {} |",
            median(s.clone()),
            median(r.clone()),
            list(s),
            list(r)
        );
    }
    Ok(())
}
