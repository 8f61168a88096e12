//! Our `-t --strict` verdict against `keepalived -t` (Debian's 2.2.7) on small configurations.
//!
//! keepalived's `-t` fails on *any* logged problem, warnings included, so it is compared with
//! our strict mode. The configurations avoid VRRP instances: keepalived also checks that the
//! named interfaces exist on the machine, which we deliberately do not (the daemon checks
//! interfaces at runtime; a config test must not depend on the host it runs on).
//!
//! Skipped (with a message) when `keepalived` is not installed.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::{MemFs, Options, parse_file_with};
use std::path::{Path, PathBuf};
use std::process::Command;

const LVS_OK: &str = "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.10 80 {\n  TCP_CHECK {\n   connect_timeout 3\n  }\n }\n}\n";

/// (name, config id, files: main first, keepalived accepts it).
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
    bool,
);

const CASES: &[Case] = &[
    ("clean LVS service", "main", &[("main.conf", LVS_OK)], true),
    (
        "missing protocol (defaults to UDP with a warning)",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.10 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
        )],
        false,
    ),
    (
        "unknown keyword",
        "main",
        &[("main.conf", "global_defs {\n router_idd x\n}\n")],
        false,
    ),
    (
        "nb_get_retry in TCP_CHECK",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.10 80 {\n  TCP_CHECK {\n   nb_get_retry 3\n  }\n }\n}\n",
        )],
        false,
    ),
    (
        "nb_get_retry in HTTP_GET is a deprecated alias",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.10 80 {\n  HTTP_GET {\n   url {\n    path /\n   }\n   nb_get_retry 3\n  }\n }\n}\n",
        )],
        false,
    ),
    (
        "include inside a block, @id, $DEF and ~SEQ (config id main)",
        "main",
        &[
            (
                "main.conf",
                "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n include rs.conf\n}\n",
            ),
            (
                "rs.conf",
                "$RS=real_server 192.0.2.10 80 { TCP_CHECK { connect_timeout 3 } }\n@main $RS\n@^main real_server 192.0.2.11 80 { bogus }\n~SEQ(i,20,21) real_server 192.0.2.$i 80 { TCP_CHECK { } }\n",
            ),
        ],
        true,
    ),
    (
        "the same with config id other: the bogus line is kept",
        "other",
        &[
            (
                "main.conf",
                "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n include rs.conf\n}\n",
            ),
            (
                "rs.conf",
                "$RS=real_server 192.0.2.10 80 { TCP_CHECK { connect_timeout 3 } }\n@main $RS\n@^main real_server 192.0.2.11 80 { bogus }\n~SEQ(i,20,21) real_server 192.0.2.$i 80 { TCP_CHECK { } }\n",
            ),
        ],
        false,
    ),
    (
        "a definition expanding to @id is re-checked",
        "other",
        &[(
            "main.conf",
            "$ONLY_MAIN=@main\n$ONLY_MAIN global_defs { bogus }\nglobal_defs {\n router_id x\n}\n",
        )],
        true,
    ),
    (
        "persistence_timeout without a value",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n persistence_timeout\n real_server 192.0.2.10 80 {\n  TCP_CHECK {\n  }\n }\n}\n",
        )],
        true,
    ),
    (
        "real server weight out of range",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n real_server 192.0.2.10 80 {\n  weight -1\n  TCP_CHECK {\n  }\n }\n}\n",
        )],
        false,
    ),
    (
        "one-line blocks and comments",
        "main",
        &[(
            "main.conf",
            "global_defs { router_id x } # trailing\n! whole line\nvirtual_server 192.0.2.1 80 { protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 192.0.2.10 80 { TCP_CHECK { connect_timeout 3 } } }\n",
        )],
        true,
    ),
    (
        "virtual server without real servers",
        "main",
        &[(
            "main.conf",
            "virtual_server 192.0.2.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind DR\n}\n",
        )],
        false,
    ),
];

fn keepalived() -> Option<PathBuf> {
    [
        "/usr/sbin/keepalived",
        "/usr/local/sbin/keepalived",
        "/sbin/keepalived",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

#[test]
fn config_test_verdicts_match_keepalived() {
    let dir = std::env::temp_dir().join(format!("kconf-compat-{}", std::process::id()));
    let keepalived = keepalived();
    if keepalived.is_none() {
        eprintln!(
            "SKIPPED keepalived comparison: keepalived is not installed; checking our verdicts only"
        );
    }
    let mut mismatches = Vec::new();
    for (name, id, files, expected) in CASES {
        let case_dir = dir.join(name.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        if let Err(e) = std::fs::create_dir_all(&case_dir) {
            panic!("{}: {e}", case_dir.display());
        }
        let mut fs = MemFs::new();
        for (f, text) in *files {
            if let Err(e) = std::fs::write(case_dir.join(f), text) {
                panic!("{e}");
            }
            fs.add(Path::new("/cfg").join(f), *text);
        }
        let opts = Options {
            config_id: Some((*id).into()),
            strict: true,
            ..Options::default()
        };
        let ours = match parse_file_with(&fs, Path::new("/cfg/main.conf"), &opts) {
            Ok(p) => !p.has_errors(),
            Err(e) => panic!("{name}: {e}"),
        };
        if ours != *expected {
            mismatches.push(format!("{name}: ours {ours}, expected {expected}"));
        }
        if let Some(k) = &keepalived {
            let out = Command::new(k)
                .args(["-t", "-l", "-D", "-n", "-i", id, "-f"])
                .arg(case_dir.join("main.conf"))
                .current_dir(&case_dir)
                .output();
            match out {
                Ok(o) => {
                    let theirs = o.status.success();
                    if theirs != ours {
                        mismatches.push(format!(
                            "{name}: keepalived -t {theirs}, ours {ours}\n{}",
                            String::from_utf8_lossy(&o.stderr)
                        ));
                    }
                }
                Err(e) => eprintln!("SKIPPED {name}: cannot run keepalived: {e}"),
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
