//! Tier `kernel` (inside the VM): hagroupd as an LVS-NAT director with `--metrics-listen`;
//! after client traffic through the VIP, `/metrics` shows the kernel's IPVS counters of the
//! service and of the real server, the real server alive, and its TCP_CHECK results.
//!
//! ```text
//!  client 203.0.113.2 ── 203.0.113.1 director (VIP 192.0.2.1 on lo, forwarding on,
//!                                     hagroupd, metrics on 127.0.0.1:9650)
//!                                    198.51.100.1 ── 198.51.100.2 rs1 (HTTP :8080)
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "netns_support.rs"]
mod support;

#[path = "support/director_lab.rs"]
mod lab;

use lab::Httpd;
use netns_lab::Netns;
use support::*;

const METRICS: &str = "127.0.0.1:9650";

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
}
";

/// `GET /` on the VIP from `ns`: the body, or "" when it failed.
fn client_get(ns: &Netns) -> String {
    vrrp_net::netns::spawn_in(ns.name(), || async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let connect = tokio::net::TcpStream::connect("192.0.2.1:80");
        let Ok(Ok(mut s)) = tokio::time::timeout(std::time::Duration::from_secs(10), connect).await
        else {
            return String::new();
        };
        let _ = s
            .write_all(b"GET / HTTP/1.0\r\nHost: 192.0.2.1\r\n\r\n")
            .await;
        let mut out = Vec::new();
        let _ =
            tokio::time::timeout(std::time::Duration::from_secs(10), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    })
    .join()
    .unwrap()
    .unwrap()
}

fn scrape(ns: &Netns) -> String {
    vrrp_net::netns::spawn_in(ns.name(), || async {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let Ok(mut s) = tokio::net::TcpStream::connect(METRICS).await else {
            return String::new();
        };
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").await;
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    })
    .join()
    .unwrap()
    .unwrap()
}

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[test]
#[ignore = "tier kernel: needs an IPVS kernel (scripts/test kernel)"]
fn kernel_metrics_show_ipvs_counters_after_traffic() {
    let mut lab = netns_lab::Lab::new("hgmk").unwrap();
    let d = lab.add_ns("d").unwrap();
    let rs1 = lab.add_ns("rs1").unwrap();
    let cl = lab.add_ns("cl").unwrap();
    for (ns, dif, dip, rip) in [
        (&rs1, "to-rs1", "198.51.100.1/30", "198.51.100.2/30"),
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
    let dir = temp_dir("hgmk");
    let _httpd = Httpd::start(&rs1, &dir, "rs1");
    let mut daemon = start_hagroupd_with(&d, &dir, "d", CONF, &["--metrics-listen", METRICS]);

    let alive = "hagroup_real_server_alive{virtual_server=\"tcp/192.0.2.1:80\",real_server=\"198.51.100.2:8080\"}";
    let checks = "hagroup_check_results_total{virtual_server=\"tcp/192.0.2.1:80\",real_server=\"198.51.100.2:8080\",checker=\"TCP_CHECK\",result=\"success\"}";
    let mut last = String::new();
    wait_until("a successful check of rs1", || {
        last = scrape(&d);
        sample(&last, alive) == Some(1.0) && sample(&last, checks).is_some_and(|n| n >= 1.0)
    });
    // Five requests answered by rs1 through the VIP (a slow emulated VM may time one out:
    // retried, within a bound).
    let mut served = 0;
    for _ in 0..20 {
        if client_get(&cl).contains("rs1") {
            served += 1;
            if served == 5 {
                break;
            }
        }
    }
    assert_eq!(served, 5, "requests reached rs1 through the VIP");

    let svc = "{service=\"tcp/192.0.2.1:80\"}";
    let dest = "{service=\"tcp/192.0.2.1:80\",real_server=\"198.51.100.2:8080\"}";
    wait_until("the IPVS counters after the traffic", || {
        last = scrape(&d);
        sample(
            &last,
            &format!("hagroup_ipvs_service_connections_total{svc}"),
        )
        .is_some_and(|n| n >= 5.0)
    });
    assert_eq!(sample(&last, "hagroup_ipvs_up"), Some(1.0), "{last}");
    for name in [
        "hagroup_ipvs_service_packets_in_total",
        "hagroup_ipvs_service_packets_out_total",
        "hagroup_ipvs_service_bytes_in_total",
        "hagroup_ipvs_service_bytes_out_total",
    ] {
        assert!(
            sample(&last, &format!("{name}{svc}")).is_some_and(|n| n > 0.0),
            "{name}: {last}"
        );
    }
    assert!(
        sample(
            &last,
            &format!("hagroup_ipvs_real_server_connections_total{dest}")
        )
        .is_some_and(|n| n >= 5.0),
        "{last}"
    );
    assert!(
        sample(
            &last,
            &format!("hagroup_ipvs_real_server_bytes_out_total{dest}")
        )
        .is_some_and(|n| n > 0.0),
        "{last}"
    );
    assert_eq!(
        sample(&last, &format!("hagroup_ipvs_real_server_weight{dest}")),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &last,
            "hagroup_virtual_server_quorum_up{virtual_server=\"tcp/192.0.2.1:80\"}"
        ),
        Some(1.0)
    );
    assert!(
        last.contains("hagroup_check_duration_seconds_bucket{"),
        "{last}"
    );
    assert!(daemon.stop().success(), "{}", daemon.log_text());
    let _ = std::fs::remove_dir_all(&dir);
}
