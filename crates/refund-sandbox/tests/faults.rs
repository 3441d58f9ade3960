//! Every fault, for every provider, over real HTTP: the exact typed error, retries only where
//! allowed, and every call back within its deadline.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use refund_core::{Provider, RefundLookup, TransportErrorKind};
use refund_sandbox::{Fault, FaultRule};

const IDS: [(Provider, &str); 3] = [
    (Provider::OpenApi, "OA-PENDING-1"),
    (Provider::Edgeros, "AR-PROCESSING-1"),
    (Provider::Cpos, "WX-UNKNOWN-1"),
];

/// What one fault must produce: `None` is a successful answer, else the error kind.
fn expected(fault: &Fault, provider: Provider) -> (Option<&'static str>, u64) {
    match fault {
        Fault::Latency { .. } => (None, 1),
        Fault::Http500Html => (Some("http_status"), 3),
        Fault::TooManyRequests => (Some("http_status"), 3),
        Fault::TruncatedBody => (Some("decode"), 1),
        Fault::MalformedJson => (Some("decode"), 1),
        Fault::WrongSignature if provider == Provider::OpenApi => (None, 1),
        Fault::WrongSignature => (Some("signature"), 1),
        Fault::ConnectionReset => (Some("transport"), 3),
        Fault::NeverEnding => (Some("timeout"), 3),
        Fault::OversizedBody { .. } | Fault::EndlessBody => (Some("body_too_large"), 1),
        _ => unreachable!(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_for_every_provider() {
    let faults = [
        Fault::Latency { ms: 300 },
        Fault::Http500Html,
        Fault::TooManyRequests,
        Fault::TruncatedBody,
        Fault::MalformedJson,
        Fault::WrongSignature,
        Fault::ConnectionReset,
        Fault::NeverEnding,
        Fault::OversizedBody {
            bytes: 2 * 1024 * 1024,
        },
        Fault::EndlessBody,
    ];
    let mut injected = 0;
    for (provider, id) in IDS {
        for fault in &faults {
            let sandbox = common::start().await;
            sandbox.add_fault(FaultRule::refund_id(id, fault.clone()));
            let client = common::client(&sandbox, provider, common::fast_http());
            let started = Instant::now();
            let result = client.query_refunds(&RefundLookup::refund_id(id)).await;
            let elapsed = started.elapsed();
            let (kind, requests) = expected(fault, provider);
            assert_eq!(
                result.as_ref().err().map(|e| e.kind()),
                kind,
                "{provider} {fault:?}: {result:?}"
            );
            assert_eq!(
                sandbox.request_count(provider),
                requests,
                "{provider} {fault:?}: attempts"
            );
            // The overall deadline is 3 s; allow scheduling slack but never a hang.
            assert!(
                elapsed < Duration::from_millis(3_500),
                "{provider} {fault:?} took {elapsed:?}"
            );
            if let Fault::Latency { ms } = fault {
                assert!(elapsed >= Duration::from_millis(*ms));
            }
            if let Err(refund_core::Error::Transport { kind, .. }) = &result {
                if *fault == Fault::ConnectionReset {
                    assert_eq!(*kind, TransportErrorKind::Body, "{provider}");
                }
            }
            injected += 1;
        }
    }
    assert_eq!(injected, IDS.len() * faults.len());
    assert_eq!(injected, 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passing_fault_is_retried_away() {
    for (provider, id) in IDS {
        for fault in [
            Fault::Http500Html,
            Fault::TooManyRequests,
            Fault::ConnectionReset,
        ] {
            let sandbox = common::start().await;
            sandbox.add_fault(FaultRule::provider(provider, fault.clone()).times(2));
            let client = common::client(&sandbox, provider, common::fast_http());
            let started = Instant::now();
            let refunds = client
                .query_refunds(&RefundLookup::refund_id(id))
                .await
                .unwrap();
            assert_eq!(refunds.len(), 1);
            assert_eq!(sandbox.request_count(provider), 3, "{provider} {fault:?}");
            if fault == Fault::TooManyRequests {
                // `Retry-After: 1`, twice, honoured within the 3 s deadline.
                assert!(started.elapsed() >= Duration::from_secs(2), "{provider}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn business_and_signature_errors_are_never_retried() {
    let sandbox = common::start().await;
    for (provider, _) in IDS {
        let client = common::client(&sandbox, provider, common::fast_http());
        let before = sandbox.request_count(provider);
        let err = client
            .query_refunds(&RefundLookup::refund_id("missing-id"))
            .await
            .unwrap_err();
        assert!(err.is_not_found(), "{provider}: {err}");
        assert_eq!(sandbox.request_count(provider) - before, 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never_ending_body_respects_the_overall_deadline() {
    let sandbox = common::start().await;
    sandbox.add_fault(FaultRule::provider(Provider::Cpos, Fault::NeverEnding));
    let http = common::fast_http()
        .with_attempt_timeout(Duration::from_secs(10))
        .with_overall_timeout(Duration::from_millis(700));
    let client = common::client(&sandbox, Provider::Cpos, http);
    let started = Instant::now();
    let err = client
        .query_refunds(&RefundLookup::refund_id("WX-UNKNOWN-1"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), "timeout");
    assert!(
        started.elapsed() < Duration::from_millis(1_200),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_a_connect_error() {
    let sandbox = common::start().await;
    let http = common::fast_http();
    let client = sandbox
        .cpos_client()
        .base_url("http://127.0.0.1:9")
        .http_config(http)
        .build()
        .unwrap();
    let err = client
        .query(&RefundLookup::refund_id("WX-UNKNOWN-1"))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            refund_core::Error::Transport {
                kind: TransportErrorKind::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    // The message names where and why, once each.
    let message = err.to_string();
    assert!(
        message.contains("cannot connect to 127.0.0.1:9"),
        "{message}"
    );
    assert!(message.contains("refused"), "{message}");
    assert!(
        std::error::Error::source(&err).is_some(),
        "the typed cause is kept"
    );
}

/// Many queries at once while faults hit a share of them: every query ends with the right refund
/// or the right error; none is lost or duplicated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_queries_under_faults_lose_nothing() {
    let mut scenario = common::example_scenario();
    scenario.synthetic_prefix = Some("auto-".into());
    let sandbox = refund_sandbox::Sandbox::builder()
        .scenario(scenario)
        .start()
        .await
        .unwrap();
    // Every 5th id fails for good (500), every 7th once (retried away), every 11th is malformed.
    for i in 0..300 {
        let id = format!("auto-{i}");
        if i % 5 == 0 {
            sandbox.add_fault(FaultRule::refund_id(id, Fault::Http500Html));
        } else if i % 7 == 0 {
            sandbox.add_fault(FaultRule::refund_id(id, Fault::Http500Html).times(1));
        } else if i % 11 == 0 {
            sandbox.add_fault(FaultRule::refund_id(id, Fault::MalformedJson));
        }
    }
    let client = std::sync::Arc::new(
        sandbox
            .cpos_client()
            .http_config(common::fast_http())
            .build()
            .unwrap(),
    );
    let mut tasks = Vec::new();
    for i in 0..300 {
        let client = std::sync::Arc::clone(&client);
        tasks.push(tokio::spawn(async move {
            let id = format!("auto-{i}");
            (i, client.query(&RefundLookup::refund_id(id)).await)
        }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for task in tasks {
        let (i, result) = task.await.unwrap();
        assert!(seen.insert(i), "duplicate answer for {i}");
        match (i % 5 == 0, i % 7 == 0, i % 11 == 0) {
            (true, _, _) => assert_eq!(result.unwrap_err().kind(), "http_status", "{i}"),
            (false, true, _) => assert_eq!(
                result.unwrap()[0].refund_id.as_deref(),
                Some(format!("auto-{i}").as_str())
            ),
            (false, false, true) => assert_eq!(result.unwrap_err().kind(), "decode", "{i}"),
            _ => assert_eq!(
                result.unwrap()[0].refund_id.as_deref(),
                Some(format!("auto-{i}").as_str())
            ),
        }
    }
    assert_eq!(seen.len(), 300);
}

/// `[[pace]]`: a provider that allows 5 answers per second, 2 at once, answers the third quick
/// query 429 with `Retry-After`, counts it, and makes every answer wait its latency.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_provider_throttles_over_its_limit_and_answers_late() {
    let scenario = refund_sandbox::Scenario::from_toml(&format!(
        "{}\n[[pace]]\nprovider = \"cpos\"\nrps = 5\nburst = 2\nlatency_ms = 150\njitter_ms = 10\n",
        refund_test_support::fixture_text("sandbox/scenario.toml")
    ))
    .unwrap();
    let sandbox = refund_sandbox::Sandbox::builder()
        .scenario(scenario)
        .start()
        .await
        .unwrap();
    let client = sandbox
        .cpos_client()
        .http_config(
            refund_core::http::HttpConfig::default()
                .with_retry(refund_core::http::RetryPolicy::none()),
        )
        .build()
        .unwrap();
    let lookup = RefundLookup::refund_id("WX200324161500830790814539");
    let started = Instant::now();
    let (a, b, c) = tokio::join!(
        client.query(&lookup),
        client.query(&lookup),
        client.query(&lookup)
    );
    let results = [a, b, c];
    let throttled: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(throttled.len(), 1, "{results:?}");
    match throttled[0] {
        refund_core::Error::HttpStatus {
            status: 429,
            retry_after,
            ..
        } => assert_eq!(*retry_after, Some(Duration::from_secs(1))),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(sandbox.throttled_count(Provider::Cpos), 1);
    assert_eq!(sandbox.throttled_count(Provider::Edgeros), 0);
    // Out-of-range and repeated paces are refused.
    assert!(
        refund_sandbox::Scenario::from_toml("[[pace]]\nprovider = \"cpos\"\nrps = 0\n").is_err()
    );
    assert!(
        refund_sandbox::Scenario::from_toml(
            "[[pace]]\nprovider = \"cpos\"\n[[pace]]\nprovider = \"cpos\"\n"
        )
        .is_err()
    );
    sandbox.shutdown().await;
}
