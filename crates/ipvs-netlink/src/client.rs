//! [`Client`]: the IPVS operations over one generic netlink socket.

use std::time::Duration;

use crate::consts::{self, cmd, cmd_attr};
use crate::daemon::SyncDaemon;
use crate::error::{DecodeError, Error, Subject};
use crate::nl::MsgBuilder;
use crate::reply;
use crate::socket::{DEFAULT_WINDOW, Socket};
use crate::types::{
    Destination, DestinationExtended, Service, ServiceEntry, ServiceExtended, ServiceKey, Table,
    Timeouts,
};

/// From this many services on, [`Client::table`] dumps real servers over several sockets.
const PARALLEL_DUMP_MIN: usize = 64;
/// At most this many sockets (threads) dump real servers at once.
const MAX_DUMP_THREADS: usize = 4;

/// Dumps the real servers of one service on `sock`.
fn dump_destinations(
    sock: &mut Socket,
    requests: Requests,
    key: &ServiceKey,
) -> Result<Vec<DestinationExtended>, Error> {
    let family = key.family();
    let mut out = Vec::new();
    sock.request_with(
        requests.key(cmd::GET_DEST, key).finish(),
        true,
        Subject::Service,
        |m| reply::destinations(m, family, &mut out),
    )?;
    Ok(out)
}

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// What `GET_INFO` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// The IPVS version, as `(major, minor, patch)` (e.g. `(1, 2, 1)`).
    pub version: (u8, u8, u8),
    /// The size of the connection hash table.
    pub conn_tab_size: u32,
}

impl Info {
    /// Decodes the attributes of a `GET_INFO` reply.
    pub fn decode(attrs: crate::nl::Attrs<'_>) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut size = None;
        for a in attrs {
            let a = a?;
            match a.ty {
                consts::info::VERSION => version = Some(a.u32()?),
                consts::info::CONN_TAB_SIZE => size = Some(a.u32()?),
                _ => {}
            }
        }
        let v = version.ok_or(DecodeError::MissingAttribute("IPVS_INFO_ATTR_VERSION"))?;
        let [_, major, minor, patch] = v.to_be_bytes();
        Ok(Self {
            version: (major, minor, patch),
            conn_tab_size: size.ok_or(DecodeError::MissingAttribute(
                "IPVS_INFO_ATTR_CONN_TAB_SIZE",
            ))?,
        })
    }
}

impl std::fmt::Display for Info {
    /// Like the first line of `ipvsadm -Ln`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, c) = self.version;
        write!(
            f,
            "IP Virtual Server version {a}.{b}.{c} (size={})",
            self.conn_tab_size
        )
    }
}

/// Builds the IPVS requests (pure: no socket), given the family id the kernel assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requests {
    /// The generic netlink family id of "IPVS".
    pub family: u16,
}

impl Requests {
    /// A message with command `command` and no attributes yet (flags and sequence number are
    /// set when it is sent).
    #[must_use]
    pub fn msg(&self, command: u8) -> MsgBuilder {
        MsgBuilder::new(self.family, 0, 0, command, consts::IPVS_GENL_VERSION)
    }

    /// An operation on a whole service (`NEW_SERVICE`, `SET_SERVICE`).
    pub fn service(&self, command: u8, service: &Service) -> Result<MsgBuilder, Error> {
        let mut b = self.msg(command);
        b.begin_nest(cmd_attr::SERVICE);
        service.encode(&mut b)?;
        b.end_nest();
        Ok(b)
    }

    /// An operation on a service identified by its key (`DEL_SERVICE`, `GET_SERVICE`,
    /// `GET_DEST`, `ZERO`).
    #[must_use]
    pub fn key(&self, command: u8, key: &ServiceKey) -> MsgBuilder {
        let mut b = self.msg(command);
        b.begin_nest(cmd_attr::SERVICE);
        key.encode(&mut b);
        b.end_nest();
        b
    }

    /// An operation on a real server of a service: every attribute with `full` (`NEW_DEST`,
    /// `SET_DEST`), the identifying ones otherwise (`DEL_DEST`).
    #[must_use]
    pub fn dest(
        &self,
        command: u8,
        key: &ServiceKey,
        dest: &Destination,
        full: bool,
    ) -> MsgBuilder {
        let mut b = self.key(command, key);
        b.begin_nest(cmd_attr::DEST);
        if full {
            dest.encode(&mut b);
        } else {
            dest.encode_id(&mut b);
        }
        b.end_nest();
        b
    }
}

/// A connection to the kernel's IPVS over generic netlink.
///
/// Every request has a timeout ([`Client::set_timeout`], default [`DEFAULT_TIMEOUT`]). IPVS
/// tables are per network namespace: the client talks to the namespace it was opened in.
#[derive(Debug)]
pub struct Client {
    sock: Socket,
    family: u16,
    dump_sockets: usize,
}

impl Client {
    /// Opens a socket and resolves the "IPVS" family; [`Error::ModuleNotLoaded`] when IPVS is
    /// not available.
    pub fn new() -> Result<Self, Error> {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    /// Like [`Client::new`] with a given per-request timeout.
    pub fn with_timeout(timeout: Duration) -> Result<Self, Error> {
        let mut sock = Socket::connect(timeout)?;
        let family = sock
            .resolve_family(consts::IPVS_GENL_NAME)?
            .ok_or(Error::ModuleNotLoaded)?;
        Ok(Self {
            sock,
            family,
            dump_sockets: 1,
        })
    }

    /// How many sockets [`Client::table`] spreads the real-server dumps of a large table over
    /// (one thread each; one dump in flight per socket, as the kernel allows). 1, the default,
    /// dumps everything on this client's own socket; 0 picks one per CPU, at most 4. The kernel
    /// does the work of a dump inside our `sendmsg`/`recvmsg` calls, so more sockets only help
    /// with idle CPUs: in the 2-vCPU VM of the benchmarks they did not (docs/benchmarks.md,
    /// issue 7).
    pub fn set_dump_sockets(&mut self, n: usize) {
        self.dump_sockets = n;
    }

    /// The generic netlink family id of IPVS in this kernel.
    #[must_use]
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Changes the per-request timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.sock.set_timeout(timeout);
    }

    pub(crate) fn msg(&self, command: u8) -> MsgBuilder {
        self.requests().msg(command)
    }

    /// The request builder for this kernel's family id.
    #[must_use]
    pub fn requests(&self) -> Requests {
        Requests {
            family: self.family,
        }
    }

    /// The IPVS version and connection table size (`GET_INFO`).
    pub fn info(&mut self) -> Result<Info, Error> {
        let mut info = None;
        self.sock.request_with(
            self.msg(cmd::GET_INFO).finish(),
            false,
            Subject::Other,
            |m| {
                if info.is_none() {
                    info = Some(reply::info(m)?);
                }
                Ok(())
            },
        )?;
        Ok(info.ok_or(DecodeError::MissingAttribute("GET_INFO reply"))?)
    }

    /// Sends one acknowledged request.
    fn ack(&mut self, b: MsgBuilder, subject: Subject) -> Result<(), Error> {
        self.sock.request(b.finish(), false, subject).map(drop)
    }

    /// The connection timeouts (`GET_CONFIG`).
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let mut t = Timeouts::default();
        self.sock.request_with(
            self.msg(cmd::GET_CONFIG).finish(),
            false,
            Subject::Other,
            |m| reply::timeouts(m, &mut t),
        )?;
        Ok(t)
    }

    /// Sets the connection timeouts (`SET_CONFIG`); a 0 field leaves that timeout unchanged.
    pub fn set_timeouts(&mut self, t: Timeouts) -> Result<(), Error> {
        let mut b = self.msg(cmd::SET_CONFIG);
        b.u32(cmd_attr::TIMEOUT_TCP, t.tcp)
            .u32(cmd_attr::TIMEOUT_TCP_FIN, t.tcp_fin)
            .u32(cmd_attr::TIMEOUT_UDP, t.udp);
        self.ack(b, Subject::Other)
    }

    /// Every virtual service (`GET_SERVICE` dump), in the kernel's (hash) order.
    pub fn services(&mut self) -> Result<Vec<ServiceExtended>, Error> {
        self.dump(cmd::GET_SERVICE, Subject::Service, reply::services)
    }

    /// A dump of `command` (no attributes), each message decoded by `decode`.
    fn dump<T>(
        &mut self,
        command: u8,
        subject: Subject,
        decode: fn(&[u8], &mut Vec<T>) -> Result<(), DecodeError>,
    ) -> Result<Vec<T>, Error> {
        let mut out = Vec::new();
        self.sock
            .request_with(self.msg(command).finish(), true, subject, |m| {
                decode(m, &mut out)
            })?;
        Ok(out)
    }

    /// One virtual service (`GET_SERVICE`); [`Error::ServiceNotFound`] when absent.
    pub fn service(&mut self, key: &ServiceKey) -> Result<ServiceExtended, Error> {
        let mut b = self.msg(cmd::GET_SERVICE);
        b.begin_nest(cmd_attr::SERVICE);
        key.encode(&mut b);
        b.end_nest();
        let mut out = Vec::new();
        self.sock
            .request_with(b.finish(), false, Subject::Service, |m| {
                reply::services(m, &mut out)
            })?;
        out.into_iter().next().ok_or(Error::ServiceNotFound)
    }

    pub(crate) fn service_msg(&self, command: u8, service: &Service) -> Result<MsgBuilder, Error> {
        self.requests().service(command, service)
    }

    pub(crate) fn key_msg(&self, command: u8, key: &ServiceKey) -> MsgBuilder {
        self.requests().key(command, key)
    }

    pub(crate) fn dest_msg(
        &self,
        command: u8,
        key: &ServiceKey,
        dest: &Destination,
        full: bool,
    ) -> MsgBuilder {
        self.requests().dest(command, key, dest, full)
    }

    /// Adds a virtual service (`NEW_SERVICE`).
    pub fn add_service(&mut self, service: &Service) -> Result<(), Error> {
        let b = self.service_msg(cmd::NEW_SERVICE, service)?;
        self.ack(b, Subject::Service)
    }

    /// Changes a virtual service's settings (`SET_SERVICE`); live connections stay.
    pub fn edit_service(&mut self, service: &Service) -> Result<(), Error> {
        let b = self.service_msg(cmd::SET_SERVICE, service)?;
        self.ack(b, Subject::Service)
    }

    /// Deletes a virtual service and its real servers (`DEL_SERVICE`).
    pub fn delete_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        let b = self.key_msg(cmd::DEL_SERVICE, key);
        self.ack(b, Subject::Service)
    }

    /// The real servers of a service (`GET_DEST` dump).
    pub fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<DestinationExtended>, Error> {
        let requests = self.requests();
        dump_destinations(&mut self.sock, requests, key)
    }

    /// Adds a real server to a service (`NEW_DEST`).
    pub fn add_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        let b = self.dest_msg(cmd::NEW_DEST, key, dest, true);
        self.ack(b, Subject::Destination)
    }

    /// Changes a real server's settings (`SET_DEST`).
    pub fn edit_destination(&mut self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        let b = self.dest_msg(cmd::SET_DEST, key, dest, true);
        self.ack(b, Subject::Destination)
    }

    /// Removes a real server (`DEL_DEST`); only its address and port matter.
    pub fn delete_destination(
        &mut self,
        key: &ServiceKey,
        dest: &Destination,
    ) -> Result<(), Error> {
        let b = self.dest_msg(cmd::DEL_DEST, key, dest, false);
        self.ack(b, Subject::Destination)
    }

    /// Zeroes the counters of one service, or of every service with `None` (`ZERO`).
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), Error> {
        let b = match key {
            Some(k) => self.key_msg(cmd::ZERO, k),
            None => self.msg(cmd::ZERO),
        };
        self.ack(b, Subject::Service)
    }

    /// Deletes every virtual service (`FLUSH`).
    pub fn flush(&mut self) -> Result<(), Error> {
        let b = self.msg(cmd::FLUSH);
        self.ack(b, Subject::Other)
    }

    /// The running sync daemons (`GET_DAEMON` dump).
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        self.dump(cmd::GET_DAEMON, Subject::Other, reply::daemons)
    }

    /// Starts a sync daemon (`NEW_DAEMON`).
    pub fn start_daemon(&mut self, daemon: &SyncDaemon) -> Result<(), Error> {
        let mut b = self.msg(cmd::NEW_DAEMON);
        b.begin_nest(cmd_attr::DAEMON);
        daemon.encode(&mut b)?;
        b.end_nest();
        self.ack(b, Subject::Other)
    }

    /// Stops the sync daemon in `state` (`DEL_DAEMON`).
    pub fn stop_daemon(&mut self, state: crate::SyncState) -> Result<(), Error> {
        let mut b = self.msg(cmd::DEL_DAEMON);
        b.begin_nest(cmd_attr::DAEMON);
        b.u32(consts::daemon::STATE, state.number());
        b.end_nest();
        self.ack(b, Subject::Other)
    }

    /// The whole table: info, every service with its real servers, sorted like `ipvsadm -L`.
    ///
    /// The real servers are dumped service by service (the kernel has no single dump of every
    /// real server), on this client's socket, or spread over more sockets in threads (see
    /// [`Client::set_dump_sockets`]).
    pub fn table(&mut self) -> Result<Table, Error> {
        let info = self.info()?;
        let services = self.services()?;
        let keys: Vec<ServiceKey> = services.iter().map(|s| s.service.key).collect();
        let threads = match self.dump_sockets {
            0 => std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(MAX_DUMP_THREADS),
            n => n,
        };
        let dests = if keys.len() < PARALLEL_DUMP_MIN || threads < 2 {
            keys.iter()
                .map(|k| self.destinations(k))
                .collect::<Result<Vec<_>, _>>()?
        } else {
            let requests = self.requests();
            let timeout = self.sock.timeout();
            let chunk = keys.len().div_ceil(threads);
            let parts: Vec<Result<Vec<Vec<DestinationExtended>>, Error>> =
                std::thread::scope(|scope| {
                    let handles: Vec<_> = keys
                        .chunks(chunk)
                        .map(|part| {
                            scope.spawn(move || {
                                let mut sock = Socket::connect(timeout)?;
                                part.iter()
                                    .map(|k| dump_destinations(&mut sock, requests, k))
                                    .collect()
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join().unwrap_or_else(|_| {
                                Err(Error::InvalidRequest("dump thread panicked".into()))
                            })
                        })
                        .collect()
                });
            let mut all = Vec::with_capacity(keys.len());
            for p in parts {
                all.extend(p?);
            }
            all
        };
        let mut table = Table {
            info: Some(info),
            services: Vec::with_capacity(services.len()),
        };
        for (s, d) in services.into_iter().zip(dests) {
            table.services.push(ServiceEntry {
                service: s,
                dests: d,
            });
        }
        table.sort();
        Ok(table)
    }

    /// Sends one request built with [`Client::requests`] and returns the raw reply (for tools and
    /// for recording test fixtures): a dump with `dump`, else acknowledged.
    pub fn raw_request(
        &mut self,
        msg: MsgBuilder,
        dump: bool,
    ) -> Result<crate::socket::Reply, Error> {
        self.sock.request(msg.finish(), dump, Subject::Other)
    }

    /// Sends many prepared requests pipelined; one result per request, in order.
    pub(crate) fn pipeline(
        &mut self,
        requests: impl Iterator<Item = (Vec<u8>, Subject)>,
    ) -> Vec<Result<(), Error>> {
        self.sock.pipeline(requests, DEFAULT_WINDOW)
    }
}
