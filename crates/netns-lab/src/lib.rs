//! Throwaway network-namespace labs for end-to-end tests.
//!
//! A [`Lab`] creates namespaces with names unique to this process, wires them with veth pairs
//! and bridges *inside* those namespaces, runs commands in them, and deletes every namespace it
//! made when it is dropped (also when a test fails and unwinds). It never creates, changes or
//! deletes anything in the caller's own namespace: every `ip` command it runs is scoped with
//! `ip -n NS` or `ip netns exec NS`.
//!
//! Tests use documentation addresses only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
//! 2001:db8::/32).

use std::ffi::OsStr;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// What can go wrong while building or driving a lab.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LabError {
    /// The process is not root, so it cannot create namespaces.
    #[error("network namespace labs need root (effective uid is {0})")]
    NotRoot(u32),
    /// A command could not be started at all.
    #[error("could not run `{cmd}`: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A name given to the lab is not usable as a namespace or interface name.
    #[error("bad name {0:?}: use 1..=12 characters of [a-z0-9-]")]
    BadName(String),
}

static NEXT_LAB: AtomicU32 = AtomicU32::new(0);

/// Whether this process can build labs: it runs as root and `ip netns` is available.
pub fn available() -> Result<(), LabError> {
    let uid = effective_uid();
    if uid != 0 {
        return Err(LabError::NotRoot(uid));
    }
    run(Command::new("ip").args(["netns", "list"])).map(|_| ())
}

fn effective_uid() -> u32 {
    // /proc/self/status has "Uid:\treal\teffective\t...". Avoids unsafe geteuid().
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(u32::MAX)
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn run(cmd: &mut Command) -> Result<Output, LabError> {
    let desc = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|source| LabError::Spawn {
            cmd: desc.clone(),
            source,
        })?;
    if out.status.success() {
        Ok(out)
    } else {
        Err(LabError::Failed {
            cmd: desc,
            status: out.status,
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

fn check_name(name: &str) -> Result<(), LabError> {
    let ok = !name.is_empty()
        && name.len() <= 12
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(LabError::BadName(name.to_owned()))
    }
}

/// A network namespace that belongs to a [`Lab`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// The namespace's full name as `ip netns` knows it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A command that runs `program` inside this namespace (`ip netns exec`).
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).arg(program);
        c
    }

    /// Runs `ip -n NS ARGS...` and fails on a non-zero exit.
    pub fn ip(&self, args: &[&str]) -> Result<Output, LabError> {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// Runs a program in the namespace and fails on a non-zero exit.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<Output, LabError> {
        run(self.command(program).args(args))
    }

    /// Runs a program in the namespace and returns its output whatever the exit status.
    pub fn exec_unchecked(&self, program: &str, args: &[&str]) -> Result<Output, LabError> {
        let mut cmd = self.command(program);
        cmd.args(args);
        let desc = describe(&cmd);
        cmd.stdin(Stdio::null())
            .output()
            .map_err(|source| LabError::Spawn { cmd: desc, source })
    }

    /// Starts a program in the namespace in the background. The lab kills whatever still runs
    /// in its namespaces when it is dropped.
    pub fn spawn(&self, program: &str, args: &[&str]) -> Result<Child, LabError> {
        let mut cmd = self.command(program);
        cmd.args(args).stdin(Stdio::null());
        let desc = describe(&cmd);
        cmd.spawn()
            .map_err(|source| LabError::Spawn { cmd: desc, source })
    }

    /// Sets a sysctl inside the namespace (`sysctl -w key=value`).
    pub fn sysctl(&self, key: &str, value: &str) -> Result<(), LabError> {
        self.exec("sysctl", &["-q", "-w", &format!("{key}={value}")])
            .map(|_| ())
    }
}

/// A set of throwaway network namespaces, deleted on drop.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    namespaces: Vec<Netns>,
}

impl Lab {
    /// A new, empty lab. `tag` (1..=12 characters of `[a-z0-9-]`) names it in `ip netns list`.
    pub fn new(tag: &str) -> Result<Lab, LabError> {
        check_name(tag)?;
        available()?;
        let n = NEXT_LAB.fetch_add(1, Ordering::Relaxed);
        Ok(Lab {
            prefix: format!("hg-{tag}-{}-{n}", std::process::id()),
            namespaces: Vec::new(),
        })
    }

    /// The prefix every namespace of this lab carries.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Creates a namespace named `PREFIX-name` with its loopback up.
    pub fn add_ns(&mut self, name: &str) -> Result<Netns, LabError> {
        check_name(name)?;
        let ns = Netns {
            name: format!("{}-{name}", self.prefix),
        };
        run(Command::new("ip").args(["netns", "add", &ns.name]))?;
        self.namespaces.push(ns.clone());
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    /// Creates a bridge `br` inside `ns` and brings it up. Multicast snooping is switched off so
    /// VRRP adverts reach every port (FRR issue #5386).
    pub fn bridge(&self, ns: &Netns, br: &str) -> Result<(), LabError> {
        ns.ip(&["link", "add", br, "type", "bridge", "mcast_snooping", "0"])?;
        ns.ip(&["link", "set", br, "up"])?;
        Ok(())
    }

    /// Creates a veth pair with one end `a_if` in `a` and the other `b_if` in `b`, both up.
    pub fn veth(&self, a: &Netns, a_if: &str, b: &Netns, b_if: &str) -> Result<(), LabError> {
        a.ip(&[
            "link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", &b.name,
        ])?;
        a.ip(&["link", "set", a_if, "up"])?;
        b.ip(&["link", "set", b_if, "up"])?;
        Ok(())
    }

    /// Creates a veth pair from `host_if` in `host` to `port` in `switch`, and enslaves `port`
    /// to the bridge `br` in `switch`.
    pub fn attach(
        &self,
        host: &Netns,
        host_if: &str,
        switch: &Netns,
        br: &str,
        port: &str,
    ) -> Result<(), LabError> {
        self.veth(host, host_if, switch, port)?;
        switch.ip(&["link", "set", port, "master", br])?;
        Ok(())
    }

    /// The namespaces made so far.
    pub fn namespaces(&self) -> &[Netns] {
        &self.namespaces
    }

    fn teardown(&mut self) {
        for ns in self.namespaces.drain(..).rev() {
            // Kill what still runs inside, then delete the namespace.
            if let Ok(out) = run(Command::new("ip").args(["netns", "pids", &ns.name])) {
                for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                    let _ = Command::new("kill")
                        .args(["-9", pid])
                        .stderr(Stdio::null())
                        .status();
                }
            }
            let _ = Command::new("ip")
                .args(["netns", "delete", &ns.name])
                .stderr(Stdio::null())
                .status();
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Whether a namespace of this name exists (`ip netns list`).
pub fn netns_exists(name: &str) -> Result<bool, LabError> {
    let out = run(Command::new("ip").args(["netns", "list"]))?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.split_whitespace().next() == Some(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("r1").is_ok());
        assert!(check_name("a-very-long-name").is_err());
        assert!(check_name("Bad").is_err());
        assert!(check_name("").is_err());
    }
}
