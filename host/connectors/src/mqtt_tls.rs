//! `insecureSkipVerify: true` for the MQTT connectors: a rustls client config that
//! takes the broker's certificate unchecked (name, chain, expiry), as eKuiper's Go
//! client does with the same prop. The handshake signatures are still verified, so
//! the session is encrypted to whoever holds the certificate's key; what is lost is
//! knowing who that is. For test brokers and self-signed edge gateways; every
//! connection logs a warning.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;

/// Accepts any server certificate; checks the handshake signatures against it.
#[derive(Debug)]
struct AnyServerCert(CryptoProvider);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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
        verify_tls12_signature(
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
        verify_tls13_signature(
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

/// A client config that skips the server check, with the client certificate and key
/// (PEM) when the broker asks for one. Errors name what could not be read.
pub fn insecure_config(
    client_auth: Option<(Vec<u8>, Vec<u8>)>,
) -> Result<Arc<ClientConfig>, String> {
    let provider = rustls::crypto::ring::default_provider();
    let builder = ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyServerCert(provider)));
    let config = match client_auth {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let chain = rustls_pemfile::certs(&mut cert.as_slice())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("certificationPath: not a PEM certificate: {e}"))?;
            if chain.is_empty() {
                return Err("certificationPath: no certificate in the file".into());
            }
            let key = rustls_pemfile::private_key(&mut key.as_slice())
                .map_err(|e| format!("privateKeyPath: not a PEM key: {e}"))?
                .ok_or("privateKeyPath: no private key in the file")?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("privateKeyPath: {e}"))?
        }
    };
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_without_client_auth() {
        assert!(insecure_config(None).is_ok());
    }

    #[test]
    fn bad_client_files_are_named() {
        let e = insecure_config(Some((b"nope".to_vec(), b"nope".to_vec()))).expect_err("not PEM");
        assert!(e.contains("certificationPath"), "{e}");
    }
}
