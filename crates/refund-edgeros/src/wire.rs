//! EdgerOS Pay's JSON exactly as it travels: the request's query (its ids, its URL) and the
//! canonical JSON the vendor's SDK writes, the answer, and its status vocabulary.
//!
//! **Canonical JSON** (as the SDK's Gson writes it): keys sorted by byte order at every level,
//! no spaces, nulls dropped, empty strings kept, `"` and `\` escaped, `\t \n \r \b \f` as short
//! escapes, other U+0000–U+001F as `\u00xx`, U+2028/U+2029 as `\u2028`/`\u2029`, everything else
//! raw UTF-8 (no HTML escaping). Written here rather than taken from serde_json or a canonical
//! JSON crate (RFC 8785 escapes and orders differently): the signature has to match what Gson
//! writes, byte for byte, and the vendor's vectors pin that (`tests/vectors.rs`,
//! `tests/canonical_model.rs`).

use std::collections::BTreeMap;

use refund_core::{LookupKind, RefundLookup, RefundStatus};
use serde::{Deserialize, Deserializer};

pub use refund_core::json::Text;

/// Sent as `aco_pay_sdk` (never signed): the official SDK version whose rules we follow.
pub const ACO_PAY_SDK: &str = "2.0.0";
/// Sent as `version` (never signed).
pub const API_VERSION: &str = "1.0";
/// Percent-encodes a query-string component (RFC 3986 unreserved characters kept).
///
/// ```
/// assert_eq!(refund_edgeros::wire::percent_encode("a b&退"), "a%20b%26%E9%80%80");
/// ```
pub fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_COMPONENT).to_string()
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) is escaped.
const QUERY_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The field that carries a lookup's id, in requests (query string and signed text) and in the
/// answer's `data`: the one mapping from lookup kind to the wire's name that signing, the
/// binding check, explanations, the sandbox's emulator and the tests all use.
///
/// ```
/// use refund_core::LookupKind;
/// use refund_edgeros::wire::{IdField, id_field};
/// assert_eq!(id_field(LookupKind::MerchantRefundId), Some(IdField::MchRefundNo));
/// assert_eq!(IdField::MchRefundNo.name(), "mch_refund_no");
/// assert_eq!(id_field(LookupKind::ChannelTradeNo), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdField {
    /// `refund_no`: EdgerOS's refund number.
    RefundNo,
    /// `mch_refund_no`: the merchant's refund number.
    MchRefundNo,
}

/// The field a lookup of `kind` is sent and answered in; `None` for a kind EdgerOS does not
/// support.
pub fn id_field(kind: LookupKind) -> Option<IdField> {
    match kind {
        LookupKind::RefundId => Some(IdField::RefundNo),
        LookupKind::MerchantRefundId => Some(IdField::MchRefundNo),
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

    /// Every field.
    pub const ALL: [IdField; 2] = [IdField::RefundNo, IdField::MchRefundNo];

    /// The lookup kind this field answers.
    pub const fn kind(self) -> LookupKind {
        match self {
            IdField::RefundNo => LookupKind::RefundId,
            IdField::MchRefundNo => LookupKind::MerchantRefundId,
        }
    }

    /// The name on the wire.
    pub const fn name(self) -> &'static str {
        match self {
            IdField::RefundNo => "refund_no",
            IdField::MchRefundNo => "mch_refund_no",
        }
    }

    /// Where the answer carries it (`data.refund_no`), as the binding check names it.
    pub const fn answer_path(self) -> &'static str {
        match self {
            IdField::RefundNo => "data.refund_no",
            IdField::MchRefundNo => "data.mch_refund_no",
        }
    }

    /// This field's value in an answer's `data`.
    pub fn answered(self, data: &ResponseData) -> Option<&str> {
        match self {
            IdField::RefundNo => data.refund_no.as_ref().map(Text::as_str),
            IdField::MchRefundNo => data.mch_refund_no.as_ref().map(Text::as_str),
        }
    }
}

/// Which refund to ask for: at least one of the two numbers; `refund_no` wins when both are given.
///
/// ```
/// let q = refund_edgeros::wire::RefundQuery::refund_no("AR2021");
/// assert!(q.mch_refund_no.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefundQuery {
    /// The merchant's refund number.
    pub mch_refund_no: Option<String>,
    /// EdgerOS's refund number.
    pub refund_no: Option<String>,
}

impl RefundQuery {
    /// The query for a lookup of a [`SUPPORTED_LOOKUPS`](crate::sign::SUPPORTED_LOOKUPS) kind.
    ///
    /// ```
    /// let q = refund_edgeros::wire::RefundQuery::for_lookup(&refund_core::RefundLookup::merchant_refund_id("dx1"));
    /// assert_eq!(q.mch_refund_no.as_deref(), Some("dx1"));
    /// ```
    pub fn for_lookup(lookup: &RefundLookup) -> Self {
        match IdField::of(lookup) {
            IdField::MchRefundNo => RefundQuery::mch_refund_no(lookup.id()),
            IdField::RefundNo => RefundQuery::refund_no(lookup.id()),
        }
    }

    /// By EdgerOS's refund number.
    pub fn refund_no(id: impl Into<String>) -> Self {
        RefundQuery {
            mch_refund_no: None,
            refund_no: Some(id.into()),
        }
    }

    /// By the merchant's refund number.
    pub fn mch_refund_no(id: impl Into<String>) -> Self {
        RefundQuery {
            mch_refund_no: Some(id.into()),
            refund_no: None,
        }
    }

    /// The request URL: `path` (the base URL and [`crate::sign::QUERY_PATH`]), then the ids
    /// given, `aco_pay_sdk` and `version` as query parameters.
    ///
    /// ```
    /// let q = refund_edgeros::wire::RefundQuery::mch_refund_no("d x");
    /// assert_eq!(q.url("https://h/p"), "https://h/p?mch_refund_no=d%20x&aco_pay_sdk=2.0.0&version=1.0");
    /// ```
    pub fn url(&self, path: &str) -> String {
        let mut url = path.to_owned();
        url.push('?');
        for (field, value) in [
            (IdField::MchRefundNo, &self.mch_refund_no),
            (IdField::RefundNo, &self.refund_no),
        ] {
            if let Some(value) = value {
                url.push_str(field.name());
                url.push('=');
                url.push_str(&percent_encode(value));
                url.push('&');
            }
        }
        url.push_str("aco_pay_sdk=");
        url.push_str(ACO_PAY_SDK);
        url.push_str("&version=");
        url.push_str(API_VERSION);
        url
    }
}

/// A value in canonical JSON: a string, an integer or an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canonical {
    /// A JSON string.
    Str(String),
    /// A JSON integer (`status`).
    Int(i64),
    /// An object; keys are written in byte order.
    Obj(BTreeMap<String, Canonical>),
}

/// Writes `s` as a JSON string the way the official SDK (Gson, HTML escaping off) does.
///
/// ```
/// let mut out = String::new();
/// refund_edgeros::wire::write_json_string(&mut out, "a\"b\\c\u{2028}<&>退\u{1}");
/// assert_eq!(out, "\"a\\\"b\\\\c\\u2028<&>退\\u0001\"");
/// ```
pub fn write_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Serialises a canonical value as compact JSON with sorted keys.
///
/// ```
/// use std::collections::BTreeMap;
/// use refund_edgeros::wire::{Canonical, to_canonical_json};
/// let mut m = BTreeMap::new();
/// m.insert("b".to_owned(), Canonical::Int(200));
/// m.insert("a".to_owned(), Canonical::Str("x".into()));
/// assert_eq!(to_canonical_json(&Canonical::Obj(m)), r#"{"a":"x","b":200}"#);
/// ```
pub fn to_canonical_json(value: &Canonical) -> String {
    let mut out = String::with_capacity(256);
    write_canonical(&mut out, value);
    out
}

fn write_canonical(out: &mut String, value: &Canonical) {
    match value {
        Canonical::Str(s) => write_json_string(out, s),
        Canonical::Int(i) => out.push_str(&i.to_string()),
        Canonical::Obj(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json_string(out, k);
                out.push(':');
                write_canonical(out, v);
            }
            out.push('}');
        }
    }
}

/// The HTTP `status` field: a JSON number, or a numeric string (`"200"`) that the SDK coerces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusCode(pub i64);

impl<'de> Deserialize<'de> for StatusCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Text(text) = Text::deserialize(d)?;
        text.parse()
            .map(StatusCode)
            .map_err(|_| serde::de::Error::custom(format!("status {text:?} is not an integer")))
    }
}

/// The answer: `{status, message, fieldErrors, data}`.
#[derive(Debug, Clone, Deserialize)]
pub struct QueryResponse {
    /// 200 on success; an error status (1007...) otherwise.
    pub status: StatusCode,
    /// `SUCCESS` or an error name (`ORDER_NOT_EXIST`).
    #[serde(default)]
    pub message: Option<Text>,
    /// Error details (`此订单不存在!`).
    #[serde(default, rename = "fieldErrors")]
    pub field_errors: Option<Text>,
    /// The business fields and the signature.
    #[serde(default)]
    pub data: Option<ResponseData>,
}

/// `data`: every field is a string in the SDK's model.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ResponseData {
    /// Merchant number: bound to the configured merchant on every answer.
    pub mch_no: Option<Text>,
    /// The platform's random nonce.
    pub nonce: Option<Text>,
    /// Base64 SHA256withRSA signature by the platform key.
    pub sign: Option<Text>,
    /// `SHA256withRSA`.
    pub sign_type: Option<Text>,
    /// Merchant order number.
    pub mch_trade_no: Option<Text>,
    /// Merchant refund number.
    pub mch_refund_no: Option<Text>,
    /// EdgerOS payment number.
    pub transaction_no: Option<Text>,
    /// EdgerOS refund number.
    pub refund_no: Option<Text>,
    /// Yuan, two decimals (`"0.01"`).
    pub refund_amount: Option<Text>,
    /// Business status (`SUCCESS`), see [`EdgerosStatus`].
    pub code: Option<Text>,
    /// Description of `code`.
    pub description: Option<Text>,
    /// Refund reason.
    pub refund_reason: Option<Text>,
    /// RFC 3339 (`2024-04-24T17:15:21+08:00`).
    pub success_time: Option<Text>,
    /// `WECHAT_PAY`, `ALIPAY`, ... (kept raw).
    pub refund_channel: Option<Text>,
}

/// The business status `data.code`. Only `SUCCESS` is documented; no public list of other values
/// exists, so everything else is kept raw and maps to [`RefundStatus::Unrecognized`].
///
/// ```
/// use refund_edgeros::wire::EdgerosStatus;
/// assert_eq!(EdgerosStatus::parse("SUCCESS").to_core(), refund_core::RefundStatus::Succeeded);
/// assert_eq!(EdgerosStatus::parse("REFUNDING").to_core(), refund_core::RefundStatus::Unrecognized("REFUNDING".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum EdgerosStatus {
    /// `SUCCESS`
    Success,
    /// Anything else, raw.
    Other(String),
}

impl EdgerosStatus {
    /// Reads the raw `code`.
    ///
    /// ```
    /// assert_eq!(refund_edgeros::wire::EdgerosStatus::parse("X"), refund_edgeros::wire::EdgerosStatus::Other("X".into()));
    /// ```
    pub fn parse(raw: &str) -> Self {
        match raw {
            "SUCCESS" => EdgerosStatus::Success,
            other => EdgerosStatus::Other(other.to_owned()),
        }
    }

    /// The core status (exhaustive: a new variant forces a decision here).
    ///
    /// ```
    /// assert!(refund_edgeros::wire::EdgerosStatus::Success.to_core().is_terminal());
    /// ```
    pub fn to_core(&self) -> RefundStatus {
        match self {
            EdgerosStatus::Success => RefundStatus::Succeeded,
            EdgerosStatus::Other(raw) => RefundStatus::Unrecognized(raw.clone()),
        }
    }
}
