//! EdgerOS Pay's JSON exactly as it travels.

use serde::{Deserialize, Deserializer, Serialize};

pub use refund_core::json::Text;

/// The HTTP `status` field: a JSON number, or a numeric string (`"200"`) that the SDK coerces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(transparent)]
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
#[derive(Debug, Clone, Deserialize, Serialize)]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct ResponseData {
    /// Merchant number.
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
    /// Business status (`SUCCESS`).
    pub code: Option<Text>,
    /// Description of `code`.
    pub description: Option<Text>,
    /// Refund reason.
    pub refund_reason: Option<Text>,
    /// RFC 3339 (`2024-04-24T17:15:21+08:00`).
    pub success_time: Option<Text>,
    /// `WECHAT_PAY`, `ALIPAY`, ...
    pub refund_channel: Option<Text>,
}
