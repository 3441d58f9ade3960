//! Building and signing the `param` text (pure; no I/O).
//!
//! **The rule**: `param` is a JSON object (`originalTransactionId` or `refundTransactionId`, then
//! `timestamp`) serialised once; the signature is RSASSA-PKCS1-v1_5 with SHA-256 over the UTF-8
//! bytes of exactly that text, base64-encoded; the same text is sent as the `param` string.
//! The vendor confirms "sign `param` with the merchant RSA private key"; SHA-256 is inferred from
//! third-party integrations. If a gateway turns out to differ, [`sign_canonical`] is the one place
//! to change.

use refund_core::rsa_keys::{RsaPrivateKey, RsaPublicKey};
use refund_core::{Error, LookupKind, PreparedRequest, Provider, RefundLookup, SignedRequest};

use crate::wire::{IdField, QueryParam, QueryRequestBody};

/// The request path under the configured domain.
pub const QUERY_PATH: &str = "/open-api/refund/payments";

/// Longest id the gateway accepts (characters).
pub const MAX_ID_CHARS: usize = 32;

/// The lookups the gateway supports.
pub const SUPPORTED_LOOKUPS: &[LookupKind] =
    &[LookupKind::RefundId, LookupKind::OriginalTransactionId];

/// Builds the exact `param` text for `lookup` at `timestamp` (the pipeline has already checked
/// the lookup against [`SUPPORTED_LOOKUPS`] and [`MAX_ID_CHARS`]).
///
/// ```
/// use refund_core::RefundLookup;
/// let param = refund_openapi::sign::request_canonical(&RefundLookup::original_transaction_id("CU518563189147832320"), 1722416882).unwrap();
/// assert_eq!(param, r#"{"originalTransactionId":"CU518563189147832320","timestamp":1722416882}"#);
/// ```
pub fn request_canonical(lookup: &RefundLookup, timestamp: i64) -> Result<String, Error> {
    let field = IdField::of(lookup);
    let param = QueryParam::new(field, lookup.id(), timestamp);
    serde_json::to_string(&param).map_err(|e| Error::InvalidRequest {
        field: "param".to_owned(),
        reason: e.to_string(),
    })
}

/// Signs exactly the bytes of `param`: base64 SHA256withRSA.
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
/// let sign = refund_openapi::sign::sign_canonical(&key, "{}").unwrap();
/// assert_eq!(sign.len(), 344);
/// ```
pub fn sign_canonical(key: &RsaPrivateKey, param: &str) -> Result<String, Error> {
    key.sign_base64(param.as_bytes())
        .map_err(|e| Error::sign_failed(Provider::OpenApi, e))
}

/// Verifies a gateway signature over exactly the bytes of `param` (refund callbacks).
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_platform_2048.pem"))).unwrap();
/// let sign = refund_openapi::sign::sign_canonical(&key, "{}").unwrap();
/// assert!(refund_openapi::sign::verify_canonical(key.public_key(), "{}", &sign).is_ok());
/// assert!(refund_openapi::sign::verify_canonical(key.public_key(), "{ }", &sign).is_err());
/// ```
pub fn verify_canonical(key: &RsaPublicKey, param: &str, sign: &str) -> Result<(), Error> {
    key.verify_base64(param.as_bytes(), sign)
        .map_err(|e| Error::verify(Provider::OpenApi, "callback `sign` over `param`").caused_by(e))
}

/// Builds the complete signed request: `POST {base}/open-api/refund/payments` with the JSON
/// body `{appId, param, sign}`.
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
/// use refund_core::RefundLookup;
/// let req = refund_openapi::sign::build_request("https://gw.example", "app", &key, &RefundLookup::refund_id("R1"), 1).unwrap();
/// assert_eq!(req.url, "https://gw.example/open-api/refund/payments");
/// ```
pub fn build_request(
    base_url: &str,
    app_id: &str,
    key: &RsaPrivateKey,
    lookup: &RefundLookup,
    timestamp: i64,
) -> Result<PreparedRequest, Error> {
    build_signed_request(base_url, app_id, key, lookup, timestamp).map(|s| s.request)
}

/// [`build_request`], also returning the signature it carries (for explanations).
///
/// ```
/// # let key = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_merchant_2048.pem"))).unwrap();
/// use refund_core::RefundLookup;
/// let signed = refund_openapi::sign::build_signed_request("https://gw.example", "app", &key, &RefundLookup::refund_id("R1"), 1).unwrap();
/// assert!(signed.request.body_text().unwrap().contains(&signed.signature));
/// ```
pub fn build_signed_request(
    base_url: &str,
    app_id: &str,
    key: &RsaPrivateKey,
    lookup: &RefundLookup,
    timestamp: i64,
) -> Result<SignedRequest, Error> {
    let param = request_canonical(lookup, timestamp)?;
    let sign = sign_canonical(key, &param)?;
    Ok(SignedRequest {
        request: signed_request(base_url, app_id, &param, &sign)?,
        signature: sign,
        signed_text: Some(param),
    })
}

/// The request carrying `signature` (base64 SHA256withRSA over exactly `param`, made wherever
/// the key lives): `POST {base}/open-api/refund/payments` with the JSON body
/// `{appId, param, sign}`.
///
/// ```
/// let req = refund_openapi::sign::signed_request("https://gw.example", "app", "{}", "c2ln").unwrap();
/// assert_eq!(req.body_text(), Some(r#"{"appId":"app","param":"{}","sign":"c2ln"}"#));
/// ```
pub fn signed_request(
    base_url: &str,
    app_id: &str,
    param: &str,
    signature: &str,
) -> Result<PreparedRequest, Error> {
    let body = serde_json::to_vec(&QueryRequestBody {
        app_id,
        param,
        sign: signature,
    })
    .map_err(|e| Error::InvalidRequest {
        field: "body".to_owned(),
        reason: e.to_string(),
    })?;
    Ok(PreparedRequest::json_post(
        refund_core::request::join_url(base_url, QUERY_PATH),
        body,
    ))
}
