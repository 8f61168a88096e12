//! The keyword interpreter: the node tree into the typed [`Config`], with keepalived's
//! defaults, ranges, derived values, aliases and warn-and-continue error model.

use crate::diag::{DiagKind, Diagnostic, Severity, SourceMap};
use crate::hash::FxBuild;
use crate::keywords as kw;
use crate::model::*;
use crate::tree::{Node, Word, split_words};
use std::net::IpAddr;
use std::time::Duration;

/// Values inherited VS → RS → checker.
#[derive(Debug, Clone, Default)]
struct Inherit {
    connect_timeout: Option<Duration>,
    retry: Option<u32>,
    delay_before_retry: Option<Duration>,
    warmup: Option<Duration>,
    delay_loop: Option<Duration>,
    alpha: Option<bool>,
    virtualhost: Option<String>,
}

/// Up to this many real servers in a virtual server, duplicates are found by a linear search.
const SMALL_RS: usize = 32;

/// The real servers of a virtual server kept so far, and how duplicates are found: a short
/// list is searched, a long one hashed (`seen` holds the kept addresses and ports then).
struct RealServers {
    list: Vec<RealServer>,
    seen: std::collections::HashSet<(IpAddr, Option<u16>), FxBuild>,
    hashed: bool,
}

pub(crate) struct Lower<'a> {
    /// The tree's arena (blocks are ranges of it).
    tree: &'a [Node],
    sm: &'a SourceMap,
    diags: &'a mut Vec<Diagnostic>,
}

fn args<'n>(n: &'n Node) -> Vec<Word<'n>> {
    n.args()
}

/// keepalived's `read_timer`: decimal seconds with up to 6 fractional digits.
pub(crate) fn parse_timer(s: &str) -> Option<Duration> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.bytes().all(|c| c.is_ascii_digit())
        || !frac.bytes().all(|c| c.is_ascii_digit())
        || frac.len() > 6
    {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut us: u64 = 0;
    for (i, c) in frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(6)
        .enumerate()
    {
        let _ = i;
        us = us * 10 + u64::from(c - b'0');
    }
    secs.checked_mul(1_000_000)?
        .checked_add(us)
        .map(Duration::from_micros)
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Splits a command into argv with keepalived's shell-like quoting and escapes (what the model's
/// [`Script::argv`](crate::model::Script::argv) holds).
pub fn split_command(cmd: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut have = false;
    let mut quote: Option<char> = None;
    let mut it = cmd.chars().peekable();
    while let Some(c) = it.next() {
        match (quote, c) {
            (None, c) if c.is_whitespace() => {
                if have {
                    out.push(std::mem::take(&mut cur));
                    have = false;
                }
            }
            (None, '\'' | '"') => {
                quote = Some(c);
                have = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => cur.push(c),
            (_, '\\') => {
                have = true;
                match it.next() {
                    Some('a') => cur.push('\x07'),
                    Some('b') => cur.push('\x08'),
                    Some('E') => cur.push('\x1b'),
                    Some('f') => cur.push('\x0c'),
                    Some('n') => cur.push('\n'),
                    Some('r') => cur.push('\r'),
                    Some('t') => cur.push('\t'),
                    Some('v') => cur.push('\x0b'),
                    Some('x') => {
                        let mut v = 0u32;
                        let mut n = 0;
                        while n < 2 {
                            match it.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    v = v * 16 + d;
                                    it.next();
                                    n += 1;
                                }
                                None => break,
                            }
                        }
                        cur.push(char::from_u32(v).unwrap_or('?'));
                    }
                    Some('c') => {
                        if let Some(c) = it.next() {
                            cur.push(char::from_u32(u32::from(c) & 0x1f).unwrap_or('?'));
                        }
                    }
                    Some(d @ '0'..='7') => {
                        let mut v = d.to_digit(8).unwrap_or(0);
                        let mut n = 1;
                        while n < 3 {
                            match it.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    v = v * 8 + d;
                                    it.next();
                                    n += 1;
                                }
                                None => break,
                            }
                        }
                        cur.push(char::from_u32(v).unwrap_or('?'));
                    }
                    Some(o) => cur.push(o),
                    None => {}
                }
            }
            (_, c) => {
                cur.push(c);
                have = true;
            }
        }
    }
    if have {
        out.push(cur);
    }
    out
}

/// `ADDR[/len]`.
/// A dotted-quad IPv4 address in its plain form (four decimal octets of one to three digits,
/// no leading zero, at most 255), the form `IpAddr::from_str` reads as IPv4, without its
/// general parser. `None` for anything else (which then goes to `from_str`).
fn plain_ipv4(s: &str) -> Option<std::net::Ipv4Addr> {
    let b = s.as_bytes();
    let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9);
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, o) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let d0 = digit(i)?;
        i += 1;
        let mut v = u32::from(d0);
        if let Some(d1) = digit(i) {
            if d0 == 0 {
                return None;
            }
            v = v * 10 + u32::from(d1);
            i += 1;
            if let Some(d2) = digit(i) {
                v = v * 10 + u32::from(d2);
                i += 1;
            }
        }
        *o = u8::try_from(v).ok()?;
    }
    (i == b.len()).then_some(std::net::Ipv4Addr::from(octets))
}

/// `s.parse::<i64>()` for the common case of one to eighteen ASCII digits (no sign), without
/// the general parser; anything else goes to `str::parse`.
fn parse_i64(s: &str) -> Result<i64, std::num::ParseIntError> {
    let b = s.as_bytes();
    if !b.is_empty() && b.len() <= 18 {
        let mut v: i64 = 0;
        for &c in b {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return s.parse();
            }
            v = v * 10 + i64::from(d);
        }
        return Ok(v);
    }
    s.parse()
}

fn parse_addr_prefix(s: &str) -> Option<(IpAddr, u8)> {
    let (a, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr: IpAddr = a.parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
        None => max,
    };
    Some((addr, len))
}

impl<'a> Lower<'a> {
    /// An interpreter of nodes of the arena `tree`.
    pub(crate) fn new(tree: &'a [Node], sm: &'a SourceMap, diags: &'a mut Vec<Diagnostic>) -> Self {
        Lower { tree, sm, diags }
    }

    fn d(
        &mut self,
        sev: Severity,
        kind: DiagKind,
        n: &Node,
        w: Option<Word<'_>>,
        msg: String,
        help: Option<String>,
    ) {
        let (loc, text) = match w {
            Some(w) => (n.loc_at(w.off), w.s),
            None => (n.loc_at(0), n.keyword()),
        };
        let d = self.sm.diag(sev, kind, loc, text, msg, help);
        self.diags.push(d);
    }

    fn warn(&mut self, kind: DiagKind, n: &Node, w: Option<Word<'_>>, msg: String) {
        self.d(Severity::Warning, kind, n, w, msg, None);
    }

    fn unknown(&mut self, n: &Node, block: &str, known: &[&[&str]]) {
        let k = n.keyword();
        let mut best: Option<(&str, usize)> = None;
        for list in known {
            for cand in *list {
                let dist = strsim::damerau_levenshtein(k, cand);
                let limit = (cand.len() / 4).clamp(1, 3);
                if dist <= limit && best.is_none_or(|(_, b)| dist < b) {
                    best = Some((cand, dist));
                }
            }
        }
        let help = if k == "nb_get_retry" {
            Some(
                "keepalived accepts `nb_get_retry` only in HTTP_GET/SSL_GET and ignores it here \
                 (retry keeps its default); use `retry`"
                    .to_owned(),
            )
        } else {
            best.map(|(c, _)| format!("did you mean `{c}`?"))
        };
        let where_ = if block.is_empty() {
            "at top level".to_owned()
        } else {
            format!("in {block}")
        };
        self.d(
            Severity::Warning,
            DiagKind::UnknownKeyword,
            n,
            None,
            format!("unknown keyword `{k}` {where_}"),
            help,
        );
    }

    fn raw(tree: &[Node], n: &Node) -> RawItem {
        RawItem {
            keyword: n.keyword().to_owned(),
            args: args(n).iter().map(|w| w.s.to_owned()).collect(),
            block: n
                .children_in(tree)
                .map(|c| c.iter().map(|c| Self::raw(tree, c)).collect()),
        }
    }

    fn unsupported(&mut self, n: &Node, out: &mut Vec<RawItem>) {
        self.d(
            Severity::Note,
            DiagKind::Unsupported,
            n,
            None,
            format!(
                "`{}` accepted, not supported yet (kept in the model, not acted on)",
                n.keyword()
            ),
            None,
        );
        out.push(Self::raw(self.tree, n));
    }

    fn deprecated(&mut self, n: &Node, new: &str) {
        self.d(
            Severity::Warning,
            DiagKind::Deprecated,
            n,
            None,
            format!("`{}` is deprecated", n.keyword()),
            Some(format!("use `{new}`")),
        );
    }

    fn arg1<'n>(&mut self, n: &'n Node) -> Option<Word<'n>> {
        match n.first_arg() {
            Some(w) => Some(w),
            None => {
                self.warn(
                    DiagKind::Missing,
                    n,
                    None,
                    format!("`{}` needs a value", n.keyword()),
                );
                None
            }
        }
    }

    fn string(&mut self, n: &Node) -> Option<String> {
        self.arg1(n).map(|w| w.s.to_owned())
    }

    /// A flag with an optional boolean argument (bare = true).
    fn flag(&mut self, n: &Node) -> Option<bool> {
        match n.first_arg() {
            None => Some(true),
            Some(w) => match parse_bool(w.s) {
                Some(b) => Some(b),
                None => {
                    self.warn(
                        DiagKind::InvalidValue,
                        n,
                        Some(w),
                        format!("invalid boolean `{}` for `{}`", w.s, n.keyword()),
                    );
                    None
                }
            },
        }
    }

    fn int_word(&mut self, n: &Node, w: Word<'_>, min: i64, max: i64) -> Option<i64> {
        match parse_i64(w.s) {
            Ok(v) if (min..=max).contains(&v) => Some(v),
            Ok(_) => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!(
                        "{}: number `{}` outside range [{min}, {max}]; using the default",
                        n.keyword(),
                        w.s
                    ),
                );
                None
            }
            Err(_) => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!(
                        "{}: invalid number `{}`; using the default",
                        n.keyword(),
                        w.s
                    ),
                );
                None
            }
        }
    }

    fn int(&mut self, n: &Node, min: i64, max: i64) -> Option<i64> {
        let w = self.arg1(n)?;
        self.int_word(n, w, min, max)
    }

    fn u32v(&mut self, n: &Node, min: u32, max: u32) -> Option<u32> {
        self.int(n, i64::from(min), i64::from(max))
            .and_then(|v| u32::try_from(v).ok())
    }

    fn timer_word(&mut self, n: &Node, w: Word<'_>, min_us: u64, max_us: u64) -> Option<Duration> {
        match parse_timer(w.s) {
            Some(d)
                if (min_us..=max_us)
                    .contains(&u64::try_from(d.as_micros()).unwrap_or(u64::MAX)) =>
            {
                Some(d)
            }
            Some(_) => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!(
                        "{}: `{}` outside range [{}, {}] seconds; using the default",
                        n.keyword(),
                        w.s,
                        Duration::from_micros(min_us).as_secs_f64(),
                        Duration::from_micros(max_us).as_secs_f64()
                    ),
                );
                None
            }
            None => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!("{}: invalid time `{}`; using the default", n.keyword(), w.s),
                );
                None
            }
        }
    }

    fn timer(&mut self, n: &Node, min_us: u64, max_us: u64) -> Option<Duration> {
        let w = self.arg1(n)?;
        self.timer_word(n, w, min_us, max_us)
    }

    fn ip(&mut self, n: &Node) -> Option<IpAddr> {
        let w = self.arg1(n)?;
        self.ip_word(n, w)
    }

    fn ip_word(&mut self, n: &Node, w: Word<'_>) -> Option<IpAddr> {
        if let Some(a) = plain_ipv4(w.s) {
            return Some(IpAddr::V4(a));
        }
        match w.s.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!("{}: invalid IP address `{}`", n.keyword(), w.s),
                );
                None
            }
        }
    }

    fn port(&mut self, n: &Node) -> Option<u16> {
        self.int(n, 0, 65535).and_then(|v| u16::try_from(v).ok())
    }

    fn script(&mut self, n: &Node) -> Option<Script> {
        let words = split_words(&n.text, true);
        let Some(cmd) = words.get(1) else {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                format!("`{}` needs a command", n.keyword()),
            );
            return None;
        };
        let group = words.get(3).map(|g| g.s.trim_start_matches(':').to_owned());
        if words.len() > 4 {
            self.warn(
                DiagKind::InvalidValue,
                n,
                words.get(4).copied(),
                format!(
                    "{}: extra words after `command [user [group]]` ignored (quote the command)",
                    n.keyword()
                ),
            );
        }
        Some(Script {
            command: cmd.s.to_owned(),
            argv: split_command(cmd.s),
            user: words.get(2).map(|w| w.s.to_owned()),
            group,
        })
    }

    fn script_user(&mut self, n: &Node) -> Option<ScriptUser> {
        let a = args(n);
        let user = a.first()?;
        let (group, supp) = match a.get(1) {
            Some(g) => match g.s.strip_prefix(':') {
                Some(g) => (Some(g.to_owned()), true),
                None => (Some(g.s.to_owned()), false),
            },
            None => (None, false),
        };
        Some(ScriptUser {
            user: user.s.to_owned(),
            group,
            supplementary_groups: supp,
        })
    }

    /// The block of `n` (empty without one, with a warning).
    fn children(&mut self, n: &Node) -> &'a [Node] {
        match n.children_in(self.tree) {
            Some(c) => c,
            None => {
                self.warn(
                    DiagKind::Syntax,
                    n,
                    None,
                    format!("`{}` expects a `{{ … }}` block", n.keyword()),
                );
                &[]
            }
        }
    }

    /// The block of `n`, empty without one.
    fn block(&self, n: &Node) -> &'a [Node] {
        n.children_in(self.tree).unwrap_or(&[])
    }

    fn no_block(&mut self, n: &Node) {
        if n.has_block() {
            self.warn(
                DiagKind::Syntax,
                n,
                None,
                format!("`{}` does not take a block; block ignored", n.keyword()),
            );
        }
    }

    /// The whole configuration.
    pub(crate) fn config(&mut self, nodes: &[Node]) -> Config {
        let mut c = Config::default();
        // global_defs first: instances take defaults from it.
        for n in nodes.iter().filter(|n| n.keyword() == "global_defs") {
            let ch = self.children(n);
            self.global_defs(ch, &mut c.global_defs);
        }
        for n in nodes {
            match n.keyword() {
                "global_defs" => {}
                "vrrp_script" => {
                    if let Some(s) = self.vrrp_script(n) {
                        c.vrrp_scripts.push(s);
                    }
                }
                "track_file" | "vrrp_track_file" => {
                    if n.keyword() == "vrrp_track_file" {
                        self.deprecated(n, "track_file");
                    }
                    if let Some(t) = self.track_file(n) {
                        c.track_files.push(t);
                    }
                }
                "vrrp_track_process" => {
                    if let Some(t) = self.track_process(n) {
                        c.track_processes.push(t);
                    }
                }
                "vrrp_sync_group" => {
                    if let Some(g) = self.sync_group(n) {
                        c.vrrp_sync_groups.push(g);
                    }
                }
                "vrrp_instance" => {
                    if let Some(i) = self.vrrp_instance(n, &c.global_defs) {
                        c.vrrp_instances.push(i);
                    }
                }
                "virtual_server_group" => {
                    if let Some(g) = self.vs_group(n) {
                        c.virtual_server_groups.push(g);
                    }
                }
                "virtual_server" => {
                    if let Some(v) = self.virtual_server(n) {
                        c.virtual_servers.push(v);
                    }
                }
                "SSL" => c.ssl = Some(self.ssl(n)),
                k if kw::TOP_UNSUPPORTED.contains(&k) => self.unsupported(n, &mut c.unsupported),
                "include_check" => {}
                _ => self.unknown(n, "", &[kw::TOP, kw::TOP_UNSUPPORTED]),
            }
        }
        self.cross_checks(&mut c, nodes);
        c
    }

    fn cross_checks(&mut self, c: &mut Config, nodes: &[Node]) {
        let scripts: std::collections::HashSet<String> =
            c.vrrp_scripts.iter().map(|s| s.name.clone()).collect();
        let files: std::collections::HashSet<String> =
            c.track_files.iter().map(|s| s.name.clone()).collect();
        let procs: std::collections::HashSet<String> =
            c.track_processes.iter().map(|s| s.name.clone()).collect();
        let inst_nodes: Vec<&Node> = nodes
            .iter()
            .filter(|n| n.keyword() == "vrrp_instance")
            .collect();
        for inst in &mut c.vrrp_instances {
            let dangling = inst
                .track_scripts
                .iter()
                .any(|t| !scripts.contains(&t.name))
                || inst.track_files.iter().any(|t| !files.contains(&t.name))
                || inst
                    .track_processes
                    .iter()
                    .any(|t| !procs.contains(&t.name));
            if !dangling {
                continue;
            }
            // Only now look for the block (a linear scan, rare): keeps big configs linear.
            let node = inst_nodes
                .iter()
                .find(|n| args(n).first().map(|w| w.s) == Some(inst.name.as_str()))
                .copied();
            for (list, known, what) in [
                (&mut inst.track_scripts, &scripts, "track script"),
                (&mut inst.track_files, &files, "track file"),
                (&mut inst.track_processes, &procs, "track process"),
            ] {
                let mut missing = Vec::new();
                list.retain(|t| {
                    let ok = known.contains(&t.name);
                    if !ok {
                        missing.push(t.name.clone());
                    }
                    ok
                });
                if let Some(n) = node {
                    for m in missing {
                        let tree = self.tree;
                        let block = self.block(n);
                        let at = block
                            .iter()
                            .flat_map(|b| b.children_in(tree).unwrap_or(&[]))
                            .find(|x| x.keyword() == m);
                        let target = at.unwrap_or(n);
                        self.d(
                            Severity::Warning,
                            DiagKind::Semantic,
                            target,
                            None,
                            format!("({}) {what} `{m}` not found, ignoring", inst.name),
                            None,
                        );
                    }
                }
            }
        }
        let names: Vec<String> = c.vrrp_instances.iter().map(|i| i.name.clone()).collect();
        let sg_nodes: Vec<&Node> = nodes
            .iter()
            .filter(|n| n.keyword() == "vrrp_sync_group")
            .collect();
        let names: std::collections::HashSet<String> = names.into_iter().collect();
        for g in &mut c.vrrp_sync_groups {
            if g.group.iter().all(|m| names.contains(m)) {
                continue;
            }
            let node = sg_nodes
                .iter()
                .find(|n| args(n).first().map(|w| w.s) == Some(g.name.as_str()))
                .copied();
            let mut missing = Vec::new();
            g.group.retain(|m| {
                let ok = names.contains(m);
                if !ok {
                    missing.push(m.clone());
                }
                ok
            });
            if let Some(n) = node {
                for m in missing {
                    self.warn(
                        DiagKind::Semantic,
                        n,
                        None,
                        format!(
                            "sync group {}: vrrp_instance `{m}` not found, ignoring",
                            g.name
                        ),
                    );
                }
            }
        }
        let groups: Vec<String> = c
            .virtual_server_groups
            .iter()
            .map(|g| g.name.clone())
            .collect();
        for vs in &c.virtual_servers {
            if let VsTarget::Group { name } = &vs.target
                && !groups.contains(name)
                && let Some(n) = nodes.iter().find(|n| n.keyword() == "virtual_server")
            {
                self.warn(
                    DiagKind::Semantic,
                    n,
                    None,
                    format!("virtual_server_group `{name}` not defined"),
                );
            }
        }
    }

    fn global_defs(&mut self, nodes: &[Node], g: &mut GlobalDefs) {
        for n in nodes {
            let k = n.keyword();
            if k != "notification_email" {
                self.no_block(n);
            }
            match k {
                "router_id" => g.router_id = self.string(n),
                "notification_email" => {
                    let ch = self.children(n);
                    for e in ch {
                        g.notification_email
                            .extend(e.words().iter().map(|w| w.s.to_owned()));
                    }
                }
                "notification_email_from" => g.notification_email_from = self.string(n),
                "smtp_server" => {
                    let a = args(n);
                    if let Some(h) = a.first() {
                        let port = match a.get(1) {
                            Some(p) => self
                                .int_word(n, *p, 1, 65535)
                                .and_then(|v| u16::try_from(v).ok())
                                .unwrap_or(25),
                            None => 25,
                        };
                        g.smtp_server = Some(SmtpServer {
                            host: h.s.to_owned(),
                            port,
                        });
                    } else {
                        self.warn(
                            DiagKind::Missing,
                            n,
                            None,
                            "`smtp_server` needs an address".into(),
                        );
                    }
                }
                "smtp_connect_timeout" => {
                    if let Some(v) = self.int(n, 0, 4294) {
                        g.smtp_connect_timeout = Duration::from_secs(v.unsigned_abs());
                    }
                }
                "smtp_helo_name" => g.smtp_helo_name = self.string(n),
                "smtp_alert" => g.smtp_alert = self.flag(n).or(g.smtp_alert),
                "smtp_alert_vrrp" => g.smtp_alert_vrrp = self.flag(n).or(g.smtp_alert_vrrp),
                "smtp_alert_checker" => {
                    g.smtp_alert_checker = self.flag(n).or(g.smtp_alert_checker)
                }
                "vrrp_skip_check_adv_addr" => {
                    g.vrrp_skip_check_adv_addr = self.flag(n).unwrap_or(g.vrrp_skip_check_adv_addr)
                }
                "vrrp_strict" => g.vrrp_strict = self.flag(n).unwrap_or(g.vrrp_strict),
                "vrrp_garp_interval" => {
                    g.vrrp_garp_interval = self
                        .timer(n, 1, u64::from(u32::MAX))
                        .unwrap_or(g.vrrp_garp_interval);
                }
                "vrrp_gna_interval" => {
                    g.vrrp_gna_interval = self
                        .timer(n, 1, u64::from(u32::MAX))
                        .unwrap_or(g.vrrp_gna_interval);
                }
                "vrrp_garp_master_delay" => {
                    g.vrrp_garp_master_delay = self
                        .timer(n, 0, 86_400_000_000)
                        .unwrap_or(g.vrrp_garp_master_delay);
                }
                "vrrp_garp_master_repeat" => {
                    g.vrrp_garp_master_repeat = self
                        .u32v(n, 1, u32::MAX)
                        .unwrap_or(g.vrrp_garp_master_repeat);
                }
                "vrrp_garp_master_refresh" => {
                    g.vrrp_garp_master_refresh = self
                        .timer(n, 0, 86_400_000_000)
                        .unwrap_or(g.vrrp_garp_master_refresh);
                }
                "vrrp_garp_master_refresh_repeat" => {
                    g.vrrp_garp_master_refresh_repeat = self
                        .u32v(n, 1, u32::MAX)
                        .unwrap_or(g.vrrp_garp_master_refresh_repeat);
                }
                "vrrp_garp_lower_prio_delay" => {
                    g.vrrp_garp_lower_prio_delay = self
                        .timer(n, 0, 86_400_000_000)
                        .or(g.vrrp_garp_lower_prio_delay);
                }
                "vrrp_garp_lower_prio_repeat" => {
                    g.vrrp_garp_lower_prio_repeat =
                        self.u32v(n, 1, u32::MAX).or(g.vrrp_garp_lower_prio_repeat);
                }
                "vrrp_min_garp" => g.vrrp_min_garp = self.flag(n).unwrap_or(g.vrrp_min_garp),
                "vrrp_version" => {
                    g.vrrp_version = self
                        .int(n, 2, 3)
                        .and_then(|v| u8::try_from(v).ok())
                        .unwrap_or(g.vrrp_version);
                }
                "vrrp_mcast_group4" => match self.ip(n) {
                    Some(IpAddr::V4(a)) if a.is_multicast() => g.vrrp_mcast_group4 = a,
                    Some(_) => self.warn(
                        DiagKind::InvalidValue,
                        n,
                        None,
                        "vrrp_mcast_group4 must be an IPv4 multicast address".into(),
                    ),
                    None => {}
                },
                "vrrp_mcast_group6" => match self.ip(n) {
                    Some(IpAddr::V6(a)) if a.is_multicast() => g.vrrp_mcast_group6 = a,
                    Some(_) => self.warn(
                        DiagKind::InvalidValue,
                        n,
                        None,
                        "vrrp_mcast_group6 must be an IPv6 multicast address".into(),
                    ),
                    None => {}
                },
                "vrrp_check_unicast_src" => {
                    g.vrrp_check_unicast_src = self.flag(n).unwrap_or(g.vrrp_check_unicast_src)
                }
                "vrrp_lower_prio_no_advert" => {
                    g.vrrp_lower_prio_no_advert =
                        self.flag(n).unwrap_or(g.vrrp_lower_prio_no_advert);
                }
                "vrrp_higher_prio_send_advert" => {
                    g.vrrp_higher_prio_send_advert =
                        self.flag(n).unwrap_or(g.vrrp_higher_prio_send_advert);
                }
                "vrrp_owner_ignore_adverts" => {
                    g.vrrp_owner_ignore_adverts =
                        self.flag(n).unwrap_or(g.vrrp_owner_ignore_adverts);
                }
                "vrrp_down_timer_adverts" => {
                    g.vrrp_down_timer_adverts =
                        self.u32v(n, 1, 100).unwrap_or(g.vrrp_down_timer_adverts);
                }
                "v3_checksum_as_v2" => {
                    g.v3_checksum_as_v2 = self.flag(n).unwrap_or(g.v3_checksum_as_v2)
                }
                "vrrp_startup_delay" => {
                    g.vrrp_startup_delay = self
                        .timer(n, 1000, 4_294_967_295)
                        .unwrap_or(g.vrrp_startup_delay);
                }
                "lvs_sync_daemon" => g.lvs_sync_daemon = self.lvs_sync_daemon(n),
                "lvs_timeouts" => self.lvs_timeouts(n, &mut g.lvs_timeouts),
                "lvs_flush" => g.lvs_flush = self.flag(n).unwrap_or(g.lvs_flush),
                "lvs_flush_on_stop" | "lvs_flush_onstop" => {
                    if k == "lvs_flush_onstop" {
                        self.deprecated(n, "lvs_flush_on_stop");
                    }
                    g.lvs_flush_on_stop = true;
                    if let Some(w) = args(n).first()
                        && w.s != "VS"
                    {
                        self.warn(
                            DiagKind::InvalidValue,
                            n,
                            Some(*w),
                            format!("lvs_flush_on_stop: unknown option `{}`", w.s),
                        );
                    }
                }
                "script_user" => match self.script_user(n) {
                    Some(u) => g.script_user = Some(u),
                    None => self.warn(
                        DiagKind::Missing,
                        n,
                        None,
                        "`script_user` needs a user".into(),
                    ),
                },
                "enable_script_security" => {
                    g.enable_script_security = self.flag(n).unwrap_or(g.enable_script_security)
                }
                "dynamic_interfaces" => g.dynamic_interfaces = true,
                "default_interface" => g.default_interface = self.string(n),
                "random_seed" => {
                    g.random_seed = self
                        .int(n, 0, i64::MAX)
                        .map(i64::cast_unsigned)
                        .or(g.random_seed);
                }
                "vmac_prefix" | "vmac_addr_prefix" => g.vmac_prefix = self.string(n),
                "include_check" => {}
                k if kw::GLOBAL_RAW_ACTED_ON.contains(&k) => {
                    g.unsupported.push(Self::raw(self.tree, n))
                }
                k if kw::GLOBAL_UNSUPPORTED.contains(&k) => self.unsupported(n, &mut g.unsupported),
                _ => self.unknown(n, "global_defs", &[kw::GLOBAL, kw::GLOBAL_UNSUPPORTED]),
            }
        }
    }

    fn lvs_sync_daemon(&mut self, n: &Node) -> Option<LvsSyncDaemon> {
        let a = args(n);
        let Some(ifname) = a.first() else {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                "`lvs_sync_daemon` needs an interface".into(),
            );
            return None;
        };
        let mut d = LvsSyncDaemon {
            interface: ifname.s.to_owned(),
            instance: None,
            id: None,
            maxlen: None,
            port: None,
            ttl: None,
            group: None,
        };
        let mut i = 1;
        while i < a.len() {
            let key = a[i].s;
            let val = a.get(i + 1).copied();
            let mut consumed = 2;
            match (key, val) {
                ("inst", Some(v)) => d.instance = Some(v.s.to_owned()),
                ("id", Some(v)) => {
                    d.id = self
                        .int_word(n, v, 0, 255)
                        .and_then(|x| u8::try_from(x).ok())
                }
                ("maxlen", Some(v)) => {
                    d.maxlen = self
                        .int_word(n, v, 1, 65507)
                        .and_then(|x| u16::try_from(x).ok())
                }
                ("port", Some(v)) => {
                    d.port = self
                        .int_word(n, v, 1, 65535)
                        .and_then(|x| u16::try_from(x).ok())
                }
                ("ttl", Some(v)) => {
                    d.ttl = self
                        .int_word(n, v, 1, 255)
                        .and_then(|x| u8::try_from(x).ok())
                }
                ("group", Some(v)) => d.group = self.ip_word(n, v),
                (other, _) if i == 1 && d.instance.is_none() => {
                    d.instance = Some(other.to_owned());
                    consumed = 1;
                }
                _ => {
                    self.warn(
                        DiagKind::InvalidValue,
                        n,
                        Some(a[i]),
                        format!("lvs_sync_daemon: unknown option `{key}`"),
                    );
                    consumed = 1;
                }
            }
            i += consumed;
        }
        Some(d)
    }

    fn lvs_timeouts(&mut self, n: &Node, t: &mut LvsTimeouts) {
        let a = args(n);
        let mut i = 0;
        while i < a.len() {
            let Some(v) = a.get(i + 1).copied() else {
                self.warn(
                    DiagKind::Missing,
                    n,
                    Some(a[i]),
                    format!("lvs_timeouts: `{}` needs a value", a[i].s),
                );
                break;
            };
            let d = self.timer_word(n, v, 1_000_000, 86_400_000_000 * 31);
            match a[i].s {
                "tcp" => t.tcp = d,
                "tcpfin" => t.tcpfin = d,
                "udp" => t.udp = d,
                other => {
                    self.warn(
                        DiagKind::InvalidValue,
                        n,
                        Some(a[i]),
                        format!("lvs_timeouts: unknown protocol `{other}`"),
                    );
                }
            }
            i += 2;
        }
    }

    fn block_name(&mut self, n: &Node) -> Option<String> {
        match args(n).first() {
            Some(w) => Some(w.s.to_owned()),
            None => {
                self.d(
                    Severity::Error,
                    DiagKind::Missing,
                    n,
                    None,
                    format!("`{}` needs a name; block ignored", n.keyword()),
                    None,
                );
                None
            }
        }
    }

    fn weight_reverse(&mut self, n: &Node, min: i64, max: i64) -> Option<(i32, bool)> {
        let a = args(n);
        let w = self.arg1(n)?;
        let v = self.int_word(n, w, min, max)?;
        let reverse = match a.get(1).map(|w| w.s) {
            Some("reverse") => true,
            Some("noreverse") | None => false,
            Some(_) => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    a.get(1).copied(),
                    "expected `reverse` after the weight".into(),
                );
                false
            }
        };
        Some((i32::try_from(v).unwrap_or(0), reverse))
    }

    fn vrrp_script(&mut self, n: &Node) -> Option<VrrpScript> {
        let name = self.block_name(n)?;
        let mut s = VrrpScript {
            name,
            script: None,
            interval: Duration::from_secs(1),
            timeout: Duration::ZERO,
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
        };
        let mut timeout = None;
        for c in self.children(n) {
            match c.keyword() {
                "script" => s.script = self.script(c),
                "interval" => {
                    if let Some(d) = self.timer(c, 0, u64::from(u32::MAX)) {
                        s.interval = if d.is_zero() {
                            Duration::from_secs(1)
                        } else {
                            d
                        };
                    }
                }
                "timeout" => timeout = self.timer(c, 0, u64::from(u32::MAX)).or(timeout),
                "weight" => {
                    if let Some((w, r)) = self.weight_reverse(c, -253, 253) {
                        s.weight = w;
                        s.weight_reverse = r;
                    }
                }
                "rise" => s.rise = self.u32v(c, 1, i32::MAX.cast_unsigned()).unwrap_or(s.rise),
                "fall" => s.fall = self.u32v(c, 1, i32::MAX.cast_unsigned()).unwrap_or(s.fall),
                "user" => s.user = self.script_user(c),
                "init_fail" => s.init_fail = true,
                _ => self.unknown(c, "vrrp_script", &[kw::VRRP_SCRIPT]),
            }
        }
        s.timeout = timeout.filter(|t| !t.is_zero()).unwrap_or(s.interval);
        if s.script.is_none() {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                format!("no script set for vrrp_script {} - removing", s.name),
            );
            return None;
        }
        Some(s)
    }

    fn track_file(&mut self, n: &Node) -> Option<TrackFile> {
        let name = self.block_name(n)?;
        let mut t = TrackFile {
            name,
            file: None,
            weight: 1,
            reverse: false,
            init_file: None,
        };
        for c in self.children(n) {
            match c.keyword() {
                "file" => t.file = self.string(c),
                "weight" => {
                    if let Some((w, r)) = self.weight_reverse(c, -254, 254) {
                        t.weight = w;
                        t.reverse = r;
                    }
                }
                "init_file" => {
                    let a = args(c);
                    let mut init = InitFile {
                        value: 0,
                        overwrite: false,
                    };
                    for w in &a {
                        if w.s == "overwrite" {
                            init.overwrite = true;
                        } else if let Some(v) =
                            self.int_word(c, *w, i64::from(i32::MIN), i64::from(i32::MAX))
                        {
                            init.value = v;
                        }
                    }
                    t.init_file = Some(init);
                }
                _ => self.unknown(c, "track_file", &[kw::TRACK_FILE]),
            }
        }
        if t.file.is_none() {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                format!("no file set for track_file {} - removing", t.name),
            );
            return None;
        }
        Some(t)
    }

    fn track_process(&mut self, n: &Node) -> Option<TrackProcess> {
        let name = self.block_name(n)?;
        let mut t = TrackProcess {
            name,
            process: Vec::new(),
            param_match: None,
            weight: 0,
            reverse: false,
            quorum: 1,
            quorum_max: None,
            fork_delay: None,
            terminate_delay: None,
            full_command: false,
        };
        for c in self.children(n) {
            match c.keyword() {
                "process" => {
                    t.process = split_words(&c.text, true)
                        .iter()
                        .skip(1)
                        .map(|w| w.s.to_owned())
                        .collect()
                }
                "param_match" => t.param_match = self.string(c),
                "weight" => {
                    if let Some((w, r)) = self.weight_reverse(c, -254, 254) {
                        t.weight = w;
                        t.reverse = r;
                    }
                }
                "quorum" => t.quorum = self.u32v(c, 1, u32::MAX).unwrap_or(t.quorum),
                "quorum_max" => t.quorum_max = self.u32v(c, 0, u32::MAX),
                "fork_delay" => t.fork_delay = self.timer(c, 0, u64::from(u32::MAX)),
                "terminate_delay" => t.terminate_delay = self.timer(c, 0, u64::from(u32::MAX)),
                "delay" => {
                    let d = self.timer(c, 0, u64::from(u32::MAX));
                    t.fork_delay = d;
                    t.terminate_delay = d;
                }
                "full_command" => t.full_command = true,
                _ => self.unknown(c, "vrrp_track_process", &[kw::TRACK_PROCESS]),
            }
        }
        if t.process.is_empty() {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                format!(
                    "no process set for vrrp_track_process {} - removing",
                    t.name
                ),
            );
            return None;
        }
        Some(t)
    }

    fn track_interfaces(&mut self, n: &Node) -> Vec<TrackInterface> {
        let mut out = Vec::new();
        for c in self.children(n) {
            let a = c.words();
            let Some(name) = a.first() else { continue };
            let mut t = TrackInterface {
                name: name.s.to_owned(),
                weight: 0,
                reverse: false,
            };
            if a.get(1).map(|w| w.s) == Some("weight") {
                match a.get(2) {
                    Some(w) => {
                        t.weight = self
                            .int_word(c, *w, -254, 254)
                            .and_then(|v| i32::try_from(v).ok())
                            .unwrap_or(0)
                    }
                    None => self.warn(
                        DiagKind::Missing,
                        c,
                        None,
                        "track_interface: `weight` needs a value".into(),
                    ),
                }
                t.reverse = a.get(3).map(|w| w.s) == Some("reverse");
            }
            out.push(t);
        }
        out
    }

    fn track_refs(&mut self, n: &Node, limit: i64) -> Vec<TrackRef> {
        let mut out = Vec::new();
        for c in self.children(n) {
            let a = c.words();
            let Some(name) = a.first() else { continue };
            let mut t = TrackRef {
                name: name.s.to_owned(),
                weight: None,
                reverse: false,
            };
            if a.get(1).map(|w| w.s) == Some("weight") {
                match a.get(2) {
                    Some(w) => {
                        // keepalived accepts ±(limit+1) and coerces it to ±limit.
                        t.weight = self
                            .int_word(c, *w, -limit - 1, limit + 1)
                            .map(|v| v.clamp(-limit, limit))
                            .and_then(|v| i32::try_from(v).ok());
                    }
                    None => self.warn(DiagKind::Missing, c, None, "`weight` needs a value".into()),
                }
                t.reverse = a.get(3).map(|w| w.s) == Some("reverse");
            }
            out.push(t);
        }
        out
    }

    fn vip_list(&mut self, n: &Node) -> Vec<VirtualIp> {
        let mut out = Vec::new();
        for c in self.children(n) {
            let a = c.words();
            let Some(first) = a.first() else { continue };
            let Some((address, prefix_len)) = parse_addr_prefix(first.s) else {
                self.warn(
                    DiagKind::InvalidValue,
                    c,
                    Some(*first),
                    format!("invalid virtual address `{}` - ignoring", first.s),
                );
                continue;
            };
            let mut v = VirtualIp {
                address,
                prefix_len,
                brd: None,
                dev: None,
                scope: None,
                label: None,
                peer: None,
                no_track: false,
                options: Vec::new(),
            };
            let mut i = 1;
            while i < a.len() {
                let key = a[i].s;
                let val = a.get(i + 1).map(|w| w.s.to_owned());
                let takes = matches!(
                    key,
                    "brd" | "broadcast" | "dev" | "scope" | "label" | "peer" | "preferred_lft"
                );
                if takes && val.is_none() {
                    self.warn(
                        DiagKind::Missing,
                        c,
                        Some(a[i]),
                        format!("`{key}` needs a value"),
                    );
                    break;
                }
                match key {
                    "brd" | "broadcast" => v.brd = val,
                    "dev" => v.dev = val,
                    "scope" => v.scope = val,
                    "label" => v.label = val,
                    "peer" => match a.get(i + 1).and_then(|w| parse_addr_prefix(w.s)) {
                        Some((p, _)) => v.peer = Some(p),
                        None => self.warn(
                            DiagKind::InvalidValue,
                            c,
                            a.get(i + 1).copied(),
                            "invalid peer address".into(),
                        ),
                    },
                    "preferred_lft" => {
                        v.options.push(key.to_owned());
                        v.options.extend(val);
                    }
                    "no_track" => v.no_track = true,
                    "home" | "-nodad" | "nodad" | "mngtmpaddr" | "noprefixroute" | "autojoin"
                    | "use_vmac" => {
                        v.options.push(key.to_owned());
                    }
                    _ => {
                        self.warn(
                            DiagKind::InvalidValue,
                            c,
                            Some(a[i]),
                            format!("unknown virtual address option `{key}` - ignoring"),
                        );
                    }
                }
                i += if takes { 2 } else { 1 };
            }
            out.push(v);
        }
        out
    }

    fn lines_verbatim(&mut self, n: &Node) -> Vec<String> {
        self.children(n)
            .iter()
            .map(|c| c.text.to_string())
            .collect()
    }

    fn vrrp_instance(&mut self, n: &Node, g: &GlobalDefs) -> Option<VrrpInstance> {
        let name = self.block_name(n)?;
        let mut i = VrrpInstance {
            name,
            state: VrrpState::Backup,
            interface: None,
            virtual_router_id: 0,
            priority: 100,
            advert_int: Duration::from_secs(1),
            version: g.vrrp_version,
            authentication: None,
            virtual_ipaddress: Vec::new(),
            virtual_ipaddress_excluded: Vec::new(),
            virtual_routes: Vec::new(),
            virtual_rules: Vec::new(),
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            unicast_src_ip: None,
            mcast_src_ip: None,
            unicast_peers: Vec::new(),
            unicast_ttl: 255,
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            dont_track_primary: false,
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify_deleted: None,
            notify_master_rx_lower_pri: None,
            notify: None,
            smtp_alert: None,
            notify_priority_changes: None,
            garp_master_delay: g.vrrp_garp_master_delay,
            garp_master_repeat: g.vrrp_garp_master_repeat,
            garp_master_refresh: g.vrrp_garp_master_refresh,
            garp_master_refresh_repeat: g.vrrp_garp_master_refresh_repeat,
            use_vmac: None,
            accept: true,
            strict_mode: g.vrrp_strict,
            skip_check_adv_addr: g.vrrp_skip_check_adv_addr,
            lower_prio_no_advert: g.vrrp_lower_prio_no_advert,
            higher_prio_send_advert: g.vrrp_higher_prio_send_advert,
            promote_secondaries: false,
            unsupported: Vec::new(),
        };
        let mut state = None;
        let mut priority = None;
        let mut vrid = None;
        let mut version = None;
        let mut accept = None;
        let mut preempt_delay_node = None;
        for c in self.children(n) {
            let k = c.keyword();
            match k {
                "state" => {
                    if let Some(w) = self.arg1(c) {
                        state = Some(match w.s {
                            "MASTER" => VrrpState::Master,
                            "BACKUP" => VrrpState::Backup,
                            other => {
                                self.warn(
                                    DiagKind::InvalidValue,
                                    c,
                                    Some(w),
                                    format!("unknown state `{other}`, using BACKUP"),
                                );
                                VrrpState::Backup
                            }
                        });
                    }
                }
                "interface" => {
                    if let Some(w) = self.arg1(c) {
                        if w.s == "lo" {
                            self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!(
                                    "({}) cannot use a loopback interface (lo) for vrrp - ignoring",
                                    i.name
                                ),
                            );
                        } else {
                            i.interface = Some(w.s.to_owned());
                        }
                    }
                }
                "virtual_router_id" => {
                    vrid = self.int(c, 1, 255).and_then(|v| u8::try_from(v).ok())
                }
                "priority" => {
                    if let Some(w) = self.arg1(c) {
                        match w.s.parse::<i64>() {
                            Ok(v) if (1..=255).contains(&v) => priority = u8::try_from(v).ok(),
                            _ => {
                                self.warn(
                                    DiagKind::InvalidValue,
                                    c,
                                    Some(w),
                                    format!(
                                        "({}) priority `{}` outside range [1, 255]; using 100",
                                        i.name, w.s
                                    ),
                                );
                                priority = Some(100);
                            }
                        }
                    }
                }
                "advert_int" => {
                    if let Some(d) = self.timer(c, 10_000, 255_000_000) {
                        i.advert_int = d;
                    }
                }
                "version" => version = self.int(c, 2, 3).and_then(|v| u8::try_from(v).ok()),
                "authentication" => i.authentication = self.authentication(c, &i.name),
                "virtual_ipaddress" => i.virtual_ipaddress.extend(self.vip_list(c)),
                "virtual_ipaddress_excluded" => {
                    i.virtual_ipaddress_excluded.extend(self.vip_list(c))
                }
                "virtual_routes" => {
                    let l = self.lines_verbatim(c);
                    i.virtual_routes.extend(l);
                }
                "virtual_rules" => {
                    let l = self.lines_verbatim(c);
                    i.virtual_rules.extend(l);
                }
                "nopreempt" => i.nopreempt = true,
                "preempt" => i.nopreempt = false,
                "preempt_delay" => {
                    if let Some(d) = self.timer(c, 0, 1_000_000_000) {
                        i.preempt_delay = d;
                        preempt_delay_node = Some(c);
                    }
                }
                "unicast_src_ip" => i.unicast_src_ip = self.ip(c),
                "mcast_src_ip" => i.mcast_src_ip = self.ip(c),
                "unicast_peer" => {
                    for p in self.children(c) {
                        let a = p.words();
                        let Some(first) = a.first() else { continue };
                        let Some(addr) = self.ip_word(p, *first) else {
                            continue;
                        };
                        let mut peer = UnicastPeer {
                            address: addr,
                            min_ttl: None,
                            max_ttl: None,
                        };
                        let mut j = 1;
                        while j < a.len() {
                            let v = a
                                .get(j + 1)
                                .and_then(|w| self.int_word(p, *w, 0, 255))
                                .and_then(|v| u8::try_from(v).ok());
                            match a[j].s {
                                "min_ttl" => peer.min_ttl = v,
                                "max_ttl" => peer.max_ttl = v,
                                other => self.warn(
                                    DiagKind::InvalidValue,
                                    p,
                                    Some(a[j]),
                                    format!("unicast_peer: unknown option `{other}`"),
                                ),
                            }
                            j += 2;
                        }
                        i.unicast_peers.push(peer);
                    }
                }
                "unicast_ttl" => {
                    i.unicast_ttl = self
                        .int(c, 0, 255)
                        .and_then(|v| u8::try_from(v).ok())
                        .unwrap_or(i.unicast_ttl)
                }
                "track_interface" => {
                    let t = self.track_interfaces(c);
                    i.track_interfaces.extend(t);
                }
                "track_script" => {
                    let t = self.track_refs(c, 253);
                    i.track_scripts.extend(t);
                }
                "track_file" => {
                    let t = self.track_refs(c, 254);
                    i.track_files.extend(t);
                }
                "track_process" => {
                    let t = self.track_refs(c, 254);
                    i.track_processes.extend(t);
                }
                "dont_track_primary" => i.dont_track_primary = true,
                "notify_master" => i.notify_master = self.script(c),
                "notify_backup" => i.notify_backup = self.script(c),
                "notify_fault" => i.notify_fault = self.script(c),
                "notify_stop" => i.notify_stop = self.script(c),
                "notify_deleted" => i.notify_deleted = self.script(c),
                "notify_master_rx_lower_pri" => i.notify_master_rx_lower_pri = self.script(c),
                "notify" => i.notify = self.script(c),
                "smtp_alert" => i.smtp_alert = self.flag(c),
                "notify_priority_changes" => i.notify_priority_changes = self.flag(c),
                "garp_master_delay" => {
                    i.garp_master_delay = self
                        .timer(c, 0, 86_400_000_000)
                        .unwrap_or(i.garp_master_delay)
                }
                "garp_master_repeat" => {
                    i.garp_master_repeat = self.u32v(c, 1, u32::MAX).unwrap_or(i.garp_master_repeat)
                }
                "garp_master_refresh" => {
                    i.garp_master_refresh = self
                        .timer(c, 0, 86_400_000_000)
                        .unwrap_or(i.garp_master_refresh);
                }
                "garp_master_refresh_repeat" => {
                    i.garp_master_refresh_repeat = self
                        .u32v(c, 1, u32::MAX)
                        .unwrap_or(i.garp_master_refresh_repeat);
                }
                "use_vmac" => {
                    let a = args(c);
                    i.use_vmac = Some(a.first().map(|w| w.s.to_owned()).unwrap_or_default());
                    if a.len() > 1 {
                        self.d(
                            Severity::Note,
                            DiagKind::Unsupported,
                            c,
                            a.get(1).copied(),
                            "use_vmac options after the interface name are accepted, not supported yet".into(),
                            None,
                        );
                    }
                }
                "accept" => accept = Some(true),
                "no_accept" => accept = Some(false),
                "strict_mode" => i.strict_mode = self.flag(c).unwrap_or(i.strict_mode),
                "skip_check_adv_addr" => {
                    i.skip_check_adv_addr = self.flag(c).unwrap_or(i.skip_check_adv_addr)
                }
                "lower_prio_no_advert" => {
                    i.lower_prio_no_advert = self.flag(c).unwrap_or(i.lower_prio_no_advert)
                }
                "higher_prio_send_advert" => {
                    i.higher_prio_send_advert = self.flag(c).unwrap_or(i.higher_prio_send_advert)
                }
                "promote_secondaries" => i.promote_secondaries = true,
                k if kw::INSTANCE_UNSUPPORTED.contains(&k) => {
                    self.unsupported(c, &mut i.unsupported)
                }
                _ => self.unknown(
                    c,
                    "vrrp_instance",
                    &[kw::INSTANCE, kw::INSTANCE_UNSUPPORTED],
                ),
            }
        }
        let Some(vrid) = vrid else {
            self.d(
                Severity::Error,
                DiagKind::Missing,
                n,
                None,
                format!(
                    "({}) the virtual router id must be set; instance ignored",
                    i.name
                ),
                Some("add `virtual_router_id 1..255`".into()),
            );
            return None;
        };
        i.virtual_router_id = vrid;
        i.priority = match (priority, state) {
            (Some(p), _) => p,
            (None, Some(VrrpState::Master)) => 255,
            (None, _) => 100,
        };
        i.state = state.unwrap_or(if i.priority == 255 {
            VrrpState::Master
        } else {
            VrrpState::Backup
        });
        // Address family: all VIPs one family; IPv6 means VRRPv3.
        if let Some(first) = i.virtual_ipaddress.first().map(|v| v.address.is_ipv6()) {
            let before = i.virtual_ipaddress.len();
            i.virtual_ipaddress.retain(|v| v.address.is_ipv6() == first);
            if i.virtual_ipaddress.len() != before {
                self.warn(
                    DiagKind::Semantic,
                    n,
                    None,
                    format!("({}) virtual_ipaddress mixes IPv4 and IPv6; the other family's addresses are ignored", i.name),
                );
            }
            if first {
                i.version = 3;
            }
        }
        if let Some(v) = version {
            if i.version == 3
                && v == 2
                && i.virtual_ipaddress
                    .first()
                    .is_some_and(|v| v.address.is_ipv6())
            {
                self.warn(
                    DiagKind::Semantic,
                    n,
                    None,
                    format!("({}) IPv6 instances use VRRP version 3", i.name),
                );
            } else {
                i.version = v;
            }
        }
        if i.version == 2 {
            let secs = (i.advert_int.as_micros() + 500_000) / 1_000_000;
            i.advert_int = Duration::from_secs(u64::try_from(secs.clamp(1, 255)).unwrap_or(1));
        } else {
            let cs = (i.advert_int.as_micros() + 5_000) / 10_000;
            i.advert_int =
                Duration::from_millis(u64::try_from(cs.clamp(1, 4095)).unwrap_or(100) * 10);
        }
        if i.authentication.is_some() && i.version == 3 {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                format!("({}) authentication is ignored with VRRP version 3", i.name),
            );
            i.authentication = None;
        }
        if i.nopreempt && (i.state == VrrpState::Master || i.priority == 255) {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                format!("({}) nopreempt is incompatible with state MASTER / priority 255; clearing nopreempt", i.name),
            );
            i.nopreempt = false;
        }
        if !i.preempt_delay.is_zero()
            && (i.state == VrrpState::Master || i.nopreempt || i.strict_mode)
        {
            if let Some(c) = preempt_delay_node {
                self.warn(
                    DiagKind::Semantic,
                    c,
                    None,
                    format!(
                        "({}) preempt_delay is ignored with state MASTER, nopreempt or strict mode",
                        i.name
                    ),
                );
            }
            i.preempt_delay = Duration::ZERO;
        }
        if i.unicast_ttl != 255 && i.unicast_peers.is_empty() {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                format!(
                    "({}) cannot use unicast_ttl without unicast peers - resetting",
                    i.name
                ),
            );
            i.unicast_ttl = 255;
        }
        i.accept = accept.unwrap_or(!(i.strict_mode && i.priority != 255));
        Some(i)
    }

    fn authentication(&mut self, n: &Node, inst: &str) -> Option<Authentication> {
        let mut t = None;
        let mut pass = None;
        for c in self.children(n) {
            match c.keyword() {
                "auth_type" => {
                    if let Some(w) = self.arg1(c) {
                        t = match w.s {
                            "PASS" => Some(AuthType::Pass),
                            "AH" => Some(AuthType::Ah),
                            other => {
                                self.warn(
                                    DiagKind::InvalidValue,
                                    c,
                                    Some(w),
                                    format!("unknown auth_type `{other}`"),
                                );
                                None
                            }
                        }
                    }
                }
                "auth_pass" => {
                    if let Some(w) = self.arg1(c) {
                        let mut p = w.s.to_owned();
                        if p.len() > 8 {
                            self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("({inst}) truncating auth_pass to 8 characters"),
                            );
                            let mut cut = 8;
                            while !p.is_char_boundary(cut) {
                                cut -= 1;
                            }
                            p.truncate(cut);
                        }
                        pass = Some(p);
                    }
                }
                _ => self.unknown(c, "authentication", &[kw::AUTH]),
            }
        }
        match t {
            Some(auth_type) => Some(Authentication {
                auth_type,
                auth_pass: pass.unwrap_or_default(),
            }),
            None => {
                self.warn(
                    DiagKind::Missing,
                    n,
                    None,
                    format!("({inst}) authentication without a valid auth_type - ignoring"),
                );
                None
            }
        }
    }

    fn sync_group(&mut self, n: &Node) -> Option<VrrpSyncGroup> {
        let name = self.block_name(n)?;
        let mut g = VrrpSyncGroup {
            name,
            group: Vec::new(),
            track_interfaces: Vec::new(),
            track_scripts: Vec::new(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            notify_master: None,
            notify_backup: None,
            notify_fault: None,
            notify_stop: None,
            notify: None,
            smtp_alert: None,
            notify_priority_changes: None,
            sync_group_tracking_weight: false,
            unsupported: Vec::new(),
        };
        for c in self.children(n) {
            match c.keyword() {
                "group" => {
                    for m in self.children(c) {
                        g.group.extend(m.words().iter().map(|w| w.s.to_owned()));
                    }
                }
                "track_interface" => {
                    let t = self.track_interfaces(c);
                    g.track_interfaces.extend(t);
                }
                "track_script" => {
                    let t = self.track_refs(c, 253);
                    g.track_scripts.extend(t);
                }
                "track_file" => {
                    let t = self.track_refs(c, 254);
                    g.track_files.extend(t);
                }
                "track_process" => {
                    let t = self.track_refs(c, 254);
                    g.track_processes.extend(t);
                }
                "notify_master" => g.notify_master = self.script(c),
                "notify_backup" => g.notify_backup = self.script(c),
                "notify_fault" => g.notify_fault = self.script(c),
                "notify_stop" => g.notify_stop = self.script(c),
                "notify" => g.notify = self.script(c),
                "smtp_alert" => g.smtp_alert = self.flag(c),
                "notify_priority_changes" => g.notify_priority_changes = self.flag(c),
                "sync_group_tracking_weight" => g.sync_group_tracking_weight = true,
                k if kw::SYNC_GROUP_UNSUPPORTED.contains(&k) => {
                    self.unsupported(c, &mut g.unsupported)
                }
                _ => self.unknown(
                    c,
                    "vrrp_sync_group",
                    &[kw::SYNC_GROUP, kw::SYNC_GROUP_UNSUPPORTED],
                ),
            }
        }
        if g.group.is_empty() {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                format!("sync group {} has no members - ignoring", g.name),
            );
            return None;
        }
        Some(g)
    }

    fn vs_group(&mut self, n: &Node) -> Option<VirtualServerGroup> {
        let name = self.block_name(n)?;
        let mut g = VirtualServerGroup {
            name,
            entries: Vec::new(),
        };
        for c in self.children(n) {
            let a = c.words();
            let Some(first) = a.first() else { continue };
            if first.s == "fwmark" {
                let mark = a
                    .get(1)
                    .and_then(|w| self.int_word(c, *w, 1, i64::from(u32::MAX)))
                    .and_then(|v| u32::try_from(v).ok());
                let family = match a.get(2).map(|w| w.s) {
                    Some("inet") => Some(IpFamily::Inet),
                    Some("inet6") => Some(IpFamily::Inet6),
                    _ => None,
                };
                if let Some(mark) = mark {
                    g.entries.push(VsgEntry::Fwmark { mark, family });
                }
                continue;
            }
            let port = match a.get(1) {
                Some(p) => self
                    .int_word(c, *p, 0, 65535)
                    .and_then(|v| u16::try_from(v).ok()),
                None => None,
            };
            match parse_vsg_range(first.s) {
                Some((start, end)) => g.entries.push(VsgEntry::Range { start, end, port }),
                None => self.warn(
                    DiagKind::InvalidValue,
                    c,
                    Some(*first),
                    format!("invalid virtual_server_group entry `{}`", first.s),
                ),
            }
        }
        if g.entries.is_empty() {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                format!("virtual_server_group {} has no entries - removing", g.name),
            );
            return None;
        }
        Some(g)
    }

    fn lvs_method(&mut self, n: &Node) -> Option<(LvsMethod, Option<TunnelOptions>)> {
        let a = args(n);
        let w = self.arg1(n)?;
        let m = match w.s.to_ascii_uppercase().as_str() {
            "NAT" => LvsMethod::Nat,
            "DR" => LvsMethod::Dr,
            "TUN" => LvsMethod::Tun,
            _ => {
                self.warn(
                    DiagKind::InvalidValue,
                    n,
                    Some(w),
                    format!("unknown forwarding method `{}`", w.s),
                );
                return None;
            }
        };
        if m != LvsMethod::Tun {
            return Some((m, None));
        }
        let mut t = TunnelOptions {
            tunnel_type: "ipip".into(),
            port: None,
            checksum: None,
        };
        let mut i = 1;
        while i < a.len() {
            match a[i].s {
                "type" => {
                    if let Some(v) = a.get(i + 1) {
                        t.tunnel_type = v.s.to_owned();
                    }
                    i += 2;
                }
                "port" => {
                    t.port = a
                        .get(i + 1)
                        .and_then(|p| self.int_word(n, *p, 1, 65535))
                        .and_then(|v| u16::try_from(v).ok());
                    i += 2;
                }
                "nocsum" | "csum" | "remcsum" => {
                    t.checksum = Some(a[i].s.to_owned());
                    i += 1;
                }
                other => {
                    self.warn(
                        DiagKind::InvalidValue,
                        n,
                        Some(a[i]),
                        format!("unknown tunnel option `{other}`"),
                    );
                    i += 1;
                }
            }
        }
        Some((m, Some(t)))
    }

    /// Handles `c` (whose keyword is `k`) if it is an inherited timing keyword.
    fn inherit_kw(&mut self, c: &Node, k: &str, inh: &mut Inherit) -> bool {
        match k {
            "connect_timeout" => {
                inh.connect_timeout = self
                    .timer(c, 1, u64::from(u32::MAX))
                    .or(inh.connect_timeout)
            }
            "retry" => inh.retry = self.u32v(c, 0, u32::MAX).or(inh.retry),
            "delay_before_retry" => {
                inh.delay_before_retry = self
                    .timer(c, 0, u64::from(u32::MAX))
                    .or(inh.delay_before_retry)
            }
            "warmup" => inh.warmup = self.timer(c, 0, u64::from(u32::MAX)).or(inh.warmup),
            "delay_loop" => {
                inh.delay_loop = self.timer(c, 1, u64::from(u32::MAX)).or(inh.delay_loop)
            }
            "alpha" => inh.alpha = self.flag(c).or(inh.alpha),
            "virtualhost" => inh.virtualhost = self.string(c).or(inh.virtualhost.take()),
            _ => return false,
        }
        true
    }

    fn virtual_server(&mut self, n: &Node) -> Option<VirtualServer> {
        let a = args(n);
        let target = match a.first().map(|w| w.s) {
            Some("fwmark") => {
                let mark = a
                    .get(1)
                    .and_then(|w| self.int_word(n, *w, 1, i64::from(u32::MAX)))
                    .and_then(|v| u32::try_from(v).ok());
                VsTarget::Fwmark { mark: mark? }
            }
            Some("group") => match a.get(1) {
                Some(g) => VsTarget::Group {
                    name: g.s.to_owned(),
                },
                None => {
                    self.d(
                        Severity::Error,
                        DiagKind::Missing,
                        n,
                        None,
                        "virtual_server group needs a name".into(),
                        None,
                    );
                    return None;
                }
            },
            Some(_) => {
                let Some(addr) = a.first().and_then(|w| self.ip_word(n, *w)) else {
                    self.d(
                        Severity::Error,
                        DiagKind::InvalidValue,
                        n,
                        None,
                        "virtual_server: invalid address; block ignored".into(),
                        None,
                    );
                    return None;
                };
                let port = match a.get(1) {
                    Some(p) => self
                        .int_word(n, *p, 0, 65535)
                        .and_then(|v| u16::try_from(v).ok()),
                    None => None,
                };
                VsTarget::Address {
                    address: addr,
                    port,
                }
            }
            None => {
                self.d(
                    Severity::Error,
                    DiagKind::Missing,
                    n,
                    None,
                    "virtual_server needs an address, fwmark or group".into(),
                    None,
                );
                return None;
            }
        };
        // Only diagnostics use it.
        let vs_desc = || {
            n.text
                .trim_start_matches("virtual_server")
                .trim()
                .to_owned()
        };
        let mut v = VirtualServer {
            target,
            ip_family: None,
            lvs_sched: Scheduler::Wlc,
            lvs_method: LvsMethod::Nat,
            tunnel: None,
            protocol: Protocol::Udp,
            persistence_timeout: None,
            persistence_granularity: None,
            persistence_engine: None,
            flags: LvsFlags::default(),
            delay_loop: Duration::from_secs(60),
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            warmup: None,
            inhibit_on_failure: false,
            alpha: false,
            omega: false,
            quorum: 1,
            hysteresis: 0,
            quorum_up: None,
            quorum_down: None,
            sorry_server: None,
            sorry_server_inhibit: false,
            sorry_server_lvs_method: None,
            ha_suspend: false,
            virtualhost: None,
            weight: 1,
            smtp_alert: None,
            real_servers: Vec::new(),
            unsupported: Vec::new(),
        };
        let (mut sched, mut method, mut proto, mut persist_bare) = (false, false, None, false);
        let mut inh = Inherit::default();
        let children = self.children(n);
        // The real servers are read after the other keywords (they inherit from them).
        let mut real = Vec::with_capacity(children.len());
        for c in children {
            let k = c.keyword();
            if k == "real_server" {
                real.push(c);
                continue;
            }
            if self.inherit_kw(c, k, &mut inh) {
                continue;
            }
            match k {
                "lvs_sched" | "lb_algo" => {
                    if let Some(w) = self.arg1(c) {
                        match Scheduler::ALL.iter().find(|s| s.as_str() == w.s) {
                            Some(s) => {
                                v.lvs_sched = *s;
                                sched = true;
                            }
                            None => self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("unknown scheduler `{}`", w.s),
                            ),
                        }
                    }
                }
                "lvs_method" | "lb_kind" => {
                    if let Some((m, t)) = self.lvs_method(c) {
                        v.lvs_method = m;
                        v.tunnel = t;
                        method = true;
                    }
                }
                "protocol" => {
                    if let Some(w) = self.arg1(c) {
                        match w.s.to_ascii_uppercase().as_str() {
                            "TCP" => proto = Some(Protocol::Tcp),
                            "UDP" => proto = Some(Protocol::Udp),
                            "SCTP" => proto = Some(Protocol::Sctp),
                            _ => self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("unknown protocol `{}`", w.s),
                            ),
                        }
                    }
                }
                "persistence_timeout" => match args(c).first() {
                    None => persist_bare = true,
                    Some(w) => {
                        if let Some(t) = self.int_word(c, *w, 1, 2_678_400) {
                            v.persistence_timeout = Some(Duration::from_secs(t.unsigned_abs()));
                        }
                    }
                },
                "persistence_granularity" => v.persistence_granularity = self.string(c),
                "persistence_engine" => v.persistence_engine = self.string(c),
                "hashed" => v.flags.hashed = true,
                "flag-1" => v.flags.flag_1 = true,
                "flag-2" => v.flags.flag_2 = true,
                "flag-3" => v.flags.flag_3 = true,
                "sh-port" => v.flags.sh_port = true,
                "sh-fallback" => v.flags.sh_fallback = true,
                "mh-port" => v.flags.mh_port = true,
                "mh-fallback" => v.flags.mh_fallback = true,
                "ops" => v.flags.ops = true,
                "inhibit_on_failure" => v.inhibit_on_failure = self.flag(c).unwrap_or(true),
                "omega" => v.omega = true,
                "quorum" => v.quorum = self.u32v(c, 1, u32::MAX).unwrap_or(v.quorum),
                "hysteresis" => v.hysteresis = self.u32v(c, 0, u32::MAX).unwrap_or(v.hysteresis),
                "quorum_up" => v.quorum_up = self.script(c),
                "quorum_down" => v.quorum_down = self.script(c),
                "sorry_server" => {
                    let a = args(c);
                    match a.first().and_then(|w| self.ip_word(c, *w)) {
                        Some(address) => {
                            let port = a
                                .get(1)
                                .and_then(|p| self.int_word(c, *p, 0, 65535))
                                .and_then(|p| u16::try_from(p).ok());
                            v.sorry_server = Some(SorryServer { address, port });
                        }
                        None => self.warn(
                            DiagKind::Missing,
                            c,
                            None,
                            "sorry_server needs an address".into(),
                        ),
                    }
                }
                "sorry_server_inhibit" => v.sorry_server_inhibit = self.flag(c).unwrap_or(true),
                "sorry_server_lvs_method" => {
                    v.sorry_server_lvs_method = self.lvs_method(c).map(|m| m.0)
                }
                "ha_suspend" => v.ha_suspend = true,
                "weight" => {
                    v.weight = self
                        .u32v(c, 1, i32::MAX.cast_unsigned())
                        .unwrap_or(v.weight)
                }
                "ip_family" => match self.arg1(c).map(|w| w.s) {
                    Some("inet") => v.ip_family = Some(IpFamily::Inet),
                    Some("inet6") => v.ip_family = Some(IpFamily::Inet6),
                    Some(_) => self.warn(
                        DiagKind::InvalidValue,
                        c,
                        None,
                        "ip_family must be inet or inet6".into(),
                    ),
                    None => {}
                },
                "smtp_alert" => v.smtp_alert = self.flag(c),
                k if kw::VS_UNSUPPORTED.contains(&k) => self.unsupported(c, &mut v.unsupported),
                _ => self.unknown(
                    c,
                    "virtual_server",
                    &[kw::VS, kw::VS_UNSUPPORTED, kw::INHERITED],
                ),
            }
        }
        v.delay_loop = inh.delay_loop.unwrap_or(v.delay_loop);
        v.connect_timeout = inh.connect_timeout;
        v.retry = inh.retry;
        v.delay_before_retry = inh.delay_before_retry;
        v.warmup = inh.warmup;
        v.alpha = inh.alpha.unwrap_or(false);
        v.virtualhost = inh.virtualhost.clone();
        inh.delay_loop = Some(v.delay_loop);
        let is_fwmark = matches!(v.target, VsTarget::Fwmark { .. });
        match proto {
            Some(p) => {
                v.protocol = p;
                if is_fwmark {
                    self.warn(
                        DiagKind::Semantic,
                        n,
                        None,
                        "protocol specified for fwmark - protocol will be ignored".into(),
                    );
                }
            }
            None if !is_fwmark => {
                self.d(
                    Severity::Warning,
                    DiagKind::DefaultApplied,
                    n,
                    None,
                    format!(
                        "virtual server {}: no protocol set - defaulting to UDP",
                        vs_desc()
                    ),
                    Some("add `protocol TCP` if this is a TCP service".into()),
                );
            }
            None => {}
        }
        if !sched {
            self.warn(
                DiagKind::DefaultApplied,
                n,
                None,
                format!(
                    "virtual server {}: no scheduler set, setting default 'wlc'",
                    vs_desc()
                ),
            );
        }
        if !method {
            self.warn(
                DiagKind::DefaultApplied,
                n,
                None,
                format!(
                    "virtual server {}: no forwarding method set, setting default NAT",
                    vs_desc()
                ),
            );
        }
        if v.persistence_timeout.is_none() && (persist_bare || v.persistence_granularity.is_some())
        {
            v.persistence_timeout = Some(Duration::from_secs(360));
        }
        let vs_port = match v.target {
            VsTarget::Address { port, .. } => port,
            _ => None,
        };
        let seen: std::collections::HashSet<_, FxBuild> = if real.len() > SMALL_RS {
            std::collections::HashSet::with_capacity_and_hasher(real.len(), FxBuild::default())
        } else {
            std::collections::HashSet::default()
        };
        let mut kept = RealServers {
            list: Vec::with_capacity(real.len()),
            seen,
            hashed: real.len() > SMALL_RS,
        };
        for c in real {
            self.real_server(c, &v, &inh, vs_port, is_fwmark, &mut kept);
        }
        v.real_servers = kept.list;
        if v.real_servers.is_empty() {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                format!(
                    "virtual server {} has no real servers - ignoring",
                    vs_desc()
                ),
            );
            return None;
        }
        Some(v)
    }

    /// Reads a `real_server` block into `kept` (unless invalid or a duplicate).
    fn real_server(
        &mut self,
        n: &Node,
        vs: &VirtualServer,
        vs_inh: &Inherit,
        vs_port: Option<u16>,
        fwmark: bool,
        kept: &mut RealServers,
    ) {
        // Only the address and port are looked at: no vector for the words.
        let (addr_w, port_w) = n.first_two_args();
        let Some(addr) = addr_w.and_then(|w| self.ip_word(n, w)) else {
            self.d(
                Severity::Error,
                DiagKind::InvalidValue,
                n,
                None,
                "real_server needs a valid address; block ignored".into(),
                None,
            );
            return;
        };
        let mut port = match port_w {
            Some(p) => self
                .int_word(n, p, 0, 65535)
                .and_then(|v| u16::try_from(v).ok()),
            None => None,
        };
        let mut rs = RealServer {
            address: addr,
            port: None,
            weight: vs.weight,
            lvs_method: vs.lvs_method,
            inhibit_on_failure: vs.inhibit_on_failure,
            notify_up: None,
            notify_down: None,
            uthreshold: None,
            lthreshold: None,
            smtp_alert: None,
            checkers: Vec::new(),
            unsupported: Vec::new(),
        };
        let mut inh = vs_inh.clone();
        let children = self.block(n);
        let mut n_checkers = 0;
        for c in children {
            let k = c.keyword();
            if kw::is_checker(k) {
                n_checkers += 1;
                continue;
            }
            if self.inherit_kw(c, k, &mut inh) {
                continue;
            }
            match k {
                "weight" => {
                    rs.weight = self
                        .u32v(c, 0, i32::MAX.cast_unsigned())
                        .unwrap_or(rs.weight)
                }
                "lvs_method" => {
                    if let Some((m, _)) = self.lvs_method(c) {
                        rs.lvs_method = m;
                    }
                }
                "inhibit_on_failure" => {
                    rs.inhibit_on_failure = self.flag(c).unwrap_or(rs.inhibit_on_failure)
                }
                "notify_up" => rs.notify_up = self.script(c),
                "notify_down" => rs.notify_down = self.script(c),
                "uthreshold" => rs.uthreshold = self.u32v(c, 0, u32::MAX),
                "lthreshold" => rs.lthreshold = self.u32v(c, 0, u32::MAX),
                "smtp_alert" => rs.smtp_alert = self.flag(c),
                k if kw::RS_UNSUPPORTED.contains(&k) => self.unsupported(c, &mut rs.unsupported),
                _ => self.unknown(
                    c,
                    "real_server",
                    &[kw::RS, kw::RS_UNSUPPORTED, kw::INHERITED, kw::CHECKERS],
                ),
            }
        }
        if port.is_none() && !fwmark {
            port = vs_port;
        }
        if !fwmark && rs.lvs_method != LvsMethod::Nat && port != vs_port {
            self.warn(
                DiagKind::Semantic,
                n,
                port_w,
                "real server port differs from the virtual server port, which is only possible with NAT; using the virtual server port".into(),
            );
            port = vs_port;
        }
        rs.port = port;
        if n_checkers > 0 {
            rs.checkers.reserve_exact(n_checkers);
            for c in children.iter().filter(|c| kw::is_checker(c.keyword())) {
                if let Some(ch) = self.checker(c, &inh) {
                    rs.checkers.push(ch);
                }
            }
        }
        let dup = if kept.hashed {
            !kept.seen.insert((rs.address, rs.port))
        } else {
            kept.list
                .iter()
                .any(|r| r.address == rs.address && r.port == rs.port)
        };
        if dup {
            self.warn(
                DiagKind::Semantic,
                n,
                None,
                "duplicate real server - removing".into(),
            );
        } else {
            kept.list.push(rs);
        }
    }

    fn checker(&mut self, n: &Node, inh: &Inherit) -> Option<Checker> {
        let k = n.keyword();
        let delay_loop = inh.delay_loop.unwrap_or(Duration::from_secs(60));
        let mut ch = Checker {
            kind: CheckerKind::Tcp,
            connect_ip: None,
            connect_port: None,
            bindto: None,
            bind_port: None,
            bind_if: None,
            fwmark: None,
            connect_timeout: Duration::ZERO,
            retry: 0,
            delay_before_retry: Duration::ZERO,
            warmup: Duration::ZERO,
            delay_loop,
            alpha: inh.alpha.unwrap_or(false),
            log_all_failures: false,
        };
        let mut local = Inherit::default();
        // Checker-specific settings are built lazily: most checkers are TCP_CHECKs.
        let mut http: Option<HttpCheck> = None;
        let mut misc = MiscCheck {
            misc_path: None,
            misc_timeout: Duration::ZERO,
            misc_dynamic: false,
            user: None,
        };
        let mut misc_timeout = None;
        let mut smtp: Option<SmtpCheck> = None;
        let mut dns: Option<DnsCheck> = None;
        let mut udp = UdpCheck {
            payload: None,
            require_reply: None,
            min_reply_length: 0,
            max_reply_length: 255,
        };
        let mut file = FileCheck {
            track_file: None,
            weight: None,
            reverse: false,
        };
        let mut bfd = BfdCheck { name: None };
        let new_http = || HttpCheck {
            urls: Vec::new(),
            http_protocol: "1.0".into(),
            virtualhost: None,
            fast_recovery: false,
            enable_sni: false,
            sni_name: None,
            tls_compliant: false,
        };
        let new_smtp = || SmtpCheck {
            helo_name: "smtpchecker.keepalived.org".into(),
        };
        let new_dns = || DnsCheck {
            query_type: "SOA".into(),
            name: ".".into(),
        };
        let common_connect = !matches!(k, "MISC_CHECK" | "FILE_CHECK" | "BFD_CHECK");
        let common_timing = !matches!(k, "FILE_CHECK" | "BFD_CHECK");
        let specific: &[&str] = match k {
            "HTTP_GET" | "SSL_GET" => kw::HTTP,
            "MISC_CHECK" => kw::MISC,
            "SMTP_CHECK" => kw::SMTP,
            "DNS_CHECK" => kw::DNS,
            "UDP_CHECK" => kw::UDP,
            "FILE_CHECK" => kw::FILE_CHECK,
            "BFD_CHECK" => kw::BFD_CHECK,
            _ => &[],
        };
        for c in self.children(n) {
            let ck = c.keyword();
            if common_connect {
                let handled = match ck {
                    "connect_ip" => {
                        ch.connect_ip = self.ip(c);
                        true
                    }
                    "connect_port" => {
                        ch.connect_port = self.port(c);
                        true
                    }
                    "bindto" => {
                        ch.bindto = self.ip(c);
                        true
                    }
                    "bind_port" => {
                        ch.bind_port = self.port(c);
                        true
                    }
                    "bind_if" => {
                        ch.bind_if = self.string(c);
                        true
                    }
                    "fwmark" => {
                        ch.fwmark = self.u32v(c, 0, u32::MAX);
                        true
                    }
                    "connect_timeout" => {
                        local.connect_timeout = self
                            .timer(c, 1, u64::from(u32::MAX))
                            .or(local.connect_timeout);
                        true
                    }
                    _ => false,
                };
                if handled {
                    continue;
                }
            }
            if common_timing
                && matches!(
                    ck,
                    "retry" | "delay_before_retry" | "warmup" | "delay_loop" | "alpha"
                )
            {
                self.inherit_kw(c, c.keyword(), &mut local);
                continue;
            }
            if common_timing && ck == "log_all_failures" {
                ch.log_all_failures = self.flag(c).unwrap_or(true);
                continue;
            }
            match (k, ck) {
                ("HTTP_GET" | "SSL_GET", "url") => {
                    if let Some(u) = self.url(c) {
                        http.get_or_insert_with(new_http).urls.push(u);
                    }
                }
                ("HTTP_GET" | "SSL_GET", "nb_get_retry") => {
                    self.deprecated(c, "retry");
                    local.retry = self.u32v(c, 0, u32::MAX).or(local.retry);
                }
                ("HTTP_GET" | "SSL_GET", "http_protocol") => {
                    if let Some(w) = self.arg1(c) {
                        match w.s {
                            "1.0" | "1.0C" | "1.1" => {
                                http.get_or_insert_with(new_http).http_protocol = w.s.to_owned()
                            }
                            "1.0c" => {
                                http.get_or_insert_with(new_http).http_protocol = "1.0C".into()
                            }
                            _ => self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("unknown http_protocol `{}`", w.s),
                            ),
                        }
                    }
                }
                ("HTTP_GET" | "SSL_GET", "virtualhost") => {
                    http.get_or_insert_with(new_http).virtualhost = self.string(c)
                }
                ("HTTP_GET" | "SSL_GET", "fast_recovery") => {
                    http.get_or_insert_with(new_http).fast_recovery = self.flag(c).unwrap_or(true);
                }
                ("HTTP_GET" | "SSL_GET", "enable_sni") => {
                    http.get_or_insert_with(new_http).enable_sni = self.flag(c).unwrap_or(true)
                }
                ("HTTP_GET" | "SSL_GET", "sni_name") => {
                    http.get_or_insert_with(new_http).sni_name = self.string(c)
                }
                ("HTTP_GET" | "SSL_GET", "tls_compliant") => {
                    http.get_or_insert_with(new_http).tls_compliant = self.flag(c).unwrap_or(true);
                }
                ("MISC_CHECK", "misc_path") => misc.misc_path = self.script(c),
                ("MISC_CHECK", "misc_timeout") => {
                    misc_timeout = self.timer(c, 1, u64::from(u32::MAX))
                }
                ("MISC_CHECK", "misc_dynamic") => misc.misc_dynamic = true,
                ("MISC_CHECK", "user") => misc.user = self.script_user(c),
                ("SMTP_CHECK", "helo_name") => {
                    if let Some(h) = self.string(c) {
                        smtp = Some(SmtpCheck { helo_name: h });
                    }
                }
                ("SMTP_CHECK", "host") => {
                    self.d(
                        Severity::Warning,
                        DiagKind::Deprecated,
                        c,
                        None,
                        "SMTP_CHECK `host` sub-blocks are deprecated and not supported; use one SMTP_CHECK per host".into(),
                        None,
                    );
                }
                ("DNS_CHECK", "type") => {
                    if let Some(w) = self.arg1(c) {
                        let t = w.s.to_ascii_uppercase();
                        if [
                            "A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA", "RRSIG", "DNSKEY",
                        ]
                        .contains(&t.as_str())
                        {
                            dns.get_or_insert_with(new_dns).query_type = t;
                        } else {
                            self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("unknown DNS type `{}`", w.s),
                            );
                        }
                    }
                }
                ("DNS_CHECK", "name") => {
                    if let Some(name) = self.string(c) {
                        dns.get_or_insert_with(new_dns).name = name;
                    }
                }
                ("UDP_CHECK", "payload") => udp.payload = self.string(c),
                ("UDP_CHECK", "require_reply") => {
                    udp.require_reply =
                        Some(args(c).first().map(|w| w.s.to_owned()).unwrap_or_default());
                }
                ("UDP_CHECK", "min_reply_length") => {
                    udp.min_reply_length = self.u32v(c, 0, 65535).unwrap_or(0)
                }
                ("UDP_CHECK", "max_reply_length") => {
                    udp.max_reply_length = self.u32v(c, 0, 65535).unwrap_or(255)
                }
                ("FILE_CHECK", "track_file") => file.track_file = self.string(c),
                ("FILE_CHECK", "weight") => {
                    if let Some((w, r)) = self.weight_reverse(c, -254, 254) {
                        file.weight = Some(w);
                        file.reverse = r;
                    }
                }
                ("BFD_CHECK", "name") => bfd.name = self.string(c),
                ("BFD_CHECK", "alpha") => ch.alpha = self.flag(c).unwrap_or(true),
                _ => {
                    let common: &[&str] = if common_connect {
                        kw::CHECK_COMMON
                    } else {
                        kw::CHECK_TIMING
                    };
                    self.unknown(c, k, &[specific, common]);
                }
            }
        }
        let merged = |a: Option<Duration>, b: Option<Duration>| a.or(b);
        let (def_retry, def_dbr) = match k {
            "MISC_CHECK" => (0, Duration::from_secs(1)),
            "DNS_CHECK" => (3, delay_loop),
            "HTTP_GET" | "SSL_GET" => (1, Duration::from_secs(3)),
            _ => (1, Duration::from_secs(1)),
        };
        ch.delay_loop = local.delay_loop.unwrap_or(delay_loop);
        ch.connect_timeout = if common_connect {
            merged(local.connect_timeout, inh.connect_timeout).unwrap_or(Duration::from_secs(5))
        } else {
            // MISC/FILE/BFD do not connect: the field keeps its default.
            Duration::from_secs(5)
        };
        ch.retry = local.retry.or(inh.retry).unwrap_or(def_retry);
        ch.delay_before_retry =
            merged(local.delay_before_retry, inh.delay_before_retry).unwrap_or(def_dbr);
        ch.warmup = merged(local.warmup, inh.warmup).unwrap_or(ch.delay_loop);
        if let Some(a) = local.alpha {
            ch.alpha = a;
        }
        ch.kind = match k {
            "TCP_CHECK" => CheckerKind::Tcp,
            "HTTP_GET" | "SSL_GET" => {
                let mut http = http.unwrap_or_else(new_http);
                if http.urls.is_empty() {
                    self.warn(
                        DiagKind::Missing,
                        n,
                        None,
                        format!("{k} has no url block - checker ignored"),
                    );
                    return None;
                }
                if http.virtualhost.is_none() {
                    http.virtualhost = inh.virtualhost.clone();
                }
                if k == "HTTP_GET" {
                    CheckerKind::Http(http)
                } else {
                    CheckerKind::Ssl(http)
                }
            }
            "MISC_CHECK" => {
                if misc.misc_path.is_none() {
                    self.warn(
                        DiagKind::Missing,
                        n,
                        None,
                        "MISC_CHECK has no misc_path - checker ignored".into(),
                    );
                    return None;
                }
                misc.misc_timeout = misc_timeout.unwrap_or(ch.delay_loop);
                CheckerKind::Misc(misc)
            }
            "SMTP_CHECK" => CheckerKind::Smtp(smtp.unwrap_or_else(new_smtp)),
            "DNS_CHECK" => CheckerKind::Dns(dns.unwrap_or_else(new_dns)),
            "UDP_CHECK" => CheckerKind::Udp(udp),
            "PING_CHECK" => CheckerKind::Ping,
            "FILE_CHECK" => {
                if file.track_file.is_none() {
                    self.warn(
                        DiagKind::Missing,
                        n,
                        None,
                        "FILE_CHECK has no track_file - checker ignored".into(),
                    );
                    return None;
                }
                CheckerKind::File(file)
            }
            _ => {
                self.d(
                    Severity::Note,
                    DiagKind::Unsupported,
                    n,
                    None,
                    "BFD_CHECK accepted, not supported yet (BFD is not implemented)".into(),
                    None,
                );
                CheckerKind::Bfd(bfd)
            }
        };
        Some(ch)
    }

    fn url(&mut self, n: &Node) -> Option<HttpUrl> {
        let mut u = HttpUrl {
            path: String::new(),
            digest: None,
            status_codes: Vec::new(),
            virtualhost: None,
            regex: None,
            regex_no_match: false,
        };
        let mut have_path = false;
        let mut unsupported = Vec::new();
        for c in self.children(n) {
            match c.keyword() {
                "path" => {
                    if let Some(p) = self.string(c) {
                        u.path = p;
                        have_path = true;
                    }
                }
                "digest" => {
                    if let Some(w) = self.arg1(c) {
                        if w.s.len() == 32 && w.s.bytes().all(|b| b.is_ascii_hexdigit()) {
                            u.digest = Some(w.s.to_ascii_lowercase());
                        } else {
                            self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                "digest must be 32 hex digits (MD5)".into(),
                            );
                        }
                    }
                }
                "status_code" => {
                    for w in args(c) {
                        let (lo, hi) = match w.s.split_once('-') {
                            Some((a, b)) => (a, b),
                            None => (w.s, w.s),
                        };
                        match (lo.parse::<u16>(), hi.parse::<u16>()) {
                            (Ok(a), Ok(b))
                                if (100..=599).contains(&a) && (a..=599).contains(&b) =>
                            {
                                u.status_codes.push(StatusRange { min: a, max: b });
                            }
                            _ => self.warn(
                                DiagKind::InvalidValue,
                                c,
                                Some(w),
                                format!("invalid status_code `{}`", w.s),
                            ),
                        }
                    }
                }
                "virtualhost" => u.virtualhost = self.string(c),
                "regex" => u.regex = self.string(c),
                "regex_no_match" => u.regex_no_match = true,
                k if kw::URL_UNSUPPORTED.contains(&k) => self.unsupported(c, &mut unsupported),
                _ => self.unknown(c, "url", &[kw::URL, kw::URL_UNSUPPORTED]),
            }
        }
        if !have_path {
            self.warn(
                DiagKind::Missing,
                n,
                None,
                "url without a path - ignoring".into(),
            );
            return None;
        }
        Some(u)
    }

    fn ssl(&mut self, n: &Node) -> SslContext {
        let mut s = SslContext::default();
        for c in self.children(n) {
            match c.keyword() {
                "password" => s.password = self.string(c),
                "ca" => s.ca = self.string(c),
                "certificate" => s.certificate = self.string(c),
                "key" => s.key = self.string(c),
                _ => self.unknown(c, "SSL", &[kw::SSL]),
            }
        }
        s
    }
}

/// `IP`, `A.B.C.D-E`, `A-B` or `IP/len` into an inclusive range.
fn parse_vsg_range(s: &str) -> Option<(IpAddr, IpAddr)> {
    if let Some((a, len)) = s.split_once('/') {
        let addr: IpAddr = a.parse().ok()?;
        let len: u32 = len.parse().ok()?;
        return match addr {
            IpAddr::V4(v4) if len <= 32 => {
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                let base = u32::from(v4) & mask;
                Some((IpAddr::V4(base.into()), IpAddr::V4((base | !mask).into())))
            }
            IpAddr::V6(v6) if len <= 128 => {
                let mask = if len == 0 {
                    0
                } else {
                    u128::MAX << (128 - len)
                };
                let base = u128::from(v6) & mask;
                Some((IpAddr::V6(base.into()), IpAddr::V6((base | !mask).into())))
            }
            _ => None,
        };
    }
    if let Some((a, b)) = s.split_once('-') {
        let start: IpAddr = a.parse().ok()?;
        if let Ok(end) = b.parse::<IpAddr>() {
            return (end.is_ipv4() == start.is_ipv4()).then_some((start, end));
        }
        // Last-part range: A.B.C.D-E (IPv4 last octet) or IPv6 last 16 bits in hex.
        return match start {
            IpAddr::V4(v4) => {
                let e: u8 = b.parse().ok()?;
                let o = v4.octets();
                Some((start, IpAddr::V4([o[0], o[1], o[2], e].into())))
            }
            IpAddr::V6(v6) => {
                let e = u16::from_str_radix(b, 16).ok()?;
                let mut seg = v6.segments();
                seg[7] = e;
                Some((start, IpAddr::V6(seg.into())))
            }
        };
    }
    let a: IpAddr = s.parse().ok()?;
    Some((a, a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ipv4_agrees_with_from_str() {
        let mut cases: Vec<String> = [
            "0.0.0.0",
            "1.2.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1.2.3.4.5",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1..3.4",
            "1.2.3.",
            ".1.2.3",
            "",
            "1234.1.1.1",
            "1.2.3.4x",
            "+1.2.3.4",
            "1.2.3.255",
            "1.2.3.256",
            "198.51.100.1",
            "192.0.2.250",
            "::1",
            "::ffff:1.2.3.4",
            "0.0.0.00",
            "192.0.2.1/24",
            "٣.1.1.1",
            "1.2.3.0001",
            "1.2.3.4.",
            "999.1.1.1",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Every octet of one to four digits, with and without leading zeros, in each place.
        for o in 0..10_000u32 {
            for t in [format!("{o}"), format!("{o:02}"), format!("{o:03}")] {
                cases.push(format!("10.{t}.0.1"));
                cases.push(format!("{t}.1.2.3"));
                cases.push(format!("1.2.3.{t}"));
            }
        }
        for s in &cases {
            let std = s.parse::<std::net::IpAddr>().ok();
            let ours = plain_ipv4(s).map(IpAddr::V4);
            assert!(ours.is_none() || ours == std, "{s}: {ours:?} vs {std:?}");
            if std.is_some_and(|a| a.is_ipv4()) {
                assert_eq!(ours, std, "{s}");
            }
        }
    }

    #[test]
    fn parse_i64_agrees_with_from_str() {
        for s in [
            "",
            "0",
            "1",
            "8080",
            "007",
            "+1",
            "-1",
            "1a",
            " 1",
            "999999999999999999",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775808",
            "١",
            "1.5",
        ] {
            assert_eq!(parse_i64(s), s.parse::<i64>(), "{s:?}");
        }
    }

    #[test]
    fn timers() {
        assert_eq!(parse_timer("1"), Some(Duration::from_secs(1)));
        assert_eq!(parse_timer("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(
            parse_timer("1.000001"),
            Some(Duration::from_micros(1_000_001))
        );
        assert_eq!(parse_timer("1.0000001"), None);
        assert_eq!(parse_timer("-1"), None);
        assert_eq!(parse_timer("x"), None);
    }

    #[test]
    fn command_splitting() {
        assert_eq!(
            split_command("/bin/echo 'a b' \"c d\" e\\ f"),
            vec!["/bin/echo", "a b", "c d", "e f"]
        );
        assert_eq!(split_command("x \\t\\x41\\101"), vec!["x", "\tAA"]);
    }

    #[test]
    fn vsg_ranges() {
        let r = parse_vsg_range("192.0.2.1-10").unwrap_or_else(|| unreachable!());
        assert_eq!(r.1.to_string(), "192.0.2.10");
        let r = parse_vsg_range("192.0.2.0/30").unwrap_or_else(|| unreachable!());
        assert_eq!(
            (r.0.to_string(), r.1.to_string()),
            ("192.0.2.0".into(), "192.0.2.3".into())
        );
    }
}
