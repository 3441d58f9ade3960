#![no_main]
//! Time parsing: never panics; China-local times round-trip.
use libfuzzer_sys::fuzz_target;
use refund_core::time;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(t) = time::parse_china_local("f", text) {
        assert_eq!(time::format_china_local(&t), text);
    }
    if let Ok(t) = time::parse_rfc3339("f", text) {
        assert_eq!(time::parse_rfc3339("f", &time::format_utc(&t)), Ok(t));
    }
});
