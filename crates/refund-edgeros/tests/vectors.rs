//! Every vector produced by the vendor's official Java SDK must pass: our canonical text equals
//! theirs byte for byte, our signatures equal theirs, our verifier agrees with every verdict.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use refund_core::RefundLookup;
use refund_core::rsa_keys::{RsaPrivateKey, RsaPublicKey};
use refund_edgeros::EdgerosClient;
use refund_edgeros::sign;
use refund_edgeros::wire::RefundQuery;
use refund_test_support::explained_request;
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/edgeros/vectors/edgeros-official.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn opt(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn query_params(url: &str) -> BTreeMap<String, String> {
    let query = url.split_once('?').unwrap().1;
    query
        .split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap();
            (k.to_owned(), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn request_signing_vectors() {
    let v = vectors();
    let merchant = RsaPrivateKey::from_text(
        v["keys"]["merchant"]["private_pkcs8_der_b64"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let cases = v["request_signing"].as_array().unwrap();
    assert_eq!(cases.len(), 9);
    let mut explained_vectors = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let query = RefundQuery {
            mch_refund_no: opt(&case["inputs"]["mch_refund_no"]),
            refund_no: opt(&case["inputs"]["refund_no"]),
        };
        let mch_no = case["mch_no"].as_str().unwrap();
        let nonce = case["nonce"].as_str().unwrap();
        let canonical = sign::request_canonical(mch_no, nonce, &query);
        assert_eq!(
            canonical,
            case["canonical"].as_str().unwrap(),
            "{id}: canonical text"
        );
        let hex: String = canonical.bytes().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            case["canonical_utf8_hex"].as_str().unwrap(),
            "{id}: canonical bytes"
        );
        let signature = sign::sign_canonical(&merchant, &canonical).unwrap();
        assert_eq!(
            signature,
            case["signature_b64"].as_str().unwrap(),
            "{id}: signature"
        );

        let request =
            sign::build_request("https://api.edgeros.com", mch_no, &merchant, &query, nonce)
                .unwrap();
        for (name, value) in case["headers"].as_object().unwrap() {
            assert_eq!(request.header(name), value.as_str(), "{id}: header {name}");
        }
        let expected: BTreeMap<String, String> = case["http_query_params_sent_by_sdk"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(query_params(&request.url), expected, "{id}: query string");

        // Vectors that are one lookup: a client with the vector's nonce explains exactly the
        // vendor SDK's request (req-13's control characters are refused before signing).
        let lookup = match (&query.mch_refund_no, &query.refund_no) {
            (Some(m), None) => RefundLookup::merchant_refund_id(m.as_str()),
            (None, Some(r)) => RefundLookup::refund_id(r.as_str()),
            _ => continue,
        };
        let fixed_nonce = nonce.to_owned();
        let client = EdgerosClient::builder()
            .base_url("https://api.edgeros.com")
            .mch_no(mch_no)
            .merchant_private_key(merchant.clone())
            .platform_public_key(merchant.public_key().clone())
            .nonce_source(move || fixed_nonce.clone())
            .build()
            .unwrap();
        let Ok(explained) = client.explain_request(&lookup).await else {
            assert_eq!(id, "req-13", "only the control-character vector is refused");
            continue;
        };
        explained_vectors += 1;
        let signing = explained.signing.as_ref().unwrap();
        assert_eq!(signing.signed_text, canonical, "{id}: explained text");
        assert_eq!(signing.signature, signature, "{id}: explained sign");
        let text = explained_request(&explained, &request);
        insta::assert_snapshot!(format!("explain_request_{id}"), text);
    }
    assert_eq!(explained_vectors, 5, "req-01, 02, 04, 06 and 16");
}

#[test]
fn response_verification_vectors() {
    let v = vectors();
    let platform = refund_core::rsa_keys::PublicKeySet::from(
        RsaPublicKey::from_text(
            v["keys"]["platform"]["public_spki_der_b64"]
                .as_str()
                .unwrap(),
        )
        .unwrap(),
    );
    let cases = v["response_verification"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    let mut typed_causes = 0;
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let text = case["response_json_text"].as_str().unwrap();
        let parsed = refund_core::json::parse_strict(text.as_bytes()).unwrap();
        let parts = sign::response_canonical(&parsed).unwrap();
        if let Some(expected) = case["canonical"].as_str() {
            assert_eq!(parts.canonical, expected, "{id}: canonical text");
        }
        let verdict = sign::verify_response(&platform, &parsed);
        let official = case["official_verifier_outcome"].as_bool().unwrap();
        assert_eq!(verdict.is_ok(), official, "{id}: verdict {verdict:?}");
        assert_eq!(
            verdict
                .as_ref()
                .is_ok_and(|checked| checked.verification == refund_core::Verification::Verified),
            case["verification_performed"].as_bool().unwrap() && official,
            "{id}: whether a signature was checked"
        );
        if !official {
            let err = verdict.unwrap_err();
            assert_eq!(err.kind(), "signature", "{id}");
            // A signature that does not match keeps the typed cause.
            if matches!(&err, refund_core::Error::Signature { reason, .. } if reason == "data.sign")
            {
                let cause = std::error::Error::source(&err).expect("a cause");
                assert_eq!(
                    cause.downcast_ref::<refund_core::rsa_keys::VerifyError>(),
                    Some(&refund_core::rsa_keys::VerifyError::Mismatch),
                    "{id}"
                );
                typed_causes += 1;
            }
        }
        // The full path (parse, verify, decode, bind, map) agrees too, for the merchant and
        // refund the vector's answer names (binding itself is tested in responses.rs).
        let named = |field: &str| {
            parsed["data"][field]
                .as_str()
                .unwrap_or("unnamed")
                .to_owned()
        };
        let client = refund_edgeros::EdgerosClient::builder()
            .mch_no(named("mch_no"))
            .merchant_private_key_pem(&refund_test_support::fixture_text(
                "keys/edgeros_merchant.pem",
            ))
            .unwrap()
            .platform_public_keys(platform.keys().cloned())
            .build()
            .unwrap();
        let lookup = refund_core::RefundLookup::refund_id(named("refund_no"));
        let mapped = client.parse_response(&lookup, text.as_bytes());
        match (official, case["id"].as_str().unwrap()) {
            (false, _) => assert_eq!(mapped.unwrap_err().kind(), "signature", "{id}"),
            (true, "resp-15-error-unsigned") => assert_eq!(mapped.unwrap_err().kind(), "provider"),
            (true, _) => assert_eq!(mapped.unwrap().len(), 1, "{id}"),
        }
    }
    assert!(
        typed_causes > 0,
        "a vector with a signature that does not match"
    );
}
