//! Running keepalived's scripts safely: `vrrp_script` trackers and notify scripts.
//!
//! - Commands are exec'd from their argv, never through a shell, so nothing in a state name,
//!   instance name or argument can inject commands.
//! - Scripts run as `script_user` (or the per-script `user [group]`), in their own process
//!   group, with `IFS`, `LD_PRELOAD` and `LD_LIBRARY_PATH` removed (keepalived §2.11).
//! - With `enable_script_security`, a script that a non-root user could change (the file or
//!   any directory above it writable by a non-root owner, a non-root group or everyone) is
//!   refused (keepalived §2.12).

use kconf_parser::model::{Config, Script, ScriptUser, VrrpScript};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;
use vrrp_fsm::TrackerStatus;
use vrrp_net::driver::DriverHandle;

/// Why a script was not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ScriptError {
    /// The script line is empty.
    #[error("empty script command")]
    Empty,
    /// The program was not found (absolute path or `PATH`).
    #[error("{0}: not found")]
    NotFound(String),
    /// The configured user or group does not exist.
    #[error("unknown user or group {0}")]
    UnknownUser(String),
    /// `enable_script_security` refused the script.
    #[error("unsafe permissions found for script {path} ({why}); disabling")]
    Unsafe {
        /// The file or directory at fault.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

/// A resolved identity to run scripts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    uid: u32,
    gid: u32,
}

/// How scripts run in this daemon.
#[derive(Debug, Clone)]
pub(crate) struct ScriptPolicy {
    default_user: Option<ScriptUser>,
    security: bool,
}

fn lookup(user: &str, group: Option<&str>) -> Result<RunAs, ScriptError> {
    let u = nix::unistd::User::from_name(user)
        .ok()
        .flatten()
        .ok_or_else(|| ScriptError::UnknownUser(user.to_owned()))?;
    let gid = match group {
        None => u.gid.as_raw(),
        Some(g) => nix::unistd::Group::from_name(g)
            .ok()
            .flatten()
            .ok_or_else(|| ScriptError::UnknownUser(g.to_owned()))?
            .gid
            .as_raw(),
    };
    Ok(RunAs {
        uid: u.uid.as_raw(),
        gid,
    })
}

fn find_program(name: &str) -> Result<PathBuf, ScriptError> {
    healthcheck::script_security::find_program(name)
        .ok_or_else(|| ScriptError::NotFound(name.to_owned()))
}

/// keepalived's `enable_script_security` test for a script run as root: the file and every
/// directory above it must not be writable by anyone but root.
pub(crate) fn check_security(program: &Path) -> Result<(), ScriptError> {
    use healthcheck::script_security::{InsecureScript, check_path};
    check_path(program).map_err(|e| match e {
        InsecureScript::Unsafe { path, why } => ScriptError::Unsafe { path, why },
        InsecureScript::NotFound(p) => ScriptError::NotFound(p),
        other => ScriptError::NotFound(other.to_string()),
    })
}

impl ScriptPolicy {
    /// The policy of a configuration (`script_user`, `enable_script_security`).
    pub(crate) fn from_config(config: &Config) -> ScriptPolicy {
        ScriptPolicy {
            default_user: config.global_defs.script_user.clone(),
            security: config.global_defs.enable_script_security,
        }
    }

    fn run_as(
        &self,
        user: Option<&str>,
        group: Option<&str>,
    ) -> Result<Option<RunAs>, ScriptError> {
        if let Some(u) = user {
            return lookup(u, group).map(Some);
        }
        if let Some(d) = &self.default_user {
            return lookup(&d.user, d.group.as_deref()).map(Some);
        }
        // keepalived's default: keepalived_script if it exists, else root.
        Ok(lookup("keepalived_script", None).ok())
    }

    /// A ready-to-spawn command for `argv`, with `extra` arguments appended.
    pub(crate) fn command(
        &self,
        argv: &[String],
        extra: &[String],
        user: Option<&str>,
        group: Option<&str>,
    ) -> Result<Command, ScriptError> {
        let (prog, args) = argv.split_first().ok_or(ScriptError::Empty)?;
        let program = find_program(prog)?;
        let run_as = self.run_as(user, group)?;
        if self.security && run_as.is_none_or(|r| r.uid == 0) {
            check_security(&program)?;
        }
        let mut cmd = Command::new(&program);
        cmd.args(args)
            .args(extra)
            .env_remove("IFS")
            .env_remove("LD_PRELOAD")
            .env_remove("LD_LIBRARY_PATH")
            .stdin(std::process::Stdio::null())
            .process_group(0)
            .kill_on_drop(false);
        if let Some(r) = run_as {
            cmd.uid(r.uid).gid(r.gid);
        }
        Ok(cmd)
    }

    /// A command for a notify-style [`Script`].
    pub(crate) fn script_command(
        &self,
        s: &Script,
        extra: &[String],
    ) -> Result<Command, ScriptError> {
        self.command(&s.argv, extra, s.user.as_deref(), s.group.as_deref())
    }
}

/// Runs one check of a `vrrp_script`: success is exit status 0 within the timeout. On timeout
/// the process group gets SIGTERM, then SIGKILL 2 s later.
async fn run_once(mut cmd: Command, timeout: Duration) -> bool {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "cannot start vrrp_script");
            return false;
        }
    };
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(Ok(status)) => status.success(),
        Ok(Err(_)) => false,
        Err(_) => {
            if let Some(pid) = child.id().and_then(|p| i32::try_from(p).ok()) {
                let pg = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::killpg(pg, nix::sys::signal::Signal::SIGTERM);
                if tokio::time::timeout(Duration::from_secs(2), child.wait())
                    .await
                    .is_err()
                {
                    let _ = nix::sys::signal::killpg(pg, nix::sys::signal::Signal::SIGKILL);
                    let _ = child.wait().await;
                }
            }
            false
        }
    }
}

/// Starts a task per `vrrp_script` that some instance tracks. Each reports its status to the
/// driver when `rise` successes or `fall` failures in a row change it.
pub(crate) fn spawn_trackers(
    config: &Config,
    policy: &ScriptPolicy,
    driver: std::sync::Arc<DriverHandle>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let used: std::collections::HashSet<&str> = config
        .vrrp_instances
        .iter()
        .flat_map(|i| i.track_scripts.iter().map(|t| t.name.as_str()))
        .collect();
    config
        .vrrp_scripts
        .iter()
        .filter(|s| used.contains(s.name.as_str()))
        .filter_map(|s| spawn_one(s, policy.clone(), std::sync::Arc::clone(&driver)))
        .collect()
}

fn spawn_one(
    s: &VrrpScript,
    policy: ScriptPolicy,
    driver: std::sync::Arc<DriverHandle>,
) -> Option<tokio::task::JoinHandle<()>> {
    let script = s.script.clone()?;
    let name = s.name.clone();
    let interval = s.interval.max(Duration::from_millis(10));
    let timeout = if s.timeout.is_zero() {
        interval
    } else {
        s.timeout
    };
    let (rise, fall) = (s.rise.max(1), s.fall.max(1));
    let user = s.user.clone();
    let mut status = if s.init_fail {
        TrackerStatus::Down
    } else {
        TrackerStatus::Up
    };
    Some(tokio::spawn(async move {
        let (mut ok_run, mut fail_run) = (0u32, 0u32);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut reported = false;
        loop {
            ticker.tick().await;
            let cmd = policy.command(
                &script.argv,
                &[],
                user.as_ref()
                    .map(|u| u.user.as_str())
                    .or(script.user.as_deref()),
                user.as_ref()
                    .and_then(|u| u.group.as_deref())
                    .or(script.group.as_deref()),
            );
            let ok = match cmd {
                Ok(c) => run_once(c, timeout).await,
                Err(e) => {
                    tracing::error!(script = %name, error = %e, "vrrp_script cannot run");
                    false
                }
            };
            if ok {
                ok_run += 1;
                fail_run = 0;
            } else {
                fail_run += 1;
                ok_run = 0;
            }
            let next = if ok && ok_run >= rise {
                TrackerStatus::Up
            } else if !ok && fail_run >= fall {
                TrackerStatus::Down
            } else {
                status
            };
            if next != status || !reported {
                if next != status {
                    tracing::info!(script = %name, status = ?next, "vrrp_script status change");
                }
                status = next;
                reported = true;
                if driver.tracker(&name, status).await.is_err() {
                    return;
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn world_writable_directories_are_unsafe() {
        let dir = std::env::temp_dir().join(format!("hg-sec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("check.sh");
        std::fs::write(&f, "#!/bin/sh\nexit 0\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let r = check_security(&f);
        // As root the file is root-owned; the directory is world-writable either way.
        assert!(matches!(r, Err(ScriptError::Unsafe { .. })), "{r:?}");
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o646)).unwrap();
        assert!(matches!(
            check_security(&f),
            Err(ScriptError::Unsafe { .. })
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn system_binaries_are_safe_as_root() {
        // /bin/true is root-owned and so are its directories on any sane system.
        let p = find_program("true").unwrap();
        if std::fs::metadata(&p).map(|m| m.uid() == 0).unwrap_or(false) {
            assert_eq!(check_security(&p), Ok(()));
        }
    }

    #[tokio::test]
    async fn no_shell_is_involved() {
        let policy = ScriptPolicy {
            default_user: None,
            security: false,
        };
        // With a shell, `;` would start a second command; exec'd directly it is an argument.
        let argv = vec![
            "test".to_owned(),
            "a;b".to_owned(),
            "=".to_owned(),
            "a;b".to_owned(),
        ];
        let cmd = policy.command(&argv, &[], None, None).unwrap();
        assert!(run_once(cmd, Duration::from_secs(5)).await);
        let argv = vec!["false".to_owned()];
        let cmd = policy.command(&argv, &[], None, None).unwrap();
        assert!(!run_once(cmd, Duration::from_secs(5)).await);
        let argv = vec!["sleep".to_owned(), "5".to_owned()];
        let cmd = policy.command(&argv, &[], None, None).unwrap();
        assert!(
            !run_once(cmd, Duration::from_millis(100)).await,
            "timeout is a failure"
        );
    }
}
