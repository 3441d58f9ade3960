//! #32 end to end through the binary against the sandbox: one ledger across the three providers
//! (a line naming none, one naming an unknown provider, a provider without configuration), each
//! provider paced on its own, and `--resume` of a mixed run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use common::{Env, code, ndjson, stderr};
use refund_sandbox::{Fault, FaultRule};
use serde_json::Value;

/// Three providers in one ledger, the `provider` column in any case and spacing, with the
/// verdict each line must get (by line number).
const MIXED: &str = "provider,lookup,id,amount,currency,status,requested_at,note\n\
openapi,refund_id,1818566685947465728,100.00,CNY,succeeded,,a\n\
 EdgerOS ,refund_id,AR202112151405438637829842922855012187,0.01,CNY,,,b\n\
cpos,refund_id,WX200324161500830790814539,0.50,CNY,,,c\n\
CPOS,refund_id,WX-FAILED-1,2.00,CNY,succeeded,,d\n\
edgeros,refund_id,AR-TIMELINE-1,4.00,CNY,,,e\n\
,refund_id,X-NO-PROVIDER,1.00,CNY,,,f\n\
paypal,refund_id,X-UNKNOWN,1.00,CNY,,,g\n\
cpos,refund_id,NOPE-9,1.00,CNY,,,h\n\
OpenApi,refund_id,OA-PENDING-1,12.34,CNY,processing,2024-08-01 10:00:00,i\n\
cpos,refund_id,WX200324161500830790814539,0.50,HKD,,,j\n\
openapi,original_transaction_id,CU51856318914782320,150.00,CNY,,,k\n\
openapi,refund_id,OA-REVIEW-1,1.00,CNY,,,l\n";

fn mixed_verdicts() -> BTreeMap<u64, (&'static str, Option<&'static str>)> {
    BTreeMap::from([
        (2, ("match", Some("openapi"))),
        (3, ("match", Some("edgeros"))),
        (4, ("match", Some("cpos"))),
        (5, ("status_mismatch", Some("cpos"))),
        (6, ("amount_mismatch", Some("edgeros"))),
        (7, ("error", None)),
        (8, ("error", None)),
        (9, ("missing", Some("cpos"))),
        (10, ("stuck", Some("openapi"))),
        (11, ("currency_mismatch", Some("cpos"))),
        (12, ("multiple", Some("openapi"))),
        (13, ("untrusted", Some("openapi"))),
    ])
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The sandbox's `refund.toml` without the `[section]` table, written beside it: the path.
fn config_without(env: &Env, section: &str) -> String {
    let text = std::fs::read_to_string(env.config()).unwrap();
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('[') {
            skipping = line.trim() == format!("[{section}]");
        }
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    write(env, &format!("without-{section}.toml"), &kept)
}

/// Rows by ledger line.
fn by_line(rows: &[Value]) -> BTreeMap<u64, Vec<Value>> {
    let mut out: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for row in rows {
        out.entry(row["line"].as_u64().unwrap())
            .or_default()
            .push(row.clone());
    }
    out
}

fn read_ndjson(path: &str) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn one_ledger_across_providers_gets_every_verdict() {
    let env = common::env("ledgers-mixed").await;
    // A genuine answer about another refund: untrusted.
    env.sandbox.add_fault(FaultRule::refund_id(
        "OA-REVIEW-1",
        Fault::AnswerFor {
            refund_id: "OA-CANCEL-1".into(),
        },
    ));
    let ledger = write(&env, "books.csv", MIXED);
    let output = env.dir.join("out.ndjson").display().to_string();
    let report = env.dir.join("report.html").display().to_string();
    let o = env
        .run(&[
            "reconcile",
            "--ledger",
            &ledger,
            "--output",
            &output,
            "--report",
            &report,
        ])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows = by_line(&read_ndjson(&output));
    for (line, (verdict, provider)) in mixed_verdicts() {
        let row = &rows[&line][0];
        assert_eq!(row["verdict"], verdict, "line {line}: {row}");
        assert_eq!(
            row["provider"].as_str(),
            provider,
            "line {line}: provider {row}"
        );
        // `provider` is the line's provider, never carried as a ledger column.
        assert!(row.get("ledger_provider").is_none(), "{row}");
        assert!(row.get("note").is_some(), "{row}");
    }
    for (line, named) in [(7, "names no provider"), (8, "\"paypal\"")] {
        let error = &rows[&line][0]["error"];
        assert_eq!(error["kind"], "invalid_input", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(named),
            "{error}"
        );
    }
    // The summary: totals per provider.
    let err = stderr(&o);
    assert!(
        err.contains("  cpos: 4 lines: 1 match, 1 currency_mismatch, 1 status_mismatch, 1 missing"),
        "{err}"
    );
    assert!(
        err.contains("  edgeros: 2 lines: 1 match, 1 amount_mismatch"),
        "{err}"
    );
    assert!(
        err.contains("  openapi: 4 lines: 1 match, 1 stuck, 1 multiple, 1 untrusted"),
        "{err}"
    );
    assert!(err.contains("  no provider: 2 lines: 2 error"), "{err}");
    // The report: every provider in the heading, a totals table per provider, and the
    // discrepancy table names each line's provider.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("<td>cpos, edgeros, openapi</td>"), "{html}");
    let per_provider = &html[html.find("<table id=\"provider_totals\"").unwrap()..];
    let per_provider = &per_provider[..per_provider.find("</table>").unwrap()];
    for (provider, verdict) in [
        ("openapi", "stuck"),
        ("edgeros", "amount_mismatch"),
        ("cpos", "missing"),
    ] {
        assert!(
            per_provider.contains(&format!(
                "<tr data-provider=\"{provider}\" data-verdict=\"{verdict}\""
            )),
            "{per_provider}"
        );
    }
    let table = &html[html.find("<table id=\"discrepancies\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert!(table.contains("<th>provider</th>"), "{table}");
    let status_row = table
        .split("<tr>")
        .find(|r| r.contains("WX-FAILED-1"))
        .unwrap();
    assert!(status_row.contains("<td>cpos</td>"), "{status_row}");

    // The provider argument with a provider column: a line naming another provider is not
    // sent; a line naming none goes to the argument's provider.
    let o = env
        .run(&[
            "--format",
            "ndjson",
            "reconcile",
            "cpos",
            "--ledger",
            &ledger,
        ])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows = by_line(&ndjson(&o));
    let other = &rows[&3][0];
    assert_eq!(other["provider"], "edgeros", "{other}");
    assert_eq!(other["error"]["kind"], "invalid_input", "{other}");
    assert!(
        other["error"]["message"]
            .as_str()
            .unwrap()
            .contains("queries cpos only"),
        "{other}"
    );
    assert_eq!(rows[&4][0]["verdict"], "match");
    // No provider named: the run's; it does not know that id.
    assert_eq!(rows[&7][0]["provider"], "cpos");
    assert_eq!(rows[&7][0]["verdict"], "missing");
    assert!(rows[&8][0]["provider"].is_null());

    // Without a provider's section: its lines are `config` errors, said once on stderr; the
    // others run.
    let config = config_without(&env, "openapi");
    let o = common::run(&[
        "--config".into(),
        config,
        "--format".into(),
        "ndjson".into(),
        "reconcile".into(),
        "--ledger".into(),
        ledger.clone(),
    ])
    .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("no [openapi] section").count(), 1, "{err}");
    let rows = by_line(&ndjson(&o));
    for line in [2, 10, 12, 13] {
        let row = &rows[&line][0];
        assert_eq!(row["provider"], "openapi", "{row}");
        assert_eq!(row["verdict"], "error", "{row}");
        assert_eq!(row["error"]["kind"], "config", "{row}");
    }
    assert_eq!(rows[&3][0]["verdict"], "match");
    assert_eq!(rows[&4][0]["verdict"], "match");

    // A CSV ledger without a provider column needs the argument.
    let plain = write(
        &env,
        "plain.csv",
        "lookup,id,amount,currency\nrefund_id,WX-FAILED-1,2.00,CNY\n",
    );
    let o = env.run(&["reconcile", "--ledger", &plain]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("`provider`"), "{}", stderr(&o));
}

/// `batch` takes a mixed input too; each provider has its own workers, so a provider that
/// answers slowly does not hold the others' lines back (here one in-flight query each: the
/// slow EdgerOS answer comes last although its line is first).
#[tokio::test]
async fn a_slow_provider_does_not_hold_the_others_back() {
    let env = common::env("ledgers-pace").await;
    env.sandbox.add_fault(FaultRule::refund_id(
        "AR-TIMELINE-1",
        Fault::Latency { ms: 1_500 },
    ));
    let mut input = String::from(
        "{\"provider\":\"edgeros\",\"lookup\":\"refund_id\",\"id\":\"AR-TIMELINE-1\"}\n",
    );
    for _ in 0..20 {
        input.push_str(
            "{\"provider\":\"cpos\",\"lookup\":\"refund_id\",\"id\":\"WX200324161500830790814539\"}\n",
        );
    }
    input.push_str("{\"lookup\":\"refund_id\",\"id\":\"X\"}\n");
    let path = write(&env, "ids.ndjson", &input);
    let o = env
        .run(&[
            "--format",
            "ndjson",
            "batch",
            "--input",
            &path,
            "--concurrency",
            "1",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = ndjson(&o);
    assert_eq!(rows.len(), 22);
    let last = rows.iter().rfind(|r| r["provider"].is_string()).unwrap();
    assert_eq!(last["id"], "AR-TIMELINE-1", "{rows:?}");
    let unnamed = rows.iter().find(|r| r["line"] == 22).unwrap();
    assert!(unnamed["provider"].is_null(), "{unnamed}");
    assert_eq!(unnamed["error"]["kind"], "invalid_input");
    let err = stderr(&o);
    assert!(
        err.contains("  cpos: 20 lookups, 20 refunds found, 0 failed; succeeded 10.00 CNY"),
        "{err}"
    );
    assert!(
        err.contains("  no provider: 1 lookups, 0 refunds found, 1 failed"),
        "{err}"
    );
}

/// A mixed run killed mid-way and resumed: every ledger line answered exactly once.
#[tokio::test]
async fn a_mixed_run_resumes_like_any_other() {
    let env = common::env("ledgers-resume").await;
    let output = env.dir.join("out.csv").display().to_string();
    let ledger = write(&env, "books.csv", MIXED);
    // A first run that answered lines 2 to 5 (and was cut in the middle of a record).
    let mut args = vec![
        "--format",
        "csv",
        "reconcile",
        "--ledger",
        &ledger,
        "--output",
        &output,
    ];
    let o = env.run(&args).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let full = std::fs::read_to_string(&output).unwrap();
    let lines_of = |text: &str| {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut lines: Vec<u64> = reader
            .records()
            .map(|r| r.unwrap()[0].parse().unwrap())
            .collect();
        lines.sort_unstable();
        lines
    };
    let uninterrupted = lines_of(&full);
    let mut reader = csv::Reader::from_reader(full.as_bytes());
    let header = reader.headers().unwrap().clone();
    let mut kept = csv::Writer::from_writer(Vec::new());
    kept.write_record(&header).unwrap();
    for record in reader.records().map(Result::unwrap) {
        let line: u64 = record[0].parse().unwrap();
        if line <= 5 {
            kept.write_record(&record).unwrap();
        }
    }
    let mut text = String::from_utf8(kept.into_inner().unwrap()).unwrap();
    text.push_str("9,refund_id,NOPE");
    std::fs::write(&output, &text).unwrap();
    args.push("--resume");
    let o = env.run(&args).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(4 answered by an earlier run)"),
        "{}",
        stderr(&o)
    );
    // Nothing lost or duplicated: the rows of an uninterrupted run, line for line (a
    // `multiple` line has two).
    let resumed = lines_of(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(resumed, uninterrupted);
    assert!(resumed.contains(&13));
}
