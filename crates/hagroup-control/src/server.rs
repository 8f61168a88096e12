//! The daemon's side: binds the socket with root-only permissions and hands each request to
//! the daemon as an [`Incoming`] on a channel; the daemon answers through its `reply`.
//!
//! ```no_run
//! # async fn f() -> Result<(), hagroup_control::server::ServerError> {
//! use hagroup_control::{Response, server};
//! let (tx, mut rx) = tokio::sync::mpsc::channel(16);
//! let _server = server::bind(std::path::Path::new("/run/hagroupd/control.sock"))?.serve(tx);
//! while let Some(incoming) = rx.recv().await {
//!     let _ = incoming.reply.send(Response::Done { message: "ok".into() });
//! }
//! # Ok(()) }
//! ```

use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::MAX_REQUEST_LINE;
use crate::protocol::{Request, Response};

/// Why the socket could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// The path has no parent directory or no file name.
    #[error("{0}: not a socket path")]
    BadPath(PathBuf),
    /// Another process answers on the socket (a second daemon with the same path).
    #[error("{0}: another process is listening there")]
    InUse(PathBuf),
    /// Something that is not a socket is in the way (never removed).
    #[error("{0}: exists and is not a socket")]
    NotASocket(PathBuf),
    /// Creating the directory, binding or setting the permissions failed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The system error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ServerError + '_ {
    move |source| ServerError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A bound control socket, not yet serving.
#[derive(Debug)]
pub struct Listener {
    listener: UnixListener,
    path: PathBuf,
    owner: u32,
}

/// One request for the daemon; answer it through `reply` (dropping it answers with an error).
#[derive(Debug)]
pub struct Incoming {
    /// The request.
    pub request: Request,
    /// Where the answer goes.
    pub reply: oneshot::Sender<Response>,
}

/// The running server; dropping it stops accepting and removes the socket file.
#[derive(Debug)]
pub struct ControlServer {
    task: tokio::task::JoinHandle<()>,
    path: PathBuf,
}

impl ControlServer {
    /// The socket path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Binds the control socket at `path` (call inside a tokio runtime).
///
/// - A missing parent directory is created with mode 0700; an existing one is left as it is.
/// - A stale socket left by a daemon that died is replaced; a socket another process still
///   answers on is an error ([`ServerError::InUse`]), and so is a file that is not a socket.
/// - The socket gets mode 0600, and the server answers only root and the socket's owner
///   (checked with `SO_PEERCRED` on each connection).
pub fn bind(path: &Path) -> Result<Listener, ServerError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .ok_or_else(|| ServerError::BadPath(path.to_path_buf()))?;
    if path.file_name().is_none() {
        return Err(ServerError::BadPath(path.to_path_buf()));
    }
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io(dir))?;
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(ServerError::InUse(path.to_path_buf()));
            }
            std::fs::remove_file(path).map_err(io(path))?;
        }
        Ok(_) => return Err(ServerError::NotASocket(path.to_path_buf())),
        Err(_) => {}
    }
    let listener = UnixListener::bind(path).map_err(io(path))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io(path))?;
    let owner = std::fs::metadata(path).map_err(io(path))?.uid();
    Ok(Listener {
        listener,
        path: path.to_path_buf(),
        owner,
    })
}

impl Listener {
    /// Starts accepting connections; each request goes to `requests`.
    pub fn serve(self, requests: mpsc::Sender<Incoming>) -> ControlServer {
        let path = self.path.clone();
        let task = tokio::spawn(async move {
            loop {
                match self.listener.accept().await {
                    Ok((stream, _)) => {
                        let allowed = stream
                            .peer_cred()
                            .is_ok_and(|c| c.uid() == 0 || c.uid() == self.owner);
                        tokio::spawn(connection(stream, allowed, requests.clone()));
                    }
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        let _ = e;
                        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    }
                }
            }
        });
        ControlServer { task, path }
    }
}

async fn connection(stream: UnixStream, allowed: bool, requests: mpsc::Sender<Incoming>) {
    let (rd, mut wr) = stream.into_split();
    let mut rd = BufReader::new(rd);
    loop {
        let mut line = Vec::new();
        let limit = u64::try_from(MAX_REQUEST_LINE + 1).unwrap_or(u64::MAX);
        match (&mut rd).take(limit).read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let too_long = line.len() > MAX_REQUEST_LINE;
        let response = if !allowed {
            Response::Error {
                message: "permission denied: the control socket answers root only".into(),
            }
        } else if too_long {
            Response::Error {
                message: format!("request longer than {MAX_REQUEST_LINE} bytes"),
            }
        } else {
            match serde_json::from_slice::<Request>(&line) {
                Ok(request) => ask(&requests, request).await,
                Err(e) => Response::Error {
                    message: format!("bad request: {e}"),
                },
            }
        };
        let Ok(mut out) = serde_json::to_vec(&response) else {
            return;
        };
        out.push(b'\n');
        if wr.write_all(&out).await.is_err() || !allowed || too_long {
            return;
        }
    }
}

async fn ask(requests: &mpsc::Sender<Incoming>, request: Request) -> Response {
    let stopping = || Response::Error {
        message: "the daemon is stopping".into(),
    };
    let (reply, answer) = oneshot::channel();
    if requests.send(Incoming { request, reply }).await.is_err() {
        return stopping();
    }
    answer.await.unwrap_or_else(|_| stopping())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Client;
    use std::time::Duration;

    fn temp_dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hagroup-control-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_requests_with_root_only_permissions() {
        let dir = temp_dir("serve");
        let path = dir.join("sub").join("control.sock");
        let (tx, mut rx) = mpsc::channel(4);
        let server = bind(&path).unwrap().serve(tx);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        tokio::spawn(async move {
            while let Some(inc) = rx.recv().await {
                let r = match inc.request {
                    Request::Reload => Response::Refused {
                        reason: "broken".into(),
                    },
                    other => Response::Done {
                        message: format!("{other:?}"),
                    },
                };
                let _ = inc.reply.send(r);
            }
        });
        let p = path.clone();
        let answers = tokio::task::spawn_blocking(move || {
            let mut c = Client::connect(&p, Duration::from_secs(30)).unwrap();
            let a = c.request(&Request::Reload).unwrap();
            let b = c.request(&Request::Status).unwrap();
            (a, b)
        })
        .await
        .unwrap();
        assert_eq!(
            answers.0,
            Response::Refused {
                reason: "broken".into()
            }
        );
        assert_eq!(
            answers.1,
            Response::Done {
                message: "Status".into()
            }
        );
        // A garbage line gets an error answer, and the connection goes on.
        let mut s = UnixStream::connect(&path).await.unwrap();
        s.write_all(b"{\"command\":\"nope\"}\n{\"command\":\"status\"}\n")
            .await
            .unwrap();
        let mut r = BufReader::new(s);
        let mut l = String::new();
        r.read_line(&mut l).await.unwrap();
        let first: Response = serde_json::from_str(&l).unwrap();
        assert!(matches!(first, Response::Error { .. }), "{first:?}");
        l.clear();
        r.read_line(&mut l).await.unwrap();
        assert!(matches!(
            serde_json::from_str::<Response>(&l).unwrap(),
            Response::Done { .. }
        ));
        // A second daemon on the same path is refused while the first one answers.
        assert!(matches!(bind(&path), Err(ServerError::InUse(_))));
        drop(server);
        assert!(!path.exists(), "the socket file is removed on drop");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn stale_sockets_are_replaced_and_other_files_are_left_alone() {
        let dir = temp_dir("stale");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("control.sock");
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let l = bind(&path).unwrap();
        drop(l);
        let file = dir.join("not-a-socket");
        std::fs::write(&file, "x").unwrap();
        assert!(matches!(bind(&file), Err(ServerError::NotASocket(_))));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_daemon_that_stops_answering_gives_an_error() {
        let dir = temp_dir("gone");
        let path = dir.join("control.sock");
        let (tx, rx) = mpsc::channel(4);
        drop(rx);
        let _server = bind(&path).unwrap().serve(tx);
        let p = path.clone();
        let a = tokio::task::spawn_blocking(move || {
            Client::connect(&p, Duration::from_secs(30))
                .unwrap()
                .request(&Request::Status)
                .unwrap()
        })
        .await
        .unwrap();
        assert!(matches!(a, Response::Error { .. }), "{a:?}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
