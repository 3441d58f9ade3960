#![no_main]
//! `refund.toml`: never panics, and an error message never repeats text of the file (a broken
//! line can hold a secret): the seeds carry `SECRET` in values and keys, a word no message of the
//! CLI contains, so wherever mutations move it, it must not come out.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(message) = refund_cli::fuzzing::config(text) {
        assert!(
            !message.contains("SECRET"),
            "the message repeats the file: {message}"
        );
    }
});
