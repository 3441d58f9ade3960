//! The builder and the protocol core's pipeline drives (no I/O here: core's client sends).

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use refund_core::client::{Client, ClientOptions};
use refund_core::digest::sha256_hex;
use refund_core::explain::{Fact, Parameter, Signing};
use refund_core::protocol::{Binding, Bound, Protocol};
use refund_core::signer::{Draft, Signer, Unsigned};
use refund_core::{
    Currency, Error, LookupKind, PreparedRequest, Provider, Refund, RefundLookup, SignatureCheck,
    Source, Verification,
};
use serde::Deserialize;
use serde_json::Value;

use crate::map::{self, CODE_SUCCESS};
use crate::sign;
use crate::wire::{IdField, QueryResponse};

/// The unit of the `timestamp` in `param`. The vendor's field table says milliseconds, its
/// example uses seconds; milliseconds is the default.
///
/// ```
/// assert_eq!("seconds".parse::<refund_openapi::TimestampUnit>().unwrap(), refund_openapi::TimestampUnit::Seconds);
/// let unit: refund_openapi::TimestampUnit = serde_json::from_str("\"ms\"").unwrap();
/// assert_eq!(unit, refund_openapi::TimestampUnit::Millis);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[non_exhaustive]
pub enum TimestampUnit {
    /// Milliseconds since the Unix epoch (`1677495496979`).
    #[default]
    #[serde(rename = "millis", alias = "milliseconds", alias = "ms")]
    Millis,
    /// Seconds since the Unix epoch (`1722416882`).
    #[serde(rename = "seconds", alias = "secs", alias = "s")]
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
        TimestampUnit::deserialize(
            serde::de::value::StrDeserializer::<serde::de::value::Error>::new(s),
        )
        .map_err(|_| {
            Error::config(
                "timestamp_unit",
                format!("{s:?} is neither \"millis\" nor \"seconds\""),
            )
        })
    }
}

/// A refund-query client for an Open API gateway: core's [`Client`] over [`OpenApiProtocol`].
/// Answers are unsigned by protocol (labelled [`Verification::NotSigned`]) but still bound:
/// every refund in an answer must carry the id that was looked up.
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
pub type OpenApiClient = Client<OpenApiProtocol>;

/// The Open API protocol: the merchant's settings and key (parsed once), the clock, and the
/// pure steps core's pipeline runs.
#[derive(Debug)]
pub struct OpenApiProtocol {
    base_url: String,
    app_id: String,
    signer: Arc<dyn Signer>,
    currency: Currency,
    timestamp_unit: TimestampUnit,
    clock: Source<DateTime<Utc>>,
}

impl Protocol for OpenApiProtocol {
    type Answer<'b> = QueryResponse;
    type Builder = OpenApiClientBuilder;
    type Document<'b> = Value;
    /// Attaching needs nothing besides `param`, the text that is signed.
    type Pending = ();
    const PROVIDER: Provider = Provider::OpenApi;
    const SUPPORTED_LOOKUPS: &'static [LookupKind] = sign::SUPPORTED_LOOKUPS;
    const MAX_ID_CHARS: usize = sign::MAX_ID_CHARS;

    /// A current timestamp for every attempt (the gateway rejects stale ones); `param` waits
    /// for the merchant signer.
    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<()>, Error> {
        let timestamp = self.timestamp_unit.of(self.clock.get());
        let param = sign::request_canonical(lookup, timestamp)?;
        Ok(Draft::Unsigned(Unsigned::new(param, ())))
    }

    fn attach(&self, unsigned: Unsigned<()>, signature: &str) -> Result<PreparedRequest, Error> {
        sign::signed_request(&self.base_url, &self.app_id, unsigned.text(), signature)
    }

    fn signer(&self) -> Option<&dyn Signer> {
        Some(self.signer.as_ref())
    }

    /// The gateway does not sign its answers.
    fn verify_response(&self, _body: &[u8], _value: &Value) -> Result<SignatureCheck, Error> {
        Ok(Verification::NotSigned.into())
    }

    fn decode(&self, _body: &[u8], value: Value) -> Result<QueryResponse, Error> {
        refund_core::json::decode_value(Provider::OpenApi, &value)
    }

    /// On a success, every item in `data` carries the looked-up `refundTransactionId` or
    /// `originalTransactionId`. Error answers name nothing to bind.
    fn bindings<'a>(
        &'a self,
        answer: &'a QueryResponse,
        lookup: &'a RefundLookup,
    ) -> Vec<Binding<'a>> {
        if answer.code != CODE_SUCCESS {
            return Vec::new();
        }
        let field = IdField::of(lookup);
        answer
            .data
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, record)| {
                Binding::new(
                    Cow::Owned(format!("data[{i}].{}", field.name())),
                    lookup.id(),
                    field.answered(record),
                )
            })
            .collect()
    }

    fn map(&self, bound: &Bound<QueryResponse>) -> Result<Vec<Refund>, Error> {
        map::map_response(&bound.answer, self.currency)
    }

    /// The same draft as `prepare` (one timestamp read), shown: `param`'s fields are what is
    /// signed, `appId` travels outside the signature. Core signs it with the same signer.
    fn explain_draft(&self, lookup: &RefundLookup) -> Result<(Draft<()>, Option<Signing>), Error> {
        let timestamp = self.timestamp_unit.of(self.clock.get());
        let param = sign::request_canonical(lookup, timestamp)?;
        let field = IdField::of(lookup);
        let id_name = format!("param.{}", field.name());
        let signing = Signing {
            parameters: vec![
                Parameter::new(id_name, lookup.id(), true),
                Parameter::new("param.timestamp", timestamp.to_string(), true),
                Parameter::new("appId", self.app_id.as_str(), false),
            ],
            signed_text: param.clone(),
            digest_algorithm: "SHA-256".to_owned(),
            digest: sha256_hex(param.as_bytes()),
            signature_algorithm: "SHA256withRSA (RSASSA-PKCS1-v1_5), base64, sent as `sign`"
                .to_owned(),
            signature: String::new(),
            key: self.signer.identity(),
        };
        Ok((Draft::Unsigned(Unsigned::new(param, ())), Some(signing)))
    }

    /// The gateway signs no answers: every field is outside any signature.
    fn explain_signature(&self, _body: &[u8], value: &Value) -> Vec<Fact> {
        vec![Fact::new(
            "unsigned fields",
            value
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>().join(", "))
                .unwrap_or_default(),
        )]
    }
}

/// Builds an [`OpenApiClient`]. The key is parsed here, once.
///
/// ```
/// # let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"));
/// let client = refund_openapi::OpenApiClient::builder()
///     .base_url("https://gateway.example")
///     .app_id("733b887a4a784708bb369524db5b6ded")
///     .merchant_private_key_pem(pem)?
///     .build()?;
/// # Ok::<(), refund_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct OpenApiClientBuilder {
    base_url: Option<String>,
    app_id: Option<String>,
    signer: Option<Arc<dyn Signer>>,
    currency: Option<Currency>,
    timestamp_unit: TimestampUnit,
    clock: Option<Source<DateTime<Utc>>>,
    options: ClientOptions,
}

impl OpenApiClientBuilder {
    /// The gateway's domain (`{domain}` in the vendor docs), e.g. `https://gateway.example`.
    ///
    /// ```
    /// let b = refund_openapi::OpenApiClient::builder().base_url("https://gateway.example");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant's `appId`.
    ///
    /// ```
    /// let b = refund_openapi::OpenApiClient::builder().app_id("733b887a4a784708bb369524db5b6ded");
    /// ```
    pub fn app_id(mut self, app_id: impl Into<String>) -> Self {
        self.app_id = Some(app_id.into());
        self
    }

    refund_core::merchant_private_key_setters!("refund_openapi::OpenApiClient::builder()");

    /// The currency of the gateway's minor-unit amounts (default CNY).
    ///
    /// ```
    /// let b = refund_openapi::OpenApiClient::builder().currency(refund_core::Currency::Cny);
    /// ```
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = Some(currency);
        self
    }

    /// Milliseconds (default) or seconds in `timestamp`.
    ///
    /// ```
    /// let b = refund_openapi::OpenApiClient::builder().timestamp_unit(refund_openapi::TimestampUnit::Seconds);
    /// ```
    pub fn timestamp_unit(mut self, unit: TimestampUnit) -> Self {
        self.timestamp_unit = unit;
        self
    }

    /// Replaces the system clock (tests, replays).
    ///
    /// ```
    /// let b = refund_openapi::OpenApiClient::builder().clock(|| chrono::DateTime::from_timestamp(1722416882, 0).unwrap());
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Some(Source::new(clock));
        self
    }

    refund_core::client_builder_options!("refund_openapi::OpenApiClient::builder()");

    /// Checks the settings and builds the client (one HTTP client, the key ready to sign).
    ///
    /// ```
    /// assert_eq!(refund_openapi::OpenApiClient::builder().build().unwrap_err().kind(), "config");
    /// ```
    pub fn build(self) -> Result<OpenApiClient, Error> {
        let base_url = self
            .base_url
            .ok_or_else(|| Error::missing_setting("base_url"))?;
        refund_core::request::validate_base_url(&base_url)?;
        let protocol = OpenApiProtocol {
            base_url,
            app_id: self
                .app_id
                .filter(|a| !a.is_empty())
                .ok_or_else(|| Error::missing_setting("app_id"))?,
            signer: self
                .signer
                .ok_or_else(|| Error::missing_setting("merchant private key"))?,
            currency: self.currency.unwrap_or(Currency::Cny),
            timestamp_unit: self.timestamp_unit,
            clock: self.clock.unwrap_or_else(|| Source::new(Utc::now)),
        };
        Client::new(protocol, self.options)
    }
}
