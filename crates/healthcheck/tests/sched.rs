//! Table tests of the scheduling core, one per keepalived rule, and property tests against a
//! small reference model.

// Test support code: a failing set-up should panic loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use healthcheck::config::*;
use healthcheck::{CheckerId, Event, IpvsOp, NotifyKind, Outcome, Pool, PoolOptions};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

const S: Duration = Duration::from_secs(1);

fn rs_addr(i: usize) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, u8::try_from(10 + i).unwrap()], 80))
}

fn vs_key() -> VirtualServerKey {
    VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: SocketAddr::from(([198, 51, 100, 1], 80)),
    }
}

fn tcp_checker(retry: u32, alpha: bool) -> CheckerConfig {
    let mut c = CheckerConfig::new(CheckerKind::Tcp, 10 * S);
    c.timing.retry = retry;
    c.timing.delay_before_retry = 2 * S;
    c.timing.warmup = Duration::ZERO;
    c.timing.alpha = alpha;
    c
}

fn vs_with(n: usize, checker: &CheckerConfig) -> VirtualServerConfig {
    let mut vs = VirtualServerConfig::new(vs_key());
    for i in 0..n {
        let mut rs = RealServerConfig::new(rs_addr(i));
        rs.checkers.push(checker.clone());
        vs.real_servers.push(rs);
    }
    vs
}

fn drain(pool: &mut Pool) -> Vec<Event> {
    std::iter::from_fn(|| pool.poll_event()).collect()
}

fn ipvs_ops(events: &[Event]) -> Vec<IpvsOp> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Ipvs(op) => Some(op.clone()),
            _ => None,
        })
        .collect()
}

/// Runs every check due at the pool's next timeout with `result`; returns that time.
fn step(pool: &mut Pool, result: Outcome) -> Duration {
    let now = pool.poll_timeout().expect("something scheduled");
    let mut ran = 0;
    while let Some(due) = pool.poll_due(now) {
        pool.handle_result(now, due.id, result);
        ran += 1;
    }
    assert!(ran > 0);
    now
}

const ID0: CheckerId = CheckerId {
    vs: 0,
    rs: 0,
    checker: 0,
};

#[test]
fn startup_non_alpha_adds_real_server_before_first_check() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(1, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let ev = drain(&mut pool);
    assert_eq!(
        ipvs_ops(&ev),
        vec![IpvsOp::AddDest {
            vs: 0,
            rs: rs_addr(0),
            weight: 1
        }]
    );
    assert_eq!(pool.is_alive(0, 0), Some(true));
    assert_eq!(pool.quorum_up(0), Some(true));
}

#[test]
fn first_failure_before_any_run_takes_it_down_at_once() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(3, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    drain(&mut pool);
    step(&mut pool, Outcome::Down);
    let ev = drain(&mut pool);
    assert!(ev.contains(&Event::RealServerDown {
        vs: 0,
        rs: rs_addr(0)
    }));
    assert_eq!(
        ipvs_ops(&ev),
        vec![IpvsOp::DelDest {
            vs: 0,
            rs: rs_addr(0)
        }]
    );
}

#[test]
fn down_after_retry_plus_one_consecutive_failures_once_it_has_run() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(2, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let t0 = step(&mut pool, Outcome::Up);
    assert_eq!(
        pool.poll_timeout(),
        Some(t0 + 10 * S),
        "next after delay_loop"
    );
    let t1 = step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(true));
    assert_eq!(
        pool.poll_timeout(),
        Some(t1 + 2 * S),
        "re-check after delay_before_retry"
    );
    let t2 = step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(true));
    assert_eq!(pool.poll_timeout(), Some(t2 + 2 * S));
    let t3 = step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(false), "3 = retry + 1 failures");
    assert_eq!(
        pool.poll_timeout(),
        Some(t3 + 10 * S),
        "down: next after delay_loop"
    );
    let t4 = step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(false));
    assert_eq!(pool.poll_timeout(), Some(t4 + 10 * S));
}

#[test]
fn a_success_resets_the_retry_count() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(1, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    step(&mut pool, Outcome::Up);
    step(&mut pool, Outcome::Down);
    step(&mut pool, Outcome::Up);
    step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(true));
    step(&mut pool, Outcome::Down);
    assert_eq!(pool.checker_up(ID0), Some(false));
}

#[test]
fn one_success_brings_a_down_checker_up() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(5, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    step(&mut pool, Outcome::Down);
    drain(&mut pool);
    step(&mut pool, Outcome::Up);
    let ev = drain(&mut pool);
    assert!(ev.contains(&Event::RealServerUp {
        vs: 0,
        rs: rs_addr(0)
    }));
    assert_eq!(
        ipvs_ops(&ev),
        vec![IpvsOp::AddDest {
            vs: 0,
            rs: rs_addr(0),
            weight: 1
        }]
    );
}

#[test]
fn alpha_starts_down_and_waits_for_a_success() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(1, true))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let ev = drain(&mut pool);
    assert!(ipvs_ops(&ev).is_empty());
    assert_eq!(pool.is_alive(0, 0), Some(false));
    assert_eq!(pool.quorum_up(0), Some(false));
    step(&mut pool, Outcome::Up);
    assert_eq!(pool.is_alive(0, 0), Some(true));
    let ev = drain(&mut pool);
    assert!(ev.contains(&Event::QuorumGained { vs: 0 }));
}

#[test]
fn check_first_policy_is_alpha_for_everyone() {
    let mut pool = Pool::new(
        vec![vs_with(2, &tcp_checker(1, false))],
        1,
        Duration::ZERO,
        PoolOptions {
            startup: StartupPolicy::CheckFirst,
        },
    );
    assert!(ipvs_ops(&drain(&mut pool)).is_empty());
    assert_eq!(pool.is_alive(0, 1), Some(false));
}

#[test]
fn warmup_spreads_first_checks_between_1s_and_1s_plus_warmup() {
    let mut c = tcp_checker(1, false);
    c.timing.warmup = 10 * S;
    let mut pool = Pool::new(
        vec![vs_with(50, &c)],
        7,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let mut firsts = Vec::new();
    let mut now = Duration::ZERO;
    while let Some(t) = pool.poll_timeout() {
        if t > 11 * S {
            break;
        }
        now = t;
        while let Some(d) = pool.poll_due(now) {
            firsts.push(d.due);
            pool.handle_result(now, d.id, Outcome::Up);
        }
    }
    assert!(now <= 11 * S);
    assert_eq!(firsts.len(), 50);
    assert!(firsts.iter().all(|t| *t >= S && *t <= 11 * S));
    let distinct: std::collections::BTreeSet<_> = firsts.iter().collect();
    assert!(distinct.len() > 40, "spread, not all at once");
    // Same seed, same schedule.
    let mut again = Pool::new(
        vec![vs_with(50, &c)],
        7,
        Duration::ZERO,
        PoolOptions::default(),
    );
    assert_eq!(again.poll_timeout(), Some(*firsts.iter().min().unwrap()));
}

#[test]
fn due_check_carries_connect_timeout() {
    let mut c = tcp_checker(1, false);
    c.timing.connect_timeout = 3 * S;
    let mut pool = Pool::new(
        vec![vs_with(1, &c)],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let t = pool.poll_timeout().unwrap();
    assert_eq!(t, S, "warmup 0: first check at 1 s");
    assert!(pool.poll_due(t - Duration::from_millis(1)).is_none());
    let d = pool.poll_due(t).unwrap();
    assert_eq!(d.timeout, 3 * S);
    assert_eq!(d.id, ID0);
    assert!(
        pool.poll_due(t).is_none(),
        "running checks are not due twice"
    );
}

#[test]
fn real_server_alive_only_when_all_checkers_pass() {
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.real_servers[0].checkers.push(tcp_checker(0, false));
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    let now = pool.poll_timeout().unwrap();
    let a = pool.poll_due(now).unwrap();
    let b = pool.poll_due(now).unwrap();
    pool.handle_result(now, a.id, Outcome::Up);
    pool.handle_result(now, b.id, Outcome::Down);
    assert_eq!(pool.is_alive(0, 0), Some(false));
    let ev = drain(&mut pool);
    assert!(ev.contains(&Event::RealServerDown {
        vs: 0,
        rs: rs_addr(0)
    }));
}

#[test]
fn real_server_without_checkers_is_always_alive() {
    let mut vs = VirtualServerConfig::new(vs_key());
    vs.real_servers.push(RealServerConfig::new(rs_addr(0)));
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    assert_eq!(pool.is_alive(0, 0), Some(true));
    assert_eq!(pool.poll_timeout(), None);
}

#[test]
fn inhibit_on_failure_keeps_weight_zero_instead_of_removing() {
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.real_servers[0].inhibit_on_failure = true;
    vs.real_servers[0].weight = 5;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    step(&mut pool, Outcome::Down);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::EditDest {
            vs: 0,
            rs: rs_addr(0),
            weight: 0
        }]
    );
    step(&mut pool, Outcome::Up);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::EditDest {
            vs: 0,
            rs: rs_addr(0),
            weight: 5
        }]
    );
}

#[test]
fn inhibited_alpha_server_is_added_with_weight_zero_at_startup() {
    let mut vs = vs_with(1, &tcp_checker(0, true));
    vs.real_servers[0].inhibit_on_failure = true;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::AddDest {
            vs: 0,
            rs: rs_addr(0),
            weight: 0
        }]
    );
}

#[test]
fn misc_dynamic_adjusts_weight_relative_to_configured() {
    let mut c = CheckerConfig::new(
        CheckerKind::Misc(MiscCheck {
            argv: vec!["/bin/true".into()],
            dynamic: true,
            ..Default::default()
        }),
        10 * S,
    );
    c.timing.warmup = Duration::ZERO;
    let mut vs = vs_with(1, &c);
    vs.real_servers[0].weight = 10;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    step(&mut pool, Outcome::UpWithWeight(5));
    assert_eq!(pool.weight(0, 0), Some(15));
    let ev = drain(&mut pool);
    assert!(ev.contains(&Event::WeightChanged {
        vs: 0,
        rs: rs_addr(0),
        weight: 15
    }));
    assert!(ev.contains(&Event::Ipvs(IpvsOp::EditDest {
        vs: 0,
        rs: rs_addr(0),
        weight: 15
    })));
    step(&mut pool, Outcome::UpWithWeight(-20));
    assert_eq!(pool.weight(0, 0), Some(0), "clamped at 0");
    step(&mut pool, Outcome::Up);
    assert_eq!(pool.weight(0, 0), Some(10));
}

#[test]
fn file_check_value_times_weight() {
    let kind = CheckerKind::File(FileCheck {
        path: "/nonexistent".into(),
        weight: 2,
        reverse: true,
    });
    let mut c = CheckerConfig::new(kind, 10 * S);
    c.timing.warmup = Duration::ZERO;
    c.timing.retry = 0;
    let mut vs = vs_with(1, &c);
    vs.real_servers[0].weight = 10;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    step(&mut pool, Outcome::FileValue(3));
    assert_eq!(pool.weight(0, 0), Some(4), "10 - 3*2");
    step(&mut pool, Outcome::FileValue(6));
    assert_eq!(pool.is_alive(0, 0), Some(false), "10 - 12 < 0 is down");
    // Weight 0: any non-zero value is down.
    let kind = CheckerKind::File(FileCheck {
        path: "/nonexistent".into(),
        weight: 0,
        reverse: false,
    });
    let mut c = CheckerConfig::new(kind, 10 * S);
    c.timing.warmup = Duration::ZERO;
    let mut pool = Pool::new(
        vec![vs_with(1, &c)],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    step(&mut pool, Outcome::FileValue(0));
    assert_eq!(pool.is_alive(0, 0), Some(true));
    step(&mut pool, Outcome::FileValue(1));
    assert_eq!(pool.is_alive(0, 0), Some(false));
}

/// A VS with `n` servers of weight 1, each with a retry-0 checker; `fail[i]` fails server i once.
fn run_quorum(vs: VirtualServerConfig, outcomes: &[bool]) -> (Pool, Vec<Event>) {
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    let mut events = drain(&mut pool);
    let now = pool.poll_timeout().unwrap();
    for (i, ok) in outcomes.iter().enumerate() {
        let id = CheckerId {
            vs: 0,
            rs: i,
            checker: 0,
        };
        let d = pool.poll_due(now).unwrap();
        assert_eq!(d.id, id);
        pool.handle_result(now, id, if *ok { Outcome::Up } else { Outcome::Down });
        events.extend(drain(&mut pool));
    }
    (pool, events)
}

#[test]
fn quorum_with_hysteresis() {
    let mut vs = vs_with(5, &tcp_checker(0, false));
    vs.quorum = 3;
    vs.hysteresis = 1;
    vs.quorum_up = Some("/up".into());
    vs.quorum_down = Some("/down".into());
    // 5 alive at start: up (5 >= 4). Failing 2 leaves 3 >= 2: still up.
    let (pool, ev) = run_quorum(vs.clone(), &[false, false, true, true, true]);
    assert_eq!(pool.quorum_up(0), Some(true));
    assert!(!ev.contains(&Event::QuorumLost { vs: 0 }));
    // Failing 4 leaves 1 < 2: down, with the quorum_down script.
    let (pool, ev) = run_quorum(vs.clone(), &[false, false, false, false, true]);
    assert_eq!(pool.quorum_up(0), Some(false));
    assert!(ev.contains(&Event::QuorumLost { vs: 0 }));
    assert!(ev.contains(&Event::Notify {
        kind: NotifyKind::QuorumDown,
        vs: 0,
        rs: None,
        script: "/down".into()
    }));
}

#[test]
fn quorum_regained_only_at_quorum_plus_hysteresis() {
    let mut c = tcp_checker(0, true);
    c.timing.warmup = Duration::ZERO;
    let mut vs = vs_with(5, &c);
    vs.quorum = 3;
    vs.hysteresis = 1;
    let (pool, _) = run_quorum(vs.clone(), &[true, true, true, false, false]);
    assert_eq!(pool.quorum_up(0), Some(false), "3 < 3 + 1");
    let (pool, ev) = run_quorum(vs, &[true, true, true, true, false]);
    assert_eq!(pool.quorum_up(0), Some(true));
    assert!(ev.contains(&Event::QuorumGained { vs: 0 }));
}

#[test]
fn quorum_and_hysteresis_are_clamped() {
    let mut vs = vs_with(2, &tcp_checker(0, false));
    vs.quorum = 100; // clamped to total weight 2
    vs.hysteresis = 100; // clamped to quorum - 1 = 1
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    assert_eq!(pool.quorum_up(0), Some(false), "2 < 2 + 1 at startup");
    drain(&mut pool);
}

#[test]
fn sorry_server_replaces_the_pool_on_quorum_loss() {
    let sorry = SocketAddr::from(([203, 0, 113, 9], 80));
    let mut vs = vs_with(2, &tcp_checker(0, false));
    vs.quorum = 2;
    vs.sorry_server = Some(sorry);
    let (pool, ev) = run_quorum(vs.clone(), &[false, true]);
    assert_eq!(pool.quorum_up(0), Some(false));
    let ops = ipvs_ops(&ev);
    // Startup: both added. Then: rs0 deleted, rs1 deleted (quorum lost), sorry added.
    assert!(ops.contains(&IpvsOp::DelDest {
        vs: 0,
        rs: rs_addr(1)
    }));
    assert_eq!(
        ops.last(),
        Some(&IpvsOp::AddDest {
            vs: 0,
            rs: sorry,
            weight: 1
        })
    );
    assert_eq!(pool.ipvs_weight(0, 1), Some(None));
    assert_eq!(pool.sorry_ipvs_weight(0), Some(Some(1)));
    assert_eq!(pool.sorry_ipvs_weight(9), None);
}

#[test]
fn sorry_server_inhibit_keeps_it_at_weight_zero() {
    let sorry = SocketAddr::from(([203, 0, 113, 9], 80));
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.sorry_server = Some(sorry);
    vs.sorry_server_inhibit = true;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    let ops = ipvs_ops(&drain(&mut pool));
    assert!(ops.contains(&IpvsOp::AddDest {
        vs: 0,
        rs: sorry,
        weight: 0
    }));
    step(&mut pool, Outcome::Down);
    assert!(ipvs_ops(&drain(&mut pool)).contains(&IpvsOp::EditDest {
        vs: 0,
        rs: sorry,
        weight: 1
    }));
    step(&mut pool, Outcome::Up);
    let ops = ipvs_ops(&drain(&mut pool));
    assert!(ops.contains(&IpvsOp::EditDest {
        vs: 0,
        rs: sorry,
        weight: 0
    }));
    assert!(ops.contains(&IpvsOp::AddDest {
        vs: 0,
        rs: rs_addr(0),
        weight: 1
    }));
}

#[test]
fn notify_scripts_follow_real_server_changes() {
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.real_servers[0].notify_up = Some("/up".into());
    vs.real_servers[0].notify_down = Some("/down".into());
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    step(&mut pool, Outcome::Down);
    assert!(drain(&mut pool).contains(&Event::Notify {
        kind: NotifyKind::RealServerDown,
        vs: 0,
        rs: Some(rs_addr(0)),
        script: "/down".into()
    }));
    step(&mut pool, Outcome::Up);
    assert!(drain(&mut pool).contains(&Event::Notify {
        kind: NotifyKind::RealServerUp,
        vs: 0,
        rs: Some(rs_addr(0)),
        script: "/up".into()
    }));
}

#[test]
fn ha_suspend_skips_checks_while_the_vip_is_absent() {
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.ha_suspend = true;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    pool.set_vip_present(0, false);
    let t = pool.poll_timeout().unwrap();
    assert!(pool.poll_due(t).is_none());
    assert_eq!(pool.poll_timeout(), Some(t + 10 * S), "rescheduled");
    pool.set_vip_present(0, true);
    assert!(pool.poll_due(t + 10 * S).is_some());
}

#[test]
fn omega_runs_down_scripts_on_shutdown() {
    let mut vs = vs_with(1, &tcp_checker(0, false));
    vs.omega = true;
    vs.quorum_down = Some("/qdown".into());
    vs.real_servers[0].notify_down = Some("/down".into());
    let mut pool = Pool::new(vec![vs.clone()], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    pool.shutdown();
    let ev = drain(&mut pool);
    assert_eq!(ev.len(), 2);
    assert!(pool.poll_due(Duration::MAX).is_none());
    vs.omega = false;
    let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    pool.shutdown();
    assert!(drain(&mut pool).is_empty());
}

#[test]
fn stale_or_unknown_results_are_ignored() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(0, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    drain(&mut pool);
    pool.handle_result(S, ID0, Outcome::Down); // not running
    assert_eq!(pool.is_alive(0, 0), Some(true));
    pool.handle_result(
        S,
        CheckerId {
            vs: 9,
            rs: 9,
            checker: 9,
        },
        Outcome::Down,
    );
    assert!(drain(&mut pool).is_empty());
}

#[test]
fn reload_carries_state_of_unchanged_checkers() {
    let cfg = vec![vs_with(2, &tcp_checker(0, false))];
    let mut pool = Pool::new(cfg.clone(), 1, Duration::ZERO, PoolOptions::default());
    drain(&mut pool);
    // rs0 down, rs1 up.
    let now = pool.poll_timeout().unwrap();
    let a = pool.poll_due(now).unwrap();
    pool.handle_result(now, a.id, Outcome::Down);
    let b = pool.poll_due(now).unwrap();
    pool.handle_result(now, b.id, Outcome::Up);
    drain(&mut pool);
    assert_eq!(pool.is_alive(0, 0), Some(false));
    // Same config: nothing to do in IPVS, rs0 stays down.
    let mut pool = pool.reload(cfg.clone(), 2, now);
    assert!(ipvs_ops(&drain(&mut pool)).is_empty());
    assert_eq!(pool.is_alive(0, 0), Some(false));
    assert_eq!(pool.is_alive(0, 1), Some(true));
    // Remove rs1, change rs0's checker: rs1 deleted; rs0 (failed) stays down until it runs.
    let mut new = vs_with(1, &tcp_checker(3, false));
    new.real_servers[0].addr = rs_addr(0);
    let mut pool = pool.reload(vec![new], 3, now);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::DelDest {
            vs: 0,
            rs: rs_addr(1)
        }]
    );
    assert_eq!(pool.is_alive(0, 0), Some(false));
    // Add a new server: added as at startup (keepalived default: before its first check).
    let mut pool = pool.reload(cfg, 4, now);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::AddDest {
            vs: 0,
            rs: rs_addr(1),
            weight: 1
        }]
    );
}

// ---- property tests against a reference model ----

/// The reference model of one checker (keepalived's table in §4, written independently).
#[derive(Debug, Clone, Copy)]
struct ModelChecker {
    up: bool,
    ran: bool,
    fails: u32,
}

impl ModelChecker {
    fn new(alpha: bool) -> Self {
        ModelChecker {
            up: !alpha,
            ran: false,
            fails: 0,
        }
    }

    /// Applies a result; returns whether the next check comes after delay_before_retry.
    fn apply(&mut self, ok: bool, retry: u32) -> bool {
        let first = !self.ran;
        self.ran = true;
        if ok {
            self.up = true;
            self.fails = 0;
            return false;
        }
        if !self.up {
            return false;
        }
        if first {
            // Not yet run: the first failure is final.
            self.up = false;
            return false;
        }
        self.fails += 1;
        if self.fails > retry {
            self.up = false;
            self.fails = 0;
            false
        } else {
            true
        }
    }
}

proptest! {
    #[test]
    fn single_checker_matches_model(
        retry in 0u32..4,
        alpha in any::<bool>(),
        results in proptest::collection::vec(any::<bool>(), 1..60),
    ) {
        let mut pool = Pool::new(
            vec![vs_with(1, &tcp_checker(retry, alpha))],
            1,
            Duration::ZERO,
            PoolOptions::default(),
        );
        let mut model = ModelChecker::new(alpha);
        for ok in results {
            let now = pool.poll_timeout().unwrap();
            let d = pool.poll_due(now).unwrap();
            pool.handle_result(now, d.id, if ok { Outcome::Up } else { Outcome::Down });
            let retrying = model.apply(ok, retry);
            prop_assert_eq!(pool.checker_up(ID0), Some(model.up));
            prop_assert_eq!(pool.is_alive(0, 0), Some(model.up));
            let delay = if retrying { 2 * S } else { 10 * S };
            prop_assert_eq!(pool.poll_timeout(), Some(now + delay));
        }
    }

    #[test]
    fn pool_ipvs_table_matches_model(
        retry in 0u32..3,
        alpha in any::<bool>(),
        weights in proptest::collection::vec(0u32..5, 1..5),
        inhibit in any::<bool>(),
        quorum in 1u64..10,
        hysteresis in 0u64..4,
        sorry in any::<bool>(),
        results in proptest::collection::vec((any::<bool>(), proptest::option::of(-6i64..6)), 1..80),
    ) {
        let sorry_addr = SocketAddr::from(([203, 0, 113, 9], 80));
        let mut vs = vs_with(weights.len(), &tcp_checker(retry, alpha));
        for (rs, w) in vs.real_servers.iter_mut().zip(&weights) {
            rs.weight = *w;
            rs.inhibit_on_failure = inhibit;
        }
        vs.quorum = quorum;
        vs.hysteresis = hysteresis;
        vs.sorry_server = sorry.then_some(sorry_addr);
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let q = quorum.min(total.max(1));
        let h = hysteresis.min(q - 1);

        let mut pool = Pool::new(vec![vs], 1, Duration::ZERO, PoolOptions::default());
        let mut table: BTreeMap<SocketAddr, u32> = BTreeMap::new();
        let mut models: Vec<ModelChecker> =
            weights.iter().map(|_| ModelChecker::new(alpha)).collect();
        // Dynamic weight adjustment per server (misc_dynamic): set by a success, kept by a
        // failure; the effective weight is clamped at 0.
        let mut adjust = vec![0i64; weights.len()];
        let effective = |adjust: &[i64], i: usize| -> u32 {
            u32::try_from((i64::from(weights[i]) + adjust[i]).max(0)).unwrap()
        };
        let alive_sum = |m: &[ModelChecker], adjust: &[i64]| -> u64 {
            m.iter()
                .enumerate()
                .filter(|(_, c)| c.up)
                .map(|(i, _)| u64::from(effective(adjust, i)))
                .sum()
        };
        let mut quorum_up = alive_sum(&models, &adjust) >= q + h;
        let mut results = results.into_iter();
        loop {
            // Apply emitted IPVS operations to a simulated table.
            while let Some(ev) = pool.poll_event() {
                match ev {
                    Event::Ipvs(IpvsOp::AddDest { rs, weight, .. }) => {
                        prop_assert!(table.insert(rs, weight).is_none(), "add of present dest");
                    }
                    Event::Ipvs(IpvsOp::EditDest { rs, weight, .. }) => {
                        prop_assert!(table.insert(rs, weight).is_some(), "edit of absent dest");
                    }
                    Event::Ipvs(IpvsOp::DelDest { rs, .. }) => {
                        prop_assert!(table.remove(&rs).is_some(), "delete of absent dest");
                    }
                    _ => {}
                }
            }
            // The model's desired table.
            let mut want = BTreeMap::new();
            for (i, m) in models.iter().enumerate() {
                if m.up && (quorum_up || !sorry) {
                    want.insert(rs_addr(i), effective(&adjust, i));
                } else if !m.up && inhibit {
                    want.insert(rs_addr(i), 0);
                }
            }
            if sorry && !quorum_up {
                want.insert(sorry_addr, 1);
            }
            prop_assert_eq!(&table, &want);
            prop_assert_eq!(pool.quorum_up(0), Some(quorum_up));

            let Some(now) = pool.poll_timeout() else { break };
            let Some(d) = pool.poll_due(now) else { break };
            let Some((ok, dynamic)) = results.next() else { break };
            let outcome = match (ok, dynamic) {
                (false, _) => Outcome::Down,
                (true, None) => Outcome::Up,
                (true, Some(a)) => Outcome::UpWithWeight(a),
            };
            pool.handle_result(now, d.id, outcome);
            models[d.id.rs].apply(ok, retry);
            if ok {
                adjust[d.id.rs] = dynamic.unwrap_or(0);
            }
            prop_assert_eq!(pool.weight(0, d.id.rs), Some(effective(&adjust, d.id.rs)));
            let sum = alive_sum(&models, &adjust);
            if quorum_up && (sum == 0 || sum < q.saturating_sub(h)) {
                quorum_up = false;
            } else if !quorum_up && sum >= q + h {
                quorum_up = true;
            }
        }
    }
}

#[test]
fn times_near_the_end_of_the_clock_do_not_overflow() {
    let start = Duration::MAX - Duration::from_millis(1500);
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(1, false))],
        1,
        start,
        PoolOptions::default(),
    );
    let t = pool.poll_timeout().unwrap();
    let d = pool.poll_due(t).unwrap();
    pool.handle_result(t, d.id, Outcome::Down);
    assert_eq!(pool.poll_timeout(), Some(Duration::MAX));
}

/// Reload carry-over follows the virtual server key and the real server address, not their
/// positions: state survives reordering, the same address under two keys keeps two states, and
/// deletions name the virtual server's index in the new configuration.
#[test]
fn reload_carries_state_by_key_and_address_across_reordering() {
    let sorry = SocketAddr::from(([203, 0, 113, 9], 80));
    let key_b = VirtualServerKey::Addr {
        protocol: Protocol::Tcp,
        addr: SocketAddr::from(([198, 51, 100, 2], 80)),
    };
    // A: 2 servers, quorum 2, a sorry server. B: the same 3 addresses, under another key.
    let mut a = vs_with(2, &tcp_checker(0, false));
    a.quorum = 2;
    a.sorry_server = Some(sorry);
    let mut b = vs_with(3, &tcp_checker(0, false));
    b.key = key_b;
    let mut pool = Pool::new(
        vec![a.clone(), b.clone()],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    drain(&mut pool);
    // Only A's rs0 fails: A loses its quorum (the sorry server takes over), B stays whole.
    let now = pool.poll_timeout().unwrap();
    while let Some(due) = pool.poll_due(now) {
        let fails = due.id.vs == 0 && due.id.rs == 0;
        pool.handle_result(now, due.id, if fails { Outcome::Down } else { Outcome::Up });
    }
    drain(&mut pool);
    assert_eq!(pool.quorum_up(0), Some(false));
    assert_eq!(pool.sorry_ipvs_weight(0), Some(Some(1)));
    assert_eq!(pool.ipvs_weight(0, 1), Some(None));

    // B first, its servers reversed; A second. Nothing changes in IPVS.
    let mut b_rev = b.clone();
    b_rev.real_servers.reverse();
    let mut pool = pool.reload(vec![b_rev.clone(), a.clone()], 2, now);
    assert!(ipvs_ops(&drain(&mut pool)).is_empty());
    assert_eq!(pool.quorum_up(0), Some(true));
    assert_eq!(pool.quorum_up(1), Some(false));
    for ri in 0..3 {
        assert_eq!(pool.is_alive(0, ri), Some(true));
        assert_eq!(pool.ipvs_weight(0, ri), Some(Some(1)));
    }
    assert_eq!(pool.is_alive(1, 0), Some(false));
    assert_eq!(pool.is_alive(1, 1), Some(true));
    assert_eq!(pool.ipvs_weight(1, 1), Some(None));
    assert_eq!(pool.sorry_ipvs_weight(1), Some(Some(1)));
    assert_eq!(pool.sorry_ipvs_weight(0), Some(None));

    // Drop B's first server (rs_addr(2) after the reversal): deleted under index 0.
    let mut b_less = b_rev.clone();
    b_less.real_servers.remove(0);
    let mut pool = pool.reload(vec![b_less.clone(), a.clone()], 3, now);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![IpvsOp::DelDest {
            vs: 0,
            rs: rs_addr(2)
        }]
    );

    // Drop A's sorry server: it is deleted first, then A's alive server comes back (quorum is
    // still down, but without a sorry server the alive servers serve).
    let mut a_plain = a.clone();
    a_plain.sorry_server = None;
    let mut pool = pool.reload(vec![b_less.clone(), a_plain], 4, now);
    assert_eq!(
        ipvs_ops(&drain(&mut pool)),
        vec![
            IpvsOp::DelDest { vs: 1, rs: sorry },
            IpvsOp::AddDest {
                vs: 1,
                rs: rs_addr(1),
                weight: 1
            }
        ]
    );
    assert_eq!(pool.quorum_up(1), Some(false));

    // A removed altogether: its destinations are the director's to delete, none listed here.
    let mut pool = pool.reload(vec![b_less], 5, now);
    assert!(ipvs_ops(&drain(&mut pool)).is_empty());
    assert_eq!(pool.quorum_up(0), Some(true));
}

fn http_checker(urls: usize, fast_recovery: bool, alpha: bool) -> CheckerConfig {
    let kind = CheckerKind::Http(HttpCheck {
        urls: (0..urls)
            .map(|i| UrlCheck {
                path: format!("/u{i}"),
                ..Default::default()
            })
            .collect(),
        fast_recovery,
        ..Default::default()
    });
    let mut c = CheckerConfig::new(kind, 10 * S);
    c.timing.retry = 1;
    c.timing.delay_before_retry = 2 * S;
    c.timing.warmup = Duration::ZERO;
    c.timing.connect_timeout = 3 * S;
    c.timing.alpha = alpha;
    c
}

/// The next due check (there must be exactly one), at the pool's next timeout.
fn next_due(pool: &mut Pool) -> (Duration, healthcheck::DueCheck) {
    let now = pool.poll_timeout().expect("something scheduled");
    let due = pool.poll_due(now).expect("a check is due");
    assert!(pool.poll_due(now).is_none());
    (now, due)
}

fn urls(due: &healthcheck::DueCheck) -> (usize, usize) {
    (due.urls.start, due.urls.end)
}

#[test]
fn http_urls_are_checked_one_per_delay_loop_in_turn() {
    let mut pool = Pool::new(
        vec![vs_with(1, &http_checker(3, false, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    drain(&mut pool);
    // Up from the start (not alpha): url 0, 1, 2, 0, ... one per delay_loop.
    let mut last = None;
    for want in [0, 1, 2, 0] {
        let (now, due) = next_due(&mut pool);
        assert_eq!(urls(&due), (want, want + 1));
        assert_eq!(due.timeout, 3 * S, "one url: one connect_timeout");
        if let Some(prev) = last {
            assert_eq!(now - prev, 10 * S);
        }
        last = Some(now);
        pool.handle_result(now, due.id, Outcome::Up);
    }
    // Url 1 fails: retried after delay_before_retry, then the checker goes down.
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (1, 2));
    pool.handle_result(now, due.id, Outcome::Down);
    let (retry_at, due) = next_due(&mut pool);
    assert_eq!(retry_at - now, 2 * S);
    assert_eq!(urls(&due), (1, 2), "the failing url is retried");
    pool.handle_result(retry_at, due.id, Outcome::Down);
    assert_eq!(pool.is_alive(0, 0), Some(false));
    drain(&mut pool);
    // Recovery: every url again from the first, one per delay_loop; up after the last.
    for want in [0, 1, 2] {
        let (now, due) = next_due(&mut pool);
        assert_eq!(urls(&due), (want, want + 1));
        assert_eq!(
            pool.is_alive(0, 0),
            Some(false),
            "still down before url {want}"
        );
        pool.handle_result(now, due.id, Outcome::Up);
    }
    assert_eq!(pool.is_alive(0, 0), Some(true));
    assert!(drain(&mut pool).contains(&Event::RealServerUp {
        vs: 0,
        rs: rs_addr(0)
    }));
}

#[test]
fn a_failure_during_recovery_starts_the_urls_again() {
    let mut pool = Pool::new(
        vec![vs_with(1, &http_checker(2, false, true))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    // alpha: down from the start, so both urls must pass in turn.
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (0, 1));
    pool.handle_result(now, due.id, Outcome::Up);
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (1, 2));
    pool.handle_result(now, due.id, Outcome::Down);
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (0, 1));
    pool.handle_result(now, due.id, Outcome::Up);
    assert_eq!(pool.is_alive(0, 0), Some(false));
    let (now, due) = next_due(&mut pool);
    pool.handle_result(now, due.id, Outcome::Up);
    assert_eq!(pool.is_alive(0, 0), Some(true));
}

#[test]
fn fast_recovery_checks_every_url_in_one_attempt_while_down() {
    let mut pool = Pool::new(
        vec![vs_with(1, &http_checker(3, true, true))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    // alpha start: all urls at once, with a connect_timeout for each.
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (0, 3));
    assert_eq!(due.timeout, 9 * S);
    pool.handle_result(now, due.id, Outcome::Up);
    assert_eq!(pool.is_alive(0, 0), Some(true));
    // Once up, one url per delay_loop again.
    let (now, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (0, 1));
    pool.handle_result(now, due.id, Outcome::Down);
    let (now, due) = next_due(&mut pool);
    pool.handle_result(now, due.id, Outcome::Down);
    assert_eq!(pool.is_alive(0, 0), Some(false));
    let (_, due) = next_due(&mut pool);
    assert_eq!(urls(&due), (0, 3), "recovering: all urls again");
}

#[test]
fn check_now_runs_a_checker_early_or_again_after_the_running_attempt() {
    let mut pool = Pool::new(
        vec![vs_with(1, &tcp_checker(0, false))],
        1,
        Duration::ZERO,
        PoolOptions::default(),
    );
    let (now, due) = next_due(&mut pool);
    pool.handle_result(now, due.id, Outcome::Up);
    // Next check at now + delay_loop; check_now brings it forward.
    assert_eq!(pool.poll_timeout(), Some(now + 10 * S));
    let early = now + S;
    pool.check_now(early, ID0);
    assert_eq!(pool.poll_timeout(), Some(early));
    let due = pool.poll_due(early).unwrap();
    // While it runs, check_now asks for one more run right after it.
    pool.check_now(early, ID0);
    assert!(pool.poll_due(early).is_none(), "not twice at once");
    pool.handle_result(early + S, due.id, Outcome::Up);
    assert_eq!(pool.poll_timeout(), Some(early + S));
    let due = pool.poll_due(early + S).unwrap();
    pool.handle_result(early + 2 * S, due.id, Outcome::Up);
    assert_eq!(
        pool.poll_timeout(),
        Some(early + 12 * S),
        "then back to delay_loop"
    );
    assert_eq!(pool.file_checkers(), vec![]);
}
