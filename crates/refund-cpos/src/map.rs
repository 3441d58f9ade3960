//! CPOS answers → core types (pure), with the provider-specific detail kept.

use refund_core::{Currency, Error, Money, Provider, Refund, RefundStatus, Secret, time};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::sign::{self, ResponseSignatureProblem};
use crate::wire::{Attach, QueryResponse, Text};

/// The success `return_code`.
pub const RETURN_CODE_SUCCESS: &str = "10000";
/// WeChat's "refund does not exist": mapped to [`Error::NotFound`].
pub const ERR_REFUND_NOT_EXIST: &str = "REFUNDNOTEXIST";

/// Whether a response must carry a valid signature.
///
/// The signing rule is an assumption (see [`crate::sign`]), so if the real platform signs
/// differently, `Optional` lets queries work while the rule is being confirmed: a missing or
/// non-matching signature is then logged as a warning (with the refund number) and the answer
/// accepted. `Required` (the default) makes both a signature error.
///
/// Under either policy an error answer (`return_code` other than 10000) without any `sign` is
/// accepted as an error: a forged error can deny an answer but never fake a refund.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ResponseSignature {
    /// Reject responses without a valid signature (default).
    #[default]
    Required,
    /// Accept them, with a warning.
    Optional,
}

impl std::str::FromStr for ResponseSignature {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "required" => Ok(ResponseSignature::Required),
            "optional" => Ok(ResponseSignature::Optional),
            other => Err(Error::Config {
                what: "response_signature".to_owned(),
                reason: format!("{other:?} is neither \"required\" nor \"optional\""),
            }),
        }
    }
}

/// CPOS's own `refund_status`.
///
/// ```
/// use refund_cpos::map::CposStatus;
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
    pub fn parse(raw: &str) -> Self {
        match raw {
            "1" => CposStatus::Accepted,
            "2" => CposStatus::Failed,
            "3" => CposStatus::Unknown,
            other => CposStatus::Other(other.to_owned()),
        }
    }

    /// The core status on its own (exhaustive).
    pub fn to_core(&self) -> RefundStatus {
        match self {
            CposStatus::Accepted => RefundStatus::Succeeded,
            CposStatus::Failed => RefundStatus::Failed,
            CposStatus::Unknown => RefundStatus::Processing,
            CposStatus::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}

/// WeChat's own refund status, from `attach`.
///
/// ```
/// use refund_cpos::map::WechatRefundStatus;
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
    pub fn parse(raw: &str) -> Self {
        match raw {
            "SUCCESS" => WechatRefundStatus::Success,
            "REFUNDCLOSE" => WechatRefundStatus::RefundClose,
            "PROCESSING" => WechatRefundStatus::Processing,
            "CHANGE" => WechatRefundStatus::Change,
            other => WechatRefundStatus::Other(other.to_owned()),
        }
    }

    /// The core status, or `None` for a value we do not know (which then refines nothing).
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

/// Combines CPOS's status with WeChat's.
///
/// CPOS `1` means "request accepted" and `3` "not known yet": neither contradicts whatever WeChat
/// says happened next, so a known WeChat status (more specific) wins. CPOS `2` (failed) and
/// unrecognised CPOS values are kept as they are.
///
/// | CPOS | WeChat | result |
/// |---|---|---|
/// | 1 or 3 | `SUCCESS` / `PROCESSING` / `REFUNDCLOSE` / `CHANGE` | succeeded / processing / cancelled / needs attention |
/// | 1 or 3 | absent or unknown | succeeded (1) / processing (3) |
/// | 2 | anything | failed |
/// | other | anything | unrecognised |
///
/// ```
/// use refund_cpos::map::{combine_status, CposStatus, WechatRefundStatus};
/// use refund_core::RefundStatus;
/// assert_eq!(combine_status(&CposStatus::Accepted, Some(&WechatRefundStatus::Processing)), RefundStatus::Processing);
/// assert_eq!(combine_status(&CposStatus::Failed, Some(&WechatRefundStatus::Success)), RefundStatus::Failed);
/// ```
pub fn combine_status(cpos: &CposStatus, wechat: Option<&WechatRefundStatus>) -> RefundStatus {
    match cpos {
        CposStatus::Accepted | CposStatus::Unknown => wechat
            .and_then(WechatRefundStatus::to_core)
            .unwrap_or_else(|| cpos.to_core()),
        CposStatus::Failed | CposStatus::Other(_) => cpos.to_core(),
    }
}

/// A refund with CPOS's and WeChat's extra fields, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CposRefund {
    /// The normalised record.
    pub refund: Refund,
    /// Everything else CPOS sent.
    pub detail: CposRefundDetail,
}

/// CPOS-specific fields. Yuan amounts are exact [`Money`]; the sign of `refund_amount` as sent is
/// kept in `signed_refund_amount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CposRefundDetail {
    /// CPOS's status, parsed.
    pub cpos_status: CposStatus,
    /// `refund_amount` exactly as sent (negative: money leaving the merchant).
    pub signed_refund_amount: Money,
    /// Order total.
    pub total_amount: Option<Money>,
    /// Already refunded in all.
    pub refunded_amount: Option<Money>,
    /// Still refundable.
    pub remanent_amount: Option<Money>,
    /// Fee.
    pub fee: Option<Money>,
    /// Fee rate, exact decimal.
    pub rate: Option<Decimal>,
    /// Who subsidised the fee.
    pub fee_subsidy_party: Option<String>,
    /// Original fee subsidy.
    pub orig_fee_subsidy_amount: Option<Money>,
    /// Fee subsidy refunded so far.
    pub refunded_subsidy_amount: Option<Money>,
    /// Fee subsidy not yet refunded.
    pub remanent_subsidy_amount: Option<Money>,
    /// Fee subsidy refunded this time.
    pub real_fee_subsidy_amount: Option<Money>,
    /// Voucher barcode trade number.
    pub channel_trade_no: Option<String>,
    /// WeChat's native answer, when sent.
    pub wechat: Option<WechatDetail>,
    /// Whether the response signature was checked and matched.
    pub signature_verified: bool,
}

/// WeChat's native fields from `attach` (fen amounts as [`Money`]).
///
/// `attach` is outside CPOS's signature (nested objects are not signed), so these fields are
/// only as trustworthy as the transport.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct WechatDetail {
    /// `SUCCESS` / `FAIL`.
    pub result_code: Option<String>,
    /// Error code (`REFUNDNOTEXIST`, ...).
    pub err_code: Option<String>,
    /// Error description.
    pub err_code_des: Option<String>,
    /// Sub-merchant app id.
    pub sub_appid: Option<String>,
    /// Sub-merchant id.
    pub sub_mch_id: Option<String>,
    /// WeChat refund id.
    pub refund_id: Option<String>,
    /// Refund total.
    pub refund_fee: Option<Money>,
    /// Cash refunded.
    pub cash_refund_fee: Option<Money>,
    /// Coupons refunded.
    pub coupon_refund_fee: Option<Money>,
    /// WeChat's refund status.
    pub refund_status: Option<WechatRefundStatus>,
    /// Refund channel (`ORIGINAL`, `BALANCE`, ...), raw.
    pub refund_channel: Option<String>,
    /// Coupons.
    pub coupons: Vec<CouponDetail>,
}

/// One coupon refunded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CouponDetail {
    /// Coupon id.
    pub promotion_id: Option<String>,
    /// `GLOBAL` / `SINGLE`.
    pub scope: Option<String>,
    /// `COUPON` / `DISCOUNT`.
    pub kind: Option<String>,
    /// Face value.
    pub amount: Option<Money>,
    /// Refunded.
    pub refund_amount: Option<Money>,
}

fn yuan(field: &str, value: &Option<String>) -> Result<Option<Money>, Error> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(text) => Money::from_major_str(text, Currency::Cny)
            .map(Some)
            .map_err(|e| Error::decode(Provider::Cpos, field, text, e.kind.to_string())),
    }
}

fn fen(field: &str, value: &Option<Text>, currency: Currency) -> Result<Option<Money>, Error> {
    match value.as_ref().map(|Text(t)| t.as_str()) {
        None | Some("") => Ok(None),
        Some(text) => Money::from_minor_str(text, currency)
            .map(Some)
            .map_err(|e| Error::decode(Provider::Cpos, field, text, format!("fen: {}", e.kind))),
    }
}

fn text(value: &Option<Text>) -> Option<String> {
    value.as_ref().map(|Text(t)| t.clone())
}

/// Parses, checks the signature per `policy`, and maps a response body.
///
/// ```
/// let secret = refund_core::Secret::new("k");
/// let err = refund_cpos::map::map_response_body(br#"{"return_code":10000,"refund_status":1,"refund_amount":"-0.50"}"#, &secret, Default::default()).unwrap_err();
/// assert_eq!(err.kind(), "signature");
/// ```
pub fn map_response_body(
    body: &[u8],
    secret: &Secret,
    policy: ResponseSignature,
) -> Result<CposRefund, Error> {
    let (value, response) =
        refund_core::json::decode_strict::<QueryResponse>(Provider::Cpos, body)?;
    let is_success = response
        .return_code
        .as_ref()
        .is_some_and(|Text(c)| c == RETURN_CODE_SUCCESS);
    let verified = match sign::check_response(&value, secret) {
        Ok(()) => true,
        Err(ResponseSignatureProblem::Missing) if !is_success => false,
        Err(problem) => match policy {
            ResponseSignature::Required => return Err(sign::signature_error(problem)),
            ResponseSignature::Optional => {
                tracing::warn!(
                    provider = "cpos",
                    refund_no = response.refund_no.as_deref().unwrap_or(""),
                    out_refund_no = response.out_refund_no.as_deref().unwrap_or(""),
                    ?problem,
                    "response accepted WITHOUT signature verification (response_signature = optional)"
                );
                false
            }
        },
    };
    map_response(&response, verified)
}

/// Maps a decoded response; `signature_verified` is recorded in the detail.
///
/// ```
/// let r: refund_cpos::wire::QueryResponse = serde_json::from_str(r#"{"return_code":"40001","error_code":"REFUNDNOTEXIST","error_msg":"退款单不存在"}"#).unwrap();
/// assert!(refund_cpos::map::map_response(&r, false).unwrap_err().is_not_found());
/// ```
pub fn map_response(
    response: &QueryResponse,
    signature_verified: bool,
) -> Result<CposRefund, Error> {
    let return_code = text(&response.return_code).ok_or_else(|| {
        Error::decode(Provider::Cpos, "return_code", "null", "missing return code")
    })?;
    let attach = response.attach.as_ref();
    let not_found = text(&response.error_code).as_deref() == Some(ERR_REFUND_NOT_EXIST)
        || attach.and_then(|a| a.err_code.as_deref()) == Some(ERR_REFUND_NOT_EXIST);
    if not_found {
        return Err(Error::NotFound {
            provider: Provider::Cpos,
            code: ERR_REFUND_NOT_EXIST.to_owned(),
            message: response
                .error_msg
                .clone()
                .or_else(|| attach.and_then(|a| a.err_code_des.clone()))
                .unwrap_or_default(),
        });
    }
    if return_code != RETURN_CODE_SUCCESS {
        return Err(Error::Business {
            provider: Provider::Cpos,
            code: text(&response.error_code).unwrap_or(return_code),
            message: response.error_msg.clone().unwrap_or_default(),
            meaning: None,
        });
    }
    let raw_status = text(&response.refund_status).ok_or_else(|| {
        Error::decode(
            Provider::Cpos,
            "refund_status",
            "null",
            "missing refund status",
        )
    })?;
    let signed_amount = yuan("refund_amount", &response.refund_amount)?.ok_or_else(|| {
        Error::decode(
            Provider::Cpos,
            "refund_amount",
            "null",
            "missing refund amount",
        )
    })?;
    let amount = signed_amount.checked_abs().map_err(|e| {
        Error::decode(
            Provider::Cpos,
            "refund_amount",
            &e.input,
            e.kind.to_string(),
        )
    })?;
    let wechat = attach.map(map_attach).transpose()?;
    let cpos_status = CposStatus::parse(&raw_status);
    let status = combine_status(
        &cpos_status,
        wechat.as_ref().and_then(|w| w.refund_status.as_ref()),
    );

    let mut refund = Refund::new(Provider::Cpos, amount, status);
    refund.provider_status = Some(raw_status);
    refund.refund_id = response.refund_no.clone();
    refund.merchant_refund_id = response.out_refund_no.clone();
    if refund.status == RefundStatus::Failed {
        refund.failure_code =
            text(&response.error_code).or_else(|| attach.and_then(|a| a.err_code.clone()));
        refund.failure_message = response
            .error_msg
            .clone()
            .or_else(|| attach.and_then(|a| a.err_code_des.clone()));
    }
    refund.channel = wechat.as_ref().and_then(|w| w.refund_channel.clone());
    refund.completed_at = match attach.and_then(|a| a.refund_success_time.as_deref()) {
        None | Some("") => None,
        Some(t) => Some(
            time::parse_china_local("attach.refund_success_time", t).map_err(|e| {
                Error::decode(
                    Provider::Cpos,
                    "attach.refund_success_time",
                    t,
                    format!("not a valid {} timestamp", e.expected),
                )
            })?,
        ),
    };
    let rate = match response.rate.as_ref().map(|Text(t)| t.as_str()) {
        None | Some("") => None,
        Some(t) => Some(
            t.parse::<Decimal>()
                .map_err(|e| Error::decode(Provider::Cpos, "rate", t, e.to_string()))?,
        ),
    };
    let detail = CposRefundDetail {
        cpos_status,
        signed_refund_amount: signed_amount,
        total_amount: yuan("total_amount", &response.total_amount)?,
        refunded_amount: yuan("refunded_amount", &response.refunded_amount)?,
        remanent_amount: yuan("remanent_amount", &response.remanent_amount)?,
        fee: yuan("fee", &response.fee)?,
        rate,
        fee_subsidy_party: response.fee_subsidy_party.clone(),
        orig_fee_subsidy_amount: yuan(
            "orig_fee_subsidy_amount",
            &response.orig_fee_subsidy_amount,
        )?,
        refunded_subsidy_amount: yuan(
            "refunded_subsidy_amount",
            &response.refunded_subsidy_amount,
        )?,
        remanent_subsidy_amount: yuan(
            "remanent_subsidy_amount",
            &response.remanent_subsidy_amount,
        )?,
        real_fee_subsidy_amount: yuan(
            "real_fee_subsidy_amount",
            &response.real_fee_subsidy_amount,
        )?,
        channel_trade_no: response.channel_trade_no.clone(),
        wechat,
        signature_verified,
    };
    Ok(CposRefund { refund, detail })
}

fn map_attach(attach: &Attach) -> Result<WechatDetail, Error> {
    let currency = match attach.refund_fee_type.as_deref() {
        None | Some("") => Currency::Cny,
        Some(code) => code.parse().map_err(|_| {
            Error::decode(
                Provider::Cpos,
                "attach.refund_fee_type",
                code,
                "unknown currency",
            )
        })?,
    };
    let coupons = attach
        .refund_detail
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            Ok(CouponDetail {
                promotion_id: text(&c.promotion_id),
                scope: c.scope.clone(),
                kind: c.kind.clone(),
                amount: fen(
                    &format!("attach.refund_detail[{i}].amount"),
                    &c.amount,
                    currency,
                )?,
                refund_amount: fen(
                    &format!("attach.refund_detail[{i}].refund_amount"),
                    &c.refund_amount,
                    currency,
                )?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(WechatDetail {
        result_code: attach.result_code.clone(),
        err_code: attach.err_code.clone(),
        err_code_des: attach.err_code_des.clone(),
        sub_appid: attach.sub_appid.clone(),
        sub_mch_id: text(&attach.sub_mch_id),
        refund_id: attach.refund_id.clone(),
        refund_fee: fen("attach.refund_fee", &attach.refund_fee, currency)?,
        cash_refund_fee: fen("attach.cash_refund_fee", &attach.cash_refund_fee, currency)?,
        coupon_refund_fee: fen(
            "attach.coupon_refund_fee",
            &attach.coupon_refund_fee,
            currency,
        )?,
        refund_status: attach
            .refund_status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(WechatRefundStatus::parse),
        refund_channel: attach.refund_channel.clone().filter(|c| !c.is_empty()),
        coupons,
    })
}
