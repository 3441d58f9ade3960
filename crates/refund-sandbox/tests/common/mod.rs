//! Shared by the sandbox integration tests: the example scenario and fast-failing clients.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use refund_core::RefundProvider;
use refund_core::http::{HttpConfig, RetryPolicy};
use refund_sandbox::{Sandbox, SandboxHandle, Scenario};

pub fn example_scenario() -> Scenario {
    Scenario::from_toml(&refund_test_support::fixture_text("sandbox/scenario.toml")).unwrap()
}

pub async fn start() -> SandboxHandle {
    Sandbox::builder()
        .scenario(example_scenario())
        .start()
        .await
        .unwrap()
}

/// Short deadlines so fault tests finish fast: 1 s per attempt, 3 s overall, 3 attempts.
pub fn fast_http() -> HttpConfig {
    let mut retry = RetryPolicy::with_retries(2);
    retry.base_delay = Duration::from_millis(20);
    HttpConfig::default()
        .with_connect_timeout(Duration::from_secs(1))
        .with_attempt_timeout(Duration::from_secs(1))
        .with_overall_timeout(Duration::from_secs(3))
        .with_retry(retry)
}

pub fn client(
    sandbox: &SandboxHandle,
    provider: refund_core::Provider,
    http: HttpConfig,
) -> Box<dyn RefundProvider> {
    match provider {
        refund_core::Provider::OpenApi => {
            Box::new(sandbox.openapi_client().http_config(http).build().unwrap())
        }
        refund_core::Provider::Edgeros => {
            Box::new(sandbox.edgeros_client().http_config(http).build().unwrap())
        }
        refund_core::Provider::Cpos => {
            Box::new(sandbox.cpos_client().http_config(http).build().unwrap())
        }
        other => panic!("no client for {other}"),
    }
}

pub use refund_test_support::outcome;

/// Runs each lookup through `client` and pairs it with its outcome (for snapshots).
pub async fn outcomes(
    client: &dyn RefundProvider,
    lookups: Vec<refund_core::RefundLookup>,
) -> Vec<(refund_core::RefundLookup, serde_json::Value)> {
    let mut out = Vec::new();
    for lookup in lookups {
        let result = client.query_refunds(&lookup).await;
        out.push((lookup, outcome(result)));
    }
    out
}
