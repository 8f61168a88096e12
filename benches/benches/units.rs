//! Smoke benchmark of the protocol unit conversions (a template for the per-crate benches).
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use vrrp_proto::AdvertInterval;

fn units(c: &mut Criterion) {
    c.bench_function("advert_interval_from_centis", |b| {
        b.iter(|| AdvertInterval::from_centis(black_box(100)).map(|i| i.as_duration()))
    });
}

criterion_group!(benches, units);
criterion_main!(benches);
