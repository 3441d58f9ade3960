//! The examples, run as a user would run them: the queries against the sandbox, the callback
//! receiver on its own signed sequence.
#![allow(clippy::unwrap_used)]

use refund_core::{Provider, RefundStatus};
use refund_sandbox::{Sandbox, SandboxRefund, Scenario};
use refund_test_support::run_example;

/// The async, the blocking and the remote-signer examples answer the same (the last signs
/// through a local HTTP signing service it starts: the key never in the client).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_and_the_blocking_example_answer_the_same() {
    const TRANSACTION: &str = "CU518563189147832320";
    let mut scenario = Scenario::default();
    for (id, amount) in [("RF1", "1.00"), ("RF2", "2.50")] {
        let mut refund = SandboxRefund::new(Provider::OpenApi, id, amount, RefundStatus::Succeeded);
        refund.original_transaction_id = Some(TRANSACTION.to_owned());
        scenario.refunds.push(refund);
    }
    let sandbox = Sandbox::builder().scenario(scenario).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("refund-openapi-examples-{}", std::process::id()));
    sandbox.write_credentials(&dir).unwrap();
    let env = [
        ("REFUND_OPENAPI_BASE_URL", sandbox.base_url()),
        (
            "REFUND_OPENAPI_APP_ID",
            sandbox.credentials().openapi_app_id.clone(),
        ),
        (
            "REFUND_OPENAPI_KEY_FILE",
            dir.join("keys/openapi_merchant.pem").display().to_string(),
        ),
    ];
    let (query, blocking, remote) = tokio::task::spawn_blocking(move || {
        let env = env.each_ref().map(|(k, v)| (*k, v.as_str()));
        (
            run_example("openapi_query", &env, &[TRANSACTION]),
            run_example("openapi_blocking", &env, &[TRANSACTION]),
            run_example("remote_signer", &env, &[TRANSACTION]),
        )
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut lines: Vec<&str> = query.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "RF1: succeeded (provider status COMPLETED), 1.00 CNY, signature not_signed",
            "RF2: succeeded (provider status COMPLETED), 2.50 CNY, signature not_signed"
        ]
    );
    assert_eq!(blocking, query);
    // Signed by the key service, accepted by the gateway: the same answer.
    assert_eq!(remote, query);
}

#[test]
fn the_callback_receiver_acts_on_news_only() {
    let out = run_example("callback_receiver", &[], &[]);
    assert!(out.contains("apply:"), "{out}");
    assert!(out.lines().count() >= 3, "{out}");
}
