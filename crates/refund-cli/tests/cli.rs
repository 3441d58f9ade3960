//! End-to-end: the real `refund` binary against the sandbox, every command, format and exit code.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use refund_core::Provider;
use refund_sandbox::{Fault, FaultRule};
use serde_json::Value;

const FIELDS: [&str; 16] = [
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
    "signature",
];

mod common;

use common::{Env, code, env, ndjson, run, stdout};

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

/// A config file for a case: the sandbox's own, or one edited to provoke an error.
type ConfigFor = fn(&Env) -> PathBuf;

fn sandbox_config(env: &Env) -> PathBuf {
    env.config()
}

/// A `[cpos]` section with only `base_url`.
fn partial_config(env: &Env) -> PathBuf {
    let path = env.dir.join("partial.toml");
    std::fs::write(&path, "[cpos]\nbase_url = \"http://127.0.0.1:1\"\n").unwrap();
    path
}

/// The sandbox's config with edits (`from` → `to`).
fn edited_config(env: &Env, name: &str, from: &str, to: &str) -> PathBuf {
    let path = env.dir.join(name);
    let text = std::fs::read_to_string(env.config())
        .unwrap()
        .replace(from, to);
    std::fs::write(&path, text).unwrap();
    path
}

fn unknown_app_config(env: &Env) -> PathBuf {
    let app = env.sandbox.credentials().openapi_app_id.clone();
    edited_config(env, "wrong-app.toml", &app, "unknown-app")
}

/// The sandbox's config with the Open API key file pointing nowhere.
fn missing_key_file_config(env: &Env) -> PathBuf {
    edited_config(
        env,
        "missing-key.toml",
        "keys/openapi_merchant.pem",
        "keys/moved-away.pem",
    )
}

fn dead_endpoint_config(env: &Env) -> PathBuf {
    edited_config(
        env,
        "dead.toml",
        &env.sandbox.base_url(),
        "http://127.0.0.1:9",
    )
}

fn optional_cpos_config(env: &Env) -> PathBuf {
    edited_config(
        env,
        "optional.toml",
        "response_signature = \"required\"",
        "response_signature = \"optional\"",
    )
}

/// One exit-code case: a fault in the sandbox (if any), a config, the arguments (`--format json`
/// is added), and what must come out.
struct Case {
    name: &'static str,
    fault: Option<(Provider, Fault)>,
    config: ConfigFor,
    args: &'static [&'static str],
    code: i32,
    /// The error kind in the JSON error object (None: no error object).
    kind: Option<&'static str>,
    /// Text stderr must contain.
    stderr: &'static str,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes() {
    let cases = [
        Case {
            name: "found",
            fault: None,
            config: sandbox_config,
            args: &["query", "cpos", "--refund-id", "WX-FAILED-1"],
            code: 0,
            kind: None,
            stderr: "",
        },
        Case {
            name: "not found",
            fault: None,
            config: sandbox_config,
            args: &["query", "cpos", "--refund-id", "nope"],
            code: 3,
            kind: Some("not_found"),
            stderr: "refund not found",
        },
        Case {
            name: "unsupported lookup names the supported flags",
            fault: None,
            config: sandbox_config,
            args: &["query", "edgeros", "--channel-trade-no", "x"],
            code: 2,
            kind: Some("usage"),
            stderr: "--refund-id, --merchant-refund-id",
        },
        Case {
            name: "two lookup flags",
            fault: None,
            config: sandbox_config,
            args: &[
                "query",
                "cpos",
                "--refund-id",
                "a",
                "--merchant-refund-id",
                "b",
            ],
            code: 2,
            kind: None,
            stderr: "cannot be used with",
        },
        Case {
            name: "no lookup flag",
            fault: None,
            config: sandbox_config,
            args: &["query", "cpos"],
            code: 2,
            kind: None,
            stderr: "required",
        },
        Case {
            name: "missing keys are named",
            fault: None,
            config: partial_config,
            args: &["query", "cpos", "--refund-id", "x"],
            code: 2,
            kind: Some("config"),
            stderr: "access_id",
        },
        Case {
            name: "missing section names every key",
            fault: None,
            config: partial_config,
            args: &["query", "edgeros", "--refund-id", "x"],
            code: 2,
            kind: Some("config"),
            stderr: "mch_no, private_key_file, platform_public_key_file",
        },
        Case {
            name: "business error",
            fault: None,
            config: unknown_app_config,
            args: &["query", "openapi", "--refund-id", "OA-PENDING-1"],
            code: 4,
            kind: Some("provider"),
            stderr: "21003",
        },
        Case {
            name: "signature fails",
            fault: Some((Provider::Edgeros, Fault::WrongSignature)),
            config: sandbox_config,
            args: &["query", "edgeros", "--refund-id", "AR-PROCESSING-1"],
            code: 5,
            kind: Some("signature"),
            // The cause too, not only "failed verification".
            stderr: "response failed signature verification: data.sign: signature does not match",
        },
        Case {
            name: "a key file that cannot be read names the file and the cause",
            fault: None,
            config: missing_key_file_config,
            args: &["query", "openapi", "--refund-id", "OA-PENDING-1"],
            code: 2,
            kind: Some("config"),
            stderr: "keys/moved-away.pem: No such file or directory",
        },
        Case {
            name: "a signed answer about another refund",
            fault: Some((
                Provider::Edgeros,
                Fault::AnswerFor {
                    refund_id: "AR202112151405438637829842922855012187".into(),
                },
            )),
            config: sandbox_config,
            args: &["query", "edgeros", "--refund-id", "AR-PROCESSING-1"],
            code: 5,
            kind: Some("mismatch"),
            stderr: "`data.refund_no`",
        },
        Case {
            name: "a signed answer naming another merchant",
            fault: Some((
                Provider::Edgeros,
                Fault::ForeignMerchant {
                    mch_no: "MCH-EVIL".into(),
                },
            )),
            config: sandbox_config,
            args: &[
                "query",
                "edgeros",
                "--merchant-refund-id",
                "mch-processing-1",
            ],
            code: 5,
            kind: Some("mismatch"),
            stderr: "`data.mch_no`",
        },
        Case {
            name: "an unsigned cpos answer about another refund",
            fault: Some((
                Provider::Cpos,
                Fault::AnswerFor {
                    refund_id: "WX-FAILED-1".into(),
                },
            )),
            config: sandbox_config,
            args: &["query", "cpos", "--refund-id", "WX-UNKNOWN-1"],
            code: 5,
            kind: Some("mismatch"),
            stderr: "`refund_no`",
        },
        Case {
            name: "an open api answer about another transaction",
            fault: Some((
                Provider::OpenApi,
                Fault::AnswerFor {
                    refund_id: "OA-TIMELINE-1".into(),
                },
            )),
            config: sandbox_config,
            args: &[
                "query",
                "openapi",
                "--original-transaction-id",
                "CU51856318914782320",
            ],
            code: 5,
            kind: Some("mismatch"),
            stderr: "originalTransactionId",
        },
        Case {
            name: "optional mode: accepted, said out loud",
            fault: Some((Provider::Cpos, Fault::WrongSignature)),
            config: optional_cpos_config,
            args: &["query", "cpos", "--refund-id", "WX-UNKNOWN-1"],
            code: 0,
            kind: None,
            stderr: "NOT verified",
        },
        Case {
            name: "an http error that survives the retries",
            fault: Some((Provider::Cpos, Fault::Http500Html)),
            config: sandbox_config,
            args: &[
                "query",
                "cpos",
                "--refund-id",
                "WX-FAILED-1",
                "--retries",
                "1",
            ],
            code: 6,
            kind: Some("http_status"),
            stderr: "HTTP 500",
        },
        Case {
            name: "nothing listening",
            fault: None,
            config: dead_endpoint_config,
            args: &["query", "cpos", "--refund-id", "x", "--retries", "0"],
            code: 6,
            kind: Some("transport"),
            stderr: "",
        },
        Case {
            name: "a timeout within the deadline",
            fault: Some((Provider::Cpos, Fault::NeverEnding)),
            config: sandbox_config,
            args: &[
                "query",
                "cpos",
                "--refund-id",
                "WX-FAILED-1",
                "--timeout",
                "1s",
            ],
            code: 6,
            kind: Some("timeout"),
            stderr: "",
        },
        Case {
            name: "a malformed answer",
            fault: Some((Provider::Cpos, Fault::MalformedJson)),
            config: sandbox_config,
            args: &["query", "cpos", "--refund-id", "WX-FAILED-1"],
            code: 1,
            kind: Some("decode"),
            stderr: "",
        },
    ];
    let env = env("exits").await;
    for case in &cases {
        env.sandbox.clear_faults();
        if let Some((provider, fault)) = &case.fault {
            env.sandbox
                .add_fault(FaultRule::provider(*provider, fault.clone()));
        }
        let mut args: Vec<String> = vec![
            "--config".into(),
            (case.config)(&env).display().to_string(),
            "--timeout".into(),
            "3s".into(),
            "--format".into(),
            "json".into(),
        ];
        args.extend(case.args.iter().map(|s| (*s).to_owned()));
        let started = std::time::Instant::now();
        let o = run(&args).await;
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), case.code, "{}: {stderr}", case.name);
        assert!(stderr.contains(case.stderr), "{}: {stderr}", case.name);
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}: within the deadline",
            case.name
        );
        if let Some(kind) = case.kind {
            let e: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(e["error"]["kind"], kind, "{}", case.name);
            // The documented key order (`kind, message, provider, code`), as batch writes it.
            let keys: Vec<&String> = e["error"].as_object().unwrap().keys().collect();
            assert_eq!(keys.len(), 4, "{}", case.name);
            let text = String::from_utf8_lossy(&o.stdout);
            let at = |k: &str| text.find(&format!("\"{k}\":")).unwrap();
            assert!(
                at("kind") < at("message")
                    && at("message") < at("provider")
                    && at("provider") < at("code"),
                "{}: {text}",
                case.name
            );
            assert_eq!(
                stderr.lines().count(),
                1,
                "{}: one line on stderr",
                case.name
            );
        }
    }
    env.sandbox.clear_faults();
    // --retries 1 means two attempts.
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
    assert_eq!(env.sandbox.request_count(Provider::Cpos) - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cpos_secret_can_come_from_the_environment() {
    let env = env("secret-env").await;
    let partial = env.dir.join("partial.toml");
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
    assert_eq!(ndjson(&o)[0]["signature"], "verified");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_says_how_it_was_verified() {
    let env = env("signature").await;
    for (provider, flag, id, expected) in [
        ("openapi", "--refund-id", "OA-PENDING-1", "not_signed"),
        ("edgeros", "--refund-id", "AR-PROCESSING-1", "verified"),
        ("cpos", "--refund-id", "WX-UNKNOWN-1", "verified"),
    ] {
        let o = env.run(&["query", provider, flag, id]).await;
        assert_eq!(ndjson(&o)[0]["signature"], expected, "{provider}");
        let o = env
            .run(&["query", provider, flag, id, "--format", "csv"])
            .await;
        let text = stdout(&o);
        let mut lines = text.lines();
        assert!(lines.next().unwrap().ends_with(",channel,signature"));
        assert!(
            lines.next().unwrap().ends_with(&format!(",{expected}")),
            "{provider}"
        );
    }
    // Optional mode: an unverified answer is labelled, and one warning line says so.
    let optional = optional_cpos_config(&env);
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::WrongSignature));
    let o = run(&[
        "--config".into(),
        optional.display().to_string(),
        "query".into(),
        "cpos".into(),
        "--refund-id".into(),
        "WX-UNKNOWN-1".into(),
    ])
    .await;
    assert_eq!(code(&o), 0);
    assert_eq!(ndjson(&o)[0]["signature"], "unverified");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("refund: warning:"), "{stderr}");
    // Batch: the line is labelled and the summary counts it.
    let input = env.dir.join("optional.csv");
    std::fs::write(
        &input,
        "lookup,id\nrefund_id,WX-UNKNOWN-1\nrefund_id,WX-FAILED-1\n",
    )
    .unwrap();
    let o = run(&[
        "--config".into(),
        optional.display().to_string(),
        "batch".into(),
        "cpos".into(),
        "--input".into(),
        input.display().to_string(),
    ])
    .await;
    assert_eq!(code(&o), 0);
    assert!(ndjson(&o).iter().all(|l| l["signature"] == "unverified"));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("WARNING: 2 refunds NOT verified"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_never_attributes_a_substituted_answer() {
    let env = env("batch-mismatch").await;
    env.sandbox.add_fault(FaultRule::refund_id(
        "WX-UNKNOWN-1",
        Fault::AnswerFor {
            refund_id: "WX-FAILED-1".into(),
        },
    ));
    let input = env.dir.join("ids.csv");
    std::fs::write(
        &input,
        "lookup,id\nrefund_id,WX-UNKNOWN-1\nrefund_id,WX-FAILED-1\n",
    )
    .unwrap();
    let o = env
        .run(&[
            "batch",
            "cpos",
            "--input",
            &input.display().to_string(),
            "--concurrency",
            "1",
        ])
        .await;
    assert_eq!(code(&o), 0);
    let lines = ndjson(&o);
    let by_id = |id: &str| lines.iter().find(|l| l["id"] == id).unwrap().clone();
    let substituted = by_id("WX-UNKNOWN-1");
    assert_eq!(substituted["error"]["kind"], "mismatch");
    assert!(substituted["refund_id"].is_null() && substituted["status"].is_null());
    assert_eq!(by_id("WX-FAILED-1")["status"], "failed");
    assert!(String::from_utf8_lossy(&o.stderr).contains("mismatch 1"));
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
        // #29.9: what could be read of an unusable line is kept (its id; the lookup names no
        // known kind).
        rows[1].starts_with("3,,1,cpos,") && rows[1].contains("invalid_input"),
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
    let (o, _) = common::watch_never_final(&env, "100ms", "500ms").await;
    assert_eq!(code(&o), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_with_nothing_configured() {
    let demo = |format: &'static str| async move {
        run(&["demo".to_owned(), "--format".to_owned(), format.to_owned()]).await
    };
    // NDJSON: one stream of batch-shaped lines, each labelled with its section.
    let o = demo("ndjson").await;
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stderr));
    let lines = ndjson(&o);
    let providers: std::collections::BTreeSet<&str> = lines
        .iter()
        .map(|v| v["provider"].as_str().unwrap())
        .collect();
    assert_eq!(providers.len(), 3);
    let sections: Vec<&str> = lines
        .iter()
        .map(|v| v["section"].as_str().unwrap())
        .collect();
    assert_eq!(sections.iter().filter(|s| **s == "query").count(), 4);
    assert_eq!(sections.iter().filter(|s| **s == "batch").count(), 6);
    assert!(
        sections
            .windows(2)
            .all(|w| w[0] <= w[1] || w == ["query", "batch"])
    );
    let text = String::from_utf8_lossy(&o.stdout);
    let distinct: std::collections::BTreeSet<&str> = text.lines().collect();
    assert_eq!(distinct.len(), lines.len(), "no duplicate objects");
    // The made-up id reads as an example: a line with its error, and a note, not a failure.
    let made_up = lines
        .iter()
        .find(|v| v["id"] == "WX-DOES-NOT-EXIST")
        .unwrap();
    assert_eq!(made_up["error"]["kind"], "not_found");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("made up on purpose"), "{err}");
    assert!(!err.contains("error"), "{err}");
    // CSV: one header, then the same lines.
    let o = demo("csv").await;
    assert_eq!(code(&o), 0);
    let text = String::from_utf8_lossy(&o.stdout);
    let mut records = text.lines();
    assert!(
        records
            .next()
            .unwrap()
            .starts_with("section,line,lookup,id,")
    );
    assert_eq!(records.clone().count(), lines.len());
    assert!(
        records.all(|l| !l.starts_with("section,")),
        "one header: {text}"
    );
    // JSON: one array.
    let o = demo("json").await;
    assert_eq!(code(&o), 0);
    let all: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), lines.len());
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
