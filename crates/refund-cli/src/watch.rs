//! `refund watch`: poll with back-off until every refund found is final.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;

use refund_core::{RefundLookup, RefundProvider, RefundStatus};

use crate::args::LookupArgs;
use crate::config::ProviderArg;
use crate::error::{CliError, exit};
use crate::evidence::{EvidenceArgs, EvidenceDir};
use crate::options::Global;
use crate::output::{Format, write_refunds};

/// The next wait: ×1.5 while nothing changes, back to `interval` on a change, at most 8×.
fn next_wait(current: Duration, interval: Duration, changed: bool) -> Duration {
    if changed {
        interval
    } else {
        current.mul_f64(1.5).min(interval.saturating_mul(8))
    }
}

/// `refund watch` arguments.
#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// openapi, edgeros or cpos.
    #[arg(value_enum)]
    provider: ProviderArg,
    #[command(flatten)]
    lookup: LookupArgs,
    /// Time between polls at first (it backs off while nothing changes).
    #[arg(long, default_value = "5s", value_parser = crate::args::interval)]
    interval: Duration,
    /// Give up after this long (exit 1).
    #[arg(long, default_value = "10m", value_parser = crate::args::max_wait)]
    max_wait: Duration,
    #[command(flatten)]
    evidence: EvidenceArgs,
    #[command(flatten)]
    pub(crate) global: Global,
}

pub(crate) async fn run(
    config: Option<&Path>,
    global: &Global,
    args: WatchArgs,
) -> Result<u8, CliError> {
    let lookup = args.lookup.lookup();
    let client = crate::open::open_for_lookup(config, args.provider, global.http(), &lookup)?;
    let evidence = args.evidence.open()?;
    poll(
        client.as_ref(),
        &lookup,
        (args.interval, args.max_wait),
        global.format(),
        evidence.as_ref(),
    )
    .await
}

/// Polls every `interval` (backing off) until every refund found is final or `max_wait` has
/// passed; every answer is kept in `evidence` when given.
async fn poll(
    client: &dyn RefundProvider,
    lookup: &RefundLookup,
    (interval, max_wait): (Duration, Duration),
    format: Format,
    evidence: Option<&EvidenceDir>,
) -> Result<u8, CliError> {
    let deadline = Instant::now() + max_wait;
    let mut last: HashMap<String, String> = HashMap::new();
    let mut wait = interval;
    let mut warned = false;
    // The kind of passing trouble the last poll met: shown once when it starts or changes, and
    // once when the provider answers again.
    let mut trouble: Option<&'static str> = None;
    loop {
        // `--max-wait` is an overall deadline: no attempt outlives it.
        let left = deadline.saturating_duration_since(Instant::now());
        let (outcome, kept) =
            crate::open::query_found_within(client, lookup, evidence, Some(left)).await;
        let kept = kept?;
        crate::query::say_kept(evidence, kept.as_deref());
        let Some(outcome) = outcome else {
            let said = format!(
                "gave up after {}: not every refund is final yet",
                refund_core::http::humane(max_wait)
            );
            crate::logging::notice(&format!("refund: {said}"), &said);
            return Ok(exit::OTHER);
        };
        let mut changed = false;
        match outcome {
            Ok(refunds) => {
                if trouble.take().is_some() {
                    let said = format!("{} answers again", client.provider());
                    crate::logging::notice(&format!("refund: {said}"), &said);
                }
                if !warned {
                    warned = crate::open::warn_if_unverified(&refunds, lookup);
                }
                let changes: Vec<refund_core::Refund> = refunds
                    .iter()
                    .filter(|r| {
                        let key = r
                            .refund_id
                            .clone()
                            .or_else(|| r.merchant_refund_id.clone())
                            .unwrap_or_default();
                        let now = r.status.as_str().to_owned()
                            + "/"
                            + r.provider_status.as_deref().unwrap_or("");
                        last.insert(key, now.clone()).as_ref() != Some(&now)
                    })
                    .cloned()
                    .collect();
                if !changes.is_empty() {
                    changed = true;
                    let fmt = if format == Format::Json {
                        Format::Ndjson
                    } else {
                        format
                    };
                    let mut out = std::io::stdout().lock();
                    write_refunds(&mut out, fmt, &changes, kept.as_deref())
                        .map_err(|e| CliError::io(e.to_string()))?;
                }
                if refunds.iter().all(|r| r.status.is_terminal()) {
                    let all_succeeded = refunds.iter().all(|r| r.status == RefundStatus::Succeeded);
                    return Ok(if all_succeeded { exit::OK } else { exit::OTHER });
                }
            }
            // Passing trouble: keep polling until the deadline.
            Err(e) if e.is_retryable() => {
                if trouble != Some(e.kind()) {
                    let said = format!(
                        "{}; polling again until the deadline",
                        crate::output::one_line(&refund_core::error::chain_text(&e))
                    );
                    crate::logging::notice(&format!("refund: {said}"), &said);
                }
                trouble = Some(e.kind());
            }
            Err(e) => return Err(CliError::Sdk(e)),
        }
        wait = next_wait(wait, interval, changed);
        // `--max-wait` is honoured exactly: a wait that would end past it ends at it (and the
        // poll there has no time left, so the watch gives up then, not earlier).
        let left = deadline.saturating_duration_since(Instant::now());
        tokio::time::sleep(wait.min(left)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_and_resets() {
        let i = Duration::from_secs(2);
        assert_eq!(next_wait(i, i, false), Duration::from_secs(3));
        assert_eq!(
            next_wait(Duration::from_secs(15), i, false),
            Duration::from_secs(16)
        );
        assert_eq!(next_wait(Duration::from_secs(16), i, true), i);
    }
}
