//! Shared harness of the hagroupd netns tests (included with `#[path]` by each test file):
//! a bridge LAN with routers and a client, hagroupd / keepalived processes with their own
//! configuration, PID files and logs in a temporary directory, and a TCP responder per router
//! so the client can see which router holds the VIP.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use netns_lab::{Lab, Netns};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const VIP: &str = "192.0.2.100";

pub struct Lan {
    pub lab: Lab,
    pub switch: Netns,
    pub routers: Vec<Netns>,
    pub client: Netns,
    pub dir: PathBuf,
}

pub fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hg-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Routers r1..rN at 192.0.2.N/24 (+ 2001:db8::N/64) and a client at 192.0.2.200.
pub fn lan(tag: &str, routers: usize) -> Lan {
    let mut lab = Lab::new(tag).expect("lab");
    let switch = lab.add_ns("sw").unwrap();
    lab.bridge(&switch, "br0").unwrap();
    let mut rs = Vec::new();
    for i in 1..=routers {
        let h = lab.add_ns(&format!("r{i}")).unwrap();
        prepare(
            &lab,
            &switch,
            &h,
            i,
            &format!("192.0.2.{i}/24"),
            &format!("2001:db8::{i}/64"),
        );
        rs.push(h);
    }
    let client = lab.add_ns("client").unwrap();
    prepare(
        &lab,
        &switch,
        &client,
        99,
        "192.0.2.200/24",
        "2001:db8::200/64",
    );
    for h in rs.iter().chain(std::iter::once(&client)) {
        wait_link_local(h);
    }
    Lan {
        lab,
        switch,
        routers: rs,
        client,
        dir: temp_dir(tag),
    }
}

fn prepare(lab: &Lab, switch: &Netns, h: &Netns, port: usize, v4: &str, v6: &str) {
    h.sysctl("net.ipv6.conf.all.accept_dad", "0").unwrap();
    h.sysctl("net.ipv6.conf.default.accept_dad", "0").unwrap();
    lab.attach(h, "eth0", switch, "br0", &format!("p{port}"))
        .unwrap();
    h.ip(&["addr", "add", v4, "dev", "eth0"]).unwrap();
    h.ip(&["addr", "add", v6, "dev", "eth0", "nodad"]).unwrap();
}

impl Drop for Lan {
    fn drop(&mut self) {
        // Keep the logs and configurations of a failed test for inspection.
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn wait_link_local(h: &Netns) {
    for _ in 0..100 {
        let s = ip_out(h, &["-6", "addr", "show", "dev", "eth0", "scope", "link"]);
        if s.contains("fe80::") && !s.contains("tentative") {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no link-local address in {}", h.name());
}

pub fn ip_out(h: &Netns, args: &[&str]) -> String {
    String::from_utf8_lossy(&h.ip(args).unwrap().stdout).into_owned()
}

/// A keepalived.conf for one router of the test group.
pub struct Conf {
    pub priority: u8,
    pub version: u8,
    pub advert: &'static str,
    pub extra_instance: String,
    pub extra_global: String,
    pub prelude: String,
    pub vips: Vec<String>,
    pub notify: Option<PathBuf>,
    pub auth: bool,
}

impl Conf {
    pub fn v3(priority: u8) -> Conf {
        Conf {
            priority,
            version: 3,
            advert: "0.1",
            extra_instance: String::new(),
            extra_global: String::new(),
            prelude: String::new(),
            vips: vec![format!("{VIP}/24")],
            notify: None,
            auth: false,
        }
    }

    pub fn render(&self) -> String {
        let vips: String = self.vips.iter().map(|v| format!("        {v}\n")).collect();
        let notify = self
            .notify
            .as_ref()
            .map(|p| format!("    notify \"{}\"\n", p.display()))
            .unwrap_or_default();
        let auth = if self.auth {
            "    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n"
        } else {
            ""
        };
        format!(
            "global_defs {{\n    router_id test\n{}}}\n{}\
             vrrp_instance VI_1 {{\n    state BACKUP\n    interface eth0\n    virtual_router_id 51\n\
             \x20   priority {}\n    advert_int {}\n    version {}\n{auth}{notify}{}\
             \x20   virtual_ipaddress {{\n{vips}    }}\n}}\n",
            self.extra_global,
            self.prelude,
            self.priority,
            self.advert,
            self.version,
            self.extra_instance
        )
    }
}

/// A notify script that appends its four arguments to `out`.
pub fn notify_script(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let out = dir.join(format!("{name}.states"));
    let script = dir.join(format!("{name}-notify.sh"));
    std::fs::write(
        &script,
        format!("#!/bin/sh\necho \"$1 $2 $3 $4\" >> {}\n", out.display()),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    (script, out)
}

pub struct Daemon {
    pub child: Option<Child>,
    pub conf: PathBuf,
    pub log: PathBuf,
    pub name: String,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    pub fn signal(&self, sig: &str) {
        let _ = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status();
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait for the exit.
    pub fn stop(&mut self) -> std::process::ExitStatus {
        self.signal("-TERM");
        let mut c = self.child.take().expect("running");
        for _ in 0..100 {
            if let Ok(Some(st)) = c.try_wait() {
                return st;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        c.wait().unwrap()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn hagroupd_bin() -> &'static str {
    env!("CARGO_BIN_EXE_hagroupd")
}

/// Starts hagroupd in `ns` with `conf`, keepalived's command line, logs to DIR/NAME.log.
pub fn start_hagroupd(ns: &Netns, dir: &Path, name: &str, conf: &str) -> Daemon {
    // A control socket of its own, so tests never touch /run/hagroupd on the host.
    let sock = dir.join(format!("{name}.control.sock"));
    let sock = sock.to_str().expect("UTF-8 test path").to_owned();
    start_with(
        ns,
        dir,
        name,
        conf,
        hagroupd_bin(),
        &["--control-socket", &sock],
    )
}

/// [`start_hagroupd`] with more command-line flags (e.g. `-I`, `--metrics-listen`).
pub fn start_hagroupd_with(
    ns: &Netns,
    dir: &Path,
    name: &str,
    conf: &str,
    extra: &[&str],
) -> Daemon {
    let sock = dir.join(format!("{name}.control.sock"));
    let sock = sock.to_str().expect("UTF-8 test path").to_owned();
    let mut args = vec!["--control-socket", sock.as_str()];
    args.extend_from_slice(extra);
    start_with(ns, dir, name, conf, hagroupd_bin(), &args)
}

/// Starts Debian's keepalived in `ns` (`--vrrp` only, foreground, console logs).
pub fn start_keepalived(ns: &Netns, dir: &Path, name: &str, conf: &str) -> Daemon {
    start_with(ns, dir, name, conf, "keepalived", &["-P"])
}

fn start_with(
    ns: &Netns,
    dir: &Path,
    name: &str,
    conf: &str,
    program: &str,
    extra: &[&str],
) -> Daemon {
    let conf_path = dir.join(format!("{name}.conf"));
    std::fs::write(&conf_path, conf).unwrap();
    let log = dir.join(format!("{name}.log"));
    let logf = std::fs::File::create(&log).unwrap();
    let pid = dir.join(format!("{name}.pid"));
    let vpid = dir.join(format!("{name}.vrrp.pid"));
    let mut cmd = ns.command(program);
    cmd.args(["-n", "-l", "-D", "-f"])
        .arg(&conf_path)
        .arg("-p")
        .arg(&pid)
        .arg("-r")
        .arg(&vpid)
        .args(extra)
        .env("TMPDIR", dir)
        .stdin(Stdio::null())
        .stdout(logf.try_clone().unwrap())
        .stderr(logf);
    Daemon {
        child: Some(cmd.spawn().expect("start daemon")),
        conf: conf_path,
        log,
        name: name.to_owned(),
    }
}

/// Lines of a notify output file.
pub fn states(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Waits until `f` holds (polling every 50 ms, up to 20 s).
pub fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..400 {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for: {what}");
}

/// The last state a notify file reports.
pub fn last_state(path: &Path) -> Option<String> {
    states(path)
        .last()
        .and_then(|l| l.split_whitespace().nth(2).map(str::to_owned))
}

/// Runs a TCP responder on port 8080 in `ns` answering `label`.
pub fn responder(
    ns: &Netns,
    label: &'static str,
) -> std::thread::JoinHandle<Result<(), vrrp_net::NetError>> {
    vrrp_net::netns::spawn_in(ns.name(), move || async move {
        use tokio::io::AsyncWriteExt;
        let l = tokio::net::TcpListener::bind("0.0.0.0:8080").await.unwrap();
        while let Ok((mut s, _)) = l.accept().await {
            let _ = s.write_all(label.as_bytes()).await;
        }
    })
}

/// Connects from `client` to VIP:8080 and returns what the server said ("" if unreachable).
pub fn fetch(client: &Netns) -> String {
    let name = client.name().to_owned();
    vrrp_net::netns::spawn_in(&name, || async {
        use tokio::io::AsyncReadExt;
        for _ in 0..30 {
            if let Ok(Ok(mut s)) = tokio::time::timeout(
                Duration::from_millis(500),
                tokio::net::TcpStream::connect((VIP, 8080)),
            )
            .await
            {
                let mut out = String::new();
                if s.read_to_string(&mut out).await.is_ok() && !out.is_empty() {
                    return out;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        String::new()
    })
    .join()
    .unwrap()
    .unwrap()
}

/// The last state a daemon's log reports: keepalived's "Entering X STATE" or hagroupd's
/// "VRRP state change ... to=X" (logs are written in order, unlike notify scripts).
pub fn log_state(d: &Daemon) -> Option<String> {
    let text = d.log_text();
    let mut last = None;
    for l in text.lines() {
        if let Some(i) = l.find("Entering ")
            && let Some(w) = l[i + 9..].split_whitespace().next()
        {
            last = Some(w.to_owned());
        } else if l.contains("VRRP state change")
            && let Some(w) = l.split_whitespace().find_map(|w| w.strip_prefix("to="))
        {
            last = Some(w.to_owned());
        }
    }
    last
}
