//! Scheduling core of the checker side: the cost of running one second of virtual time for a
//! pool of 10,000 TCP_CHECK and 2,000 HTTP_GET checkers at `delay_loop 1` (12,000 due checks,
//! each taken with `poll_due` and answered with `handle_result`, events drained).

use criterion::{Criterion, criterion_group, criterion_main};
use healthcheck::config::*;
use healthcheck::{Outcome, Pool, PoolOptions};
use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Duration;

fn pool(tcp: usize, http: usize) -> Pool {
    let mut vs = VirtualServerConfig::new(VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: SocketAddr::from(([192, 0, 2, 1], 80)),
    });
    for i in 0..tcp + http {
        let octets = u32::try_from(i).unwrap_or(0).to_be_bytes();
        let addr = SocketAddr::from(([10, octets[1], octets[2], octets[3]], 80));
        let kind = if i < tcp {
            CheckerKind::Tcp
        } else {
            CheckerKind::Http(HttpCheck::default())
        };
        let mut c = CheckerConfig::new(kind, Duration::from_secs(1));
        c.timing.warmup = Duration::from_secs(1);
        let mut rs = RealServerConfig::new(addr);
        rs.checkers.push(c);
        vs.real_servers.push(rs);
    }
    Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default())
}

/// Runs one virtual second from `start`; every 50th check fails, so servers flap.
fn one_second(pool: &mut Pool, start: Duration, flip: &mut u64) -> usize {
    let mut checks = 0;
    let end = start + Duration::from_secs(1);
    while let Some(t) = pool.poll_timeout() {
        if t >= end {
            break;
        }
        while let Some(due) = pool.poll_due(t) {
            *flip += 1;
            let outcome = if (*flip).is_multiple_of(50) {
                Outcome::Down
            } else {
                Outcome::Up
            };
            pool.handle_result(t, due.id, outcome);
            checks += 1;
        }
        while let Some(ev) = pool.poll_event() {
            black_box(ev);
        }
    }
    checks
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("healthcheck_sched");
    g.throughput(criterion::Throughput::Elements(12_000));
    g.bench_function("one_virtual_second_12000_checkers", |b| {
        let mut p = pool(10_000, 2_000);
        let mut flip = 0;
        // Past the warmup: every checker has run once.
        let mut now = Duration::ZERO;
        for _ in 0..3 {
            one_second(&mut p, now, &mut flip);
            now += Duration::from_secs(1);
        }
        b.iter(|| {
            let n = one_second(&mut p, now, &mut flip);
            now += Duration::from_secs(1);
            black_box(n)
        });
    });
    g.bench_function("build_pool_12000_checkers", |b| {
        b.iter(|| black_box(pool(10_000, 2_000)));
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
