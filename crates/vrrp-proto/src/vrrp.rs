//! VRRP advertisements (RFC 3768 §5, RFC 9568 §5): the borrowed [`Packet`] view, the checked
//! [`AdvertView`], and the owned [`Advertisement`] with its encoder.
//!
//! ```text
//!  VRRPv2 (RFC 3768)                         VRRPv3 (RFC 9568)
//!  0       4       8              16              24              32
//!  |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//!  v2:  |   Auth Type   |   Adver Int   |          Checksum             |
//!  v3:  | rsvd  |     Max Adver Int     |          Checksum             |
//!  |                     IPvX address(es) ...                          |
//!  v2:  |          Authentication Data (8 bytes)                       |
//! ```
//!
//! Decoding allocates nothing: [`Packet`] and [`AdvertView`] borrow the buffer; only
//! [`AdvertView::to_advertisement`] allocates the address list.

use crate::checksum::{self, ChecksumMode, RxChecksum};
use crate::error::Error;
use crate::units::{AddressFamily, AdvertInterval, Priority, UnitError, Version, Vrid};
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Length of the fixed VRRP header.
pub const HEADER_LEN: usize = 8;
/// Length of the VRRPv2 authentication data.
pub const AUTH_DATA_LEN: usize = 8;
/// The only VRRP packet type, Advertisement.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// The largest VRRP message: VRRPv3 over IPv6 with 255 addresses.
pub const MAX_MESSAGE_LEN: usize = HEADER_LEN + 255 * 16;

/// VRRPv2 authentication (RFC 3768 §5.3.6). VRRPv3 has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Auth {
    /// Type 0: no authentication.
    #[default]
    None,
    /// Type 1: a plain-text password of up to 8 bytes, zero padded on the wire.
    SimplePassword([u8; 8]),
    /// Type 2: IP Authentication Header, recognised but not supported.
    Ah,
}

impl Auth {
    /// A simple-text password from the configured string: the first 8 bytes, zero padded, as
    /// keepalived truncates longer passwords.
    pub fn simple_password(password: &[u8]) -> Auth {
        let mut data = [0u8; 8];
        for (d, s) in data.iter_mut().zip(password) {
            *d = *s;
        }
        Auth::SimplePassword(data)
    }

    /// The authentication type number carried on the wire (0, 1 or 2).
    pub const fn type_number(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::SimplePassword(_) => 1,
            Auth::Ah => 2,
        }
    }

    /// Checks a received VRRPv2 authentication against this configured one (RFC 3768 §7.1).
    ///
    /// Passwords are compared in constant time.
    pub fn verify(&self, received: &Auth) -> Result<(), Error> {
        use subtle::ConstantTimeEq;
        match (self, received) {
            (Auth::None, Auth::None) => Ok(()),
            (Auth::SimplePassword(ours), Auth::SimplePassword(theirs)) => {
                if bool::from(ours.ct_eq(theirs)) {
                    Ok(())
                } else {
                    Err(Error::AuthMismatch)
                }
            }
            (Auth::Ah, _) | (_, Auth::Ah) => Err(Error::AuthUnsupported),
            (ours, theirs) => Err(Error::AuthTypeMismatch {
                expected: ours.type_number(),
                got: theirs.type_number(),
            }),
        }
    }
}

/// The bytes one address of a family takes on the wire.
pub const fn address_len(family: AddressFamily) -> usize {
    match family {
        AddressFamily::Ipv4 => 4,
        AddressFamily::Ipv6 => 16,
    }
}

/// The length of a VRRP message of this version and family carrying `count` addresses.
pub const fn message_len(version: Version, family: AddressFamily, count: usize) -> usize {
    let auth = match version {
        Version::V2 => AUTH_DATA_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + count * address_len(family) + auth
}

/// The family of an address.
pub const fn family_of(addr: &IpAddr) -> AddressFamily {
    match addr {
        IpAddr::V4(_) => AddressFamily::Ipv4,
        IpAddr::V6(_) => AddressFamily::Ipv6,
    }
}

/// A read/write view of a VRRP message in a buffer, in the style of smoltcp's `wire` module.
///
/// [`Packet::new_checked`] checks the version and that the length matches the address count;
/// after that no accessor can panic. The accessors never panic in any case: on a buffer that
/// was not checked they read missing bytes as zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    family: AddressFamily,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub const fn new_unchecked(buffer: T, family: AddressFamily) -> Packet<T> {
        Packet { buffer, family }
    }

    /// Wraps a buffer and checks it with [`Packet::check_len`].
    pub fn new_checked(buffer: T, family: AddressFamily) -> Result<Packet<T>, Error> {
        let packet = Packet::new_unchecked(buffer, family);
        packet.check_len()?;
        Ok(packet)
    }

    /// Checks the version (2 or 3; 2 only over IPv4) and that the buffer holds exactly the
    /// fixed header, `count` addresses and, for VRRPv2, the authentication data.
    pub fn check_len(&self) -> Result<(), Error> {
        let got = self.buffer.as_ref().len();
        if got < HEADER_LEN {
            return Err(Error::Truncated {
                needed: HEADER_LEN,
                got,
            });
        }
        let version = self.version()?;
        if version == Version::V2 && self.family == AddressFamily::Ipv6 {
            return Err(Error::BadVersion { version: 2 });
        }
        let count = self.count();
        let expected = message_len(version, self.family, usize::from(count));
        if got < expected {
            return Err(Error::Truncated {
                needed: expected,
                got,
            });
        }
        if got != expected {
            return Err(Error::LengthMismatch {
                count,
                expected,
                got,
            });
        }
        Ok(())
    }

    /// The wrapped buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The address family the view was created for.
    pub const fn family(&self) -> AddressFamily {
        self.family
    }

    fn byte(&self, i: usize) -> u8 {
        self.buffer.as_ref().get(i).copied().unwrap_or(0)
    }

    /// The 4-bit version field.
    pub fn version_number(&self) -> u8 {
        self.byte(0) >> 4
    }

    /// The version, or [`Error::BadVersion`].
    pub fn version(&self) -> Result<Version, Error> {
        let n = self.version_number();
        Version::from_number(n).map_err(|_| Error::BadVersion { version: n })
    }

    /// The 4-bit type field (1 = Advertisement).
    pub fn packet_type(&self) -> u8 {
        self.byte(0) & 0x0f
    }

    /// The virtual router identifier field.
    pub fn vrid(&self) -> u8 {
        self.byte(1)
    }

    /// The priority field.
    pub fn priority(&self) -> u8 {
        self.byte(2)
    }

    /// The "Count IPvX Addrs" field.
    pub fn count(&self) -> u8 {
        self.byte(3)
    }

    /// VRRPv2: the authentication type field (byte 4).
    pub fn auth_type(&self) -> u8 {
        self.byte(4)
    }

    /// The advertisement interval field: whole seconds for VRRPv2 (8 bits), centiseconds for
    /// VRRPv3 (the low 12 bits).
    pub fn interval_field(&self) -> u16 {
        if self.version_number() == 2 {
            u16::from(self.byte(5))
        } else {
            u16::from_be_bytes([self.byte(4), self.byte(5)]) & 0x0fff
        }
    }

    /// VRRPv3: the 4 reserved bits (sent as zero, ignored on receive).
    pub fn reserved(&self) -> u8 {
        self.byte(4) >> 4
    }

    /// The checksum field, in host order.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.byte(6), self.byte(7)])
    }

    /// The raw address list: `count` addresses of the view's family.
    pub fn address_bytes(&self) -> &[u8] {
        let len = usize::from(self.count()) * address_len(self.family);
        self.buffer
            .as_ref()
            .get(HEADER_LEN..HEADER_LEN + len)
            .unwrap_or(&[])
    }

    /// VRRPv2: the 8 authentication data bytes after the addresses.
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        let start = HEADER_LEN + usize::from(self.count()) * address_len(self.family);
        let mut out = [0u8; AUTH_DATA_LEN];
        if let Some(src) = self.buffer.as_ref().get(start..start + AUTH_DATA_LEN) {
            out.copy_from_slice(src);
        }
        out
    }

    /// Verifies the checksum for a packet from `src` to `dst` and reports which mode matched
    /// (see [`crate::checksum`]).
    pub fn verify_checksum(
        &self,
        src: IpAddr,
        dst: IpAddr,
        rx: RxChecksum,
    ) -> Result<ChecksumMode, Error> {
        let version = self.version()?;
        if checksum::family_of(src, dst)? != self.family {
            return Err(Error::FamilyMismatch);
        }
        checksum::verify(version, self.buffer.as_ref(), src, dst, rx)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_byte(&mut self, i: usize, v: u8) {
        if let Some(b) = self.buffer.as_mut().get_mut(i) {
            *b = v;
        }
    }

    /// Sets the version and type nibbles.
    pub fn set_version_and_type(&mut self, version: Version, packet_type: u8) {
        self.set_byte(0, (version.number() << 4) | (packet_type & 0x0f));
    }

    /// Sets the virtual router identifier.
    pub fn set_vrid(&mut self, vrid: Vrid) {
        self.set_byte(1, vrid.get());
    }

    /// Sets the priority.
    pub fn set_priority(&mut self, priority: Priority) {
        self.set_byte(2, priority.get());
    }

    /// Sets the "Count IPvX Addrs" field.
    pub fn set_count(&mut self, count: u8) {
        self.set_byte(3, count);
    }

    /// Sets the interval field for the packet's version (VRRPv2: whole seconds, rounded;
    /// VRRPv3: centiseconds, with the reserved bits cleared). Set the version first.
    pub fn set_interval(&mut self, interval: AdvertInterval) -> Result<(), Error> {
        if self.version_number() == 2 {
            self.set_byte(5, interval.secs_v2());
        } else {
            let cs = interval.centis();
            if cs > 4095 {
                return Err(Error::Unit(UnitError::IntervalV3(u32::from(cs))));
            }
            let [hi, lo] = cs.to_be_bytes();
            self.set_byte(4, hi);
            self.set_byte(5, lo);
        }
        Ok(())
    }

    /// Sets the checksum field.
    pub fn set_checksum(&mut self, value: u16) {
        let [a, b] = value.to_be_bytes();
        self.set_byte(6, a);
        self.set_byte(7, b);
    }

    /// Computes and writes the checksum for a packet from `src` to `dst`.
    pub fn fill_checksum(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<(), Error> {
        let version = self.version()?;
        if checksum::family_of(src, dst)? != self.family {
            return Err(Error::FamilyMismatch);
        }
        let value = checksum::compute(version, self.buffer.as_ref(), src, dst, mode)?;
        self.set_checksum(value);
        Ok(())
    }
}

impl<'a> Packet<&'a [u8]> {
    /// Checks the fields (type, VRID, interval, authentication type) and returns the typed
    /// view. The length must have been checked ([`Packet::new_checked`]); the checksum is not
    /// looked at.
    pub fn advert(&self) -> Result<AdvertView<'a>, Error> {
        self.check_len()?;
        let version = self.version()?;
        let kind = self.packet_type();
        if kind != TYPE_ADVERTISEMENT {
            return Err(Error::BadType(kind));
        }
        let vrid = Vrid::new(self.vrid()).map_err(|_| Error::BadVrid)?;
        let interval = match version {
            Version::V2 => u8::try_from(self.interval_field())
                .ok()
                .and_then(|s| AdvertInterval::from_secs(s).ok()),
            Version::V3 => AdvertInterval::from_centis(self.interval_field()).ok(),
        }
        .ok_or(Error::BadInterval)?;
        let auth = match version {
            Version::V3 => Auth::None,
            Version::V2 => match self.auth_type() {
                0 => Auth::None,
                1 => Auth::SimplePassword(self.auth_data()),
                2 => return Err(Error::AuthUnsupported),
                other => return Err(Error::BadAuthType(other)),
            },
        };
        let bytes: &'a [u8] = self.buffer;
        let len = usize::from(self.count()) * address_len(self.family);
        let addresses = bytes.get(HEADER_LEN..HEADER_LEN + len).unwrap_or(&[]);
        Ok(AdvertView {
            version,
            vrid,
            priority: Priority(self.priority()),
            interval,
            auth,
            family: self.family,
            checksum: self.checksum(),
            addresses,
        })
    }
}

/// A checked, typed, borrowed advertisement: what a receiver needs, without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertView<'a> {
    /// Protocol version.
    pub version: Version,
    /// Virtual router identifier.
    pub vrid: Vrid,
    /// The sender's priority.
    pub priority: Priority,
    /// The sender's advertisement interval.
    pub interval: AdvertInterval,
    /// VRRPv2 authentication; [`Auth::None`] for VRRPv3.
    pub auth: Auth,
    /// The family of the addresses.
    pub family: AddressFamily,
    /// The checksum field as received.
    pub checksum: u16,
    addresses: &'a [u8],
}

impl<'a> AdvertView<'a> {
    /// Parses and checks a VRRP message (structure and fields, not the checksum: use
    /// [`Packet::verify_checksum`] or the IP-level decoders in [`crate::ip`] for that).
    pub fn parse(bytes: &'a [u8], family: AddressFamily) -> Result<AdvertView<'a>, Error> {
        Packet::new_checked(bytes, family)?.advert()
    }

    /// The number of addresses.
    pub fn count(&self) -> usize {
        self.addresses.len() / address_len(self.family)
    }

    /// The virtual addresses, in wire order.
    pub fn addresses(&self) -> Addresses<'a> {
        Addresses {
            bytes: self.addresses,
            family: self.family,
        }
    }

    /// Whether the address list equals `configured`, in order (the RFC 9568 §7.1 MAY check),
    /// without allocating.
    pub fn addresses_equal(&self, configured: &[IpAddr]) -> bool {
        self.count() == configured.len() && self.addresses().zip(configured).all(|(a, b)| a == *b)
    }

    /// The owned advertisement (allocates the address list).
    pub fn to_advertisement(&self) -> Advertisement {
        Advertisement {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            interval: self.interval,
            auth: self.auth,
            addresses: self.addresses().collect(),
        }
    }
}

impl From<&AdvertView<'_>> for Advertisement {
    fn from(view: &AdvertView<'_>) -> Advertisement {
        view.to_advertisement()
    }
}

/// Iterator over the addresses of an [`AdvertView`].
#[derive(Debug, Clone)]
pub struct Addresses<'a> {
    bytes: &'a [u8],
    family: AddressFamily,
}

impl Iterator for Addresses<'_> {
    type Item = IpAddr;

    fn next(&mut self) -> Option<IpAddr> {
        match self.family {
            AddressFamily::Ipv4 => {
                let (head, rest) = self.bytes.split_first_chunk::<4>()?;
                self.bytes = rest;
                Some(IpAddr::V4(Ipv4Addr::from(*head)))
            }
            AddressFamily::Ipv6 => {
                let (head, rest) = self.bytes.split_first_chunk::<16>()?;
                self.bytes = rest;
                Some(IpAddr::V6(Ipv6Addr::from(*head)))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.bytes.len() / address_len(self.family);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Addresses<'_> {}

/// An owned VRRP advertisement (type 1), version-independent.
///
/// For VRRPv2 the interval is whole seconds on the wire; it is held here in centiseconds like
/// VRRPv3's, see [`AdvertInterval`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Advertisement {
    /// Protocol version.
    pub version: Version,
    /// Virtual router identifier.
    pub vrid: Vrid,
    /// The sender's priority (0 = stopping, 255 = owner).
    pub priority: Priority,
    /// The sender's advertisement interval (VRRPv3: Max Advertise Interval).
    pub interval: AdvertInterval,
    /// VRRPv2 authentication; always [`Auth::None`] for VRRPv3.
    pub auth: Auth,
    /// The virtual addresses carried, all of one family.
    pub addresses: Vec<IpAddr>,
}

impl Advertisement {
    /// Starts a builder with priority 100, interval 1 s, no authentication and no addresses.
    pub fn builder(version: Version, vrid: Vrid) -> AdvertisementBuilder {
        AdvertisementBuilder {
            advert: Advertisement {
                version,
                vrid,
                priority: Priority::DEFAULT,
                interval: AdvertInterval::ONE_SECOND,
                auth: Auth::None,
                addresses: Vec::new(),
            },
        }
    }

    /// Parses a VRRP message (structure and fields, not the checksum) into an owned value.
    pub fn parse(bytes: &[u8], family: AddressFamily) -> Result<Advertisement, Error> {
        AdvertView::parse(bytes, family).map(|v| v.to_advertisement())
    }

    /// The family of the first address, if there is one.
    pub fn family(&self) -> Option<AddressFamily> {
        self.addresses.first().map(family_of)
    }

    /// The encoded length of this advertisement for a family.
    pub fn buffer_len(&self, family: AddressFamily) -> usize {
        message_len(self.version, family, self.addresses.len())
    }

    /// Encodes the message for a packet from `src` to `dst` into `buf` and returns its length.
    ///
    /// The family is that of `src` and `dst`; every address must be of it, and VRRPv2 is IPv4
    /// only. `mode` matters for VRRPv3 over IPv4 only (see [`crate::checksum`]). VRRPv3 has no
    /// authentication: `auth` is not encoded for it (keepalived ignores a configured one too).
    /// A VRRPv2 interval is sent in whole seconds, rounded ([`AdvertInterval::secs_v2`]).
    pub fn emit(
        &self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        let family = checksum::family_of(src, dst)?;
        let len = self.emit_fields(family, buf)?;
        let msg = buf.get_mut(..len).ok_or(Error::BufferTooSmall {
            needed: len,
            got: 0,
        })?;
        let value = checksum::compute(self.version, msg, src, dst, mode)?;
        Packet::new_unchecked(msg, family).set_checksum(value);
        Ok(len)
    }

    /// Encodes the message with a zero checksum field, for a socket that computes it (Linux
    /// `IPV6_CHECKSUM` for VRRPv3 over IPv6).
    pub fn emit_without_checksum(
        &self,
        family: AddressFamily,
        buf: &mut [u8],
    ) -> Result<usize, Error> {
        self.emit_fields(family, buf)
    }

    fn emit_fields(&self, family: AddressFamily, buf: &mut [u8]) -> Result<usize, Error> {
        let count = self.addresses.len();
        let count_u8 = u8::try_from(count).map_err(|_| Error::TooManyAddresses(count))?;
        if self.version == Version::V2 && family == AddressFamily::Ipv6 {
            return Err(Error::FamilyMismatch);
        }
        let len = message_len(self.version, family, count);
        let got = buf.len();
        let out = buf
            .get_mut(..len)
            .ok_or(Error::BufferTooSmall { needed: len, got })?;
        let (header, rest) = out
            .split_first_chunk_mut::<HEADER_LEN>()
            .ok_or(Error::BufferTooSmall { needed: len, got })?;
        let (b4, b5) = match self.version {
            Version::V2 => {
                let auth_type = match self.auth {
                    Auth::Ah => return Err(Error::AuthUnsupported),
                    a => a.type_number(),
                };
                (auth_type, self.interval.secs_v2())
            }
            Version::V3 => {
                let cs = self.interval.centis();
                if cs == 0 || cs > 4095 {
                    return Err(Error::Unit(UnitError::IntervalV3(u32::from(cs))));
                }
                let [hi, lo] = cs.to_be_bytes();
                (hi, lo)
            }
        };
        *header = [
            (self.version.number() << 4) | TYPE_ADVERTISEMENT,
            self.vrid.get(),
            self.priority.get(),
            count_u8,
            b4,
            b5,
            0,
            0,
        ];
        let mut chunks = rest;
        for addr in &self.addresses {
            chunks = match (addr, family) {
                (IpAddr::V4(a), AddressFamily::Ipv4) => {
                    let (c, r) = chunks
                        .split_first_chunk_mut::<4>()
                        .ok_or(Error::BufferTooSmall { needed: len, got })?;
                    *c = a.octets();
                    r
                }
                (IpAddr::V6(a), AddressFamily::Ipv6) => {
                    let (c, r) = chunks
                        .split_first_chunk_mut::<16>()
                        .ok_or(Error::BufferTooSmall { needed: len, got })?;
                    *c = a.octets();
                    r
                }
                _ => return Err(Error::FamilyMismatch),
            };
        }
        if self.version == Version::V2 {
            let data = match self.auth {
                Auth::SimplePassword(p) => p,
                _ => [0u8; AUTH_DATA_LEN],
            };
            let (c, _) = chunks
                .split_first_chunk_mut::<AUTH_DATA_LEN>()
                .ok_or(Error::BufferTooSmall { needed: len, got })?;
            *c = data;
        }
        Ok(len)
    }
}

/// Builds an [`Advertisement`]; see [`Advertisement::builder`].
#[derive(Debug, Clone)]
pub struct AdvertisementBuilder {
    advert: Advertisement,
}

impl AdvertisementBuilder {
    /// Sets the priority.
    pub fn priority(mut self, priority: Priority) -> Self {
        self.advert.priority = priority;
        self
    }

    /// Sets the advertisement interval.
    pub fn interval(mut self, interval: AdvertInterval) -> Self {
        self.advert.interval = interval;
        self
    }

    /// Sets the VRRPv2 authentication.
    pub fn auth(mut self, auth: Auth) -> Self {
        self.advert.auth = auth;
        self
    }

    /// Adds one virtual address.
    pub fn address(mut self, addr: impl Into<IpAddr>) -> Self {
        self.advert.addresses.push(addr.into());
        self
    }

    /// Adds virtual addresses.
    pub fn addresses<I: IntoIterator<Item = A>, A: Into<IpAddr>>(mut self, addrs: I) -> Self {
        self.advert
            .addresses
            .extend(addrs.into_iter().map(Into::into));
        self
    }

    /// The advertisement.
    pub fn build(self) -> Advertisement {
        self.advert
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checksum::VRRP_MULTICAST_V4;

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn v2_with_password_round_trips() {
        let adv = Advertisement::builder(Version::V2, Vrid::new(51).unwrap())
            .priority(Priority(150))
            .auth(Auth::simple_password(b"s3cret"))
            .address(Ipv4Addr::new(192, 0, 2, 100))
            .build();
        let mut buf = [0u8; 64];
        let src = v4(192, 0, 2, 1);
        let dst = IpAddr::V4(VRRP_MULTICAST_V4);
        let n = adv
            .emit(src, dst, ChecksumMode::default(), &mut buf)
            .unwrap();
        // decode-v2-ipv4-authpass.pcap: checksum 0x494b.
        assert_eq!(
            &buf[..n],
            &[
                0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x49, 0x4b, 192, 0, 2, 100, b's', b'3', b'c',
                b'r', b'e', b't', 0, 0
            ]
        );
        let p = Packet::new_checked(&buf[..n], AddressFamily::Ipv4).unwrap();
        assert_eq!(
            p.verify_checksum(src, dst, RxChecksum::default()),
            Ok(ChecksumMode::MessageOnly)
        );
        assert_eq!(p.advert().unwrap().to_advertisement(), adv);
    }

    #[test]
    fn setters_rewrite_a_packet_in_place() {
        // decode-v3-ipv4.pcap's advert, turned into a priority-0 stop at 100 ms for VRID 7.
        let mut msg = [
            0x31u8, 0x33, 0x96, 0x01, 0x00, 0x64, 0xd3, 0x71, 192, 0, 2, 100,
        ];
        let src = v4(192, 0, 2, 1);
        let dst = IpAddr::V4(VRRP_MULTICAST_V4);
        let mut p = Packet::new_checked(&mut msg[..], AddressFamily::Ipv4).unwrap();
        p.set_vrid(Vrid::new(7).unwrap());
        p.set_priority(Priority::STOP);
        p.set_interval(AdvertInterval::from_centis(10).unwrap())
            .unwrap();
        assert!(p.verify_checksum(src, dst, RxChecksum::default()).is_err());
        p.fill_checksum(src, dst, ChecksumMode::PseudoHeader)
            .unwrap();
        assert!(p.verify_checksum(src, dst, RxChecksum::default()).is_ok());
        let view = AdvertView::parse(&msg, AddressFamily::Ipv4).unwrap();
        assert_eq!(
            (view.vrid.get(), view.priority, view.interval.centis()),
            (7, Priority::STOP, 10)
        );
        let mut p = Packet::new_unchecked(&mut msg[..], AddressFamily::Ipv4);
        p.set_version_and_type(Version::V3, 2);
        p.set_count(2);
        assert_eq!((p.packet_type(), p.count()), (2, 2));
    }

    #[test]
    fn auth_checks() {
        let ours = Auth::simple_password(b"s3cret");
        assert_eq!(ours.verify(&Auth::simple_password(b"s3cret")), Ok(()));
        assert_eq!(
            ours.verify(&Auth::simple_password(b"s3cres")),
            Err(Error::AuthMismatch)
        );
        assert_eq!(
            ours.verify(&Auth::None),
            Err(Error::AuthTypeMismatch {
                expected: 1,
                got: 0
            })
        );
        assert_eq!(Auth::None.verify(&Auth::Ah), Err(Error::AuthUnsupported));
        assert_eq!(
            Auth::simple_password(b"0123456789"),
            Auth::SimplePassword(*b"01234567")
        );
    }

    #[test]
    fn receive_checks_give_typed_errors() {
        let ok = [
            0x31u8, 0x33, 0x96, 0x01, 0x00, 0x64, 0xd3, 0x71, 192, 0, 2, 100,
        ];
        assert!(AdvertView::parse(&ok, AddressFamily::Ipv4).is_ok());
        let fam = AddressFamily::Ipv4;
        assert_eq!(
            AdvertView::parse(&ok[..5], fam),
            Err(Error::Truncated { needed: 8, got: 5 })
        );
        assert_eq!(
            AdvertView::parse(&ok[..10], fam),
            Err(Error::Truncated {
                needed: 12,
                got: 10
            })
        );
        let mut long = [0u8; 13];
        long[..12].copy_from_slice(&ok);
        assert!(matches!(
            AdvertView::parse(&long, fam),
            Err(Error::LengthMismatch { .. })
        ));
        let mut bad = ok;
        bad[0] = 0x41;
        assert_eq!(
            AdvertView::parse(&bad, fam),
            Err(Error::BadVersion { version: 4 })
        );
        let mut bad = ok;
        bad[0] = 0x32;
        assert_eq!(AdvertView::parse(&bad, fam), Err(Error::BadType(2)));
        let mut bad = ok;
        bad[1] = 0;
        assert_eq!(AdvertView::parse(&bad, fam), Err(Error::BadVrid));
        let mut bad = ok;
        bad[4] = 0xf0;
        bad[5] = 0;
        assert_eq!(AdvertView::parse(&bad, fam), Err(Error::BadInterval));
        // VRRPv2 over IPv6 does not exist.
        let mut v2 = [0u8; 32];
        v2[0] = 0x21;
        v2[1] = 1;
        v2[3] = 1;
        v2[5] = 1;
        assert_eq!(
            AdvertView::parse(&v2, AddressFamily::Ipv6),
            Err(Error::BadVersion { version: 2 })
        );
        // AH and unknown authentication types.
        let mut ah = [
            0x21u8, 0x33, 0x96, 0x01, 0x02, 0x01, 0, 0, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(AdvertView::parse(&ah, fam), Err(Error::AuthUnsupported));
        ah[4] = 7;
        assert_eq!(AdvertView::parse(&ah, fam), Err(Error::BadAuthType(7)));
    }

    #[test]
    fn encode_errors() {
        let vrid = Vrid::new(1).unwrap();
        let src = v4(192, 0, 2, 1);
        let dst = IpAddr::V4(VRRP_MULTICAST_V4);
        let adv = Advertisement::builder(Version::V3, vrid)
            .address(v4(192, 0, 2, 100))
            .build();
        let mut small = [0u8; 11];
        assert_eq!(
            adv.emit(src, dst, ChecksumMode::default(), &mut small),
            Err(Error::BufferTooSmall {
                needed: 12,
                got: 11
            })
        );
        let mut buf = [0u8; 64];
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(
            adv.emit(v6, v6, ChecksumMode::default(), &mut buf),
            Err(Error::FamilyMismatch)
        );
        let too_slow = Advertisement {
            interval: AdvertInterval::from_secs(50).unwrap(),
            ..adv.clone()
        };
        assert_eq!(
            too_slow.emit(src, dst, ChecksumMode::default(), &mut buf),
            Err(Error::Unit(UnitError::IntervalV3(5000)))
        );
        let many = Advertisement {
            addresses: alloc::vec![src; 256],
            ..adv.clone()
        };
        assert_eq!(
            many.emit(src, dst, ChecksumMode::default(), &mut [0u8; 2048]),
            Err(Error::TooManyAddresses(256))
        );
        let ah = Advertisement {
            version: Version::V2,
            auth: Auth::Ah,
            ..adv.clone()
        };
        assert_eq!(
            ah.emit(src, dst, ChecksumMode::default(), &mut buf),
            Err(Error::AuthUnsupported)
        );
    }
}
