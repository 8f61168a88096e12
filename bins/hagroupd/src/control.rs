//! The control socket's wiring: binds it (`hagroup-control` does the socket work) and answers
//! each request from the daemon's state.

use std::path::Path;

use hagroup_control::protocol::{RealServer, Status, VirtualServer, VrrpInstance};
use hagroup_control::server::{ControlServer, Incoming};
use hagroup_control::{Request, Response, ServiceRef};
use ipvs_netlink::{ListFormat, Protocol};
use lvs_director::{RealServerSelector, ServiceSelector};
use tokio::sync::mpsc;

use crate::daemon::{Daemon, ReloadOutcome};

/// Binds the control socket and starts serving; `None` (logged) when it cannot be bound, in
/// which case the daemon runs without it.
pub(crate) fn start(path: &Path, requests: mpsc::Sender<Incoming>) -> Option<ControlServer> {
    match hagroup_control::server::bind(path) {
        Ok(l) => {
            tracing::info!(socket = %path.display(), "control socket ready");
            Some(l.serve(requests))
        }
        Err(e) => {
            tracing::warn!(error = %e, "no control socket");
            None
        }
    }
}

/// Answers one request.
pub(crate) async fn handle(daemon: &mut Daemon<'_>, incoming: Incoming) {
    let response = match incoming.request {
        Request::Status => Response::Status(status(daemon).await),
        Request::Ipvs { stats, rate } => ipvs(stats, rate).await,
        Request::Weight {
            service,
            real_server,
            weight,
        } => {
            let target = RealServerSelector {
                service: selector(service),
                addr: real_server.addr,
                port: real_server.port,
            };
            set_weight(daemon, target, weight).await
        }
        Request::Reload => match daemon.reload().await {
            ReloadOutcome::Done(message) => Response::Done { message },
            ReloadOutcome::Refused(reason) => Response::Refused { reason },
            ReloadOutcome::Failed(message) => Response::Error { message },
        },
    };
    let _ = incoming.reply.send(response);
}

fn selector(s: ServiceRef) -> ServiceSelector {
    let addr = |protocol, addr| ServiceSelector::Addr { protocol, addr };
    match s {
        ServiceRef::Tcp(a) => addr(Protocol::Tcp, a),
        ServiceRef::Udp(a) => addr(Protocol::Udp, a),
        ServiceRef::Sctp(a) => addr(Protocol::Sctp, a),
        ServiceRef::Fwmark(m) => ServiceSelector::FwMark(m),
    }
}

async fn set_weight(
    daemon: &Daemon<'_>,
    target: RealServerSelector,
    weight: Option<u32>,
) -> Response {
    let Some(lvs) = &daemon.lvs else {
        return Response::Refused {
            reason: "no virtual server is running".into(),
        };
    };
    match lvs.set_admin_weight(target, weight).await {
        None => Response::Error {
            message: "the LVS director has stopped".into(),
        },
        Some(Err(e)) => Response::Refused {
            reason: e.to_string(),
        },
        Some(Ok((change, report))) => {
            let what = match change.after {
                Some(0) => "drained (weight 0)".to_owned(),
                Some(w) => format!("weight {w}"),
                None => "administrative weight removed; the health checks decide".to_owned(),
            };
            let message = format!("{} {}: {what}", change.vs, change.rs);
            if report.failed.is_empty() {
                Response::Done { message }
            } else {
                Response::Error {
                    message: format!(
                        "{message}; the kernel refused: {}",
                        report.failed.join("; ")
                    ),
                }
            }
        }
    }
}

async fn ipvs(stats: bool, rate: bool) -> Response {
    let format = match (stats, rate) {
        (true, _) => ListFormat::Stats,
        (_, true) => ListFormat::Rate,
        _ => ListFormat::Default,
    };
    let table = tokio::task::spawn_blocking(move || {
        ipvs_netlink::Client::new()
            .and_then(|mut c| c.table())
            .map(|t| t.list(format))
            .map_err(|e| e.to_string())
    })
    .await;
    match table {
        Ok(Ok(table)) => Response::Ipvs { table },
        Ok(Err(e)) => Response::Error {
            message: format!("IPVS: {e}"),
        },
        Err(e) => Response::Error {
            message: e.to_string(),
        },
    }
}

async fn status(daemon: &Daemon<'_>) -> Status {
    let states = daemon.driver.status().borrow().clone();
    let stats = daemon.driver.stats().await.unwrap_or_default();
    let vrrp = daemon
        .instances()
        .map(|(cfg, _)| {
            let name = &cfg.router.name;
            let st = states.get(name);
            VrrpInstance {
                name: name.clone(),
                state: st.map_or_else(|| "INIT".to_owned(), |s| s.state.to_string()),
                priority: st.map_or(cfg.router.priority.0, |s| s.priority.0),
                base_priority: cfg.router.priority.0,
                vrid: cfg.router.vrid.get(),
                interface: cfg.interface.clone(),
                vips: cfg
                    .vips
                    .iter()
                    .map(|v| format!("{}/{}", v.addr, v.prefix_len))
                    .collect(),
                transitions: stats.instances.get(name).map_or(0, |c| c.transitions),
                master: st.and_then(|s| s.master).map(|(a, _)| a.to_string()),
            }
        })
        .collect();
    let virtual_servers = match &daemon.lvs {
        Some(h) => h
            .virtual_servers()
            .await
            .into_iter()
            .map(|v| VirtualServer {
                name: v.name,
                services: v.services.iter().map(ToString::to_string).collect(),
                quorum_up: v.quorum_up,
                real_servers: v
                    .real_servers
                    .into_iter()
                    .map(|r| RealServer {
                        address: r.addr.to_string(),
                        alive: r.alive,
                        weight: r.weight,
                        ipvs_weight: r.ipvs_weight,
                        admin_weight: r.admin_weight,
                    })
                    .collect(),
            })
            .collect(),
        None => Vec::new(),
    };
    Status {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        pid: std::process::id(),
        vrrp,
        virtual_servers,
    }
}
