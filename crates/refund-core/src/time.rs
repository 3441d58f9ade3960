//! Provider timestamps to exact UTC instants.
//!
//! Chinese providers write local times without an offset (`"2024-07-31 16:26:46"`); those are
//! China Standard Time, a fixed UTC+08:00 with no daylight saving since 1991. We apply that fixed
//! offset directly: no tzdata look-up and never the machine's local zone, so a server in UTC and a
//! laptop in Berlin read the same instant.

use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDateTime, Utc};

/// China Standard Time: UTC+08:00, fixed.
///
/// ```
/// assert_eq!(refund_core::time::CHINA_STANDARD_TIME.local_minus_utc(), 8 * 3600);
/// ```
pub const CHINA_STANDARD_TIME: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    // Evaluated at compile time: a bad constant fails the build, never a running program.
    None => panic!("UTC+08:00 is a valid offset"),
};

/// Which timestamp shape was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeFormat {
    /// `YYYY-MM-DD HH:MM:SS`, China Standard Time.
    ChinaLocal,
    /// RFC 3339 with an explicit offset (`2024-04-24T17:15:21+08:00`).
    Rfc3339,
}

impl fmt::Display for TimeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeFormat::ChinaLocal => "`YYYY-MM-DD HH:MM:SS` (UTC+08:00)",
            TimeFormat::Rfc3339 => "RFC 3339 with an offset",
        })
    }
}

/// A timestamp was empty, of the wrong shape, or not a real date/time.
///
/// ```
/// let err = refund_core::time::parse_china_local("refundCreateTime", "2024-02-30 10:00:00").unwrap_err();
/// assert_eq!(err.field, "refundCreateTime");
/// assert_eq!(err.input, "2024-02-30 10:00:00");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field `{field}`: {input:?} is not a valid {expected} timestamp")]
pub struct TimeError {
    /// The provider field the value came from.
    pub field: String,
    /// The rejected text.
    pub input: String,
    /// The shape that was expected.
    pub expected: TimeFormat,
}

/// Parses a China-local `YYYY-MM-DD HH:MM:SS` time (no offset) as UTC+08:00.
///
/// ```
/// let t = refund_core::time::parse_china_local("refundCreateTime", "2024-07-31 16:26:46").unwrap();
/// assert_eq!(t.to_rfc3339(), "2024-07-31T08:26:46+00:00");
/// ```
pub fn parse_china_local(field: &str, input: &str) -> Result<DateTime<Utc>, TimeError> {
    let err = || TimeError {
        field: field.to_owned(),
        input: input.to_owned(),
        expected: TimeFormat::ChinaLocal,
    };
    // chrono's %d etc. accept one-digit values; providers always send the fixed 19-char shape,
    // so insist on it to catch truncated or garbled text.
    let shape_ok = input.len() == 19
        && input.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            _ => b.is_ascii_digit(),
        });
    if !shape_ok {
        return Err(err());
    }
    let naive = NaiveDateTime::parse_from_str(input, "%Y-%m-%d %H:%M:%S").map_err(|_| err())?;
    naive
        .and_local_timezone(CHINA_STANDARD_TIME)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .filter(in_rfc3339_range)
        .ok_or_else(err)
}

/// RFC 3339 covers years 0001 to 9999. An instant outside (`0000-01-01 06:00:00+08:00` is in
/// year −1 UTC) could not be written back as RFC 3339, and is garbage from a provider anyway.
/// A seconds field of `60` (a leap second, which chrono keeps as a nanosecond count past one
/// second) is out of range like any other time part: no provider documents leap seconds.
fn in_rfc3339_range(t: &DateTime<Utc>) -> bool {
    use chrono::{Datelike, Timelike};
    (1..=9999).contains(&t.year()) && t.nanosecond() < 1_000_000_000
}

/// Parses an RFC 3339 timestamp with any offset into UTC.
///
/// ```
/// let t = refund_core::time::parse_rfc3339("success_time", "2024-04-24T17:15:21+08:00").unwrap();
/// assert_eq!(t.to_rfc3339(), "2024-04-24T09:15:21+00:00");
/// ```
pub fn parse_rfc3339(field: &str, input: &str) -> Result<DateTime<Utc>, TimeError> {
    DateTime::parse_from_rfc3339(input)
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .filter(in_rfc3339_range)
        .ok_or_else(|| TimeError {
            field: field.to_owned(),
            input: input.to_owned(),
            expected: TimeFormat::Rfc3339,
        })
}

/// Formats an instant as RFC 3339 in UTC with a `Z` suffix and whole seconds
/// (`2024-07-31T08:26:46Z`), the form the CLI prints.
///
/// ```
/// let t = refund_core::time::parse_china_local("t", "2024-07-31 16:26:46").unwrap();
/// assert_eq!(refund_core::time::format_utc(&t), "2024-07-31T08:26:46Z");
/// ```
pub fn format_utc(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// Formats an instant as a China-local `YYYY-MM-DD HH:MM:SS` text (the inverse of
/// [`parse_china_local`]), as providers without offsets write it.
///
/// ```
/// let t = refund_core::time::parse_rfc3339("t", "2024-07-31T08:26:46Z").unwrap();
/// assert_eq!(refund_core::time::format_china_local(&t), "2024-07-31 16:26:46");
/// ```
pub fn format_china_local(t: &DateTime<Utc>) -> String {
    t.with_timezone(&CHINA_STANDARD_TIME)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn china_local_is_utc_plus_eight() {
        let t = parse_china_local("f", "2024-07-31 16:26:46").unwrap();
        assert_eq!(format_utc(&t), "2024-07-31T08:26:46Z");
        // Crossing midnight backwards into the previous UTC day.
        let t = parse_china_local("f", "2024-01-01 07:59:59").unwrap();
        assert_eq!(format_utc(&t), "2023-12-31T23:59:59Z");
    }

    #[test]
    fn rejects_invalid_times() {
        for bad in [
            "",
            "2024-02-30 10:00:00",
            "2023-02-29 10:00:00",
            "2024-13-01 10:00:00",
            "2024-07-31 24:00:00",
            "2024-07-31 16:60:00",
            "2024-07-31T16:26:46",
            "2024-7-31 16:26:46",
            "2024-07-31 16:26:46 ",
            "2024-07-31 16:26",
            "２０２４-07-31 16:26:46",
            "2024-07-31 16:26:46+08:00",
        ] {
            let err = parse_china_local("refundReturnTime", bad).unwrap_err();
            assert_eq!(err.field, "refundReturnTime");
            assert_eq!(err.input, bad);
        }
        for bad in [
            "",
            "2024-04-24 17:15:21",
            "2024-04-24T17:15:21",
            "2024-02-30T00:00:00Z",
        ] {
            assert!(parse_rfc3339("success_time", bad).is_err(), "{bad}");
        }
    }

    /// Regression: found by the `time` fuzz target (fuzz/artifacts/time/crash-b9ed1de5...).
    #[test]
    fn instants_before_year_one_are_rejected() {
        assert!(parse_rfc3339("f", "0000-01-01 06:12:00+08:00").is_err());
        assert!(parse_rfc3339("f", "0000-01-01T06:12:00+08:00").is_err());
        assert!(parse_china_local("f", "0000-01-01 06:12:00").is_err());
        assert!(parse_rfc3339("f", "0001-01-01T00:00:00Z").is_ok());
        assert!(parse_rfc3339("f", "9999-12-31T23:59:59Z").is_ok());
        assert!(parse_rfc3339("f", "9999-12-31T23:59:59-01:00").is_err());
    }

    #[test]
    fn a_leap_second_is_out_of_range() {
        assert!(parse_china_local("f", "2016-12-31 23:59:60").is_err());
        assert!(parse_rfc3339("f", "2016-12-31T23:59:60Z").is_err());
        assert!(parse_rfc3339("f", "2017-01-01T07:59:60+08:00").is_err());
        assert!(parse_china_local("f", "2016-12-31 23:59:59").is_ok());
    }

    #[test]
    fn leap_day_is_valid() {
        assert!(parse_china_local("f", "2024-02-29 00:00:00").is_ok());
    }

    #[test]
    fn rfc3339_any_offset() {
        let a = parse_rfc3339("f", "2024-04-24T17:15:21+08:00").unwrap();
        let b = parse_rfc3339("f", "2024-04-24T09:15:21Z").unwrap();
        let c = parse_rfc3339("f", "2024-04-24T04:15:21-05:00").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
    }

    #[test]
    fn error_message_names_field_and_value() {
        let err = parse_china_local("refundCreateTime", "nope").unwrap_err();
        insta::assert_snapshot!(err.to_string(), @r#"field `refundCreateTime`: "nope" is not a valid `YYYY-MM-DD HH:MM:SS` (UTC+08:00) timestamp"#);
    }

    proptest! {
        #[test]
        fn china_local_round_trip(secs in 0_i64..4_102_444_800) {
            let t = DateTime::<Utc>::from_timestamp(secs, 0).unwrap();
            let text = format_china_local(&t);
            prop_assert_eq!(parse_china_local("f", &text), Ok(t));
            prop_assert_eq!(parse_rfc3339("f", &format_utc(&t)), Ok(t));
        }

        #[test]
        fn no_string_panics(s in ".{0,40}") {
            let _ = parse_china_local("f", &s);
            let _ = parse_rfc3339("f", &s);
        }
    }
}
