//! Numbers of the generic netlink family "IPVS" (`include/uapi/linux/ip_vs.h`).

/// The family name.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// The family version sent in every `genlmsghdr`.
pub const IPVS_GENL_VERSION: u8 = 1;

/// `IPVS_CMD_*`: generic netlink commands.
pub mod cmd {
    /// Add a virtual service.
    pub const NEW_SERVICE: u8 = 1;
    /// Edit a virtual service.
    pub const SET_SERVICE: u8 = 2;
    /// Delete a virtual service.
    pub const DEL_SERVICE: u8 = 3;
    /// Get (or dump) virtual services.
    pub const GET_SERVICE: u8 = 4;
    /// Add a real server.
    pub const NEW_DEST: u8 = 5;
    /// Edit a real server.
    pub const SET_DEST: u8 = 6;
    /// Delete a real server.
    pub const DEL_DEST: u8 = 7;
    /// Dump the real servers of a service.
    pub const GET_DEST: u8 = 8;
    /// Start a sync daemon.
    pub const NEW_DAEMON: u8 = 9;
    /// Stop a sync daemon.
    pub const DEL_DAEMON: u8 = 10;
    /// Dump the sync daemons.
    pub const GET_DAEMON: u8 = 11;
    /// Set the timeouts.
    pub const SET_CONFIG: u8 = 12;
    /// Get the timeouts.
    pub const GET_CONFIG: u8 = 13;
    /// Reply to `GET_INFO`.
    pub const SET_INFO: u8 = 14;
    /// Get the version and connection table size.
    pub const GET_INFO: u8 = 15;
    /// Zero counters (of one service, or of all).
    pub const ZERO: u8 = 16;
    /// Delete every service.
    pub const FLUSH: u8 = 17;
}

/// `IPVS_CMD_ATTR_*`: top-level attributes.
pub mod cmd_attr {
    /// Nested service.
    pub const SERVICE: u16 = 1;
    /// Nested destination.
    pub const DEST: u16 = 2;
    /// Nested sync daemon.
    pub const DAEMON: u16 = 3;
    /// TCP timeout (u32 seconds).
    pub const TIMEOUT_TCP: u16 = 4;
    /// TCP FIN timeout (u32 seconds).
    pub const TIMEOUT_TCP_FIN: u16 = 5;
    /// UDP timeout (u32 seconds).
    pub const TIMEOUT_UDP: u16 = 6;
}

/// `IPVS_SVC_ATTR_*`: service attributes.
pub mod svc {
    /// Address family (u16).
    pub const AF: u16 = 1;
    /// IP protocol (u16).
    pub const PROTOCOL: u16 = 2;
    /// Address (4 or 16 bytes; the kernel returns 16).
    pub const ADDR: u16 = 3;
    /// Port (big-endian u16).
    pub const PORT: u16 = 4;
    /// Firewall mark (u32).
    pub const FWMARK: u16 = 5;
    /// Scheduler name (NUL string).
    pub const SCHED_NAME: u16 = 6;
    /// `struct ip_vs_flags { flags, mask }`.
    pub const FLAGS: u16 = 7;
    /// Persistence timeout (u32 seconds).
    pub const TIMEOUT: u16 = 8;
    /// Persistence netmask (IPv4: mask in network order; IPv6: prefix length).
    pub const NETMASK: u16 = 9;
    /// Nested 32-bit statistics.
    pub const STATS: u16 = 10;
    /// Persistence engine name (NUL string).
    pub const PE_NAME: u16 = 11;
    /// Nested 64-bit statistics.
    pub const STATS64: u16 = 12;
}

/// `IPVS_DEST_ATTR_*`: destination attributes.
pub mod dest {
    /// Address.
    pub const ADDR: u16 = 1;
    /// Port (big-endian u16).
    pub const PORT: u16 = 2;
    /// Forwarding method (u32).
    pub const FWD_METHOD: u16 = 3;
    /// Weight (u32).
    pub const WEIGHT: u16 = 4;
    /// Upper connection threshold (u32).
    pub const U_THRESH: u16 = 5;
    /// Lower connection threshold (u32).
    pub const L_THRESH: u16 = 6;
    /// Active connections (u32, read-only).
    pub const ACTIVE_CONNS: u16 = 7;
    /// Inactive connections (u32, read-only).
    pub const INACT_CONNS: u16 = 8;
    /// Persistent connections (u32, read-only).
    pub const PERSIST_CONNS: u16 = 9;
    /// Nested 32-bit statistics.
    pub const STATS: u16 = 10;
    /// Address family of the destination (u16).
    pub const ADDR_FAMILY: u16 = 11;
    /// Nested 64-bit statistics.
    pub const STATS64: u16 = 12;
    /// Tunnel type (u8).
    pub const TUN_TYPE: u16 = 13;
    /// Tunnel port (big-endian u16).
    pub const TUN_PORT: u16 = 14;
    /// Tunnel flags (u16).
    pub const TUN_FLAGS: u16 = 15;
}

/// `IPVS_STATS_ATTR_*`.
pub mod stats {
    /// Connections scheduled.
    pub const CONNS: u16 = 1;
    /// Incoming packets.
    pub const INPKTS: u16 = 2;
    /// Outgoing packets.
    pub const OUTPKTS: u16 = 3;
    /// Incoming bytes.
    pub const INBYTES: u16 = 4;
    /// Outgoing bytes.
    pub const OUTBYTES: u16 = 5;
    /// Connections per second.
    pub const CPS: u16 = 6;
    /// Incoming packets per second.
    pub const INPPS: u16 = 7;
    /// Outgoing packets per second.
    pub const OUTPPS: u16 = 8;
    /// Incoming bytes per second.
    pub const INBPS: u16 = 9;
    /// Outgoing bytes per second.
    pub const OUTBPS: u16 = 10;
}

/// `IPVS_DAEMON_ATTR_*`.
pub mod daemon {
    /// State (u32: master 1, backup 2).
    pub const STATE: u16 = 1;
    /// Multicast interface (NUL string).
    pub const MCAST_IFN: u16 = 2;
    /// Sync id (u32).
    pub const SYNC_ID: u16 = 3;
    /// Maximum sync message length (u16).
    pub const SYNC_MAXLEN: u16 = 4;
    /// IPv4 multicast group (4 bytes).
    pub const MCAST_GROUP: u16 = 5;
    /// IPv6 multicast group (16 bytes).
    pub const MCAST_GROUP6: u16 = 6;
    /// Multicast port (u16).
    pub const MCAST_PORT: u16 = 7;
    /// Multicast TTL (u8).
    pub const MCAST_TTL: u16 = 8;
}

/// `IPVS_INFO_ATTR_*`.
pub mod info {
    /// Packed version, e.g. `0x010201` for 1.2.1 (u32).
    pub const VERSION: u16 = 1;
    /// Connection table size (u32).
    pub const CONN_TAB_SIZE: u16 = 2;
}

/// `AF_INET`.
pub const AF_INET: u16 = 2;
/// `AF_INET6`.
pub const AF_INET6: u16 = 10;
