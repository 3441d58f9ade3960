//! Digests shown in explanations: lower-case hex, SHA-256.

/// Lower-case hex of `bytes` (digests in explanations).
///
/// ```
/// assert_eq!(refund_core::digest::hex_lower(&[0x0a, 0xff]), "0aff");
/// ```
pub fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// SHA-256 of `bytes`, lower-case hex: the digest an RSA SHA256withRSA signature covers, shown
/// in explanations.
///
/// ```
/// assert_eq!(refund_core::digest::sha256_hex(b"").len(), 64);
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex_lower(&sha2::Sha256::digest(bytes))
}
