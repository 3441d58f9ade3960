//! Flags shared by several commands (the lookup flags) and flag values that need more than
//! clap's own parsers: durations and rates, each range-checked when it is parsed, so an extreme
//! value is a usage error (exit 2) naming the allowed range, never an overflow later.

use std::time::Duration;

use clap::Args;
use refund_core::http::humane;
use refund_core::{LookupKind, RefundLookup};

/// The most retries `--retries` allows.
pub(crate) const MAX_RETRIES: i64 = 10;
/// `--timeout`: 1 ms to 1 h.
const TIMEOUT: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(3600));
/// `watch --interval`: 10 ms to 1 h.
const INTERVAL: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(3600));
/// `watch --max-wait`: 1 ms to 7 days.
const MAX_WAIT: (Duration, Duration) = (Duration::from_millis(1), Duration::from_secs(7 * 86_400));
/// `reconcile --stuck-after`: 1 minute to 365 days.
const STUCK_AFTER: (Duration, Duration) =
    (Duration::from_secs(60), Duration::from_secs(365 * 86_400));
/// `batch --rps`: 0.01 to 100,000 queries per second.
pub(crate) const RPS: (f64, f64) = (0.01, 100_000.0);

/// Parses a duration within `[min, max]`: a sequence of numbers with units (`500ms`, `2s`,
/// `10m`, `1h30m`, `1.5s`, `3d`; units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d`, `w` and their
/// long names), and a bare number as seconds (as the flags always took it).
pub(crate) fn duration_in(
    text: &str,
    (min, max): (Duration, Duration),
) -> Result<Duration, String> {
    let text = text.trim();
    let range = || format!("from {} to {}", humane(min), humane(max));
    let out_of_range = || format!("{text} is out of range: allowed {}", range());
    let parsed = if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|_| out_of_range())?
    } else {
        match parse_duration(text) {
            Ok(Some(d)) => d,
            Ok(None) => return Err(out_of_range()),
            Err(why) => {
                return Err(format!(
                    "{text:?} is not a duration like 500ms, 2s, 10m or 1h30m: {why} ({})",
                    range()
                ));
            }
        }
    };
    Some(parsed)
        .filter(|d| (min..=max).contains(d))
        .ok_or_else(out_of_range)
}

/// Nanoseconds per unit name.
fn unit_nanos(unit: &str) -> Option<u128> {
    const S: u128 = 1_000_000_000;
    Some(match unit {
        "ns" | "nsec" | "nanos" => 1,
        "us" | "µs" | "usec" | "micros" => 1_000,
        "ms" | "msec" | "millis" => 1_000_000,
        "s" | "sec" | "secs" | "second" | "seconds" => S,
        "m" | "min" | "mins" | "minute" | "minutes" => 60 * S,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * S,
        "d" | "day" | "days" => 86_400 * S,
        "w" | "week" | "weeks" => 7 * 86_400 * S,
        _ => return None,
    })
}

/// A duration text, every step in checked arithmetic: `Ok(None)` when it is too large for any
/// flag (never a panic or a wrapped value). Hand-written because humantime 2 panics on such
/// input (`18446744073709551615.5s0.5s`: "overflow in Duration::new", found by `cli_flags`).
fn parse_duration(text: &str) -> Result<Option<Duration>, String> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err("it is empty".to_owned());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(digits_end);
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if whole.is_empty() || !plain(whole) || !plain(fraction) || number.ends_with('.') {
            return Err(format!("{number:?} is not a number"));
        }
        let Some(per_unit) = unit_nanos(unit) else {
            return Err(if unit.is_empty() {
                format!("{number} has no unit")
            } else {
                format!("unknown unit {unit:?}")
            });
        };
        // Past 40 digits no flag's range is near: too large, whatever follows.
        let Ok(whole) = whole.parse::<u128>() else {
            return Ok(None);
        };
        // Fraction digits beyond the 18th are below a nanosecond for every unit.
        let fraction = fraction.get(..fraction.len().min(18)).unwrap_or_default();
        let scale = 10_u128.pow(fraction.len() as u32);
        let fraction: u128 = if fraction.is_empty() {
            0
        } else {
            fraction
                .parse()
                .map_err(|_| format!("{number:?} is not a number"))?
        };
        let Some(step) = whole
            .checked_mul(per_unit)
            .and_then(|n| n.checked_add(fraction.checked_mul(per_unit)? / scale))
        else {
            return Ok(None);
        };
        let Some(sum) = total.checked_add(step) else {
            return Ok(None);
        };
        total = sum;
        rest = after.trim_start();
    }
    Ok(u64::try_from(total).ok().map(Duration::from_nanos))
}

/// `--timeout`.
pub(crate) fn timeout(text: &str) -> Result<Duration, String> {
    duration_in(text, TIMEOUT)
}

/// `watch --interval`.
pub(crate) fn interval(text: &str) -> Result<Duration, String> {
    duration_in(text, INTERVAL)
}

/// `watch --max-wait`.
pub(crate) fn max_wait(text: &str) -> Result<Duration, String> {
    duration_in(text, MAX_WAIT)
}

/// `batch --rps`: a finite number of queries per second within [`RPS`].
pub(crate) fn rps(text: &str) -> Result<f64, String> {
    let (min, max) = RPS;
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && (min..=max).contains(r))
        .ok_or_else(|| format!("{text:?} is not a rate from {min} to {max} queries per second"))
}

/// `reconcile --stuck-after`: `72h`, `3d`, … within 1 minute and 365 days.
pub(crate) fn stuck_after(text: &str) -> Result<Duration, String> {
    duration_in(text, STUCK_AFTER)
}

/// `explain request --nonce`: 1 to 128 visible ASCII characters (it travels in an HTTP header).
pub(crate) fn nonce(text: &str) -> Result<String, String> {
    if (1..=128).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic()) {
        Ok(text.to_owned())
    } else {
        Err("a nonce is 1 to 128 visible ASCII characters (no spaces)".to_owned())
    }
}

/// `explain request --timestamp`: 0 to 253402300799999 (the end of year 9999 in milliseconds).
pub(crate) const TIMESTAMP_MAX: i64 = 253_402_300_799_999;

/// Exactly one lookup flag.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct LookupArgs {
    /// The provider's refund id.
    #[arg(long, value_name = "ID")]
    refund_id: Option<String>,
    /// The merchant's refund id.
    #[arg(long, value_name = "ID")]
    merchant_refund_id: Option<String>,
    /// The original transaction id (may match several refunds).
    #[arg(long, value_name = "ID")]
    original_transaction_id: Option<String>,
    /// The channel trade number.
    #[arg(long, value_name = "ID")]
    channel_trade_no: Option<String>,
}

impl LookupArgs {
    pub(crate) fn lookup(&self) -> RefundLookup {
        let pairs = [
            (LookupKind::RefundId, &self.refund_id),
            (LookupKind::MerchantRefundId, &self.merchant_refund_id),
            (
                LookupKind::OriginalTransactionId,
                &self.original_transaction_id,
            ),
            (LookupKind::ChannelTradeNo, &self.channel_trade_no),
        ];
        pairs
            .into_iter()
            .find_map(|(kind, id)| id.as_ref().map(|id| RefundLookup::new(kind, id.clone())))
            .unwrap_or_else(|| RefundLookup::refund_id(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_within_their_range() {
        assert_eq!(timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(timeout("2"), Ok(Duration::from_secs(2)));
        assert_eq!(max_wait("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(timeout("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(timeout("1.5s"), Ok(Duration::from_millis(1_500)));
        assert!(
            timeout("3x")
                .unwrap_err()
                .starts_with("\"3x\" is not a duration like 500ms")
        );
        assert_eq!(stuck_after("3d"), Ok(Duration::from_secs(3 * 86_400)));
        assert!(
            stuck_after("18446744073709551615d")
                .unwrap_err()
                .contains("out of range: allowed from 1m to 8760h")
        );
        for bad in [
            "0",
            "0s",
            "18446744073709551615s",
            "18446744073709551615h",
            "2h",
            "-1s",
            "",
            "1ns",
            "1.5.5s",
            "NaN",
            "18446744073709551615.5s0.5s",
            "340282366920938463463374607431768211455s",
            "99999999999999999999999999999999999999999999999s",
            "1.s",
            ".5s",
            "1s 2",
            "5 x",
        ] {
            assert!(timeout(bad).is_err(), "{bad}");
        }
        assert!(
            timeout("2h")
                .unwrap_err()
                .contains("allowed from 1ms to 1h")
        );
        assert_eq!(max_wait("168h"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(timeout("59m 59.5s"), Ok(Duration::from_millis(3_599_500)));
        assert_eq!(timeout("0.001s"), Ok(Duration::from_millis(1)));
        assert_eq!(timeout("2 min"), Ok(Duration::from_secs(120)));
        assert_eq!(max_wait("1w"), Ok(Duration::from_secs(7 * 86_400)));
        // #29.18: found by `cli_flags` (humantime panicked): out of range, named, never a panic.
        for flag in [timeout, interval, max_wait, stuck_after] {
            let e = flag("18446744073709551615.5s0.5s").unwrap_err();
            assert!(e.contains("out of range: allowed from"), "{e}");
        }
        assert!(interval("5ms").is_err());
    }

    #[test]
    fn rates_are_finite_and_bounded() {
        assert_eq!(rps("300"), Ok(300.0));
        for bad in ["1e-30", "1e308", "NaN", "inf", "-1", "0", ""] {
            assert!(rps(bad).is_err(), "{bad}");
        }
    }
}
