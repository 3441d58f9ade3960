//! The Open API gateway: verifies `sign` over `param` and the timestamp window; answers unsigned.

use chrono::Utc;
use refund_core::{LookupKind, Provider, RefundStatus};
use serde_json::{Map, Value, json};

use super::{Answer, answer, china_local, opt, without_nulls};
use crate::state::{Shared, View};
use refund_openapi::wire::IdField;

fn openapi_error(code: i64, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

fn openapi_status(view: &View) -> String {
    if let (true, Some(raw)) = (view.settled, &view.refund.provider_status) {
        return raw.clone();
    }
    match view.status() {
        RefundStatus::Processing => "PROCESS".to_owned(),
        RefundStatus::Succeeded => "COMPLETED".to_owned(),
        RefundStatus::Failed => "FAILED".to_owned(),
        RefundStatus::Cancelled => "CANCEL".to_owned(),
        RefundStatus::NeedsAttention => "ABNORMAL".to_owned(),
        RefundStatus::Unrecognized(raw) => raw,
        _ => "UNKNOWN".to_owned(),
    }
}

pub(crate) fn handle(shared: &Shared, body: &[u8]) -> Answer {
    let Ok(request) = refund_core::json::parse_strict(body) else {
        return answer(vec![], &openapi_error(21002, "Param error"));
    };
    let text = |k: &str| request.get(k).and_then(Value::as_str);
    let (Some(app_id), Some(param), Some(sign)) = (text("appId"), text("param"), text("sign"))
    else {
        return answer(vec![], &openapi_error(21002, "Param error"));
    };
    if app_id != shared.credentials.openapi_app_id {
        return answer(vec![], &openapi_error(21003, "AppId error"));
    }
    let merchant = shared.credentials.openapi_merchant_key.public_key();
    if refund_openapi::sign::verify_canonical(merchant, param, sign).is_err() {
        return answer(vec![], &openapi_error(21001, "Request sign error"));
    }
    let Ok(param) = refund_core::json::parse_strict(param.as_bytes()) else {
        return answer(vec![], &openapi_error(21002, "Param error"));
    };
    let Some(timestamp) = param.get("timestamp").and_then(Value::as_i64) else {
        return answer(vec![], &openapi_error(21008, "Timestamp error"));
    };
    // Milliseconds or seconds, as the vendor's two examples differ.
    let millis = if timestamp > 100_000_000_000 {
        timestamp
    } else {
        timestamp.saturating_mul(1000)
    };
    let skew = Utc::now().timestamp_millis().abs_diff(millis);
    if u128::from(skew) > shared.timestamp_window.as_millis() {
        return answer(vec![], &openapi_error(21009, "Timestamp expired"));
    }
    let lookup = IdField::ALL.into_iter().find_map(|field| {
        param
            .get(field.name())
            .and_then(Value::as_str)
            .map(|id| (field.kind(), id.to_owned()))
    });
    let Some(lookup) = lookup else {
        return answer(vec![], &openapi_error(21002, "Param error"));
    };
    lookup_answer(shared, lookup)
}

/// The gateway's answer about the refunds of a lookup.
pub(super) fn lookup_answer(shared: &Shared, (kind, id): (LookupKind, String)) -> Answer {
    let views = shared.resolve(Provider::OpenApi, kind, &id);
    if views.is_empty() {
        return answer(
            vec![id],
            &openapi_error(21006, "Merchant transaction not found"),
        );
    }
    let data: Vec<Value> = views
        .iter()
        .map(|v| {
            let r = &v.refund;
            let failed = v.settled && matches!(r.status, RefundStatus::Failed);
            Value::Object(without_nulls(Map::from_iter([
                ("mchRefundOrderId".to_owned(), opt(&r.merchant_refund_id)),
                (
                    "originalTransactionId".to_owned(),
                    opt(&r.original_transaction_id),
                ),
                (
                    "refundTransactionId".to_owned(),
                    Value::String(r.refund_id.clone()),
                ),
                ("refundAmount".to_owned(), json!(v.amount.minor())),
                (
                    "feeRefunded".to_owned(),
                    v.fee.map_or(Value::Null, |f| json!(f.minor())),
                ),
                ("refundStatus".to_owned(), Value::String(openapi_status(v))),
                ("refundCreateTime".to_owned(), china_local(r.created_at)),
                (
                    "refundReturnTime".to_owned(),
                    if v.settled {
                        china_local(r.completed_at)
                    } else {
                        Value::Null
                    },
                ),
                (
                    "failedCode".to_owned(),
                    r.failure_code
                        .as_deref()
                        .filter(|_| failed)
                        .and_then(|c| c.parse::<i64>().ok())
                        .map_or(Value::Null, |c| json!(c)),
                ),
                (
                    "failedMessage".to_owned(),
                    if failed {
                        opt(&r.failure_message)
                    } else {
                        Value::Null
                    },
                ),
            ])))
        })
        .collect();
    answer(
        vec![id],
        &json!({ "code": 10000, "message": "Success", "data": data }),
    )
}
