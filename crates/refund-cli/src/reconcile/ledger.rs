//! Reading the ledger: `batch`'s reader (CSV or NDJSON, CRLF, BOM, quoted fields, physical line
//! numbers), then each record's books parsed exactly: amounts through `Money` (sub-fen, overflow
//! and garbage refused, naming the column and value), statuses by name, times with or without an
//! offset (without: China time, like the providers).

use std::path::Path;

use refund_core::{Currency, Money, Provider, RefundLookup, RefundStatus};

use super::RECONCILE_COLUMNS;
use super::verdict::Expectation;
use crate::error::CliError;
use crate::stream::input::{self, Asked, Fields, Routing};
use crate::stream::{Job, render};

/// The columns the ledger must have (and `provider` without the provider argument); `status`
/// and `requested_at` are optional.
pub(crate) const REQUIRED: [&str; 4] = ["lookup", "id", "amount", "currency"];
/// Every column the ledger's books are read from; the others are carried through.
const KNOWN: [&str; 7] = [
    "lookup",
    "id",
    "amount",
    "currency",
    "status",
    "requested_at",
    input::PROVIDER_COLUMN,
];

/// One usable ledger line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LedgerLine {
    pub(crate) lookup: RefundLookup,
    pub(crate) books: Expectation,
}

/// One ledger record: what it asked (kept even when the line is unusable), its extra columns
/// (always carried through: a CSV cell as text, an NDJSON value as it was) and its books, or why
/// the line is unusable.
#[derive(Debug)]
pub(crate) struct LedgerJob {
    pub(crate) asked: Asked,
    /// The provider its rows name (see [`input::Line::provider`]).
    pub(crate) provider: Option<Provider>,
    pub(crate) extra: Vec<(String, serde_json::Value)>,
    pub(crate) line: Result<LedgerLine, String>,
}

impl Job for LedgerJob {
    fn lookup(&self) -> Result<&RefundLookup, &str> {
        match &self.line {
            Ok(l) => Ok(&l.lookup),
            Err(e) => Err(e),
        }
    }

    fn provider(&self) -> Option<Provider> {
        self.provider
    }
}

/// How the output is laid out: a CSV ledger's extra columns become output columns; an NDJSON
/// ledger's (which may differ per line) go into one `extra` column holding a JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    Csv { extra: Vec<String> },
    Ndjson,
}

impl Layout {
    pub(crate) fn of(path: &Path) -> Result<Layout, CliError> {
        let names = input::csv_header_names(path)?;
        Ok(match names {
            Some(names) => Layout::Csv {
                extra: names
                    .into_iter()
                    .filter(|n| !KNOWN.contains(&n.as_str()))
                    .collect(),
            },
            None => Layout::Ndjson,
        })
    }

    /// The CSV output header: `batch`'s columns, [`RECONCILE_COLUMNS`], then the extras.
    pub(crate) fn csv_header(&self) -> Vec<String> {
        let mut header = render::csv_columns();
        header.extend(RECONCILE_COLUMNS.iter().map(|c| (*c).to_owned()));
        match self {
            Layout::Csv { extra } => {
                for name in extra {
                    // `error` is an output field too (flattened into `error_*` columns in CSV).
                    header.push(
                        if header.contains(name)
                            || name == "error"
                            || name == super::PREVIOUS_VERDICT
                            || name == render::EVIDENCE
                        {
                            format!("ledger_{name}")
                        } else {
                            name.clone()
                        },
                    );
                }
            }
            Layout::Ndjson => header.push("extra".to_owned()),
        }
        header
    }
}

/// The ledger's records, lazily, each with the provider it goes to (`routing`).
pub(crate) fn read(
    path: &Path,
    routing: Routing,
) -> Result<Box<dyn Iterator<Item = (u64, LedgerJob)> + Send>, CliError> {
    Ok(Box::new(
        input::read_rows(path, &routing.required(&REQUIRED))?.map(move |(n, row)| {
            let job = match row {
                Ok(fields) => {
                    let (provider, sent_to) = routing.provider_of(&fields);
                    LedgerJob {
                        asked: Asked::of(&fields),
                        provider,
                        extra: fields
                            .names()
                            .into_iter()
                            .filter(|name| !KNOWN.contains(name))
                            .filter_map(|name| Some((name.to_owned(), fields.json(name)?)))
                            .collect(),
                        line: sent_to.and_then(|_| parse(&fields)),
                    }
                }
                Err(e) => LedgerJob {
                    asked: Asked::default(),
                    provider: routing.of_unreadable(),
                    extra: Vec::new(),
                    line: Err(e),
                },
            };
            (n, job)
        }),
    ))
}

/// A field's trimmed text; empty counts as absent.
fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields.get(name).map(str::trim).filter(|v| !v.is_empty())
}

/// An amount with the fraction digits past the currency's cut where they are all zeros
/// (`0.500` is `0.50`: trailing zeros carry no sub-fen value; `0.505` keeps its digits and is
/// refused by `Money`).
fn without_trailing_zeros(text: &str, currency: Currency) -> &str {
    let Some((whole, fraction)) = text.split_once('.') else {
        return text;
    };
    let keep = currency.exponent() as usize;
    match fraction.get(keep..) {
        Some(extra) if !extra.is_empty() && extra.bytes().all(|b| b == b'0') => {
            let cut = whole.len() + 1 + keep;
            // `1.000` in a currency without minor units is `1`, not `1.`.
            text.get(..if keep == 0 { cut - 1 } else { cut })
                .unwrap_or(text)
        }
        _ => text,
    }
}

/// The books of one record.
pub(crate) fn parse(fields: &Fields) -> Result<LedgerLine, String> {
    let lookup = input::lookup_of(fields)?;
    let currency_text = field(fields, "currency").ok_or("`currency` is empty")?;
    let currency: Currency = currency_text.to_ascii_uppercase().parse().map_err(|_| {
        format!("`currency` {currency_text:?} is not a currency code (CNY, HKD, …)")
    })?;
    let amount_text = field(fields, "amount").ok_or("`amount` is empty")?;
    if amount_text.starts_with('-') {
        return Err(format!(
            "`amount` {amount_text:?} is negative: the ledger holds each refund as the positive amount returned to the customer (as the providers report it), so write it without the sign"
        ));
    }
    let amount = Money::from_major_str(without_trailing_zeros(amount_text, currency), currency)
        .map_err(|e| format!("`amount` {amount_text:?}: {e}"))?;
    let status = match field(fields, "status") {
        None => None,
        Some(text) => match RefundStatus::from_name(&text.to_ascii_lowercase()) {
            RefundStatus::Unrecognized(_) => {
                return Err(format!(
                    "`status` {text:?} is not one of succeeded, processing, failed, cancelled, needs_attention"
                ));
            }
            known => Some(known),
        },
    };
    let requested_at = match field(fields, "requested_at") {
        None => None,
        // RFC 3339 allows a lower-case `t` and `z`.
        Some(text) if text.contains(['T', 't']) => Some(
            refund_core::time::parse_rfc3339("requested_at", text).map_err(|e| e.to_string())?,
        ),
        Some(text) => Some(
            refund_core::time::parse_china_local("requested_at", text)
                .map_err(|e| e.to_string())?,
        ),
    };
    Ok(LedgerLine {
        lookup,
        books: Expectation {
            amount,
            status,
            requested_at,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn rows(text: &'static str) -> Vec<(u64, Result<LedgerLine, String>)> {
        input::csv_rows(Cursor::new(text), Cursor::new(text), &REQUIRED)
            .unwrap()
            .map(|(n, row)| (n, row.and_then(|f| parse(&f))))
            .collect()
    }

    #[test]
    fn books_are_read_exactly() {
        let lines = rows(
            "lookup,id,amount,currency,status,requested_at,order_no\n\
             refund_id,R1,10.50,cny,Succeeded,2026-11-20 08:00:00,O-1\n\
             refund_id,R2,1,CNY,,2026-11-20T00:00:00Z,O-2\n",
        );
        let first = lines[0].1.as_ref().unwrap();
        assert_eq!(first.books.amount.minor(), 1050);
        assert_eq!(first.books.status, Some(RefundStatus::Succeeded));
        // China time without an offset: 08:00 in Shanghai is midnight UTC.
        assert_eq!(
            first
                .books
                .requested_at
                .map(|t| refund_core::time::format_utc(&t)),
            Some("2026-11-20T00:00:00Z".to_owned())
        );
        let second = lines[1].1.as_ref().unwrap();
        assert_eq!(second.books.amount.minor(), 100);
        assert_eq!(second.books.status, None);
        assert_eq!(first.books.requested_at, second.books.requested_at);
    }

    #[test]
    fn bad_books_name_the_column_and_value() {
        let lines = rows(
            "lookup,id,amount,currency,status\n\
             refund_id,R1,1.001,CNY,\n\
             refund_id,R2,ten,CNY,\n\
             refund_id,R3,99999999999999999999,CNY,\n\
             refund_id,R4,1.00,XYZ,\n\
             refund_id,R5,1.00,CNY,paid\n\
             bogus,R6,1.00,CNY,\n",
        );
        let errors: Vec<String> = lines.into_iter().map(|(_, r)| r.unwrap_err()).collect();
        assert!(errors[0].contains("`amount` \"1.001\""), "{}", errors[0]);
        assert!(errors[1].contains("`amount` \"ten\""), "{}", errors[1]);
        assert!(errors[2].contains("`amount`"), "{}", errors[2]);
        assert!(errors[3].contains("`currency` \"XYZ\""), "{}", errors[3]);
        assert!(errors[4].contains("`status` \"paid\""), "{}", errors[4]);
        assert!(errors[5].contains("unknown lookup"), "{}", errors[5]);
    }

    /// #29.15 and #29.16: trailing zeros carry no sub-fen value, lower-case RFC 3339 letters are
    /// RFC 3339, and a negative amount is refused naming the convention.
    #[test]
    fn ledger_edges() {
        let lines = rows(
            "lookup,id,amount,currency,requested_at\n\
             refund_id,R1,0.500,CNY,2026-11-20t08:00:00z\n\
             refund_id,R2,0.505,CNY,\n\
             refund_id,R3,-1.00,CNY,\n\
             refund_id,R4,100.000,JPY,\n\
             refund_id,R5,7.0,CNY,2026-11-20T08:00:00+08:00\n",
        );
        let first = lines[0].1.as_ref().unwrap();
        assert_eq!(first.books.amount.minor(), 50);
        assert_eq!(
            first
                .books
                .requested_at
                .map(|t| refund_core::time::format_utc(&t)),
            Some("2026-11-20T08:00:00Z".to_owned())
        );
        let sub_fen = lines[1].1.as_ref().unwrap_err();
        assert!(sub_fen.contains("`amount` \"0.505\""), "{sub_fen}");
        let negative = lines[2].1.as_ref().unwrap_err();
        assert!(
            negative.contains("is negative") && negative.contains("positive amount"),
            "{negative}"
        );
        assert_eq!(lines[3].1.as_ref().unwrap().books.amount.minor(), 100);
        assert_eq!(lines[4].1.as_ref().unwrap().books.amount.minor(), 700);
    }

    #[test]
    fn extra_columns_named_like_output_fields_are_prefixed() {
        let layout = Layout::Csv {
            extra: vec!["provider".into(), "error".into(), "note".into()],
        };
        let header = layout.csv_header();
        let tail: Vec<&str> = header[header.len() - 3..]
            .iter()
            .map(String::as_str)
            .collect();
        assert_eq!(tail, ["ledger_provider", "ledger_error", "note"]);
        assert_eq!(
            Layout::Ndjson.csv_header().last().map(String::as_str),
            Some("extra")
        );
    }

    #[test]
    fn the_header_must_name_the_books() {
        let text = "lookup,id,amount\nrefund_id,R1,1\n";
        let err = input::csv_rows(Cursor::new(text), Cursor::new(text), &REQUIRED)
            .err()
            .unwrap();
        assert!(err.contains("`currency` is missing"), "{err}");
    }
}
