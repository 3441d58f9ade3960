//! Property: a correctly signed answer about refund B, parsed as the answer to a question about
//! refund A, is always a mismatch, for every lookup kind and either signature policy.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use refund_core::{LookupKind, RefundLookup, Secret};
use refund_cpos::{CposClient, ResponseSignature, sign};
use serde_json::json;

fn client(policy: ResponseSignature) -> CposClient {
    CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(Secret::new("k"))
        .response_signature(policy)
        .build()
        .unwrap()
}

/// CPOS's genuine answer naming `id` in the field of `kind` (and other ids elsewhere).
fn signed_answer(kind: LookupKind, id: &str, other: &str) -> Vec<u8> {
    let mut doc = json!({
        "return_code": 10000, "refund_status": 1, "refund_amount": "-0.50",
        "refund_no": other, "out_refund_no": other, "channel_trade_no": other,
    });
    doc[refund_cpos::wire::id_field(kind).unwrap().name()] = json!(id);
    let fields = sign::response_fields(&doc);
    doc["sign"] = json!(sign::sign_canonical(
        &Secret::new("k"),
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    ));
    serde_json::to_vec(&doc).unwrap()
}

proptest! {
    #[test]
    fn an_answer_about_b_never_answers_a(
        a in "[A-Za-z0-9_-]{1,64}",
        b in "[A-Za-z0-9_-]{1,64}",
        other in "[A-Za-z0-9_-]{1,64}",
        kind in prop::sample::select(refund_cpos::SUPPORTED_LOOKUPS),
        optional in any::<bool>(),
    ) {
        prop_assume!(a != b);
        let policy = if optional { ResponseSignature::Optional } else { ResponseSignature::Required };
        let client = client(policy);
        let body = signed_answer(kind, &b, &other);
        prop_assert!(client.parse_response(&RefundLookup::new(kind, b), &body).is_ok());
        let err = client.parse_response(&RefundLookup::new(kind, a), &body).unwrap_err();
        prop_assert_eq!(err.kind(), "mismatch");
    }
}
