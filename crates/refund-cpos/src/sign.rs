//! The MD5 rule (pure). **Assumption**: no public documentation of CPOS's rule exists and no
//! guessed key reproduces the seed's signatures; we use WeChat Pay v2's rule, which the platform
//! wraps. [`canonical_string`] is the one function to change if the platform's rule differs.
//!
//! Rule: every field except `sign` whose value is neither null nor empty, sorted by key in ASCII
//! order, joined as `key=value` with `&` (raw values, numbers in decimal), then `&key=<secret>`;
//! MD5 of the UTF-8 bytes; upper-case hex. Responses: the same over the top-level scalar fields
//! (nested objects such as `attach` are left out).
//!
//! A JSON number in an answer is written as parsed (integers exactly, others in their shortest
//! round-trip form), not as its raw text: a provider that signed `1.10` for the number `1.10`
//! would not verify. CPOS sends amounts as strings and codes as integers, so this does not arise
//! with its documented fields.

use std::fmt;

use md5::{Digest, Md5};
use refund_core::json::{FlatObject, Member, Scalar};
use refund_core::{
    Error, LookupKind, PreparedRequest, Provider, RefundLookup, Secret, SignedRequest, Verification,
};
use serde::Deserialize;
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::map::RETURN_CODE_SUCCESS;
use crate::wire::{IdField, QueryRequestBody};

/// The request path.
pub const QUERY_PATH: &str = "/api/v1/pay/wx/refundquery";
/// Longest id accepted (characters); the docs give none, WeChat's limit is 64.
pub const MAX_ID_CHARS: usize = 64;
/// The lookups CPOS supports.
pub const SUPPORTED_LOOKUPS: &[LookupKind] = &[
    LookupKind::RefundId,
    LookupKind::MerchantRefundId,
    LookupKind::ChannelTradeNo,
];

/// The rule: fields already in key order, each except `sign` with a non-empty value as
/// `key=value&`, then `key=<secret>`. Written piece by piece (`write_str`), not with `write!`:
/// the formatting machinery cost more than the hashing on a typical answer.
fn write_canonical<'a>(
    out: &mut impl fmt::Write,
    sorted: impl Iterator<Item = (&'a str, Scalar<'a>)>,
    secret: &str,
) -> fmt::Result {
    for (key, value) in sorted {
        if key != "sign" && !value.is_empty() {
            out.write_str(key)?;
            out.write_char('=')?;
            value.write_to(out)?;
            out.write_char('&')?;
        }
    }
    out.write_str("key=")?;
    out.write_str(secret)
}

/// Fields in key order (ASCII byte order).
fn sort_by_key(pairs: &mut [(&str, &str)]) {
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
}

/// Fields given as text, each as a [`Scalar::Text`].
fn texts<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = (&'a str, Scalar<'a>)> {
    pairs.iter().map(|(k, v)| (*k, Scalar::Text(v)))
}

/// A document's signed fields, in key order: its top-level scalars.
fn document_fields<'a>(
    document: &'a FlatObject<'_>,
) -> impl Iterator<Item = (&'a str, Scalar<'a>)> {
    document
        .members()
        .filter_map(|(key, member)| member.scalar().map(|scalar| (key, scalar)))
}

/// The signed text, hashed as it is written: staged in a small buffer on the stack and fed to
/// MD5 a buffer at a time (a request's or an answer's text fits in one; feeding MD5 piece by
/// piece costs more than the copy), so a signature costs no allocation, whatever the text's
/// length. What was staged is wiped when dropped, as it ends in the secret. Kept by hand
/// because the wipe has to cover exactly what was written.
struct Md5Writer {
    md5: Md5,
    staged: [u8; Self::STAGE],
    len: usize,
    /// The most the stage ever held: what the wipe covers.
    high_water: usize,
}

impl Md5Writer {
    const STAGE: usize = 512;

    fn new() -> Self {
        Md5Writer {
            md5: Md5::new(),
            staged: [0; Self::STAGE],
            len: 0,
            high_water: 0,
        }
    }

    /// Hashes what is staged.
    fn flush(&mut self) {
        self.md5
            .update(self.staged.get(..self.len).unwrap_or_default());
        self.high_water = self.high_water.max(self.len);
        self.len = 0;
    }

    fn digest(mut self) -> [u8; 16] {
        self.flush();
        self.md5.finalize_reset().into()
    }

    /// Zeroes everything the stage ever held (volatile writes: not optimised away).
    fn wipe(&mut self) {
        use zeroize::Zeroize as _;
        let written = self.high_water.max(self.len);
        self.staged
            .get_mut(..written)
            .into_iter()
            .for_each(|b| b.zeroize());
    }
}

impl fmt::Write for Md5Writer {
    /// The rule's `=` and `&`: one byte stored, not a one-byte copy.
    fn write_char(&mut self, c: char) -> fmt::Result {
        match (u8::try_from(c), self.staged.get_mut(self.len)) {
            (Ok(byte), Some(slot)) if c.is_ascii() => {
                *slot = byte;
                self.len += 1;
                Ok(())
            }
            _ => self.write_str(c.encode_utf8(&mut [0; 4])),
        }
    }

    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s.as_bytes();
        loop {
            let room = Self::STAGE - self.len;
            let (now, later) = rest.split_at(room.min(rest.len()));
            if let Some(space) = self.staged.get_mut(self.len..self.len + now.len()) {
                space.copy_from_slice(now);
                self.len += now.len();
            }
            if later.is_empty() {
                return Ok(());
            }
            self.flush();
            rest = later;
        }
    }
}

impl Drop for Md5Writer {
    fn drop(&mut self) {
        self.wipe();
    }
}

/// MD5 of the signed text.
fn md5_digest<'a>(sorted: impl Iterator<Item = (&'a str, Scalar<'a>)>, secret: &str) -> [u8; 16] {
    let mut text = Md5Writer::new();
    // Hashing cannot fail.
    let _ = write_canonical(&mut text, sorted, secret);
    text.digest()
}

/// A digest as upper-case hex, the form CPOS sends, on the stack.
struct UpperHex([u8; 32]);

impl UpperHex {
    fn new(digest: &[u8; 16]) -> Self {
        let mut buffer = [0_u8; 32];
        // 32 bytes hold the hex of 16 exactly: encoding cannot fail.
        let _ = base16ct::upper::encode(digest, &mut buffer);
        UpperHex(buffer)
    }

    fn as_str(&self) -> &str {
        // Hex digits are ASCII.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// A digest as upper-case hex, owned.
fn upper_hex(digest: &[u8; 16]) -> String {
    UpperHex::new(digest).as_str().to_owned()
}

/// The text that is hashed: sorted non-empty `key=value` pairs (except `sign`) and the secret.
///
/// This is the place to change if the platform's real rule differs.
///
/// ```
/// // The official WeChat Pay v2 example.
/// let s = refund_cpos::sign::canonical_string(
///     [("mch_id", "10000100"), ("appid", "wxd930ea5d5a258f4f"), ("device_info", "1000"), ("body", "test"), ("nonce_str", "ibuaiVcKdpRxkhJA"), ("sign", "x"), ("empty", "")],
///     "192006250b4c09247ec02edce69f6a2d",
/// );
/// assert_eq!(s, "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d");
/// ```
pub fn canonical_string<'a>(
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
    secret: &str,
) -> String {
    let mut pairs: Vec<(&str, &str)> = fields.into_iter().collect();
    sort_by_key(&mut pairs);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = write_canonical(&mut out, texts(&pairs), secret);
    out
}

/// The signed text of an answer (its top-level scalars), with `secret` as given: for
/// explanations, which pass a placeholder.
///
/// ```
/// let doc = refund_core::json::FlatObject::parse_strict(br#"{"return_code":10000,"attach":{"a":1},"sign":"S"}"#).unwrap();
/// assert_eq!(refund_cpos::sign::response_canonical(&doc, "<secret>"), "return_code=10000&key=<secret>");
/// ```
pub fn response_canonical(document: &FlatObject<'_>, secret: &str) -> String {
    let mut out = String::with_capacity(document.source().len() + secret.len());
    // Writing into a String cannot fail.
    let _ = write_canonical(&mut out, document_fields(document), secret);
    out
}

/// MD5 of the text, upper-case hex.
///
/// ```
/// assert_eq!(refund_cpos::sign::md5_upper_hex("appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA&key=192006250b4c09247ec02edce69f6a2d"), "9A0A8659F005D6984697E2CA0A9CF3B7");
/// ```
pub fn md5_upper_hex(text: &str) -> String {
    upper_hex(&Md5::digest(text.as_bytes()).into())
}

/// Signs fields with the shared secret: the MD5 of [`canonical_string`], upper-case hex.
///
/// ```
/// let s = refund_cpos::sign::sign_canonical(&refund_core::Secret::new("k"), [("accessid", "cpostest")]);
/// assert_eq!(s, refund_cpos::sign::md5_upper_hex("accessid=cpostest&key=k"));
/// ```
pub fn sign_canonical<'a>(
    secret: &Secret,
    fields: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> String {
    let mut pairs: Vec<(&str, &str)> = fields.into_iter().collect();
    sort_by_key(&mut pairs);
    upper_hex(&md5_digest(texts(&pairs), secret.expose()))
}

/// The signature of an answer's top-level scalars: what its `sign` must be.
///
/// ```
/// let doc = refund_core::json::FlatObject::parse_strict(br#"{"return_code":10000,"sign":"S"}"#).unwrap();
/// let secret = refund_core::Secret::new("k");
/// assert_eq!(refund_cpos::sign::sign_response(&secret, &doc), refund_cpos::sign::sign_canonical(&secret, [("return_code", "10000")]));
/// ```
pub fn sign_response(secret: &Secret, document: &FlatObject<'_>) -> String {
    upper_hex(&document_digest(secret, document))
}

fn document_digest(secret: &Secret, document: &FlatObject<'_>) -> [u8; 16] {
    md5_digest(document_fields(document), secret.expose())
}

/// The signed fields of a document built as a [`Value`] (by the sandbox, by tests): its
/// top-level scalars as text by the same rule as an answer's ([`refund_core::json::scalar_text`]).
///
/// ```
/// let v = serde_json::json!({"refund_status": 1, "refund_amount": "-0.50", "attach": {"x": 1}, "sign": "S"});
/// let fields = refund_cpos::sign::response_fields(&v);
/// assert_eq!(fields, vec![("refund_amount".to_owned(), "-0.50".to_owned()), ("refund_status".to_owned(), "1".to_owned()), ("sign".to_owned(), "S".to_owned())]);
/// ```
pub fn response_fields(response: &Value) -> Vec<(String, String)> {
    let Some(object) = response.as_object() else {
        return Vec::new();
    };
    object
        .iter()
        .filter_map(|(k, v)| {
            refund_core::json::scalar_text(v).map(|text| (k.clone(), text.into_owned()))
        })
        .collect()
}

/// Why a response signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseSignatureProblem {
    /// No `sign` field.
    Missing,
    /// `sign` does not match.
    Mismatch,
}

/// Checks a document's `sign` over its top-level scalar fields.
///
/// ```
/// let secret = refund_core::Secret::new("k");
/// let sign = refund_cpos::sign::sign_canonical(&secret, [("return_code", "10000")]);
/// let body = format!(r#"{{"return_code":10000,"sign":"{sign}"}}"#);
/// let doc = refund_core::json::FlatObject::parse_strict(body.as_bytes()).unwrap();
/// assert!(refund_cpos::sign::check_response(&secret, &doc).is_ok());
/// ```
pub fn check_response(
    secret: &Secret,
    document: &FlatObject<'_>,
) -> Result<(), ResponseSignatureProblem> {
    let received = document
        .get("sign")
        .and_then(Member::as_str)
        .filter(|s| !s.is_empty())
        .ok_or(ResponseSignatureProblem::Missing)?;
    // The received hex is decoded (either case, in constant time) and compared with the digest
    // in constant time; anything but 32 hex digits never matches.
    let mut decoded = [0_u8; 16];
    let matches = received.len() == 32
        && base16ct::mixed::decode(received, &mut decoded).is_ok()
        && bool::from(document_digest(secret, document).ct_eq(&decoded));
    if matches {
        Ok(())
    } else {
        Err(ResponseSignatureProblem::Mismatch)
    }
}

/// Builds the signed request: `POST {base}/api/v1/pay/wx/refundquery` with `accessid`, exactly one
/// id field and `sign` (the pipeline has already checked the lookup against
/// [`SUPPORTED_LOOKUPS`] and [`MAX_ID_CHARS`]).
///
/// ```
/// let req = refund_cpos::sign::build_request("http://127.0.0.1:1", "cpostest", &refund_core::Secret::new("k"), &refund_core::RefundLookup::merchant_refund_id("200324847290000004766")).unwrap();
/// assert!(req.body_text().unwrap().starts_with(r#"{"accessid":"cpostest","out_refund_no":"200324847290000004766","sign":""#));
/// ```
pub fn build_request(
    base_url: &str,
    access_id: &str,
    secret: &Secret,
    lookup: &RefundLookup,
) -> Result<PreparedRequest, Error> {
    signed_body(base_url, access_id, secret, lookup).map(|(request, _)| request)
}

/// The signed fields of a request: `accessid` and the lookup's one id field.
///
/// ```
/// let lookup = refund_core::RefundLookup::refund_id("R1");
/// let fields = refund_cpos::sign::request_fields("cpostest", &lookup);
/// assert_eq!(fields, [("accessid", "cpostest"), ("refund_no", "R1")]);
/// ```
pub fn request_fields<'a>(
    access_id: &'a str,
    lookup: &'a RefundLookup,
) -> [(&'static str, &'a str); 2] {
    [
        ("accessid", access_id),
        (IdField::of(lookup).name(), lookup.id()),
    ]
}

/// The exact text a request's signature is the MD5 of: [`request_fields`] by the
/// [`canonical_string`] rule, ending in `key=<secret>` (explanations pass a placeholder).
///
/// ```
/// let lookup = refund_core::RefundLookup::refund_id("R1");
/// let text = refund_cpos::sign::request_canonical("cpostest", &lookup, "<secret>");
/// assert_eq!(text, "accessid=cpostest&refund_no=R1&key=<secret>");
/// ```
pub fn request_canonical(access_id: &str, lookup: &RefundLookup, secret: &str) -> String {
    canonical_string(request_fields(access_id, lookup), secret)
}

/// [`build_request`], also returning the signature it carries (for explanations).
///
/// ```
/// let signed = refund_cpos::sign::build_signed_request("http://127.0.0.1:1", "cpostest", &refund_core::Secret::new("k"), &refund_core::RefundLookup::refund_id("R1")).unwrap();
/// assert!(signed.request.body_text().unwrap().contains(&signed.signature));
/// ```
pub fn build_signed_request(
    base_url: &str,
    access_id: &str,
    secret: &Secret,
    lookup: &RefundLookup,
) -> Result<SignedRequest, Error> {
    let (request, sign) = signed_body(base_url, access_id, secret, lookup)?;
    Ok(SignedRequest {
        request,
        signature: sign.as_str().to_owned(),
        // It ends in the secret: explanations show it with a placeholder instead.
        signed_text: None,
    })
}

/// The request and its signature (on the stack: a query needs it only inside the body).
fn signed_body(
    base_url: &str,
    access_id: &str,
    secret: &Secret,
    lookup: &RefundLookup,
) -> Result<(PreparedRequest, UpperHex), Error> {
    // Two fields: sorted in place, no list built.
    let mut pairs = request_fields(access_id, lookup);
    sort_by_key(&mut pairs);
    let sign = UpperHex::new(&md5_digest(texts(&pairs), secret.expose()));
    let body = QueryRequestBody::new(access_id, IdField::of(lookup), lookup.id(), sign.as_str());
    // The body's size is known up to escapes: one allocation, not a doubling series.
    let mut bytes = Vec::with_capacity(64 + access_id.len() + lookup.id().len() + sign.0.len());
    serde_json::to_writer(&mut bytes, &body).map_err(|e| Error::InvalidRequest {
        field: "body".to_owned(),
        reason: e.to_string(),
    })?;
    let request =
        PreparedRequest::json_post(refund_core::request::join_url(base_url, QUERY_PATH), bytes);
    Ok((request, sign))
}

/// Identifies a shared secret without revealing it: `SHA256:` and the first 16 hex digits of the
/// SHA-256 of its bytes. (Anyone holding a signed message can already test guesses of the
/// secret against its MD5; this adds nothing to that, and tells two secrets apart.)
///
/// ```
/// let fp = refund_cpos::sign::secret_fingerprint(&refund_core::Secret::new("k"));
/// assert_eq!(fp, "SHA256:8254c329a92850f6");
/// ```
pub fn secret_fingerprint(secret: &Secret) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(secret.expose().as_bytes());
    let mut buffer = [0_u8; 16];
    let hex = base16ct::lower::encode_str(digest.get(..8).unwrap_or_default(), &mut buffer)
        .unwrap_or_default();
    format!("SHA256:{hex}")
}

/// Whether a response must carry a valid signature.
///
/// The signing rule is an assumption (see the module docs), so if the real platform signs
/// differently, `Optional` lets queries work while the rule is being confirmed: a missing or
/// non-matching signature is then logged as a warning and the answer accepted, labelled
/// [`Verification::Unverified`]. `Required` (the default) makes both a signature error.
///
/// Under either policy an error answer (`return_code` other than 10000) without any `sign` is
/// read as an error: a forged error can deny an answer but never fake a refund.
///
/// ```
/// use refund_cpos::ResponseSignature;
/// assert_eq!("optional".parse::<ResponseSignature>().unwrap(), ResponseSignature::Optional);
/// let p: ResponseSignature = serde_json::from_str("\"required\"").unwrap();
/// assert_eq!(p, ResponseSignature::Required);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum ResponseSignature {
    /// Reject responses without a valid signature (default).
    #[default]
    Required,
    /// Accept them, with a warning, labelled unverified.
    Optional,
}

impl std::str::FromStr for ResponseSignature {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "required" => Ok(ResponseSignature::Required),
            "optional" => Ok(ResponseSignature::Optional),
            other => Err(Error::config(
                "response_signature",
                format!("{other:?} is neither \"required\" nor \"optional\""),
            )),
        }
    }
}

/// Verifies a parsed response's `sign` under `policy`, before any field is trusted.
///
/// - a matching signature: [`Verification::Verified`];
/// - an unsigned error answer (`return_code` other than 10000, no `sign`): read as an error
///   under either policy ([`Verification::Unverified`]);
/// - otherwise `Required` is an [`Error::Signature`], `Optional` a warning and
///   [`Verification::Unverified`].
///
/// ```
/// use refund_core::{Secret, Verification};
/// use refund_core::json::FlatObject;
/// use refund_cpos::{sign, ResponseSignature};
/// let secret = Secret::new("k");
/// let good = sign::sign_canonical(&secret, [("return_code", "10000")]);
/// let body = format!(r#"{{"return_code":10000,"sign":"{good}"}}"#);
/// let doc = FlatObject::parse_strict(body.as_bytes()).unwrap();
/// assert_eq!(sign::verify_response(&secret, &doc, ResponseSignature::Required).unwrap(), Verification::Verified);
/// let forged = FlatObject::parse_strict(br#"{"return_code":10000,"refund_status":1}"#).unwrap();
/// assert_eq!(sign::verify_response(&secret, &forged, ResponseSignature::Required).unwrap_err().kind(), "signature");
/// assert_eq!(sign::verify_response(&secret, &forged, ResponseSignature::Optional).unwrap(), Verification::Unverified);
/// ```
pub fn verify_response(
    secret: &Secret,
    document: &FlatObject<'_>,
    policy: ResponseSignature,
) -> Result<Verification, Error> {
    let problem = match check_response(secret, document) {
        Ok(()) => return Ok(Verification::Verified),
        Err(problem) => problem,
    };
    let is_success = matches!(
        document.get("return_code"),
        Some(code @ (Member::String(_) | Member::Number(_)))
            if code.scalar_text().as_deref() == Some(RETURN_CODE_SUCCESS)
    );
    if problem == ResponseSignatureProblem::Missing && !is_success {
        return Ok(Verification::Unverified);
    }
    match policy {
        ResponseSignature::Required => Err(signature_error(problem)),
        ResponseSignature::Optional => {
            let id = |k: &str| document.get(k).and_then(Member::as_str).unwrap_or("");
            tracing::warn!(
                provider = "cpos",
                refund_no = id("refund_no"),
                out_refund_no = id("out_refund_no"),
                ?problem,
                "response accepted WITHOUT signature verification (response_signature = optional)"
            );
            Ok(Verification::Unverified)
        }
    }
}

/// An error for a response signature that was required and not valid.
fn signature_error(problem: ResponseSignatureProblem) -> Error {
    Error::verify(
        Provider::Cpos,
        match problem {
            ResponseSignatureProblem::Missing => "response carries no `sign`",
            ResponseSignatureProblem::Mismatch => {
                "response `sign` does not match (MD5 rule, shared secret)"
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The staged hashing hashes exactly the canonical text at every length around the
    /// stage's size (and well past it), and wipes everything it staged.
    #[test]
    fn the_signed_text_is_the_canonical_string_at_every_length() {
        let secret = Secret::new("s3cr3t");
        let stage = Md5Writer::STAGE;
        for len in (0..40)
            .chain(stage - 40..stage + 40)
            .chain([2 * stage, 5000])
        {
            let value = "x".repeat(len);
            let fields = [("b", value.as_str()), ("a", "1"), ("sign", "ignored")];
            let expected = md5_upper_hex(&canonical_string(fields, secret.expose()));
            assert_eq!(sign_canonical(&secret, fields), expected, "length {len}");
        }
        // One write longer than the stage is hashed in stage-sized pieces.
        let long = "y".repeat(3 * stage + 7);
        let mut text = Md5Writer::new();
        let _ = fmt::Write::write_str(&mut text, &long);
        let _ = fmt::Write::write_str(&mut text, "&key=k");
        assert_eq!(text.high_water, stage);
        let digest = text.digest();
        assert_eq!(upper_hex(&digest), md5_upper_hex(&format!("{long}&key=k")));
    }

    /// The wipe (what `Drop` runs) zeroes what was staged.
    #[test]
    fn the_stage_is_wiped_on_drop() {
        let mut text = Md5Writer::new();
        let _ = fmt::Write::write_str(&mut text, "key=s3cr3t");
        assert!(text.staged.starts_with(b"key=s3cr3t"));
        text.wipe();
        assert!(text.staged.iter().all(|b| *b == 0));
    }
}
