#![no_main]
//! `refund.toml`: never panics, and an error message never repeats a line of the file (a broken
//! line can hold a secret) beyond the key names the CLI itself knows.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(message) = refund_cli::fuzzing::config(text) {
        for line in text.lines() {
            let line = line.trim();
            // Long enough to be a secret, and not merely one of our own words.
            if line.len() >= 24 && line.chars().any(|c| c.is_ascii_digit()) {
                assert!(
                    !message.contains(line),
                    "the message repeats {line:?}: {message}"
                );
            }
        }
    }
});
