//! Trust over real HTTP: a correctly signed answer about another refund or another merchant is
//! never a result; every attempt is freshly signed (and a replayed request is refused); an
//! unverified answer says so.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use refund_core::http::{HttpConfig, HttpTransport, SendFuture, Transport};
use refund_core::{PreparedRequest, Provider, RefundLookup, RefundStatus, Verification};
use refund_sandbox::{Fault, FaultRule, SandboxRefund};

/// A refund of `provider` that names every id kind, so any lookup kind can be substituted.
fn fully_named(provider: Provider, tag: &str) -> SandboxRefund {
    let mut r = SandboxRefund::new(
        provider,
        format!("R-{tag}"),
        "1.23",
        RefundStatus::Succeeded,
    );
    r.merchant_refund_id = Some(format!("M-{tag}"));
    r.original_transaction_id = Some(format!("T-{tag}"));
    r.channel_trade_no = Some(format!("C-{tag}"));
    r
}

fn lookup(kind: refund_core::LookupKind, tag: &str) -> RefundLookup {
    use refund_core::LookupKind::*;
    let id = match kind {
        RefundId => format!("R-{tag}"),
        MerchantRefundId => format!("M-{tag}"),
        OriginalTransactionId => format!("T-{tag}"),
        _ => format!("C-{tag}"),
    };
    RefundLookup::new(kind, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_substituted_answer_is_a_mismatch_for_every_provider_and_lookup() {
    let sandbox = common::start().await;
    let mut checked = 0;
    for provider in Provider::ALL {
        sandbox.upsert_refund(fully_named(provider, "A")).unwrap();
        sandbox.upsert_refund(fully_named(provider, "B")).unwrap();
        let client = common::client(&sandbox, provider, common::fast_http());
        for &kind in client.supported_lookups() {
            let asked = lookup(kind, "A");
            // Without the fault: A's own answer, verified as the protocol allows.
            let own = client.query_refunds(&asked).await.unwrap();
            assert_eq!(
                own[0].refund_id.as_deref(),
                Some("R-A"),
                "{provider} {kind}"
            );
            // With it: B's genuine answer, correctly signed, replayed to the question about A.
            let before = sandbox.request_count(provider);
            sandbox.add_fault(
                FaultRule::provider(
                    provider,
                    Fault::AnswerFor {
                        refund_id: "R-B".into(),
                    },
                )
                .times(1),
            );
            let err = client.query_refunds(&asked).await.unwrap_err();
            assert_eq!(err.kind(), "mismatch", "{provider} {kind}: {err}");
            assert!(
                err.to_string().contains("R-B") || err.to_string().contains("-B\""),
                "{err}"
            );
            assert_eq!(sandbox.request_count(provider) - before, 1, "never retried");
            checked += 1;
        }
    }
    assert_eq!(checked, 2 + 2 + 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_naming_another_merchant_is_a_mismatch() {
    let sandbox = common::start().await;
    let client = sandbox
        .edgeros_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    for id in ["AR-PROCESSING-1", "AR-DOES-NOT-EXIST"] {
        sandbox.add_fault(
            FaultRule::provider(
                Provider::Edgeros,
                Fault::ForeignMerchant {
                    mch_no: "MCH-EVIL".into(),
                },
            )
            .times(1),
        );
        let err = client
            .query(&RefundLookup::refund_id(id))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "mismatch", "{id}: {err}");
        insta::assert_snapshot!(format!("foreign_merchant_{id}"), err.to_string(),);
    }
}

/// Records every request it sends (and sends it with the default transport).
#[derive(Debug)]
struct Recording {
    inner: HttpTransport,
    sent: Mutex<Vec<PreparedRequest>>,
}

impl Transport for Recording {
    fn send<'a>(
        &'a self,
        provider: Provider,
        request: &'a PreparedRequest,
        budget: Duration,
    ) -> SendFuture<'a> {
        self.sent.lock().unwrap().push(request.clone());
        self.inner.send(provider, request, budget)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attempt_is_freshly_signed() {
    let sandbox = common::start().await;
    // EdgerOS: two 500s, then an answer; the sandbox saw three distinct nonces.
    sandbox.add_fault(FaultRule::refund_id("AR-PROCESSING-1", Fault::Http500Html).times(2));
    // Each attempt signs once, and only once (no signature is made and thrown away).
    let signed = Arc::new(AtomicI64::new(0));
    let counter = Arc::clone(&signed);
    let client = sandbox
        .edgeros_client()
        .http_config(common::fast_http())
        .nonce_source(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            refund_core::random::random_token(32)
        })
        .build()
        .unwrap();
    let refunds = client
        .query(&RefundLookup::refund_id("AR-PROCESSING-1"))
        .await
        .unwrap();
    assert_eq!(
        signed.load(Ordering::SeqCst),
        3,
        "one signature per attempt"
    );
    assert_eq!(refunds[0].signature, Verification::Verified);
    let nonces = sandbox.edgeros_nonces();
    assert_eq!(nonces.len(), 3, "{nonces:?}");
    let distinct: std::collections::HashSet<_> = nonces.iter().collect();
    assert_eq!(distinct.len(), 3, "{nonces:?}");

    // Open API: each attempt carries the clock's current timestamp.
    let tick = Arc::new(AtomicI64::new(0));
    let recording = Arc::new(Recording {
        inner: HttpTransport::new(&HttpConfig::default()).unwrap(),
        sent: Mutex::new(Vec::new()),
    });
    let clock = Arc::clone(&tick);
    let client = sandbox
        .openapi_client()
        .http_config(common::fast_http())
        .transport(recording.clone())
        .clock(move || {
            chrono::Utc::now()
                + chrono::Duration::milliseconds(clock.fetch_add(1, Ordering::SeqCst))
        })
        .build()
        .unwrap();
    sandbox.add_fault(FaultRule::refund_id("OA-PENDING-1", Fault::TooManyRequests).times(2));
    client
        .query(&RefundLookup::refund_id("OA-PENDING-1"))
        .await
        .unwrap();
    let params: Vec<String> = recording
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(r.body.as_ref().unwrap()).unwrap();
            body["param"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(params.len(), 3);
    let distinct: std::collections::HashSet<_> = params.iter().collect();
    assert_eq!(distinct.len(), 3, "{params:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_request_is_refused_by_the_sandbox() {
    let sandbox = common::start().await;
    let client = sandbox
        .edgeros_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    let lookup = RefundLookup::refund_id("AR-PROCESSING-1");
    let request = client.prepare_now(&lookup).unwrap();
    let transport = HttpTransport::new(&HttpConfig::default()).unwrap();
    let budget = Duration::from_secs(2);
    let first = transport
        .send(Provider::Edgeros, &request, budget)
        .await
        .unwrap();
    assert!(client.parse_response(&lookup, &first.body).is_ok());
    let replay = transport
        .send(Provider::Edgeros, &request, budget)
        .await
        .unwrap();
    let err = client.parse_response(&lookup, &replay.body).unwrap_err();
    assert_eq!(
        (err.kind(), err.code().as_deref()),
        ("provider", Some("1004")),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn optional_mode_labels_what_it_could_not_verify() {
    let sandbox = common::start().await;
    let id = RefundLookup::refund_id("WX-UNKNOWN-1");
    sandbox.add_fault(FaultRule::provider(Provider::Cpos, Fault::WrongSignature));
    let required = sandbox
        .cpos_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    assert_eq!(required.query(&id).await.unwrap_err().kind(), "signature");
    let optional = sandbox
        .cpos_client()
        .http_config(common::fast_http())
        .response_signature(refund_cpos::ResponseSignature::Optional)
        .build()
        .unwrap();
    let refunds = optional.query(&id).await.unwrap();
    assert_eq!(refunds[0].signature, Verification::Unverified);
    sandbox.clear_faults();
    assert_eq!(
        optional.query(&id).await.unwrap()[0].signature,
        Verification::Verified
    );
}
