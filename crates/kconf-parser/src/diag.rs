//! Diagnostics (file:line:column, severity, offending text, help) and their rustc-style
//! rendering.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The configuration is not usable as written (keepalived would refuse it or drop a block).
    Error,
    /// keepalived logs it and carries on (usually with a default). An error under `--strict`.
    Warning,
    /// Information, e.g. "accepted, not supported yet".
    Note,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        })
    }
}

/// What kind of problem a diagnostic reports (stable, for tools and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DiagKind {
    /// A keyword not known at this level.
    UnknownKeyword,
    /// A value that does not parse or is out of range (a default is used).
    InvalidValue,
    /// A required keyword or argument is missing.
    Missing,
    /// A deprecated keyword or spelling was used.
    Deprecated,
    /// The keyword is accepted but not acted on yet.
    Unsupported,
    /// A default with a surprising value was applied (e.g. `protocol` missing → UDP).
    DefaultApplied,
    /// Lexical or block structure problem (quotes, braces, line too long).
    Syntax,
    /// An include problem (no match, unreadable, directory, executable, loop).
    Include,
    /// A preprocessor problem (`~SEQ` arguments, definitions).
    Preprocessor,
    /// An expansion limit was hit (include depth, definition recursion, line count).
    Limit,
    /// A semantic problem across blocks (unknown script, duplicate real server, …).
    Semantic,
}

/// One diagnostic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// Kind.
    pub kind: DiagKind,
    /// The message.
    pub message: String,
    /// The file the problem is in (the use site for expanded text).
    pub file: Arc<str>,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in characters).
    pub column: u32,
    /// The offending text.
    pub text: String,
    /// A suggestion, e.g. "did you mean `notify_backup`?".
    pub help: Option<String>,
    /// Index of the file in the source map (for rendering).
    #[serde(skip)]
    pub(crate) file_id: u32,
    /// Byte offset of the offending text in its file (for rendering).
    #[serde(skip)]
    pub(crate) offset: usize,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.severity, self.message
        )?;
        if let Some(h) = &self.help {
            write!(f, " ({h})")?;
        }
        Ok(())
    }
}

/// A file read while parsing.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as resolved.
    pub path: Arc<str>,
    /// Its contents.
    pub text: Arc<str>,
    /// Byte offset of the start of each line.
    line_starts: Vec<usize>,
}

/// Appends the offset after every `\n` in `b` to `out`, sixteen bytes at a time.
fn newlines(b: &[u8], out: &mut Vec<usize>) {
    const LO: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NL: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    // High bit set exactly in the bytes of `w` that are `\n` (no false positives).
    let mask = |w: &[u8]| {
        let mut a = [0u8; 8];
        a.copy_from_slice(w);
        let v = u64::from_le_bytes(a) ^ NL;
        !(((v & LO).wrapping_add(LO)) | v | LO)
    };
    let mut push = |mut m: u64, base: usize| {
        while m != 0 {
            out.push(base + (m.trailing_zeros() / 8) as usize + 1);
            m &= m - 1;
        }
    };
    let mut chunks = b.chunks_exact(16);
    let mut base = 0;
    for c in &mut chunks {
        let (lo, hi) = c.split_at(8);
        let (m1, m2) = (mask(lo), mask(hi));
        if (m1 | m2) != 0 {
            push(m1, base);
            push(m2, base + 8);
        }
        base += 16;
    }
    for (i, c) in chunks.remainder().iter().enumerate() {
        if *c == b'\n' {
            push(0x80, base + i);
        }
    }
}

/// Every file read while parsing, for rendering diagnostics.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

/// Internal location: file index, 1-based line, byte column (0-based) in that line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Loc {
    pub(crate) file: u32,
    pub(crate) line: u32,
    pub(crate) col: u32,
}

impl SourceMap {
    /// Adds a file and returns its index.
    pub(crate) fn add(&mut self, path: Arc<str>, text: Arc<str>) -> u32 {
        // Room for lines of 16 bytes on average (configs are indented short lines), returned
        // when the lines are longer.
        let mut line_starts = Vec::with_capacity(text.len() / 16 + 1);
        line_starts.push(0);
        newlines(text.as_bytes(), &mut line_starts);
        line_starts.shrink_to_fit();
        self.files.push(SourceFile {
            path,
            text,
            line_starts,
        });
        u32::try_from(self.files.len() - 1).unwrap_or(u32::MAX)
    }

    /// Byte offsets where the lines of file `file` start, one per line as
    /// `str::split('\n')` counts them (a trailing newline ends with an empty line).
    pub(crate) fn line_starts(&self, file: u32) -> &[usize] {
        self.files
            .get(file as usize)
            .map_or(&[], |f| &f.line_starts)
    }

    /// The text of `loc`'s file and the byte offset of `loc` in it.
    pub(crate) fn line_text_at(&self, loc: Loc) -> Option<(&Arc<str>, usize)> {
        let f = self.files.get(loc.file as usize)?;
        let start = *f.line_starts.get(loc.line.checked_sub(1)? as usize)?;
        Some((&f.text, start.checked_add(loc.col as usize)?))
    }

    /// The files, in the order they were read.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// Builds a diagnostic at `loc` (byte column), pointing at `text`.
    pub(crate) fn diag(
        &self,
        severity: Severity,
        kind: DiagKind,
        loc: Loc,
        text: &str,
        message: String,
        help: Option<String>,
    ) -> Diagnostic {
        let (path, offset, column) = match self.files.get(loc.file as usize) {
            Some(f) => {
                let start = f
                    .line_starts
                    .get(loc.line.saturating_sub(1) as usize)
                    .copied()
                    .unwrap_or(0);
                let line_end = f.text[start..]
                    .find('\n')
                    .map_or(f.text.len(), |e| start + e);
                let mut off = (start + loc.col as usize).min(line_end);
                while !f.text.is_char_boundary(off) {
                    off -= 1;
                }
                let col = f.text[start..off].chars().count() + 1;
                (f.path.clone(), off, col)
            }
            None => (Arc::from("<unknown>"), 0, 1),
        };
        Diagnostic {
            severity,
            kind,
            message,
            file: path,
            line: loc.line,
            column: u32::try_from(column).unwrap_or(u32::MAX),
            text: text.to_owned(),
            help,
            file_id: loc.file,
            offset,
        }
    }

    /// Renders diagnostics rustc-style (with the source line and a caret label).
    pub fn render(&self, diags: &[Diagnostic]) -> String {
        use codespan_reporting::diagnostic::{Diagnostic as CDiag, Label};
        use codespan_reporting::files::SimpleFiles;
        use codespan_reporting::term;

        if diags.is_empty() {
            // Nothing to show: do not index every source line (a large file costs more to
            // index than to parse).
            return String::new();
        }
        let mut files = SimpleFiles::new();
        for f in &self.files {
            files.add(f.path.to_string(), f.text.to_string());
        }
        let config = term::Config::default();
        let mut out = String::new();
        for d in diags {
            let base = match d.severity {
                Severity::Error => CDiag::error(),
                Severity::Warning => CDiag::warning(),
                Severity::Note => CDiag::note(),
            };
            let mut cd = base.with_message(d.message.clone());
            if let Some(f) = self.files.get(d.file_id as usize) {
                let rest = &f.text[d.offset.min(f.text.len())..];
                let line_rest = rest.split('\n').next().unwrap_or("");
                let len = if !d.text.is_empty() && line_rest.starts_with(d.text.as_str()) {
                    d.text.len()
                } else {
                    line_rest.chars().next().map_or(0, char::len_utf8)
                };
                let label_msg = if d.text.is_empty() {
                    String::new()
                } else {
                    format!("`{}`", d.text)
                };
                cd = cd.with_labels(vec![
                    Label::primary(d.file_id as usize, d.offset..d.offset + len)
                        .with_message(label_msg),
                ]);
            }
            if let Some(h) = &d.help {
                cd = cd.with_notes(vec![format!("help: {h}")]);
            }
            match term::emit_into_string(&config, &files, &cd) {
                Ok(s) => out.push_str(&s),
                Err(_) => {
                    out.push_str(&d.to_string());
                    out.push('\n');
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::newlines;

    #[test]
    fn newlines_agree_with_a_byte_loop() {
        let mut texts: Vec<Vec<u8>> = Vec::new();
        for len in 0..40 {
            for at in 0..len {
                let mut t = vec![b'a'; len];
                t[at] = b'\n';
                texts.push(t.clone());
                t[len - 1 - at / 2] = b'\n';
                texts.push(t);
            }
            texts.push(vec![b'\n'; len]);
            texts.push((0..len).map(|i| (i * 37 % 256) as u8).collect());
        }
        for t in texts {
            let mut ours = Vec::new();
            newlines(&t, &mut ours);
            let expected: Vec<usize> = t
                .iter()
                .enumerate()
                .filter(|(_, c)| **c == b'\n')
                .map(|(i, _)| i + 1)
                .collect();
            assert_eq!(ours, expected, "{t:?}");
        }
    }
}
