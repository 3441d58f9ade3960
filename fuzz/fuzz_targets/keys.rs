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
            // The whole chain, as the CLI prints it: the parser's own cause included.
            let message = refund_core::error::chain_text(&e);
            // The message may say what is wrong (and name a short label); it must never repeat
            // a longer run of key material (base64, so no spaces: the message's own wording, which
            // a mutation may copy into the input, is not a leak). Walking the (short) message's
            // windows rather than every offset of the (long) key text keeps this check cheap.
            let material = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=');
            for run in message.as_bytes().windows(33) {
                if !run.iter().all(material) {
                    continue;
                }
                assert!(
                    !text.as_bytes().windows(33).any(|w| w == run),
                    "repeats {:?}: {message}",
                    String::from_utf8_lossy(run)
                );
            }
        }
    }
    if let Ok(key) = RsaPublicKey::from_text(text) {
        assert!(key.bits() >= MIN_BITS);
    }
});
