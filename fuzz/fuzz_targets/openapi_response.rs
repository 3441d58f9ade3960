#![no_main]
//! Open API query answers: strict parse + mapping never panic, and whatever maps has sane money.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(refunds) = refund_openapi::map::map_response_body(data, refund_core::Currency::Cny) {
        for r in refunds {
            assert_eq!(r.amount.currency(), refund_core::Currency::Cny);
            assert!(r.provider_status.is_some());
        }
    }
});
