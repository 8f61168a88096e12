//! From the keepalived.conf model to what the VRRP driver runs: one `InstanceConfig` per
//! `vrrp_instance`, grouped by `vrrp_sync_group`, with keepalived's global defaults applied.

use kconf_parser::model::{AuthType, Config, VrrpInstance, VrrpState};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;
use vrrp_fsm::{GarpConfig, InitialState, RouterConfig, TrackerConfig, TrackerKind, TrackerStatus};
use vrrp_net::Scope;
use vrrp_net::driver::{DriverConfig, InstanceConfig, UnitConfig, VipConfig};
use vrrp_proto::{AdvertInterval, Auth, ChecksumMode, Priority, RxChecksum, Version, Vrid};

/// A configuration problem that stops an instance from running.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum VrrpConfigError {
    /// The VRID is outside 1..=255.
    #[error("vrrp_instance {0}: virtual_router_id must be 1..255")]
    Vrid(String),
    /// The instance has no interface (hagroupd needs one).
    #[error("vrrp_instance {0}: no interface")]
    NoInterface(String),
    /// The advert interval cannot be expressed in the instance's VRRP version.
    #[error("vrrp_instance {0}: advert_int {1:?} is out of range")]
    Interval(String, Duration),
    /// A sync group names an instance that does not exist.
    #[error("vrrp_sync_group {0}: no instance named {1}")]
    UnknownMember(String, String),
}

fn vip_config(v: &kconf_parser::model::VirtualIp) -> VipConfig {
    let broadcast = match (v.address, v.brd.as_deref()) {
        (IpAddr::V4(a), Some("+")) => {
            let host_bits = 32u32.saturating_sub(u32::from(v.prefix_len));
            let mask = if host_bits >= 32 {
                0
            } else {
                (1u32 << host_bits) - 1
            };
            Some(Ipv4Addr::from(u32::from(a) | mask))
        }
        (IpAddr::V4(a), Some("-")) => {
            let host_bits = 32u32.saturating_sub(u32::from(v.prefix_len));
            let mask = if host_bits >= 32 {
                0
            } else {
                (1u32 << host_bits) - 1
            };
            Some(Ipv4Addr::from(u32::from(a) & !mask))
        }
        (_, Some(b)) => b.parse().ok(),
        _ => None,
    };
    VipConfig {
        addr: v.address,
        prefix_len: v.prefix_len,
        dev: v.dev.clone(),
        broadcast,
        scope: v
            .scope
            .as_deref()
            .and_then(Scope::from_keyword)
            .unwrap_or_default(),
        label: v.label.clone(),
        // keepalived adds IPv6 VIPs with IFA_F_NODAD unless `-nodad` is given.
        nodad: v.address.is_ipv6() && !v.options.iter().any(|o| o == "-nodad"),
    }
}

/// The `RouterConfig` and network settings of one `vrrp_instance`.
pub(crate) fn instance_config(
    config: &Config,
    i: &VrrpInstance,
) -> Result<InstanceConfig, VrrpConfigError> {
    let g = &config.global_defs;
    let vrid = Vrid::new(i.virtual_router_id).map_err(|_| VrrpConfigError::Vrid(i.name.clone()))?;
    let interface = i
        .interface
        .clone()
        .ok_or_else(|| VrrpConfigError::NoInterface(i.name.clone()))?;
    let ipv6 = i
        .virtual_ipaddress
        .first()
        .is_some_and(|v| v.address.is_ipv6());
    let version = if ipv6 || i.version == 3 {
        Version::V3
    } else {
        Version::V2
    };
    let centis = u16::try_from(i.advert_int.as_millis() / 10).unwrap_or(u16::MAX);
    let advert_interval = match version {
        Version::V3 => AdvertInterval::from_centis(centis),
        Version::V2 => AdvertInterval::from_secs(
            u8::try_from((i.advert_int.as_millis() + 500) / 1000).unwrap_or(u8::MAX),
        ),
    }
    .map_err(|_| VrrpConfigError::Interval(i.name.clone(), i.advert_int))?;
    let source = i.unicast_src_ip.or(i.mcast_src_ip).unwrap_or(if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    });
    let vips: Vec<VipConfig> = i.virtual_ipaddress.iter().map(vip_config).collect();
    let mut r = RouterConfig::new(vrid, source, vips.iter().map(|v| v.addr).collect());
    r.name = i.name.clone();
    r.version = version;
    r.priority = Priority(i.priority);
    r.advert_interval = advert_interval;
    r.initial_state = match i.state {
        VrrpState::Master => InitialState::Master,
        VrrpState::Backup => InitialState::Backup,
    };
    r.preempt = !i.nopreempt;
    r.preempt_delay = i.preempt_delay;
    r.accept = i.accept;
    r.auth = match &i.authentication {
        Some(a) if a.auth_type == AuthType::Pass && version == Version::V2 => {
            Auth::simple_password(a.auth_pass.as_bytes())
        }
        _ => Auth::None,
    };
    r.unicast_peers = i.unicast_peers.iter().map(|p| p.address).collect();
    r.check_unicast_src =
        g.vrrp_check_unicast_src || i.unicast_peers.iter().any(|p| p.min_ttl.is_some());
    r.down_timer_adverts = u8::try_from(g.vrrp_down_timer_adverts).unwrap_or(3);
    r.lower_prio_no_advert = i.lower_prio_no_advert;
    r.higher_prio_send_advert = i.higher_prio_send_advert;
    r.owner_ignore_adverts = g.vrrp_owner_ignore_adverts;
    r.skip_check_adv_addr = i.skip_check_adv_addr;
    r.strict_mode = i.strict_mode;
    r.track_primary_interface = !i.dont_track_primary;
    r.startup_delay = g.vrrp_startup_delay;
    r.garp = GarpConfig {
        master_delay: i.garp_master_delay,
        master_repeat: i.garp_master_repeat,
        master_refresh: i.garp_master_refresh,
        master_refresh_repeat: i.garp_master_refresh_repeat,
        lower_prio_delay: g.vrrp_garp_lower_prio_delay.unwrap_or(i.garp_master_delay),
        lower_prio_repeat: g
            .vrrp_garp_lower_prio_repeat
            .unwrap_or(i.garp_master_repeat),
    };
    let mut track_interfaces = Vec::new();
    for t in &i.track_interfaces {
        let mut tc = TrackerConfig::new(t.name.clone(), TrackerKind::Interface, t.weight);
        tc.reverse = t.reverse;
        r.trackers.push(tc);
        track_interfaces.push(t.name.clone());
    }
    for t in &i.track_scripts {
        let script = config.vrrp_scripts.iter().find(|s| s.name == t.name);
        let weight = t.weight.or(script.map(|s| s.weight)).unwrap_or(0);
        let mut tc = TrackerConfig::new(t.name.clone(), TrackerKind::Script, weight);
        tc.reverse = t.reverse || script.is_some_and(|s| s.weight_reverse);
        if script.is_some_and(|s| s.init_fail) {
            tc.initial = TrackerStatus::Down;
        }
        r.trackers.push(tc);
    }
    let checksum = if g.v3_checksum_as_v2 {
        ChecksumMode::MessageOnly
    } else {
        ChecksumMode::PseudoHeader
    };
    let mut ic = InstanceConfig::new(r, &interface, vips);
    ic.checksum = checksum;
    // keepalived with v3_checksum_as_v2 does not enforce received v3 IPv4 checksums.
    ic.rx_checksum = if g.v3_checksum_as_v2 {
        RxChecksum::AcceptAny
    } else {
        RxChecksum::Expect(ChecksumMode::PseudoHeader)
    };
    ic.unicast_ttl = i.unicast_ttl;
    ic.garp_interval = if ipv6 {
        g.vrrp_gna_interval
    } else {
        g.vrrp_garp_interval
    };
    ic.track_interfaces = track_interfaces;
    Ok(ic)
}

/// Every instance and sync group of the configuration. Instances that cannot run are
/// reported and left out.
pub(crate) fn driver_config(config: &Config) -> (DriverConfig, Vec<VrrpConfigError>) {
    let mut errors = Vec::new();
    let mut units = Vec::new();
    let mut grouped = std::collections::HashSet::new();
    for g in &config.vrrp_sync_groups {
        let mut members = Vec::new();
        for name in &g.group {
            match config.vrrp_instances.iter().find(|i| &i.name == name) {
                None => errors.push(VrrpConfigError::UnknownMember(g.name.clone(), name.clone())),
                Some(i) => match instance_config(config, i) {
                    Ok(ic) => {
                        grouped.insert(name.clone());
                        members.push(ic);
                    }
                    Err(e) => errors.push(e),
                },
            }
        }
        if !members.is_empty() {
            units.push(UnitConfig::SyncGroup {
                name: g.name.clone(),
                members,
            });
        }
    }
    for i in &config.vrrp_instances {
        if grouped.contains(&i.name) {
            continue;
        }
        match instance_config(config, i) {
            Ok(ic) => units.push(UnitConfig::Instance(Box::new(ic))),
            Err(e) => errors.push(e),
        }
    }
    // keepalived's `vrrp_rt_priority` (default here: 1, the lowest realtime priority, which
    // keepalived's own start-up notice recommends): a busy CPU must not delay adverts.
    let realtime_priority = config
        .global_defs
        .unsupported
        .iter()
        .find(|i| i.keyword == "vrrp_rt_priority")
        .and_then(|i| i.args.first())
        .and_then(|a| a.parse::<u8>().ok())
        .or(Some(1));
    (
        DriverConfig {
            units,
            realtime_priority,
        },
        errors,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Config {
        let p = kconf_parser::parse_str(text, &kconf_parser::Options::default());
        assert!(!p.has_errors(), "{}", p.render_diagnostics());
        p.config
    }

    #[test]
    fn nginx_style_instance_converts() {
        let c = parse(
            "global_defs { v3_checksum_as_v2 }\n\
             vrrp_script chk {\n script \"/bin/true\"\n weight -20\n}\n\
             vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n\
             version 3\n advert_int 0.1\n nopreempt\n\
             virtual_ipaddress { 192.0.2.100/24 brd + dev eth1 label eth1:vip }\n\
             track_script { chk }\n}\n",
        );
        let (d, errors) = driver_config(&c);
        assert!(errors.is_empty(), "{errors:?}");
        let [UnitConfig::Instance(ic)] = d.units.as_slice() else {
            panic!("{d:?}")
        };
        assert_eq!(ic.interface, "eth0");
        assert_eq!(ic.router.version, Version::V3);
        assert_eq!(ic.router.advert_interval.centis(), 10);
        assert_eq!(ic.router.priority, Priority(150));
        assert!(!ic.router.preempt);
        assert_eq!(ic.checksum, ChecksumMode::MessageOnly);
        assert_eq!(ic.router.trackers.len(), 1);
        assert_eq!(ic.router.trackers[0].weight, -20);
        let v = &ic.vips[0];
        assert_eq!(v.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(v.dev.as_deref(), Some("eth1"));
        assert_eq!(v.label.as_deref(), Some("eth1:vip"));
        assert!(ic.router.primary_address.is_unspecified());
    }

    #[test]
    fn sync_groups_group_their_members() {
        let c = parse(
            "vrrp_sync_group G { group { A B } }\n\
             vrrp_instance A { interface eth0\n virtual_router_id 1\n virtual_ipaddress { 192.0.2.1 } }\n\
             vrrp_instance B { interface eth1\n virtual_router_id 2\n virtual_ipaddress { 198.51.100.1 } }\n\
             vrrp_instance C { interface eth1\n virtual_router_id 3\n virtual_ipaddress { 203.0.113.1 } }\n",
        );
        let (d, errors) = driver_config(&c);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(d.units.len(), 2);
        assert!(matches!(&d.units[0], UnitConfig::SyncGroup { members, .. } if members.len() == 2));
        assert!(matches!(&d.units[1], UnitConfig::Instance(i) if i.router.name == "C"));
    }
}
