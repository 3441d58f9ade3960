//! The examples, run as a user would run them, against the sandbox.
#![allow(clippy::unwrap_used)]

use refund_core::{Provider, RefundStatus};
use refund_sandbox::{Sandbox, SandboxRefund, Scenario};
use refund_test_support::run_example;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_and_the_blocking_example_answer_the_same() {
    const ID: &str = "AR202112151405438637829842922855012187";
    let mut scenario = Scenario::default();
    scenario.refunds.push(SandboxRefund::new(
        Provider::Edgeros,
        ID,
        "12.34",
        RefundStatus::Succeeded,
    ));
    let sandbox = Sandbox::builder().scenario(scenario).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("refund-edgeros-examples-{}", std::process::id()));
    sandbox.write_credentials(&dir).unwrap();
    let key = |name: &str| dir.join("keys").join(name).display().to_string();
    let env = [
        ("REFUND_EDGEROS_BASE_URL", sandbox.base_url()),
        (
            "REFUND_EDGEROS_MCH_NO",
            sandbox.credentials().edgeros_mch_no.clone(),
        ),
        ("REFUND_EDGEROS_KEY_FILE", key("edgeros_merchant.pem")),
        (
            "REFUND_EDGEROS_PLATFORM_KEY_FILE",
            key("edgeros_platform.pub.pem"),
        ),
    ];
    let (query, blocking) = tokio::task::spawn_blocking(move || {
        let env = env.each_ref().map(|(k, v)| (*k, v.as_str()));
        (
            run_example("edgeros_query", &env, &[ID]),
            run_example("edgeros_blocking", &env, &[ID]),
        )
    })
    .await
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        query,
        format!("{ID}: succeeded (provider status SUCCESS), 12.34 CNY, signature verified\n")
    );
    assert_eq!(blocking, query);
}
