//! Who makes a request's SHA256withRSA signature: a [`Signer`]. The in-process
//! [`crate::rsa_keys::RsaPrivateKey`] is one implementation; a key service (a cloud KMS, an HSM,
//! a signing command) is another, and the private key never enters the process.
//!
//! Signing is `async` ([`SignFuture`]) so a remote call does not block the runtime. The
//! pipeline ([`crate::protocol::prepare`]) asks the provider for a [`Draft`]: either a complete
//! request (a shared-secret digest is made in place) or the exact text to sign; it has the
//! signer sign that text, checks the answer is a plausible RSA signature and attaches it. The
//! sans-IO path is the same steps by hand: take [`Unsigned::text`], sign it anywhere, attach.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::error::Error;
use crate::explain::KeyIdentity;
use crate::provider::Provider;
use crate::request::PreparedRequest;

/// The boxed future of one [`Signer::sign`]: the raw signature bytes, or why there are none.
pub type SignFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, SignerError>> + Send + 'a>>;

/// Why a signer did not sign: a message that names the signer (its command or service) and what
/// it reported, never key material. The pipeline turns it into [`Error::Signer`].
///
/// ```
/// let e = refund_core::signer::SignerError::new("kms: access denied");
/// assert_eq!(e.to_string(), "kms: access denied");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SignerError {
    message: String,
}

impl SignerError {
    /// A signer error saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        SignerError {
            message: message.into(),
        }
    }
}

/// Makes SHA256withRSA (RSASSA-PKCS1-v1_5 over SHA-256) signatures for the Open API and EdgerOS
/// requests.
///
/// Implement it over a key service: `sign` gets the **exact bytes** to sign (the provider's
/// canonical text; hash them with SHA-256 and sign the digest, or hand the message to a service
/// that does, such as a KMS `Sign` call with `RSASSA_PKCS1_V1_5_SHA_256` and message type `RAW`)
/// and returns the raw signature (128 to 1,024 bytes). The pipeline calls it once per attempt,
/// within the query's deadline.
///
/// ```
/// use refund_core::signer::{SignFuture, Signer, SignerError};
/// use refund_core::explain::KeyIdentity;
///
/// /// Asks a (here imaginary) key service.
/// #[derive(Debug)]
/// struct KeyService { key_id: String }
/// impl Signer for KeyService {
///     fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
///         Box::pin(async move {
///             let _ = message; // send it to the service, await its answer
///             Err(SignerError::new(format!("key service {}: unreachable", self.key_id)))
///         })
///     }
///     fn identity(&self) -> KeyIdentity {
///         KeyIdentity::new("merchant signer", "SHA256withRSA", format!("key service {}", self.key_id))
///     }
/// }
/// ```
pub trait Signer: Send + Sync + fmt::Debug {
    /// Signs exactly `message` (SHA256withRSA, PKCS#1 v1.5): the raw signature bytes.
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a>;

    /// Which key or service signs, for explanations: a key's fingerprint, or the command or
    /// service in its place. Never key material.
    fn identity(&self) -> KeyIdentity;
}

#[cfg(feature = "rsa")]
impl Signer for crate::rsa_keys::RsaPrivateKey {
    /// Signs in place (no waiting): the future is ready when it is first polled.
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        let signed = crate::rsa_keys::RsaPrivateKey::sign(self, message)
            .map_err(|e| SignerError::new(format!("the in-process key could not sign: {e}")));
        Box::pin(std::future::ready(signed))
    }

    fn identity(&self) -> KeyIdentity {
        self.public_key().identity("merchant private key")
    }
}

/// The shortest and longest RSA signature accepted from a signer, in bytes (1,024 to 8,192-bit
/// keys): anything else is not a signature of a key a provider would accept.
pub const SIGNATURE_BYTES: std::ops::RangeInclusive<usize> = 128..=1024;

/// Runs `signer` over `text` for `provider`'s request and returns the standard base64 of its
/// signature, after checking it has the length of an RSA signature ([`SIGNATURE_BYTES`]).
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use refund_core::signer::{sign_text, SignFuture, Signer, SignerError};
/// #[derive(Debug)]
/// struct Short;
/// impl Signer for Short {
///     fn sign<'a>(&'a self, _: &'a [u8]) -> SignFuture<'a> { Box::pin(async { Ok(vec![1, 2, 3]) }) }
///     fn identity(&self) -> refund_core::explain::KeyIdentity { refund_core::explain::KeyIdentity::new("test", "none", "none") }
/// }
/// let err = sign_text(&Short, refund_core::Provider::OpenApi, "{}").await.unwrap_err();
/// assert_eq!(err.kind(), "signer");
/// # });
/// ```
pub async fn sign_text(
    signer: &dyn Signer,
    provider: Provider,
    text: &str,
) -> Result<String, Error> {
    let raw = signer
        .sign(text.as_bytes())
        .await
        .map_err(|e| Error::Signer {
            provider,
            message: e.to_string(),
        })?;
    if !SIGNATURE_BYTES.contains(&raw.len()) {
        return Err(Error::Signer {
            provider,
            // Not the signer's identity: a command's arguments may carry a token.
            message: format!(
                "the signer returned {} bytes, not an RSA signature ({} to {} bytes)",
                raw.len(),
                SIGNATURE_BYTES.start(),
                SIGNATURE_BYTES.end()
            ),
        });
    }
    Ok(BASE64.encode(raw))
}

/// A request built up to its signature ([`crate::protocol::Protocol::draft`]).
#[derive(Debug)]
pub enum Draft<P> {
    /// Complete: nothing to wait for (a shared-secret digest is made in place).
    Ready(PreparedRequest),
    /// Waiting for a signature over [`Unsigned::text`].
    Unsigned(Unsigned<P>),
}

/// A request waiting for its signature: the exact text to sign, and what the provider needs to
/// attach the signature (`P`, the provider's own parts: a nonce, a timestamp, the query).
///
/// ```
/// let u = refund_core::signer::Unsigned::new("{\"a\":1}".to_owned(), 7_u8);
/// assert_eq!(u.text(), "{\"a\":1}");
/// assert_eq!(u.into_parts(), ("{\"a\":1}".to_owned(), 7));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsigned<P> {
    text: String,
    parts: P,
}

impl<P> Unsigned<P> {
    /// `text` to sign, and the parts that attaching needs.
    pub fn new(text: String, parts: P) -> Self {
        Unsigned { text, parts }
    }

    /// The exact text to sign (its UTF-8 bytes are what is signed).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text and the provider's parts.
    pub fn into_parts(self) -> (String, P) {
        (self.text, self.parts)
    }
}
