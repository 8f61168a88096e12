//! Running code inside a named network namespace (`ip netns add NAME`), for tests, the demo
//! lab and programs that serve VRRP in a namespace other than their own.
//!
//! The network namespace is a per-thread attribute on Linux: [`enter`] moves only the calling
//! thread, and threads it starts afterwards inherit the namespace.

use crate::NetError;
use nix::sched::{CloneFlags, setns};

/// Moves the calling thread into the network namespace `/run/netns/NAME`.
pub fn enter(name: &str) -> Result<(), NetError> {
    let path = format!("/run/netns/{name}");
    let err = |source: std::io::Error| NetError::Interface {
        name: format!("netns {name}"),
        source,
    };
    let f = std::fs::File::open(&path).map_err(err)?;
    setns(&f, CloneFlags::CLONE_NEWNET).map_err(|e| err(e.into()))
}

/// Starts a thread inside network namespace `name` that runs `f` on its own current-thread
/// tokio runtime, and returns its join handle.
pub fn spawn_in<F, Fut, T>(name: &str, f: F) -> std::thread::JoinHandle<Result<T, NetError>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    let name = name.to_owned();
    std::thread::spawn(move || {
        enter(&name)?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|source| NetError::Interface {
                name: format!("netns {name}"),
                source,
            })?;
        Ok(rt.block_on(f()))
    })
}
