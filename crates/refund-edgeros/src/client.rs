//! The client: the only place in this crate that does I/O.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use refund_core::http::{HttpConfig, HttpTransport};
use refund_core::rsa_keys::{RsaPrivateKey, RsaPublicKey};
use refund_core::{
    Error, LookupKind, PreparedRequest, Provider, QueryFuture, Refund, RefundLookup, RefundProvider,
};

use crate::map;
use crate::sign::{self, RefundQuery};

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.edgeros.com";

/// The lookups EdgerOS supports: its refund number and the merchant's.
pub const SUPPORTED_LOOKUPS: &[LookupKind] = &[LookupKind::RefundId, LookupKind::MerchantRefundId];

/// The source of request nonces (32 characters of `[0-9A-Za-z]` by default); injectable so
/// tests are deterministic.
pub type NonceSource = Arc<dyn Fn() -> String + Send + Sync>;

/// Builds an [`EdgerosClient`]. Keys are parsed here, once; the platform key is required
/// because every signed response is verified.
///
/// ```
/// # let merchant = include_str!("../../../fixtures/keys/edgeros_merchant.pem");
/// # let platform = include_str!("../../../fixtures/keys/edgeros_platform.pub.pem");
/// let client = refund_edgeros::EdgerosClient::builder()
///     .mch_no("MCH1000000")
///     .merchant_private_key_pem(merchant)?
///     .platform_public_key_pem(platform)?
///     .build()?;
/// # Ok::<(), refund_core::Error>(())
/// ```
#[derive(Default)]
pub struct EdgerosClientBuilder {
    base_url: Option<String>,
    mch_no: Option<String>,
    merchant_key: Option<RsaPrivateKey>,
    platform_key: Option<RsaPublicKey>,
    nonce: Option<NonceSource>,
    http: HttpConfig,
}

impl fmt::Debug for EdgerosClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgerosClientBuilder")
            .field("base_url", &self.base_url)
            .field("mch_no", &self.mch_no)
            .field("merchant_key", &self.merchant_key)
            .field("platform_key", &self.platform_key)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl EdgerosClientBuilder {
    /// The API base URL (default [`DEFAULT_BASE_URL`]); point it at the sandbox in tests.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant number (`mch_no`).
    pub fn mch_no(mut self, mch_no: impl Into<String>) -> Self {
        self.mch_no = Some(mch_no.into());
        self
    }

    /// The merchant's private key: PEM PKCS#8/PKCS#1 or bare base64 DER.
    pub fn merchant_private_key_pem(mut self, text: &str) -> Result<Self, Error> {
        self.merchant_key = Some(RsaPrivateKey::from_text(text)?);
        Ok(self)
    }

    /// Reads the merchant's private key from a file.
    pub fn merchant_private_key_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.merchant_key = Some(RsaPrivateKey::from_file(path)?);
        Ok(self)
    }

    /// An already-parsed merchant key.
    pub fn merchant_private_key(mut self, key: RsaPrivateKey) -> Self {
        self.merchant_key = Some(key);
        self
    }

    /// An already-parsed platform public key.
    pub fn platform_public_key(mut self, key: RsaPublicKey) -> Self {
        self.platform_key = Some(key);
        self
    }

    /// The platform's public key (SubjectPublicKeyInfo PEM or bare base64 DER), used to verify
    /// every signed response.
    pub fn platform_public_key_pem(mut self, text: &str) -> Result<Self, Error> {
        self.platform_key = Some(RsaPublicKey::from_text(text)?);
        Ok(self)
    }

    /// Reads the platform's public key from a file.
    pub fn platform_public_key_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.platform_key = Some(RsaPublicKey::from_file(path)?);
        Ok(self)
    }

    /// Replaces the nonce source (tests).
    pub fn nonce_source(mut self, nonce: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Some(Arc::new(nonce));
        self
    }

    /// Timeouts, retries and the body limit.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<EdgerosClient, Error> {
        let missing = |what: &str| Error::Config {
            what: what.to_owned(),
            reason: "is required".to_owned(),
        };
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        refund_core::request::validate_base_url(&base_url)?;
        let mch_no = self
            .mch_no
            .filter(|m| !m.is_empty())
            .ok_or_else(|| missing("mch_no"))?;
        Ok(EdgerosClient {
            base_url,
            mch_no,
            merchant_key: self
                .merchant_key
                .ok_or_else(|| missing("merchant private key"))?,
            platform_key: self
                .platform_key
                .ok_or_else(|| missing("platform public key"))?,
            nonce: self
                .nonce
                .unwrap_or_else(|| Arc::new(|| refund_core::rsa_keys::random_token(32))),
            transport: HttpTransport::new(Provider::Edgeros, self.http)?,
        })
    }
}

/// A refund-query client for EdgerOS Pay. Every signed response is verified with the platform
/// key before any field is read; there is no switch to turn that off.
///
/// ```no_run
/// # async fn run() -> Result<(), refund_core::Error> {
/// use refund_edgeros::{EdgerosClient, RefundLookup};
/// let client = EdgerosClient::builder()
///     .mch_no("MCH1000000")
///     .merchant_private_key_file("keys/edgeros_merchant.pem")?
///     .platform_public_key_file("keys/edgeros_platform.pem")?
///     .build()?;
/// let refunds = client.query(&RefundLookup::refund_id("AR202112151405438637829842922855012187")).await?;
/// # Ok(()) }
/// ```
pub struct EdgerosClient {
    base_url: String,
    mch_no: String,
    merchant_key: RsaPrivateKey,
    platform_key: RsaPublicKey,
    nonce: NonceSource,
    transport: HttpTransport,
}

impl fmt::Debug for EdgerosClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgerosClient")
            .field("base_url", &self.base_url)
            .field("mch_no", &self.mch_no)
            .field("merchant_key", &self.merchant_key)
            .field("platform_key", &self.platform_key)
            .field("http", self.transport.config())
            .finish_non_exhaustive()
    }
}

impl EdgerosClient {
    /// Starts building a client.
    ///
    /// ```
    /// let builder = refund_edgeros::EdgerosClient::builder();
    /// assert!(builder.build().is_err()); // required settings are missing
    /// ```
    pub fn builder() -> EdgerosClientBuilder {
        EdgerosClientBuilder::default()
    }

    /// Builds the signed request for `lookup` without sending it (sans-IO).
    ///
    /// ```
    /// # let client = refund_edgeros::EdgerosClient::builder().mch_no("MCH1000000")
    /// #     .merchant_private_key_pem(include_str!("../../../fixtures/keys/edgeros_merchant.pem")).unwrap()
    /// #     .platform_public_key_pem(include_str!("../../../fixtures/keys/edgeros_platform.pub.pem")).unwrap().build().unwrap();
    /// let request = client.prepare(&refund_edgeros::RefundLookup::refund_id("AR202112151405438637829842922855012187")).unwrap();
    /// assert!(request.url.starts_with("http"));
    /// ```
    pub fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        lookup.require_kind(SUPPORTED_LOOKUPS)?;
        lookup.validate(sign::MAX_ID_CHARS)?;
        let query = match lookup.kind() {
            LookupKind::MerchantRefundId => RefundQuery::mch_refund_no(lookup.id()),
            _ => RefundQuery::refund_no(lookup.id()),
        };
        sign::build_request(
            &self.base_url,
            &self.mch_no,
            &self.merchant_key,
            &(self.nonce)(),
            &query,
        )
    }

    /// Verifies and maps a response body (sans-IO).
    ///
    /// ```
    /// # let client = refund_edgeros::EdgerosClient::builder().mch_no("MCH1000000")
    /// #     .merchant_private_key_pem(include_str!("../../../fixtures/keys/edgeros_merchant.pem")).unwrap()
    /// #     .platform_public_key_pem(include_str!("../../../fixtures/keys/edgeros_platform.pub.pem")).unwrap().build().unwrap();
    /// let refunds = client.parse_response(include_bytes!("../../../fixtures/edgeros/responses/seed_success_resigned.json")).unwrap();
    /// assert_eq!(refunds.len(), 1);
    /// ```
    pub fn parse_response(&self, body: &[u8]) -> Result<Vec<Refund>, Error> {
        map::map_response_body(body, &self.platform_key)
    }

    /// Queries EdgerOS for one refund (the `Vec` holds exactly one on success).
    pub async fn query(&self, lookup: &RefundLookup) -> Result<Vec<Refund>, Error> {
        let request = self.prepare(lookup)?;
        let response = self.transport.execute(&request).await?;
        self.parse_response(&response.body)
    }
}

impl RefundProvider for EdgerosClient {
    fn provider(&self) -> Provider {
        Provider::Edgeros
    }

    fn supported_lookups(&self) -> &'static [LookupKind] {
        SUPPORTED_LOOKUPS
    }

    fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
        Box::pin(self.query(lookup))
    }
}
