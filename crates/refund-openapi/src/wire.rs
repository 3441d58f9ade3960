//! The Open API gateway's JSON exactly as it travels, and its status vocabulary.

use refund_core::{LookupKind, RefundLookup, RefundStatus};
use serde::{Deserialize, Serialize};

/// The request body: `{"appId": ..., "param": "<JSON text>", "sign": "<base64>"}`.
///
/// ```
/// let body = refund_openapi::wire::QueryRequestBody { app_id: "a", param: "{}", sign: "s" };
/// assert_eq!(serde_json::to_string(&body).unwrap(), r#"{"appId":"a","param":"{}","sign":"s"}"#);
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct QueryRequestBody<'a> {
    /// The merchant's application id (not signed).
    #[serde(rename = "appId")]
    pub app_id: &'a str,
    /// The business parameters, serialised once to JSON text; the signature covers these bytes.
    pub param: &'a str,
    /// Base64 SHA256withRSA signature of `param`.
    pub sign: &'a str,
}

/// The field of `param` (and of each answered record) that carries a lookup's id: the one
/// mapping from lookup kind to the wire's name that signing, the binding check, explanations,
/// the sandbox's emulator and the tests all use.
///
/// ```
/// use refund_core::LookupKind;
/// use refund_openapi::wire::{IdField, id_field};
/// assert_eq!(id_field(LookupKind::OriginalTransactionId), Some(IdField::OriginalTransactionId));
/// assert_eq!(IdField::RefundTransactionId.name(), "refundTransactionId");
/// assert_eq!(id_field(LookupKind::MerchantRefundId), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    /// `refundTransactionId`: the gateway's refund transaction id.
    RefundTransactionId,
    /// `originalTransactionId`: the original payment's transaction id.
    OriginalTransactionId,
}

/// The field a lookup of `kind` is sent and answered in; `None` for a kind the gateway does not
/// support.
pub fn id_field(kind: LookupKind) -> Option<IdField> {
    match kind {
        LookupKind::RefundId => Some(IdField::RefundTransactionId),
        LookupKind::OriginalTransactionId => Some(IdField::OriginalTransactionId),
        _ => None,
    }
}

impl IdField {
    /// The field of a lookup the pipeline has let through (its kind is one of
    /// `SUPPORTED_LOOKUPS`, checked before anything is built or bound). Another kind never gets
    /// here; it would be treated as the refund id, the one place that says so.
    pub fn of(lookup: &RefundLookup) -> IdField {
        id_field(lookup.kind()).unwrap_or(IdField::RefundTransactionId)
    }

    /// Every field.
    pub const ALL: [IdField; 2] = [IdField::RefundTransactionId, IdField::OriginalTransactionId];

    /// The lookup kind this field answers.
    pub const fn kind(self) -> LookupKind {
        match self {
            IdField::RefundTransactionId => LookupKind::RefundId,
            IdField::OriginalTransactionId => LookupKind::OriginalTransactionId,
        }
    }

    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            IdField::RefundTransactionId => "refundTransactionId",
            IdField::OriginalTransactionId => "originalTransactionId",
        }
    }

    /// This field's value in an answered record.
    pub fn answered(self, record: &RefundRecord) -> Option<&str> {
        match self {
            IdField::RefundTransactionId => record.refund_transaction_id.as_deref(),
            IdField::OriginalTransactionId => record.original_transaction_id.as_deref(),
        }
    }
}

/// The object serialised into `param`.
///
/// ```
/// let p = refund_openapi::wire::QueryParam { original_transaction_id: Some("CU1"), refund_transaction_id: None, timestamp: 1722416882 };
/// assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"originalTransactionId":"CU1","timestamp":1722416882}"#);
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct QueryParam<'a> {
    /// The original payment's transaction id.
    #[serde(
        rename = "originalTransactionId",
        skip_serializing_if = "Option::is_none"
    )]
    pub original_transaction_id: Option<&'a str>,
    /// The refund's transaction id.
    #[serde(
        rename = "refundTransactionId",
        skip_serializing_if = "Option::is_none"
    )]
    pub refund_transaction_id: Option<&'a str>,
    /// Current time, milliseconds (default) or seconds since the epoch.
    pub timestamp: i64,
}

impl<'a> QueryParam<'a> {
    /// The `param` asking by one id field at `timestamp`.
    pub fn new(field: IdField, id: &'a str, timestamp: i64) -> Self {
        let only = |f: IdField| (f == field).then_some(id);
        QueryParam {
            original_transaction_id: only(IdField::OriginalTransactionId),
            refund_transaction_id: only(IdField::RefundTransactionId),
            timestamp,
        }
    }
}

/// The answer: `{code, message, data}`; `data` is an array of refunds on success.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryResponse {
    /// 10000 on success, otherwise an error code from the catalogue.
    pub code: i64,
    /// The gateway's message.
    #[serde(default)]
    pub message: Option<String>,
    /// The refunds (one original transaction can have several).
    #[serde(default)]
    pub data: Option<Vec<RefundRecord>>,
}

/// One refund as the gateway sends it. Every field is optional on the wire; the mapping decides
/// which absences are errors.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundRecord {
    /// The merchant's refund order id.
    pub mch_refund_order_id: Option<String>,
    /// The original payment's transaction id.
    pub original_transaction_id: Option<String>,
    /// The gateway's refund transaction id.
    pub refund_transaction_id: Option<String>,
    /// Refunded amount, minor units (fen).
    pub refund_amount: Option<i64>,
    /// Fee given back, minor units.
    pub fee_refunded: Option<i64>,
    /// `PENDING`, `PROCESS`, `COMPLETE`/`COMPLETED`, `FAILED`, `CANCEL`.
    pub refund_status: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC+08:00.
    pub refund_create_time: Option<String>,
    /// `YYYY-MM-DD HH:MM:SS`, UTC+08:00.
    pub refund_return_time: Option<String>,
    /// Failure code (`-10010`).
    pub failed_code: Option<i64>,
    /// Failure message.
    pub failed_message: Option<String>,
}

/// A refund callback body: `{"param": "<JSON text>", "sign": "<base64>"}`, signed by the gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct NotificationBody {
    /// The event, as JSON text; the signature covers exactly these bytes.
    pub param: String,
    /// Base64 SHA256withRSA signature of `param` by the gateway's key.
    pub sign: String,
}

/// The object inside a callback's `param`: the event name and the refund's fields.
///
/// **Assumption**: the vendor documents the event names but not the payload's other fields; we
/// read the same field names as the query answer ([`RefundRecord`]) beside `eventName`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationParam {
    /// `payment.refund.success`, `payment.refund.failed` or `payment.refund.cancel`.
    pub event_name: Option<String>,
    /// The refund.
    #[serde(flatten)]
    pub refund: RefundRecord,
}

/// The refund status as the gateway names it. `COMPLETE` (the vendor's enum page) and
/// `COMPLETED` (the seed's example) both mean succeeded.
///
/// ```
/// use refund_openapi::wire::OpenApiStatus;
/// assert_eq!(OpenApiStatus::parse("PROCESS"), OpenApiStatus::Process);
/// assert_eq!(OpenApiStatus::parse("REVIEW"), OpenApiStatus::Other("REVIEW".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OpenApiStatus {
    /// `PENDING`: accepted, not started.
    Pending,
    /// `PROCESS`: in progress.
    Process,
    /// `COMPLETE`.
    Complete,
    /// `COMPLETED`.
    Completed,
    /// `FAILED`.
    Failed,
    /// `CANCEL`.
    Cancel,
    /// Anything else, raw.
    Other(String),
}

impl OpenApiStatus {
    /// Reads the raw text (exact, case-sensitive: an unexpected spelling is unrecognised).
    ///
    /// ```
    /// assert_eq!(refund_openapi::wire::OpenApiStatus::parse("completed"), refund_openapi::wire::OpenApiStatus::Other("completed".into()));
    /// ```
    pub fn parse(raw: &str) -> Self {
        match raw {
            "PENDING" => OpenApiStatus::Pending,
            "PROCESS" => OpenApiStatus::Process,
            "COMPLETE" => OpenApiStatus::Complete,
            "COMPLETED" => OpenApiStatus::Completed,
            "FAILED" => OpenApiStatus::Failed,
            "CANCEL" => OpenApiStatus::Cancel,
            other => OpenApiStatus::Other(other.to_owned()),
        }
    }

    /// The core status (exhaustive: a new wire variant forces a decision here).
    ///
    /// ```
    /// use refund_openapi::wire::OpenApiStatus;
    /// assert_eq!(OpenApiStatus::Completed.to_core(), refund_core::RefundStatus::Succeeded);
    /// ```
    pub fn to_core(&self) -> RefundStatus {
        match self {
            OpenApiStatus::Pending | OpenApiStatus::Process => RefundStatus::Processing,
            OpenApiStatus::Complete | OpenApiStatus::Completed => RefundStatus::Succeeded,
            OpenApiStatus::Failed => RefundStatus::Failed,
            OpenApiStatus::Cancel => RefundStatus::Cancelled,
            OpenApiStatus::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}
