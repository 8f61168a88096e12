//! A reader for `keepalived.conf`: keepalived's line preprocessor (includes, conditionals,
//! definitions, sequences), a typed model, and file:line:column diagnostics.
//!
//! ```
//! let parsed = kconf_parser::parse_str(
//!     "vrrp_instance VI_1 { state MASTER\n virtual_router_id 51\n virtual_ipaddress { 192.0.2.1/24 } }",
//!     &kconf_parser::Options::default(),
//! );
//! let vi = &parsed.config.vrrp_instances[0];
//! assert_eq!(vi.priority, 255); // state MASTER without priority
//! assert!(!parsed.has_errors());
//! ```
//!
//! Layers: [`fs`] (files through a trait), the preprocessor (keepalived's `read_line` order),
//! a block tree, the keyword interpreter into [`model`], [`diag`] (diagnostics, rustc-style
//! rendering) and [`print`](mod@print) (the model back to keepalived syntax).
//!
//! # Compatibility notes (against keepalived 2.2.7)
//!
//! - The preprocessor follows `lib/parser.c`'s order (`keepalived-behaviour.md` §1.2). A
//!   `$DEF` whose expansion starts with `@id` is re-checked, as in 2.2.7 and the man page (the
//!   2.4.0 regression is not reproduced).
//! - `\#` / `\!` stay literal everywhere; keepalived loses them outside `global_defs` because
//!   its child processes decomment a copy twice.
//! - Non-breaking spaces (U+00A0, common in configs pasted from web pages) are treated as
//!   whitespace with one warning per file; keepalived reports `Unknown keyword` and skips
//!   those lines.
//! - The config test does not check that interfaces exist (the daemon does at runtime), so
//!   `-t` does not depend on the host it runs on. keepalived's `-t` fails on any logged
//!   problem; ours fails on errors, and on warnings only with `strict`.
//! - keepalived has no include depth limit and no expansion limit; we cap both
//!   ([`Options::max_include_depth`], [`Options::max_lines`], [`Options::max_line_len`]) with a
//!   clear error, so loops and `~SEQ` bombs terminate.
//! - A multiline definition used inside a longer line is still split into lines (keepalived
//!   only supports it alone on its line).

pub mod diag;
pub mod fs;
mod hash;
mod keywords;
mod lower;
pub mod model;
mod pre;
pub mod print;
pub mod reparse;
mod tree;

pub use diag::{DiagKind, Diagnostic, Severity, SourceMap};
pub use fs::{FileSystem, MemFs, RealFs};
pub use lower::split_command;
pub use model::Config;
pub use reparse::{Baseline, Change, Undo, reparse, reparse_change};

use std::path::Path;
use std::sync::Arc;

/// Parser options.
#[derive(Debug, Clone)]
pub struct Options {
    /// The config id for `@id` lines and `${_INSTANCE}` (`-i/--config-id`); default: the host
    /// name up to the first `.`.
    pub config_id: Option<String>,
    /// Treat every warning as an error (`--strict`).
    pub strict: bool,
    /// Seed for `${_RANDOM}` (a `random_seed` line in the config reseeds it, as in keepalived).
    pub random_seed: Option<u64>,
    /// Budget of logical lines produced by includes, definitions and `~SEQ`/`~LST`; past it
    /// parsing stops with an error. Default 10,000,000.
    pub max_lines: u64,
    /// Longest line after definition expansion, in bytes. Default 1 MiB.
    pub max_line_len: usize,
    /// Deepest include nesting (keepalived has no limit; a loop would recurse forever).
    /// Default 32.
    pub max_include_depth: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_id: None,
            strict: false,
            random_seed: None,
            max_lines: 10_000_000,
            max_line_len: 1 << 20,
            max_include_depth: 32,
        }
    }
}

/// A parsed configuration and what was found along the way.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The resolved model.
    pub config: Config,
    /// Diagnostics, in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// Every file read (for rendering diagnostics).
    pub sources: SourceMap,
    /// How many logical lines (after preprocessing and brace splitting) were interpreted.
    pub logical_lines: u64,
}

impl Parsed {
    /// Any diagnostic of severity error (under `strict`, warnings were already turned into
    /// errors).
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Number of diagnostics of a severity.
    pub fn count(&self, severity: Severity) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    }

    /// All diagnostics rendered rustc-style.
    pub fn render_diagnostics(&self) -> String {
        self.sources.render(&self.diagnostics)
    }
}

/// Fatal errors: the configuration could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The top-level file is missing, unreadable, a directory or executable.
    #[error("cannot read configuration file {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

/// Parses a file from the real file system.
pub fn parse_file(path: impl AsRef<Path>, opts: &Options) -> Result<Parsed, Error> {
    parse_file_with(&RealFs, path.as_ref(), opts)
}

/// Parses a file through `fs` (includes are read through it too).
pub fn parse_file_with(fs: &dyn FileSystem, path: &Path, opts: &Options) -> Result<Parsed, Error> {
    let err = |reason: String| Error::Read {
        path: path.display().to_string(),
        reason,
    };
    match fs.metadata(path) {
        None => return Err(err("no such file".into())),
        Some(m) if m.is_dir => return Err(err("is a directory".into())),
        Some(_) => {}
    }
    let text = fs.read_to_string(path).map_err(|e| err(e.to_string()))?;
    Ok(run(fs, path, Arc::from(text), opts))
}

/// Parses text as if it were the file `/etc/keepalived/keepalived.conf`; includes find nothing.
pub fn parse_str(text: &str, opts: &Options) -> Parsed {
    parse_str_with(
        &MemFs::new(),
        Path::new("/etc/keepalived/keepalived.conf"),
        text,
        opts,
    )
}

/// Parses text as if it were the file `path`, reading includes through `fs`.
pub fn parse_str_with(fs: &dyn FileSystem, path: &Path, text: &str, opts: &Options) -> Parsed {
    run(fs, path, Arc::from(text), opts)
}

/// One logical line after preprocessing (comments, includes, conditionals, definitions,
/// sequences and brace splitting applied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogicalLine {
    /// The text (a lone `{` or `}` for braces).
    pub text: String,
    /// The file it came from (the use site for expanded text).
    pub file: String,
    /// 1-based line in that file.
    pub line: u32,
    /// 1-based column (in characters) where the text starts.
    pub column: u32,
}

/// Runs only the preprocessor: the logical lines keepalived's keyword parser would see, with
/// their provenance, and the preprocessor's diagnostics.
pub fn preprocess_str_with(
    fs: &dyn FileSystem,
    path: &Path,
    text: &str,
    opts: &Options,
) -> (Vec<LogicalLine>, Vec<Diagnostic>) {
    let mut pre = pre::Pre::new(fs, opts);
    pre.record = Some(Vec::new());
    pre.run(path, Arc::from(text));
    let recorded = pre.record.take().unwrap_or_default();
    let lines = recorded
        .into_iter()
        .map(|(text, loc)| {
            let d = pre.sm.diag(
                Severity::Note,
                DiagKind::Syntax,
                loc,
                "",
                String::new(),
                None,
            );
            LogicalLine {
                text,
                file: d.file.to_string(),
                line: d.line,
                column: d.column,
            }
        })
        .collect();
    (lines, pre.diags)
}

fn run(fs: &dyn FileSystem, path: &Path, text: Arc<str>, opts: &Options) -> Parsed {
    let mut pre = pre::Pre::new(fs, opts);
    pre.run(path, text);
    let logical_lines = pre.tree.lines;
    let tree = std::mem::take(&mut pre.tree);
    let mut diags = std::mem::take(&mut pre.diags);
    let tree = tree.finish(&pre.sm, &mut diags);
    let config = lower::Lower::new(&tree.nodes, &pre.sm, &mut diags).config(tree.top());
    if opts.strict {
        for d in &mut diags {
            if d.severity == Severity::Warning {
                d.severity = Severity::Error;
            }
        }
    }
    diags.sort_by_key(|d| (d.file_id, d.line, d.column));
    Parsed {
        config,
        diagnostics: diags,
        sources: pre.sm,
        logical_lines,
    }
}
