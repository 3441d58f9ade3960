//! Request signing and response verification, byte-exact with the vendor's Java SDK (pure).
//!
//! The canonical JSON is written by [`crate::wire::to_canonical_json`] (Gson's rules, byte for
//! byte).
//!
//! **Request**: `{mch_no, mch_refund_no?, nonce, refund_no?, sign_type}` → SHA256withRSA with the
//! merchant key → `x-acopay-sign`. **Response**: `{"data": data − sign, "fieldErrors", "message",
//! "status"}` rebuilt from a strict parse → verified with the platform key.

use std::collections::BTreeMap;

use refund_core::rsa_keys::{PublicKeySet, RsaPrivateKey};
use refund_core::{
    Error, LookupKind, Method, PreparedRequest, Provider, SignatureCheck, SignedRequest,
    Verification,
};
use serde_json::Value;

use crate::map::STATUS_OK;
use crate::wire::{Canonical, RefundQuery, to_canonical_json};

/// The only signature type EdgerOS uses.
pub const SIGN_TYPE: &str = "SHA256withRSA";
/// The request path.
pub const QUERY_PATH: &str = "/pay/v1/transactions/refund";
/// Longest refund number accepted (characters).
pub const MAX_ID_CHARS: usize = 50;
/// The lookups EdgerOS supports: its refund number and the merchant's.
pub const SUPPORTED_LOOKUPS: &[LookupKind] = &[LookupKind::RefundId, LookupKind::MerchantRefundId];

/// The signed fields of a query, sorted by name: `mch_no`, `nonce`, `sign_type` and the ids
/// given (nulls dropped, empty strings kept). `aco_pay_sdk` and `version` are sent but never
/// signed.
///
/// ```
/// use refund_edgeros::sign::request_fields;
/// use refund_edgeros::wire::RefundQuery;
/// let q = RefundQuery::refund_no("AR1");
/// let names: Vec<&str> = request_fields("MCH1", "n", &q).iter().map(|(k, _)| *k).collect();
/// assert_eq!(names, ["mch_no", "nonce", "refund_no", "sign_type"]);
/// ```
pub fn request_fields<'a>(
    mch_no: &'a str,
    nonce: &'a str,
    query: &'a RefundQuery,
) -> Vec<(&'static str, &'a str)> {
    let mut fields = vec![
        ("mch_no", mch_no),
        ("nonce", nonce),
        ("sign_type", SIGN_TYPE),
    ];
    if let Some(v) = &query.mch_refund_no {
        fields.push(("mch_refund_no", v));
    }
    if let Some(v) = &query.refund_no {
        fields.push(("refund_no", v));
    }
    fields.sort_unstable_by_key(|(k, _)| *k);
    fields
}

/// The exact text the merchant signs for a query: [`request_fields`] as canonical JSON.
///
/// ```
/// use refund_edgeros::sign::request_canonical;
/// use refund_edgeros::wire::RefundQuery;
/// let text = request_canonical("MCH1000000", "n", &RefundQuery::refund_no("AR1"));
/// assert_eq!(text, r#"{"mch_no":"MCH1000000","nonce":"n","refund_no":"AR1","sign_type":"SHA256withRSA"}"#);
/// ```
pub fn request_canonical(mch_no: &str, nonce: &str, query: &RefundQuery) -> String {
    let map = request_fields(mch_no, nonce, query)
        .into_iter()
        .map(|(k, v)| (k.to_owned(), Canonical::Str(v.to_owned())))
        .collect();
    to_canonical_json(&Canonical::Obj(map))
}

/// Signs a canonical text with the merchant key: base64 SHA256withRSA.
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_merchant.pem"))).unwrap();
/// assert_eq!(refund_edgeros::sign::sign_canonical(&key, "{}").unwrap().len(), 344);
/// ```
pub fn sign_canonical(key: &RsaPrivateKey, canonical: &str) -> Result<String, Error> {
    key.sign_base64(canonical.as_bytes())
        .map_err(|e| Error::sign_failed(Provider::Edgeros, e))
}

/// Builds the signed `GET` request: ids, `aco_pay_sdk` and `version` in the query string, the
/// signature in `x-acopay-*` headers.
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_merchant.pem"))).unwrap();
/// use refund_edgeros::sign::build_request;
/// use refund_edgeros::wire::RefundQuery;
/// let req = build_request("https://api.edgeros.com", "MCH1000000", &key, &RefundQuery::refund_no("AR1"), "0123456789abcdefABCDEF0123456789").unwrap();
/// assert_eq!(req.url, "https://api.edgeros.com/pay/v1/transactions/refund?refund_no=AR1&aco_pay_sdk=2.0.0&version=1.0");
/// assert_eq!(req.header("x-acopay-nonce"), Some("0123456789abcdefABCDEF0123456789"));
/// ```
pub fn build_request(
    base_url: &str,
    mch_no: &str,
    key: &RsaPrivateKey,
    query: &RefundQuery,
    nonce: &str,
) -> Result<PreparedRequest, Error> {
    build_signed_request(base_url, mch_no, key, query, nonce).map(|s| s.request)
}

/// [`build_request`], also returning the signature it carries (for explanations).
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_merchant.pem"))).unwrap();
/// use refund_edgeros::sign::build_signed_request;
/// use refund_edgeros::wire::RefundQuery;
/// let signed = build_signed_request("https://api.edgeros.com", "MCH1", &key, &RefundQuery::refund_no("AR1"), "n").unwrap();
/// assert_eq!(signed.request.header("x-acopay-sign"), Some(signed.signature.as_str()));
/// ```
pub fn build_signed_request(
    base_url: &str,
    mch_no: &str,
    key: &RsaPrivateKey,
    query: &RefundQuery,
    nonce: &str,
) -> Result<SignedRequest, Error> {
    let canonical = request_canonical(mch_no, nonce, query);
    let sign = sign_canonical(key, &canonical)?;
    Ok(SignedRequest {
        request: signed_request(base_url, mch_no, query, nonce, &sign),
        signature: sign,
        signed_text: Some(canonical),
    })
}

/// The `GET` request carrying `signature` (base64 SHA256withRSA over [`request_canonical`] of the
/// same `mch_no`, `nonce` and `query`, made wherever the key lives): ids, `aco_pay_sdk` and
/// `version` in the query string, the signature in `x-acopay-*` headers.
///
/// ```
/// use refund_edgeros::sign::signed_request;
/// use refund_edgeros::wire::RefundQuery;
/// let req = signed_request("https://api.edgeros.com", "MCH1", &RefundQuery::refund_no("AR1"), "n", "c2ln");
/// assert_eq!(req.header("x-acopay-sign"), Some("c2ln"));
/// ```
pub fn signed_request(
    base_url: &str,
    mch_no: &str,
    query: &RefundQuery,
    nonce: &str,
    signature: &str,
) -> PreparedRequest {
    PreparedRequest {
        method: Method::Get,
        url: query.url(&refund_core::request::join_url(base_url, QUERY_PATH)),
        headers: vec![
            ("accept".into(), "application/json".into()),
            ("x-acopay-mch-no".into(), mch_no.to_owned().into()),
            ("x-acopay-nonce".into(), nonce.to_owned().into()),
            ("x-acopay-sign-type".into(), SIGN_TYPE.into()),
            ("x-acopay-sign".into(), signature.to_owned().into()),
        ],
        body: None,
    }
}

/// What a response says about its own signature, read from a strict parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedParts {
    /// The `status` field, as a number.
    pub status: i64,
    /// `data.sign`, if present.
    pub sign: Option<String>,
    /// `data.sign_type`, if present.
    pub sign_type: Option<String>,
    /// The canonical text the platform signed, rebuilt from the parse.
    pub canonical: String,
}

impl SignedParts {
    /// The SDK's rule: a response must verify when `status` is the success status (200) or
    /// `data.sign` is present.
    pub fn must_verify(&self) -> bool {
        self.status == STATUS_OK || self.sign.is_some()
    }
}

fn scalar_text(path: &str, value: &Value) -> Result<Option<String>, Error> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(Error::decode(
            Provider::Edgeros,
            path,
            other.to_string(),
            "expected a string or an integer (the signed model has only text fields)",
        )),
    }
}

/// Rebuilds the canonical text of a response from its strict parse, as the official SDK does
/// from its typed model: `status` as a number, every `data` field as a string (unknown fields
/// included), `sign` left out, nulls dropped, keys sorted.
///
/// Unknown `data` fields make the official SDK fail to parse; we keep them in the canonical text
/// (so a platform that adds a field and signs it still verifies) and ignore them in the mapping.
///
/// ```
/// let v = refund_core::json::parse_strict(br#"{"status":"200","message":"SUCCESS","fieldErrors":null,"data":{"sign":"s","refund_amount":100,"x":null}}"#).unwrap();
/// let parts = refund_edgeros::sign::response_canonical(&v).unwrap();
/// assert_eq!(parts.canonical, r#"{"data":{"refund_amount":"100"},"message":"SUCCESS","status":200}"#);
/// assert!(parts.must_verify());
/// ```
pub fn response_canonical(response: &Value) -> Result<SignedParts, Error> {
    let object = response.as_object().ok_or_else(|| {
        Error::decode(
            Provider::Edgeros,
            "body",
            response.to_string(),
            "expected a JSON object",
        )
    })?;
    let status_value = object.get("status").unwrap_or(&Value::Null);
    let status = scalar_text("status", status_value)?
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| {
            Error::decode(
                Provider::Edgeros,
                "status",
                status_value.to_string(),
                "expected an integer status",
            )
        })?;
    let mut top = BTreeMap::new();
    top.insert("status".to_owned(), Canonical::Int(status));
    for name in ["message", "fieldErrors"] {
        if let Some(text) = scalar_text(name, object.get(name).unwrap_or(&Value::Null))? {
            top.insert(name.to_owned(), Canonical::Str(text));
        }
    }
    let mut sign = None;
    let mut sign_type = None;
    match object.get("data").unwrap_or(&Value::Null) {
        Value::Null => {}
        Value::Object(data) => {
            let mut fields = BTreeMap::new();
            for (key, value) in data {
                let Some(text) = scalar_text(&format!("data.{key}"), value)? else {
                    continue;
                };
                match key.as_str() {
                    "sign" => sign = Some(text),
                    "sign_type" => {
                        sign_type = Some(text.clone());
                        fields.insert(key.clone(), Canonical::Str(text));
                    }
                    _ => {
                        fields.insert(key.clone(), Canonical::Str(text));
                    }
                }
            }
            top.insert("data".to_owned(), Canonical::Obj(fields));
        }
        other => {
            return Err(Error::decode(
                Provider::Edgeros,
                "data",
                other.to_string(),
                "expected an object",
            ));
        }
    }
    Ok(SignedParts {
        status,
        sign,
        sign_type,
        canonical: to_canonical_json(&Canonical::Obj(top)),
    })
}

/// Verifies a parsed response with the platform keys when the SDK's rule requires it
/// (`status` 200 or `data.sign` present): [`Verification::Verified`] with the fingerprint of the
/// key (of the set) that verified it, [`Verification::Unverified`] for an unsigned error answer
/// (which can only deny, never fake a refund).
///
/// A response that must be signed but is not, a `sign_type` other than `SHA256withRSA`, or a
/// signature that no key of the set matches is an [`Error::Signature`]. There is no way to skip
/// this.
///
/// ```
/// # let platform = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/edgeros_platform.pem"))).unwrap();
/// use refund_core::Verification;
/// let keys = refund_core::rsa_keys::PublicKeySet::from(platform.public_key().clone());
/// let v = refund_core::json::parse_strict(br#"{"status":500,"message":"err","data":null}"#).unwrap();
/// assert_eq!(refund_edgeros::sign::verify_response(&keys, &v).unwrap().verification, Verification::Unverified);
/// let v = refund_core::json::parse_strict(br#"{"status":200,"message":"SUCCESS","data":{"code":"SUCCESS"}}"#).unwrap();
/// assert!(refund_edgeros::sign::verify_response(&keys, &v).is_err());
/// ```
pub fn verify_response(
    platform_keys: &PublicKeySet,
    response: &Value,
) -> Result<SignatureCheck, Error> {
    let parts = response_canonical(response)?;
    if !parts.must_verify() {
        return Ok(Verification::Unverified.into());
    }
    let sign = parts.sign.as_deref().ok_or_else(|| {
        Error::verify(
            Provider::Edgeros,
            format!("status {} response carries no data.sign", parts.status),
        )
    })?;
    match parts.sign_type.as_deref() {
        Some(SIGN_TYPE) => {}
        other => {
            return Err(Error::verify(
                Provider::Edgeros,
                format!(
                    "data.sign_type is {}; only {SIGN_TYPE:?} is accepted",
                    other.map_or("missing".to_owned(), |t| format!("{t:?}"))
                ),
            ));
        }
    }
    let key = platform_keys
        .verify_base64(parts.canonical.as_bytes(), sign)
        .map_err(|e| {
            let tried = platform_keys.fingerprints().count();
            let reason = if tried == 1 {
                "data.sign".to_owned()
            } else {
                format!("data.sign (none of the {tried} platform keys verifies it)")
            };
            Error::verify(Provider::Edgeros, reason).caused_by(e)
        })?;
    Ok(SignatureCheck::verified_by(key.to_owned()))
}
