//! Fuzz the IPVS reply decoders (`ipvs_netlink::reply`): arbitrary bytes as a received netlink
//! datagram (framing, sequence matching, DONE/ERROR handling) and as a bare generic netlink
//! payload, decoded as each reply kind (services, real servers of an IPv4 and an IPv6 service,
//! sync daemons, info, timeouts). No input may panic, and whatever decodes must render
//! (`ipvsadm -Ln`/`-Sn` text, `Display`) without panicking.
#![no_main]

use ipvs_netlink::reply::{self, Scan};
use ipvs_netlink::{
    DecodeError, DestinationExtended, Family, ListFormat, ServiceEntry, ServiceExtended,
    SyncDaemon, Table, Timeouts,
};
use libfuzzer_sys::fuzz_target;

#[derive(Default)]
struct Decoded {
    services: Vec<ServiceExtended>,
    dests: Vec<DestinationExtended>,
    daemons: Vec<SyncDaemon>,
    timeouts: Timeouts,
}

/// Decodes one generic netlink payload as reply kind `kind` into `d`.
fn decode(kind: u8, payload: &[u8], d: &mut Decoded) -> Result<(), DecodeError> {
    match kind % 6 {
        0 => reply::services(payload, &mut d.services),
        1 => reply::destinations(payload, Family::Inet, &mut d.dests),
        2 => reply::destinations(payload, Family::Inet6, &mut d.dests),
        3 => reply::daemons(payload, &mut d.daemons),
        4 => reply::info(payload).map(|i| {
            let _ = format!("{i:?}");
        }),
        _ => reply::timeouts(payload, &mut d.timeouts),
    }
}

fn render(d: Decoded) {
    let _ = d.timeouts.to_string();
    for daemon in &d.daemons {
        let _ = format!("{daemon:?}");
    }
    for dest in &d.dests {
        let _ = dest.to_string();
    }
    let mut table = Table::default();
    let mut dests = Some(d.dests);
    for s in d.services {
        let _ = s.service.save_line();
        table.services.push(ServiceEntry {
            service: s,
            dests: dests.take().unwrap_or_default(),
        });
    }
    table.sort();
    for format in [ListFormat::Default, ListFormat::Stats, ListFormat::Rate] {
        let _ = table.list(format);
    }
    let _ = table.save();
    let _ = table.to_string();
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, rest)) = data.split_first() else {
        return;
    };
    // As a bare payload.
    let mut d = Decoded::default();
    let _ = decode(kind, rest, &mut d);
    render(d);
    // As a datagram: the reply to the sequence number of its first message.
    let seq = rest
        .get(8..12)
        .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]));
    let mut d = Decoded::default();
    let scanned = reply::scan_datagram(rest, seq, |m| decode(kind, m, &mut d));
    if let Ok(Scan::Failed(errno)) = scanned {
        assert!(errno >= 0, "errno {errno} is negative");
    }
    render(d);
});
