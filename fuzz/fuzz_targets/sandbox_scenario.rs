#![no_main]
//! Sandbox scenarios (TOML and JSON): never panic; what parses has valid amounts.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for scenario in [
        refund_sandbox::Scenario::from_toml(text),
        refund_sandbox::Scenario::from_json(text),
    ]
    .into_iter()
    .flatten()
    {
        assert!(scenario.validate().is_ok());
    }
});
