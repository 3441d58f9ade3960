//! Property: a correctly signed answer about refund B, parsed as the answer to a question about
//! refund A, is always a mismatch, for every lookup kind, and by another merchant too.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{LookupKind, RefundLookup};
use refund_edgeros::{EdgerosClient, sign};
use refund_test_support::fixture_text;
use serde_json::{Value, json};

fn client(mch_no: &str) -> EdgerosClient {
    EdgerosClient::builder()
        .mch_no(mch_no)
        .merchant_private_key_pem(&fixture_text("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_pem(&fixture_text("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .build()
        .unwrap()
}

/// The platform's genuine answer about the refund with these ids, signed with its key.
fn signed_answer(mch_no: &str, refund_no: &str, mch_refund_no: &str) -> Vec<u8> {
    let platform = RsaPrivateKey::from_text(&fixture_text("keys/edgeros_platform.pem")).unwrap();
    let mut doc = json!({
        "status": 200, "message": "SUCCESS", "fieldErrors": null,
        "data": {
            "mch_no": mch_no, "nonce": "n", "sign_type": "SHA256withRSA",
            "refund_no": refund_no, "mch_refund_no": mch_refund_no,
            "refund_amount": "0.01", "code": "SUCCESS",
        },
    });
    let canonical = sign::response_canonical(&doc).unwrap().canonical;
    doc["data"]["sign"] = Value::from(platform.sign_base64(canonical.as_bytes()).unwrap());
    serde_json::to_vec(&doc).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn an_answer_about_b_never_answers_a(
        a in "[A-Za-z0-9_-]{1,50}",
        b in "[A-Za-z0-9_-]{1,50}",
        other in "[A-Za-z0-9_-]{1,50}",
        by_merchant_id in any::<bool>(),
    ) {
        prop_assume!(a != b);
        let kind = if by_merchant_id { LookupKind::MerchantRefundId } else { LookupKind::RefundId };
        let body = match kind {
            LookupKind::MerchantRefundId => signed_answer("MCH1000000", &other, &b),
            _ => signed_answer("MCH1000000", &b, &other),
        };
        let client = client("MCH1000000");
        // The answer is genuine: asked about B, it is B's refund.
        prop_assert!(client.parse_response(&RefundLookup::new(kind, b.clone()), &body).is_ok());
        // Asked about A, it is a mismatch, never a result.
        let err = client.parse_response(&RefundLookup::new(kind, a.clone()), &body).unwrap_err();
        prop_assert_eq!(err.kind(), "mismatch");
        // And another merchant asking about B gets a mismatch too.
        let err = self::client(&format!("{a}-M")).parse_response(&RefundLookup::new(kind, b), &body).unwrap_err();
        prop_assert_eq!(err.kind(), "mismatch");
    }
}
