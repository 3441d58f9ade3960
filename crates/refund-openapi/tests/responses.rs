//! Every response fixture mapped, and the outcome (refunds or typed error) snapshot-tested.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use refund_core::rsa_keys::{PublicKeySet, RsaPrivateKey};
use refund_core::{Currency, RefundLookup, RefundStatus, Verification};
use refund_openapi::{OpenApiClient, notify, sign};
use refund_test_support::{
    explained, fixture, fixture_entries, fixture_lookup, fixture_text, outcome,
};

fn client(currency: Currency) -> OpenApiClient {
    OpenApiClient::builder()
        .base_url("http://127.0.0.1:1")
        .app_id("733b887a4a784708bb369524db5b6ded")
        .merchant_private_key_pem(&fixture_text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .currency(currency)
        .build()
        .unwrap()
}

#[test]
fn every_response_fixture() {
    let client = client(Currency::Cny);
    for (name, path) in fixture_entries("openapi/responses", false, 30) {
        let lookup = fixture_lookup("openapi", &name);
        let body = std::fs::read(path).unwrap();
        let result = client.parse_response(&lookup, &body);
        // The explanation of the same bytes ends exactly where the query did, in both forms.
        let explained = explained(&client.explain_response(&lookup, &body), &result);
        insta::with_settings!({ info => &lookup }, {
            insta::assert_json_snapshot!(name.clone(), outcome(result));
            insta::assert_snapshot!(format!("explain_{name}"), explained);
        });
    }
}

#[test]
fn seed_example_maps_exactly() {
    let lookup = fixture_lookup("openapi", "seed_success");
    let refunds = client(Currency::Cny)
        .parse_response(&lookup, &fixture("openapi/responses/seed_success.json"))
        .unwrap();
    assert!(
        refunds
            .iter()
            .all(|r| r.signature == Verification::NotSigned)
    );
    assert_eq!(refunds.len(), 2);
    assert_eq!(refunds[0].status, RefundStatus::Failed);
    assert_eq!(refunds[0].failure_code.as_deref(), Some("-10010"));
    assert_eq!(refunds[0].amount.to_major_string(), "100.00");
    assert_eq!(refunds[0].fee_refunded.unwrap().minor(), 1000);
    assert_eq!(
        refund_core::time::format_utc(&refunds[0].created_at.unwrap()),
        "2024-07-31T08:26:46Z"
    );
    assert_eq!(refunds[1].status, RefundStatus::Succeeded);
    assert_eq!(refunds[1].provider_status.as_deref(), Some("COMPLETED"));
}

#[test]
fn currency_is_configurable() {
    let body = br#"{"code":10000,"data":[{"refundTransactionId":"RT1","refundAmount":12345,"refundStatus":"COMPLETE"}]}"#;
    let r = client(Currency::Vnd)
        .parse_response(&RefundLookup::refund_id("RT1"), body)
        .unwrap();
    assert_eq!(r[0].amount.to_string(), "12345 VND");
}

fn platform() -> RsaPrivateKey {
    RsaPrivateKey::from_text(include_str!(
        "../../../fixtures/keys/openapi_platform_2048.pem"
    ))
    .unwrap()
}

fn callback(param: &str, key: &RsaPrivateKey) -> Vec<u8> {
    let sign = sign::sign_canonical(key, param).unwrap();
    serde_json::to_vec(&serde_json::json!({ "param": param, "sign": sign })).unwrap()
}

const FAILED_PARAM: &str = r#"{"eventName":"payment.refund.failed","mchRefundOrderId":"refund7806664227088","originalTransactionId":"CU51856318914782320","refundTransactionId":"1818563941756964864","refundAmount":10000,"feeRefunded":1000,"refundStatus":"FAILED","refundCreateTime":"2024-07-31 16:26:46","refundReturnTime":"2024-07-31 16:26:48","failedCode":-10010,"failedMessage":"Channel Refund Failed"}"#;

/// The gateway key set holding only `key`'s public half.
fn keys(key: &RsaPrivateKey) -> PublicKeySet {
    PublicKeySet::from(key.public_key().clone())
}

/// While the gateway rotates its key, callbacks signed by the old one and by the new one both
/// verify against a set holding the two, each naming its key; a third key verifies nothing.
#[test]
fn callbacks_verify_against_a_rotating_key_set() {
    let old = platform();
    let new = RsaPrivateKey::from_text(include_str!("../../../fixtures/keys/edgeros_platform.pem"))
        .unwrap();
    let stranger = RsaPrivateKey::from_text(include_str!(
        "../../../fixtures/keys/openapi_merchant_2048.pem"
    ))
    .unwrap();
    let set = PublicKeySet::new(vec![old.public_key().clone(), new.public_key().clone()]).unwrap();
    for signer in [&old, &new] {
        let n = notify::verify_notification(&callback(FAILED_PARAM, signer), &set, Currency::Cny)
            .unwrap();
        assert_eq!(n.verified_by, signer.public_key().fingerprint());
    }
    let err = notify::verify_notification(&callback(FAILED_PARAM, &stranger), &set, Currency::Cny)
        .unwrap_err();
    assert_eq!(err.kind(), "signature");
}

#[test]
fn callbacks_verify_then_decode() {
    let key = platform();
    let events = [
        ("payment.refund.success", "COMPLETED"),
        ("payment.refund.failed", "FAILED"),
        ("payment.refund.cancel", "CANCEL"),
        ("payment.refund.later", "PROCESS"),
    ];
    let mut seen = Vec::new();
    for (event, status) in events {
        let param = format!(
            r#"{{"eventName":"{event}","refundTransactionId":"R1","refundAmount":5,"refundStatus":"{status}"}}"#
        );
        let n = notify::verify_notification(&callback(&param, &key), &keys(&key), Currency::Cny)
            .unwrap();
        seen.push(format!("{:?} {}", n.event, n.refund.status));
    }
    insta::assert_debug_snapshot!(seen, @r#"
    [
        "Succeeded succeeded",
        "Failed failed",
        "Cancelled cancelled",
        "Unrecognized(\"payment.refund.later\") processing",
    ]
    "#);
    let n = notify::verify_notification(&callback(FAILED_PARAM, &key), &keys(&key), Currency::Cny)
        .unwrap();
    insta::assert_json_snapshot!("callback_failed_refund", n.refund);
    assert_eq!(
        notify::SUCCESS_REPLY,
        r#"{"code":10000,"message":"Success"}"#
    );
}

#[test]
fn callbacks_with_bad_signatures_are_rejected_before_reading() {
    let key = platform();
    let merchant = RsaPrivateKey::from_text(include_str!(
        "../../../fixtures/keys/openapi_merchant_2048.pem"
    ))
    .unwrap();
    // Signed by the wrong key.
    let err = notify::verify_notification(
        &callback(FAILED_PARAM, &merchant),
        &keys(&key),
        Currency::Cny,
    )
    .unwrap_err();
    assert_eq!(err.kind(), "signature");
    // Param altered after signing (the amount).
    let good = callback(FAILED_PARAM, &key);
    let tampered = String::from_utf8(good).unwrap().replace("10000", "99999");
    let err =
        notify::verify_notification(tampered.as_bytes(), &keys(&key), Currency::Cny).unwrap_err();
    assert_eq!(err.kind(), "signature");
    // A param that is not even JSON, but is badly signed: the signature error wins.
    let body = serde_json::json!({"param": "not json", "sign": "AAAA"}).to_string();
    let err = notify::verify_notification(body.as_bytes(), &keys(&key), Currency::Cny).unwrap_err();
    assert_eq!(err.kind(), "signature");
    // A duplicated `param` key in the envelope.
    let sign = sign::sign_canonical(&key, FAILED_PARAM).unwrap();
    let dup = format!(
        r#"{{"param":{},"param":"{{}}","sign":"{sign}"}}"#,
        serde_json::to_string(FAILED_PARAM).unwrap()
    );
    let err = notify::verify_notification(dup.as_bytes(), &keys(&key), Currency::Cny).unwrap_err();
    assert_eq!(err.kind(), "decode");
    assert!(err.to_string().contains("duplicate key"));
}

#[test]
fn a_verified_callback_can_be_replayed_and_the_state_deduplicates_it() {
    use notify::{CallbackDecision, CallbackState};
    let key = platform();
    let verify = |param: &str| {
        notify::verify_notification(&callback(param, &key), &keys(&key), Currency::Cny).unwrap()
    };
    let later = FAILED_PARAM.replace("16:26:48", "16:40:00");
    let earlier = FAILED_PARAM
        .replace("FAILED", "PROCESS")
        .replace("payment.refund.failed", "payment.refund.later");
    let succeeded = FAILED_PARAM
        .replace("\"FAILED\"", "\"COMPLETED\"")
        .replace("payment.refund.failed", "payment.refund.success");
    let mut state = CallbackState::new();
    // What the verifier guarantees: the gateway signed it. What it does not: that it is new.
    let first = verify(FAILED_PARAM);
    let replay = verify(FAILED_PARAM);
    assert_eq!(first, replay, "a replay verifies exactly like the original");
    assert_eq!(first.refund.signature, Verification::Verified);
    assert_eq!(state.observe(&first), CallbackDecision::Apply);
    assert_eq!(state.observe(&replay), CallbackDecision::Duplicate);
    assert_eq!(state.observe(&verify(&earlier)), CallbackDecision::Stale);
    assert_eq!(
        state.observe(&verify(&succeeded)),
        CallbackDecision::Conflict
    );
    // The same final status, re-sent later with a new time: applied (news about the same state).
    assert_eq!(state.observe(&verify(&later)), CallbackDecision::Apply);
    assert_eq!(state.len(), 1);
    // A callback without any refund id cannot be deduplicated.
    let anonymous =
        r#"{"eventName":"payment.refund.success","refundAmount":1,"refundStatus":"COMPLETED"}"#;
    assert_eq!(
        state.observe(&verify(anonymous)),
        CallbackDecision::Unidentified
    );
}
