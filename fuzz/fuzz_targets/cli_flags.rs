#![no_main]
//! Duration and rate flags: any text is accepted within range or refused, never a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        assert!(refund_cli::fuzzing::flags(text) <= 4);
    }
});
