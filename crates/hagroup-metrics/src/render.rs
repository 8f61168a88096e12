//! The exposition text of one scrape: what was read at scrape time ([`Scrape`]) plus the live
//! check counters ([`CheckMetrics`]), encoded by `prometheus-client` (OpenMetrics text).

use std::collections::BTreeMap;

use ipvs_netlink::{Stats, Table};
use lvs_director::VirtualServerHealth;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use vrrp_fsm::State;
use vrrp_net::driver::{DriverStats, InstanceStatus};

use crate::checks::CheckMetrics;
use crate::labels::{service_label, virtual_server_label};

/// The `Content-Type` of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The VRRP side at scrape time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VrrpSample {
    /// Each instance's state and priority ([`vrrp_net::driver::DriverHandle::status`]).
    pub status: BTreeMap<String, InstanceStatus>,
    /// The driver's counters ([`vrrp_net::driver::DriverHandle::stats`]).
    pub stats: DriverStats,
}

/// Everything read at scrape time. A part that is `None` is left out of the text (the daemon
/// does not run it).
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// VRRP instances.
    pub vrrp: Option<VrrpSample>,
    /// The director's health: quorum, real servers alive and weights.
    pub health: Option<Vec<VirtualServerHealth>>,
    /// The kernel's IPVS table with its counters, or why it could not be read.
    pub ipvs: Option<Result<Table, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InstanceLabels {
    instance: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InstanceStateLabels {
    instance: String,
    state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct InstanceReasonLabels {
    instance: String,
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ReasonLabels {
    reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct VsLabels {
    virtual_server: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RsLabels {
    virtual_server: String,
    real_server: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DestLabels {
    service: String,
    real_server: String,
}

/// keepalived's numbering of the VRRP states (`VRRP_STATE_*`), as its SNMP MIB exposes them.
fn state_number(s: State) -> i64 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
        #[allow(unreachable_patterns)]
        _ => -1,
    }
}

const STATES: [State; 4] = [
    State::Initialize,
    State::Backup,
    State::Master,
    State::Fault,
];

fn gauge_value(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Registers families built from rows of (labels, value).
struct Builder {
    registry: Registry,
}

impl Builder {
    fn counter<L>(&mut self, name: &str, help: &str, rows: impl IntoIterator<Item = (L, u64)>)
    where
        L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
    {
        let family: Family<L, Counter> = Family::default();
        for (labels, v) in rows {
            family.get_or_create(&labels).inc_by(v);
        }
        // The encoder ends help texts with a full stop itself.
        self.registry
            .register(name, help.trim_end_matches('.'), family);
    }

    fn gauge<L>(&mut self, name: &str, help: &str, rows: impl IntoIterator<Item = (L, i64)>)
    where
        L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
    {
        let family: Family<L, Gauge> = Family::default();
        for (labels, v) in rows {
            family.get_or_create(&labels).set(v);
        }
        self.registry
            .register(name, help.trim_end_matches('.'), family);
    }
}

fn discards(c: &vrrp_fsm::DiscardCounters) -> [(&'static str, u64); 9] {
    [
        ("not_listening", c.not_listening),
        ("wrong_vrid", c.wrong_vrid),
        ("wrong_version", c.wrong_version),
        ("wrong_family", c.wrong_family),
        ("interval_mismatch", c.interval_mismatch),
        ("auth_mismatch", c.auth_mismatch),
        ("unknown_unicast_source", c.unknown_unicast_source),
        ("owner_ignores_adverts", c.owner_ignores_adverts),
        ("own_address", c.own_address),
    ]
}

fn render_vrrp(b: &mut Builder, v: &VrrpSample) {
    let inst = |name: &str| InstanceLabels {
        instance: name.to_owned(),
    };
    b.gauge(
        "hagroup_vrrp_state",
        "VRRP state of the instance: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT (keepalived's numbering).",
        v.status
            .iter()
            .map(|(n, s)| (inst(n), state_number(s.state))),
    );
    b.gauge(
        "hagroup_vrrp_instance_state",
        "1 for the state the VRRP instance is in, 0 for the others.",
        v.status.iter().flat_map(|(n, s)| {
            STATES.iter().map(move |st| {
                (
                    InstanceStateLabels {
                        instance: n.clone(),
                        state: st.to_string(),
                    },
                    i64::from(*st == s.state),
                )
            })
        }),
    );
    b.gauge(
        "hagroup_vrrp_priority",
        "Effective priority of the VRRP instance (configured priority plus tracker weights).",
        v.status
            .iter()
            .map(|(n, s)| (inst(n), i64::from(s.priority.get()))),
    );
    let c = &v.stats.instances;
    let per = |f: fn(&vrrp_fsm::Counters) -> u64| {
        c.iter()
            .map(move |(n, k)| (inst(n), f(k)))
            .collect::<Vec<_>>()
    };
    b.counter(
        "hagroup_vrrp_transitions",
        "VRRP state changes of the instance.",
        per(|k| k.transitions),
    );
    b.counter(
        "hagroup_vrrp_became_master",
        "Transitions of the instance into MASTER.",
        per(|k| k.became_master),
    );
    b.counter(
        "hagroup_vrrp_released_master",
        "Transitions of the instance out of MASTER.",
        per(|k| k.released_master),
    );
    b.counter(
        "hagroup_vrrp_adverts_sent",
        "VRRP adverts sent by the instance.",
        per(|k| k.adverts_sent),
    );
    b.counter(
        "hagroup_vrrp_adverts_received",
        "VRRP adverts that reached the instance's state machine (valid packets for its VRID).",
        per(|k| k.adverts_received),
    );
    b.counter(
        "hagroup_vrrp_priority_zero_sent",
        "Priority-0 adverts sent by the instance (giving up MASTER).",
        per(|k| k.priority_zero_sent),
    );
    b.counter(
        "hagroup_vrrp_priority_zero_received",
        "Priority-0 adverts received by the instance.",
        per(|k| k.priority_zero_received),
    );
    b.counter(
        "hagroup_vrrp_adverts_discarded",
        "Adverts the instance's state machine discarded, by reason.",
        c.iter().flat_map(|(n, k)| {
            discards(&k.discards).into_iter().map(move |(r, v)| {
                (
                    InstanceReasonLabels {
                        instance: n.clone(),
                        reason: r.to_owned(),
                    },
                    v,
                )
            })
        }),
    );
    b.counter(
        "hagroup_vrrp_packets_rejected",
        "Received VRRP packets refused by the driver before reaching an instance, by reason.",
        v.stats
            .rx_errors
            .iter()
            .map(|(r, n)| (ReasonLabels { reason: r.clone() }, *n)),
    );
}

fn render_health(b: &mut Builder, health: &[VirtualServerHealth]) {
    let labelled: Vec<(String, &VirtualServerHealth)> = health
        .iter()
        .map(|h| (virtual_server_label(&h.key), h))
        .collect();
    b.gauge(
        "hagroup_virtual_server_quorum_up",
        "1 when the virtual server has its quorum, 0 when it lost it.",
        labelled.iter().filter_map(|(l, h)| {
            Some((
                VsLabels {
                    virtual_server: l.clone(),
                },
                i64::from(h.quorum_up?),
            ))
        }),
    );
    let rs = || {
        labelled.iter().flat_map(|(l, h)| {
            h.real_servers.iter().map(move |r| {
                (
                    RsLabels {
                        virtual_server: l.clone(),
                        real_server: r.addr.to_string(),
                    },
                    r,
                )
            })
        })
    };
    b.gauge(
        "hagroup_real_server_alive",
        "1 when all the real server's checkers are up.",
        rs().map(|(l, r)| (l, i64::from(r.alive))),
    );
    b.gauge(
        "hagroup_real_server_weight",
        "The real server's effective weight (configured plus dynamic adjustments).",
        rs().map(|(l, r)| (l, i64::from(r.weight))),
    );
    b.gauge(
        "hagroup_real_server_ipvs_weight",
        "The real server's weight in the IPVS table (absent when it is not in the table).",
        rs().filter_map(|(l, r)| Some((l, i64::from(r.ipvs_weight?)))),
    );
}

/// The counters and rates of one level (`service` or `real_server`).
fn render_stats<L>(b: &mut Builder, level: &str, what: &str, rows: &[(L, Stats)])
where
    L: Clone + std::hash::Hash + Eq + EncodeLabelSet + std::fmt::Debug + Send + Sync + 'static,
{
    type Field = (&'static str, &'static str, fn(&Stats) -> u64);
    const COUNTERS: [Field; 5] = [
        ("connections", "Connections scheduled", |s| s.conns),
        ("packets_in", "Incoming packets", |s| s.inpkts),
        ("packets_out", "Outgoing packets", |s| s.outpkts),
        ("bytes_in", "Incoming bytes", |s| s.inbytes),
        ("bytes_out", "Outgoing bytes", |s| s.outbytes),
    ];
    const RATES: [Field; 5] = [
        ("connections_per_second", "Connections per second", |s| {
            s.cps
        }),
        (
            "packets_in_per_second",
            "Incoming packets per second",
            |s| s.inpps,
        ),
        (
            "packets_out_per_second",
            "Outgoing packets per second",
            |s| s.outpps,
        ),
        ("bytes_in_per_second", "Incoming bytes per second", |s| {
            s.inbps
        }),
        ("bytes_out_per_second", "Outgoing bytes per second", |s| {
            s.outbps
        }),
    ];
    for (name, help, f) in COUNTERS {
        b.counter(
            &format!("hagroup_ipvs_{level}_{name}"),
            &format!("{help} {what} (kernel IPVS counter, read at scrape time)."),
            rows.iter().map(|(l, s)| (l.clone(), f(s))),
        );
    }
    for (name, help, f) in RATES {
        b.gauge(
            &format!("hagroup_ipvs_{level}_{name}"),
            &format!("{help} {what} (kernel IPVS rate estimate, read at scrape time)."),
            rows.iter().map(|(l, s)| (l.clone(), gauge_value(f(s)))),
        );
    }
}

fn render_ipvs(b: &mut Builder, ipvs: &Result<Table, String>) {
    let up: Gauge = Gauge::default();
    up.set(i64::from(ipvs.is_ok()));
    b.registry.register(
        "hagroup_ipvs_up",
        "1 when the kernel's IPVS table could be read at this scrape",
        up,
    );
    let Ok(table) = ipvs else { return };
    let services: Vec<(ServiceLabels, Stats)> = table
        .services
        .iter()
        .map(|e| {
            (
                ServiceLabels {
                    service: service_label(&e.service.service.key),
                },
                e.service.stats,
            )
        })
        .collect();
    let dests: Vec<(DestLabels, &ipvs_netlink::DestinationExtended)> = table
        .services
        .iter()
        .flat_map(|e| {
            let svc = service_label(&e.service.service.key);
            e.dests.iter().map(move |d| {
                (
                    DestLabels {
                        service: svc.clone(),
                        real_server: std::net::SocketAddr::new(d.dest.addr, d.dest.port)
                            .to_string(),
                    },
                    d,
                )
            })
        })
        .collect();
    render_stats(b, "service", "for the service", &services);
    let dest_stats: Vec<(DestLabels, Stats)> =
        dests.iter().map(|(l, d)| (l.clone(), d.stats)).collect();
    render_stats(b, "real_server", "for the real server", &dest_stats);
    b.gauge(
        "hagroup_ipvs_real_server_active_connections",
        "Active connections of the real server (kernel IPVS).",
        dests
            .iter()
            .map(|(l, d)| (l.clone(), i64::from(d.active_conns))),
    );
    b.gauge(
        "hagroup_ipvs_real_server_inactive_connections",
        "Inactive connections of the real server (kernel IPVS).",
        dests
            .iter()
            .map(|(l, d)| (l.clone(), i64::from(d.inact_conns))),
    );
    b.gauge(
        "hagroup_ipvs_real_server_weight",
        "Weight of the real server in the kernel's IPVS table.",
        dests
            .iter()
            .map(|(l, d)| (l.clone(), i64::from(d.dest.weight))),
    );
}

/// The exposition text (OpenMetrics, ending in `# EOF`) of `scrape` and `checks`.
#[must_use]
pub fn render(scrape: &Scrape, checks: &CheckMetrics) -> String {
    let mut b = Builder {
        registry: Registry::default(),
    };
    if let Some(v) = &scrape.vrrp {
        render_vrrp(&mut b, v);
    }
    if let Some(h) = &scrape.health {
        render_health(&mut b, h);
    }
    checks.register(&mut b.registry);
    if let Some(i) = &scrape.ipvs {
        render_ipvs(&mut b, i);
    }
    let mut out = String::new();
    if prometheus_client::encoding::text::encode(&mut out, &b.registry).is_err() {
        // Writing into a String cannot fail; keep the endpoint valid anyway.
        out.clear();
        out.push_str("# EOF\n");
    }
    out
}
