//! RSA keys for SHA256withRSA (RSASSA-PKCS1-v1_5 with SHA-256), shared by the RSA providers.
//!
//! Keys are parsed once, when a client is built. Signing is always blinded (a random blinding
//! factor per signature) to blunt the timing side channel of RUSTSEC-2023-0071; PKCS#1 v1.5 stays
//! deterministic, so the signature bytes are the same as an unblinded signer's.
//!
//! ## Back-ends
//!
//! | feature | signs and verifies with | note |
//! |---|---|---|
//! | *(default)* | the `rsa` crate (pure Rust), blinded | RUSTSEC-2023-0071 applies (mitigated by blinding) |
//! | `aws-lc` | aws-lc-rs (constant-time), keys prepared once | ~5x faster; already built for rustls by reqwest |
//!
//! Both produce byte-identical signatures (tested on every golden vector). Keys are always read
//! by the `rsa` crate's parsers, then handed to the back-end once: `rust_crypto.rs` and
//! `aws_lc.rs` are the two back-ends, chosen in one place below.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use rsa::traits::PublicKeyParts;

use crate::secret::Secret;

// The back-end, chosen here and nowhere else: both files offer the same `Signer`, `Verifier`
// and `NAME`.
#[cfg(feature = "aws-lc")]
#[path = "aws_lc.rs"]
mod backend;
#[cfg(not(feature = "aws-lc"))]
#[path = "rust_crypto.rs"]
mod backend;
mod set;

pub use set::PublicKeySet;

/// A key could not be read. Never contains key material.
///
/// ```
/// let err = refund_core::rsa_keys::RsaPrivateKey::from_text("not a key").unwrap_err();
/// assert!(err.to_string().contains("private key"));
/// ```
#[derive(Debug, thiserror::Error)]
#[error("cannot read RSA {what}: {reason}")]
pub struct KeyError {
    /// `private key` or `public key`.
    pub what: &'static str,
    /// Why, without any of the key's bytes.
    pub reason: String,
    /// What the parser, the file system or the back-end said (a DER error names a tag or a
    /// length, never key bytes), when it said something.
    #[source]
    pub source: Option<crate::error::BoxError>,
}

impl KeyError {
    fn new(what: &'static str, reason: impl Into<String>) -> Self {
        KeyError {
            what,
            reason: reason.into(),
            source: None,
        }
    }

    fn caused_by(
        what: &'static str,
        reason: impl Into<String>,
        source: impl Into<crate::error::BoxError>,
    ) -> Self {
        KeyError {
            what,
            reason: reason.into(),
            source: Some(source.into()),
        }
    }
}

/// A key error is a configuration error of the setting it was read for; its cause stays its
/// `source()`.
///
/// ```
/// use std::error::Error as _;
/// let key_error = refund_core::rsa_keys::RsaPrivateKey::from_file("/nonexistent.pem").unwrap_err();
/// let e = refund_core::Error::from(key_error);
/// assert_eq!(e.kind(), "config");
/// assert!(e.source().unwrap().downcast_ref::<std::io::Error>().is_some());
/// ```
impl From<KeyError> for crate::Error {
    fn from(e: KeyError) -> Self {
        crate::Error::Config {
            what: e.what.to_owned(),
            reason: e.reason,
            source: e.source,
        }
    }
}

/// The back-end compiled in: `"aws-lc"` with the `aws-lc` feature, else `"rsa"`.
pub const BACKEND: &str = backend::NAME;

/// Smallest modulus accepted: anything below 2048 bits is forgeable today.
pub const MIN_BITS: usize = 2048;

/// Decodes text that is either PEM (any label) or bare base64 DER, returning the PEM label.
fn pem_or_der(text: &str, what: &'static str) -> Result<(Option<String>, Vec<u8>), KeyError> {
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let body: String = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        let label = text
            .lines()
            .next()
            .and_then(|l| l.trim().strip_prefix("-----BEGIN "))
            .and_then(|l| l.strip_suffix("-----"))
            .map(str::to_owned);
        // base64's own error names the offending character and its offset: a piece of the
        // key. Only the fact is kept.
        let der = BASE64
            .decode(body)
            .map_err(|_| KeyError::new(what, "PEM body is not valid base64"))?;
        return Ok((label, der));
    }
    let compact: String = text.split_whitespace().collect();
    if compact.is_empty() {
        return Err(KeyError::new(what, "the key text is empty"));
    }
    let der = BASE64
        .decode(compact)
        .map_err(|_| KeyError::new(what, "neither PEM nor bare base64 DER"))?;
    Ok((None, der))
}

/// A PEM label as an error may show it: a short upper-case word like `CERTIFICATE`; anything
/// else (a broken `BEGIN` line can swallow the key's base64) is not repeated.
fn shown_label(label: &str) -> String {
    let plain = label.len() <= 32
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b' ');
    if plain {
        format!("{label:?}")
    } else {
        "(not shown: not a plain label)".to_owned()
    }
}

fn read_key_file(path: &std::path::Path, what: &'static str) -> Result<String, KeyError> {
    std::fs::read_to_string(path)
        .map_err(|e| KeyError::caused_by(what, format!("cannot read {}", path.display()), e))
}

fn check_bits(bits: usize, what: &'static str) -> Result<(), KeyError> {
    if bits < MIN_BITS {
        return Err(KeyError::new(
            what,
            format!("{bits}-bit modulus is too small; at least {MIN_BITS} bits required"),
        ));
    }
    Ok(())
}

/// A merchant's (or, in the sandbox, a platform's) RSA private key, ready to sign.
///
/// Accepts PEM PKCS#8 (`BEGIN PRIVATE KEY`), PEM PKCS#1 (`BEGIN RSA PRIVATE KEY`) and bare
/// base64 DER of either, as vendors hand them out. `Debug` shows only the size; the key is
/// zeroised on drop by the `rsa` crate.
///
/// ```
/// use refund_core::rsa_keys::RsaPrivateKey;
/// # let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"));
/// let key = RsaPrivateKey::from_text(pem).unwrap();
/// let sig = key.sign_base64(b"hello").unwrap();
/// assert!(key.public_key().verify_base64(b"hello", &sig).is_ok());
/// assert_eq!(format!("{key:?}"), "RsaPrivateKey { bits: 2048, .. }");
/// ```
#[derive(Clone)]
pub struct RsaPrivateKey {
    key: rsa::RsaPrivateKey,
    signer: backend::Signer,
    public: RsaPublicKey,
}

impl RsaPrivateKey {
    /// Reads a private key from PEM (PKCS#8 or PKCS#1) or bare base64 DER (PKCS#8 or PKCS#1).
    ///
    /// ```
    /// assert!(refund_core::rsa_keys::RsaPrivateKey::from_text("").is_err());
    /// ```
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "private key";
        let (label, der) = pem_or_der(text, WHAT)?;
        let key = match label.as_deref() {
            Some("RSA PRIVATE KEY") => rsa::RsaPrivateKey::from_pkcs1_der(&der)
                .map_err(|e| KeyError::caused_by(WHAT, "not a PKCS#1 RSA private key", e)),
            Some("PRIVATE KEY") => rsa::RsaPrivateKey::from_pkcs8_der(&der)
                .map_err(|e| KeyError::caused_by(WHAT, "not a PKCS#8 RSA private key", e)),
            Some(other) => Err(KeyError::new(
                WHAT,
                format!(
                    "PEM label {} is not a private key (expected PRIVATE KEY or RSA PRIVATE KEY)",
                    shown_label(other)
                ),
            )),
            None => rsa::RsaPrivateKey::from_pkcs8_der(&der)
                .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_der(&der))
                .map_err(|_| KeyError::new(WHAT, "bare DER is neither PKCS#8 nor PKCS#1 RSA")),
        }?;
        Self::from_key(key)
    }

    /// Reads a private key file (any form [`RsaPrivateKey::from_text`] accepts).
    ///
    /// ```
    /// let err = refund_core::rsa_keys::RsaPrivateKey::from_file("/nonexistent.pem").unwrap_err();
    /// assert!(err.reason.contains("/nonexistent.pem"));
    /// ```
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        Self::from_text(&read_key_file(path.as_ref(), "private key")?)
    }

    fn from_key(key: rsa::RsaPrivateKey) -> Result<Self, KeyError> {
        const WHAT: &str = "private key";
        check_bits(key.size() * 8, WHAT)?;
        key.validate()
            .map_err(|e| KeyError::caused_by(WHAT, "inconsistent key", e))?;
        let public = RsaPublicKey::from_key(key.to_public_key())?;
        Ok(RsaPrivateKey {
            signer: backend::Signer::new(&key)?,
            key,
            public,
        })
    }

    /// Generates a fresh key (the sandbox and tests use this; real keys come from the provider).
    ///
    /// ```no_run
    /// let key = refund_core::rsa_keys::RsaPrivateKey::generate(2048).unwrap();
    /// ```
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits)
            .map_err(|e| KeyError::caused_by("private key", "generation failed", e))?;
        Self::from_key(key)
    }

    /// SHA256withRSA signature of exactly `message`, blinded.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.sign(b"x").unwrap().len(), 256);
    /// ```
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rsa::signature::Error> {
        self.signer.sign(message)
    }

    /// [`RsaPrivateKey::sign`], base64 (standard alphabet, padded) as every provider sends it.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.sign_base64(b"x").unwrap().len(), 344);
    /// ```
    pub fn sign_base64(&self, message: &[u8]) -> Result<String, rsa::signature::Error> {
        self.sign(message).map(|s| BASE64.encode(s))
    }

    /// The matching public key.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.public_key().bits(), 2048);
    /// ```
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// Modulus size in bits.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.bits(), 2048);
    /// ```
    pub fn bits(&self) -> usize {
        self.public.bits()
    }

    /// The key as PKCS#8 PEM, wrapped in a [`Secret`] (for the sandbox to hand out credentials).
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert!(key.to_pkcs8_pem().unwrap().expose().starts_with("-----BEGIN PRIVATE KEY-----"));
    /// ```
    pub fn to_pkcs8_pem(&self) -> Result<Secret, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| Secret::new(pem.as_str()))
            .map_err(|e| KeyError::caused_by("private key", "cannot encode", e))
    }
}

impl fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPrivateKey {{ bits: {}, .. }}", self.bits())
    }
}

/// An RSA public key used to verify SHA256withRSA signatures.
///
/// Accepts PEM SubjectPublicKeyInfo (`BEGIN PUBLIC KEY`), PEM PKCS#1 (`BEGIN RSA PUBLIC KEY`)
/// and bare base64 DER of either.
///
/// ```
/// # let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pub.pem"));
/// let key = refund_core::rsa_keys::RsaPublicKey::from_text(pem).unwrap();
/// assert!(key.verify_base64(b"x", "AAAA").is_err());
/// ```
#[derive(Clone)]
pub struct RsaPublicKey {
    key: rsa::RsaPublicKey,
    bits: usize,
    verifier: backend::Verifier,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The signature text is not base64.
    #[error("signature is not valid base64")]
    NotBase64,
    /// The signature does not match the message and key.
    #[error("signature does not match")]
    Mismatch,
}

impl RsaPublicKey {
    /// Reads a public key from PEM (SPKI or PKCS#1) or bare base64 DER.
    ///
    /// ```
    /// assert!(refund_core::rsa_keys::RsaPublicKey::from_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----").is_err());
    /// ```
    pub fn from_text(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "public key";
        let (label, der) = pem_or_der(text, WHAT)?;
        let key = match label.as_deref() {
            Some("RSA PUBLIC KEY") => rsa::RsaPublicKey::from_pkcs1_der(&der)
                .map_err(|e| KeyError::caused_by(WHAT, "not a PKCS#1 RSA public key", e)),
            Some("PUBLIC KEY") => rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| {
                KeyError::caused_by(WHAT, "not a SubjectPublicKeyInfo RSA public key", e)
            }),
            Some(other) => Err(KeyError::new(
                WHAT,
                format!(
                    "PEM label {} is not a public key (expected PUBLIC KEY or RSA PUBLIC KEY)",
                    shown_label(other)
                ),
            )),
            None => rsa::RsaPublicKey::from_public_key_der(&der)
                .or_else(|_| rsa::RsaPublicKey::from_pkcs1_der(&der))
                .map_err(|_| {
                    KeyError::new(
                        WHAT,
                        "bare DER is neither SubjectPublicKeyInfo nor PKCS#1 RSA",
                    )
                }),
        }?;
        Self::from_key(key)
    }

    /// Reads a public key file (any form [`RsaPublicKey::from_text`] accepts).
    ///
    /// ```
    /// assert!(refund_core::rsa_keys::RsaPublicKey::from_file("/nonexistent.pem").is_err());
    /// ```
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self, KeyError> {
        Self::from_text(&read_key_file(path.as_ref(), "public key")?)
    }

    fn from_key(key: rsa::RsaPublicKey) -> Result<Self, KeyError> {
        let bits = key.size() * 8;
        check_bits(bits, "public key")?;
        Ok(RsaPublicKey {
            verifier: backend::Verifier::new(&key)?,
            key,
            bits,
        })
    }

    /// Checks a raw SHA256withRSA signature over exactly `message`.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// let sig = key.sign(b"m").unwrap();
    /// assert!(key.public_key().verify(b"m", &sig).is_ok());
    /// assert!(key.public_key().verify(b"n", &sig).is_err());
    /// ```
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        self.verifier.verify(message, signature)
    }

    /// Which back-end verifies and signs: `"rsa"` or `"aws-lc"`.
    ///
    /// ```
    /// assert!(["rsa", "aws-lc"].contains(&refund_core::rsa_keys::BACKEND));
    /// ```
    pub fn backend(&self) -> &'static str {
        BACKEND
    }

    /// Checks a base64 SHA256withRSA signature over exactly `message`.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.public_key().verify_base64(b"m", "%%%"), Err(refund_core::rsa_keys::VerifyError::NotBase64));
    /// ```
    pub fn verify_base64(&self, message: &[u8], signature_b64: &str) -> Result<(), VerifyError> {
        let raw = BASE64
            .decode(signature_b64.trim())
            .map_err(|_| VerifyError::NotBase64)?;
        self.verify(message, &raw)
    }

    /// Modulus size in bits.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.public_key().bits(), 2048);
    /// ```
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// `SHA256:` and the lower-case hex SHA-256 of the key's DER SubjectPublicKeyInfo: identifies
    /// the key without revealing anything (`openssl pkey -pubin -outform DER | sha256sum` gives
    /// the same digits).
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// let fp = key.public_key().fingerprint();
    /// assert!(fp.starts_with("SHA256:") && fp.len() == 7 + 64);
    /// ```
    pub fn fingerprint(&self) -> String {
        let key = &self.key;
        // Encoding a key we already hold cannot fail; an empty DER would still give a stable,
        // obviously wrong fingerprint rather than a panic.
        let der = key
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        format!("SHA256:{}", crate::digest::sha256_hex(&der))
    }

    /// This key's identity for an explanation: `role`, `RSA-<bits>`, [`RsaPublicKey::fingerprint`].
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert_eq!(key.public_key().identity("merchant key").algorithm, "RSA-2048");
    /// ```
    pub fn identity(&self, role: &str) -> crate::explain::KeyIdentity {
        crate::explain::KeyIdentity::new(role, format!("RSA-{}", self.bits), self.fingerprint())
    }

    /// The key as SubjectPublicKeyInfo PEM.
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
    /// assert!(key.public_key().to_spki_pem().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    /// ```
    pub fn to_spki_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError::caused_by("public key", "cannot encode", e))
    }
}

impl fmt::Debug for RsaPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RsaPublicKey {{ bits: {} }}", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PKCS8_PEM: &str = include_str!("../../testdata/keys/openapi_merchant_2048.pem");
    const PUB_PEM: &str = include_str!("../../testdata/keys/openapi_merchant_2048.pub.pem");
    const PKCS1_PEM: &str = include_str!("../../testdata/keys/openapi_merchant_2048.pkcs1.pem");

    fn bare(pem: &str) -> String {
        pem.lines().filter(|l| !l.starts_with("-----")).collect()
    }

    /// base64's own error names the offending character and its offset: pieces of the key,
    /// never repeated in the error or its causes.
    #[test]
    fn a_bad_base64_character_is_never_repeated() {
        let body = bare(PKCS8_PEM);
        for text in [
            format!(
                "-----BEGIN PRIVATE KEY-----\n{}$Q{}\n-----END PRIVATE KEY-----",
                &body[..40],
                &body[40..80]
            ),
            format!("{}$Q{}", &body[..40], &body[40..80]),
        ] {
            let err = RsaPrivateKey::from_text(&text).unwrap_err();
            let shown = crate::error::chain_text(&crate::Error::from(err));
            assert!(!shown.contains('$') && !shown.contains("offset"), "{shown}");
            assert!(!shown.contains(&body[..8]), "{shown}");
        }
    }

    #[test]
    fn a_broken_begin_line_is_never_repeated() {
        // Found by fuzzing: a BEGIN line without its closing dashes on its own line swallowed the
        // base64 into the "label", which the error then quoted.
        let body = bare(PKCS8_PEM);
        let broken = format!(
            "-----BEGIN PRIVATE KEY{}-----\n-----END PRIVATE KEY-----",
            &body[..60]
        );
        let err = RsaPrivateKey::from_text(&broken).unwrap_err().to_string();
        assert!(!err.contains(&body[..20]), "{err}");
        let err = RsaPrivateKey::from_text(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("\"CERTIFICATE\""), "{err}");
    }

    #[test]
    fn all_private_key_forms_give_the_same_signature() {
        let forms = [
            PKCS8_PEM.to_owned(),
            PKCS1_PEM.to_owned(),
            bare(PKCS8_PEM),
            bare(PKCS1_PEM),
        ];
        let sigs: Vec<String> = forms
            .iter()
            .map(|f| {
                RsaPrivateKey::from_text(f)
                    .unwrap()
                    .sign_base64(b"param")
                    .unwrap()
            })
            .collect();
        assert!(sigs.windows(2).all(|w| w[0] == w[1]));
        let public = RsaPublicKey::from_text(&bare(PUB_PEM)).unwrap();
        assert!(public.verify_base64(b"param", &sigs[0]).is_ok());
    }

    #[test]
    fn rejects_wrong_material_without_echoing_it() {
        let err = RsaPrivateKey::from_text(PUB_PEM).unwrap_err();
        assert!(err.reason.contains("not a private key"));
        let err = RsaPrivateKey::from_text("c2VjcmV0LXRleHQ=").unwrap_err();
        assert!(!err.to_string().contains("c2VjcmV0"));
        assert!(RsaPublicKey::from_text(PKCS8_PEM).is_err());
    }

    #[test]
    fn debug_hides_the_key() {
        let key = RsaPrivateKey::from_text(PKCS8_PEM).unwrap();
        let shown = format!("{key:?} {:?}", key.public_key());
        assert_eq!(
            shown,
            "RsaPrivateKey { bits: 2048, .. } RsaPublicKey { bits: 2048 }"
        );
    }
}
