//! The sandbox itself: it rejects what the real providers reject, in their own error shapes, and
//! keeps serving under load.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::{Provider, RefundLookup, Secret};
use serde_json::Value;

/// The answer body with its random parts (nonces, signatures over them) masked.
fn masked(body: &[u8]) -> Value {
    let mut v: Value = serde_json::from_slice(body).unwrap();
    if let Some(data) = v.get_mut("data").and_then(Value::as_object_mut) {
        for k in ["nonce", "sign"] {
            if data.contains_key(k) {
                data.insert(k.into(), "[random]".into());
            }
        }
    }
    if let Some(map) = v.as_object_mut() {
        if map.contains_key("sign") {
            map.insert("sign".into(), "[signature]".into());
        }
    }
    v
}

async fn send(req: refund_core::PreparedRequest) -> Value {
    let client = reqwest::Client::new();
    let mut builder = match req.method {
        refund_core::Method::Get => client.get(&req.url),
        _ => client.post(&req.url),
    };
    for (k, v) in &req.headers {
        builder = builder.header(k.as_ref(), v.as_ref());
    }
    if let Some(b) = req.body {
        builder = builder.body(b);
    }
    let response = builder.send().await.unwrap();
    assert_eq!(response.status(), 200);
    masked(&response.bytes().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejections_have_the_providers_own_shapes() {
    let sandbox = common::start().await;
    let base = sandbox.base_url();
    let creds = sandbox.credentials().clone();
    let wrong_key = RsaPrivateKey::from_text(include_str!(
        "../../../fixtures/keys/openapi_merchant_4096.pem"
    ))
    .unwrap();
    let now_ms = chrono::Utc::now().timestamp_millis();
    let app = &creds.openapi_app_id;
    let lookup = RefundLookup::refund_id("OA-PENDING-1");

    let mut answers = Vec::new();
    let openapi = |key: &RsaPrivateKey, ts: i64, lookup: &RefundLookup| {
        refund_openapi::sign::build_request(&base, app, key, lookup, ts).unwrap()
    };
    answers.push((
        "openapi wrong key",
        send(openapi(&wrong_key, now_ms, &lookup)).await,
    ));
    answers.push((
        "openapi expired timestamp",
        send(openapi(
            &creds.openapi_merchant_key,
            now_ms - 3_600_000,
            &lookup,
        ))
        .await,
    ));
    answers.push((
        "openapi unknown id",
        send(openapi(
            &creds.openapi_merchant_key,
            now_ms,
            &RefundLookup::refund_id("nope"),
        ))
        .await,
    ));

    let q = refund_edgeros::wire::RefundQuery::refund_no("AR-TIMELINE-1");
    // A new nonce for each request: the sandbox refuses a reused one as a replay.
    let nonces = [
        "0123456789abcdefABCDEF0123456789",
        "0123456789abcdefABCDEF012345678A",
        "0123456789abcdefABCDEF012345678B",
    ];
    answers.push((
        "edgeros wrong key",
        send(
            refund_edgeros::sign::build_request(
                &base,
                &creds.edgeros_mch_no,
                &wrong_key,
                &q,
                nonces[0],
            )
            .unwrap(),
        )
        .await,
    ));
    answers.push((
        "edgeros no id",
        send(
            refund_edgeros::sign::build_request(
                &base,
                &creds.edgeros_mch_no,
                &creds.edgeros_merchant_key,
                &Default::default(),
                nonces[1],
            )
            .unwrap(),
        )
        .await,
    ));
    answers.push((
        "edgeros unknown id",
        send(
            refund_edgeros::sign::build_request(
                &base,
                &creds.edgeros_mch_no,
                &creds.edgeros_merchant_key,
                &refund_edgeros::wire::RefundQuery::refund_no("nope"),
                nonces[2],
            )
            .unwrap(),
        )
        .await,
    ));

    let cpos = |secret: &Secret, lookup: &RefundLookup| {
        refund_cpos::sign::build_request(&base, &creds.cpos_access_id, secret, lookup).unwrap()
    };
    answers.push((
        "cpos wrong secret",
        send(cpos(
            &Secret::new("wrong"),
            &RefundLookup::refund_id("WX-UNKNOWN-1"),
        ))
        .await,
    ));
    answers.push((
        "cpos unknown id",
        send(cpos(&creds.cpos_secret, &RefundLookup::refund_id("nope"))).await,
    ));
    insta::assert_json_snapshot!("rejections", answers);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_error_answers_verify() {
    // The sandbox's EdgerOS errors are signed like the seed's error example, so our client
    // verifies them before reporting "not found".
    let sandbox = common::start().await;
    let client = sandbox.edgeros_client().build().unwrap();
    let err = client
        .query(&RefundLookup::refund_id("nope"))
        .await
        .unwrap_err();
    assert!(err.is_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_clients_in_flight() {
    let sandbox = common::start().await;
    let mut tasks = Vec::new();
    for i in 0..240 {
        let provider = [Provider::OpenApi, Provider::Edgeros, Provider::Cpos][i % 3];
        let client = common::client(
            &sandbox,
            provider,
            common::fast_http()
                .with_overall_timeout(std::time::Duration::from_secs(20))
                .with_attempt_timeout(std::time::Duration::from_secs(20)),
        );
        let id = [
            "OA-PENDING-1",
            "AR202112151405438637829842922855012187",
            "WX200324161500830790814539",
        ][i % 3];
        tasks.push(tokio::spawn(async move {
            client
                .query_refunds(&RefundLookup::refund_id(id))
                .await
                .map(|r| r.len())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), 1);
    }
    assert_eq!(
        sandbox.request_count(Provider::OpenApi)
            + sandbox.request_count(Provider::Edgeros)
            + sandbox.request_count(Provider::Cpos),
        240
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keeps_serving_after_faults_and_runtime_changes() {
    let sandbox = common::start().await;
    sandbox.add_fault(
        refund_sandbox::FaultRule::provider(Provider::Cpos, refund_sandbox::Fault::ConnectionReset)
            .times(5),
    );
    let client = sandbox
        .cpos_client()
        .http_config(common::fast_http().with_retry(refund_core::http::RetryPolicy::none()))
        .build()
        .unwrap();
    for _ in 0..5 {
        assert!(
            client
                .query(&RefundLookup::refund_id("WX-UNKNOWN-1"))
                .await
                .is_err()
        );
    }
    // Change a refund while running.
    let mut r = refund_sandbox::SandboxRefund::new(
        Provider::Cpos,
        "WX-UNKNOWN-1",
        "3.00",
        refund_core::RefundStatus::Succeeded,
    );
    r.merchant_refund_id = Some("m-1".into());
    sandbox.upsert_refund(r).unwrap();
    let refunds = client
        .query(&RefundLookup::merchant_refund_id("m-1"))
        .await
        .unwrap();
    assert_eq!(refunds[0].status, refund_core::RefundStatus::Succeeded);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_credentials_and_a_working_config() {
    let sandbox = common::start().await;
    let dir = std::env::temp_dir().join(format!("refund-sandbox-test-{}", std::process::id()));
    sandbox.write_credentials(&dir).unwrap();
    let toml = std::fs::read_to_string(dir.join("refund.toml")).unwrap();
    assert!(toml.contains(&sandbox.base_url()));
    // The written keys work.
    let client = refund_edgeros::EdgerosClient::builder()
        .base_url(sandbox.base_url())
        .mch_no("MCH1000000")
        .merchant_private_key_file(dir.join("keys/edgeros_merchant.pem"))
        .unwrap()
        .platform_public_key_file(dir.join("keys/edgeros_platform.pub.pem"))
        .unwrap()
        .build()
        .unwrap();
    assert_eq!(
        client
            .query(&RefundLookup::refund_id("AR-PROCESSING-1"))
            .await
            .unwrap()
            .len(),
        1
    );
    std::fs::remove_dir_all(dir).unwrap();
}
