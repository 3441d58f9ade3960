//! Staged golden files: our `param` text and signature must equal the independent (openssl) ones
//! byte for byte, and the whole outgoing request is snapshot-tested.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{LookupKind, RefundLookup};
use refund_openapi::{OpenApiClient, TimestampUnit, sign};
use refund_test_support::{explained_request, fixture_entries, fixture_text, http_text};

#[derive(serde::Deserialize, serde::Serialize)]
struct Case {
    kind: String,
    id: String,
    timestamp: i64,
    key: String,
    app_id: String,
}

#[tokio::test]
async fn every_signing_case_matches_openssl() {
    for (name, dir) in fixture_entries("openapi/sign", true, 5) {
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        let case: Case = serde_json::from_str(&read("params.json")).unwrap();
        let key = RsaPrivateKey::from_text(&fixture_text(&format!("keys/{}", case.key))).unwrap();
        let kind: LookupKind = case.kind.parse().unwrap();
        let lookup = RefundLookup::new(kind, case.id.clone());

        // Stage 1: the param text.
        let param = sign::request_canonical(&lookup, case.timestamp).unwrap();
        let expected_param = read("canonical.txt");
        assert_eq!(param, expected_param, "{name}: param text");

        // Stage 2: the signature over exactly those bytes.
        let signature = sign::sign_canonical(&key, &param).unwrap();
        let expected_sig = read("signature.txt");
        assert_eq!(signature, expected_sig.trim(), "{name}: signature");
        assert!(sign::verify_canonical(key.public_key(), &param, &signature).is_ok());

        // Stage 3: the request on the wire, as raw HTTP text.
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
        // Stage 4: the explanation shows exactly these bytes, from a client whose clock is
        // pinned to the case's timestamp.
        let (unit, at) = if case.timestamp >= 100_000_000_000 {
            (
                TimestampUnit::Millis,
                chrono::DateTime::from_timestamp_millis(case.timestamp).unwrap(),
            )
        } else {
            (
                TimestampUnit::Seconds,
                chrono::DateTime::from_timestamp(case.timestamp, 0).unwrap(),
            )
        };
        let client = OpenApiClient::builder()
            .base_url("https://gateway.example")
            .app_id(case.app_id.as_str())
            .merchant_private_key(key.clone())
            .timestamp_unit(unit)
            .clock(move || at)
            .build()
            .unwrap();
        let explained = client.explain_request(&lookup).await.unwrap();
        let signing = explained.signing.as_ref().unwrap();
        assert_eq!(
            signing.signed_text, expected_param,
            "{name}: explained text"
        );
        assert_eq!(
            signing.signature,
            expected_sig.trim(),
            "{name}: explained sign"
        );
        assert_eq!(
            signing.digest,
            refund_core::digest::sha256_hex(expected_param.as_bytes())
        );
        let text = explained_request(&explained, &client.prepare_now(&lookup).unwrap());
        assert_eq!(explained.request, request, "{name}");
        insta::with_settings!({ info => &case, omit_expression => true }, {
            insta::assert_snapshot!(format!("request_{name}"), http_text(&request));
            insta::assert_snapshot!(format!("explain_request_{name}"), text);
        });
    }
}

#[test]
fn seed_request_shape() {
    // The seed's request example: the same param text, sent as a string inside the body.
    let lookup = RefundLookup::original_transaction_id("CU518563189147832320");
    assert_eq!(
        sign::request_canonical(&lookup, 1722416882).unwrap(),
        r#"{"originalTransactionId":"CU518563189147832320","timestamp":1722416882}"#
    );
}

#[test]
fn lookups_are_checked_before_signing() {
    let client = OpenApiClient::builder()
        .base_url("https://gateway.example")
        .app_id("app")
        .merchant_private_key_pem(&fixture_text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .build()
        .unwrap();
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
        let err = client.prepare_now(&lookup).unwrap_err();
        assert_eq!(err.kind(), "invalid_request");
        assert!(err.to_string().contains(needle), "{err}");
    }
}
