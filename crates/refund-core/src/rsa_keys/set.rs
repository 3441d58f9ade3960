//! Several verifying keys live at once, so a platform can rotate its key without an outage:
//! during the switch an answer signed by the old key and one signed by the new both verify, and
//! the key that verified each is named.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::{RsaPublicKey, VerifyError};

/// One or more public keys, any of which may have signed an answer; each with its fingerprint
/// ([`RsaPublicKey::fingerprint`], computed once).
///
/// ```
/// # let old = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
/// # let new = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_platform_2048.pem"))).unwrap();
/// use refund_core::rsa_keys::PublicKeySet;
/// let keys = PublicKeySet::new(vec![old.public_key().clone(), new.public_key().clone()]).unwrap();
/// let sig = new.sign_base64(b"m").unwrap();
/// assert_eq!(keys.verify_base64(b"m", &sig).unwrap(), new.public_key().fingerprint());
/// assert!(keys.verify_base64(b"n", &sig).is_err());
/// ```
#[derive(Clone)]
pub struct PublicKeySet {
    keys: Vec<(RsaPublicKey, String)>,
}

impl PublicKeySet {
    /// A set of `keys`, in the order they are tried; `None` when there are none (a set that
    /// verifies nothing is a configuration mistake, not a policy).
    pub fn new(keys: Vec<RsaPublicKey>) -> Option<Self> {
        if keys.is_empty() {
            return None;
        }
        Some(PublicKeySet {
            keys: keys
                .into_iter()
                .map(|k| {
                    let fingerprint = k.fingerprint();
                    (k, fingerprint)
                })
                .collect(),
        })
    }

    /// The keys, in order.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// let keys = refund_core::rsa_keys::PublicKeySet::from(key.public_key().clone());
    /// assert_eq!(keys.keys().count(), 1);
    /// ```
    pub fn keys(&self) -> impl Iterator<Item = &RsaPublicKey> {
        self.keys.iter().map(|(k, _)| k)
    }

    /// The fingerprints, in order.
    pub fn fingerprints(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(_, f)| f.as_str())
    }

    /// Checks a raw signature over exactly `message` with each key in turn: the fingerprint of
    /// the key that verified it, or [`VerifyError::Mismatch`] when none did.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<&str, VerifyError> {
        self.keys
            .iter()
            .find(|(key, _)| key.verify(message, signature).is_ok())
            .map(|(_, fingerprint)| fingerprint.as_str())
            .ok_or(VerifyError::Mismatch)
    }

    /// [`PublicKeySet::verify`] of a base64 signature (decoded once).
    pub fn verify_base64(&self, message: &[u8], signature_b64: &str) -> Result<&str, VerifyError> {
        let raw = BASE64
            .decode(signature_b64.trim())
            .map_err(|_| VerifyError::NotBase64)?;
        self.verify(message, &raw)
    }
}

impl From<RsaPublicKey> for PublicKeySet {
    fn from(key: RsaPublicKey) -> Self {
        let fingerprint = key.fingerprint();
        PublicKeySet {
            keys: vec![(key, fingerprint)],
        }
    }
}

impl fmt::Debug for PublicKeySet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.fingerprints()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rsa_keys::RsaPrivateKey;

    fn key(pem: &str) -> RsaPrivateKey {
        RsaPrivateKey::from_text(pem).unwrap()
    }

    #[test]
    fn each_key_verifies_its_own_and_a_stranger_verifies_nothing() {
        let a = key(include_str!(
            "../../testdata/keys/openapi_merchant_2048.pem"
        ));
        let b = key(include_str!(
            "../../testdata/keys/openapi_platform_2048.pem"
        ));
        let c = key(include_str!("../../testdata/keys/edgeros_platform.pem"));
        let set = PublicKeySet::new(vec![a.public_key().clone(), b.public_key().clone()]).unwrap();
        for signer in [&a, &b] {
            let sig = signer.sign_base64(b"text").unwrap();
            assert_eq!(
                set.verify_base64(b"text", &sig),
                Ok(signer.public_key().fingerprint().as_str())
            );
        }
        let stranger = c.sign_base64(b"text").unwrap();
        assert_eq!(
            set.verify_base64(b"text", &stranger),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(set.verify_base64(b"text", "%"), Err(VerifyError::NotBase64));
        assert!(PublicKeySet::new(Vec::new()).is_none());
        assert!(!format!("{set:?}").contains("BEGIN"));
    }
}
