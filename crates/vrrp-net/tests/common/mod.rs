//! A small LAN for the netns tests: a switch namespace with a bridge, and hosts attached to
//! it with `eth0`, IPv4 192.0.2.N/24, IPv6 2001:db8::N/64, DAD off.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use netns_lab::{Lab, Netns};

pub struct Lan {
    pub lab: Lab,
    pub switch: Netns,
    pub hosts: Vec<Netns>,
}

pub fn lan(tag: &str, n: usize) -> Lan {
    let mut lab = Lab::new(tag).expect("lab");
    let switch = lab.add_ns("sw").expect("switch ns");
    lab.bridge(&switch, "br0").expect("bridge");
    let mut hosts = Vec::new();
    for i in 1..=n {
        let h = lab.add_ns(&format!("h{i}")).expect("host ns");
        h.sysctl("net.ipv6.conf.all.accept_dad", "0").unwrap();
        h.sysctl("net.ipv6.conf.default.accept_dad", "0").unwrap();
        lab.attach(&h, "eth0", &switch, "br0", &format!("p{i}"))
            .expect("attach");
        h.ip(&["addr", "add", &format!("192.0.2.{i}/24"), "dev", "eth0"])
            .unwrap();
        h.ip(&[
            "addr",
            "add",
            &format!("2001:db8::{i}/64"),
            "dev",
            "eth0",
            "nodad",
        ])
        .unwrap();
        hosts.push(h);
    }
    for h in &hosts {
        wait_link_local(h);
    }
    Lan { lab, switch, hosts }
}

/// Waits until `eth0` has its IPv6 link-local address.
pub fn wait_link_local(h: &Netns) {
    for _ in 0..100 {
        let out = h
            .ip(&["-6", "addr", "show", "dev", "eth0", "scope", "link"])
            .unwrap();
        let s = String::from_utf8_lossy(&out.stdout).into_owned();
        if s.contains("fe80::") && !s.contains("tentative") {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("no link-local address on eth0 in {}", h.name());
}

pub fn ip_out(h: &Netns, args: &[&str]) -> String {
    String::from_utf8_lossy(&h.ip(args).unwrap().stdout).into_owned()
}

pub fn mac_of(h: &Netns, dev: &str) -> String {
    let s = ip_out(h, &["link", "show", "dev", dev]);
    s.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("mac")
        .to_owned()
}
