//! Refund callbacks: the gateway POSTs `{"param": "<JSON text>", "sign": "<base64>"}` signed with
//! its private key. Verify first, then read; then deduplicate ([`CallbackState`]), because a
//! verified callback can be replayed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use refund_core::rsa_keys::PublicKeySet;
use refund_core::{Currency, Error, Provider, Refund, RefundStatus, Verification};

use crate::map::map_record;
use crate::wire::{NotificationBody, NotificationParam};

/// The exact body the merchant must answer a callback with.
pub const SUCCESS_REPLY: &str = r#"{"code":10000,"message":"Success"}"#;

/// The callback's event.
///
/// ```
/// use refund_openapi::notify::RefundEvent;
/// assert_eq!(RefundEvent::parse("payment.refund.success"), RefundEvent::Succeeded);
/// assert_eq!(RefundEvent::parse("payment.x"), RefundEvent::Unrecognized("payment.x".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundEvent {
    /// `payment.refund.success`
    Succeeded,
    /// `payment.refund.failed`
    Failed,
    /// `payment.refund.cancel`
    Cancelled,
    /// Any other event name, raw.
    Unrecognized(String),
}

impl RefundEvent {
    /// Reads the raw `eventName`.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "payment.refund.success" => RefundEvent::Succeeded,
            "payment.refund.failed" => RefundEvent::Failed,
            "payment.refund.cancel" => RefundEvent::Cancelled,
            other => RefundEvent::Unrecognized(other.to_owned()),
        }
    }
}

/// A verified refund callback.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundNotification {
    /// The event.
    pub event: RefundEvent,
    /// The refund, mapped into core.
    pub refund: Refund,
    /// The verified `param` text, for audit logs.
    pub param: String,
    /// The fingerprint of the gateway key (of the set) that verified it.
    pub verified_by: String,
}

/// Verifies a callback body with the gateway's public keys (one, or the old and the new while the
/// gateway rotates its key: any of them may have signed it), then decodes it.
///
/// Nothing in `param` is read before its signature verifies; the body and the `param` text are
/// both parsed strictly (duplicate keys rejected). The key that verified it is named in
/// [`RefundNotification::verified_by`]. Answer the gateway with [`SUCCESS_REPLY`].
///
/// ```
/// # let platform = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_platform_2048.pem"))).unwrap();
/// let param = r#"{"eventName":"payment.refund.success","refundTransactionId":"1818566685947465728","refundAmount":10000,"refundStatus":"COMPLETED"}"#;
/// let sign = refund_openapi::sign::sign_canonical(&platform, param).unwrap();
/// let body = serde_json::json!({"param": param, "sign": sign}).to_string();
/// let keys = refund_core::rsa_keys::PublicKeySet::from(platform.public_key().clone());
/// let n = refund_openapi::notify::verify_notification(body.as_bytes(), &keys, refund_core::Currency::Cny).unwrap();
/// assert_eq!(n.event, refund_openapi::notify::RefundEvent::Succeeded);
/// assert_eq!(n.verified_by, platform.public_key().fingerprint());
/// assert_eq!(n.refund.amount.minor(), 10000);
/// ```
pub fn verify_notification(
    body: &[u8],
    gateway_public_keys: &PublicKeySet,
    currency: Currency,
) -> Result<RefundNotification, Error> {
    let (_, envelope) =
        refund_core::json::decode_strict::<NotificationBody>(Provider::OpenApi, body)?;
    let key = gateway_public_keys
        .verify_base64(envelope.param.as_bytes(), &envelope.sign)
        .map_err(|e| {
            Error::verify(Provider::OpenApi, "callback `sign` over `param`").caused_by(e)
        })?;
    let mut notification = decode_param(envelope.param, currency, Verification::Verified)?;
    notification.verified_by = key.to_owned();
    Ok(notification)
}

/// Fuzz targets only (feature `fuzzing`): what [`verify_notification`] does once the signature
/// has verified, so mutated payloads reach the decoding.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub fn decode_param_for_fuzzing(
    param: String,
    currency: Currency,
) -> Result<RefundNotification, Error> {
    decode_param(param, currency, Verification::Unverified)
}

/// Decodes a verified `param` (strictly) into a notification.
fn decode_param(
    param_text: String,
    currency: Currency,
    verification: Verification,
) -> Result<RefundNotification, Error> {
    let (_, param) = refund_core::json::decode_strict::<NotificationParam>(
        Provider::OpenApi,
        param_text.as_bytes(),
    )?;
    let event = param
        .event_name
        .as_deref()
        .map(RefundEvent::parse)
        .ok_or_else(|| {
            Error::decode(
                Provider::OpenApi,
                "param.eventName",
                "null",
                "missing event name",
            )
        })?;
    let mut refund = map_record(&param.refund, currency, "param")?;
    refund.signature = verification;
    Ok(RefundNotification {
        event,
        refund,
        param: param_text,
        verified_by: String::new(),
    })
}

/// What a receiver should do with a verified callback, given what it already holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallbackDecision {
    /// News: act on it (it has been recorded).
    Apply,
    /// The same `param` was seen before: a retry by the gateway, or a replay. Answer
    /// [`SUCCESS_REPLY`] and do nothing.
    Duplicate,
    /// Older than the state held (an earlier status after a final one, or an earlier time): a
    /// late delivery or a replay. Answer [`SUCCESS_REPLY`] and do nothing.
    Stale,
    /// A different final status for a refund that already has one (succeeded, then failed):
    /// never applied automatically; a person should look.
    Conflict,
    /// The callback names no refund id, so it cannot be deduplicated: do not act on it blindly.
    Unidentified,
}

/// What a receiver holds per refund.
#[derive(Debug, Clone)]
struct Held {
    status: RefundStatus,
    at: Option<DateTime<Utc>>,
    param: String,
}

/// The latest verified state per refund id: the reference for deduplicating callbacks.
///
/// [`verify_notification`] proves the gateway signed a callback, **not that it is new**: a
/// verified callback can be replayed, and deliveries can arrive late or out of order. Feed every
/// verified notification to [`CallbackState::observe`] and act only on
/// [`CallbackDecision::Apply`]. The rules: the same `param` again is a duplicate; after a final
/// status, any other status is stale (or a conflict, when it is a different final one); a
/// callback whose time (`refundReturnTime`, else `refundCreateTime`) is earlier than the held one
/// is stale. This keeps state in memory; a production receiver keeps the same three facts per
/// refund in its database, in the transaction that applies the change.
///
/// ```
/// # let platform = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/keys/openapi_platform_2048.pem"))).unwrap();
/// use refund_openapi::notify::{self, CallbackDecision, CallbackState};
/// let param = r#"{"eventName":"payment.refund.success","refundTransactionId":"R1","refundAmount":5,"refundStatus":"COMPLETED"}"#;
/// let body = serde_json::json!({"param": param, "sign": refund_openapi::sign::sign_canonical(&platform, param).unwrap()}).to_string();
/// let keys = refund_core::rsa_keys::PublicKeySet::from(platform.public_key().clone());
/// let mut state = CallbackState::new();
/// let n = notify::verify_notification(body.as_bytes(), &keys, refund_core::Currency::Cny).unwrap();
/// assert_eq!(state.observe(&n), CallbackDecision::Apply);
/// // The very same, verified again: a replay.
/// let again = notify::verify_notification(body.as_bytes(), &keys, refund_core::Currency::Cny).unwrap();
/// assert_eq!(state.observe(&again), CallbackDecision::Duplicate);
/// ```
#[derive(Debug, Default)]
pub struct CallbackState {
    held: HashMap<String, Held>,
}

impl CallbackState {
    /// An empty state.
    ///
    /// ```
    /// assert!(refund_openapi::notify::CallbackState::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// How many refunds are held.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Decides about a verified notification and, when it is news, records it.
    pub fn observe(&mut self, notification: &RefundNotification) -> CallbackDecision {
        let refund = &notification.refund;
        let Some(key) = refund
            .refund_id
            .as_ref()
            .or(refund.merchant_refund_id.as_ref())
        else {
            return CallbackDecision::Unidentified;
        };
        let incoming = Held {
            status: refund.status.clone(),
            at: refund.completed_at.or(refund.created_at),
            param: notification.param.clone(),
        };
        let decision = match self.held.get(key) {
            None => CallbackDecision::Apply,
            Some(held) if held.param == incoming.param => CallbackDecision::Duplicate,
            Some(held) if held.status.is_terminal() && held.status != incoming.status => {
                if incoming.status.is_terminal() {
                    CallbackDecision::Conflict
                } else {
                    CallbackDecision::Stale
                }
            }
            Some(held) => match (held.at, incoming.at) {
                (Some(held_at), Some(at)) if at < held_at => CallbackDecision::Stale,
                _ => CallbackDecision::Apply,
            },
        };
        if decision == CallbackDecision::Apply {
            self.held.insert(key.clone(), incoming);
        }
        decision
    }
}
