//! The sandbox's data: refunds, their timelines and the faults to inject (JSON or TOML).

use std::path::Path;

use chrono::{DateTime, Utc};
use refund_core::{Currency, Money, Provider, RefundStatus};
use serde::{Deserialize, Serialize};

/// Everything the sandbox serves. See `docs/sandbox.md` for the format.
///
/// ```
/// let s = refund_sandbox::Scenario::from_toml(r#"
/// [[refunds]]
/// provider = "cpos"
/// refund_id = "WX1"
/// amount = "0.50"
/// status = "succeeded"
/// "#).unwrap();
/// assert_eq!(s.refunds.len(), 1);
/// ```
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Scenario {
    /// The refunds each provider knows.
    #[serde(default)]
    pub refunds: Vec<SandboxRefund>,
    /// Faults to inject.
    #[serde(default)]
    pub faults: Vec<FaultRule>,
    /// When set, any lookup id starting with this prefix that is not in `refunds` answers with a
    /// generated, succeeded refund (for load tests with millions of ids).
    #[serde(default)]
    pub synthetic_prefix: Option<String>,
    /// How far an Open API `timestamp` may be from the sandbox's clock (default 300 s).
    #[serde(default)]
    pub openapi_timestamp_window_secs: Option<u64>,
    /// A PEM private key the sandbox signs its EdgerOS answers with instead of its platform key:
    /// a rotated platform key, to try a client holding the old and the new end to end. A
    /// relative path is relative to the scenario file ([`Scenario::from_file`]) or else to the
    /// current folder.
    #[serde(default)]
    pub edgeros_signing_key: Option<std::path::PathBuf>,
    /// Each provider's rate limit and latency (`[[pace]]`): over the limit, HTTP 429 with
    /// `Retry-After`; every answer after its latency and jitter.
    #[serde(default)]
    pub pace: Vec<crate::pace::ProviderPace>,
}

/// A refund as the sandbox stores it; each provider renders it in its own wire format.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SandboxRefund {
    /// Which provider serves it.
    pub provider: Provider,
    /// The provider's refund id.
    pub refund_id: String,
    /// The merchant's refund id.
    #[serde(default)]
    pub merchant_refund_id: Option<String>,
    /// The original transaction id.
    #[serde(default)]
    pub original_transaction_id: Option<String>,
    /// The merchant's order id (EdgerOS `mch_trade_no`).
    #[serde(default)]
    pub merchant_order_id: Option<String>,
    /// CPOS `channel_trade_no`.
    #[serde(default)]
    pub channel_trade_no: Option<String>,
    /// Major units, decimal text (`"100.00"`).
    pub amount: String,
    /// Currency (default CNY).
    #[serde(default)]
    pub currency: Option<Currency>,
    /// Fee refunded, major units (Open API only).
    #[serde(default)]
    pub fee_refunded: Option<String>,
    /// The final status (after the timeline, if any).
    pub status: RefundStatus,
    /// The provider's raw status text, to override the default rendering of `status` (use it for
    /// unknown values: `status = "unrecognized"`, `provider_status = "REVIEWING"`).
    #[serde(default)]
    pub provider_status: Option<String>,
    /// Failure code.
    #[serde(default)]
    pub failure_code: Option<String>,
    /// Failure message.
    #[serde(default)]
    pub failure_message: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
    /// Completion time.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// Refund channel, raw.
    #[serde(default)]
    pub channel: Option<String>,
    /// Refund reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// CPOS only: WeChat's own status in `attach` (`SUCCESS`, `PROCESSING`, `REFUNDCLOSE`, `CHANGE`).
    #[serde(default)]
    pub wechat_status: Option<String>,
    /// Processing first, then `status`.
    #[serde(default)]
    pub timeline: Option<Timeline>,
}

impl SandboxRefund {
    /// A refund with the required fields; everything else unset.
    ///
    /// ```
    /// use refund_core::{Provider, RefundStatus};
    /// let r = refund_sandbox::SandboxRefund::new(Provider::Edgeros, "AR1", "0.01", RefundStatus::Succeeded);
    /// assert_eq!(r.amount, "0.01");
    /// ```
    pub fn new(
        provider: Provider,
        refund_id: impl Into<String>,
        amount: impl Into<String>,
        status: RefundStatus,
    ) -> Self {
        SandboxRefund {
            provider,
            refund_id: refund_id.into(),
            merchant_refund_id: None,
            original_transaction_id: None,
            merchant_order_id: None,
            channel_trade_no: None,
            amount: amount.into(),
            currency: None,
            fee_refunded: None,
            status,
            provider_status: None,
            failure_code: None,
            failure_message: None,
            created_at: None,
            completed_at: None,
            channel: None,
            reason: None,
            wechat_status: None,
            timeline: None,
        }
    }

    /// The amount as exact money.
    pub fn money(&self) -> Result<Money, ScenarioError> {
        let currency = self.currency.unwrap_or(Currency::Cny);
        Money::from_major_str(&self.amount, currency)
            .map_err(|e| ScenarioError::Invalid(format!("refund {}: amount: {e}", self.refund_id)))
    }

    /// The fee as exact money.
    pub fn fee_money(&self) -> Result<Option<Money>, ScenarioError> {
        let currency = self.currency.unwrap_or(Currency::Cny);
        self.fee_refunded
            .as_deref()
            .map(|f| Money::from_major_str(f, currency))
            .transpose()
            .map_err(|e| {
                ScenarioError::Invalid(format!("refund {}: fee_refunded: {e}", self.refund_id))
            })
    }
}

/// A refund that is `processing` for its first queries or for a while, then reaches its status.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Timeline {
    /// Answer `processing` to this many queries first.
    #[serde(default)]
    pub processing_queries: Option<u32>,
    /// Answer `processing` for this many milliseconds after the sandbox started.
    #[serde(default)]
    pub processing_ms: Option<u64>,
}

impl Timeline {
    /// Processing for the first `n` queries.
    ///
    /// ```
    /// let t = refund_sandbox::Timeline::queries(2);
    /// assert_eq!(t.processing_queries, Some(2));
    /// ```
    pub fn queries(n: u32) -> Self {
        Timeline {
            processing_queries: Some(n),
            processing_ms: None,
        }
    }
}

/// A fault and where it applies. Without `provider` and `refund_id` it applies to everything.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FaultRule {
    /// Only this provider's requests.
    #[serde(default)]
    pub provider: Option<Provider>,
    /// Only requests looking up this id (any id kind).
    #[serde(default)]
    pub refund_id: Option<String>,
    /// Only the first N matching requests, then the fault is gone (tests retries).
    #[serde(default)]
    pub times: Option<u32>,
    /// What happens.
    pub fault: Fault,
}

impl FaultRule {
    /// A fault on one provider.
    ///
    /// ```
    /// use refund_sandbox::{Fault, FaultRule};
    /// let r = FaultRule::provider(refund_core::Provider::Cpos, Fault::Http500Html).times(1);
    /// assert_eq!(r.times, Some(1));
    /// ```
    pub fn provider(provider: Provider, fault: Fault) -> Self {
        FaultRule {
            provider: Some(provider),
            refund_id: None,
            times: None,
            fault,
        }
    }

    /// A fault on lookups of one id.
    pub fn refund_id(id: impl Into<String>, fault: Fault) -> Self {
        FaultRule {
            provider: None,
            refund_id: Some(id.into()),
            times: None,
            fault,
        }
    }

    /// Limits the fault to the first `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
}

/// What the sandbox does instead of (or on top of) a normal answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long, then answer normally.
    Latency {
        /// Milliseconds.
        ms: u64,
    },
    /// HTTP 500 with an HTML error page.
    Http500Html,
    /// HTTP 429 with `Retry-After: 1`.
    TooManyRequests,
    /// A complete HTTP answer whose JSON is cut in half.
    TruncatedBody,
    /// HTTP 200 with a body that is not JSON at all.
    MalformedJson,
    /// A normal answer with a wrong signature (EdgerOS, CPOS; Open API answers are unsigned).
    WrongSignature,
    /// Half the body, then the connection is dropped.
    ConnectionReset,
    /// Headers, then a byte now and then, forever (until the client gives up).
    NeverEnding,
    /// A valid answer padded to this many bytes.
    OversizedBody {
        /// Total size in bytes.
        bytes: usize,
    },
    /// A valid answer's start, then spaces as fast as the client reads them, chunked with no
    /// declared length, forever: the client must stop at its body limit, not at a timeout.
    EndlessBody,
    /// The provider's genuine, correctly signed answer about another refund, whatever was asked:
    /// a replayed or substituted answer. Clients must reject it as a mismatch.
    AnswerFor {
        /// The provider refund id whose answer is sent instead.
        refund_id: String,
    },
    /// EdgerOS: the normal answer, correctly signed, but naming another merchant (`data.mch_no`).
    /// Other providers echo no merchant and answer normally.
    ForeignMerchant {
        /// The merchant number the answer names.
        mch_no: String,
    },
}

/// A scenario could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid scenario.
    #[error("invalid scenario: {0}")]
    Invalid(String),
}

impl Scenario {
    /// Parses a TOML scenario.
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        let s: Scenario =
            toml::from_str(text).map_err(|e| ScenarioError::Invalid(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Parses a JSON scenario.
    ///
    /// ```
    /// let s = refund_sandbox::Scenario::from_json(r#"{"refunds":[],"faults":[{"provider":"cpos","fault":{"kind":"http500_html"}}]}"#).unwrap();
    /// assert_eq!(s.faults.len(), 1);
    /// ```
    pub fn from_json(text: &str) -> Result<Self, ScenarioError> {
        let s: Scenario =
            serde_json::from_str(text).map_err(|e| ScenarioError::Invalid(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Reads a `.toml` or `.json` file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let mut scenario = if path.extension().is_some_and(|e| e == "json") {
            Self::from_json(&text)?
        } else {
            Self::from_toml(&text)?
        };
        if let (Some(key), Some(dir)) = (&mut scenario.edgeros_signing_key, path.parent()) {
            if key.is_relative() {
                *key = dir.join(&*key);
            }
        }
        Ok(scenario)
    }

    /// Checks every amount.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        for r in &self.refunds {
            r.money()?;
            r.fee_money()?;
        }
        for p in &self.pace {
            p.validate()?;
            if self
                .pace
                .iter()
                .filter(|q| q.provider == p.provider)
                .count()
                > 1
            {
                return Err(ScenarioError::Invalid(format!(
                    "pace {}: given twice",
                    p.provider
                )));
            }
        }
        Ok(())
    }
}
