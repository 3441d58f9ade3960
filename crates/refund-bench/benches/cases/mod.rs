//! The fixed cases both benches measure: one client per provider (fixed clock and nonce, so
//! every call signs the same bytes), the lookup, and the answer it gets (a fixture).

use refund_core::{RefundLookup, Secret};
use refund_test_support::{fixture, fixture_lookup, fixture_text as text};

/// A client, the lookup it asks, and the answer body it parses.
pub(crate) struct Case<C> {
    pub(crate) client: C,
    pub(crate) lookup: RefundLookup,
    pub(crate) body: Vec<u8>,
}

pub(crate) fn openapi() -> Case<refund_openapi::OpenApiClient> {
    let client = refund_openapi::OpenApiClient::builder()
        .base_url("http://127.0.0.1:1")
        .app_id("733b887a4a784708bb369524db5b6ded")
        .merchant_private_key_pem(&text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .clock(|| chrono::DateTime::from_timestamp(1_722_416_882, 0).unwrap_or_default())
        .build()
        .unwrap();
    Case {
        client,
        lookup: fixture_lookup("openapi", "seed_success"),
        body: fixture("openapi/responses/seed_success.json"),
    }
}

pub(crate) fn edgeros() -> Case<refund_edgeros::EdgerosClient> {
    let client = refund_edgeros::EdgerosClient::builder()
        .base_url("http://127.0.0.1:1")
        .mch_no("MCH1000000")
        .merchant_private_key_pem(&text("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_pem(&text("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .nonce_source(|| "0123456789abcdefABCDEF0123456789".to_owned())
        .build()
        .unwrap();
    Case {
        client,
        lookup: RefundLookup::refund_id("AR202112151405438637829842922855012187"),
        body: fixture("edgeros/responses/seed_success_resigned.json"),
    }
}

pub(crate) fn cpos() -> Case<refund_cpos::CposClient> {
    let client = refund_cpos::CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(Secret::new(text("keys/cpos_secret.txt").trim()))
        .build()
        .unwrap();
    Case {
        client,
        lookup: RefundLookup::refund_id("WX200324161500830790814539"),
        body: fixture("cpos/responses/seed_resigned.json"),
    }
}
