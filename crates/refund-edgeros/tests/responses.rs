//! Every response fixture: verified and mapped, or rejected with a typed error (snapshots).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use refund_core::{RefundLookup, Verification};
use refund_edgeros::EdgerosClient;
use refund_test_support::{
    explained, fixture, fixture_entries, fixture_lookup, fixture_text, outcome,
};

fn client() -> EdgerosClient {
    EdgerosClient::builder()
        .base_url("http://127.0.0.1:1")
        .mch_no("MCH1000000")
        .merchant_private_key_pem(&fixture_text("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_pem(&fixture_text("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .build()
        .unwrap()
}

fn parse(name: &str) -> Result<Vec<refund_core::Refund>, refund_core::Error> {
    client().parse_response(
        &fixture_lookup("edgeros", name.trim_end_matches(".json")),
        &fixture(&format!("edgeros/responses/{name}")),
    )
}

#[test]
fn every_response_fixture() {
    let client = client();
    for (name, path) in fixture_entries("edgeros/responses", false, 20) {
        let lookup = fixture_lookup("edgeros", &name);
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
fn tampering_is_always_a_signature_error() {
    for name in [
        "tampered_amount.json",
        "tampered_code.json",
        "tampered_status.json",
        "wrong_key.json",
        "missing_sign.json",
        "wrong_sign_type.json",
        "garbage_sign.json",
    ] {
        let err = parse(name).unwrap_err();
        assert_eq!(err.kind(), "signature", "{name}: {err}");
    }
    let err = parse("duplicate_refund_amount.json").unwrap_err();
    assert!(
        err.to_string().contains("duplicate key \"refund_amount\""),
        "{err}"
    );
}

#[test]
fn seed_success_maps_exactly() {
    let refunds = parse("seed_success_resigned.json").unwrap();
    let r = &refunds[0];
    assert_eq!(r.signature, Verification::Verified);
    assert_eq!(r.amount.minor(), 1);
    assert_eq!(r.status, refund_core::RefundStatus::Succeeded);
    assert_eq!(
        refund_core::time::format_utc(&r.completed_at.unwrap()),
        "2024-04-24T09:15:21Z"
    );
    assert_eq!(r.channel.as_deref(), Some("WECHAT_PAY"));
    assert_eq!(
        r.merchant_order_id.as_deref(),
        Some("mp202104021606341385640107521832")
    );
}

#[test]
fn a_signed_answer_about_another_refund_is_a_mismatch() {
    let body = fixture("edgeros/responses/seed_success_resigned.json");
    let client = client();
    // The same correctly signed answer, asked about another refund or by the merchant's id.
    let err = client
        .parse_response(&RefundLookup::refund_id("AR-SOMETHING-ELSE"), &body)
        .unwrap_err();
    assert_eq!(err.kind(), "mismatch");
    insta::assert_snapshot!(err.to_string(), @r#"edgeros: the answer is not about what was asked: `data.refund_no` is "AR202112151405438637829842922855012187", asked for "AR-SOMETHING-ELSE""#);
    let by_merchant_id = RefundLookup::merchant_refund_id("dx202104021606341385640107521832");
    assert!(client.parse_response(&by_merchant_id, &body).is_ok());
    let err = client
        .parse_response(&RefundLookup::merchant_refund_id("dx-other"), &body)
        .unwrap_err();
    assert_eq!(err.kind(), "mismatch");
    // Another merchant's client: the answer names MCH1000000, not MCH2.
    let other_merchant = EdgerosClient::builder()
        .mch_no("MCH2")
        .merchant_private_key_pem(&fixture_text("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_pem(&fixture_text("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .build()
        .unwrap();
    let lookup = fixture_lookup("edgeros", "seed_success_resigned");
    let err = other_merchant.parse_response(&lookup, &body).unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"edgeros: the answer is not about what was asked: `data.mch_no` is "MCH1000000", asked for "MCH2""#);
    // A signed error answer is bound by the merchant it echoes too.
    let not_found = fixture("edgeros/responses/seed_error_order_not_exist_resigned.json");
    assert!(
        client
            .parse_response(&lookup, &not_found)
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        other_merchant
            .parse_response(&lookup, &not_found)
            .unwrap_err()
            .kind(),
        "mismatch"
    );
}
