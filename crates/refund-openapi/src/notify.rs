//! Refund callbacks: the gateway POSTs `{"param": "<JSON text>", "sign": "<base64>"}` signed with
//! its private key. Verify first, then read.

use refund_core::rsa_keys::RsaPublicKey;
use refund_core::{Currency, Error, Provider, Refund, Verification};

use crate::map::map_record;
use crate::sign::verify_param;
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
}

/// Verifies a callback body with the gateway's public key, then decodes it.
///
/// Nothing in `param` is read before its signature verifies; the body and the `param` text are
/// both parsed strictly (duplicate keys rejected). Answer the gateway with [`SUCCESS_REPLY`].
///
/// ```
/// # let platform = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!("../../../fixtures/keys/openapi_platform_2048.pem")).unwrap();
/// let param = r#"{"eventName":"payment.refund.success","refundTransactionId":"1818566685947465728","refundAmount":10000,"refundStatus":"COMPLETED"}"#;
/// let sign = refund_openapi::sign::sign_param(&platform, param).unwrap();
/// let body = serde_json::json!({"param": param, "sign": sign}).to_string();
/// let n = refund_openapi::notify::verify_notification(body.as_bytes(), platform.public_key(), refund_core::Currency::Cny).unwrap();
/// assert_eq!(n.event, refund_openapi::notify::RefundEvent::Succeeded);
/// assert_eq!(n.refund.amount.minor(), 10000);
/// ```
pub fn verify_notification(
    body: &[u8],
    gateway_public_key: &RsaPublicKey,
    currency: Currency,
) -> Result<RefundNotification, Error> {
    let (_, envelope) =
        refund_core::json::decode_strict::<NotificationBody>(Provider::OpenApi, body)?;
    verify_param(gateway_public_key, &envelope.param, &envelope.sign)?;
    let (_, param) = refund_core::json::decode_strict::<NotificationParam>(
        Provider::OpenApi,
        envelope.param.as_bytes(),
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
    refund.signature = Verification::Verified;
    Ok(RefundNotification {
        event,
        refund,
        param: envelope.param,
    })
}
