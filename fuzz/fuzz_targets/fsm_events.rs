//! Fuzz the VRRP state machine with arbitrary input sequences: no input may panic, and the
//! invariants a driver relies on must hold (addresses installed exactly while Master,
//! `handle_timeout` consumes every due timer, a running router always has a timer).
#![no_main]

use core::net::{IpAddr, Ipv4Addr};
use core::time::Duration;
use libfuzzer_sys::fuzz_target;
use vrrp_fsm::{
    Action, Event, Instant, RouterConfig, State, TrackerConfig, TrackerKind, TrackerStatus,
    VirtualRouter,
};
use vrrp_proto::{AdvertInterval, Advertisement, Auth, Priority, Version, Vrid};

fn addr(host: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, host))
}

fuzz_target!(|data: &[u8]| {
    let [p, flags, rest @ ..] = data else { return };
    let Ok(vrid) = Vrid::new(51) else { return };
    let mut c = RouterConfig::new(vrid, addr(2), vec![addr(100)]);
    c.priority = Priority((*p).max(1));
    if flags & 1 != 0 {
        c.version = Version::V3;
        if let Ok(i) = AdvertInterval::from_centis(u16::from(flags >> 4) + 1) {
            c.advert_interval = i;
        }
    }
    c.preempt = flags & 2 == 0;
    c.strict_mode = flags & 4 != 0;
    c.accept = flags & 8 == 0;
    c.preempt_delay = Duration::from_millis(u64::from(flags >> 5) * 300);
    c.trackers = vec![TrackerConfig::new(
        "t",
        TrackerKind::Script,
        i32::from(*p as i8) / 2,
    )];
    let Ok(mut r) = VirtualRouter::new(c.clone(), Instant::ZERO) else {
        return;
    };
    let mut now = Instant::ZERO;
    let mut vips = false;
    for chunk in rest.chunks(3) {
        let [op, a, b] = *chunk else { break };
        match op % 10 {
            0 => now += Duration::from_micros(u64::from(u16::from_le_bytes([a, b])) * 100),
            1 | 2 => {
                if let Some(t) = r.poll_timeout() {
                    now = now.max(t);
                }
                r.handle_timeout(now);
                assert!(
                    r.poll_timeout().is_none_or(|t| t > now),
                    "a due timer survived"
                );
            }
            3 | 4 | 5 => {
                let adv = Advertisement {
                    version: if a & 1 != 0 { Version::V3 } else { c.version },
                    vrid: Vrid::new(if a & 2 != 0 { b.max(1) } else { 51 }).unwrap_or(vrid),
                    priority: Priority(b),
                    interval: if a & 4 != 0 {
                        AdvertInterval::from_centis(u16::from(b) + 1).unwrap_or(c.advert_interval)
                    } else {
                        c.advert_interval
                    },
                    auth: Auth::None,
                    addresses: if a & 8 != 0 { vec![] } else { vec![addr(100)] },
                };
                let _ = r.handle_advert(now, addr(a >> 5), &adv);
            }
            6 => {
                let status = if a & 1 != 0 {
                    TrackerStatus::Up
                } else {
                    TrackerStatus::Value(i64::from(b as i8))
                };
                let _ = r.handle_event(
                    now,
                    Event::Tracker {
                        index: usize::from(a >> 6),
                        status,
                    },
                );
            }
            7 => {
                let ev = if a & 1 != 0 {
                    Event::InterfaceUp
                } else {
                    Event::InterfaceDown
                };
                let _ = r.handle_event(now, ev);
            }
            8 => {
                let ev = match a % 3 {
                    0 => Event::Shutdown,
                    1 => Event::Startup,
                    _ => Event::SetPriority(Priority(b)),
                };
                let _ = r.handle_event(now, ev);
            }
            _ => {
                let mut n = r.config().clone();
                n.priority = Priority(b.max(1));
                n.preempt = a & 1 != 0;
                if a & 2 != 0 {
                    n.virtual_addresses.push(addr(101));
                }
                if r.handle_event(now, Event::Reload(Box::new(n.clone())))
                    .is_ok()
                {
                    c = n;
                }
            }
        }
        while let Some(action) = r.poll_action() {
            match action {
                Action::AddVips => {
                    assert!(!vips);
                    vips = true;
                }
                Action::RemoveVips => {
                    assert!(vips);
                    vips = false;
                }
                _ => {}
            }
        }
        assert_eq!(vips, r.state() == State::Master);
        if matches!(r.state(), State::Backup | State::Master) {
            assert!(r.poll_timeout().is_some());
        }
    }
});
