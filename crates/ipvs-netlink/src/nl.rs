//! Netlink and generic netlink framing, and the attribute (TLV) codec.
//!
//! Pure byte handling, no I/O: requests are built into a `Vec<u8>` and replies are parsed from
//! `&[u8]`, so both are checked byte for byte in tests. Layouts (all host byte order):
//!
//! - `nlmsghdr`: `len: u32, type: u16, flags: u16, seq: u32, pid: u32` (16 bytes);
//! - `genlmsghdr`: `cmd: u8, version: u8, reserved: u16` (4 bytes);
//! - `nlattr`: `len: u16, type: u16` then the payload, padded to 4 bytes; bit 15 of the type is
//!   `NLA_F_NESTED`, bit 14 `NLA_F_NET_BYTEORDER`.

use crate::error::DecodeError;

/// `NLMSG_ERROR`: an error or an acknowledgement.
pub const NLMSG_ERROR: u16 = 2;
/// `NLMSG_DONE`: the end of a dump.
pub const NLMSG_DONE: u16 = 3;
/// `GENL_ID_CTRL`: the generic netlink controller family.
pub const GENL_ID_CTRL: u16 = 0x10;

/// `NLM_F_REQUEST`.
pub const NLM_F_REQUEST: u16 = 0x1;
/// `NLM_F_MULTI`: part of a multi-part (dump) reply.
pub const NLM_F_MULTI: u16 = 0x2;
/// `NLM_F_ACK`: ask for an acknowledgement.
pub const NLM_F_ACK: u16 = 0x4;
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub const NLM_F_DUMP: u16 = 0x300;

/// `CTRL_CMD_GETFAMILY`.
pub const CTRL_CMD_GETFAMILY: u8 = 3;
/// `CTRL_ATTR_FAMILY_ID` (u16).
pub const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// `CTRL_ATTR_FAMILY_NAME` (NUL-terminated string).
pub const CTRL_ATTR_FAMILY_NAME: u16 = 2;

/// `NLA_F_NESTED`.
pub const NLA_F_NESTED: u16 = 1 << 15;
/// Mask of the attribute type bits (without `NLA_F_NESTED` and `NLA_F_NET_BYTEORDER`).
pub const NLA_TYPE_MASK: u16 = !(NLA_F_NESTED | (1 << 14));

/// Length of `struct nlmsghdr`.
pub const NLMSG_HDRLEN: usize = 16;
/// Length of `struct genlmsghdr`.
pub const GENL_HDRLEN: usize = 4;

const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Builds one netlink message holding a generic netlink header and attributes.
///
/// The length fields (message and nested attributes) are filled in when the message or the nest
/// is finished.
#[derive(Debug, Clone)]
pub struct MsgBuilder {
    buf: Vec<u8>,
    nests: Vec<usize>,
}

impl MsgBuilder {
    /// Starts a message of netlink type `nl_type` (the family id) with generic netlink command
    /// `cmd` and version `version`. `seq` and `pid` go into the netlink header as given.
    #[must_use]
    pub fn new(nl_type: u16, flags: u16, seq: u32, cmd: u8, version: u8) -> Self {
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&nl_type.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&[cmd, version, 0, 0]);
        Self {
            buf,
            nests: Vec::new(),
        }
    }

    /// Appends an attribute with a raw payload.
    pub fn bytes(&mut self, ty: u16, payload: &[u8]) -> &mut Self {
        let len = 4 + payload.len();
        // Attribute payloads here are at most a few dozen bytes; saturate rather than wrap.
        let len16 = u16::try_from(len).unwrap_or(u16::MAX);
        self.buf.extend_from_slice(&len16.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.pad();
        self
    }

    /// Appends a u8 attribute.
    pub fn u8(&mut self, ty: u16, v: u8) -> &mut Self {
        self.bytes(ty, &[v])
    }

    /// Appends a host-order u16 attribute.
    pub fn u16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.bytes(ty, &v.to_ne_bytes())
    }

    /// Appends a big-endian u16 attribute (ports).
    pub fn be16(&mut self, ty: u16, v: u16) -> &mut Self {
        self.bytes(ty, &v.to_be_bytes())
    }

    /// Appends a host-order u32 attribute.
    pub fn u32(&mut self, ty: u16, v: u32) -> &mut Self {
        self.bytes(ty, &v.to_ne_bytes())
    }

    /// Appends a NUL-terminated string attribute.
    pub fn string(&mut self, ty: u16, s: &str) -> &mut Self {
        let mut v = Vec::with_capacity(s.len() + 1);
        v.extend_from_slice(s.as_bytes());
        v.push(0);
        self.bytes(ty, &v)
    }

    /// Opens a nested attribute (with `NLA_F_NESTED`); close it with [`MsgBuilder::end_nest`].
    pub fn begin_nest(&mut self, ty: u16) -> &mut Self {
        self.nests.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        self
    }

    /// Closes the innermost open nested attribute.
    pub fn end_nest(&mut self) -> &mut Self {
        if let Some(start) = self.nests.pop() {
            let len = u16::try_from(self.buf.len() - start).unwrap_or(u16::MAX);
            self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        }
        self
    }

    fn pad(&mut self) {
        let padded = align4(self.buf.len());
        self.buf.resize(padded, 0);
    }

    /// Finishes the message (closing any open nest) and returns its bytes.
    #[must_use]
    pub fn finish(mut self) -> Vec<u8> {
        while !self.nests.is_empty() {
            self.end_nest();
        }
        let len = u32::try_from(self.buf.len()).unwrap_or(u32::MAX);
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf
    }
}

/// Sets the sequence number of a message built by [`MsgBuilder`] (bytes 8..12).
pub fn set_seq(msg: &mut [u8], seq: u32) {
    if let Some(s) = msg.get_mut(8..12) {
        s.copy_from_slice(&seq.to_ne_bytes());
    }
}

/// One netlink message parsed from a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NlMsg<'a> {
    /// `nlmsg_type`.
    pub ty: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub pid: u32,
    /// Everything after the 16-byte header.
    pub payload: &'a [u8],
}

impl<'a> NlMsg<'a> {
    /// For an `NLMSG_ERROR` message: the error code (0 = acknowledgement, else a negative errno).
    pub fn error_code(&self) -> Result<i32, DecodeError> {
        let b = self
            .payload
            .get(0..4)
            .ok_or(DecodeError::Truncated("nlmsgerr"))?;
        Ok(i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// For a generic netlink message: `(cmd, version, attributes)`.
    pub fn genl(&self) -> Result<(u8, u8, Attrs<'a>), DecodeError> {
        let h = self
            .payload
            .get(0..GENL_HDRLEN)
            .ok_or(DecodeError::Truncated("genlmsghdr"))?;
        Ok((h[0], h[1], Attrs::new(&self.payload[GENL_HDRLEN..])))
    }
}

/// Iterates over the netlink messages in one received datagram.
#[derive(Debug, Clone)]
pub struct NlMsgs<'a> {
    rest: &'a [u8],
}

impl<'a> NlMsgs<'a> {
    /// Parses the messages of `datagram`.
    #[must_use]
    pub fn new(datagram: &'a [u8]) -> Self {
        Self { rest: datagram }
    }
}

impl<'a> Iterator for NlMsgs<'a> {
    type Item = Result<NlMsg<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(h) = self.rest.get(0..NLMSG_HDRLEN) else {
            self.rest = &[];
            return Some(Err(DecodeError::Truncated("nlmsghdr")));
        };
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < NLMSG_HDRLEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(DecodeError::BadLength("nlmsghdr")));
        }
        let msg = NlMsg {
            ty: u16::from_ne_bytes([h[4], h[5]]),
            flags: u16::from_ne_bytes([h[6], h[7]]),
            seq: u32::from_ne_bytes([h[8], h[9], h[10], h[11]]),
            pid: u32::from_ne_bytes([h[12], h[13], h[14], h[15]]),
            payload: &self.rest[NLMSG_HDRLEN..len],
        };
        self.rest = self.rest.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(msg))
    }
}

/// One attribute: its type (flags masked off) and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The attribute type, without `NLA_F_NESTED` / `NLA_F_NET_BYTEORDER`.
    pub ty: u16,
    /// The payload (without padding).
    pub payload: &'a [u8],
}

impl<'a> Attr<'a> {
    /// The payload as a u8.
    pub fn u8(&self) -> Result<u8, DecodeError> {
        match self.payload {
            [a] => Ok(*a),
            _ => Err(DecodeError::BadAttribute {
                ty: self.ty,
                what: "u8",
            }),
        }
    }

    /// The payload as a host-order u16.
    pub fn u16(&self) -> Result<u16, DecodeError> {
        match self.payload {
            [a, b] => Ok(u16::from_ne_bytes([*a, *b])),
            _ => Err(DecodeError::BadAttribute {
                ty: self.ty,
                what: "u16",
            }),
        }
    }

    /// The payload as a big-endian u16.
    pub fn be16(&self) -> Result<u16, DecodeError> {
        match self.payload {
            [a, b] => Ok(u16::from_be_bytes([*a, *b])),
            _ => Err(DecodeError::BadAttribute {
                ty: self.ty,
                what: "be16",
            }),
        }
    }

    /// The payload as a host-order u32.
    pub fn u32(&self) -> Result<u32, DecodeError> {
        match self.payload {
            [a, b, c, d] => Ok(u32::from_ne_bytes([*a, *b, *c, *d])),
            _ => Err(DecodeError::BadAttribute {
                ty: self.ty,
                what: "u32",
            }),
        }
    }

    /// The payload as a host-order u64.
    pub fn u64(&self) -> Result<u64, DecodeError> {
        let b: [u8; 8] = self
            .payload
            .try_into()
            .map_err(|_| DecodeError::BadAttribute {
                ty: self.ty,
                what: "u64",
            })?;
        Ok(u64::from_ne_bytes(b))
    }

    /// The payload as a NUL-terminated (or unterminated) UTF-8 string.
    pub fn string(&self) -> Result<String, DecodeError> {
        let bytes = self.payload.split(|b| *b == 0).next().unwrap_or(&[]);
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError::BadAttribute {
            ty: self.ty,
            what: "string",
        })
    }

    /// The payload as nested attributes.
    #[must_use]
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.payload)
    }
}

/// Iterates over a run of attributes.
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    /// Parses the attributes in `buf`.
    #[must_use]
    pub fn new(buf: &'a [u8]) -> Self {
        Self { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(h) = self.rest.get(0..4) else {
            self.rest = &[];
            return Some(Err(DecodeError::Truncated("nlattr")));
        };
        let len = usize::from(u16::from_ne_bytes([h[0], h[1]]));
        let ty = u16::from_ne_bytes([h[2], h[3]]) & NLA_TYPE_MASK;
        if len < 4 || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(DecodeError::BadLength("nlattr")));
        }
        let attr = Attr {
            ty,
            payload: &self.rest[4..len],
        };
        self.rest = self.rest.get(align4(len)..).unwrap_or(&[]);
        Some(Ok(attr))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_pads_attributes_and_fills_lengths() {
        let mut b = MsgBuilder::new(0x1a, NLM_F_REQUEST | NLM_F_ACK, 7, 1, 1);
        b.begin_nest(1).u16(1, 2).string(6, "rr").end_nest();
        let bytes = b.finish();
        let mut expected = Vec::new();
        expected.extend_from_slice(&40u32.to_ne_bytes()); // 16 + 4 + 20
        expected.extend_from_slice(&0x1au16.to_ne_bytes());
        expected.extend_from_slice(&5u16.to_ne_bytes());
        expected.extend_from_slice(&7u32.to_ne_bytes());
        expected.extend_from_slice(&0u32.to_ne_bytes());
        expected.extend_from_slice(&[1, 1, 0, 0]);
        expected.extend_from_slice(&20u16.to_ne_bytes());
        expected.extend_from_slice(&(1 | NLA_F_NESTED).to_ne_bytes());
        expected.extend_from_slice(&6u16.to_ne_bytes());
        expected.extend_from_slice(&1u16.to_ne_bytes());
        expected.extend_from_slice(&2u16.to_ne_bytes());
        expected.extend_from_slice(&[0, 0]);
        expected.extend_from_slice(&7u16.to_ne_bytes());
        expected.extend_from_slice(&6u16.to_ne_bytes());
        expected.extend_from_slice(b"rr\0\0");
        assert_eq!(bytes, expected);
    }

    #[test]
    fn parser_round_trips_builder_output() {
        let mut b = MsgBuilder::new(0x1a, NLM_F_REQUEST, 9, 4, 1);
        b.begin_nest(1)
            .be16(4, 80)
            .u32(8, 300)
            .end_nest()
            .u32(4, 900);
        let bytes = b.finish();
        let msgs: Vec<_> = NlMsgs::new(&bytes)
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(msgs.len(), 1);
        let (cmd, ver, attrs) = msgs[0].genl().unwrap_or((0, 0, Attrs::new(&[])));
        assert_eq!((cmd, ver, msgs[0].seq), (4, 1, 9));
        let attrs: Vec<_> = attrs.collect::<Result<_, _>>().unwrap_or_default();
        assert_eq!(attrs.len(), 2);
        assert_eq!(attrs[1].u32(), Ok(900));
        let inner: Vec<_> = attrs[0]
            .nested()
            .collect::<Result<_, _>>()
            .unwrap_or_default();
        assert_eq!(inner[0].be16(), Ok(80));
        assert_eq!(inner[1].u32(), Ok(300));
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        let mut b = MsgBuilder::new(0x1a, 0, 1, 4, 1);
        b.u32(4, 1);
        let bytes = b.finish();
        for cut in 0..bytes.len() {
            for m in NlMsgs::new(&bytes[..cut]).flatten() {
                if let Ok((_, _, attrs)) = m.genl() {
                    attrs.for_each(drop);
                }
            }
        }
        assert!(NlMsgs::new(&bytes[..10]).next().is_some_and(|r| r.is_err()));
        assert!(Attrs::new(&[8, 0, 1, 0]).next().is_some_and(|r| r.is_err()));
    }
}
