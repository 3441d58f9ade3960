//! The SDK's own cost per query, without the network: build + sign a request, verify + parse + map
//! an answer, and the two together, for each provider; raw RSA-2048 sign/verify for the back-end
//! in this build beside the `rsa` crate's own blinded sign + verify.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod cases;

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use refund_bench::BACKEND;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_test_support::fixture_text as text;

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
    let case = cases::openapi();
    provider_group(
        c,
        format!("openapi/{BACKEND}"),
        "parse_map",
        || case.client.prepare_now(black_box(&case.lookup)).unwrap(),
        || {
            case.client
                .parse_response(&case.lookup, black_box(&case.body))
                .unwrap()
        },
    );
}

fn edgeros(c: &mut Criterion) {
    let case = cases::edgeros();
    provider_group(
        c,
        format!("edgeros/{BACKEND}"),
        "verify_parse_map",
        || case.client.prepare_now(black_box(&case.lookup)).unwrap(),
        || {
            case.client
                .parse_response(&case.lookup, black_box(&case.body))
                .unwrap()
        },
    );
}

fn cpos(c: &mut Criterion) {
    let case = cases::cpos();
    provider_group(
        c,
        "cpos/md5".to_owned(),
        "verify_parse_map",
        || case.client.prepare_now(black_box(&case.lookup)).unwrap(),
        || {
            case.client
                .parse_response(&case.lookup, black_box(&case.body))
                .unwrap()
        },
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
