//! The exposition text after known events: the expected families, labels and values, and the
//! whole text checked by a small OpenMetrics text parser (families declared before their
//! samples, sample names of the family's type, label syntax and escapes, values, `# EOF`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;

use hagroup_metrics::{CheckMetrics, Scrape, VrrpSample, render};
use healthcheck::{Protocol, VirtualServerKey};
use ipvs_netlink::{
    Destination, DestinationExtended, Forward, Service, ServiceEntry, ServiceExtended, ServiceKey,
    Stats, Table,
};
use lvs_director::{RealServerHealth, VirtualServerHealth};
use vrrp_fsm::{Counters, State};
use vrrp_net::driver::{DriverStats, InstanceStatus};
use vrrp_proto::Priority;

#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

fn valid_metric_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_' || ch == ':')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == ':')
}

fn valid_label_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(ch) if ch.is_ascii_alphabetic() || ch == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

/// Parses `{a="x",b="y"}` at the start of `s`; returns the labels and the rest.
fn parse_labels(s: &str) -> Result<(BTreeMap<String, String>, &str), String> {
    let mut labels = BTreeMap::new();
    let mut rest = s.strip_prefix('{').ok_or("no {")?;
    loop {
        if let Some(r) = rest.strip_prefix('}') {
            return Ok((labels, r));
        }
        let eq = rest.find('=').ok_or("label without =")?;
        let name = &rest[..eq];
        if !valid_label_name(name) {
            return Err(format!("bad label name {name:?}"));
        }
        let mut chars = rest[eq + 1..].char_indices();
        if chars.next().map(|(_, c)| c) != Some('"') {
            return Err("label value not quoted".into());
        }
        let mut value = String::new();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            match c {
                '\\' => match chars.next().map(|(_, c)| c) {
                    Some('\\') => value.push('\\'),
                    Some('"') => value.push('"'),
                    Some('n') => value.push('\n'),
                    other => return Err(format!("bad escape {other:?}")),
                },
                '"' => {
                    end = Some(eq + 1 + i + 1);
                    break;
                }
                '\n' => return Err("newline in label value".into()),
                c => value.push(c),
            }
        }
        let end = end.ok_or("unterminated label value")?;
        if labels.insert(name.to_owned(), value).is_some() {
            return Err(format!("duplicate label {name}"));
        }
        rest = &rest[end..];
        if let Some(r) = rest.strip_prefix(',') {
            rest = r;
        }
    }
}

/// A small OpenMetrics text parser: the samples, or the first error with its line.
fn parse(text: &str) -> Result<Vec<Sample>, String> {
    let mut samples = Vec::new();
    let mut types: HashMap<String, String> = HashMap::new();
    let mut seen_families = HashSet::new();
    let mut current: Option<(String, String)> = None;
    let mut eof = false;
    if !text.ends_with('\n') {
        return Err("text does not end with a newline".into());
    }
    for (n, line) in text.lines().enumerate() {
        let err = |m: String| format!("line {}: {m}: {line:?}", n + 1);
        if eof {
            return Err(err("content after # EOF".into()));
        }
        if line == "# EOF" {
            eof = true;
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            let kw = parts.next().unwrap_or("");
            let name = parts.next().ok_or_else(|| err("no name".into()))?;
            let arg = parts.next().unwrap_or("");
            if !valid_metric_name(name) {
                return Err(err("bad family name".into()));
            }
            match kw {
                "TYPE" => {
                    if !matches!(
                        arg,
                        "counter" | "gauge" | "histogram" | "info" | "stateset" | "unknown"
                    ) {
                        return Err(err("unknown type".into()));
                    }
                    if !seen_families.insert(name.to_owned()) {
                        return Err(err("family declared twice".into()));
                    }
                    types.insert(name.to_owned(), arg.to_owned());
                    current = Some((name.to_owned(), arg.to_owned()));
                }
                "HELP" | "UNIT" => {}
                _ => return Err(err("unknown descriptor".into())),
            }
            continue;
        }
        let name_end = line
            .find(['{', ' '])
            .ok_or_else(|| err("no value".into()))?;
        let name = &line[..name_end];
        let (labels, rest) = if line[name_end..].starts_with('{') {
            parse_labels(&line[name_end..]).map_err(err)?
        } else {
            (BTreeMap::new(), &line[name_end..])
        };
        let value = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before the value".into()))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().map_err(|_| err("bad value".into()))?,
        };
        let (family, ty) = current
            .as_ref()
            .ok_or_else(|| err("sample before any TYPE".into()))?;
        let suffix = name
            .strip_prefix(family.as_str())
            .ok_or_else(|| err(format!("sample outside its family {family}")))?;
        let ok = match ty.as_str() {
            "counter" => matches!(suffix, "_total" | "_created"),
            "gauge" => suffix.is_empty(),
            "histogram" => {
                matches!(suffix, "_sum" | "_count" | "_created")
                    || (suffix == "_bucket" && labels.contains_key("le"))
            }
            _ => true,
        };
        if !ok {
            return Err(err(format!("sample name does not fit a {ty}")));
        }
        samples.push(Sample {
            name: name.to_owned(),
            labels,
            value,
        });
    }
    if !eof {
        return Err("no # EOF".into());
    }
    Ok(samples)
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    samples
        .iter()
        .filter(|s| {
            s.name == name
                && labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
        })
        .collect()
}

fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    let found = find(samples, name, labels);
    assert_eq!(found.len(), 1, "{name} {labels:?}: {found:?}");
    found[0].value
}

fn known_scrape() -> Scrape {
    let mut counters = Counters {
        adverts_sent: 7,
        adverts_received: 3,
        transitions: 2,
        became_master: 1,
        ..Counters::default()
    };
    counters.discards.auth_mismatch = 2;
    let mut stats = DriverStats::default();
    stats.rx_errors.insert("bad_ttl".into(), 4);
    stats.instances.insert("VI_1".into(), counters);
    let mut status = BTreeMap::new();
    status.insert(
        "VI_1".to_owned(),
        InstanceStatus {
            state: State::Master,
            priority: Priority(150),
            master: None,
        },
    );
    let vip: SocketAddr = "192.0.2.1:80".parse().unwrap();
    let health = vec![VirtualServerHealth {
        key: VirtualServerKey::Addr {
            protocol: Protocol::Tcp,
            addr: vip,
        },
        quorum_up: Some(true),
        real_servers: vec![
            RealServerHealth {
                addr: "198.51.100.1:80".parse().unwrap(),
                alive: true,
                weight: 3,
                ipvs_weight: Some(3),
            },
            RealServerHealth {
                addr: "198.51.100.2:80".parse().unwrap(),
                alive: false,
                weight: 2,
                ipvs_weight: None,
            },
        ],
    }];
    let key = ServiceKey::Addr {
        addr: vip.ip(),
        port: 80,
        protocol: ipvs_netlink::Protocol::Tcp,
    };
    let table = Table {
        info: None,
        services: vec![ServiceEntry {
            service: ServiceExtended {
                service: Service::new(key, "rr"),
                stats: Stats {
                    conns: 11,
                    inpkts: 50,
                    outpkts: 40,
                    inbytes: 5000,
                    outbytes: 9000,
                    cps: 2,
                    ..Stats::default()
                },
            },
            dests: vec![DestinationExtended {
                dest: Destination {
                    weight: 3,
                    ..Destination::new("198.51.100.1".parse().unwrap(), 80, Forward::Masq)
                },
                active_conns: 1,
                inact_conns: 5,
                persist_conns: 0,
                stats: Stats {
                    conns: 11,
                    outbytes: 9000,
                    ..Stats::default()
                },
            }],
        }],
    };
    Scrape {
        vrrp: Some(VrrpSample { status, stats }),
        health: Some(health),
        ipvs: Some(Ok(table)),
    }
}

#[test]
fn the_text_has_every_family_with_the_values_fed_in_and_parses() {
    let checks = CheckMetrics::new();
    let vs = "tcp/192.0.2.1:80";
    checks.record(vs, "198.51.100.1:80", "HTTP_GET", "success", 0.004);
    checks.record(vs, "198.51.100.1:80", "HTTP_GET", "success", 0.2);
    checks.record(vs, "198.51.100.2:80", "TCP_CHECK", "timeout", 3.0);
    let text = render(&known_scrape(), &checks);
    let s = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let helps: Vec<&str> = text.lines().filter(|l| l.starts_with("# HELP ")).collect();
    assert!(helps.len() > 40, "{helps:?}");
    assert!(
        helps.iter().all(|l| l.ends_with('.') && !l.ends_with("..")),
        "{helps:?}"
    );

    // VRRP.
    let vi = [("instance", "VI_1")];
    assert_eq!(value(&s, "hagroup_vrrp_state", &vi), 2.0);
    assert_eq!(
        value(
            &s,
            "hagroup_vrrp_instance_state",
            &[("instance", "VI_1"), ("state", "MASTER")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &s,
            "hagroup_vrrp_instance_state",
            &[("instance", "VI_1"), ("state", "BACKUP")]
        ),
        0.0
    );
    assert_eq!(value(&s, "hagroup_vrrp_priority", &vi), 150.0);
    assert_eq!(value(&s, "hagroup_vrrp_adverts_sent_total", &vi), 7.0);
    assert_eq!(value(&s, "hagroup_vrrp_adverts_received_total", &vi), 3.0);
    assert_eq!(value(&s, "hagroup_vrrp_transitions_total", &vi), 2.0);
    assert_eq!(value(&s, "hagroup_vrrp_became_master_total", &vi), 1.0);
    assert_eq!(
        value(
            &s,
            "hagroup_vrrp_adverts_discarded_total",
            &[("instance", "VI_1"), ("reason", "auth_mismatch")]
        ),
        2.0
    );
    assert_eq!(
        find(&s, "hagroup_vrrp_adverts_discarded_total", &vi).len(),
        9,
        "one series per discard reason"
    );
    assert_eq!(
        value(
            &s,
            "hagroup_vrrp_packets_rejected_total",
            &[("reason", "bad_ttl")]
        ),
        4.0
    );

    // Director health.
    let rs1 = [("virtual_server", vs), ("real_server", "198.51.100.1:80")];
    let rs2 = [("virtual_server", vs), ("real_server", "198.51.100.2:80")];
    assert_eq!(
        value(
            &s,
            "hagroup_virtual_server_quorum_up",
            &[("virtual_server", vs)]
        ),
        1.0
    );
    assert_eq!(value(&s, "hagroup_real_server_alive", &rs1), 1.0);
    assert_eq!(value(&s, "hagroup_real_server_alive", &rs2), 0.0);
    assert_eq!(value(&s, "hagroup_real_server_weight", &rs2), 2.0);
    assert_eq!(value(&s, "hagroup_real_server_ipvs_weight", &rs1), 3.0);
    assert!(find(&s, "hagroup_real_server_ipvs_weight", &rs2).is_empty());

    // Checks.
    let http = [
        ("virtual_server", vs),
        ("real_server", "198.51.100.1:80"),
        ("checker", "HTTP_GET"),
    ];
    let mut http_ok = http.to_vec();
    http_ok.push(("result", "success"));
    assert_eq!(value(&s, "hagroup_check_results_total", &http_ok), 2.0);
    assert_eq!(
        value(
            &s,
            "hagroup_check_results_total",
            &[("checker", "TCP_CHECK"), ("result", "timeout")]
        ),
        1.0
    );
    assert_eq!(
        value(&s, "hagroup_check_duration_seconds_count", &http),
        2.0
    );
    let sum = value(&s, "hagroup_check_duration_seconds_sum", &http);
    assert!((sum - 0.204).abs() < 1e-9, "{sum}");
    let mut le = http.to_vec();
    le.push(("le", "0.005"));
    assert_eq!(value(&s, "hagroup_check_duration_seconds_bucket", &le), 1.0);
    let mut inf = http.to_vec();
    inf.push(("le", "+Inf"));
    assert_eq!(
        value(&s, "hagroup_check_duration_seconds_bucket", &inf),
        2.0
    );

    // IPVS.
    let svc = [("service", vs)];
    assert_eq!(value(&s, "hagroup_ipvs_up", &[]), 1.0);
    assert_eq!(
        value(&s, "hagroup_ipvs_service_connections_total", &svc),
        11.0
    );
    assert_eq!(
        value(&s, "hagroup_ipvs_service_packets_in_total", &svc),
        50.0
    );
    assert_eq!(
        value(&s, "hagroup_ipvs_service_bytes_out_total", &svc),
        9000.0
    );
    assert_eq!(
        value(&s, "hagroup_ipvs_service_connections_per_second", &svc),
        2.0
    );
    let dest = [("service", vs), ("real_server", "198.51.100.1:80")];
    assert_eq!(
        value(&s, "hagroup_ipvs_real_server_connections_total", &dest),
        11.0
    );
    assert_eq!(
        value(&s, "hagroup_ipvs_real_server_inactive_connections", &dest),
        5.0
    );
    assert_eq!(value(&s, "hagroup_ipvs_real_server_weight", &dest), 3.0);
}

#[test]
fn parts_the_daemon_does_not_run_are_left_out() {
    let text = render(&Scrape::default(), &CheckMetrics::new());
    let s = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert!(s.is_empty(), "{s:?}");
    // Families without a series are not written at all.
    assert_eq!(text, "# EOF\n");
    let failed = Scrape {
        ipvs: Some(Err("no IPVS".into())),
        ..Scrape::default()
    };
    let s = parse(&render(&failed, &CheckMetrics::new())).unwrap();
    assert_eq!(value(&s, "hagroup_ipvs_up", &[]), 0.0);
}

#[test]
fn label_values_are_escaped() {
    let checks = CheckMetrics::new();
    checks.record(
        "group/a\"b\\c\nd",
        "198.51.100.1:80",
        "MISC_CHECK",
        "failure",
        0.1,
    );
    let text = render(&Scrape::default(), &checks);
    let s = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(
        value(
            &s,
            "hagroup_check_results_total",
            &[("virtual_server", "group/a\"b\\c\nd")]
        ),
        1.0
    );
}

#[test]
fn the_parser_refuses_broken_text() {
    assert!(
        parse("# TYPE a counter\na 1\n# EOF\n").is_err(),
        "counter without _total"
    );
    assert!(parse("a 1\n# EOF\n").is_err(), "no TYPE");
    assert!(parse("# TYPE a gauge\na 1\n").is_err(), "no EOF");
    assert!(parse("# TYPE a gauge\na{b=\"x} 1\n# EOF\n").is_err());
    assert!(parse("# TYPE a gauge\na{b=\"x\"} one\n# EOF\n").is_err());
    assert!(parse("# TYPE a gauge\na{b=\"x\"} 1\n# EOF\n").is_ok());
}
