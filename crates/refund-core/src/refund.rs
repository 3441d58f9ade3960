//! The normalised refund record.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::provider::Provider;
use crate::status::RefundStatus;

/// How far an answer's signature was checked: every [`Refund`] says so, and the CLI prints it as
/// the `signature` field.
///
/// ```
/// use refund_core::Verification;
/// assert_eq!(Verification::Verified.as_str(), "verified");
/// assert_eq!(serde_json::to_string(&Verification::NotSigned).unwrap(), "\"not_signed\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verification {
    /// The provider's signature was checked and is good: the fields it covers are the provider's.
    Verified,
    /// The answer's signature was missing or wrong and a lenient policy accepted it anyway
    /// (CPOS `response_signature = "optional"`): anyone on the path could have written it.
    Unverified,
    /// The protocol has no response signature (the Open API gateway): only TLS vouches for it.
    NotSigned,
}

impl Verification {
    /// The snake-case name: `verified`, `unverified`, `not_signed`.
    ///
    /// ```
    /// assert_eq!(refund_core::Verification::Unverified.as_str(), "unverified");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Verification::Verified => "verified",
            Verification::Unverified => "unverified",
            Verification::NotSigned => "not_signed",
        }
    }
}

/// What a provider's signature check found: how far the answer was verified and, when it was,
/// the fingerprint of the key that verified it (a platform may have several live keys while it
/// rotates them).
///
/// ```
/// use refund_core::{SignatureCheck, Verification};
/// let check = SignatureCheck::verified_by("SHA256:ab".to_owned());
/// assert_eq!(check.verification, Verification::Verified);
/// assert_eq!(SignatureCheck::from(Verification::NotSigned).key, None);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SignatureCheck {
    /// How far the answer was verified.
    pub verification: Verification,
    /// The fingerprint (`SHA256:` and hex) of the key that verified it; `None` unless verified
    /// by a public key (a shared secret has no public fingerprint to name).
    pub key: Option<String>,
}

impl SignatureCheck {
    /// Verified by the key with `fingerprint`.
    pub fn verified_by(fingerprint: String) -> Self {
        SignatureCheck {
            verification: Verification::Verified,
            key: Some(fingerprint),
        }
    }
}

impl From<Verification> for SignatureCheck {
    fn from(verification: Verification) -> Self {
        SignatureCheck {
            verification,
            key: None,
        }
    }
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One refund as a provider reported it, normalised.
///
/// Fields a provider does not send are `None`: never a made-up default. Build one with
/// [`Refund::new`] and set the optional fields (the struct is `#[non_exhaustive]` so fields can
/// be added without breaking users).
///
/// ```
/// use refund_core::{Currency, Money, Provider, Refund, RefundStatus};
/// let mut r = Refund::new(Provider::Cpos, Money::from_minor(50, Currency::Cny), RefundStatus::Succeeded);
/// r.refund_id = Some("WX200324161500830790814539".into());
/// assert_eq!(r.amount.to_string(), "0.50 CNY");
/// assert!(r.completed_at.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// Which provider answered.
    pub provider: Provider,
    /// The provider's own refund id (`refundTransactionId`, `refund_no`).
    pub refund_id: Option<String>,
    /// The merchant's refund id (`mchRefundOrderId`, `mch_refund_no`, `out_refund_no`).
    pub merchant_refund_id: Option<String>,
    /// The provider's id of the original payment (`originalTransactionId`, `transaction_no`).
    pub original_transaction_id: Option<String>,
    /// The merchant's id of the original order, where the provider sends it.
    pub merchant_order_id: Option<String>,
    /// The refunded amount, positive (see each provider's docs for sign conventions).
    pub amount: Money,
    /// The fee the provider gave back, where reported.
    pub fee_refunded: Option<Money>,
    /// The normalised status.
    pub status: RefundStatus,
    /// The provider's raw status text, exactly as received (`"COMPLETED"`, `"1"`).
    pub provider_status: Option<String>,
    /// The provider's failure code, as text (`"-10010"`).
    pub failure_code: Option<String>,
    /// The provider's failure message.
    pub failure_message: Option<String>,
    /// When the refund was created.
    pub created_at: Option<DateTime<Utc>>,
    /// When the provider finished processing it (succeeded, failed or cancelled).
    pub completed_at: Option<DateTime<Utc>>,
    /// The refund channel, raw (`"WECHAT_PAY"`, `"ORIGINAL"`).
    pub channel: Option<String>,
    /// The refund reason or the provider's description.
    pub reason: Option<String>,
    /// How the answer this refund came from was verified. [`Refund::new`] starts at
    /// [`Verification::Unverified`] (claiming nothing); the pipeline sets what it really checked.
    pub signature: Verification,
}

impl Refund {
    /// A refund with the three facts every provider must send; everything else `None`.
    ///
    /// ```
    /// use refund_core::{Currency, Money, Provider, Refund, RefundStatus};
    /// let r = Refund::new(Provider::OpenApi, Money::zero(Currency::Cny), RefundStatus::Processing);
    /// assert!(r.refund_id.is_none());
    /// assert_eq!(r.signature, refund_core::Verification::Unverified);
    /// ```
    pub fn new(provider: Provider, amount: Money, status: RefundStatus) -> Self {
        Refund {
            provider,
            refund_id: None,
            merchant_refund_id: None,
            original_transaction_id: None,
            merchant_order_id: None,
            amount,
            fee_refunded: None,
            status,
            provider_status: None,
            failure_code: None,
            failure_message: None,
            created_at: None,
            completed_at: None,
            channel: None,
            reason: None,
            signature: Verification::Unverified,
        }
    }
}

/// One line: the id, the status (with the provider's own word), the amount and how the answer
/// was verified — what a log line or an example prints; explanations use it too.
///
/// ```
/// use refund_core::{Currency, Money, Provider, Refund, RefundStatus};
/// let mut r = Refund::new(Provider::Cpos, Money::from_minor(50, Currency::Cny), RefundStatus::Succeeded);
/// r.refund_id = Some("WX1".into());
/// r.provider_status = Some("1".into());
/// assert_eq!(r.to_string(), "WX1: succeeded (provider status 1), 0.50 CNY, signature unverified");
/// ```
impl fmt::Display for Refund {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self
            .refund_id
            .as_deref()
            .or(self.merchant_refund_id.as_deref())
            .unwrap_or("(no id)");
        write!(
            f,
            "{id}: {} (provider status {}), {}, signature {}",
            self.status,
            self.provider_status.as_deref().unwrap_or("none"),
            self.amount,
            self.signature.as_str()
        )
    }
}
