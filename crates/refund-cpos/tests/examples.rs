//! The examples, run as a user would run them, against the sandbox.
#![allow(clippy::unwrap_used)]

use refund_core::{Provider, RefundStatus};
use refund_sandbox::{Sandbox, SandboxRefund, Scenario};
use refund_test_support::run_example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_and_the_blocking_example_answer_the_same() {
    let mut scenario = Scenario::default();
    scenario.refunds.push(SandboxRefund::new(
        Provider::Cpos,
        "WX200324161500830790814539",
        "0.50",
        RefundStatus::Succeeded,
    ));
    let sandbox = Sandbox::builder().scenario(scenario).start().await.unwrap();
    let creds = sandbox.credentials();
    let env = [
        ("REFUND_CPOS_BASE_URL", sandbox.base_url()),
        ("REFUND_CPOS_ACCESS_ID", creds.cpos_access_id.clone()),
        ("REFUND_CPOS_SECRET", creds.cpos_secret.expose().to_owned()),
    ];
    let (query, blocking) = tokio::task::spawn_blocking(move || {
        let env = env.each_ref().map(|(k, v)| (*k, v.as_str()));
        let id = ["WX200324161500830790814539"];
        (
            run_example("cpos_query", &env, &id),
            run_example("cpos_blocking", &env, &id),
        )
    })
    .await
    .unwrap();
    assert_eq!(
        query,
        "WX200324161500830790814539: succeeded (provider status 1), 0.50 CNY, signature verified\n"
    );
    assert_eq!(blocking, query);
}
