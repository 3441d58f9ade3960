#![no_main]
//! Open API refund callbacks: nothing verifies without the gateway key, and nothing panics.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use refund_core::rsa_keys::{PublicKeySet, RsaPublicKey};

fn key() -> &'static PublicKeySet {
    static KEY: OnceLock<PublicKeySet> = OnceLock::new();
    KEY.get_or_init(|| {
        PublicKeySet::from(
            RsaPublicKey::from_text(include_str!(
                "../../fixtures/keys/openapi_platform_2048.pub.pem"
            ))
            .expect("test key"),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let result =
        refund_openapi::notify::verify_notification(data, key(), refund_core::Currency::Cny);
    // Random bytes can never carry a valid gateway signature.
    assert!(result.is_err());
    // Past the signature (fuzzing-only entry): the payload's decoding never panics, and what
    // decodes is labelled unverified with a sane amount.
    if let Ok(param) = std::str::from_utf8(data) {
        if let Ok(n) = refund_openapi::notify::decode_param_for_fuzzing(
            param.to_owned(),
            refund_core::Currency::Cny,
        ) {
            assert!(!n.refund.amount.is_negative());
            assert_eq!(n.refund.signature, refund_core::Verification::Unverified);
        }
    }
});
