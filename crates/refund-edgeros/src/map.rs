//! Verified EdgerOS answers → core types (pure).

use refund_core::rsa_keys::RsaPublicKey;
use refund_core::{Currency, Error, Money, Provider, Refund, RefundStatus, time};

use crate::sign::verify_response;
use crate::wire::{QueryResponse, Text};

/// The success status.
pub const STATUS_OK: i64 = 200;
/// "Order does not exist": mapped to [`Error::NotFound`].
pub const STATUS_ORDER_NOT_EXIST: i64 = 1007;

/// The business status `code`. Only `SUCCESS` is documented; no public list of other values
/// exists, so everything else is kept raw and maps to [`RefundStatus::Unrecognized`].
///
/// ```
/// use refund_edgeros::map::BusinessCode;
/// assert_eq!(BusinessCode::parse("SUCCESS").to_core(), refund_core::RefundStatus::Succeeded);
/// assert_eq!(BusinessCode::parse("REFUNDING").to_core(), refund_core::RefundStatus::Unrecognized("REFUNDING".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusinessCode {
    /// `SUCCESS`
    Success,
    /// Anything else, raw.
    Other(String),
}

impl BusinessCode {
    /// Reads the raw `code`.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "SUCCESS" => BusinessCode::Success,
            other => BusinessCode::Other(other.to_owned()),
        }
    }

    /// The core status (exhaustive).
    pub fn to_core(&self) -> RefundStatus {
        match self {
            BusinessCode::Success => RefundStatus::Succeeded,
            BusinessCode::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}

/// The refund channel, an open set (`WECHAT_PAY` is the documented example).
///
/// ```
/// use refund_edgeros::map::RefundChannel;
/// assert_eq!(RefundChannel::parse("WECHAT_PAY"), RefundChannel::WechatPay);
/// assert_eq!(RefundChannel::parse("UNIONPAY").as_str(), "UNIONPAY");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefundChannel {
    /// `WECHAT_PAY`
    WechatPay,
    /// `ALIPAY`
    Alipay,
    /// Anything else, raw.
    Other(String),
}

impl RefundChannel {
    /// Reads the raw channel.
    pub fn parse(raw: &str) -> Self {
        match raw {
            "WECHAT_PAY" => RefundChannel::WechatPay,
            "ALIPAY" => RefundChannel::Alipay,
            other => RefundChannel::Other(other.to_owned()),
        }
    }

    /// The wire text.
    pub fn as_str(&self) -> &str {
        match self {
            RefundChannel::WechatPay => "WECHAT_PAY",
            RefundChannel::Alipay => "ALIPAY",
            RefundChannel::Other(raw) => raw,
        }
    }
}

fn text(field: &Option<Text>) -> Option<String> {
    field.as_ref().map(|Text(s)| s.clone())
}

/// Parses, verifies (see [`crate::sign::verify_response`]) and maps a response body.
///
/// Nothing is read from the body before its signature verifies. Status 200 gives the refund;
/// 1007 / `ORDER_NOT_EXIST` is [`Error::NotFound`]; any other status is [`Error::Business`]
/// with `status`, `message` and `fieldErrors`.
///
/// ```
/// # let platform = refund_core::rsa_keys::RsaPrivateKey::from_text(include_str!("../../../fixtures/keys/edgeros_platform.pem")).unwrap();
/// let body = br#"{"status":500,"message":"SYSTEM_ERROR","fieldErrors":null,"data":null}"#;
/// let err = refund_edgeros::map::map_response_body(body, platform.public_key()).unwrap_err();
/// assert_eq!(err.code().as_deref(), Some("500"));
/// ```
pub fn map_response_body(body: &[u8], platform_key: &RsaPublicKey) -> Result<Vec<Refund>, Error> {
    let value = refund_core::json::parse_strict(body).map_err(|e| Error::Decode {
        provider: Provider::Edgeros,
        field: "body".to_owned(),
        value: refund_core::error::excerpt(body),
        reason: format!("not a valid JSON document: {e}"),
        source: Some(Box::new(e)),
    })?;
    verify_response(platform_key, &value)?;
    let response: QueryResponse = refund_core::json::decode_value(Provider::Edgeros, &value)?;
    map_response(&response).map(|refund| vec![refund])
}

/// Maps a response that has already been verified.
///
/// ```
/// let r: refund_edgeros::wire::QueryResponse = serde_json::from_str(r#"{"status":1007,"message":"ORDER_NOT_EXIST","fieldErrors":"此订单不存在!"}"#).unwrap();
/// assert!(refund_edgeros::map::map_response(&r).unwrap_err().is_not_found());
/// ```
pub fn map_response(response: &QueryResponse) -> Result<Refund, Error> {
    let message = text(&response.message).unwrap_or_default();
    let status = response.status.0;
    if status != STATUS_OK {
        let detail = match text(&response.field_errors) {
            Some(fe) if !fe.is_empty() => format!("{message}: {fe}"),
            _ => message.clone(),
        };
        if status == STATUS_ORDER_NOT_EXIST || message == "ORDER_NOT_EXIST" {
            return Err(Error::NotFound {
                provider: Provider::Edgeros,
                code: status.to_string(),
                message: detail,
            });
        }
        return Err(Error::Business {
            provider: Provider::Edgeros,
            code: status.to_string(),
            message: detail,
            meaning: None,
        });
    }
    let data = response.data.as_ref().ok_or_else(|| {
        Error::decode(Provider::Edgeros, "data", "null", "status 200 without data")
    })?;
    let raw_code = text(&data.code).ok_or_else(|| {
        Error::decode(
            Provider::Edgeros,
            "data.code",
            "null",
            "missing business status",
        )
    })?;
    let raw_amount = text(&data.refund_amount).ok_or_else(|| {
        Error::decode(
            Provider::Edgeros,
            "data.refund_amount",
            "null",
            "missing refund amount",
        )
    })?;
    let amount = Money::from_major_str(&raw_amount, Currency::Cny).map_err(|e| {
        Error::decode(
            Provider::Edgeros,
            "data.refund_amount",
            &raw_amount,
            e.kind.to_string(),
        )
    })?;
    let status = BusinessCode::parse(&raw_code).to_core();
    let mut refund = Refund::new(Provider::Edgeros, amount, status.clone());
    refund.provider_status = Some(raw_code);
    refund.refund_id = text(&data.refund_no);
    refund.merchant_refund_id = text(&data.mch_refund_no);
    refund.original_transaction_id = text(&data.transaction_no);
    refund.merchant_order_id = text(&data.mch_trade_no);
    refund.channel = text(&data.refund_channel).filter(|c| !c.is_empty());
    refund.reason = text(&data.refund_reason).filter(|r| !r.is_empty());
    if status != RefundStatus::Succeeded {
        refund.failure_message = text(&data.description).filter(|d| !d.is_empty());
    }
    refund.completed_at = match text(&data.success_time).as_deref() {
        None | Some("") => None,
        Some(t) => Some(time::parse_rfc3339("data.success_time", t).map_err(|e| {
            Error::decode(
                Provider::Edgeros,
                "data.success_time",
                t,
                format!("not a valid {} timestamp", e.expected),
            )
        })?),
    };
    Ok(refund)
}
