//! Tier `kernel` (inside the VM): `ha_suspend` suspends a virtual server's checks while its
//! address is not configured on the director (a VRRP backup) and resumes them when it is,
//! following address changes as they happen.
//!
//! ```text
//!  director (hagroupd; VIP 192.0.2.1 added/removed on lo)  198.51.100.1 ── 198.51.100.2 rs1 (TCP :8080)
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

#[path = "support/director_lab.rs"]
mod lab;

use std::time::Duration;

use lab::{table, wait_for};
use support::*;

const CONF: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 1
    alpha
    ha_suspend
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.2 8080 {
        TCP_CHECK {
            connect_timeout 1
            retry 0
            warmup 0
        }
    }
}
";

fn rs1_in_table(ns: &netns_lab::Netns) -> bool {
    table(ns)
        .get("TCP 192.0.2.1:80")
        .is_some_and(|rs| rs.contains_key("198.51.100.2:8080"))
}

fn count(d: &Daemon, needle: &str) -> usize {
    d.log_text().matches(needle).count()
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_ha_suspend_checks_run_only_while_the_virtual_address_is_local() {
    const SUSPENDED: &str = "checks suspended";
    const RESUMED: &str = "checks resume";
    let mut lab = netns_lab::Lab::new("hgsusp").unwrap();
    let d = lab.add_ns("d").unwrap();
    let rs1 = lab.add_ns("rs1").unwrap();
    lab.veth(&d, "to-rs1", &rs1, "eth0").unwrap();
    d.ip(&["addr", "add", "198.51.100.1/30", "dev", "to-rs1"])
        .unwrap();
    rs1.ip(&["addr", "add", "198.51.100.2/30", "dev", "eth0"])
        .unwrap();
    let _server = responder(&rs1, "rs1\n");
    let dir = temp_dir("hgsusp");
    let mut daemon = start_hagroupd(&d, &dir, "d", CONF);

    // Without the address: the service is there, its (alpha) real server never checked in.
    wait_for("the service", || table(&d).contains_key("TCP 192.0.2.1:80"));
    wait_for("checks suspended at start", || {
        count(&daemon, SUSPENDED) >= 1
    });
    std::thread::sleep(Duration::from_secs(3));
    assert!(!rs1_in_table(&d), "suspended checks ran: {:?}", table(&d));

    // The address arrives (as a VRRP master adds it): checks run, rs1 enters.
    d.ip(&["addr", "add", "192.0.2.1/32", "dev", "lo"]).unwrap();
    wait_for("rs1 checked in", || rs1_in_table(&d));
    assert_eq!(count(&daemon, RESUMED), 1, "{}", daemon.log_text());

    // The address goes (a VRRP backup): checks stop, so rs1's failure goes unseen.
    d.ip(&["addr", "del", "192.0.2.1/32", "dev", "lo"]).unwrap();
    wait_for("checks suspended again", || count(&daemon, SUSPENDED) >= 2);
    rs1.ip(&["link", "set", "eth0", "down"]).unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(rs1_in_table(&d), "a suspended check removed rs1");

    // Back: the checks resume and find rs1 down.
    d.ip(&["addr", "add", "192.0.2.1/32", "dev", "lo"]).unwrap();
    wait_for("rs1 removed after its check failed", || !rs1_in_table(&d));
    assert_eq!(count(&daemon, RESUMED), 2, "{}", daemon.log_text());

    assert!(daemon.stop().success());
    let _ = std::fs::remove_dir_all(&dir);
}
