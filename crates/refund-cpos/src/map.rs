//! Verified, bound CPOS answers → core types (pure). Only signed fields (top-level scalars)
//! decide the core [`Refund`]; WeChat's `attach` is reported in the detail, labelled unverified.

use refund_core::decode::{self, non_empty_owned, require};
use refund_core::protocol::Bound;
use refund_core::{Currency, Error, Money, Provider, Refund};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::wire::{
    Attach, CposStatus, QueryResponse, QueryResponseDetail, Text, WechatRefundStatus,
};

/// The success `return_code`.
pub const RETURN_CODE_SUCCESS: &str = "10000";

/// "Refund does not exist": mapped to [`Error::NotFound`].
pub const ERR_REFUND_NOT_EXIST: &str = "REFUNDNOTEXIST";

const P: Provider = Provider::Cpos;

/// True for an answer that describes a refund (`return_code` 10000, no not-found code): the
/// answers whose ids are bound to the lookup.
///
/// ```
/// let doc = refund_core::json::FlatObject::parse_strict(br#"{"return_code":"40004","error_code":"REFUNDNOTEXIST"}"#).unwrap();
/// let r = refund_cpos::wire::QueryResponse::from_document(&doc).unwrap();
/// assert!(!refund_cpos::map::describes_refund(&r));
/// ```
pub fn describes_refund(response: &QueryResponse<'_>) -> bool {
    response.return_code.as_deref() == Some(RETURN_CODE_SUCCESS)
        && response.error_code.as_deref() != Some(ERR_REFUND_NOT_EXIST)
}

/// Maps an answer the pipeline has verified and bound, from its signed fields alone.
///
/// `error_code` `REFUNDNOTEXIST` is [`Error::NotFound`]; a `return_code` other than 10000 is
/// [`Error::Business`]; otherwise the refund, with the positive amount and the status of
/// `refund_status` (1 succeeded, 2 failed, 3 processing, anything else unrecognised).
pub(crate) fn map_response(
    response: &QueryResponse<'_>,
    currency: Currency,
) -> Result<Vec<Refund>, Error> {
    map_refund(response, currency).map(|(refund, _)| vec![refund])
}

/// The refund, and `refund_amount` as sent (negative), parsed once for both.
fn map_refund(response: &QueryResponse<'_>, currency: Currency) -> Result<(Refund, Money), Error> {
    let return_code = require(
        P,
        "return_code",
        response.return_code.as_deref(),
        "missing return code",
    )?;
    if response.error_code.as_deref() == Some(ERR_REFUND_NOT_EXIST) {
        return Err(Error::NotFound {
            provider: P,
            code: ERR_REFUND_NOT_EXIST.to_owned(),
            message: response.error_msg.as_deref().unwrap_or_default().to_owned(),
        });
    }
    if return_code != RETURN_CODE_SUCCESS {
        return Err(Error::Business {
            provider: P,
            code: response
                .error_code
                .as_deref()
                .unwrap_or(return_code)
                .to_owned(),
            message: response.error_msg.as_deref().unwrap_or_default().to_owned(),
            meaning: None,
        });
    }
    let raw_status = require(
        P,
        "refund_status",
        response.refund_status.as_deref(),
        "missing refund status",
    )?;
    let signed_amount = decode::major_money(
        P,
        "refund_amount",
        response.refund_amount.as_deref(),
        currency,
    )?;
    let signed_amount = require(P, "refund_amount", signed_amount, "missing refund amount")?;
    let amount = signed_amount
        .checked_abs()
        .map_err(|e| decode::money_error(P, "refund_amount", e))?;
    let status = CposStatus::parse(raw_status).to_core();
    let failed = status == refund_core::RefundStatus::Failed;
    let mut refund = Refund::new(P, amount, status);
    refund.provider_status = Some(raw_status.to_owned());
    refund.refund_id = response.refund_no.as_deref().map(str::to_owned);
    refund.merchant_refund_id = response.out_refund_no.as_deref().map(str::to_owned);
    if failed {
        refund.failure_code = non_empty_owned(response.error_code.as_deref());
        refund.failure_message = non_empty_owned(response.error_msg.as_deref());
    }
    Ok((refund, signed_amount))
}

/// A refund with CPOS's extra fields, from [`crate::CposDetail::query_detailed`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct CposRefund {
    /// The normalised record, from signed fields only (its `signature` says how it verified).
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
    /// WeChat's native answer, when sent: **not covered by CPOS's signature**.
    pub unverified_wechat: Option<UnverifiedWechatDetail>,
}

/// WeChat's native fields from `attach` (fen amounts as [`Money`]).
///
/// **Unverified**: `attach` is outside CPOS's signature (nested objects are not signed), so
/// anyone on the path could have written these; they never decide the core [`Refund`]'s status,
/// time, channel or failure. They are here for people to read, e.g. a `CHANGE` status that asks
/// for manual handling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct UnverifiedWechatDetail {
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
    /// When WeChat says the refund succeeded (China time, as UTC).
    pub refund_success_time: Option<chrono::DateTime<chrono::Utc>>,
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

/// Maps a bound answer with its detail: the same [`Refund`] as a plain query (labelled with how
/// it verified), plus every extra field, decoded only here.
///
/// `body` is the answer `bound` was decoded from (the caller passes the bytes it just ran
/// through the pipeline): the detail is decoded from it only here.
pub(crate) fn map_detailed(
    bound: &Bound<QueryResponse<'_>>,
    body: &[u8],
    currency: Currency,
) -> Result<CposRefund, Error> {
    let response = &bound.answer;
    let (mut refund, signed_refund_amount) = map_refund(response, currency)?;
    refund.signature = bound.verification;
    let detail = QueryResponseDetail::decode(body)?;
    let yuan = |field: &str, value: &Option<String>| {
        decode::major_money(P, field, value.as_deref(), Currency::Cny)
    };
    let rate = decode::non_empty(Text::of(&detail.rate))
        .map(|t| {
            t.parse::<Decimal>()
                .map_err(|e| Error::decode(P, "rate", t, e.to_string()))
        })
        .transpose()?;
    let raw_status = response.refund_status.as_deref().unwrap_or_default();
    Ok(CposRefund {
        detail: CposRefundDetail {
            cpos_status: CposStatus::parse(raw_status),
            signed_refund_amount,
            total_amount: yuan("total_amount", &detail.total_amount)?,
            refunded_amount: yuan("refunded_amount", &detail.refunded_amount)?,
            remanent_amount: yuan("remanent_amount", &detail.remanent_amount)?,
            fee: yuan("fee", &detail.fee)?,
            rate,
            fee_subsidy_party: detail.fee_subsidy_party.clone(),
            orig_fee_subsidy_amount: yuan(
                "orig_fee_subsidy_amount",
                &detail.orig_fee_subsidy_amount,
            )?,
            refunded_subsidy_amount: yuan(
                "refunded_subsidy_amount",
                &detail.refunded_subsidy_amount,
            )?,
            remanent_subsidy_amount: yuan(
                "remanent_subsidy_amount",
                &detail.remanent_subsidy_amount,
            )?,
            real_fee_subsidy_amount: yuan(
                "real_fee_subsidy_amount",
                &detail.real_fee_subsidy_amount,
            )?,
            channel_trade_no: response.channel_trade_no.as_deref().map(str::to_owned),
            unverified_wechat: detail.attach.as_ref().map(map_attach).transpose()?,
        },
        refund,
    })
}

fn map_attach(attach: &Attach) -> Result<UnverifiedWechatDetail, Error> {
    let currency = match decode::non_empty(attach.refund_fee_type.as_deref()) {
        None => Currency::Cny,
        Some(code) => code
            .parse()
            .map_err(|_| Error::decode(P, "attach.refund_fee_type", code, "unknown currency"))?,
    };
    let fen = |field: &str, value: &Option<Text>| {
        decode::minor_money(P, field, Text::of(value), currency)
    };
    let coupons = attach
        .refund_detail
        .iter()
        .flatten()
        .enumerate()
        .map(|(i, c)| {
            Ok(CouponDetail {
                promotion_id: Text::of(&c.promotion_id).map(str::to_owned),
                scope: c.scope.clone(),
                kind: c.kind.clone(),
                amount: fen(&format!("attach.refund_detail[{i}].amount"), &c.amount)?,
                refund_amount: fen(
                    &format!("attach.refund_detail[{i}].refund_amount"),
                    &c.refund_amount,
                )?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(UnverifiedWechatDetail {
        result_code: attach.result_code.clone(),
        err_code: attach.err_code.clone(),
        err_code_des: attach.err_code_des.clone(),
        sub_appid: attach.sub_appid.clone(),
        sub_mch_id: Text::of(&attach.sub_mch_id).map(str::to_owned),
        refund_id: attach.refund_id.clone(),
        refund_fee: fen("attach.refund_fee", &attach.refund_fee)?,
        cash_refund_fee: fen("attach.cash_refund_fee", &attach.cash_refund_fee)?,
        coupon_refund_fee: fen("attach.coupon_refund_fee", &attach.coupon_refund_fee)?,
        refund_status: decode::non_empty(attach.refund_status.as_deref())
            .map(WechatRefundStatus::parse),
        refund_channel: non_empty_owned(attach.refund_channel.as_deref()),
        refund_success_time: decode::china_local_time(
            P,
            "attach.refund_success_time",
            attach.refund_success_time.as_deref(),
        )?,
        coupons,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn response(json: &str) -> QueryResponse<'_> {
        let doc = refund_core::json::FlatObject::parse_strict(json.as_bytes()).unwrap();
        QueryResponse::from_document(&doc).unwrap()
    }

    #[test]
    fn not_found_and_business_errors() {
        let r = response(
            r#"{"return_code":"40001","error_code":"REFUNDNOTEXIST","error_msg":"退款单不存在"}"#,
        );
        assert!(map_response(&r, Currency::Cny).unwrap_err().is_not_found());
        let r = response(r#"{"return_code":40004,"error_code":"SYSTEMERROR"}"#);
        assert_eq!(
            map_response(&r, Currency::Cny)
                .unwrap_err()
                .code()
                .as_deref(),
            Some("SYSTEMERROR")
        );
        let r = response(
            r#"{"return_code":10000,"refund_status":2,"refund_amount":"-1.00","error_code":"NOTENOUGH"}"#,
        );
        let refund = &map_response(&r, Currency::Cny).unwrap()[0];
        assert_eq!(refund.amount.minor(), 100);
        assert_eq!(refund.failure_code.as_deref(), Some("NOTENOUGH"));
    }
}
