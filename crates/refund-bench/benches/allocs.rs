//! Heap allocations per call of the SDK's own work (no network): build + sign a request, and
//! verify + parse + map an answer, for each provider. Counts, not times: they do not move with
//! the machine's load, so a change that adds an allocation to the hot path shows here at once.
//!
//! `cargo bench -p refund-bench --bench allocs`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod cases;

use std::hint::black_box;

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

    let cpos = cases::cpos();
    per_call("cpos/build_sign", N, || {
        cpos.client.prepare_now(&cpos.lookup).unwrap()
    });
    per_call("cpos/verify_parse_map", N, || {
        cpos.client
            .parse_response(&cpos.lookup, &cpos.body)
            .unwrap()
    });
    let openapi = cases::openapi();
    per_call("openapi/build_sign", N, || {
        openapi.client.prepare_now(&openapi.lookup).unwrap()
    });
    per_call("openapi/parse_map", N, || {
        openapi
            .client
            .parse_response(&openapi.lookup, &openapi.body)
            .unwrap()
    });
    let edgeros = cases::edgeros();
    per_call("edgeros/build_sign", N, || {
        edgeros.client.prepare_now(&edgeros.lookup).unwrap()
    });
    per_call("edgeros/verify_parse_map", N, || {
        edgeros
            .client
            .parse_response(&edgeros.lookup, &edgeros.body)
            .unwrap()
    });
}
