//! `refund reconcile` end to end: the real binary against the sandbox, a ledger that yields every
//! verdict, the output in both formats, `--resume`, and the HTML report parsed back.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;

use common::{Env, code, ndjson, stderr, stdout};
use refund_sandbox::{Fault, FaultRule, Scenario};
use serde_json::Value;

/// The ledger: one line per verdict (and one carrying hostile text), the expected verdicts by
/// line number.
const LEDGER: &str = "lookup,id,amount,currency,status,requested_at,order_no,note\n\
refund_id,1818566685947465728,100.00,CNY,succeeded,,O-1,\"a, \"\"quoted\"\" note\"\n\
refund_id,1818566685947465728,99.99,CNY,,,O-2,\n\
refund_id,1818566685947465728,100.00,HKD,,,O-3,\n\
refund_id,OA-CANCEL-1,5.00,CNY,succeeded,,O-4,\n\
refund_id,OA-PENDING-1,12.34,CNY,processing,2024-08-01 10:00:00,O-5,\n\
refund_id,NOPE-1,1.00,CNY,,,O-6,\n\
original_transaction_id,CU51856318914782320,150.00,CNY,,,O-7,\n\
refund_id,OA-REVIEW-1,1.00,CNY,,,O-8,\n\
refund_id,auto-broken-1,1.00,CNY,,,O-9,\n\
original_transaction_id,CU51856318914782320,100.00,CNY,,,O-10,\n\
refund_id,OA-HOSTILE-1,7.00,CNY,succeeded,,O-11,<script>alert(1)</script>\n\
refund_id,OA-X,1.001,CNY,,,O-12,\n";

fn expected() -> BTreeMap<u64, &'static str> {
    BTreeMap::from([
        (2, "match"),
        (3, "amount_mismatch"),
        (4, "currency_mismatch"),
        (5, "status_mismatch"),
        (6, "stuck"),
        (7, "missing"),
        (8, "multiple"),
        (9, "untrusted"),
        (10, "error"),
        // A failed attempt beside the good one: the 100.00 that moved matches the books.
        (11, "match"),
        (12, "status_mismatch"),
        // 1.001 has sub-fen precision: an unusable ledger line.
        (13, "error"),
    ])
}

async fn sandbox(name: &str) -> Env {
    let env = common::env(name).await;
    // A refund whose provider text is hostile markup, failed while the books say succeeded.
    let hostile = Scenario::from_toml(
        "[[refunds]]\nprovider = \"openapi\"\nrefund_id = \"OA-HOSTILE-1\"\namount = \"7.00\"\nstatus = \"failed\"\nfailure_code = \"<b>E1</b>\"\nfailure_message = \"<img src=x onerror=alert(1)> & \\\"more\\\"\"\n",
    )
    .unwrap();
    env.sandbox
        .upsert_refund(hostile.refunds.into_iter().next().unwrap())
        .unwrap();
    // A genuine answer about another refund (untrusted), and a provider error page (error).
    env.sandbox.add_fault(FaultRule::refund_id(
        "OA-REVIEW-1",
        Fault::AnswerFor {
            refund_id: "OA-CANCEL-1".into(),
        },
    ));
    env.sandbox
        .add_fault(FaultRule::refund_id("auto-broken-1", Fault::Http500Html));
    env
}

fn write(env: &Env, name: &str, text: &str) -> String {
    let path = env.dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// `refund reconcile <provider> --ledger <ledger>` into `out.ndjson` with `report.html` in the
/// test's folder (and `extra` flags): the run, and the two paths.
async fn reconcile_with_report(
    env: &Env,
    provider: &str,
    ledger: &str,
    extra: &[&str],
) -> (std::process::Output, String, String) {
    let output = env.dir.join("out.ndjson").display().to_string();
    let report = env.dir.join("report.html").display().to_string();
    let mut args = vec![
        "reconcile",
        provider,
        "--ledger",
        ledger,
        "--output",
        &output,
        "--report",
        &report,
    ];
    args.extend_from_slice(extra);
    let o = env.run(&args).await;
    (o, output, report)
}

/// Verdicts per ledger line, checking that every row of one line carries the same one.
fn verdicts(rows: &[Value]) -> BTreeMap<u64, String> {
    let mut out = BTreeMap::new();
    for row in rows {
        let line = row["line"].as_u64().unwrap();
        let verdict = row["verdict"].as_str().unwrap().to_owned();
        if let Some(seen) = out.insert(line, verdict.clone()) {
            assert_eq!(seen, verdict, "line {line}: one verdict per ledger line");
        }
    }
    out
}

#[tokio::test]
async fn every_verdict_end_to_end_with_the_report() {
    let env = sandbox("reconcile-all").await;
    let ledger = write(&env, "ledger.csv", LEDGER);
    let (o, output, report) =
        reconcile_with_report(&env, "openapi", &ledger, &["--retries", "0"]).await;
    assert_eq!(code(&o), 1, "a discrepancy exits 1: {}", stderr(&o));
    let rows: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got = verdicts(&rows);
    let want: BTreeMap<u64, String> = expected()
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect();
    assert_eq!(got, want);
    for verdict in [
        "match",
        "amount_mismatch",
        "currency_mismatch",
        "status_mismatch",
        "stuck",
        "missing",
        "multiple",
        "untrusted",
        "error",
    ] {
        assert!(got.values().any(|v| v == verdict), "{verdict} is covered");
    }
    let line = |n: u64| rows.iter().find(|r| r["line"] == n).unwrap();
    // The books' side, exact, and the difference provider − books.
    assert_eq!(line(3)["expected_amount"], "99.99");
    assert_eq!(line(3)["difference"], "0.01");
    assert_eq!(line(8)["difference"], "-50.00");
    assert!(
        line(4)["difference"].is_null(),
        "no difference across currencies"
    );
    assert_eq!(line(6)["requested_at"], "2024-08-01T02:00:00Z");
    // Extra ledger columns are carried through untouched.
    assert_eq!(line(2)["order_no"], "O-1");
    assert_eq!(line(2)["note"], "a, \"quoted\" note");
    assert_eq!(line(12)["note"], "<script>alert(1)</script>");
    // Every batch field is there too.
    for field in [
        "provider",
        "refund_id",
        "status",
        "provider_status",
        "amount",
        "signature",
        "error",
    ] {
        assert!(line(2).get(field).is_some(), "{field}");
    }
    assert_eq!(line(13)["error"]["kind"], "invalid_input");

    // The report, parsed back: its numbers are the output's.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(
        !html.contains("<script") && !html.contains("<img"),
        "provider text is escaped"
    );
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt; &amp; &quot;more&quot;"));
    assert!(
        !html.contains("src=\"http") && !html.contains("<link"),
        "self-contained"
    );
    let span = |id: &str| -> u64 {
        let start = html.find(&format!("<span id=\"{id}\">")).unwrap() + id.len() + 12;
        html[start..].split('<').next().unwrap().parse().unwrap()
    };
    assert_eq!(span("lines"), want.len() as u64);
    assert_eq!(
        span("discrepancies"),
        want.values().filter(|v| v.as_str() != "match").count() as u64
    );
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for v in want.values() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let svg = &html[html.find("<svg id=\"verdicts\"").unwrap()..];
    let svg = &svg[..svg.find("</svg>").unwrap()];
    for (verdict, n) in &counts {
        assert!(
            svg.contains(&format!("data-label=\"{verdict}\" data-count=\"{n}\"")),
            "{verdict}: {n}"
        );
    }
    // Totals: the lines per verdict across currencies add up to the output's.
    let mut totals: BTreeMap<String, u64> = BTreeMap::new();
    let totals_table = &html[html.find("<table id=\"totals\"").unwrap()..];
    let totals_table = &totals_table[..totals_table.find("</table>").unwrap()];
    for tr in totals_table.split("<tr data-verdict=\"").skip(1) {
        let verdict = tr.split('"').next().unwrap().to_owned();
        let cells: Vec<&str> = tr.split("<td class=\"n\">").skip(1).collect();
        let lines: u64 = cells[0].split('<').next().unwrap().parse().unwrap();
        *totals.entry(verdict).or_default() += lines;
    }
    let counts: BTreeMap<String, u64> =
        counts.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    assert_eq!(totals, counts);
    // #29.10: the report names what was compared, and shows the books' own references.
    for shown in [
        "<th>provider</th><td>openapi</td>",
        "<th>ledger</th><td>ledger.csv</td>",
        "<th>--stuck-after</th><td>72h</td>",
        concat!("<td>refund ", env!("CARGO_PKG_VERSION"), "</td>"),
        "<th class=\"ledger\">order_no</th><th class=\"ledger\">note</th>",
        "<td>O-11</td><td>&lt;script&gt;alert(1)&lt;/script&gt;</td>",
    ] {
        assert!(html.contains(shown), "{shown}: {html}");
    }
    // The stuck refund is in the age histogram's oldest bucket.
    assert!(
        html.contains("data-label=\"&gt; 30 d\" data-count=\"1\""),
        "{html}"
    );
}

#[tokio::test]
async fn csv_output_resume_and_an_all_match_ledger() {
    let env = sandbox("reconcile-csv").await;
    let ledger = write(&env, "ledger.csv", LEDGER);
    let output = env.dir.join("out.csv").display().to_string();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "--format",
            "csv",
            "reconcile",
            "openapi",
            "--ledger",
            &ledger,
            "--output",
            &output,
            "--retries",
            "0",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(str::to_owned).collect::<Vec<String>>()
    };
    let run = |a: Vec<String>| {
        let env = &env;
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            env.run(&refs).await
        }
    };
    let o = run(args(&[])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let read = || {
        let mut r = csv::Reader::from_path(&output).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<BTreeMap<String, String>> = r
            .records()
            .map(|rec| {
                header
                    .iter()
                    .cloned()
                    .zip(rec.unwrap().iter().map(str::to_owned))
                    .collect()
            })
            .collect();
        (header, rows)
    };
    let (header, rows) = read();
    assert_eq!(&header[..3], ["line", "lookup", "id"]);
    let tail: Vec<&str> = header[header.len() - 8..]
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        tail,
        [
            "verdict",
            "expected_amount",
            "expected_currency",
            "expected_status",
            "difference",
            "requested_at",
            "order_no",
            "note"
        ]
    );
    let as_values: Vec<Value> = rows
        .iter()
        .map(|r| {
            let mut v = serde_json::to_value(r).unwrap();
            v["line"] = r["line"].parse::<u64>().unwrap().into();
            v
        })
        .collect();
    let first = verdicts(&as_values);
    assert_eq!(first.len(), expected().len());

    // A run killed after a few lines: --resume answers only the rest, each line once.
    let text = std::fs::read_to_string(&output).unwrap();
    let kept: String = text.lines().take(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&output, kept).unwrap();
    let o = run(args(&["--resume"])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("answered by an earlier run"),
        "{}",
        stderr(&o)
    );
    let (_, rows) = read();
    let mut lines: Vec<u64> = rows.iter().map(|r| r["line"].parse().unwrap()).collect();
    lines.dedup();
    let mut unique = lines.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(
        lines.len(),
        unique.len(),
        "each ledger line answered once: {lines:?}"
    );
    assert_eq!(unique.len(), expected().len());

    // A ledger that agrees everywhere exits 0.
    let good = write(
        &env,
        "good.ndjson",
        "{\"lookup\":\"refund_id\",\"id\":\"1818566685947465728\",\"amount\":\"100\",\"currency\":\"CNY\",\"status\":\"succeeded\",\"cost_centre\":7}\n",
    );
    let o = env
        .run(&[
            "--format",
            "ndjson",
            "reconcile",
            "openapi",
            "--ledger",
            &good,
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows = ndjson(&o);
    assert_eq!(rows[0]["verdict"], "match");
    // #29.8: an NDJSON ledger's extra fields are fields of their own, with their JSON values.
    assert_eq!(rows[0]["cost_centre"], 7);
    assert!(rows[0].get("extra").is_none());
    assert!(stdout(&o).lines().count() == 1);
}

#[tokio::test]
async fn nothing_is_overwritten_and_flags_are_checked() {
    let env = sandbox("reconcile-guard").await;
    let ledger = write(&env, "ledger.csv", LEDGER);
    let report = write(&env, "old.html", "an earlier report");
    let earlier = write(&env, "earlier.ndjson", "{\"line\":2}\n");
    for (args, needle) in [
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--report",
                &report,
            ],
            "exists and is not empty",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--report",
                &ledger,
            ],
            "are the same file",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--output",
                &ledger,
            ],
            "are the same file",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--output",
                &earlier,
            ],
            "exists and is not empty",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--stuck-after",
                "0s",
            ],
            "out of range",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--stuck-after",
                "18446744073709551615d",
            ],
            "out of range",
        ),
        (
            vec![
                "reconcile",
                "openapi",
                "--ledger",
                &ledger,
                "--stuck-after",
                "1e308",
            ],
            "--stuck-after",
        ),
    ] {
        let o = env.run(&args).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"));
    }
    assert_eq!(
        std::fs::read_to_string(&report).unwrap(),
        "an earlier report"
    );
    assert_eq!(std::fs::read_to_string(&earlier).unwrap(), "{\"line\":2}\n");
    assert_eq!(std::fs::read_to_string(&ledger).unwrap(), LEDGER);
    let missing_column = write(&env, "bad.csv", "lookup,id,amount\nrefund_id,R1,1.00\n");
    let o = env
        .run(&["reconcile", "openapi", "--ledger", &missing_column])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`currency` is missing"),
        "{}",
        stderr(&o)
    );
}

/// Rows of an NDJSON output file, by ledger line.
fn rows_by_line(path: &str) -> BTreeMap<u64, Vec<Value>> {
    let mut out: BTreeMap<u64, Vec<Value>> = BTreeMap::new();
    for l in std::fs::read_to_string(path).unwrap().lines() {
        let row: Value = serde_json::from_str(l).unwrap();
        out.entry(row["line"].as_u64().unwrap())
            .or_default()
            .push(row);
    }
    out
}

/// #29.1: a refund the provider says failed or was cancelled moved no money: books recording
/// money refunded are `status_mismatch` with the books' amount as the shortfall; books that
/// say failed or cancelled agree with either word.
#[tokio::test]
async fn a_failed_or_cancelled_refund_is_never_a_match_for_money_refunded() {
    let env = common::env("reconcile-failed").await;
    let ledger = write(
        &env,
        "books.csv",
        "refund_id,id,lookup,amount,currency\n\
         x,WX-FAILED-1,refund_id,2.00,CNY\n\
         x,WX-CLOSED-1,refund_id,4.00,CNY\n\
         x,WX-WECHAT-SUCCESS-1,refund_id,6.00,HKD\n",
    );
    let (o, output, report) = reconcile_with_report(&env, "cpos", &ledger, &[]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows = rows_by_line(&output);
    assert_eq!(rows[&2][0]["verdict"], "status_mismatch");
    assert_eq!(rows[&2][0]["difference"], "-2.00");
    assert_eq!(rows[&3][0]["verdict"], "status_mismatch");
    assert_eq!(rows[&3][0]["difference"], "-4.00");
    assert_eq!(rows[&4][0]["verdict"], "currency_mismatch");
    assert!(rows[&4][0]["difference"].is_null());
    // #29.2: the report shows no number it does not know; where it shows one, books +
    // difference = provider.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<tr data-verdict=\"currency_mismatch\" class=\"na\"><td>currency_mismatch</td><td>HKD</td><td class=\"n\">1</td><td class=\"n\">6.00</td><td class=\"n\">n/a</td><td class=\"n\">n/a</td></tr>"),
        "{html}"
    );
    assert!(
        html.contains("<tr data-verdict=\"status_mismatch\"><td>status_mismatch</td><td>CNY</td><td class=\"n\">2</td><td class=\"n\">6.00</td><td class=\"n\">0.00</td><td class=\"n\">-6.00</td></tr>"),
        "{html}"
    );
    assert!(html.contains("not counted: 2.00 CNY (failed)"), "{html}");

    // Books that record the failed attempt agree with the provider, either word.
    let agreeing = write(
        &env,
        "agreeing.csv",
        "lookup,id,amount,currency,status\n\
         refund_id,WX-FAILED-1,2.00,CNY,cancelled\n\
         refund_id,WX-CLOSED-1,4.00,CNY,Failed\n",
    );
    let o = env
        .run(&[
            "--format",
            "ndjson",
            "reconcile",
            "cpos",
            "--ledger",
            &agreeing,
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for row in ndjson(&o) {
        assert_eq!(row["verdict"], "match", "{row}");
        assert_eq!(row["difference"], "0.00", "{row}");
    }
}

/// #29.3 and #29.4: a file written is never one read or another written, however spelled and
/// whether it exists yet; a file that cannot be written is refused; all before any query.
#[tokio::test]
async fn no_spelling_of_a_path_destroys_a_file_and_nothing_is_sent() {
    let env = sandbox("reconcile-paths").await;
    let ledger = write(&env, "ledger.csv", LEDGER);
    let dir = env.dir.display().to_string();
    let results = write(&env, "o.csv", "line,lookup,id\n2,refund_id,X\n");
    std::fs::create_dir(env.dir.join("sub")).unwrap();
    std::os::unix::fs::symlink(&results, env.dir.join("olink.html")).unwrap();
    std::os::unix::fs::symlink("later.csv", env.dir.join("dangling.html")).unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        // Not there yet: the same folder and name.
        (
            vec![
                "--output".into(),
                format!("{dir}/o5.csv"),
                "--report".into(),
                format!("{dir}/./o5.csv"),
            ],
            "are the same file",
        ),
        (
            vec![
                "--output".into(),
                format!("{dir}/o5.csv"),
                "--report".into(),
                format!("{dir}/sub/../o5.csv"),
            ],
            "are the same file",
        ),
        // There, through a symlink, even with --overwrite.
        (
            vec![
                "--output".into(),
                results.clone(),
                "--overwrite".into(),
                "--report".into(),
                format!("{dir}/olink.html"),
            ],
            "are the same file",
        ),
        // A dangling symlink stands for the file it would create.
        (
            vec![
                "--output".into(),
                format!("{dir}/later.csv"),
                "--report".into(),
                format!("{dir}/dangling.html"),
            ],
            "are the same file",
        ),
        // The configuration file is read too.
        (
            vec![
                "--output".into(),
                env.config().display().to_string(),
                "--overwrite".into(),
            ],
            "are the same file",
        ),
        (
            vec!["--report".into(), "/nonexistent/r.html".into()],
            "does not exist",
        ),
        (vec!["--report".into(), dir.clone()], "is a folder"),
        (vec!["--output".into(), format!("{dir}/sub")], "is a folder"),
    ];
    for (extra, needle) in cases {
        let mut args: Vec<&str> = vec!["reconcile", "openapi", "--ledger", &ledger];
        args.extend(extra.iter().map(String::as_str));
        let o = env.run(&args).await;
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    assert_eq!(
        env.sandbox.request_count(refund_core::Provider::OpenApi),
        0,
        "nothing was sent"
    );
    assert_eq!(
        std::fs::read_to_string(&results).unwrap(),
        "line,lookup,id\n2,refund_id,X\n"
    );
    assert!(!env.dir.join("o5.csv").exists() && !env.dir.join("later.csv").exists());
    assert!(
        std::fs::read_to_string(env.config())
            .unwrap()
            .contains("[openapi]")
    );
    // batch: the same rules.
    let o = env
        .run(&[
            "batch",
            "openapi",
            "--input",
            &ledger,
            "--output",
            &format!("{dir}/sub/../ledger.csv"),
        ])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("are the same file"), "{}", stderr(&o));
    // #29.12: a --config that is a folder is not "missing".
    let o = common::run(&[
        "--config".into(),
        dir.clone(),
        "reconcile".into(),
        "openapi".into(),
        "--ledger".into(),
        ledger.clone(),
    ])
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file"), "{}", stderr(&o));
}

/// The rows of a CSV output: its header and each record, cells as written.
fn csv_file(path: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap();
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

/// #29.5, #29.6, #29.9: CSV output a spreadsheet and `--resume` can trust: header cells quoted
/// like data, formulas neutralised reversibly (provider strings, ledger cells and column names),
/// and an unusable line keeps its lookup, id and extra columns.
#[tokio::test]
async fn csv_output_is_safe_to_open_and_resume_reads_it_back() {
    let env = sandbox("reconcile-formulas").await;
    let formula = Scenario::from_toml(
        "[[refunds]]\nprovider = \"openapi\"\nrefund_id = \"OA-FORMULA-1\"\namount = \"3.00\"\nstatus = \"failed\"\nfailure_code = \"-10010\"\nfailure_message = \"=cmd|' /C calc'!A0\"\n",
    )
    .unwrap();
    env.sandbox
        .upsert_refund(formula.refunds.into_iter().next().unwrap())
        .unwrap();
    let ledger = write(
        &env,
        "formulas.csv",
        "lookup,id,amount,currency,\"a,b\",\"=HYPERLINK(\"\"http://x\"\")\"\n\
         refund_id,OA-FORMULA-1,3.00,CNY,=1+2,'@x\n\
         refund_id,R-BAD,1.001,CNY,keep me,@SUM(A1)\n\
         refund_id,1818566685947465728,100.00,CNY,-5,+1\n",
    );
    let output = env.dir.join("out.csv").display().to_string();
    let report = env.dir.join("report.html").display().to_string();
    let args = |extra: &[&str]| {
        let mut a: Vec<String> = [
            "--format",
            "csv",
            "reconcile",
            "openapi",
            "--ledger",
            &ledger,
            "--output",
            &output,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect();
        a.extend(extra.iter().map(|s| (*s).to_owned()));
        a
    };
    let run = |a: Vec<String>| {
        let env = &env;
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            env.run(&refs).await
        }
    };
    let o = run(args(&[])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let (header, rows) = csv_file(&output);
    // One header field per column, and every row as wide as the header.
    assert_eq!(
        &header[header.len() - 2..],
        ["a,b", "'=HYPERLINK(\"http://x\")"]
    );
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
    }
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let by_id = |id: &str| rows.iter().find(|r| r[col("id")] == id).unwrap();
    let formula_row = by_id("OA-FORMULA-1");
    assert_eq!(formula_row[col("failure_message")], "'=cmd|' /C calc'!A0");
    assert_eq!(
        formula_row[col("failure_code")],
        "-10010",
        "a plain number stays"
    );
    assert_eq!(
        formula_row[col("difference")],
        "-3.00",
        "a plain number stays"
    );
    assert_eq!(formula_row[col("a,b")], "'=1+2");
    assert_eq!(
        formula_row[header.len() - 1],
        "''@x",
        "an escaped-looking cell is escaped too"
    );
    let bad = by_id("R-BAD");
    assert_eq!(bad[col("lookup")], "refund_id");
    assert_eq!(bad[col("a,b")], "keep me");
    assert_eq!(bad[col("verdict")], "error");
    assert_eq!(bad[col("error_kind")], "invalid_input");
    let plain = by_id("1818566685947465728");
    assert_eq!(plain[col("a,b")], "-5");
    assert_eq!(plain[header.len() - 1], "+1");
    let complete = std::fs::read_to_string(&output).unwrap();

    // Killed after one row: --resume reads the tool's own output back and finishes it.
    let kept: String = complete.lines().take(2).map(|l| format!("{l}\n")).collect();
    std::fs::write(&output, kept).unwrap();
    let o = run(args(&["--resume", "--report", &report])).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("(1 answered by an earlier run)"),
        "{}",
        stderr(&o)
    );
    let (_, resumed) = csv_file(&output);
    let mut lines: Vec<&str> = resumed.iter().map(|r| r[0].as_str()).collect();
    lines.sort_unstable();
    assert_eq!(lines, ["2", "3", "4"], "each line once");
    // The report reads the neutralised cells back to what they were.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("<td>=cmd|&#39; /C calc&#39;!A0</td>"),
        "{html}"
    );
    assert!(html.contains("<td>=1+2</td>"), "{html}");
}

/// #29.7: `--resume` continues only the input its output came from.
#[tokio::test]
async fn resume_refuses_the_output_of_another_input() {
    let env = sandbox("reconcile-resume-other").await;
    let ledger = write(&env, "ledger.csv", LEDGER);
    let output = env.dir.join("out.ndjson").display().to_string();
    let o = env
        .run(&[
            "reconcile",
            "openapi",
            "--ledger",
            &ledger,
            "--output",
            &output,
        ])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let answered = std::fs::read_to_string(&output).unwrap();
    // Another ledger: the same line 2 asks another refund.
    let other = write(
        &env,
        "other.csv",
        "lookup,id,amount,currency\nrefund_id,OA-OTHER-9,1.00,CNY\n",
    );
    let o = env
        .run(&[
            "reconcile",
            "openapi",
            "--ledger",
            &other,
            "--output",
            &output,
            "--resume",
        ])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("line 2"), "{err}");
    assert!(
        err.contains("OA-OTHER-9") && err.contains("1818566685947465728"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(&output).unwrap(),
        answered,
        "nothing written"
    );
    // batch: the same.
    let ids = write(&env, "ids.csv", "lookup,id\nrefund_id,A\nrefund_id,B\n");
    let other_ids = write(
        &env,
        "other-ids.csv",
        "lookup,id\nrefund_id,A\nmerchant_refund_id,B\n",
    );
    let out = env.dir.join("batch.ndjson").display().to_string();
    let o = env
        .run(&[
            "batch",
            "openapi",
            "--input",
            &ids,
            "--output",
            &out,
            "--retries",
            "0",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = env
        .run(&[
            "batch", "openapi", "--input", &other_ids, "--output", &out, "--resume",
        ])
        .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("line 3"), "{}", stderr(&o));
    // The same input resumes.
    let o = env
        .run(&[
            "batch", "openapi", "--input", &ids, "--output", &out, "--resume",
        ])
        .await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// #29.8: an NDJSON ledger's extra fields are fields of the NDJSON output (their JSON values;
/// a name taken by an output field prefixed `ledger_`), and one `extra` object in CSV output.
/// #32: `provider` is no extra field: it names the line's provider (any case, spaces ignored),
/// and one naming no known provider is an unusable line whose row has a null provider.
#[tokio::test]
async fn ndjson_ledger_fields_go_out_as_fields() {
    let env = sandbox("reconcile-ndjson-extra").await;
    let ledger = write(
        &env,
        "books.ndjson",
        "{\"lookup\":\"refund_id\",\"id\":\"1818566685947465728\",\"amount\":\"100\",\"currency\":\"CNY\",\"order_ref\":\"N-1\",\"n\":7,\"nested\":{\"a\":[1,true]},\"gone\":null,\"provider\":\" OpenAPI \"}\n\
         {\"lookup\":\"refund_id\",\"id\":\"R-BAD\",\"amount\":\"x\",\"currency\":\"CNY\",\"order_ref\":\"N-2\"}\n\
         {\"lookup\":\"refund_id\",\"id\":\"R-3\",\"amount\":\"1\",\"currency\":\"CNY\",\"provider\":\"books\"}\n",
    );
    let o = env
        .run(&[
            "--format",
            "ndjson",
            "reconcile",
            "openapi",
            "--ledger",
            &ledger,
        ])
        .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows = ndjson(&o);
    let first = rows.iter().find(|r| r["line"] == 1).unwrap();
    assert_eq!(first["order_ref"], "N-1");
    assert_eq!(first["n"], 7);
    assert_eq!(first["nested"], serde_json::json!({"a": [1, true]}));
    assert!(first["gone"].is_null() && first.get("gone").is_some());
    assert_eq!(first["provider"], "openapi");
    assert_eq!(first["verdict"], "match");
    assert!(first.get("ledger_provider").is_none(), "{first}");
    let unknown = rows.iter().find(|r| r["line"] == 3).unwrap();
    assert!(unknown["provider"].is_null(), "{unknown}");
    assert_eq!(unknown["verdict"], "error");
    assert_eq!(unknown["error"]["kind"], "invalid_input");
    let message = unknown["error"]["message"].as_str().unwrap();
    assert!(message.contains("\"books\""), "{message}");
    let bad = rows.iter().find(|r| r["line"] == 2).unwrap();
    assert_eq!(
        (bad["lookup"].as_str(), bad["id"].as_str()),
        (Some("refund_id"), Some("R-BAD"))
    );
    assert_eq!(bad["order_ref"], "N-2");
    let o = env
        .run(&[
            "--format",
            "csv",
            "reconcile",
            "openapi",
            "--ledger",
            &ledger,
        ])
        .await;
    let mut r = csv::Reader::from_reader(o.stdout.as_slice());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header.last().map(String::as_str), Some("extra"));
    let first = r
        .records()
        .map(Result::unwrap)
        .find(|rec| rec.get(0) == Some("1"))
        .unwrap();
    let extra: Value = serde_json::from_str(first.get(header.len() - 1).unwrap()).unwrap();
    assert_eq!(extra["n"], 7);
    assert_eq!(extra["nested"]["a"][1], true);
}

/// #29.15–#29.17: ledger edges through the binary.
#[tokio::test]
async fn ledger_edges_are_read_as_a_finance_user_means_them() {
    let env = sandbox("reconcile-edges").await;
    let ledger = write(
        &env,
        "edges.csv",
        "lookup,id,amount,currency,requested_at\n\
         refund_id,1818566685947465728,100.000,CNY,2026-11-20t08:00:00z\n\
         refund_id,OA-PENDING-1,12.34,CNY,2999-01-01T00:00:00Z\n\
         refund_id,OA-TIMELINE-1,-8.88,CNY,\n",
    );
    let mut bytes = std::fs::read(env.dir.join("edges.csv")).unwrap();
    bytes.extend_from_slice(b"refund_id,X\xff,1.00,CNY,\n");
    std::fs::write(env.dir.join("edges.csv"), bytes).unwrap();
    let (o, output, report) = reconcile_with_report(&env, "openapi", &ledger, &[]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows = rows_by_line(&output);
    // 100.000: trailing zeros carry no sub-fen value; lower-case t and z are RFC 3339.
    assert_eq!(rows[&2][0]["verdict"], "match", "{:?}", rows[&2]);
    assert_eq!(rows[&2][0]["requested_at"], "2026-11-20T08:00:00Z");
    // A negative amount is refused, naming the convention (never a silent 2x mismatch).
    assert_eq!(rows[&4][0]["verdict"], "error");
    let message = rows[&4][0]["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("is negative") && message.contains("positive amount"),
        "{message}"
    );
    // Fields count from 1.
    let message = rows[&5][0]["error"]["message"].as_str().unwrap();
    assert!(message.contains("field 2 is not valid UTF-8"), "{message}");
    // A requested_at in the future is its own age bucket.
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("data-label=\"in the future\" data-count=\"1\""),
        "{html}"
    );
    assert!(
        html.contains("data-label=\"&lt; 1 h\" data-count=\"0\""),
        "{html}"
    );

    // A header-only ledger: "0 ledger lines", no empty list.
    let empty = write(&env, "empty.csv", "lookup,id,amount,currency\n");
    let o = env.run(&["reconcile", "openapi", "--ledger", &empty]).await;
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let summary = stderr(&o);
    let line = summary
        .lines()
        .find(|l| l.starts_with("reconcile:"))
        .unwrap();
    assert!(line.starts_with("reconcile: 0 ledger lines in "), "{line}");
    assert!(line.ends_with("(0 answered by an earlier run)"), "{line}");
}

/// `refund reconcile openapi --ledger <ledger>` and `extra` arguments.
async fn openapi_reconcile(env: &Env, ledger: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["reconcile", "openapi", "--ledger", ledger];
    args.extend_from_slice(extra);
    env.run(&args).await
}

/// `--previous`: each row says the verdict its entry had in an earlier output (by provider,
/// lookup and id; a key on several lines: the last one's), the summary and the report say what
/// changed, and the earlier output can be neither the ledger nor this run's output.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previous_says_what_changed_since_the_last_run() {
    let env = sandbox("reconcile-previous").await;
    let first = write(&env, "first.csv", LEDGER);
    let (o, output, _) = reconcile_with_report(&env, "openapi", &first, &[]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let previous = env.dir.join("previous.ndjson").display().to_string();
    std::fs::rename(&output, &previous).unwrap();
    std::fs::remove_file(env.dir.join("report.html")).unwrap();
    // The next day: OA-PENDING-1's line is gone, OA-X's amount is fixed, a new line.
    let second_ledger = LEDGER
        .replace(
            "refund_id,OA-PENDING-1,12.34,CNY,processing,2024-08-01 10:00:00,O-5,\n",
            "",
        )
        .replace("OA-X,1.001", "OA-X,1.00")
        + "refund_id,OA-TIMELINE-1,1.00,CNY,,,O-13,\n";
    let second = write(&env, "second.csv", &second_ledger);
    let (o, output, report) =
        reconcile_with_report(&env, "openapi", &second, &["--previous", &previous]).await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let rows: Vec<Value> = std::fs::read_to_string(&output)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let by_id = |id: &str| {
        rows.iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} in {rows:?}"))
            .clone()
    };
    // An unusable line then, a line with a verdict now.
    let fixed = by_id("OA-X");
    assert_eq!(fixed["previous_verdict"], "error", "{fixed}");
    assert_ne!(fixed["verdict"], "error", "{fixed}");
    // A line the earlier run did not have: null.
    assert!(by_id("OA-TIMELINE-1")["previous_verdict"].is_null());
    // Unchanged lines say so.
    assert_eq!(by_id("OA-HOSTILE-1")["previous_verdict"], "status_mismatch");
    assert_eq!(by_id("OA-CANCEL-1")["previous_verdict"], "status_mismatch");
    // Three ledger lines share one key: each has the last one's verdict.
    for row in rows.iter().filter(|r| r["id"] == "1818566685947465728") {
        assert_eq!(row["previous_verdict"], "currency_mismatch", "{row}");
    }
    // `previous_verdict` is the last field of every row, as written.
    for line in std::fs::read_to_string(&output).unwrap().lines() {
        let at = line.rfind("\"previous_verdict\":").unwrap();
        let tail = &line[at + "\"previous_verdict\":".len()..];
        assert!(!tail.contains("\":"), "{line}");
    }
    let changed = rows
        .iter()
        .filter(|r| r["previous_verdict"] != r["verdict"])
        .map(|r| r["line"].as_u64().unwrap())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let said = stderr(&o);
    assert!(
        said.contains(&format!(
            "{changed} changed since the previous run (1 new, 1 gone)"
        )),
        "{said}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("Changed since the previous run"), "{html}");
    assert!(html.contains(&format!("<span id=\"changed\">{changed}</span>")));
    assert!(html.contains("<span id=\"gone\">1</span>"));
    assert!(html.contains("(line gone)") && html.contains("(new line)"));
    assert!(html.contains("error → "), "a transition in words: {html}");

    // The same earlier output as CSV reads the same.
    let csv_previous = env.dir.join("previous.csv").display().to_string();
    let o = openapi_reconcile(
        &env,
        &first,
        &["--output", &csv_previous, "--format", "csv"],
    )
    .await;
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let o = openapi_reconcile(
        &env,
        &second,
        &["--previous", &csv_previous, "--format", "ndjson"],
    )
    .await;
    assert!(
        stderr(&o).contains(&format!(
            "{changed} changed since the previous run (1 new, 1 gone)"
        )),
        "{}",
        stderr(&o)
    );
    // CSV output: the column is the last.
    let o = openapi_reconcile(&env, &second, &["--previous", &previous, "--format", "csv"]).await;
    let header = stdout(&o).lines().next().unwrap().to_owned();
    assert!(header.ends_with(",previous_verdict"), "{header}");

    // Never the ledger, never the output (however spelled), never something else.
    let o = openapi_reconcile(&env, &second, &["--previous", &second]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains("are the same file"), "{}", stderr(&o));
    let (o, _, _) = reconcile_with_report(
        &env,
        "openapi",
        &second,
        &[
            "--previous",
            &env.dir.join("./out.ndjson").display().to_string(),
            "--overwrite",
        ],
    )
    .await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = openapi_reconcile(&env, &second, &["--previous", &first]).await;
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("not a reconcile output"),
        "{}",
        stderr(&o)
    );
}
