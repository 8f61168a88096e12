//! `reparse` (only the changed `virtual_server` blocks parsed) against the full parse: whenever
//! it answers, its configuration equals the full parse's and the full parse is clean; for the
//! common reload edits it does answer.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::{Baseline, Config, Options, Parsed, parse_str_with, reparse};
use proptest::prelude::*;
use std::path::Path;

const PATH: &str = "/etc/keepalived/keepalived.conf";

fn opts() -> Options {
    Options {
        config_id: Some("test".into()),
        random_seed: Some(0),
        ..Options::default()
    }
}

fn full(text: &str) -> Parsed {
    parse_str_with(&kconf_parser::MemFs::new(), Path::new(PATH), text, &opts())
}

/// A director configuration: global_defs, a VRRP instance, a group, `n` virtual servers of
/// `m` real servers (one of them through the group), and comments.
fn director(n: usize, m: usize) -> String {
    let mut s = String::from(
        "! generated\nglobal_defs {\n    router_id test # the id\n}\n\nvrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n    priority 100\n    virtual_ipaddress {\n        192.0.2.200/24\n    }\n}\n\nvirtual_server_group web {\n    192.0.2.250 80\n}\n\n",
    );
    for i in 0..n {
        if i == 1 {
            s.push_str("virtual_server group web {\n");
        } else {
            s.push_str(&format!(
                "virtual_server 192.0.2.{} {} {{\n",
                i % 200 + 1,
                1000 + i
            ));
        }
        s.push_str("    lb_algo wlc\n    lb_kind NAT\n    protocol TCP\n    delay_loop 5\n");
        for j in 0..m {
            s.push_str(&format!(
                "    real_server 198.51.100.{} 8080 {{\n        weight {}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n",
                j + 1,
                j % 3 + 1
            ));
        }
        s.push_str("}\n\n");
    }
    s
}

fn baseline(text: &str) -> (Baseline, Config) {
    let p = full(text);
    assert!(p.diagnostics.is_empty(), "{}", p.render_diagnostics());
    let b = Baseline::new(&p).expect("a clean single-file parse is a baseline");
    (b, p.config)
}

/// `reparse` of `new` against the clean `old`: when it answers, it must equal the full parse.
fn check(old: &str, new: &str) -> Option<(Config, Baseline)> {
    let (b, c) = baseline(old);
    let r = reparse(&b, &c, new, Path::new(PATH), &opts());
    if let Some((config, _)) = &r {
        let f = full(new);
        assert!(
            f.diagnostics.is_empty(),
            "answered for a text the full parse reports on:\n{}",
            f.render_diagnostics()
        );
        assert_eq!(*config, f.config, "reparse differs from the full parse");
    }
    r
}

#[test]
fn the_usual_reload_edits_take_the_fast_path_and_equal_the_full_parse() {
    let old = director(6, 4);
    let weight = old.replacen("weight 1\n", "weight 5\n", 3);
    let added_rs = old.replacen(
        "    real_server 198.51.100.1 8080 {",
        "    real_server 198.51.100.9 8080 {\n        weight 2\n    }\n    real_server 198.51.100.1 8080 {",
        2,
    );
    let removed_rs = old.replacen(
        "    real_server 198.51.100.2 8080 {\n        weight 2\n        TCP_CHECK {\n            connect_timeout 3\n        }\n    }\n",
        "",
        1,
    );
    // A copy of the first virtual server under another address, at the end and in between.
    let first = &old[old.find("virtual_server 192.0.2.1 ").unwrap()..];
    let first = &first[..first.find("\n}\n").unwrap() + 3];
    let added_vs = format!("{old}{}", first.replace("192.0.2.1 1000", "192.0.2.99 99"));
    let split_vs = old.replacen(
        "virtual_server 192.0.2.3 1002 {",
        &format!(
            "{}\nvirtual_server 192.0.2.3 1002 {{",
            first.replace("192.0.2.1 1000", "192.0.2.98 98")
        ),
        1,
    );
    // The last virtual server removed.
    let cut = old.rfind("virtual_server ").unwrap();
    let removed_vs = old[..cut].to_owned();
    let comment = old.replacen("    lb_algo wlc\n", "    lb_algo wlc # was rr\n", 1);
    for (what, new) in [
        ("unchanged", old.clone()),
        ("weights", weight),
        ("real server added", added_rs),
        ("real server removed", removed_rs),
        ("virtual server added", added_vs),
        ("virtual server split", split_vs),
        ("virtual server removed", removed_vs),
        ("comment", comment),
    ] {
        let (config, next) = check(&old, &new).unwrap_or_else(|| panic!("{what}: no fast path"));
        // The new baseline serves the next reload: back to the original.
        let back = reparse(&next, &config, &old, Path::new(PATH), &opts())
            .unwrap_or_else(|| panic!("{what}: no fast path back"));
        assert_eq!(back.0, full(&old).config, "{what}: back to the original");
    }
}

#[test]
fn a_change_applies_in_place_and_undoes() {
    let old = director(4, 2);
    let (b, c) = baseline(&old);
    let new = old.replacen("weight 1\n", "weight 9\n", 1)
        + "virtual_server 192.0.2.90 90 {\n    lb_algo rr\n    lb_kind NAT\n    protocol TCP\n    real_server 198.51.100.1 80 {\n    }\n}\n";
    assert!(
        full(&new).diagnostics.is_empty(),
        "{}",
        full(&new).render_diagnostics()
    );
    let change =
        kconf_parser::reparse_change(&b, &c, &new, Path::new(PATH), &opts()).expect("fast path");
    let mut running = c.clone();
    let (_, undo) = change.clone().apply(&mut running).expect("fits");
    assert_eq!(running, full(&new).config);
    assert!(undo.clone().revert(&mut running));
    assert_eq!(running, c, "undone");
    // A change does not apply to a configuration it was not made for.
    let mut other = Config::default();
    assert!(change.apply(&mut other).is_none());
    assert_eq!(other, Config::default());
}

#[test]
fn what_the_fast_path_does_not_follow_takes_the_full_parse() {
    let old = director(4, 2);
    for (what, new) in [
        (
            "global_defs",
            old.replace("router_id test", "router_id other"),
        ),
        ("vrrp instance", old.replace("priority 100", "priority 101")),
        ("a definition", format!("$X=1\n{old}")),
        ("a conditional", format!("@test global_defs {{\n}}\n{old}")),
        ("quotes", old.replacen("lb_algo wlc", "lb_algo \"wlc\"", 1)),
        ("an include", format!("include /nonexistent.conf\n{old}")),
        (
            "an unknown keyword",
            old.replacen("lb_algo wlc", "lb_algoo wlc", 1),
        ),
        (
            "a missing group",
            old.replacen("virtual_server group web", "virtual_server group nosuch", 1),
        ),
        (
            "an unbalanced brace",
            old.replacen("protocol TCP\n", "protocol TCP\n}\n", 1),
        ),
        (
            "a brace on the next line",
            old.replacen(
                "virtual_server 192.0.2.1 1000 {",
                "virtual_server 192.0.2.1 1000\n{",
                1,
            ),
        ),
    ] {
        assert!(
            check(&old, &new).is_none(),
            "{what}: the fast path answered"
        );
    }
}

#[test]
fn a_parse_with_diagnostics_or_includes_is_no_baseline() {
    let warned = full(&director(2, 1).replace("delay_loop 5", "delay_loop 5\n    nb_get_retry 3"));
    assert!(!warned.diagnostics.is_empty());
    assert!(Baseline::new(&warned).is_none());
    let mut fs = kconf_parser::MemFs::new();
    fs.add(
        "/etc/keepalived/vs.conf",
        "virtual_server 192.0.2.1 80 {\n}\n",
    );
    let included = parse_str_with(&fs, Path::new(PATH), "include vs.conf\n", &opts());
    assert!(Baseline::new(&included).is_none());
}

/// Line edits a reload might bring, some of them broken.
const LINES: &[&str] = &[
    "    weight 7",
    "    real_server 198.51.100.77 80 {",
    "    }",
    "}",
    "{",
    "virtual_server 192.0.2.77 80 {",
    "    lb_algo rr",
    "    lb_kind DR",
    "    persistence_timeout 60",
    "    sorry_server 198.51.100.200 80",
    "# a comment",
    "",
    "    bogus_keyword 1",
    "    weight x",
    "global_defs {",
    "virtual_server fwmark 5 {",
    "    quorum 2",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random line edits (replace, delete, insert, duplicate), twice in a row: whenever the
    /// fast path answers, it equals the full parse.
    #[test]
    fn reparse_equals_the_full_parse(
        edits in prop::collection::vec((0usize..4, any::<prop::sample::Index>(), 0..LINES.len()), 1..4)
    ) {
        let old = director(5, 3);
        let (mut base, mut config) = baseline(&old);
        let mut text = old;
        for (op, at, line) in edits {
            let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
            let i = at.index(lines.len());
            match op {
                0 => lines[i] = LINES[line].to_owned(),
                1 => { lines.remove(i); }
                2 => lines.insert(i, LINES[line].to_owned()),
                _ => { let l = lines[i].clone(); lines.insert(i, l); }
            }
            let new = lines.join("\n") + "\n";
            let f = full(&new);
            match reparse(&base, &config, &new, Path::new(PATH), &opts()) {
                Some((c, b)) => {
                    prop_assert!(f.diagnostics.is_empty(), "{}", f.render_diagnostics());
                    prop_assert_eq!(&c, &f.config);
                    base = b;
                    config = c;
                }
                None => match Baseline::new(&f) {
                    Some(b) => { base = b; config = f.config; }
                    None => return Ok(()),
                },
            }
            text = new;
        }
    }
}
