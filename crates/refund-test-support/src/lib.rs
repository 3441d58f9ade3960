//! Test helpers shared by the refunds-rs crates: reading `fixtures/`, looping over a fixture
//! folder, turning an outcome into a snapshot value, and a prepared request as raw HTTP text.
//!
//! A dev-dependency only (`publish = false`); it depends on nothing but `refund-core`, so a
//! provider crate's dependency tree stays its own.
//!
//! ```
//! let secret = refund_test_support::fixture_text("keys/cpos_secret.txt");
//! assert!(!secret.trim().is_empty());
//! ```
#![forbid(unsafe_code)]
// Test support fails loudly, naming the fixture: a missing fixture must stop the test.
#![allow(clippy::panic)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

use std::path::{Path, PathBuf};

use refund_core::{Error, PreparedRequest};
use serde_json::{Value, json};

/// The repository's `fixtures/` folder.
///
/// ```
/// assert!(refund_test_support::fixtures_dir().join("keys").is_dir());
/// ```
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// The bytes of `fixtures/<path>`; panics with the path when it cannot be read (tests only).
///
/// ```
/// assert!(!refund_test_support::fixture("cpos/responses/seed_resigned.json").is_empty());
/// ```
pub fn fixture(path: &str) -> Vec<u8> {
    let full = fixtures_dir().join(path);
    std::fs::read(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// The text of `fixtures/<path>`.
///
/// ```
/// assert!(refund_test_support::fixture_text("keys/edgeros_platform.pub.pem").starts_with("-----BEGIN"));
/// ```
pub fn fixture_text(path: &str) -> String {
    String::from_utf8_lossy(&fixture(path)).into_owned()
}

/// Every file (or, with `dirs`, every folder) directly in `fixtures/<folder>`, sorted by name, as
/// `(stem, path)`; panics if there are fewer than `at_least` (a lost fixture folder must not
/// pass as "nothing to test").
///
/// ```
/// let cases = refund_test_support::fixture_entries("cpos/sign", true, 3);
/// assert!(cases.iter().any(|(name, _)| name == "wechat-v2-vector"));
/// ```
pub fn fixture_entries(folder: &str, dirs: bool, at_least: usize) -> Vec<(String, PathBuf)> {
    let dir = fixtures_dir().join(folder);
    let mut entries: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() == dirs)
        .filter(|p| dirs || p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let stem = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (stem, p)
        })
        .collect();
    entries.sort();
    assert!(
        entries.len() >= at_least,
        "{}: {} entries, expected at least {at_least}",
        dir.display(),
        entries.len()
    );
    entries
}

/// `{"ok": value}` or `{"error": {kind, message, provider, code}}`: what snapshots record.
///
/// ```
/// let v = refund_test_support::outcome::<u8>(Err(refund_core::Error::missing_setting("x")));
/// assert_eq!(v["error"]["kind"], "config");
/// ```
pub fn outcome<T: serde::Serialize>(result: Result<T, Error>) -> Value {
    match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": e }),
    }
}

/// A prepared request as a person reads it on the wire: the request line, the headers, a blank
/// line and the body.
///
/// ```
/// let r = refund_core::PreparedRequest::json_post("http://h:1/api/x?a=1".into(), b"{}".to_vec());
/// assert_eq!(refund_test_support::http_text(&r), "POST http://h:1/api/x?a=1\ncontent-type: application/json\naccept: application/json\n\n{}");
/// ```
pub fn http_text(request: &PreparedRequest) -> String {
    let mut out = format!("{} {}\n", request.method.as_str(), request.url);
    for (name, value) in &request.headers {
        out.push_str(name);
        out.push_str(": ");
        out.push_str(value);
        out.push('\n');
    }
    out.push('\n');
    if let Some(body) = &request.body {
        out.push_str(&String::from_utf8_lossy(body));
    }
    out
}

/// The lookup a response fixture answers, from `fixtures/<provider>/lookups.json` (the fixture's
/// own entry, else `default`): binding is checked against it.
///
/// ```
/// let lookup = refund_test_support::fixture_lookup("openapi", "seed_success");
/// assert_eq!(lookup.kind(), refund_core::LookupKind::OriginalTransactionId);
/// ```
pub fn fixture_lookup(provider: &str, fixture_name: &str) -> refund_core::RefundLookup {
    let table: Value = serde_json::from_slice(&fixture(&format!("{provider}/lookups.json")))
        .unwrap_or_else(|e| panic!("{provider}/lookups.json: {e}"));
    let entry = table
        .get(fixture_name)
        .or_else(|| table.get("default"))
        .unwrap_or_else(|| panic!("{provider}/lookups.json has no default"));
    serde_json::from_value(entry.clone())
        .unwrap_or_else(|e| panic!("{provider}/lookups.json {fixture_name}: {e}"))
}

/// An answer's explanation in both forms (the text layout, then the JSON) for one snapshot,
/// after asserting that it ends exactly where `parse_response` ended on the same bytes.
///
/// ```
/// # use refund_core::{RefundLookup, protocol};
/// # use refund_core::example::Echo;
/// let lookup = RefundLookup::refund_id("R1");
/// let text = refund_test_support::explained(
///     &protocol::explain_response(&Echo, &lookup, br#"{"id":"R1","cents":5}"#),
///     &protocol::parse_response(&Echo, &lookup, br#"{"id":"R1","cents":5}"#),
/// );
/// assert!(text.starts_with("openapi answer for refund_id R1"));
/// ```
pub fn explained(
    explanation: &refund_core::explain::ResponseExplanation,
    parsed: &Result<Vec<refund_core::Refund>, Error>,
) -> String {
    assert_eq!(
        format!("{:?}", explanation.result),
        format!("{parsed:?}"),
        "the explanation must end exactly where parse_response does"
    );
    both_forms(explanation)
}

/// A request's explanation in both forms (the text layout, then the JSON) for one snapshot, after
/// asserting that the request it shows is exactly the one `prepare` builds from the same inputs.
///
/// ```
/// use refund_core::{explain::RequestExplanation, PreparedRequest, Provider, RefundLookup};
/// let request = PreparedRequest::json_post("http://127.0.0.1:1/q".into(), b"{}".to_vec());
/// let e = RequestExplanation::new(Provider::Cpos, &RefundLookup::refund_id("R1"), request.clone(), None);
/// assert!(refund_test_support::explained_request(&e, &request).contains("POST http://127.0.0.1:1/q"));
/// ```
pub fn explained_request(
    explanation: &refund_core::explain::RequestExplanation,
    prepared: &PreparedRequest,
) -> String {
    assert_eq!(
        &explanation.request, prepared,
        "the explained request must be the prepared one, byte for byte"
    );
    both_forms(explanation)
}

/// An explanation's text layout, then its JSON: the two forms one snapshot holds.
fn both_forms(explanation: &(impl std::fmt::Display + serde::Serialize)) -> String {
    let json = serde_json::to_string_pretty(explanation)
        .unwrap_or_else(|e| panic!("an explanation serialises: {e}"));
    format!("{explanation}--- json\n{json}\n")
}

/// Runs one of this workspace's example binaries (built by `cargo test` beside the test binary,
/// in `target/<profile>/examples/`) with `env` and `args`, and returns its stdout; a failure
/// (or a missing binary) panics with the example's stderr.
///
/// ```no_run
/// let out = refund_test_support::run_example("cpos_query", &[("REFUND_CPOS_BASE_URL", "http://127.0.0.1:1")], &["WX1"]);
/// ```
pub fn run_example(name: &str, env: &[(&str, &str)], args: &[&str]) -> String {
    let exe = std::env::current_exe().unwrap_or_else(|e| panic!("the test binary's path: {e}"));
    // target/<profile>/deps/<test> → target/<profile>/examples/<name>
    let path = exe
        .parent()
        .and_then(Path::parent)
        .map(|profile| profile.join("examples").join(name))
        .unwrap_or_else(|| panic!("{} is not in target/<profile>/deps", exe.display()));
    let output = std::process::Command::new(&path)
        .env_clear()
        .envs(env.iter().copied())
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} (built by `cargo test`): {e}", path.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
