#![no_main]
//! Open API query answers: strict parse, binding and mapping never panic, and whatever maps has
//! sane money and names the refund asked about.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use refund_core::{Currency, RefundLookup, Verification};
use refund_openapi::OpenApiClient;

fn client() -> &'static OpenApiClient {
    static CLIENT: OnceLock<OpenApiClient> = OnceLock::new();
    CLIENT.get_or_init(|| {
        OpenApiClient::builder()
            .base_url("http://127.0.0.1:1")
            .app_id("fuzz")
            .merchant_private_key_pem(include_str!(
                "../../fixtures/keys/openapi_merchant_2048.pem"
            ))
            .and_then(|b| b.build())
            .expect("test key")
    })
}

fuzz_target!(|data: &[u8]| {
    let lookup = RefundLookup::refund_id("RT0001");
    if let Ok(refunds) = client().parse_response(&lookup, data) {
        for r in refunds {
            assert_eq!(r.amount.currency(), Currency::Cny);
            assert!(r.provider_status.is_some());
            assert_eq!(r.refund_id.as_deref(), Some("RT0001"));
            assert_eq!(r.signature, Verification::NotSigned);
        }
    }
});
