//! Desired-state reconcile: [`plan`] computes the minimal operations that turn the kernel's
//! table into a desired one (pure), [`apply`] sends them pipelined with a result per operation.
//!
//! A plan never deletes and re-adds what an edit can change: a service's scheduler, flags,
//! persistence timeout, netmask and persistence engine change with `SET_SERVICE`, and a real
//! server's forwarding method, weight, thresholds and tunnel settings with `SET_DEST`, so live
//! connections survive. Only keys (service address/port/protocol or mark, real server
//! address/port) are added or deleted.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

use crate::client::{Client, Requests};
use crate::consts::cmd;
use crate::error::{Error, Subject};
use crate::types::{Destination, Family, Service, ServiceKey, SockAddr, Table};

/// A table of services and real servers as settings only (no counters): what a caller wants,
/// or what the kernel has ([`Desired::from_table`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// The services, each with its real servers. Keys are unique (for a repeated service key or
    /// real server address and port, the last one wins).
    pub services: Vec<(Service, Vec<Destination>)>,
}

impl Desired {
    /// The settings of a table listed from the kernel.
    #[must_use]
    pub fn from_table(table: &Table) -> Self {
        Self {
            services: table
                .services
                .iter()
                .map(|e| {
                    (
                        e.service.service.clone(),
                        e.dests.iter().map(|d| d.dest.clone()).collect(),
                    )
                })
                .collect(),
        }
    }

    /// A copy sorted like `ipvsadm -L` (services, then real servers), for comparing tables.
    #[must_use]
    pub fn sorted(&self) -> Self {
        let mut s = self.clone();
        s.services.sort_by_key(|(svc, _)| svc.key.sort_key());
        for (_, dests) in &mut s.services {
            dests.sort_by_key(|d| (Family::of(d.addr), d.addr, d.port));
        }
        s
    }
}

/// One kernel operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Add a service (`NEW_SERVICE`).
    AddService(Service),
    /// Change a service's settings (`SET_SERVICE`).
    EditService(Service),
    /// Delete a service with its real servers (`DEL_SERVICE`).
    DeleteService(ServiceKey),
    /// Add a real server (`NEW_DEST`).
    AddDest(ServiceKey, Destination),
    /// Change a real server's settings (`SET_DEST`).
    EditDest(ServiceKey, Destination),
    /// Remove a real server (`DEL_DEST`).
    DeleteDest(ServiceKey, Destination),
}

impl fmt::Display for Op {
    /// As the `ipvsadm` command line that does the same (`-A`, `-E`, `-D`, `-a`, `-e`, `-d`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AddService(s) => f.write_str(&s.save_line()),
            Self::EditService(s) => write!(f, "-E{}", &s.save_line()[2..]),
            Self::DeleteService(k) => write!(f, "-D {}", key_option(k)),
            Self::AddDest(k, d) => write!(f, "-a {}", dest_tail(k, d)),
            Self::EditDest(k, d) => write!(f, "-e {}", dest_tail(k, d)),
            Self::DeleteDest(k, d) => {
                write!(f, "-d {} -r {}", key_option(k), SockAddr(d.addr, d.port))
            }
        }
    }
}

fn key_option(k: &ServiceKey) -> String {
    // "-A <key> -s ..." without "-A " and the scheduler part.
    let line = Service::new(*k, "x").save_line();
    let rest = &line[3..];
    rest.split(" -s ").next().unwrap_or(rest).to_owned()
}

fn dest_tail(k: &ServiceKey, d: &Destination) -> String {
    let table_line = Table {
        info: None,
        services: vec![crate::types::ServiceEntry {
            service: crate::types::ServiceExtended {
                service: Service::new(*k, "x"),
                stats: Default::default(),
            },
            dests: vec![crate::types::DestinationExtended {
                dest: d.clone(),
                active_conns: 0,
                inact_conns: 0,
                persist_conns: 0,
                stats: Default::default(),
            }],
        }],
    }
    .save();
    table_line
        .lines()
        .nth(1)
        .map(|l| l[3..].to_owned())
        .unwrap_or_default()
}

/// The minimal operations that turn `actual` into `desired`: deletions of services that should
/// not exist first, then per desired service (in `desired`'s order) an add or an edit of the
/// service, then deletions, edits and additions of its real servers.
#[must_use]
pub fn plan(desired: &Desired, actual: &Desired) -> Vec<Op> {
    let want: HashMap<ServiceKey, usize> = desired
        .services
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (s.key, i))
        .collect();
    let have: HashMap<ServiceKey, usize> = actual
        .services
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (s.key, i))
        .collect();
    let mut ops = Vec::new();
    let mut deleted = std::collections::HashSet::new();
    for (s, _) in &actual.services {
        if !want.contains_key(&s.key) && deleted.insert(s.key) {
            ops.push(Op::DeleteService(s.key));
        }
    }
    for (i, (s, dests)) in desired.services.iter().enumerate() {
        if want.get(&s.key) != Some(&i) {
            continue; // a repeated key: the last one wins
        }
        let current = have.get(&s.key).map(|&j| &actual.services[j]);
        if current.is_some_and(|(c, cd)| c == s && cd == dests) {
            // Unchanged, in the same order (a reload's usual case): nothing to compare by id.
            continue;
        }
        let wanted_dests = last_wins(dests);
        match current {
            None => {
                ops.push(Op::AddService(s.clone()));
                ops.extend(
                    wanted_dests
                        .into_iter()
                        .map(|d| Op::AddDest(s.key, d.clone())),
                );
            }
            Some((current, current_dests)) => {
                if current != s {
                    ops.push(Op::EditService(s.clone()));
                }
                let wanted_ids: HashMap<(IpAddr, u16), &Destination> =
                    wanted_dests.iter().map(|d| (d.id(), *d)).collect();
                let current_ids: HashMap<(IpAddr, u16), &Destination> =
                    current_dests.iter().map(|d| (d.id(), d)).collect();
                for d in current_dests {
                    if !wanted_ids.contains_key(&d.id()) {
                        ops.push(Op::DeleteDest(s.key, d.clone()));
                    }
                }
                for d in &wanted_dests {
                    match current_ids.get(&d.id()) {
                        Some(c) if *c == *d => {}
                        Some(_) => ops.push(Op::EditDest(s.key, (*d).clone())),
                        None => ops.push(Op::AddDest(s.key, (*d).clone())),
                    }
                }
            }
        }
    }
    ops
}

/// `dests` without repeated ids, keeping the last of each, in first-appearance order.
fn last_wins(dests: &[Destination]) -> Vec<&Destination> {
    let mut index: HashMap<(IpAddr, u16), usize> = HashMap::new();
    let mut out: Vec<&Destination> = Vec::new();
    for d in dests {
        match index.get(&d.id()) {
            Some(&i) => out[i] = d,
            None => {
                index.insert(d.id(), out.len());
                out.push(d);
            }
        }
    }
    out
}

/// The outcome of one operation of [`apply`].
#[derive(Debug)]
pub struct OpResult {
    /// The operation.
    pub op: Op,
    /// What the kernel said.
    pub result: Result<(), Error>,
}

/// From this many operations on, [`apply`] encodes the requests on a second thread while the
/// calling thread sends them (the kernel does its work inside `sendmsg`, so the two overlap).
const ENCODE_THREAD_MIN: usize = 2048;
/// Requests per message from the encoding thread.
const ENCODE_CHUNK: usize = 256;

/// One operation as a request (netlink message and what it is about).
type Encoded = Result<(Vec<u8>, Subject), Error>;

fn encode(req: Requests, op: &Op) -> Encoded {
    match op {
        Op::AddService(s) => req
            .service(cmd::NEW_SERVICE, s)
            .map(|b| (b.finish(), Subject::Service)),
        Op::EditService(s) => req
            .service(cmd::SET_SERVICE, s)
            .map(|b| (b.finish(), Subject::Service)),
        Op::DeleteService(k) => Ok((req.key(cmd::DEL_SERVICE, k).finish(), Subject::Service)),
        Op::AddDest(k, d) => Ok((
            req.dest(cmd::NEW_DEST, k, d, true).finish(),
            Subject::Destination,
        )),
        Op::EditDest(k, d) => Ok((
            req.dest(cmd::SET_DEST, k, d, true).finish(),
            Subject::Destination,
        )),
        Op::DeleteDest(k, d) => Ok((
            req.dest(cmd::DEL_DEST, k, d, false).finish(),
            Subject::Destination,
        )),
    }
}

/// Sends `ops` pipelined (many requests in flight on one socket, acknowledgements matched by
/// sequence number) and returns each operation's result, in order. A failed operation does
/// not stop the others. Large batches are encoded on a second thread as they are sent.
pub fn apply(client: &mut Client, ops: Vec<Op>) -> Vec<OpResult> {
    let mut results: Vec<Option<Result<(), Error>>> = (0..ops.len()).map(|_| None).collect();
    let mut sent: Vec<usize> = Vec::with_capacity(ops.len());
    let req = client.requests();
    // A request that cannot be encoded gets its error here and is not sent.
    let mut take = |(i, e): (usize, Encoded)| match e {
        Ok(m) => {
            sent.push(i);
            Some(m)
        }
        Err(e) => {
            if let Some(r) = results.get_mut(i) {
                *r = Some(Err(e));
            }
            None
        }
    };
    let outcomes = std::thread::scope(|scope| {
        let ops = &ops;
        // Large batches: encoded on a second thread, sent here as they come. Small ones, or
        // when no thread can be made: encoded here.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Encoded)>>(16);
        let encoder = (ops.len() >= ENCODE_THREAD_MIN).then(|| {
            std::thread::Builder::new()
                .name("ipvs-encode".into())
                .spawn_scoped(scope, move || {
                    for (c, chunk) in ops.chunks(ENCODE_CHUNK).enumerate() {
                        let batch = chunk
                            .iter()
                            .enumerate()
                            .map(|(j, op)| (c * ENCODE_CHUNK + j, encode(req, op)))
                            .collect();
                        if tx.send(batch).is_err() {
                            return;
                        }
                    }
                })
        });
        match encoder {
            Some(Ok(_)) => client.pipeline(rx.into_iter().flatten().filter_map(&mut take)),
            _ => client.pipeline(
                ops.iter()
                    .enumerate()
                    .map(|(i, op)| (i, encode(req, op)))
                    .filter_map(&mut take),
            ),
        }
    });
    for (i, r) in sent.into_iter().zip(outcomes) {
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(r);
        }
    }
    ops.into_iter()
        .zip(results)
        .map(|(op, result)| OpResult {
            op,
            result: result.unwrap_or(Err(Error::InvalidRequest("not sent".into()))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Forward;
    use std::net::Ipv4Addr;

    fn v4(d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, d))
    }

    fn svc(d: u8, sched: &str, dests: &[(u8, u32)]) -> (Service, Vec<Destination>) {
        (
            Service::new(ServiceKey::tcp(v4(d), 80), sched),
            dests
                .iter()
                .map(|&(a, w)| {
                    let mut x = Destination::new(
                        IpAddr::V4(Ipv4Addr::new(198, 51, 100, a)),
                        80,
                        Forward::Route,
                    );
                    x.weight = w;
                    x
                })
                .collect(),
        )
    }

    #[test]
    fn equal_tables_need_no_operation() {
        let t = Desired {
            services: vec![svc(1, "rr", &[(1, 1), (2, 1)]), svc(2, "wlc", &[])],
        };
        assert!(plan(&t, &t).is_empty());
    }

    #[test]
    fn changes_are_edits_not_delete_and_add() {
        let actual = Desired {
            services: vec![svc(1, "rr", &[(1, 1), (2, 1)])],
        };
        let desired = Desired {
            services: vec![svc(1, "wlc", &[(1, 5), (3, 1)])],
        };
        let ops = plan(&desired, &actual);
        let k = ServiceKey::tcp(v4(1), 80);
        assert_eq!(ops.len(), 4, "{ops:?}");
        assert!(matches!(&ops[0], Op::EditService(s) if s.scheduler == "wlc"));
        assert!(
            matches!(&ops[1], Op::DeleteDest(key, d) if *key == k && d.addr == IpAddr::V4(Ipv4Addr::new(198, 51, 100, 2)))
        );
        assert!(matches!(&ops[2], Op::EditDest(_, d) if d.weight == 5));
        assert!(
            matches!(&ops[3], Op::AddDest(_, d) if d.addr == IpAddr::V4(Ipv4Addr::new(198, 51, 100, 3)))
        );
    }

    #[test]
    fn removed_services_are_deleted_once_without_their_dests() {
        let actual = Desired {
            services: vec![svc(1, "rr", &[(1, 1), (2, 1)]), svc(2, "rr", &[])],
        };
        let desired = Desired {
            services: vec![svc(2, "rr", &[])],
        };
        assert_eq!(
            plan(&desired, &actual),
            vec![Op::DeleteService(ServiceKey::tcp(v4(1), 80))]
        );
    }

    #[test]
    fn op_display_reads_like_ipvsadm() {
        let (s, d) = svc(1, "rr", &[(1, 3)]);
        assert_eq!(
            Op::AddService(s.clone()).to_string(),
            "-A -t 192.0.2.1:80 -s rr"
        );
        assert_eq!(
            Op::EditService(s.clone()).to_string(),
            "-E -t 192.0.2.1:80 -s rr"
        );
        assert_eq!(Op::DeleteService(s.key).to_string(), "-D -t 192.0.2.1:80");
        assert_eq!(
            Op::AddDest(s.key, d[0].clone()).to_string(),
            "-a -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 3"
        );
        assert_eq!(
            Op::EditDest(s.key, d[0].clone()).to_string(),
            "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -g -w 3"
        );
        assert_eq!(
            Op::DeleteDest(s.key, d[0].clone()).to_string(),
            "-d -t 192.0.2.1:80 -r 198.51.100.1:80"
        );
    }
}
