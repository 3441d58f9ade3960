//! The end-of-batch summary on stderr: counts by status, amounts by status and currency (exact,
//! from the typed money), errors by kind, and how many answers were not verified.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use refund_core::{Currency, Provider};

use super::render::{Outcome, error_kind};

/// What the batch saw.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) inputs: u64,
    pub(crate) skipped: u64,
    refunds: u64,
    failed: u64,
    unverified: u64,
    by_status: BTreeMap<&'static str, u64>,
    /// Minor units per (status, currency), summed in i128: no overflow, no float.
    amounts: BTreeMap<(&'static str, Currency), i128>,
    errors: BTreeMap<&'static str, u64>,
    /// The same per provider (`None`: lines naming none that is known).
    by_provider: BTreeMap<Option<Provider>, ProviderCounts>,
    /// The pace each provider reached.
    pub(crate) paces: Vec<(Provider, crate::stream::pacer::Reached)>,
}

/// One provider's share of a batch.
#[derive(Debug, Default)]
struct ProviderCounts {
    lookups: u64,
    refunds: u64,
    failed: u64,
    /// Minor units per (status, currency).
    amounts: BTreeMap<(&'static str, Currency), i128>,
}

/// A provider as the summary names it.
fn provider_name(provider: Option<Provider>) -> &'static str {
    provider.map_or("no provider", Provider::as_str)
}

impl Summary {
    /// Counts one input's outcome (`provider`: its row's).
    pub(crate) fn add(&mut self, provider: Option<Provider>, outcome: &Outcome) {
        self.inputs += 1;
        let mine = self.by_provider.entry(provider).or_default();
        mine.lookups += 1;
        match outcome {
            Ok(refunds) => {
                for r in refunds {
                    mine.refunds += 1;
                    *mine
                        .amounts
                        .entry((r.status.as_str(), r.amount.currency()))
                        .or_default() += i128::from(r.amount.minor());
                    self.refunds += 1;
                    *self.by_status.entry(r.status.as_str()).or_default() += 1;
                    *self
                        .amounts
                        .entry((r.status.as_str(), r.amount.currency()))
                        .or_default() += i128::from(r.amount.minor());
                }
                self.unverified += crate::output::unverified(refunds) as u64;
            }
            Err(e) => {
                mine.failed += 1;
                self.failed += 1;
                *self.errors.entry(error_kind(e)).or_default() += 1;
            }
        }
    }

    /// Lookups that failed so far (for the progress bar).
    pub(crate) fn failed(&self) -> u64 {
        self.failed
    }

    /// Writes the summary on stderr: the text, or one JSON object (`--log-format json`) with
    /// the same counts as fields.
    pub(crate) fn report(&self, elapsed: Duration) {
        let mut fields = serde_json::Map::new();
        fields.insert("lookups".into(), self.inputs.into());
        fields.insert("elapsed_ms".into(), (elapsed.as_millis() as u64).into());
        fields.insert("refunds".into(), self.refunds.into());
        fields.insert("failed".into(), self.failed.into());
        fields.insert("skipped".into(), self.skipped.into());
        fields.insert("unverified".into(), self.unverified.into());
        fields.insert(
            "by_status".into(),
            serde_json::to_value(&self.by_status).unwrap_or_default(),
        );
        fields.insert(
            "errors_by_kind".into(),
            serde_json::to_value(&self.errors).unwrap_or_default(),
        );
        fields.insert("amounts".into(), amounts_json(&self.amounts));
        let by_provider: serde_json::Map<String, serde_json::Value> = self
            .by_provider
            .iter()
            .map(|(provider, c)| {
                let amounts = amounts_json(&c.amounts);
                let counts = serde_json::json!({
                    "lookups": c.lookups,
                    "refunds": c.refunds,
                    "failed": c.failed,
                    "amounts": amounts,
                });
                (provider.map_or("none", Provider::as_str).to_owned(), counts)
            })
            .collect();
        fields.insert("by_provider".into(), by_provider.into());
        fields.insert("pace".into(), crate::stream::pacer::summary(&self.paces).1);
        crate::logging::line(
            tracing::Level::INFO,
            &self.text(elapsed),
            "batch summary",
            fields,
        );
    }

    /// The summary text.
    pub(crate) fn text(&self, elapsed: Duration) -> String {
        let mut out = String::new();
        let rate = self.inputs as f64 / elapsed.as_secs_f64().max(1e-9);
        let _ = writeln!(
            out,
            "batch: {} lookups in {:.1}s ({rate:.0}/s): {} refunds found, {} lookups failed, {} skipped (already in output)",
            self.inputs,
            elapsed.as_secs_f64(),
            self.refunds,
            self.failed,
            self.skipped
        );
        for (provider, c) in &self.by_provider {
            let amounts: Vec<String> = c
                .amounts
                .iter()
                .map(|((status, currency), minor)| {
                    format!(
                        "{status} {} {}",
                        currency.format_minor_sum(*minor),
                        currency.code()
                    )
                })
                .collect();
            let _ = writeln!(
                out,
                "  {}: {} lookups, {} refunds found, {} failed{}",
                provider_name(*provider),
                c.lookups,
                c.refunds,
                c.failed,
                if amounts.is_empty() {
                    String::new()
                } else {
                    format!("; {}", amounts.join(", "))
                }
            );
        }
        out.push_str(&crate::stream::pacer::summary(&self.paces).0);
        let counts: Vec<String> = self
            .by_status
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = writeln!(out, "  by status: {}", list(&counts));
        for ((status, currency), minor) in &self.amounts {
            let _ = writeln!(
                out,
                "  amount {status}: {} {}",
                currency.format_minor_sum(*minor),
                currency.code()
            );
        }
        let errors: Vec<String> = self
            .errors
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(out, "  errors by kind: {}", list(&errors));
        if self.unverified > 0 {
            let _ = writeln!(
                out,
                "  WARNING: {} refunds NOT verified (signature missing or wrong; response_signature = \"optional\"): marked \"signature\": \"unverified\"",
                self.unverified
            );
        }
        out
    }
}

/// Sums per (status, currency) as JSON: `[{status, currency, amount}]`, amounts exact.
fn amounts_json(amounts: &BTreeMap<(&'static str, Currency), i128>) -> serde_json::Value {
    amounts
        .iter()
        .map(|((status, currency), minor)| {
            serde_json::json!({
                "status": status,
                "currency": currency.code(),
                "amount": currency.format_minor_sum(*minor),
            })
        })
        .collect::<Vec<_>>()
        .into()
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CliError;
    use refund_core::{Error, Money, Provider, Refund, RefundStatus, Verification};

    fn refund(minor: i64, currency: Currency, signature: Verification) -> Refund {
        let mut r = Refund::new(
            Provider::Cpos,
            Money::from_minor(minor, currency),
            RefundStatus::Succeeded,
        );
        r.signature = signature;
        r
    }

    #[test]
    fn sums_exactly_per_currency_and_counts_unverified() {
        let mut s = Summary::default();
        let cpos = Some(Provider::Cpos);
        s.add(
            cpos,
            &Ok(vec![refund(
                i64::MAX,
                Currency::Cny,
                Verification::Verified,
            )]),
        );
        s.add(
            cpos,
            &Ok(vec![refund(
                i64::MAX,
                Currency::Cny,
                Verification::Unverified,
            )]),
        );
        s.add(
            Some(Provider::Edgeros),
            &Ok(vec![refund(5, Currency::Jpy, Verification::Verified)]),
        );
        s.add(
            cpos,
            &Err(CliError::Sdk(Error::verify(Provider::Cpos, "bad"))),
        );
        s.add(None, &Err(CliError::usage("bad line")));
        let text = s.text(Duration::from_secs(1));
        assert!(text.contains("5 lookups"), "{text}");
        assert!(
            text.contains("amount succeeded: 184467440737095516.14 CNY"),
            "{text}"
        );
        assert!(text.contains("amount succeeded: 5 JPY"), "{text}");
        assert!(
            text.contains("errors by kind: invalid_input 1, signature 1"),
            "{text}"
        );
        assert!(text.contains("WARNING: 1 refunds NOT verified"), "{text}");
        assert_eq!(s.failed(), 2);
        assert!(
            text.contains(
                "  no provider: 1 lookups, 0 refunds found, 1 failed\n  edgeros: 1 lookups, 1 refunds found, 0 failed; succeeded 5 JPY\n  cpos: 3 lookups, 2 refunds found, 1 failed; succeeded 184467440737095516.14 CNY\n"
            ),
            "{text}"
        );
    }
}
