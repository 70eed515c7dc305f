//! The webhook's TLS identity: a private CA and a serving certificate it signs, both generated
//! at start and kept only in memory.
//!
//! The API server trusts the CA through the `caBundle` Waxwing writes into its own webhook
//! configurations and the CRD's conversion stanza, so no certificate has to be provisioned or
//! rotated by hand: a restart brings a new CA and rewrites the bundles.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::ByteString;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// How long the certificates are valid. They are regenerated at every start; the margin before
/// "now" absorbs clock skew between this process and the API server.
const CA_PEM: &str = "ca.crt";
const CA_DER: &str = "ca.der";
const CERT_DER: &str = "tls.der";
const KEY_DER: &str = "key.der";

const VALIDITY: Duration = Duration::days(3650);
const CLOCK_SKEW: Duration = Duration::hours(1);

/// Why the TLS identity could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot generate the webhook certificate for {names:?}: {source}")]
    Certificate {
        names: Vec<String>,
        #[source]
        source: rcgen::Error,
    },
    #[error("cannot build the webhook's TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The CA (for the `caBundle`) and the serving certificate with its key.
pub struct Identity {
    ca_pem: String,
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
}

impl Identity {
    /// A fresh CA and a serving certificate for `names`: DNS names and IP addresses (an entry
    /// that parses as an IP address becomes an IP SAN, as the API server's URL host needs).
    pub fn generate(names: &[String]) -> Result<Identity, TlsError> {
        let error = |source| TlsError::Certificate {
            names: names.to_vec(),
            source,
        };
        let now = OffsetDateTime::now_utc();

        let ca_key = KeyPair::generate().map_err(error)?;
        let mut ca_params = CertificateParams::default();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "waxwing webhook CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        ca_params.not_before = now - CLOCK_SKEW;
        ca_params.not_after = now + VALIDITY;
        let ca_cert = ca_params.self_signed(&ca_key).map_err(error)?;
        let issuer = Issuer::new(ca_params, ca_key);

        let key = KeyPair::generate().map_err(error)?;
        let mut params = CertificateParams::new(names.to_vec()).map_err(error)?;
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().map_or("waxwing", String::as_str),
        );
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = now - CLOCK_SKEW;
        params.not_after = now + VALIDITY;
        let cert = params.signed_by(&key, &issuer).map_err(error)?;

        Ok(Identity {
            ca_pem: ca_cert.pem(),
            chain: vec![cert.der().clone(), ca_cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
        })
    }

    /// The identity as the data of a Secret, so every replica serves the same certificate and
    /// registers the same `caBundle`.
    pub fn to_secret_data(&self) -> BTreeMap<String, ByteString> {
        BTreeMap::from([
            (
                CA_PEM.to_owned(),
                ByteString(self.ca_pem.as_bytes().to_vec()),
            ),
            (CA_DER.to_owned(), ByteString(self.chain[1].to_vec())),
            (CERT_DER.to_owned(), ByteString(self.chain[0].to_vec())),
            (
                KEY_DER.to_owned(),
                ByteString(self.key.secret_pkcs8_der().to_vec()),
            ),
        ])
    }

    /// The identity [`to_secret_data`](Self::to_secret_data) stored; `None` if a key is missing.
    pub fn from_secret_data(data: &BTreeMap<String, ByteString>) -> Option<Identity> {
        let get = |key: &str| data.get(key).map(|b| b.0.clone());
        Some(Identity {
            ca_pem: String::from_utf8(get(CA_PEM)?).ok()?,
            chain: vec![
                CertificateDer::from(get(CERT_DER)?),
                CertificateDer::from(get(CA_DER)?),
            ],
            key: PrivatePkcs8KeyDer::from(get(KEY_DER)?),
        })
    }

    /// The CA certificate, PEM: what goes into every `caBundle`.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate, DER, for clients that trust it directly (tests).
    #[cfg(test)]
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.chain[1]
    }

    /// A rustls server configuration presenting the serving certificate. ring is named
    /// explicitly: rustls refuses to guess when more than one provider is compiled in.
    pub fn server_config(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identity_survives_its_secret() {
        let identity = Identity::generate(&["waxwing.system.svc".to_owned()]).unwrap();
        let mut data = identity.to_secret_data();
        let loaded = Identity::from_secret_data(&data).unwrap();
        assert_eq!(loaded.ca_pem(), identity.ca_pem());
        assert_eq!(loaded.chain, identity.chain);
        loaded.server_config().unwrap();
        data.remove(KEY_DER);
        assert!(Identity::from_secret_data(&data).is_none());
    }
}
