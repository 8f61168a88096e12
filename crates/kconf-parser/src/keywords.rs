//! Keyword tables per block: what we act on, and what we accept but do not support yet. They
//! drive "did you mean" suggestions and the "accepted, not supported yet" notes.

/// Top-level blocks we act on.
pub(crate) const TOP: &[&str] = &[
    "global_defs",
    "vrrp_script",
    "track_file",
    "vrrp_track_file",
    "vrrp_track_process",
    "vrrp_sync_group",
    "vrrp_instance",
    "virtual_server_group",
    "virtual_server",
    "SSL",
];

/// Top-level keywords accepted but not supported yet.
pub(crate) const TOP_UNSUPPORTED: &[&str] = &[
    "net_namespace",
    "net_namespace_ipvs",
    "namespace_with_ipsets",
    "instance",
    "use_pid_dir",
    "linkbeat_use_polling",
    "child_wait_time",
    "linkbeat_interfaces",
    "interface_up_down_delays",
    "track_group",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "garp_group",
    "bfd_instance",
];

/// `global_defs` keywords we act on.
pub(crate) const GLOBAL: &[&str] = &[
    "router_id",
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
    "smtp_helo_name",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "vrrp_skip_check_adv_addr",
    "vrrp_strict",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_min_garp",
    "vrrp_version",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_check_unicast_src",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_owner_ignore_adverts",
    "vrrp_down_timer_adverts",
    "v3_checksum_as_v2",
    "vrrp_startup_delay",
    "lvs_sync_daemon",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_on_stop",
    "lvs_flush_onstop",
    "script_user",
    "enable_script_security",
    "dynamic_interfaces",
    "default_interface",
    "random_seed",
    "vmac_prefix",
    "vmac_addr_prefix",
    "include_check",
];

/// `global_defs` keywords kept as raw items (in `unsupported`) that hagroupd nevertheless acts
/// on, so no "not supported" note is given for them.
pub(crate) const GLOBAL_RAW_ACTED_ON: &[&str] =
    &["notify_fifo", "vrrp_notify_fifo", "vrrp_rt_priority"];

/// `global_defs` keywords accepted but not supported yet.
pub(crate) const GLOBAL_UNSUPPORTED: &[&str] = &[
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "nftables",
    "nftables_priority",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "vrrp_iptables",
    "vrrp_ipsets",
    "notify_fifo",
    "notify_fifo_script",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "fifo_write_vrrp_states_on_reload",
    "vrrp_notify_priority_changes",
    "vrrp_delay_after_boot",
    "max_auto_priority",
    "min_auto_priority_delay",
    "vrrp_priority",
    "checker_priority",
    "bfd_priority",
    "vrrp_rt_priority",
    "checker_rt_priority",
    "bfd_rt_priority",
    "vrrp_no_swap",
    "checker_no_swap",
    "bfd_no_swap",
    "vrrp_cpu_affinity",
    "checker_cpu_affinity",
    "bfd_cpu_affinity",
    "vrrp_rlimit_rttime",
    "checker_rlimit_rttime",
    "bfd_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "checker_rlimit_rtime",
    "bfd_rlimit_rtime",
    "enable_snmp_vrrp",
    "enable_snmp_checker",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_keepalived",
    "enable_traps",
    "snmp_socket",
    "snmp_vs_stats_update_interval",
    "snmp_rs_stats_update_interval",
    "enable_dbus",
    "dbus_service_name",
    "dbus_no_interface_name",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "config_save_dir",
    "tmp_config_directory",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "bfd_process_name",
    "lvs_process_name",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "use_symlink_paths",
    "set_supplementary_groups",
    "umask",
    "data_use_instance",
    "state_dump_file",
    "stats_dump_file",
    "json_dump_file",
    "json_version",
    "disable_local_igmp",
    "log_unknown_vrids",
    "rs_init_notifies",
    "checker_log_all_failures",
    "linkbeat_use_polling",
    "iproute_usr_dir",
    "iproute_etc_dir",
];

/// `vrrp_instance` keywords we act on.
pub(crate) const INSTANCE: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "authentication",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "virtual_routes",
    "virtual_rules",
    "nopreempt",
    "preempt",
    "preempt_delay",
    "unicast_src_ip",
    "mcast_src_ip",
    "unicast_peer",
    "unicast_ttl",
    "track_interface",
    "track_script",
    "track_file",
    "track_process",
    "dont_track_primary",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify_deleted",
    "notify_master_rx_lower_pri",
    "notify",
    "smtp_alert",
    "notify_priority_changes",
    "garp_master_delay",
    "garp_master_repeat",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
    "use_vmac",
    "accept",
    "no_accept",
    "strict_mode",
    "skip_check_adv_addr",
    "lower_prio_no_advert",
    "higher_prio_send_advert",
    "promote_secondaries",
];

/// `vrrp_instance` keywords accepted but not supported yet.
pub(crate) const INSTANCE_UNSUPPORTED: &[&str] = &[
    "auth_hmac",
    "no_virtual_ipaddress",
    "unicast_fault_no_peer",
    "check_unicast_src",
    "old_unicast_checksum",
    "mcast_dst_ip",
    "track_src_ip",
    "vrf",
    "track_bfd",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "garp_extra_if",
    "vmac_garp_intvl",
    "use_vmac_addr",
    "vmac_xmit_base",
    "use_ipvlan",
    "owner_ignore_adverts",
    "down_timer_adverts",
    "timer_expired_backup",
    "thread_timer_expired",
    "kernel_rx_buf_size",
    "native_ipv6",
    "linkbeat_use_polling",
    "lvs_sync_daemon_interface",
    "debug",
];

/// `authentication` keywords.
pub(crate) const AUTH: &[&str] = &["auth_type", "auth_pass"];

/// `vrrp_script` keywords.
pub(crate) const VRRP_SCRIPT: &[&str] = &[
    "script",
    "interval",
    "timeout",
    "weight",
    "rise",
    "fall",
    "user",
    "init_fail",
];

/// `track_file` keywords.
pub(crate) const TRACK_FILE: &[&str] = &["file", "weight", "init_file"];

/// `vrrp_track_process` keywords.
pub(crate) const TRACK_PROCESS: &[&str] = &[
    "process",
    "param_match",
    "weight",
    "quorum",
    "quorum_max",
    "fork_delay",
    "terminate_delay",
    "delay",
    "full_command",
];

/// `vrrp_sync_group` keywords we act on.
pub(crate) const SYNC_GROUP: &[&str] = &[
    "group",
    "track_interface",
    "track_script",
    "track_file",
    "track_process",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
    "smtp_alert",
    "notify_priority_changes",
    "sync_group_tracking_weight",
];

/// `vrrp_sync_group` keywords accepted but not supported yet.
pub(crate) const SYNC_GROUP_UNSUPPORTED: &[&str] = &["global_tracking", "track_bfd"];

/// Keywords inherited virtual server → real server → checker.
pub(crate) const INHERITED: &[&str] = &[
    "connect_timeout",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "virtualhost",
];

/// `virtual_server` keywords (besides [`INHERITED`]).
pub(crate) const VS: &[&str] = &[
    "lvs_sched",
    "lb_algo",
    "lvs_method",
    "lb_kind",
    "protocol",
    "persistence_timeout",
    "persistence_granularity",
    "persistence_engine",
    "hashed",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
    "ops",
    "inhibit_on_failure",
    "omega",
    "quorum",
    "hysteresis",
    "quorum_up",
    "quorum_down",
    "sorry_server",
    "sorry_server_inhibit",
    "sorry_server_lvs_method",
    "ha_suspend",
    "weight",
    "ip_family",
    "smtp_alert",
    "real_server",
];

/// `virtual_server` keywords accepted but not supported yet.
pub(crate) const VS_UNSUPPORTED: &[&str] = &["snmp_name"];

/// `real_server` keywords (besides [`INHERITED`] and checkers).
pub(crate) const RS: &[&str] = &[
    "weight",
    "lvs_method",
    "inhibit_on_failure",
    "notify_up",
    "notify_down",
    "uthreshold",
    "lthreshold",
    "smtp_alert",
];

/// `real_server` keywords accepted but not supported yet.
pub(crate) const RS_UNSUPPORTED: &[&str] = &["snmp_name"];

/// `CHECKERS.contains(&k)` as one `match` (checked against the table in a test).
pub(crate) fn is_checker(k: &str) -> bool {
    matches!(
        k,
        "TCP_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "MISC_CHECK"
            | "SMTP_CHECK"
            | "DNS_CHECK"
            | "UDP_CHECK"
            | "PING_CHECK"
            | "FILE_CHECK"
            | "BFD_CHECK"
    )
}

/// Checker blocks.
pub(crate) const CHECKERS: &[&str] = &[
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "MISC_CHECK",
    "SMTP_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
    "BFD_CHECK",
];

/// Keywords common to checkers with a connection.
pub(crate) const CHECK_COMMON: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "bind_port",
    "bind_if",
    "fwmark",
    "connect_timeout",
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];

/// Timing keywords common to every checker but FILE/BFD.
pub(crate) const CHECK_TIMING: &[&str] = &[
    "retry",
    "delay_before_retry",
    "warmup",
    "delay_loop",
    "alpha",
    "log_all_failures",
];

/// `HTTP_GET`/`SSL_GET` keywords.
pub(crate) const HTTP: &[&str] = &[
    "url",
    "http_protocol",
    "virtualhost",
    "fast_recovery",
    "enable_sni",
    "sni_name",
    "tls_compliant",
    "nb_get_retry",
];

/// `url` keywords.
pub(crate) const URL: &[&str] = &[
    "path",
    "digest",
    "status_code",
    "virtualhost",
    "regex",
    "regex_no_match",
];

/// `url` keywords accepted but not supported yet.
pub(crate) const URL_UNSUPPORTED: &[&str] = &[
    "regex_options",
    "regex_min_offset",
    "regex_max_offset",
    "regex_stack",
    "tls_compliant",
];

/// `MISC_CHECK` keywords.
pub(crate) const MISC: &[&str] = &["misc_path", "misc_timeout", "misc_dynamic", "user"];

/// `SMTP_CHECK` keywords.
pub(crate) const SMTP: &[&str] = &["helo_name", "host"];

/// `DNS_CHECK` keywords.
pub(crate) const DNS: &[&str] = &["type", "name"];

/// `UDP_CHECK` keywords.
pub(crate) const UDP: &[&str] = &[
    "payload",
    "require_reply",
    "min_reply_length",
    "max_reply_length",
];

/// `FILE_CHECK` keywords.
pub(crate) const FILE_CHECK: &[&str] = &["track_file", "weight"];

/// `BFD_CHECK` keywords.
pub(crate) const BFD_CHECK: &[&str] = &["name", "alpha"];

/// `SSL` keywords.
pub(crate) const SSL: &[&str] = &["password", "ca", "certificate", "key"];

#[cfg(test)]
mod tests {
    #[test]
    fn is_checker_matches_the_table() {
        for k in super::CHECKERS {
            assert!(super::is_checker(k), "{k}");
        }
        for k in [
            "",
            "TCP",
            "tcp_check",
            "TCP_CHECKX",
            "real_server",
            "weight",
        ] {
            assert!(!super::is_checker(k), "{k}");
        }
    }
}
