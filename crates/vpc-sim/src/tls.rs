//! TLS for the listener: a fresh CA and a server certificate for `127.0.0.1`, `::1`,
//! `localhost` and any extra names, or a certificate and key read from PEM files; builds the rustls server config.
//! `load` and `write_ca` do file I/O; `generate` is pure.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The names the generated server certificate is valid for.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Generating the CA or certificate failed.
    #[error("cannot generate certificates")]
    Generate(#[from] rcgen::Error),
    /// A PEM file could not be read.
    #[error("cannot read {path}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0} holds no certificate")]
    NoCertificate(PathBuf),
    /// rustls refused the certificate or key.
    #[error("certificate and key do not make a server configuration")]
    Config(#[from] rustls::Error),
}

/// A server certificate chain and its key.
#[derive(Debug)]
pub struct Identity {
    /// Leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
    /// The CA that signed the leaf, PEM, when it was generated here.
    pub ca_pem: Option<String>,
}

/// A new CA and a server certificate it signed, valid for `127.0.0.1`, `::1`, `localhost` and
/// `extra_names` (DNS names or IP addresses).
pub fn generate(extra_names: &[String]) -> Result<Identity, TlsError> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params.distinguished_name.push(DnType::CommonName, "vpc-sim test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate()?;
    let mut names: Vec<String> = SERVER_NAMES.iter().map(|n| n.to_string()).collect();
    names.extend(extra_names.iter().filter(|n| !SERVER_NAMES.contains(&n.as_str())).cloned());
    let mut params = CertificateParams::new(names)?;
    params.distinguished_name.push(DnType::CommonName, "vpc-sim");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    let cert = params.signed_by(&server_key, &issuer)?;

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    Ok(Identity { chain: vec![cert.der().clone()], key, ca_pem: Some(ca_cert.pem()) })
}

/// A certificate chain and key from PEM files.
pub fn load(cert: &Path, key: &Path) -> Result<Identity, TlsError> {
    let cert_error = |source| TlsError::Pem { path: cert.into(), source };
    let chain = CertificateDer::pem_file_iter(cert).map_err(cert_error)?;
    let chain = chain.collect::<Result<Vec<_>, _>>().map_err(cert_error)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate(cert.into()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Pem { path: key.into(), source })?;
    Ok(Identity { chain, key, ca_pem: None })
}

/// The rustls configuration serving `identity` over HTTP/1.1, with the process's crypto provider.
pub fn server_config(identity: Identity) -> Result<Arc<ServerConfig>, TlsError> {
    let mut config = ServerConfig::builder().with_no_client_auth().with_single_cert(identity.chain, identity.key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_identity_makes_a_server_config_and_carries_its_ca() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let identity = generate(&["vpc.sim.test".to_string()]).unwrap();
        let ca = identity.ca_pem.clone().unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(identity.chain.len(), 1);
        assert!(server_config(identity).is_ok());
    }
}
