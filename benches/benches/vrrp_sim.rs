//! vrrp-sim: simulated router-hours per wall second for a 3-router LAN at 100 ms adverts
//! (VRRPv3, 100 µs latency, no loss; with 5% loss as a second case).
//!
//! One iteration simulates one hour of virtual time for 3 routers, i.e. 3 router-hours;
//! criterion's "elem/s" is therefore router-hours per second.
//!
//! Run: `cargo bench -p hagroup-benches --bench vrrp_sim -- --warm-up-time 1 --measurement-time 3`
//! (figures in docs/benchmarks.md).
#![allow(missing_docs, clippy::unwrap_used)]

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use vrrp_fsm::RouterConfig;
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};
use vrrp_sim::{LinkParams, Sim, SimConfig};

fn lan(loss_ppm: u32) -> Sim {
    let mut sim = Sim::new(SimConfig {
        seed: 1,
        default_link: LinkParams {
            latency: Duration::from_micros(100),
            loss_ppm,
            up: true,
        },
        record_packets: false,
    });
    for (host, prio) in [(1u8, 150u8), (2, 100), (3, 50)] {
        let mut c = RouterConfig::new(
            Vrid::new(51).unwrap(),
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, host)),
            vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
        );
        c.version = Version::V3;
        c.advert_interval = AdvertInterval::from_centis(10).unwrap();
        c.priority = Priority(prio);
        sim.add_router(c).unwrap();
    }
    sim.run_for(Duration::from_secs(5));
    sim
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_sim");
    g.sample_size(10);
    g.throughput(Throughput::Elements(3));
    for (name, loss) in [
        ("3_routers_100ms_1h", 0u32),
        ("3_routers_100ms_1h_5pct_loss", 50_000),
    ] {
        let mut sim = lan(loss);
        g.bench_function(name, |b| b.iter(|| sim.run_for(Duration::from_secs(3600))));
        assert_eq!(sim.masters().len(), 1);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
