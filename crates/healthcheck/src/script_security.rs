//! keepalived's `enable_script_security` for the checker side: a script that would run as root
//! from a path a non-root user could change (the file, or any directory above it, owned by a
//! non-root user, writable by a non-root group or by everyone) is not run. As keepalived does
//! at configuration load, such a MISC_CHECK is removed (its real server is judged by its other
//! checkers) and such a notify script is dropped, each with a warning.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::config::{CheckerKind, RunAsUser, VirtualServerConfig};
use crate::probes::resolve_user;

/// Why a script is not run under `enable_script_security`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InsecureScript {
    /// The program was found neither at its path nor in `PATH`.
    #[error("script {0} not found")]
    NotFound(String),
    /// A non-root user could change the program.
    #[error("unsafe permissions found for script {path} ({why})")]
    Unsafe {
        /// The file or directory at fault.
        path: String,
        /// What is wrong with it.
        why: String,
    },
}

/// The program `name` names: a path (resolved through symlinks, as keepalived does), or the
/// first match in `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.exists().then(|| std::fs::canonicalize(&p).unwrap_or(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| std::fs::canonicalize(&p).unwrap_or(p))
}

/// The test for a script run as root: `program` and every directory above it are owned by
/// root and writable by nobody else (group write only for group root).
pub fn check_path(program: &Path) -> Result<(), InsecureScript> {
    let mut cur = Some(program);
    while let Some(p) = cur {
        let md =
            std::fs::metadata(p).map_err(|_| InsecureScript::NotFound(p.display().to_string()))?;
        let mode = md.mode();
        let why = if md.uid() != 0 {
            Some(format!("owned by uid {}", md.uid()))
        } else if mode & 0o002 != 0 {
            Some("writable by everyone".to_owned())
        } else if mode & 0o020 != 0 && md.gid() != 0 {
            Some(format!("writable by group {}", md.gid()))
        } else {
            None
        };
        if let Some(why) = why {
            return Err(InsecureScript::Unsafe {
                path: p.display().to_string(),
                why,
            });
        }
        cur = p.parent();
    }
    Ok(())
}

/// [`check_path`] for a program (found on `PATH` unless it names a path), when it would run
/// as root.
fn check_command(prog: &str, runs_as_root: bool) -> Result<(), InsecureScript> {
    if !runs_as_root {
        return Ok(());
    }
    let path = find_program(prog).ok_or_else(|| InsecureScript::NotFound(prog.to_owned()))?;
    check_path(&path)
}

/// Whether a script run as `user` (else the current user) runs as root. An unknown user
/// counts as root: the stricter answer.
fn as_root(user: Option<&RunAsUser>) -> bool {
    let uid = match user.map(resolve_user) {
        Some(Ok(Some((uid, _)))) => uid,
        Some(Ok(None)) | None => nix::unistd::geteuid().as_raw(),
        Some(Err(_)) => 0,
    };
    uid == 0
}

/// Applies `enable_script_security` to a health configuration whose scripts run as
/// `script_user` unless they name their own user: removes the MISC_CHECKs and drops the notify
/// scripts that must not run. Returns one warning per script removed. `split` turns a notify
/// or quorum command line into argv the way the caller will run it (e.g.
/// `kconf_parser::split_command`, keepalived's quoting), so that the program checked is the
/// program run.
pub fn secure(
    config: &mut [VirtualServerConfig],
    script_user: Option<&RunAsUser>,
    split: impl Fn(&str) -> Vec<String>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    let default_root = as_root(script_user);
    let drop_script = |slot: &mut Option<String>, what: &str, warnings: &mut Vec<String>| {
        let prog = slot
            .as_deref()
            .map(|s| split(s).into_iter().next().unwrap_or_default());
        if let (Some(s), Some(prog)) = (slot.as_deref(), prog)
            && let Err(e) = check_command(&prog, default_root)
        {
            warnings.push(format!("{what} {s}: {e}; disabling"));
            *slot = None;
        }
    };
    for vs in config.iter_mut() {
        drop_script(&mut vs.quorum_up, "quorum_up", &mut warnings);
        drop_script(&mut vs.quorum_down, "quorum_down", &mut warnings);
        for rs in &mut vs.real_servers {
            drop_script(&mut rs.notify_up, "notify_up", &mut warnings);
            drop_script(&mut rs.notify_down, "notify_down", &mut warnings);
            rs.checkers.retain(|c| {
                let CheckerKind::Misc(m) = &c.kind else {
                    return true;
                };
                let root = match (m.user, &m.run_as) {
                    (Some((uid, _)), _) => uid == 0,
                    (None, Some(r)) => as_root(Some(r)),
                    (None, None) => default_root,
                };
                let prog = m.argv.first().map(String::as_str).unwrap_or_default();
                match check_command(prog, root) {
                    Ok(()) => true,
                    Err(e) => {
                        warnings.push(format!(
                            "MISC_CHECK of real server {}: {e}; disabling it",
                            rs.addr
                        ));
                        false
                    }
                }
            });
        }
    }
    warnings
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::{CheckerConfig, MiscCheck, RealServerConfig, VirtualServerKey};
    use std::os::unix::fs::PermissionsExt;
    use std::time::Duration;

    fn misc(argv: &str, user: Option<(u32, u32)>) -> CheckerConfig {
        CheckerConfig::new(
            CheckerKind::Misc(MiscCheck {
                argv: vec![argv.to_owned()],
                user,
                ..MiscCheck::default()
            }),
            Duration::from_secs(5),
        )
    }

    #[test]
    fn root_scripts_on_unsafe_paths_are_disabled_and_safe_ones_kept() {
        // A script in a directory writable by everyone.
        let dir = std::env::temp_dir().join(format!("hc-secure-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let script = dir.join("check.sh");
        std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let unsafe_path = script.display().to_string();
        let safe = find_program("true").unwrap().display().to_string();
        assert_eq!(check_path(Path::new(&safe)), Ok(()), "{safe} is root's");

        let mut rs = RealServerConfig::new("198.51.100.1:80".parse().unwrap());
        rs.checkers = vec![
            misc(&safe, Some((0, 0))),
            misc(&unsafe_path, Some((0, 0))),
            misc(&unsafe_path, Some((65534, 65534))),
            misc("/nonexistent/hc-check", Some((0, 0))),
        ];
        rs.notify_up = Some(format!("{unsafe_path} up"));
        rs.notify_down = Some(format!("'{safe}' down"));
        let mut vs = VirtualServerConfig::new(VirtualServerKey::Fwmark {
            mark: 1,
            ipv6: false,
        });
        vs.real_servers = vec![rs];
        let root = RunAsUser {
            user: "root".into(),
            group: None,
            if_exists: false,
        };
        // The caller's splitter decides what the program is: here quotes are removed, as
        // keepalived's splitting does (a whitespace split would look for `'/usr/bin/true'`).
        let split = |c: &str| -> Vec<String> {
            c.split_whitespace()
                .map(|w| w.trim_matches('\'').to_owned())
                .collect()
        };
        let warnings = secure(std::slice::from_mut(&mut vs), Some(&root), split);
        let rs = &vs.real_servers[0];
        let kept: Vec<_> = rs
            .checkers
            .iter()
            .map(|c| match &c.kind {
                CheckerKind::Misc(m) => (m.argv[0].clone(), m.user),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            kept,
            vec![
                (safe.clone(), Some((0, 0))),
                (unsafe_path.clone(), Some((65534, 65534)))
            ],
            "root's unsafe and missing scripts removed; another user's kept"
        );
        assert_eq!(rs.notify_up, None);
        assert_eq!(rs.notify_down, Some(format!("'{safe}' down")));
        assert_eq!(warnings.len(), 3, "{warnings:?}");
        assert!(warnings[0].contains("unsafe permissions"), "{warnings:?}");
        assert!(
            warnings.iter().any(|w| w.contains("not found")),
            "{warnings:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
