//! `refund batch`: many lookups from a file, results streamed and flushed one by one, so a
//! crash or Ctrl-C loses nothing and `--resume` picks up where it stopped.

use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use refund_core::http::HttpConfig;
use refund_core::{LookupKind, Provider, RefundLookup, RefundProvider};
use serde_json::{Map, Value};

use crate::config::Config;
use crate::output::{COLUMNS, Format, Record};
use crate::{CliError, ProviderArg, exit};

/// `refund batch` arguments.
#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    /// openapi, edgeros or cpos.
    #[arg(value_enum)]
    provider: ProviderArg,
    /// CSV with a `lookup,id` header, or NDJSON (`{"lookup": ..., "id": ...}` per line).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    /// Where results go (default stdout). Needed for --resume.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Queries in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    concurrency: u16,
    /// At most this many queries started per second.
    #[arg(long, value_name = "R")]
    rps: Option<f64>,
    /// Skip inputs whose line number is already in --output, and append to it.
    #[arg(long, requires = "output")]
    resume: bool,
}

/// One input: its line number and the lookup (or why the line is unusable).
type Input = (u64, Result<RefundLookup, String>);

fn parse_lookup(kind: &str, id: &str) -> Result<RefundLookup, String> {
    let kind: LookupKind = kind.trim().parse()?;
    Ok(RefundLookup::new(kind, id.trim()))
}

fn is_ndjson(path: &Path) -> Result<bool, CliError> {
    if path
        .extension()
        .is_some_and(|e| e == "ndjson" || e == "jsonl" || e == "json")
    {
        return Ok(true);
    }
    let mut first = [0_u8; 64];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut first))
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    Ok(first
        .get(..n)
        .unwrap_or_default()
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        == Some(&b'{'))
}

/// Streams the inputs lazily: memory stays flat whatever the file size.
fn read_inputs(path: &Path) -> Result<Box<dyn Iterator<Item = Input> + Send>, CliError> {
    let file = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    if is_ndjson(path)? {
        let lines = BufReader::new(file)
            .lines()
            .enumerate()
            .filter_map(|(i, line)| {
                let n = i as u64 + 1;
                let line = match line {
                    Ok(l) if l.trim().is_empty() => return None,
                    Ok(l) => l,
                    Err(e) => return Some((n, Err(format!("unreadable line: {e}")))),
                };
                #[derive(serde::Deserialize)]
                struct Row {
                    lookup: String,
                    id: String,
                }
                Some((
                    n,
                    serde_json::from_str::<Row>(&line)
                        .map_err(|e| format!("not a {{\"lookup\", \"id\"}} object: {e}"))
                        .and_then(|row| parse_lookup(&row.lookup, &row.id)),
                ))
            });
        return Ok(Box::new(lines));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| CliError::usage(format!("input {}: {e}", path.display())))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(lookup_col), Some(id_col)) = (column("lookup"), column("id")) else {
        return Err(CliError::usage(format!(
            "input {}: the CSV header must be `lookup,id`",
            path.display()
        )));
    };
    let rows = reader.into_records().map(move |record| match record {
        Ok(r) => {
            let n = r.position().map_or(0, |p| p.line());
            match (r.get(lookup_col), r.get(id_col)) {
                (Some(kind), Some(id)) => (n, parse_lookup(kind, id)),
                _ => (n, Err("missing lookup or id column".to_owned())),
            }
        }
        Err(e) => (
            e.position().map_or(0, |p| p.line()),
            Err(format!("unreadable CSV row: {e}")),
        ),
    });
    Ok(Box::new(rows))
}

/// Line numbers already answered in an existing output file; a torn last line is cut off so
/// appending continues cleanly.
fn done_lines(path: &Path, csv: bool) -> Result<HashSet<u64>, CliError> {
    let mut done = HashSet::new();
    let Ok(mut file) = OpenOptions::new().read(true).write(true).open(path) else {
        return Ok(done);
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| CliError::Io(format!("cannot read {}: {e}", path.display())))?;
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    if complete < text.len() {
        file.set_len(complete as u64)
            .map_err(|e| CliError::Io(e.to_string()))?;
        file.seek(SeekFrom::End(0))
            .map_err(|e| CliError::Io(e.to_string()))?;
    }
    for line in text.get(..complete).unwrap_or_default().lines() {
        let n = if csv {
            line.split(',').next().and_then(|f| f.parse::<u64>().ok())
        } else {
            serde_json::from_str::<Value>(line)
                .ok()
                .and_then(|v| v.get("line").and_then(Value::as_u64))
        };
        if let Some(n) = n {
            done.insert(n);
        }
    }
    Ok(done)
}

/// Spaces query starts `1/rps` apart.
struct RateLimiter {
    gap: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.gap;
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

#[derive(Default)]
struct Summary {
    inputs: u64,
    skipped: u64,
    refunds: u64,
    failed: u64,
    by_status: BTreeMap<String, u64>,
    amounts: BTreeMap<(String, String), (i128, u32)>,
    errors: BTreeMap<String, u64>,
}

impl Summary {
    fn print(&self, elapsed: Duration) {
        let mut err = std::io::stderr().lock();
        let rate = self.inputs as f64 / elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            err,
            "batch: {} lookups in {:.1}s ({rate:.0}/s): {} refunds found, {} lookups failed, {} skipped (already in output)",
            self.inputs,
            elapsed.as_secs_f64(),
            self.refunds,
            self.failed,
            self.skipped
        );
        let counts: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = writeln!(
            err,
            "  by status: {}",
            if counts.is_empty() {
                "-".to_owned()
            } else {
                counts.join(", ")
            }
        );
        for ((status, currency), (minor, exponent)) in &self.amounts {
            let _ = writeln!(
                err,
                "  amount {status}: {} {currency}",
                format_minor(*minor, *exponent)
            );
        }
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            err,
            "  errors by kind: {}",
            if errors.is_empty() {
                "-".to_owned()
            } else {
                errors.join(", ")
            }
        );
    }
}

fn format_minor(minor: i128, exponent: u32) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    if exponent == 0 {
        return format!("{sign}{abs}");
    }
    let scale = 10_u128.pow(exponent);
    format!(
        "{sign}{}.{:0w$}",
        abs / scale,
        abs % scale,
        w = exponent as usize
    )
}

fn null_record(provider: Provider) -> Map<String, Value> {
    let mut map: Map<String, Value> = COLUMNS
        .iter()
        .map(|c| ((*c).to_owned(), Value::Null))
        .collect();
    map.insert(
        "provider".to_owned(),
        Value::String(provider.as_str().to_owned()),
    );
    map
}

/// The output lines for one input: one per refund found, or one carrying the error.
fn render(
    line: u64,
    input: &Result<RefundLookup, String>,
    result: &Result<Vec<Record>, CliError>,
    provider: Provider,
    csv: bool,
) -> String {
    let (lookup, id) = match input {
        Ok(l) => (
            Value::String(l.kind().as_str().to_owned()),
            Value::String(l.id().to_owned()),
        ),
        Err(_) => (Value::Null, Value::Null),
    };
    let head = |map: &mut Map<String, Value>| {
        map.insert("line".to_owned(), Value::from(line));
        map.insert("lookup".to_owned(), lookup.clone());
        map.insert("id".to_owned(), id.clone());
    };
    let rows: Vec<Map<String, Value>> = match result {
        Ok(records) => records
            .iter()
            .map(|r| {
                let mut map = Map::new();
                head(&mut map);
                if let Value::Object(fields) = serde_json::to_value(r).unwrap_or(Value::Null) {
                    map.extend(fields);
                }
                map.insert("error".to_owned(), Value::Null);
                map
            })
            .collect(),
        Err(e) => {
            let mut map = Map::new();
            head(&mut map);
            map.extend(null_record(provider));
            let sdk = match e {
                CliError::Sdk(e) => Some(e),
                _ => None,
            };
            let error = crate::output::error_json(e_kind(e), &e.message(), sdk);
            map.insert(
                "error".to_owned(),
                error.get("error").cloned().unwrap_or(Value::Null),
            );
            vec![map]
        }
    };
    let mut out = String::new();
    for row in rows {
        if csv {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::new());
            let text = |v: Option<&Value>| match v {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            let error = row.get("error");
            let mut cells: Vec<String> = ["line", "lookup", "id"]
                .iter()
                .map(|k| text(row.get(*k)))
                .collect();
            cells.extend(COLUMNS.iter().map(|k| text(row.get(*k))));
            for k in ["kind", "message", "code"] {
                cells.push(text(error.and_then(|e| e.get(k))));
            }
            let _ = w.write_record(&cells);
            out.push_str(&String::from_utf8_lossy(
                &w.into_inner().unwrap_or_default(),
            ));
        } else {
            out.push_str(&Value::Object(row).to_string());
            out.push('\n');
        }
    }
    out
}

/// The error kind of a batch line: an unusable input line is `invalid_input`.
fn e_kind(e: &CliError) -> &'static str {
    match e {
        CliError::Usage(_) => "invalid_input",
        other => other.kind(),
    }
}

fn csv_header() -> String {
    let mut cells: Vec<&str> = vec!["line", "lookup", "id"];
    cells.extend(COLUMNS);
    cells.extend(["error_kind", "error_message", "error_code"]);
    format!("{}\n", cells.join(","))
}

async fn query_one(
    client: &dyn RefundProvider,
    input: &Result<RefundLookup, String>,
) -> Result<Vec<Record>, CliError> {
    let lookup = input.as_ref().map_err(|e| CliError::usage(e.clone()))?;
    let refunds = crate::query_found(client, lookup).await?;
    Ok(refunds.iter().map(Record::from_refund).collect())
}

fn count_inputs(path: &Path) -> u64 {
    File::open(path)
        .map_or(0, |f| BufReader::new(f).lines().count() as u64)
        .saturating_sub(1)
}

pub(crate) async fn run(
    config: &Config,
    http: &HttpConfig,
    format: Option<Format>,
    args: BatchArgs,
) -> Result<u8, CliError> {
    let provider: Provider = args.provider.into();
    let client = config.client(provider, http.clone())?;
    let csv = format == Some(Format::Csv);
    let inputs = read_inputs(&args.input)?;
    let done = match (&args.output, args.resume) {
        (Some(path), true) => done_lines(path, csv)?,
        _ => HashSet::new(),
    };
    let mut sink: Box<dyn Write + Send> = match &args.output {
        Some(path) => {
            let existing = path.is_file()
                && std::fs::metadata(path)
                    .map(|m| m.len() > 0)
                    .unwrap_or(false);
            let file = if args.resume {
                OpenOptions::new().create(true).append(true).open(path)
            } else {
                File::create(path)
            }
            .map_err(|e| CliError::usage(format!("cannot write output {}: {e}", path.display())))?;
            let mut file: Box<dyn Write + Send> = Box::new(file);
            if csv && !(args.resume && existing) {
                file.write_all(csv_header().as_bytes())
                    .map_err(|e| CliError::Io(e.to_string()))?;
            }
            file
        }
        None => {
            let mut out: Box<dyn Write + Send> = Box::new(std::io::stdout());
            if csv {
                out.write_all(csv_header().as_bytes())
                    .map_err(|e| CliError::Io(e.to_string()))?;
            }
            out
        }
    };
    let progress = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(count_inputs(&args.input));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} done, {msg} failed, {per_sec}, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("0");
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let limiter = args
        .rps
        .filter(|r| r.is_finite() && *r > 0.0)
        .map(|r| RateLimiter {
            gap: Duration::from_secs_f64(1.0 / r),
            next: Mutex::new(Instant::now()),
        });
    let mut summary = Summary::default();
    let started = Instant::now();
    // Workers are spawned tasks, so signing (RSA providers) runs on every core; bounded channels
    // keep memory flat: at most `concurrency` inputs queued and `concurrency` results waiting.
    let client: Arc<dyn RefundProvider> = Arc::from(client);
    let limiter = limiter.map(Arc::new);
    let workers = usize::from(args.concurrency);
    let (input_tx, input_rx) = tokio::sync::mpsc::channel::<Input>(workers);
    let input_rx = Arc::new(tokio::sync::Mutex::new(input_rx));
    let (result_tx, mut results) = tokio::sync::mpsc::channel(workers);
    let skip_bar = progress.clone();
    let reader = tokio::task::spawn_blocking(move || {
        for (n, input) in inputs {
            if done.contains(&n) {
                skip_bar.inc(1);
                continue;
            }
            if input_tx.blocking_send((n, input)).is_err() {
                break;
            }
        }
        done.len()
    });
    for _ in 0..workers {
        let (client, limiter, input_rx, result_tx) = (
            Arc::clone(&client),
            limiter.clone(),
            Arc::clone(&input_rx),
            result_tx.clone(),
        );
        tokio::spawn(async move {
            loop {
                let next = input_rx.lock().await.recv().await;
                let Some((line, input)) = next else { break };
                if let Some(l) = &limiter {
                    l.wait().await;
                }
                let result = query_one(client.as_ref(), &input).await;
                if result_tx.send((line, input, result)).await.is_err() {
                    break;
                }
            }
        });
    }
    drop(result_tx);
    while let Some((line, input, result)) = results.recv().await {
        let text = render(line, &input, &result, provider, csv);
        sink.write_all(text.as_bytes())
            .and_then(|()| sink.flush())
            .map_err(|e| CliError::Io(format!("cannot write results: {e}")))?;
        summary.inputs += 1;
        match &result {
            Ok(records) => {
                for r in records {
                    summary.refunds += 1;
                    *summary.by_status.entry(r.status.clone()).or_default() += 1;
                    let exponent = r
                        .currency
                        .parse::<refund_core::Currency>()
                        .map_or(2, |c| c.exponent());
                    let slot = summary
                        .amounts
                        .entry((r.status.clone(), r.currency.clone()))
                        .or_insert((0, exponent));
                    slot.0 += i128::from(r.amount_minor);
                }
            }
            Err(e) => {
                summary.failed += 1;
                *summary.errors.entry(e_kind(e).to_owned()).or_default() += 1;
                progress.set_message(summary.failed.to_string());
            }
        }
        progress.inc(1);
    }
    progress.finish_and_clear();
    summary.skipped = reader.await.map_err(|e| CliError::Io(e.to_string()))? as u64;
    summary.print(started.elapsed());
    Ok(exit::OK)
}
