//! The real `refund` binary, used as a hostile or careless user would: extreme flags, broken
//! configs holding secrets, outputs that would destroy inputs, provider text that would drive the
//! terminal, a provider that never answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::time::{Duration, Instant};

use common::{code, env, ndjson, run, stderr, stdout};
use refund_core::{Provider, RefundStatus};
use refund_sandbox::{Fault, FaultRule, SandboxRefund};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extreme_flag_values_are_usage_errors_never_panics() {
    let env = env("extremes").await;
    let input = env.dir.join("ids.csv");
    std::fs::write(&input, "lookup,id\nrefund_id,WX-FAILED-1\n").unwrap();
    let input = input.display().to_string();
    let values = [
        "18446744073709551615s",
        "18446744073709551615h",
        "1e308",
        "1e-30",
        "NaN",
        "-1",
        "0",
        "",
    ];
    // Each flag, where it goes in a command line.
    let commands: [(&str, Vec<&str>); 6] = [
        ("--timeout", vec!["query", "cpos", "--refund-id", "x"]),
        ("--retries", vec!["query", "cpos", "--refund-id", "x"]),
        ("--interval", vec!["watch", "cpos", "--refund-id", "x"]),
        ("--max-wait", vec!["watch", "cpos", "--refund-id", "x"]),
        ("--rps", vec!["batch", "cpos", "--input", &input]),
        ("--concurrency", vec!["batch", "cpos", "--input", &input]),
    ];
    for (flag, command) in &commands {
        for value in values {
            if *flag == "--retries" && value == "0" {
                continue; // no retries is a fine choice
            }
            // `--flag=value`, so that `-1` is the flag's value, not another flag.
            let pair = format!("{flag}={value}");
            let mut args: Vec<&str> = command.clone();
            args.push(&pair);
            let o = env.run(&args).await;
            let err = stderr(&o);
            assert_eq!(code(&o), 2, "{flag} {value:?}: {err}");
            assert!(!err.contains("panicked"), "{flag} {value:?}: {err}");
            assert!(err.contains(flag), "{flag} {value:?} names the flag: {err}");
        }
    }
    // In range, they work.
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            "WX-FAILED-1",
            "--timeout",
            "1h",
            "--retries",
            "10",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_config_never_shows_its_secrets() {
    let env = env("config-secret").await;
    let secret = "hunter2-TOP-SECRET";
    let pem_line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7kZtB";
    let configs = [
        format!(
            "[cpos]\nbase_url = \"http://127.0.0.1:1\"\nsecret = \"{secret}\naccess_id = \"x\"\n"
        ),
        format!(
            "[openapi]\nprivate_key = \"\"\"\n-----BEGIN PRIVATE KEY-----\n{pem_line}\\x{pem_line}\n-----END PRIVATE KEY-----\n\"\"\"\n"
        ),
        format!("[cpos]\nresponse_signature = \"{secret}\"\n"),
        format!("[cpos]\n{secret} = 1\n"),
        format!("[cpos]\nbase_url = \"http://x\"\naccess_id = \"a\"\nsecret = [\"{secret}\"]\n"),
    ];
    for (i, text) in configs.iter().enumerate() {
        let path = env.dir.join(format!("broken-{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let o = run(&[
            "--config".into(),
            path.display().to_string(),
            "--format".into(),
            "json".into(),
            "query".into(),
            "cpos".into(),
            "--refund-id".into(),
            "x".into(),
        ])
        .await;
        let all = format!("{}{}", stdout(&o), stderr(&o));
        assert_eq!(code(&o), 2, "{i}: {all}");
        assert!(all.contains("line "), "{i}: names the line: {all}");
        assert!(!all.contains("TOP-SECRET"), "{i}: the secret leaked: {all}");
        assert!(!all.contains(pem_line), "{i}: key material leaked: {all}");
        // The layout is kept: the place on the first line, toml's reason indented below it.
        let err = stderr(&o);
        let lines: Vec<&str> = err.lines().collect();
        assert!(lines[0].ends_with("):"), "{i}: {err}");
        assert!(lines.len() >= 2 && lines[1].starts_with("  "), "{i}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_never_destroys_its_input_or_earlier_results() {
    let env = env("no-destroy").await;
    let input = env.dir.join("ids.csv");
    let text = "lookup,id\nrefund_id,WX-FAILED-1\nrefund_id,WX-UNKNOWN-1\n";
    std::fs::write(&input, text).unwrap();
    let symlink = env.dir.join("link.csv");
    let hardlink = env.dir.join("hard.csv");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    std::fs::hard_link(&input, &hardlink).unwrap();
    let dotted = env.dir.join(".").join("ids.csv");
    for output in [&input, &dotted, &symlink, &hardlink] {
        for extra in [&[][..], &["--overwrite"][..], &["--resume"][..]] {
            let mut args = vec![
                "batch",
                "cpos",
                "--input",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
            ];
            args.extend(extra);
            let o = env.run(&args).await;
            assert_eq!(code(&o), 2, "{}: {}", output.display(), stderr(&o));
            assert_eq!(
                std::fs::read_to_string(&input).unwrap(),
                text,
                "input untouched"
            );
        }
    }
    // Earlier results are not overwritten without --overwrite.
    let output = env.dir.join("out.ndjson");
    let (i, o) = (input.to_str().unwrap(), output.to_str().unwrap());
    let base = ["batch", "cpos", "--input", i, "--output", o];
    let with = |extra: &'static str| {
        let mut a = base.to_vec();
        if !extra.is_empty() {
            a.push(extra);
        }
        a
    };
    assert_eq!(code(&env.run(&with("")).await), 0);
    let first = std::fs::read_to_string(&output).unwrap();
    let o = env.run(&with("")).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("--overwrite"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), first);
    assert_eq!(code(&env.run(&with("--overwrite")).await), 0);
    assert_eq!(
        code(&env.run(&with("--resume")).await),
        0,
        "nothing left to do"
    );
    assert_eq!(std::fs::read_to_string(&output).unwrap().lines().count(), 2);
    // --resume on a file that is not this tool's output: refused, untouched.
    let foreign = "name,amount\nalice,5\n";
    std::fs::write(&output, foreign).unwrap();
    let o = env.run(&with("--resume")).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&output).unwrap(), foreign);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_is_not_fooled_by_quoted_newlines_and_redoes_a_torn_record() {
    let env = env("resume-csv").await;
    // A failure message with a comma, a quote and a newline: CSV quotes it over two lines.
    let mut r = SandboxRefund::new(Provider::Cpos, "WX-TRICKY-1", "1.00", RefundStatus::Failed);
    r.failure_code = Some("ERR".into());
    r.failure_message = Some("bank said: \"no\",\n2,refund_id,WX-FAKE".into());
    env.sandbox.upsert_refund(r).unwrap();
    let input = env.dir.join("ids.csv");
    std::fs::write(
        &input,
        "lookup,id\nrefund_id,WX-TRICKY-1\nrefund_id,WX-FAILED-1\n",
    )
    .unwrap();
    let output = env.dir.join("out.csv");
    let base = [
        "--format",
        "csv",
        "batch",
        "cpos",
        "--input",
        input.to_str().unwrap(),
        "--output",
        output.to_str().unwrap(),
        "--concurrency",
        "1",
    ];
    let with = |extra: &'static str| {
        let mut a = base.to_vec();
        if !extra.is_empty() {
            a.push(extra);
        }
        a
    };
    assert_eq!(code(&env.run(&with("")).await), 0);
    let full = std::fs::read_to_string(&output).unwrap();
    assert!(
        full.contains("\"bank said: \"\"no\"\",\n2,refund_id,WX-FAKE\""),
        "{full}"
    );
    // Kill simulation: cut the file inside the quoted message, right after its newline.
    let cut = full.find("2,refund_id,WX-FAKE").unwrap();
    std::fs::write(&output, &full[..cut]).unwrap();
    let o = env.run(&with("--resume")).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let resumed = std::fs::read_to_string(&output).unwrap();
    let mut reader = csv::Reader::from_reader(resumed.as_bytes());
    let mut lines: Vec<String> = reader
        .records()
        .map(|r| r.unwrap().get(0).unwrap().to_owned())
        .collect();
    lines.sort();
    assert_eq!(lines, vec!["2", "3"], "each input once: {resumed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_text_cannot_drive_the_terminal() {
    let env = env("terminal").await;
    let mut r = SandboxRefund::new(Provider::Cpos, "WX-EVIL-1", "1.00", RefundStatus::Failed);
    r.failure_code = Some("E\u{1b}[2J".into());
    r.failure_message = Some("ok\u{1b}]0;pwned\u{7}\nFAKE LINE \u{202e}txt.exe".into());
    env.sandbox.upsert_refund(r).unwrap();
    let o = env
        .run(&[
            "query",
            "cpos",
            "--refund-id",
            "WX-EVIL-1",
            "--format",
            "table",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let table = stdout(&o);
    for bad in ['\u{1b}', '\u{7}', '\u{202e}'] {
        assert!(
            !table.contains(bad),
            "{bad:?} reached the terminal: {table:?}"
        );
    }
    assert_eq!(table.lines().count(), 2, "no faked lines: {table}");
    assert!(table.contains("\\u{1b}[2J"), "{table}");
    // JSON stays exact.
    let o = env
        .run(&["query", "cpos", "--refund-id", "WX-EVIL-1"])
        .await;
    assert_eq!(ndjson(&o)[0]["failure_code"], "E\u{1b}[2J");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_keeps_its_deadline_whatever_the_timeout() {
    let env = env("watch-deadline").await;
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::NeverEnding));
    let started = Instant::now();
    let o = common::run(&[
        "--config".into(),
        env.config().display().to_string(),
        "--timeout".into(),
        "25s".into(),
        "watch".into(),
        "cpos".into(),
        "--refund-id".into(),
        "WX-UNKNOWN-1".into(),
        "--max-wait".into(),
        "2s".into(),
    ])
    .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_says_when_trouble_starts_and_ends_once_each() {
    let env = env("watch-trouble").await;
    // The first poll's three attempts meet HTTP 500; later polls are answered.
    env.sandbox
        .add_fault(FaultRule::provider(Provider::Cpos, Fault::Http500Html).times(3));
    let (o, took) = common::watch_never_final(&env, "200ms", "2s").await;
    let err = stderr(&o);
    assert_eq!(code(&o), 1, "{err}");
    assert_eq!(
        err.matches("polling again until the deadline").count(),
        1,
        "{err}"
    );
    assert!(err.contains("HTTP 500"), "{err}");
    assert_eq!(err.matches("cpos answers again").count(), 1, "{err}");
    assert!(took >= Duration::from_secs(2), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_an_interval_beyond_max_wait_polls_once_and_keeps_the_deadline() {
    let env = env("watch-once").await;
    let (o, took) = common::watch_never_final(&env, "30s", "1s").await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(ndjson(&o).len(), 1, "one poll, one line");
    assert!(
        took >= Duration::from_secs(1) && took < Duration::from_secs(5),
        "{took:?}"
    );
}

/// Starts `refund sandbox` with `args`; returns its exit code if it exits by itself, else its
/// first lines of output once it is listening (and stops it).
async fn sandbox_run(args: &[&str]) -> Result<String, (i32, String)> {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .arg("sandbox")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    let read = async {
        while let Ok(Some(line)) = lines.next_line().await {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("press Ctrl-C") {
                return true;
            }
        }
        false
    };
    let listening = tokio::time::timeout(Duration::from_secs(60), read)
        .await
        .unwrap_or(false);
    if listening {
        child.kill().await.unwrap();
        return Ok(seen);
    }
    let out = child.wait_with_output().await.unwrap();
    Err((code(&out), stderr(&out)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_never_overwrites_files_it_did_not_write() {
    let dir = std::env::temp_dir().join(format!("refund-sandbox-dir-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let d = dir.to_str().unwrap();
    // A user's own refund.toml: refused, untouched.
    let mine = "[cpos]\nbase_url = \"https://production.example\"\n";
    std::fs::write(dir.join("refund.toml"), mine).unwrap();
    let (code, err) = sandbox_run(&["--dir", d]).await.unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("refund.toml"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("refund.toml")).unwrap(),
        mine
    );
    assert!(!dir.join("keys").exists(), "nothing written when refusing");
    std::fs::remove_file(dir.join("refund.toml")).unwrap();
    // A fresh folder: written. A restart reuses it and says so.
    let first = sandbox_run(&["--dir", d]).await.unwrap();
    assert!(!first.contains("reusing"), "{first}");
    let secret = std::fs::read_to_string(dir.join("keys/cpos_secret.txt")).unwrap();
    let again = sandbox_run(&["--dir", d]).await.unwrap();
    assert!(again.contains("reusing the credentials"), "{again}");
    // Fresh keys over the earlier ones need --force.
    let (code, err) = sandbox_run(&["--dir", d, "--generate-keys"])
        .await
        .unwrap_err();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("keys/cpos_secret.txt")).unwrap(),
        secret
    );
    sandbox_run(&["--dir", d, "--generate-keys", "--force"])
        .await
        .unwrap();
    assert_ne!(
        std::fs::read_to_string(dir.join("keys/cpos_secret.txt")).unwrap(),
        secret
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_blank_id_is_a_usage_error_never_sent() {
    let env = env("blank-id").await;
    for id in ["", "   ", "\u{3000}"] {
        let o = env.run(&["query", "cpos", "--refund-id", id]).await;
        assert_eq!(code(&o), 2, "{id:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("refund_id"), "{}", stderr(&o));
    }
    assert_eq!(env.sandbox.request_count(refund_core::Provider::Cpos), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_offers_only_the_global_options_it_uses() {
    let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    // Help: the sandbox takes -v only; demo -v and --format; query all five.
    let help =
        |command: &'static str| async move { stdout(&run(&args(&[command, "--help"])).await) };
    let sandbox = help("sandbox").await;
    assert!(sandbox.contains("--verbose"), "{sandbox}");
    for absent in ["--format", "--config", "--timeout", "--retries"] {
        assert!(
            !sandbox.contains(absent),
            "sandbox offers {absent}: {sandbox}"
        );
    }
    let demo = help("demo").await;
    assert!(
        demo.contains("--format") && !demo.contains("--timeout"),
        "{demo}"
    );
    let query = help("query").await;
    for present in [
        "--config",
        "--timeout",
        "--retries",
        "--format",
        "--verbose",
    ] {
        assert!(query.contains(present), "query lacks {present}: {query}");
    }
    // After its name, an option a command does not take is a usage error; before it, a script
    // that puts the same options before every command keeps working: dropped, with a warning.
    let after = run(&args(&["sandbox", "--timeout", "2s"])).await;
    assert_eq!(code(&after), 2);
    assert!(stderr(&after).contains("--timeout"), "{}", stderr(&after));
    let before = run(&args(&[
        "--format",
        "json",
        "--retries",
        "1",
        "explain",
        "request",
        "cpos",
        "--refund-id",
        "X",
        "--config",
        "/nonexistent.toml",
    ]))
    .await;
    assert_eq!(code(&before), 2, "the missing config, not the ignored flag");
    let err = stderr(&before);
    assert!(
        err.contains("refund: warning: --retries does not apply to `refund explain`; ignored"),
        "{err}"
    );
    assert!(!err.contains("--format does not apply"), "{err}");
    assert!(err.contains("/nonexistent.toml"), "{err}");
    // `explain` takes its options between its name and `request` too.
    let between = run(&args(&[
        "explain",
        "--format",
        "json",
        "request",
        "cpos",
        "--refund-id",
        "X",
    ]))
    .await;
    assert!(
        !stderr(&between).contains("unexpected argument"),
        "{}",
        stderr(&between)
    );
}

#[test]
fn a_full_or_closed_stdout_is_an_error_never_a_panic() {
    let Ok(full) = std::fs::File::create("/dev/full") else {
        return; // not Linux: nothing to write into that is always full
    };
    let cases: [&[&str]; 2] = [
        &[
            "query",
            "cpos",
            "--refund-id",
            "X",
            "--format",
            "json",
            "--config",
            "/nonexistent.toml",
        ],
        &["demo", "--format", "ndjson"],
    ];
    for args in cases {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_refund"))
            .args(args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(matches!(o.status.code(), Some(1 | 2)), "{args:?}: {err}");
    }
}

/// #29.11–#29.14 and #29.18–#29.19: configuration errors say what is wrong, where, and never
/// quote a value that may be a secret.
#[tokio::test]
async fn configuration_errors_name_the_place_never_the_value() {
    let env = env("config-truth").await;
    let base = env.sandbox.base_url();
    let original = std::fs::read_to_string(env.config()).unwrap();
    let config = |name: &str, text: String| {
        let path = env.dir.join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let query = |config: String, provider: &'static str| async move {
        run(&[
            "--config".into(),
            config,
            "query".into(),
            provider.into(),
            "--refund-id".into(),
            "WX-FAILED-1".into(),
        ])
        .await
    };
    // Two sources for one credential: both lines named, the secret never.
    let both = config(
        "both.toml",
        original.replace(
            "secret_file = \"keys/cpos_secret.txt\"",
            "secret = \"hunter2-SECRET\"\nsecret_file = \"keys/cpos_secret.txt\"",
        ),
    );
    // Refused whichever provider the command uses: the file is wrong, not the query.
    for provider in ["cpos", "openapi"] {
        let o = query(both.clone(), provider).await;
        let err = stderr(&o);
        assert_eq!(code(&o), 2, "{provider}: {err}");
        assert!(
            err.contains("`secret` (line 18) and `secret_file` (line 19)"),
            "{provider}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }
    let keys = config(
        "keys.toml",
        original.replace(
            "private_key_file = \"keys/openapi_merchant.pem\"",
            "private_key = \"MIIE\"\nprivate_key_file = \"keys/openapi_merchant.pem\"",
        ),
    );
    let o = query(keys, "openapi").await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`private_key` (line 5) and `private_key_file` (line 6)"),
        "{}",
        stderr(&o)
    );
    // A base URL with user information is refused, named by line and rule, never printed.
    for url in [
        "http://user:hunter2-SECRET@127.0.0.1:1",
        "ftp://hunter2-SECRET.internal",
    ] {
        let text = original.replace(
            &format!("base_url = \"{base}\"\naccess_id"),
            &format!("base_url = \"{url}\"\naccess_id"),
        );
        assert_ne!(text, original);
        let path = config("url.toml", text);
        for args in [
            vec!["query", "cpos", "--refund-id", "WX-FAILED-1", "-vvv"],
            vec!["explain", "request", "cpos", "--refund-id", "WX-FAILED-1"],
        ] {
            let mut all = vec!["--config".to_owned(), path.clone()];
            all.extend(args.iter().map(|s| (*s).to_owned()));
            let o = run(&all).await;
            let (out, err) = (stdout(&o), stderr(&o));
            assert_eq!(code(&o), 2, "{args:?}: {err}");
            assert!(err.contains("line 16: [cpos] `base_url` must"), "{err}");
            assert!(
                !err.contains("hunter2") && !out.contains("hunter2"),
                "{err}{out}"
            );
        }
    }
    // A private key that does not parse: the place and the forms, no piece of the key.
    let broken = config(
        "broken-key.toml",
        original.replace(
            "private_key_file = \"keys/openapi_merchant.pem\"",
            "private_key = \"\"\"\n-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgk$hunter2SECRET\n-----END PRIVATE KEY-----\n\"\"\"",
        ),
    );
    let o = query(broken, "openapi").await;
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("`private_key` (config file"), "{err}");
    assert!(err.contains("line 5)"), "{err}");
    assert!(err.contains("expected PEM (PKCS#8"), "{err}");
    assert!(
        !err.contains('$') && !err.contains("hunter2") && !err.contains("offset"),
        "{err}"
    );
    std::fs::write(
        env.dir.join("keys/bad.pem"),
        "-----BEGIN PRIVATE KEY-----\n$$$$\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let file = config(
        "bad-file.toml",
        original.replace("keys/openapi_merchant.pem", "keys/bad.pem"),
    );
    let o = query(file, "openapi").await;
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(err.contains("keys/bad.pem") && !err.contains('$'), "{err}");
    // #29.19: a key of backticks is not echoed (the cli_config regression).
    let tick = config("tick.toml", "[\"`SECRET\"]\n".to_owned());
    let o = query(tick, "cpos").await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(!stderr(&o).contains("SECRET"), "{}", stderr(&o));
    // #29.18: the cli_flags regression is a usage error naming the range.
    for flag in ["--timeout", "--interval", "--max-wait"] {
        let o = run(&[
            "watch".into(),
            "cpos".into(),
            "--refund-id".into(),
            "x".into(),
            format!("{flag}=18446744073709551615.5s0.5s"),
        ])
        .await;
        assert_eq!(code(&o), 2, "{flag}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("out of range"),
            "{flag}: {}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("panicked"), "{flag}: {}", stderr(&o));
    }
}
