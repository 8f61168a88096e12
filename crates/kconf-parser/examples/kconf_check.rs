//! `hagroupd -t` without the daemon: parses a file, prints the rendered diagnostics and the
//! error/warning counts, and exits 1 on errors. A small release driver for profiling the parser
//! (`valgrind --tool=callgrind target/release/examples/kconf_check FILE`) and timing it
//! (`-n N` parses N times and prints the time of each parse).
//!
//! ```sh
//! cargo build --release -p kconf-parser --example kconf_check
//! target/release/examples/kconf_check [-n N] FILE
//! ```

use kconf_parser::{Options, Severity, parse_file};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut runs = 1usize;
    if args.first().map(String::as_str) == Some("-n") && args.len() >= 2 {
        runs = args[1].parse().unwrap_or(1);
        args.drain(..2);
    }
    let [file] = &args[..] else {
        eprintln!("usage: kconf_check [-n N] FILE");
        return ExitCode::from(2);
    };
    let opts = Options {
        config_id: Some("check".into()),
        random_seed: Some(0),
        ..Options::default()
    };
    let mut failed = false;
    for _ in 0..runs {
        let t = Instant::now();
        let parsed = match parse_file(file, &opts) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("kconf_check: {e}");
                return ExitCode::from(1);
            }
        };
        eprint!("{}", parsed.render_diagnostics());
        let elapsed = t.elapsed();
        let (errors, warnings) = (
            parsed.count(Severity::Error),
            parsed.count(Severity::Warning),
        );
        if runs > 1 {
            println!("{:.3} ms", elapsed.as_secs_f64() * 1e3);
        }
        eprintln!("kconf_check: {file}: {errors} error(s), {warnings} warning(s)");
        failed = parsed.has_errors();
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
