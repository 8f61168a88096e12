//! A service that embeds VRRP: it serves TCP on the virtual address only while its router is
//! Master, and stops serving (and lets the VIP go) when another router takes over.
//!
//! ```text
//! serve_while_master IFACE VRID PRIORITY VIP[/PREFIX] [PORT]
//! # e.g., as root, on two hosts of one LAN:
//! serve_while_master eth0 51 150 192.0.2.100/24 8080
//! serve_while_master eth0 51 100 192.0.2.100/24 8080
//! ```
//!
//! VRRPv3 with 100 ms adverts; Ctrl-C stops gracefully (priority-0 advert, VIP removed).
#![allow(clippy::print_stderr)]

use std::net::IpAddr;
use vrrp_fsm::{RouterConfig, State};
use vrrp_net::driver::{self, DriverConfig, DriverEvent, InstanceConfig, UnitConfig, VipConfig};
use vrrp_proto::{AdvertInterval, Priority, Version, Vrid};

fn usage() -> ! {
    eprintln!("usage: serve_while_master IFACE VRID PRIORITY VIP[/PREFIX] [PORT]");
    std::process::exit(2)
}

fn parse_args() -> Option<(String, u8, u8, IpAddr, u8, u16)> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let iface = a.first()?.clone();
    let vrid = a.get(1)?.parse().ok()?;
    let prio = a.get(2)?.parse().ok()?;
    let (vip, prefix) = match a.get(3)?.split_once('/') {
        Some((v, p)) => (v.parse().ok()?, p.parse().ok()?),
        None => {
            let v: IpAddr = a.get(3)?.parse().ok()?;
            (v, if v.is_ipv4() { 32 } else { 128 })
        }
    };
    let port = a.get(4).map_or(Some(8080), |p| p.parse().ok())?;
    Some((iface, vrid, prio, vip, prefix, port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some((iface, vrid, prio, vip, prefix, port)) = parse_args() else {
        usage()
    };
    let unspecified: IpAddr = if vip.is_ipv4() {
        "0.0.0.0".parse()?
    } else {
        "::".parse()?
    };
    let mut router = RouterConfig::new(Vrid::new(vrid)?, unspecified, vec![vip]);
    router.name = "service".into();
    router.version = Version::V3;
    router.advert_interval = AdvertInterval::from_centis(10)?;
    router.priority = Priority(prio);
    let mut v = VipConfig::host(vip);
    v.prefix_len = prefix;
    let mut handle = driver::start(DriverConfig {
        units: vec![UnitConfig::Instance(Box::new(InstanceConfig::new(
            router,
            &iface,
            vec![v],
        )))],
        ..Default::default()
    })?;
    let mut events = handle.take_events().ok_or("events taken")?;
    let mut status = handle.status();
    let mut server: Option<tokio::task::JoinHandle<()>> = None;
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            Some(ev) = events.recv() => {
                if let DriverEvent::StateChanged { from, to, .. } = ev {
                    eprintln!("state {from} -> {to}");
                }
            }
            changed = status.changed() => {
                if changed.is_err() { break; }
                let master = status
                    .borrow_and_update()
                    .get("service")
                    .is_some_and(|s| s.state == State::Master);
                match (master, server.is_some()) {
                    (true, false) => {
                        // The VIP is on the interface now: bind to it.
                        let listener = tokio::net::TcpListener::bind((vip, port)).await?;
                        eprintln!("Master: serving on {vip}:{port}");
                        server = Some(tokio::spawn(async move {
                            use tokio::io::AsyncWriteExt;
                            while let Ok((mut s, peer)) = listener.accept().await {
                                let _ = s.write_all(format!("hello {peer}, I am the Master\n").as_bytes()).await;
                            }
                        }));
                    }
                    (false, true) => {
                        if let Some(s) = server.take() {
                            s.abort();
                        }
                        eprintln!("not Master: stopped serving");
                    }
                    _ => {}
                }
            }
        }
    }
    if let Some(s) = server.take() {
        s.abort();
    }
    handle.shutdown().await;
    eprintln!("stopped");
    Ok(())
}
