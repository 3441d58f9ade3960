//! EdgerOS Pay's JSON exactly as it travels, and its status vocabulary.

use refund_core::RefundStatus;
use serde::{Deserialize, Deserializer};

pub use refund_core::json::Text;

/// The HTTP `status` field: a JSON number, or a numeric string (`"200"`) that the SDK coerces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(pub i64);

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        text.parse()
            .map(StatusCode)
            .map_err(|_| serde::de::Error::custom(format!("status {text:?} is not an integer")))
    }
}

/// The answer: `{status, message, fieldErrors, data}`.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryResponse {
    /// 200 on success; an error status (1007...) otherwise.
    pub status: StatusCode,
    /// `SUCCESS` or an error name (`ORDER_NOT_EXIST`).
    #[serde(default)]
    pub message: Option<Text>,
    /// Error details (`此订单不存在!`).
    #[serde(default, rename = "fieldErrors")]
    pub field_errors: Option<Text>,
    /// The business fields and the signature.
    #[serde(default)]
    pub data: Option<ResponseData>,
}

/// `data`: every field is a string in the SDK's model.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseData {
    /// Merchant number: bound to the configured merchant on every answer.
    pub mch_no: Option<Text>,
    /// The platform's random nonce.
    pub nonce: Option<Text>,
    /// Base64 SHA256withRSA signature by the platform key.
    pub sign: Option<Text>,
    /// `SHA256withRSA`.
    pub sign_type: Option<Text>,
    /// Merchant order number.
    pub mch_trade_no: Option<Text>,
    /// Merchant refund number.
    pub mch_refund_no: Option<Text>,
    /// EdgerOS payment number.
    pub transaction_no: Option<Text>,
    /// EdgerOS refund number.
    pub refund_no: Option<Text>,
    /// Yuan, two decimals (`"0.01"`).
    pub refund_amount: Option<Text>,
    /// Business status (`SUCCESS`), see [`EdgerosStatus`].
    pub code: Option<Text>,
    /// Description of `code`.
    pub description: Option<Text>,
    /// Refund reason.
    pub refund_reason: Option<Text>,
    /// RFC 3339 (`2024-04-24T17:15:21+08:00`).
    pub success_time: Option<Text>,
    /// `WECHAT_PAY`, `ALIPAY`, ... (kept raw).
    pub refund_channel: Option<Text>,
}

/// The business status `data.code`. Only `SUCCESS` is documented; no public list of other values
/// exists, so everything else is kept raw and maps to [`RefundStatus::Unrecognized`].
///
/// ```
/// use refund_edgeros::wire::EdgerosStatus;
/// assert_eq!(EdgerosStatus::parse("SUCCESS").to_core(), refund_core::RefundStatus::Succeeded);
/// assert_eq!(EdgerosStatus::parse("REFUNDING").to_core(), refund_core::RefundStatus::Unrecognized("REFUNDING".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgerosStatus {
    /// `SUCCESS`
    Success,
    /// Anything else, raw.
    Other(String),
}

impl EdgerosStatus {
    /// Reads the raw `code`.
    ///
    /// ```
    /// assert_eq!(refund_edgeros::wire::EdgerosStatus::parse("X"), refund_edgeros::wire::EdgerosStatus::Other("X".into()));
    /// ```
    pub fn parse(raw: &str) -> Self {
        match raw {
            "SUCCESS" => EdgerosStatus::Success,
            other => EdgerosStatus::Other(other.to_owned()),
        }
    }

    /// The core status (exhaustive: a new variant forces a decision here).
    ///
    /// ```
    /// assert!(refund_edgeros::wire::EdgerosStatus::Success.to_core().is_terminal());
    /// ```
    pub fn to_core(&self) -> RefundStatus {
        match self {
            EdgerosStatus::Success => RefundStatus::Succeeded,
            EdgerosStatus::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}
