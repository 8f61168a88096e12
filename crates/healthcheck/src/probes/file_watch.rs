//! FILE_CHECK's inotify side: keepalived re-reads a track file as soon as it changes, so a
//! maintenance script that writes `0` into it drains a real server at once, not at the next
//! `delay_loop`.
//!
//! The watcher watches the *directories* of the tracked files (a file replaced by `mv`, or
//! created after start, is seen too) and reports which checkers' files changed.

use crate::sched::CheckerId;
use inotify::{Inotify, WatchDescriptor, WatchMask};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use tokio::io::unix::AsyncFd;

/// Directories that could not be watched, with the reason.
pub type WatchErrors = Vec<(PathBuf, std::io::Error)>;

/// Watches the files of FILE_CHECK checkers.
#[derive(Debug)]
pub struct FileWatcher {
    fd: AsyncFd<Inotify>,
    /// Per watched directory: file name -> the checkers tracking it.
    dirs: HashMap<WatchDescriptor, HashMap<OsString, Vec<CheckerId>>>,
    buf: Vec<u8>,
}

impl FileWatcher {
    /// Watches `files` (checker, tracked path). `Ok(None)` when there is nothing to watch.
    /// A directory that cannot be watched (it does not exist yet) is skipped with an error in the
    /// returned list; its checkers are still read every `delay_loop`.
    pub fn new(
        files: impl IntoIterator<Item = (CheckerId, PathBuf)>,
    ) -> std::io::Result<(Option<FileWatcher>, WatchErrors)> {
        let mut by_dir: HashMap<PathBuf, HashMap<OsString, Vec<CheckerId>>> = HashMap::new();
        for (id, path) in files {
            let Some(name) = path.file_name() else {
                continue;
            };
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            by_dir
                .entry(dir)
                .or_default()
                .entry(name.to_os_string())
                .or_default()
                .push(id);
        }
        if by_dir.is_empty() {
            return Ok((None, Vec::new()));
        }
        let inotify = Inotify::init()?;
        let mask = WatchMask::CLOSE_WRITE
            | WatchMask::MOVED_TO
            | WatchMask::CREATE
            | WatchMask::DELETE
            | WatchMask::MOVED_FROM
            | WatchMask::MODIFY;
        let mut dirs = HashMap::new();
        let mut errors = Vec::new();
        for (dir, names) in by_dir {
            match inotify.watches().add(&dir, mask) {
                Ok(wd) => {
                    dirs.insert(wd, names);
                }
                Err(e) => errors.push((dir, e)),
            }
        }
        let fd = super::sys::register_inotify(inotify)?;
        Ok((
            Some(FileWatcher {
                fd,
                dirs,
                buf: vec![0; 4096],
            }),
            errors,
        ))
    }

    /// Waits for changes and returns the checkers whose files changed (deduplicated, possibly
    /// empty when only other files of a watched directory changed).
    pub async fn changed(&mut self) -> std::io::Result<Vec<CheckerId>> {
        loop {
            let mut guard = self.fd.readable_mut().await?;
            let dirs = &self.dirs;
            let buf = &mut self.buf;
            let res = guard.try_io(|inner| {
                let mut ids = Vec::new();
                for ev in inner.get_mut().read_events(buf)? {
                    let Some(name) = ev.name else { continue };
                    if let Some(list) = dirs.get(&ev.wd).and_then(|names| names.get(name)) {
                        ids.extend_from_slice(list);
                    }
                }
                Ok(ids)
            });
            match res {
                Ok(Ok(mut ids)) => {
                    ids.sort_unstable();
                    ids.dedup();
                    return Ok(ids);
                }
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
    }
}
