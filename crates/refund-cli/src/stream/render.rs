//! One input's output lines, rendered from the typed refunds (or the error), as NDJSON or CSV.

use std::borrow::Cow;

use refund_core::{Provider, Refund};
use serde::Serialize;
use serde_json::Value;

use crate::error::CliError;
use crate::output::{COLUMNS, Cell, ErrorObject, InContractOrder, Record, csv_cell, error_object};

/// What became of one input: the refunds found, or why not.
pub(crate) type Outcome = Result<Vec<Refund>, CliError>;

/// The error kind of a batch line: an unusable input line is `invalid_input`.
pub(crate) fn error_kind(e: &CliError) -> &'static str {
    match e {
        CliError::Usage(_) => "invalid_input",
        other => other.kind(),
    }
}

/// With `--evidence`, `Some`: the evidence file of the answer that produced the row (`None`:
/// the row has no answer). Without it, `None`, and rows have no `evidence` field.
pub(crate) type Kept<'a> = Option<Option<&'a str>>;

/// The field `--evidence` adds to every row, last.
pub(crate) const EVIDENCE: &str = "evidence";

/// One CSV record and its newline, each cell quoted where needed and neutralised where a
/// spreadsheet would run it (headers are written like data: a ledger names columns too).
pub(crate) fn csv_line(cells: &[String]) -> String {
    let mut out = Vec::new();
    push_csv(&mut out, cells);
    String::from_utf8(out).unwrap_or_default()
}

/// The CSV header's column names.
pub(crate) fn csv_columns() -> Vec<String> {
    let mut cells: Vec<&str> = vec!["line", "lookup", "id"];
    cells.extend(COLUMNS);
    cells.extend(["error_kind", "error_message", "error_code"]);
    cells.into_iter().map(str::to_owned).collect()
}

/// The output lines of one input: one per refund found, or one carrying the error. The input's
/// own line number, lookup and id head every line, so no result is attributed to another input.
///
/// Written straight from the typed refund (or error) into `out`, with no JSON tree or cell
/// vector in between: this runs once per answer on the thread that writes the output. The same
/// lines as [`json_rows`] rendered by [`push_json`] or [`csv_cells`] (a test holds them equal).
pub(crate) fn render(
    out: &mut Vec<u8>,
    line: u64,
    (lookup, id): (Option<&str>, Option<&str>),
    outcome: &Outcome,
    provider: Option<Provider>,
    csv: bool,
    evidence: Kept<'_>,
) {
    match outcome {
        Ok(refunds) => {
            for refund in refunds {
                let fields = Record::new(refund);
                if csv {
                    let mut cells = csv_head(line, lookup, id);
                    cells.extend(fields.cells());
                    cells.extend([String::new(), String::new(), String::new()]);
                    if let Some(name) = evidence {
                        cells.push(name.unwrap_or_default().to_owned());
                    }
                    push_csv(out, &cells);
                } else {
                    push_json_line(out, (line, lookup, id), fields.values(), None, evidence);
                }
            }
        }
        Err(e) => {
            let message = e.message();
            let error = ErrorObject::new(error_kind(e), &message, e.sdk());
            // An input that found no refund: every column null but the provider asked (null
            // too when the line named none, or one unknown).
            let asked = provider.map(Provider::as_str);
            let columns = COLUMNS.map(|c| Cell::Text(asked.filter(|_| c == "provider")));
            if csv {
                let mut cells = csv_head(line, lookup, id);
                cells.extend(columns.map(Cell::to_csv));
                cells.extend([
                    error.kind.to_owned(),
                    error.message.to_owned(),
                    error.code.unwrap_or_default(),
                ]);
                if let Some(name) = evidence {
                    cells.push(name.unwrap_or_default().to_owned());
                }
                push_csv(out, &cells);
            } else {
                push_json_line(out, (line, lookup, id), columns, Some(&error), evidence);
            }
        }
    }
}

/// Appends one NDJSON line of [`render`]: `line`, `lookup`, `id`, the [`COLUMNS`], `error`.
///
/// Written member by member around serde_json rather than by serialising a struct, because
/// this runs once per answer of `refund batch` and its throughput is a target (#17): through
/// serde's map machinery the line cost about twice as much, most of it escaping the same
/// constant keys again on every line. The keys are written as they are (identifiers: a test
/// checks none needs escaping); every value, and the error object, is written by serde_json,
/// so strings are escaped exactly as before; the lines are byte-equal to the serde rendering
/// `reconcile` and `demo` use (a test holds them equal).
fn push_json_line(
    out: &mut Vec<u8>,
    (line, lookup, id): (u64, Option<&str>, Option<&str>),
    columns: [Cell<'_>; 16],
    error: Option<&ErrorObject<'_>>,
    evidence: Kept<'_>,
) {
    fn key(out: &mut Vec<u8>, key: &str) {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
    }
    out.extend_from_slice(b"{\"line\":");
    // Writing numbers, strings and the error object into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, &line);
    key(out, "lookup");
    Cell::Text(lookup).write_json(out);
    key(out, "id");
    Cell::Text(id).write_json(out);
    for (column, value) in COLUMNS.into_iter().zip(columns) {
        key(out, column);
        value.write_json(out);
    }
    key(out, "error");
    let _ = serde_json::to_writer(&mut *out, &error);
    if let Some(name) = evidence {
        key(out, EVIDENCE);
        Cell::Text(name).write_json(out);
    }
    out.extend_from_slice(b"}\n");
}

/// The CSV cells `line`, `lookup`, `id` (empty when the input line was unusable).
fn csv_head(line: u64, lookup: Option<&str>, id: Option<&str>) -> Vec<String> {
    let mut cells = Vec::with_capacity(3 + COLUMNS.len() + 3);
    cells.push(line.to_string());
    cells.push(lookup.unwrap_or_default().to_owned());
    cells.push(id.unwrap_or_default().to_owned());
    cells
}

/// One output row: field names and values in the contract's order (the order `query` prints
/// a refund in, headed by the input's `line`, `lookup`, `id`), written as one JSON object or as
/// CSV cells. Keys are unique: [`OutputRow::insert`] replaces.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct OutputRow(Vec<(Cow<'static, str>, Value)>);

impl OutputRow {
    /// Appends a field the caller knows is new (the fixed fields of the contract).
    fn push(&mut self, key: &'static str, value: Value) {
        self.0.push((Cow::Borrowed(key), value));
    }

    /// Sets a field, replacing one of the same name.
    pub(crate) fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        let key = key.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// The same row headed by a `section` field (`refund demo` labels its sections so).
    pub(crate) fn labelled(mut self, section: &'static str) -> Self {
        self.0
            .insert(0, (Cow::Borrowed("section"), Value::from(section)));
        self
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Every field, in the row's order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v))
    }

    pub(crate) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
}

impl Serialize for OutputRow {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key.as_ref(), &InContractOrder(value))?;
        }
        map.end()
    }
}

/// A row read back from an earlier output (its order does not matter there).
impl FromIterator<(String, Value)> for OutputRow {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(fields: I) -> Self {
        OutputRow(
            fields
                .into_iter()
                .map(|(k, v)| (Cow::Owned(k), v))
                .collect(),
        )
    }
}

/// The NDJSON objects of one input, in [`csv_header`]'s order of fields: `asked` is the
/// input's `lookup` and `id` (of an unusable line, what could be read of them).
pub(crate) fn json_rows(
    line: u64,
    (kind, id): (Option<&str>, Option<&str>),
    outcome: &Outcome,
    provider: Option<Provider>,
) -> Vec<OutputRow> {
    match outcome {
        Ok(refunds) => refunds
            .iter()
            .map(|refund| {
                let mut row = head(line, kind, id);
                for (column, value) in COLUMNS.into_iter().zip(Record::new(refund).json_values()) {
                    row.push(column, value);
                }
                row.push("error", Value::Null);
                row
            })
            .collect(),
        Err(e) => {
            let mut row = head(line, kind, id);
            for column in COLUMNS {
                row.push(column, Value::Null);
            }
            row.insert(
                "provider",
                provider.map_or(Value::Null, |p| Value::from(p.as_str())),
            );
            row.push("error", error_object(error_kind(e), &e.message(), e.sdk()));
            vec![row]
        }
    }
}

/// A JSON row as CSV cells in `header`'s order: `error` flattened into `error_kind`,
/// `error_message`, `error_code`; null as an empty cell, numbers in decimal. `batch` and
/// `reconcile` render CSV through it, so the two formats always carry the same values.
pub(crate) fn csv_cells(row: &OutputRow, header: &[String]) -> Vec<String> {
    let error = row.get("error");
    header
        .iter()
        .map(|name| {
            let value = match name.strip_prefix("error_") {
                Some(part @ ("kind" | "message" | "code")) => error.and_then(|e| e.get(part)),
                _ => row.get(name),
            };
            cell_text(value)
        })
        .collect()
}

/// A field's value as a cell's text: nothing for an absent or null one, a string as it is,
/// anything else as JSON (numbers in decimal). CSV cells and the report's cells alike.
pub(crate) fn cell_text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn head(line: u64, lookup: Option<&str>, id: Option<&str>) -> OutputRow {
    let mut row = OutputRow(Vec::with_capacity(3 + COLUMNS.len() + 1));
    row.push("line", Value::from(line));
    row.push("lookup", lookup.map_or(Value::Null, Value::from));
    row.push("id", id.map_or(Value::Null, Value::from));
    row
}

/// Appends one JSON object and a newline.
pub(crate) fn push_json(out: &mut Vec<u8>, row: &impl Serialize) {
    // Serialising strings, numbers and nulls into memory cannot fail.
    let _ = serde_json::to_writer(&mut *out, row);
    out.push(b'\n');
}

/// Appends one CSV record and its newline: quoted where needed, and a cell a spreadsheet
/// would run as a formula neutralised ([`csv_cell`]; `--resume` and the report undo it).
pub(crate) fn push_csv(out: &mut Vec<u8>, cells: &[String]) {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .buffer_capacity(256)
        .from_writer(&mut *out);
    // Writing to memory cannot fail. Field by field (no cell copied unless neutralised), then
    // the record's end.
    for cell in cells {
        let _ = w.write_field(csv_cell(cell).as_bytes());
    }
    let _ = w.write_record(std::iter::empty::<&[u8]>());
    let _ = w.flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_core::{Currency, Error, Money, RefundLookup, RefundStatus, Verification};

    /// What an input asked: its lookup, or nothing for an unusable line.
    fn asked(input: &Result<RefundLookup, String>) -> (Option<&str>, Option<&str>) {
        input
            .as_ref()
            .map_or((None, None), crate::stream::input::parts_of)
    }

    fn rendered(
        line: u64,
        input: &Result<RefundLookup, String>,
        outcome: &Outcome,
        provider: Provider,
        csv: bool,
    ) -> String {
        let mut out = Vec::new();
        render(
            &mut out,
            line,
            asked(input),
            outcome,
            Some(provider),
            csv,
            None,
        );
        String::from_utf8(out).unwrap()
    }

    fn refund(id: &str) -> Refund {
        let mut r = Refund::new(
            Provider::Edgeros,
            Money::from_minor(1, Currency::Cny),
            RefundStatus::Succeeded,
        );
        r.refund_id = Some(id.to_owned());
        r.signature = Verification::Verified;
        r
    }

    #[test]
    fn ndjson_lines_carry_the_input_and_every_field() {
        let lookup = Ok(RefundLookup::refund_id("AR1"));
        let text = rendered(
            7,
            &lookup,
            &Ok(vec![refund("AR1")]),
            Provider::Edgeros,
            false,
        );
        let v: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(
            (v["line"].as_u64(), v["lookup"].as_str(), v["id"].as_str()),
            (Some(7), Some("refund_id"), Some("AR1"))
        );
        assert_eq!(v["amount"], "0.01");
        assert_eq!(v["signature"], "verified");
        assert!(v["error"].is_null());
        for c in COLUMNS {
            assert!(v.get(c).is_some(), "{c}");
        }
        // Keys in the contract's order (as `query` prints a refund), not alphabetical.
        let mut order = vec!["line", "lookup", "id"];
        order.extend(COLUMNS);
        order.push("error");
        let positions: Vec<usize> = order
            .iter()
            .map(|k| text.find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(v.as_object().unwrap().len(), order.len());
    }

    #[test]
    fn an_error_line_has_null_fields_and_the_error() {
        let lookup = Ok(RefundLookup::refund_id("AR1"));
        let mismatch = CliError::Sdk(Error::mismatch(
            Provider::Edgeros,
            "data.refund_no",
            "AR1",
            "AR2",
        ));
        let text = rendered(3, &lookup, &Err(mismatch), Provider::Edgeros, false);
        let v: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["error"]["kind"], "mismatch");
        // The error object's keys in the contract's order too, not alphabetical.
        let error_at = text.find("\"error\":{").unwrap();
        let positions: Vec<usize> = ["kind", "message", "provider", "code"]
            .iter()
            .map(|k| error_at + text[error_at..].find(&format!("\"{k}\":")).unwrap())
            .collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
        assert_eq!(v["id"], "AR1");
        assert!(v["refund_id"].is_null() && v["signature"].is_null());
        assert_eq!(v["provider"], "edgeros");
        let bad: Result<RefundLookup, String> = Err("unknown lookup".into());
        let text = rendered(
            4,
            &bad,
            &Err(CliError::usage("unknown lookup")),
            Provider::Cpos,
            true,
        );
        assert_eq!(
            text,
            "4,,,cpos,,,,,,,,,,,,,,,,invalid_input,unknown lookup,\n"
        );
    }

    #[test]
    fn csv_rows_line_up_with_the_header() {
        let lookup = Ok(RefundLookup::refund_id("AR1"));
        let text = rendered(
            2,
            &lookup,
            &Ok(vec![refund("AR1"), refund("AR1")]),
            Provider::Edgeros,
            true,
        );
        let header = csv_line(&csv_columns());
        let columns = header.trim_end().split(',').count();
        for row in text.lines() {
            assert_eq!(row.split(',').count(), columns, "{row}");
            assert!(row.starts_with("2,refund_id,AR1,edgeros,AR1"), "{row}");
            assert!(row.ends_with(",verified,,,"), "{row}");
        }
        assert_eq!(text.lines().count(), 2);
    }

    /// [`push_json_line`] writes its keys as they are: each must be its own JSON text.
    #[test]
    fn keys_written_by_hand_need_no_escaping() {
        for key in ["line", "lookup", "id", "error"].into_iter().chain(COLUMNS) {
            assert_eq!(serde_json::to_string(key).unwrap(), format!("\"{key}\""));
        }
    }

    /// `render` writes what `reconcile` and `demo` render through [`json_rows`]: the same bytes
    /// in both formats, for a bare refund, one with every field set and text that needs escaping
    /// (quotes, commas, a newline, CJK), an SDK error, and an unusable input line.
    #[test]
    fn render_writes_what_the_row_path_writes() {
        let mut full = refund("AR\"1,\n退款");
        full.merchant_refund_id = Some("M1".into());
        full.original_transaction_id = Some("T1".into());
        full.provider_status = Some("SUCCESS".into());
        full.fee_refunded = Some(Money::from_minor(3, Currency::Cny));
        full.created_at = chrono::DateTime::from_timestamp(1_722_416_882, 0);
        full.completed_at = chrono::DateTime::from_timestamp(1_722_416_999, 0);
        full.failure_code = Some("E1".into());
        full.failure_message = Some("退款\"失败\", \u{7}".into());
        full.channel = Some("wx".into());
        let mismatch = CliError::Sdk(Error::mismatch(Provider::Cpos, "refund_no", "AR1", "AR\"2"));
        let cases: Vec<(Result<RefundLookup, String>, Outcome)> = vec![
            (Ok(RefundLookup::refund_id("AR1")), Ok(vec![refund("AR1")])),
            (
                Ok(RefundLookup::merchant_refund_id("M,1")),
                Ok(vec![full, refund("AR2")]),
            ),
            (Ok(RefundLookup::refund_id("AR1")), Err(mismatch)),
            (Ok(RefundLookup::refund_id("AR1")), Ok(vec![])),
            (
                Err("no \"lookup\"".into()),
                Err(CliError::usage("no \"lookup\", line 4")),
            ),
        ];
        let header = csv_columns();
        for (n, (input, outcome)) in (1..).zip(&cases) {
            let rows = json_rows(n, asked(input), outcome, Some(Provider::Cpos));
            let (mut json, mut csv) = (Vec::new(), Vec::new());
            for row in &rows {
                push_json(&mut json, row);
                push_csv(&mut csv, &csv_cells(row, &header));
            }
            let json = String::from_utf8(json).unwrap();
            let csv = String::from_utf8(csv).unwrap();
            assert_eq!(rendered(n, input, outcome, Provider::Cpos, false), json);
            assert_eq!(rendered(n, input, outcome, Provider::Cpos, true), csv);
            assert_eq!(json.lines().count(), rows.len(), "{json}");
        }
    }
}
