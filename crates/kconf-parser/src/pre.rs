//! keepalived's line preprocessor (`lib/parser.c` `read_line`), in keepalived's order:
//! comments, `include`, multiline definition continuation, `@id` conditionals, `$NAME=`
//! definitions, `~SEQ`/`~LST`, `$NAME` substitution (repeated, re-checking `@` results), and
//! brace splitting. Every logical line keeps its file/line/column.

use crate::Options;
use crate::diag::{DiagKind, Diagnostic, Loc, Severity, SourceMap};
use crate::fs::{FileSystem, normalize};
use crate::hash::FxBuild;
use crate::tree::{TreeBuilder, has_byte, word_at};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// keepalived's `MAXBUF`: longer physical lines are ignored.
pub(crate) const MAXBUF: usize = 1024;
/// Substitution passes before a definition is declared recursive.
const MAX_PASSES: usize = 64;
/// Nesting of `~SEQ`, multiline expansions and `@` re-checks.
const MAX_DEPTH: u32 = 64;
/// Alternatives a `{a,b}` include pattern may expand to.
const MAX_BRACE_ALTERNATIVES: usize = 4096;

/// `include` strictness flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IncludeFlags {
    /// R: every matched file must be readable.
    pub(crate) read: bool,
    /// M: a pattern without wildcards must match.
    pub(crate) must_match: bool,
    /// W: a pattern with wildcards must match.
    pub(crate) wildcard_match: bool,
    /// B: every brace alternative must match.
    pub(crate) brace_match: bool,
}

impl IncludeFlags {
    const ALL: IncludeFlags = IncludeFlags {
        read: true,
        must_match: true,
        wildcard_match: true,
        brace_match: true,
    };
}

/// The preprocessor state; it feeds logical lines into a [`TreeBuilder`].
pub(crate) struct Pre<'a> {
    fs: &'a dyn FileSystem,
    pub(crate) sm: SourceMap,
    pub(crate) diags: Vec<Diagnostic>,
    pub(crate) tree: TreeBuilder,
    defs: HashMap<String, String, FxBuild>,
    config_id: String,
    rng: u64,
    include_default: IncludeFlags,
    multiline: Option<(String, String)>,
    dirs: Vec<PathBuf>,
    budget: u64,
    max_line_len: usize,
    max_include_depth: usize,
    aborted: bool,
    /// When set, every logical line handed to the tree is also recorded here.
    pub(crate) record: Option<Vec<(String, Loc)>>,
    /// Whether plain lines take [`Pre::plain_line`] (off only to test it against the full
    /// path).
    pub(crate) fast: bool,
}

/// Whitespace as `char::is_whitespace` sees it, for ASCII bytes.
fn is_ascii_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `str::trim_start` with an ASCII fast path (same result: non-ASCII falls back to it).
pub(crate) fn trim_start_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let mut i = 0;
    // Indentation: eight spaces at a time.
    while let Some(w) = b.get(i..i + 8)
        && w == b"        "
    {
        i += 8;
    }
    while i < b.len() && is_ascii_ws(b[i]) {
        i += 1;
    }
    match b.get(i) {
        Some(c) if *c >= 0x80 => s[i..].trim_start(),
        _ => &s[i..],
    }
}

/// `str::trim_end` with an ASCII fast path (same result: non-ASCII falls back to it).
pub(crate) fn trim_end_ws(s: &str) -> &str {
    let b = s.as_bytes();
    let mut j = b.len();
    while j > 0 && is_ascii_ws(b[j - 1]) {
        j -= 1;
    }
    if j > 0 && b[j - 1] >= 0x80 {
        s[..j].trim_end()
    } else {
        &s[..j]
    }
}

/// The bytes [`decomment`] looks at; everything else is skipped with one table lookup.
static DECOMMENT_SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'#' as usize] = true;
    t[b'!' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Removes comments (outside double quotes), `\#`/`\!` escapes and surrounding whitespace,
/// including whitespace before a trailing `\`. Returns the text, its byte offset in `raw`,
/// whether it is a verbatim slice, and the offset of an unterminated quote.
fn decomment(raw: &str) -> (Cow<'_, str>, usize, bool, Option<usize>) {
    let b = raw.as_bytes();
    let mut in_q = false;
    let mut q_start = 0;
    let mut end = b.len();
    let mut escapes = false;
    let mut i = 0;
    while i < b.len() {
        if let Some(w) = word_at(b, i)
            && (has_byte(w, b'"') | has_byte(w, b'#') | has_byte(w, b'!') | has_byte(w, b'\\')) == 0
        {
            i += 8;
            continue;
        }
        if !DECOMMENT_SPECIAL[usize::from(b[i])] {
            i += 1;
            continue;
        }
        match b[i] {
            b'"' => {
                in_q = !in_q;
                q_start = i;
            }
            b'#' | b'!' if !in_q => {
                end = i;
                break;
            }
            b'\\' if !in_q && matches!(b.get(i + 1), Some(b'#' | b'!')) => {
                escapes = true;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let unterminated = in_q.then_some(q_start);
    let body = &raw[..end];
    let trimmed_start = trim_start_ws(body);
    let start = body.len() - trimmed_start.len();
    let t = trim_end_ws(trimmed_start);
    let mut verbatim = true;
    let mut out: Cow<'_, str> = if escapes {
        verbatim = false;
        let mut s = String::with_capacity(t.len());
        let mut in_q = false;
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '"' {
                in_q = !in_q;
            }
            if c == '\\' && !in_q && matches!(chars.peek(), Some('#' | '!')) {
                continue;
            }
            s.push(c);
        }
        Cow::Owned(s)
    } else {
        Cow::Borrowed(t)
    };
    if let Some(before) = out.strip_suffix('\\')
        && before.ends_with(|c: char| c.is_ascii_whitespace())
    {
        verbatim = false;
        out = Cow::Owned(format!("{}\\", before.trim_end()));
    }
    (out, start, verbatim, unterminated)
}

/// Byte classes of [`Pre::plain_line`]: ordinary, whitespace (as `trim`/word splitting see
/// it), a brace, or anything that needs the full preprocessor (quote, comment, escape, `$`,
/// NUL, non-ASCII).
const PLAIN: u8 = 0;
/// Eight spaces, as a little-endian word.
const SPACES8: u64 = u64::from_le_bytes(*b"        ");
const WS: u8 = 1;
const BRACE: u8 = 2;
const SPECIAL: u8 = 3;
static PLAIN_CLASS: [u8; 256] = {
    let mut t = [PLAIN; 256];
    let mut i = 0;
    while i < 256 {
        let c = i as u8;
        t[i] = if c >= 0x80 || matches!(c, 0 | b'"' | b'#' | b'!' | b'\\' | b'$') {
            SPECIAL
        } else if matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            WS
        } else if matches!(c, b'{' | b'}') {
            BRACE
        } else {
            PLAIN
        };
        i += 1;
    }
    t
};

/// [`decomment`] for expanded text (no diagnostics, no offsets).
fn decomment_str(s: String) -> String {
    if !s.contains(['#', '!']) {
        // Only comments change expanded text here; trimming happens when lines are split.
        return s;
    }
    s.split('\n')
        .map(|l| decomment(l).0.into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `$NAME=VALUE` (no space before `=`): returns name and value (leading whitespace removed).
fn parse_definition(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix('$')?;
    let b = rest.as_bytes();
    if !b.first().is_some_and(|c| is_ident_start(*c)) {
        return None;
    }
    let n = b.iter().take_while(|c| is_ident(**c)).count();
    if b.get(n) != Some(&b'=') {
        return None;
    }
    Some((&rest[..n], rest[n + 1..].trim_start()))
}

/// `include*` directive: flags, argument and the argument's offset.
fn include_directive(text: &str, default: IncludeFlags) -> Option<(IncludeFlags, &str, usize)> {
    if !text.starts_with("include") {
        return None;
    }
    let kw_end = text.find(|c: char| c.is_ascii_whitespace())?;
    let no = IncludeFlags::default();
    let flags = match &text[..kw_end] {
        "include" => default,
        "includer" => IncludeFlags { read: true, ..no },
        "includem" => IncludeFlags {
            read: true,
            must_match: true,
            ..no
        },
        "includew" => IncludeFlags {
            read: true,
            must_match: true,
            wildcard_match: true,
            ..no
        },
        "includeb" => IncludeFlags {
            read: true,
            brace_match: true,
            ..no
        },
        "includea" => IncludeFlags::ALL,
        _ => return None,
    };
    let arg = text[kw_end..].trim_start();
    Some((flags, arg, text.len() - arg.len()))
}

/// csh-style brace expansion (`a{b,c}d` → `abd`, `acd`; nested braces work).
pub(crate) fn brace_expand(p: &str) -> Vec<String> {
    let b = p.as_bytes();
    // Find the first '{' with a matching '}' at depth 0.
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            i += 2;
            continue;
        }
        if b[i] == b'{' {
            let mut depth = 0usize;
            let mut commas = Vec::new();
            let mut j = i;
            let mut close = None;
            while j < b.len() {
                match b[j] {
                    b'\\' => j += 1,
                    b'{' => depth += 1,
                    b'}' => {
                        depth -= 1;
                        if depth == 0 {
                            close = Some(j);
                            break;
                        }
                    }
                    b',' if depth == 1 => commas.push(j),
                    _ => {}
                }
                j += 1;
            }
            let Some(close) = close else {
                return vec![p.to_owned()];
            };
            if p[i..=close].len() == 2 {
                // "{}" is literal (as with glob(3)).
                i = close + 1;
                continue;
            }
            let prefix = &p[..i];
            let suffix = &p[close + 1..];
            let mut bounds = vec![i];
            bounds.extend(commas);
            bounds.push(close);
            let mut out = Vec::new();
            for w in bounds.windows(2) {
                let alt = &p[w[0] + 1..w[1]];
                for e in brace_expand(&format!("{prefix}{alt}{suffix}")) {
                    out.push(e);
                    if out.len() >= MAX_BRACE_ALTERNATIVES {
                        return out;
                    }
                }
            }
            return out;
        }
        i += 1;
    }
    vec![p.to_owned()]
}

fn has_wildcard(p: &str) -> bool {
    p.bytes().any(|c| matches!(c, b'*' | b'?' | b'['))
}

/// fnmatch(3) without flags for one path component: `*`, `?`, `[…]`/`[!…]`, `\x`. A leading
/// `.` must be matched explicitly.
pub(crate) fn fnmatch(pat: &str, name: &str) -> bool {
    if name.starts_with('.') && !pat.starts_with('.') {
        return false;
    }
    fn rec(p: &[char], n: &[char], steps: &mut u32) -> bool {
        *steps += 1;
        if *steps > 100_000 {
            return false;
        }
        match p.first() {
            None => n.is_empty(),
            Some('*') => (0..=n.len()).any(|k| rec(&p[1..], &n[k..], steps)),
            Some('?') => !n.is_empty() && rec(&p[1..], &n[1..], steps),
            Some('[') => {
                let Some(&c) = n.first() else { return false };
                let mut k = 1;
                let neg = matches!(p.get(1), Some('!' | '^'));
                if neg {
                    k += 1;
                }
                let mut matched = false;
                let mut first = true;
                while k < p.len() && (first || p[k] != ']') {
                    first = false;
                    if p.get(k + 1) == Some(&'-') && p.get(k + 2).is_some_and(|c| *c != ']') {
                        if p[k] <= c && c <= p[k + 2] {
                            matched = true;
                        }
                        k += 3;
                    } else {
                        if p[k] == c {
                            matched = true;
                        }
                        k += 1;
                    }
                }
                if k >= p.len() {
                    // No closing bracket: literal '['.
                    return c == '[' && rec(&p[1..], &n[1..], steps);
                }
                matched != neg && rec(&p[k + 1..], &n[1..], steps)
            }
            Some('\\') if p.len() > 1 => n.first() == Some(&p[1]) && rec(&p[2..], &n[1..], steps),
            Some(c) => n.first() == Some(c) && rec(&p[1..], &n[1..], steps),
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let mut steps = 0;
    rec(&p, &n, &mut steps)
}

/// glob(3) on an absolute pattern through the file-system trait; sorted matches.
fn glob(fs: &dyn FileSystem, pattern: &Path) -> Vec<PathBuf> {
    let mut cands = vec![PathBuf::from("/")];
    for comp in pattern
        .to_string_lossy()
        .split('/')
        .filter(|c| !c.is_empty())
    {
        let mut next = Vec::new();
        if has_wildcard(comp) {
            for c in &cands {
                if let Ok(mut names) = fs.read_dir(c) {
                    names.sort();
                    for n in names {
                        if fnmatch(comp, &n) {
                            next.push(c.join(n));
                        }
                    }
                }
            }
        } else {
            let unescaped = comp.replace('\\', "");
            next = cands.iter().map(|c| c.join(&unescaped)).collect();
        }
        cands = next;
        if cands.is_empty() {
            break;
        }
    }
    let mut out: Vec<PathBuf> = cands
        .into_iter()
        .filter(|c| fs.metadata(c).is_some())
        .collect();
    out.sort();
    out
}

/// strtol(…, 0) for `~SEQ` arguments.
fn parse_c_long(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        i64::from_str_radix(h, 16).ok()?
    } else if body.len() > 1 && body.starts_with('0') {
        i64::from_str_radix(&body[1..], 8).ok()?
    } else {
        body.parse::<i64>().ok()?
    };
    Some(if neg { -v } else { v })
}

/// Splits on commas outside `{…}`.
fn split_top_commas(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth <= 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out
}

impl<'a> Pre<'a> {
    /// A preprocessor reading through `fs`.
    pub(crate) fn new(fs: &'a dyn FileSystem, opts: &Options) -> Self {
        let config_id = match &opts.config_id {
            Some(id) => id.clone(),
            None => fs
                .hostname()
                .map(|h| h.split('.').next().unwrap_or("").to_owned())
                .unwrap_or_default(),
        };
        Pre {
            fs,
            sm: SourceMap::default(),
            diags: Vec::new(),
            tree: TreeBuilder::new(),
            defs: HashMap::default(),
            config_id,
            rng: opts.random_seed.unwrap_or(0x5eed_cafe_f00d),
            include_default: IncludeFlags::default(),
            multiline: None,
            dirs: Vec::new(),
            budget: opts.max_lines,
            max_line_len: opts.max_line_len,
            max_include_depth: opts.max_include_depth,
            aborted: false,
            record: None,
            fast: true,
        }
    }

    fn diag(&mut self, sev: Severity, kind: DiagKind, loc: Loc, text: &str, msg: String) {
        let d = self.sm.diag(sev, kind, loc, text, msg, None);
        self.diags.push(d);
    }

    fn abs(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            normalize(path)
        } else {
            let base = self
                .dirs
                .last()
                .cloned()
                .unwrap_or_else(|| self.fs.current_dir());
            normalize(&base.join(path))
        }
    }

    /// Processes a whole file's text.
    pub(crate) fn run(&mut self, path: &Path, text: Arc<str>) {
        let abs = self.abs(&path.to_string_lossy());
        self.process_file(&abs, text);
        if let Some((name, _)) = self.multiline.take() {
            let loc = Loc {
                file: 0,
                line: 1,
                col: 0,
            };
            self.diag(
                Severity::Error,
                DiagKind::Preprocessor,
                loc,
                &name,
                format!("multiline definition `${name}` not terminated at end of input"),
            );
        }
    }

    fn process_file(&mut self, abs: &Path, text: Arc<str>) {
        let file = self
            .sm
            .add(Arc::from(abs.to_string_lossy().as_ref()), text.clone());
        self.dirs.push(
            abs.parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        );
        let text: Arc<str> = if text.contains('\u{a0}') {
            // Configs copied from web pages indent with U+00A0. keepalived 2.2.7 takes it as part
            // of the keyword ("Unknown keyword ' '") and loses whole blocks; we treat it as
            // whitespace (two ASCII spaces keep byte columns exact) and say so.
            let count = text.lines().filter(|l| l.contains('\u{a0}')).count();
            let (line, col) = text
                .lines()
                .enumerate()
                .find_map(|(i, l)| l.find('\u{a0}').map(|c| (i + 1, c)))
                .unwrap_or((1, 0));
            let loc = Loc {
                file,
                line: u32::try_from(line).unwrap_or(1),
                col: u32::try_from(col).unwrap_or(0),
            };
            let d = self.sm.diag(
                Severity::Warning,
                DiagKind::Syntax,
                loc,
                "\u{a0}",
                format!("{count} line(s) contain non-breaking spaces (U+00A0); treated as whitespace"),
                Some("keepalived 2.2.7 does not: it reports `Unknown keyword` and skips those lines; replace them with spaces".into()),
            );
            self.diags.push(d);
            Arc::from(text.replace('\u{a0}', "  "))
        } else {
            text
        };
        let saved = self.include_default;
        // The source map already found the line starts (the U+00A0 replacement above keeps
        // byte offsets), so lines are sliced from them instead of searching for `\n` again
        // (a copy: includes add files to the map while the lines are read).
        let starts = self.sm.line_starts(file).to_vec();
        for (i, &start) in starts.iter().enumerate() {
            if self.aborted {
                break;
            }
            let end = starts.get(i + 1).map_or(text.len(), |next| next - 1);
            let raw = text.get(start..end).unwrap_or("");
            let raw = raw.strip_suffix('\r').unwrap_or(raw);
            let loc = Loc {
                file,
                line: u32::try_from(i + 1).unwrap_or(u32::MAX),
                col: 0,
            };
            if raw.len() > MAXBUF {
                self.diag(
                    Severity::Error,
                    DiagKind::Syntax,
                    loc,
                    "",
                    format!(
                        "line too long ({} bytes, keepalived's limit is {MAXBUF}) - ignoring",
                        raw.len()
                    ),
                );
                continue;
            }
            // A plain line has no NUL (plain_line leaves it to the full path): only the others
            // are searched.
            if self.fast && self.multiline.is_none() && self.plain_line(raw, loc, &text, start) {
                continue;
            }
            if raw.as_bytes().contains(&0) {
                self.diag(
                    Severity::Error,
                    DiagKind::Syntax,
                    loc,
                    "",
                    "line contains a NUL byte - ignoring".into(),
                );
                continue;
            }
            self.physical(raw, loc);
        }
        self.include_default = saved;
        self.dirs.pop();
    }

    /// The fast path for the common line: ASCII without a quote, comment, escape, `$` or NUL,
    /// not starting with `@`, `~` or `include` (and not in a multiline definition, checked by
    /// the caller). Such a line needs only trimming and brace splitting, and every piece is a
    /// range of the file's buffer `buf` (the line starts at byte `base` of it). One pass over
    /// the bytes finds the pieces, their keywords and the braces. Returns false, having done
    /// nothing, when the line needs the full preprocessor ([`Pre::physical`]); the result is
    /// the same either way (`fast_path_matches_full_preprocessor` checks it).
    fn plain_line(&mut self, raw: &str, loc: Loc, buf: &Arc<str>, base: usize) -> bool {
        /// No piece open.
        const NONE: usize = usize::MAX;
        let b = raw.as_bytes();
        // Pieces and braces in order: (start, end, keyword end, first argument start and end
        // or 0, 0); a brace has start == keyword end == end - 1 and is told apart by its
        // byte. More than this takes the full path.
        // Offsets fit in u16: lines are at most MAXBUF bytes (checked by the caller).
        let mut ev = [(0u16, 0u16, 0u16, 0u16, 0u16); 12];
        let mut n = 0;
        let (mut ps, mut kw, mut last) = (NONE, NONE, 0);
        // The piece's second run of ordinary bytes: its first argument.
        let mut arg1 = (0u16, 0u16);
        // Indentation: eight, then four spaces at a time.
        let mut skip = 0;
        while let Some(w) = word_at(b, skip)
            && w == SPACES8
        {
            skip += 8;
        }
        if b.get(skip..skip + 4) == Some(b"    ") {
            skip += 4;
        }
        let mut j = skip;
        while j < b.len() {
            match PLAIN_CLASS[usize::from(b[j])] {
                PLAIN => {
                    let run = j;
                    let first_run = ps == NONE;
                    if first_run {
                        ps = j;
                        kw = NONE;
                        arg1 = (0, 0);
                    }
                    // The rest of the run of ordinary bytes.
                    j += 1;
                    while j < b.len() && PLAIN_CLASS[usize::from(b[j])] == PLAIN {
                        j += 1;
                    }
                    last = j;
                    if !first_run && arg1.1 == 0 {
                        arg1 = ((run - ps) as u16, (j - ps) as u16);
                    }
                    continue;
                }
                WS => {
                    if ps != NONE && kw == NONE {
                        kw = j;
                    }
                }
                BRACE => {
                    if n + 2 > ev.len() {
                        return false;
                    }
                    if ps != NONE {
                        ev[n] = (ps as u16, last as u16, kw.min(last) as u16, arg1.0, arg1.1);
                        n += 1;
                        ps = NONE;
                    }
                    ev[n] = (j as u16, j as u16 + 1, j as u16, 0, 0);
                    n += 1;
                }
                _ => return false,
            }
            j += 1;
        }
        if ps != NONE {
            if n == ev.len() {
                return false;
            }
            ev[n] = (ps as u16, last as u16, kw.min(last) as u16, arg1.0, arg1.1);
            n += 1;
        }
        let Some(&(first, ..)) = ev[..n].first() else {
            // Blank line.
            return true;
        };
        let first = usize::from(first);
        if matches!(b[first], b'@' | b'~') || raw[first..].starts_with("include") {
            return false;
        }
        let Some(base32) = u32::try_from(base)
            .ok()
            .filter(|b| b.checked_add(MAXBUF as u32).is_some())
        else {
            return false;
        };
        // `spend`, with its common case inline.
        if !self.aborted && self.budget > 0 {
            self.budget -= 1;
        } else if !self.spend(loc) {
            return true;
        }
        for &(start, end, kw_end, a1s, a1e) in &ev[..n] {
            let (start, end, kw_end) = (usize::from(start), usize::from(end), usize::from(kw_end));
            let l = Loc {
                col: start as u32,
                ..loc
            };
            match b[start] {
                c @ (b'{' | b'}') if end == start + 1 => {
                    if let Some(r) = &mut self.record {
                        r.push((raw[start..end].to_owned(), l));
                    }
                    if c == b'{' {
                        self.tree.open_brace(l, &self.sm, &mut self.diags);
                    } else {
                        self.tree.close_brace(l, &self.sm, &mut self.diags);
                    }
                }
                c => {
                    let t = &raw[start..end];
                    if c == b'i' && t.starts_with("include_check") {
                        self.include_check(t);
                    } else if c == b'r'
                        && let Some(seed) = t.strip_prefix("random_seed")
                        && let Some(v) = parse_c_long(seed)
                    {
                        self.rng = v.cast_unsigned();
                    }
                    if let Some(r) = &mut self.record {
                        r.push((t.to_owned(), l));
                    }
                    self.tree.shared_line(
                        buf,
                        (base32 + start as u32, base32 + end as u32),
                        (kw_end - start) as u32,
                        (a1s, a1e),
                        l,
                    );
                }
            }
        }
        true
    }

    fn physical(&mut self, raw: &str, loc: Loc) {
        let (text, start, verbatim, unterminated) = decomment(raw);
        if let Some(q) = unterminated {
            let l = Loc {
                col: u32::try_from(q).unwrap_or(0),
                ..loc
            };
            self.diag(
                Severity::Error,
                DiagKind::Syntax,
                l,
                "\"",
                "missing terminating `\"`".into(),
            );
        }
        if text.is_empty() {
            return;
        }
        let loc = Loc {
            col: u32::try_from(start).unwrap_or(0),
            ..loc
        };
        if let Some((flags, arg, off)) = include_directive(&text, self.include_default) {
            let l = if verbatim {
                Loc {
                    col: loc.col + u32::try_from(off).unwrap_or(0),
                    ..loc
                }
            } else {
                loc
            };
            self.include(arg, flags, l);
            return;
        }
        if let Some((_, value)) = &mut self.multiline {
            let (line, more) = match text.strip_suffix('\\') {
                Some(l) => (l, true),
                None => (text.as_ref(), false),
            };
            if !value.is_empty() {
                value.push('\n');
            }
            value.push_str(line);
            if !more && let Some((name, value)) = self.multiline.take() {
                self.defs.insert(name, value);
            }
            return;
        }
        self.logical(&text, loc, verbatim, 0);
    }

    fn include(&mut self, arg: &str, flags: IncludeFlags, loc: Loc) {
        if self.dirs.len() > self.max_include_depth {
            self.diag(
                Severity::Error,
                DiagKind::Limit,
                loc,
                arg,
                format!(
                    "includes nested more than {} deep (include loop?); not included",
                    self.max_include_depth
                ),
            );
            return;
        }
        let pattern = arg.trim().trim_matches('"');
        if pattern.is_empty() {
            self.diag(
                Severity::Error,
                DiagKind::Include,
                loc,
                arg,
                "include without a file name".into(),
            );
            return;
        }
        let alts = brace_expand(pattern);
        let mut files = Vec::new();
        for alt in &alts {
            let abs = self.abs(alt);
            let matches = glob(self.fs, &abs);
            if matches.is_empty() {
                let wild = has_wildcard(alt);
                if flags.brace_match && alts.len() > 1 {
                    self.diag(
                        Severity::Error,
                        DiagKind::Include,
                        loc,
                        arg,
                        format!("include: no file matches brace alternative `{alt}`"),
                    );
                } else if (!wild && flags.must_match) || (wild && flags.wildcard_match) {
                    self.diag(
                        Severity::Error,
                        DiagKind::Include,
                        loc,
                        arg,
                        format!("include: no file matches `{}`", abs.display()),
                    );
                }
            }
            files.extend(matches);
        }
        for f in files {
            if self.aborted {
                return;
            }
            match self.fs.metadata(&f) {
                Some(m) if m.is_dir => {
                    self.diag(
                        Severity::Error,
                        DiagKind::Include,
                        loc,
                        arg,
                        format!("include: `{}` is a directory - skipping", f.display()),
                    );
                }
                Some(m) if m.executable => {
                    self.diag(
                        Severity::Error,
                        DiagKind::Include,
                        loc,
                        arg,
                        format!("include: `{}` is executable - skipping", f.display()),
                    );
                }
                _ => match self.fs.read_to_string(&f) {
                    Ok(text) => self.process_file(&f, Arc::from(text)),
                    Err(e) => {
                        if flags.read {
                            self.diag(
                                Severity::Error,
                                DiagKind::Include,
                                loc,
                                arg,
                                format!("include: cannot read `{}`: {e}", f.display()),
                            );
                        }
                    }
                },
            }
        }
    }

    #[inline]
    fn spend(&mut self, loc: Loc) -> bool {
        if self.aborted {
            return false;
        }
        if self.budget == 0 {
            self.aborted = true;
            self.diag(
                Severity::Error,
                DiagKind::Limit,
                loc,
                "",
                "expansion limit exceeded (too many logical lines from includes, definitions or ~SEQ); \
                 the rest of the configuration is ignored"
                    .into(),
            );
            return false;
        }
        self.budget -= 1;
        true
    }

    /// Steps 5..10 for one line.
    fn logical(&mut self, text: &str, loc: Loc, verbatim: bool, depth: u32) {
        if !self.spend(loc) {
            return;
        }
        if depth > MAX_DEPTH {
            self.diag(
                Severity::Error,
                DiagKind::Limit,
                loc,
                text,
                format!("expansion nested more than {MAX_DEPTH} deep; line dropped"),
            );
            return;
        }
        let mut text = text;
        let mut loc = loc;
        // 5. Conditionals.
        if let Some(rest) = text.strip_prefix('@') {
            let (neg, r) = match rest.strip_prefix('^') {
                Some(r) => (true, r),
                None => (false, rest),
            };
            let wend = r.find(|c: char| c.is_ascii_whitespace()).unwrap_or(r.len());
            let word = &r[..wend];
            if !word.is_empty() {
                let after = r[wend..].trim_start();
                let keep = (word == self.config_id) != neg;
                if !keep || after.is_empty() {
                    return;
                }
                if verbatim {
                    loc.col += u32::try_from(text.len() - after.len()).unwrap_or(0);
                }
                text = after;
            }
        }
        // 6. Definitions.
        if text.starts_with('$')
            && let Some((name, value)) = parse_definition(text)
        {
            if let Some(v) = value.strip_suffix('\\') {
                self.multiline = Some((name.to_owned(), v.trim_end().to_owned()));
            } else {
                self.defs.insert(name.to_owned(), value.to_owned());
            }
            return;
        }
        // 7, 8. Sequences.
        if text.starts_with("~SEQ(") || text.starts_with("~SEQx(") || text.starts_with("~LST(") {
            self.sequence(text, loc, depth);
            return;
        }
        // 9. Substitution.
        if text.bytes().any(|c| c == b'$')
            && let Some(expanded) = self.substitute(text, loc)
        {
            if expanded.contains('\n') {
                for part in expanded.split('\n') {
                    let p = part.trim();
                    if !p.is_empty() {
                        self.logical(p, loc, false, depth + 1);
                    }
                }
                return;
            }
            let t = expanded.trim();
            if t.starts_with('@') {
                self.logical(t, loc, false, depth + 1);
            } else {
                self.emit(t, loc, false);
            }
            return;
        }
        self.emit(text, loc, verbatim);
    }

    fn lookup_builtin(&mut self, name: &str, args: &str) -> Option<String> {
        match name {
            "_PWD" => Some(
                self.dirs
                    .last()
                    .map(|d| d.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            ),
            "_INSTANCE" => Some(self.config_id.clone()),
            "_RANDOM" => {
                let mut it = args.split_whitespace().filter_map(parse_c_long);
                let min = it.next().unwrap_or(0);
                let max = it.next().unwrap_or(32767).max(min);
                self.rng = self.rng.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = self.rng;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^= z >> 31;
                let span = u64::try_from(i128::from(max) - i128::from(min) + 1).unwrap_or(u64::MAX);
                let v = i128::from(min) + i128::from(z % span.max(1));
                Some(v.to_string())
            }
            "_ENV" => Some(self.fs.env_var(args.trim()).unwrap_or_default()),
            _ => None,
        }
    }

    fn subst_pass(&mut self, s: &str) -> (String, bool) {
        let mut out = String::with_capacity(s.len() + 16);
        let mut changed = false;
        let b = s.as_bytes();
        let mut i = 0;
        while let Some(p) = s[i..].find('$') {
            let at = i + p;
            out.push_str(&s[i..at]);
            if b.get(at + 1) == Some(&b'{') {
                if let Some(close) = s[at + 2..].find('}') {
                    let inner = &s[at + 2..at + 2 + close];
                    let (name, args) = match inner.find(|c: char| c.is_ascii_whitespace()) {
                        Some(w) => (&inner[..w], inner[w..].trim()),
                        None => (inner, ""),
                    };
                    if let Some(v) = self.defs.get(name) {
                        out.push_str(v);
                        changed = true;
                        i = at + 3 + close;
                        continue;
                    }
                    if let Some(v) = self.lookup_builtin(name, args) {
                        out.push_str(&v);
                        changed = true;
                        i = at + 3 + close;
                        continue;
                    }
                }
                out.push('$');
                i = at + 1;
                continue;
            }
            let n = if b.get(at + 1).is_some_and(|c| is_ident_start(*c)) {
                b[at + 1..].iter().take_while(|c| is_ident(**c)).count()
            } else {
                0
            };
            let end = at + 1 + n;
            let follow_ok = b
                .get(end)
                .is_none_or(|c| c.is_ascii_whitespace() || *c == b',' || *c == b')');
            if n > 0 && follow_ok {
                let name = &s[at + 1..end];
                if let Some(v) = self.defs.get(name) {
                    out.push_str(v);
                    changed = true;
                    i = end;
                    continue;
                }
                if let Some(v) = self.lookup_builtin(name, "") {
                    out.push_str(&v);
                    changed = true;
                    i = end;
                    continue;
                }
            }
            out.push('$');
            i = at + 1;
        }
        out.push_str(&s[i..]);
        (out, changed)
    }

    /// Repeated substitution; `None` when nothing was replaced.
    fn substitute(&mut self, text: &str, loc: Loc) -> Option<String> {
        let mut cur: Cow<'_, str> = Cow::Borrowed(text);
        let mut changed_any = false;
        let mut pass = 0;
        loop {
            let (next, changed) = self.subst_pass(&cur);
            if !changed {
                break;
            }
            changed_any = true;
            let next = decomment_str(next);
            if next.len() > self.max_line_len {
                self.diag(
                    Severity::Error,
                    DiagKind::Limit,
                    loc,
                    text,
                    format!(
                        "line longer than {} bytes after expanding definitions; dropped",
                        self.max_line_len
                    ),
                );
                return Some(String::new());
            }
            cur = Cow::Owned(next);
            pass += 1;
            if pass >= MAX_PASSES {
                self.diag(
                    Severity::Error,
                    DiagKind::Limit,
                    loc,
                    text,
                    format!("definitions still expanding after {MAX_PASSES} passes (recursive definition?); line dropped"),
                );
                return Some(String::new());
            }
        }
        // Most expanded lines have no `$` left: skip the two substring searches then.
        if cur.as_bytes().contains(&b'$') && (cur.contains("${_HASH}") || cur.contains("${_BANG}"))
        {
            cur = Cow::Owned(cur.replace("${_HASH}", "#").replace("${_BANG}", "!"));
            changed_any = true;
        }
        changed_any.then(|| cur.into_owned())
    }

    fn sequence(&mut self, text: &str, loc: Loc, depth: u32) {
        let (kind, after) = if let Some(r) = text.strip_prefix("~SEQx(") {
            ("SEQx", r)
        } else if let Some(r) = text.strip_prefix("~SEQ(") {
            ("SEQ", r)
        } else if let Some(r) = text.strip_prefix("~LST(") {
            ("LST", r)
        } else {
            return;
        };
        let mut brace = 0i32;
        let mut close = None;
        for (i, c) in after.char_indices() {
            match c {
                '{' => brace += 1,
                '}' => brace -= 1,
                ')' if brace <= 0 => {
                    close = Some(i);
                    break;
                }
                _ => {}
            }
        }
        let Some(close) = close else {
            self.diag(
                Severity::Error,
                DiagKind::Preprocessor,
                loc,
                text,
                format!("~{kind}( without a closing `)`"),
            );
            return;
        };
        let raw_params = &after[..close];
        let rest = after[close + 1..].trim_start().to_owned();
        let params = self
            .substitute(raw_params, loc)
            .unwrap_or_else(|| raw_params.to_owned());
        let parts = split_top_commas(&params);
        if kind == "LST" {
            let Some((spec, values)) = parts.split_first() else {
                return;
            };
            let vars: Vec<String> = match spec.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                Some(inner) => inner.split(',').map(|v| v.trim().to_owned()).collect(),
                None => vec![(*spec).to_owned()],
            };
            if vars
                .iter()
                .any(|v| !v.bytes().all(is_ident) || v.is_empty())
            {
                self.diag(
                    Severity::Error,
                    DiagKind::Preprocessor,
                    loc,
                    text,
                    format!("~LST: invalid variable `{spec}`"),
                );
                return;
            }
            for v in values {
                let vals: Vec<&str> = match v.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(inner) => inner.split(',').map(str::trim).collect(),
                    None => vec![*v],
                };
                for (k, var) in vars.iter().enumerate() {
                    self.defs
                        .insert(var.clone(), vals.get(k).copied().unwrap_or("").to_owned());
                }
                if !rest.is_empty() {
                    self.logical(&rest, loc, false, depth + 1);
                }
                if self.aborted {
                    return;
                }
            }
            return;
        }
        let bad = |me: &mut Self, msg: String| {
            me.diag(Severity::Error, DiagKind::Preprocessor, loc, text, msg);
        };
        let Some((var, nums)) = parts.split_first() else {
            return;
        };
        if var.is_empty() || !var.bytes().all(is_ident) {
            bad(self, format!("~{kind}: invalid variable name `{var}`"));
            return;
        }
        let mut vals = Vec::new();
        for n in nums {
            match parse_c_long(n) {
                Some(v) => vals.push(v),
                None => {
                    bad(self, format!("~{kind}: invalid number `{n}`"));
                    return;
                }
            }
        }
        let (start, step, end) = match vals[..] {
            [end] => (
                if end < 0 { -1 } else { 1 },
                if end < 0 { -1 } else { 1 },
                end,
            ),
            [start, end] => (start, if end < start { -1 } else { 1 }, end),
            [start, step, end] => (start, step, end),
            _ => {
                bad(
                    self,
                    format!(
                        "~{kind}: expected 1 to 3 numbers after the variable, got {}",
                        vals.len()
                    ),
                );
                return;
            }
        };
        if step == 0 || (end > start && step < 0) || (end < start && step > 0) {
            bad(
                self,
                format!("~{kind}: step {step} cannot go from {start} to {end}"),
            );
            return;
        }
        if kind == "SEQx" && (start < 0 || end < 0) {
            bad(self, "~SEQx: values must not be negative".into());
            return;
        }
        let mut v = start;
        loop {
            if (step > 0 && v > end) || (step < 0 && v < end) {
                break;
            }
            let s = if kind == "SEQx" {
                format!("{v:x}")
            } else {
                v.to_string()
            };
            self.defs.insert((*var).to_owned(), s);
            if !rest.is_empty() {
                self.logical(&rest, loc, false, depth + 1);
            } else if !self.spend(loc) {
                return;
            }
            if self.aborted {
                return;
            }
            match v.checked_add(step) {
                Some(n) => v = n,
                None => break,
            }
        }
    }

    /// Step 10: brace splitting, then hand the pieces to the tree.
    fn emit(&mut self, text: &str, loc: Loc, verbatim: bool) {
        let b = text.as_bytes();
        let mut in_q = false;
        let mut start = 0;
        let mut i = 0;
        while i < b.len() {
            if let Some(w) = word_at(b, i)
                && (has_byte(w, b'"') | has_byte(w, b'{') | has_byte(w, b'}')) == 0
            {
                i += 8;
                continue;
            }
            match b[i] {
                b'"' => in_q = !in_q,
                b'{' | b'}' if !in_q => {
                    self.piece(text, start, i, loc, verbatim);
                    self.piece(text, i, i + 1, loc, verbatim);
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        self.piece(text, start, b.len(), loc, verbatim);
    }

    fn piece(&mut self, text: &str, start: usize, end: usize, loc: Loc, verbatim: bool) {
        let raw = &text[start..end];
        let t = trim_start_ws(raw);
        let off = start + (raw.len() - t.len());
        let t = trim_end_ws(t);
        if t.is_empty() {
            return;
        }
        let loc = if verbatim {
            Loc {
                col: loc.col + u32::try_from(off).unwrap_or(0),
                ..loc
            }
        } else {
            loc
        };
        if t.starts_with("include_check") {
            self.include_check(t);
        } else if let Some(seed) = t.strip_prefix("random_seed")
            && let Some(v) = parse_c_long(seed)
        {
            self.rng = v.cast_unsigned();
        }
        if let Some(r) = &mut self.record {
            r.push((t.to_owned(), loc));
        }
        self.tree.line(t, loc, verbatim, &self.sm, &mut self.diags);
    }

    fn include_check(&mut self, t: &str) {
        let mut words = t.split_whitespace();
        if words.next() != Some("include_check") {
            return;
        }
        let args: Vec<&str> = words.collect();
        if args.is_empty() {
            self.include_default = IncludeFlags::ALL;
            return;
        }
        let mut f = self.include_default;
        if args.iter().any(|a| !a.starts_with(['+', '-'])) {
            f = IncludeFlags::default();
        }
        for a in args {
            let (on, name) = match a.strip_prefix('-') {
                Some(n) => (false, n),
                None => (true, a.strip_prefix('+').unwrap_or(a)),
            };
            match name {
                "read" => f.read = on,
                "match" => f.must_match = on,
                "wildcard_match" => f.wildcard_match = on,
                "brace_match" => f.brace_match = on,
                _ => {}
            }
        }
        self.include_default = f;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decomment_rules() {
        assert_eq!(decomment("  a b # c").0, "a b");
        assert_eq!(decomment("a \"b # c\" ! d").0, "a \"b # c\"");
        assert_eq!(decomment("a 'b # c'").0, "a 'b");
        assert_eq!(decomment(r"a \# b \! c").0, "a # b ! c");
        assert_eq!(decomment("$X= a   \\").0, "$X= a\\");
        assert!(decomment("a \"b").3.is_some());
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(brace_expand("a{b,c}d"), vec!["abd", "acd"]);
        assert_eq!(brace_expand("{x,y{1,2}}"), vec!["x", "y1", "y2"]);
        assert_eq!(brace_expand("plain"), vec!["plain"]);
    }

    #[test]
    fn fnmatch_rules() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", ".a.conf"));
        assert!(fnmatch("a?c", "abc"));
        assert!(fnmatch("[a-c]x", "bx"));
        assert!(!fnmatch("[!a-c]x", "bx"));
    }

    /// Everything the preprocessor produces for `text`: logical lines, diagnostics, the tree,
    /// the line count and the state lines can change.
    fn run_pre(text: &str, fast: bool) -> String {
        let fs = crate::fs::MemFs::new();
        let opts = Options {
            config_id: Some("me".into()),
            random_seed: Some(1),
            max_lines: 40,
            ..Options::default()
        };
        let mut pre = Pre::new(&fs, &opts);
        pre.fast = fast;
        pre.record = Some(Vec::new());
        pre.run(Path::new("/k.conf"), Arc::from(text));
        let lines = pre.tree.lines;
        let tree = std::mem::take(&mut pre.tree);
        let mut diags = std::mem::take(&mut pre.diags);
        // The arena in order and the top level: equal arenas are equal trees.
        let tree = tree.finish(&pre.sm, &mut diags);
        for n in &tree.nodes {
            assert!(n.arg1_is_consistent(), "{n:?}");
        }
        format!(
            "{:?}\n{diags:?}\n{tree:?}\n{lines} {} {:?} {} {}",
            pre.record, pre.rng, pre.include_default, pre.budget, pre.aborted
        )
    }

    #[test]
    fn fast_path_matches_full_preprocessor_on_examples() {
        let cases = [
            "a {\n b 1\n}\n",
            "  x  {  y { z } }  \n}\n{\n",
            "a{b{c{d{e{f{g{h{i{j}}}}}}}}}\n",
            "include_check\nrandom_seed 7\nv { random_seed 9 }\n",
            "\u{a0}a b\n\u{2003}c\u{2003}\r\n\td\x0be\x0c\n",
            "$X=1\na $X\n@me b\n@^me c\n~SEQ(i,1,2) d $i\n",
            "a \"q { r\" # c\nb ! x\nc \\# d\n",
            "$M= a \\\nb {\nc }\n$M\n",
            "a\0b {\n$N= x \\\ny\0 z\nw\n$N\n",
        ];
        for c in cases {
            assert_eq!(run_pre(c, true), run_pre(c, false), "{c:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_matches_full_preprocessor(
            lines in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![
                        " ", "  ", "\t", "        ", "{", "}", "a", "kw", "real_server", "1",
                        "192.0.2.1", "\"", "#", "!", "\\", "$", "$X", "$X=v", "@", "@me", "~",
                        "~SEQ(i,1,2)", "include", "include_check", "random_seed", "\u{a0}", "\u{2003}",
                        "\r", "\x0b", "é", "x_long_word_of_some_bytes", "\0",
                    ]),
                    0..12,
                ),
                0..30,
            )
        ) {
            let text: String = lines.iter().map(|l| l.concat() + "\n").collect();
            proptest::prop_assert_eq!(run_pre(&text, true), run_pre(&text, false));
        }
    }

    #[test]
    fn c_long() {
        assert_eq!(parse_c_long("0x90"), Some(144));
        assert_eq!(parse_c_long("010"), Some(8));
        assert_eq!(parse_c_long("-5"), Some(-5));
        assert_eq!(parse_c_long("x"), None);
    }
}
