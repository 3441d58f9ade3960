//! One error type for every provider, keeping transport, HTTP, decoding, signatures and business
//! answers apart, because each needs a different reaction (retry, fix config, alert, give up).
//!
//! An error's `Display` says what failed; the underlying cause (the file system's error, the
//! key parser's, the signature check's `VerifyError`, the socket's) is its `source()`.
//! [`chain_text`] writes the error and its causes on one line, each said once (a transport
//! error's message already names the cause that matters, so it is not said twice): what the CLI
//! prints and what [`Error`]'s serialised `message` holds.

use std::fmt;

use crate::provider::Provider;

/// A boxed error kept as a `#[source]`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong at the transport level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The connection could not be made (refused, DNS, unreachable).
    Connect,
    /// No complete answer in time (connect, attempt or overall deadline).
    Timeout,
    /// The TLS handshake or certificate check failed.
    Tls,
    /// The connection broke while the body was being read (truncated, reset).
    Body,
    /// Anything else reqwest reported.
    Other,
}

impl fmt::Display for TransportErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportErrorKind::Connect => "connect",
            TransportErrorKind::Timeout => "timeout",
            TransportErrorKind::Tls => "TLS",
            TransportErrorKind::Body => "body read",
            TransportErrorKind::Other => "transport",
        })
    }
}

/// Whether we failed to sign a request or a response failed verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureStage {
    /// Signing the outgoing request failed.
    Sign,
    /// The provider's response (or callback) did not carry a valid signature.
    Verify,
}

impl fmt::Display for SignatureStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SignatureStage::Sign => "could not sign the request",
            SignatureStage::Verify => "response failed signature verification",
        })
    }
}

/// Every way a refund query can fail.
///
/// ```
/// use refund_core::{Error, Provider};
/// let e = Error::NotFound { provider: Provider::Cpos, code: "REFUNDNOTEXIST".into(), message: "no such refund".into() };
/// assert_eq!(e.kind(), "not_found");
/// assert!(!e.is_retryable());
/// assert_eq!(e.to_string(), "cpos: refund not found (REFUNDNOTEXIST: no such refund)");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request was rejected before anything was sent.
    #[error("invalid request: `{field}` {reason}")]
    InvalidRequest {
        /// The offending field or lookup.
        field: String,
        /// Why.
        reason: String,
    },
    /// A client could not be built (bad key, bad URL, missing setting).
    #[error("configuration error: {what}: {reason}")]
    Config {
        /// The setting (`merchant_private_key`, `base_url`...).
        what: String,
        /// Why; never contains key material.
        reason: String,
        /// The underlying error (a file that cannot be read, a key the parser refused), when
        /// there is one; never carries key material either.
        #[source]
        source: Option<BoxError>,
    },
    /// The request did not get a complete HTTP answer.
    #[error("{provider}: {kind} error: {message}")]
    Transport {
        /// Which provider.
        provider: Provider,
        /// Connect, timeout, TLS, body...
        kind: TransportErrorKind,
        /// What happened, briefly.
        message: String,
        /// The underlying error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The provider answered with a non-success HTTP status.
    #[error("{provider}: HTTP {status}: {body_excerpt}")]
    HttpStatus {
        /// Which provider.
        provider: Provider,
        /// The HTTP status code.
        status: u16,
        /// The start of the body, escaped and bounded (see [`excerpt`]).
        body_excerpt: String,
        /// When the provider said to try again (`Retry-After`, in seconds or as an HTTP date);
        /// retries wait at least this long, and do not retry when it is past the deadline.
        retry_after: Option<std::time::Duration>,
    },
    /// The response body exceeded the configured limit and was cut off.
    #[error("{provider}: response body exceeds the {limit}-byte limit")]
    BodyTooLarge {
        /// Which provider.
        provider: Provider,
        /// The limit in bytes.
        limit: usize,
    },
    /// The response could not be decoded or a field had an impossible value.
    #[error("{provider}: cannot decode `{field}` ({value}): {reason}")]
    Decode {
        /// Which provider.
        provider: Provider,
        /// The field path (`data[0].refundAmount`), or `body` for the document itself.
        field: String,
        /// The raw value, escaped and bounded.
        value: String,
        /// Why it was rejected.
        reason: String,
        /// The underlying parse error, when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// Signing failed, or a response did not verify. Never retried.
    #[error("{provider}: {stage}{}", if reason.is_empty() { String::new() } else { format!(": {reason}") })]
    Signature {
        /// Which provider.
        provider: Provider,
        /// Sign or verify.
        stage: SignatureStage,
        /// Why.
        reason: String,
        /// The underlying error (e.g. [`crate::rsa_keys::VerifyError`]), when there is one.
        #[source]
        source: Option<BoxError>,
    },
    /// The request's signer (a key service, an HSM, a command) could not sign it: nothing was
    /// sent. Never retried by the pipeline (the next attempt would ask the same signer).
    #[error("{provider}: the signer failed: {message}")]
    Signer {
        /// Which provider's request was being signed.
        provider: Provider,
        /// What failed, naming the signer (its command or service), never key material.
        message: String,
    },
    /// The provider answered, verifiably, with a business error code.
    #[error("{provider}: provider error {code}: {message}{}", meaning.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Business {
        /// Which provider.
        provider: Provider,
        /// The provider's code, as text.
        code: String,
        /// The provider's message.
        message: String,
        /// What the code means, from the provider's catalogue, when we know it.
        meaning: Option<String>,
    },
    /// The answer names another refund or another merchant than the question did: a replayed or
    /// substituted answer (a valid signature proves who answered, not what was asked). Never retried.
    #[error(
        "{provider}: the answer is not about what was asked: `{field}` is {answered}, asked for {asked}"
    )]
    Mismatch {
        /// Which provider.
        provider: Provider,
        /// The answer's field that disagrees (`data.refund_no`, `data[1].refundTransactionId`).
        field: String,
        /// What was asked (an id or the merchant number, escaped and bounded; never a secret).
        asked: String,
        /// What the answer says instead, escaped and bounded.
        answered: String,
    },
    /// The provider says no such refund exists.
    #[error("{provider}: refund not found ({code}: {message})")]
    NotFound {
        /// Which provider.
        provider: Provider,
        /// The provider's not-found code.
        code: String,
        /// The provider's message.
        message: String,
    },
}

impl Error {
    /// How long the provider asked to wait before trying again (`Retry-After` on an HTTP
    /// error answer), if it said.
    ///
    /// ```
    /// use refund_core::{Error, Provider};
    /// let e = Error::HttpStatus { provider: Provider::Cpos, status: 429, body_excerpt: String::new(), retry_after: Some(std::time::Duration::from_secs(1)) };
    /// assert_eq!(e.retry_after(), Some(std::time::Duration::from_secs(1)));
    /// ```
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Error::HttpStatus { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True for failures that may go away if the same read-only query is sent again:
    /// connect errors, timeouts, broken bodies, HTTP 429 and 5xx. Never for business errors,
    /// signature failures, decode errors or 4xx.
    ///
    /// ```
    /// use refund_core::{Error, Provider};
    /// let e = Error::HttpStatus { provider: Provider::Edgeros, status: 503, body_excerpt: String::new(), retry_after: None };
    /// assert!(e.is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Transport { kind, .. } => matches!(
                kind,
                TransportErrorKind::Connect
                    | TransportErrorKind::Timeout
                    | TransportErrorKind::Body
            ),
            Error::HttpStatus { status, .. } => *status == 429 || (500..=599).contains(status),
            _ => false,
        }
    }

    /// True for an answer saying the provider is over its limit: HTTP 429 (Too Many Requests)
    /// or 503 (Service Unavailable).
    ///
    /// ```
    /// let e = refund_core::Error::HttpStatus { provider: refund_core::Provider::Cpos, status: 503, body_excerpt: String::new(), retry_after: None };
    /// assert!(e.is_throttle());
    /// ```
    pub fn is_throttle(&self) -> bool {
        matches!(
            self,
            Error::HttpStatus {
                status: 429 | 503,
                ..
            }
        )
    }

    /// A stable snake-case name for the kind of error, as the CLI prints it.
    ///
    /// ```
    /// let e = refund_core::Error::config("base_url", "empty");
    /// assert_eq!(e.kind(), "config");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidRequest { .. } => "invalid_request",
            Error::Config { .. } => "config",
            Error::Transport {
                kind: TransportErrorKind::Timeout,
                ..
            } => "timeout",
            Error::Transport { .. } => "transport",
            Error::HttpStatus { .. } => "http_status",
            Error::BodyTooLarge { .. } => "body_too_large",
            Error::Decode { .. } => "decode",
            Error::Signature { .. } => "signature",
            Error::Signer { .. } => "signer",
            Error::Business { .. } => "provider",
            Error::Mismatch { .. } => "mismatch",
            Error::NotFound { .. } => "not_found",
        }
    }

    /// The provider involved, if any.
    ///
    /// ```
    /// let e = refund_core::Error::InvalidRequest { field: "refund_id".into(), reason: "empty".into() };
    /// assert!(e.provider().is_none());
    /// ```
    pub fn provider(&self) -> Option<Provider> {
        match self {
            Error::InvalidRequest { .. } | Error::Config { .. } => None,
            Error::Transport { provider, .. }
            | Error::HttpStatus { provider, .. }
            | Error::BodyTooLarge { provider, .. }
            | Error::Decode { provider, .. }
            | Error::Signature { provider, .. }
            | Error::Signer { provider, .. }
            | Error::Business { provider, .. }
            | Error::Mismatch { provider, .. }
            | Error::NotFound { provider, .. } => Some(*provider),
        }
    }

    /// The provider's code for business and not-found errors, or the HTTP status.
    ///
    /// ```
    /// let e = refund_core::Error::NotFound { provider: refund_core::Provider::OpenApi, code: "21006".into(), message: String::new() };
    /// assert_eq!(e.code().as_deref(), Some("21006"));
    /// ```
    pub fn code(&self) -> Option<String> {
        match self {
            Error::Business { code, .. } | Error::NotFound { code, .. } => Some(code.clone()),
            Error::HttpStatus { status, .. } => Some(status.to_string()),
            _ => None,
        }
    }

    /// True when the provider said the refund does not exist.
    ///
    /// ```
    /// let e = refund_core::Error::config("x", "y");
    /// assert!(!e.is_not_found());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// A decode error for `field` holding `value`.
    ///
    /// ```
    /// let e = refund_core::Error::decode(refund_core::Provider::Cpos, "refund_amount", "abc", "not a decimal");
    /// assert_eq!(e.to_string(), "cpos: cannot decode `refund_amount` (\"abc\"): not a decimal");
    /// ```
    pub fn decode(
        provider: Provider,
        field: impl Into<String>,
        value: impl AsRef<str>,
        reason: impl Into<String>,
    ) -> Self {
        Error::Decode {
            provider,
            field: field.into(),
            value: excerpt(value.as_ref().as_bytes()),
            reason: reason.into(),
            source: None,
        }
    }

    /// A required setting was not given to a client builder.
    ///
    /// ```
    /// let e = refund_core::Error::missing_setting("mch_no");
    /// assert_eq!(e.to_string(), "configuration error: mch_no: is required");
    /// ```
    pub fn missing_setting(what: &str) -> Self {
        Error::config(what, "is required")
    }

    /// A configuration error: `what` (the setting) and why, without a cause.
    ///
    /// ```
    /// let e = refund_core::Error::config("base_url", "has no host");
    /// assert_eq!(e.to_string(), "configuration error: base_url: has no host");
    /// ```
    pub fn config(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Config {
            what: what.into(),
            reason: reason.into(),
            source: None,
        }
    }

    /// Signing a request failed: `source` says why (the key's back-end refused).
    ///
    /// ```
    /// let e = refund_core::Error::sign_failed(refund_core::Provider::OpenApi, std::io::Error::other("no entropy"));
    /// assert_eq!(e.to_string(), "openapi: could not sign the request");
    /// assert_eq!(refund_core::error::chain_text(&e), "openapi: could not sign the request: no entropy");
    /// ```
    pub fn sign_failed(provider: Provider, source: impl Into<BoxError>) -> Self {
        Error::Signature {
            provider,
            stage: SignatureStage::Sign,
            reason: String::new(),
            source: Some(source.into()),
        }
    }

    /// The same error with `source` as its cause, for the kinds that keep one (transport,
    /// decode, configuration, signature); any other kind is returned unchanged.
    ///
    /// ```
    /// use std::error::Error as _;
    /// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
    /// let e = refund_core::Error::config("secret_file", "cannot read /etc/x").caused_by(io);
    /// assert_eq!(e.source().unwrap().to_string(), "No such file or directory");
    /// ```
    pub fn caused_by(mut self, cause: impl Into<BoxError>) -> Self {
        match &mut self {
            Error::Transport { source, .. }
            | Error::Decode { source, .. }
            | Error::Config { source, .. }
            | Error::Signature { source, .. } => *source = Some(cause.into()),
            _ => {}
        }
        self
    }

    /// A field the answer must carry is absent (or null): a decode error, never a default.
    ///
    /// ```
    /// let e = refund_core::Error::missing_field(refund_core::Provider::Cpos, "refund_status", "missing refund status");
    /// assert_eq!(e.to_string(), "cpos: cannot decode `refund_status` (null): missing refund status");
    /// ```
    pub fn missing_field(provider: Provider, field: impl Into<String>, reason: &str) -> Self {
        Error::Decode {
            provider,
            field: field.into(),
            value: "null".to_owned(),
            reason: reason.to_owned(),
            source: None,
        }
    }

    /// An answer that is about something else than what was asked.
    ///
    /// ```
    /// let e = refund_core::Error::mismatch(refund_core::Provider::Edgeros, "data.refund_no", "AR1", "AR2");
    /// assert_eq!(e.kind(), "mismatch");
    /// assert_eq!(e.to_string(), "edgeros: the answer is not about what was asked: `data.refund_no` is \"AR2\", asked for \"AR1\"");
    /// ```
    pub fn mismatch(
        provider: Provider,
        field: impl Into<String>,
        asked: &str,
        answered: &str,
    ) -> Self {
        Error::Mismatch {
            provider,
            field: field.into(),
            asked: excerpt(asked.as_bytes()),
            answered: excerpt(answered.as_bytes()),
        }
    }

    /// A verification failure of a response or callback.
    ///
    /// ```
    /// let e = refund_core::Error::verify(refund_core::Provider::Edgeros, "signature mismatch");
    /// assert_eq!(e.kind(), "signature");
    /// ```
    pub fn verify(provider: Provider, reason: impl Into<String>) -> Self {
        Error::Signature {
            provider,
            stage: SignatureStage::Verify,
            reason: reason.into(),
            source: None,
        }
    }
}

/// An error and its causes on one line, each said once (`a: b: c`): transport errors hide the
/// cause that matters ("Connection refused") two or three sources down, and a cause's text is
/// often repeated in its parent's.
///
/// ```
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
/// #[derive(Debug)] struct Outer(std::io::Error);
/// impl std::fmt::Display for Outer { fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("tcp connect error") } }
/// impl std::error::Error for Outer { fn source(&self) -> Option<&(dyn std::error::Error + 'static)> { Some(&self.0) } }
/// assert_eq!(refund_core::error::chain_text(&Outer(io)), "tcp connect error: Connection refused");
/// ```
pub fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut current = error.source();
    while let Some(cause) = current {
        let said = cause.to_string();
        if !said.is_empty() && !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        current = cause.source();
    }
    text
}

/// Serialised as `{"kind", "message", "provider", "code"}`: the shape the CLI prints and
/// snapshot tests record; `message` is [`chain_text`], the error and its causes. `provider` and `code` are `null` where they do not apply.
///
/// ```
/// let e = refund_core::Error::NotFound { provider: refund_core::Provider::OpenApi, code: "21006".into(), message: "Merchant transaction not found".into() };
/// let v = serde_json::to_value(&e).unwrap();
/// assert_eq!(v["kind"], "not_found");
/// assert_eq!(v["provider"], "openapi");
/// assert_eq!(v["code"], "21006");
/// ```
impl serde::Serialize for Error {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Error", 4)?;
        s.serialize_field("kind", self.kind())?;
        s.serialize_field("message", &chain_text(self))?;
        s.serialize_field("provider", &self.provider())?;
        s.serialize_field("code", &self.code())?;
        s.end()
    }
}

/// The longest excerpt of a body kept in an error, in characters.
pub const EXCERPT_CHARS: usize = 160;

/// A short, printable, quoted excerpt of untrusted bytes: invalid UTF-8 replaced, control
/// characters escaped, cut at [`EXCERPT_CHARS`] characters with `…` appended.
///
/// ```
/// assert_eq!(refund_core::error::excerpt(b"<html>\n<h1>502</h1>"), "\"<html>\\n<h1>502</h1>\"");
/// assert!(refund_core::error::excerpt(&[b'a'; 1000]).ends_with("…"));
/// ```
pub fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(EXCERPT_CHARS + 8);
    out.push('"');
    let mut chars = text.chars();
    for c in chars.by_ref().take(EXCERPT_CHARS) {
        out.extend(c.escape_debug());
    }
    out.push('"');
    if chars.next().is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_only_where_safe() {
        let t = |kind| Error::Transport {
            provider: Provider::Cpos,
            kind,
            message: String::new(),
            source: None,
        };
        assert!(t(TransportErrorKind::Connect).is_retryable());
        assert!(t(TransportErrorKind::Timeout).is_retryable());
        assert!(t(TransportErrorKind::Body).is_retryable());
        assert!(!t(TransportErrorKind::Tls).is_retryable());
        let h = |status| Error::HttpStatus {
            provider: Provider::Cpos,
            status,
            body_excerpt: String::new(),
            retry_after: None,
        };
        assert!(h(429).is_retryable());
        assert!(h(500).is_retryable());
        assert!(h(599).is_retryable());
        assert!(!h(404).is_retryable());
        assert!(!h(400).is_retryable());
        assert!(!Error::verify(Provider::Cpos, "x").is_retryable());
        assert!(
            !Error::Business {
                provider: Provider::Cpos,
                code: "21000".into(),
                message: "server error".into(),
                meaning: None
            }
            .is_retryable()
        );
    }

    #[test]
    fn messages() {
        let e = Error::Business {
            provider: Provider::OpenApi,
            code: "21009".into(),
            message: "Timestamp expired".into(),
            meaning: Some("timestamp expired: check this machine's clock".into()),
        };
        insta::assert_snapshot!(e.to_string(), @"openapi: provider error 21009: Timestamp expired (timestamp expired: check this machine's clock)");
        let e = Error::HttpStatus {
            provider: Provider::Edgeros,
            status: 500,
            body_excerpt: excerpt(b"<html><body>Internal \x1b Error</body></html>"),
            retry_after: None,
        };
        insta::assert_snapshot!(e.to_string(), @r#"edgeros: HTTP 500: "<html><body>Internal \u{1b} Error</body></html>""#);
    }
}
