//! Binding: every refund in an answer carries the id that was looked up (answers are unsigned by
//! protocol, but an answer about another refund or transaction is still never a result).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use refund_core::{LookupKind, RefundLookup};
use refund_openapi::OpenApiClient;
use refund_test_support::fixture_text;
use serde_json::json;

fn client() -> OpenApiClient {
    OpenApiClient::builder()
        .base_url("http://127.0.0.1:1")
        .app_id("app")
        .merchant_private_key_pem(&fixture_text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .build()
        .unwrap()
}

fn field(kind: LookupKind) -> &'static str {
    match kind {
        LookupKind::OriginalTransactionId => "originalTransactionId",
        _ => "refundTransactionId",
    }
}

/// The gateway's answer listing `n` refunds, each naming `id` in the field of `kind`.
fn answer(kind: LookupKind, id: &str, n: usize) -> Vec<u8> {
    let data: Vec<_> = (0..n)
        .map(|i| {
            let mut item = json!({
                "refundTransactionId": format!("RT-{i}"), "originalTransactionId": format!("CU-{i}"),
                "refundAmount": 100, "refundStatus": "COMPLETED",
            });
            item[field(kind)] = json!(id);
            item
        })
        .collect();
    serde_json::to_vec(&json!({"code": 10000, "message": "Success", "data": data})).unwrap()
}

proptest! {
    #[test]
    fn an_answer_about_b_never_answers_a(
        a in "[A-Za-z0-9]{1,32}",
        b in "[A-Za-z0-9]{1,32}",
        kind in prop::sample::select(refund_openapi::SUPPORTED_LOOKUPS),
        n in 1_usize..4,
    ) {
        prop_assume!(a != b);
        let body = answer(kind, &b, n);
        prop_assert_eq!(client().parse_response(&RefundLookup::new(kind, b), &body).unwrap().len(), n);
        let err = client().parse_response(&RefundLookup::new(kind, a), &body).unwrap_err();
        prop_assert_eq!(err.kind(), "mismatch");
    }
}

#[test]
fn one_foreign_refund_among_several_fails_the_answer() {
    let lookup = RefundLookup::original_transaction_id("CU1");
    let body = json!({"code": 10000, "data": [
        {"originalTransactionId": "CU1", "refundTransactionId": "R1", "refundAmount": 1, "refundStatus": "PENDING"},
        {"originalTransactionId": "CU2", "refundTransactionId": "R2", "refundAmount": 1, "refundStatus": "PENDING"},
    ]})
    .to_string();
    let err = client()
        .parse_response(&lookup, body.as_bytes())
        .unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"openapi: the answer is not about what was asked: `data[1].originalTransactionId` is "CU2", asked for "CU1""#);
    // A refund that does not say which transaction it belongs to: a decode error, not a pass.
    let body = json!({"code": 10000, "data": [
        {"refundTransactionId": "R1", "refundAmount": 1, "refundStatus": "PENDING"},
    ]})
    .to_string();
    let err = client()
        .parse_response(&lookup, body.as_bytes())
        .unwrap_err();
    assert_eq!(err.kind(), "decode");
    assert!(
        err.to_string().contains("`data[0].originalTransactionId`"),
        "{err}"
    );
    // Error answers name nothing: not found stays not found.
    let err = client()
        .parse_response(
            &lookup,
            br#"{"code":21006,"message":"Merchant transaction not found"}"#,
        )
        .unwrap_err();
    assert!(err.is_not_found());
}
