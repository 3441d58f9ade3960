//! Production concerns end to end, through the real binary: platform keys that rotate, merchant
//! signatures made by a command (the key never in the process), and structured logs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use refund_core::Provider;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_sandbox::{Sandbox, Scenario};
use refund_test_support::{fixture_text, fixtures_dir};
use serde_json::Value;

mod common;

use common::{Env, code, env, env_built, run, stderr, stdout};

const EDGEROS_ID: &str = "AR-TIMELINE-1";
const OPENAPI_ID: &str = "CU-TIMELINE";

fn fixture_key(name: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_text(&fixture_text(&format!("keys/{name}"))).unwrap()
}

fn fingerprint(name: &str) -> String {
    fixture_key(name).public_key().fingerprint()
}

/// The sandbox's config with `from` replaced by `to`, written as `name` in its folder.
fn edited(env: &Env, name: &str, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(env.config()).unwrap();
    assert!(text.contains(from), "{from} not in the config");
    let path = env.dir.join(name);
    std::fs::write(&path, text.replace(from, to)).unwrap();
    path
}

async fn with_config(config: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--timeout".into(),
        "5s".into(),
    ];
    all.extend(args.iter().map(|s| (*s).to_owned()));
    run(&all).await
}

/// Every stderr line of a `--log-format json` run, parsed (a line that is not JSON fails).
fn json_lines(o: &std::process::Output) -> Vec<Value> {
    stderr(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: not JSON: {l}")))
        .collect()
}

/// A run that must be a configuration error (exit 2) saying every one of `needles`.
fn assert_config_error(o: &std::process::Output, needles: &[&str]) {
    let said = stderr(o);
    assert_eq!(code(o), 2, "{said}");
    for needle in needles {
        assert!(said.contains(needle), "{needle}: {said}");
    }
}

const BOTH_PLATFORM_KEYS: &str =
    "platform_public_key_file = [\"keys/edgeros_platform.pub.pem\", \"NEXT\"]";

/// A config holding the sandbox's platform key (A) and the next one (B).
fn rotating_config(env: &Env) -> PathBuf {
    let next = fixtures_dir().join("keys/edgeros_platform_next.pub.pem");
    edited(
        env,
        "rotating.toml",
        "platform_public_key_file = \"keys/edgeros_platform.pub.pem\"",
        &BOTH_PLATFORM_KEYS.replace("NEXT", &next.display().to_string()),
    )
}

/// The platform signs with key A, then B (rotated, from the scenario file), then a key C the
/// config does not hold: A and B verify with one config, each naming its key; C is exit 5.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_keys_rotate_without_a_failed_query() {
    let scenario_text = fixture_text("sandbox/scenario.toml");
    // Key B through a scenario file (a relative path: next to the scenario).
    let scenario_dir = std::env::temp_dir().join(format!("refund-rotate-{}", std::process::id()));
    std::fs::create_dir_all(&scenario_dir).unwrap();
    std::fs::write(
        scenario_dir.join("next.pem"),
        fixture_text("keys/edgeros_platform_next.pem"),
    )
    .unwrap();
    std::fs::write(
        scenario_dir.join("scenario.toml"),
        format!("edgeros_signing_key = \"next.pem\"\n{scenario_text}"),
    )
    .unwrap();
    let cases = [
        (
            "a",
            Sandbox::builder().scenario(Scenario::from_toml(&scenario_text).unwrap()),
            Some(fingerprint("edgeros_platform.pem")),
        ),
        (
            "b",
            Sandbox::builder()
                .scenario(Scenario::from_file(scenario_dir.join("scenario.toml")).unwrap()),
            Some(fingerprint("edgeros_platform_next.pem")),
        ),
        (
            "c",
            Sandbox::builder()
                .scenario(Scenario::from_toml(&scenario_text).unwrap())
                .edgeros_signing_key(fixture_key("openapi_platform_2048.pem")),
            None,
        ),
    ];
    for (name, builder, verified_by) in cases {
        let env = env_built(&format!("rotate-{name}"), builder).await;
        let config = rotating_config(&env);
        let args = [
            "--format",
            "ndjson",
            "query",
            "edgeros",
            "--refund-id",
            EDGEROS_ID,
        ];
        let o = with_config(&config, &[&args[..], &["-v"]].concat()).await;
        // The answer as captured (the transport alone: nothing verified yet), explained offline
        // through the binary with the same config.
        let captured = env
            .sandbox
            .edgeros_client()
            .build()
            .unwrap()
            .fetch(&refund_core::RefundLookup::refund_id(EDGEROS_ID))
            .await
            .unwrap();
        let answer = env.dir.join("answer.json");
        std::fs::write(&answer, &captured).unwrap();
        let explained_offline = with_config(
            &config,
            &[
                "explain",
                "response",
                "edgeros",
                "--refund-id",
                EDGEROS_ID,
                &answer.display().to_string(),
            ],
        )
        .await;
        let Some(key) = verified_by else {
            assert_eq!(code(&o), 5, "{name}: {}", stderr(&o));
            assert!(
                stderr(&o).contains("none of the 2 platform keys"),
                "{name}: {}",
                stderr(&o)
            );
            assert_eq!(code(&explained_offline), 5, "{name}");
            continue;
        };
        assert_eq!(
            code(&explained_offline),
            0,
            "{name}: {}",
            stderr(&explained_offline)
        );
        assert!(
            stdout(&explained_offline).contains(&format!("verified with {key}")),
            "{name}: {}",
            stdout(&explained_offline)
        );
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("\"signature\":\"verified\""),
            "{}",
            stdout(&o)
        );
        // -v names the key that verified the answer...
        assert!(stderr(&o).contains(&key), "{name}: {}", stderr(&o));
        // ...as does the explanation of the live exchange...
        let explained = with_config(&config, &[&args[..], &["--explain"]].concat()).await;
        assert!(
            stderr(&explained).contains(&format!("verified with {key}")),
            "{name}: {}",
            stderr(&explained)
        );
        // ...and the structured trace.
        let logged = with_config(
            &config,
            &[&args[..], &["-v", "--log-format", "json"]].concat(),
        )
        .await;
        assert_eq!(code(&logged), 0);
        let lines = json_lines(&logged);
        let query = lines
            .iter()
            .find(|l| l["message"] == "refund query finished")
            .unwrap_or_else(|| panic!("{name}: no query trace in {lines:?}"));
        assert_eq!(query["key"], key.as_str());
        assert_eq!(query["verification"], "verified");
        assert_eq!(query["provider"], "edgeros");
        assert_eq!(query["attempts"], 1);
        assert_eq!(query["http_status"], 200);
    }
    let _ = std::fs::remove_dir_all(&scenario_dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn platform_key_lists_are_checked_entry_by_entry() {
    let env = env("platform-lists").await;
    let one = "platform_public_key_file = \"keys/edgeros_platform.pub.pem\"";
    let query = ["query", "edgeros", "--refund-id", EDGEROS_ID];
    let empty = edited(&env, "empty.toml", one, "platform_public_key_file = []");
    let o = with_config(&empty, &query).await;
    assert_config_error(&o, &["empty list", "line 13"]);
    let missing = edited(
        &env,
        "missing.toml",
        one,
        "platform_public_key_file = [\n  \"keys/edgeros_platform.pub.pem\",\n  \"keys/gone.pem\",\n]",
    );
    let o = with_config(&missing, &query).await;
    assert_config_error(&o, &["entry 2", "line 15", "cannot read"]);
    let not_a_key = edited(
        &env,
        "not-a-key.toml",
        one,
        "platform_public_key_file = [\"keys/edgeros_platform.pub.pem\", \"keys/cpos_secret.txt\"]",
    );
    let o = with_config(&not_a_key, &query).await;
    assert_config_error(&o, &["entry 2"]);
    assert!(!stderr(&o).contains(fixture_text("keys/cpos_secret.txt").trim()));
    // Inline keys take a list too.
    let inline = edited(
        &env,
        "inline.toml",
        one,
        &format!(
            "platform_public_key = [{:?}, {:?}]",
            fixture_text("keys/edgeros_platform_next.pub.pem"),
            fixture_text("keys/edgeros_platform.pub.pem")
        ),
    );
    let o = with_config(&inline, &query).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// A signing command: the exact bytes on stdin, the base64 signature on stdout (openssl, which
/// `.ci/run` installs when the machine lacks it).
const SIGN_SCRIPT: &str = "#!/bin/sh\nopenssl dgst -sha256 -sign \"$1\" | base64 | tr -d '\\n'\n";

fn script(env: &Env, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = env.dir.join(name);
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// The sandbox's config with `[provider]`'s key file replaced by `command` (and `extra` lines).
fn command_config(env: &Env, name: &str, key_file: &str, command: &[&str], extra: &str) -> PathBuf {
    let argv: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
    edited(
        env,
        name,
        &format!("private_key_file = \"{key_file}\""),
        &format!("private_key_command = [{}]{extra}", argv.join(", ")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_signs_and_the_provider_accepts_it() {
    let env = env("command-signer").await;
    let sign = script(&env, "sign.sh", SIGN_SCRIPT);
    let sign = sign.display().to_string();
    let openapi_key = env
        .dir
        .join("keys/openapi_merchant.pem")
        .display()
        .to_string();
    let edgeros_key = env
        .dir
        .join("keys/edgeros_merchant.pem")
        .display()
        .to_string();
    let config = command_config(
        &env,
        "openapi-cmd.toml",
        "keys/openapi_merchant.pem",
        &[&sign, &openapi_key],
        "",
    );
    let o = with_config(
        &config,
        &[
            "--format",
            "ndjson",
            "query",
            "openapi",
            "--original-transaction-id",
            OPENAPI_ID,
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("OA-TIMELINE-1"), "{}", stdout(&o));
    // Relative to the config file's folder, with a timeout of its own.
    let config = command_config(
        &env,
        "edgeros-cmd.toml",
        "keys/edgeros_merchant.pem",
        &["./sign.sh", &edgeros_key],
        "\nprivate_key_command_timeout = \"5s\"",
    );
    let o = with_config(
        &config,
        &[
            "--format",
            "ndjson",
            "query",
            "edgeros",
            "--refund-id",
            EDGEROS_ID,
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("\"signature\":\"verified\""));
    // `explain request` runs the signer and shows the command where a key's fingerprint was.
    let o = with_config(
        &config,
        &[
            "explain",
            "request",
            "edgeros",
            "--refund-id",
            EDGEROS_ID,
            "--format",
            "json",
        ],
    )
    .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let e: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let key = e["signing"]["key"]["fingerprint"].as_str().unwrap();
    assert!(
        key.starts_with("private_key_command [\"./sign.sh\""),
        "{key}"
    );
    assert_eq!(e["signing"]["signature"].as_str().unwrap().len(), 344);
    let sent = e["request"]["headers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h[0] == "x-acopay-sign")
        .map(|h| h[1].clone());
    assert_eq!(sent.as_ref(), Some(&e["signing"]["signature"]), "{e}");
    assert!(!stdout(&o).contains("PRIVATE KEY"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_signer_fails_the_query_before_anything_is_sent() {
    let env = env("command-signer-fails").await;
    let query = ["query", "openapi", "--original-transaction-id", OPENAPI_ID];
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "refused.sh",
            "#!/bin/sh\necho 'kms: access denied for key k1' >&2\necho 'second line' >&2\nexit 3\n",
            &["exited with status 3: kms: access denied for key k1"],
        ),
        (
            "silent.sh",
            "#!/bin/sh\ncat >/dev/null\n",
            &["printed nothing"],
        ),
        (
            "garbage.sh",
            "#!/bin/sh\necho 'not base64 !!'\n",
            &["not standard base64"],
        ),
        (
            "short.sh",
            "#!/bin/sh\necho AAAA\n",
            &["not an RSA signature"],
        ),
        (
            "escapes.sh",
            "#!/bin/sh\nprintf 'bad \\033[2J news\\n' >&2\nexit 1\n",
            &["bad \\u{1b}[2J news"],
        ),
    ];
    for (name, body, needles) in cases {
        let program = script(&env, name, body).display().to_string();
        let config = command_config(
            &env,
            &format!("{name}.toml"),
            "keys/openapi_merchant.pem",
            &[&program],
            "",
        );
        let o = with_config(&config, &[&["--format", "json"][..], &query].concat()).await;
        assert_eq!(code(&o), 1, "{name}: {}", stderr(&o));
        let said = stderr(&o);
        assert!(said.contains("signer"), "{name}: {said}");
        assert!(said.contains(name), "{name}: the command is named: {said}");
        for needle in needles {
            assert!(said.contains(needle), "{name}: {needle}: {said}");
        }
        assert!(!said.contains('\u{1b}'), "{name}: {said}");
        let out: Value = serde_json::from_str(stdout(&o).trim()).unwrap();
        assert_eq!(out["error"]["kind"], "signer", "{name}: {out}");
    }
    assert_eq!(
        env.sandbox.request_count(Provider::OpenApi),
        0,
        "nothing was sent"
    );

    // A slow command is stopped at its timeout.
    let slow = script(&env, "slow.sh", "#!/bin/sh\nsleep 5\n")
        .display()
        .to_string();
    let config = command_config(
        &env,
        "slow.toml",
        "keys/openapi_merchant.pem",
        &[&slow],
        "\nprivate_key_command_timeout = \"300ms\"",
    );
    let started = Instant::now();
    let o = with_config(&config, &query).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("did not finish within 300ms"),
        "{}",
        stderr(&o)
    );
    assert!(started.elapsed() < Duration::from_secs(4));

    // A batch: every line is an error row of kind `signer`, none claims a refund.
    let refused = env.dir.join("refused.sh.toml");
    let input = env.dir.join("ids.csv");
    std::fs::write(
        &input,
        format!(
            "lookup,id\noriginal_transaction_id,{OPENAPI_ID}\noriginal_transaction_id,CU-PENDING\n"
        ),
    )
    .unwrap();
    let o = with_config(
        &refused,
        &[
            "batch",
            "openapi",
            "--input",
            &input.display().to_string(),
            "--format",
            "ndjson",
        ],
    )
    .await;
    let rows: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "{}", stdout(&o));
    for row in &rows {
        assert_eq!(row["error"]["kind"], "signer", "{row}");
        assert!(row.get("refund_id").is_none_or(Value::is_null), "{row}");
    }
    assert_eq!(env.sandbox.request_count(Provider::OpenApi), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signer_configuration_mistakes_are_exit_2() {
    let env = env("command-signer-config").await;
    let query = ["query", "openapi", "--original-transaction-id", OPENAPI_ID];
    // A program that cannot start: named, before anything is sent.
    let config = command_config(
        &env,
        "nowhere.toml",
        "keys/openapi_merchant.pem",
        &["no-such-signer-refunds-rs", "--key", "k1"],
        "",
    );
    let o = with_config(&config, &query).await;
    assert_config_error(&o, &["no-such-signer-refunds-rs"]);
    // Two sources of the merchant key: both lines named.
    let both = edited(
        &env,
        "both.toml",
        "private_key_file = \"keys/openapi_merchant.pem\"",
        "private_key_file = \"keys/openapi_merchant.pem\"\nprivate_key_command = [\"sign.sh\"]",
    );
    let o = with_config(&both, &query).await;
    assert_config_error(
        &o,
        &[
            "`private_key_file` (line 5)",
            "`private_key_command` (line 6)",
        ],
    );
    // A timeout out of range, or without a command: the line, never the value.
    for (name, line) in [
        ("zero.toml", "private_key_command_timeout = \"0s\""),
        ("huge.toml", "private_key_command_timeout = \"99999h\""),
    ] {
        let config = command_config(
            &env,
            name,
            "keys/openapi_merchant.pem",
            &["/bin/true"],
            &format!("\n{line}"),
        );
        let o = with_config(&config, &query).await;
        assert_config_error(&o, &["private_key_command_timeout", "from 10ms to 10m"]);
        assert!(!stderr(&o).contains("99999h"), "{name}: {}", stderr(&o));
    }
    let alone = edited(
        &env,
        "alone.toml",
        "private_key_file = \"keys/openapi_merchant.pem\"",
        "private_key_file = \"keys/openapi_merchant.pem\"\nprivate_key_command_timeout = \"1s\"",
    );
    let o = with_config(&alone, &query).await;
    assert_config_error(&o, &["without `private_key_command`"]);
}

/// `--log-format json`: every stderr line is one JSON object with level, message and target,
/// errors and summaries included, and none holds a secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_json_lines_without_secrets() {
    let env = env("json-logs").await;
    let secrets = [
        fixture_text("keys/cpos_secret.txt").trim().to_owned(),
        fixture_text("keys/openapi_merchant_2048.pem")
            .lines()
            .nth(1)
            .unwrap()
            .to_owned(),
        fixture_text("keys/edgeros_merchant.pem")
            .lines()
            .nth(1)
            .unwrap()
            .to_owned(),
    ];
    let input = env.dir.join("ids.csv");
    std::fs::write(
        &input,
        "lookup,id\nrefund_id,WX200324161500830790814539\nrefund_id,WX-UNKNOWN-1\n",
    )
    .unwrap();
    let runs = [
        env.run(&[
            "query",
            "cpos",
            "--refund-id",
            "WX200324161500830790814539",
            "-vv",
            "--log-format",
            "json",
        ])
        .await,
        env.run(&[
            "--log-format",
            "json",
            "query",
            "cpos",
            "--refund-id",
            "nope",
        ])
        .await,
        env.run(&[
            "query",
            "edgeros",
            "--refund-id",
            EDGEROS_ID,
            "--explain",
            "--log-format",
            "json",
        ])
        .await,
        env.run(&[
            "batch",
            "cpos",
            "--input",
            &input.display().to_string(),
            "--log-format",
            "json",
            "-v",
        ])
        .await,
        // A usage error still speaks JSON.
        env.run(&["query", "cpos", "--no-such-flag", "--log-format", "json"])
            .await,
    ];
    let mut messages = Vec::new();
    for o in &runs {
        for line in json_lines(o) {
            for field in ["level", "message", "target"] {
                assert!(line[field].is_string(), "{field} in {line}");
            }
            let text = line.to_string();
            for secret in &secrets {
                assert!(!text.contains(secret.as_str()), "a secret in {text}");
            }
            messages.push(line["message"].as_str().unwrap().to_owned());
        }
    }
    for expected in ["refund query finished", "query explained", "batch summary"] {
        assert!(
            messages.iter().any(|m| m == expected),
            "{expected}: {messages:?}"
        );
    }
    let not_found = json_lines(&runs[1]);
    assert_eq!(
        not_found.len(),
        1,
        "{}: {} / {}",
        code(&runs[1]),
        stderr(&runs[1]),
        stdout(&runs[1])
    );
    assert_eq!(not_found[0]["level"], "error");
    assert_eq!(not_found[0]["kind"], "not_found");
    let usage = json_lines(&runs[4]);
    assert_eq!(code(&runs[4]), 2);
    assert_eq!(usage[0]["kind"], "usage");
    // -vv: each attempt is a span of its own inside the query's.
    let attempts: Vec<Value> = json_lines(&runs[0])
        .into_iter()
        .filter(|l| l["span"] == "refund.attempt")
        .collect();
    assert!(
        attempts
            .iter()
            .all(|l| l["number"] == 1 && l["provider"] == "cpos"),
        "{attempts:?}"
    );
}

/// `refund sandbox --edgeros-signing-key FILE`: the running sandbox signs with the rotated key,
/// which its own config (key A only) refuses (exit 5) and a config holding both accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_command_signs_with_a_rotated_key() {
    let dir = std::env::temp_dir().join(format!("refund-sandbox-rotated-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let next = fixtures_dir().join("keys/edgeros_platform_next.pem");
    // A file that is not a key: a usage error naming the flag.
    let o = run(&[
        "sandbox".to_owned(),
        "--dir".into(),
        dir.display().to_string(),
        "--edgeros-signing-key".into(),
        fixtures_dir()
            .join("keys/cpos_secret.txt")
            .display()
            .to_string(),
    ])
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("--edgeros-signing-key"),
        "{}",
        stderr(&o)
    );
    let mut child = common::sandbox_command(&[
        std::ffi::OsStr::new("--dir"),
        dir.as_os_str(),
        std::ffi::OsStr::new("--edgeros-signing-key"),
        next.as_os_str(),
    ])
    .await;
    let own = dir.join("refund.toml");
    let args = [
        "--format",
        "ndjson",
        "query",
        "edgeros",
        "--refund-id",
        EDGEROS_ID,
    ];
    let o = with_config(&own, &args).await;
    assert_eq!(code(&o), 5, "{}", stderr(&o));
    let text = std::fs::read_to_string(&own).unwrap().replace(
        "platform_public_key_file = \"keys/edgeros_platform.pub.pem\"",
        &BOTH_PLATFORM_KEYS.replace(
            "NEXT",
            &fixtures_dir()
                .join("keys/edgeros_platform_next.pub.pem")
                .display()
                .to_string(),
        ),
    );
    let both = dir.join("both.toml");
    std::fs::write(&both, text).unwrap();
    let o = with_config(&both, &[&args[..], &["-v"]].concat()).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&fingerprint("edgeros_platform_next.pem")),
        "{}",
        stderr(&o)
    );
    child.kill().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
