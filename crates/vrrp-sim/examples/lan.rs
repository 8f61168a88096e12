//! Simulates a 3-router VRRPv3 LAN at 100 ms adverts for `HOURS` (default 10) virtual hours,
//! with optional loss (`LOSS_PPM`), and prints what happened plus the simulation speed.
//!
//! `cargo run --release -p vrrp-sim --example lan`
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use vrrp_fsm::RouterConfig;
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};
use vrrp_sim::{LinkParams, Sim, SimConfig};

fn main() {
    let hours: u64 = std::env::var("HOURS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let loss_ppm: u32 = std::env::var("LOSS_PPM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
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
    let wall = std::time::Instant::now();
    sim.run_for(Duration::from_secs(3600 * hours));
    let secs = wall.elapsed().as_secs_f64();
    println!(
        "{} router-hours in {secs:.3} s wall: {:.0} router-hours/s, {} router inputs, {} transitions, masters {:?}",
        3 * hours,
        (3 * hours) as f64 / secs,
        sim.events_processed(),
        sim.transitions().len(),
        sim.masters()
    );
}
