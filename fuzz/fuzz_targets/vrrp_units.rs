//! Fuzz the protocol unit constructors: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_proto::{AdvertInterval, Version, Vrid};

fuzz_target!(|data: &[u8]| {
    if let [a, b, c, ..] = data {
        let _ = Vrid::new(*a);
        let _ = Version::from_number(*b);
        let _ = AdvertInterval::from_centis(u16::from_be_bytes([*b, *c])).map(|i| i.secs_v2());
        let _ = AdvertInterval::from_secs(*c);
    }
});
