//! A provider's pace, as the sandbox plays it: a rate limit it does not publish (a token bucket:
//! over it, HTTP 429 with `Retry-After`) and a base latency with jitter on every answer, so a
//! client's adaptive pacing can be tried by hand and measured.

use std::sync::Mutex;
use std::time::Duration;

use refund_core::Provider;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::scenario::ScenarioError;

/// One provider's limit and latency (scenario `[[pace]]`, `refund sandbox --rps …`).
///
/// ```
/// let s = refund_sandbox::Scenario::from_toml(
///     "[[pace]]\nprovider = \"cpos\"\nrps = 20\nlatency_ms = 200\njitter_ms = 20\n",
/// ).unwrap();
/// assert_eq!(s.pace[0].burst(), 2.0);
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ProviderPace {
    /// Which provider.
    pub provider: Provider,
    /// Answers per second it allows (a token bucket refilled at this rate); none: no limit.
    #[serde(default)]
    pub rps: Option<f64>,
    /// The bucket's size: how many may come at once (default a tenth of a second's worth, at
    /// least 1).
    #[serde(default)]
    pub burst: Option<u32>,
    /// Every answer (not the 429s) waits this long first.
    #[serde(default)]
    pub latency_ms: u64,
    /// Plus a uniform extra of up to this many milliseconds.
    #[serde(default)]
    pub jitter_ms: u64,
}

impl ProviderPace {
    /// No limit and no latency, for `provider`.
    pub fn new(provider: Provider) -> Self {
        ProviderPace {
            provider,
            rps: None,
            burst: None,
            latency_ms: 0,
            jitter_ms: 0,
        }
    }

    /// At most `rps` answers per second, `burst` at once (`None`: a tenth of a second's worth).
    pub fn limit(mut self, rps: f64, burst: Option<u32>) -> Self {
        self.rps = Some(rps);
        self.burst = burst;
        self
    }

    /// Every answer after `latency_ms`, plus up to `jitter_ms`.
    pub fn latency(mut self, latency_ms: u64, jitter_ms: u64) -> Self {
        self.latency_ms = latency_ms;
        self.jitter_ms = jitter_ms;
        self
    }

    /// The bucket's size: `burst`, or a tenth of a second's worth of `rps` (at least 1).
    pub fn burst(&self) -> f64 {
        match (self.burst, self.rps) {
            (Some(b), _) => f64::from(b),
            (None, Some(rps)) => (rps / 10.0).floor().max(1.0),
            (None, None) => 1.0,
        }
    }

    /// Checks every number is in range.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        let bad = |what: String| {
            Err(ScenarioError::Invalid(format!(
                "pace {}: {what}",
                self.provider
            )))
        };
        if let Some(rps) = self.rps
            && !(rps.is_finite() && (0.01..=1_000_000.0).contains(&rps))
        {
            return bad(format!("rps {rps} is not within 0.01 to 1000000"));
        }
        if self.burst.is_some_and(|b| !(1..=1_000_000).contains(&b)) {
            return bad("burst must be 1 to 1000000".to_owned());
        }
        if self.latency_ms > 60_000 || self.jitter_ms > 60_000 {
            return bad("latency_ms and jitter_ms are at most 60000".to_owned());
        }
        Ok(())
    }
}

/// A token bucket: `rate` tokens per second, at most `burst` held, full at the start.
#[derive(Debug)]
pub(crate) struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    pub(crate) fn new(rate: f64, burst: f64, now: Instant) -> Self {
        Bucket {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token at `now`, or says how long until one is there.
    pub(crate) fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// Every provider's pace in force: its bucket, its latency, and a small generator for jitter.
#[derive(Debug, Default)]
pub(crate) struct Paces {
    providers: Vec<(ProviderPace, Option<Mutex<Bucket>>)>,
    jitter: Mutex<u64>,
}

impl Paces {
    pub(crate) fn new(paces: Vec<ProviderPace>, now: Instant) -> Self {
        let providers = paces
            .into_iter()
            .map(|p| {
                let bucket = p
                    .rps
                    .map(|rps| Mutex::new(Bucket::new(rps, p.burst(), now)));
                (p, bucket)
            })
            .collect();
        Paces {
            providers,
            jitter: Mutex::new(0x9E37_79B9_7F4A_7C15),
        }
    }

    fn of(&self, provider: Provider) -> Option<&(ProviderPace, Option<Mutex<Bucket>>)> {
        self.providers.iter().find(|(p, _)| p.provider == provider)
    }

    /// `Err(retry after)` when `provider` is over its limit now.
    pub(crate) fn admit(&self, provider: Provider, now: Instant) -> Result<(), Duration> {
        match self.of(provider) {
            Some((_, Some(bucket))) => bucket.lock().unwrap_or_else(|p| p.into_inner()).take(now),
            _ => Ok(()),
        }
    }

    /// How long `provider`'s next answer waits (its latency plus jitter).
    pub(crate) fn delay(&self, provider: Provider) -> Duration {
        let Some((pace, _)) = self.of(provider) else {
            return Duration::ZERO;
        };
        let jitter = if pace.jitter_ms == 0 {
            0
        } else {
            // xorshift64: spread, not secret.
            let mut x = self.jitter.lock().unwrap_or_else(|p| p.into_inner());
            *x ^= *x << 13;
            *x ^= *x >> 7;
            *x ^= *x << 17;
            *x % pace.jitter_ms.saturating_mul(1000).saturating_add(1)
        };
        // Saturating: a pace built in code is not range-checked like a scenario's.
        Duration::from_millis(pace.latency_ms).saturating_add(Duration::from_micros(jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(20.0, 2.0, start);
        assert_eq!(bucket.take(start), Ok(()));
        assert_eq!(bucket.take(start), Ok(()));
        let wait = bucket.take(start).unwrap_err();
        assert!((wait.as_secs_f64() - 0.05).abs() < 1e-9, "{wait:?}");
        // 50 ms later, one more token; over a second, twenty.
        assert_eq!(bucket.take(start + Duration::from_millis(50)), Ok(()));
        let mut admitted = 0;
        for ms in (51..1051).step_by(1) {
            if bucket.take(start + Duration::from_millis(ms)).is_ok() {
                admitted += 1;
            }
        }
        assert_eq!(admitted, 20);
    }

    #[test]
    fn ranges_are_checked_and_burst_defaults_to_a_tenth_of_a_second() {
        assert_eq!(
            ProviderPace::new(Provider::Cpos).limit(500.0, None).burst(),
            50.0
        );
        assert_eq!(
            ProviderPace::new(Provider::Cpos).limit(5.0, None).burst(),
            1.0
        );
        assert!(
            ProviderPace::new(Provider::Cpos)
                .limit(0.0, None)
                .validate()
                .is_err()
        );
        assert!(
            ProviderPace::new(Provider::Cpos)
                .limit(f64::NAN, None)
                .validate()
                .is_err()
        );
        assert!(
            ProviderPace::new(Provider::Cpos)
                .limit(1.0, Some(0))
                .validate()
                .is_err()
        );
        assert!(
            ProviderPace::new(Provider::Cpos)
                .latency(60_001, 0)
                .validate()
                .is_err()
        );
        let paces = Paces::new(
            vec![ProviderPace::new(Provider::Cpos).latency(10, 5)],
            Instant::now(),
        );
        for _ in 0..100 {
            let d = paces.delay(Provider::Cpos);
            assert!(
                d >= Duration::from_millis(10) && d <= Duration::from_millis(15),
                "{d:?}"
            );
        }
        assert_eq!(paces.delay(Provider::Edgeros), Duration::ZERO);
        assert_eq!(paces.admit(Provider::Cpos, Instant::now()), Ok(()));
    }
}
