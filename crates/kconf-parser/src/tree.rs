//! Logical lines into a tree of `keyword args… [{ … }]` nodes, and word splitting.

use crate::diag::{DiagKind, Diagnostic, Loc, Severity, SourceMap};

/// One logical line and its block.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// The logical line, braces removed.
    pub(crate) text: Box<str>,
    /// Where the text starts.
    pub(crate) loc: Loc,
    /// The text is a verbatim slice of the physical line at `loc` (so word columns are exact).
    pub(crate) verbatim: bool,
    /// The `{ … }` block that followed, if any.
    pub(crate) children: Option<Vec<Node>>,
    /// Byte range of the keyword (first word, quotes removed) in `text`.
    kw: (u32, u32),
}

/// A word of a logical line: quotes removed, with its byte offset in the line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word<'a> {
    pub(crate) s: &'a str,
    pub(crate) off: u32,
}

/// Splits on whitespace; `"…"` is one word without its quotes (no escapes). With
/// `single_quotes`, `'…'` quotes too (script keywords).
pub(crate) fn split_words(text: &str, single_quotes: bool) -> Vec<Word<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() || c == 0x0b {
            i += 1;
            continue;
        }
        if c == b'"' || (single_quotes && c == b'\'') {
            let start = i + 1;
            let end = text[start..]
                .find(c as char)
                .map_or(text.len(), |e| start + e);
            out.push(Word {
                s: &text[start..end],
                off: u32::try_from(start).unwrap_or(u32::MAX),
            });
            i = end + 1;
            continue;
        }
        let start = i;
        while i < b.len() && !(b[i].is_ascii_whitespace() || b[i] == 0x0b) {
            i += 1;
        }
        out.push(Word {
            s: &text[start..i],
            off: u32::try_from(start).unwrap_or(u32::MAX),
        });
    }
    out
}

impl Node {
    /// The words of the line (double quotes only).
    pub(crate) fn words(&self) -> Vec<Word<'_>> {
        split_words(&self.text, false)
    }

    /// A node for a logical line.
    pub(crate) fn new(text: &str, loc: Loc, verbatim: bool) -> Node {
        let kw = split_words(text, false).first().map_or((0, 0), |w| {
            (w.off, w.off + u32::try_from(w.s.len()).unwrap_or(0))
        });
        Node {
            text: text.into(),
            loc,
            verbatim,
            children: None,
            kw,
        }
    }

    /// The first word.
    pub(crate) fn keyword(&self) -> &str {
        self.text
            .get(self.kw.0 as usize..self.kw.1 as usize)
            .unwrap_or("")
    }

    /// The words after the keyword (offsets relative to the whole text).
    pub(crate) fn args(&self) -> Vec<Word<'_>> {
        let mut start = self.kw.1 as usize;
        if self.text.as_bytes().get(start) == Some(&b'"') {
            start += 1;
        }
        let Some(rest) = self.text.get(start..) else {
            return Vec::new();
        };
        let base = u32::try_from(start).unwrap_or(0);
        let mut w = split_words(rest, false);
        for x in &mut w {
            x.off += base;
        }
        w
    }

    /// The location of byte offset `off` of the text (the line start when not verbatim).
    pub(crate) fn loc_at(&self, off: u32) -> Loc {
        if self.verbatim {
            Loc {
                col: self.loc.col.saturating_add(off),
                ..self.loc
            }
        } else {
            self.loc
        }
    }
}

/// Builds the tree from logical lines, reporting brace problems.
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    levels: Vec<Vec<Node>>,
    open: Vec<Node>,
    pub(crate) lines: u64,
}

impl TreeBuilder {
    /// A builder at the top level.
    pub(crate) fn new() -> Self {
        TreeBuilder {
            levels: vec![Vec::new()],
            open: Vec::new(),
            lines: 0,
        }
    }

    /// Adds one logical line (already brace-split: `{`, `}` or text without braces).
    pub(crate) fn line(
        &mut self,
        text: &str,
        loc: Loc,
        verbatim: bool,
        sm: &SourceMap,
        diags: &mut Vec<Diagnostic>,
    ) {
        self.lines += 1;
        match text {
            "{" => {
                let cur = self.levels.last_mut();
                let parent = match cur {
                    Some(level) => match level.last() {
                        Some(n) if n.children.is_none() => level.pop(),
                        _ => None,
                    },
                    None => None,
                };
                match parent {
                    Some(p) => {
                        self.open.push(p);
                        self.levels.push(Vec::new());
                    }
                    None => {
                        diags.push(sm.diag(
                            Severity::Error,
                            DiagKind::Syntax,
                            loc,
                            "{",
                            "`{` without a keyword before it".into(),
                            None,
                        ));
                        // Treat as an anonymous block so the matching `}` balances.
                        self.open.push(Node::new("", loc, false));
                        self.levels.push(Vec::new());
                    }
                }
            }
            "}" => {
                if self.open.is_empty() {
                    diags.push(sm.diag(
                        Severity::Error,
                        DiagKind::Syntax,
                        loc,
                        "}",
                        "extra `}` with no open block".into(),
                        None,
                    ));
                } else {
                    self.close();
                }
            }
            _ => {
                if let Some(level) = self.levels.last_mut() {
                    level.push(Node::new(text, loc, verbatim));
                }
            }
        }
    }

    fn close(&mut self) {
        if let (Some(children), Some(mut parent)) = (self.levels.pop(), self.open.pop()) {
            if self.levels.is_empty() {
                self.levels.push(Vec::new());
            }
            if parent.text.is_empty() {
                // Anonymous block (error already reported): drop it.
                return;
            }
            parent.children = Some(children);
            if let Some(level) = self.levels.last_mut() {
                level.push(parent);
            }
        }
    }

    /// Closes open blocks (reporting them) and returns the top-level nodes.
    pub(crate) fn finish(mut self, sm: &SourceMap, diags: &mut Vec<Diagnostic>) -> Vec<Node> {
        if !self.open.is_empty() {
            let n = self.open.len();
            if let Some(first) = self.open.first() {
                diags.push(sm.diag(
                    Severity::Error,
                    DiagKind::Syntax,
                    first.loc,
                    first.keyword(),
                    format!("{n} block(s) not closed at end of input (missing `}}`)"),
                    None,
                ));
            }
            while !self.open.is_empty() {
                self.close();
            }
        }
        self.levels.pop().unwrap_or_default()
    }
}
