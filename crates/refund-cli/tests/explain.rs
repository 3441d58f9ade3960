//! `refund explain` through the real binary: requests reproduce the providers' own examples byte
//! for byte, every answer fixture is explained to the exit code `query` reaches on the same
//! bytes, and no secret appears in any form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};

use common::{code, run, stderr, stdout};
use refund_core::{Error, Provider, Refund, RefundLookup};
use refund_sandbox::{Fault, FaultRule};
use refund_test_support::{fixture_entries, fixture_lookup, fixture_text, fixtures_dir};
use serde_json::Value;

/// A folder with a `refund.toml` over the test keys in `fixtures/keys` (and `extra` appended).
struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn config_dir(name: &str, extra: &str) -> Dir {
    let dir = std::env::temp_dir().join(format!("refund-explain-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let keys = fixtures_dir().join("keys");
    let key = |f: &str| keys.join(f).display().to_string();
    let toml = format!(
        r#"[openapi]
base_url = "https://gateway.example"
app_id = "733b887a4a784708bb369524db5b6ded"
private_key_file = "{}"
timestamp_unit = "seconds"
currency = "CNY"

[edgeros]
base_url = "https://api.edgeros.com"
mch_no = "MCH1000000"
private_key_file = "{}"
platform_public_key_file = "{}"

[cpos]
base_url = "http://47.95.131.62:8080"
access_id = "cpostest"
secret_file = "{}"
{extra}"#,
        key("openapi_merchant_2048.pem"),
        key("edgeros_merchant.pem"),
        key("edgeros_platform.pub.pem"),
        key("cpos_secret.txt"),
    );
    std::fs::write(dir.join("refund.toml"), toml).unwrap();
    Dir(dir)
}

async fn explain(dir: &Dir, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--config".to_owned(),
        dir.0.join("refund.toml").display().to_string(),
        "explain".to_owned(),
    ];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    run(&all).await
}

fn json(o: &std::process::Output) -> Value {
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[tokio::test]
async fn the_open_api_seed_request_is_reproduced_exactly() {
    let dir = config_dir("seed", "");
    let o = explain(
        &dir,
        &[
            "request",
            "openapi",
            "--original-transaction-id",
            "CU518563189147832320",
            "--timestamp",
            "1722416882",
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e = json(&o);
    // The seed's own `param` text, and the independent (openssl) signature of it.
    assert_eq!(
        e["signing"]["signed_text"],
        r#"{"originalTransactionId":"CU518563189147832320","timestamp":1722416882}"#
    );
    assert_eq!(
        e["signing"]["signature"],
        fixture_text("openapi/sign/seed-original-seconds/signature.txt").trim()
    );
    let body: Value = serde_json::from_str(e["request"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["param"], e["signing"]["signed_text"]);
    assert_eq!(e["request"]["method"], "POST");
}

#[tokio::test]
async fn the_edgeros_vendor_vectors_are_reproduced_exactly() {
    let vectors: Value =
        serde_json::from_str(&fixture_text("edgeros/vectors/edgeros-official.json")).unwrap();
    let keys = &vectors["keys"];
    let dir = config_dir("vectors", "");
    // The vectors' own merchant and key, inline.
    let toml = format!(
        "[edgeros]\nbase_url = \"https://api.edgeros.com\"\nmch_no = \"M202407110001\"\nprivate_key = \"\"\"\n{}\"\"\"\nplatform_public_key = \"\"\"\n{}\"\"\"\n",
        keys["merchant"]["private_pkcs8_pem"].as_str().unwrap(),
        keys["platform"]["public_spki_pem"].as_str().unwrap(),
    );
    std::fs::write(dir.0.join("refund.toml"), toml).unwrap();
    let mut reproduced = Vec::new();
    for case in vectors["request_signing"].as_array().unwrap() {
        let inputs = &case["inputs"];
        let (flag, id) = match (
            inputs["mch_refund_no"].as_str(),
            inputs["refund_no"].as_str(),
        ) {
            (Some(m), None) => ("--merchant-refund-id", m),
            (None, Some(r)) => ("--refund-id", r),
            _ => continue, // both or neither: not one lookup
        };
        if id.chars().any(char::is_control) {
            // req-13: control characters cannot be passed as an argument (and an id holding
            // them is refused before signing; the library's vector test covers it).
            continue;
        }
        let nonce = case["nonce"].as_str().unwrap();
        let o = explain(
            &dir,
            &[
                "request", "edgeros", flag, id, "--nonce", nonce, "--format", "json",
            ],
        )
        .await;
        let name = case["id"].as_str().unwrap();
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        let e = json(&o);
        assert_eq!(e["signing"]["signed_text"], case["canonical"], "{name}");
        assert_eq!(e["signing"]["signature"], case["signature_b64"], "{name}");
        let headers: Vec<(String, String)> =
            serde_json::from_value(e["request"]["headers"].clone()).unwrap();
        for (header, value) in case["headers"].as_object().unwrap() {
            assert!(
                headers.iter().any(|(n, v)| n == header && v == value),
                "{name}: header {header}"
            );
        }
        reproduced.push(name.to_owned());
    }
    assert_eq!(
        reproduced,
        ["req-01", "req-02", "req-04", "req-06", "req-16"]
    );
}

/// The exit-code contract of `docs/cli.md`, restated on purpose (not imported).
fn expected_exit(result: &Result<Vec<Refund>, Error>) -> i32 {
    match result {
        Ok(refunds) if refunds.is_empty() => 3,
        Ok(_) => 0,
        Err(e) => match e.kind() {
            "not_found" => 3,
            "provider" => 4,
            "signature" | "mismatch" => 5,
            "invalid_request" | "config" => 2,
            "transport" | "timeout" | "http_status" => 6,
            _ => 1,
        },
    }
}

fn library_result(
    provider: &str,
    lookup: &RefundLookup,
    body: &[u8],
) -> Result<Vec<Refund>, Error> {
    let keys = |f: &str| fixture_text(&format!("keys/{f}"));
    match provider {
        "openapi" => refund_openapi::OpenApiClient::builder()
            .base_url("https://gateway.example")
            .app_id("733b887a4a784708bb369524db5b6ded")
            .merchant_private_key_pem(&keys("openapi_merchant_2048.pem"))
            .unwrap()
            .build()
            .unwrap()
            .parse_response(lookup, body),
        "edgeros" => refund_edgeros::EdgerosClient::builder()
            .mch_no("MCH1000000")
            .merchant_private_key_pem(&keys("edgeros_merchant.pem"))
            .unwrap()
            .platform_public_key_pem(&keys("edgeros_platform.pub.pem"))
            .unwrap()
            .build()
            .unwrap()
            .parse_response(lookup, body),
        _ => refund_cpos::CposClient::builder()
            .base_url("http://47.95.131.62:8080")
            .access_id("cpostest")
            .secret(refund_core::Secret::new(keys("cpos_secret.txt").trim()))
            .build()
            .unwrap()
            .parse_response(lookup, body),
    }
}

fn lookup_flag(lookup: &RefundLookup) -> String {
    format!("--{}", lookup.kind().as_str().replace('_', "-"))
}

#[tokio::test]
async fn every_answer_fixture_ends_where_query_does() {
    let dir = config_dir("fixtures", "");
    let mut seen = 0;
    for provider in ["openapi", "edgeros", "cpos"] {
        for (name, path) in fixture_entries(&format!("{provider}/responses"), false, 20) {
            let lookup = fixture_lookup(provider, &name);
            let body = std::fs::read(&path).unwrap();
            let expected = library_result(provider, &lookup, &body);
            let flag = lookup_flag(&lookup);
            let path = path.display().to_string();
            let args = ["response", provider, &flag, lookup.id(), &path];
            let o = explain(&dir, &[&args[..], &["--format", "json"]].concat()).await;
            let what = format!("{provider}/{name}");
            assert_eq!(code(&o), expected_exit(&expected), "{what}: {}", stderr(&o));
            let e = json(&o);
            assert_eq!(e["exit_code"], code(&o), "{what}");
            match &expected {
                Ok(refunds) => {
                    assert_eq!(e["conclusion"]["result"], "refunds", "{what}");
                    assert_eq!(
                        e["refunds"].as_array().unwrap().len(),
                        refunds.len(),
                        "{what}"
                    );
                }
                Err(err) => {
                    assert_eq!(e["conclusion"]["kind"], err.kind(), "{what}");
                    assert_eq!(
                        e["conclusion"]["message"],
                        refund_core::error::chain_text(err),
                        "{what}"
                    );
                    let failing: Vec<&Value> = e["steps"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .filter(|s| s["verdict"] == "fail")
                        .collect();
                    assert_eq!(failing.len(), 1, "{what}: exactly one failing step");
                }
            }
            // The text form ends on the same exit code, without colour when piped.
            let o = explain(&dir, &[&args[..], &["--format", "table"]].concat()).await;
            let text = stdout(&o);
            assert!(
                text.contains(&format!("exit code: {}", code(&o))),
                "{what}: {text}"
            );
            assert!(
                !text.contains('\u{1b}'),
                "{what}: no escape codes in a pipe"
            );
            seen += 1;
        }
    }
    assert!(seen >= 80, "{seen} fixtures");
}

#[tokio::test]
async fn no_secret_appears_in_any_form() {
    let dir = config_dir("secret", "");
    let secret = fixture_text("keys/cpos_secret.txt").trim().to_owned();
    let tampered = fixtures_dir().join("cpos/responses/tampered_amount.json");
    let tampered = tampered.display().to_string();
    for format in ["json", "ndjson", "table"] {
        for args in [
            vec!["request", "cpos", "--refund-id", "WX1"],
            vec![
                "response",
                "cpos",
                "--merchant-refund-id",
                "200324847290000004766",
                &tampered,
            ],
        ] {
            let o = explain(&dir, &[&args[..], &["--format", format]].concat()).await;
            let all = stdout(&o) + &stderr(&o);
            assert!(
                !all.contains(&secret),
                "{format} {args:?}: the secret leaked"
            );
            assert!(all.contains("<secret>"), "{format} {args:?}: {all}");
        }
    }
    // Private key material is never printed either: only the public key's fingerprint.
    let pem = fixture_text("keys/openapi_merchant_2048.pem");
    let material: String = pem.lines().nth(1).unwrap().to_owned();
    let o = explain(
        &dir,
        &[
            "request",
            "openapi",
            "--refund-id",
            "R1",
            "--format",
            "table",
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(!stdout(&o).contains(&material));
    assert!(stdout(&o).contains("SHA256:"));
}

#[tokio::test]
async fn misuse_is_a_usage_error() {
    let dir = config_dir("misuse", "");
    let seed = fixtures_dir().join("cpos/responses/seed_resigned.json");
    let seed = seed.display().to_string();
    for (args, needle) in [
        (
            vec!["request", "cpos", "--refund-id", "R1", "--nonce", "n"],
            "--nonce applies to edgeros",
        ),
        (
            vec![
                "request",
                "edgeros",
                "--refund-id",
                "R1",
                "--timestamp",
                "1",
            ],
            "--timestamp applies to openapi",
        ),
        (
            vec!["request", "edgeros", "--refund-id", "R1", "--nonce", "a b"],
            "visible ASCII",
        ),
        (
            vec!["request", "openapi", "--refund-id", "R1", "--timestamp=-1"],
            "--timestamp",
        ),
        (
            vec![
                "request",
                "openapi",
                "--refund-id",
                "R1",
                "--timestamp",
                "99999999999999999999",
            ],
            "--timestamp",
        ),
        (
            vec!["request", "openapi", "--merchant-refund-id", "R1"],
            "does not support",
        ),
        (
            vec![
                "response",
                "cpos",
                "--refund-id",
                "R1",
                "/nonexistent/answer.json",
            ],
            "cannot read",
        ),
        (
            vec![
                "response",
                "cpos",
                "--refund-id",
                "R1",
                &seed,
                "--format",
                "csv",
            ],
            "text",
        ),
    ] {
        let o = explain(&dir, &args).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
}

#[tokio::test]
async fn an_oversized_answer_is_refused_like_a_live_one() {
    let dir = config_dir("huge", "");
    let path: &Path = &dir.0.join("huge.json");
    std::fs::write(path, vec![b' '; 2 * 1024 * 1024]).unwrap();
    let path = path.display().to_string();
    let o = explain(&dir, &["response", "cpos", "--refund-id", "R1", &path]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("limit"), "{}", stderr(&o));
}

#[tokio::test]
async fn query_explain_shows_the_live_exchange_on_stderr() {
    let env = common::env("explain-live").await;
    let args = [
        "--format",
        "ndjson",
        "query",
        "cpos",
        "--refund-id",
        "WX200324161500830790814539",
    ];
    let plain = env.run(&args).await;
    let explained = env.run(&[&args[..], &["--explain"]].concat()).await;
    assert_eq!(code(&plain), 0, "{}", stderr(&plain));
    assert_eq!(code(&explained), 0, "{}", stderr(&explained));
    // stdout is the query's own output; the explanation is on stderr.
    assert_eq!(stdout(&plain), stdout(&explained));
    let err = stderr(&explained);
    for needle in [
        "-- attempt 1",
        "signed text",
        "2. signature  pass",
        "4. binding    pass",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    // -vv explains too.
    let verbose = env.run(&[&args[..], &["-vv"]].concat()).await;
    assert!(stderr(&verbose).contains("-- attempt 1"));
    // An answer about another refund: the binding step fails, and the exit code is query's (5).
    env.sandbox.add_fault(FaultRule::provider(
        Provider::Cpos,
        Fault::AnswerFor {
            refund_id: "WX-FAILED-1".into(),
        },
    ));
    let wrong = env.run(&[&args[..], &["--explain"]].concat()).await;
    assert_eq!(code(&wrong), 5, "{}", stderr(&wrong));
    assert!(
        stderr(&wrong).contains("4. binding    fail"),
        "{}",
        stderr(&wrong)
    );
}
