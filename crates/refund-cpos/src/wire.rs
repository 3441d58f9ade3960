//! CPOS JSON exactly as it travels, and its status vocabularies.

use std::borrow::Cow;

use refund_core::json::FlatObject;
use refund_core::{LookupKind, Provider, RefundLookup, RefundStatus};
use serde::{Deserialize, Serialize};

pub use refund_core::json::Text;

/// The field that carries a lookup's id, in requests and answers alike: the one mapping from
/// lookup kind to the wire's name that signing, the binding check, explanations, the sandbox's
/// emulator and the tests all use.
///
/// ```
/// use refund_core::LookupKind;
/// use refund_cpos::wire::{IdField, id_field};
/// assert_eq!(id_field(LookupKind::MerchantRefundId), Some(IdField::OutRefundNo));
/// assert_eq!(IdField::OutRefundNo.name(), "out_refund_no");
/// assert_eq!(id_field(LookupKind::OriginalTransactionId), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    /// `refund_no`: the platform's refund number.
    RefundNo,
    /// `out_refund_no`: the merchant's refund number.
    OutRefundNo,
    /// `channel_trade_no`: the voucher barcode trade number.
    ChannelTradeNo,
}

/// The field a lookup of `kind` is sent and answered in; `None` for a kind CPOS does not support.
pub fn id_field(kind: LookupKind) -> Option<IdField> {
    match kind {
        LookupKind::RefundId => Some(IdField::RefundNo),
        LookupKind::MerchantRefundId => Some(IdField::OutRefundNo),
        LookupKind::ChannelTradeNo => Some(IdField::ChannelTradeNo),
        _ => None,
    }
}

impl IdField {
    /// The field of a lookup the pipeline has let through (its kind is one of
    /// `SUPPORTED_LOOKUPS`, checked before anything is built or bound). Another kind never gets
    /// here; it would be treated as the refund id, the one place that says so.
    pub fn of(lookup: &RefundLookup) -> IdField {
        id_field(lookup.kind()).unwrap_or(IdField::RefundNo)
    }

    /// Every field, in the order of the wire's documentation.
    pub const ALL: [IdField; 3] = [
        IdField::RefundNo,
        IdField::OutRefundNo,
        IdField::ChannelTradeNo,
    ];

    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            IdField::RefundNo => "refund_no",
            IdField::OutRefundNo => "out_refund_no",
            IdField::ChannelTradeNo => "channel_trade_no",
        }
    }

    /// The lookup kind this field answers.
    pub const fn kind(self) -> LookupKind {
        match self {
            IdField::RefundNo => LookupKind::RefundId,
            IdField::OutRefundNo => LookupKind::MerchantRefundId,
            IdField::ChannelTradeNo => LookupKind::ChannelTradeNo,
        }
    }

    /// This field's value in an answer.
    pub fn answered<'a>(self, response: &'a QueryResponse<'_>) -> Option<&'a str> {
        match self {
            IdField::RefundNo => response.refund_no.as_deref(),
            IdField::OutRefundNo => response.out_refund_no.as_deref(),
            IdField::ChannelTradeNo => response.channel_trade_no.as_deref(),
        }
    }
}

/// The request body.
///
/// ```
/// use refund_cpos::wire::{IdField, QueryRequestBody};
/// let b = QueryRequestBody::new("cpostest", IdField::RefundNo, "WX1", "AB");
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

impl<'a> QueryRequestBody<'a> {
    /// A body asking by one id field.
    pub fn new(accessid: &'a str, field: IdField, id: &'a str, sign: &'a str) -> Self {
        let only = |f: IdField| (f == field).then_some(id);
        QueryRequestBody {
            accessid,
            refund_no: only(IdField::RefundNo),
            out_refund_no: only(IdField::OutRefundNo),
            channel_trade_no: only(IdField::ChannelTradeNo),
            sign,
        }
    }
}

/// The fields of an answer that decide a plain query: all top-level scalars, inside the
/// signature. Everything else is in [`QueryResponseDetail`], decoded only when asked for, so a
/// malformed detail field can never fail a status query.
///
/// Read from the one-pass [`FlatObject`] the signature was checked on
/// ([`QueryResponse::from_document`]), not from a second parse, and borrowed from the body:
/// only a string that had escapes, or a number (written as text), is an owned copy.
#[derive(Debug, Clone, Default)]
pub struct QueryResponse<'b> {
    /// 10000 on success (a string or an integer on the wire).
    pub return_code: Option<Cow<'b, str>>,
    /// Refunded amount, yuan (negative: money leaving the merchant).
    pub refund_amount: Option<Cow<'b, str>>,
    /// 1 success (accepted), 2 failed, 3 unknown: see [`CposStatus`] (a string or an integer).
    pub refund_status: Option<Cow<'b, str>>,
    /// The platform's refund number.
    pub refund_no: Option<Cow<'b, str>>,
    /// The merchant's refund number.
    pub out_refund_no: Option<Cow<'b, str>>,
    /// Voucher barcode trade number.
    pub channel_trade_no: Option<Cow<'b, str>>,
    /// Error code (a string or an integer).
    pub error_code: Option<Cow<'b, str>>,
    /// Error message.
    pub error_msg: Option<Cow<'b, str>>,
}

impl<'b> QueryResponse<'b> {
    /// Reads the deciding fields from a strictly parsed answer: ids, amounts and messages must
    /// be strings, codes and statuses strings or integers; a wrong type is an
    /// [`refund_core::Error::Decode`] naming the field.
    ///
    /// ```
    /// use refund_core::json::FlatObject;
    /// let doc = FlatObject::parse_strict(br#"{"return_code":10000,"refund_status":"1","refund_amount":"-0.50"}"#).unwrap();
    /// let r = refund_cpos::wire::QueryResponse::from_document(&doc).unwrap();
    /// assert_eq!(r.return_code.as_deref(), Some("10000"));
    /// assert_eq!(r.refund_amount.as_deref(), Some("-0.50"));
    /// let doc = FlatObject::parse_strict(br#"{"refund_amount":-0.5}"#).unwrap();
    /// assert!(refund_cpos::wire::QueryResponse::from_document(&doc).is_err());
    /// ```
    pub fn from_document(document: &FlatObject<'b>) -> Result<Self, refund_core::Error> {
        const P: Provider = Provider::Cpos;
        let mut response = QueryResponse::default();
        // One walk over the members (fields not listed here are detail, read only on demand).
        for (key, member) in document.members() {
            let text = || member.text(P, key);
            let string = || member.string(P, key);
            match key {
                "return_code" => response.return_code = text()?,
                "refund_amount" => response.refund_amount = string()?,
                "refund_status" => response.refund_status = text()?,
                "refund_no" => response.refund_no = string()?,
                "out_refund_no" => response.out_refund_no = string()?,
                "channel_trade_no" => response.channel_trade_no = string()?,
                "error_code" => response.error_code = text()?,
                "error_msg" => response.error_msg = string()?,
                // `sign` was checked against the document itself; nothing reads it after.
                _ => {}
            }
        }
        Ok(response)
    }
}

/// CPOS's extra fields: amounts and fees (signed top-level scalars) and WeChat's native answer
/// (`attach`, **outside** the signature). Decoded only by the detailed query, from the same
/// bytes the pipeline verified ([`QueryResponseDetail::decode`]).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QueryResponseDetail {
    /// Order total, yuan.
    pub total_amount: Option<String>,
    /// Fee rate.
    pub rate: Option<Text>,
    /// Fee, yuan.
    pub fee: Option<String>,
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
    /// WeChat's native answer (an object, or JSON text holding one). Not signed by CPOS.
    #[serde(default, deserialize_with = "refund_core::json::value_or_json_text")]
    pub attach: Option<Attach>,
}

impl QueryResponseDetail {
    /// Decodes the detail-only fields (amounts, fees, WeChat's `attach`) of an answer, strictly.
    ///
    /// ```
    /// let d = refund_cpos::wire::QueryResponseDetail::decode(br#"{"total_amount":"1.00","attach":"{\"refund_fee\":\"100\"}"}"#).unwrap();
    /// assert_eq!(d.total_amount.as_deref(), Some("1.00"));
    /// assert!(refund_cpos::wire::QueryResponseDetail::decode(br#"{"total_amount":5}"#).is_err());
    /// ```
    pub fn decode(body: &[u8]) -> Result<Self, refund_core::Error> {
        refund_core::json::decode_strict(Provider::Cpos, body).map(|(_, detail)| detail)
    }
}

/// WeChat Pay's native refund-query fields (fen strings). The `_0` suffixed names of WeChat's
/// refund query are accepted as aliases.
#[derive(Debug, Clone, Default, Deserialize)]
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
    /// `SUCCESS`, `REFUNDCLOSE`, `PROCESSING`, `CHANGE`: see [`WechatRefundStatus`].
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
#[derive(Debug, Clone, Default, Deserialize)]
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

/// CPOS's own `refund_status`: the only status that decides [`refund_core::Refund::status`].
///
/// ```
/// use refund_cpos::wire::CposStatus;
/// assert_eq!(CposStatus::parse("1"), CposStatus::Accepted);
/// assert_eq!(CposStatus::parse("9"), CposStatus::Other("9".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum CposStatus {
    /// `1`: success (the refund request was accepted; arrival time may vary).
    Accepted,
    /// `2`: failed (see `error_code` / `error_msg`).
    Failed,
    /// `3`: result unknown; query again.
    Unknown,
    /// Anything else, raw.
    Other(String),
}

impl CposStatus {
    /// Reads the raw text (a number or a string on the wire).
    ///
    /// ```
    /// assert_eq!(refund_cpos::wire::CposStatus::parse("3"), refund_cpos::wire::CposStatus::Unknown);
    /// ```
    pub fn parse(raw: &str) -> Self {
        match raw {
            "1" => CposStatus::Accepted,
            "2" => CposStatus::Failed,
            "3" => CposStatus::Unknown,
            other => CposStatus::Other(other.to_owned()),
        }
    }

    /// The core status (exhaustive).
    ///
    /// ```
    /// assert_eq!(refund_cpos::wire::CposStatus::Failed.to_core(), refund_core::RefundStatus::Failed);
    /// ```
    pub fn to_core(&self) -> RefundStatus {
        match self {
            CposStatus::Accepted => RefundStatus::Succeeded,
            CposStatus::Failed => RefundStatus::Failed,
            CposStatus::Unknown => RefundStatus::Processing,
            CposStatus::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}

/// WeChat's own refund status, from `attach` (unsigned: reported in the detail, never used to
/// decide the core status).
///
/// ```
/// use refund_cpos::wire::WechatRefundStatus;
/// assert_eq!(WechatRefundStatus::parse("CHANGE").to_core(), Some(refund_core::RefundStatus::NeedsAttention));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum WechatRefundStatus {
    /// `SUCCESS`
    Success,
    /// `REFUNDCLOSE`: closed.
    RefundClose,
    /// `PROCESSING`
    Processing,
    /// `CHANGE`: abnormal, needs manual handling.
    Change,
    /// Anything else, raw.
    Other(String),
}

impl WechatRefundStatus {
    /// Reads the raw text.
    ///
    /// ```
    /// assert_eq!(refund_cpos::wire::WechatRefundStatus::parse("SUCCESS"), refund_cpos::wire::WechatRefundStatus::Success);
    /// ```
    pub fn parse(raw: &str) -> Self {
        match raw {
            "SUCCESS" => WechatRefundStatus::Success,
            "REFUNDCLOSE" => WechatRefundStatus::RefundClose,
            "PROCESSING" => WechatRefundStatus::Processing,
            "CHANGE" => WechatRefundStatus::Change,
            other => WechatRefundStatus::Other(other.to_owned()),
        }
    }

    /// What the status would mean in core terms, or `None` for a value we do not know.
    ///
    /// ```
    /// assert_eq!(refund_cpos::wire::WechatRefundStatus::parse("X").to_core(), None);
    /// ```
    pub fn to_core(&self) -> Option<RefundStatus> {
        match self {
            WechatRefundStatus::Success => Some(RefundStatus::Succeeded),
            WechatRefundStatus::RefundClose => Some(RefundStatus::Cancelled),
            WechatRefundStatus::Processing => Some(RefundStatus::Processing),
            WechatRefundStatus::Change => Some(RefundStatus::NeedsAttention),
            WechatRefundStatus::Other(_) => None,
        }
    }
}
