//! The binary against a socket nobody listens on, and against a small fake daemon: exit codes
//! and output. (With a real daemon: `bins/hagroupd/tests/netns_control.rs` and
//! `kernel_ctl.rs`; building this test also builds the `hagroupctl` binary they run.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixListener;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hagroupctl"))
}

fn temp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hagroupctl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn no_daemon_is_an_error_with_the_socket_path() {
    let dir = temp("none");
    let sock = dir.join("nobody.sock");
    let out = bin()
        .arg("--socket")
        .arg(&sock)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nobody.sock"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Answers one connection: each request line with the next canned answer; returns what it got.
fn fake_daemon(
    sock: &std::path::Path,
    answers: Vec<&'static str>,
) -> std::thread::JoinHandle<Vec<String>> {
    let l = UnixListener::bind(sock).unwrap();
    std::thread::spawn(move || {
        let (s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let mut r = BufReader::new(s);
        let mut got = Vec::new();
        for a in answers {
            let mut line = String::new();
            if r.read_line(&mut line).unwrap() == 0 {
                break;
            }
            got.push(line.trim_end().to_owned());
            w.write_all(a.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
        }
        got
    })
}

#[test]
fn drain_sends_weight_zero_and_refusals_exit_1() {
    let dir = temp("fake");
    let sock = dir.join("c.sock");
    let t = fake_daemon(&sock, vec![r#"{"result":"done","message":"drained"}"#]);
    let out = bin()
        .arg("-S")
        .arg(&sock)
        .args(["drain", "-t", "192.0.2.1:80", "-r", "198.51.100.1:80"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "drained\n");
    let got = t.join().unwrap();
    assert_eq!(
        got,
        [
            r#"{"command":"weight","service":{"tcp":"192.0.2.1:80"},"real_server":"198.51.100.1:80","weight":0}"#
        ]
    );
    std::fs::remove_file(&sock).unwrap();

    let t = fake_daemon(&sock, vec![r#"{"result":"refused","reason":"bad config"}"#]);
    let out = bin().arg("-S").arg(&sock).arg("reload").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refused: bad config"));
    assert_eq!(t.join().unwrap(), [r#"{"command":"reload"}"#]);
    let _ = std::fs::remove_dir_all(&dir);
}
