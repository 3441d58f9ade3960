//! CPOS JSON exactly as it travels.

use serde::{Deserialize, Serialize};

pub use refund_core::json::Text;

/// The request body.
///
/// ```
/// let b = refund_cpos::wire::QueryRequestBody { accessid: "cpostest", refund_no: Some("WX1"), out_refund_no: None, channel_trade_no: None, sign: "AB" };
/// assert_eq!(serde_json::to_string(&b).unwrap(), r#"{"accessid":"cpostest","refund_no":"WX1","sign":"AB"}"#);
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct QueryRequestBody<'a> {
    /// The merchant's access id.
    pub accessid: &'a str,
    /// The platform's refund number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refund_no: Option<&'a str>,
    /// The service provider's (merchant's) refund number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out_refund_no: Option<&'a str>,
    /// The voucher barcode trade number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_trade_no: Option<&'a str>,
    /// MD5 signature, upper-case hex.
    pub sign: &'a str,
}

/// The answer. Amounts are yuan strings; `refund_amount` can be negative.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct QueryResponse {
    /// 10000 on success.
    pub return_code: Option<Text>,
    /// Refunded amount, yuan (negative: money leaving the merchant).
    pub refund_amount: Option<String>,
    /// Order total, yuan.
    pub total_amount: Option<String>,
    /// Fee rate.
    pub rate: Option<Text>,
    /// Fee, yuan.
    pub fee: Option<String>,
    /// 1 success (accepted), 2 failed, 3 unknown.
    pub refund_status: Option<Text>,
    /// The platform's refund number.
    pub refund_no: Option<String>,
    /// The merchant's refund number.
    pub out_refund_no: Option<String>,
    /// Voucher barcode trade number.
    pub channel_trade_no: Option<String>,
    /// Error code.
    pub error_code: Option<Text>,
    /// Error message.
    pub error_msg: Option<String>,
    /// Already refunded, yuan.
    pub refunded_amount: Option<String>,
    /// Still refundable, yuan.
    pub remanent_amount: Option<String>,
    /// Who originally subsidised the fee.
    pub fee_subsidy_party: Option<String>,
    /// Original fee subsidy, yuan.
    pub orig_fee_subsidy_amount: Option<String>,
    /// Fee subsidy already refunded, yuan.
    pub refunded_subsidy_amount: Option<String>,
    /// Fee subsidy not yet refunded, yuan.
    pub remanent_subsidy_amount: Option<String>,
    /// Fee subsidy actually refunded this time, yuan.
    pub real_fee_subsidy_amount: Option<String>,
    /// WeChat's native answer (an object, or JSON text holding one).
    #[serde(default, deserialize_with = "refund_core::json::value_or_json_text")]
    pub attach: Option<Attach>,
    /// MD5 signature, upper-case hex.
    pub sign: Option<String>,
}

/// WeChat Pay's native refund-query fields (fen strings). The `_0` suffixed names of WeChat's
/// refund query are accepted as aliases.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Attach {
    /// `SUCCESS` / `FAIL`.
    pub result_code: Option<String>,
    /// `SYSTEMERROR`, `REFUNDNOTEXIST`, ...
    pub err_code: Option<String>,
    /// Error description.
    pub err_code_des: Option<String>,
    /// Sub-merchant app id.
    pub sub_appid: Option<String>,
    /// Sub-merchant id.
    pub sub_mch_id: Option<Text>,
    /// WeChat's nonce.
    pub nonce_str: Option<String>,
    /// WeChat's signature (with the merchant's WeChat key, which we do not hold).
    pub sign: Option<String>,
    /// Merchant refund number.
    #[serde(alias = "out_refund_no_0")]
    pub out_refund_no: Option<String>,
    /// WeChat refund id.
    #[serde(alias = "refund_id_0")]
    pub refund_id: Option<String>,
    /// Refund total, fen.
    #[serde(alias = "refund_fee_0")]
    pub refund_fee: Option<Text>,
    /// Currency (`CNY`).
    pub refund_fee_type: Option<String>,
    /// Cash refunded, fen.
    pub cash_refund_fee: Option<Text>,
    /// Coupons refunded, fen.
    #[serde(alias = "coupon_refund_fee_0")]
    pub coupon_refund_fee: Option<Text>,
    /// Coupon details (an array, or JSON text holding one).
    #[serde(default, deserialize_with = "refund_core::json::value_or_json_text")]
    pub refund_detail: Option<Vec<Coupon>>,
    /// `SUCCESS`, `REFUNDCLOSE`, `PROCESSING`, `CHANGE`.
    #[serde(alias = "refund_status_0")]
    pub refund_status: Option<String>,
    /// `ORIGINAL`, `BALANCE`, `OTHER_BALANCE`, `OTHER_BANKCARD`.
    #[serde(alias = "refund_channel_0")]
    pub refund_channel: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, China time.
    #[serde(alias = "refund_success_time_0")]
    pub refund_success_time: Option<String>,
}

/// One coupon in `refund_detail` (amounts in fen).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Coupon {
    /// Coupon or discount id.
    pub promotion_id: Option<Text>,
    /// `GLOBAL` or `SINGLE`.
    pub scope: Option<String>,
    /// `COUPON` or `DISCOUNT`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Face value, fen.
    pub amount: Option<Text>,
    /// Refunded, fen.
    pub refund_amount: Option<Text>,
}
