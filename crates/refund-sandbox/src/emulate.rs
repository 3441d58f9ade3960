//! Each provider's behaviour: check the request as the provider would, find the refunds, and
//! answer in the provider's own format, signed as the provider signs. Pure apart from the shared
//! state; faults are applied afterwards by the server.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use refund_core::{LookupKind, Provider, RefundStatus, time};
use serde_json::{Map, Value, json};

use crate::state::{Shared, View};

/// The provider's answer before any fault: which ids it was about, and the JSON body.
pub(crate) struct Answer {
    pub(crate) ids: Vec<String>,
    pub(crate) body: Vec<u8>,
}

fn answer(ids: Vec<String>, value: &Value) -> Answer {
    Answer {
        ids,
        body: serde_json::to_vec(value).unwrap_or_default(),
    }
}

fn china_local(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| Value::String(time::format_china_local(&t)))
}

fn opt(s: &Option<String>) -> Value {
    s.as_ref().map_or(Value::Null, |s| Value::String(s.clone()))
}

fn without_nulls(map: Map<String, Value>) -> Map<String, Value> {
    map.into_iter().filter(|(_, v)| !v.is_null()).collect()
}

// ---------------------------------------------------------------------------------------------
// Open API
// ---------------------------------------------------------------------------------------------

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

pub(crate) fn openapi(shared: &Shared, body: &[u8]) -> Answer {
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
    if refund_openapi::sign::verify_param(merchant, param, sign).is_err() {
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
    let lookup = [
        ("refundTransactionId", LookupKind::RefundId),
        ("originalTransactionId", LookupKind::OriginalTransactionId),
    ]
    .into_iter()
    .find_map(|(field, kind)| {
        param
            .get(field)
            .and_then(Value::as_str)
            .map(|id| (kind, id.to_owned()))
    });
    let Some((kind, id)) = lookup else {
        return answer(vec![], &openapi_error(21002, "Param error"));
    };
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

// ---------------------------------------------------------------------------------------------
// EdgerOS
// ---------------------------------------------------------------------------------------------

fn edgeros_signed(
    shared: &Shared,
    status: i64,
    message: &str,
    field_errors: Option<&str>,
    data: Map<String, Value>,
) -> Value {
    let mut data = without_nulls(data);
    data.insert(
        "mch_no".to_owned(),
        Value::String(shared.credentials.edgeros_mch_no.clone()),
    );
    data.insert(
        "nonce".to_owned(),
        Value::String(refund_core::rsa_keys::random_token(32)),
    );
    data.insert(
        "sign_type".to_owned(),
        Value::String(refund_edgeros::sign::SIGN_TYPE.to_owned()),
    );
    let mut doc = json!({ "status": status, "message": message, "fieldErrors": field_errors, "data": Value::Object(data) });
    let signature = refund_edgeros::sign::response_canonical(&doc)
        .ok()
        .and_then(|parts| {
            shared
                .credentials
                .edgeros_platform_key
                .sign_base64(parts.canonical.as_bytes())
                .ok()
        })
        .unwrap_or_default();
    if let Some(data) = doc.get_mut("data").and_then(Value::as_object_mut) {
        data.insert("sign".to_owned(), Value::String(signature));
    }
    doc
}

fn edgeros_code(view: &View) -> (String, &'static str) {
    if let (true, Some(raw)) = (view.settled, &view.refund.provider_status) {
        return (raw.clone(), "");
    }
    match view.status() {
        RefundStatus::Succeeded => ("SUCCESS".to_owned(), "成功"),
        RefundStatus::Processing => ("PROCESSING".to_owned(), "退款处理中"),
        RefundStatus::Failed => ("FAIL".to_owned(), "退款失败"),
        RefundStatus::Cancelled => ("CLOSED".to_owned(), "退款关闭"),
        RefundStatus::NeedsAttention => ("ABNORMAL".to_owned(), "退款异常"),
        RefundStatus::Unrecognized(raw) => (raw, ""),
        _ => ("UNKNOWN".to_owned(), ""),
    }
}

pub(crate) fn edgeros(
    shared: &Shared,
    query: &HashMap<String, String>,
    headers: &axum::http::HeaderMap,
) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let error = |status: i64, message: &str, detail: &str| {
        edgeros_signed(shared, status, message, Some(detail), Map::new())
    };
    let (Some(mch_no), Some(nonce), Some(sign_type), Some(sign)) = (
        header("x-acopay-mch-no"),
        header("x-acopay-nonce"),
        header("x-acopay-sign-type"),
        header("x-acopay-sign"),
    ) else {
        return answer(vec![], &error(1001, "PARAM_ERROR", "缺少签名请求头"));
    };
    if mch_no != shared.credentials.edgeros_mch_no {
        return answer(vec![], &error(1003, "MCH_NOT_EXIST", "商户不存在"));
    }
    let ids = refund_edgeros::sign::RefundQuery {
        mch_refund_no: query.get("mch_refund_no").cloned(),
        refund_no: query.get("refund_no").cloned(),
    };
    let canonical = refund_edgeros::sign::request_canonical(mch_no, nonce, &ids);
    let merchant = shared.credentials.edgeros_merchant_key.public_key();
    if sign_type != refund_edgeros::sign::SIGN_TYPE
        || merchant.verify_base64(canonical.as_bytes(), sign).is_err()
    {
        return answer(vec![], &error(1002, "SIGN_ERROR", "签名验证失败"));
    }
    let lookup = match (&ids.refund_no, &ids.mch_refund_no) {
        (Some(id), _) if !id.is_empty() => (LookupKind::RefundId, id.clone()),
        (_, Some(id)) if !id.is_empty() => (LookupKind::MerchantRefundId, id.clone()),
        _ => {
            return answer(
                vec![],
                &error(
                    1001,
                    "PARAM_ERROR",
                    "mch_refund_no 与 refund_no 不能同时为空",
                ),
            );
        }
    };
    let views = shared.resolve(Provider::Edgeros, lookup.0, &lookup.1);
    let Some(view) = views.first() else {
        return answer(
            vec![lookup.1],
            &error(1007, "ORDER_NOT_EXIST", "此订单不存在!"),
        );
    };
    let r = &view.refund;
    let (code, default_description) = edgeros_code(view);
    let description = match view.status() {
        RefundStatus::Succeeded | RefundStatus::Processing => Some(default_description.to_owned()),
        _ => r
            .failure_message
            .clone()
            .or(Some(default_description.to_owned())),
    }
    .filter(|d| !d.is_empty());
    let success_time = r
        .completed_at
        .filter(|_| view.settled)
        .map(|t| t.with_timezone(&time::CHINA_STANDARD_TIME).to_rfc3339());
    let data = Map::from_iter([
        ("mch_trade_no".to_owned(), opt(&r.merchant_order_id)),
        ("mch_refund_no".to_owned(), opt(&r.merchant_refund_id)),
        ("transaction_no".to_owned(), opt(&r.original_transaction_id)),
        ("refund_no".to_owned(), Value::String(r.refund_id.clone())),
        (
            "refund_amount".to_owned(),
            Value::String(view.amount.to_major_string()),
        ),
        ("code".to_owned(), Value::String(code)),
        ("description".to_owned(), opt(&description)),
        ("refund_reason".to_owned(), opt(&r.reason)),
        ("success_time".to_owned(), opt(&success_time)),
        ("refund_channel".to_owned(), opt(&r.channel)),
    ]);
    answer(
        vec![lookup.1],
        &edgeros_signed(shared, 200, "SUCCESS", None, data),
    )
}

// ---------------------------------------------------------------------------------------------
// CPOS
// ---------------------------------------------------------------------------------------------

fn cpos_signed(shared: &Shared, fields: Map<String, Value>) -> Value {
    let mut doc = Value::Object(without_nulls(fields));
    let signed = refund_cpos::sign::response_fields(&doc);
    let sign = refund_cpos::sign::sign_fields(
        signed.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        &shared.credentials.cpos_secret,
    );
    if let Some(map) = doc.as_object_mut() {
        map.insert("sign".to_owned(), Value::String(sign));
    }
    doc
}

fn cpos_error(shared: &Shared, return_code: i64, error_code: &str, error_msg: &str) -> Value {
    cpos_signed(
        shared,
        Map::from_iter([
            ("return_code".to_owned(), json!(return_code)),
            ("error_code".to_owned(), json!(error_code)),
            ("error_msg".to_owned(), json!(error_msg)),
        ]),
    )
}

/// CPOS's `refund_status` and WeChat's status in `attach`.
fn cpos_statuses(view: &View) -> (Value, Option<String>) {
    let wechat = view.refund.wechat_status.clone();
    if !view.settled {
        return (json!(3), wechat.map(|_| "PROCESSING".to_owned()));
    }
    if let Some(raw) = &view.refund.provider_status {
        let value = raw.parse::<i64>().map_or_else(|_| json!(raw), |n| json!(n));
        return (value, wechat);
    }
    match &view.refund.status {
        RefundStatus::Succeeded => (json!(1), wechat),
        RefundStatus::Failed => (json!(2), wechat),
        RefundStatus::Processing => (json!(3), wechat),
        // CPOS's signed status has no "closed" or "abnormal": the money did not go (2) or is not
        // known to have arrived (3); WeChat's word for it rides in the unsigned `attach`.
        RefundStatus::Cancelled => (json!(2), wechat.or(Some("REFUNDCLOSE".to_owned()))),
        RefundStatus::NeedsAttention => (json!(3), wechat.or(Some("CHANGE".to_owned()))),
        RefundStatus::Unrecognized(raw) => (json!(raw), wechat),
        _ => (json!(0), wechat),
    }
}

pub(crate) fn cpos(shared: &Shared, body: &[u8]) -> Answer {
    let Ok(request) = refund_core::json::parse_strict(body) else {
        return answer(
            vec![],
            &cpos_error(shared, 40003, "PARAM_ERROR", "请求不是合法的 JSON"),
        );
    };
    if refund_cpos::sign::check_response(&request, &shared.credentials.cpos_secret).is_err() {
        return answer(vec![], &cpos_error(shared, 40001, "SIGNERROR", "签名错误"));
    }
    if request.get("accessid").and_then(Value::as_str)
        != Some(shared.credentials.cpos_access_id.as_str())
    {
        return answer(
            vec![],
            &cpos_error(shared, 40002, "INVALID_ACCESSID", "accessid 不存在"),
        );
    }
    let lookup = [
        ("refund_no", LookupKind::RefundId),
        ("out_refund_no", LookupKind::MerchantRefundId),
        ("channel_trade_no", LookupKind::ChannelTradeNo),
    ]
    .into_iter()
    .find_map(|(field, kind)| {
        request
            .get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|id| (kind, id.to_owned()))
    });
    let Some((kind, id)) = lookup else {
        return answer(
            vec![],
            &cpos_error(
                shared,
                40003,
                "PARAM_ERROR",
                "refund_no、out_refund_no、channel_trade_no 必传其一",
            ),
        );
    };
    let views = shared.resolve(Provider::Cpos, kind, &id);
    let Some(view) = views.first() else {
        return answer(
            vec![id],
            &cpos_error(shared, 40004, "REFUNDNOTEXIST", "退款单不存在"),
        );
    };
    let r = &view.refund;
    let (refund_status, wechat_status) = cpos_statuses(view);
    let failed = view.settled && r.status == RefundStatus::Failed;
    let negative = refund_core::Money::from_minor(
        view.amount.minor().saturating_neg(),
        view.amount.currency(),
    );
    let attach = wechat_status.map(|status| {
        let mut a: BTreeMap<&str, Value> = BTreeMap::new();
        a.insert("result_code", json!("SUCCESS"));
        a.insert("sub_mch_id", json!("1900000109"));
        a.insert("nonce_str", json!(refund_core::rsa_keys::random_token(16)));
        a.insert("out_refund_no", opt(&r.merchant_refund_id));
        a.insert("refund_id", json!(format!("5000{}", r.refund_id)));
        a.insert("refund_fee", json!(view.amount.minor().to_string()));
        a.insert("refund_fee_type", json!("CNY"));
        a.insert("cash_refund_fee", json!(view.amount.minor().to_string()));
        a.insert("refund_status", json!(status));
        a.insert("refund_channel", opt(&r.channel));
        a.insert(
            "refund_success_time",
            if view.settled {
                china_local(r.completed_at)
            } else {
                Value::Null
            },
        );
        Value::Object(
            a.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
        )
    });
    let fields = Map::from_iter([
        ("return_code".to_owned(), json!(10000)),
        (
            "total_amount".to_owned(),
            json!(view.amount.to_major_string()),
        ),
        ("refund_no".to_owned(), json!(r.refund_id)),
        ("out_refund_no".to_owned(), opt(&r.merchant_refund_id)),
        ("channel_trade_no".to_owned(), opt(&r.channel_trade_no)),
        (
            "refund_amount".to_owned(),
            json!(negative.to_major_string()),
        ),
        ("refund_status".to_owned(), refund_status),
        (
            "refunded_amount".to_owned(),
            json!(view.amount.to_major_string()),
        ),
        ("remanent_amount".to_owned(), json!("0.00")),
        (
            "error_code".to_owned(),
            if failed {
                opt(&r.failure_code)
            } else {
                Value::Null
            },
        ),
        (
            "error_msg".to_owned(),
            if failed {
                opt(&r.failure_message)
            } else {
                Value::Null
            },
        ),
        ("attach".to_owned(), attach.unwrap_or(Value::Null)),
    ]);
    answer(vec![id], &cpos_signed(shared, fields))
}
