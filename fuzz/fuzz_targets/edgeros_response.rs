#![no_main]
//! EdgerOS answers: strict parse, canonical rebuild and verification never panic, and no refund
//! comes out of an answer whose platform signature was not checked.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use refund_core::rsa_keys::RsaPublicKey;

fn key() -> &'static RsaPublicKey {
    static KEY: OnceLock<RsaPublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        RsaPublicKey::from_text(include_str!("../../fixtures/keys/edgeros_platform.pub.pem"))
            .expect("test key")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = refund_core::json::parse_strict(data) {
        if let Ok(parts) = refund_edgeros::sign::response_canonical(&value) {
            // The canonical text is always valid JSON.
            assert!(refund_core::json::parse_strict(parts.canonical.as_bytes()).is_ok());
        }
    }
    if refund_edgeros::map::map_response_body(data, key()).is_ok() {
        // A refund only ever comes out of a response whose platform signature was checked.
        let value = refund_core::json::parse_strict(data).expect("mapped, so it parsed");
        assert_eq!(
            refund_edgeros::sign::verify_response(key(), &value).ok(),
            Some(true),
            "a refund without a verified signature"
        );
    }
});
