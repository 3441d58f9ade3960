//! The end-of-batch summary on stderr: counts by status, amounts by status and currency (exact,
//! from the typed money), errors by kind, and how many answers were not verified.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use refund_core::Currency;

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
}

impl Summary {
    /// Counts one input's outcome.
    pub(crate) fn add(&mut self, outcome: &Outcome) {
        self.inputs += 1;
        match outcome {
            Ok(refunds) => {
                for r in refunds {
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
        let amounts: Vec<serde_json::Value> = self
            .amounts
            .iter()
            .map(|((status, currency), minor)| {
                serde_json::json!({
                    "status": status,
                    "currency": currency.code(),
                    "amount": currency.format_minor_sum(*minor),
                })
            })
            .collect();
        fields.insert("amounts".into(), amounts.into());
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
        s.add(&Ok(vec![refund(
            i64::MAX,
            Currency::Cny,
            Verification::Verified,
        )]));
        s.add(&Ok(vec![refund(
            i64::MAX,
            Currency::Cny,
            Verification::Unverified,
        )]));
        s.add(&Ok(vec![refund(5, Currency::Jpy, Verification::Verified)]));
        s.add(&Err(CliError::Sdk(Error::verify(Provider::Cpos, "bad"))));
        s.add(&Err(CliError::usage("bad line")));
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
    }
}
