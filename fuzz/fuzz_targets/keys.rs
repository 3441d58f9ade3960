#![no_main]
//! Key text (PEM PKCS#8 / PKCS#1 / SPKI, bare base64 DER): never panics; what parses is a key of
//! at least 2048 bits, and errors never repeat key material.
use libfuzzer_sys::fuzz_target;
use refund_core::rsa_keys::{MIN_BITS, RsaPrivateKey, RsaPublicKey};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match RsaPrivateKey::from_text(text) {
        Ok(key) => assert!(key.bits() >= MIN_BITS),
        Err(e) => {
            let message = e.to_string();
            // The message may say what is wrong (and name a short label); it must never repeat
            // a longer run of the key text.
            for i in 0..text.len() {
                if let Some(run) = text.get(i..i + 33) {
                    assert!(!message.contains(run), "repeats {run:?}: {message}");
                }
            }
        }
    }
    if let Ok(key) = RsaPublicKey::from_text(text) {
        assert!(key.bits() >= MIN_BITS);
    }
});
