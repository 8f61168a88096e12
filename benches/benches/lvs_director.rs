//! The director core at issue 9's scale: 2,000 virtual services x 20 real servers, each real
//! server with a TCP_CHECK.
//!
//! - `convert+desired`: parsed configuration to `DirectorConfig`, `Director::new` (health pool
//!   with 40,000 checkers) and the desired IPVS table (40,000 destinations);
//! - `noop_reload_plan`: a reload with the same configuration and the plan against the kernel's
//!   table (empty);
//! - `one_change_reload_plan`: a reload changing one weight and its plan (one `-e`);
//! - `clone_inputs`: what the reload cases spend cloning their inputs; `plan_only`: the
//!   reconcile alone.

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use healthcheck::PoolOptions;
use lvs_director::{Director, DirectorConfig};
use std::fmt::Write as _;
use std::hint::black_box;
use std::time::Duration;

const SERVICES: usize = 2_000;
const REAL_SERVERS: usize = 20;

fn text(changed_weight: u32) -> String {
    let mut s = String::with_capacity(SERVICES * REAL_SERVERS * 120);
    for v in 0..SERVICES {
        let _ = writeln!(
            s,
            "virtual_server 10.{}.{}.1 80 {{\n delay_loop 5\n lvs_sched wrr\n lvs_method NAT\n protocol TCP",
            v / 256,
            v % 256
        );
        for r in 0..REAL_SERVERS {
            let w = if v == 0 && r == 0 { changed_weight } else { 1 };
            let _ = writeln!(
                s,
                " real_server 172.16.{}.{} 8080 {{\n  weight {w}\n  TCP_CHECK {{\n   connect_timeout 2\n  }}\n }}",
                r,
                v % 250 + 1
            );
        }
        s.push_str("}\n");
    }
    s
}

fn config(changed_weight: u32) -> DirectorConfig {
    let parsed = kconf_parser::parse_str(&text(changed_weight), &kconf_parser::Options::default());
    assert!(!parsed.has_errors(), "bench configuration has errors");
    DirectorConfig::from_kconf(&parsed.config).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let parsed = kconf_parser::parse_str(&text(1), &kconf_parser::Options::default());
    let base = config(1);
    let changed = config(2);
    let mut g = c.benchmark_group("lvs_director_2000x20");
    g.sample_size(10);
    g.bench_function("convert+desired", |b| {
        b.iter(|| {
            let dc = DirectorConfig::from_kconf(black_box(&parsed.config))
                .unwrap_or_else(|e| panic!("{e}"));
            let d = Director::new(dc, 1, Duration::ZERO, PoolOptions::default());
            black_box(d.desired().services.len())
        });
    });
    let director = Director::new(base.clone(), 1, Duration::ZERO, PoolOptions::default());
    let kernel = director.desired();
    // What the two reload cases below pay for cloning their inputs (not part of a reload).
    g.bench_function("clone_inputs", |b| {
        b.iter(|| black_box((director.clone(), base.clone())).1.health.len());
    });
    let fresh = Director::new(base.clone(), 1, Duration::ZERO, PoolOptions::default());
    let desired = fresh.desired();
    g.bench_function("plan_only", |b| {
        b.iter(|| black_box(fresh.reconcile(black_box(&desired))).len());
    });
    g.bench_function("noop_reload_plan", |b| {
        b.iter(|| {
            let d = director
                .clone()
                .reload(base.clone(), 2, Duration::from_secs(1));
            let ops = d.reconcile(black_box(&kernel));
            assert!(ops.is_empty());
            black_box(ops.len())
        });
    });
    g.bench_function("one_change_reload_plan", |b| {
        b.iter(|| {
            let d = director
                .clone()
                .reload(changed.clone(), 2, Duration::from_secs(1));
            let ops = d.reconcile(black_box(&kernel));
            assert_eq!(ops.len(), 1);
            black_box(ops.len())
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
