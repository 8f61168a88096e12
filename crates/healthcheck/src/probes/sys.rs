//! The system interfaces the probes use unsafely: signalling a MISC_CHECK process group, and
//! registering the FILE_CHECK inotify descriptor with tokio.
#![allow(unsafe_code)]

/// Sends `signal` to process group `pgid`. Errors (the group is gone) are ignored: the caller
/// reaps the child either way.
pub(crate) fn kill_group(pgid: u32, signal: libc::c_int) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes plain integers and has no memory-safety preconditions; a negative
    // pid addresses the process group, and pgid > 1 rules out "every process" (-1).
    unsafe {
        libc::kill(-pgid, signal);
    }
}

/// Registers the inotify instance with tokio's reactor.
pub(crate) fn register_inotify(
    inotify: inotify::Inotify,
) -> std::io::Result<tokio::io::unix::AsyncFd<inotify::Inotify>> {
    // SAFETY: `Inotify` owns its descriptor (it closes it on drop, and nothing else can close
    // it), so the descriptor stays open and the same for as long as the `AsyncFd` owns the
    // `Inotify`; `as_raw_fd` always returns that descriptor.
    unsafe { tokio::io::unix::AsyncFd::register(inotify) }.map_err(std::io::Error::from)
}
