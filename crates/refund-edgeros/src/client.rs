//! The builder and the protocol core's pipeline drives (no I/O here: core's client sends).

use std::path::Path;
use std::sync::Arc;

use refund_core::client::{Client, ClientOptions};
use refund_core::digest::sha256_hex;
use refund_core::explain::{Fact, KeyIdentity, Parameter, Signing};
use refund_core::protocol::{Binding, Bound, Protocol};
use refund_core::rsa_keys::{PublicKeySet, RsaPublicKey};
use refund_core::signer::{Draft, Signer, Unsigned};
use refund_core::{
    Currency, Error, LookupKind, PreparedRequest, Provider, Refund, RefundLookup, SignatureCheck,
    Source,
};
use serde_json::Value;

use crate::map::{self, STATUS_OK};
use crate::sign;
use crate::wire::{self, IdField, RefundQuery};
use crate::wire::{QueryResponse, Text};

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.edgeros.com";

/// A refund-query client for EdgerOS Pay: core's [`Client`] over [`EdgerosProtocol`]. Every
/// signed response is verified with the platform keys (one, or several while the platform
/// rotates its key) before any field is read, and must name the configured merchant and the
/// refund asked for; there is no switch to turn either off.
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
pub type EdgerosClient = Client<EdgerosProtocol>;

/// EdgerOS's protocol: the merchant's settings and keys (parsed once), the nonce source, and the
/// pure steps core's pipeline runs.
#[derive(Debug)]
pub struct EdgerosProtocol {
    base_url: String,
    mch_no: String,
    signer: Arc<dyn Signer>,
    platform_keys: PublicKeySet,
    nonce: Source<String>,
    /// The currency of every amount (EdgerOS Pay answers in yuan).
    currency: Currency,
}

impl EdgerosProtocol {
    /// The configured merchant number.
    ///
    /// ```
    /// # let client = refund_edgeros::EdgerosClient::builder().mch_no("MCH1000000")
    /// #     .merchant_private_key_pem(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_merchant.pem"))).unwrap()
    /// #     .platform_public_key_pem(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pub.pem"))).unwrap().build().unwrap();
    /// assert_eq!(client.protocol().mch_no(), "MCH1000000");
    /// ```
    pub fn mch_no(&self) -> &str {
        &self.mch_no
    }

    /// The platform keys answers are verified with, in the order they are tried.
    pub fn platform_keys(&self) -> &PublicKeySet {
        &self.platform_keys
    }

    /// A draft with `nonce`: the canonical text to sign and the query it belongs to (one
    /// function, so an explained request is the prepared one byte for byte).
    fn draft_with(&self, lookup: &RefundLookup, nonce: String) -> Unsigned<PendingQuery> {
        let query = RefundQuery::for_lookup(lookup);
        let canonical = sign::request_canonical(&self.mch_no, &nonce, &query);
        Unsigned::new(canonical, PendingQuery { query, nonce })
    }
}

/// What an EdgerOS request waiting for its signature keeps besides the text to sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQuery {
    /// The ids queried.
    pub query: RefundQuery,
    /// The nonce the text was made with.
    pub nonce: String,
}

impl Protocol for EdgerosProtocol {
    type Answer<'b> = QueryResponse;
    type Builder = EdgerosClientBuilder;
    type Document<'b> = Value;
    type Pending = PendingQuery;
    const PROVIDER: Provider = Provider::Edgeros;
    const SUPPORTED_LOOKUPS: &'static [LookupKind] = sign::SUPPORTED_LOOKUPS;
    const MAX_ID_CHARS: usize = sign::MAX_ID_CHARS;

    /// A fresh nonce per attempt; the canonical text waits for the merchant signer.
    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<PendingQuery>, Error> {
        Ok(Draft::Unsigned(self.draft_with(lookup, self.nonce.get())))
    }

    fn attach(
        &self,
        unsigned: Unsigned<PendingQuery>,
        signature: &str,
    ) -> Result<PreparedRequest, Error> {
        let (_, pending) = unsigned.into_parts();
        Ok(sign::signed_request(
            &self.base_url,
            &self.mch_no,
            &pending.query,
            &pending.nonce,
            signature,
        ))
    }

    fn signer(&self) -> Option<&dyn Signer> {
        Some(self.signer.as_ref())
    }

    fn verify_response(&self, _body: &[u8], value: &Value) -> Result<SignatureCheck, Error> {
        sign::verify_response(&self.platform_keys, value)
    }

    fn decode(&self, _body: &[u8], value: Value) -> Result<QueryResponse, Error> {
        refund_core::json::decode_value(Provider::Edgeros, &value)
    }

    /// `data.mch_no` on every answer that carries `data` (success and error alike); on a
    /// success, `data.refund_no` or `data.mch_refund_no` per the lookup's kind.
    fn bindings<'a>(
        &'a self,
        answer: &'a QueryResponse,
        lookup: &'a RefundLookup,
    ) -> Vec<Binding<'a>> {
        let data = answer.data.as_ref();
        let field = |f: fn(&crate::wire::ResponseData) -> &Option<Text>| {
            data.and_then(|d| f(d).as_ref()).map(Text::as_str)
        };
        let success = answer.status.0 == STATUS_OK;
        let mut bindings = Vec::with_capacity(2);
        if data.is_some() || success {
            bindings.push(Binding::new(
                "data.mch_no",
                &self.mch_no,
                field(|d| &d.mch_no),
            ));
        }
        if success {
            let id = IdField::of(lookup);
            bindings.push(Binding::new(
                id.answer_path(),
                lookup.id(),
                data.and_then(|d| id.answered(d)),
            ));
        }
        bindings
    }

    fn map(&self, bound: &Bound<QueryResponse>) -> Result<Vec<Refund>, Error> {
        map::map_response(&bound.answer, self.currency)
    }

    /// The same draft as `prepare` (one nonce drawn), shown; core signs it with the same
    /// signer and names it.
    fn explain_draft(
        &self,
        lookup: &RefundLookup,
    ) -> Result<(Draft<PendingQuery>, Option<Signing>), Error> {
        let nonce = self.nonce.get();
        let unsigned = self.draft_with(lookup, nonce.clone());
        let canonical = unsigned.text().to_owned();
        let query = RefundQuery::for_lookup(lookup);
        let mut parameters: Vec<Parameter> = sign::request_fields(&self.mch_no, &nonce, &query)
            .into_iter()
            .map(|(k, v)| Parameter::new(k, v, true))
            .collect();
        parameters.push(Parameter::new("aco_pay_sdk", wire::ACO_PAY_SDK, false));
        parameters.push(Parameter::new("version", wire::API_VERSION, false));
        let signing = Signing {
            parameters,
            digest_algorithm: "SHA-256".to_owned(),
            digest: sha256_hex(canonical.as_bytes()),
            signed_text: canonical,
            signature_algorithm:
                "SHA256withRSA (RSASSA-PKCS1-v1_5), base64, sent as `x-acopay-sign`".to_owned(),
            signature: String::new(),
            key: self.signer.identity(),
        };
        Ok((Draft::Unsigned(unsigned), Some(signing)))
    }

    /// The canonical text rebuilt from the strict parse, the SDK's must-verify rule, the
    /// signature found and the platform key; `data.sign` and unknown top-level fields are outside
    /// the signature.
    fn explain_signature(&self, _body: &[u8], value: &Value) -> Vec<Fact> {
        let mut facts = Vec::new();
        match sign::response_canonical(value) {
            Ok(parts) => {
                facts.push(Fact::new(
                    "must verify",
                    if parts.must_verify() {
                        format!("yes (status {} or data.sign present)", parts.status)
                    } else {
                        format!(
                            "no (status {}, no data.sign: an unsigned error answer can only deny)",
                            parts.status
                        )
                    },
                ));
                facts.push(Fact::new(
                    "digest",
                    format!("SHA-256 {}", sha256_hex(parts.canonical.as_bytes())),
                ));
                facts.push(Fact::new("canonical", parts.canonical));
                facts.push(Fact::new(
                    "data.sign_type",
                    parts.sign_type.unwrap_or_else(|| "absent".to_owned()),
                ));
                facts.push(Fact::new(
                    "data.sign",
                    parts.sign.unwrap_or_else(|| "absent".to_owned()),
                ));
            }
            Err(e) => facts.push(Fact::new("canonical", format!("cannot be rebuilt: {e}"))),
        }
        let keys: Vec<KeyIdentity> = self
            .platform_keys
            .keys()
            .map(|k| k.identity("platform public key"))
            .collect();
        match keys.as_slice() {
            [only] => facts.push(Fact::new("key", only.to_string())),
            several => {
                for (i, key) in several.iter().enumerate() {
                    facts.push(Fact::new(format!("key {}", i + 1), key.to_string()));
                }
            }
        }
        let mut unsigned = vec!["data.sign".to_owned()];
        if let Some(object) = value.as_object() {
            unsigned.extend(
                object
                    .keys()
                    .filter(|k| {
                        !matches!(k.as_str(), "status" | "message" | "fieldErrors" | "data")
                    })
                    .cloned(),
            );
        }
        facts.push(Fact::new("unsigned fields", unsigned.join(", ")));
        facts
    }
}

/// Builds an [`EdgerosClient`]. Keys are parsed here, once; at least one platform key is
/// required because every signed response is verified. While the platform rotates its key, give
/// both ([`EdgerosClientBuilder::platform_public_keys`]): an answer verifies when any of them
/// does, and the key that did is named.
///
/// ```
/// # let merchant = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_merchant.pem"));
/// # let platform = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pub.pem"));
/// let client = refund_edgeros::EdgerosClient::builder()
///     .mch_no("MCH1000000")
///     .merchant_private_key_pem(merchant)?
///     .platform_public_key_pem(platform)?
///     .build()?;
/// # Ok::<(), refund_core::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct EdgerosClientBuilder {
    base_url: Option<String>,
    mch_no: Option<String>,
    signer: Option<Arc<dyn Signer>>,
    platform_keys: Vec<RsaPublicKey>,
    nonce: Option<Source<String>>,
    options: ClientOptions,
}

impl EdgerosClientBuilder {
    /// The API base URL (default [`DEFAULT_BASE_URL`]); point it at the sandbox in tests.
    ///
    /// ```
    /// let b = refund_edgeros::EdgerosClient::builder().base_url("http://127.0.0.1:8080");
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The merchant number (`mch_no`); every answer must name it.
    ///
    /// ```
    /// let b = refund_edgeros::EdgerosClient::builder().mch_no("MCH1000000");
    /// ```
    pub fn mch_no(mut self, mch_no: impl Into<String>) -> Self {
        self.mch_no = Some(mch_no.into());
        self
    }

    refund_core::merchant_private_key_setters!("refund_edgeros::EdgerosClient::builder()");

    /// The platform public key (SubjectPublicKeyInfo PEM or bare base64 DER) that verifies
    /// signed responses (the only one: it replaces any given before).
    ///
    /// ```
    /// let b = refund_edgeros::EdgerosClient::builder()
    ///     .platform_public_key_pem(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pub.pem")))?;
    /// # Ok::<(), refund_core::Error>(())
    /// ```
    pub fn platform_public_key_pem(self, text: &str) -> Result<Self, Error> {
        Ok(self.platform_public_key(RsaPublicKey::from_text(text)?))
    }

    /// Reads the platform public key from a file (the only one).
    ///
    /// ```
    /// assert!(refund_edgeros::EdgerosClient::builder().platform_public_key_file("/nonexistent.pem").is_err());
    /// ```
    pub fn platform_public_key_file(self, path: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(self.platform_public_key(RsaPublicKey::from_file(path)?))
    }

    /// An already-parsed platform public key (the only one: it replaces any given before).
    ///
    /// ```
    /// # let key = refund_core::rsa_keys::RsaPublicKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pub.pem"))).unwrap();
    /// let b = refund_edgeros::EdgerosClient::builder().platform_public_key(key);
    /// ```
    pub fn platform_public_key(mut self, key: RsaPublicKey) -> Self {
        self.platform_keys = vec![key];
        self
    }

    /// Several platform public keys (the current one and the next, during a rotation), tried
    /// in order; they replace any given before. An empty list leaves the client without one
    /// (`build` refuses it).
    ///
    /// ```
    /// # let old = refund_core::rsa_keys::RsaPublicKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pub.pem"))).unwrap();
    /// # let new = old.clone();
    /// let b = refund_edgeros::EdgerosClient::builder().platform_public_keys([old, new]);
    /// ```
    pub fn platform_public_keys(mut self, keys: impl IntoIterator<Item = RsaPublicKey>) -> Self {
        self.platform_keys = keys.into_iter().collect();
        self
    }

    /// Replaces the nonce source (32 characters of `[0-9A-Za-z]` by default; tests).
    ///
    /// ```
    /// let b = refund_edgeros::EdgerosClient::builder().nonce_source(|| "0123456789abcdefABCDEF0123456789".to_owned());
    /// ```
    pub fn nonce_source(mut self, nonce: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.nonce = Some(Source::new(nonce));
        self
    }

    refund_core::client_builder_options!("refund_edgeros::EdgerosClient::builder()");

    /// Checks the settings and builds the client.
    ///
    /// ```
    /// assert_eq!(refund_edgeros::EdgerosClient::builder().build().unwrap_err().kind(), "config");
    /// ```
    pub fn build(self) -> Result<EdgerosClient, Error> {
        let base_url = self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned());
        refund_core::request::validate_base_url(&base_url)?;
        let protocol = EdgerosProtocol {
            base_url,
            mch_no: self
                .mch_no
                .filter(|m| !m.is_empty())
                .ok_or_else(|| Error::missing_setting("mch_no"))?,
            signer: self
                .signer
                .ok_or_else(|| Error::missing_setting("merchant private key"))?,
            platform_keys: PublicKeySet::new(self.platform_keys)
                .ok_or_else(|| Error::missing_setting("platform public key"))?,
            nonce: self
                .nonce
                .unwrap_or_else(|| Source::new(|| refund_core::random::random_token(32))),
            currency: Currency::Cny,
        };
        Client::new(protocol, self.options)
    }
}
