//! Every seed config parses; the model is pinned by golden JSON files and the diagnostics by
//! golden text (`UPDATE_GOLDEN=1 cargo test -p kconf-parser --test seeds` rewrites them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::{DiagKind, Options, Parsed, Severity, parse_file};
use std::path::{Path, PathBuf};

fn seed_dir() -> PathBuf {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/fixtures/seed-configs"
    ))
    .to_path_buf()
}

fn golden_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden")).to_path_buf()
}

fn parse_seed(name: &str) -> Parsed {
    let opts = Options {
        config_id: Some("seed".into()),
        random_seed: Some(0),
        ..Options::default()
    };
    match parse_file(seed_dir().join(name), &opts) {
        Ok(p) => p,
        Err(e) => panic!("{name}: {e}"),
    }
}

fn diag_summary(p: &Parsed) -> String {
    p.diagnostics
        .iter()
        .map(|d| {
            let file = Path::new(&*d.file)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            format!(
                "{file}:{}:{}: {}: {}\n",
                d.line, d.column, d.severity, d.message
            )
        })
        .collect()
}

fn check_golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        if let Err(e) = std::fs::write(path, actual) {
            panic!("writing {}: {e}", path.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_default();
    assert_eq!(
        actual,
        expected,
        "golden file {} differs (UPDATE_GOLDEN=1 to rewrite)",
        path.display()
    );
}

#[test]
fn every_seed_parses_and_matches_its_golden_files() {
    let mut names: Vec<String> = std::fs::read_dir(seed_dir())
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.retain(|n| n.ends_with(".conf"));
    names.sort();
    assert!(
        names.len() >= 5,
        "seed configs not found in {}",
        seed_dir().display()
    );
    for name in names {
        let p = parse_seed(&name);
        assert!(!p.has_errors(), "{name}:\n{}", p.render_diagnostics());
        assert!(
            !p.config.vrrp_instances.is_empty(),
            "{name}: no vrrp_instance"
        );
        let json = match serde_json::to_string_pretty(&p.config) {
            Ok(j) => j + "\n",
            Err(e) => panic!("{name}: {e}"),
        };
        let stem = name.trim_end_matches(".conf");
        check_golden(&golden_dir().join(format!("{stem}.json")), &json);
        check_golden(
            &golden_dir().join(format!("{stem}.diagnostics")),
            &diag_summary(&p),
        );
        // The JSON model deserializes back to the same model.
        let back: kconf_parser::Config = match serde_json::from_str(&json) {
            Ok(c) => c,
            Err(e) => panic!("{name}: {e}"),
        };
        assert_eq!(back, p.config);
    }
}

#[test]
fn typos_in_nginx_seeds_get_did_you_mean() {
    let master = parse_seed("nginx-ha-master.conf");
    let unknown: Vec<_> = master
        .diagnostics
        .iter()
        .filter(|d| d.kind == DiagKind::UnknownKeyword)
        .collect();
    assert_eq!(unknown.len(), 2, "{}", master.render_diagnostics());
    assert_eq!(unknown[0].text, "weigth");
    assert_eq!((unknown[0].line, unknown[0].column), (27, 9));
    assert_eq!(unknown[0].help.as_deref(), Some("did you mean `weight`?"));
    assert_eq!(unknown[1].text, "notify_bakcup");
    assert_eq!((unknown[1].line, unknown[1].column), (43, 5));
    assert_eq!(
        unknown[1].help.as_deref(),
        Some("did you mean `notify_backup`?")
    );
    assert!(unknown.iter().all(|d| d.severity == Severity::Warning));
    // The interface name listed under track_script is not a script.
    assert!(
        master
            .diagnostics
            .iter()
            .any(|d| d.kind == DiagKind::Semantic && d.text == "eno16777736")
    );
    let vi = &master.config.vrrp_instances[0];
    assert_eq!(
        vi.track_scripts
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        vec!["chk_down", "chk_nginx"]
    );
    assert!(vi.notify_backup.is_none());
    // The misspelt weight falls back to the default.
    assert_eq!(master.config.vrrp_scripts[2].weight, 0);
    let backup = parse_seed("nginx-ha-backup.conf");
    assert_eq!(
        backup
            .diagnostics
            .iter()
            .filter(|d| d.kind == DiagKind::UnknownKeyword)
            .count(),
        1
    );
}

#[test]
fn strict_mode_turns_the_seed_warnings_into_errors() {
    let opts = Options {
        strict: true,
        config_id: Some("seed".into()),
        ..Options::default()
    };
    let p = match parse_file(seed_dir().join("nginx-ha-master.conf"), &opts) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert!(p.has_errors());
    assert_eq!(p.count(Severity::Warning), 0);
}

#[test]
fn rendered_diagnostics_are_rustc_style() {
    let p = parse_seed("nginx-ha-backup.conf");
    let r = p.render_diagnostics();
    assert!(
        r.contains("warning: unknown keyword `notify_bakcup` in vrrp_instance"),
        "{r}"
    );
    assert!(r.contains("nginx-ha-backup.conf:35:5"), "{r}");
    assert!(r.contains("help: did you mean `notify_backup`?"), "{r}");
}

#[test]
fn lvs_seed_resolves_keepalived_defaults() {
    let p = parse_seed("lvs-dr-01.conf");
    let vs = &p.config.virtual_servers[0];
    assert_eq!(vs.lvs_sched, kconf_parser::model::Scheduler::Rr);
    assert_eq!(vs.lvs_method, kconf_parser::model::LvsMethod::Dr);
    assert_eq!(
        vs.persistence_timeout,
        Some(std::time::Duration::from_secs(6))
    );
    let ck = &vs.real_servers[0].checkers[0];
    // `nb_get_retry` is not a TCP_CHECK keyword in keepalived: retry keeps its default of 1.
    assert_eq!(ck.retry, 1);
    assert_eq!(ck.connect_timeout, std::time::Duration::from_secs(3));
    assert_eq!(ck.delay_loop, std::time::Duration::from_secs(60));
    assert!(
        p.diagnostics.iter().all(|d| d.text == "nb_get_retry"),
        "{}",
        p.render_diagnostics()
    );
}
