//! System bench of the checker side (run by `benches/scripts/healthcheck-scale`).
//!
//! `hc_scale serve TCP HTTP PORTFILE`: opens TCP loopback listeners that accept and close, and
//! HTTP listeners that answer a fixed 200 response, and writes their ports to PORTFILE (one line
//! `tcp PORT` or `http PORT` each). Runs until killed.
//!
//! `hc_scale check PORTFILE SECONDS`: builds a pool with one TCP_CHECK or HTTP_GET real server per
//! port at `delay_loop 1` (warmup 1 s), runs the tokio driver on one worker thread for SECONDS
//! after a warm-up of 3 s, and prints the CPU time it used (user + system, from getrusage over the
//! measured window), the CPU share of one core, the checks run and the lag quantiles.
//!
//! `hc_scale floor PORTFILE N`: N blocking connect + close to the TCP listeners, one at a time,
//! with no event loop: the kernel's own cost of one loopback TCP check (both ends of the
//! handshake run in the connecting process's system time on loopback).
// A bench program: failures should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use healthcheck::config::*;
use healthcheck::probes::Driver;
use healthcheck::{Pool, PoolOptions};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// User and system CPU time of this process so far (/proc/self/stat fields 14 and 15, in clock
/// ticks of 10 ms).
fn user_sys() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = stat.rsplit_once(')').unwrap().1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| Duration::from_millis(f[i].parse::<u64>().unwrap() * 10);
    (ticks(11), ticks(12))
}

/// The kernel's floor for one TCP_CHECK on loopback: blocking connect + close to the same
/// listeners, one at a time, with no event loop; prints the CPU per connection.
fn floor(portfile: &str, n: usize) {
    let text = std::fs::read_to_string(portfile).unwrap();
    let ports: Vec<u16> = text
        .lines()
        .filter_map(|l| l.strip_prefix("tcp "))
        .map(|p| p.parse().unwrap())
        .collect();
    let (u0, s0) = user_sys();
    for i in 0..n {
        let port = ports[i % ports.len()];
        let s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        drop(s);
    }
    let (u1, s1) = user_sys();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
    println!("floor_connections {n}");
    println!("floor_user_us_per_connection {:.1}", per(u1 - u0));
    println!("floor_system_us_per_connection {:.1}", per(s1 - s0));
}

/// Time this (main, runtime) thread spent runnable but waiting for a CPU.
fn run_delay() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").unwrap_or_default();
    let ns = stat
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Duration::from_nanos(ns)
}

async fn serve(tcp: usize, http: usize, portfile: &str) {
    let mut lines = String::new();
    for kind in (0..tcp).map(|_| false).chain((0..http).map(|_| true)) {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        lines.push_str(&format!("{} {port}\n", if kind { "http" } else { "tcp" }));
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = l.accept().await else {
                    continue;
                };
                if kind {
                    tokio::spawn(async move {
                        let mut buf = [0u8; 1024];
                        let _ = s.read(&mut buf).await;
                        let _ = s
                            .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello")
                            .await;
                    });
                }
            }
        });
    }
    std::fs::write(portfile, lines).unwrap();
    std::future::pending::<()>().await;
}

fn pool_from(portfile: &str) -> Pool {
    let text = std::fs::read_to_string(portfile).unwrap();
    let mut vs = VirtualServerConfig::new(VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: "192.0.2.1:80".parse().unwrap(),
    });
    vs.quorum = 1;
    for line in text.lines() {
        let (kind, port) = line.split_once(' ').unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let kind = if kind == "http" {
            CheckerKind::Http(HttpCheck {
                urls: vec![UrlCheck {
                    digest: Some("5d41402abc4b2a76b9719d911017c592".into()),
                    ..Default::default()
                }],
                ..Default::default()
            })
        } else {
            CheckerKind::Tcp
        };
        let mut c = CheckerConfig::new(kind, Duration::from_secs(1));
        c.timing.warmup = Duration::from_secs(1);
        c.timing.connect_timeout = Duration::from_secs(2);
        let mut rs = RealServerConfig::new(addr);
        rs.checkers.push(c);
        vs.real_servers.push(rs);
    }
    Pool::new(vec![vs], 42, Duration::ZERO, PoolOptions::default())
}

async fn check(portfile: &str, seconds: u64) {
    let pool = pool_from(portfile);
    let n = pool.checker_count();
    let origin = tokio::time::Instant::now();
    let driver = Driver::new(pool, origin);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let events = tokio::spawn(async move {
        let mut count = 0u64;
        while rx.recv().await.is_some() {
            count += 1;
        }
        count
    });
    let warmup = Duration::from_secs(3);
    let measure = Duration::from_secs(seconds);
    let (cpu_tx, cpu_rx) = tokio::sync::oneshot::channel();
    let stop = async move {
        tokio::time::sleep(warmup).await;
        let c0 = user_sys();
        let r0 = run_delay();
        let t0 = std::time::Instant::now();
        tokio::time::sleep(measure).await;
        let c1 = user_sys();
        let _ = cpu_tx.send((c1.0 - c0.0, c1.1 - c0.1, t0.elapsed(), run_delay() - r0));
    };
    let (_pool, stats) = driver.run(tx, stop).await;
    let (user, sys, wall, waited) = cpu_rx.await.unwrap();
    let cpu = user + sys;
    let events = events.await.unwrap();
    // Lag samples of the measured window only: drop the warm-up's share.
    let mut s = stats.clone();
    let skip = (s.lag_micros.len() as f64 * warmup.as_secs_f64() / (warmup + measure).as_secs_f64())
        as usize;
    s.lag_micros.drain(..skip.min(s.lag_micros.len()));
    println!("checkers {n}");
    println!("checks_started {}", stats.checks_started);
    println!("checks_failed {}", stats.checks_failed);
    println!(
        "checks_per_second {:.0}",
        stats.checks_started as f64 / (warmup + measure).as_secs_f64()
    );
    println!("events {events}");
    println!("cpu_seconds {:.2}", cpu.as_secs_f64());
    println!("user_seconds {:.2}", user.as_secs_f64());
    println!("system_seconds {:.2}", sys.as_secs_f64());
    let measured_checks =
        stats.checks_started as f64 * measure.as_secs_f64() / (warmup + measure).as_secs_f64();
    println!(
        "cpu_us_per_check {:.1} (user {:.1}, system {:.1})",
        cpu.as_secs_f64() * 1e6 / measured_checks,
        user.as_secs_f64() * 1e6 / measured_checks,
        sys.as_secs_f64() * 1e6 / measured_checks
    );
    println!("wall_seconds {:.2}", wall.as_secs_f64());
    println!(
        "cpu_share_of_one_core {:.1}%",
        100.0 * cpu.as_secs_f64() / wall.as_secs_f64()
    );
    println!(
        "runnable_but_waiting_for_cpu {:.1}%",
        100.0 * waited.as_secs_f64() / wall.as_secs_f64()
    );
    for (name, q) in [("p50", 0.5), ("p99", 0.99), ("max", 1.0)] {
        println!(
            "lag_{name}_ms {:.3}",
            s.lag_quantile(q).unwrap_or_default().as_secs_f64() * 1000.0
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match args.get(1).map(String::as_str) {
        Some("serve") => rt.block_on(serve(
            args[2].parse().unwrap(),
            args[3].parse().unwrap(),
            &args[4],
        )),
        Some("check") => rt.block_on(check(&args[2], args[3].parse().unwrap())),
        Some("floor") => floor(&args[2], args[3].parse().unwrap()),
        _ => panic!(
            "usage: hc_scale serve TCP HTTP PORTFILE | hc_scale check PORTFILE SECONDS | hc_scale floor PORTFILE N"
        ),
    }
}
