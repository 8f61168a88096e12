//! Error types.

use std::time::Duration;

/// A netlink reply that could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A header or attribute is cut short.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A length field points outside the buffer or below the header size.
    #[error("bad length in {0}")]
    BadLength(&'static str),
    /// An attribute payload has the wrong size or content for its type.
    #[error("attribute {ty}: payload is not a valid {what}")]
    BadAttribute {
        /// The attribute type.
        ty: u16,
        /// What the payload should have been.
        what: &'static str,
    },
    /// A required attribute is absent.
    #[error("missing attribute {0}")]
    MissingAttribute(&'static str),
    /// A value is out of the range this crate knows.
    #[error("unknown {what} {value}")]
    UnknownValue {
        /// Which field.
        what: &'static str,
        /// The value the kernel sent.
        value: u64,
    },
}

/// Everything that can go wrong talking to IPVS.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The generic netlink family "IPVS" does not exist: the `ip_vs` module is not loaded (or the
    /// kernel has no IPVS).
    #[error(
        "IPVS is not available (generic netlink family \"IPVS\" not found; is the ip_vs module loaded?)"
    )]
    ModuleNotLoaded,
    /// The service does not exist (kernel `ESRCH`).
    #[error("no such virtual service")]
    ServiceNotFound,
    /// The destination does not exist (kernel `ENOENT` on a destination operation).
    #[error("no such real server")]
    DestinationNotFound,
    /// The service or destination already exists (kernel `EEXIST`).
    #[error("already exists")]
    AlreadyExists,
    /// The scheduler (or persistence engine) module is not available (kernel `ENOENT` on a
    /// service add or edit).
    #[error("scheduler or persistence engine not found")]
    SchedulerNotFound,
    /// The kernel rejected an argument (`EINVAL`).
    #[error("invalid argument")]
    InvalidArgument,
    /// The kernel does not support the request (`EAFNOSUPPORT`, `EOPNOTSUPP`).
    #[error("not supported by this kernel")]
    NotSupported,
    /// Not allowed (`EPERM`): IPVS control needs `CAP_NET_ADMIN`.
    #[error("permission denied (needs CAP_NET_ADMIN)")]
    PermissionDenied,
    /// Another kernel error, with its errno.
    #[error("kernel error: {}", std::io::Error::from_raw_os_error(*.0))]
    Kernel(i32),
    /// No complete reply within the request timeout.
    #[error("no reply from the kernel within {0:?}")]
    Timeout(Duration),
    /// A socket call failed.
    #[error("netlink socket: {0}")]
    Io(#[from] std::io::Error),
    /// A reply could not be decoded.
    #[error("bad reply: {0}")]
    Decode(#[from] DecodeError),
    /// The request cannot be encoded (e.g. a scheduler name over 15 bytes).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
}

/// What a request was about, to turn an errno into the right [`Error`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Subject {
    Service,
    Destination,
    Other,
}

impl Error {
    /// Maps a (positive) errno returned for a request about `subject`.
    pub(crate) fn from_errno(errno: i32, subject: Subject) -> Self {
        match (errno, subject) {
            (libc::ESRCH, _) => Self::ServiceNotFound,
            (libc::EEXIST, _) => Self::AlreadyExists,
            (libc::ENOENT, Subject::Destination) => Self::DestinationNotFound,
            (libc::ENOENT, Subject::Service) => Self::SchedulerNotFound,
            (libc::EINVAL, _) => Self::InvalidArgument,
            (libc::EAFNOSUPPORT | libc::EOPNOTSUPP, _) => Self::NotSupported,
            (libc::EPERM, _) => Self::PermissionDenied,
            (e, _) => Self::Kernel(e),
        }
    }
}
