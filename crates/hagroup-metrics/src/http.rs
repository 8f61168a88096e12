//! A minimal HTTP/1 endpoint for Prometheus: `GET /metrics` (and `HEAD`) answer the rendered
//! text, every other path 404, other methods 405. One request per connection
//! (`Connection: close`).
//!
//! It cannot be used to hold the daemon up: each connection runs on its own task under one
//! deadline for the whole exchange, the request head is bounded in size, and at most
//! [`ServerOptions::max_connections`] are served at once (further ones are closed at once).

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::render::CONTENT_TYPE;
use crate::sources::Sources;

/// Limits of the endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOptions {
    /// Largest request head accepted (request line and headers), in bytes.
    pub max_request: usize,
    /// Deadline of one connection: reading the request, rendering and writing the answer.
    pub timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            max_request: 8 * 1024,
            timeout: Duration::from_secs(10),
            max_connections: 4,
        }
    }
}

/// Binds `addr` for the endpoint (a blocking call, usable before the runtime starts, so that a
/// bad address stops the daemon before anything else runs).
pub fn bind(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// A running endpoint; dropping it stops it.
#[derive(Debug)]
pub struct Server {
    task: tokio::task::JoinHandle<()>,
    local_addr: SocketAddr,
}

impl Server {
    /// The address it listens on.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `sources` on `listener` (from [`bind`]) on a task of the current tokio runtime.
pub fn spawn(
    listener: std::net::TcpListener,
    sources: Sources,
    options: ServerOptions,
) -> io::Result<Server> {
    let listener = TcpListener::from_std(listener)?;
    let local_addr = listener.local_addr()?;
    let task = tokio::spawn(serve(listener, options, move || {
        let s = sources.clone();
        async move { s.render().await }
    }));
    Ok(Server { task, local_addr })
}

/// Answers requests on `listener` forever; `render` makes the body of each `GET /metrics`.
pub async fn serve<F, Fut>(listener: TcpListener, options: ServerOptions, render: F)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = String> + Send + 'static,
{
    let render = Arc::new(render);
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "metrics: accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            tracing::debug!(%peer, "metrics: too many connections, closing");
            drop(stream);
            continue;
        };
        let render = Arc::clone(&render);
        tokio::spawn(async move {
            let exchange = handle(stream, options.max_request, move || render());
            if tokio::time::timeout(options.timeout, exchange)
                .await
                .is_err()
            {
                tracing::debug!(%peer, "metrics: connection timed out");
            }
            drop(permit);
        });
    }
}

/// What a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    /// `GET /metrics`.
    Metrics,
    /// `HEAD /metrics`.
    MetricsHead,
    /// Another method on `/metrics`.
    BadMethod,
    /// Another path.
    NotFound,
    /// Not an HTTP request line.
    BadRequest,
}

/// Routes a request head (everything up to the blank line).
fn route(head: &[u8]) -> Route {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .unwrap_or(head.len());
    let Ok(line) = std::str::from_utf8(&head[..line_end]) else {
        return Route::BadRequest;
    };
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    if path != "/metrics" {
        return Route::NotFound;
    }
    match method {
        "GET" => Route::Metrics,
        "HEAD" => Route::MetricsHead,
        _ => Route::BadMethod,
    }
}

/// Reads the request head (without its blank line); `Ok(Err(()))` when the client sent more
/// than `max` bytes without ending it (answered 431), `Err` when it closed first.
async fn read_head(stream: &mut TcpStream, max: usize) -> io::Result<Result<Vec<u8>, ()>> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        let from = buf.len().saturating_sub(3);
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf[from..].windows(4).position(|w| w == b"\r\n\r\n") {
            buf.truncate(from + end);
            return Ok(Ok(buf));
        }
        if buf.len() > max {
            return Ok(Err(()));
        }
    }
}

async fn handle<F, Fut>(mut stream: TcpStream, max_request: usize, render: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = String>,
{
    let route = match read_head(&mut stream, max_request).await {
        Ok(Ok(head)) => route(&head),
        Ok(Err(())) => {
            let _ = respond(&mut stream, "431 Request Header Fields Too Large", "", b"").await;
            return;
        }
        Err(_) => return,
    };
    let _ = match route {
        Route::Metrics => {
            let body = render().await;
            respond(&mut stream, "200 OK", CONTENT_TYPE, body.as_bytes()).await
        }
        Route::MetricsHead => {
            // The length GET would send, no body.
            let len = render().await.len();
            respond_len(&mut stream, "200 OK", CONTENT_TYPE, len, b"").await
        }
        Route::BadMethod => respond(&mut stream, "405 Method Not Allowed", "", b"").await,
        Route::NotFound => {
            respond(
                &mut stream,
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"metrics are at /metrics\n",
            )
            .await
        }
        Route::BadRequest => respond(&mut stream, "400 Bad Request", "", b"").await,
    };
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> io::Result<()> {
    respond_len(stream, status, content_type, body.len(), body).await
}

async fn respond_len(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    len: usize,
    body: &[u8],
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status}\r\nContent-Length: {len}\r\nConnection: close\r\n");
    if !content_type.is_empty() {
        head.push_str("Content-Type: ");
        head.push_str(content_type);
        head.push_str("\r\n");
    }
    if status.starts_with("405") {
        head.push_str("Allow: GET, HEAD\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(route(b"GET /metrics HTTP/1.1\r\nHost: x"), Route::Metrics);
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0"), Route::Metrics);
        assert_eq!(route(b"HEAD /metrics HTTP/1.1"), Route::MetricsHead);
        assert_eq!(route(b"POST /metrics HTTP/1.1"), Route::BadMethod);
        assert_eq!(route(b"GET / HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metricsx HTTP/1.1"), Route::NotFound);
        assert_eq!(route(b"GET /metrics"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe"), Route::BadRequest);
    }

    async fn exchange(addr: SocketAddr, request: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    async fn server(options: ServerOptions) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        let task = tokio::spawn(serve(l, options, || async { "m 1\n# EOF\n".to_owned() }));
        (addr, task)
    }

    #[tokio::test]
    async fn get_metrics_answers_the_text_and_other_paths_404() {
        let (addr, task) = server(ServerOptions::default()).await;
        let ok = exchange(addr, b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        assert!(ok.contains("Content-Length: 10\r\n"), "{ok}");
        assert!(
            ok.contains("Content-Type: application/openmetrics-text"),
            "{ok}"
        );
        assert!(ok.ends_with("\r\n\r\nm 1\n# EOF\n"), "{ok}");
        let head = exchange(addr, b"HEAD /metrics HTTP/1.1\r\n\r\n").await;
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n") && head.ends_with("\r\n\r\n"));
        let nf = exchange(addr, b"GET /other HTTP/1.1\r\n\r\n").await;
        assert!(nf.starts_with("HTTP/1.1 404 Not Found\r\n"), "{nf}");
        let bad = exchange(addr, b"DELETE /metrics HTTP/1.1\r\n\r\n").await;
        assert!(bad.starts_with("HTTP/1.1 405 "), "{bad}");
        task.abort();
    }

    #[tokio::test]
    async fn an_oversized_request_head_is_refused() {
        let (addr, task) = server(ServerOptions {
            max_request: 64,
            ..ServerOptions::default()
        })
        .await;
        let mut req = b"GET /metrics HTTP/1.1\r\nX: ".to_vec();
        req.extend(std::iter::repeat_n(b'a', 200));
        let r = exchange(addr, &req).await;
        assert!(r.starts_with("HTTP/1.1 431 "), "{r}");
        task.abort();
    }

    #[tokio::test]
    async fn a_silent_client_does_not_stop_others_from_being_served() {
        let (addr, task) = server(ServerOptions {
            max_connections: 2,
            timeout: Duration::from_secs(300),
            ..ServerOptions::default()
        })
        .await;
        // One client connects and says nothing (holding one of the two slots).
        let _silent = TcpStream::connect(addr).await.unwrap();
        let ok = exchange(addr, b"GET /metrics HTTP/1.1\r\n\r\n").await;
        assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_dropped_at_the_deadline() {
        let (addr, task) = server(ServerOptions {
            timeout: Duration::from_secs(10),
            ..ServerOptions::default()
        })
        .await;
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut buf = [0u8; 16];
        // Paused time auto-advances while everything waits: the server closes the connection
        // at its deadline, and the read returns end of stream.
        let n = silent.read(&mut buf).await.unwrap();
        assert_eq!(n, 0);
        task.abort();
    }
}
