//! Re-parsing a changed configuration by parsing only the `virtual_server` blocks that changed.
//!
//! A reload of a large director configuration usually changes a few lines of one or two
//! `virtual_server` blocks. [`reparse`] compares the new text with the text of an earlier clean
//! parse (a [`Baseline`]), and when every difference lies inside top-level `virtual_server`
//! blocks it parses only those blocks and splices them into the earlier [`Config`]. The result
//! is the configuration a full parse gives; whenever that cannot be guaranteed cheaply, it
//! returns `None` and the caller parses the whole file. The conditions, checked on both texts:
//!
//! - one file: no `include`, and none of the preprocessor's triggers (`$` definitions and
//!   expansions, `@` conditionals, `~SEQ`), no quotes or backslashes (which change how
//!   comments and braces are read), no non-breaking spaces;
//! - every top-level item is a block whose `{` is on the item's first line, and braces
//!   balance, so that the items can be found without the preprocessor;
//! - the earlier parse produced no diagnostic, and the changed blocks parse on their own
//!   without one (a `virtual_server` block is lowered from its own text only; the one
//!   cross-block check, a `virtual_server_group` reference, is made by parsing the changed
//!   blocks after the unchanged group blocks).
//!
//! Anything else (a change in `global_defs`, a VRRP instance, a warning) takes the full parse,
//! with its diagnostics.

use std::ops::Range;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use crate::model::{Config, VirtualServer};
use crate::{Options, Parsed};

/// What a clean parse of a file leaves for a later [`reparse`]: the text and (found at the
/// first re-parse, so that a start-up does not pay for it) where its top-level blocks are.
#[derive(Debug, Clone)]
pub struct Baseline {
    text: Arc<str>,
    /// How many `virtual_server`s the text parsed to.
    virtual_servers: usize,
    /// The top-level items, `None` when the text uses what the fast path does not follow.
    items: OnceLock<Option<Vec<Item>>>,
}

/// A top-level block: byte range in the text (from its keyword to its closing brace), and
/// whether it is a `virtual_server` or a `virtual_server_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Item {
    start: usize,
    end: usize,
    kind: Kind,
}

impl Item {
    fn is_vs(&self) -> bool {
        self.kind == Kind::Vs
    }
}

impl Baseline {
    /// A baseline for re-parsing later versions of the file `parsed` came from, or `None` when
    /// that parse cannot serve as one (it read more than one file or it had diagnostics). A
    /// text the fast path does not follow (see the module documentation) is found out at the
    /// first [`reparse`], which then answers `None`. Cheap: it keeps the parse's text.
    #[must_use]
    pub fn new(parsed: &Parsed) -> Option<Self> {
        let [file] = parsed.sources.files() else {
            return None;
        };
        if !parsed.diagnostics.is_empty() {
            return None;
        }
        Some(Self {
            text: Arc::clone(&file.text),
            virtual_servers: parsed.config.virtual_servers.len(),
            items: OnceLock::new(),
        })
    }

    /// The text's top-level items (scanned once), or `None` when the fast path does not
    /// follow the text.
    fn items(&self, opts: &Options) -> Option<&[Item]> {
        self.items
            .get_or_init(|| {
                scan(&self.text, opts)
                    .filter(|it| it.iter().filter(|i| i.is_vs()).count() == self.virtual_servers)
            })
            .as_deref()
    }
}

/// The configuration `new_text` parses to, computed from `old` (what `base`'s text parsed to)
/// by parsing only the `virtual_server` blocks that differ, with the baseline for `new_text`;
/// `None` when the fast path does not apply and the whole text must be parsed (see the module
/// documentation). `path` and `opts` are those of the full parse it replaces. This copies
/// `old`; [`reparse_change`] edits it in place instead.
#[must_use]
pub fn reparse(
    base: &Baseline,
    old: &Config,
    new_text: &str,
    path: &Path,
    opts: &Options,
) -> Option<(Config, Baseline)> {
    let change = reparse_change(base, old, new_text, path, opts)?;
    let mut config = old.clone();
    let (baseline, _) = change.apply(&mut config)?;
    Some((config, baseline))
}

/// What changed between a baseline's text and a new text, as far as the configuration goes:
/// the `virtual_server`s at `range` of the old configuration are replaced by `fresh`.
#[derive(Debug, Clone)]
pub struct Change {
    range: Range<usize>,
    fresh: Vec<VirtualServer>,
    baseline: Baseline,
}

/// How to turn a configuration a [`Change`] was applied to back into the one before.
#[derive(Debug, Clone)]
pub struct Undo {
    range: Range<usize>,
    replaced: Vec<VirtualServer>,
}

impl Change {
    /// Applies the change to the configuration [`reparse_change`] was given (which becomes
    /// what a full parse of the new text gives) and returns the new text's baseline and the
    /// way back; `None`, leaving `config` alone, when `config` cannot be that configuration.
    pub fn apply(self, config: &mut Config) -> Option<(Baseline, Undo)> {
        config.virtual_servers.get(self.range.clone())?;
        let start = self.range.start;
        let n = self.fresh.len();
        let replaced = config
            .virtual_servers
            .splice(self.range, self.fresh)
            .collect();
        Some((
            self.baseline,
            Undo {
                range: start..start + n,
                replaced,
            },
        ))
    }
}

impl Undo {
    /// Restores the configuration the change was applied to. `false`, leaving `config` alone,
    /// when `config` is not the one the change produced.
    pub fn revert(self, config: &mut Config) -> bool {
        if config.virtual_servers.get(self.range.clone()).is_none() {
            return false;
        }
        config.virtual_servers.splice(self.range, self.replaced);
        true
    }
}

/// Like [`reparse`], but returns the change to apply to `old` (no copy of it is made).
#[must_use]
pub fn reparse_change(
    base: &Baseline,
    old: &Config,
    new_text: &str,
    path: &Path,
    opts: &Options,
) -> Option<Change> {
    let (a, b) = (base.text.as_bytes(), new_text.as_bytes());
    let old_items = base.items(opts)?;
    let new_items = scan(new_text, opts)?;
    let prefix = common_prefix(a, b);
    // After the common prefix: the two can share at most what is left of the shorter one.
    let suffix = common_suffix(&a[prefix..], &b[prefix..]);
    // Changed ranges: [prefix, a_end) of the old text, [prefix, b_end) of the new one. An item
    // that touches its range counts as changed (an insertion at an item's edge included).
    let (a_end, b_end) = (a.len() - suffix, b.len() - suffix);
    let touches = |i: &Item, end: usize| i.end >= prefix && i.start <= end;
    let old_first = old_items.iter().position(|i| touches(i, a_end));
    let new_first = new_items.iter().position(|i| touches(i, b_end));
    // Items before the change are identical (same bytes, same scan); after it they must
    // match at the shifted offsets.
    let old_before = old_first.unwrap_or_else(|| old_items.partition_point(|i| i.end < prefix));
    let new_before = new_first.unwrap_or_else(|| new_items.partition_point(|i| i.end < prefix));
    if old_before != new_before || old_items[..old_before] != new_items[..new_before] {
        return None;
    }
    let old_after = old_items
        .partition_point(|i| i.start <= a_end)
        .max(old_before);
    let new_after = new_items
        .partition_point(|i| i.start <= b_end)
        .max(new_before);
    let (old_tail, new_tail) = (&old_items[old_after..], &new_items[new_after..]);
    if old_tail.len() != new_tail.len()
        || old_tail.iter().zip(new_tail).any(|(o, n)| {
            o.kind != n.kind
                || a.len() - o.start != b.len() - n.start
                || a.len() - o.end != b.len() - n.end
        })
    {
        return None;
    }
    let (old_changed, new_changed) = (
        &old_items[old_before..old_after],
        &new_items[new_before..new_after],
    );
    if !old_changed.iter().chain(new_changed).all(Item::is_vs) {
        return None;
    }
    let at = old_items[..old_before].iter().filter(|i| i.is_vs()).count();
    let range = at..at + old_changed.len();
    old.virtual_servers.get(range.clone())?;
    let fresh = match (new_changed.first(), new_changed.last()) {
        (Some(first), Some(last)) => {
            // The changed blocks, after the (unchanged) virtual_server_group blocks their
            // group references are checked against.
            let mut slice = String::new();
            for g in old_items.iter().filter(|i| i.kind == Kind::Group) {
                slice.push_str(base.text.get(g.start..g.end)?);
                slice.push('\n');
            }
            slice.push_str(new_text.get(first.start..last.end)?);
            let parsed = crate::parse_str_with(&crate::MemFs::new(), path, &slice, opts);
            if !parsed.diagnostics.is_empty()
                || parsed.config.virtual_servers.len() != new_changed.len()
                || parsed.config.virtual_server_groups != old.virtual_server_groups
            {
                return None;
            }
            parsed.config.virtual_servers
        }
        _ => Vec::new(),
    };
    Some(Change {
        range,
        fresh,
        baseline: Baseline {
            text: Arc::from(new_text),
            virtual_servers: new_items.iter().filter(|i| i.is_vs()).count(),
            items: OnceLock::from(Some(new_items)),
        },
    })
}

/// Length of the common prefix of `a` and `b`, comparing blocks first.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 1024;
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
        i += BLOCK;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// Length of the common suffix of `a` and `b`, comparing blocks first.
fn common_suffix(a: &[u8], b: &[u8]) -> usize {
    const BLOCK: usize = 1024;
    let n = a.len().min(b.len());
    let (a, b) = (&a[a.len() - n..], &b[b.len() - n..]);
    let mut k = 0;
    while k + BLOCK <= n && a[n - k - BLOCK..n - k] == b[n - k - BLOCK..n - k] {
        k += BLOCK;
    }
    k + a[..n - k]
        .iter()
        .rev()
        .zip(b[..n - k].iter().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

/// What a top-level item is, as far as [`reparse`] cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Vs,
    Group,
    Other,
}

/// Byte classes for [`scan`].
const PLAIN: u8 = 0;
const SPACE: u8 = 1;
const NEWLINE: u8 = 2;
const OPEN: u8 = 3;
const CLOSE: u8 = 4;
const COMMENT: u8 = 5;
/// Quotes, backslashes, `$`, `~`: what the fast path does not follow.
const REFUSE: u8 = 6;
/// The first byte of U+00A0 (a non-breaking space, which the parser warns about).
const C2: u8 = 7;

const CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t[b'\r' as usize] = SPACE;
    t[0x0b] = SPACE;
    t[0x0c] = SPACE;
    t[b'\n' as usize] = NEWLINE;
    t[b'{' as usize] = OPEN;
    t[b'}' as usize] = CLOSE;
    t[b'#' as usize] = COMMENT;
    t[b'!' as usize] = COMMENT;
    t[b'"' as usize] = REFUSE;
    t[b'\'' as usize] = REFUSE;
    t[b'\\' as usize] = REFUSE;
    t[b'$' as usize] = REFUSE;
    t[b'~' as usize] = REFUSE;
    t[0xc2] = C2;
    t
};

/// The top-level items of `text`, or `None` when it uses anything the fast path does not
/// follow (see the module documentation). One pass over the bytes.
fn scan(text: &str, opts: &Options) -> Option<Vec<Item>> {
    let b = text.as_bytes();
    let mut items = Vec::new();
    let mut depth: u32 = 0;
    // The item being read: its start, its kind, whether its `{` came.
    let mut open: Option<(usize, Kind, bool)> = None;
    let mut lines: u64 = 1;
    let mut line_start = 0;
    // Before the first non-blank byte of the line; in a comment.
    let mut leading = true;
    let mut comment = false;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let class = CLASS[usize::from(c)];
        if leading && class != SPACE && class != NEWLINE {
            leading = false;
            let word = word_at(b, i);
            if c == b'@' || word == b"include" {
                return None;
            }
        }
        match class {
            PLAIN if depth == 0 && open.is_none() && !comment => {
                let word = word_at(b, i);
                let kind = match word {
                    b"virtual_server" => Kind::Vs,
                    b"virtual_server_group" => Kind::Group,
                    _ => Kind::Other,
                };
                open = Some((i, kind, false));
                i += word.len();
                continue;
            }
            SPACE => {}
            NEWLINE => {
                // A top-level keyword whose block does not open on its own line.
                if matches!(open, Some((_, _, false))) || i - line_start > opts.max_line_len {
                    return None;
                }
                lines += 1;
                line_start = i + 1;
                leading = true;
                comment = false;
            }
            OPEN if !comment => {
                depth += 1;
                if depth == 1 {
                    let (start, kind, _) = open?;
                    open = Some((start, kind, true));
                }
            }
            CLOSE if !comment => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    let (start, kind, _) = open.take()?;
                    items.push(Item {
                        start,
                        end: i + 1,
                        kind,
                    });
                }
            }
            COMMENT => comment = true,
            REFUSE => return None,
            C2 if b.get(i + 1) == Some(&0xa0) => return None,
            _ => {}
        }
        i += 1;
    }
    // The last line (no newline after it).
    if matches!(open, Some((_, _, false))) || b.len() - line_start > opts.max_line_len {
        return None;
    }
    // The preprocessor splits braces onto lines of their own: stay well inside the limit.
    if depth != 0 || open.is_some() || lines.saturating_mul(3) > opts.max_lines {
        return None;
    }
    Some(items)
}

/// The word starting at `i`: up to whitespace, a brace or a comment.
fn word_at(b: &[u8], i: usize) -> &[u8] {
    let rest = b.get(i..).unwrap_or_default();
    let len = rest
        .iter()
        .position(|&c| {
            matches!(
                CLASS[usize::from(c)],
                SPACE | NEWLINE | OPEN | CLOSE | COMMENT
            )
        })
        .unwrap_or(rest.len());
    &rest[..len]
}
