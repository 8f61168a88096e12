//! `hagroupd demo`: the built-in configuration on a throwaway lab of network namespaces.
//!
//! Three routers and a client on a bridge (documentation addresses), one hagroupd per router
//! running the embedded configuration with priorities 150/100/50, a responder on each router
//! so the client can see who holds the VIP, and an observer on the client's port that
//! timestamps adverts and gratuitous ARPs. The Master is killed with SIGKILL and the demo
//! prints the timeline and the measured failover. Everything is deleted at the end.

use kconf_parser::model::VrrpState;
use netns_lab::{Lab, Netns};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROUTERS: [(&str, u8, &str); 3] = [
    ("r1", 150, "192.0.2.1"),
    ("r2", 100, "192.0.2.2"),
    ("r3", 50, "192.0.2.3"),
];
const CLIENT: &str = "192.0.2.200";
const PORT: u16 = 8080;

/// What the observer saw on the wire.
#[derive(Debug, Clone, Copy)]
enum Seen {
    /// A VRRP advert from this source with this priority.
    Advert(Ipv4Addr, u8),
    /// A gratuitous ARP for this address from this MAC.
    Garp(Ipv4Addr, [u8; 6]),
}

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Runs the demo: prints the plan, then (as root) runs the lab.
pub(crate) fn run(conf: &str) -> ExitCode {
    let planned = crate::config_cmd::demo(conf);
    if planned != ExitCode::SUCCESS {
        return planned;
    }
    println!();
    if !is_root() {
        println!(
            "The live lab needs root: it creates network namespaces, a bridge and veth pairs \
             (iproute2 `ip netns`), and raw sockets. Run `sudo hagroupd demo` (or \
             `cargo run --release -p hagroupd -- demo` as root)."
        );
        return ExitCode::SUCCESS;
    }
    match lab(conf) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hagroupd demo: {e}");
            ExitCode::from(1)
        }
    }
}

fn router_conf(conf: &str, priority: u8, master: bool) -> Result<String, String> {
    let opts = kconf_parser::Options {
        config_id: Some("demo".into()),
        random_seed: Some(0),
        ..kconf_parser::Options::default()
    };
    let mut parsed = kconf_parser::parse_str(conf, &opts).config;
    let inst = parsed
        .vrrp_instances
        .first_mut()
        .ok_or("the demo configuration has no vrrp_instance")?;
    inst.priority = priority;
    inst.state = if master {
        VrrpState::Master
    } else {
        VrrpState::Backup
    };
    inst.interface = Some("eth0".into());
    // The demo shows VRRP; the LVS part of the example is printed in the plan above.
    parsed.virtual_servers.clear();
    Ok(kconf_parser::print::print_config(&parsed))
}

struct Router {
    name: &'static str,
    addr: Ipv4Addr,
    ns: Netns,
    child: Option<Child>,
}

impl Drop for Router {
    fn drop(&mut self) {
        if let Some(c) = &mut self.child {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn observer(ns: &Netns, log: Arc<Mutex<Vec<(Instant, Seen)>>>, stop: Arc<Mutex<bool>>) {
    let name = ns.name().to_owned();
    std::thread::spawn(move || {
        if vrrp_net::netns::enter(&name).is_err() {
            return;
        }
        let Ok(idx) = vrrp_net::iface::index_of("eth0") else {
            return;
        };
        let Ok(cap) = vrrp_net::announce::FrameCapture::open(idx, Duration::from_millis(100))
        else {
            return;
        };
        while !stop.lock().map(|s| *s).unwrap_or(true) {
            let Some(f) = cap.next() else { continue };
            let now = Instant::now();
            if let Some(seen) = classify(&f)
                && let Ok(mut l) = log.lock()
            {
                l.push((now, seen));
            }
        }
    });
}

fn classify(f: &[u8]) -> Option<Seen> {
    let ethertype = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    match ethertype {
        0x0806 => {
            let spa = f.get(28..32)?;
            let tpa = f.get(38..42)?;
            let mac: [u8; 6] = f.get(22..28)?.try_into().ok()?;
            (spa == tpa).then(|| Seen::Garp(Ipv4Addr::new(spa[0], spa[1], spa[2], spa[3]), mac))
        }
        0x0800 => {
            let ip = f.get(14..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if *ip.get(9)? != 112 {
                return None;
            }
            let src = ip.get(12..16)?;
            let prio = *ip.get(ihl + 2)?;
            Some(Seen::Advert(
                Ipv4Addr::new(src[0], src[1], src[2], src[3]),
                prio,
            ))
        }
        _ => None,
    }
}

fn fetch(client: &Netns, vip: Ipv4Addr) -> Option<String> {
    let name = client.name().to_owned();
    vrrp_net::netns::spawn_in(&name, move || async move {
        use tokio::io::AsyncReadExt;
        for _ in 0..50 {
            if let Ok(Ok(mut s)) = tokio::time::timeout(
                Duration::from_millis(300),
                tokio::net::TcpStream::connect((vip, PORT)),
            )
            .await
            {
                let mut out = String::new();
                if s.read_to_string(&mut out).await.is_ok() && !out.is_empty() {
                    return Some(out.trim().to_owned());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        None
    })
    .join()
    .ok()?
    .ok()?
}

fn responder(ns: &Netns, label: &'static str) {
    let name = ns.name().to_owned();
    vrrp_net::netns::spawn_in(&name, move || async move {
        use tokio::io::AsyncWriteExt;
        let Ok(l) = tokio::net::TcpListener::bind(("0.0.0.0", PORT)).await else {
            return;
        };
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s
                .write_all(format!("hello from {label}\n").as_bytes())
                .await;
        }
    });
}

fn start_daemon(ns: &Netns, dir: &Path, name: &str, conf: &str) -> Result<Child, String> {
    let conf_path = dir.join(format!("{name}.conf"));
    std::fs::write(&conf_path, conf).map_err(|e| e.to_string())?;
    let log = std::fs::File::create(dir.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    ns.command(exe)
        .args(["-n", "-l", "-f"])
        .arg(&conf_path)
        .arg("-p")
        .arg(dir.join(format!("{name}.pid")))
        .arg("-r")
        .arg(dir.join(format!("{name}.vrrp.pid")))
        // The lab's daemons keep their control sockets in the lab directory, off /run.
        .arg("--control-socket")
        .arg(dir.join(format!("{name}.control.sock")))
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())
}

fn vip_of(conf: &str) -> Result<Ipv4Addr, String> {
    let parsed = kconf_parser::parse_str(conf, &kconf_parser::Options::default()).config;
    parsed
        .vrrp_instances
        .first()
        .and_then(|i| i.virtual_ipaddress.first())
        .and_then(|v| match v.address {
            std::net::IpAddr::V4(a) => Some(a),
            std::net::IpAddr::V6(_) => None,
        })
        .ok_or_else(|| "the demo configuration has no IPv4 VIP".to_owned())
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn lab(conf: &str) -> Result<(), String> {
    let vip = vip_of(conf)?;
    let dir: PathBuf = std::env::temp_dir().join(format!("hagroupd-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut lab = Lab::new("demo").map_err(|e| e.to_string())?;
    let e = |x: netns_lab::LabError| x.to_string();
    let switch = lab.add_ns("sw").map_err(e)?;
    lab.bridge(&switch, "br0").map_err(e)?;
    println!(
        "Lab: bridge br0 in {}, routers r1..r3 and a client, 192.0.2.0/24",
        switch.name()
    );
    let mut routers = Vec::new();
    for (i, (name, _, addr)) in ROUTERS.iter().enumerate() {
        let ns = lab.add_ns(name).map_err(e)?;
        lab.attach(&ns, "eth0", &switch, "br0", &format!("p{i}"))
            .map_err(e)?;
        ns.ip(&["addr", "add", &format!("{addr}/24"), "dev", "eth0"])
            .map_err(e)?;
        routers.push(Router {
            name,
            addr: addr.parse().map_err(|_| "address")?,
            ns,
            child: None,
        });
    }
    let client = lab.add_ns("client").map_err(e)?;
    lab.attach(&client, "eth0", &switch, "br0", "pc")
        .map_err(e)?;
    client
        .ip(&["addr", "add", &format!("{CLIENT}/24"), "dev", "eth0"])
        .map_err(e)?;

    let log = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(Mutex::new(false));
    observer(&client, Arc::clone(&log), Arc::clone(&stop));
    for (r, (_, prio, _)) in routers.iter_mut().zip(ROUTERS) {
        responder(&r.ns, r.name);
        let c = router_conf(conf, prio, prio == 150)?;
        r.child = Some(start_daemon(&r.ns, &dir, r.name, &c)?);
        println!("  {} ({}): hagroupd, priority {prio}", r.name, r.addr);
    }
    let t0 = Instant::now();
    let first = fetch(&client, vip).ok_or("the client never reached the VIP")?;
    println!("client -> {vip}:{PORT}: {first}");
    // Let the Master settle for two adverts, then crash it.
    std::thread::sleep(Duration::from_millis(2500));
    let master = routers
        .iter_mut()
        .find(|r| first.ends_with(r.name))
        .ok_or("no router answered")?;
    let killed_at = Instant::now();
    if let Some(c) = &mut master.child {
        let _ = c.kill();
        let _ = c.wait();
    }
    master.child = None;
    let old = master.addr;
    println!("kill -9 hagroupd on {} ({old})", master.name);
    // The killed daemon left its VIP behind (as after `kill -9` of keepalived): the client
    // keeps reaching the old Master until the new one's gratuitous ARPs redirect it.
    let mut second = String::new();
    for _ in 0..100 {
        match fetch(&client, vip) {
            Some(s) if s != first => {
                second = s;
                break;
            }
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    if second.is_empty() {
        return Err("no other router took over the VIP".into());
    }
    let reached_at = Instant::now();
    // A little more, so the new Master's GARP burst is captured.
    std::thread::sleep(Duration::from_millis(500));
    if let Ok(mut s) = stop.lock() {
        *s = true;
    }
    let seen = log.lock().map(|l| l.clone()).unwrap_or_default();
    let last_old = seen
        .iter()
        .filter(|(_, s)| matches!(s, Seen::Advert(a, p) if *a == old && *p > 0))
        .map(|(t, _)| *t)
        .next_back();
    let first_new = seen.iter().find(|(t, s)| {
        matches!(s, Seen::Advert(a, _) if *a != old) && last_old.is_some_and(|l| *t > l)
    });
    let first_garp = seen
        .iter()
        .find(|(t, s)| matches!(s, Seen::Garp(a, _) if *a == vip) && *t > killed_at);
    println!();
    println!("timeline (observer on the client's port, software timestamps):");
    let at = |t: Instant| format!("{:>9}", ms(t.saturating_duration_since(t0)));
    if let Some(t) = last_old {
        println!("  {}  last advert from the old Master {old}", at(t));
    }
    println!("  {}  kill -9", at(killed_at));
    if let Some((t, Seen::Advert(a, p))) = first_new {
        println!(
            "  {}  first advert from the new Master {a} (priority {p})",
            at(*t)
        );
    }
    if let Some((t, Seen::Garp(_, mac))) = first_garp {
        let mac: Vec<String> = mac.iter().map(|b| format!("{b:02x}")).collect();
        println!(
            "  {}  first gratuitous ARP: {vip} is at {}",
            at(*t),
            mac.join(":")
        );
    }
    println!("  {}  client -> {vip}:{PORT}: {second}", at(reached_at));
    if let (Some(l), Some((t, Seen::Advert(_, p)))) = (last_old, first_new) {
        // The takeover timer of the new Master: 3 adverts + skew (VRRPv2, 1 s adverts).
        let skew = Duration::from_micros((256 - u64::from(*p)) * 1_000_000 / 256);
        let limit = Duration::from_secs(3) + skew;
        println!();
        println!(
            "failover: {} from the last advert of the old Master to the first advert of the new one \
             (Master_Down_Interval for priority {p}: {})",
            ms(t.saturating_duration_since(l)),
            ms(limit)
        );
    }
    for r in &mut routers {
        if let Some(c) = &r.child {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    drop(routers);
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
    println!("lab removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn router_configs_come_from_the_embedded_one() {
        let c = router_conf(crate::DEMO_CONF, 100, false).unwrap();
        let parsed = kconf_parser::parse_str(&c, &kconf_parser::Options::default());
        assert!(!parsed.has_errors(), "{}", parsed.render_diagnostics());
        let i = &parsed.config.vrrp_instances[0];
        assert_eq!(i.priority, 100);
        assert_eq!(i.state, VrrpState::Backup);
        assert_eq!(
            vip_of(crate::DEMO_CONF).unwrap(),
            Ipv4Addr::new(192, 0, 2, 100)
        );
    }

    #[test]
    fn frames_are_classified() {
        let mac = [2, 0, 0, 0, 0, 1];
        let mut garp = [0u8; vrrp_proto::announce::GARP_FRAME_LEN];
        vrrp_proto::garp_frame(
            vrrp_proto::MacAddr(mac),
            Ipv4Addr::new(192, 0, 2, 100),
            &mut garp,
        )
        .unwrap();
        assert!(
            matches!(classify(&garp), Some(Seen::Garp(a, m)) if a == Ipv4Addr::new(192, 0, 2, 100) && m == mac)
        );
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00]);
        let advert = vrrp_proto::Advertisement::builder(
            vrrp_proto::Version::V2,
            vrrp_proto::Vrid::new(51).unwrap(),
        )
        .priority(vrrp_proto::Priority(100))
        .address(Ipv4Addr::new(192, 0, 2, 100))
        .build();
        let mut ip = [0u8; 64];
        let n = vrrp_proto::build_ipv4_advert(
            &advert,
            Ipv4Addr::new(192, 0, 2, 2),
            vrrp_net::socket::VRRP_GROUP_V4,
            0,
            vrrp_proto::ChecksumMode::PseudoHeader,
            &mut ip,
        )
        .unwrap();
        eth.extend_from_slice(&ip[..n]);
        assert!(
            matches!(classify(&eth), Some(Seen::Advert(a, 100)) if a == Ipv4Addr::new(192, 0, 2, 2))
        );
    }
}
