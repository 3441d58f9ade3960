#![no_main]
//! CPOS answers: parse, MD5 check, binding and mapping never panic; with verification optional
//! the detail (amounts, WeChat attach, coupons) is exercised too. Nothing maps unless it names
//! the refund asked about; in required mode nothing maps unverified.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use refund_core::{RefundLookup, Secret, Verification};
use refund_cpos::{CposClient, CposDetail, ResponseSignature, sign};

const OUT_REFUND_NO: &str = "200324847290000004766";

fn client(policy: ResponseSignature) -> CposClient {
    CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(Secret::new("fuzz-secret"))
        .response_signature(policy)
        .build()
        .expect("client")
}

fn clients() -> &'static (CposClient, CposClient) {
    static CLIENTS: OnceLock<(CposClient, CposClient)> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        (
            client(ResponseSignature::Optional),
            client(ResponseSignature::Required),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let (optional, required) = clients();
    let lookup = RefundLookup::merchant_refund_id(OUT_REFUND_NO);
    if let Ok(refunds) = optional.parse_response(&lookup, data) {
        for r in &refunds {
            assert!(
                !r.amount.is_negative(),
                "refund amounts are normalised to positive"
            );
            assert_eq!(r.merchant_refund_id.as_deref(), Some(OUT_REFUND_NO));
        }
    }
    let _ = optional.parse_detailed(&lookup, data);
    if let Ok(refunds) = required.parse_response(&lookup, data) {
        assert!(
            refunds
                .iter()
                .all(|r| r.signature == Verification::Verified)
        );
    }
    // Past the signature: sign the (mutated) answer with the test secret, so required mode
    // decodes and maps it; then `attach` (unsigned) must change nothing.
    let Ok(serde_json::Value::Object(mut doc)) = refund_core::json::parse_strict(data) else {
        return;
    };
    doc.remove("sign");
    let signed = |doc: &serde_json::Map<String, serde_json::Value>| {
        let mut doc = serde_json::Value::Object(doc.clone());
        let fields = sign::response_fields(&doc);
        let sign = sign::sign_canonical(
            &Secret::new("fuzz-secret"),
            fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        doc["sign"] = serde_json::Value::String(sign);
        serde_json::to_vec(&doc).expect("serialises")
    };
    let with_attach = required.parse_response(&lookup, &signed(&doc));
    let _ = required.parse_detailed(&lookup, &signed(&doc));
    doc.remove("attach");
    let without_attach = required.parse_response(&lookup, &signed(&doc));
    match (&with_attach, &without_attach) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "unsigned attach changed the result"),
        (Err(a), Err(b)) => assert_eq!(a.kind(), b.kind(), "unsigned attach changed the error"),
        _ => panic!("unsigned attach changed the outcome: {with_attach:?} / {without_attach:?}"),
    }
});
