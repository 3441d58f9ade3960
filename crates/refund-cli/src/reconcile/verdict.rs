//! The verdict of one ledger line against the provider's answer: a pure function, the rules of
//! `docs/reconcile.md` in order (the first that applies wins).

use std::time::Duration;

use chrono::{DateTime, Utc};
use refund_core::{Money, Refund, RefundStatus, Verification};

use crate::stream::render::{Outcome, error_kind};

/// What the books say about one refund.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expectation {
    /// The amount the books hold, exact, in the ledger's currency.
    pub(crate) amount: Money,
    /// The status the books hold, if the ledger says.
    pub(crate) status: Option<RefundStatus>,
    /// When the refund was requested, if the ledger says.
    pub(crate) requested_at: Option<DateTime<Utc>>,
}

/// The verdicts, named as in the output and the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Verdict {
    Match,
    AmountMismatch,
    CurrencyMismatch,
    StatusMismatch,
    Stuck,
    Missing,
    Multiple,
    Untrusted,
    Error,
}

impl Verdict {
    pub(crate) const ALL: [Verdict; 9] = [
        Verdict::Match,
        Verdict::AmountMismatch,
        Verdict::CurrencyMismatch,
        Verdict::StatusMismatch,
        Verdict::Stuck,
        Verdict::Missing,
        Verdict::Multiple,
        Verdict::Untrusted,
        Verdict::Error,
    ];

    pub(crate) const fn as_str(self) -> &'static str {
        match self {
            Verdict::Match => "match",
            Verdict::AmountMismatch => "amount_mismatch",
            Verdict::CurrencyMismatch => "currency_mismatch",
            Verdict::StatusMismatch => "status_mismatch",
            Verdict::Stuck => "stuck",
            Verdict::Missing => "missing",
            Verdict::Multiple => "multiple",
            Verdict::Untrusted => "untrusted",
            Verdict::Error => "error",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == name)
    }
}

/// A verdict and the difference behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Judgement {
    pub(crate) verdict: Verdict,
    /// Provider minus books, when both are in one currency.
    pub(crate) difference: Option<Money>,
}

/// A refund that moved no money: it failed, or it was cancelled.
pub(crate) fn moved_nothing(status: &RefundStatus) -> bool {
    matches!(status, RefundStatus::Failed | RefundStatus::Cancelled)
}

/// Statuses that agree: equal ones, and "failed" with "cancelled" (either way, no money moved).
/// An unrecognized provider status agrees with nothing.
fn agrees(books: &RefundStatus, provider: &RefundStatus) -> bool {
    !matches!(provider, RefundStatus::Unrecognized(_))
        && (books == provider || (moved_nothing(books) && moved_nothing(provider)))
}

/// The sum of the refunds' amounts, if they share one currency (and it does not overflow).
fn total(refunds: &[&Refund], currency: refund_core::Currency) -> Option<Money> {
    refunds
        .iter()
        .try_fold(Money::zero(currency), |sum, r| sum.checked_add(r.amount))
        .or_else(|| {
            // Not the books' currency: the refunds' own, if they share one.
            let (first, rest) = refunds.split_first()?;
            rest.iter()
                .try_fold(first.amount, |sum, r| sum.checked_add(r.amount))
        })
}

fn difference(provider: Money, books: Money) -> Option<Money> {
    (provider.currency() == books.currency())
        .then(|| provider.minor().checked_sub(books.minor()))
        .flatten()
        .map(|d| Money::from_minor(d, books.currency()))
}

/// Whether a refund counts toward the books' amount (see [`judge`]): `all_moved_nothing` when
/// every refund of the answer failed or was cancelled, `books_say_nothing_moved` when the books'
/// status is failed or cancelled. The report marks the refunds not counted the same way.
pub(crate) fn counts(
    status: &RefundStatus,
    all_moved_nothing: bool,
    books_say_nothing_moved: bool,
) -> bool {
    !moved_nothing(status) || (all_moved_nothing && books_say_nothing_moved)
}

/// Decides one ledger line. `now` and `stuck_after` decide `stuck`: the provider still
/// non-final and the ledger's `requested_at` older than `stuck_after` (strictly).
pub(crate) fn judge(
    books: &Expectation,
    outcome: &Outcome,
    now: DateTime<Utc>,
    stuck_after: Duration,
) -> Judgement {
    let only = |verdict| Judgement {
        verdict,
        difference: None,
    };
    let refunds = match outcome {
        Err(e) => {
            return only(match error_kind(e) {
                "not_found" => Verdict::Missing,
                "signature" | "mismatch" => Verdict::Untrusted,
                _ => Verdict::Error,
            });
        }
        Ok(refunds) if refunds.is_empty() => return only(Verdict::Missing),
        Ok(refunds) => refunds,
    };
    // An answer accepted without a valid signature proves nothing: it cannot confirm the books.
    if refunds
        .iter()
        .any(|r| r.signature == Verification::Unverified)
    {
        return only(Verdict::Untrusted);
    }
    // Every refund found failed or was cancelled: the provider refunded nothing. Books that
    // record money refunded (a non-zero amount, and no status or another than failed or
    // cancelled) disagree with that, whatever the attempts' amounts or currencies.
    let all_moved_nothing = refunds.iter().all(|r| moved_nothing(&r.status));
    let books_say_nothing_moved = books.status.as_ref().is_some_and(moved_nothing);
    if all_moved_nothing && !books_say_nothing_moved && books.amount.minor() != 0 {
        return Judgement {
            verdict: Verdict::StatusMismatch,
            difference: books
                .amount
                .minor()
                .checked_neg()
                .map(|d| Money::from_minor(d, books.amount.currency())),
        };
    }
    // Which refunds count toward the books' amount: the money that moved or is moving. A
    // failed or cancelled attempt refunded nothing, so it counts only where the books record
    // the attempt itself (they say failed or cancelled, and so does the provider everywhere).
    let several = refunds.len() > 1;
    let counted: Vec<&Refund> = refunds
        .iter()
        .filter(|r| counts(&r.status, all_moved_nothing, books_say_nothing_moved))
        .collect();
    let refunds = counted.as_slice();
    let provider_amount = total(refunds, books.amount.currency());
    let judged = |verdict| Judgement {
        verdict,
        difference: provider_amount.and_then(|p| difference(p, books.amount)),
    };
    let Some(sum) = provider_amount else {
        // Several refunds in different currencies: no sum explains one ledger line.
        return judged(Verdict::Multiple);
    };
    if sum.currency() != books.amount.currency() {
        return judged(if several {
            Verdict::Multiple
        } else {
            Verdict::CurrencyMismatch
        });
    }
    if sum.minor() != books.amount.minor() {
        return judged(if several {
            Verdict::Multiple
        } else {
            Verdict::AmountMismatch
        });
    }
    let non_final = refunds.iter().any(|r| !r.status.is_terminal());
    let too_old = books.requested_at.is_some_and(|at| {
        chrono::Duration::from_std(stuck_after)
            .ok()
            .and_then(|limit| at.checked_add_signed(limit))
            .is_some_and(|deadline| now > deadline)
    });
    if non_final && too_old {
        return judged(Verdict::Stuck);
    }
    let unknown = refunds
        .iter()
        .any(|r| matches!(r.status, RefundStatus::Unrecognized(_)));
    let disagrees = books
        .status
        .as_ref()
        .is_some_and(|s| refunds.iter().any(|r| !agrees(s, &r.status)));
    if unknown || disagrees {
        return judged(Verdict::StatusMismatch);
    }
    judged(Verdict::Match)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::CliError;
    use refund_core::{Currency, Error, Provider};

    const DAY: Duration = Duration::from_secs(86_400);

    fn at(text: &str) -> DateTime<Utc> {
        refund_core::time::parse_rfc3339("t", text).unwrap()
    }

    fn now() -> DateTime<Utc> {
        at("2026-11-27T12:00:00Z")
    }

    fn books(amount: &str, status: Option<RefundStatus>, requested: Option<&str>) -> Expectation {
        Expectation {
            amount: Money::from_major_str(amount, Currency::Cny).unwrap(),
            status,
            requested_at: requested.map(at),
        }
    }

    fn refund(amount: &str, currency: Currency, status: RefundStatus) -> Refund {
        let mut r = Refund::new(
            Provider::Cpos,
            Money::from_major_str(amount, currency).unwrap(),
            status,
        );
        r.signature = Verification::Verified;
        r
    }

    fn cny(amount: &str, status: RefundStatus) -> Refund {
        refund(amount, Currency::Cny, status)
    }

    fn verdict(b: &Expectation, outcome: Outcome) -> Verdict {
        judge(b, &outcome, now(), 3 * DAY).verdict
    }

    #[test]
    fn the_rule_table() {
        use RefundStatus::*;
        let plain = books("10.00", None, None);
        let paid = books("10.00", Some(Succeeded), None);
        let old = Some("2026-11-20T12:00:00Z");
        let cases: Vec<(&str, Expectation, Outcome, Verdict)> = vec![
            (
                "equal amounts",
                plain.clone(),
                Ok(vec![cny("10.00", Succeeded)]),
                Verdict::Match,
            ),
            (
                "exact decimals: 10 = 10.00",
                books("10", None, None),
                Ok(vec![cny("10.00", Succeeded)]),
                Verdict::Match,
            ),
            (
                "one fen off",
                plain.clone(),
                Ok(vec![cny("9.99", Succeeded)]),
                Verdict::AmountMismatch,
            ),
            (
                "another currency",
                plain.clone(),
                Ok(vec![refund("10.00", Currency::Hkd, Succeeded)]),
                Verdict::CurrencyMismatch,
            ),
            (
                "books paid, provider failed",
                paid.clone(),
                Ok(vec![cny("10.00", Failed)]),
                Verdict::StatusMismatch,
            ),
            (
                "books paid, provider paid",
                paid.clone(),
                Ok(vec![cny("10.00", Succeeded)]),
                Verdict::Match,
            ),
            (
                "unknown provider status",
                plain.clone(),
                Ok(vec![cny("10.00", Unrecognized("7".into()))]),
                Verdict::StatusMismatch,
            ),
            (
                "processing for a week",
                books("10.00", Some(Succeeded), old),
                Ok(vec![cny("10.00", Processing)]),
                Verdict::Stuck,
            ),
            (
                "processing, requested today",
                books("10.00", Some(Processing), Some("2026-11-27T08:00:00Z")),
                Ok(vec![cny("10.00", Processing)]),
                Verdict::Match,
            ),
            (
                "processing, no request time",
                books("10.00", Some(Processing), None),
                Ok(vec![cny("10.00", Processing)]),
                Verdict::Match,
            ),
            (
                "final and old is not stuck",
                books("10.00", None, old),
                Ok(vec![cny("10.00", Succeeded)]),
                Verdict::Match,
            ),
            (
                "not found",
                plain.clone(),
                Err(CliError::Sdk(Error::NotFound {
                    provider: Provider::Cpos,
                    code: "x".into(),
                    message: "x".into(),
                })),
                Verdict::Missing,
            ),
            (
                "an empty answer",
                plain.clone(),
                Ok(vec![]),
                Verdict::Missing,
            ),
            (
                "two refunds summing to it",
                plain.clone(),
                Ok(vec![cny("4.00", Succeeded), cny("6.00", Succeeded)]),
                Verdict::Match,
            ),
            (
                "two refunds not summing to it",
                plain.clone(),
                Ok(vec![cny("4.00", Succeeded), cny("5.00", Succeeded)]),
                Verdict::Multiple,
            ),
            (
                "two currencies",
                plain.clone(),
                Ok(vec![
                    cny("4.00", Succeeded),
                    refund("6.00", Currency::Hkd, Succeeded),
                ]),
                Verdict::Multiple,
            ),
            (
                "a bad signature",
                plain.clone(),
                Err(CliError::Sdk(Error::verify(Provider::Cpos, "bad"))),
                Verdict::Untrusted,
            ),
            (
                "another refund's answer",
                plain.clone(),
                Err(CliError::Sdk(Error::mismatch(
                    Provider::Cpos,
                    "refund_no",
                    "A",
                    "B",
                ))),
                Verdict::Untrusted,
            ),
            (
                "a timeout",
                plain.clone(),
                Err(CliError::Sdk(Error::Transport {
                    provider: Provider::Cpos,
                    kind: refund_core::TransportErrorKind::Timeout,
                    message: "t".into(),
                    source: None,
                })),
                Verdict::Error,
            ),
            (
                "an unusable ledger line",
                plain.clone(),
                Err(CliError::usage("bad amount")),
                Verdict::Error,
            ),
        ];
        for (name, b, outcome, expected) in cases {
            assert_eq!(verdict(&b, outcome), expected, "{name}");
        }
    }

    /// Rule 4: a refund that failed or was cancelled moved no money, alone or beside others.
    #[test]
    fn failed_and_cancelled_refunds_moved_no_money() {
        use RefundStatus::*;
        let judged = |b: &Expectation, refunds: Vec<Refund>| {
            let j = judge(b, &Ok(refunds), now(), 3 * DAY);
            (j.verdict, j.difference.map(|d| d.to_major_string()))
        };
        let plain = books("10.00", None, None);
        let na = |v| (v, None::<String>);
        let minus_books = (Verdict::StatusMismatch, Some("-10.00".to_owned()));
        assert_eq!(judged(&plain, vec![cny("10.00", Failed)]), minus_books);
        assert_eq!(judged(&plain, vec![cny("10.00", Cancelled)]), minus_books);
        // Whatever the attempts' amounts or currencies.
        assert_eq!(
            judged(
                &plain,
                vec![
                    cny("3.00", Failed),
                    refund("10.00", Currency::Hkd, Cancelled)
                ]
            ),
            minus_books
        );
        // Books saying the refund was paid, or still processing: the same.
        let paid = books("10.00", Some(Succeeded), None);
        assert_eq!(judged(&paid, vec![cny("10.00", Failed)]), minus_books);
        let processing = books("10.00", Some(Processing), None);
        assert_eq!(judged(&processing, vec![cny("10.00", Failed)]), minus_books);
        // Books that record the failed attempt agree with either word for it.
        let failed = books("10.00", Some(Failed), None);
        let cancelled = books("10.00", Some(Cancelled), None);
        let zero = (Verdict::Match, Some("0.00".to_owned()));
        assert_eq!(judged(&failed, vec![cny("10.00", Failed)]), zero);
        assert_eq!(judged(&failed, vec![cny("10.00", Cancelled)]), zero);
        assert_eq!(judged(&cancelled, vec![cny("10.00", Failed)]), zero);
        assert_eq!(
            judged(&failed, vec![cny("4.00", Failed), cny("6.00", Cancelled)]),
            zero
        );
        assert_eq!(
            judged(&failed, vec![cny("9.00", Failed)]),
            (Verdict::AmountMismatch, Some("-1.00".to_owned()))
        );
        assert_eq!(
            judged(&failed, vec![refund("10.00", Currency::Hkd, Failed)]),
            na(Verdict::CurrencyMismatch)
        );
        // Books failed, provider paid: a status disagreement on equal amounts.
        assert_eq!(
            judged(&failed, vec![cny("10.00", Succeeded)]).0,
            Verdict::StatusMismatch
        );
        // Books holding nothing refunded agree with a provider that refunded nothing.
        assert_eq!(
            judged(&books("0", None, None), vec![cny("10.00", Failed)]),
            zero
        );
        // A failed attempt beside a good one still does not count (the good one decides).
        assert_eq!(
            judged(&plain, vec![cny("10.00", Succeeded), cny("10.00", Failed)]),
            zero
        );
        // Errors come first: an unproven answer is untrusted, not a status mismatch.
        let mut unproven = cny("10.00", Failed);
        unproven.signature = Verification::Unverified;
        assert_eq!(judged(&plain, vec![unproven]), na(Verdict::Untrusted));
    }

    #[test]
    fn an_unverified_answer_cannot_confirm_the_books() {
        let mut r = cny("10.00", RefundStatus::Succeeded);
        r.signature = Verification::Unverified;
        assert_eq!(
            verdict(&books("10.00", None, None), Ok(vec![r])),
            Verdict::Untrusted
        );
        let mut r = cny("10.00", RefundStatus::Succeeded);
        r.signature = Verification::NotSigned;
        assert_eq!(
            verdict(&books("10.00", None, None), Ok(vec![r])),
            Verdict::Match
        );
    }

    #[test]
    fn stuck_is_strictly_older_than_the_limit() {
        let processing = || Ok(vec![cny("1.00", RefundStatus::Processing)]);
        let exactly = books("1.00", None, Some("2026-11-24T12:00:00Z"));
        assert_eq!(verdict(&exactly, processing()), Verdict::Match);
        let one_second_more = books("1.00", None, Some("2026-11-24T11:59:59Z"));
        assert_eq!(verdict(&one_second_more, processing()), Verdict::Stuck);
        // A huge limit never overflows into "stuck".
        let j = judge(
            &one_second_more,
            &processing(),
            now(),
            Duration::from_secs(u64::MAX),
        );
        assert_eq!(j.verdict, Verdict::Match);
    }

    #[test]
    fn the_difference_is_provider_minus_books_exactly() {
        let j = judge(
            &books("10.00", None, None),
            &Ok(vec![cny("9.99", RefundStatus::Succeeded)]),
            now(),
            DAY,
        );
        assert_eq!(j.difference.unwrap().to_major_string(), "-0.01");
        let j = judge(
            &books("10.00", None, None),
            &Ok(vec![refund(
                "10.00",
                Currency::Hkd,
                RefundStatus::Succeeded,
            )]),
            now(),
            DAY,
        );
        assert!(j.difference.is_none());
    }

    #[test]
    fn names_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::from_name(v.as_str()), Some(v));
        }
    }
}
