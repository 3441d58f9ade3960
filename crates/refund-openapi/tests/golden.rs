//! Staged golden files: our `param` text and signature must equal the independent (openssl) ones
//! byte for byte, and the whole outgoing request is snapshot-tested.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};

use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{LookupKind, RefundLookup};
use refund_openapi::sign;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

#[derive(serde::Deserialize)]
struct Case {
    kind: String,
    id: String,
    timestamp: i64,
    key: String,
    app_id: String,
}

#[test]
fn every_signing_case_matches_openssl() {
    let dir = fixtures().join("openapi/sign");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 5,
        "expected the signing cases in {}",
        dir.display()
    );
    for case_dir in cases {
        let name = case_dir.file_name().unwrap().to_string_lossy().to_string();
        let case: Case =
            serde_json::from_str(&std::fs::read_to_string(case_dir.join("lookup.json")).unwrap())
                .unwrap();
        let key = RsaPrivateKey::from_text(
            &std::fs::read_to_string(fixtures().join("keys").join(&case.key)).unwrap(),
        )
        .unwrap();
        let kind: LookupKind = case.kind.parse().unwrap();
        let lookup = RefundLookup::new(kind, case.id.clone());

        // Stage 1: the param text.
        let param = sign::build_param(&lookup, case.timestamp).unwrap();
        let expected_param = std::fs::read_to_string(case_dir.join("param.txt")).unwrap();
        assert_eq!(param, expected_param, "{name}: param text");

        // Stage 2: the signature over exactly those bytes.
        let signature = sign::sign_param(&key, &param).unwrap();
        let expected_sig = std::fs::read_to_string(case_dir.join("signature.txt")).unwrap();
        assert_eq!(signature, expected_sig.trim(), "{name}: signature");
        assert!(sign::verify_param(key.public_key(), &param, &signature).is_ok());

        // Stage 3: the request on the wire.
        let request = sign::build_request(
            "https://gateway.example",
            &case.app_id,
            &key,
            &lookup,
            case.timestamp,
        )
        .unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(request.body.as_ref().unwrap()).unwrap();
        assert_eq!(
            body["param"],
            expected_param.as_str(),
            "{name}: param is sent as signed"
        );
        assert_eq!(body["sign"], expected_sig.trim(), "{name}");
        insta::assert_json_snapshot!(format!("request_{name}"), request);
    }
}

#[test]
fn seed_request_shape() {
    // The seed's request example: the same param text, sent as a string inside the body.
    let lookup = RefundLookup::original_transaction_id("CU518563189147832320");
    assert_eq!(
        sign::build_param(&lookup, 1722416882).unwrap(),
        r#"{"originalTransactionId":"CU518563189147832320","timestamp":1722416882}"#
    );
}

#[test]
fn lookups_are_checked_before_signing() {
    for (lookup, needle) in [
        (RefundLookup::refund_id(""), "must not be empty"),
        (RefundLookup::refund_id("A".repeat(33)), "at most 32"),
        (
            RefundLookup::merchant_refund_id("M1"),
            "supported: refund_id, original_transaction_id",
        ),
        (RefundLookup::channel_trade_no("C1"), "not supported"),
        (RefundLookup::refund_id("a\u{7}b"), "control"),
    ] {
        let err = sign::build_param(&lookup, 1).unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
        assert!(err.to_string().contains(needle), "{err}");
    }
}
