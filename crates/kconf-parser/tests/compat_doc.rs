//! `docs/compat.md` lists every keyword of kconf-parser's keyword tables
//! (`src/keywords.rs`), each in the section for its block, with a known status.
//!
//! The tables are crate-private, so the test reads `keywords.rs` as text: every
//! `pub(crate) const NAME: &[&str] = &[ "...", ... ];` is a table. Each section of the
//! document starts with a marker `<!-- keywords: NAME NAME2 -->` naming the tables it covers,
//! and has one row `| \`keyword\` | status | notes |` per keyword.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// The statuses the document may give (its legend).
const STATUSES: &[&str] = &[
    "supported",
    "partial",
    "parsed, not acted on",
    "not supported",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Table name → keywords, from the text of `keywords.rs`.
fn keyword_tables(src: &str) -> BTreeMap<String, Vec<String>> {
    let mut tables = BTreeMap::new();
    let mut rest = src;
    let head = "pub(crate) const ";
    while let Some(i) = rest.find(head) {
        rest = &rest[i + head.len()..];
        let Some((name, after)) = rest.split_once(':') else {
            break;
        };
        let after = after.trim_start();
        if !after.starts_with("&[&str]") {
            continue;
        }
        // `= &[` (rustfmt may break the line between `=` and `&[`).
        let eq = after.find('=').expect("table initialiser");
        let body_start = after[eq..].find("&[").expect("table initialiser") + eq + 2;
        let body_end = after[body_start..].find("];").expect("end of table") + body_start;
        let body = &after[body_start..body_end];
        let words: Vec<String> = body
            .split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        tables.insert(name.trim().to_owned(), words);
        rest = &after[body_end..];
    }
    tables
}

/// One documented section: the tables its marker names and its rows (keyword → status).
#[derive(Debug, Default)]
struct Section {
    tables: Vec<String>,
    rows: BTreeMap<String, String>,
}

fn doc_sections(doc: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in doc.lines() {
        let line = line.trim();
        if let Some(m) = line
            .strip_prefix("<!-- keywords:")
            .and_then(|m| m.strip_suffix("-->"))
        {
            sections.push(Section {
                tables: m.split_whitespace().map(str::to_owned).collect(),
                rows: BTreeMap::new(),
            });
            continue;
        }
        if line.starts_with("## ") {
            // The keyword sections are the last part of the page; a new top-level section
            // ends the current one.
            sections.push(Section::default());
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if section.tables.is_empty() {
            continue;
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "| `kw` | status | notes |" splits into ["", "`kw`", "status", "notes", ""].
        if cells.len() >= 4
            && cells[0].is_empty()
            && let Some(kw) = cells[1].strip_prefix('`').and_then(|k| k.strip_suffix('`'))
        {
            section.rows.insert(kw.to_owned(), cells[2].to_owned());
        }
    }
    sections.retain(|s| !s.tables.is_empty());
    sections
}

/// Every problem: a table no section names, a table named twice, a keyword without a row in
/// its table's section, a row with an unknown status.
fn problems(tables: &BTreeMap<String, Vec<String>>, doc: &str) -> Vec<String> {
    let sections = doc_sections(doc);
    let mut out = Vec::new();
    let mut named: BTreeMap<&str, usize> = BTreeMap::new();
    for s in &sections {
        for t in &s.tables {
            *named.entry(t.as_str()).or_default() += 1;
            if !tables.contains_key(t) {
                out.push(format!(
                    "compat.md names table {t}, which keywords.rs does not have"
                ));
            }
        }
        for (kw, status) in &s.rows {
            if !STATUSES.contains(&status.as_str()) {
                out.push(format!(
                    "`{kw}` ({:?}): unknown status {status:?}",
                    s.tables
                ));
            }
        }
    }
    for (name, words) in tables {
        match named.get(name.as_str()) {
            None => out.push(format!(
                "no `<!-- keywords: ... -->` section names table {name}"
            )),
            Some(1) => {}
            Some(n) => out.push(format!("table {name} is named by {n} sections")),
        }
        let Some(s) = sections.iter().find(|s| s.tables.contains(name)) else {
            continue;
        };
        for w in words {
            if !s.rows.contains_key(w) {
                out.push(format!("`{w}` (table {name}) has no row in its section"));
            }
        }
    }
    out
}

#[test]
fn compat_md_lists_every_parser_keyword() {
    let src = std::fs::read_to_string(manifest_dir().join("src/keywords.rs")).unwrap();
    let doc_path = manifest_dir().join("../../docs/compat.md");
    let doc = std::fs::read_to_string(&doc_path)
        .unwrap_or_else(|e| panic!("{}: {e}", doc_path.display()));
    let tables = keyword_tables(&src);
    // The reader of keywords.rs itself works: the tables it must see are there, in full.
    assert!(tables.len() >= 20, "only {} tables read", tables.len());
    for name in ["TOP", "GLOBAL", "INSTANCE", "VS", "RS", "CHECKERS", "SSL"] {
        assert!(tables.contains_key(name), "table {name} not read");
    }
    assert!(tables["CHECKERS"].contains(&"TCP_CHECK".to_owned()));
    assert!(tables["GLOBAL_UNSUPPORTED"].contains(&"iproute_etc_dir".to_owned()));
    let total: usize = tables.values().map(Vec::len).sum();
    assert!(total > 300, "only {total} keywords read");

    let p = problems(&tables, &doc);
    assert!(
        p.is_empty(),
        "docs/compat.md is out of date with src/keywords.rs ({} problems):\n{}",
        p.len(),
        p.join("\n")
    );
}

#[test]
fn the_check_catches_a_missing_keyword_and_a_bad_status() {
    let tables: BTreeMap<String, Vec<String>> = [
        ("A".to_owned(), vec!["x".to_owned(), "y".to_owned()]),
        ("B".to_owned(), vec!["z".to_owned()]),
    ]
    .into_iter()
    .collect();
    let good = "## Keywords\n### a\n<!-- keywords: A -->\n| keyword | status | notes |\n|---|---|---|\n\
                | `x` | supported | |\n| `y` | partial | n |\n### b\n<!-- keywords: B -->\n\
                | `z` | not supported | |\n";
    assert_eq!(problems(&tables, good), Vec::<String>::new());

    // `y` missing from A's section; present only in B's section does not count.
    let missing = good.replace("| `y` | partial | n |\n", "").replace(
        "| `z` | not supported | |\n",
        "| `z` | not supported | |\n| `y` | supported | |\n",
    );
    let p = problems(&tables, &missing);
    assert_eq!(
        p,
        vec!["`y` (table A) has no row in its section".to_owned()]
    );

    let bad_status = good.replace("| `x` | supported |", "| `x` | mostly |");
    assert_eq!(problems(&tables, &bad_status).len(), 1);

    let unnamed = good.replace("<!-- keywords: B -->", "");
    let p = problems(&tables, &unnamed);
    assert!(p.iter().any(|m| m.contains("names table B")), "{p:?}");

    // A row after the next `## ` heading is outside the section.
    let outside = good.replace("### b", "## Other\n| `q` | supported | |\n### b");
    let words: BTreeSet<String> = doc_sections(&outside)
        .iter()
        .flat_map(|s| s.rows.keys().cloned())
        .collect();
    assert!(!words.contains("q"));
}
