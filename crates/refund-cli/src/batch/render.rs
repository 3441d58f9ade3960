//! One input's output lines, rendered from the typed refunds (or the error), as NDJSON or CSV.

use refund_core::{Provider, Refund, RefundLookup};
use serde_json::{Map, Value};

use crate::error::CliError;
use crate::output::{COLUMNS, Record, error_json};

/// What became of one input: the refunds found, or why not.
pub(crate) type Outcome = Result<Vec<Refund>, CliError>;

/// The error kind of a batch line: an unusable input line is `invalid_input`.
pub(crate) fn error_kind(e: &CliError) -> &'static str {
    match e {
        CliError::Usage(_) => "invalid_input",
        other => other.kind(),
    }
}

/// The CSV header: `line,lookup,id`, the output fields, then the error's kind, message and code.
pub(crate) fn csv_header() -> String {
    format!("{}\n", csv_columns().join(","))
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
pub(crate) fn render(
    line: u64,
    input: &Result<RefundLookup, String>,
    outcome: &Outcome,
    provider: Provider,
    csv_header: Option<&[String]>,
) -> String {
    let lookup = input.as_ref().ok();
    let mut out = String::new();
    for row in json_rows(line, lookup, outcome, provider) {
        match csv_header {
            Some(header) => push_csv(&mut out, &csv_cells(&row, header)),
            None => push_json(&mut out, row),
        }
    }
    out
}

/// The NDJSON objects of one input, in [`csv_header`]'s order of fields.
pub(crate) fn json_rows(
    line: u64,
    lookup: Option<&RefundLookup>,
    outcome: &Outcome,
    provider: Provider,
) -> Vec<Map<String, Value>> {
    let (kind, id) = (
        lookup.map(|l| l.kind().as_str()),
        lookup.map(RefundLookup::id),
    );
    match outcome {
        Ok(refunds) => refunds
            .iter()
            .map(|refund| {
                let mut row = head(line, kind, id);
                if let Ok(Value::Object(fields)) = serde_json::to_value(Record::new(refund)) {
                    row.extend(fields);
                }
                row.insert("error".to_owned(), Value::Null);
                row
            })
            .collect(),
        Err(e) => {
            let error = error_json(error_kind(e), &e.message(), e.sdk());
            let error = error.get("error").cloned().unwrap_or(Value::Null);
            let mut row = head(line, kind, id);
            row.extend(COLUMNS.iter().map(|c| ((*c).to_owned(), Value::Null)));
            row.insert("provider".to_owned(), Value::from(provider.as_str()));
            row.insert("error".to_owned(), error);
            vec![row]
        }
    }
}

/// A JSON row as CSV cells in `header`'s order: `error` flattened into `error_kind`,
/// `error_message`, `error_code`; null as an empty cell, numbers in decimal. `batch` and
/// `reconcile` render CSV through it, so the two formats always carry the same values.
pub(crate) fn csv_cells(row: &Map<String, Value>, header: &[String]) -> Vec<String> {
    let error = row.get("error");
    header
        .iter()
        .map(|name| {
            let value = match name.strip_prefix("error_") {
                Some(part @ ("kind" | "message" | "code")) => error.and_then(|e| e.get(part)),
                _ => row.get(name),
            };
            match value {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            }
        })
        .collect()
}

fn head(line: u64, lookup: Option<&str>, id: Option<&str>) -> Map<String, Value> {
    Map::from_iter([
        ("line".to_owned(), Value::from(line)),
        ("lookup".to_owned(), lookup.map_or(Value::Null, Value::from)),
        ("id".to_owned(), id.map_or(Value::Null, Value::from)),
    ])
}

pub(crate) fn push_json(out: &mut String, row: Map<String, Value>) {
    out.push_str(&Value::Object(row).to_string());
    out.push('\n');
}

pub(crate) fn push_csv(out: &mut String, cells: &[String]) {
    let mut w = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail; an empty line would show up in the output if it did.
    let _ = w.write_record(cells);
    out.push_str(&String::from_utf8_lossy(
        &w.into_inner().unwrap_or_default(),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_core::{Currency, Error, Money, RefundStatus, Verification};

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
        let text = render(
            7,
            &lookup,
            &Ok(vec![refund("AR1")]),
            Provider::Edgeros,
            None,
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
        let text = render(3, &lookup, &Err(mismatch), Provider::Edgeros, None);
        let v: Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(v["error"]["kind"], "mismatch");
        assert_eq!(v["id"], "AR1");
        assert!(v["refund_id"].is_null() && v["signature"].is_null());
        assert_eq!(v["provider"], "edgeros");
        let bad: Result<RefundLookup, String> = Err("unknown lookup".into());
        let text = render(
            4,
            &bad,
            &Err(CliError::usage("unknown lookup")),
            Provider::Cpos,
            Some(&csv_columns()),
        );
        assert_eq!(
            text,
            "4,,,cpos,,,,,,,,,,,,,,,,invalid_input,unknown lookup,\n"
        );
    }

    #[test]
    fn csv_rows_line_up_with_the_header() {
        let lookup = Ok(RefundLookup::refund_id("AR1"));
        let text = render(
            2,
            &lookup,
            &Ok(vec![refund("AR1"), refund("AR1")]),
            Provider::Edgeros,
            Some(&csv_columns()),
        );
        let header = csv_header();
        let columns = header.trim_end().split(',').count();
        for row in text.lines() {
            assert_eq!(row.split(',').count(), columns, "{row}");
            assert!(row.starts_with("2,refund_id,AR1,edgeros,AR1"), "{row}");
            assert!(row.ends_with(",verified,,,"), "{row}");
        }
        assert_eq!(text.lines().count(), 2);
    }
}
