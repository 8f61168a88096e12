//! MISC_CHECK: run a program (argv, no shell) in its own process group, as `user` / `run_as`
//! if set.
//!
//! Exit 0 = up; 1 = down; with `misc_dynamic`, 2..=255 = up with weight adjustment `code − 2`
//! (without it, any non-zero code is down). A signal or the timeout is down; on timeout the
//! process group gets SIGTERM, then SIGKILL after 2 s (keepalived's behaviour).

use super::{ProbeError, sys};
use crate::config::{MiscCheck, RunAsUser};
use crate::sched::Outcome;
use std::process::Stdio;
use std::time::Duration;
use tokio::process::Command;

/// Grace period between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Maps an exit status to an outcome.
pub(crate) fn outcome_of(code: Option<i32>, dynamic: bool) -> Result<Outcome, ProbeError> {
    match code {
        Some(0) => Ok(Outcome::Up),
        Some(c) if dynamic && (2..=255).contains(&c) => Ok(Outcome::UpWithWeight(i64::from(c) - 2)),
        Some(c) => Err(ProbeError::Script(format!("exit status {c}"))),
        None => Err(ProbeError::Script("killed by a signal".to_owned())),
    }
}

/// The uid/gid of [`MiscCheck::run_as`], looked up now (`None`: run as the current user).
fn run_as(m: &MiscCheck) -> Result<Option<(u32, u32)>, ProbeError> {
    match &m.run_as {
        Some(r) => resolve_user(r),
        None => Ok(None),
    }
}

/// The uid and gid of `r`, looked up now; `None` for an [`RunAsUser::if_exists`] user that does
/// not exist (run as the current user).
pub fn resolve_user(r: &RunAsUser) -> Result<Option<(u32, u32)>, ProbeError> {
    let user = nix::unistd::User::from_name(&r.user)
        .map_err(|e| ProbeError::Script(format!("cannot look up user {}: {e}", r.user)))?;
    let Some(user) = user else {
        if r.if_exists {
            return Ok(None);
        }
        return Err(ProbeError::Script(format!("no user {}", r.user)));
    };
    let gid = match &r.group {
        None => user.gid.as_raw(),
        Some(g) => nix::unistd::Group::from_name(g)
            .map_err(|e| ProbeError::Script(format!("cannot look up group {g}: {e}")))?
            .ok_or_else(|| ProbeError::Script(format!("no group {g}")))?
            .gid
            .as_raw(),
    };
    Ok(Some((user.uid.as_raw(), gid)))
}

/// One MISC_CHECK attempt.
pub(crate) async fn check(m: &MiscCheck, timeout: Duration) -> Result<Outcome, ProbeError> {
    let (prog, args) = m
        .argv
        .split_first()
        .ok_or_else(|| ProbeError::Config("empty misc_path".to_owned()))?;
    let mut cmd = Command::new(prog);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .kill_on_drop(true);
    if let Some((uid, gid)) = m.user.map(Some).map_or_else(|| run_as(m), Ok)? {
        cmd.gid(gid).uid(uid);
    }
    let mut child = cmd
        .spawn()
        .map_err(|e| ProbeError::Script(format!("cannot run {prog}: {e}")))?;
    let pgid = child.id();
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(status) => outcome_of(status?.code(), m.dynamic),
        Err(_) => {
            if let Some(pgid) = pgid {
                sys::kill_group(pgid, libc::SIGTERM);
                if tokio::time::timeout(KILL_GRACE, child.wait())
                    .await
                    .is_err()
                {
                    sys::kill_group(pgid, libc::SIGKILL);
                    let _ = child.wait().await;
                }
                // Whatever else is left in the group.
                sys::kill_group(pgid, libc::SIGKILL);
            }
            Err(ProbeError::Timeout(timeout))
        }
    }
}
