#![no_main]
//! Money parsing: never panics; whatever parses formats back to itself.
use libfuzzer_sys::fuzz_target;
use refund_core::{Currency, Money};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for currency in Currency::ALL {
        if let Ok(m) = Money::from_major_str(text, currency) {
            assert_eq!(Money::from_major_str(&m.to_major_string(), currency), Ok(m));
        }
        if let Ok(m) = Money::from_minor_str(text, currency) {
            assert_eq!(m.minor().to_string().parse::<i64>(), Ok(m.minor()));
        }
    }
});
