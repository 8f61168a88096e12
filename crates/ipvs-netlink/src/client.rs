//! [`Client`]: the IPVS operations over one generic netlink socket.

use std::time::Duration;

use crate::consts::{self, cmd};
use crate::error::{DecodeError, Error, Subject};
use crate::nl::MsgBuilder;
use crate::socket::Socket;

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// What `GET_INFO` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Info {
    /// The IPVS version, as `(major, minor, patch)` (e.g. `(1, 2, 1)`).
    pub version: (u8, u8, u8),
    /// The size of the connection hash table.
    pub conn_tab_size: u32,
}

impl Info {
    /// Decodes the attributes of a `GET_INFO` reply.
    pub fn decode(attrs: crate::nl::Attrs<'_>) -> Result<Self, DecodeError> {
        let mut version = None;
        let mut size = None;
        for a in attrs {
            let a = a?;
            match a.ty {
                consts::info::VERSION => version = Some(a.u32()?),
                consts::info::CONN_TAB_SIZE => size = Some(a.u32()?),
                _ => {}
            }
        }
        let v = version.ok_or(DecodeError::MissingAttribute("IPVS_INFO_ATTR_VERSION"))?;
        let [_, major, minor, patch] = v.to_be_bytes();
        Ok(Self {
            version: (major, minor, patch),
            conn_tab_size: size.ok_or(DecodeError::MissingAttribute(
                "IPVS_INFO_ATTR_CONN_TAB_SIZE",
            ))?,
        })
    }
}

impl std::fmt::Display for Info {
    /// Like the first line of `ipvsadm -Ln`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (a, b, c) = self.version;
        write!(
            f,
            "IP Virtual Server version {a}.{b}.{c} (size={})",
            self.conn_tab_size
        )
    }
}

/// A connection to the kernel's IPVS over generic netlink.
///
/// Every request has a timeout ([`Client::set_timeout`], default [`DEFAULT_TIMEOUT`]). IPVS
/// tables are per network namespace: the client talks to the namespace it was opened in.
#[derive(Debug)]
pub struct Client {
    sock: Socket,
    family: u16,
}

impl Client {
    /// Opens a socket and resolves the "IPVS" family; [`Error::ModuleNotLoaded`] when IPVS is
    /// not available.
    pub fn new() -> Result<Self, Error> {
        Self::with_timeout(DEFAULT_TIMEOUT)
    }

    /// Like [`Client::new`] with a given per-request timeout.
    pub fn with_timeout(timeout: Duration) -> Result<Self, Error> {
        let mut sock = Socket::connect(timeout)?;
        let family = sock
            .resolve_family(consts::IPVS_GENL_NAME)?
            .ok_or(Error::ModuleNotLoaded)?;
        Ok(Self { sock, family })
    }

    /// The generic netlink family id of IPVS in this kernel.
    #[must_use]
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Changes the per-request timeout.
    pub fn set_timeout(&mut self, timeout: Duration) {
        self.sock.set_timeout(timeout);
    }

    pub(crate) fn msg(&self, command: u8) -> MsgBuilder {
        MsgBuilder::new(self.family, 0, 0, command, consts::IPVS_GENL_VERSION)
    }

    /// The IPVS version and connection table size (`GET_INFO`).
    pub fn info(&mut self) -> Result<Info, Error> {
        let reply = self
            .sock
            .request(self.msg(cmd::GET_INFO).finish(), false, Subject::Other)?;
        let first = reply
            .iter()
            .next()
            .ok_or(DecodeError::MissingAttribute("GET_INFO reply"))?;
        let (_, attrs) = first?;
        Ok(Info::decode(attrs)?)
    }
}
