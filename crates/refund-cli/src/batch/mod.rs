//! `refund batch`: many lookups from a file, results written and flushed as they come, so a
//! crash or Ctrl-C loses nothing and `--resume` picks up where it stopped. The streaming itself
//! (input, resume, workers, output rows) is [`crate::stream`]'s; this module holds the flags and
//! the command, `summary` what it counts.

pub(crate) mod summary;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use refund_core::http::HttpConfig;

use self::summary::Summary;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::evidence::EvidenceArgs;
use crate::output::Format;
use crate::stream::render;
use crate::stream::{
    Answer, PaceArgs, SinkArgs, Streaming, check_output, input, open_sink, paths, progress_bar,
    resume, stream,
};

/// `refund batch` arguments.
#[derive(Debug, Args)]
pub(crate) struct BatchArgs {
    /// openapi, edgeros or cpos; without it, every line names its own in a `provider` column.
    #[arg(value_enum)]
    provider: Option<ProviderArg>,
    /// CSV with a lookup,id header (and provider, without the provider argument), or NDJSON
    /// ({"lookup": ..., "id": ...} per line).
    #[arg(long, value_name = "FILE")]
    input: PathBuf,
    #[command(flatten)]
    sink: SinkArgs,
    #[command(flatten)]
    pace: PaceArgs,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    pub(crate) global: crate::options::Global,
}

impl BatchArgs {
    /// A run with the defaults into a new `output` (for `refund demo`).
    pub(crate) fn new(provider: ProviderArg, input: PathBuf, output: PathBuf) -> Self {
        BatchArgs {
            provider: Some(provider),
            input,
            sink: SinkArgs::new_file(output),
            pace: PaceArgs::default(),
            evidence: EvidenceArgs::default(),
            global: crate::options::Global::default(),
        }
    }
}

pub(crate) async fn run(
    config_path: Option<&Path>,
    http: HttpConfig,
    format: Option<Format>,
    args: BatchArgs,
) -> Result<u8, CliError> {
    let others: Vec<_> = args.evidence.path_use().into_iter().collect();
    check_output(
        paths::Use::read("--input", &args.input),
        &args.sink,
        &others,
        config_path,
    )?;
    // Throttled answers come back at once: the engine slows the provider down and queues the
    // line again, without spending its retries.
    let mut http = http;
    http.retry = http.retry.leaving_throttles();
    let timeout = http.overall_timeout;
    let (lanes, routing) = crate::open::open_lanes(config_path, args.provider, http)?;
    let evidence = args.evidence.open()?;
    let keeps = evidence.is_some();
    let csv = format == Some(Format::Csv);
    let mut columns = render::csv_columns();
    if keeps {
        columns.push(render::EVIDENCE.to_owned());
    }
    let header = render::csv_line(&columns);
    let inputs = input::read_inputs(&args.input, routing)?;
    let required = routing.required(&input::LOOKUP_COLUMNS);
    let resumed = resume::Resumed {
        input: &args.input,
        required: &required,
    };
    let done = resume::done_lines_of(&args.sink, csv, &columns, &resumed)?;
    let sink = open_sink(&args.sink, csv.then_some(header.as_str()))?;
    let progress = progress_bar(&args.input, "failed");
    let started = Instant::now();
    let how = Streaming {
        pace: args.pace,
        timeout,
        evidence,
        done,
        progress: progress.clone(),
    };
    let on_result = move |summary: &mut Summary,
                          line,
                          input: input::Line,
                          answer: Answer,
                          text: &mut Vec<u8>| {
        let asked = match &input.lookup {
            Ok(lookup) => input::parts_of(lookup),
            Err(unusable) => unusable.asked.parts(),
        };
        let evidence = answer.evidence?;
        let outcome = &answer.outcome;
        let kept = keeps.then_some(evidence.as_deref());
        render::render(text, line, asked, outcome, input.provider, csv, kept);
        summary.add(input.provider, outcome);
        if outcome.is_err() {
            progress.set_message(summary.failed().to_string());
        }
        Ok(())
    };
    let streamed = stream(lanes, inputs, how, sink, Summary::default(), on_result).await?;
    let mut summary = streamed.state;
    summary.skipped = streamed.skipped;
    summary.paces = streamed.paces;
    summary.report(started.elapsed());
    Ok(exit::OK)
}
