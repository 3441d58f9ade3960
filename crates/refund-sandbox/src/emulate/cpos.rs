//! CPOS: verifies the MD5 `sign` and `accessid`; answers MD5-signed top-level fields with WeChat's
//! details in the unsigned `attach`.

use std::collections::BTreeMap;

use refund_core::json::Member;
use refund_core::{LookupKind, Provider, RefundStatus};
use serde_json::{Map, Value, json};

use super::{Answer, answer, china_local, opt, without_nulls};
use crate::state::{Shared, View};
use refund_cpos::wire::IdField;

fn cpos_signed(shared: &Shared, fields: Map<String, Value>) -> Value {
    let mut doc = Value::Object(without_nulls(fields));
    let signed = refund_cpos::sign::response_fields(&doc);
    let sign = refund_cpos::sign::sign_canonical(
        &shared.credentials.cpos_secret,
        signed.iter().map(|(k, v)| (k.as_str(), v.as_str())),
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

pub(crate) fn handle(shared: &Shared, body: &[u8]) -> Answer {
    let Ok(request) = refund_core::json::FlatObject::parse_strict(body) else {
        return answer(
            vec![],
            &cpos_error(shared, 40003, "PARAM_ERROR", "请求不是合法的 JSON"),
        );
    };
    if refund_cpos::sign::check_response(&shared.credentials.cpos_secret, &request).is_err() {
        return answer(vec![], &cpos_error(shared, 40001, "SIGNERROR", "签名错误"));
    }
    if request.get("accessid").and_then(Member::as_str)
        != Some(shared.credentials.cpos_access_id.as_str())
    {
        return answer(
            vec![],
            &cpos_error(shared, 40002, "INVALID_ACCESSID", "accessid 不存在"),
        );
    }
    let lookup = IdField::ALL.into_iter().find_map(|field| {
        request
            .get(field.name())
            .and_then(Member::as_str)
            .filter(|s| !s.is_empty())
            .map(|id| (field.kind(), id.to_owned()))
    });
    let Some(lookup) = lookup else {
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
    lookup_answer(shared, lookup)
}

/// CPOS's signed answer about a lookup.
pub(super) fn lookup_answer(shared: &Shared, (kind, id): (LookupKind, String)) -> Answer {
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
        a.insert("nonce_str", json!(refund_core::random::random_token(16)));
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
