//! `refund reconcile`: the merchant's ledger against the provider's answers, one verdict per
//! ledger line, streamed like `batch` (the same engine: flat memory, resumable, a progress bar),
//! with an optional self-contained HTML report.
//!
//! `ledger` reads the books, `verdict` decides (pure), `report` counts and draws; this module
//! renders the output lines and runs it.

mod ledger;
pub(crate) mod previous;
pub(crate) mod report;
pub(crate) mod verdict;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::Utc;
use clap::Args;
use refund_core::http::HttpConfig;
use serde_json::Value;

use self::ledger::{Layout, LedgerJob};
use self::report::Report;
use self::verdict::{Judgement, Verdict, judge};
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::evidence::EvidenceArgs;
use crate::output::Format;
use crate::stream::input::Routing;
use crate::stream::render::{self, Outcome, OutputRow};
use crate::stream::{self, Answer, PaceArgs, SinkArgs, Streaming};

/// `refund reconcile` arguments.
#[derive(Debug, Args)]
pub(crate) struct ReconcileArgs {
    /// openapi, edgeros or cpos; without it, every line names its own in a `provider` column.
    #[arg(value_enum)]
    provider: Option<ProviderArg>,
    /// The books: CSV or NDJSON with lookup, id, amount, currency (and provider, without the
    /// provider argument) and optionally status and requested_at; other columns are carried
    /// through to the output.
    #[arg(long, value_name = "FILE")]
    ledger: PathBuf,
    #[command(flatten)]
    sink: SinkArgs,
    /// Also write a self-contained HTML report (totals, charts, the discrepancies).
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// An earlier reconcile output (CSV or NDJSON): each row gains `previous_verdict`, the
    /// summary and the report say what changed since.
    #[arg(long, value_name = "FILE")]
    previous: Option<PathBuf>,
    /// A refund still non-final this long after the ledger's requested_at is "stuck"
    /// (1m to 365d; e.g. 72h, 3d).
    #[arg(long, value_name = "D", default_value = "72h", value_parser = crate::args::stuck_after)]
    stuck_after: Duration,
    #[command(flatten)]
    pace: PaceArgs,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    pub(crate) global: crate::options::Global,
}

impl ReconcileArgs {
    /// A run with the defaults (for `refund demo`).
    pub(crate) fn new(
        provider: ProviderArg,
        ledger: PathBuf,
        output: PathBuf,
        report: PathBuf,
    ) -> Self {
        ReconcileArgs {
            provider: Some(provider),
            ledger,
            sink: SinkArgs::new_file(output),
            report: Some(report),
            previous: None,
            stuck_after: Duration::from_secs(72 * 3600),
            pace: PaceArgs::default(),
            evidence: EvidenceArgs::default(),
            global: crate::options::Global::default(),
        }
    }
}

/// The fields `reconcile` adds to `batch`'s, in order (then `requested_at` and the ledger's own
/// extra columns).
pub(crate) const RECONCILE_COLUMNS: [&str; 6] = [
    "verdict",
    "expected_amount",
    "expected_currency",
    "expected_status",
    "difference",
    "requested_at",
];

/// One ledger line's output rows (one per refund found, or one): `batch`'s fields, the verdict
/// and the books' side, then the ledger's extra columns, then (with `--previous`)
/// `previous_verdict` (`Some(None)` is a line the earlier run did not have: null), then (with
/// `--evidence`) `evidence`. `bundle_extra`: the ledger's extra
/// fields go into one `extra` column holding a JSON object (CSV output of an NDJSON ledger,
/// whose fields may differ per line); otherwise each is a field of its own.
fn json_rows(
    line: u64,
    job: &LedgerJob,
    outcome: &Outcome,
    judgement: &Judgement,
    bundle_extra: bool,
    previous: Option<Option<Verdict>>,
    evidence: render::Kept<'_>,
) -> Vec<OutputRow> {
    let books = job.line.as_ref().ok().map(|l| &l.books);
    let text = |v: Option<String>| v.map_or(Value::Null, Value::from);
    let mut rows = render::json_rows(line, job.asked.parts(), outcome, job.provider);
    for row in &mut rows {
        row.insert("verdict", judgement.verdict.as_str().into());
        row.insert(
            "expected_amount",
            text(books.map(|b| b.amount.to_major_string())),
        );
        row.insert(
            "expected_currency",
            text(books.map(|b| b.amount.currency().code().to_owned())),
        );
        row.insert(
            "expected_status",
            text(books.and_then(|b| b.status.as_ref().map(|s| s.as_str().to_owned()))),
        );
        row.insert(
            "difference",
            text(judgement.difference.map(|d| d.to_major_string())),
        );
        row.insert(
            "requested_at",
            text(books.and_then(|b| b.requested_at.as_ref().map(refund_core::time::format_utc))),
        );
        if bundle_extra {
            if !job.extra.is_empty() {
                let object: serde_json::Map<String, Value> = job.extra.iter().cloned().collect();
                row.insert("extra", Value::Object(object).to_string().into());
            }
        } else {
            add_extra(row, job);
        }
        if let Some(previous) = previous {
            row.insert(
                PREVIOUS_VERDICT,
                previous.map_or(Value::Null, |v| v.as_str().into()),
            );
        }
        if let Some(name) = evidence {
            row.insert(render::EVIDENCE, name.map_or(Value::Null, Value::from));
        }
    }
    rows
}

/// The field `--previous` adds, last.
pub(crate) const PREVIOUS_VERDICT: &str = "previous_verdict";

/// The ledger's extra fields, each a field of its own.
fn add_extra(row: &mut OutputRow, job: &LedgerJob) {
    {
        for (name, value) in &job.extra {
            // A ledger column named like an output field is kept beside it, prefixed.
            let key = if row.contains_key(name)
                || [
                    "error_kind",
                    "error_message",
                    "error_code",
                    PREVIOUS_VERDICT,
                ]
                .contains(&name.as_str())
                || name == render::EVIDENCE
            {
                format!("ledger_{name}")
            } else {
                name.clone()
            };
            row.insert(key, value.clone());
        }
    }
}

pub(crate) async fn run(
    config_path: Option<&Path>,
    http: HttpConfig,
    format: Option<Format>,
    args: ReconcileArgs,
) -> Result<u8, CliError> {
    let mut uses = Vec::new();
    if let Some(r) = args.report.as_deref() {
        uses.push(crate::stream::paths::Use::written("--report", r));
    }
    if let Some(p) = args.previous.as_deref() {
        uses.push(crate::stream::paths::Use::read_distinct("--previous", p));
    }
    uses.extend(args.evidence.path_use());
    stream::check_output(
        crate::stream::paths::Use::read("--ledger", &args.ledger),
        &args.sink,
        &uses,
        config_path,
    )?;
    // Read before anything is sent: a file that is not an earlier output stops the run here.
    let previous = args
        .previous
        .as_deref()
        .map(previous::Previous::read)
        .transpose()?;
    // Throttled answers come back at once: the engine slows the provider down and queues the
    // line again, without spending its retries.
    let mut http = http;
    http.retry = http.retry.leaving_throttles();
    let timeout = http.overall_timeout;
    let (lanes, routing) = crate::open::open_lanes(config_path, args.provider, http)?;
    let csv = format == Some(Format::Csv);
    let evidence = args.evidence.open()?;
    let keeps = evidence.is_some();
    let layout = Layout::of(&args.ledger)?;
    let mut header = layout.csv_header();
    if previous.is_some() {
        header.push(PREVIOUS_VERDICT.to_owned());
    }
    if keeps {
        header.push(render::EVIDENCE.to_owned());
    }
    let header_text = render::csv_line(&header);
    let jobs = ledger::read(&args.ledger, routing)?;
    let bundle_extra = csv && layout == Layout::Ndjson;
    let required = routing.required(&ledger::REQUIRED);
    let resumed = stream::resume::Resumed {
        input: &args.ledger,
        required: &required,
    };
    let done = stream::resume::done_lines_of(&args.sink, csv, &header, &resumed)?;
    // The report covers the whole output: lines an earlier run answered are read back first.
    let compared = report::Compared {
        providers: match routing {
            Routing::Fixed(p) => vec![p.as_str().to_owned()],
            // Named from the rows, when the report is drawn.
            Routing::PerLine => Vec::new(),
        },
        ledger: args
            .ledger
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        stuck_after: args.stuck_after,
    };
    let mut report = Report::new(Utc::now(), compared);
    if let Some(previous) = previous {
        report.compare_with(previous);
    }
    if let (Some(output), true) = (&args.sink.output, args.sink.resume) {
        report.add_output_file(output, csv)?;
    }
    let sink = stream::open_sink(&args.sink, csv.then_some(header_text.as_str()))?;
    let progress = stream::progress_bar(&args.ledger, "not match");
    let started = Instant::now();
    let now = Utc::now();
    let stuck_after = args.stuck_after;
    let how = Streaming {
        pace: args.pace,
        timeout,
        evidence,
        done,
        progress: progress.clone(),
    };
    let on_result =
        move |report: &mut Report, line, job: LedgerJob, answer: Answer, text: &mut Vec<u8>| {
            let evidence = answer.evidence?;
            let outcome = answer.outcome;
            let judgement = match &job.line {
                Ok(l) => judge(&l.books, &outcome, now, stuck_after),
                Err(_) => Judgement {
                    verdict: Verdict::Error,
                    difference: None,
                },
            };
            let previous = report.has_previous().then(|| match job.asked.parts() {
                (Some(lookup), Some(id)) => {
                    report.previous_verdict(job.provider.map_or("", |p| p.as_str()), lookup, id)
                }
                _ => None,
            });
            let kept = keeps.then_some(evidence.as_deref());
            let rows = json_rows(
                line,
                &job,
                &outcome,
                &judgement,
                bundle_extra,
                previous,
                kept,
            );
            for row in rows {
                if csv {
                    render::push_csv(text, &render::csv_cells(&row, &header));
                } else {
                    render::push_json(text, &row);
                }
                report.add_row(&row);
            }
            if judgement.verdict != Verdict::Match {
                progress.set_message(report.discrepancies().to_string());
            }
            Ok(())
        };
    let streamed = stream::stream(lanes, jobs, how, sink, report, on_result).await?;
    let report = streamed.state;
    report.report_summary(streamed.skipped, started.elapsed(), &streamed.paces);
    if let Some(path) = &args.report {
        report.write_html(path)?;
        let said = format!("report written to {}", path.display());
        crate::logging::notice(&format!("reconcile: {said}"), &said);
    }
    Ok(if report.all_match() {
        exit::OK
    } else {
        exit::OTHER
    })
}
