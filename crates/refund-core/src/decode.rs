//! Reading optional wire fields into core values, with one error shape for every provider.
//!
//! Each helper names the field once: a money or time problem becomes an [`Error::Decode`]
//! carrying the provider, the field path and the raw value, never wrapped twice. An absent or
//! empty field is `None` (the caller decides whether that is allowed, see [`require`]).

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::money::MoneyError;
use crate::money::{Currency, Money};
use crate::provider::Provider;
use crate::time::{self, TimeError};

/// The text, unless it is absent or empty.
///
/// ```
/// assert_eq!(refund_core::decode::non_empty(Some("")), None);
/// assert_eq!(refund_core::decode::non_empty(Some("x")), Some("x"));
/// ```
pub fn non_empty(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.is_empty())
}

/// The same, owned: for copying optional wire text into a [`crate::Refund`].
///
/// ```
/// assert_eq!(refund_core::decode::non_empty_owned(Some("WECHAT_PAY")), Some("WECHAT_PAY".to_owned()));
/// assert_eq!(refund_core::decode::non_empty_owned(Some("")), None);
/// ```
pub fn non_empty_owned(text: Option<&str>) -> Option<String> {
    non_empty(text).map(str::to_owned)
}

/// A value the answer must carry: `None` is a decode error naming the field (never a default).
///
/// ```
/// use refund_core::{decode, Provider};
/// assert_eq!(decode::require(Provider::Cpos, "refund_status", Some(1), "missing refund status").unwrap(), 1);
/// let err = decode::require::<i64>(Provider::Cpos, "refund_status", None, "missing refund status").unwrap_err();
/// assert_eq!(err.kind(), "decode");
/// ```
pub fn require<T>(
    provider: Provider,
    field: &str,
    value: Option<T>,
    reason: &str,
) -> Result<T, Error> {
    value.ok_or_else(|| Error::missing_field(provider, field, reason))
}

/// A money error as a decode error of `field`.
///
/// ```
/// use refund_core::{decode, Currency, Money, Provider};
/// let e = Money::from_major_str("0.001", Currency::Cny).unwrap_err();
/// let err = decode::money_error(Provider::Cpos, "refund_amount", e);
/// assert_eq!(err.to_string(), "cpos: cannot decode `refund_amount` (\"0.001\"): more decimals than the currency's minor unit");
/// ```
pub fn money_error(provider: Provider, field: &str, error: MoneyError) -> Error {
    Error::decode(provider, field, &error.input, error.kind.to_string())
}

/// A time error as a decode error (the field is the one the time parser was given).
///
/// ```
/// use refund_core::{decode, time, Provider};
/// let e = time::parse_china_local("refundCreateTime", "2024-02-30 10:00:00").unwrap_err();
/// let err = decode::time_error(Provider::OpenApi, e);
/// assert!(err.to_string().starts_with("openapi: cannot decode `refundCreateTime`"));
/// ```
pub fn time_error(provider: Provider, error: TimeError) -> Error {
    Error::decode(
        provider,
        error.field,
        &error.input,
        format!("not a valid {} timestamp", error.expected),
    )
}

/// An optional major-unit decimal string (`"-0.50"` yuan) as exact money.
///
/// ```
/// use refund_core::{decode, Currency, Provider};
/// let m = decode::major_money(Provider::Cpos, "fee", Some("0.01"), Currency::Cny).unwrap();
/// assert_eq!(m.unwrap().minor(), 1);
/// assert!(decode::major_money(Provider::Cpos, "fee", Some("1e2"), Currency::Cny).is_err());
/// assert!(decode::major_money(Provider::Cpos, "fee", Some(""), Currency::Cny).unwrap().is_none());
/// ```
pub fn major_money(
    provider: Provider,
    field: &str,
    text: Option<&str>,
    currency: Currency,
) -> Result<Option<Money>, Error> {
    optional(text, |t| {
        Money::from_major_str(t, currency).map_err(|e| money_error(provider, field, e))
    })
}

/// Parses a present, non-empty text; absent or empty is `None`.
fn optional<T>(
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    non_empty(text).map(parse).transpose()
}

/// An optional minor-unit integer string (`"50"` fen) as exact money.
///
/// ```
/// use refund_core::{decode, Currency, Provider};
/// let m = decode::minor_money(Provider::Cpos, "attach.refund_fee", Some("50"), Currency::Cny).unwrap();
/// assert_eq!(m.unwrap().to_major_string(), "0.50");
/// assert!(decode::minor_money(Provider::Cpos, "attach.refund_fee", Some("0.5"), Currency::Cny).is_err());
/// ```
pub fn minor_money(
    provider: Provider,
    field: &str,
    text: Option<&str>,
    currency: Currency,
) -> Result<Option<Money>, Error> {
    optional(text, |t| {
        Money::from_minor_str(t, currency).map_err(|e| money_error(provider, field, e))
    })
}

/// An optional China-local `YYYY-MM-DD HH:MM:SS` time (UTC+08:00) as UTC.
///
/// ```
/// use refund_core::{decode, Provider};
/// let t = decode::china_local_time(Provider::OpenApi, "refundCreateTime", Some("2024-07-31 16:26:46")).unwrap();
/// assert_eq!(refund_core::time::format_utc(&t.unwrap()), "2024-07-31T08:26:46Z");
/// ```
pub fn china_local_time(
    provider: Provider,
    field: &str,
    text: Option<&str>,
) -> Result<Option<DateTime<Utc>>, Error> {
    optional(text, |t| {
        time::parse_china_local(field, t).map_err(|e| time_error(provider, e))
    })
}

/// An optional RFC 3339 time as UTC.
///
/// ```
/// use refund_core::{decode, Provider};
/// let t = decode::rfc3339_time(Provider::Edgeros, "data.success_time", Some("2024-04-24T17:15:21+08:00")).unwrap();
/// assert_eq!(refund_core::time::format_utc(&t.unwrap()), "2024-04-24T09:15:21Z");
/// ```
pub fn rfc3339_time(
    provider: Provider,
    field: &str,
    text: Option<&str>,
) -> Result<Option<DateTime<Utc>>, Error> {
    optional(text, |t| {
        time::parse_rfc3339(field, t).map_err(|e| time_error(provider, e))
    })
}

/// An amount for a provider that documents no negative amounts: a negative one is a decode
/// error naming the field, never silently flipped or passed on.
///
/// ```
/// use refund_core::{decode, Currency, Money, Provider};
/// assert!(decode::non_negative(Provider::OpenApi, "data[0].refundAmount", Money::from_minor(5, Currency::Cny)).is_ok());
/// let err = decode::non_negative(Provider::OpenApi, "data[0].refundAmount", Money::from_minor(-5, Currency::Cny)).unwrap_err();
/// assert_eq!(err.to_string(), "openapi: cannot decode `data[0].refundAmount` (\"-0.05\"): negative amount: this provider documents none");
/// ```
pub fn non_negative(provider: Provider, field: &str, amount: Money) -> Result<Money, Error> {
    if amount.is_negative() {
        return Err(Error::decode(
            provider,
            field,
            amount.to_major_string(),
            "negative amount: this provider documents none",
        ));
    }
    Ok(amount)
}
