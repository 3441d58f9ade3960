//! `refund`: ask payment providers what happened to your refunds.
//!
//! The binary is the interface: see `docs/cli.md` for the full contract (flags, config keys,
//! output fields, exit codes). This library holds its arguments and dispatch ([`main`]) so that
//! fuzz targets can reach the CLI's own parsers (feature `fuzzing`); it has no other public API.
//!
//! ```no_run
//! fn main() -> std::process::ExitCode {
//!     refund_cli::main()
//! }
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

mod args;
mod batch;
mod config;
mod demo;
mod error;
mod evidence;
mod explain;
mod logging;
mod open;
mod options;
mod output;
mod query;
mod reconcile;
mod sandbox;
mod signer;
mod stream;
mod watch;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::error::{CliError, exit};
use crate::options::{FormatOption, Global, Takes, VerboseOption};

/// Ask payment providers what happened to your refunds.
#[derive(Debug, Parser)]
#[command(
    name = "refund",
    version = concat!(env!("CARGO_PKG_VERSION"), " (RSA back-end: aws-lc)"),
    about,
    propagate_version = true
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Query one refund (or every refund of an original transaction).
    #[command(
        after_help = "Examples:\n  refund query cpos --refund-id WX200324161500830790814539\n  refund query openapi --original-transaction-id CU518563189147832320 --format json\n  refund query edgeros --refund-id AR1 --explain"
    )]
    Query(query::QueryArgs),
    /// Query many refunds from a CSV or NDJSON file, streaming results as they come.
    #[command(
        after_help = "Examples:\n  refund batch cpos --input ids.csv --output results.ndjson\n  refund batch cpos --input ids.csv --output results.ndjson --resume\n  refund batch edgeros --input ids.ndjson --format csv --concurrency 8 --rps 20"
    )]
    Batch(batch::BatchArgs),
    /// Compare a ledger (the books) with the provider's answers: one verdict per line, an HTML
    /// report on request; exit 1 when anything disagrees.
    #[command(
        after_help = "Examples:\n  refund reconcile cpos --ledger books.csv --output verdicts.ndjson --report report.html\n  refund reconcile cpos --ledger books.csv --stuck-after 3d --format csv"
    )]
    Reconcile(reconcile::ReconcileArgs),
    /// Poll until every refund found is final, printing each change.
    #[command(
        after_help = "Examples:\n  refund watch edgeros --refund-id AR1\n  refund watch cpos --merchant-refund-id 200324847290000004766 --interval 30s --max-wait 2h"
    )]
    Watch(watch::WatchArgs),
    /// Show how a request is signed, or why an answer is (not) trusted, offline.
    #[command(
        after_help = "Examples:\n  refund explain request edgeros --refund-id AR1\n  refund explain response cpos --refund-id WX1 answer.json"
    )]
    Explain(explain::ExplainArgs),
    /// Run the sandbox (all three providers) in the foreground.
    #[command(
        after_help = "Examples:\n  refund sandbox\n  refund sandbox --dir /tmp/sbx --port 8080 --scenario my-scenario.toml"
    )]
    Sandbox(sandbox::SandboxArgs),
    /// Start the built-in sandbox and show a query through each provider, a small batch and a
    /// small reconciliation with its report.
    #[command(after_help = "Examples:\n  refund demo\n  refund demo --format json")]
    Demo {
        #[command(flatten)]
        format: FormatOption,
        #[command(flatten)]
        verbose: VerboseOption,
    },
}

impl Command {
    /// The global options given after the subcommand's name, which of them it takes, and its
    /// name (for messages).
    fn own_options(&self) -> (Global, Takes, &'static str) {
        let offline = Takes {
            network: false,
            ..Takes::ALL
        };
        match self {
            Command::Query(args) => (args.global.clone(), Takes::ALL, "query"),
            Command::Watch(args) => (args.global.clone(), Takes::ALL, "watch"),
            Command::Batch(args) => (args.global.clone(), Takes::ALL, "batch"),
            Command::Reconcile(args) => (args.global.clone(), Takes::ALL, "reconcile"),
            // `explain` takes them after its own name and after `request`/`response` alike.
            // (Both levels take the same options: nothing is dropped between them.)
            Command::Explain(args) => {
                let leaf = Global::from(args.command.options());
                let (own, _) = Global::from(args.options.clone()).merge(leaf, offline);
                (own, offline, "explain")
            }
            Command::Sandbox(args) => (
                Global::output_only(FormatOption::default(), args.verbose.clone()),
                Takes {
                    config: false,
                    network: false,
                    format: false,
                },
                "sandbox",
            ),
            Command::Demo { format, verbose } => (
                Global::output_only(format.clone(), verbose.clone()),
                Takes {
                    config: false,
                    network: false,
                    format: true,
                },
                "demo",
            ),
        }
    }
}

async fn run(global: Global, command: Command) -> Result<u8, CliError> {
    let config = global.config();
    match command {
        Command::Query(args) => query::run(config, &global, args).await,
        Command::Explain(args) => explain::run(config, global.format(), args.command).await,
        Command::Batch(args) => {
            batch::run(config, global.http(), global.format_given(), args).await
        }
        Command::Reconcile(args) => {
            reconcile::run(config, global.http(), global.format_given(), args).await
        }
        Command::Watch(args) => watch::run(config, &global, args).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        Command::Demo { .. } => demo::demo(global.format()).await,
    }
}

/// Runs `refund` with the process's arguments: parse, dispatch, report; the exit code is the
/// CLI's contract.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            if e.use_stderr() && json_logs_asked(std::env::args_os()) {
                // The arguments did not parse, but they asked for JSON on stderr: keep the
                // stream parseable (clap's text, one line per object field, no colours).
                logging::set_format(logging::LogFormat::Json);
                let text = e.render().to_string();
                let mut fields = serde_json::Map::new();
                fields.insert("kind".into(), "usage".into());
                logging::line(
                    tracing::Level::ERROR,
                    &text,
                    text.lines()
                        .next()
                        .unwrap_or_default()
                        .trim_start_matches("error: "),
                    fields,
                );
            } else {
                let _ = e.print();
            }
            return ExitCode::from(code);
        }
    };
    let (after, takes, name) = cli.command.own_options();
    let (global, ignored) = cli.global.clone().merge(after, takes);
    logging::set_format(global.log_format());
    for flag in ignored {
        logging::warn(&format!(
            "{flag} does not apply to `refund {name}`; ignored"
        ));
    }
    logging::init_tracing(global.verbose());
    let format = global.format();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            error::report(
                &CliError::io(format!("cannot start the async runtime: {e}")),
                format,
            );
            return ExitCode::from(exit::OTHER);
        }
    };
    match runtime.block_on(run(global, cli.command)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            error::report(&error, format);
            ExitCode::from(error.exit_code())
        }
    }
}

/// Whether the raw arguments ask for `--log-format json` (read before, or without, a parse).
fn json_logs_asked(args: impl Iterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    args.iter().enumerate().any(|(i, a)| {
        a == "--log-format=json"
            || (a == "--log-format" && args.get(i + 1).is_some_and(|v| v == "json"))
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn json_logs_are_seen_in_raw_arguments() {
        let args = |a: &[&str]| a.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(super::json_logs_asked(
            args(&["refund", "--log-format", "json", "query"]).into_iter()
        ));
        assert!(super::json_logs_asked(
            args(&["refund", "query", "--log-format=json"]).into_iter()
        ));
        assert!(!super::json_logs_asked(
            args(&["refund", "--log-format", "text"]).into_iter()
        ));
    }

    #[test]
    fn the_version_names_the_rsa_back_end_in_use() {
        use clap::CommandFactory;
        let version = super::Cli::command().render_version();
        assert!(
            version.contains(&format!("RSA back-end: {}", refund_core::rsa_keys::BACKEND)),
            "{version}"
        );
    }
}
