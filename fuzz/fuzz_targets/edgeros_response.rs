#![no_main]
//! EdgerOS answers: strict parse, canonical rebuild, verification, binding, decoding and mapping
//! never panic; no refund comes out of an answer whose platform signature was not checked, or
//! that names another refund or merchant than the one asked about.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use refund_core::protocol::{Bound, Protocol};
use refund_core::{RefundLookup, Verification};
use refund_edgeros::EdgerosClient;

const REFUND_NO: &str = "AR202112151405438637829842922855012187";

fn client() -> &'static EdgerosClient {
    static CLIENT: OnceLock<EdgerosClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        EdgerosClient::builder()
            .mch_no("MCH1000000")
            .merchant_private_key_pem(include_str!("../../fixtures/keys/edgeros_merchant.pem"))
            .and_then(|b| {
                b.platform_public_key_pem(include_str!(
                    "../../fixtures/keys/edgeros_platform.pub.pem"
                ))
            })
            .and_then(|b| b.build())
            .expect("test keys")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = refund_core::json::parse_strict(data) {
        if let Ok(parts) = refund_edgeros::sign::response_canonical(&value) {
            // The canonical text is always valid JSON.
            assert!(refund_core::json::parse_strict(parts.canonical.as_bytes()).is_ok());
        }
    }
    // Past the signature: a mutated answer cannot carry a valid RSA signature, so the decoding
    // and mapping are also driven directly (fuzzing-only entry), where they must never panic and
    // never produce a negative amount.
    if let Ok(value) = refund_core::json::parse_strict(data) {
        let protocol = client().protocol();
        if let Ok(answer) = protocol.decode(data, value) {
            if let Ok(refunds) = protocol.map(&Bound::unverified_for_fuzzing(answer)) {
                assert!(refunds.iter().all(|r| !r.amount.is_negative()));
            }
        }
    }
    let lookup = RefundLookup::refund_id(REFUND_NO);
    if let Ok(refunds) = client().parse_response(&lookup, data) {
        for r in &refunds {
            assert_eq!(
                r.signature,
                Verification::Verified,
                "a refund without a verified signature"
            );
            assert_eq!(
                r.refund_id.as_deref(),
                Some(REFUND_NO),
                "a refund about another question"
            );
        }
    }
});
