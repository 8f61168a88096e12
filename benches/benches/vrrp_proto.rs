//! vrrp-proto: decode + checksum-verify and encode of a VRRPv3 IPv4 advertisement with 1 and
//! 20 virtual addresses, and a count of heap allocations on those paths.
//!
//! Run: `cargo bench -p hagroup-benches --bench vrrp_proto -- --warm-up-time 1 --measurement-time 3`
//! (figures in docs/benchmarks.md).
#![allow(missing_docs)]
// A counting global allocator needs `unsafe impl GlobalAlloc`; nothing else here is unsafe.
#![allow(unsafe_code)]
#![allow(clippy::expect_used, clippy::panic)]

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use vrrp_proto::checksum::VRRP_MULTICAST_V4;
use vrrp_proto::{
    AddressFamily, Advertisement, ChecksumMode, Packet, Priority, RxChecksum, RxPolicy, Version,
    Vrid, build_ipv4_advert, decode_ipv4,
};

/// Counts every allocation, then defers to the system allocator.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards its arguments unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counter is an atomic and never touches the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

fn advert(vips: u8) -> Advertisement {
    Advertisement::builder(Version::V3, Vrid::new(51).expect("valid vrid"))
        .priority(Priority(150))
        .addresses((0..vips).map(|i| Ipv4Addr::new(192, 0, 2, 100 + i)))
        .build()
}

/// The IPv4 packet keepalived would send for `advert`.
fn packet(advert: &Advertisement) -> Vec<u8> {
    let mut buf = vec![0u8; 1500];
    let n = build_ipv4_advert(
        advert,
        SRC,
        VRRP_MULTICAST_V4,
        1,
        ChecksumMode::PseudoHeader,
        &mut buf,
    )
    .expect("encodes");
    buf.truncate(n);
    buf
}

/// VRRP layer: length/version check, checksum with the IPv4 pseudo-header, field checks.
fn decode_message(message: &[u8]) -> u8 {
    let src = IpAddr::V4(SRC);
    let dst = IpAddr::V4(VRRP_MULTICAST_V4);
    let Ok(p) = Packet::new_checked(message, AddressFamily::Ipv4) else {
        return 0;
    };
    if p.verify_checksum(src, dst, RxChecksum::default()).is_err() {
        return 0;
    }
    p.advert().map(|a| a.priority.get()).unwrap_or(0)
}

fn allocations_during(f: impl Fn()) -> u64 {
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..1000 {
        f();
    }
    ALLOCATIONS.load(Ordering::Relaxed) - before
}

fn bench(c: &mut Criterion) {
    let policy = RxPolicy::default();
    let mut group = c.benchmark_group("vrrp_proto_v3_ipv4");
    for vips in [1u8, 20] {
        let adv = advert(vips);
        let ip = packet(&adv);
        let msg = ip[20..].to_vec();
        let mut out = vec![0u8; 1500];

        // Allocation count over 1000 runs of each path (printed; docs/benchmarks.md).
        let decode_allocs = allocations_during(|| {
            black_box(decode_message(black_box(&msg)));
            black_box(decode_ipv4(black_box(&ip), &policy).is_ok());
        });
        let mut out2 = vec![0u8; 1500];
        let encode_allocs = {
            let before = ALLOCATIONS.load(Ordering::Relaxed);
            for _ in 0..1000 {
                let _ = black_box(adv.emit(
                    IpAddr::V4(SRC),
                    IpAddr::V4(VRRP_MULTICAST_V4),
                    ChecksumMode::PseudoHeader,
                    &mut out2,
                ));
                let _ = black_box(build_ipv4_advert(
                    &adv,
                    SRC,
                    VRRP_MULTICAST_V4,
                    7,
                    ChecksumMode::PseudoHeader,
                    &mut out2,
                ));
            }
            ALLOCATIONS.load(Ordering::Relaxed) - before
        };
        eprintln!(
            "vrrp_proto {vips} VIP(s): allocations per 1000 decodes: {decode_allocs}, per 1000 encodes: {encode_allocs}"
        );
        assert_eq!(decode_allocs, 0, "decode allocates");
        assert_eq!(encode_allocs, 0, "encode allocates");

        group.throughput(Throughput::Elements(1));
        group.bench_with_input(
            BenchmarkId::new("decode_verify_message", vips),
            &msg,
            |b, msg| b.iter(|| decode_message(black_box(msg))),
        );
        group.bench_with_input(
            BenchmarkId::new("decode_verify_ipv4_packet", vips),
            &ip,
            |b, ip| {
                b.iter(|| {
                    decode_ipv4(black_box(ip), &policy)
                        .map(|r| r.advert.priority.get())
                        .unwrap_or(0)
                })
            },
        );
        group.bench_with_input(BenchmarkId::new("encode_message", vips), &adv, |b, adv| {
            b.iter(|| {
                black_box(&adv).emit(
                    IpAddr::V4(SRC),
                    IpAddr::V4(VRRP_MULTICAST_V4),
                    ChecksumMode::PseudoHeader,
                    &mut out,
                )
            })
        });
        group.bench_with_input(
            BenchmarkId::new("encode_ipv4_packet", vips),
            &adv,
            |b, adv| {
                b.iter(|| {
                    build_ipv4_advert(
                        black_box(adv),
                        SRC,
                        VRRP_MULTICAST_V4,
                        7,
                        ChecksumMode::PseudoHeader,
                        &mut out,
                    )
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
