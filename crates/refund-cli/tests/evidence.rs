//! #32 `--evidence DIR` end to end through the binary against the sandbox: every answer kept as
//! one `refund-evidence/1` file (retries included), rows naming their file, `explain response`
//! re-verifying a file offline and exiting as the query did, a changed signed field failing the
//! signature check, no secret in any file, and a killed mixed run resumed with every row naming a
//! file that exists.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{Env, code, ndjson, stderr, stdout};
use refund_sandbox::{Fault, FaultRule};
use serde_json::Value;

const EDGEROS_ID: &str = "AR202112151405438637829842922855012187";
const CPOS_ID: &str = "WX200324161500830790814539";

fn evidence_files(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every secret of the sandbox's credentials: no evidence file may hold one.
fn assert_no_secret(env: &Env, dir: &Path) {
    let secret = std::fs::read_to_string(env.dir.join("keys/cpos_secret.txt")).unwrap();
    let secret = secret.trim();
    assert!(secret.len() >= 8);
    for name in evidence_files(dir) {
        let text = std::fs::read_to_string(dir.join(&name)).unwrap();
        assert!(!text.contains(secret), "{name} holds the CPOS secret");
        assert!(!text.contains("PRIVATE KEY"), "{name} holds a key");
        assert!(!text.contains("MII"), "{name} holds key material");
    }
}

/// `refund --format <format> query <provider> --refund-id <id> --evidence <dir>`: the run.
async fn query_kept(
    env: &Env,
    format: &str,
    provider: &str,
    id: &str,
    dir: &str,
) -> std::process::Output {
    env.run(&[
        "--format",
        format,
        "query",
        provider,
        "--refund-id",
        id,
        "--evidence",
        dir,
    ])
    .await
}

/// `refund explain response <provider> FILE`: the run.
async fn explain(env: &Env, provider: &str, file: &Path, extra: &[&str]) -> std::process::Output {
    let file = file.display().to_string();
    let mut args = vec!["explain", "response", provider, file.as_str()];
    args.extend_from_slice(extra);
    env.run(&args).await
}

/// The same evidence file with `from` replaced by `to` in the answer's bytes, written beside it.
fn tampered(path: &Path, from: &str, to: &str) -> PathBuf {
    let mut file = read_json(path);
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = b64
        .decode(file["answer"]["body_base64"].as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains(from), "{text}");
    file["answer"]["body_base64"] = b64.encode(text.replacen(from, to, 1)).into();
    let out = path.with_extension("tampered.json");
    std::fs::write(&out, serde_json::to_vec(&file).unwrap()).unwrap();
    out
}

#[tokio::test]
async fn a_query_keeps_its_answer_and_explain_checks_it_again() {
    let env = common::env("evidence-query").await;
    let dir = env.dir.join("evidence");
    let dir_text = dir.display().to_string();
    // EdgerOS: signed by the platform.
    let o = query_kept(&env, "json", "edgeros", EDGEROS_ID, &dir_text).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows: Vec<Value> = serde_json::from_str(&stdout(&o)).unwrap();
    let name = rows[0]["evidence"].as_str().unwrap().to_owned();
    assert_eq!(evidence_files(&dir), BTreeSet::from([name.clone()]));
    assert!(stderr(&o).contains(&name), "{}", stderr(&o));
    let path = dir.join(&name);
    let file = read_json(&path);
    assert_eq!(file["format"], "refund-evidence/1");
    assert_eq!(file["provider"], "edgeros");
    assert_eq!(file["lookup"]["kind"], "refund_id");
    assert_eq!(file["lookup"]["id"], EDGEROS_ID);
    assert_eq!(file["request"]["method"], "GET");
    assert!(
        file["request"]["url"]
            .as_str()
            .unwrap()
            .contains(EDGEROS_ID)
    );
    assert_eq!(file["answer"]["status"], 200);
    assert_eq!(file["signature"], "verified");
    assert!(
        file["key"].as_str().unwrap().starts_with("SHA256:"),
        "{file}"
    );
    assert!(file["sent_at"].as_str().unwrap().ends_with('Z'));
    assert!(file["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(file["tool_version"], env!("CARGO_PKG_VERSION"));
    // Offline, the lookup from the file: exits as the query did.
    let o = explain(&env, "edgeros", &path, &[]).await;
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    // A flag that disagrees with the file is refused.
    let o = explain(&env, "edgeros", &path, &["--refund-id", "AR-OTHER"]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = explain(&env, "cpos", &path, &[]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    // A signed field changed (the amount): the signature check fails (exit 5).
    let changed = tampered(&path, "0.01", "9.99");
    let o = explain(&env, "edgeros", &changed, &[]).await;
    assert_eq!(code(&o), 5, "{}{}", stdout(&o), stderr(&o));

    // CPOS: MD5 over a shared secret; the same round trip.
    let o = query_kept(&env, "ndjson", "cpos", CPOS_ID, &dir_text).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let name = ndjson(&o)[0]["evidence"].as_str().unwrap().to_owned();
    let path = dir.join(&name);
    let file = read_json(&path);
    assert_eq!(file["signature"], "verified");
    assert!(file["key"].is_null());
    assert_eq!(file["request"]["method"], "POST");
    assert!(file["request"]["body"].as_str().unwrap().contains("sign"));
    let o = explain(&env, "cpos", &path, &[]).await;
    assert_eq!(code(&o), 0, "{}{}", stdout(&o), stderr(&o));
    let changed = tampered(&path, "0.50", "0.60");
    let o = explain(&env, "cpos", &changed, &[]).await;
    assert_eq!(code(&o), 5, "{}{}", stdout(&o), stderr(&o));

    // Open API: unsigned by protocol.
    let o = query_kept(&env, "ndjson", "openapi", "1818566685947465728", &dir_text).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let name = ndjson(&o)[0]["evidence"].as_str().unwrap().to_owned();
    assert_eq!(read_json(&dir.join(&name))["signature"], "not_signed");
    // An answer that was not found: kept too, and explained to the same exit code.
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            "NOPE-1",
            "--evidence",
            &dir_text,
        ])
        .await;
    let not_found = code(&o);
    assert_ne!(not_found, 0);
    let newest = evidence_files(&dir)
        .into_iter()
        .find(|n| n.contains("NOPE-1"))
        .unwrap();
    let o = explain(&env, "cpos", &dir.join(newest), &[]).await;
    assert_eq!(code(&o), not_found, "{}{}", stdout(&o), stderr(&o));
    assert_no_secret(&env, &dir);
    // A file in the folder's place: exit 2, nothing sent.
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            CPOS_ID,
            "--evidence",
            &path.display().to_string(),
        ])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
}

/// Retries: every answer is kept (each a file of its own, named apart), the retried ones
/// labelled with their failure; the row names the last.
#[tokio::test]
async fn every_attempt_with_an_answer_is_kept() {
    let env = common::env("evidence-retries").await;
    env.sandbox
        .add_fault(FaultRule::refund_id(CPOS_ID, Fault::Http500Html).times(2));
    let dir = env.dir.join("kept");
    let o = env
        .run(&[
            "--retries",
            "3",
            "--format",
            "ndjson",
            "query",
            "cpos",
            "--refund-id",
            CPOS_ID,
            "--evidence",
            &dir.display().to_string(),
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let files = evidence_files(&dir);
    assert_eq!(files.len(), 3, "{files:?}");
    let mut by_attempt: Vec<Value> = files.iter().map(|n| read_json(&dir.join(n))).collect();
    by_attempt.sort_by_key(|f| f["attempt"].as_u64());
    assert_eq!(
        by_attempt
            .iter()
            .map(|f| (
                f["answer"]["status"].as_u64().unwrap(),
                f["signature"].as_str().unwrap().to_owned()
            ))
            .collect::<Vec<_>>(),
        vec![
            (500, "http_status".to_owned()),
            (500, "http_status".to_owned()),
            (200, "verified".to_owned())
        ]
    );
    let row = &ndjson(&o)[0];
    let named = read_json(&dir.join(row["evidence"].as_str().unwrap()));
    assert_eq!(named["attempt"], 3);
    // The 500 answer explained: exits as a query that got it would.
    let first = files
        .iter()
        .find(|n| read_json(&dir.join(n))["attempt"] == 1)
        .unwrap();
    let o = explain(&env, "cpos", &dir.join(first), &[]).await;
    let o_query = {
        env.sandbox
            .add_fault(FaultRule::refund_id("WX-FAILED-1", Fault::Http500Html));
        env.run(&["query", "cpos", "--refund-id", "WX-FAILED-1"])
            .await
    };
    assert_eq!(code(&o), code(&o_query), "{}", stderr(&o));
}

/// `batch` and `reconcile` with `--evidence`: every row names a file that exists (CSV: the last
/// column), and files are written before the rows that name them; without the flag the output
/// has no such field.
#[tokio::test]
async fn streamed_rows_name_their_evidence() {
    let env = common::env("evidence-batch").await;
    let input = env.dir.join("ids.ndjson");
    std::fs::write(
        &input,
        format!(
            "{{\"provider\":\"cpos\",\"lookup\":\"refund_id\",\"id\":\"{CPOS_ID}\"}}\n\
             {{\"provider\":\"edgeros\",\"lookup\":\"refund_id\",\"id\":\"{EDGEROS_ID}\"}}\n\
             {{\"provider\":\"edgeros\",\"lookup\":\"bogus\",\"id\":\"X\"}}\n"
        ),
    )
    .unwrap();
    let dir = env.dir.join("kept");
    let input = input.display().to_string();
    let o = env
        .run(&[
            "--format",
            "csv",
            "batch",
            "--input",
            &input,
            "--evidence",
            &dir.display().to_string(),
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut reader = csv::Reader::from_reader(o.stdout.as_slice());
    let header = reader.headers().unwrap().clone();
    assert_eq!(header.iter().next_back(), Some("evidence"));
    let mut named = 0;
    for record in reader.records().map(Result::unwrap) {
        let name = record.iter().next_back().unwrap();
        if record[0] == *"3" {
            assert_eq!(name, "", "an unusable line has no answer");
        } else {
            assert!(dir.join(name).is_file(), "{name}");
            named += 1;
        }
    }
    assert_eq!(named, 2);
    assert_no_secret(&env, &dir);
    // The folder is never another file of the run, however spelled: exit 2, nothing created.
    let output = env.dir.join("out.ndjson");
    let spelled = env.dir.join("kept/../out.ndjson");
    let o = env
        .run(&[
            "batch",
            "--input",
            &input,
            "--output",
            &output.display().to_string(),
            "--evidence",
            &spelled.display().to_string(),
        ])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("same file"), "{}", stderr(&o));
    assert!(!output.exists());
    // Without the flag: no such column.
    let o = env
        .run(&["--format", "ndjson", "batch", "--input", &input])
        .await;
    assert!(ndjson(&o).iter().all(|r| r.get("evidence").is_none()));
}

/// A mixed run with evidence killed mid-way and resumed: every ledger line answered exactly
/// once, every row naming an evidence file that exists.
#[tokio::test]
async fn a_killed_mixed_run_resumes_with_its_evidence() {
    let env = common::env("evidence-resume").await;
    // Every EdgerOS answer is slow: the run is killed while they are in flight.
    env.sandbox.add_fault(FaultRule::provider(
        refund_core::Provider::Edgeros,
        Fault::Latency { ms: 400 },
    ));
    let mut ledger = String::from("provider,lookup,id,amount,currency\n");
    for i in 0..40 {
        if i % 2 == 0 {
            ledger.push_str(&format!("cpos,refund_id,{CPOS_ID},0.50,CNY\n"));
        } else {
            ledger.push_str(&format!("edgeros,refund_id,{EDGEROS_ID},0.01,CNY\n"));
        }
    }
    let ledger_path = env.dir.join("books.csv");
    std::fs::write(&ledger_path, ledger).unwrap();
    let output = env.dir.join("out.ndjson").display().to_string();
    let dir = env.dir.join("kept").display().to_string();
    let ledger_path = ledger_path.display().to_string();
    let args = |resume: bool| {
        let mut a = vec![
            "--config".to_owned(),
            env.config().display().to_string(),
            "reconcile".into(),
            "--ledger".into(),
            ledger_path.clone(),
            "--output".into(),
            output.clone(),
            "--evidence".into(),
            dir.clone(),
            "--concurrency".into(),
            "2".into(),
        ];
        if resume {
            a.push("--resume".into());
        }
        a
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .args(args(false))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait for a few rows, then kill.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let rows = std::fs::read_to_string(&output).unwrap_or_default();
        if rows.lines().count() >= 8 || std::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().await.unwrap();
    let before = std::fs::read_to_string(&output).unwrap().lines().count();
    assert!((8..40).contains(&before), "{before} rows before the kill");
    let o = common::run(&args(true)).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = std::fs::read_to_string(&output).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut lines: Vec<u64> = rows.iter().map(|r| r["line"].as_u64().unwrap()).collect();
    lines.sort_unstable();
    assert_eq!(lines, (2..=41).collect::<Vec<u64>>(), "each line once");
    let kept = Path::new(&dir);
    for row in &rows {
        assert_eq!(row["verdict"], "match", "{row}");
        let name = row["evidence"].as_str().unwrap();
        let file = read_json(&kept.join(name));
        assert_eq!(file["provider"], row["provider"]);
    }
    // No half-written file under a final name: every `.json` file parses.
    for name in evidence_files(kept) {
        if name.ends_with(".json") {
            let _ = read_json(&kept.join(&name));
        }
    }
}

/// `watch --evidence` giving up at `--max-wait` in the middle of a query's retries still keeps
/// every answer received: one file per request the provider answered, the last one too.
#[tokio::test]
async fn a_watch_that_gives_up_keeps_every_answer() {
    let env = common::env("evidence-watch").await;
    env.sandbox
        .add_fault(FaultRule::refund_id(CPOS_ID, Fault::Http500Html));
    let dir = env.dir.join("kept");
    let o = env
        .run(&[
            "--retries",
            "10",
            "watch",
            "cpos",
            "--refund-id",
            CPOS_ID,
            "--interval",
            "1s",
            "--max-wait",
            "1s",
            "--evidence",
            &dir.display().to_string(),
        ])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let answered = env.sandbox.request_count(refund_core::Provider::Cpos);
    let files = evidence_files(&dir);
    assert!(answered >= 2, "{answered}");
    assert_eq!(files.len() as u64, answered, "{files:?}");
    for name in &files {
        let file = read_json(&dir.join(name));
        assert_eq!(file["answer"]["status"], 500);
        assert_eq!(file["signature"], "http_status");
    }
}
