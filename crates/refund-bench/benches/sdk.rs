//! The SDK's own cost per query, without the network: build + sign a request, verify + parse + map
//! an answer, and the two together, for each provider; raw RSA-2048 sign/verify for the back-end
//! in this build beside the `rsa` crate's own blinded sign + verify.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use refund_bench::BACKEND;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{RefundLookup, Secret};
use refund_test_support::{fixture, fixture_text as text};

const PARAM: &[u8] =
    br#"{"originalTransactionId":"CU518563189147832320","timestamp":1722416882000}"#;

fn rsa_ops(c: &mut Criterion) {
    let key = RsaPrivateKey::from_text(&text("keys/openapi_merchant_2048.pem")).unwrap();
    let sig = key.sign(PARAM).unwrap();
    let mut g = c.benchmark_group(format!("rsa2048/{BACKEND}"));
    g.bench_function("sign", |b| b.iter(|| key.sign(black_box(PARAM)).unwrap()));
    g.bench_function("verify", |b| {
        b.iter(|| key.public_key().verify(black_box(PARAM), &sig).unwrap())
    });
    g.finish();

    // The `rsa` crate on its own: blinded sign and verify, the reference for our overhead.
    use rsa::pkcs1v15::{SigningKey, VerifyingKey};
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{RandomizedSigner, SignatureEncoding, Verifier};
    let raw = rsa::RsaPrivateKey::from_pkcs8_pem(&text("keys/openapi_merchant_2048.pem")).unwrap();
    let signing = SigningKey::<sha2::Sha256>::new(raw.clone());
    let verifying = VerifyingKey::<sha2::Sha256>::new(raw.to_public_key());
    let raw_sig = signing.sign_with_rng(&mut rsa::rand_core::OsRng, PARAM);
    let mut g = c.benchmark_group("rsa2048/rsa-crate-direct");
    g.bench_function("sign_blinded", |b| {
        b.iter(|| {
            signing
                .sign_with_rng(&mut rsa::rand_core::OsRng, black_box(PARAM))
                .to_vec()
        })
    });
    g.bench_function("verify", |b| {
        b.iter(|| verifying.verify(black_box(PARAM), &raw_sig).unwrap())
    });
    g.finish();
}

/// One provider's three figures: build + sign, verify + parse + map, and both (the whole query
/// with a transport that answers from memory).
fn provider_group<R, P>(
    c: &mut Criterion,
    group: String,
    parse_label: &str,
    prepare: impl Fn() -> R,
    parse: impl Fn() -> P,
) {
    let mut g = c.benchmark_group(group);
    g.bench_function("build_sign", |b| b.iter(|| black_box(prepare())));
    g.bench_function(parse_label, |b| b.iter(|| black_box(parse())));
    g.bench_function("query_minus_network", |b| {
        b.iter(|| {
            black_box(prepare());
            black_box(parse())
        })
    });
    g.finish();
}

fn openapi(c: &mut Criterion) {
    let client = refund_openapi::OpenApiClient::builder()
        .base_url("http://127.0.0.1:1")
        .app_id("733b887a4a784708bb369524db5b6ded")
        .merchant_private_key_pem(&text("keys/openapi_merchant_2048.pem"))
        .unwrap()
        .clock(|| chrono::DateTime::from_timestamp(1_722_416_882, 0).unwrap_or_default())
        .build()
        .unwrap();
    let lookup = refund_test_support::fixture_lookup("openapi", "seed_success");
    let body = fixture("openapi/responses/seed_success.json");
    provider_group(
        c,
        format!("openapi/{BACKEND}"),
        "parse_map",
        || client.prepare(black_box(&lookup)).unwrap(),
        || client.parse_response(&lookup, black_box(&body)).unwrap(),
    );
}

fn edgeros(c: &mut Criterion) {
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
    let lookup = RefundLookup::refund_id("AR202112151405438637829842922855012187");
    let body = fixture("edgeros/responses/seed_success_resigned.json");
    provider_group(
        c,
        format!("edgeros/{BACKEND}"),
        "verify_parse_map",
        || client.prepare(black_box(&lookup)).unwrap(),
        || client.parse_response(&lookup, black_box(&body)).unwrap(),
    );
}

fn cpos(c: &mut Criterion) {
    let client = refund_cpos::CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(Secret::new(text("keys/cpos_secret.txt").trim()))
        .build()
        .unwrap();
    let lookup = RefundLookup::refund_id("WX200324161500830790814539");
    let body = fixture("cpos/responses/seed_resigned.json");
    provider_group(
        c,
        "cpos/md5".to_owned(),
        "verify_parse_map",
        || client.prepare(black_box(&lookup)).unwrap(),
        || client.parse_response(&lookup, black_box(&body)).unwrap(),
    );
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
}

criterion_group!(name = benches; config = config(); targets = rsa_ops, openapi, edgeros, cpos);
criterion_main!(benches);
