//! Tier `netns`: needs root and network namespaces. Run with `scripts/test netns`.

use netns_lab::{Lab, netns_exists};

#[test]
#[ignore = "tier netns: needs root and network namespaces (scripts/test netns)"]
fn netns_lab_connects_hosts_on_a_bridge_and_cleans_up() {
    let names;
    {
        let mut lab = Lab::new("selftest").unwrap();
        let sw = lab.add_ns("sw").unwrap();
        let a = lab.add_ns("a").unwrap();
        let b = lab.add_ns("b").unwrap();
        lab.bridge(&sw, "br0").unwrap();
        lab.attach(&a, "eth0", &sw, "br0", "pa").unwrap();
        lab.attach(&b, "eth0", &sw, "br0", "pb").unwrap();
        a.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"])
            .unwrap();
        b.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"])
            .unwrap();
        let out = a
            .exec_unchecked("ping", &["-c", "1", "-W", "5", "192.0.2.2"])
            .unwrap();
        assert!(
            out.status.success(),
            "ping across the bridge failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        names = lab
            .namespaces()
            .iter()
            .map(|n| n.name().to_owned())
            .collect::<Vec<_>>();
        for n in &names {
            assert!(
                netns_exists(n).unwrap(),
                "{n} should exist while the lab lives"
            );
        }
    }
    for n in &names {
        assert!(!netns_exists(n).unwrap(), "{n} should be gone after drop");
    }
}
