//! `DirectorConfig::static_desired`: the table `hagroupd ipvs apply` programs (every real
//! server at its configured weight, no health checks).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use healthcheck::PoolOptions;
use ipvs_netlink::{Desired, Timeouts, plan};
use lvs_director::{Director, DirectorConfig};

fn config(text: &str) -> DirectorConfig {
    let parsed = kconf_parser::parse_str(text, &kconf_parser::Options::default());
    assert!(!parsed.has_errors(), "{}", parsed.render_diagnostics());
    DirectorConfig::from_kconf(&parsed.config).expect("converts")
}

/// The plan that programs `d` into an empty table, as `ipvsadm` lines.
fn lines(d: &Desired) -> Vec<String> {
    plan(d, &Desired::default())
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn seed(name: &str) -> String {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/seed-configs");
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn seed_config_lvs_dr_01() {
    let c = config(&seed("lvs-dr-01.conf"));
    assert_eq!(
        lines(&c.static_desired()),
        [
            "-A -t 192.168.10.25:80 -s rr -p 6",
            "-a -t 192.168.10.25:80 -r 192.168.10.30:80 -g -w 1",
            "-a -t 192.168.10.25:80 -r 192.168.10.40:80 -g -w 1",
        ]
    );
}

/// Every seed configuration with virtual servers: the static table is what the running
/// director starts with (its real servers are added before their first check).
#[test]
fn seed_configs_match_the_director_at_startup() {
    for name in [
        "lvs-dr-01.conf",
        "lvs-dr-02.conf",
        "lvs-dr-master-annotated.conf",
    ] {
        let c = config(&seed(name));
        let want = c.static_desired();
        assert!(!want.services.is_empty(), "{name}: no services");
        let d = Director::new(c, 1, Duration::ZERO, PoolOptions::default());
        assert_eq!(want, d.desired(), "{name}");
    }
}

const CONF: &str = "
global_defs {
    lvs_timeouts tcp 7200 tcpfin 120 udp 300
}
virtual_server_group web {
    192.0.2.10-11 80
    fwmark 7
}
virtual_server 192.0.2.1 443 {
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    sorry_server 203.0.113.9 8443
    real_server 198.51.100.1 8443 {
        weight 3
        TCP_CHECK { }
    }
    real_server 198.51.100.2 {
        weight 0
    }
}
virtual_server group web {
    lvs_sched rr
    lvs_method DR
    protocol TCP
    sorry_server 203.0.113.9
    sorry_server_inhibit
    real_server 198.51.100.3 80 {
        weight 2
    }
}
virtual_server 192.0.2.2 80 {
    lvs_sched rr
    lvs_method DR
    protocol UDP
    sorry_server 203.0.113.9 80
    real_server 198.51.100.4 80 {
        weight 0
    }
}
";

#[test]
fn weights_groups_and_sorry_servers() {
    let c = config(CONF);
    assert_eq!(
        c.timeouts,
        Some(Timeouts {
            tcp: 7200,
            tcp_fin: 120,
            udp: 300
        })
    );
    assert_eq!(
        lines(&c.static_desired()),
        [
            // Checkers are ignored; weight 0 stays in at 0; the weights reach the quorum, so no
            // sorry server.
            "-A -t 192.0.2.1:443 -s wlc",
            "-a -t 192.0.2.1:443 -r 198.51.100.1:8443 -m -w 3",
            "-a -t 192.0.2.1:443 -r 198.51.100.2:443 -m -w 0",
            // The group expanded; sorry_server_inhibit keeps the sorry server at weight 0.
            "-A -t 192.0.2.10:80 -s rr",
            "-a -t 192.0.2.10:80 -r 198.51.100.3:80 -g -w 2",
            "-a -t 192.0.2.10:80 -r 203.0.113.9:80 -g -w 0",
            "-A -t 192.0.2.11:80 -s rr",
            "-a -t 192.0.2.11:80 -r 198.51.100.3:80 -g -w 2",
            "-a -t 192.0.2.11:80 -r 203.0.113.9:80 -g -w 0",
            "-A -f 7 -s rr",
            "-a -f 7 -r 198.51.100.3:0 -g -w 2",
            "-a -f 7 -r 203.0.113.9:0 -g -w 0",
            // All weights 0: the quorum is down, the sorry server replaces the real servers.
            "-A -u 192.0.2.2:80 -s rr",
            "-a -u 192.0.2.2:80 -r 203.0.113.9:80 -g -w 1",
        ]
    );
}
