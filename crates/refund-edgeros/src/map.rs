//! Verified, bound EdgerOS answers → core types (pure).

use refund_core::decode::{self, non_empty_owned, require};
use refund_core::{Currency, Error, Provider, Refund};

use crate::wire::{EdgerosStatus, QueryResponse, Text};

/// The success status.
pub const STATUS_OK: i64 = 200;
/// "Order does not exist": mapped to [`Error::NotFound`].
pub const STATUS_ORDER_NOT_EXIST: i64 = 1007;

const P: Provider = Provider::Edgeros;

/// Maps an answer the pipeline has verified and bound to the lookup.
///
/// Status 200 gives the refund; 1007 / `ORDER_NOT_EXIST` is [`Error::NotFound`]; any other status
/// is [`Error::Business`] with `status`, `message` and `fieldErrors`. A missing business status
/// or amount is a decode error (never "pending", never zero).
pub(crate) fn map_response(
    response: &QueryResponse,
    currency: Currency,
) -> Result<Vec<Refund>, Error> {
    let message = Text::of(&response.message).unwrap_or_default();
    let status = response.status.0;
    if status != STATUS_OK {
        let detail = match decode::non_empty(Text::of(&response.field_errors)) {
            Some(fe) => format!("{message}: {fe}"),
            None => message.to_owned(),
        };
        if status == STATUS_ORDER_NOT_EXIST || message == "ORDER_NOT_EXIST" {
            return Err(Error::NotFound {
                provider: P,
                code: status.to_string(),
                message: detail,
            });
        }
        return Err(Error::Business {
            provider: P,
            code: status.to_string(),
            message: detail,
            meaning: None,
        });
    }
    let data = require(P, "data", response.data.as_ref(), "status 200 without data")?;
    let raw_code = require(
        P,
        "data.code",
        Text::of(&data.code),
        "missing business status",
    )?;
    let amount = decode::major_money(
        P,
        "data.refund_amount",
        Text::of(&data.refund_amount),
        currency,
    )?;
    let amount = require(P, "data.refund_amount", amount, "missing refund amount")?;
    let amount = decode::non_negative(P, "data.refund_amount", amount)?;
    let status = EdgerosStatus::parse(raw_code);
    let mut refund = Refund::new(P, amount, status.to_core());
    refund.provider_status = Some(raw_code.to_owned());
    refund.refund_id = Text::of(&data.refund_no).map(str::to_owned);
    refund.merchant_refund_id = Text::of(&data.mch_refund_no).map(str::to_owned);
    refund.original_transaction_id = Text::of(&data.transaction_no).map(str::to_owned);
    refund.merchant_order_id = Text::of(&data.mch_trade_no).map(str::to_owned);
    refund.channel = non_empty_owned(Text::of(&data.refund_channel));
    refund.reason = non_empty_owned(Text::of(&data.refund_reason));
    if status != EdgerosStatus::Success {
        refund.failure_message = non_empty_owned(Text::of(&data.description));
    }
    refund.completed_at =
        decode::rfc3339_time(P, "data.success_time", Text::of(&data.success_time))?;
    Ok(vec![refund])
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn error_statuses_map_to_typed_errors() {
        let r: QueryResponse = serde_json::from_str(
            r#"{"status":1007,"message":"ORDER_NOT_EXIST","fieldErrors":"此订单不存在!"}"#,
        )
        .unwrap();
        assert!(map_response(&r, Currency::Cny).unwrap_err().is_not_found());
        let r: QueryResponse =
            serde_json::from_str(r#"{"status":500,"message":"SYSTEM_ERROR"}"#).unwrap();
        assert_eq!(
            map_response(&r, Currency::Cny).unwrap_err().kind(),
            "provider"
        );
    }

    #[test]
    fn a_negative_amount_is_a_decode_error() {
        let r: QueryResponse = serde_json::from_str(
            r#"{"status":200,"data":{"code":"SUCCESS","refund_amount":"-0.01"}}"#,
        )
        .unwrap();
        let err = map_response(&r, Currency::Cny).unwrap_err();
        assert_eq!(
            err.to_string(),
            "edgeros: cannot decode `data.refund_amount` (\"-0.01\"): negative amount: this provider documents none"
        );
        let r: QueryResponse = serde_json::from_str(
            r#"{"status":200,"data":{"code":"SUCCESS","refund_amount":"-92233720368547758.08"}}"#,
        )
        .unwrap();
        assert_eq!(
            map_response(&r, Currency::Cny).unwrap_err().kind(),
            "decode"
        );
    }
}
