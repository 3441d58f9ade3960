//! EdgerOS: verifies the `x-acopay-*` request signature (and refuses a reused nonce); signs every
//! answer with the platform key as the vendor SDK verifies it.

use std::collections::HashMap;

use refund_core::{LookupKind, Provider, RefundStatus, time};
use serde_json::{Map, Value, json};

use super::{Answer, answer, opt, without_nulls};
use crate::state::{Shared, View};
use refund_edgeros::wire::IdField;

fn edgeros_signed(
    shared: &Shared,
    mch_no: &str,
    status: i64,
    message: &str,
    field_errors: Option<&str>,
    data: Map<String, Value>,
) -> Value {
    let mut data = without_nulls(data);
    data.insert("mch_no".to_owned(), Value::String(mch_no.to_owned()));
    data.insert(
        "nonce".to_owned(),
        Value::String(refund_core::random::random_token(32)),
    );
    data.insert(
        "sign_type".to_owned(),
        Value::String(refund_edgeros::sign::SIGN_TYPE.to_owned()),
    );
    let mut doc = json!({ "status": status, "message": message, "fieldErrors": field_errors, "data": Value::Object(data) });
    sign(shared, &mut doc);
    doc
}

/// Signs a document as the platform does: over the canonical text, into `data.sign`.
fn sign(shared: &Shared, doc: &mut Value) {
    let signature = refund_edgeros::sign::response_canonical(doc)
        .ok()
        .and_then(|parts| {
            shared
                .edgeros_signing_key
                .sign_base64(parts.canonical.as_bytes())
                .ok()
        })
        .unwrap_or_default();
    if let Some(data) = doc.get_mut("data").and_then(Value::as_object_mut) {
        data.insert("sign".to_owned(), Value::String(signature));
    }
}

/// The same answer, correctly signed, but naming merchant `mch_no`.
pub(super) fn with_merchant(shared: &Shared, body: &[u8], mch_no: &str) -> Option<Vec<u8>> {
    let mut doc: Value = serde_json::from_slice(body).ok()?;
    let data = doc.get_mut("data").and_then(Value::as_object_mut)?;
    data.insert("mch_no".to_owned(), Value::String(mch_no.to_owned()));
    data.remove("sign");
    sign(shared, &mut doc);
    serde_json::to_vec(&doc).ok()
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

pub(crate) fn handle(
    shared: &Shared,
    query: &HashMap<String, String>,
    headers: &axum::http::HeaderMap,
) -> Answer {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mch = shared.credentials.edgeros_mch_no.as_str();
    let error = |status: i64, message: &str, detail: &str| {
        edgeros_signed(shared, mch, status, message, Some(detail), Map::new())
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
    let ids = refund_edgeros::wire::RefundQuery {
        mch_refund_no: query.get(IdField::MchRefundNo.name()).cloned(),
        refund_no: query.get(IdField::RefundNo.name()).cloned(),
    };
    let canonical = refund_edgeros::sign::request_canonical(mch_no, nonce, &ids);
    let merchant = shared.credentials.edgeros_merchant_key.public_key();
    if sign_type != refund_edgeros::sign::SIGN_TYPE
        || merchant.verify_base64(canonical.as_bytes(), sign).is_err()
    {
        return answer(vec![], &error(1002, "SIGN_ERROR", "签名验证失败"));
    }
    if !shared.fresh_nonce(nonce) {
        return answer(
            vec![],
            &error(1004, "NONCE_REUSED", "请求重放: nonce 已使用"),
        );
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
    lookup_answer(shared, lookup, mch)
}

/// The platform's signed answer about a lookup, naming merchant `mch_no`.
pub(super) fn lookup_answer(shared: &Shared, lookup: (LookupKind, String), mch_no: &str) -> Answer {
    let views = shared.resolve(Provider::Edgeros, lookup.0, &lookup.1);
    let Some(view) = views.first() else {
        return answer(
            vec![lookup.1],
            &edgeros_signed(
                shared,
                mch_no,
                1007,
                "ORDER_NOT_EXIST",
                Some("此订单不存在!"),
                Map::new(),
            ),
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
        &edgeros_signed(shared, mch_no, 200, "SUCCESS", None, data),
    )
}
