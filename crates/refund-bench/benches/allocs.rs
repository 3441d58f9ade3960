//! Heap allocations per call of the SDK's own work (no network): build + sign a request, and
//! verify + parse + map an answer, for each provider. Counts, not times: they do not move with
//! the machine's load, so a change that adds an allocation to the hot path shows here at once.
//!
//! `cargo bench -p refund-bench --bench allocs`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use refund_core::{RefundLookup, Secret};
use refund_test_support::{fixture, fixture_text as text};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

/// Calls `f` `n` times and prints the allocations and bytes allocated per call.
fn per_call<T>(label: &str, n: u64, mut f: impl FnMut() -> T) {
    black_box(f()); // warm: lazily built statics are not the call's cost
    let before = dhat::HeapStats::get();
    for _ in 0..n {
        black_box(f());
    }
    let after = dhat::HeapStats::get();
    let blocks = (after.total_blocks - before.total_blocks) as f64 / n as f64;
    let bytes = (after.total_bytes - before.total_bytes) as f64 / n as f64;
    println!("{label:<34} {blocks:>6.1} allocations {bytes:>8.0} bytes per call");
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    const N: u64 = 200;

    let cpos = refund_cpos::CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(Secret::new(text("keys/cpos_secret.txt").trim()))
        .build()
        .unwrap();
    let lookup = RefundLookup::refund_id("WX200324161500830790814539");
    let body = fixture("cpos/responses/seed_resigned.json");
    per_call("cpos/build_sign", N, || cpos.prepare(&lookup).unwrap());
    per_call("cpos/verify_parse_map", N, || {
        cpos.parse_response(&lookup, &body).unwrap()
    });

    let openapi = refund_openapi::OpenApiClient::builder()
        .base_url("http://127.0.0.1:1")
        .app_id("733b887a4a784708bb369524db5b6ded")
        .merchant_private_key_pem(&text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .clock(|| chrono::DateTime::from_timestamp(1_722_416_882, 0).unwrap_or_default())
        .build()
        .unwrap();
    let lookup = refund_test_support::fixture_lookup("openapi", "seed_success");
    let body = fixture("openapi/responses/seed_success.json");
    per_call("openapi/build_sign", N, || {
        openapi.prepare(&lookup).unwrap()
    });
    per_call("openapi/parse_map", N, || {
        openapi.parse_response(&lookup, &body).unwrap()
    });

    let edgeros = refund_edgeros::EdgerosClient::builder()
        .base_url("http://127.0.0.1:1")
        .mch_no("MCH1000000")
        .merchant_private_key_pem(&text("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_pem(&text("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .nonce_source(|| "0123456789abcdefABCDEF0123456789".to_owned())
        .build()
        .unwrap();
    let lookup = RefundLookup::refund_id("AR202112151405438637829842922855012187");
    let body = fixture("edgeros/responses/seed_success_resigned.json");
    per_call("edgeros/build_sign", N, || {
        edgeros.prepare(&lookup).unwrap()
    });
    per_call("edgeros/verify_parse_map", N, || {
        edgeros.parse_response(&lookup, &body).unwrap()
    });
}
