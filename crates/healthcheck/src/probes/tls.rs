//! SSL_GET's TLS: rustls with the `ring` provider, optional SNI, optional verification.
//!
//! keepalived does not verify the server certificate (its checker only needs to reach the
//! application); this crate does the same unless [`TlsOptions::verify_ca`] names a PEM CA file.
//! Without SNI the server name is the target's IP address, for which rustls sends no SNI.

use super::ProbeError;
use crate::config::{ClientCert, TlsOptions};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
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

/// What a client configuration is built from: the files named, and their modification times
/// (a rotated certificate is picked up at the next check).
type ConfigKey = (
    Option<PathBuf>,
    Option<ClientCert>,
    Vec<Option<std::time::SystemTime>>,
);

fn mtime(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The client configuration for `opts`, built once per set of files (and rebuilt when one of
/// them changes).
fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, ProbeError> {
    static CACHE: OnceLock<Mutex<HashMap<ConfigKey, Arc<ClientConfig>>>> = OnceLock::new();
    let files = opts
        .verify_ca
        .iter()
        .map(PathBuf::as_path)
        .chain(
            opts.client_cert
                .iter()
                .flat_map(|c| [c.certificate.as_path(), c.key.as_path()]),
        )
        .map(mtime)
        .collect();
    let key = (opts.verify_ca.clone(), opts.client_cert.clone(), files);
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(c) = cache.lock().ok().and_then(|m| m.get(&key).cloned()) {
        return Ok(c);
    }
    let config = Arc::new(build_config(opts)?);
    if let Ok(mut m) = cache.lock() {
        // Older versions of the same files are of no further use.
        m.retain(|k, _| k.0 != key.0 || k.1 != key.1);
        m.insert(key, config.clone());
    }
    Ok(config)
}

fn build_config(opts: &TlsOptions) -> Result<ClientConfig, ProbeError> {
    let p = provider();
    let builder = ClientConfig::builder_with_provider(p.clone())
        .with_safe_default_protocol_versions()
        .map_err(tls_err)?;
    let builder = match &opts.verify_ca {
        Some(ca) => builder.with_root_certificates(roots(ca)?),
        None => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(p))),
    };
    match &opts.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some(c) => {
            let (chain, key) = client_identity(c)?;
            builder.with_client_auth_cert(chain, key).map_err(tls_err)
        }
    }
}

/// The CA certificates in a PEM file.
fn roots(ca: &Path) -> Result<RootCertStore, ProbeError> {
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
    Ok(roots)
}

/// The client certificate chain and key from PEM files.
fn client_identity(
    c: &ClientCert,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), ProbeError> {
    let file_err =
        |p: &Path, e: &dyn std::fmt::Display| ProbeError::Tls(format!("{}: {e}", p.display()));
    let pem = std::fs::read(&c.certificate).map_err(|e| file_err(&c.certificate, &e))?;
    let chain = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| file_err(&c.certificate, &e))?;
    if chain.is_empty() {
        return Err(file_err(&c.certificate, &"no certificate found"));
    }
    let pem = std::fs::read(&c.key).map_err(|e| file_err(&c.key, &e))?;
    let key = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| {
        let encrypted = pem.windows(9).any(|w| w == b"ENCRYPTED");
        if encrypted {
            file_err(
                &c.key,
                &"encrypted private keys are not supported (the SSL block's `password`): decrypt it with openssl pkey",
            )
        } else {
            file_err(&c.key, &e)
        }
    })?;
    Ok((chain, key))
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
    let config = client_config(opts)?;
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
