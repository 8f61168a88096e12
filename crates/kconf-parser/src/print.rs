//! The model printed back to keepalived syntax (`--dump-config --format keepalived`).
//!
//! Every resolved value is written explicitly, so the output parses back to the same model
//! (a property test checks this) and shows what keepalived's defaults turned into.

use crate::model::*;
use std::fmt::Write as _;
use std::time::Duration;

/// Prints a whole configuration.
pub fn print_config(c: &Config) -> String {
    let mut p = Printer {
        out: String::new(),
        depth: 0,
    };
    p.global_defs(&c.global_defs);
    for s in &c.vrrp_scripts {
        p.vrrp_script(s);
    }
    for t in &c.track_files {
        p.track_file(t);
    }
    for t in &c.track_processes {
        p.track_process(t);
    }
    for i in &c.vrrp_instances {
        p.instance(i);
    }
    for g in &c.vrrp_sync_groups {
        p.sync_group(g);
    }
    for g in &c.virtual_server_groups {
        p.open(&format!("virtual_server_group {}", word(&g.name)));
        for e in &g.entries {
            match e {
                VsgEntry::Range { start, end, port } => {
                    let mut l = if start == end {
                        start.to_string()
                    } else {
                        format!("{start}-{end}")
                    };
                    if let Some(port) = port {
                        let _ = write!(l, " {port}");
                    }
                    p.line(&l);
                }
                VsgEntry::Fwmark { mark, family } => {
                    let fam = match family {
                        Some(IpFamily::Inet) => " inet",
                        Some(IpFamily::Inet6) => " inet6",
                        None => "",
                    };
                    p.line(&format!("fwmark {mark}{fam}"));
                }
            }
        }
        p.close();
    }
    for v in &c.virtual_servers {
        p.virtual_server(v);
    }
    if let Some(s) = &c.ssl {
        p.open("SSL");
        p.opt("password", s.password.as_deref());
        p.opt("ca", s.ca.as_deref());
        p.opt("certificate", s.certificate.as_deref());
        p.opt("key", s.key.as_deref());
        p.close();
    }
    for r in &c.unsupported {
        p.raw(r);
    }
    p.out
}

/// Formats a duration as keepalived timer seconds (`1`, `0.5`, `1.000001`).
pub fn fmt_duration(d: Duration) -> String {
    let us = d.subsec_micros();
    if us == 0 {
        d.as_secs().to_string()
    } else {
        let frac = format!("{us:06}");
        format!("{}.{}", d.as_secs(), frac.trim_end_matches('0'))
    }
}

/// Quotes a word when it would not survive tokenising as one word.
fn word(s: &str) -> String {
    let needs = s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || matches!(c, '#' | '!' | '{' | '}' | '\'' | '"'))
        || s.starts_with(['$', '@', '~']);
    if needs && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        s.to_owned()
    }
}

fn onoff(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

struct Printer {
    out: String,
    depth: usize,
}

impl Printer {
    fn line(&mut self, s: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(s);
        self.out.push('\n');
    }

    fn open(&mut self, s: &str) {
        self.line(&format!("{s} {{"));
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
        if self.depth == 0 {
            self.out.push('\n');
        }
    }

    fn kv(&mut self, k: &str, v: impl std::fmt::Display) {
        self.line(&format!("{k} {v}"));
    }

    fn opt(&mut self, k: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.line(&format!("{k} {}", word(v)));
        }
    }

    fn dur(&mut self, k: &str, d: Duration) {
        self.kv(k, fmt_duration(d));
    }

    fn opt_dur(&mut self, k: &str, d: Option<Duration>) {
        if let Some(d) = d {
            self.dur(k, d);
        }
    }

    fn flag(&mut self, k: &str, b: bool) {
        if b {
            self.line(k);
        }
    }

    fn opt_bool(&mut self, k: &str, b: Option<bool>) {
        if let Some(b) = b {
            self.kv(k, onoff(b));
        }
    }

    fn script(&mut self, k: &str, s: Option<&Script>) {
        let Some(s) = s else { return };
        let cmd = if s.command.contains('"') {
            format!("'{}'", s.command)
        } else {
            format!("\"{}\"", s.command)
        };
        let mut l = format!("{k} {cmd}");
        if let Some(u) = &s.user {
            let _ = write!(l, " {}", word(u));
            if let Some(g) = &s.group {
                let _ = write!(l, " {}", word(g));
            }
        }
        self.line(&l);
    }

    fn user(&mut self, k: &str, u: Option<&ScriptUser>) {
        let Some(u) = u else { return };
        let mut l = format!("{k} {}", word(&u.user));
        if let Some(g) = &u.group {
            let _ = write!(
                l,
                " {}{}",
                if u.supplementary_groups { ":" } else { "" },
                word(g)
            );
        }
        self.line(&l);
    }

    fn raw(&mut self, r: &RawItem) {
        let mut l = r.keyword.clone();
        for a in &r.args {
            l.push(' ');
            l.push_str(&word(a));
        }
        match &r.block {
            Some(b) => {
                self.open(&l);
                for c in b {
                    self.raw(c);
                }
                self.close();
            }
            None => self.line(&l),
        }
    }

    fn global_defs(&mut self, g: &GlobalDefs) {
        self.open("global_defs");
        self.opt("router_id", g.router_id.as_deref());
        if !g.notification_email.is_empty() {
            self.open("notification_email");
            for e in &g.notification_email {
                self.line(&word(e));
            }
            self.close();
        }
        self.opt(
            "notification_email_from",
            g.notification_email_from.as_deref(),
        );
        if let Some(s) = &g.smtp_server {
            self.line(&format!("smtp_server {} {}", word(&s.host), s.port));
        }
        self.kv("smtp_connect_timeout", g.smtp_connect_timeout.as_secs());
        self.opt("smtp_helo_name", g.smtp_helo_name.as_deref());
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.opt_bool("smtp_alert_vrrp", g.smtp_alert_vrrp);
        self.opt_bool("smtp_alert_checker", g.smtp_alert_checker);
        self.flag("vrrp_skip_check_adv_addr", g.vrrp_skip_check_adv_addr);
        self.flag("vrrp_strict", g.vrrp_strict);
        if !g.vrrp_garp_interval.is_zero() {
            self.dur("vrrp_garp_interval", g.vrrp_garp_interval);
        }
        if !g.vrrp_gna_interval.is_zero() {
            self.dur("vrrp_gna_interval", g.vrrp_gna_interval);
        }
        self.dur("vrrp_garp_master_delay", g.vrrp_garp_master_delay);
        self.kv("vrrp_garp_master_repeat", g.vrrp_garp_master_repeat);
        self.dur("vrrp_garp_master_refresh", g.vrrp_garp_master_refresh);
        self.kv(
            "vrrp_garp_master_refresh_repeat",
            g.vrrp_garp_master_refresh_repeat,
        );
        self.opt_dur("vrrp_garp_lower_prio_delay", g.vrrp_garp_lower_prio_delay);
        if let Some(r) = g.vrrp_garp_lower_prio_repeat {
            self.kv("vrrp_garp_lower_prio_repeat", r);
        }
        self.flag("vrrp_min_garp", g.vrrp_min_garp);
        self.kv("vrrp_version", g.vrrp_version);
        self.kv("vrrp_mcast_group4", g.vrrp_mcast_group4);
        self.kv("vrrp_mcast_group6", g.vrrp_mcast_group6);
        self.flag("vrrp_check_unicast_src", g.vrrp_check_unicast_src);
        self.flag("vrrp_lower_prio_no_advert", g.vrrp_lower_prio_no_advert);
        self.flag(
            "vrrp_higher_prio_send_advert",
            g.vrrp_higher_prio_send_advert,
        );
        self.flag("vrrp_owner_ignore_adverts", g.vrrp_owner_ignore_adverts);
        self.kv("vrrp_down_timer_adverts", g.vrrp_down_timer_adverts);
        self.flag("v3_checksum_as_v2", g.v3_checksum_as_v2);
        if !g.vrrp_startup_delay.is_zero() {
            self.dur("vrrp_startup_delay", g.vrrp_startup_delay);
        }
        if let Some(d) = &g.lvs_sync_daemon {
            let mut l = format!("lvs_sync_daemon {}", word(&d.interface));
            if let Some(i) = &d.instance {
                let _ = write!(l, " inst {}", word(i));
            }
            if let Some(v) = d.id {
                let _ = write!(l, " id {v}");
            }
            if let Some(v) = d.maxlen {
                let _ = write!(l, " maxlen {v}");
            }
            if let Some(v) = d.port {
                let _ = write!(l, " port {v}");
            }
            if let Some(v) = d.ttl {
                let _ = write!(l, " ttl {v}");
            }
            if let Some(v) = d.group {
                let _ = write!(l, " group {v}");
            }
            self.line(&l);
        }
        let t = &g.lvs_timeouts;
        if t.tcp.is_some() || t.tcpfin.is_some() || t.udp.is_some() {
            let mut l = "lvs_timeouts".to_owned();
            for (k, v) in [("tcp", t.tcp), ("tcpfin", t.tcpfin), ("udp", t.udp)] {
                if let Some(v) = v {
                    let _ = write!(l, " {k} {}", fmt_duration(v));
                }
            }
            self.line(&l);
        }
        self.flag("lvs_flush", g.lvs_flush);
        self.flag("lvs_flush_on_stop", g.lvs_flush_on_stop);
        self.user("script_user", g.script_user.as_ref());
        self.flag("enable_script_security", g.enable_script_security);
        self.flag("dynamic_interfaces", g.dynamic_interfaces);
        self.opt("default_interface", g.default_interface.as_deref());
        if let Some(s) = g.random_seed {
            self.kv("random_seed", s);
        }
        self.opt("vmac_prefix", g.vmac_prefix.as_deref());
        for r in &g.unsupported {
            self.raw(r);
        }
        self.close();
    }

    fn vrrp_script(&mut self, s: &VrrpScript) {
        self.open(&format!("vrrp_script {}", word(&s.name)));
        self.script("script", s.script.as_ref());
        self.dur("interval", s.interval);
        self.dur("timeout", s.timeout);
        self.line(&format!(
            "weight {}{}",
            s.weight,
            if s.weight_reverse { " reverse" } else { "" }
        ));
        self.kv("rise", s.rise);
        self.kv("fall", s.fall);
        self.user("user", s.user.as_ref());
        self.flag("init_fail", s.init_fail);
        self.close();
    }

    fn track_file(&mut self, t: &TrackFile) {
        self.open(&format!("track_file {}", word(&t.name)));
        self.opt("file", t.file.as_deref());
        self.line(&format!(
            "weight {}{}",
            t.weight,
            if t.reverse { " reverse" } else { "" }
        ));
        if let Some(i) = &t.init_file {
            self.line(&format!(
                "init_file {}{}",
                i.value,
                if i.overwrite { " overwrite" } else { "" }
            ));
        }
        self.close();
    }

    fn track_process(&mut self, t: &TrackProcess) {
        self.open(&format!("vrrp_track_process {}", word(&t.name)));
        let p: Vec<String> = t.process.iter().map(|w| word(w)).collect();
        self.line(&format!("process {}", p.join(" ")));
        self.opt("param_match", t.param_match.as_deref());
        self.line(&format!(
            "weight {}{}",
            t.weight,
            if t.reverse { " reverse" } else { "" }
        ));
        self.kv("quorum", t.quorum);
        if let Some(q) = t.quorum_max {
            self.kv("quorum_max", q);
        }
        self.opt_dur("fork_delay", t.fork_delay);
        self.opt_dur("terminate_delay", t.terminate_delay);
        self.flag("full_command", t.full_command);
        self.close();
    }

    fn track_lists(
        &mut self,
        ifs: &[TrackInterface],
        scripts: &[TrackRef],
        files: &[TrackRef],
        procs: &[TrackRef],
    ) {
        if !ifs.is_empty() {
            self.open("track_interface");
            for t in ifs {
                self.line(&format!(
                    "{} weight {}{}",
                    word(&t.name),
                    t.weight,
                    if t.reverse { " reverse" } else { "" }
                ));
            }
            self.close();
        }
        for (k, list) in [
            ("track_script", scripts),
            ("track_file", files),
            ("track_process", procs),
        ] {
            if list.is_empty() {
                continue;
            }
            self.open(k);
            for t in list {
                let mut l = word(&t.name);
                if let Some(w) = t.weight {
                    let _ = write!(l, " weight {w}{}", if t.reverse { " reverse" } else { "" });
                }
                self.line(&l);
            }
            self.close();
        }
    }

    fn vips(&mut self, k: &str, list: &[VirtualIp]) {
        if list.is_empty() {
            return;
        }
        self.open(k);
        for v in list {
            let mut l = format!("{}/{}", v.address, v.prefix_len);
            for (k, o) in [
                ("brd", &v.brd),
                ("dev", &v.dev),
                ("scope", &v.scope),
                ("label", &v.label),
            ] {
                if let Some(o) = o {
                    let _ = write!(l, " {k} {}", word(o));
                }
            }
            if let Some(p) = v.peer {
                let _ = write!(l, " peer {p}");
            }
            if v.no_track {
                l.push_str(" no_track");
            }
            for o in &v.options {
                let _ = write!(l, " {}", word(o));
            }
            self.line(&l);
        }
        self.close();
    }

    fn instance(&mut self, i: &VrrpInstance) {
        self.open(&format!("vrrp_instance {}", word(&i.name)));
        self.line(match i.state {
            VrrpState::Master => "state MASTER",
            VrrpState::Backup => "state BACKUP",
        });
        self.opt("interface", i.interface.as_deref());
        self.kv("virtual_router_id", i.virtual_router_id);
        self.kv("priority", i.priority);
        self.dur("advert_int", i.advert_int);
        self.kv("version", i.version);
        if let Some(a) = &i.authentication {
            self.open("authentication");
            self.line(match a.auth_type {
                AuthType::Pass => "auth_type PASS",
                AuthType::Ah => "auth_type AH",
            });
            if !a.auth_pass.is_empty() {
                self.kv("auth_pass", word(&a.auth_pass));
            }
            self.close();
        }
        self.vips("virtual_ipaddress", &i.virtual_ipaddress);
        self.vips("virtual_ipaddress_excluded", &i.virtual_ipaddress_excluded);
        for (k, lines) in [
            ("virtual_routes", &i.virtual_routes),
            ("virtual_rules", &i.virtual_rules),
        ] {
            if !lines.is_empty() {
                self.open(k);
                for l in lines {
                    self.line(l);
                }
                self.close();
            }
        }
        self.flag("nopreempt", i.nopreempt);
        if !i.preempt_delay.is_zero() {
            self.dur("preempt_delay", i.preempt_delay);
        }
        if let Some(a) = i.unicast_src_ip {
            self.kv("unicast_src_ip", a);
        }
        if let Some(a) = i.mcast_src_ip {
            self.kv("mcast_src_ip", a);
        }
        if !i.unicast_peers.is_empty() {
            self.open("unicast_peer");
            for p in &i.unicast_peers {
                let mut l = p.address.to_string();
                if let Some(t) = p.min_ttl {
                    let _ = write!(l, " min_ttl {t}");
                }
                if let Some(t) = p.max_ttl {
                    let _ = write!(l, " max_ttl {t}");
                }
                self.line(&l);
            }
            self.close();
        }
        if !i.unicast_peers.is_empty() {
            self.kv("unicast_ttl", i.unicast_ttl);
        }
        self.track_lists(
            &i.track_interfaces,
            &i.track_scripts,
            &i.track_files,
            &i.track_processes,
        );
        self.flag("dont_track_primary", i.dont_track_primary);
        self.script("notify_master", i.notify_master.as_ref());
        self.script("notify_backup", i.notify_backup.as_ref());
        self.script("notify_fault", i.notify_fault.as_ref());
        self.script("notify_stop", i.notify_stop.as_ref());
        self.script("notify_deleted", i.notify_deleted.as_ref());
        self.script(
            "notify_master_rx_lower_pri",
            i.notify_master_rx_lower_pri.as_ref(),
        );
        self.script("notify", i.notify.as_ref());
        self.opt_bool("smtp_alert", i.smtp_alert);
        self.opt_bool("notify_priority_changes", i.notify_priority_changes);
        self.dur("garp_master_delay", i.garp_master_delay);
        self.kv("garp_master_repeat", i.garp_master_repeat);
        self.dur("garp_master_refresh", i.garp_master_refresh);
        self.kv("garp_master_refresh_repeat", i.garp_master_refresh_repeat);
        match i.use_vmac.as_deref() {
            Some("") => self.line("use_vmac"),
            Some(n) => self.kv("use_vmac", word(n)),
            None => {}
        }
        self.line(if i.accept { "accept" } else { "no_accept" });
        self.kv("strict_mode", onoff(i.strict_mode));
        self.kv("skip_check_adv_addr", onoff(i.skip_check_adv_addr));
        self.kv("lower_prio_no_advert", onoff(i.lower_prio_no_advert));
        self.kv("higher_prio_send_advert", onoff(i.higher_prio_send_advert));
        self.flag("promote_secondaries", i.promote_secondaries);
        for r in &i.unsupported {
            self.raw(r);
        }
        self.close();
    }

    fn sync_group(&mut self, g: &VrrpSyncGroup) {
        self.open(&format!("vrrp_sync_group {}", word(&g.name)));
        self.open("group");
        for m in &g.group {
            self.line(&word(m));
        }
        self.close();
        self.track_lists(
            &g.track_interfaces,
            &g.track_scripts,
            &g.track_files,
            &g.track_processes,
        );
        self.script("notify_master", g.notify_master.as_ref());
        self.script("notify_backup", g.notify_backup.as_ref());
        self.script("notify_fault", g.notify_fault.as_ref());
        self.script("notify_stop", g.notify_stop.as_ref());
        self.script("notify", g.notify.as_ref());
        self.opt_bool("smtp_alert", g.smtp_alert);
        self.opt_bool("notify_priority_changes", g.notify_priority_changes);
        self.flag("sync_group_tracking_weight", g.sync_group_tracking_weight);
        for r in &g.unsupported {
            self.raw(r);
        }
        self.close();
    }

    fn method(m: LvsMethod, t: Option<&TunnelOptions>) -> String {
        let mut l = m.as_str().to_owned();
        if let Some(t) = t {
            let _ = write!(l, " type {}", word(&t.tunnel_type));
            if let Some(p) = t.port {
                let _ = write!(l, " port {p}");
            }
            if let Some(c) = &t.checksum {
                let _ = write!(l, " {c}");
            }
        }
        l
    }

    fn virtual_server(&mut self, v: &VirtualServer) {
        let head = match &v.target {
            VsTarget::Address {
                address,
                port: Some(p),
            } => format!("virtual_server {address} {p}"),
            VsTarget::Address {
                address,
                port: None,
            } => format!("virtual_server {address}"),
            VsTarget::Fwmark { mark } => format!("virtual_server fwmark {mark}"),
            VsTarget::Group { name } => format!("virtual_server group {}", word(name)),
        };
        self.open(&head);
        match v.ip_family {
            Some(IpFamily::Inet) => self.line("ip_family inet"),
            Some(IpFamily::Inet6) => self.line("ip_family inet6"),
            None => {}
        }
        self.kv("lvs_sched", v.lvs_sched.as_str());
        self.kv("lvs_method", Self::method(v.lvs_method, v.tunnel.as_ref()));
        if !matches!(v.target, VsTarget::Fwmark { .. }) {
            self.kv("protocol", v.protocol.as_str());
        }
        if let Some(t) = v.persistence_timeout {
            self.kv("persistence_timeout", t.as_secs());
        }
        self.opt(
            "persistence_granularity",
            v.persistence_granularity.as_deref(),
        );
        self.opt("persistence_engine", v.persistence_engine.as_deref());
        let f = &v.flags;
        for (k, b) in [
            ("hashed", f.hashed),
            ("flag-1", f.flag_1),
            ("flag-2", f.flag_2),
            ("flag-3", f.flag_3),
            ("sh-port", f.sh_port),
            ("sh-fallback", f.sh_fallback),
            ("mh-port", f.mh_port),
            ("mh-fallback", f.mh_fallback),
            ("ops", f.ops),
        ] {
            self.flag(k, b);
        }
        self.dur("delay_loop", v.delay_loop);
        self.opt_dur("connect_timeout", v.connect_timeout);
        if let Some(r) = v.retry {
            self.kv("retry", r);
        }
        self.opt_dur("delay_before_retry", v.delay_before_retry);
        self.opt_dur("warmup", v.warmup);
        self.flag("inhibit_on_failure", v.inhibit_on_failure);
        self.flag("alpha", v.alpha);
        self.flag("omega", v.omega);
        self.kv("quorum", v.quorum);
        self.kv("hysteresis", v.hysteresis);
        self.script("quorum_up", v.quorum_up.as_ref());
        self.script("quorum_down", v.quorum_down.as_ref());
        if let Some(s) = &v.sorry_server {
            match s.port {
                Some(p) => self.line(&format!("sorry_server {} {p}", s.address)),
                None => self.kv("sorry_server", s.address),
            }
        }
        self.flag("sorry_server_inhibit", v.sorry_server_inhibit);
        if let Some(m) = v.sorry_server_lvs_method {
            self.kv("sorry_server_lvs_method", m.as_str());
        }
        self.flag("ha_suspend", v.ha_suspend);
        self.opt("virtualhost", v.virtualhost.as_deref());
        self.kv("weight", v.weight);
        self.opt_bool("smtp_alert", v.smtp_alert);
        for r in &v.unsupported {
            self.raw(r);
        }
        for rs in &v.real_servers {
            self.real_server(rs);
        }
        self.close();
    }

    fn real_server(&mut self, rs: &RealServer) {
        match rs.port {
            Some(p) => self.open(&format!("real_server {} {p}", rs.address)),
            None => self.open(&format!("real_server {}", rs.address)),
        }
        self.kv("weight", rs.weight);
        self.kv("lvs_method", rs.lvs_method.as_str());
        self.kv("inhibit_on_failure", onoff(rs.inhibit_on_failure));
        self.script("notify_up", rs.notify_up.as_ref());
        self.script("notify_down", rs.notify_down.as_ref());
        if let Some(u) = rs.uthreshold {
            self.kv("uthreshold", u);
        }
        if let Some(l) = rs.lthreshold {
            self.kv("lthreshold", l);
        }
        self.opt_bool("smtp_alert", rs.smtp_alert);
        for r in &rs.unsupported {
            self.raw(r);
        }
        for c in &rs.checkers {
            self.checker(c);
        }
        self.close();
    }

    fn checker(&mut self, c: &Checker) {
        self.open(c.kind.keyword());
        let connect = !matches!(
            c.kind,
            CheckerKind::Misc(_) | CheckerKind::File(_) | CheckerKind::Bfd(_)
        );
        let timing = !matches!(c.kind, CheckerKind::File(_) | CheckerKind::Bfd(_));
        if connect {
            if let Some(a) = c.connect_ip {
                self.kv("connect_ip", a);
            }
            if let Some(p) = c.connect_port {
                self.kv("connect_port", p);
            }
            if let Some(a) = c.bindto {
                self.kv("bindto", a);
            }
            if let Some(p) = c.bind_port {
                self.kv("bind_port", p);
            }
            self.opt("bind_if", c.bind_if.as_deref());
            if let Some(m) = c.fwmark {
                self.kv("fwmark", m);
            }
            self.dur("connect_timeout", c.connect_timeout);
        }
        if timing {
            self.kv("retry", c.retry);
            self.dur("delay_before_retry", c.delay_before_retry);
            self.dur("warmup", c.warmup);
            self.dur("delay_loop", c.delay_loop);
            self.kv("alpha", onoff(c.alpha));
            self.flag("log_all_failures", c.log_all_failures);
        }
        match &c.kind {
            CheckerKind::Tcp | CheckerKind::Ping => {}
            CheckerKind::Http(h) | CheckerKind::Ssl(h) => {
                for u in &h.urls {
                    self.open("url");
                    self.kv("path", word(&u.path));
                    self.opt("digest", u.digest.as_deref());
                    if !u.status_codes.is_empty() {
                        let codes: Vec<String> = u
                            .status_codes
                            .iter()
                            .map(|r| {
                                if r.min == r.max {
                                    r.min.to_string()
                                } else {
                                    format!("{}-{}", r.min, r.max)
                                }
                            })
                            .collect();
                        self.kv("status_code", codes.join(" "));
                    }
                    self.opt("virtualhost", u.virtualhost.as_deref());
                    self.opt("regex", u.regex.as_deref());
                    self.flag("regex_no_match", u.regex_no_match);
                    self.close();
                }
                self.kv("http_protocol", &h.http_protocol);
                self.opt("virtualhost", h.virtualhost.as_deref());
                self.kv("fast_recovery", onoff(h.fast_recovery));
                self.kv("enable_sni", onoff(h.enable_sni));
                self.opt("sni_name", h.sni_name.as_deref());
                self.kv("tls_compliant", onoff(h.tls_compliant));
            }
            CheckerKind::Misc(m) => {
                self.script("misc_path", m.misc_path.as_ref());
                self.dur("misc_timeout", m.misc_timeout);
                self.flag("misc_dynamic", m.misc_dynamic);
                self.user("user", m.user.as_ref());
            }
            CheckerKind::Smtp(s) => self.kv("helo_name", word(&s.helo_name)),
            CheckerKind::Dns(d) => {
                self.kv("type", &d.query_type);
                self.kv("name", word(&d.name));
            }
            CheckerKind::Udp(u) => {
                self.opt("payload", u.payload.as_deref());
                match u.require_reply.as_deref() {
                    Some("") => self.line("require_reply"),
                    Some(r) => self.kv("require_reply", word(r)),
                    None => {}
                }
                self.kv("min_reply_length", u.min_reply_length);
                self.kv("max_reply_length", u.max_reply_length);
            }
            CheckerKind::File(f) => {
                self.opt("track_file", f.track_file.as_deref());
                if let Some(w) = f.weight {
                    self.line(&format!(
                        "weight {w}{}",
                        if f.reverse { " reverse" } else { "" }
                    ));
                }
            }
            CheckerKind::Bfd(b) => {
                self.opt("name", b.name.as_deref());
                self.kv("alpha", onoff(c.alpha));
            }
        }
        self.close();
    }
}
