//! The whole keepalived.conf parser on arbitrary input: no panics, bounded memory and time on
//! include loops, definition recursion and `~SEQ` bombs (capped by `Options`).
//!
//! The input is split on `\0\0` into a main file and up to three files it can include
//! (`a.conf`, `b.conf`, `d/c.conf` next to it), so includes and globs are exercised too.
#![no_main]

use kconf_parser::{MemFs, Options, parse_str_with, print::print_config};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split("\0\0");
    let main = parts.next().unwrap_or("");
    let mut fs = MemFs::new();
    for (name, body) in [
        "/etc/keepalived/a.conf",
        "/etc/keepalived/b.conf",
        "/etc/keepalived/d/c.conf",
    ]
    .iter()
    .zip(parts)
    {
        fs.add(name, body);
    }
    fs.set_env("HOME", "/root");
    let opts = Options {
        config_id: Some("fuzz".into()),
        random_seed: Some(1),
        max_lines: 5_000,
        max_line_len: 4096,
        max_include_depth: 8,
        ..Options::default()
    };
    let parsed = parse_str_with(
        &fs,
        Path::new("/etc/keepalived/keepalived.conf"),
        main,
        &opts,
    );
    let _ = parsed.render_diagnostics();
    // The printer must cope with whatever the parser produced, and its output must parse.
    let printed = print_config(&parsed.config);
    let _ = parse_str_with(&MemFs::new(), Path::new("/p.conf"), &printed, &opts);
});
