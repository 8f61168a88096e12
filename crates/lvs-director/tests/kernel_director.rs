//! Tier `kernel` (inside the VM): the director against a real IPVS table, with real servers in
//! their own network namespaces.
//!
//! Topology (namespaces made by `netns-lab`, point-to-point veth links, so only the `veth`
//! module is needed besides IPVS):
//!
//! ```text
//!  client 203.0.113.2 ── 203.0.113.1 director (VIP 192.0.2.1 on lo, forwarding on)
//!                                      198.51.100.1 ── 198.51.100.2 rs1 (HTTP :8080)
//!                                      198.51.100.5 ── 198.51.100.6 rs2 (HTTP :8080)
//! ```
//!
//! The parent process builds the lab and re-executes this test inside the director namespace
//! (`ip netns exec`); there the director runs in-process, the test starts and stops the real
//! servers' HTTP servers with `ip netns exec`, and reads the kernel table over netlink.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ipvs_netlink::{Client, Desired, Service, ServiceKey};
use lvs_director::DirectorConfig;
use lvs_director::runner::{self, RunnerOptions};

const ROLE_ENV: &str = "LVS_DIRECTOR_TEST_NAMESPACES";

const CONF: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.2 8080 {
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
    real_server 198.51.100.6 8080 {
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
}
";

/// `CONF` without rs1 and with rs2 at weight 3.
const RELOADED: &str = "
virtual_server 192.0.2.1 80 {
    delay_loop 1
    lvs_sched rr
    lvs_method NAT
    protocol TCP
    real_server 198.51.100.6 8080 {
        weight 3
        TCP_CHECK {
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }
    }
}
";

fn config_of(text: &str) -> DirectorConfig {
    let parsed = kconf_parser::parse_str(text, &kconf_parser::Options::default());
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
    DirectorConfig::from_kconf(&parsed.config).unwrap()
}

fn vip_key() -> ServiceKey {
    ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80)
}

fn foreign_key() -> ServiceKey {
    ServiceKey::tcp("203.0.113.50".parse().unwrap(), 25)
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_director_nat_real_servers_follow_their_health() {
    const NAME: &str = "kernel_director_nat_real_servers_follow_their_health";
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        in_director_namespace(&spec);
        return;
    }
    let mut lab = netns_lab::Lab::new("lvsdir").unwrap();
    let d = lab.add_ns("d").unwrap();
    let rs1 = lab.add_ns("rs1").unwrap();
    let rs2 = lab.add_ns("rs2").unwrap();
    let cl = lab.add_ns("cl").unwrap();
    for (ns, dif, dip, rip) in [
        (&rs1, "to-rs1", "198.51.100.1/30", "198.51.100.2/30"),
        (&rs2, "to-rs2", "198.51.100.5/30", "198.51.100.6/30"),
        (&cl, "to-cl", "203.0.113.1/24", "203.0.113.2/24"),
    ] {
        lab.veth(&d, dif, ns, "eth0").unwrap();
        d.ip(&["addr", "add", dip, "dev", dif]).unwrap();
        ns.ip(&["addr", "add", rip, "dev", "eth0"]).unwrap();
        let gw = dip.split('/').next().unwrap();
        ns.ip(&["route", "add", "default", "via", gw]).unwrap();
    }
    d.ip(&["addr", "add", "192.0.2.1/32", "dev", "lo"]).unwrap();
    d.sysctl("net.ipv4.ip_forward", "1").unwrap();
    let exe = std::env::current_exe().unwrap();
    // The child's output goes straight to ours (so a stuck step shows where it is); it proves
    // it ran the whole body by writing this marker last.
    let marker = std::env::temp_dir().join(format!("lvs-director-done-{}", std::process::id()));
    let _ = std::fs::remove_file(&marker);
    let status = d
        .command(&exe)
        .args([
            NAME,
            "--exact",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(
            ROLE_ENV,
            format!(
                "{} {} {} {}",
                rs1.name(),
                rs2.name(),
                cl.name(),
                marker.display()
            ),
        )
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "the director namespace part failed ({status})"
    );
    assert!(marker.exists(), "the child did not run the whole test");
}

/// An HTTP server in a real server's namespace, serving `name` at `/`.
fn httpd(ns: &str, name: &str) -> Child {
    let root = std::env::temp_dir().join(format!("lvs-director-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("index.html"), format!("{name}\n")).unwrap();
    Command::new("ip")
        .args([
            "netns",
            "exec",
            ns,
            "/usr/bin/python3",
            "-m",
            "http.server",
            "8080",
        ])
        .arg("--directory")
        .arg(&root)
        // Not the test's pipes: a server left behind by a failure must not keep the parent
        // waiting for the end of the child's output.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn table() -> Desired {
    Desired::from_table(&Client::new().unwrap().table().unwrap())
}

/// The real servers of the VIP's service as (address, weight); `None` without the service.
fn vip_dests() -> Option<BTreeSet<(IpAddr, u32)>> {
    let t = table();
    let (_, dests) = t.services.iter().find(|(s, _)| s.key == vip_key())?;
    Some(dests.iter().map(|d| (d.addr, d.weight)).collect())
}

fn set(addrs: &[&str]) -> Option<BTreeSet<(IpAddr, u32)>> {
    Some(addrs.iter().map(|a| (a.parse().unwrap(), 1)).collect())
}

/// Waits until the VIP's real servers are `want` (gives up after a generous bound, reporting
/// the last table: the assertion is on the state reached, not on how fast).
async fn wait_for(want: Option<BTreeSet<(IpAddr, u32)>>) {
    let mut last = None;
    for _ in 0..300 {
        last = vip_dests();
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("IPVS table never reached {want:?}; last {last:?}");
}

fn in_director_namespace(spec: &str) {
    let names: Vec<&str> = spec.split(' ').collect();
    let [rs1, rs2, cl, marker] = names[..] else {
        panic!("bad {ROLE_ENV}: {spec}");
    };
    // A service the director does not own: it must survive start, health changes and stop.
    let mut c = Client::new().unwrap();
    c.add_service(&Service::new(foreign_key(), "wlc")).unwrap();

    let config = config_of(CONF);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut h1 = httpd(rs1, "rs1");
        let mut h2 = httpd(rs2, "rs2");
        eprintln!("director: starting");
        // Started as with -I (`--dont-release-ipvs`): its stop leaves the table.
        let leave = RunnerOptions {
            dont_release: true,
            ..RunnerOptions::default()
        };
        let handle = runner::start(config, leave).await.unwrap();
        eprintln!("director: started; table {:?}", vip_dests());
        // keepalived's startup: both real servers are in before their first check.
        assert_eq!(vip_dests(), set(&["198.51.100.2", "198.51.100.6"]));
        wait_for(set(&["198.51.100.2", "198.51.100.6"])).await;

        // The client reaches a real server through the VIP (NAT). The servers may still be
        // starting: a few attempts.
        let mut body = String::new();
        for _ in 0..20 {
            let out = Command::new("ip")
                .args(["netns", "exec", cl, "curl", "-sS", "-m", "3"])
                .arg("http://192.0.2.1/")
                .output()
                .unwrap();
            body = String::from_utf8_lossy(&out.stdout).into_owned();
            if out.status.success() {
                break;
            }
            eprintln!(
                "director: request through the VIP failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        assert!(
            body == "rs1\n" || body == "rs2\n",
            "through the VIP: {body:?}"
        );
        eprintln!("director: request through the VIP answered by {body:?}");
        // rs1's server stops: it leaves the table after its checker's failures.
        h1.kill().unwrap();
        h1.wait().unwrap();
        wait_for(set(&["198.51.100.6"])).await;
        let status = handle.status().await;
        assert_eq!(status.iter().filter(|s| s.alive).count(), 1);

        eprintln!("director: rs1 removed after its failures");
        // It comes back after one good check.
        let mut h1 = httpd(rs1, "rs1");
        wait_for(set(&["198.51.100.2", "198.51.100.6"])).await;

        eprintln!("director: rs1 back");
        // A reload that removes rs1 and changes rs2's weight: exactly those two operations.
        let report = handle.reload(config_of(RELOADED)).await.unwrap();
        assert_eq!(report.ops, 2, "{report:?}");
        assert!(report.failed.is_empty(), "{report:?}");
        let rs2_at_3 = Some([("198.51.100.6".parse().unwrap(), 3)].into());
        assert_eq!(vip_dests(), rs2_at_3);
        eprintln!("director: reload applied exactly its difference");

        // Stopped with -I the table stays; a new director on the same configuration adopts
        // it: nothing is removed and re-added.
        handle.stop().await;
        assert_eq!(vip_dests(), rs2_at_3, "-I leaves the table in place");
        let handle = runner::start(config_of(RELOADED), RunnerOptions::default())
            .await
            .unwrap();
        assert_eq!(handle.started().ops, 0, "{:?}", handle.started());
        eprintln!("director: restart adopted the live table");

        // Stop releases the owned service only.
        for h in [&mut h1, &mut h2] {
            let _ = h.kill();
            let _ = h.wait();
        }
    });
    std::fs::write(marker, "done\n").unwrap();
}
