//! A blocking client of the control socket.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::protocol::{Request, Response};

/// Why a request did not get an answer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The socket could not be reached (daemon not running, wrong path, no permission).
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket path.
        path: String,
        /// The system error.
        source: std::io::Error,
    },
    /// Reading or writing the socket failed.
    #[error("control socket: {0}")]
    Io(#[from] std::io::Error),
    /// The daemon closed the connection without answering.
    #[error("the daemon closed the connection without an answer")]
    Closed,
    /// The answer is not a valid response line.
    #[error("cannot decode the answer: {0}")]
    Decode(#[from] serde_json::Error),
}

/// A connection to hagroupd's control socket.
#[derive(Debug)]
pub struct Client {
    reader: BufReader<UnixStream>,
    writer: UnixStream,
}

impl Client {
    /// Connects to the socket at `path`. Each answer is awaited up to `timeout` (a reload
    /// with many services can take a while: give it minutes, not seconds).
    pub fn connect(path: &Path, timeout: Duration) -> Result<Client, ClientError> {
        let stream = UnixStream::connect(path).map_err(|source| ClientError::Connect {
            path: path.display().to_string(),
            source,
        })?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        let writer = stream.try_clone()?;
        Ok(Client {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends one request and reads its answer.
    pub fn request(&mut self, request: &Request) -> Result<Response, ClientError> {
        let mut line = serde_json::to_string(request)?;
        line.push('\n');
        self.writer.write_all(line.as_bytes())?;
        self.writer.flush()?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(ClientError::Closed);
        }
        Ok(serde_json::from_str(answer.trim_end())?)
    }
}
