//! The steady path allocates nothing: adverts received in Backup and Adver_Timer expiries
//! in Master (issue 5, performance section).
//!
//! A counting global allocator needs `unsafe impl GlobalAlloc`; it only delegates to
//! `System`, and this test binary is its only user.
#![allow(unsafe_code, clippy::unwrap_used)]

mod common;

use common::*;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::alloc::{GlobalAlloc, Layout, System};
use vrrp_fsm::State;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the counter has no effect on memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steady_path_does_not_allocate() {
    // Backup hearing its master.
    let c = cfg_v3(2, 100, 1);
    let adv = advert(&c, 200);
    let mut b = new_router(c.clone());
    drain(&mut b);
    let mut now = T0;
    // Master on its advert timer.
    let mut m = new_router(cfg_v3(1, 200, 1));
    let t = m.poll_timeout().unwrap();
    m.handle_timeout(t);
    assert_eq!(m.state(), State::Master);
    drain(&mut m);
    // Warm up (first bursts, GARP second burst after 5 s = 500 adverts at 10 ms).
    for _ in 0..1000 {
        now += Duration::from_millis(10);
        b.handle_advert(now, v4(1), &adv).unwrap();
        while b.poll_action().is_some() {}
        let t = m.poll_timeout().unwrap();
        m.handle_timeout(t);
        while m.poll_action().is_some() {}
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    let mut sent = 0u64;
    for _ in 0..10_000 {
        now += Duration::from_millis(10);
        b.handle_advert(now, v4(1), &adv).unwrap();
        while b.poll_action().is_some() {}
        let _ = b.poll_timeout();
        let t = m.poll_timeout().unwrap();
        m.handle_timeout(t);
        while let Some(a) = m.poll_action() {
            sent += u64::from(matches!(a, vrrp_fsm::Action::SendAdvert { .. }));
        }
    }
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(sent, 10_000);
    assert_eq!(b.state(), State::Backup);
    assert_eq!(after - before, 0, "allocations on the steady path");
}
