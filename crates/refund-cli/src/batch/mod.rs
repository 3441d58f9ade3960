//! `refund batch`: many lookups from a file, results written and flushed as they come, so a
//! crash or Ctrl-C loses nothing and `--resume` picks up where it stopped.
//!
//! `input` reads the file lazily, `resume` finds what an earlier run answered, `render` turns
//! one outcome into output lines, `summary` counts; this module runs the workers.

pub(crate) mod input;
pub(crate) mod render;
pub(crate) mod resume;
pub(crate) mod summary;

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use refund_core::http::HttpConfig;
use refund_core::{Provider, RefundLookup, RefundProvider};

use self::render::Outcome;
use self::summary::Summary;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::output::Format;

/// `refund batch` arguments.
#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    /// openapi, edgeros or cpos.
    #[arg(value_enum)]
    provider: ProviderArg,
    /// CSV with a lookup,id header, or NDJSON ({"lookup": ..., "id": ...} per line).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    #[command(flatten)]
    sink: SinkArgs,
    #[command(flatten)]
    pace: PaceArgs,
    #[command(flatten)]
    pub(crate) global: crate::options::Global,
}

impl BatchArgs {
    /// A run with the defaults into a new `output` (for `refund demo`).
    pub(crate) fn new(provider: ProviderArg, input: PathBuf, output: PathBuf) -> Self {
        BatchArgs {
            provider,
            input,
            sink: SinkArgs::new_file(output),
            pace: PaceArgs::default(),
            global: crate::options::Global::default(),
        }
    }
}

impl Default for PaceArgs {
    /// The flags' defaults.
    fn default() -> Self {
        PaceArgs {
            concurrency: DEFAULT_CONCURRENCY,
            rps: None,
        }
    }
}

/// `--concurrency` when not given.
const DEFAULT_CONCURRENCY: u16 = 8;

/// How fast streamed queries go (`batch` and `reconcile` alike).
#[derive(Debug, Args)]
pub(crate) struct PaceArgs {
    /// Queries in flight at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) concurrency: u16,
    /// At most this many queries started per second (0.01 to 100000).
    #[arg(long, value_name = "R", value_parser = crate::args::rps)]
    pub(crate) rps: Option<f64>,
}

/// Where streamed results go, and what to do with an earlier run's output (`batch` and
/// `reconcile` alike).
#[derive(Debug, Args)]
pub(crate) struct SinkArgs {
    /// Where results go (default stdout). Needed for --resume.
    #[arg(long, value_name = "FILE")]
    pub(crate) output: Option<PathBuf>,
    /// Skip inputs whose line number is already in --output, and append to it.
    #[arg(long, requires = "output")]
    pub(crate) resume: bool,
    /// Replace an existing non-empty --output (without it, that is refused).
    #[arg(long, requires = "output", conflicts_with = "resume")]
    pub(crate) overwrite: bool,
}

impl SinkArgs {
    /// A new output file, neither resumed nor overwritten (for `refund demo`).
    pub(crate) fn new_file(output: PathBuf) -> Self {
        SinkArgs {
            output: Some(output),
            resume: false,
            overwrite: false,
        }
    }
}

/// True when `a` and `b` name the same existing file (same path, a `./` variant, a symlink or a
/// hard link).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (ma.dev(), ma.ino()) == (mb.dev(), mb.ino()) {
            return true;
        }
    }
    let _ = (ma, mb);
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Refuses, before anything is opened for writing, an output that would destroy the input or
/// earlier results.
pub(crate) fn check_output(input: &Path, args: &SinkArgs) -> Result<(), CliError> {
    let Some(output) = &args.output else {
        return Ok(());
    };
    if same_file(input, output) {
        return Err(CliError::usage(format!(
            "--output {} is the input file: refusing to overwrite it",
            output.display()
        )));
    }
    let non_empty = std::fs::metadata(output).is_ok_and(|m| m.len() > 0);
    if non_empty && !args.resume && !args.overwrite {
        return Err(CliError::usage(format!(
            "--output {} exists and is not empty: use --resume to continue it or --overwrite to replace it",
            output.display()
        )));
    }
    Ok(())
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

/// What a streamed input offers the workers: the lookup to query, or why the line is unusable.
pub(crate) trait Job: Send + Sync + 'static {
    fn lookup(&self) -> Result<&RefundLookup, &str>;
}

impl Job for Result<RefundLookup, String> {
    fn lookup(&self) -> Result<&RefundLookup, &str> {
        self.as_ref().map_err(String::as_str)
    }
}

async fn query_one(client: &dyn RefundProvider, job: &impl Job) -> Outcome {
    let lookup = job.lookup().map_err(CliError::usage)?;
    Ok(crate::open::query_found(client, lookup).await?)
}

/// How `stream` runs: its pace, and the lines already answered.
pub(crate) struct Streaming {
    pub(crate) pace: PaceArgs,
    pub(crate) done: HashSet<u64>,
    pub(crate) progress: indicatif::ProgressBar,
}

/// The jobs the workers share: the chunk in hand, and the reader's channel for the next one.
type JobQueue<J> = tokio::sync::Mutex<(
    std::vec::IntoIter<(u64, J)>,
    tokio::sync::mpsc::Receiver<Vec<(u64, J)>>,
)>;

/// The next job: from the chunk in hand, else from the reader's next chunk (meanwhile `hungry`
/// tells the reader to hand over what it has at once); `None` once the input is done.
async fn next_job<J>(queue: &JobQueue<J>, hungry: &AtomicBool) -> Option<(u64, J)> {
    let mut queue = queue.lock().await;
    let (chunk, from_reader) = &mut *queue;
    loop {
        if let Some(job) = chunk.next() {
            return Some(job);
        }
        hungry.store(true, Ordering::Release);
        let refill = from_reader.recv().await;
        hungry.store(false, Ordering::Release);
        *chunk = refill?.into_iter();
    }
}

/// One of `concurrency` long-lived workers: queries job after job (at the pace `limiter` sets)
/// until the input ends or the writer stops taking results.
async fn work<J: Job>(
    queue: Arc<JobQueue<J>>,
    hungry: Arc<AtomicBool>,
    client: Arc<dyn RefundProvider>,
    limiter: Option<Arc<RateLimiter>>,
    results: tokio::sync::mpsc::Sender<(u64, J, Outcome)>,
) {
    while let Some((line, job)) = next_job(&queue, &hungry).await {
        if let Some(l) = &limiter {
            l.wait().await;
        }
        // The writer stopped (an output error): query nothing more.
        if results.is_closed() {
            return;
        }
        let outcome = query_one(client.as_ref(), &job).await;
        if results.send((line, job, outcome)).await.is_err() {
            return;
        }
    }
}

/// Jobs handed from the reading thread to the runtime at once: one wake-up per chunk, not per
/// line.
const CHUNK: usize = 256;

/// Queries every job not in `done` on `concurrency` spawned workers (so RSA signing runs on
/// every core; long-lived, each taking the next job when done with one: no task, permit or
/// sender made per job), and hands each outcome to `on_result` as it comes, in completion
/// order, with the text buffer its lines go into. Whatever outcomes are ready together are
/// written to `sink` in one write and flushed at once (nothing waits for more: a crash loses
/// nothing already answered, and a busy run makes one system call per group, not per line).
///
/// The input is read on a blocking thread and handed over in chunks of up to [`CHUNK`] jobs
/// (a partial chunk as soon as a worker is waiting for work, so the first queries start before
/// a chunk fills). Memory stays flat: at most two chunks queued and one being taken from,
/// `concurrency` queries and `concurrency` results waiting. Returns how many jobs were skipped
/// as already done. `batch` and `reconcile` share it.
pub(crate) async fn stream<J: Job>(
    client: Box<dyn RefundProvider>,
    jobs: impl Iterator<Item = (u64, J)> + Send + 'static,
    how: Streaming,
    sink: &mut dyn Write,
    mut on_result: impl FnMut(u64, J, Outcome, &mut Vec<u8>) -> Result<(), CliError>,
) -> Result<u64, CliError> {
    let Streaming {
        pace: PaceArgs { concurrency, rps },
        done,
        progress,
    } = how;
    // `rps` is range-checked by its parser, so the gap is a sane duration.
    let limiter = rps.map(|r| RateLimiter {
        gap: Duration::from_secs_f64(1.0 / r),
        next: Mutex::new(Instant::now()),
    });
    let client: Arc<dyn RefundProvider> = Arc::from(client);
    let workers = usize::from(concurrency);
    let (chunk_tx, chunk_rx) = tokio::sync::mpsc::channel::<Vec<(u64, J)>>(2);
    let hungry = Arc::new(AtomicBool::new(true));
    // A hidden bar (output not a terminal) still reads the clock and takes its lock on every
    // `inc`, ~750 instructions each: counted only when someone sees it.
    let shown = !progress.is_hidden();
    let skip_bar = progress.clone();
    let reader_hungry = Arc::clone(&hungry);
    let reader = tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(CHUNK);
        for (n, job) in jobs {
            if done.contains(&n) {
                if shown {
                    skip_bar.inc(1);
                }
                continue;
            }
            chunk.push((n, job));
            if chunk.len() == CHUNK || reader_hungry.load(Ordering::Acquire) {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                if chunk_tx.blocking_send(full).is_err() {
                    return done.len();
                }
            }
        }
        if !chunk.is_empty() {
            let _ = chunk_tx.blocking_send(chunk);
        }
        done.len()
    });
    let (result_tx, mut results) = tokio::sync::mpsc::channel(workers);
    let queue = Arc::new(JobQueue::new((Vec::new().into_iter(), chunk_rx)));
    let limiter = limiter.map(Arc::new);
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            tokio::spawn(work(
                Arc::clone(&queue),
                Arc::clone(&hungry),
                Arc::clone(&client),
                limiter.clone(),
                result_tx.clone(),
            ))
        })
        .collect();
    drop(result_tx);
    let mut ready = Vec::with_capacity(workers);
    let mut text = Vec::new();
    while results.recv_many(&mut ready, workers).await > 0 {
        let n = ready.len() as u64;
        for (line, job, outcome) in ready.drain(..) {
            on_result(line, job, outcome, &mut text)?;
        }
        write_flushed(sink, &text)?;
        text.clear();
        if shown {
            progress.inc(n);
        }
    }
    progress.finish_and_clear();
    for task in tasks {
        task.await.map_err(|e| CliError::io(e.to_string()))?;
    }
    Ok(reader.await.map_err(|e| CliError::io(e.to_string()))? as u64)
}

/// Where results go: `--output` (created, or appended to with `--resume`) or stdout; the CSV
/// header is written once.
pub(crate) fn open_sink(
    args: &SinkArgs,
    csv_header: Option<&str>,
) -> Result<Box<dyn Write + Send>, CliError> {
    let io = |e: std::io::Error| CliError::io(format!("cannot write results: {e}"));
    let Some(path) = &args.output else {
        let mut out: Box<dyn Write + Send> = Box::new(std::io::stdout());
        if let Some(header) = csv_header {
            out.write_all(header.as_bytes()).map_err(io)?;
        }
        return Ok(out);
    };
    let existing = std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() > 0);
    let file = if args.resume {
        OpenOptions::new().create(true).append(true).open(path)
    } else {
        File::create(path)
    }
    .map_err(|e| CliError::usage(format!("cannot write output {}: {e}", path.display())))?;
    let mut file: Box<dyn Write + Send> = Box::new(file);
    if let Some(header) = csv_header.filter(|_| !(args.resume && existing)) {
        file.write_all(header.as_bytes()).map_err(io)?;
    }
    Ok(file)
}

/// A progress bar on a terminal (hidden otherwise); `counted` names what its message counts
/// (`failed`, `not match`).
pub(crate) fn progress_bar(input: &Path, counted: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(input::count_inputs(input));
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} done, {{msg}} {counted}, {{per_sec}}, ETA {{eta}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("0");
    bar
}

pub(crate) async fn run(
    config_path: Option<&Path>,
    http: HttpConfig,
    format: Option<Format>,
    args: BatchArgs,
) -> Result<u8, CliError> {
    check_output(&args.input, &args.sink)?;
    let client = crate::open::open_client(config_path, args.provider, http)?;
    let provider: Provider = client.provider();
    let csv = format == Some(Format::Csv);
    let header = render::csv_header();
    let inputs = input::read_inputs(&args.input)?;
    let done = resume::done_lines_of(&args.sink, csv, &header)?;
    let mut sink = open_sink(&args.sink, csv.then_some(header.as_str()))?;
    let progress = progress_bar(&args.input, "failed");
    let mut summary = Summary::default();
    let started = Instant::now();
    let how = Streaming {
        pace: args.pace,
        done,
        progress: progress.clone(),
    };
    let skipped = stream(
        client,
        inputs,
        how,
        &mut sink,
        |line, input, outcome, text| {
            render::render(text, line, &input, &outcome, provider, csv);
            summary.add(&outcome);
            if outcome.is_err() {
                progress.set_message(summary.failed().to_string());
            }
            Ok(())
        },
    )
    .await?;
    summary.skipped = skipped;
    eprint!("{}", summary.text(started.elapsed()));
    Ok(exit::OK)
}

/// Writes lines and flushes them, so a crash loses nothing already answered.
pub(crate) fn write_flushed(sink: &mut dyn Write, text: &[u8]) -> Result<(), CliError> {
    sink.write_all(text)
        .and_then(|()| sink.flush())
        .map_err(|e| CliError::io(format!("cannot write results: {e}")))
}
