//! Scenario generation shared by the property tests.
#![allow(dead_code, unreachable_pub, missing_docs, clippy::unwrap_used)]

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use proptest::prelude::*;
use vrrp_fsm::timers::{master_down_interval, skew_time};
use vrrp_fsm::{Instant, RouterConfig, State};
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};
use vrrp_sim::{LinkParams, NodeId, Sim, SimConfig, TransitionRecord};

/// One generated LAN.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub version: Version,
    pub interval: AdvertInterval,
    pub down_timer_adverts: u8,
    /// (priority, host octet), host octets distinct.
    pub routers: Vec<(u8, u8)>,
    pub offsets_us: Vec<i64>,
    pub latency: Duration,
    /// RFC 9568 before §6.4.3's change: masters ignore lower priorities.
    pub lower_prio_no_advert: bool,
}

pub fn addr(host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, host))
}

prop_compose! {
    /// 2..=5 routers, v2 (1..=3 s) or v3 (10 ms..=3 s), priorities 1..=254 (ties allowed).
    pub fn scenario(max_routers: usize)(
        seed in any::<u64>(),
        v3 in any::<bool>(),
        secs in 1u16..=3,
        centis in prop_oneof![1u16..=10, 1u16..=300],
        dta in prop_oneof![Just(3u8), 1u8..=5],
        prios in prop::collection::vec(prop_oneof![1u8..=254, 95u8..=105], 2..=max_routers),
        hosts_perm in any::<u64>(),
        offsets in prop::collection::vec(-5_000_000_000i64..5_000_000_000, 5),
        lat_frac in 0u64..=50,
        lower_prio_no_advert in prop::bool::weighted(0.2),
    ) -> Scenario {
        let (version, interval) = if v3 {
            (Version::V3, AdvertInterval::from_centis(centis).unwrap())
        } else {
            (Version::V2, AdvertInterval::from_secs(secs as u8).unwrap())
        };
        // Distinct host octets in a seed-dependent order.
        let mut hosts: Vec<u8> = (1..=prios.len() as u8).collect();
        let mut h = hosts_perm;
        for i in (1..hosts.len()).rev() {
            let j = (h % (i as u64 + 1)) as usize;
            hosts.swap(i, j);
            h /= i as u64 + 1;
        }
        // Latency up to 5% of the interval (and at most 5 ms).
        let iv = interval.as_duration().as_micros() as u64;
        let latency = Duration::from_micros((iv * lat_frac / 1000).min(5_000));
        Scenario {
            seed,
            version,
            interval,
            down_timer_adverts: dta,
            routers: prios.into_iter().zip(hosts).collect(),
            offsets_us: offsets,
            latency,
            lower_prio_no_advert,
        }
    }
}

impl Scenario {
    pub fn config(&self, i: usize) -> RouterConfig {
        let (prio, host) = self.routers[i];
        let mut c = RouterConfig::new(
            Vrid::new(51).unwrap(),
            addr(host),
            vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))],
        );
        c.priority = Priority(prio);
        c.version = self.version;
        c.advert_interval = self.interval;
        c.down_timer_adverts = self.down_timer_adverts;
        c.lower_prio_no_advert = self.lower_prio_no_advert;
        c
    }

    pub fn build(&self, record_packets: bool) -> Sim {
        self.build_with(record_packets, |_, _| {})
    }

    pub fn build_with(&self, record_packets: bool, f: impl Fn(usize, &mut RouterConfig)) -> Sim {
        let mut sim = Sim::new(SimConfig {
            seed: self.seed,
            default_link: LinkParams {
                latency: self.latency,
                loss_ppm: 0,
                up: true,
            },
            record_packets,
        });
        for i in 0..self.routers.len() {
            let mut c = self.config(i);
            f(i, &mut c);
            sim.add_router_with_offset(c, self.offsets_us[i % self.offsets_us.len()])
                .unwrap();
        }
        sim
    }

    pub fn interval(&self) -> Duration {
        self.interval.as_duration()
    }

    /// Master_Down_Interval of router `i` (everyone advertises the same interval), computed
    /// here independently of `vrrp_fsm::timers` (RFC 9568 §6.1, RFC 3768 §6.1).
    pub fn mdi(&self, i: usize) -> Duration {
        self.interval() * u32::from(self.down_timer_adverts) + self.skew(i)
    }

    /// Skew_Time of router `i`, truncated to whole microseconds like keepalived.
    pub fn skew(&self, i: usize) -> Duration {
        let weight = 256 - u64::from(self.routers[i].0);
        let base_us = match self.version {
            Version::V2 => 1_000_000,
            Version::V3 => u64::from(self.interval.centis()) * 10_000,
        };
        Duration::from_micros(weight * base_us / 256)
    }

    /// The same through the library, to cross-check.
    pub fn mdi_lib(&self, i: usize) -> Duration {
        master_down_interval(
            self.version,
            Priority(self.routers[i].0),
            self.interval,
            self.down_timer_adverts,
        )
    }

    pub fn skew_lib(&self, i: usize) -> Duration {
        skew_time(self.version, Priority(self.routers[i].0), self.interval)
    }

    /// The router RFC 9568 §6.4.3 / keepalived elect among `alive`: the highest priority,
    /// ties broken by the highest primary address.
    pub fn winner(&self, alive: &[usize]) -> usize {
        *alive
            .iter()
            .max_by_key(|&&i| (self.routers[i].0, self.routers[i].1))
            .unwrap()
    }

    pub fn all(&self) -> Vec<usize> {
        (0..self.routers.len()).collect()
    }

    /// Long enough for any router to time out once from cold.
    pub fn settle(&self) -> Duration {
        let worst = (0..self.routers.len()).map(|i| self.mdi(i)).max().unwrap();
        worst + self.interval() * 3 + self.latency * 4
    }
}

/// Runs until one master is left (or `limit`), returns the master.
pub fn masters_ids(sim: &Sim) -> Vec<usize> {
    sim.masters().into_iter().map(|NodeId(i)| i).collect()
}

/// Takeovers (transitions into Master) at or after `since`.
pub fn takeovers_since(sim: &Sim, since: Instant) -> Vec<TransitionRecord> {
    sim.transitions()
        .iter()
        .filter(|t| t.time >= since && t.to == State::Master)
        .copied()
        .collect()
}
