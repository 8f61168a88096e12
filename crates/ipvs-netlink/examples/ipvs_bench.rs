//! Bench against the real kernel (run inside the VM by `benches/scripts/ipvs-bench`):
//! programming 1,000 virtual services x 10 real servers into an empty table, ours (`plan` +
//! pipelined `apply`) vs `ipvsadm -R`; listing that table, ours (`Client::table` + rendering
//! `ipvsadm -Ln` text) vs `ipvsadm -Ln`; a no-op reconcile (list + plan, nothing to send).
//! Each run happens in a fresh network namespace; each figure is the median of `ROUNDS` runs.
//!
//! Usage: `ipvs_bench [SERVICES] [REALS] [ROUNDS]` (defaults 1000 10 5). Needs root and IPVS.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ipvs_netlink::{
    Client, Desired, Destination, Forward, ListFormat, Service, ServiceEntry, ServiceExtended,
    ServiceKey, Table, apply, plan,
};

fn arg(i: usize, default: usize) -> usize {
    std::env::args()
        .nth(i)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn table(services: usize, reals: usize) -> Desired {
    let mut d = Desired::default();
    for i in 0..services {
        // 192.0.2.0/24 and 198.51.100.0/24 only hold 254 hosts: vary the port as well.
        let key = ServiceKey::tcp(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 250 + 1) as u8)),
            1000 + (i / 250) as u16,
        );
        let dests = (0..reals)
            .map(|j| {
                Destination::new(
                    IpAddr::V4(Ipv4Addr::new(198, 51, 100, (j % 250 + 1) as u8)),
                    8000 + (j / 250) as u16,
                    Forward::Masq,
                )
            })
            .collect();
        d.services.push((Service::new(key, "wlc"), dests));
    }
    d
}

fn ipvsadm(args: &[&str], input: Option<&str>) -> Result<(), String> {
    let mut child = Command::new("ipvsadm")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("ipvsadm: {e}"))?;
    if let (Some(mut stdin), Some(text)) = (child.stdin.take(), input) {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    let st = child.wait().map_err(|e| e.to_string())?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("ipvsadm {args:?}: {st}"))
    }
}

/// The keys of the kernel's services (one service dump).
fn service_keys(c: &mut Client) -> Result<Vec<ServiceKey>, String> {
    Ok(c.services()
        .map_err(|e| e.to_string())?
        .iter()
        .map(|s| s.service.key)
        .collect())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// The `ipvsadm -R` input for a table.
fn restore_text(want: &Desired) -> String {
    let mut t = Table::default();
    for (s, dests) in &want.services {
        t.services.push(ServiceEntry {
            service: ServiceExtended {
                service: s.clone(),
                stats: Default::default(),
            },
            dests: dests
                .iter()
                .map(|d| ipvs_netlink::DestinationExtended {
                    dest: d.clone(),
                    active_conns: 0,
                    inact_conns: 0,
                    persist_conns: 0,
                    stats: Default::default(),
                })
                .collect(),
        });
    }
    t.save()
}

/// One measurement in the current (fresh) namespace; prints `name seconds` lines.
fn measure(side: &str, n: usize, m: usize) -> Result<(), String> {
    let want = table(n, m);
    let mut c = Client::with_timeout(Duration::from_secs(60)).map_err(|e| e.to_string())?;
    if side == "ipvsadm" {
        let restore = restore_text(&want);
        let t = Instant::now();
        ipvsadm(&["-R"], Some(&restore))?;
        println!("program {}", t.elapsed().as_secs_f64());
        let t = Instant::now();
        ipvsadm(&["-Ln"], None)?;
        println!("list {}", t.elapsed().as_secs_f64());
    } else {
        let t = Instant::now();
        let results = apply(&mut c, plan(&want, &Desired::default()));
        println!("program {}", t.elapsed().as_secs_f64());
        if let Some(bad) = results.iter().find(|r| r.result.is_err()) {
            return Err(format!("apply: {} -> {:?}", bad.op, bad.result));
        }
        let t = Instant::now();
        let text = c
            .table()
            .map_err(|e| e.to_string())?
            .list(ListFormat::Default);
        println!("list {}", t.elapsed().as_secs_f64());
        if text.lines().count() != 3 + n * (m + 1) {
            return Err(format!("listing has {} lines", text.lines().count()));
        }
        // The floor of any listing: the service dump and one real-server dump per service,
        // decoded, nothing else.
        let t = Instant::now();
        let keys = service_keys(&mut c)?;
        for k in &keys {
            c.destinations(k).map_err(|e| e.to_string())?;
        }
        println!("dumps {}", t.elapsed().as_secs_f64());
        let t = Instant::now();
        let actual = Desired::from_table(&c.table().map_err(|e| e.to_string())?);
        let results = apply(&mut c, plan(&want, &actual));
        println!("noop {}", t.elapsed().as_secs_f64());
        if !results.is_empty() {
            return Err(format!(
                "no-op reconcile planned {} operations",
                results.len()
            ));
        }
    }
    // The kernel table must be what was asked, whoever programmed it.
    let got = Desired::from_table(&c.table().map_err(|e| e.to_string())?);
    if got != want.sorted() {
        return Err(format!(
            "{side}: the kernel table differs from the desired one"
        ));
    }
    Ok(())
}

/// Runs `measure` for `side` in a fresh network namespace (a fresh IPVS table, and no real
/// servers lingering in the kernel's destination trash from an earlier round).
fn measure_in_netns(side: &str, n: usize, m: usize) -> Result<Vec<(String, Duration)>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new("unshare")
        .args([
            "--net",
            "sh",
            "-c",
            "ip link set lo up && exec \"$0\" \"$@\"",
        ])
        .arg(exe)
        .args(["--measure", side, &n.to_string(), &m.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("unshare: {e}"))?;
    if !out.status.success() {
        return Err(format!("measurement {side} failed: {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_owned(), Duration::from_secs_f64(v.parse().ok()?)))
        })
        .collect())
}

/// This process's (user, system) CPU time in clock ticks (`/proc/self/stat` fields 14 and 15).
fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    (
        f.get(11).copied().unwrap_or(0),
        f.get(12).copied().unwrap_or(0),
    )
}

/// Where a listing's time goes (run by hand in the VM, in a fresh namespace): programs the
/// table, then times the listing variants and runs `strace -c` on ours and on `ipvsadm -Ln`.
fn probe(n: usize, m: usize, strace: bool) -> Result<(), String> {
    let want = table(n, m);
    let mut c = Client::with_timeout(Duration::from_secs(60)).map_err(|e| e.to_string())?;
    let results = apply(&mut c, plan(&want, &Desired::default()));
    if results.iter().any(|r| r.result.is_err()) {
        return Err("apply failed".into());
    }
    for round in 0..arg(4, 3) {
        let t = Instant::now();
        let keys = service_keys(&mut c)?;
        let services = t.elapsed();
        let t = Instant::now();
        let (u0, s0) = cpu_ticks();
        for k in &keys {
            c.destinations(k).map_err(|e| e.to_string())?;
        }
        let (u1, s1) = cpu_ticks();
        let dests = t.elapsed();
        let cpu = format!("user {} ticks, system {} ticks", u1 - u0, s1 - s0);
        let mut lists = Vec::new();
        let mut table = Table::default();
        for socks in [1, 2, 4] {
            c.set_dump_sockets(socks);
            let t = Instant::now();
            table = c.table().map_err(|e| e.to_string())?;
            lists.push(format!("{socks}: {}", ms(t.elapsed())));
        }
        c.set_dump_sockets(0);
        let list = lists.join(", ");
        let t = Instant::now();
        let _ = table.list(ListFormat::Default);
        let render = t.elapsed();
        let t = Instant::now();
        ipvsadm(&["-Ln"], None)?;
        let theirs = t.elapsed();
        println!(
            "round {round}: service dump {}, {} dest dumps on one socket {} ({cpu}), table() by dump sockets [{}], render {}, ipvsadm -Ln {}",
            ms(services),
            keys.len(),
            ms(dests),
            list,
            ms(render),
            ms(theirs)
        );
    }
    if !strace {
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    for cmd in [
        vec!["strace", "-c", "-f", "ipvsadm", "-Ln"],
        vec![
            "strace",
            "-c",
            "-f",
            exe.to_str().unwrap_or_default(),
            "--list-once",
        ],
    ] {
        println!("--- {}", cmd.join(" "));
        let st = Command::new(cmd[0])
            .args(&cmd[1..])
            .stdout(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        if !st.success() {
            return Err(format!("{cmd:?}: {st}"));
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--probe") {
        return probe(
            arg(2, 1000),
            arg(3, 10),
            std::env::var_os("IPVS_PROBE_STRACE").is_some(),
        );
    }
    if args.get(1).map(String::as_str) == Some("--list-once") {
        let mut c = Client::new().map_err(|e| e.to_string())?;
        let t = Instant::now();
        let n = c.table().map_err(|e| e.to_string())?.services.len();
        eprintln!("list-once: {n} services in {}", ms(t.elapsed()));
        return Ok(());
    }
    if args.get(1).map(String::as_str) == Some("--measure") {
        let side = args.get(2).cloned().unwrap_or_default();
        return measure(&side, arg(3, 1000), arg(4, 10));
    }
    let (n, m, rounds) = (arg(1, 1000), arg(2, 10), arg(3, 5));
    let mut all: std::collections::HashMap<(String, String), Vec<Duration>> = Default::default();
    for _ in 0..rounds {
        // IPVS_BENCH_OURS_ONLY=1 skips ipvsadm (for quick experiments).
        let sides: &[&str] = if std::env::var_os("IPVS_BENCH_OURS_ONLY").is_some() {
            &["ours"]
        } else {
            &["ipvsadm", "ours"]
        };
        for side in sides {
            for (k, d) in measure_in_netns(side, n, m)? {
                all.entry(((*side).to_owned(), k)).or_default().push(d);
            }
        }
    }
    let get = |side: &str, k: &str| {
        median(
            all.get(&(side.to_owned(), k.to_owned()))
                .cloned()
                .unwrap_or_default(),
        )
    };
    let (o, t) = (get("ours", "program"), get("ipvsadm", "program"));
    let (lo, lt) = (get("ours", "list"), get("ipvsadm", "list"));
    println!(
        "IPVS bench: {n} services x {m} real servers, each run in a fresh network namespace, median of {rounds} rounds (guest clock)"
    );
    println!("| what | hagroup (ipvs-netlink) | ipvsadm | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| program into an empty table | {} | {} (`ipvsadm -R`) | {:.1}x faster |",
        ms(o),
        ms(t),
        t.as_secs_f64() / o.as_secs_f64()
    );
    println!(
        "| list the table | {} | {} (`ipvsadm -Ln`) | {:.1}x faster |",
        ms(lo),
        ms(lt),
        lt.as_secs_f64() / lo.as_secs_f64()
    );
    println!(
        "| no-op reconcile (list + plan, nothing sent) | {} | - | - |",
        ms(get("ours", "noop"))
    );
    println!(
        "| bare dumps (service dump + {n} real-server dumps, decoded) | {} | - | - |",
        ms(get("ours", "dumps"))
    );
    println!("rounds (ours list / ipvsadm -Ln):");
    let all_of = |side: &str, k: &str| {
        all.get(&(side.to_owned(), k.to_owned()))
            .map(|v| v.iter().map(|d| ms(*d)).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    };
    for k in ["program", "list", "dumps", "noop"] {
        println!(
            "  {k}: ours [{}] ipvsadm [{}]",
            all_of("ours", k),
            all_of("ipvsadm", k)
        );
    }
    Ok(())
}
