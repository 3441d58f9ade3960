//! The fixed cases both benches measure: one client per provider (the sandbox's test keys,
//! built by its own builders; fixed clock and nonce, so every call signs the same bytes), the
//! lookup, and the answer it gets (a fixture).

use refund_core::RefundLookup;
use refund_sandbox::Credentials;
use refund_test_support::{fixture, fixture_lookup};

/// Where the benches' clients point: nothing is sent.
const NOWHERE: &str = "http://127.0.0.1:1";

fn keys() -> Credentials {
    Credentials::test_keys().unwrap()
}

/// A client, the lookup it asks, and the answer body it parses.
pub(crate) struct Case<C> {
    pub(crate) client: C,
    pub(crate) lookup: RefundLookup,
    pub(crate) body: Vec<u8>,
}

pub(crate) fn openapi() -> Case<refund_openapi::OpenApiClient> {
    let client = keys()
        .openapi_client(NOWHERE)
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
    let client = keys()
        .edgeros_client(NOWHERE)
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
    let client = keys().cpos_client(NOWHERE).build().unwrap();
    Case {
        client,
        lookup: RefundLookup::refund_id("WX200324161500830790814539"),
        body: fixture("cpos/responses/seed_resigned.json"),
    }
}
