//! One test per preprocessor rule (keepalived-behaviour.md §1.2), plus the tricky
//! interactions, all on an in-memory file system.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use kconf_parser::{
    DiagKind, Diagnostic, LogicalLine, MemFs, Options, Severity, preprocess_str_with,
};
use std::path::Path;

const MAIN: &str = "/etc/keepalived/keepalived.conf";

fn opts() -> Options {
    Options {
        config_id: Some("main".into()),
        random_seed: Some(42),
        ..Options::default()
    }
}

fn pp_fs(fs: &MemFs, text: &str, o: &Options) -> (Vec<LogicalLine>, Vec<Diagnostic>) {
    preprocess_str_with(fs, Path::new(MAIN), text, o)
}

fn pp(text: &str) -> Vec<String> {
    let (lines, diags) = pp_fs(&MemFs::new(), text, &opts());
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:?}");
    lines.into_iter().map(|l| l.text).collect()
}

fn pp_diags(fs: &MemFs, text: &str) -> (Vec<String>, Vec<Diagnostic>) {
    let (lines, diags) = pp_fs(fs, text, &opts());
    (lines.into_iter().map(|l| l.text).collect(), diags)
}

#[test]
fn comments_bang_and_hash_outside_double_quotes() {
    assert_eq!(
        pp("a 1 # c\nb 2 ! c\n! whole line\n# whole line\nc \"x # y ! z\" # gone\nd 'q # r'"),
        vec!["a 1", "b 2", "c \"x # y ! z\"", "d 'q"]
    );
}

#[test]
fn escaped_hash_and_bang_are_literal() {
    assert_eq!(pp(r"a \#1 \!2 # comment"), vec!["a #1 !2"]);
}

#[test]
fn unterminated_quote_is_reported() {
    let (_, d) = pp_diags(&MemFs::new(), "script \"abc");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].kind, DiagKind::Syntax);
    assert_eq!((d[0].line, d[0].column), (1, 8));
}

#[test]
fn whitespace_and_empty_lines_keep_line_numbers() {
    let (lines, _) = pp_fs(&MemFs::new(), "\n\n   a b   \n\n\tc", &opts());
    assert_eq!(lines[0].text, "a b");
    assert_eq!((lines[0].line, lines[0].column), (3, 4));
    assert_eq!((lines[1].line, lines[1].column), (5, 2));
}

#[test]
fn include_is_relative_to_the_including_file_and_nests() {
    let mut fs = MemFs::new();
    fs.add(
        "/etc/keepalived/conf.d/a.conf",
        "a_line\ninclude sub/b.conf",
    );
    fs.add("/etc/keepalived/conf.d/sub/b.conf", "b_line");
    let (lines, diags) = pp_fs(&fs, "include conf.d/a.conf\nafter", &opts());
    assert!(diags.is_empty(), "{diags:?}");
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(texts, vec!["a_line", "b_line", "after"]);
    assert_eq!(lines[1].file, "/etc/keepalived/conf.d/sub/b.conf");
    assert_eq!(lines[1].line, 1);
    assert_eq!(lines[2].file, MAIN);
    assert_eq!(lines[2].line, 2);
}

#[test]
fn include_glob_matches_are_sorted_and_braces_expand_in_order() {
    let mut fs = MemFs::new();
    for n in ["c", "a", "b"] {
        fs.add(format!("/etc/keepalived/d/{n}.conf"), format!("file_{n}"));
    }
    fs.add("/etc/keepalived/d/.hidden.conf", "hidden");
    fs.add("/etc/keepalived/d/x.txt", "txt");
    assert_eq!(
        pp_diags(&fs, "include d/*.conf").0,
        vec!["file_a", "file_b", "file_c"]
    );
    // Brace alternatives come in the written order, each alternative's matches sorted.
    assert_eq!(
        pp_diags(&fs, "include d/{c,a}.conf").0,
        vec!["file_c", "file_a"]
    );
    assert_eq!(
        pp_diags(&fs, "include d/[ab].conf").0,
        vec!["file_a", "file_b"]
    );
}

#[test]
fn include_strictness_variants() {
    let mut fs = MemFs::new();
    fs.add("/etc/keepalived/one.conf", "one");
    let errors = |text: &str| {
        pp_diags(&fs, text)
            .1
            .iter()
            .filter(|d| d.kind == DiagKind::Include)
            .count()
    };
    // Legacy include: silent.
    assert_eq!(errors("include missing.conf"), 0);
    assert_eq!(errors("include nothing*.conf"), 0);
    // includer: readable only.
    assert_eq!(errors("includer missing.conf"), 0);
    // includem: a literal name must match, a wildcard need not.
    assert_eq!(errors("includem missing.conf"), 1);
    assert_eq!(errors("includem nothing*.conf"), 0);
    // includew: wildcards must match too.
    assert_eq!(errors("includew nothing*.conf"), 1);
    // includeb: every brace alternative must match.
    assert_eq!(errors("includeb {one,two}.conf"), 1);
    assert_eq!(errors("include {one,two}.conf"), 0);
    // includea: everything.
    assert_eq!(errors("includea missing*.conf"), 1);
}

#[test]
fn include_check_sets_the_default_and_is_restored_after_an_included_file() {
    let mut fs = MemFs::new();
    fs.add(
        "/etc/keepalived/inner.conf",
        "global_defs {\ninclude_check\n}\ninclude missing_inner.conf",
    );
    let (_, d) = pp_diags(&fs, "include inner.conf\ninclude missing_outer.conf");
    let inc: Vec<&Diagnostic> = d.iter().filter(|d| d.kind == DiagKind::Include).collect();
    // Inside inner.conf, include_check made the include strict; back in the main file the
    // saved (legacy, silent) default is restored.
    assert_eq!(inc.len(), 1, "{inc:?}");
    assert!(inc[0].message.contains("missing_inner.conf"));
    let (_, d) = pp_diags(
        &fs,
        "global_defs {\ninclude_check -match\n}\ninclude missing.conf",
    );
    assert!(d.iter().all(|d| d.kind != DiagKind::Include), "{d:?}");
}

#[test]
fn directories_and_executables_are_not_included() {
    let mut fs = MemFs::new();
    fs.add("/etc/keepalived/dir/x/y.conf", "nested");
    fs.add_executable("/etc/keepalived/dir/run.conf", "exec");
    fs.add("/etc/keepalived/dir/z.conf", "ok");
    let (lines, d) = pp_diags(&fs, "include dir/*");
    assert_eq!(lines, vec!["ok"]);
    assert_eq!(
        d.iter().filter(|d| d.kind == DiagKind::Include).count(),
        2,
        "{d:?}"
    );
}

#[test]
fn include_loop_is_bounded() {
    let mut fs = MemFs::new();
    fs.add("/etc/keepalived/loop.conf", "x\ninclude loop.conf");
    let o = Options {
        max_include_depth: 5,
        ..opts()
    };
    let (lines, d) = pp_fs(&fs, "include loop.conf", &o);
    assert_eq!(lines.len(), 5);
    assert!(d.iter().any(|d| d.kind == DiagKind::Limit));
}

#[test]
fn include_inside_a_conditional_or_expansion_is_not_an_include() {
    let mut fs = MemFs::new();
    fs.add("/etc/keepalived/x.conf", "from_x");
    assert_eq!(
        pp_diags(&fs, "@main include x.conf").0,
        vec!["include x.conf"]
    );
    assert_eq!(
        pp_diags(&fs, "$I=include x.conf\n$I").0,
        vec!["include x.conf"]
    );
}

#[test]
fn conditionals_match_the_config_id() {
    assert_eq!(
        pp("@main a\n@other b\n@^main c\n@^other d\n@main\n@ e"),
        vec!["a", "d", "@ e"]
    );
}

#[test]
fn config_id_defaults_to_the_short_hostname() {
    let mut fs = MemFs::new();
    fs.set_hostname("lb1.example.com");
    let o = Options {
        config_id: None,
        ..opts()
    };
    let (lines, _) = pp_fs(&fs, "@lb1 yes\n@lb1.example.com no\n${_INSTANCE}", &o);
    let t: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(t, vec!["yes", "lb1"]);
}

#[test]
fn definitions_are_late_bound_and_recursive() {
    assert_eq!(
        pp("$A=$B x\n$B=first\nuse $A\n$B=second\nuse ${A}end\n$C=\nempty[$C]"),
        vec!["use first x", "use second xend", "empty[$C]"]
    );
}

#[test]
fn dollar_name_must_be_followed_by_a_separator() {
    assert_eq!(
        pp("$X=v\na $X,$X)$X\nb $Xy ${X}y\nc $ $1 $UNKNOWN"),
        vec!["a v,v)v", "b $Xy vy", "c $ $1 $UNKNOWN"]
    );
}

#[test]
fn a_space_before_equals_is_not_a_definition() {
    assert_eq!(pp("$X =1"), vec!["$X =1"]);
}

#[test]
fn multiline_definitions() {
    let text = "$BLOCK= \\\nvrrp_instance $N { \\\n  priority $P \\\n}\n$N=VI_1\n$P=100\n$BLOCK";
    assert_eq!(
        pp(text),
        vec!["vrrp_instance VI_1", "{", "priority 100", "}"]
    );
}

#[test]
fn a_definition_expanding_to_a_conditional_is_rechecked() {
    assert_eq!(
        pp("$IF_MAIN=@main\n$IF_OTHER=@other\n$IF_MAIN priority 240\n$IF_OTHER priority 100"),
        vec!["priority 240"]
    );
    let o = Options {
        config_id: Some("other".into()),
        ..opts()
    };
    let (lines, _) = pp_fs(
        &MemFs::new(),
        "$IF_MAIN=@main\n$IF_MAIN priority 240\nx",
        &o,
    );
    assert_eq!(
        lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(),
        vec!["x"]
    );
}

#[test]
fn expansion_is_decommented_again_but_hash_and_bang_builtins_survive() {
    assert_eq!(
        pp("$C=a # comment\nx $C\ny ${_HASH}1 ${_BANG}2"),
        vec!["x a", "y #1 !2"]
    );
}

#[test]
fn builtins_pwd_instance_env() {
    let mut fs = MemFs::new();
    fs.add("/srv/conf/inc.conf", "pwd ${_PWD}");
    fs.set_env("ZONE", "eu-1");
    let (lines, d) = pp_fs(
        &fs,
        "include /srv/conf/inc.conf\npwd ${_PWD}\nid ${_INSTANCE}\nenv ${_ENV ZONE}",
        &opts(),
    );
    assert!(d.is_empty(), "{d:?}");
    let t: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(
        t,
        vec![
            "pwd /srv/conf",
            "pwd /etc/keepalived",
            "id main",
            "env eu-1"
        ]
    );
}

#[test]
fn random_is_seeded_and_in_range() {
    let text = "r ${_RANDOM}\nr ${_RANDOM 5 7}\nr ${_RANDOM 5 7}\nr ${_RANDOM 5 7}";
    let a = pp(text);
    assert_eq!(a, pp(text), "same seed, same numbers");
    let first: i64 = a[0][2..].parse().unwrap_or(-1);
    assert!((0..=32767).contains(&first));
    for l in &a[1..] {
        let v: i64 = l[2..].parse().unwrap_or(-1);
        assert!((5..=7).contains(&v), "{l}");
    }
    let other = preprocess_str_with(
        &MemFs::new(),
        Path::new(MAIN),
        text,
        &Options {
            random_seed: Some(7),
            ..opts()
        },
    )
    .0;
    assert_ne!(other.iter().map(|l| l.text.clone()).collect::<Vec<_>>(), a);
    // A `random_seed` line reseeds, as in keepalived.
    let s1 = pp("random_seed 9\nr ${_RANDOM}");
    let s2 = preprocess_str_with(
        &MemFs::new(),
        Path::new(MAIN),
        "random_seed 9\nr ${_RANDOM}",
        &Options {
            random_seed: Some(1),
            ..opts()
        },
    )
    .0;
    assert_eq!(s1[1], s2[1].text);
}

#[test]
fn seq_forms() {
    assert_eq!(pp("~SEQ(i,3) x $i"), vec!["x 1", "x 2", "x 3"]);
    assert_eq!(pp("~SEQ(i,-2) x $i"), vec!["x -1", "x -2"]);
    assert_eq!(pp("~SEQ(i,5,3) x $i"), vec!["x 5", "x 4", "x 3"]);
    assert_eq!(pp("~SEQ(i,0,5,10) x $i"), vec!["x 0", "x 5", "x 10"]);
    assert_eq!(pp("~SEQ(i,0x8,0x9) x $i"), vec!["x 8", "x 9"]);
    assert_eq!(pp("~SEQx(i,9,11) x $i"), vec!["x 9", "x a", "x b"]);
    assert_eq!(pp("$N=2\n~SEQ(i,$N) x $i"), vec!["x 1", "x 2"]);
}

#[test]
fn seq_errors() {
    for bad in [
        "~SEQ(i,1,0,5) x",
        "~SEQ(i,1,-1,5) x",
        "~SEQ(i,a) x",
        "~SEQx(i,-1,2) x",
        "~SEQ(i,1,2,3,4) x",
        "~SEQ(i,1",
    ] {
        let (lines, d) = pp_diags(&MemFs::new(), bad);
        assert!(lines.is_empty(), "{bad}");
        assert_eq!(d.len(), 1, "{bad}: {d:?}");
        assert_eq!(d[0].kind, DiagKind::Preprocessor);
    }
}

#[test]
fn nested_seq_and_lst() {
    assert_eq!(
        pp("~SEQ(a,1,2) ~LST(b,x,y) $a$b"),
        vec!["$ax", "$ay", "$ax", "$ay"]
    );
    assert_eq!(
        pp("~SEQ(a,1,2) ~LST(b,x,y) ${a}${b}"),
        vec!["1x", "1y", "2x", "2y"]
    );
    assert_eq!(
        pp("~LST({n,ip},{a,192.0.2.1},{b,192.0.2.2},{c}) x ${n}=[${ip}]"),
        vec!["x a=[192.0.2.1]", "x b=[192.0.2.2]", "x c=[]"]
    );
}

#[test]
fn seq_drives_a_multiline_definition() {
    let text = "$VI= \\\nvrrp_instance VI_${IF}_${ID} { \\\n  interface eth${IF} \\\n  virtual_router_id ${ID} \\\n}\n~SEQ(IF,0,1) ~SEQ(ID,1,3) $VI";
    let lines = pp(text);
    assert_eq!(lines.len(), 2 * 3 * 5);
    assert_eq!(
        &lines[0..5],
        &[
            "vrrp_instance VI_0_1",
            "{",
            "interface eth0",
            "virtual_router_id 1",
            "}"
        ]
    );
    assert_eq!(lines[lines.len() - 5], "vrrp_instance VI_1_3");
}

#[test]
fn seq_bomb_and_recursive_definitions_are_capped() {
    let o = Options {
        max_lines: 10_000,
        ..opts()
    };
    let (lines, d) = pp_fs(&MemFs::new(), "~SEQ(a,1000000) ~SEQ(b,1000000) x", &o);
    assert!(lines.len() <= 10_000);
    assert_eq!(d.iter().filter(|d| d.kind == DiagKind::Limit).count(), 1);
    let (lines, d) = pp_fs(&MemFs::new(), "$A=${A}${A}\nx $A", &opts());
    assert!(lines.is_empty());
    assert!(d.iter().any(|d| d.kind == DiagKind::Limit), "{d:?}");
    let (_, d) = pp_fs(&MemFs::new(), "$A=$A\nx $A", &opts());
    assert!(d.iter().any(|d| d.kind == DiagKind::Limit), "{d:?}");
}

#[test]
fn brace_splitting() {
    assert_eq!(
        pp("vrrp_instance X { state MASTER }"),
        vec!["vrrp_instance X", "{", "state MASTER", "}"]
    );
    assert_eq!(pp("a \"{b}\" {"), vec!["a \"{b}\"", "{"]);
    assert_eq!(pp("x{y}z"), vec!["x", "{", "y", "}", "z"]);
}

#[test]
fn trailing_backslash_on_an_ordinary_line_is_not_a_continuation() {
    assert_eq!(pp("a \\\nb"), vec!["a\\", "b"]);
}

#[test]
fn long_and_nul_lines_are_ignored_with_an_error() {
    let long = format!("x {}", "y".repeat(2000));
    let (lines, d) = pp_diags(&MemFs::new(), &format!("{long}\nok\nbad\0line"));
    assert_eq!(lines, vec!["ok"]);
    assert_eq!(
        d.iter().filter(|d| d.severity == Severity::Error).count(),
        2
    );
}

#[test]
fn columns_survive_conditionals_and_brace_splits() {
    let (lines, _) = pp_fs(
        &MemFs::new(),
        "  @main vrrp_instance X {  state MASTER }",
        &opts(),
    );
    assert_eq!(lines[0].text, "vrrp_instance X");
    assert_eq!(lines[0].column, 9);
    assert_eq!(lines[2].text, "state MASTER");
    assert_eq!(lines[2].column, 28);
}
