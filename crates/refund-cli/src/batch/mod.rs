//! `refund batch`: many lookups from a file, results written and flushed as they come, so a
//! crash or Ctrl-C loses nothing and `--resume` picks up where it stopped.
//!
//! `input` reads the file lazily, `resume` finds what an earlier run answered, `render` turns
//! one outcome into output lines, `summary` counts, `stream` runs the workers (shared with
//! `reconcile` and `refund demo`); this module holds the flags and the command.

pub(crate) mod input;
pub(crate) mod render;
pub(crate) mod resume;
mod stream;
pub(crate) mod summary;

pub(crate) use self::stream::{Job, Sink, Streaming, open_sink, stream};

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use refund_core::http::HttpConfig;
use refund_core::{Provider, RefundLookup};

use self::render::Outcome;
use self::summary::Summary;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::output::Format;
use crate::paths;

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

/// Refuses, before anything is read, written or sent: any two of `input` (read), the output,
/// `others` and the configuration file that are one file while one of them is written (however
/// spelled), a file to write that cannot be written, and an existing non-empty output this run
/// was not told to continue or replace.
pub(crate) fn check_output(
    input: paths::Use<'_>,
    args: &SinkArgs,
    others: &[paths::Use<'_>],
    config: Option<&Path>,
) -> Result<(), CliError> {
    let mut uses = vec![input];
    if let Some(output) = &args.output {
        uses.push(paths::Use::written("--output", output));
    }
    uses.extend_from_slice(others);
    let config = crate::config::Config::path_to_load(config);
    if let Some(config) = &config {
        uses.push(paths::Use::read("--config", config));
    }
    paths::check(&uses)?;
    for u in uses.iter().filter(|u| u.written) {
        let non_empty = std::fs::metadata(u.path).is_ok_and(|m| m.is_file() && m.len() > 0);
        if non_empty && !args.resume && !args.overwrite {
            return Err(CliError::usage(format!(
                "{} {} exists and is not empty: use --resume to continue it or --overwrite to replace it",
                u.flag,
                u.path.display()
            )));
        }
    }
    Ok(())
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
    check_output(
        paths::Use::read("--input", &args.input),
        &args.sink,
        &[],
        config_path,
    )?;
    let client = crate::open::open_client(config_path, args.provider, http)?;
    let provider: Provider = client.provider();
    let csv = format == Some(Format::Csv);
    let header = render::csv_header();
    let inputs = input::read_inputs(&args.input)?;
    let resumed = resume::Resumed {
        input: &args.input,
        required: &input::LOOKUP_COLUMNS,
    };
    let done = resume::done_lines_of(&args.sink, csv, &render::csv_columns(), &resumed)?;
    let sink = open_sink(&args.sink, csv.then_some(header.as_str()))?;
    let progress = progress_bar(&args.input, "failed");
    let started = Instant::now();
    let how = Streaming {
        pace: args.pace,
        done,
        progress: progress.clone(),
    };
    let on_result = move |summary: &mut Summary,
                          line,
                          input: Result<RefundLookup, input::Unusable>,
                          outcome: Outcome,
                          text: &mut Vec<u8>| {
        let asked = match &input {
            Ok(lookup) => input::parts_of(lookup),
            Err(unusable) => unusable.asked.parts(),
        };
        render::render(text, line, asked, &outcome, provider, csv);
        summary.add(&outcome);
        if outcome.is_err() {
            progress.set_message(summary.failed().to_string());
        }
        Ok(())
    };
    let (skipped, mut summary) =
        stream(client, inputs, how, sink, Summary::default(), on_result).await?;
    summary.skipped = skipped;
    eprint!("{}", summary.text(started.elapsed()));
    Ok(exit::OK)
}
