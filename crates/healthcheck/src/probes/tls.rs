//! SSL_GET's TLS: rustls with the `ring` provider, optional SNI, optional verification.
//!
//! keepalived does not verify the server certificate (its checker only needs to reach the
//! application); this crate does the same unless [`TlsOptions::verify_ca`] names a PEM CA file.
//! Without SNI the server name is the target's IP address, for which rustls sends no SNI.

use super::ProbeError;
use crate::config::TlsOptions;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Accepts any certificate, checking only the handshake signatures (keepalived's default).
#[derive(Debug)]
struct NoVerify(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(e: impl std::fmt::Display) -> ProbeError {
    ProbeError::Tls(e.to_string())
}

/// The shared client configuration without verification.
fn no_verify_config() -> Result<Arc<ClientConfig>, ProbeError> {
    static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
    if let Some(c) = CONFIG.get() {
        return Ok(c.clone());
    }
    let p = provider();
    let config = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(NoVerify(p)))
        .with_no_client_auth();
    Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
}

/// A verifying configuration trusting the CA certificates in a PEM file.
fn verify_config(ca: &std::path::Path) -> Result<Arc<ClientConfig>, ProbeError> {
    let pem = std::fs::read(ca).map_err(|e| ProbeError::Tls(format!("{}: {e}", ca.display())))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.map_err(tls_err)?).map_err(tls_err)?;
    }
    if roots.is_empty() {
        return Err(ProbeError::Tls(format!(
            "{}: no certificate found",
            ca.display()
        )));
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name given to rustls: with SNI, `sni_name` or the HTTP host without its port; without,
/// the target's IP address (for which rustls sends no SNI).
fn server_name(
    host: &str,
    target: SocketAddr,
    opts: &TlsOptions,
) -> Result<ServerName<'static>, ProbeError> {
    if !(opts.enable_sni || opts.sni_name.is_some()) {
        return Ok(ServerName::IpAddress(target.ip().into()));
    }
    let sni = opts.sni_name.as_deref().unwrap_or(host);
    if let Ok(ip) = sni.parse::<std::net::IpAddr>() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    // `name:port` or `[v6]:port`: the port is not part of the server name.
    let name = match sni.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => sni,
    };
    let name = name
        .strip_prefix('[')
        .and_then(|v| v.strip_suffix(']'))
        .unwrap_or(name);
    ServerName::try_from(name.to_owned()).map_err(tls_err)
}

/// Runs the TLS handshake on `tcp`. `host` is the HTTP host, used as SNI with `enable_sni`.
pub(crate) async fn connect(
    tcp: TcpStream,
    target: SocketAddr,
    host: &str,
    opts: &TlsOptions,
) -> Result<TlsStream<TcpStream>, ProbeError> {
    let config = match &opts.verify_ca {
        Some(ca) => verify_config(ca)?,
        None => no_verify_config()?,
    };
    let name = server_name(host, target, opts)?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(tls_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names() {
        let target: SocketAddr = "192.0.2.1:443".parse().unwrap();
        let sni = TlsOptions {
            enable_sni: true,
            ..Default::default()
        };
        let name = |host: &str, o: &TlsOptions| {
            server_name(host, target, o).unwrap().to_str().into_owned()
        };
        assert_eq!(name("www.example:8443", &sni), "www.example");
        assert_eq!(name("www.example", &sni), "www.example");
        assert_eq!(name("[2001:db8::1]:443", &sni), "2001:db8::1");
        assert_eq!(name("2001:db8::1", &sni), "2001:db8::1");
        assert_eq!(name("www.example", &TlsOptions::default()), "192.0.2.1");
        let named = TlsOptions {
            sni_name: Some("api.example".into()),
            ..Default::default()
        };
        assert_eq!(name("www.example", &named), "api.example");
        assert!(server_name("bad name!", target, &sni).is_err());
    }
}
