//! #33 through the binary against a sandbox that throttles like a provider: with no pace flags,
//! no line is lost to throttling (throttled answers are queued again, not spent as retries), the
//! summary says the pace reached and the answers throttled; a line throttled for longer than
//! `--timeout` becomes an `http_status` 429 row. The figures (≥ 0.9 of the limit) are the
//! `e2e --pace` bench's, not a timed test's.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use common::{code, ndjson, stderr};
use refund_core::Provider;
use refund_sandbox::{Sandbox, Scenario};

const CPOS_ID: &str = "WX200324161500830790814539";

async fn throttling(name: &str, pace: &str) -> common::Env {
    let mut scenario = Scenario::from_toml(&format!(
        "{}\n{pace}",
        refund_test_support::fixture_text("sandbox/scenario.toml")
    ))
    .unwrap();
    scenario.synthetic_prefix = Some("auto-".into());
    common::env_built(name, Sandbox::builder().scenario(scenario)).await
}

fn ids(env: &common::Env, n: usize) -> String {
    let path = env.dir.join("ids.csv");
    let mut text = String::from("lookup,id\n");
    for _ in 0..n {
        text.push_str(&format!("refund_id,{CPOS_ID}\n"));
    }
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[tokio::test]
async fn no_line_is_lost_to_throttling() {
    let env = throttling(
        "pace-throttled",
        "[[pace]]\nprovider = \"cpos\"\nrps = 100\nburst = 5\nlatency_ms = 5\n",
    )
    .await;
    let input = ids(&env, 300);
    // No retries at all: every throttled answer must be absorbed by the pace, not a retry.
    let o = env
        .run(&[
            "--retries",
            "0",
            "--format",
            "ndjson",
            "batch",
            "cpos",
            "--input",
            &input,
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = ndjson(&o);
    assert_eq!(rows.len(), 300);
    let errors: Vec<_> = rows.iter().filter(|r| !r["error"].is_null()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    let throttled = env.sandbox.throttled_count(Provider::Cpos);
    assert!(throttled > 0, "the run went over the limit at least once");
    let err = stderr(&o);
    let pace = err
        .lines()
        .find(|l| l.starts_with("  pace cpos: "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        pace.ends_with(&format!("{throttled} answers throttled")),
        "{pace} ({throttled} throttled by the sandbox)"
    );
}

#[tokio::test]
async fn a_line_throttled_past_its_timeout_is_an_error_row() {
    // One answer every ten seconds: the third of three lines waits past its 3 s timeout (the
    // tests' `--timeout`).
    let env = throttling(
        "pace-timeout",
        "[[pace]]\nprovider = \"cpos\"\nrps = 0.1\nburst = 2\n",
    )
    .await;
    let input = ids(&env, 3);
    let o = env
        .run(&["--format", "ndjson", "batch", "cpos", "--input", &input])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = ndjson(&o);
    assert_eq!(rows.len(), 3);
    let throttled: Vec<_> = rows
        .iter()
        .filter(|r| r["error"]["kind"] == "http_status")
        .collect();
    assert_eq!(throttled.len(), 1, "{rows:?}");
    assert_eq!(throttled[0]["error"]["code"], "429", "{:?}", throttled[0]);
    // The pace flags: --max-concurrency is bounded and excludes --concurrency.
    for bad in [
        &["--max-concurrency", "0"][..],
        &["--max-concurrency", "1025"],
        &["--max-concurrency", "8", "--concurrency", "8"],
    ] {
        let mut args = vec!["batch", "cpos", "--input", &input];
        args.extend_from_slice(bad);
        let o = env.run(&args).await;
        assert_eq!(code(&o), 2, "{bad:?}: {}", stderr(&o));
    }
}

/// `refund sandbox --rps 0.2 --burst 1 --latency-ms 100`: every provider throttles over its limit
/// (a query with no retries gets 429, exit as `http_status`) and answers late; out-of-range
/// flags are usage errors.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_throttles_like_a_provider() {
    let dir = std::env::temp_dir().join(format!("refund-sandbox-pace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for bad in [
        &["--rps", "0"][..],
        &["--burst", "2"],
        &["--latency-ms", "60001"],
    ] {
        let mut args = vec![
            "sandbox".to_owned(),
            "--dir".into(),
            dir.display().to_string(),
        ];
        args.extend(bad.iter().map(|a| (*a).to_owned()));
        let o = common::run(&args).await;
        assert_eq!(code(&o), 2, "{bad:?}: {}", stderr(&o));
    }
    let dir_text = dir.display().to_string();
    let mut child = common::sandbox_command(
        &[
            "--dir",
            &dir_text,
            "--rps",
            "0.2",
            "--burst",
            "1",
            "--latency-ms",
            "100",
        ]
        .map(std::ffi::OsStr::new),
    )
    .await;
    let config = dir.join("refund.toml").display().to_string();
    let query = |id: &'static str| {
        let config = config.clone();
        async move {
            common::run(&[
                "--config".into(),
                config,
                "--retries".into(),
                "0".into(),
                "query".into(),
                "cpos".into(),
                "--refund-id".into(),
                id.into(),
            ])
            .await
        }
    };
    let started = std::time::Instant::now();
    let first = query(CPOS_ID).await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert!(started.elapsed() >= std::time::Duration::from_millis(100));
    // The bucket is empty for five seconds: the next one is throttled.
    let second = query(CPOS_ID).await;
    assert_ne!(code(&second), 0);
    assert!(stderr(&second).contains("429"), "{}", stderr(&second));
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
