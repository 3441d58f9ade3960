//! The global options (`--config`, `--timeout`, `--retries`, `--format`, `-v`): accepted before
//! the subcommand or after it, and offered after it only by the commands that use them, so
//! `refund sandbox --help` does not list a `--format` it would ignore.
//!
//! clap's `global = true` would propagate every option to every subcommand; instead each command
//! flattens the groups it uses, the top level flattens all of them, and [`Global::merge`] joins
//! the two, dropping (with a warning) an option given before a subcommand that does not take it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use refund_core::http::{HttpConfig, RetryPolicy};

use crate::output::Format;

/// The help heading the global options are listed under, in every command's help.
const HEADING: &str = "Global options";

/// The default of `--timeout`.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default of `--retries`.
const DEFAULT_RETRIES: u32 = 2;

/// `--config`: commands that read the configuration.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct ConfigOption {
    /// Configuration file (default ./refund.toml, then ~/.config/refund/refund.toml).
    #[arg(long, value_name = "FILE", help_heading = HEADING)]
    config: Option<PathBuf>,
}

/// `--timeout` and `--retries`: commands that query a provider.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct NetworkOptions {
    /// Deadline for a whole query, retries included (e.g. 500ms, 2s, 1m30s) [default: 30s].
    #[arg(long, value_name = "DURATION", value_parser = crate::args::timeout, help_heading = HEADING)]
    timeout: Option<Duration>,
    /// Retries after the first attempt (transport errors, 429 and 5xx only) [default: 2].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(0..=crate::args::MAX_RETRIES), help_heading = HEADING)]
    retries: Option<u32>,
}

/// `--format`: commands that print results.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct FormatOption {
    /// Output format (default: table on a terminal, ndjson otherwise).
    #[arg(long, value_enum, help_heading = HEADING)]
    format: Option<Format>,
}

/// `-v`: every command.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct VerboseOption {
    /// Tracing on stderr (-v info, -vv debug, -vvv trace). Secrets are never printed.
    #[arg(short, long, action = clap::ArgAction::Count, help_heading = HEADING)]
    verbose: u8,
    /// What stderr carries: text (default) or json (one JSON object per line: level, message,
    /// target and the query's fields; warnings, errors and summaries included).
    #[arg(long, value_enum, value_name = "FORMAT", help_heading = HEADING)]
    log_format: Option<crate::logging::LogFormat>,
}

/// What `explain` takes: it reads the configuration and prints, but sends nothing.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct OfflineOptions {
    #[command(flatten)]
    config: ConfigOption,
    #[command(flatten)]
    format: FormatOption,
    #[command(flatten)]
    verbose: VerboseOption,
}

impl From<OfflineOptions> for Global {
    fn from(o: OfflineOptions) -> Self {
        Global {
            config: o.config,
            format: o.format,
            verbose: o.verbose,
            ..Global::default()
        }
    }
}

/// Every global option: the top level takes them all, and so do the commands that query.
#[derive(Debug, Clone, Default, Args)]
pub(crate) struct Global {
    #[command(flatten)]
    config: ConfigOption,
    #[command(flatten)]
    network: NetworkOptions,
    #[command(flatten)]
    format: FormatOption,
    #[command(flatten)]
    verbose: VerboseOption,
}

/// Which global option groups a command takes after its name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Takes {
    /// `--config`.
    pub(crate) config: bool,
    /// `--timeout`, `--retries`.
    pub(crate) network: bool,
    /// `--format`.
    pub(crate) format: bool,
}

impl Takes {
    /// Every option.
    pub(crate) const ALL: Takes = Takes {
        config: true,
        network: true,
        format: true,
    };
}

impl Global {
    /// `--format` and `-v` alone (`demo`; `sandbox` without the format).
    pub(crate) fn output_only(format: FormatOption, verbose: VerboseOption) -> Global {
        Global {
            format,
            verbose,
            ..Global::default()
        }
    }

    /// Joins the options given before the subcommand (`self`) with those given after it
    /// (`after`): after wins, `-v` counts add up. An option given before a command that does not
    /// take it is dropped and named in the list returned (the caller warns: a script that puts
    /// `--config` before every command keeps working).
    pub(crate) fn merge(self, after: Global, takes: Takes) -> (Global, Vec<&'static str>) {
        let mut ignored = Vec::new();
        let mut keep = |taken: bool, given: bool, flag: &'static str| {
            if given && !taken {
                ignored.push(flag);
            }
            taken
        };
        let config = keep(takes.config, self.config.config.is_some(), "--config");
        let timeout = keep(takes.network, self.network.timeout.is_some(), "--timeout");
        let retries = keep(takes.network, self.network.retries.is_some(), "--retries");
        let format = keep(takes.format, self.format.format.is_some(), "--format");
        let merged = Global {
            config: ConfigOption {
                config: after
                    .config
                    .config
                    .or(self.config.config.filter(|_| config)),
            },
            network: NetworkOptions {
                timeout: after
                    .network
                    .timeout
                    .or(self.network.timeout.filter(|_| timeout)),
                retries: after
                    .network
                    .retries
                    .or(self.network.retries.filter(|_| retries)),
            },
            format: FormatOption {
                format: after
                    .format
                    .format
                    .or(self.format.format.filter(|_| format)),
            },
            verbose: VerboseOption {
                verbose: self.verbose.verbose.saturating_add(after.verbose.verbose),
                log_format: after.verbose.log_format.or(self.verbose.log_format),
            },
        };
        (merged, ignored)
    }

    /// `--config`, if given.
    pub(crate) fn config(&self) -> Option<&Path> {
        self.config.config.as_deref()
    }

    /// `--format` as given (batch and reconcile pick their own default from the output file).
    pub(crate) fn format_given(&self) -> Option<Format> {
        self.format.format
    }

    /// `--format`, else a table on a terminal and NDJSON otherwise.
    pub(crate) fn format(&self) -> Format {
        self.format
            .format
            .unwrap_or(if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Ndjson
            })
    }

    /// How many `-v`.
    pub(crate) fn verbose(&self) -> u8 {
        self.verbose.verbose
    }

    /// `--log-format` (text unless given).
    pub(crate) fn log_format(&self) -> crate::logging::LogFormat {
        self.verbose.log_format.unwrap_or_default()
    }

    /// The HTTP settings `--timeout` and `--retries` make: the whole query within the timeout,
    /// an attempt within 10 s and a connection within 5 s (or the timeout, if shorter).
    pub(crate) fn http(&self) -> HttpConfig {
        let timeout = self.network.timeout.unwrap_or(DEFAULT_TIMEOUT);
        HttpConfig::default()
            .with_overall_timeout(timeout)
            .with_attempt_timeout(timeout.min(Duration::from_secs(10)))
            .with_connect_timeout(timeout.min(Duration::from_secs(5)))
            .with_retry(RetryPolicy::with_retries(
                self.network.retries.unwrap_or(DEFAULT_RETRIES),
            ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(config: Option<&str>, timeout: Option<u64>, format: Option<Format>, v: u8) -> Global {
        Global {
            config: ConfigOption {
                config: config.map(PathBuf::from),
            },
            network: NetworkOptions {
                timeout: timeout.map(Duration::from_secs),
                retries: None,
            },
            format: FormatOption { format },
            verbose: VerboseOption {
                verbose: v,
                log_format: None,
            },
        }
    }

    #[test]
    fn options_after_the_subcommand_win_and_verbosity_adds_up() {
        let before = given(Some("a.toml"), Some(5), Some(Format::Csv), 1);
        let after = given(Some("b.toml"), None, None, 2);
        let (merged, ignored) = before.merge(after, Takes::ALL);
        assert!(ignored.is_empty());
        assert_eq!(merged.config(), Some(Path::new("b.toml")));
        assert_eq!(merged.http().overall_timeout, Duration::from_secs(5));
        assert_eq!(merged.format_given(), Some(Format::Csv));
        assert_eq!(merged.verbose(), 3);
        let defaults = Global::default();
        assert_eq!(defaults.http().overall_timeout, DEFAULT_TIMEOUT);
    }

    #[test]
    fn an_option_before_a_command_that_ignores_it_is_dropped_and_named() {
        let sandbox = Takes {
            config: false,
            network: false,
            format: false,
        };
        let before = given(Some("a.toml"), Some(5), Some(Format::Json), 2);
        let (merged, ignored) = before.merge(Global::default(), sandbox);
        assert_eq!(ignored, ["--config", "--timeout", "--format"]);
        assert_eq!(merged.format_given(), None);
        assert_eq!(merged.config(), None);
        // -v applies everywhere.
        assert_eq!(merged.verbose(), 2);
    }
}
