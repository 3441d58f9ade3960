//! `refund demo`: the built-in sandbox started in the process, a query through each provider, a
//! small batch and a small reconciliation with its report: a first look without credentials.

use std::io::Write;
use std::path::PathBuf;

use refund_core::http::HttpConfig;
use refund_core::{LookupKind, RefundLookup};
use refund_sandbox::{Sandbox, Scenario};

use crate::batch::BatchArgs;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::open;
use crate::output::Format;
use crate::stream::render;

use crate::sandbox::{BUILT_IN_SCENARIO, scenario_error};

/// The query section: one lookup through each provider.
const DEMO_QUERIES: [(ProviderArg, LookupKind, &str); 3] = [
    (
        ProviderArg::Openapi,
        LookupKind::OriginalTransactionId,
        "CU51856318914782320",
    ),
    (
        ProviderArg::Edgeros,
        LookupKind::RefundId,
        "AR202112151405438637829842922855012187",
    ),
    (
        ProviderArg::Cpos,
        LookupKind::MerchantRefundId,
        "200324847290000004766",
    ),
];

/// The id in the batch that no provider knows, there on purpose: a batch records a refund the
/// provider does not know as a line with its error, and goes on.
const MADE_UP_ID: &str = "WX-DOES-NOT-EXIST";

/// The batch section's input (`ids.csv`): one refund per outcome a batch meets, and a made-up id.
const DEMO_BATCH: &str = "lookup,id\n\
refund_id,WX-FAILED-1\n\
refund_id,WX-UNKNOWN-1\n\
refund_id,WX-CLOSED-1\n\
refund_id,WX-CHANGE-1\n\
refund_id,WX-WECHAT-SUCCESS-1\n\
refund_id,WX-DOES-NOT-EXIST\n";

/// The books of the demo's reconciliation: one line per kind of trouble a finance team meets.
const DEMO_LEDGER: &str = "lookup,id,amount,currency,status,requested_at,invoice\n\
refund_id,WX200324161500830790814539,0.50,CNY,succeeded,,INV-1001\n\
refund_id,WX-FAILED-1,2.00,CNY,succeeded,,INV-1002\n\
refund_id,WX-UNKNOWN-1,3.00,CNY,processing,2024-01-01 09:00:00,INV-1003\n\
refund_id,WX-CLOSED-1,4.50,CNY,cancelled,,INV-1004\n\
refund_id,WX-DOES-NOT-EXIST,1.00,CNY,,,INV-1005\n";

/// The demo's own fresh folder (nothing of the user's is touched): the sandbox's credentials and
/// `refund.toml`, the batch input, the books, and what the commands write.
struct DemoFolder {
    dir: PathBuf,
}

impl DemoFolder {
    fn create(handle: &refund_sandbox::SandboxHandle) -> Result<Self, CliError> {
        let dir = std::env::temp_dir().join(format!("refund-demo-{}", std::process::id()));
        let io = |e: std::io::Error| CliError::io(format!("demo folder {}: {e}", dir.display()));
        if dir.exists() {
            return Err(CliError::io(format!("{} already exists", dir.display())));
        }
        std::fs::create_dir_all(&dir).map_err(io)?;
        handle.write_credentials(&dir).map_err(io)?;
        std::fs::write(dir.join("ids.csv"), DEMO_BATCH).map_err(io)?;
        std::fs::write(dir.join("ledger.csv"), DEMO_LEDGER).map_err(io)?;
        Ok(DemoFolder { dir })
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn config(&self) -> PathBuf {
        self.file("refund.toml")
    }
}

/// `refund demo`: the real commands against an embedded sandbox. On a terminal, each section
/// is shown as the command a user would type and what it prints (the batch with its progress bar
/// and summary); piped, stdout is one well-formed stream in the chosen format: every line of the
/// query and batch sections in batch's shape, labelled by a leading `section` field (one CSV
/// header, one JSON array), and the reconciliation's files named on stderr.
pub(crate) async fn demo(format: Format) -> Result<u8, CliError> {
    let scenario = Scenario::from_toml(BUILT_IN_SCENARIO).map_err(scenario_error)?;
    let handle = Sandbox::builder()
        .scenario(scenario)
        .start()
        .await
        .map_err(scenario_error)?;
    let folder = DemoFolder::create(&handle)?;
    let shown = match format {
        Format::Table => show(&handle, &folder).await,
        _ => stream_sections(&folder, format).await,
    };
    handle.shutdown().await;
    shown?;
    Ok(exit::OK)
}

fn lookup_of((_, kind, id): &(ProviderArg, LookupKind, &str)) -> RefundLookup {
    RefundLookup::new(*kind, *id)
}

/// The demo on a terminal: each command as typed, then what it prints.
async fn show(handle: &refund_sandbox::SandboxHandle, folder: &DemoFolder) -> Result<(), CliError> {
    let config = folder.config();
    say(format_args!(
        "refund demo: an embedded sandbox on {} speaks all three providers' real protocols\n(signed requests, verified responses; no account, no network). Its files: {}\n",
        handle.base_url(),
        folder.dir.display()
    ))?;
    for query in &DEMO_QUERIES {
        let lookup = lookup_of(query);
        let client = open::open_for_lookup(Some(&config), query.0, HttpConfig::default(), &lookup)?;
        say(format_args!(
            "$ refund query {} --{} {}",
            client.provider(),
            lookup.kind().as_str().replace('_', "-"),
            lookup.id()
        ))?;
        crate::query::print(client.as_ref(), &lookup, Format::Table, false, None).await?;
        say(format_args!(""))?;
    }
    let output = folder.file("batch.ndjson");
    say(format_args!(
        "$ refund batch cpos --input ids.csv --output batch.ndjson\n  ({} is made up on purpose: a batch records a refund the provider does not know\n  as a line with its error, and goes on)",
        MADE_UP_ID
    ))?;
    let args = BatchArgs::new(ProviderArg::Cpos, folder.file("ids.csv"), output.clone());
    crate::batch::run(
        Some(&config),
        HttpConfig::default(),
        Some(Format::Ndjson),
        args,
    )
    .await?;
    let mut rows = read_rows(&output)?;
    rows.sort_by_key(|row| row.get("line").and_then(serde_json::Value::as_u64));
    for row in &rows {
        let field = |k: &str| {
            row.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("-")
                .to_owned()
        };
        let id = field("id");
        let outcome = match row
            .pointer("/error/kind")
            .and_then(serde_json::Value::as_str)
        {
            Some(kind) if id == MADE_UP_ID => format!("{kind} (the made-up id: as expected)"),
            Some(kind) => kind.to_owned(),
            None => format!(
                "{} {} {}",
                field("status"),
                field("amount"),
                field("currency")
            ),
        };
        say(format_args!(
            "  line {:<2} {:<22} {}",
            row.get("line")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0),
            crate::output::one_line(&id),
            crate::output::one_line(&outcome)
        ))?;
    }
    say(format_args!(""))?;
    reconcile_section(folder, true).await?;
    say(format_args!(
        "Next: `refund sandbox --dir ./sandbox` to point your own code at it."
    ))?;
    Ok(())
}

/// The demo piped: the query and batch sections as one stream of batch-shaped lines, each
/// labelled with its `section`, then the reconciliation's files named on stderr.
async fn stream_sections(folder: &DemoFolder, format: Format) -> Result<(), CliError> {
    let config = folder.config();
    let mut rows = Vec::new();
    for (n, query) in (1..).zip(&DEMO_QUERIES) {
        let lookup = lookup_of(query);
        let client = open::open_for_lookup(Some(&config), query.0, HttpConfig::default(), &lookup)?;
        let outcome = open::query_found(client.as_ref(), &lookup)
            .await
            .map_err(CliError::from);
        rows.extend(
            render::json_rows(
                n,
                crate::stream::input::parts_of(&lookup),
                &outcome,
                Some(client.provider()),
            )
            .into_iter()
            .map(|row| row.labelled("query")),
        );
    }
    // The batch section through batch's own streaming code, from its input file.
    let (lanes, routing) = open::open_lanes(
        Some(&config),
        Some(ProviderArg::Cpos),
        HttpConfig::default(),
    )?;
    let how = crate::stream::Streaming {
        pace: crate::stream::PaceArgs::default(),
        timeout: HttpConfig::default().overall_timeout,
        evidence: None,
        done: Default::default(),
        progress: indicatif::ProgressBar::hidden(),
    };
    let inputs = crate::stream::input::read_inputs(&folder.file("ids.csv"), routing)?;
    let mut answered = crate::stream::stream(
        lanes,
        inputs,
        how,
        crate::stream::Sink::discard(),
        Vec::new(),
        move |answered: &mut Vec<_>,
              line,
              input: crate::stream::input::Line,
              answer: crate::stream::Answer,
              _| {
            let asked = match &input.lookup {
                Ok(lookup) => crate::stream::input::parts_of(lookup),
                Err(unusable) => unusable.asked.parts(),
            };
            answered.extend(render::json_rows(
                line,
                asked,
                &answer.outcome,
                input.provider,
            ));
            Ok(())
        },
    )
    .await?
    .state;
    // Answers come in completion order; the stream reads in input order.
    answered.sort_by_key(|row| row.get("line").and_then(serde_json::Value::as_u64));
    rows.extend(answered.into_iter().map(|row| row.labelled("batch")));
    let mut text = Vec::new();
    match format {
        Format::Csv => {
            let mut header = vec!["section".to_owned()];
            header.extend(render::csv_columns());
            render::push_csv(&mut text, &header);
            for row in &rows {
                render::push_csv(&mut text, &render::csv_cells(row, &header));
            }
        }
        Format::Json => {
            let objects: Vec<String> = rows
                .iter()
                .map(|row| serde_json::to_string(row).unwrap_or_default())
                .collect();
            text = format!("[\n{}\n]\n", objects.join(",\n")).into_bytes();
        }
        _ => rows
            .iter()
            .for_each(|row| render::push_json(&mut text, row)),
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io(e.to_string()))?;
    drop(out);
    let said =
        format!("the batch's {MADE_UP_ID} is made up on purpose: not_found is the expected answer");
    crate::logging::notice(&format!("refund demo: {said}"), &said);
    reconcile_section(folder, false).await
}

/// One line on stdout; a closed pipe (`refund demo | head`) ends the demo with an error, never
/// a panic.
fn say(line: std::fmt::Arguments<'_>) -> Result<(), CliError> {
    writeln!(std::io::stdout().lock(), "{line}").map_err(|e| CliError::io(format!("stdout: {e}")))
}

/// The lines a command of the demo wrote (NDJSON), to show them.
fn read_rows(path: &std::path::Path) -> Result<Vec<serde_json::Value>, CliError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CliError::io(format!("{}: {e}", path.display())))?;
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect())
}

/// Reconciles the built-in books against the sandbox through the real `reconcile` command, in
/// the demo's folder, and says where the report is.
async fn reconcile_section(folder: &DemoFolder, table: bool) -> Result<(), CliError> {
    let output = folder.file("reconcile.ndjson");
    let report = folder.file("report.html");
    if table {
        say(format_args!(
            "$ refund reconcile cpos --ledger ledger.csv --output reconcile.ndjson --report report.html"
        ))?;
    }
    let args = crate::reconcile::ReconcileArgs::new(
        ProviderArg::Cpos,
        folder.file("ledger.csv"),
        output.clone(),
        report.clone(),
    );
    // Discrepancies are the point of the demo: its exit code is not the demo's.
    let _ = crate::reconcile::run(
        Some(&folder.config()),
        HttpConfig::default(),
        Some(Format::Ndjson),
        args,
    )
    .await?;
    if table {
        let mut rows = read_rows(&output)?;
        rows.sort_by_key(|row| row.get("line").and_then(serde_json::Value::as_u64));
        for row in rows {
            let field = |k: &str| {
                row.get(k)
                    .and_then(|v| v.as_str())
                    .unwrap_or("-")
                    .to_owned()
            };
            let line = row
                .get("line")
                .and_then(serde_json::Value::as_u64)
                .unwrap_or(0);
            say(format_args!(
                "  line {line:<2} {:<18} {:<28} books {} {}, provider {}",
                field("verdict"),
                crate::output::one_line(&field("id")),
                field("expected_amount"),
                field("expected_status"),
                field("status"),
            ))?;
        }
        say(format_args!(
            "\nThe report (open it in a browser): {}\n",
            report.display()
        ))?;
    } else {
        let said = format!(
            "reconciliation verdicts in {}, report in {}",
            output.display(),
            report.display()
        );
        crate::logging::notice(&format!("refund demo: {said}"), &said);
    }
    Ok(())
}
