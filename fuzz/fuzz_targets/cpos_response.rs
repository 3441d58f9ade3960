#![no_main]
//! CPOS answers: parse, MD5 check and mapping never panic; with verification optional the whole
//! mapping (amounts, WeChat attach, coupons) is exercised.
use libfuzzer_sys::fuzz_target;
use refund_cpos::map::{ResponseSignature, map_response_body};

fuzz_target!(|data: &[u8]| {
    let secret = refund_core::Secret::new("fuzz-secret");
    if let Ok(r) = map_response_body(data, &secret, ResponseSignature::Optional) {
        assert!(
            !r.refund.amount.is_negative(),
            "refund amounts are normalised to positive"
        );
    }
    let _ = map_response_body(data, &secret, ResponseSignature::Required);
});
