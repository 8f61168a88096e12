//! Logical lines into a tree of `keyword args… [{ … }]` nodes, and word splitting.

use crate::diag::{DiagKind, Diagnostic, Loc, Severity, SourceMap};
use std::ops::Deref;
use std::sync::Arc;

/// A node's text. Text copied verbatim from a file is a range of the file's own buffer (no
/// allocation per line); expanded text has a box of its own (no shared count to update).
#[derive(Clone)]
pub(crate) enum NodeText {
    /// Text of its own.
    Owned(Box<str>),
    /// `buf[start..end]`.
    Shared {
        /// The file's text.
        buf: Arc<str>,
        /// Byte range in it.
        start: u32,
        /// End of the range.
        end: u32,
    },
}

impl NodeText {
    fn owned(text: &str) -> NodeText {
        NodeText::Owned(text.into())
    }

    /// `text` as a range of `buf` when it is found at byte offset `at`.
    fn shared(buf: &Arc<str>, at: usize, text: &str) -> Option<NodeText> {
        let end = at.checked_add(text.len())?;
        if buf.get(at..end) != Some(text) {
            return None;
        }
        Some(NodeText::Shared {
            buf: Arc::clone(buf),
            start: u32::try_from(at).ok()?,
            end: u32::try_from(end).ok()?,
        })
    }
}

impl Deref for NodeText {
    type Target = str;

    fn deref(&self) -> &str {
        match self {
            NodeText::Owned(s) => s,
            NodeText::Shared { buf, start, end } => {
                buf.get(*start as usize..*end as usize).unwrap_or("")
            }
        }
    }
}

impl std::fmt::Debug for NodeText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&**self, f)
    }
}

/// One logical line and its block.
#[derive(Clone)]
pub(crate) struct Node {
    /// The logical line, braces removed.
    pub(crate) text: NodeText,
    /// Where the text starts.
    pub(crate) loc: Loc,
    /// The text is a verbatim slice of the physical line at `loc` (so word columns are exact).
    pub(crate) verbatim: bool,
    /// The `{ … }` block that followed, if any: `len` nodes from `start` in the tree's arena
    /// ([`Tree::nodes`]).
    block: Option<(u32, u32)>,
    /// Byte range of the keyword (first word, quotes removed) in `text`.
    kw: (u32, u32),
    /// Byte range of the first word after the keyword when the fast path already found it
    /// (text without quotes); `(0, 0)` when not known.
    arg1: (u16, u16),
}

/// Everything but `arg1`, a cache of what [`Node::first_arg`] finds (so nodes from the fast
/// path and the full preprocessor print the same).
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("text", &self.text)
            .field("loc", &self.loc)
            .field("verbatim", &self.verbatim)
            .field("block", &self.block)
            .field("kw", &self.kw)
            .finish()
    }
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
    Words {
        text,
        i: 0,
        single_quotes,
    }
    .collect()
}

/// `0x01` in every byte of a `u64`.
const LO: u64 = 0x0101_0101_0101_0101;

/// `c` in every byte of a `u64`.
pub(crate) fn splat(c: u8) -> u64 {
    LO * u64::from(c)
}

/// The eight bytes at `i` as a little-endian `u64`, if there are eight.
pub(crate) fn word_at(b: &[u8], i: usize) -> Option<u64> {
    let chunk = b.get(i..i.checked_add(8)?)?;
    let mut w = [0u8; 8];
    w.copy_from_slice(chunk);
    Some(u64::from_le_bytes(w))
}

/// Nonzero exactly when some byte of `v` is below `n` (`n` <= 128): scanners use it to skip
/// eight ordinary bytes at a time.
pub(crate) fn bytes_below(v: u64, n: u8) -> u64 {
    v.wrapping_sub(splat(n)) & !v & (LO << 7)
}

/// Nonzero exactly when some byte of `v` equals `c`.
pub(crate) fn has_byte(v: u64, c: u8) -> u64 {
    bytes_below(v ^ splat(c), 1)
}

/// Word separators: ASCII whitespace (`u8::is_ascii_whitespace`) and vertical tab.
static WORD_SEP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = c.is_ascii_whitespace() || c == 0x0b;
        i += 1;
    }
    t
};

/// The iterator behind [`split_words`] (no allocation); offsets are relative to `text`.
pub(crate) struct Words<'a> {
    text: &'a str,
    i: usize,
    single_quotes: bool,
}

impl<'a> Iterator for Words<'a> {
    type Item = Word<'a>;

    fn next(&mut self) -> Option<Word<'a>> {
        let text = self.text;
        let b = text.as_bytes();
        // A local index (not the field) keeps the scanning loops in registers.
        let mut i = self.i;
        while i < b.len() {
            let c = b[i];
            if WORD_SEP[usize::from(c)] {
                i += 1;
                continue;
            }
            if c == b'"' || (self.single_quotes && c == b'\'') {
                let start = i + 1;
                let end = text
                    .get(start..)
                    .and_then(|r| r.find(c as char))
                    .map_or(text.len(), |e| start + e);
                self.i = end + 1;
                return Some(Word {
                    s: text.get(start..end).unwrap_or(""),
                    off: u32::try_from(start).unwrap_or(u32::MAX),
                });
            }
            let start = i;
            // Separators are all below 0x21: skip eight bytes at a time while none is.
            while let Some(w) = word_at(b, i)
                && bytes_below(w, 0x21) == 0
            {
                i += 8;
            }
            while i < b.len() && !WORD_SEP[usize::from(b[i])] {
                i += 1;
            }
            self.i = i;
            return Some(Word {
                s: text.get(start..i).unwrap_or(""),
                off: u32::try_from(start).unwrap_or(u32::MAX),
            });
        }
        self.i = i;
        None
    }
}

impl Node {
    /// The words of the line (double quotes only).
    pub(crate) fn words(&self) -> Vec<Word<'_>> {
        split_words(&self.text, false)
    }

    /// A node for a logical line.
    pub(crate) fn new(text: &str, loc: Loc, verbatim: bool) -> Node {
        Node::with_text(NodeText::owned(text), loc, verbatim)
    }

    /// A node for a logical line whose text is already in `text`.
    fn with_text(node_text: NodeText, loc: Loc, verbatim: bool) -> Node {
        let text: &str = &node_text;
        let kw = Words {
            text,
            i: 0,
            single_quotes: false,
        }
        .next()
        .map_or((0, 0), |w| {
            (w.off, w.off + u32::try_from(w.s.len()).unwrap_or(0))
        });
        Node {
            text: node_text,
            loc,
            verbatim,
            block: None,
            kw,
            arg1: (0, 0),
        }
    }

    /// Whether a `{ … }` block followed.
    pub(crate) fn has_block(&self) -> bool {
        self.block.is_some()
    }

    /// The nodes of the block that followed (empty without one), from the arena `nodes` the
    /// node belongs to.
    pub(crate) fn children_in<'t>(&self, nodes: &'t [Node]) -> Option<&'t [Node]> {
        let (start, len) = self.block?;
        let start = start as usize;
        nodes.get(start..start + len as usize)
    }

    /// The first word.
    pub(crate) fn keyword(&self) -> &str {
        let (a, b) = (self.kw.0 as usize, self.kw.1 as usize);
        match &self.text {
            NodeText::Owned(s) => s.get(a..b),
            NodeText::Shared { buf, start, .. } => {
                let start = *start as usize;
                buf.get(start + a..start + b)
            }
        }
        .unwrap_or("")
    }

    /// Where the arguments start (after the keyword and its closing quote, if any).
    fn args_start(&self) -> usize {
        let end = self.kw.1 as usize;
        if self.text.as_bytes().get(end) == Some(&b'"') {
            end + 1
        } else {
            end
        }
    }

    /// The first word after the keyword, without allocating.
    pub(crate) fn first_arg(&self) -> Option<Word<'_>> {
        if let Some(w) = self.known_arg1() {
            return Some(w);
        }
        Words {
            text: &self.text,
            i: self.args_start(),
            single_quotes: false,
        }
        .next()
    }

    /// Whether the first argument the fast path recorded (if any) is the one the words of
    /// the text give (for tests).
    #[cfg(test)]
    pub(crate) fn arg1_is_consistent(&self) -> bool {
        let scanned = Words {
            text: &self.text,
            i: self.args_start(),
            single_quotes: false,
        }
        .next();
        match (self.known_arg1(), scanned) {
            (None, _) => true,
            (Some(a), Some(b)) => a.s == b.s && a.off == b.off,
            (Some(_), None) => false,
        }
    }

    /// The first word after the keyword when the fast path recorded it.
    fn known_arg1(&self) -> Option<Word<'_>> {
        let (a, b) = self.arg1;
        if b == 0 {
            return None;
        }
        Some(Word {
            s: self.text.get(usize::from(a)..usize::from(b))?,
            off: u32::from(a),
        })
    }

    /// The first two words after the keyword, without allocating (a prefix of
    /// [`Node::args`]).
    pub(crate) fn first_two_args(&self) -> (Option<Word<'_>>, Option<Word<'_>>) {
        if let Some(first) = self.known_arg1() {
            let mut words = Words {
                text: &self.text,
                i: usize::from(self.arg1.1),
                single_quotes: false,
            };
            return (Some(first), words.next());
        }
        let mut words = Words {
            text: &self.text,
            i: self.args_start(),
            single_quotes: false,
        };
        let first = words.next();
        let second = if first.is_some() { words.next() } else { None };
        (first, second)
    }

    /// The words after the keyword (offsets relative to the whole text).
    pub(crate) fn args(&self) -> Vec<Word<'_>> {
        Words {
            text: &self.text,
            i: self.args_start(),
            single_quotes: false,
        }
        .collect()
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

/// A finished tree: every node in one arena, blocks as ranges of it.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// All nodes; a block's nodes are contiguous.
    pub(crate) nodes: Vec<Node>,
    /// The top-level nodes: `len` from `start`.
    top: (usize, usize),
}

impl Tree {
    /// The top-level nodes.
    pub(crate) fn top(&self) -> &[Node] {
        self.nodes
            .get(self.top.0..self.top.0 + self.top.1)
            .unwrap_or(&[])
    }
}

/// Builds the tree from logical lines, reporting brace problems.
///
/// The nodes of every open level live on one stack (`nodes`); a level starts at the index its
/// frame records, and closing a block moves its nodes to the end of one arena for the whole
/// tree (no vector per block).
#[derive(Debug, Default)]
pub(crate) struct TreeBuilder {
    /// The nodes of all open levels, outermost first.
    nodes: Vec<Node>,
    /// Closed blocks' nodes.
    arena: Vec<Node>,
    /// Open blocks: where their children start in `nodes`; the node that opened the block
    /// is the one just before (it stays in place while the block is open).
    frames: Vec<usize>,
    pub(crate) lines: u64,
}

impl TreeBuilder {
    /// A builder at the top level.
    pub(crate) fn new() -> Self {
        TreeBuilder::default()
    }

    /// Where the current level starts in `nodes`.
    fn level_start(&self) -> usize {
        self.frames.last().copied().unwrap_or(0)
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
        match text {
            "{" => self.open_brace(loc, sm, diags),
            "}" => self.close_brace(loc, sm, diags),
            _ => {
                self.lines += 1;
                // Verbatim text is a slice of its file: share the file's buffer.
                let shared = if verbatim {
                    sm.line_text_at(loc)
                        .and_then(|(buf, at)| NodeText::shared(buf, at, text))
                } else {
                    None
                };
                let node_text = shared.unwrap_or_else(|| NodeText::owned(text));
                self.nodes.push(Node::with_text(node_text, loc, verbatim));
            }
        }
    }

    /// Adds the logical line `buf[start..end]` (verbatim, trimmed, no braces, no quotes),
    /// whose keyword ends at byte `kw_end` of it and whose first argument is `arg1` (`(0, 0)`
    /// if not known; byte offsets in the line).
    pub(crate) fn shared_line(
        &mut self,
        buf: &Arc<str>,
        (start, end): (u32, u32),
        kw_end: u32,
        arg1: (u16, u16),
        loc: Loc,
    ) {
        self.lines += 1;
        self.nodes.push(Node {
            text: NodeText::Shared {
                buf: Arc::clone(buf),
                start,
                end,
            },
            loc,
            verbatim: true,
            block: None,
            kw: (0, kw_end),
            arg1,
        });
    }

    /// A `{` logical line: the last node of the current level opens a block.
    pub(crate) fn open_brace(&mut self, loc: Loc, sm: &SourceMap, diags: &mut Vec<Diagnostic>) {
        self.lines += 1;
        let has_parent = self.nodes.len() > self.level_start()
            && self.nodes.last().is_some_and(|n| n.block.is_none());
        if !has_parent {
            diags.push(sm.diag(
                Severity::Error,
                DiagKind::Syntax,
                loc,
                "{",
                "`{` without a keyword before it".into(),
                None,
            ));
            // Treat as an anonymous block so the matching `}` balances.
            self.nodes.push(Node::new("", loc, false));
        }
        self.frames.push(self.nodes.len());
    }

    /// A `}` logical line.
    pub(crate) fn close_brace(&mut self, loc: Loc, sm: &SourceMap, diags: &mut Vec<Diagnostic>) {
        self.lines += 1;
        if self.frames.is_empty() {
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

    fn close(&mut self) {
        let Some(start) = self.frames.pop() else {
            return;
        };
        let start = start.min(self.nodes.len());
        let Some(p) = start.checked_sub(1) else {
            return;
        };
        if self.nodes.get(p).is_none_or(|n| n.text.is_empty()) {
            // Anonymous block (error already reported): drop it.
            self.nodes.truncate(p);
            return;
        }
        let at = self.arena.len();
        let len = self.nodes.len() - start;
        if len == 1 {
            // The common one-line block: a move, not a drain.
            self.arena.extend(self.nodes.pop());
        } else {
            self.arena.extend(self.nodes.drain(start..));
        }
        if let Some(parent) = self.nodes.get_mut(p) {
            parent.block = Some((
                u32::try_from(at).unwrap_or(u32::MAX),
                u32::try_from(len).unwrap_or(0),
            ));
        }
    }

    /// Closes open blocks (reporting them) and returns the tree.
    pub(crate) fn finish(mut self, sm: &SourceMap, diags: &mut Vec<Diagnostic>) -> Tree {
        if !self.frames.is_empty() {
            let n = self.frames.len();
            if let Some(first) = self
                .frames
                .first()
                .and_then(|s| s.checked_sub(1))
                .and_then(|p| self.nodes.get(p))
            {
                diags.push(sm.diag(
                    Severity::Error,
                    DiagKind::Syntax,
                    first.loc,
                    first.keyword(),
                    format!("{n} block(s) not closed at end of input (missing `}}`)"),
                    None,
                ));
            }
            while !self.frames.is_empty() {
                self.close();
            }
        }
        let top = (self.arena.len(), self.nodes.len());
        self.arena.append(&mut self.nodes);
        Tree {
            nodes: self.arena,
            top,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_scans_agree_with_byte_loops() {
        // Every byte value at every position, over a background of ordinary and high bytes.
        for bg in [b'a', b' ', 0xc3, 0x7f, 0x21] {
            for pos in 0..8 {
                for c in 0..=255u8 {
                    let mut bytes = [bg; 8];
                    bytes[pos] = c;
                    let v = u64::from_le_bytes(bytes);
                    assert_eq!(bytes_below(v, 0x21) != 0, bytes.iter().any(|b| *b < 0x21));
                    for t in [b'"', b'#', b'!', b'\\', b'{', b'}'] {
                        assert_eq!(has_byte(v, t) != 0, bytes.contains(&t));
                    }
                }
            }
        }
        assert_eq!(word_at(b"1234567", 0), None);
        assert_eq!(
            word_at(b"12345678", 0),
            Some(u64::from_le_bytes(*b"12345678"))
        );
    }

    #[test]
    fn words_split_like_before() {
        let t = "  kw\t\"a b\"  x\u{b}y longer_word_than_eight_bytes\u{c}z ";
        let w: Vec<&str> = split_words(t, false).iter().map(|w| w.s).collect();
        assert_eq!(
            w,
            ["kw", "a b", "x", "y", "longer_word_than_eight_bytes", "z"]
        );
    }
}
