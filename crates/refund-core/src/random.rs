//! Random tokens (nonces, sandbox credentials) from the OS random source.

/// A random token of `len` characters from `[0-9A-Za-z]`, drawn from the OS random source
/// (`rand`'s `Alphanumeric`: rejection sampling, so every character is equally likely).
///
/// ```
/// let n = refund_core::random::random_token(32);
/// assert_eq!(n.len(), 32);
/// assert!(n.bytes().all(|b| b.is_ascii_alphanumeric()));
/// ```
pub fn random_token(len: usize) -> String {
    use rand::Rng as _;
    rand::rngs::OsRng
        .sample_iter(rand::distributions::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_use_the_whole_alphabet_and_differ() {
        let text: String = (0..200).map(|_| random_token(50)).collect();
        let mut seen = std::collections::BTreeSet::new();
        seen.extend(text.bytes());
        // 10,000 draws: missing one of 62 characters has odds of about 62 × (61/62)^10000.
        assert_eq!(seen.len(), 62);
        assert!(seen.iter().all(u8::is_ascii_alphanumeric));
        assert_ne!(random_token(32), random_token(32));
        assert_eq!(random_token(0), "");
    }
}
