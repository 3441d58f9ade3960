//! Gateway answers → core types (pure). Every documented status and code is matched here.

use refund_core::decode::{self, require};
use refund_core::{Currency, Error, Money, Provider, Refund};

use crate::wire::{OpenApiStatus, QueryResponse, RefundRecord};

const P: Provider = Provider::OpenApi;

/// The success code.
pub const CODE_SUCCESS: i64 = 10000;
/// "Merchant transaction not found": mapped to [`Error::NotFound`].
pub const CODE_NOT_FOUND: i64 = 21006;

/// What a gateway response code means, from the vendor's catalogue.
///
/// ```
/// assert_eq!(refund_openapi::map::code_meaning(21006), Some("merchant transaction not found"));
/// assert!(refund_openapi::map::code_meaning(21009).unwrap().contains("clock"));
/// assert_eq!(refund_openapi::map::code_meaning(21555), Some("general error"));
/// ```
pub fn code_meaning(code: i64) -> Option<&'static str> {
    Some(match code {
        10000 => "success",
        21000 => "server error at the gateway",
        21001 => {
            "the gateway rejected our request signature: check the merchant key registered with the gateway"
        }
        21002 => "parameter error",
        21003 => "appId error: check app_id",
        21004 => "merchant unavailable",
        21005 => "channel unavailable",
        21006 => "merchant transaction not found",
        21007 => "duplicate merchant order id",
        21008 => {
            "timestamp rejected: check this machine's clock and the timestamp unit (milliseconds or seconds)"
        }
        21009 => {
            "timestamp expired: check this machine's clock and the timestamp unit (milliseconds or seconds)"
        }
        21010 => "amount exceeds limit",
        21011 => "network error at the gateway",
        21012 => "bank code error",
        21013 => "wallet code error",
        21014 => "balance insufficient",
        21015 => "duplicate idempotencyId",
        21016 => "merchant IP forbidden: the gateway does not allow this machine's IP address",
        21401 => "refund processing",
        21402 => "refund not allowed",
        21403 => "transaction older than 60 days",
        21404 => "channel does not support full refund",
        21405 => "channel does not support partial refund",
        21406 => "refund amount invalid",
        21407 => "duplicate MchRefundOrderId",
        21408 => "original transaction not completed",
        21409 => "a pending refund exists",
        21500..=21599 => "general error",
        _ => return None,
    })
}

/// Maps an answer the pipeline has decoded and bound: refunds for code 10000 (`data: []` is
/// "no refunds", an empty `Vec`; a success without `data` is a decode error, since guessing
/// "none" could hide a refund), [`Error::NotFound`] for 21006, [`Error::Business`] otherwise.
pub(crate) fn map_response(
    response: &QueryResponse,
    currency: Currency,
) -> Result<Vec<Refund>, Error> {
    let message = response.message.clone().unwrap_or_default();
    match response.code {
        CODE_SUCCESS => {
            let data = require(
                P,
                "data",
                response.data.as_ref(),
                "success answer without a `data` array",
            )?;
            data.iter()
                .enumerate()
                .map(|(i, record)| map_record(record, currency, &format!("data[{i}]")))
                .collect()
        }
        CODE_NOT_FOUND => Err(Error::NotFound {
            provider: P,
            code: CODE_NOT_FOUND.to_string(),
            message,
        }),
        code => Err(Error::Business {
            provider: P,
            code: code.to_string(),
            message,
            meaning: code_meaning(code).map(str::to_owned),
        }),
    }
}

/// Maps one refund record; `path` prefixes field names in errors (`data[1]`).
///
/// An empty-string time is treated as absent; a missing `refundStatus` or `refundAmount` is an
/// error (never "pending", never zero).
pub(crate) fn map_record(
    record: &RefundRecord,
    currency: Currency,
    path: &str,
) -> Result<Refund, Error> {
    let field = |name: &str| format!("{path}.{name}");
    let raw_status = require(
        P,
        &field("refundStatus"),
        record.refund_status.as_deref(),
        "missing refund status",
    )?;
    let minor = require(
        P,
        &field("refundAmount"),
        record.refund_amount,
        "missing refund amount",
    )?;
    let time = |name: &str, value: &Option<String>| {
        decode::china_local_time(P, &field(name), value.as_deref())
    };
    let amount = decode::non_negative(
        P,
        &field("refundAmount"),
        Money::from_minor(minor, currency),
    )?;
    let mut refund = Refund::new(P, amount, OpenApiStatus::parse(raw_status).to_core());
    refund.provider_status = Some(raw_status.to_owned());
    refund.refund_id = record.refund_transaction_id.clone();
    refund.merchant_refund_id = record.mch_refund_order_id.clone();
    refund.original_transaction_id = record.original_transaction_id.clone();
    refund.fee_refunded = record
        .fee_refunded
        .map(|fee| decode::non_negative(P, &field("feeRefunded"), Money::from_minor(fee, currency)))
        .transpose()?;
    refund.failure_code = record.failed_code.map(|c| c.to_string());
    refund.failure_message = record.failed_message.clone();
    refund.created_at = time("refundCreateTime", &record.refund_create_time)?;
    refund.completed_at = time("refundReturnTime", &record.refund_return_time)?;
    Ok(refund)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn codes_and_records_map() {
        let r: QueryResponse =
            serde_json::from_str(r#"{"code":21016,"message":"Merchant ip forbidden"}"#).unwrap();
        assert_eq!(
            map_response(&r, Currency::Cny).unwrap_err().kind(),
            "provider"
        );
        let r: QueryResponse =
            serde_json::from_str(r#"{"code":10000,"message":"Success","data":[]}"#).unwrap();
        assert!(map_response(&r, Currency::Cny).unwrap().is_empty());
        let rec: RefundRecord =
            serde_json::from_str(r#"{"refundAmount":100,"refundStatus":"PENDING"}"#).unwrap();
        let refund = map_record(&rec, Currency::Cny, "data[0]").unwrap();
        assert_eq!(refund.status, refund_core::RefundStatus::Processing);
    }
}
