//! The one system call the probes make directly: signalling a MISC_CHECK process group.
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
