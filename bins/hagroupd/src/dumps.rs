//! keepalived-compatible dump files, for users' existing tooling:
//!
//! | signal | file | content |
//! |---|---|---|
//! | SIGUSR1 | `keepalived.data` | configuration and state, keepalived's section layout |
//! | SIGUSR2 | `keepalived.stats` | per-instance advert, error and authentication counters |
//! | SIGRTMIN+2 | `keepalived.json` | `[{"data": {...}, "stats": {...}}]` per instance |
//!
//! The files go to `$TMPDIR` when it names a directory, else `/tmp` (as keepalived 2.2.7 does),
//! with mode 0600. The layouts were copied from keepalived 2.2.7's real output
//! (`docs/operations.md` shows it); the `.data` layout is "not a stable API" in keepalived
//! either.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use kconf_parser::Config;
use lvs_director::VirtualServerStatus;
use serde_json::{Value, json};
use vrrp_fsm::{Counters, State};
use vrrp_net::Scope;
use vrrp_net::driver::{InstanceConfig, InstanceStatus, VipConfig};
use vrrp_proto::{Auth, Version};

/// One VRRP instance as the dumps see it.
pub(crate) struct InstanceView<'a> {
    /// Its configuration.
    pub(crate) cfg: &'a InstanceConfig,
    /// Its sync group.
    pub(crate) group: Option<&'a str>,
    /// Its status (absent before the driver reported it).
    pub(crate) status: Option<InstanceStatus>,
    /// Its counters.
    pub(crate) counters: Counters,
    /// When it last changed state.
    pub(crate) last_transition: Option<SystemTime>,
}

/// Everything a dump shows.
pub(crate) struct DumpInput<'a> {
    /// The running configuration.
    pub(crate) config: &'a Config,
    /// The VRRP instances, in configuration order.
    pub(crate) instances: Vec<InstanceView<'a>>,
    /// Packets refused before they reached an instance, by reason.
    pub(crate) rx_errors: &'a BTreeMap<String, u64>,
    /// The LVS side.
    pub(crate) virtual_servers: &'a [VirtualServerStatus],
}

/// The directory the dumps go to: `$TMPDIR` if it is a directory, else `/tmp`.
pub(crate) fn dump_dir() -> PathBuf {
    std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|d| d.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

/// Writes `contents` to `name` in [`dump_dir`] with mode 0600 (logs failures).
pub(crate) fn write(name: &str, contents: &str) {
    let path = dump_dir().join(name);
    let r = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .and_then(|mut f| f.write_all(contents.as_bytes()));
    match r {
        Ok(()) => tracing::info!(file = %path.display(), "dump written"),
        Err(e) => tracing::warn!(file = %path.display(), error = %e, "cannot write dump"),
    }
}

fn state_name(s: Option<State>) -> &'static str {
    match s {
        Some(State::Backup) => "BACKUP",
        Some(State::Master) => "MASTER",
        Some(State::Fault) => "FAULT",
        Some(State::Initialize) | None => "INIT",
    }
}

/// keepalived's numbers: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.
fn state_number(s: Option<State>) -> u8 {
    match s {
        Some(State::Backup) => 1,
        Some(State::Master) => 2,
        Some(State::Fault) => 3,
        Some(State::Initialize) | None => 0,
    }
}

fn scope_name(s: Scope) -> &'static str {
    match s {
        Scope::Global => "global",
        Scope::Site => "site",
        Scope::Link => "link",
        Scope::Host => "host",
        Scope::Nowhere => "nowhere",
    }
}

/// `192.0.2.100/24 dev eth0 scope global set` (`set` while the address is installed).
fn vip_line(v: &VipConfig, interface: &str, set: bool) -> String {
    let mut s = format!(
        "{}/{} dev {} scope {}",
        v.addr,
        v.prefix_len,
        v.dev.as_deref().unwrap_or(interface),
        scope_name(v.scope)
    );
    if let Some(l) = &v.label {
        let _ = write!(s, " label {l}");
    }
    if set {
        s.push_str(" set");
    }
    s
}

fn version_number(v: Version) -> u8 {
    match v {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

fn epoch(t: SystemTime) -> (u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    (d.as_secs(), d.subsec_micros())
}

/// `Sun Nov 22 07:53:21.308831 2026` (UTC).
fn calendar(t: SystemTime) -> String {
    let (secs, micros) = epoch(t);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const WDAY: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wday = WDAY
        .get(usize::try_from(days.rem_euclid(7)).unwrap_or(0))
        .unwrap_or(&"");
    let mon = MON
        .get(usize::try_from(month - 1).unwrap_or(0))
        .unwrap_or(&"");
    format!(
        "{wday} {mon} {day:2} {:02}:{:02}:{:02}.{micros:06} {year}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn yes_no(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

fn enabled(b: bool) -> &'static str {
    if b { "enabled" } else { "disabled" }
}

fn password(auth: &Auth) -> Option<String> {
    match auth {
        Auth::SimplePassword(p) => {
            let end = p.iter().position(|&b| b == 0).unwrap_or(p.len());
            Some(String::from_utf8_lossy(p.get(..end).unwrap_or_default()).into_owned())
        }
        _ => None,
    }
}

/// `keepalived.data` (SIGUSR1).
pub(crate) fn data(input: &DumpInput<'_>) -> String {
    let g = &input.config.global_defs;
    let mut o = String::new();
    let _ = writeln!(o, "------< Global definitions >------");
    let _ = writeln!(
        o,
        " Router ID = {}",
        g.router_id.clone().unwrap_or_else(hostname)
    );
    let _ = writeln!(o, " LVS flush = {}", yes_no(g.lvs_flush));
    let _ = writeln!(o, " LVS flush on stop = {}", enabled(g.lvs_flush_on_stop));
    let _ = writeln!(o, " VRRP IPv4 mcast group = 224.0.0.18");
    let _ = writeln!(o, " VRRP IPv6 mcast group = ff02::12");
    let _ = writeln!(
        o,
        " Gratuitous ARP delay = {}",
        g.vrrp_garp_master_delay.as_secs()
    );
    let _ = writeln!(o, " Gratuitous ARP repeat = {}", g.vrrp_garp_master_repeat);
    let _ = writeln!(o, " VRRP default protocol version = {}", g.vrrp_version);
    let _ = writeln!(o, " VRRP strict mode = {}", yes_no(g.vrrp_strict));
    let _ = writeln!(o, " Script security {}", enabled(g.enable_script_security));
    let _ = writeln!(o, "------< VRRP Topology >------");
    for i in &input.instances {
        let c = &i.cfg.router;
        let st = i.status.map(|s| s.state);
        let _ = writeln!(o, " VRRP Instance = {}", c.name);
        if let Some(group) = i.group {
            let _ = writeln!(o, "   VRRP Sync Group = {group}");
        }
        let _ = writeln!(o, "   VRRP Version = {}", version_number(c.version));
        let _ = writeln!(o, "   State = {}", state_name(st));
        if let Some(t) = i.last_transition {
            let (s, us) = epoch(t);
            let _ = writeln!(o, "   Last transition = {s}.{us:06} ({})", calendar(t));
        }
        let _ = writeln!(o, "   Interface = {}", i.cfg.interface);
        if !c.primary_address.is_unspecified() {
            let _ = writeln!(o, "   Using src_ip = {}", c.primary_address);
        }
        if c.unicast_peers.is_empty() {
            let group =
                if c.primary_address.is_ipv6() || i.cfg.vips.iter().any(|v| v.addr.is_ipv6()) {
                    "ff02::12"
                } else {
                    "224.0.0.18"
                };
            let _ = writeln!(o, "   Multicast address {group}");
        } else {
            let _ = writeln!(o, "   Unicast Peer(s) ({}):", c.unicast_peers.len());
            for p in &c.unicast_peers {
                let _ = writeln!(o, "     {p}");
            }
        }
        let _ = writeln!(
            o,
            "   Gratuitous ARP delay = {}",
            c.garp.master_delay.as_secs()
        );
        let _ = writeln!(o, "   Gratuitous ARP repeat = {}", c.garp.master_repeat);
        let _ = writeln!(
            o,
            "   Gratuitous ARP refresh = {}",
            c.garp.master_refresh.as_secs()
        );
        let _ = writeln!(
            o,
            "   Gratuitous ARP refresh repeat = {}",
            c.garp.master_refresh_repeat
        );
        let _ = writeln!(o, "   Down timer adverts = {}", c.down_timer_adverts);
        let _ = writeln!(o, "   Virtual Router ID = {}", c.vrid.get());
        let _ = writeln!(o, "   Priority = {}", c.priority.0);
        let eff = i.status.map_or(c.priority.0, |s| s.priority.0);
        let _ = writeln!(o, "   Effective priority = {eff}");
        let adv = c.advert_interval.as_duration();
        if adv.subsec_millis() == 0 {
            let _ = writeln!(o, "   Advert interval = {} sec", adv.as_secs());
        } else {
            let _ = writeln!(o, "   Advert interval = {} milli-sec", adv.as_millis());
        }
        let _ = writeln!(o, "   Accept = {}", enabled(c.accept));
        let _ = writeln!(o, "   Preempt = {}", enabled(c.preempt));
        if !c.preempt_delay.is_zero() {
            let _ = writeln!(o, "   Preempt delay = {} secs", c.preempt_delay.as_secs());
        }
        match &c.auth {
            Auth::SimplePassword(_) => {
                let _ = writeln!(o, "   Authentication type = SIMPLE_PASSWORD");
                let _ = writeln!(o, "   Password = {}", password(&c.auth).unwrap_or_default());
            }
            Auth::Ah => {
                let _ = writeln!(o, "   Authentication type = IPSEC_AH");
            }
            _ => {}
        }
        let _ = writeln!(o, "   Virtual IP ({}):", i.cfg.vips.len());
        let set = st == Some(State::Master);
        for v in &i.cfg.vips {
            let _ = writeln!(o, "     {}", vip_line(v, &i.cfg.interface, set));
        }
        if !i.cfg.track_interfaces.is_empty() {
            let _ = writeln!(
                o,
                "   Tracked interfaces ({}):",
                i.cfg.track_interfaces.len()
            );
            for t in &i.cfg.track_interfaces {
                let _ = writeln!(o, "     {t}");
            }
        }
    }
    if !input.virtual_servers.is_empty() {
        // keepalived writes this part to keepalived_check.data from its checker process;
        // hagroupd is one process, so it follows in the same file.
        let _ = writeln!(o, "------< LVS Topology >------");
        for vs in input.virtual_servers {
            let _ = writeln!(o, " VS = {}", vs.name);
            for s in &vs.services {
                let _ = writeln!(o, "   Service = {s}");
            }
            let _ = writeln!(
                o,
                "   Quorum = {}",
                if vs.quorum_up { "up" } else { "down" }
            );
            for rs in &vs.real_servers {
                let _ = writeln!(o, "   RS = {}", rs.addr);
                let _ = writeln!(o, "     Alive = {}", yes_no(rs.alive));
                let _ = writeln!(o, "     Weight = {}", rs.weight);
                match rs.ipvs_weight {
                    Some(w) => {
                        let _ = writeln!(o, "     IPVS weight = {w}");
                    }
                    None => {
                        let _ = writeln!(o, "     IPVS weight = (not in table)");
                    }
                }
                if let Some(w) = rs.admin_weight {
                    let _ = writeln!(o, "     Admin weight = {w}");
                }
            }
        }
    }
    o
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

/// The counters keepalived's stats and JSON dumps show, from ours.
struct KaStats {
    advert_rcvd: u64,
    advert_sent: u64,
    become_master: u64,
    release_master: u64,
    packet_len_err: u64,
    advert_interval_err: u64,
    ip_ttl_err: u64,
    invalid_type_rcvd: u64,
    addr_list_err: u64,
    invalid_authtype: u64,
    authtype_mismatch: u64,
    auth_failure: u64,
    pri_zero_rcvd: u64,
    pri_zero_sent: u64,
}

/// Length, TTL, type and authentication-type errors are found by hagroupd's decoder before a
/// packet is matched to an instance, so they are not per instance: they show under
/// "Refused before instance match" in `keepalived.stats` and here stay 0.
fn ka_stats(c: &Counters) -> KaStats {
    KaStats {
        advert_rcvd: c.adverts_received,
        advert_sent: c.adverts_sent,
        become_master: c.became_master,
        release_master: c.released_master,
        packet_len_err: 0,
        advert_interval_err: c.discards.interval_mismatch,
        ip_ttl_err: 0,
        invalid_type_rcvd: 0,
        addr_list_err: c.address_list_mismatch,
        invalid_authtype: 0,
        authtype_mismatch: 0,
        auth_failure: c.discards.auth_mismatch,
        pri_zero_rcvd: c.priority_zero_received,
        pri_zero_sent: c.priority_zero_sent,
    }
}

/// `keepalived.stats` (SIGUSR2), keepalived 2.2.7's layout.
pub(crate) fn stats(input: &DumpInput<'_>) -> String {
    let mut o = String::new();
    for i in &input.instances {
        let s = ka_stats(&i.counters);
        let _ = write!(
            o,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    \
             Address List: {}\n  Authentication Errors:\n    Invalid Type: {}\n    \
             Type Mismatch: {}\n    Failure: {}\n  Priority Zero:\n    Received: {}\n    \
             Sent: {}\n",
            i.cfg.router.name,
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent,
        );
    }
    let refused: Vec<_> = input.rx_errors.iter().filter(|(_, n)| **n > 0).collect();
    if !refused.is_empty() {
        let _ = writeln!(o, "Refused before instance match:");
        for (reason, n) in refused {
            let _ = writeln!(o, "  {reason}: {n}");
        }
    }
    o
}

/// `keepalived.json` (SIGRTMIN+2), keepalived 2.2.7's fields.
pub(crate) fn json(input: &DumpInput<'_>) -> String {
    let list: Vec<Value> = input
        .instances
        .iter()
        .map(|i| {
            let c = &i.cfg.router;
            let st = i.status.map(|s| s.state);
            let set = st == Some(State::Master);
            // keepalived writes `1` for one second, a fraction otherwise.
            let adver = |d: std::time::Duration| {
                if d.subsec_nanos() == 0 {
                    json!(d.as_secs())
                } else {
                    json!(d.as_secs_f64())
                }
            };
            let mut data = json!({
                "iname": c.name,
                "dont_track_primary": u8::from(!c.track_primary_interface),
                "skip_check_adv_addr": u8::from(c.skip_check_adv_addr),
                "strict_mode": u8::from(c.strict_mode),
                "vmac_ifname": "",
                "ifp_ifname": i.cfg.interface,
                "master_priority": i.status.and_then(|s| s.master).map_or(0, |(_, p)| p.0),
                "last_transition": i.last_transition.map_or(0.0, |t| {
                    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64()
                }),
                "garp_delay": c.garp.master_delay.as_secs(),
                "garp_refresh": c.garp.master_refresh.as_secs(),
                "garp_rep": c.garp.master_repeat,
                "garp_refresh_rep": c.garp.master_refresh_repeat,
                "garp_lower_prio_delay": c.garp.lower_prio_delay.as_secs(),
                "garp_lower_prio_rep": c.garp.lower_prio_repeat,
                "lower_prio_no_advert": u8::from(c.lower_prio_no_advert),
                "higher_prio_send_advert": u8::from(c.higher_prio_send_advert),
                "vrid": c.vrid.get(),
                "base_priority": c.priority.0,
                "effective_priority": i.status.map_or(c.priority.0, |s| s.priority.0),
                "vipset": set,
                "promote_secondaries": false,
                "adver_int": adver(c.advert_interval.as_duration()),
                "master_adver_int": adver(c.advert_interval.as_duration()),
                "accept": u8::from(c.accept),
                "nopreempt": !c.preempt,
                "preempt_delay": c.preempt_delay.as_secs(),
                "state": state_number(st),
                "wantstate": state_number(st),
                "version": version_number(c.version),
                "smtp_alert": false,
                "notify_deleted": false,
                "vips": i.cfg.vips.iter().map(|v| vip_line(v, &i.cfg.interface, set)).collect::<Vec<_>>(),
            });
            if let Some(obj) = data.as_object_mut() {
                match &c.auth {
                    Auth::SimplePassword(_) => {
                        obj.insert("auth_type".into(), json!(1));
                        obj.insert("auth_data".into(), json!(password(&c.auth)));
                    }
                    Auth::Ah => {
                        obj.insert("auth_type".into(), json!(2));
                    }
                    _ => {
                        obj.insert("auth_type".into(), json!(0));
                    }
                }
            }
            let s = ka_stats(&i.counters);
            json!({
                "data": data,
                "stats": {
                    "advert_rcvd": s.advert_rcvd,
                    "advert_sent": s.advert_sent,
                    "become_master": s.become_master,
                    "release_master": s.release_master,
                    "packet_len_err": s.packet_len_err,
                    "advert_interval_err": s.advert_interval_err,
                    "ip_ttl_err": s.ip_ttl_err,
                    "invalid_type_rcvd": s.invalid_type_rcvd,
                    "addr_list_err": s.addr_list_err,
                    "invalid_authtype": s.invalid_authtype,
                    "authtype_mismatch": s.authtype_mismatch,
                    "auth_failure": s.auth_failure,
                    "pri_zero_rcvd": s.pri_zero_rcvd,
                    "pri_zero_sent": s.pri_zero_sent,
                }
            })
        })
        .collect();
    let mut s = Value::Array(list).to_string();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn config(text: &str) -> Config {
        kconf_parser::parse_str(text, &kconf_parser::Options::default()).config
    }

    const CONF: &str = "
global_defs { router_id ops_test }
vrrp_instance VI_1 {
    state MASTER
    interface veth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication { auth_type PASS\n auth_pass secret }
    virtual_ipaddress { 192.0.2.100/24 }
}
";

    fn with_input(f: impl FnOnce(&DumpInput<'_>)) {
        let config = config(CONF);
        let (dcfg, errors) = crate::vrrp_config::driver_config(&config);
        assert!(errors.is_empty(), "{errors:?}");
        let vrrp_net::driver::UnitConfig::Instance(inst) = &dcfg.units[0] else {
            panic!("one instance");
        };
        let counters = Counters {
            adverts_sent: 6,
            became_master: 1,
            ..Counters::default()
        };
        let rx = BTreeMap::from([("bad_ttl".to_owned(), 2)]);
        let input = DumpInput {
            config: &config,
            instances: vec![InstanceView {
                cfg: inst,
                group: None,
                status: Some(InstanceStatus {
                    state: State::Master,
                    priority: vrrp_proto::Priority(150),
                    master: None,
                }),
                counters,
                last_transition: Some(UNIX_EPOCH + Duration::from_micros(1_795_334_001_308_831)),
            }],
            rx_errors: &rx,
            virtual_servers: &[],
        };
        f(&input);
    }

    #[test]
    fn stats_have_keepalived_layout() {
        with_input(|i| {
            let s = stats(i);
            let want = "VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n    Sent: 6\n  \
                Became master: 1\n  Released master: 0\n  Packet Errors:\n    Length: 0\n    \
                TTL: 0\n    Invalid Type: 0\n    Advertisement Interval: 0\n    Address List: 0\n  \
                Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    \
                Failure: 0\n  Priority Zero:\n    Received: 0\n    Sent: 0\n\
                Refused before instance match:\n  bad_ttl: 2\n";
            assert_eq!(s, want);
        });
    }

    #[test]
    fn json_has_keepalived_fields() {
        with_input(|i| {
            let v: Value = serde_json::from_str(&json(i)).unwrap();
            let e = &v[0];
            assert_eq!(e["data"]["iname"], "VI_1");
            assert_eq!(e["data"]["state"], 2);
            assert_eq!(e["data"]["vrid"], 51);
            assert_eq!(e["data"]["ifp_ifname"], "veth0");
            assert_eq!(e["data"]["auth_type"], 1);
            assert_eq!(e["data"]["auth_data"], "secret");
            assert_eq!(e["data"]["adver_int"], 1);
            assert!(json(i).contains(r#""adver_int":1,"#));
            assert_eq!(
                e["data"]["vips"][0],
                "192.0.2.100/24 dev veth0 scope global set"
            );
            assert_eq!(e["stats"]["advert_sent"], 6);
            assert_eq!(e["stats"]["become_master"], 1);
            // Every key keepalived 2.2.7 wrote for such an instance is there.
            for k in [
                "iname",
                "dont_track_primary",
                "skip_check_adv_addr",
                "strict_mode",
                "vmac_ifname",
                "ifp_ifname",
                "master_priority",
                "last_transition",
                "garp_delay",
                "garp_refresh",
                "garp_rep",
                "garp_refresh_rep",
                "garp_lower_prio_delay",
                "garp_lower_prio_rep",
                "lower_prio_no_advert",
                "higher_prio_send_advert",
                "vrid",
                "base_priority",
                "effective_priority",
                "vipset",
                "promote_secondaries",
                "adver_int",
                "master_adver_int",
                "accept",
                "nopreempt",
                "preempt_delay",
                "state",
                "wantstate",
                "version",
                "smtp_alert",
                "notify_deleted",
                "vips",
                "auth_type",
                "auth_data",
            ] {
                assert!(e["data"].get(k).is_some(), "data.{k}");
            }
            assert_eq!(e["stats"].as_object().unwrap().len(), 14);
        });
    }

    #[test]
    fn data_has_keepalived_sections() {
        with_input(|i| {
            let d = data(i);
            for line in [
                "------< Global definitions >------",
                " Router ID = ops_test",
                "------< VRRP Topology >------",
                " VRRP Instance = VI_1",
                "   State = MASTER",
                "   Last transition = 1795334001.308831 (Sun Nov 22 07:53:21.308831 2026)",
                "   Interface = veth0",
                "   Virtual Router ID = 51",
                "   Priority = 150",
                "   Advert interval = 1 sec",
                "   Authentication type = SIMPLE_PASSWORD",
                "   Virtual IP (1):",
                "     192.0.2.100/24 dev veth0 scope global set",
            ] {
                assert!(d.lines().any(|l| l == line), "{line:?} missing in\n{d}");
            }
        });
    }
}
