//! The three provider clients over real HTTP against the sandbox: every status, every error path,
//! timelines from processing to succeeded.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use refund_core::{Provider, RefundLookup, RefundStatus};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_statuses_and_errors() {
    let sandbox = common::start().await;
    let client = sandbox
        .openapi_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    let outcomes = common::outcomes(
        &client,
        vec![
            RefundLookup::original_transaction_id("CU51856318914782320"),
            RefundLookup::refund_id("OA-PENDING-1"),
            RefundLookup::refund_id("OA-CANCEL-1"),
            RefundLookup::refund_id("OA-REVIEW-1"),
            RefundLookup::refund_id("does-not-exist"),
            RefundLookup::merchant_refund_id("refund7806664227088"),
        ],
    )
    .await;
    insta::assert_json_snapshot!("openapi_outcomes", outcomes);
    let two = client
        .query(&RefundLookup::original_transaction_id(
            "CU51856318914782320",
        ))
        .await
        .unwrap();
    assert_eq!(
        two.iter().map(|r| r.status.clone()).collect::<Vec<_>>(),
        vec![RefundStatus::Failed, RefundStatus::Succeeded]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_rejections_use_the_gateway_codes() {
    let sandbox = common::start().await;
    // A key the gateway does not know: 21001.
    let stranger = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(
        "../../../fixtures/keys/openapi_merchant_4096.pem"
    ))
    .unwrap();
    let client = sandbox
        .openapi_client()
        .merchant_private_key(stranger)
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("OA-PENDING-1"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code().as_deref()),
        ("provider", Some("21001"))
    );
    // A clock ten minutes off: 21009, with a hint about the clock.
    let client = sandbox
        .openapi_client()
        .clock(|| chrono::Utc::now() - chrono::Duration::minutes(10))
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("OA-PENDING-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code().as_deref(), Some("21009"));
    assert!(err.to_string().contains("clock"));
    // Seconds instead of milliseconds are accepted too.
    let client = sandbox
        .openapi_client()
        .timestamp_unit(refund_openapi::TimestampUnit::Seconds)
        .build()
        .unwrap();
    assert_eq!(
        client
            .query(&RefundLookup::refund_id("OA-PENDING-1"))
            .await
            .unwrap()
            .len(),
        1
    );
    // A wrong app id: 21003.
    let client = sandbox
        .openapi_client()
        .app_id("someone-else")
        .build()
        .unwrap();
    assert_eq!(
        client
            .query(&RefundLookup::refund_id("OA-PENDING-1"))
            .await
            .unwrap_err()
            .code()
            .as_deref(),
        Some("21003")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edgeros_statuses_and_errors() {
    let sandbox = common::start().await;
    let client = sandbox
        .edgeros_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    let outcomes = common::outcomes(
        &client,
        vec![
            RefundLookup::refund_id("AR202112151405438637829842922855012187"),
            RefundLookup::merchant_refund_id("dx202104021606341385640107521832"),
            RefundLookup::merchant_refund_id("mch-processing-1"),
            RefundLookup::refund_id("AR-NOPE"),
            RefundLookup::original_transaction_id("b2dec937881541afb127c0f4e2b12313"),
            RefundLookup::refund_id("x".repeat(51)),
        ],
    )
    .await;
    insta::assert_json_snapshot!("edgeros_outcomes", outcomes);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edgeros_wrong_keys_are_caught_both_ways() {
    let sandbox = common::start().await;
    // The sandbox rejects a request signed with a key it does not know...
    let client = sandbox
        .edgeros_client()
        .merchant_private_key_pem(include_str!(
            "../../../fixtures/keys/openapi_merchant_2048.pem"
        ))
        .unwrap()
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("AR-TIMELINE-1"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.kind(), err.code().as_deref()),
        ("provider", Some("1002"))
    );
    // ...and the client rejects answers signed by a platform key it was not given.
    let client = sandbox
        .edgeros_client()
        .platform_public_key_pem(include_str!(
            "../../../fixtures/keys/edgeros_merchant.pub.pem"
        ))
        .unwrap()
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("AR-TIMELINE-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cpos_statuses_and_errors() {
    let sandbox = common::start().await;
    let client = sandbox
        .cpos_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    let outcomes = common::outcomes(
        &client,
        vec![
            RefundLookup::refund_id("WX200324161500830790814539"),
            RefundLookup::merchant_refund_id("200324847290000004766"),
            RefundLookup::channel_trade_no("010820032416151297557MC"),
            RefundLookup::refund_id("WX-FAILED-1"),
            RefundLookup::refund_id("WX-UNKNOWN-1"),
            RefundLookup::refund_id("WX-CLOSED-1"),
            RefundLookup::refund_id("WX-CHANGE-1"),
            RefundLookup::refund_id("WX-WECHAT-SUCCESS-1"),
            RefundLookup::refund_id("WX-NOPE"),
            RefundLookup::original_transaction_id("x"),
        ],
    )
    .await;
    insta::assert_json_snapshot!("cpos_outcomes", outcomes);
    let detailed = refund_cpos::CposDetail::query_detailed(
        &client,
        &RefundLookup::refund_id("WX200324161500830790814539"),
    )
    .await
    .unwrap();
    assert_eq!(
        detailed.detail.signed_refund_amount.to_major_string(),
        "-0.50"
    );
    assert_eq!(
        detailed.refund.signature,
        refund_core::Verification::Verified
    );
    // A wrong secret: the sandbox answers with CPOS's signed SIGNERROR, which our client cannot
    // verify either (its secret is wrong): a signature error, not a refund.
    let client = sandbox
        .cpos_client()
        .secret(refund_core::Secret::new("wrong"))
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("WX-FAILED-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "signature");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timelines_move_from_processing_to_succeeded() {
    let sandbox = common::start().await;
    for (provider, id, processing_answers) in [
        (Provider::OpenApi, "OA-TIMELINE-1", 2),
        (Provider::Edgeros, "AR-TIMELINE-1", 1),
        (Provider::Cpos, "WX-TIMELINE-1", 2),
    ] {
        let client = common::client(&sandbox, provider, common::fast_http());
        let lookup = RefundLookup::refund_id(id);
        let mut seen = Vec::new();
        for _ in 0..=processing_answers {
            seen.push(
                client.query_refunds(&lookup).await.unwrap()[0]
                    .status
                    .clone(),
            );
        }
        let mut expected = vec![RefundStatus::Processing; processing_answers];
        expected.push(RefundStatus::Succeeded);
        if provider == Provider::Edgeros {
            // EdgerOS documents no "processing" code: it stays honestly unrecognised.
            expected[0] = RefundStatus::Unrecognized("PROCESSING".into());
        }
        assert_eq!(seen, expected, "{provider}");
    }
}

/// A configured reqwest client handed to the builder is the one that sends: here it alone knows
/// where `cpos.provider.test` is (`resolve`), so the query succeeds only through it; and the
/// body limit of `http_config` still applies to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_reqwest_client_is_used_and_still_limited() {
    use refund_core::http::{HttpConfig, reqwest};
    let sandbox = common::start().await;
    let addr: std::net::SocketAddr = sandbox
        .base_url()
        .trim_start_matches("http://")
        .parse()
        .unwrap();
    let own = || {
        reqwest::Client::builder()
            .resolve("cpos.provider.test", addr)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let base = format!("http://cpos.provider.test:{}", addr.port());
    let lookup = RefundLookup::refund_id("WX200324161500830790814539");
    let client = sandbox
        .cpos_client()
        .base_url(base.clone())
        .reqwest_client(own())
        .build()
        .unwrap();
    let refunds = client.query(&lookup).await.unwrap();
    assert_eq!(
        refunds[0].refund_id.as_deref(),
        Some("WX200324161500830790814539")
    );
    // Without it, the name does not resolve.
    let default = sandbox
        .cpos_client()
        .base_url(base.clone())
        .build()
        .unwrap();
    assert_eq!(
        default.query(&lookup).await.unwrap_err().kind(),
        "transport"
    );
    // The body limit is ours, whichever client sends.
    let tiny = sandbox
        .cpos_client()
        .base_url(base)
        .reqwest_client(own())
        .http_config(HttpConfig::default().with_max_body_bytes(16))
        .build()
        .unwrap();
    assert_eq!(
        tiny.query(&lookup).await.unwrap_err().kind(),
        "body_too_large"
    );
}
