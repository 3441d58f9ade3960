//! Exact money: an integer count of minor units with its currency.
//!
//! Providers send amounts either as minor-unit integers (`10000` fen) or as major-unit decimal
//! strings (`"0.01"`, `"-0.50"` yuan). Both become one [`Money`] without ever touching a float.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency this crate knows the minor-unit exponent of.
///
/// The list covers CNY (all three providers) and the currencies the Open API gateways serve in
/// South-East Asia. The exponent is ISO 4217's, so `IDR` has two decimals even though prices are
/// rarely written with them.
///
/// ```
/// use refund_core::Currency;
/// assert_eq!(Currency::Cny.exponent(), 2);
/// assert_eq!("VND".parse::<Currency>().unwrap(), Currency::Vnd);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
#[non_exhaustive]
pub enum Currency {
    /// Chinese yuan renminbi (2 decimals: fen).
    Cny,
    /// Hong Kong dollar.
    Hkd,
    /// US dollar.
    Usd,
    /// Malaysian ringgit.
    Myr,
    /// Philippine peso.
    Php,
    /// Thai baht.
    Thb,
    /// Indonesian rupiah (ISO exponent 2).
    Idr,
    /// Vietnamese dong (no minor unit).
    Vnd,
    /// Singapore dollar.
    Sgd,
    /// Japanese yen (no minor unit).
    Jpy,
    /// South Korean won (no minor unit).
    Krw,
    /// Indian rupee.
    Inr,
    /// Euro.
    Eur,
}

impl Currency {
    /// Every supported currency, in declaration order.
    pub const ALL: [Currency; 13] = [
        Currency::Cny,
        Currency::Hkd,
        Currency::Usd,
        Currency::Myr,
        Currency::Php,
        Currency::Thb,
        Currency::Idr,
        Currency::Vnd,
        Currency::Sgd,
        Currency::Jpy,
        Currency::Krw,
        Currency::Inr,
        Currency::Eur,
    ];

    /// How many decimal digits the minor unit has (CNY: 2, VND: 0).
    ///
    /// ```
    /// assert_eq!(refund_core::Currency::Vnd.exponent(), 0);
    /// ```
    pub const fn exponent(self) -> u32 {
        match self {
            Currency::Vnd | Currency::Jpy | Currency::Krw => 0,
            Currency::Cny
            | Currency::Hkd
            | Currency::Usd
            | Currency::Myr
            | Currency::Php
            | Currency::Thb
            | Currency::Idr
            | Currency::Sgd
            | Currency::Inr
            | Currency::Eur => 2,
        }
    }

    /// A sum of minor units (a total of many amounts, which may pass `i64`: summed in `i128`)
    /// as an exact major-unit decimal with this currency's digits.
    ///
    /// ```
    /// use refund_core::Currency;
    /// assert_eq!(Currency::Cny.format_minor_sum(-5), "-0.05");
    /// assert_eq!(Currency::Jpy.format_minor_sum(123), "123");
    /// assert_eq!(Currency::Cny.format_minor_sum(2 * i128::from(i64::MAX)), "184467440737095516.14");
    /// ```
    pub fn format_minor_sum(self, minor: i128) -> String {
        let sign = if minor < 0 { "-" } else { "" };
        let abs = minor.unsigned_abs();
        let exponent = self.exponent();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10_u128.pow(exponent);
        format!(
            "{sign}{}.{:0w$}",
            abs / scale,
            abs % scale,
            w = exponent as usize
        )
    }

    /// The ISO 4217 code, upper case.
    ///
    /// ```
    /// assert_eq!(refund_core::Currency::Cny.code(), "CNY");
    /// ```
    pub const fn code(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
            Currency::Hkd => "HKD",
            Currency::Usd => "USD",
            Currency::Myr => "MYR",
            Currency::Php => "PHP",
            Currency::Thb => "THB",
            Currency::Idr => "IDR",
            Currency::Vnd => "VND",
            Currency::Sgd => "SGD",
            Currency::Jpy => "JPY",
            Currency::Krw => "KRW",
            Currency::Inr => "INR",
            Currency::Eur => "EUR",
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The text was not a currency code this crate knows.
///
/// ```
/// assert!("XXX".parse::<refund_core::Currency>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown currency code {0:?}")]
pub struct UnknownCurrency(pub String);

impl FromStr for Currency {
    type Err = UnknownCurrency;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownCurrency(s.to_owned()))
    }
}

/// Why a money amount was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MoneyErrorKind {
    /// The text was empty.
    Empty,
    /// Not a plain decimal: spaces, exponents, `NaN`, a leading `+`, several points, letters...
    NotADecimal,
    /// More decimal digits than the currency's minor unit (`"0.001"` yuan).
    SubMinorPrecision,
    /// The value does not fit in `i64` minor units.
    Overflow,
}

impl fmt::Display for MoneyErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MoneyErrorKind::Empty => "empty amount",
            MoneyErrorKind::NotADecimal => "not a plain decimal number",
            MoneyErrorKind::SubMinorPrecision => "more decimals than the currency's minor unit",
            MoneyErrorKind::Overflow => "amount does not fit in 64-bit minor units",
        })
    }
}

/// An amount could not be parsed or computed exactly. Carries the offending input.
///
/// ```
/// use refund_core::{Currency, Money, MoneyErrorKind};
/// let err = Money::from_major_str("0.001", Currency::Cny).unwrap_err();
/// assert_eq!(err.kind, MoneyErrorKind::SubMinorPrecision);
/// assert_eq!(err.input, "0.001");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {currency} amount {input:?}: {kind}")]
pub struct MoneyError {
    /// The text (or number) that was rejected.
    pub input: String,
    /// The currency it was read in.
    pub currency: Currency,
    /// What was wrong with it.
    pub kind: MoneyErrorKind,
}

/// An exact amount: a signed count of minor units (fen for CNY) and its currency.
///
/// There is no float anywhere: amounts are built from minor-unit integers or parsed from
/// major-unit decimal strings, and formatted back with exactly the currency's digits.
///
/// ```
/// use refund_core::{Currency, Money};
/// let m = Money::from_major_str("-0.50", Currency::Cny).unwrap();
/// assert_eq!(m.minor(), -50);
/// assert_eq!(m.to_string(), "-0.50 CNY");
/// assert_eq!(m.to_major_string(), "-0.50");
/// assert_eq!(Money::from_minor(10000, Currency::Cny).to_major_string(), "100.00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// An amount of `minor` minor units (fen for CNY).
    ///
    /// ```
    /// let m = refund_core::Money::from_minor(1, refund_core::Currency::Cny);
    /// assert_eq!(m.to_major_string(), "0.01");
    /// ```
    pub const fn from_minor(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Zero in `currency`.
    ///
    /// ```
    /// assert!(refund_core::Money::zero(refund_core::Currency::Usd).is_zero());
    /// ```
    pub const fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a major-unit decimal string such as `"0.01"`, `"-0.50"` or `"100"`.
    ///
    /// Accepted: an optional leading `-`, at least one digit, and optionally a `.` followed by
    /// one or more digits, at most as many as the currency's exponent. Rejected, with a
    /// [`MoneyError`] naming the input: empty text, spaces anywhere, a leading `+` (no provider
    /// sends one, so it more likely marks a bug than a real amount), exponents (`1e3`), `NaN`,
    /// a bare `.5` or `5.`, more decimals than the currency has, and values outside `i64` minor
    /// units.
    ///
    /// ```
    /// use refund_core::{Currency, Money};
    /// assert_eq!(Money::from_major_str("100", Currency::Cny).unwrap().minor(), 10000);
    /// assert!(Money::from_major_str("1e2", Currency::Cny).is_err());
    /// assert!(Money::from_major_str(" 1", Currency::Cny).is_err());
    /// ```
    pub fn from_major_str(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let err = |kind| MoneyError {
            input: input.to_owned(),
            currency,
            kind,
        };
        if input.is_empty() {
            return Err(err(MoneyErrorKind::Empty));
        }
        let unsigned = input.strip_prefix('-').unwrap_or(input);
        let (int_part, frac_part) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
            return Err(err(MoneyErrorKind::NotADecimal));
        }
        let decimals = frac_part.map_or(0, str::len);
        if decimals > currency.exponent() as usize {
            return Err(err(MoneyErrorKind::SubMinorPrecision));
        }
        // The shape is valid, so the only way rust_decimal can fail is a value beyond its
        // 96-bit range, which is far beyond i64 minor units anyway.
        let value = Decimal::from_str_exact(input).map_err(|_| err(MoneyErrorKind::Overflow))?;
        let minor = value
            .checked_mul(Decimal::from(10_i64.pow(currency.exponent())))
            .and_then(|d| d.to_i64())
            .ok_or_else(|| err(MoneyErrorKind::Overflow))?;
        Ok(Money { minor, currency })
    }

    /// Parses a minor-unit integer string such as WeChat's fen fields (`"100"`, `"-5"`).
    ///
    /// Only an optional `-` and ASCII digits are accepted; anything else (decimals, spaces, `+`)
    /// is a [`MoneyError`], as is a value outside `i64`.
    ///
    /// ```
    /// use refund_core::{Currency, Money};
    /// assert_eq!(Money::from_minor_str("100", Currency::Cny).unwrap().to_major_string(), "1.00");
    /// assert!(Money::from_minor_str("1.00", Currency::Cny).is_err());
    /// ```
    pub fn from_minor_str(input: &str, currency: Currency) -> Result<Self, MoneyError> {
        let err = |kind| MoneyError {
            input: input.to_owned(),
            currency,
            kind,
        };
        if input.is_empty() {
            return Err(err(MoneyErrorKind::Empty));
        }
        let digits = input.strip_prefix('-').unwrap_or(input);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err(MoneyErrorKind::NotADecimal));
        }
        input
            .parse::<i64>()
            .map(|minor| Money { minor, currency })
            .map_err(|_| err(MoneyErrorKind::Overflow))
    }

    /// The signed number of minor units.
    ///
    /// ```
    /// assert_eq!(refund_core::Money::from_minor(-5, refund_core::Currency::Cny).minor(), -5);
    /// ```
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    ///
    /// ```
    /// assert_eq!(refund_core::Money::zero(refund_core::Currency::Thb).currency(), refund_core::Currency::Thb);
    /// ```
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// True for a zero amount.
    ///
    /// ```
    /// assert!(!refund_core::Money::from_minor(1, refund_core::Currency::Cny).is_zero());
    /// ```
    pub const fn is_zero(&self) -> bool {
        self.minor == 0
    }

    /// True for an amount below zero.
    ///
    /// ```
    /// assert!(refund_core::Money::from_minor(-1, refund_core::Currency::Cny).is_negative());
    /// ```
    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    /// The absolute value, or an overflow error for `i64::MIN` minor units.
    ///
    /// ```
    /// use refund_core::{Currency, Money};
    /// assert_eq!(Money::from_minor(-50, Currency::Cny).checked_abs().unwrap().minor(), 50);
    /// assert!(Money::from_minor(i64::MIN, Currency::Cny).checked_abs().is_err());
    /// ```
    pub fn checked_abs(&self) -> Result<Self, MoneyError> {
        self.minor
            .checked_abs()
            .map(|minor| Money { minor, ..*self })
            .ok_or_else(|| MoneyError {
                input: self.minor.to_string(),
                currency: self.currency,
                kind: MoneyErrorKind::Overflow,
            })
    }

    /// Adds two amounts of the same currency; `None` on overflow or a currency mismatch.
    ///
    /// ```
    /// use refund_core::{Currency, Money};
    /// let a = Money::from_minor(1, Currency::Cny);
    /// assert_eq!(a.checked_add(a).unwrap().minor(), 2);
    /// assert!(a.checked_add(Money::from_minor(1, Currency::Usd)).is_none());
    /// ```
    pub fn checked_add(&self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.minor.checked_add(other.minor).map(|minor| Money {
            minor,
            currency: self.currency,
        })
    }

    /// The amount in major units with exactly the currency's decimals: `"100.00"`, `"-0.50"`.
    ///
    /// ```
    /// use refund_core::{Currency, Money};
    /// assert_eq!(Money::from_minor(-1, Currency::Cny).to_major_string(), "-0.01");
    /// assert_eq!(Money::from_minor(12, Currency::Vnd).to_major_string(), "12");
    /// ```
    pub fn to_major_string(&self) -> String {
        let exponent = self.currency.exponent();
        // `unsigned_abs` gives i64::MIN its absolute value as a u64; u64 division is a single
        // instruction where u128's is a library call. Assembled from itoa's digits rather than
        // with `format!`, whose machinery cost more than the rest (this runs for every refund
        // printed, once per line of `refund batch`).
        let abs = self.minor.unsigned_abs();
        let mut digits = itoa::Buffer::new();
        // Sign, 20 digits, point: one allocation.
        let mut out = String::with_capacity(24);
        if self.minor < 0 {
            out.push('-');
        }
        if exponent == 0 {
            out.push_str(digits.format(abs));
            return out;
        }
        let scale = 10_u64.pow(exponent);
        out.push_str(digits.format(abs / scale));
        out.push('.');
        let fraction = digits.format(abs % scale);
        for _ in fraction.len()..exponent as usize {
            out.push('0');
        }
        out.push_str(fraction);
        out
    }
}

impl fmt::Display for Money {
    /// `0.50 CNY`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_provider_examples() {
        let cases = [
            ("0.01", 1),
            ("-0.50", -50),
            ("100", 10000),
            ("1.00", 100),
            ("1.5", 150),
            ("0", 0),
            ("-0", 0),
            ("00012.30", 1230),
            ("92233720368547758.07", i64::MAX),
            ("-92233720368547758.08", i64::MIN),
        ];
        for (text, minor) in cases {
            assert_eq!(
                Money::from_major_str(text, Currency::Cny).map(|m| m.minor()),
                Ok(minor),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_garbage_with_a_kind() {
        use MoneyErrorKind::*;
        let cases = [
            ("", Empty),
            (" 1", NotADecimal),
            ("1 ", NotADecimal),
            ("+1", NotADecimal),
            ("1e3", NotADecimal),
            ("NaN", NotADecimal),
            ("inf", NotADecimal),
            (".5", NotADecimal),
            ("5.", NotADecimal),
            ("1.2.3", NotADecimal),
            ("--1", NotADecimal),
            ("-", NotADecimal),
            ("1,00", NotADecimal),
            ("１", NotADecimal),
            ("0.001", SubMinorPrecision),
            ("0.010", SubMinorPrecision),
            ("92233720368547758.08", Overflow),
            ("-92233720368547758.09", Overflow),
            ("99999999999999999999999999999999999999", Overflow),
        ];
        for (text, kind) in cases {
            let err = Money::from_major_str(text, Currency::Cny).unwrap_err();
            assert_eq!(err.kind, kind, "{text:?}");
            assert_eq!(err.input, text);
        }
        assert_eq!(
            Money::from_major_str("1.5", Currency::Vnd)
                .unwrap_err()
                .kind,
            SubMinorPrecision
        );
    }

    #[test]
    fn serde_form_is_minor_and_currency() {
        let m = Money::from_minor(50, Currency::Cny);
        insta::assert_json_snapshot!(m, @r#"
        {
          "minor": 50,
          "currency": "CNY"
        }
        "#);
        let back: Money = serde_json::from_str(r#"{"minor":50,"currency":"CNY"}"#).unwrap();
        assert_eq!(back, m);
        assert_eq!(m.to_string(), "0.50 CNY");
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop::sample::select(Currency::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn format_then_parse_is_identity(minor in any::<i64>(), currency in currency()) {
            let m = Money::from_minor(minor, currency);
            prop_assert_eq!(Money::from_major_str(&m.to_major_string(), currency), Ok(m));
        }

        #[test]
        fn major_string_has_exactly_the_currencys_decimals(minor in any::<i64>(), small in -1_000_i64..1_000, currency in currency()) {
            // The rule, written with the formatting machinery the fast path avoids.
            let reference = |minor: i64| {
                let (abs, sign) = (minor.unsigned_abs(), if minor < 0 { "-" } else { "" });
                match currency.exponent() {
                    0 => format!("{sign}{abs}"),
                    e => {
                        let scale = 10_u64.pow(e);
                        format!("{sign}{}.{:0width$}", abs / scale, abs % scale, width = e as usize)
                    }
                }
            };
            for minor in [minor, small] {
                prop_assert_eq!(Money::from_minor(minor, currency).to_major_string(), reference(minor));
            }
        }

        #[test]
        fn no_string_panics(s in ".{0,40}", currency in currency()) {
            let _ = Money::from_major_str(&s, currency);
        }

        #[test]
        fn decimal_like_strings_never_panic(s in "[-+]?[0-9]{0,30}(\\.[0-9]{0,5})?", currency in currency()) {
            if let Ok(m) = Money::from_major_str(&s, currency) {
                // Whatever parses formats back to the same value.
                prop_assert_eq!(Money::from_major_str(&m.to_major_string(), currency), Ok(m));
            }
        }

        #[test]
        fn minor_str_round_trip(minor in any::<i64>()) {
            prop_assert_eq!(Money::from_minor_str(&minor.to_string(), Currency::Cny).map(|m| m.minor()), Ok(minor));
        }

        #[test]
        fn addition_is_checked(a in any::<i64>(), b in any::<i64>()) {
            let sum = Money::from_minor(a, Currency::Cny).checked_add(Money::from_minor(b, Currency::Cny));
            prop_assert_eq!(sum.map(|m| m.minor()), a.checked_add(b));
        }
    }
}
