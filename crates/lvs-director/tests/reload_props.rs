//! Properties of reload: a reload with one change plans exactly that change, a reload without
//! change plans nothing, and a plan applied to the kernel's table gives the desired table.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::time::Duration;

use healthcheck::PoolOptions;
use ipvs_netlink::{Desired, Op};
use lvs_director::{Director, DirectorConfig};
use proptest::prelude::*;

/// A small model of a configuration: virtual servers (by their last address octet) with a
/// scheduler and at least one real server (by last octet) with weights.
/// (last octet, scheduler, real servers as (last octet, weight)).
type VsModel = (u8, &'static str, Vec<(u8, u32)>);

#[derive(Debug, Clone)]
struct Model {
    vs: Vec<VsModel>,
}

const SCHEDS: [&str; 3] = ["rr", "wrr", "wlc"];

impl Model {
    fn text(&self) -> String {
        let mut s = String::new();
        for (a, sched, rss) in &self.vs {
            let _ = writeln!(
                s,
                "virtual_server 192.0.2.{a} 80 {{\n lvs_sched {sched}\n lvs_method NAT\n protocol TCP"
            );
            for (r, w) in rss {
                let _ = writeln!(s, " real_server 198.51.100.{r} 80 {{\n  weight {w}\n }}");
            }
            s.push_str("}\n");
        }
        s
    }

    fn config(&self) -> DirectorConfig {
        let parsed = kconf_parser::parse_str(&self.text(), &kconf_parser::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        DirectorConfig::from_kconf(&parsed.config).unwrap()
    }
}

fn model() -> impl Strategy<Value = Model> {
    prop::collection::btree_map(
        1u8..40,
        (
            0..SCHEDS.len(),
            prop::collection::btree_map(1u8..40, 0u32..5, 1..5),
        ),
        1..5,
    )
    .prop_map(|m| Model {
        vs: m
            .into_iter()
            .map(|(a, (s, rss))| (a, SCHEDS[s], rss.into_iter().collect()))
            .collect(),
    })
}

/// One change to a model, and the ipvsadm lines it must plan.
#[derive(Debug, Clone)]
enum Change {
    Weight(usize, usize, u32),
    AddRs(usize, u8, u32),
    RemoveRs(usize, usize),
    Scheduler(usize, usize),
    AddVs(u8),
    RemoveVs(usize),
}

fn apply_change(m: &Model, c: &Change) -> Option<(Model, Vec<String>)> {
    let mut n = m.clone();
    let nvs = m.vs.len();
    let ops = match *c {
        Change::Weight(v, r, w) => {
            let (a, _, rss) = n.vs.get_mut(v % nvs)?;
            let len = rss.len();
            let (addr, old) = rss.get_mut(r % len.max(1))?;
            if *old == w {
                return None;
            }
            *old = w;
            vec![format!(
                "-e -t 192.0.2.{a}:80 -r 198.51.100.{addr}:80 -m -w {w}"
            )]
        }
        Change::AddRs(v, addr, w) => {
            let (a, _, rss) = n.vs.get_mut(v % nvs)?;
            if rss.iter().any(|(x, _)| *x == addr) {
                return None;
            }
            rss.push((addr, w));
            vec![format!(
                "-a -t 192.0.2.{a}:80 -r 198.51.100.{addr}:80 -m -w {w}"
            )]
        }
        Change::RemoveRs(v, r) => {
            let (a, _, rss) = n.vs.get_mut(v % nvs)?;
            // keepalived ignores a virtual server without real servers.
            if rss.len() < 2 {
                return None;
            }
            let (addr, _) = rss.remove(r % rss.len());
            vec![format!("-d -t 192.0.2.{a}:80 -r 198.51.100.{addr}:80")]
        }
        Change::Scheduler(v, s) => {
            let (a, sched, _) = n.vs.get_mut(v % nvs)?;
            if *sched == SCHEDS[s % SCHEDS.len()] {
                return None;
            }
            *sched = SCHEDS[s % SCHEDS.len()];
            vec![format!("-E -t 192.0.2.{a}:80 -s {sched}")]
        }
        Change::AddVs(a) => {
            if n.vs.iter().any(|(x, _, _)| *x == a) {
                return None;
            }
            n.vs.push((a, "rr", vec![(1, 2)]));
            vec![
                format!("-A -t 192.0.2.{a}:80 -s rr"),
                format!("-a -t 192.0.2.{a}:80 -r 198.51.100.1:80 -m -w 2"),
            ]
        }
        Change::RemoveVs(v) => {
            let (a, _, _) = n.vs.remove(v % nvs);
            vec![format!("-D -t 192.0.2.{a}:80")]
        }
    };
    Some((n, ops))
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (0usize..8, 0usize..8, 0u32..5).prop_map(|(v, r, w)| Change::Weight(v, r, w)),
        (0usize..8, 1u8..40, 0u32..5).prop_map(|(v, a, w)| Change::AddRs(v, a, w)),
        (0usize..8, 0usize..8).prop_map(|(v, r)| Change::RemoveRs(v, r)),
        (0usize..8, 0usize..3).prop_map(|(v, s)| Change::Scheduler(v, s)),
        (1u8..40).prop_map(Change::AddVs),
        (0usize..8).prop_map(Change::RemoveVs),
    ]
}

fn lines(ops: &[Op]) -> Vec<String> {
    ops.iter().map(ToString::to_string).collect()
}

proptest! {
    #[test]
    fn a_reload_without_change_plans_nothing(m in model(), seed in any::<u64>()) {
        let d = Director::new(m.config(), seed, Duration::ZERO, PoolOptions::default());
        let kernel = d.desired();
        let d = d.reload(m.config(), seed ^ 1, Duration::from_secs(1));
        prop_assert!(d.reconcile(&kernel).is_empty());
        prop_assert_eq!(d.desired(), kernel);
    }

    #[test]
    fn a_reload_with_one_change_plans_exactly_it(m in model(), c in change()) {
        let Some((n, want)) = apply_change(&m, &c) else {
            return Ok(());
        };
        let d = Director::new(m.config(), 1, Duration::ZERO, PoolOptions::default());
        let kernel = d.desired();
        let d = d.reload(n.config(), 2, Duration::from_secs(1));
        let ops = d.reconcile(&kernel);
        prop_assert_eq!(lines(&ops), want);
        // The plan, applied to the old table, gives the new one.
        let fresh = Director::new(n.config(), 3, Duration::ZERO, PoolOptions::default());
        prop_assert_eq!(apply_ops(&kernel, &ops).sorted(), fresh.desired().sorted());
    }

    #[test]
    fn foreign_services_are_never_touched(m in model(), foreign in model()) {
        let d = Director::new(m.config(), 1, Duration::ZERO, PoolOptions::default());
        let mut kernel = Desired::default();
        let ours: std::collections::HashSet<_> = d.desired().services.iter().map(|(s, _)| s.key).collect();
        let foreign_d = Director::new(foreign.config(), 1, Duration::ZERO, PoolOptions::default());
        for (s, dests) in foreign_d.desired().services {
            if !ours.contains(&s.key) {
                kernel.services.push((s, dests));
            }
        }
        for op in d.reconcile(&kernel).iter().chain(&d.release(&kernel)) {
            let key = match op {
                Op::AddService(s) | Op::EditService(s) => s.key,
                Op::DeleteService(k) | Op::AddDest(k, _) | Op::EditDest(k, _) | Op::DeleteDest(k, _) => *k,
            };
            prop_assert!(ours.contains(&key), "{op} touches a foreign service");
        }
    }
}

/// A model kernel: applies `ops` to `table`.
fn apply_ops(table: &Desired, ops: &[Op]) -> Desired {
    let mut t = table.clone();
    for op in ops {
        match op {
            Op::AddService(s) => t.services.push((s.clone(), Vec::new())),
            Op::EditService(s) => {
                if let Some(e) = t.services.iter_mut().find(|(x, _)| x.key == s.key) {
                    e.0 = s.clone();
                }
            }
            Op::DeleteService(k) => t.services.retain(|(s, _)| s.key != *k),
            Op::AddDest(k, d) | Op::EditDest(k, d) => {
                if let Some(e) = t.services.iter_mut().find(|(x, _)| x.key == *k) {
                    e.1.retain(|x| x.id() != d.id());
                    e.1.push(d.clone());
                }
            }
            Op::DeleteDest(k, d) => {
                if let Some(e) = t.services.iter_mut().find(|(x, _)| x.key == *k) {
                    e.1.retain(|x| x.id() != d.id());
                }
            }
        }
    }
    t
}
