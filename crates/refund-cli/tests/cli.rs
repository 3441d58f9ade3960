//! End-to-end: the real `refund` binary against the sandbox, every command, format and exit code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use refund_core::Provider;
use refund_sandbox::{Fault, FaultRule, Sandbox, SandboxHandle, Scenario};
use serde_json::Value;

const FIELDS: [&str; 15] = [
    "provider",
    "refund_id",
    "merchant_refund_id",
    "original_transaction_id",
    "status",
    "provider_status",
    "amount",
    "amount_minor",
    "currency",
    "fee_refunded_minor",
    "created_at",
    "completed_at",
    "failure_code",
    "failure_message",
    "channel",
];

struct Env {
    sandbox: SandboxHandle,
    dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn env(name: &str) -> Env {
    let mut scenario = Scenario::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/sandbox/scenario.toml"
    ))
    .unwrap();
    scenario.synthetic_prefix = Some("auto-".into());
    let sandbox = Sandbox::builder().scenario(scenario).start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("refund-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    sandbox.write_credentials(&dir).unwrap();
    Env { sandbox, dir }
}

impl Env {
    fn config(&self) -> PathBuf {
        self.dir.join("refund.toml")
    }

    async fn run(&self, args: &[&str]) -> Output {
        let mut all = vec![
            "--config".to_owned(),
            self.config().display().to_string(),
            "--timeout".into(),
            "3s".into(),
        ];
        all.extend(args.iter().map(|s| (*s).to_owned()));
        run(&all).await
    }
}

async fn run(args: &[String]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .args(args)
        .env_remove("REFUND_CPOS_SECRET")
        .output()
        .await
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn ndjson(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_every_provider_every_format() {
    let env = env("formats").await;
    for (provider, flag, id) in [
        (
            "openapi",
            "--original-transaction-id",
            "CU51856318914782320",
        ),
        (
            "edgeros",
            "--refund-id",
            "AR202112151405438637829842922855012187",
        ),
        ("cpos", "--merchant-refund-id", "200324847290000004766"),
    ] {
        let o = env
            .run(&["query", provider, flag, id, "--format", "ndjson"])
            .await;
        assert_eq!(
            code(&o),
            0,
            "{provider}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let lines = ndjson(&o);
        assert!(!lines.is_empty());
        for line in &lines {
            let keys: Vec<&str> = line
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let mut expected = FIELDS.to_vec();
            expected.sort_unstable();
            let mut keys = keys.clone();
            keys.sort_unstable();
            assert_eq!(keys, expected, "every field always present");
            assert_eq!(line["provider"], provider);
        }
        // json: the same objects in an array.
        let o = env
            .run(&["query", provider, flag, id, "--format", "json"])
            .await;
        let array: Vec<Value> = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(array, lines);
        // csv: a header with the same names and a row each.
        let o = env
            .run(&["query", provider, flag, id, "--format", "csv"])
            .await;
        let text = stdout(&o);
        let mut rows = text.lines();
        assert_eq!(rows.next().unwrap(), FIELDS.join(","));
        assert_eq!(rows.count(), lines.len());
        // table: for people.
        let o = env
            .run(&["query", provider, flag, id, "--format", "table"])
            .await;
        assert!(stdout(&o).starts_with("PROVIDER"));
        // Piped output defaults to ndjson.
        let o = env.run(&["query", provider, flag, id]).await;
        assert_eq!(ndjson(&o), lines);
    }
    // The exact values of the seed's refunds.
    let o = env
        .run(&[
            "query",
            "openapi",
            "--original-transaction-id",
            "CU51856318914782320",
            "--format",
            "json",
        ])
        .await;
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v[0]["amount"], "100.00");
    assert_eq!(v[0]["amount_minor"], 10000);
    assert_eq!(v[0]["fee_refunded_minor"], 1000);
    assert_eq!(v[0]["created_at"], "2024-07-31T08:26:46Z");
    assert_eq!(v[0]["failure_code"], "-10010");
    assert_eq!(v[1]["status"], "succeeded");
    // Global options also after the subcommand.
    let o = run(&[
        "query".into(),
        "cpos".into(),
        "--refund-id".into(),
        "WX-FAILED-1".into(),
        "--config".into(),
        env.config().display().to_string(),
        "--format".into(),
        "json".into(),
    ])
    .await;
    assert_eq!(code(&o), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes() {
    let env = env("exits").await;
    // 3: not found, with a JSON error object in json formats.
    let o = env
        .run(&["query", "cpos", "--refund-id", "nope", "--format", "json"])
        .await;
    assert_eq!(code(&o), 3);
    let e: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(e["error"]["kind"], "not_found");
    assert_eq!(e["error"]["provider"], "cpos");
    assert_eq!(e["error"]["code"], "REFUNDNOTEXIST");
    assert_eq!(String::from_utf8_lossy(&o.stderr).lines().count(), 1);

    // 2: a lookup the provider does not support, naming the supported ones.
    let o = env
        .run(&["query", "edgeros", "--channel-trade-no", "x"])
        .await;
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--refund-id, --merchant-refund-id"));
    // 2: two lookup flags, or none.
    assert_eq!(
        code(
            &env.run(&[
                "query",
                "cpos",
                "--refund-id",
                "a",
                "--merchant-refund-id",
                "b"
            ])
            .await
        ),
        2
    );
    assert_eq!(code(&env.run(&["query", "cpos"]).await), 2);
    // 2: a provider without a section, naming the missing keys.
    let partial = env.dir.join("partial.toml");
    std::fs::write(&partial, "[cpos]\nbase_url = \"http://127.0.0.1:1\"\n").unwrap();
    let o = run(&[
        "--config".into(),
        partial.display().to_string(),
        "query".into(),
        "cpos".into(),
        "--refund-id".into(),
        "x".into(),
    ])
    .await;
    assert_eq!(code(&o), 2);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("access_id"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let o = run(&[
        "--config".into(),
        partial.display().to_string(),
        "query".into(),
        "edgeros".into(),
        "--refund-id".into(),
        "x".into(),
    ])
    .await;
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("mch_no, private_key_file, platform_public_key_file")
    );
    // The secret from the environment completes the section.
    std::fs::write(
        &partial,
        format!(
            "[cpos]\nbase_url = \"{}\"\naccess_id = \"cpostest\"\n",
            env.sandbox.base_url()
        ),
    )
    .unwrap();
    let o = tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .args([
            "--config",
            &partial.display().to_string(),
            "query",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
        ])
        .env(
            "REFUND_CPOS_SECRET",
            env.sandbox.credentials().cpos_secret.expose(),
        )
        .output()
        .await
        .unwrap();
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));

    // 4: a business error (the gateway does not know this app id).
    let toml = std::fs::read_to_string(env.config())
        .unwrap()
        .replace(&env.sandbox.credentials().openapi_app_id, "unknown-app");
    let wrong = env.dir.join("wrong-app.toml");
    std::fs::write(&wrong, toml).unwrap();
    let o = run(&[
        "--config".into(),
        wrong.display().to_string(),
        "query".into(),
        "openapi".into(),
        "--refund-id".into(),
        "OA-PENDING-1".into(),
    ])
    .await;
    assert_eq!(code(&o), 4);

    // 5: a response that fails verification.
    env.sandbox.add_fault(FaultRule::provider(
        Provider::Edgeros,
        Fault::WrongSignature,
    ));
    let o = env
        .run(&[
            "query",
            "edgeros",
            "--refund-id",
            "AR-PROCESSING-1",
            "--format",
            "ndjson",
        ])
        .await;
    assert_eq!(code(&o), 5);
    assert_eq!(ndjson(&o)[0]["error"]["kind"], "signature");
    env.sandbox.clear_faults();

    // 6: an HTTP error that survives the retries; and nothing listening.
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::Http500Html));
    let before = env.sandbox.request_count(Provider::Cpos);
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
            "--retries",
            "1",
        ])
        .await;
    assert_eq!(code(&o), 6);
    assert_eq!(
        env.sandbox.request_count(Provider::Cpos) - before,
        2,
        "--retries 1 means two attempts"
    );
    env.sandbox.clear_faults();
    let dead = env.dir.join("dead.toml");
    std::fs::write(
        &dead,
        std::fs::read_to_string(env.config())
            .unwrap()
            .replace(&env.sandbox.base_url(), "http://127.0.0.1:9"),
    )
    .unwrap();
    let o = run(&[
        "--config".into(),
        dead.display().to_string(),
        "query".into(),
        "cpos".into(),
        "--refund-id".into(),
        "x".into(),
        "--retries".into(),
        "0".into(),
    ])
    .await;
    assert_eq!(code(&o), 6);
    // A timeout is 6 too, within the deadline.
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::NeverEnding));
    let started = std::time::Instant::now();
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
            "--timeout",
            "1s",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(code(&o), 6);
    assert_eq!(
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["error"]["kind"],
        "timeout"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
    env.sandbox.clear_faults();
    // 1: anything else (a malformed answer).
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::MalformedJson));
    assert_eq!(
        code(
            &env.run(&["query", "cpos", "--refund-id", "WX-FAILED-1"])
                .await
        ),
        1
    );
}

fn write_input(path: &Path, n: usize) {
    let mut text = String::from("lookup,id\n");
    for i in 0..n {
        text.push_str(&format!("refund_id,auto-{i}\n"));
    }
    std::fs::write(path, text).unwrap();
}

fn lines_by_number(path: &Path) -> BTreeMap<u64, Vec<Value>> {
    let mut map: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        map.entry(v["line"].as_u64().unwrap()).or_default().push(v);
    }
    map
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_of_ten_thousand_with_faults() {
    let env = env("batch").await;
    for i in (0..10_000).step_by(97) {
        env.sandbox.add_fault(FaultRule::refund_id(
            format!("auto-{i}"),
            Fault::Http500Html,
        ));
    }
    let input = env.dir.join("ids.csv");
    write_input(&input, 10_000);
    let output = env.dir.join("out.ndjson");
    let o = env
        .run(&[
            "batch",
            "cpos",
            "--input",
            &input.display().to_string(),
            "--output",
            &output.display().to_string(),
            "--concurrency",
            "32",
            "--retries",
            "0",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("10000 lookups"), "{stderr}");
    assert!(
        stderr.contains("errors by kind: http_status 104"),
        "{stderr}"
    );
    let lines = lines_by_number(&output);
    assert_eq!(lines.len(), 10_000);
    assert_eq!(
        *lines.keys().next().unwrap(),
        2,
        "line numbers are the input file's (header is line 1)"
    );
    for (n, rows) in &lines {
        assert_eq!(rows.len(), 1, "line {n} written once");
        let i = n - 2;
        let row = &rows[0];
        assert_eq!(row["id"], format!("auto-{i}"));
        if i % 97 == 0 {
            assert_eq!(row["error"]["kind"], "http_status");
            assert!(row["status"].is_null());
        } else {
            assert!(row["error"].is_null());
            assert_eq!(row["status"], "succeeded");
            assert_eq!(row["refund_id"], format!("auto-{i}"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_resumes_after_a_kill_without_loss_or_duplicates() {
    let env = env("resume").await;
    let input = env.dir.join("ids.ndjson");
    let mut text = String::new();
    for i in 0..600 {
        text.push_str(&format!(
            "{{\"lookup\":\"merchant_refund_id\",\"id\":\"auto-{i}\"}}\n"
        ));
    }
    std::fs::write(&input, text).unwrap();
    let output = env.dir.join("out.ndjson");
    let args = |resume: bool| {
        let mut a = vec![
            "--config".to_owned(),
            env.config().display().to_string(),
            "batch".into(),
            "edgeros".into(),
            "--input".into(),
            input.display().to_string(),
            "--output".into(),
            output.display().to_string(),
            "--rps".into(),
            "300".into(),
        ];
        if resume {
            a.push("--resume".into());
        }
        a
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .args(args(false))
        .spawn()
        .unwrap();
    // Kill it half way.
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let done = std::fs::read_to_string(&output)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if done >= 200 {
            break;
        }
    }
    child.kill().await.unwrap();
    let partial = lines_by_number(&output).len();
    assert!((200..600).contains(&partial), "killed half way: {partial}");
    let o = run(&args(true)).await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let lines = lines_by_number(&output);
    assert_eq!(lines.len(), 600, "nothing lost");
    assert!(
        lines.values().all(|rows| rows.len() == 1),
        "nothing duplicated"
    );
    assert!(lines.values().all(|rows| rows[0]["error"].is_null()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_reports_bad_input_lines_and_writes_csv() {
    let env = env("badinput").await;
    let input = env.dir.join("ids.csv");
    std::fs::write(
        &input,
        "lookup,id\nrefund_id,WX-FAILED-1\nbogus_kind,1\noriginal_transaction_id,x\n",
    )
    .unwrap();
    let o = env
        .run(&[
            "batch",
            "cpos",
            "--input",
            &input.display().to_string(),
            "--format",
            "csv",
            "--concurrency",
            "1",
        ])
        .await;
    assert_eq!(code(&o), 0);
    let text = stdout(&o);
    let mut rows: Vec<&str> = text.lines().collect();
    assert!(
        rows.remove(0)
            .starts_with("line,lookup,id,provider,refund_id")
    );
    rows.sort_unstable();
    assert!(
        rows[0].starts_with("2,refund_id,WX-FAILED-1,cpos,WX-FAILED-1"),
        "{}",
        rows[0]
    );
    assert!(
        rows[1].starts_with("3,,,cpos,") && rows[1].contains("invalid_input"),
        "{}",
        rows[1]
    );
    assert!(rows[2].contains("invalid_request"), "{}", rows[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_follows_a_refund_to_the_end() {
    let env = env("watch").await;
    let o = env
        .run(&[
            "watch",
            "cpos",
            "--refund-id",
            "WX-TIMELINE-1",
            "--interval",
            "100ms",
            "--max-wait",
            "10s",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let statuses: Vec<String> = ndjson(&o)
        .iter()
        .map(|v| v["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        statuses,
        vec!["processing", "succeeded"],
        "each change printed once"
    );
    // A final status other than succeeded: exit 1.
    let o = env
        .run(&[
            "watch",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
            "--interval",
            "100ms",
        ])
        .await;
    assert_eq!(code(&o), 1);
    // Never final within --max-wait: exit 1.
    let o = env
        .run(&[
            "watch",
            "cpos",
            "--refund-id",
            "WX-UNKNOWN-1",
            "--interval",
            "100ms",
            "--max-wait",
            "500ms",
        ])
        .await;
    assert_eq!(code(&o), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_with_nothing_configured() {
    let o = run(&[
        "demo".to_owned(),
        "--format".to_owned(),
        "ndjson".to_owned(),
    ])
    .await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let lines = ndjson(&o);
    let providers: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|v| v["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers.len(), 3);
    assert!(lines.len() >= 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_any_output() {
    let env = env("secrets").await;
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::WrongSignature));
    let o = env
        .run(&[
            "-vvv",
            "query",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
            "--format",
            "json",
        ])
        .await;
    assert_eq!(code(&o), 5);
    let secret = env.sandbox.credentials().cpos_secret.expose().to_owned();
    let merchant_pem = std::fs::read_to_string(env.dir.join("keys/openapi_merchant.pem")).unwrap();
    let key_line = merchant_pem.lines().nth(3).unwrap().to_owned();
    let o2 = env
        .run(&["-vvv", "query", "openapi", "--refund-id", "OA-PENDING-1"])
        .await;
    for out in [&o, &o2] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.is_empty());
        assert!(!all.contains(&secret), "the cpos secret leaked");
        assert!(!all.contains(&key_line), "private key material leaked");
    }
}
