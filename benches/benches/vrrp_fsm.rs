//! vrrp-fsm: the steady path, in events per second.
//!
//! - `backup_handle_advert`: a Backup hears its Master's advert (RFC 9568 §6.4.2), then the
//!   driver polls actions and the next timeout, as a daemon does per packet.
//! - `master_handle_timeout`: a Master's Adver_Timer fires (RFC 9568 §6.4.3) and the driver
//!   drains the `SendAdvert` action and re-reads the timeout.
//!
//! Run: `cargo bench -p hagroup-benches --bench vrrp_fsm -- --warm-up-time 1 --measurement-time 3`
//! (figures in docs/benchmarks.md). `crates/vrrp-fsm/tests/no_alloc.rs` checks that these paths
//! do not allocate.
#![allow(missing_docs, clippy::unwrap_used)]

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use vrrp_fsm::{Instant, RouterConfig, State, VirtualRouter};
use vrrp_proto::{AdvertInterval, Advertisement, Auth, Priority, Version, Vrid};

fn config(host: u8, prio: u8) -> RouterConfig {
    let mut c = RouterConfig::new(
        Vrid::new(51).unwrap(),
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)),
        vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
    );
    c.version = Version::V3;
    c.advert_interval = AdvertInterval::from_centis(1).unwrap();
    c.priority = Priority(prio);
    c
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_fsm");
    g.throughput(Throughput::Elements(1));

    let cfg = config(2, 100);
    let adv = Advertisement {
        version: Version::V3,
        vrid: cfg.vrid,
        priority: Priority(200),
        interval: cfg.advert_interval,
        auth: Auth::None,
        addresses: cfg.virtual_addresses.clone(),
    };
    let from = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let mut backup = VirtualRouter::new(cfg, Instant::ZERO).unwrap();
    while backup.poll_action().is_some() {}
    let mut now = Instant::ZERO;
    g.bench_function("backup_handle_advert", |b| {
        b.iter(|| {
            now += Duration::from_millis(10);
            let r = backup.handle_advert(now, black_box(from), black_box(&adv));
            while let Some(a) = backup.poll_action() {
                black_box(a);
            }
            black_box((r, backup.poll_timeout()))
        })
    });
    assert_eq!(backup.state(), State::Backup);

    let mut master = VirtualRouter::new(config(1, 255), Instant::ZERO).unwrap();
    while master.poll_action().is_some() {}
    g.bench_function("master_handle_timeout", |b| {
        b.iter(|| {
            let t = master.poll_timeout().unwrap();
            master.handle_timeout(black_box(t));
            while let Some(a) = master.poll_action() {
                black_box(a);
            }
        })
    });
    assert_eq!(master.state(), State::Master);
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
