//! `refund explain`: how a request is signed and why an answer is (not) trusted, offline, from
//! the SDK's own pipeline (the explanation of an answer ends exactly where `query` would).

use std::io::{Read, Write};
use std::path::PathBuf;

use clap::Subcommand;
use refund_core::explain::{Conclusion, QueryExplanation, RequestExplanation, ResponseExplanation};
use refund_core::http::HttpConfig;

use crate::options::OfflineOptions;
use refund_core::{Error, RefundLookup, RefundProvider};
use serde::Serialize;

use crate::args::LookupArgs;
use crate::config::{Config, Pins, ProviderArg};
use crate::error::{CliError, exit, sdk_exit_code};
use crate::output::{Format, Record};

/// `refund explain`: the global options it takes, and what to explain.
#[derive(Debug, clap::Args)]
pub(crate) struct ExplainArgs {
    #[command(flatten)]
    pub(crate) options: OfflineOptions,
    #[command(subcommand)]
    pub(crate) command: ExplainCommand,
}

/// `refund explain request|response`.
#[derive(Debug, Subcommand)]
pub(crate) enum ExplainCommand {
    /// Show how a request is signed (parameters, signed text, digest, signature, key
    /// fingerprint, the exact wire request). Nothing is sent.
    Request {
        /// openapi, edgeros or cpos.
        #[arg(value_enum)]
        provider: ProviderArg,
        #[command(flatten)]
        lookup: LookupArgs,
        /// EdgerOS: sign with this nonce instead of a random one (to reproduce an example).
        #[arg(long, value_parser = crate::args::nonce)]
        nonce: Option<String>,
        /// Open API: sign with this timestamp (in the configured unit) instead of now.
        #[arg(long, value_parser = clap::value_parser!(i64).range(0..=crate::args::TIMESTAMP_MAX))]
        timestamp: Option<i64>,
        #[command(flatten)]
        options: OfflineOptions,
    },
    /// Check a captured answer body (or an evidence file of `--evidence`) step by step; exits
    /// with the code query would have.
    // An evidence file names its lookup: the flags are optional here (checked when it runs).
    #[command(mut_group("LookupArgs", |g| g.required(false)))]
    Response {
        /// openapi, edgeros or cpos.
        #[arg(value_enum)]
        provider: ProviderArg,
        /// The lookup the answer is for (an evidence file names its own: a flag given must
        /// agree with it).
        #[command(flatten)]
        lookup: Option<LookupArgs>,
        /// The answer body or an evidence file: a file, or - (the default) for standard input.
        #[arg(value_name = "FILE")]
        file: Option<PathBuf>,
        #[command(flatten)]
        options: OfflineOptions,
    },
}

impl ExplainCommand {
    /// The global options given after `explain request` or `explain response`.
    pub(crate) fn options(&self) -> OfflineOptions {
        match self {
            ExplainCommand::Request { options, .. } | ExplainCommand::Response { options, .. } => {
                options.clone()
            }
        }
    }
}

/// Runs `refund explain`.
pub(crate) async fn run(
    config: Option<&std::path::Path>,
    format: Format,
    command: ExplainCommand,
) -> Result<u8, CliError> {
    // Nothing is sent: only the body limit of the HTTP settings matters (the default one).
    let http = HttpConfig::default();
    match command {
        ExplainCommand::Request {
            provider,
            lookup,
            nonce,
            timestamp,
            ..
        } => {
            refuse_unused_pin(provider, nonce.is_some(), timestamp.is_some())?;
            let lookup = lookup.lookup();
            let pins = Pins { nonce, timestamp };
            let client = Config::load(config)?.client_pinned(provider, http, &pins)?;
            crate::open::check_lookup(client.as_ref(), &lookup)?;
            let explained = client.explain_request(&lookup).await?;
            print_request(&explained, format)?;
            Ok(exit::OK)
        }
        ExplainCommand::Response {
            provider,
            lookup,
            file,
            ..
        } => {
            let limit = http.max_body_bytes;
            let client = Config::load(config)?.client(provider, http)?;
            // An evidence file holds the body base64-encoded beside the request: read up to
            // what a body at the limit makes of it.
            let read = read_body(
                file.as_ref(),
                limit / 3 * 4 + 1024 * 1024,
                client.provider(),
            )?;
            let (lookup, body) = match crate::evidence::parse(&read) {
                Some(kept) => {
                    let kept = kept.map_err(CliError::usage)?;
                    let (lookup, answer) =
                        answer_of_evidence(kept, client.provider(), lookup.as_ref())?;
                    crate::open::check_lookup(client.as_ref(), &lookup)?;
                    match answer {
                        Ok(body) if body.len() <= limit => (lookup, body),
                        Ok(_) => {
                            return Err(Error::BodyTooLarge {
                                provider: client.provider(),
                                limit,
                            }
                            .into());
                        }
                        // The answer query would have turned into an error: the same error.
                        Err(e) => return Err(e),
                    }
                }
                None => {
                    let Some(lookup) = lookup else {
                        return Err(CliError::usage(
                            "a bare answer needs its lookup: one of --refund-id, --merchant-refund-id, --original-transaction-id, --channel-trade-no (an evidence file names its own)",
                        ));
                    };
                    if read.len() > limit {
                        return Err(Error::BodyTooLarge {
                            provider: client.provider(),
                            limit,
                        }
                        .into());
                    }
                    let lookup = lookup.lookup();
                    crate::open::check_lookup(client.as_ref(), &lookup)?;
                    (lookup, read)
                }
            };
            let explained = client.explain_response(&lookup, &body)?;
            print_response(explained, client.as_ref(), &lookup, format)
        }
    }
}

/// The lookup and answer an evidence file holds: its own lookup (`given` flags must agree), and
/// its body, or, for an answer that was not a success, the error `query` made of it.
fn answer_of_evidence(
    kept: crate::evidence::EvidenceFile,
    provider: refund_core::Provider,
    given: Option<&LookupArgs>,
) -> Result<(RefundLookup, Result<Vec<u8>, CliError>), CliError> {
    if kept.provider != provider {
        return Err(CliError::usage(format!(
            "the evidence file holds a {} answer, not {provider}",
            kept.provider
        )));
    }
    let kind: refund_core::LookupKind = kept.lookup.kind.parse().map_err(CliError::usage)?;
    let lookup = RefundLookup::new(kind, kept.lookup.id.clone());
    if let Some(given) = given.map(LookupArgs::lookup)
        && given != lookup
    {
        return Err(CliError::usage(format!(
            "the evidence file is the answer for {} {}, not {} {}",
            lookup.kind(),
            crate::output::one_line(lookup.id()),
            given.kind(),
            crate::output::one_line(given.id()),
        )));
    }
    let body = kept.answer.body().map_err(CliError::usage)?;
    let status = kept.answer.status;
    if !(200..300).contains(&status) {
        let retry_after = kept
            .answer
            .headers
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
            .and_then(|(_, value)| {
                let received = chrono::DateTime::parse_from_rfc3339(&kept.received_at).ok()?;
                refund_core::http::parse_retry_after(value, received.into())
            });
        let error = Error::HttpStatus {
            provider,
            status,
            body_excerpt: refund_core::error::excerpt(&body),
            retry_after,
        };
        return Ok((lookup, Err(error.into())));
    }
    Ok((lookup, Ok(body)))
}

/// A pin the provider does not use would be silently ignored: say so instead.
fn refuse_unused_pin(provider: ProviderArg, nonce: bool, timestamp: bool) -> Result<(), CliError> {
    if nonce && provider != ProviderArg::Edgeros {
        return Err(CliError::usage(
            "--nonce applies to edgeros only (openapi signs a --timestamp; cpos signs neither)",
        ));
    }
    if timestamp && provider != ProviderArg::Openapi {
        return Err(CliError::usage(
            "--timestamp applies to openapi only (edgeros signs a --nonce; cpos signs neither)",
        ));
    }
    Ok(())
}

/// Reads the answer body, refusing more than the HTTP body limit (as a live query would).
fn read_body(
    file: Option<&PathBuf>,
    limit: usize,
    provider: refund_core::Provider,
) -> Result<Vec<u8>, CliError> {
    let mut body = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let read = match file.filter(|f| f.as_os_str() != "-") {
        Some(path) => std::fs::File::open(path)
            .and_then(|f| f.take(cap).read_to_end(&mut body))
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display()))),
        None => std::io::stdin()
            .lock()
            .take(cap)
            .read_to_end(&mut body)
            .map_err(|e| CliError::io(format!("cannot read standard input: {e}"))),
    };
    read?;
    if body.len() > limit {
        return Err(Error::BodyTooLarge { provider, limit }.into());
    }
    Ok(body)
}

/// The failing step's highlight, for [`anstream`] to keep on a colour terminal and strip
/// elsewhere (a pipe, a file, `NO_COLOR`).
fn highlight() -> (String, String) {
    let style = anstyle::Style::new()
        .bold()
        .fg_color(Some(anstyle::AnsiColor::Red.into()));
    (format!("{style}"), format!("{style:#}"))
}

fn print_request(explained: &RequestExplanation, format: Format) -> Result<(), CliError> {
    let text = match format {
        Format::Table => explained.to_string(),
        Format::Json => pretty(explained)?,
        Format::Ndjson => compact(explained)?,
        Format::Csv => return Err(csv_refused()),
    };
    write_stdout(&text)
}

/// An answer's explanation as `--format json|ndjson` prints it: the explanation's fields, then
/// the refunds as `query` prints them and the exit code `query` would have exited with.
#[derive(Debug, Serialize)]
struct ResponseOutput<'a> {
    #[serde(flatten)]
    explanation: &'a ResponseExplanation,
    refunds: Vec<Record<'a>>,
    exit_code: u8,
}

/// Prints an answer's explanation; returns the exit code `query` would have exited with (an
/// empty answer is "not found", as there).
fn print_response(
    mut explained: ResponseExplanation,
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    format: Format,
) -> Result<u8, CliError> {
    // The result is not part of the serialised explanation: take it out to apply the CLI's rule.
    let result = std::mem::replace(&mut explained.result, Ok(Vec::new()));
    let answered_none = matches!(explained.conclusion, Conclusion::Refunds { count: 0, .. });
    let found = crate::open::found(client.provider(), lookup, result);
    let exit_code = match &found {
        Ok(_) => exit::OK,
        Err(e) => sdk_exit_code(e),
    };
    let output = ResponseOutput {
        explanation: &explained,
        refunds: found.iter().flatten().map(Record::new).collect(),
        exit_code,
    };
    let text = match format {
        Format::Table => {
            let mut text = String::new();
            let (on, off) = highlight();
            explained
                .write_text(&mut text, (&on, &off))
                .map_err(|e| CliError::io(e.to_string()))?;
            let why = if answered_none {
                ": an empty answer is not found"
            } else {
                ""
            };
            format!("{text}exit code: {exit_code} (as `refund query` would exit{why})\n")
        }
        Format::Json => pretty(&output)?,
        Format::Ndjson => compact(&output)?,
        Format::Csv => return Err(csv_refused()),
    };
    if let Ok(refunds) = &found {
        crate::open::warn_if_unverified(refunds, lookup);
    }
    write_stdout(&text)?;
    Ok(exit_code)
}

/// For `query --explain` (and `-vv`): every attempt's request and the answer's checks, on
/// stderr, so stdout keeps the query's own output.
pub(crate) fn print_query(explained: &QueryExplanation) {
    let mut text = String::new();
    for (i, request) in explained.requests.iter().enumerate() {
        text.push_str(&format!("-- attempt {}\n{request}", i + 1));
    }
    match &explained.response {
        Ok(response) => {
            let (on, off) = highlight();
            let _ = response.write_text(&mut text, (&on, &off));
        }
        Err(e) => text.push_str(&format!(
            "-- no answer: {}\n",
            crate::output::one_line(&refund_core::error::chain_text(e))
        )),
    }
    if crate::logging::json() {
        let mut fields = serde_json::Map::new();
        fields.insert(
            "requests".into(),
            serde_json::to_value(&explained.requests).unwrap_or_default(),
        );
        match &explained.response {
            Ok(response) => {
                fields.insert(
                    "response".into(),
                    serde_json::to_value(response).unwrap_or_default(),
                );
            }
            Err(e) => {
                fields.insert(
                    "error".into(),
                    crate::output::error_object(
                        e.kind(),
                        &refund_core::error::chain_text(e),
                        Some(e),
                    ),
                );
            }
        }
        crate::logging::line(tracing::Level::INFO, &text, "query explained", fields);
        return;
    }
    let mut stderr = anstream::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
}

fn csv_refused() -> CliError {
    CliError::usage("explain prints text (--format table) or JSON (--format json or ndjson)")
}

fn pretty(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::io(e.to_string()))
}

fn compact(value: &impl serde::Serialize) -> Result<String, CliError> {
    serde_json::to_string(value)
        .map(|s| s + "\n")
        .map_err(|e| CliError::io(e.to_string()))
}

fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| CliError::io(e.to_string()))
}
