//! The default back-end: the `rsa` crate (pure Rust), every signature blinded (a random factor
//! per signature blunts RUSTSEC-2023-0071's timing side channel; PKCS#1 v1.5 stays
//! deterministic, so the bytes are an unblinded signer's).

use rsa::pkcs1v15::{Signature, SigningKey, VerifyingKey};
use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier as _};
use sha2::Sha256;

use super::{KeyError, VerifyError};

/// What [`super::BACKEND`] says.
pub(super) const NAME: &str = "rsa";

/// A private key prepared for signing.
#[derive(Clone)]
pub(super) struct Signer(SigningKey<Sha256>);

impl Signer {
    pub(super) fn new(key: &rsa::RsaPrivateKey) -> Result<Self, KeyError> {
        Ok(Signer(SigningKey::<Sha256>::new(key.clone())))
    }

    /// SHA256withRSA over exactly `message`, blinded.
    pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rsa::signature::Error> {
        let signature: Signature = self
            .0
            .try_sign_with_rng(&mut rsa::rand_core::OsRng, message)?;
        Ok(signature.to_vec())
    }
}

/// A public key prepared for verifying.
#[derive(Clone)]
pub(super) struct Verifier(VerifyingKey<Sha256>);

impl Verifier {
    pub(super) fn new(key: &rsa::RsaPublicKey) -> Result<Self, KeyError> {
        Ok(Verifier(VerifyingKey::<Sha256>::new(key.clone())))
    }

    /// Checks a raw SHA256withRSA signature over exactly `message`.
    pub(super) fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let signature = Signature::try_from(signature).map_err(|_| VerifyError::Mismatch)?;
        self.0
            .verify(message, &signature)
            .map_err(|_| VerifyError::Mismatch)
    }
}
