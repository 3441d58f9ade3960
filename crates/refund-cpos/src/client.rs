//! The client: the only place in this crate that does I/O.

use refund_core::http::{HttpConfig, HttpTransport};
use refund_core::{
    Error, LookupKind, PreparedRequest, Provider, QueryFuture, Refund, RefundLookup,
    RefundProvider, Secret,
};

use crate::map::{self, CposRefund, ResponseSignature};
use crate::sign;

/// Builds a [`CposClient`].
///
/// ```
/// use refund_core::Secret;
/// let client = refund_cpos::CposClient::builder()
///     .base_url("http://47.95.131.62:8080")
///     .access_id("cpostest")
///     .secret(Secret::new("key"))
///     .build()?;
/// # Ok::<(), refund_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct CposClientBuilder {
    base_url: Option<String>,
    access_id: Option<String>,
    secret: Option<Secret>,
    response_signature: ResponseSignature,
    http: HttpConfig,
}

impl CposClientBuilder {
    /// The platform's base URL (no default: each deployment has its own).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant's `accessid`.
    pub fn access_id(mut self, access_id: impl Into<String>) -> Self {
        self.access_id = Some(access_id.into());
        self
    }

    /// The shared MD5 secret.
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Whether responses must be signed (default [`ResponseSignature::Required`]).
    pub fn response_signature(mut self, policy: ResponseSignature) -> Self {
        self.response_signature = policy;
        self
    }

    /// Timeouts, retries and the body limit.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Checks the settings and builds the client.
    pub fn build(self) -> Result<CposClient, Error> {
        let missing = |what: &str| Error::Config {
            what: what.to_owned(),
            reason: "is required".to_owned(),
        };
        let base_url = self.base_url.ok_or_else(|| missing("base_url"))?;
        refund_core::request::validate_base_url(&base_url)?;
        Ok(CposClient {
            base_url,
            access_id: self
                .access_id
                .filter(|a| !a.is_empty())
                .ok_or_else(|| missing("access_id"))?,
            secret: self
                .secret
                .filter(|s| !s.expose().is_empty())
                .ok_or_else(|| missing("secret"))?,
            response_signature: self.response_signature,
            transport: HttpTransport::new(Provider::Cpos, self.http)?,
        })
    }
}

/// A refund-query client for CPOS.
///
/// ```no_run
/// # async fn run() -> Result<(), refund_core::Error> {
/// use refund_cpos::{CposClient, RefundLookup};
/// use refund_core::Secret;
/// let client = CposClient::builder()
///     .base_url("http://47.95.131.62:8080")
///     .access_id("cpostest")
///     .secret(Secret::new(std::env::var("REFUND_CPOS_SECRET").unwrap()))
///     .build()?;
/// let refunds = client.query(&RefundLookup::merchant_refund_id("200324847290000004766")).await?;
/// let detailed = client.query_detailed(&RefundLookup::merchant_refund_id("200324847290000004766")).await?;
/// println!("{:?}", detailed.detail.total_amount);
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct CposClient {
    base_url: String,
    access_id: String,
    secret: Secret,
    response_signature: ResponseSignature,
    transport: HttpTransport,
}

impl CposClient {
    /// Starts building a client.
    ///
    /// ```
    /// let builder = refund_cpos::CposClient::builder();
    /// assert!(builder.build().is_err()); // required settings are missing
    /// ```
    pub fn builder() -> CposClientBuilder {
        CposClientBuilder::default()
    }

    /// Builds the signed request for `lookup` without sending it (sans-IO).
    ///
    /// ```
    /// # let client = refund_cpos::CposClient::builder().base_url("http://127.0.0.1:8080").access_id("cpostest")
    /// #     .secret(refund_core::Secret::new(include_str!("../../../fixtures/keys/cpos_secret.txt").trim())).build().unwrap();
    /// let request = client.prepare(&refund_cpos::RefundLookup::refund_id("WX200324161500830790814539")).unwrap();
    /// assert!(request.url.starts_with("http"));
    /// ```
    pub fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        sign::build_request(&self.base_url, &self.access_id, &self.secret, lookup)
    }

    /// Checks and maps a response body (sans-IO).
    ///
    /// ```
    /// # let client = refund_cpos::CposClient::builder().base_url("http://127.0.0.1:8080").access_id("cpostest")
    /// #     .secret(refund_core::Secret::new(include_str!("../../../fixtures/keys/cpos_secret.txt").trim())).build().unwrap();
    /// let refund = client.parse_response(include_bytes!("../../../fixtures/cpos/responses/seed_resigned.json")).unwrap();
    /// assert_eq!(refund.refund.amount.to_major_string(), "0.50");
    /// ```
    pub fn parse_response(&self, body: &[u8]) -> Result<CposRefund, Error> {
        map::map_response_body(body, &self.secret, self.response_signature)
    }

    /// Queries CPOS and returns the refund with CPOS's and WeChat's extra fields.
    pub async fn query_detailed(&self, lookup: &RefundLookup) -> Result<CposRefund, Error> {
        let request = self.prepare(lookup)?;
        let response = self.transport.execute(&request).await?;
        self.parse_response(&response.body)
    }

    /// Queries CPOS (the `Vec` holds exactly one refund on success).
    pub async fn query(&self, lookup: &RefundLookup) -> Result<Vec<Refund>, Error> {
        self.query_detailed(lookup).await.map(|r| vec![r.refund])
    }
}

impl RefundProvider for CposClient {
    fn provider(&self) -> Provider {
        Provider::Cpos
    }

    fn supported_lookups(&self) -> &'static [LookupKind] {
        sign::SUPPORTED_LOOKUPS
    }

    fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
        Box::pin(self.query(lookup))
    }
}
