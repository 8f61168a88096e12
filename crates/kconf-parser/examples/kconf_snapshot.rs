//! Prints everything the parser produces for each file given, so two builds of the parser
//! can be compared byte for byte (`diff`): the logical lines the preprocessor hands on (text,
//! file, line, column), the model (JSON and keepalived syntax), the diagnostics (every field)
//! and their rendering.
//!
//! ```sh
//! cargo run --release -p kconf-parser --example kconf_snapshot -- FILE... > snapshot.txt
//! ```
//!
//! Options are fixed (`config_id` "seed", `random_seed` 0) so the output is repeatable.

use kconf_parser::{Options, RealFs, parse_file, preprocess_str_with};
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

fn snapshot(path: &Path, opts: &Options, out: &mut String) {
    let _ = writeln!(out, "===== {}", path.display());
    let parsed = match parse_file(path, opts) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(out, "fatal: {e}");
            return;
        }
    };
    let _ = writeln!(out, "----- logical lines: {}", parsed.logical_lines);
    if let Ok(text) = std::fs::read_to_string(path) {
        let (lines, diags) = preprocess_str_with(&RealFs, path, &text, opts);
        for l in &lines {
            let _ = writeln!(out, "{}:{}:{}: {:?}", l.file, l.line, l.column, l.text);
        }
        let _ = writeln!(out, "----- preprocessor diagnostics");
        for d in &diags {
            let _ = writeln!(out, "{d:?}");
        }
    }
    let _ = writeln!(out, "----- model (JSON)");
    match serde_json::to_string_pretty(&parsed.config) {
        Ok(s) => out.push_str(&s),
        Err(e) => {
            let _ = write!(out, "cannot serialize: {e}");
        }
    }
    let _ = writeln!(out, "\n----- model (keepalived syntax)");
    out.push_str(&kconf_parser::print::print_config(&parsed.config));
    let _ = writeln!(out, "----- diagnostics");
    for d in &parsed.diagnostics {
        let _ = writeln!(out, "{d:?}");
    }
    let _ = writeln!(out, "----- rendered");
    out.push_str(&parsed.render_diagnostics());
}

fn main() -> ExitCode {
    let files: Vec<String> = std::env::args().skip(1).collect();
    if files.is_empty() {
        eprintln!("usage: kconf_snapshot FILE...");
        return ExitCode::from(2);
    }
    let opts = Options {
        config_id: Some("seed".into()),
        random_seed: Some(0),
        ..Options::default()
    };
    for f in &files {
        let mut out = String::new();
        snapshot(Path::new(f), &opts, &mut out);
        print!("{out}");
    }
    ExitCode::SUCCESS
}
