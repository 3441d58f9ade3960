//! The `aws-lc` back-end: aws-lc-rs (constant-time, about 5x faster; already built for rustls by
//! reqwest). Keys are still read by the `rsa` crate's parsers, then handed over once.

use std::sync::Arc;

use rsa::pkcs1::EncodeRsaPublicKey as _;
use rsa::pkcs8::EncodePrivateKey as _;

use super::{KeyError, VerifyError};

/// What [`super::BACKEND`] says.
pub(super) const NAME: &str = "aws-lc";

/// A private key prepared for signing.
#[derive(Clone)]
pub(super) struct Signer(Arc<aws_lc_rs::rsa::KeyPair>);

impl Signer {
    pub(super) fn new(key: &rsa::RsaPrivateKey) -> Result<Self, KeyError> {
        const WHAT: &str = "private key";
        let der = key
            .to_pkcs8_der()
            .map_err(|e| KeyError::caused_by(WHAT, "cannot re-encode for aws-lc", e))?;
        let pair = aws_lc_rs::rsa::KeyPair::from_pkcs8(der.as_bytes())
            .map_err(|e| KeyError::caused_by(WHAT, "aws-lc rejected the key", e))?;
        Ok(Signer(Arc::new(pair)))
    }

    /// SHA256withRSA over exactly `message` (aws-lc's RSA is constant-time).
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rsa::signature::Error> {
        let mut out = vec![0_u8; self.0.public_modulus_len()];
        self.0
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut out,
            )
            .map_err(|_| rsa::signature::Error::new())?;
        Ok(out)
    }
}

/// A public key prepared for verifying.
#[derive(Clone)]
pub(super) struct Verifier(Arc<aws_lc_rs::signature::ParsedPublicKey>);

impl Verifier {
    pub(super) fn new(key: &rsa::RsaPublicKey) -> Result<Self, KeyError> {
        const WHAT: &str = "public key";
        let der = key
            .to_pkcs1_der()
            .map_err(|e| KeyError::caused_by(WHAT, "cannot re-encode for aws-lc", e))?;
        let parsed = aws_lc_rs::signature::ParsedPublicKey::new(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            der.as_bytes(),
        )
        .map_err(|e| KeyError::caused_by(WHAT, "aws-lc rejected the key", e))?;
        Ok(Verifier(Arc::new(parsed)))
    }

    /// Checks a raw SHA256withRSA signature over exactly `message`.
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.0
            .verify_sig(message, signature)
            .map_err(|_| VerifyError::Mismatch)
    }
}
