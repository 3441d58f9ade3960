//! The flags every streaming command shares (`batch`, `reconcile`): where results go and what
//! to do with an earlier run's output ([`SinkArgs`]), how fast queries go ([`PaceArgs`]), and the
//! check of every file the run reads and writes before anything is sent ([`check_output`]).

use std::path::{Path, PathBuf};

use clap::Args;

use super::paths;
use crate::error::CliError;

/// `--max-concurrency` when not given.
const DEFAULT_MAX_CONCURRENCY: u16 = 256;

/// How fast streamed queries go (`batch` and `reconcile` alike), per provider: adaptive unless
/// pinned.
#[derive(Debug, Clone, Args)]
pub(crate) struct PaceArgs {
    /// Queries in flight at once, per provider (1 to 1024); without it, found on its own.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) concurrency: Option<u16>,
    /// At most this many queries started per second, per provider (0.01 to 100000); without
    /// it, found on its own.
    #[arg(long, value_name = "R", value_parser = crate::args::rps)]
    pub(crate) rps: Option<f64>,
    /// The most queries in flight the adaptation may reach, per provider (1 to 1024; default
    /// 256).
    #[arg(long, value_name = "N", conflicts_with = "concurrency", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub(crate) max_concurrency: Option<u16>,
}

impl Default for PaceArgs {
    /// The flags' defaults: everything adapts.
    fn default() -> Self {
        PaceArgs {
            concurrency: None,
            rps: None,
            max_concurrency: None,
        }
    }
}

impl PaceArgs {
    /// What the law may not move.
    pub(crate) fn pins(&self) -> super::pace::Pins {
        super::pace::Pins {
            in_flight: self.concurrency,
            rate: self.rps,
            max_in_flight: self
                .concurrency
                .unwrap_or(self.max_concurrency.unwrap_or(DEFAULT_MAX_CONCURRENCY)),
        }
    }

    /// The workers a lane needs: one per query it may have in flight.
    pub(crate) fn workers(&self) -> usize {
        usize::from(self.pins().max_in_flight)
    }
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
