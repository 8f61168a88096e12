//! Connection synchronisation daemons (`IPVS_CMD_*_DAEMON`).

use std::net::IpAddr;

use crate::consts::daemon as attr;
use crate::error::DecodeError;
use crate::nl::{Attrs, MsgBuilder};
use crate::types::{Family, decode_addr};

/// The role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SyncState {
    /// Sends connection updates (`IP_VS_STATE_MASTER`, 1).
    Master,
    /// Receives them (`IP_VS_STATE_BACKUP`, 2).
    Backup,
}

impl SyncState {
    /// The kernel's number.
    #[must_use]
    pub fn number(self) -> u32 {
        match self {
            Self::Master => 1,
            Self::Backup => 2,
        }
    }

    fn from_number(n: u32) -> Result<Self, DecodeError> {
        match n {
            1 => Ok(Self::Master),
            2 => Ok(Self::Backup),
            v => Err(DecodeError::UnknownValue {
                what: "sync daemon state",
                value: v.into(),
            }),
        }
    }
}

/// A sync daemon's configuration. Optional fields left `None` take the kernel's defaults when
/// starting (multicast group 224.0.0.81, port 8848, TTL 1, max length from the MTU).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: SyncState,
    /// The multicast interface.
    pub ifname: String,
    /// The sync id (0-255 in practice).
    pub sync_id: u32,
    /// Maximum sync message length.
    pub maxlen: Option<u16>,
    /// Multicast group (IPv4 or IPv6).
    pub group: Option<IpAddr>,
    /// Multicast UDP port.
    pub port: Option<u16>,
    /// Multicast TTL.
    pub ttl: Option<u8>,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for everything optional.
    #[must_use]
    pub fn new(state: SyncState, ifname: &str, sync_id: u32) -> Self {
        Self {
            state,
            ifname: ifname.to_owned(),
            sync_id,
            maxlen: None,
            group: None,
            port: None,
            ttl: None,
        }
    }

    /// Appends the attributes (inside an open `IPVS_CMD_ATTR_DAEMON` nest) for `NEW_DAEMON`.
    pub fn encode(&self, b: &mut MsgBuilder) -> Result<(), crate::Error> {
        if self.ifname.is_empty() || self.ifname.len() > 15 {
            return Err(crate::Error::InvalidRequest(format!(
                "interface name {:?} must be 1 to 15 bytes",
                self.ifname
            )));
        }
        b.u32(attr::STATE, self.state.number());
        b.string(attr::MCAST_IFN, &self.ifname);
        b.u32(attr::SYNC_ID, self.sync_id);
        if let Some(m) = self.maxlen {
            b.u16(attr::SYNC_MAXLEN, m);
        }
        match self.group {
            Some(IpAddr::V4(g)) => {
                b.bytes(attr::MCAST_GROUP, &g.octets());
            }
            Some(IpAddr::V6(g)) => {
                b.bytes(attr::MCAST_GROUP6, &g.octets());
            }
            None => {}
        }
        if let Some(p) = self.port {
            b.u16(attr::MCAST_PORT, p);
        }
        if let Some(t) = self.ttl {
            b.u8(attr::MCAST_TTL, t);
        }
        Ok(())
    }

    /// Decodes an `IPVS_CMD_ATTR_DAEMON` nest.
    pub fn decode(attrs: Attrs<'_>) -> Result<Self, DecodeError> {
        let mut d = Self::new(SyncState::Master, "", 0);
        let mut state = None;
        for a in attrs {
            let a = a?;
            match a.ty {
                attr::STATE => state = Some(SyncState::from_number(a.u32()?)?),
                attr::MCAST_IFN => d.ifname = a.string()?,
                attr::SYNC_ID => d.sync_id = a.u32()?,
                attr::SYNC_MAXLEN => d.maxlen = Some(a.u16()?),
                attr::MCAST_GROUP => d.group = Some(decode_addr(Family::Inet, a.payload)?),
                attr::MCAST_GROUP6 => d.group = Some(decode_addr(Family::Inet6, a.payload)?),
                attr::MCAST_PORT => d.port = Some(a.u16()?),
                attr::MCAST_TTL => d.ttl = Some(a.u8()?),
                _ => {}
            }
        }
        d.state = state.ok_or(DecodeError::MissingAttribute("IPVS_DAEMON_ATTR_STATE"))?;
        Ok(d)
    }
}
