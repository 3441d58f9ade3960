//! The client: the only place in this crate that does I/O.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use refund_core::http::{HttpConfig, HttpTransport};
use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{
    Currency, Error, LookupKind, PreparedRequest, Provider, QueryFuture, Refund, RefundLookup,
    RefundProvider,
};

use crate::{map, sign};

/// The unit of the `timestamp` in `param`. The vendor's field table says milliseconds, its
/// example uses seconds; milliseconds is the default.
///
/// ```
/// assert_eq!("seconds".parse::<refund_openapi::TimestampUnit>().unwrap(), refund_openapi::TimestampUnit::Seconds);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// Milliseconds since the Unix epoch (`1677495496979`).
    #[default]
    Millis,
    /// Seconds since the Unix epoch (`1722416882`).
    Seconds,
}

impl TimestampUnit {
    /// The timestamp of `now` in this unit.
    ///
    /// ```
    /// let t = chrono::DateTime::from_timestamp(1722416882, 5_000_000).unwrap();
    /// assert_eq!(refund_openapi::TimestampUnit::Millis.of(t), 1722416882005);
    /// assert_eq!(refund_openapi::TimestampUnit::Seconds.of(t), 1722416882);
    /// ```
    pub fn of(self, now: DateTime<Utc>) -> i64 {
        match self {
            TimestampUnit::Millis => now.timestamp_millis(),
            TimestampUnit::Seconds => now.timestamp(),
        }
    }
}

impl std::str::FromStr for TimestampUnit {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "millis" | "milliseconds" | "ms" => Ok(TimestampUnit::Millis),
            "seconds" | "secs" | "s" => Ok(TimestampUnit::Seconds),
            other => Err(Error::Config {
                what: "timestamp_unit".to_owned(),
                reason: format!("{other:?} is neither \"millis\" nor \"seconds\""),
            }),
        }
    }
}

/// The source of "now" for the `timestamp` field; injectable so tests are deterministic.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Builds an [`OpenApiClient`]. The key is parsed here, once.
///
/// ```
/// # let pem = include_str!("../../../fixtures/keys/openapi_merchant_2048.pem");
/// let client = refund_openapi::OpenApiClient::builder()
///     .base_url("https://gateway.example")
///     .app_id("733b887a4a784708bb369524db5b6ded")
///     .merchant_private_key_pem(pem)?
///     .build()?;
/// # Ok::<(), refund_core::Error>(())
/// ```
#[derive(Default)]
pub struct OpenApiClientBuilder {
    base_url: Option<String>,
    app_id: Option<String>,
    key: Option<RsaPrivateKey>,
    currency: Option<Currency>,
    timestamp_unit: TimestampUnit,
    clock: Option<Clock>,
    http: HttpConfig,
}

impl fmt::Debug for OpenApiClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiClientBuilder")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("currency", &self.currency)
            .field("timestamp_unit", &self.timestamp_unit)
            .field("http", &self.http)
            .finish_non_exhaustive()
    }
}

impl OpenApiClientBuilder {
    /// The gateway's domain (`{domain}` in the vendor docs), e.g. `https://gateway.example`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant's `appId`.
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    /// The merchant's private key: PEM PKCS#8, PEM PKCS#1 or bare base64 DER (as vendors hand
    /// it out). 2048 and 4096 bits both work.
    pub fn merchant_private_key_pem(mut self, text: &str) -> Result<Self, Error> {
        self.key = Some(RsaPrivateKey::from_text(text)?);
        Ok(self)
    }

    /// Reads the merchant's private key from a file (any form [`Self::merchant_private_key_pem`]
    /// accepts).
    pub fn merchant_private_key_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.key = Some(RsaPrivateKey::from_file(path)?);
        Ok(self)
    }

    /// An already-parsed merchant key.
    pub fn merchant_private_key(mut self, key: RsaPrivateKey) -> Self {
        self.key = Some(key);
        self
    }

    /// The currency of the gateway's minor-unit amounts (default CNY).
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// Milliseconds (default) or seconds in `timestamp`.
    pub fn timestamp_unit(mut self, unit: TimestampUnit) -> Self {
        self.timestamp_unit = unit;
        self
    }

    /// Replaces the system clock (tests, replays).
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Timeouts, retries and the body limit.
    pub fn http_config(mut self, config: HttpConfig) -> Self {
        self.http = config;
        self
    }

    /// Checks the settings and builds the client (one HTTP client, the key ready to sign).
    pub fn build(self) -> Result<OpenApiClient, Error> {
        let missing = |what: &str| Error::Config {
            what: what.to_owned(),
            reason: "is required".to_owned(),
        };
        let base_url = self.base_url.ok_or_else(|| missing("base_url"))?;
        refund_core::request::validate_base_url(&base_url)?;
        let app_id = self.app_id.ok_or_else(|| missing("app_id"))?;
        if app_id.is_empty() {
            return Err(missing("app_id"));
        }
        Ok(OpenApiClient {
            base_url,
            app_id,
            key: self.key.ok_or_else(|| missing("merchant private key"))?,
            currency: self.currency.unwrap_or(Currency::Cny),
            timestamp_unit: self.timestamp_unit,
            clock: self.clock.unwrap_or_else(|| Arc::new(Utc::now)),
            transport: HttpTransport::new(Provider::OpenApi, self.http)?,
        })
    }
}

/// A refund-query client for an Open API gateway.
///
/// ```no_run
/// # async fn run() -> Result<(), refund_core::Error> {
/// use refund_openapi::{OpenApiClient, RefundLookup};
/// let pem = std::fs::read_to_string("keys/openapi_merchant.pem").unwrap();
/// let client = OpenApiClient::builder()
///     .base_url("https://gateway.example")
///     .app_id("733b887a4a784708bb369524db5b6ded")
///     .merchant_private_key_pem(&pem)?
///     .build()?;
/// for refund in client.query(&RefundLookup::original_transaction_id("CU518563189147832320")).await? {
///     println!("{:?} {} {}", refund.refund_id, refund.amount, refund.status);
/// }
/// # Ok(()) }
/// ```
pub struct OpenApiClient {
    base_url: String,
    app_id: String,
    key: RsaPrivateKey,
    currency: Currency,
    timestamp_unit: TimestampUnit,
    clock: Clock,
    transport: HttpTransport,
}

impl fmt::Debug for OpenApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenApiClient")
            .field("base_url", &self.base_url)
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("currency", &self.currency)
            .field("timestamp_unit", &self.timestamp_unit)
            .field("http", self.transport.config())
            .finish_non_exhaustive()
    }
}

impl OpenApiClient {
    /// Starts building a client.
    ///
    /// ```
    /// let builder = refund_openapi::OpenApiClient::builder();
    /// assert!(builder.build().is_err()); // required settings are missing
    /// ```
    pub fn builder() -> OpenApiClientBuilder {
        OpenApiClientBuilder::default()
    }

    /// Builds the signed request for `lookup` without sending it (sans-IO; the timestamp comes
    ///
    /// ```
    /// # let client = refund_openapi::OpenApiClient::builder().base_url("https://gw.example").app_id("app")
    /// #     .merchant_private_key_pem(include_str!("../../../fixtures/keys/openapi_merchant_2048.pem")).unwrap().build().unwrap();
    /// let request = client.prepare(&refund_openapi::RefundLookup::refund_id("1818566685947465728")).unwrap();
    /// assert!(request.url.starts_with("http"));
    /// ```
    /// from the client's clock).
    pub fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        let timestamp = self.timestamp_unit.of((self.clock)());
        sign::build_request(&self.base_url, &self.app_id, &self.key, lookup, timestamp)
    }

    /// Maps a response body received for a query (sans-IO).
    ///
    /// ```
    /// # let client = refund_openapi::OpenApiClient::builder().base_url("https://gw.example").app_id("app")
    /// #     .merchant_private_key_pem(include_str!("../../../fixtures/keys/openapi_merchant_2048.pem")).unwrap().build().unwrap();
    /// let refunds = client.parse_response(include_bytes!("../../../fixtures/openapi/responses/seed_success.json")).unwrap();
    /// assert_eq!(refunds.len(), 2);
    /// ```
    pub fn parse_response(&self, body: &[u8]) -> Result<Vec<Refund>, Error> {
        map::map_response_body(body, self.currency)
    }

    /// Queries the gateway. Several refunds can come back for one original transaction; an empty
    /// `Vec` means the gateway knows of none.
    pub async fn query(&self, lookup: &RefundLookup) -> Result<Vec<Refund>, Error> {
        let request = self.prepare(lookup)?;
        let response = self.transport.execute(&request).await?;
        self.parse_response(&response.body)
    }
}

impl RefundProvider for OpenApiClient {
    fn provider(&self) -> Provider {
        Provider::OpenApi
    }

    fn supported_lookups(&self) -> &'static [LookupKind] {
        sign::SUPPORTED_LOOKUPS
    }

    fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
        Box::pin(self.query(lookup))
    }
}
