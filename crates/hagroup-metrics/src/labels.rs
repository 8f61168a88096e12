//! Label values: one spelling of virtual servers, IPVS services and checker types, shared by
//! every family so that series can be joined.

use std::fmt::Write as _;
use std::net::SocketAddr;

use healthcheck::{CheckerKind, Protocol, VirtualServerKey};
use ipvs_netlink::{Family, ServiceKey};

/// `tcp/192.0.2.1:80`, `udp/[2001:db8::1]:53`, `fwmark/42`, `fwmark6/42`, `group/NAME`.
#[must_use]
pub fn virtual_server_label(key: &VirtualServerKey) -> String {
    match key {
        VirtualServerKey::Addr { protocol, addr } => {
            let p = match protocol {
                Protocol::Tcp => "tcp",
                Protocol::Udp => "udp",
                Protocol::Sctp => "sctp",
                _ => "other",
            };
            format!("{p}/{addr}")
        }
        VirtualServerKey::Fwmark { mark, ipv6: false } => format!("fwmark/{mark}"),
        VirtualServerKey::Fwmark { mark, ipv6: true } => format!("fwmark6/{mark}"),
        VirtualServerKey::Group { name } => format!("group/{name}"),
        _ => format!("{key:?}"),
    }
}

/// An IPVS service in the spelling of [`virtual_server_label`]: `tcp/192.0.2.1:80`,
/// `fwmark/42` (IPv4) or `fwmark6/42` (IPv6).
#[must_use]
pub fn service_label(key: &ServiceKey) -> String {
    match *key {
        ServiceKey::Addr {
            addr,
            port,
            protocol,
        } => {
            let mut s = protocol.name().to_ascii_lowercase();
            s.push('/');
            let _ = write!(s, "{}", SocketAddr::new(addr, port));
            s
        }
        ServiceKey::FwMark {
            family: Family::Inet,
            mark,
        } => format!("fwmark/{mark}"),
        ServiceKey::FwMark {
            family: Family::Inet6,
            mark,
        } => format!("fwmark6/{mark}"),
    }
}

/// keepalived's keyword of a checker type (`TCP_CHECK`, `HTTP_GET`, `SSL_GET`, ...).
#[must_use]
pub fn checker_name(kind: &CheckerKind) -> &'static str {
    match kind {
        CheckerKind::Tcp => "TCP_CHECK",
        CheckerKind::Http(h) if h.tls.is_some() => "SSL_GET",
        CheckerKind::Http(_) => "HTTP_GET",
        CheckerKind::Misc(_) => "MISC_CHECK",
        CheckerKind::Smtp(_) => "SMTP_CHECK",
        CheckerKind::Dns(_) => "DNS_CHECK",
        CheckerKind::Udp(_) => "UDP_CHECK",
        CheckerKind::Ping => "PING_CHECK",
        CheckerKind::File(_) => "FILE_CHECK",
        _ => "OTHER_CHECK",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_spell_services_and_virtual_servers_alike() {
        let addr: SocketAddr = "192.0.2.1:80".parse().unwrap();
        let vs = VirtualServerKey::Addr {
            protocol: Protocol::Tcp,
            addr,
        };
        let svc = ServiceKey::Addr {
            addr: addr.ip(),
            port: 80,
            protocol: ipvs_netlink::Protocol::Tcp,
        };
        assert_eq!(virtual_server_label(&vs), "tcp/192.0.2.1:80");
        assert_eq!(service_label(&svc), "tcp/192.0.2.1:80");
        let v6 = ServiceKey::Addr {
            addr: "2001:db8::1".parse().unwrap(),
            port: 53,
            protocol: ipvs_netlink::Protocol::Udp,
        };
        assert_eq!(service_label(&v6), "udp/[2001:db8::1]:53");
        let fw = ServiceKey::FwMark {
            family: Family::Inet6,
            mark: 7,
        };
        assert_eq!(service_label(&fw), "fwmark6/7");
        assert_eq!(
            virtual_server_label(&VirtualServerKey::Group { name: "web".into() }),
            "group/web"
        );
        assert_eq!(checker_name(&CheckerKind::Tcp), "TCP_CHECK");
    }
}
