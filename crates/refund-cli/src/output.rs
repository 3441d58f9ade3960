//! The output contract: one flat object per refund, identical in json, ndjson and csv, rendered
//! from the typed [`Refund`] (never from strings parsed back).

use std::borrow::Cow;
use std::io::Write;

use refund_core::{Error, Refund, Verification};
use serde::Serialize;

/// `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON array.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// A header and one row per refund.
    Csv,
}

/// The output fields, in order (json keys and csv columns alike).
pub(crate) const COLUMNS: [&str; 16] = [
    "provider",
    "refund_id",
    "merchant_refund_id",
    "original_transaction_id",
    "status",
    "provider_status",
    "amount",
    "amount_minor",
    "currency",
    "fee_refunded_minor",
    "created_at",
    "completed_at",
    "failure_code",
    "failure_message",
    "channel",
    "signature",
];

/// One refund as the CLI prints it. Every field is always present (null when unknown).
#[derive(Debug, Serialize)]
pub(crate) struct Record<'a> {
    provider: &'static str,
    refund_id: Option<&'a str>,
    merchant_refund_id: Option<&'a str>,
    original_transaction_id: Option<&'a str>,
    status: &'static str,
    provider_status: Option<&'a str>,
    amount: String,
    amount_minor: i64,
    currency: &'static str,
    fee_refunded_minor: Option<i64>,
    created_at: Option<String>,
    completed_at: Option<String>,
    failure_code: Option<&'a str>,
    failure_message: Option<&'a str>,
    channel: Option<&'a str>,
    signature: &'static str,
    /// With `--evidence` (`query`, `watch`): the evidence file of the answer it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a str>,
}

impl<'a> Record<'a> {
    pub(crate) fn new(r: &'a Refund) -> Self {
        Record {
            provider: r.provider.as_str(),
            refund_id: r.refund_id.as_deref(),
            merchant_refund_id: r.merchant_refund_id.as_deref(),
            original_transaction_id: r.original_transaction_id.as_deref(),
            status: r.status.as_str(),
            provider_status: r.provider_status.as_deref(),
            amount: r.amount.to_major_string(),
            amount_minor: r.amount.minor(),
            currency: r.amount.currency().code(),
            fee_refunded_minor: r.fee_refunded.map(|f| f.minor()),
            created_at: r.created_at.as_ref().map(refund_core::time::format_utc),
            completed_at: r.completed_at.as_ref().map(refund_core::time::format_utc),
            failure_code: r.failure_code.as_deref(),
            failure_message: r.failure_message.as_deref(),
            channel: r.channel.as_deref(),
            signature: r.signature.as_str(),
            evidence: None,
        }
    }

    /// The values, in [`COLUMNS`] order: what its `Serialize` writes (a test holds them
    /// equal), for the renderings that go column by column.
    pub(crate) fn values(&self) -> [Cell<'_>; 16] {
        use Cell::{Int, Text};
        [
            Text(Some(self.provider)),
            Text(self.refund_id),
            Text(self.merchant_refund_id),
            Text(self.original_transaction_id),
            Text(Some(self.status)),
            Text(self.provider_status),
            Text(Some(&self.amount)),
            Int(Some(self.amount_minor)),
            Text(Some(self.currency)),
            Int(self.fee_refunded_minor),
            Text(self.created_at.as_deref()),
            Text(self.completed_at.as_deref()),
            Text(self.failure_code),
            Text(self.failure_message),
            Text(self.channel),
            Text(Some(self.signature)),
        ]
    }

    /// The JSON values, in [`COLUMNS`] order, without building a map first.
    pub(crate) fn json_values(&self) -> [serde_json::Value; 16] {
        self.values().map(Cell::to_json)
    }

    /// The csv cells, in [`COLUMNS`] order (empty for null).
    pub(crate) fn cells(&self) -> [String; 16] {
        self.values().map(Cell::to_csv)
    }
}

/// One output field's value: text or a whole number, either possibly absent (JSON `null`, an
/// empty CSV cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cell<'a> {
    /// A JSON string.
    Text(Option<&'a str>),
    /// A JSON number.
    Int(Option<i64>),
}

impl Cell<'_> {
    /// As a JSON value.
    pub(crate) fn to_json(self) -> serde_json::Value {
        use serde_json::Value;
        match self {
            Cell::Text(text) => text.map_or(Value::Null, Value::from),
            Cell::Int(n) => n.map_or(Value::Null, Value::from),
        }
    }

    /// As a CSV cell: text as it is, numbers in decimal, nothing for null.
    pub(crate) fn to_csv(self) -> String {
        match self {
            Cell::Text(text) => text.unwrap_or_default().to_owned(),
            Cell::Int(n) => n.map(|n| n.to_string()).unwrap_or_default(),
        }
    }

    /// Appends the JSON text of the value: written by serde_json, which escapes strings.
    pub(crate) fn write_json(self, out: &mut Vec<u8>) {
        // Writing strings and numbers into memory cannot fail.
        let _ = match self {
            Cell::Text(Some(text)) => serde_json::to_writer(&mut *out, text),
            Cell::Int(Some(n)) => serde_json::to_writer(&mut *out, &n),
            Cell::Text(None) | Cell::Int(None) => {
                out.extend_from_slice(b"null");
                Ok(())
            }
        };
    }
}

/// The characters that make a spreadsheet read a cell as a formula (OWASP's list for CSV
/// injection: `=`, `+`, `-`, `@`, a tab, a carriage return).
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// A plain decimal number (`-0.01`, `+5`, `100`): a spreadsheet reads it as a number, not a
/// formula, so it is left as it is (amounts and differences stay numbers).
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && all_digits(frac)
}

/// A CSV cell as written: text that a spreadsheet would run as a formula gets a leading `'`
/// (OWASP's advice for CSV injection), and so does text that already begins with `'`s before
/// such a character, so [`csv_cell_value`] can always undo it. Plain numbers stay numbers.
pub(crate) fn csv_cell(text: &str) -> Cow<'_, str> {
    let after_quotes = text.trim_start_matches('\'');
    let quoted = after_quotes.len() < text.len();
    let formula = after_quotes.starts_with(FORMULA_STARTS);
    if formula && (quoted || !is_plain_number(text)) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text of a CSV cell [`csv_cell`] wrote (what `--resume` and the report read back).
pub(crate) fn csv_cell_value(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.trim_start_matches('\'').starts_with(FORMULA_STARTS) => rest,
        _ => cell,
    }
}

/// Writes refunds in a format; `io::Error`s (a closed pipe) end the program quietly upstream.
/// `evidence` (with `--evidence`): the file of the answer they came from, a field (a last CSV
/// column) of every row; the table does not show it (`query` says it on stderr).
pub(crate) fn write_refunds(
    out: &mut dyn Write,
    format: Format,
    refunds: &[Refund],
    evidence: Option<&str>,
) -> std::io::Result<()> {
    let records: Vec<Record<'_>> = refunds
        .iter()
        .map(|r| Record {
            evidence,
            ..Record::new(r)
        })
        .collect();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &records)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for r in &records {
                serde_json::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            let mut header = COLUMNS.to_vec();
            header.extend(evidence.map(|_| "evidence"));
            w.write_record(header).map_err(std::io::Error::other)?;
            for r in &records {
                let mut cells = r.cells().to_vec();
                cells.extend(evidence.map(str::to_owned));
                w.write_record(cells.iter().map(|c| csv_cell(c).into_owned()))
                    .map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        Format::Table => write_table(out, &records)?,
    }
    out.flush()
}

fn write_table(out: &mut dyn Write, records: &[Record<'_>]) -> std::io::Result<()> {
    let headers = [
        "PROVIDER",
        "REFUND ID",
        "STATUS",
        "AMOUNT",
        "RAW STATUS",
        "COMPLETED (UTC)",
        "SIGNATURE",
        "FAILURE",
    ];
    let rows: Vec<[String; 8]> = records
        .iter()
        .map(|r| {
            let failure = match (r.failure_code, r.failure_message) {
                (Some(c), Some(m)) => format!("{c} {m}"),
                (Some(c), None) => c.to_owned(),
                (None, Some(m)) => m.to_owned(),
                (None, None) => String::new(),
            };
            // Every cell may hold provider text: escaped, so an answer cannot drive the terminal.
            [
                r.provider.to_owned(),
                one_line(r.refund_id.or(r.merchant_refund_id).unwrap_or_default()),
                r.status.to_owned(),
                format!("{} {}", r.amount, r.currency),
                one_line(r.provider_status.unwrap_or_default()),
                r.completed_at.clone().unwrap_or_default(),
                r.signature.to_owned(),
                one_line(&failure),
            ]
        })
        .collect();
    // Columns by display width: a CJK character takes two terminal cells.
    use unicode_width::UnicodeWidthStr;
    let mut widths = headers.map(UnicodeWidthStr::width);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.width());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c}{}", " ".repeat(w.saturating_sub(c.width()))))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    writeln!(out, "{}", line(headers.to_vec()))?;
    for row in &rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

/// The error object printed on stdout in json/ndjson formats, keys in the contract's order.
pub(crate) fn error_json(kind: &str, message: &str, error: Option<&Error>) -> String {
    let value = serde_json::json!({ "error": error_object(kind, message, error) });
    // Serialising strings and nulls cannot fail.
    serde_json::to_string(&InContractOrder(&value)).unwrap_or_default()
}

/// What an error says, as JSON: `kind`, `message`, `provider`, `code` (null when unknown).
/// Written through [`InContractOrder`], which keeps that order.
pub(crate) fn error_object(kind: &str, message: &str, error: Option<&Error>) -> serde_json::Value {
    // Serialising strings and nulls cannot fail.
    serde_json::to_value(ErrorObject::new(kind, message, error)).unwrap_or_default()
}

/// The error object's fields, in the contract's order (its `Serialize` keeps it).
#[derive(Debug, Serialize)]
pub(crate) struct ErrorObject<'a> {
    pub(crate) kind: &'a str,
    pub(crate) message: &'a str,
    pub(crate) provider: Option<refund_core::Provider>,
    pub(crate) code: Option<String>,
}

impl<'a> ErrorObject<'a> {
    pub(crate) fn new(kind: &'a str, message: &'a str, error: Option<&Error>) -> Self {
        ErrorObject {
            kind,
            message,
            provider: error.and_then(Error::provider),
            code: error.and_then(Error::code),
        }
    }
}

/// The error object's keys in the order `docs/cli.md` gives them.
const ERROR_KEYS: [&str; 4] = ["kind", "message", "provider", "code"];

/// A JSON value written with its objects' keys in the contract's order: serde_json's map sorts
/// its keys (the `preserve_order` feature would change the map for every crate in the build,
/// the providers' strict parses included), so the CLI orders the one nested object it prints,
/// the error: [`ERROR_KEYS`] first, in that order, then any other key.
pub(crate) struct InContractOrder<'a>(pub(crate) &'a serde_json::Value);

impl serde::Serialize for InContractOrder<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let serde_json::Value::Object(fields) = self.0 else {
            return self.0.serialize(serializer);
        };
        let mut map = serializer.serialize_map(Some(fields.len()))?;
        let known = ERROR_KEYS
            .iter()
            .filter_map(|key| fields.get_key_value(*key));
        let others = fields
            .iter()
            .filter(|(key, _)| !ERROR_KEYS.contains(&key.as_str()));
        for (key, value) in known.chain(others) {
            map.serialize_entry(key, &InContractOrder(value))?;
        }
        map.end()
    }
}

/// Makes untrusted text safe for a terminal, on one line (core's rule: control characters and
/// bidi overrides shown escaped). JSON and CSV output stay exact; this is for the table and
/// stderr.
pub(crate) use refund_core::explain::printable as one_line;

/// How many of `refunds` were accepted without a valid signature (lenient mode).
pub(crate) fn unverified(refunds: &[Refund]) -> usize {
    refunds
        .iter()
        .filter(|r| r.signature == Verification::Unverified)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_core::{Currency, Money, Provider, RefundStatus};

    fn refund() -> Refund {
        let mut r = Refund::new(
            Provider::Cpos,
            Money::from_minor(50, Currency::Cny),
            RefundStatus::Succeeded,
        );
        r.refund_id = Some("WX1".into());
        r.signature = Verification::Verified;
        r
    }

    /// OWASP's CSV injection: formulas are neutralised by a leading `'`, reversibly; plain
    /// numbers stay numbers.
    #[test]
    fn csv_cells_never_run_as_formulas_and_read_back_exactly() {
        for (text, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+2", "'+1+2"),
            ("-1+2", "'-1+2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-", "'-"),
            ("'=x", "''=x"),
            ("''-5", "'''-5"),
            ("'-5", "''-5"),
            ("-0.01", "-0.01"),
            ("+5", "+5"),
            ("-10010", "-10010"),
            ("100", "100"),
            ("'abc", "'abc"),
            ("'", "'"),
            ("", ""),
            ("a=b", "a=b"),
            ("退款", "退款"),
        ] {
            assert_eq!(csv_cell(text), written, "{text:?}");
            assert_eq!(csv_cell_value(written), text, "{written:?}");
        }
    }

    #[test]
    fn json_and_csv_carry_the_same_fields_in_order() {
        let refunds = [refund()];
        let mut json = Vec::new();
        write_refunds(&mut json, Format::Ndjson, &refunds, None).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = COLUMNS.to_vec();
        sorted.sort_unstable();
        assert_eq!(keys, sorted);
        assert_eq!(v["signature"], "verified");
        assert_eq!(v["amount"], "0.50");
        let mut csv = Vec::new();
        write_refunds(&mut csv, Format::Csv, &refunds, None).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
        assert_eq!(
            lines.next().unwrap(),
            "cpos,WX1,,,succeeded,,0.50,50,CNY,,,,,,,verified"
        );
    }

    #[test]
    fn json_values_are_what_serialize_writes() {
        let mut full = refund();
        full.merchant_refund_id = Some("M1".into());
        full.fee_refunded = Some(Money::from_minor(3, Currency::Cny));
        full.created_at = chrono::DateTime::from_timestamp(1_722_416_882, 0);
        full.failure_message = Some("退款\"失败\"".into());
        for r in [refund(), full] {
            let record = Record::new(&r);
            let serialized = serde_json::to_value(&record).unwrap();
            let values = record.json_values();
            for (column, value) in COLUMNS.iter().zip(values) {
                assert_eq!(serialized[column], value, "{column}");
            }
            assert_eq!(serialized.as_object().unwrap().len(), COLUMNS.len());
        }
    }

    #[test]
    fn the_table_aligns_chinese_text_by_display_width() {
        let mut cjk = refund();
        cjk.failure_message = Some("退款失败".into());
        cjk.refund_id = Some("退款单号1".into());
        let mut out = Vec::new();
        write_refunds(&mut out, Format::Table, &[refund(), cjk], None).unwrap();
        let text = String::from_utf8(out).unwrap();
        // The STATUS column starts at the same terminal cell on every line.
        let status_cell = |line: &str| {
            let at = line
                .find("succeeded")
                .or_else(|| line.find("STATUS"))
                .unwrap();
            unicode_width::UnicodeWidthStr::width(&line[..at])
        };
        let cells: Vec<usize> = text.lines().map(status_cell).collect();
        assert!(cells.windows(2).all(|w| w[0] == w[1]), "{text}");
    }

    #[test]
    fn terminal_controls_and_bidi_overrides_are_escaped() {
        assert_eq!(one_line("a\nb\x1b[2Jc"), "a\\u{a}b\\u{1b}[2Jc");
        assert_eq!(one_line("\u{9b}\u{7f}x"), "\\u{9b}\\u{7f}x");
        assert_eq!(one_line("pay\u{202e}lmth.exe"), "pay\\u{202e}lmth.exe");
        assert_eq!(one_line("退款 ok"), "退款 ok");
    }

    #[test]
    fn table_shows_the_signature_state() {
        let mut r = refund();
        r.signature = Verification::Unverified;
        r.failure_message = Some("line\nbreak\x1b[2J".into());
        r.refund_id = Some("WX\x1b]0;owned\x07".into());
        let mut out = Vec::new();
        write_refunds(&mut out, Format::Table, &[r], None).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.lines().next().unwrap().contains("SIGNATURE"));
        assert!(text.contains("unverified"));
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert_eq!(unverified(&[refund()]), 0);
    }
}
