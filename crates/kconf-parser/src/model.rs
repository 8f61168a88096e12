//! The typed configuration model: what a `keepalived.conf` means once keepalived's defaults,
//! ranges, derived values and deprecated aliases are applied.
//!
//! This is the contract between the parser and the daemons (VRRP, health checker, IPVS
//! director). Field names are stable. Every field documents keepalived's default.
//!
//! Representation choices:
//! - durations are [`Duration`]s, serialized as integer **microseconds** (keepalived's own
//!   timer resolution, `TIMER_HZ` = 1e6);
//! - addresses are [`IpAddr`]s, prefixes are separate `u8` lengths;
//! - keywords we parse but do not act on yet are kept verbatim in `unsupported` lists
//!   ([`RawItem`]) so nothing is lost and `--dump-config` shows them.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Serde helpers for [`Duration`] as integer microseconds.
pub mod serde_us {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    /// Serializes a duration as integer microseconds (saturating at `u64::MAX`).
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
    }

    /// Deserializes integer microseconds into a duration.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_micros(u64::deserialize(d)?))
    }

    /// The same for `Option<Duration>` (`null` = unset).
    pub mod option {
        use serde::{Deserialize, Deserializer, Serializer};
        use std::time::Duration;

        /// Serializes `Some(d)` as integer microseconds and `None` as `null`.
        pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
            match d {
                Some(d) => s.serialize_some(&u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
                None => s.serialize_none(),
            }
        }

        /// Deserializes integer microseconds or `null`.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
            Ok(Option::<u64>::deserialize(d)?.map(Duration::from_micros))
        }
    }
}

/// A whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Config {
    /// `global_defs { … }` (all blocks merged, in order).
    pub global_defs: GlobalDefs,
    /// `vrrp_script NAME { … }` blocks, in file order.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `track_file NAME { … }` (alias `vrrp_track_file`) blocks.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process NAME { … }` blocks.
    pub track_processes: Vec<TrackProcess>,
    /// `vrrp_sync_group NAME { … }` blocks.
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    /// `vrrp_instance NAME { … }` blocks. Instances without `virtual_router_id` are dropped
    /// with an error, as keepalived does.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group NAME { … }` blocks.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server … { … }` blocks.
    pub virtual_servers: Vec<VirtualServer>,
    /// The top-level `SSL { … }` block used by `SSL_GET` checkers. `None`: keepalived builds an
    /// automatic context.
    pub ssl: Option<SslContext>,
    /// Top-level keywords and blocks that are accepted but not supported yet (e.g.
    /// `bfd_instance`, `static_ipaddress`, `net_namespace`).
    pub unsupported: Vec<RawItem>,
}

/// A keyword we accept but do not act on yet, kept verbatim (with its block, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawItem {
    /// The keyword.
    pub keyword: String,
    /// Its arguments, as tokens (quotes removed).
    pub args: Vec<String>,
    /// The contents of its `{ … }` block; `None` when it had no block.
    pub block: Option<Vec<RawItem>>,
}

/// A command line for a script keyword (`script`, `notify_*`, `misc_path`, `quorum_up`, …),
/// with the optional `username [[:]group]` that follows the quoted command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// The command as written (inside its quotes), escapes not processed.
    pub command: String,
    /// The command split into argv with keepalived's shell-like escapes (`\n`, `\t`, `\xXX`,
    /// octal, `\cC`, …) and quoting (`'…'`, `"…"`).
    pub argv: Vec<String>,
    /// The user to run it as (default: `global_defs script_user`, else `keepalived_script`).
    pub user: Option<String>,
    /// The group to run it as (default: the user's primary group).
    pub group: Option<String>,
}

/// `user [[:]group]` for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptUser {
    /// The user name.
    pub user: String,
    /// The group name; `None` uses the user's primary group.
    pub group: Option<String>,
    /// A `:` before the group: also set supplementary groups.
    pub supplementary_groups: bool,
}

/// `smtp_server HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    /// IP address or host name.
    pub host: String,
    /// TCP port; default 25.
    pub port: u16,
}

/// `lvs_sync_daemon IF [[inst] VI] [id N] [maxlen N] [port N] [ttl N] [group ADDR]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LvsSyncDaemon {
    /// Interface the IPVS sync daemon uses.
    pub interface: String,
    /// The VRRP instance whose state the sync daemon follows.
    pub instance: Option<String>,
    /// Sync id 0..255; default: the instance's VRID.
    pub id: Option<u8>,
    /// Maximum sync message length 1..65507.
    pub maxlen: Option<u16>,
    /// UDP port 1..65535; default 8848.
    pub port: Option<u16>,
    /// Multicast TTL 1..255.
    pub ttl: Option<u8>,
    /// Multicast group; default 224.0.0.81.
    pub group: Option<IpAddr>,
}

/// `lvs_timeouts [tcp S] [tcpfin S] [udp S]` (unset: the kernel's values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LvsTimeouts {
    /// TCP established timeout.
    #[serde(with = "serde_us::option")]
    pub tcp: Option<Duration>,
    /// TCP FIN_WAIT timeout.
    #[serde(with = "serde_us::option")]
    pub tcpfin: Option<Duration>,
    /// UDP timeout.
    #[serde(with = "serde_us::option")]
    pub udp: Option<Duration>,
}

/// `global_defs { … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// `router_id`; default (`None`): the host name.
    pub router_id: Option<String>,
    /// `notification_email { … }` recipients.
    pub notification_email: Vec<String>,
    /// `notification_email_from`; default `keepalived@<hostname>`.
    pub notification_email_from: Option<String>,
    /// `smtp_server`; default none (no mail).
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_connect_timeout` (0..4294 s); default 30 s.
    #[serde(with = "serde_us")]
    pub smtp_connect_timeout: Duration,
    /// `smtp_helo_name`; default: the host name.
    pub smtp_helo_name: Option<String>,
    /// `smtp_alert`; default unset.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp`; default unset (follows `smtp_alert`).
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker`; default unset (follows `smtp_alert`).
    pub smtp_alert_checker: Option<bool>,
    /// `vrrp_skip_check_adv_addr`; default off.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`; default off. Enforces RFC behaviour (no auth, no unicast, no_accept
    /// unless priority 255).
    pub vrrp_strict: bool,
    /// `vrrp_garp_interval` (≥ 1 µs); default 0 (no delay between GARPs).
    #[serde(with = "serde_us")]
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval` (≥ 1 µs); default 0.
    #[serde(with = "serde_us")]
    pub vrrp_gna_interval: Duration,
    /// `vrrp_garp_master_delay`; default 5 s (0 = no second burst).
    #[serde(with = "serde_us")]
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (≥ 1); default 5.
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh`; default 0 (off).
    #[serde(with = "serde_us")]
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (≥ 1); default 1.
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay`; default (`None`): = `vrrp_garp_master_delay` (0 if strict).
    #[serde(with = "serde_us::option")]
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat`; default (`None`): = `vrrp_garp_master_repeat`.
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_min_garp`; default off.
    pub vrrp_min_garp: bool,
    /// `vrrp_version` (2 or 3); default 2.
    pub vrrp_version: u8,
    /// `vrrp_mcast_group4`; default 224.0.0.18.
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6`; default ff02::12.
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `vrrp_check_unicast_src`; default off.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_lower_prio_no_advert`; default off.
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert`; default off.
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_owner_ignore_adverts`; default off.
    pub vrrp_owner_ignore_adverts: bool,
    /// `vrrp_down_timer_adverts` (1..100); default 3.
    pub vrrp_down_timer_adverts: u32,
    /// `v3_checksum_as_v2`; default off.
    pub v3_checksum_as_v2: bool,
    /// `vrrp_startup_delay`; default 0.
    #[serde(with = "serde_us")]
    pub vrrp_startup_delay: Duration,
    /// `lvs_sync_daemon`; default none.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_timeouts`; default: the kernel's.
    pub lvs_timeouts: LvsTimeouts,
    /// `lvs_flush`: flush **all** IPVS state at startup; default off.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop` (alias `lvs_flush_onstop`); default off.
    pub lvs_flush_on_stop: bool,
    /// `script_user USER [[:]GROUP]`; default `keepalived_script` if it exists, else root.
    pub script_user: Option<ScriptUser>,
    /// `enable_script_security`; default off.
    pub enable_script_security: bool,
    /// `dynamic_interfaces`; default off.
    pub dynamic_interfaces: bool,
    /// `default_interface`; default eth0 (`None`).
    pub default_interface: Option<String>,
    /// `random_seed`; default: time based. Also seeds `${_RANDOM}`.
    pub random_seed: Option<u64>,
    /// `vmac_prefix`/`vmac_addr_prefix`; default "vrrp".
    pub vmac_prefix: Option<String>,
    /// Keywords accepted but not supported yet (SNMP, DBus, nftables, scheduling, FIFOs, …).
    pub unsupported: Vec<RawItem>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        GlobalDefs {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_helo_name: None,
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_min_garp: false,
            vrrp_version: 2,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_check_unicast_src: false,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_owner_ignore_adverts: false,
            vrrp_down_timer_adverts: 3,
            v3_checksum_as_v2: false,
            vrrp_startup_delay: Duration::ZERO,
            lvs_sync_daemon: None,
            lvs_timeouts: LvsTimeouts::default(),
            lvs_flush: false,
            lvs_flush_on_stop: false,
            script_user: None,
            enable_script_security: false,
            dynamic_interfaces: false,
            default_interface: None,
            random_seed: None,
            vmac_prefix: None,
            unsupported: Vec::new(),
        }
    }
}

/// VRRP state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VrrpState {
    /// `state MASTER`.
    Master,
    /// `state BACKUP`.
    Backup,
}

/// `authentication { auth_type …; auth_pass … }` (VRRPv2 only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// `auth_type PASS|AH`.
    pub auth_type: AuthType,
    /// `auth_pass`, truncated to 8 bytes as keepalived does.
    pub auth_pass: String,
}

/// VRRPv2 authentication type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthType {
    /// Simple text password (RFC 2338).
    Pass,
    /// IPsec AH.
    Ah,
}

/// One `virtual_ipaddress` / `virtual_ipaddress_excluded` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualIp {
    /// The address.
    pub address: IpAddr,
    /// Prefix length; default 32 (IPv4) or 128 (IPv6).
    pub prefix_len: u8,
    /// `brd ADDR|+|-`.
    pub brd: Option<String>,
    /// `dev IF`; default: the instance's interface.
    pub dev: Option<String>,
    /// `scope S`.
    pub scope: Option<String>,
    /// `label L`.
    pub label: Option<String>,
    /// `peer ADDR`.
    pub peer: Option<IpAddr>,
    /// `no_track`: a missing address does not put the instance in FAULT.
    pub no_track: bool,
    /// Other flags kept verbatim (`home`, `-nodad`, `noprefixroute`, `use_vmac`, …).
    pub options: Vec<String>,
}

/// `unicast_peer { ADDR [min_ttl N] [max_ttl N] }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    /// The peer address.
    pub address: IpAddr,
    /// `min_ttl` 0..255 (implies `check_unicast_src`).
    pub min_ttl: Option<u8>,
    /// `max_ttl` 0..255 (implies `check_unicast_src`).
    pub max_ttl: Option<u8>,
}

/// `track_interface { IF [weight W [reverse]] }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackInterface {
    /// Interface name.
    pub name: String,
    /// Weight −254..254; default 0 (interface down = FAULT).
    pub weight: i32,
    /// `reverse`: the weight applies while the interface is down.
    pub reverse: bool,
}

/// A reference to a tracker (`track_script`, `track_file`, `track_process`, `track_bfd`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// The tracker's name.
    pub name: String,
    /// Weight override; default (`None`): the tracker's own weight.
    pub weight: Option<i32>,
    /// `reverse`.
    pub reverse: bool,
}

/// `vrrp_instance NAME { … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// The instance name.
    pub name: String,
    /// Initial state; default derived: MASTER iff priority is 255. Unknown values become BACKUP.
    pub state: VrrpState,
    /// `interface`; default none (allowed with unicast).
    pub interface: Option<String>,
    /// `virtual_router_id` 1..255; required.
    pub virtual_router_id: u8,
    /// `priority` 1..255; default 100, but **255** when `state MASTER` is given without a
    /// priority. 0 or out of range falls back to 100.
    pub priority: u8,
    /// `advert_int`; default 1 s (v2: whole seconds 1..255; v3: 10 ms steps 0.01..40.95).
    #[serde(with = "serde_us")]
    pub advert_int: Duration,
    /// `version` 2 or 3; default `global_defs vrrp_version` (2), 3 for IPv6 instances.
    pub version: u8,
    /// `authentication`; default none.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress { … }`.
    pub virtual_ipaddress: Vec<VirtualIp>,
    /// `virtual_ipaddress_excluded { … }` (not advertised).
    pub virtual_ipaddress_excluded: Vec<VirtualIp>,
    /// `virtual_routes { … }` lines, verbatim (`ip route` syntax).
    pub virtual_routes: Vec<String>,
    /// `virtual_rules { … }` lines, verbatim (`ip rule` syntax).
    pub virtual_rules: Vec<String>,
    /// `nopreempt`; default off. Cleared when `state MASTER` or priority 255.
    pub nopreempt: bool,
    /// `preempt_delay` (0..1000 s); default 0. Cleared with MASTER, nopreempt or strict.
    #[serde(with = "serde_us")]
    pub preempt_delay: Duration,
    /// `unicast_src_ip`; default: the interface's primary address.
    pub unicast_src_ip: Option<IpAddr>,
    /// `mcast_src_ip`; default: the interface's primary address.
    pub mcast_src_ip: Option<IpAddr>,
    /// `unicast_peer { … }`; non-empty turns unicast on.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `unicast_ttl` 0..255; default 255.
    pub unicast_ttl: u8,
    /// `track_interface { … }`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script { … }`.
    pub track_scripts: Vec<TrackRef>,
    /// `track_file { … }`.
    pub track_files: Vec<TrackRef>,
    /// `track_process { … }`.
    pub track_processes: Vec<TrackRef>,
    /// `dont_track_primary`; default off.
    pub dont_track_primary: bool,
    /// `notify_master` script.
    pub notify_master: Option<Script>,
    /// `notify_backup` script.
    pub notify_backup: Option<Script>,
    /// `notify_fault` script.
    pub notify_fault: Option<Script>,
    /// `notify_stop` script.
    pub notify_stop: Option<Script>,
    /// `notify_deleted` script.
    pub notify_deleted: Option<Script>,
    /// `notify_master_rx_lower_pri` script.
    pub notify_master_rx_lower_pri: Option<Script>,
    /// `notify` script (called with type, name, state, priority).
    pub notify: Option<Script>,
    /// `smtp_alert`; default: the global setting.
    pub smtp_alert: Option<bool>,
    /// `notify_priority_changes`; default: the global setting.
    pub notify_priority_changes: Option<bool>,
    /// `garp_master_delay`; default: `global_defs vrrp_garp_master_delay`.
    #[serde(with = "serde_us")]
    pub garp_master_delay: Duration,
    /// `garp_master_repeat`; default: `global_defs vrrp_garp_master_repeat`.
    pub garp_master_repeat: u32,
    /// `garp_master_refresh`; default: `global_defs vrrp_garp_master_refresh`.
    #[serde(with = "serde_us")]
    pub garp_master_refresh: Duration,
    /// `garp_master_refresh_repeat`; default: the global value.
    pub garp_master_refresh_repeat: u32,
    /// `use_vmac [IF]`: `Some(name)` when set, the name empty for the default `vrrp.<VRID>`.
    pub use_vmac: Option<String>,
    /// `accept` / `no_accept`; default accept, except no_accept in strict mode when the
    /// priority is not 255.
    pub accept: bool,
    /// `strict_mode`; default: `global_defs vrrp_strict`.
    pub strict_mode: bool,
    /// `skip_check_adv_addr`; default: the global setting.
    pub skip_check_adv_addr: bool,
    /// `lower_prio_no_advert`; default: the global setting.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`; default: the global setting.
    pub higher_prio_send_advert: bool,
    /// `promote_secondaries`; default off.
    pub promote_secondaries: bool,
    /// Keywords accepted but not supported yet.
    pub unsupported: Vec<RawItem>,
}

/// `vrrp_sync_group NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpSyncGroup {
    /// The group name.
    pub name: String,
    /// `group { VI … }`: member instances (required; an instance is in one group only).
    pub group: Vec<String>,
    /// `track_interface { … }`.
    pub track_interfaces: Vec<TrackInterface>,
    /// `track_script { … }`.
    pub track_scripts: Vec<TrackRef>,
    /// `track_file { … }`.
    pub track_files: Vec<TrackRef>,
    /// `track_process { … }`.
    pub track_processes: Vec<TrackRef>,
    /// `notify_master` script.
    pub notify_master: Option<Script>,
    /// `notify_backup` script.
    pub notify_backup: Option<Script>,
    /// `notify_fault` script.
    pub notify_fault: Option<Script>,
    /// `notify_stop` script.
    pub notify_stop: Option<Script>,
    /// `notify` script.
    pub notify: Option<Script>,
    /// `smtp_alert`; default: the global setting.
    pub smtp_alert: Option<bool>,
    /// `notify_priority_changes`.
    pub notify_priority_changes: Option<bool>,
    /// `sync_group_tracking_weight`; default off.
    pub sync_group_tracking_weight: bool,
    /// Keywords accepted but not supported yet (`global_tracking`, `track_bfd`).
    pub unsupported: Vec<RawItem>,
}

/// `vrrp_script NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpScript {
    /// The script name.
    pub name: String,
    /// `script`: the command; required.
    pub script: Option<Script>,
    /// `interval`; default 1 s (0 becomes 1 s).
    #[serde(with = "serde_us")]
    pub interval: Duration,
    /// `timeout`; default: the interval.
    #[serde(with = "serde_us")]
    pub timeout: Duration,
    /// `weight` −253..253; default 0.
    pub weight: i32,
    /// `weight … reverse`.
    pub weight_reverse: bool,
    /// `rise` (≥ 1); default 1.
    pub rise: u32,
    /// `fall` (≥ 1); default 1.
    pub fall: u32,
    /// `user U [[:]G]`; default `global_defs script_user`.
    pub user: Option<ScriptUser>,
    /// `init_fail`: start in the failed state; default off.
    pub init_fail: bool,
}

/// `track_file NAME { … }` (alias `vrrp_track_file`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFile {
    /// The tracker name.
    pub name: String,
    /// `file PATH`; required.
    pub file: Option<String>,
    /// `weight` −254..254; default 1.
    pub weight: i32,
    /// `weight … reverse`.
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`: create the file at startup with this value.
    pub init_file: Option<InitFile>,
}

/// `init_file [VALUE] [overwrite]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitFile {
    /// The value written; default 0.
    pub value: i64,
    /// `overwrite`: also when the file exists.
    pub overwrite: bool,
}

/// `vrrp_track_process NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackProcess {
    /// The tracker name.
    pub name: String,
    /// `process CMD [ARGS…]`, as tokens.
    pub process: Vec<String>,
    /// `param_match initial|partial`; default exact match (`None`).
    pub param_match: Option<String>,
    /// `weight` −254..254; default 0.
    pub weight: i32,
    /// `weight … reverse`.
    pub reverse: bool,
    /// `quorum` (≥ 1); default 1.
    pub quorum: u32,
    /// `quorum_max`; default unlimited.
    pub quorum_max: Option<u32>,
    /// `fork_delay`.
    #[serde(with = "serde_us::option")]
    pub fork_delay: Option<Duration>,
    /// `terminate_delay`.
    #[serde(with = "serde_us::option")]
    pub terminate_delay: Option<Duration>,
    /// `full_command`: match the whole command line; default off.
    pub full_command: bool,
}

/// Address family for `ip_family` and `fwmark … inet|inet6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IpFamily {
    /// IPv4.
    Inet,
    /// IPv6.
    Inet6,
}

/// One `virtual_server_group` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum VsgEntry {
    /// `IP [PORT]`, `A.B.C.D-E [PORT]`, `A-B [PORT]` or `IP/len [PORT]`: an address range.
    Range {
        /// First address.
        start: IpAddr,
        /// Last address (= start for a single address).
        end: IpAddr,
        /// Port; `None` = 0 (any).
        port: Option<u16>,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The firewall mark.
        mark: u32,
        /// Family; default IPv4.
        family: Option<IpFamily>,
    },
}

/// `virtual_server_group NAME { … }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualServerGroup {
    /// The group name.
    pub name: String,
    /// Its entries.
    pub entries: Vec<VsgEntry>,
}

/// IPVS scheduler (`lvs_sched` / `lb_algo`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[allow(missing_docs)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Sh,
    Mh,
    Dh,
    Fo,
    Ovf,
    Lblcr,
    Sed,
    Nq,
    Twos,
}

impl Scheduler {
    /// Every scheduler, in keepalived's order.
    pub const ALL: [Scheduler; 14] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Sh,
        Scheduler::Mh,
        Scheduler::Dh,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Lblcr,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Twos,
    ];

    /// The keyword spelling (`rr`, `wlc`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Sh => "sh",
            Scheduler::Mh => "mh",
            Scheduler::Dh => "dh",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Twos => "twos",
        }
    }
}

/// IPVS forwarding method (`lvs_method` / `lb_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LvsMethod {
    /// Masquerading (NAT); keepalived's default.
    Nat,
    /// Direct routing.
    Dr,
    /// Tunnelling (see [`TunnelOptions`]).
    Tun,
}

impl LvsMethod {
    /// The keyword spelling (`NAT`, `DR`, `TUN`).
    pub fn as_str(self) -> &'static str {
        match self {
            LvsMethod::Nat => "NAT",
            LvsMethod::Dr => "DR",
            LvsMethod::Tun => "TUN",
        }
    }
}

/// `lvs_method TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TunnelOptions {
    /// `type`; default `ipip`.
    pub tunnel_type: String,
    /// `port` for GUE.
    pub port: Option<u16>,
    /// Checksum option (`nocsum`, `csum`, `remcsum`).
    pub checksum: Option<String>,
}

/// Transport protocol of a virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP: keepalived's default when `protocol` is missing (with a warning).
    Udp,
    /// SCTP.
    Sctp,
}

impl Protocol {
    /// The keyword spelling (`TCP`, `UDP`, `SCTP`).
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
        }
    }
}

/// What a `virtual_server` line names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum VsTarget {
    /// `virtual_server IP [PORT]`.
    Address {
        /// The virtual address.
        address: IpAddr,
        /// The port; `None` = 0 (all ports, persistent services).
        port: Option<u16>,
    },
    /// `virtual_server fwmark N`.
    Fwmark {
        /// The firewall mark.
        mark: u32,
    },
    /// `virtual_server group NAME`.
    Group {
        /// The `virtual_server_group` name.
        name: String,
    },
}

/// IPVS service flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LvsFlags {
    /// `hashed` (accepted, no effect).
    pub hashed: bool,
    /// `flag-1`.
    pub flag_1: bool,
    /// `flag-2`.
    pub flag_2: bool,
    /// `flag-3`.
    pub flag_3: bool,
    /// `sh-port` (= flag-2 for sh).
    pub sh_port: bool,
    /// `sh-fallback` (= flag-1 for sh).
    pub sh_fallback: bool,
    /// `mh-port`.
    pub mh_port: bool,
    /// `mh-fallback`.
    pub mh_fallback: bool,
    /// `ops`: one-packet scheduling (UDP).
    pub ops: bool,
}

/// `sorry_server IP [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    /// Address.
    pub address: IpAddr,
    /// Port; default: the virtual server's port.
    pub port: Option<u16>,
}

/// `virtual_server … { … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VirtualServer {
    /// What the service is (address/port, fwmark or group).
    pub target: VsTarget,
    /// `ip_family inet|inet6`; default: from the address.
    pub ip_family: Option<IpFamily>,
    /// `lvs_sched` (alias `lb_algo`); default **wlc** (with a warning).
    pub lvs_sched: Scheduler,
    /// `lvs_method` (alias `lb_kind`); default **NAT** (with a warning). Inherited by real
    /// servers.
    pub lvs_method: LvsMethod,
    /// Tunnel options for `lvs_method TUN`.
    pub tunnel: Option<TunnelOptions>,
    /// `protocol TCP|UDP|SCTP`; default **UDP** (with a warning). Ignored for fwmark services.
    pub protocol: Protocol,
    /// `persistence_timeout` 1..2678400 s; default none; **360 s** when the keyword has no
    /// value or `persistence_granularity` is set.
    #[serde(with = "serde_us::option")]
    pub persistence_timeout: Option<Duration>,
    /// `persistence_granularity` (IPv4 netmask or IPv6 prefix length), verbatim.
    pub persistence_granularity: Option<String>,
    /// `persistence_engine` (e.g. `sip`).
    pub persistence_engine: Option<String>,
    /// Service flags.
    pub flags: LvsFlags,
    /// `delay_loop`: check interval; default 60 s. Inherited by checkers.
    #[serde(with = "serde_us")]
    pub delay_loop: Duration,
    /// `connect_timeout`; default (`None`): 5 s at the checker. Inherited.
    #[serde(with = "serde_us::option")]
    pub connect_timeout: Option<Duration>,
    /// `retry`; default (`None`): checker specific. Inherited.
    pub retry: Option<u32>,
    /// `delay_before_retry`; default (`None`): checker specific. Inherited.
    #[serde(with = "serde_us::option")]
    pub delay_before_retry: Option<Duration>,
    /// `warmup`; default (`None`): = delay_loop. Inherited.
    #[serde(with = "serde_us::option")]
    pub warmup: Option<Duration>,
    /// `inhibit_on_failure`: a failed real server gets weight 0 instead of being removed;
    /// default off. Inherited.
    pub inhibit_on_failure: bool,
    /// `alpha`: real servers start down; default off. Inherited.
    pub alpha: bool,
    /// `omega`: run `quorum_down` and clear the pool on shutdown; default off.
    pub omega: bool,
    /// `quorum` (≥ 1); default 1.
    pub quorum: u32,
    /// `hysteresis`; default 0.
    pub hysteresis: u32,
    /// `quorum_up` script.
    pub quorum_up: Option<Script>,
    /// `quorum_down` script.
    pub quorum_down: Option<Script>,
    /// `sorry_server`.
    pub sorry_server: Option<SorryServer>,
    /// `sorry_server_inhibit`; default off.
    pub sorry_server_inhibit: bool,
    /// `sorry_server_lvs_method`; default: the service's method.
    pub sorry_server_lvs_method: Option<LvsMethod>,
    /// `ha_suspend`: check only while the VIP is present; default off.
    pub ha_suspend: bool,
    /// `virtualhost` (HTTP Host header); inherited.
    pub virtualhost: Option<String>,
    /// `weight`: default real-server weight (1..2147483647); default 1.
    pub weight: u32,
    /// `smtp_alert`; default: the global setting.
    pub smtp_alert: Option<bool>,
    /// `real_server` blocks (duplicates removed).
    pub real_servers: Vec<RealServer>,
    /// Keywords accepted but not supported yet.
    pub unsupported: Vec<RawItem>,
}

/// `real_server IP [PORT] { … }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RealServer {
    /// Address.
    pub address: IpAddr,
    /// Port; default: the virtual server's port.
    pub port: Option<u16>,
    /// `weight` 0..2147483647; default: the virtual server's `weight`.
    pub weight: u32,
    /// `lvs_method`; default: the virtual server's.
    pub lvs_method: LvsMethod,
    /// `inhibit_on_failure`; default: the virtual server's.
    pub inhibit_on_failure: bool,
    /// `notify_up` script.
    pub notify_up: Option<Script>,
    /// `notify_down` script.
    pub notify_down: Option<Script>,
    /// `uthreshold` (connection upper threshold).
    pub uthreshold: Option<u32>,
    /// `lthreshold` (connection lower threshold).
    pub lthreshold: Option<u32>,
    /// `smtp_alert`; default (`None`): **true** for real servers (keepalived compatibility).
    pub smtp_alert: Option<bool>,
    /// Health checkers, with inherited timing resolved.
    pub checkers: Vec<Checker>,
    /// Keywords accepted but not supported yet.
    pub unsupported: Vec<RawItem>,
}

/// A health checker, with the virtual server / real server timing inherited and defaults
/// applied.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checker {
    /// The checker type and its own settings.
    pub kind: CheckerKind,
    /// `connect_ip`; default (`None`): the real server's address.
    pub connect_ip: Option<IpAddr>,
    /// `connect_port`; default (`None`): the real server's port.
    pub connect_port: Option<u16>,
    /// `bindto` source address.
    pub bindto: Option<IpAddr>,
    /// `bind_port` source port.
    pub bind_port: Option<u16>,
    /// `bind_if` (needed for IPv6 link-local).
    pub bind_if: Option<String>,
    /// `fwmark` (SO_MARK) on probe sockets.
    pub fwmark: Option<u32>,
    /// `connect_timeout`; default 5 s (inherited from RS / VS). Always 5 s for MISC_CHECK,
    /// FILE_CHECK and BFD_CHECK, which do not connect.
    #[serde(with = "serde_us")]
    pub connect_timeout: Duration,
    /// `retry` (alias `nb_get_retry`); default 1 (MISC 0, DNS 3), inherited from RS / VS.
    pub retry: u32,
    /// `delay_before_retry`; default 1 s (HTTP/SSL 3 s, DNS = delay_loop), inherited.
    #[serde(with = "serde_us")]
    pub delay_before_retry: Duration,
    /// `warmup`; default: delay_loop. The first check runs after 1 s + random(0..warmup).
    #[serde(with = "serde_us")]
    pub warmup: Duration,
    /// `delay_loop`; default: the real server's, else the virtual server's (60 s).
    #[serde(with = "serde_us")]
    pub delay_loop: Duration,
    /// `alpha`; default: inherited (off).
    pub alpha: bool,
    /// `log_all_failures`; default off.
    pub log_all_failures: bool,
}

/// Checker types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum CheckerKind {
    /// `TCP_CHECK`: connect only.
    #[serde(rename = "TCP_CHECK")]
    Tcp,
    /// `HTTP_GET`.
    #[serde(rename = "HTTP_GET")]
    Http(HttpCheck),
    /// `SSL_GET`.
    #[serde(rename = "SSL_GET")]
    Ssl(HttpCheck),
    /// `MISC_CHECK`: run a script.
    #[serde(rename = "MISC_CHECK")]
    Misc(MiscCheck),
    /// `SMTP_CHECK`.
    #[serde(rename = "SMTP_CHECK")]
    Smtp(SmtpCheck),
    /// `DNS_CHECK`.
    #[serde(rename = "DNS_CHECK")]
    Dns(DnsCheck),
    /// `UDP_CHECK`.
    #[serde(rename = "UDP_CHECK")]
    Udp(UdpCheck),
    /// `PING_CHECK` (ICMP echo).
    #[serde(rename = "PING_CHECK")]
    Ping,
    /// `FILE_CHECK`: follow a `track_file`.
    #[serde(rename = "FILE_CHECK")]
    File(FileCheck),
    /// `BFD_CHECK`: follow a `bfd_instance` (accepted, BFD not supported yet).
    #[serde(rename = "BFD_CHECK")]
    Bfd(BfdCheck),
}

impl CheckerKind {
    /// The block keyword (`TCP_CHECK`, `HTTP_GET`, …).
    pub fn keyword(&self) -> &'static str {
        match self {
            CheckerKind::Tcp => "TCP_CHECK",
            CheckerKind::Http(_) => "HTTP_GET",
            CheckerKind::Ssl(_) => "SSL_GET",
            CheckerKind::Misc(_) => "MISC_CHECK",
            CheckerKind::Smtp(_) => "SMTP_CHECK",
            CheckerKind::Dns(_) => "DNS_CHECK",
            CheckerKind::Udp(_) => "UDP_CHECK",
            CheckerKind::Ping => "PING_CHECK",
            CheckerKind::File(_) => "FILE_CHECK",
            CheckerKind::Bfd(_) => "BFD_CHECK",
        }
    }
}

/// `HTTP_GET` / `SSL_GET` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCheck {
    /// `url { … }` blocks (repeatable).
    pub urls: Vec<HttpUrl>,
    /// `http_protocol 1.0|1.0C|1.1`; default `1.0`.
    pub http_protocol: String,
    /// `virtualhost`; default: inherited from RS / VS.
    pub virtualhost: Option<String>,
    /// `fast_recovery`; default off.
    pub fast_recovery: bool,
    /// `enable_sni`; default off.
    pub enable_sni: bool,
    /// `sni_name`.
    pub sni_name: Option<String>,
    /// `tls_compliant`; default off.
    pub tls_compliant: bool,
}

/// An inclusive HTTP status code range (`status_code 200` or `200-299`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusRange {
    /// Lowest accepted code.
    pub min: u16,
    /// Highest accepted code.
    pub max: u16,
}

/// `url { … }` inside `HTTP_GET`/`SSL_GET`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpUrl {
    /// `path`; required.
    pub path: String,
    /// `digest`: MD5 of the body, lower-case hex.
    pub digest: Option<String>,
    /// `status_code` ranges; default 200-299 (when empty).
    pub status_codes: Vec<StatusRange>,
    /// `virtualhost` for this URL.
    pub virtualhost: Option<String>,
    /// `regex` the body must (or with `regex_no_match`, must not) match.
    pub regex: Option<String>,
    /// `regex_no_match`.
    pub regex_no_match: bool,
}

/// `MISC_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MiscCheck {
    /// `misc_path`: the command; required.
    pub misc_path: Option<Script>,
    /// `misc_timeout`; default: the delay_loop.
    #[serde(with = "serde_us")]
    pub misc_timeout: Duration,
    /// `misc_dynamic`: exit code 2..255 sets weight code−2; default off.
    pub misc_dynamic: bool,
    /// `user U [[:]G]`.
    pub user: Option<ScriptUser>,
}

/// `SMTP_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpCheck {
    /// `helo_name`; default `smtpchecker.keepalived.org`.
    pub helo_name: String,
}

/// `DNS_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DnsCheck {
    /// `type A|NS|CNAME|SOA|MX|TXT|AAAA|RRSIG|DNSKEY`; default `SOA`.
    pub query_type: String,
    /// `name`; default `.` (the root).
    pub name: String,
}

/// `UDP_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UdpCheck {
    /// `payload HEX`, verbatim.
    pub payload: Option<String>,
    /// `require_reply [HEX]`: `Some("")` when a reply is required without a pattern. `X` is a
    /// nibble wildcard.
    pub require_reply: Option<String>,
    /// `min_reply_length`; default 0.
    pub min_reply_length: u32,
    /// `max_reply_length`; default 255.
    pub max_reply_length: u32,
}

/// `FILE_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCheck {
    /// `track_file NAME`; required.
    pub track_file: Option<String>,
    /// `weight` override; default: the tracker's.
    pub weight: Option<i32>,
    /// `weight … reverse`.
    pub reverse: bool,
}

/// `BFD_CHECK` settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdCheck {
    /// `name`: the `bfd_instance`.
    pub name: Option<String>,
}

/// The top-level `SSL { … }` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SslContext {
    /// `password` for the key.
    pub password: Option<String>,
    /// `ca` file.
    pub ca: Option<String>,
    /// `certificate` file.
    pub certificate: Option<String>,
    /// `key` file.
    pub key: Option<String>,
}
