//! Shared by the CLI's end-to-end tests: a sandbox with written credentials, and the real
//! `refund` binary.
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::process::Output;

use refund_sandbox::{Sandbox, SandboxBuilder, SandboxHandle, Scenario};
use serde_json::Value;

pub struct Env {
    pub sandbox: SandboxHandle,
    pub dir: PathBuf,
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A sandbox (the example scenario, synthetic `auto-` ids) and its credentials in a fresh folder.
pub async fn env(name: &str) -> Env {
    let mut scenario =
        Scenario::from_toml(&refund_test_support::fixture_text("sandbox/scenario.toml")).unwrap();
    scenario.synthetic_prefix = Some("auto-".into());
    env_built(name, Sandbox::builder().scenario(scenario)).await
}

/// A sandbox built by `builder`, and its credentials in a fresh folder.
pub async fn env_built(name: &str, builder: SandboxBuilder) -> Env {
    let sandbox = builder.start().await.unwrap();
    let dir = std::env::temp_dir().join(format!("refund-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    sandbox.write_credentials(&dir).unwrap();
    Env { sandbox, dir }
}

impl Env {
    pub fn config(&self) -> PathBuf {
        self.dir.join("refund.toml")
    }

    /// The binary with this sandbox's config and a 3 s deadline, then `args`.
    pub async fn run(&self, args: &[&str]) -> Output {
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

/// The binary with exactly `args` (and no CPOS secret from the environment).
pub async fn run(args: &[String]) -> Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .args(args)
        .env_remove("REFUND_CPOS_SECRET")
        .output()
        .await
        .unwrap()
}

/// `refund sandbox ARGS…` in the background, once it says it is listening (within 60 s).
#[allow(dead_code)] // Not every test file starts the command.
pub async fn sandbox_command(args: &[&std::ffi::OsStr]) -> tokio::process::Child {
    use tokio::io::AsyncBufReadExt as _;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_refund"))
        .arg("sandbox")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if line.contains("press Ctrl-C") {
                return true;
            }
        }
        false
    })
    .await
    .unwrap_or(false);
    assert!(listening, "the sandbox did not start");
    child
}

pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn ndjson(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `refund watch` on a refund that never becomes final, and how long it took.
pub async fn watch_never_final(
    env: &Env,
    interval: &str,
    max_wait: &str,
) -> (Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let o = env
        .run(&[
            "watch",
            "cpos",
            "--refund-id",
            "WX-UNKNOWN-1",
            "--interval",
            interval,
            "--max-wait",
            max_wait,
        ])
        .await;
    (o, started.elapsed())
}
