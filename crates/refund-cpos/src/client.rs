//! The builder and the protocol core's pipeline drives (no I/O here: core's client sends).

use std::future::Future;

use refund_core::client::{Client, ClientOptions};
use refund_core::explain::{Fact, KeyIdentity, Parameter, SECRET_PLACEHOLDER, Signing};
use refund_core::json::FlatObject;
use refund_core::protocol::{self, Binding, Bound, Protocol};
use refund_core::signer::Draft;
use refund_core::{
    Currency, Error, LookupKind, Provider, Refund, RefundLookup, Secret, SignatureCheck,
};

use crate::map::{self, CposRefund};
use crate::sign::{self, ResponseSignature};
use crate::wire::{IdField, QueryResponse};

/// A refund-query client for CPOS: core's [`Client`] over [`CposProtocol`]. For CPOS's and
/// WeChat's extra fields, use [`CposDetail::query_detailed`].
///
/// ```no_run
/// # async fn run() -> Result<(), refund_core::Error> {
/// use refund_cpos::{CposClient, CposDetail, RefundLookup};
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
pub type CposClient = Client<CposProtocol>;

/// CPOS's protocol: the merchant's settings and secret, the response-signature policy, and the
/// pure steps core's pipeline runs.
#[derive(Debug)]
pub struct CposProtocol {
    base_url: String,
    access_id: String,
    secret: Secret,
    response_signature: ResponseSignature,
    /// The currency of every amount (CPOS answers in yuan).
    currency: Currency,
}

impl CposProtocol {
    fn secret_identity(&self) -> KeyIdentity {
        KeyIdentity::new(
            "shared secret",
            "MD5 shared secret",
            sign::secret_fingerprint(&self.secret),
        )
    }
}

impl Protocol for CposProtocol {
    type Answer<'b> = QueryResponse<'b>;
    type Builder = CposClientBuilder;
    /// One strict pass over the body, borrowing its strings: the signature is checked on its
    /// top-level scalars in key order and the deciding fields are read from it; no tree.
    type Document<'b> = FlatObject<'b>;
    /// The MD5 digest is made in place with the shared secret: drafts are always complete.
    type Pending = ();
    const PROVIDER: Provider = Provider::Cpos;
    const SUPPORTED_LOOKUPS: &'static [LookupKind] = sign::SUPPORTED_LOOKUPS;
    const MAX_ID_CHARS: usize = sign::MAX_ID_CHARS;

    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<()>, Error> {
        sign::build_request(&self.base_url, &self.access_id, &self.secret, lookup).map(Draft::Ready)
    }

    /// A shared secret has no public fingerprint: the check says how far, not with which key.
    fn verify_response(
        &self,
        _body: &[u8],
        document: &FlatObject<'_>,
    ) -> Result<SignatureCheck, Error> {
        sign::verify_response(&self.secret, document, self.response_signature).map(Into::into)
    }

    fn decode<'b>(
        &self,
        _body: &'b [u8],
        document: FlatObject<'b>,
    ) -> Result<QueryResponse<'b>, Error> {
        QueryResponse::from_document(&document)
    }

    /// On an answer that describes a refund, the id field of the lookup's kind (`refund_no`,
    /// `out_refund_no`, `channel_trade_no`). Error answers carry no refund ids.
    fn bindings<'a>(
        &'a self,
        response: &'a QueryResponse<'_>,
        lookup: &'a RefundLookup,
    ) -> Vec<Binding<'a>> {
        if !map::describes_refund(response) {
            return Vec::new();
        }
        let field = IdField::of(lookup);
        vec![Binding::new(
            field.name(),
            lookup.id(),
            field.answered(response),
        )]
    }

    fn map(&self, bound: &Bound<QueryResponse<'_>>) -> Result<Vec<Refund>, Error> {
        map::map_response(&bound.answer, self.currency)
    }

    /// The same signing as `prepare`, shown; the secret appears only as a placeholder and a
    /// fingerprint.
    fn explain_draft(&self, lookup: &RefundLookup) -> Result<(Draft<()>, Option<Signing>), Error> {
        let signed =
            sign::build_signed_request(&self.base_url, &self.access_id, &self.secret, lookup)?;
        let fields = sign::request_fields(&self.access_id, lookup);
        let mut parameters: Vec<Parameter> = fields
            .iter()
            .map(|(k, v)| Parameter::new(*k, *v, true))
            .collect();
        parameters.push(Parameter::new("key", SECRET_PLACEHOLDER, true));
        let signing = Signing {
            parameters,
            signed_text: sign::request_canonical(&self.access_id, lookup, SECRET_PLACEHOLDER),
            digest_algorithm: "MD5".to_owned(),
            digest: signed.signature.to_ascii_lowercase(),
            signature_algorithm:
                "MD5 of the signed text (secret included), upper-case hex, sent as `sign`"
                    .to_owned(),
            signature: signed.signature,
            key: self.secret_identity(),
        };
        Ok((Draft::Ready(signed.request), Some(signing)))
    }

    /// The canonical text of the top-level scalars (secret as a placeholder), the signature
    /// received and the one expected, the policy; nested objects (`attach`) are unsigned.
    fn explain_signature(&self, _body: &[u8], document: &FlatObject<'_>) -> Vec<Fact> {
        let received = document
            .get("sign")
            .and_then(|s| s.scalar_text())
            .map_or_else(|| "absent".to_owned(), |s| s.into_owned());
        let unsigned: Vec<&str> = document
            .members()
            .filter(|(k, m)| *k == "sign" || m.scalar_text().is_none())
            .map(|(k, _)| k)
            .collect();
        vec![
            Fact::new(
                "policy",
                match self.response_signature {
                    ResponseSignature::Required => "required",
                    ResponseSignature::Optional => {
                        "optional (a bad or missing sign is accepted, labelled unverified)"
                    }
                },
            ),
            Fact::new(
                "canonical",
                sign::response_canonical(document, SECRET_PLACEHOLDER),
            ),
            Fact::new("received sign", received),
            Fact::new("expected sign", sign::sign_response(&self.secret, document)),
            Fact::new("key", self.secret_identity().to_string()),
            Fact::new("unsigned fields", unsigned.join(", ")),
        ]
    }
}

/// CPOS's detailed answer (rates, fees, subsidies, WeChat's unsigned `attach`): opt-in, so a
/// plain [`Client::query`] never decodes, or fails on, a detail-only field.
pub trait CposDetail {
    /// Verifies, binds and maps a response body with its detail (sans-IO).
    ///
    /// ```
    /// use refund_cpos::{CposDetail, RefundLookup};
    /// # let client = refund_cpos::CposClient::builder().base_url("http://127.0.0.1:8080").access_id("cpostest")
    /// #     .secret(refund_core::Secret::new(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/cpos_secret.txt")).trim())).build().unwrap();
    /// let lookup = RefundLookup::merchant_refund_id("200324847290000004766");
    /// let r = client.parse_detailed(&lookup, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/cpos/responses/seed_resigned.json"))).unwrap();
    /// assert_eq!(r.detail.signed_refund_amount.to_major_string(), "-0.50");
    /// ```
    fn parse_detailed(&self, lookup: &RefundLookup, body: &[u8]) -> Result<CposRefund, Error>;

    /// Queries CPOS and returns the refund with CPOS's and WeChat's extra fields.
    fn query_detailed<'a>(
        &'a self,
        lookup: &'a RefundLookup,
    ) -> impl Future<Output = Result<CposRefund, Error>> + Send + 'a;
}

impl CposDetail for CposClient {
    fn parse_detailed(&self, lookup: &RefundLookup, body: &[u8]) -> Result<CposRefund, Error> {
        let bound = protocol::decode_bound(self.protocol(), lookup, body)?;
        map::map_detailed(&bound, body, self.protocol().currency)
    }

    async fn query_detailed(&self, lookup: &RefundLookup) -> Result<CposRefund, Error> {
        let body = self.fetch(lookup).await?;
        self.parse_detailed(lookup, &body)
    }
}

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
    options: ClientOptions,
}

impl CposClientBuilder {
    /// The platform's base URL (no default: each deployment has its own).
    ///
    /// ```
    /// let b = refund_cpos::CposClient::builder().base_url("http://47.95.131.62:8080");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant's `accessid`.
    ///
    /// ```
    /// let b = refund_cpos::CposClient::builder().access_id("cpostest");
    /// ```
    pub fn access_id(mut self, access_id: impl Into<String>) -> Self {
        self.access_id = Some(access_id.into());
        self
    }

    /// The shared MD5 secret.
    ///
    /// ```
    /// let b = refund_cpos::CposClient::builder().secret(refund_core::Secret::new("key"));
    /// ```
    pub fn secret(mut self, secret: Secret) -> Self {
        self.secret = Some(secret);
        self
    }

    /// Whether responses must be signed (default [`ResponseSignature::Required`]).
    ///
    /// ```
    /// let b = refund_cpos::CposClient::builder().response_signature(refund_cpos::ResponseSignature::Optional);
    /// ```
    pub fn response_signature(mut self, policy: ResponseSignature) -> Self {
        self.response_signature = policy;
        self
    }

    refund_core::client_builder_options!("refund_cpos::CposClient::builder()");

    /// Checks the settings and builds the client.
    ///
    /// ```
    /// assert_eq!(refund_cpos::CposClient::builder().build().unwrap_err().kind(), "config");
    /// ```
    pub fn build(self) -> Result<CposClient, Error> {
        let base_url = self
            .base_url
            .ok_or_else(|| Error::missing_setting("base_url"))?;
        refund_core::request::validate_base_url(&base_url)?;
        let protocol = CposProtocol {
            base_url,
            access_id: self
                .access_id
                .filter(|a| !a.is_empty())
                .ok_or_else(|| Error::missing_setting("access_id"))?,
            secret: self
                .secret
                .filter(|s| !s.expose().is_empty())
                .ok_or_else(|| Error::missing_setting("secret"))?,
            response_signature: self.response_signature,
            currency: Currency::Cny,
        };
        Client::new(protocol, self.options)
    }
}
