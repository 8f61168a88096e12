//! Differential: `kconf_parser::reparse_change` (only the changed `virtual_server` blocks
//! parsed) against the full parse of the new text. Whenever the fast path answers, the full
//! parse must be clean and give the same configuration; applying the change and undoing it
//! must give back the old configuration. No panics either way.
//!
//! The input is split on `\0\0` into the old text and the new one.
#![no_main]

use kconf_parser::{Baseline, MemFs, Options, parse_str_with, reparse_change};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (old, new) = text.split_once("\0\0").unwrap_or((&text, ""));
    let opts = Options {
        config_id: Some("fuzz".into()),
        random_seed: Some(1),
        max_lines: 5_000,
        max_line_len: 4096,
        ..Options::default()
    };
    let path = Path::new("/etc/keepalived/keepalived.conf");
    let parsed = parse_str_with(&MemFs::new(), path, old, &opts);
    let Some(base) = Baseline::new(&parsed) else {
        return;
    };
    let Some(change) = reparse_change(&base, &parsed.config, new, path, &opts) else {
        return;
    };
    let full = parse_str_with(&MemFs::new(), path, new, &opts);
    assert!(
        full.diagnostics.is_empty(),
        "the fast path answered for a text the full parse reports on"
    );
    let mut config = parsed.config.clone();
    let Some((_, undo)) = change.apply(&mut config) else {
        panic!("a change does not apply to the configuration it was made from");
    };
    assert!(
        config == full.config,
        "the fast path differs from the full parse"
    );
    assert!(undo.revert(&mut config), "the undo does not fit");
    assert!(
        config == parsed.config,
        "the undo does not restore the old configuration"
    );
});
