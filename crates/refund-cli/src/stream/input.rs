//! Reading batch (and reconcile ledger) inputs: CSV with a header, or NDJSON, streamed lazily so
//! memory stays flat whatever the file size. Each record keeps its line number in the file and
//! its fields by column name ([`Fields`]); `batch` reads `lookup,id` from them, `reconcile` the
//! ledger's columns too.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use refund_core::{LookupKind, Provider, RefundLookup};

use crate::error::CliError;

/// One input: its 1-based line number in the file, and what it asks.
pub(crate) type Input = (u64, Line);

/// One `batch` input line: the provider its row names, and the lookup (or why the line is
/// unusable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line {
    /// The provider the output row names: the line's own, else the run's; `None` only when the
    /// line names none (and the run has no provider argument) or an unknown one.
    pub(crate) provider: Option<Provider>,
    pub(crate) lookup: Result<RefundLookup, Unusable>,
}

impl super::Job for Line {
    fn lookup(&self) -> Result<&RefundLookup, &str> {
        self.lookup.as_ref().map_err(|u| u.reason.as_str())
    }

    fn provider(&self) -> Option<Provider> {
        self.provider
    }
}

/// Where a run sends its lines: to the provider named on the command line, or to the one each
/// line names in its `provider` column (field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Routing {
    /// The provider argument was given: a `provider` column may only repeat it.
    Fixed(Provider),
    /// No provider argument: every line names its own.
    PerLine,
}

/// The column (field) naming a line's provider.
pub(crate) const PROVIDER_COLUMN: &str = "provider";

/// A value from the input as a message quotes it: one line, at most 64 characters.
fn quoted(value: &str) -> String {
    let mut shown: String = value.chars().take(64).collect();
    if shown.len() < value.len() {
        shown.push('…');
    }
    format!("{:?}", crate::output::one_line(&shown))
}

impl Routing {
    /// The provider of a row whose line could not be read at all: the run's, if it has one.
    pub(crate) fn of_unreadable(self) -> Option<Provider> {
        match self {
            Routing::Fixed(run) => Some(run),
            Routing::PerLine => None,
        }
    }

    /// The columns a CSV header must name besides `others`: `provider` when every line names
    /// its own.
    pub(crate) fn required<'a>(self, others: &[&'a str]) -> Vec<&'a str> {
        let mut columns = others.to_vec();
        if self == Routing::PerLine {
            columns.push(PROVIDER_COLUMN);
        }
        columns
    }

    /// The provider a record's row names (see [`Line::provider`]), and the one to send it to
    /// or why it goes nowhere: a line naming no provider in a run without the argument, an
    /// unknown provider (any case, spaces around ignored), or another provider than the
    /// argument's (a run never sends a line to a provider it does not name).
    pub(crate) fn provider_of(
        self,
        fields: &Fields,
    ) -> (Option<Provider>, Result<Provider, String>) {
        let named = fields
            .get(PROVIDER_COLUMN)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(|v| {
                v.to_ascii_lowercase().parse::<Provider>().map_err(|_| {
                    format!(
                        "`provider` {} is not one of openapi, edgeros, cpos",
                        quoted(v)
                    )
                })
            });
        match (self, named) {
            (_, Some(Err(unknown))) => (None, Err(unknown)),
            (Routing::Fixed(run), None) => (Some(run), Ok(run)),
            (Routing::Fixed(run), Some(Ok(line))) if line == run => (Some(run), Ok(run)),
            (Routing::Fixed(run), Some(Ok(line))) => (
                Some(line),
                Err(format!(
                    "the line names provider {line}, but this run queries {run} only"
                )),
            ),
            (Routing::PerLine, Some(Ok(line))) => (Some(line), Ok(line)),
            (Routing::PerLine, None) => (
                None,
                Err("the line names no provider: without the provider argument every line needs `provider` (openapi, edgeros or cpos)".to_owned()),
            ),
        }
    }
}

/// What an input line asked, as far as it could be read: its lookup kind (when it names a known
/// one) and its id (when not empty). Output rows of an unusable line keep it, so the user can
/// find the line; `--resume` compares it with what the earlier output says the line asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Asked {
    pub(crate) lookup: Option<LookupKind>,
    pub(crate) id: Option<String>,
}

impl Asked {
    /// What a record asked.
    pub(crate) fn of(fields: &Fields) -> Asked {
        Asked {
            lookup: fields.get("lookup").and_then(|k| k.trim().parse().ok()),
            id: fields
                .get("id")
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
        }
    }

    /// The output's `lookup` and `id`.
    pub(crate) fn parts(&self) -> (Option<&str>, Option<&str>) {
        (self.lookup.map(LookupKind::as_str), self.id.as_deref())
    }
}

/// The output's `lookup` and `id` of a usable line.
pub(crate) fn parts_of(lookup: &RefundLookup) -> (Option<&str>, Option<&str>) {
    (Some(lookup.kind().as_str()), Some(lookup.id()))
}

/// An input line that cannot be queried: why, and what could be read of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unusable {
    pub(crate) reason: String,
    pub(crate) asked: Asked,
}

impl Unusable {
    /// A line of which nothing could be read.
    pub(crate) fn unreadable(reason: String) -> Self {
        Unusable {
            reason,
            asked: Asked::default(),
        }
    }
}

fn parse_lookup(kind: &str, id: &str) -> Result<RefundLookup, String> {
    let kind: LookupKind = kind.trim().parse()?;
    Ok(RefundLookup::new(kind, id.trim()))
}

/// One record's fields by column name (CSV: the header's names, trimmed; NDJSON: the object's
/// keys, values as text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fields {
    names: Arc<Vec<String>>,
    values: Vec<String>,
    /// An NDJSON record's values as JSON, by name (`None` for CSV): the ledger's extra fields go
    /// out as the values they were, not as text.
    json: Option<serde_json::Map<String, serde_json::Value>>,
}

impl Fields {
    /// The JSON value of field `name`: an NDJSON record's own (`null` included), a CSV cell as
    /// a string; `None` when the record has no such field.
    pub(crate) fn json(&self, name: &str) -> Option<serde_json::Value> {
        match &self.json {
            Some(object) => object.get(name).cloned(),
            None => self.get(name).map(serde_json::Value::from),
        }
    }

    /// Every field name, in the file's order (an NDJSON record's null fields included).
    pub(crate) fn names(&self) -> Vec<&str> {
        match &self.json {
            Some(object) => object.keys().map(String::as_str).collect(),
            None => self.names.iter().map(String::as_str).collect(),
        }
    }

    /// The value of column `name`, if the record has it.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        let i = self.names.iter().position(|n| n == name)?;
        self.values.get(i).map(String::as_str)
    }
}

/// One record: its 1-based line number in the file, and its fields (or why it is unusable).
pub(crate) type Row = (u64, Result<Fields, String>);

/// The lookup of a record's `lookup` and `id` fields.
pub(crate) fn lookup_of(fields: &Fields) -> Result<RefundLookup, String> {
    match (fields.get("lookup"), fields.get("id")) {
        (Some(kind), Some(id)) => parse_lookup(kind, id),
        _ => Err("missing lookup or id column".to_owned()),
    }
}

/// NDJSON by extension (`.ndjson`, `.jsonl`, `.json`) or by a leading `{`; CSV otherwise.
/// Every reader of an input asks this first, so it also refuses what is not a regular file.
fn is_ndjson(path: &Path) -> Result<bool, CliError> {
    require_regular_file(path)?;
    if path
        .extension()
        .is_some_and(|e| e == "ndjson" || e == "jsonl" || e == "json")
    {
        return Ok(true);
    }
    let mut first = [0_u8; 64];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut first))
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    Ok(first
        .get(..n)
        .unwrap_or_default()
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        == Some(&b'{'))
}

/// An input is read more than once (its format sniffed, its lines numbered from a second
/// copy, counted for the progress bar), so it must be a file: a pipe or a FIFO (`<(cmd)`,
/// `/dev/stdin`) would be consumed by the first read and then misread as an empty or
/// headerless input. Said plainly instead.
fn require_regular_file(path: &Path) -> Result<(), CliError> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(CliError::usage(format!(
            "input {} is not a regular file: it is read more than once, so save a pipe's output to a file first",
            path.display()
        ))),
        // A missing file is reported by the first read, with the system's reason.
        _ => Ok(()),
    }
}

/// The inputs of a file, lazily.
pub(crate) fn read_inputs(
    path: &Path,
    routing: Routing,
) -> Result<Box<dyn Iterator<Item = Input> + Send>, CliError> {
    let required = routing.required(&LOOKUP_COLUMNS);
    Ok(Box::new(inputs_of(read_rows(path, &required)?, routing)))
}

/// The columns `batch` reads.
pub(crate) const LOOKUP_COLUMNS: [&str; 2] = ["lookup", "id"];

/// `batch`'s inputs from records: the one mapping the real reader and the tests and fuzz targets
/// share.
fn inputs_of(
    rows: impl Iterator<Item = Row> + Send,
    routing: Routing,
) -> impl Iterator<Item = Input> + Send {
    rows.map(move |(n, row)| {
        let line = match row {
            Ok(fields) => {
                let (provider, sent_to) = routing.provider_of(&fields);
                let lookup = sent_to
                    .and_then(|_| lookup_of(&fields))
                    .map_err(|reason| Unusable {
                        reason,
                        asked: Asked::of(&fields),
                    });
                Line { provider, lookup }
            }
            Err(reason) => Line {
                provider: routing.of_unreadable(),
                lookup: Err(Unusable::unreadable(reason)),
            },
        };
        (n, line)
    })
}

/// What each record of a file asked, in order (for `--resume`'s check that it continues the
/// same input): streamed, like the run itself.
pub(crate) fn asked_of_file(
    path: &Path,
    required: &[&str],
) -> Result<impl Iterator<Item = (u64, Asked)>, CliError> {
    Ok(read_rows(path, required)?
        .map(|(n, row)| (n, row.map(|f| Asked::of(&f)).unwrap_or_default())))
}

/// A CSV file's header names (trimmed), or `None` for NDJSON.
pub(crate) fn csv_header_names(path: &Path) -> Result<Option<Vec<String>>, CliError> {
    if is_ndjson(path)? {
        return Ok(None);
    }
    let file = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(file);
    let names = reader
        .headers()
        .map_err(|e| CliError::usage(format!("input {}: {e}", path.display())))?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_owned())
        .collect();
    Ok(Some(names))
}

/// The records of a file, lazily; a CSV header must name every column in `required`.
pub(crate) fn read_rows(
    path: &Path,
    required: &[&str],
) -> Result<Box<dyn Iterator<Item = Row> + Send>, CliError> {
    // Sniffed first: it refuses a FIFO, which opening would wait on.
    let ndjson = is_ndjson(path)?;
    let file = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    if ndjson {
        return Ok(Box::new(ndjson_rows(BufReader::new(file))));
    }
    let second = File::open(path)
        .map_err(|e| CliError::usage(format!("cannot read input {}: {e}", path.display())))?;
    csv_rows(file, BufReader::new(second), required)
        .map_err(|e| CliError::usage(format!("input {}: {e}", path.display())))
}

/// Turns byte offsets into 1-based line numbers by reading a second copy of the input forward
/// (the csv crate's own line count skips blank lines, which would shift every later number).
struct LineCounter<R> {
    reader: R,
    offset: u64,
    line: u64,
    /// The last byte seen was a `\r` (so a `\n` right after it ends no new line).
    after_cr: bool,
}

/// One byte of line counting: `(line, after_cr)` after `b`.
fn step(line: u64, after_cr: bool, b: u8) -> (u64, bool) {
    let ends_line = b == b'\r' || (b == b'\n' && !after_cr);
    (line + u64::from(ends_line), b == b'\r')
}

impl<R: BufRead> LineCounter<R> {
    fn new(reader: R) -> Self {
        LineCounter {
            reader,
            offset: 0,
            line: 1,
            after_cr: false,
        }
    }

    /// Counts one byte: a line ends at `\n`, `\r\n` or a lone `\r` (the csv crate's record
    /// terminators).
    fn count(&mut self, b: u8) {
        (self.line, self.after_cr) = step(self.line, self.after_cr, b);
        self.offset += 1;
    }

    /// The line of the first record byte at or after `target` (`target`s must not decrease).
    fn line_at(&mut self, target: u64) -> u64 {
        while self.offset < target {
            let Ok(buf) = self.reader.fill_buf() else {
                break;
            };
            if buf.is_empty() {
                break;
            }
            let take =
                usize::try_from(target - self.offset).map_or(buf.len(), |n| n.min(buf.len()));
            let (mut line, mut after_cr) = (self.line, self.after_cr);
            for &b in buf.get(..take).unwrap_or_default() {
                (line, after_cr) = step(line, after_cr, b);
            }
            (self.line, self.after_cr) = (line, after_cr);
            self.offset += take as u64;
            self.reader.consume(take);
        }
        // The csv reader reports a record as starting where it started reading, before the
        // blank lines it skipped: the record itself starts after them.
        loop {
            let next = match self.reader.fill_buf() {
                Ok(buf) => buf.first().copied(),
                Err(_) => None,
            };
            match next {
                Some(b @ (b'\n' | b'\r')) => self.count(b),
                _ => break,
            }
            self.reader.consume(1);
        }
        self.line
    }
}

/// NDJSON records: one object per line (blank lines skipped, a BOM ignored).
pub(crate) fn ndjson_rows(
    reader: impl BufRead + Send + 'static,
) -> impl Iterator<Item = Row> + Send {
    reader.lines().enumerate().filter_map(|(i, line)| {
        let n = i as u64 + 1;
        let line = match line {
            // A UTF-8 byte order mark (some editors write one) is not part of the first record.
            Ok(l) if l.trim_start_matches('\u{feff}').trim().is_empty() => return None,
            Ok(l) if i == 0 => l.trim_start_matches('\u{feff}').to_owned(),
            Ok(l) => l,
            Err(e) => return Some((n, Err(format!("unreadable line: {e}")))),
        };
        let object = match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(serde_json::Value::Object(object)) => object,
            Ok(_) => return Some((n, Err("not a JSON object".to_owned()))),
            Err(e) => return Some((n, Err(format!("not a JSON object: {e}")))),
        };
        let mut names = Vec::with_capacity(object.len());
        let mut values = Vec::with_capacity(object.len());
        for (name, value) in &object {
            let text = match value {
                serde_json::Value::Null => continue,
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            names.push(name.clone());
            values.push(text);
        }
        Some((
            n,
            Ok(Fields {
                names: Arc::new(names),
                values,
                json: Some(object),
            }),
        ))
    })
}

/// `batch`'s NDJSON inputs from a reader (what `read_inputs` does with a file): for tests and
/// fuzzing.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn ndjson_inputs(
    reader: impl BufRead + Send + 'static,
) -> impl Iterator<Item = Input> + Send {
    inputs_of(ndjson_rows(reader), Routing::Fixed(Provider::Cpos))
}

/// CSV records under a header naming every column in `required`.
pub(crate) fn csv_rows(
    reader: impl Read + Send + 'static,
    second_copy: impl BufRead + Send + 'static,
    required: &[&str],
) -> Result<Box<dyn Iterator<Item = Row> + Send>, String> {
    let mut lines = LineCounter::new(second_copy);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(reader);
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| format!("unreadable CSV header: {}", csv_error(&e)))?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    if let Some(missing) = required.iter().find(|r| !names.iter().any(|n| n == *r)) {
        return Err(format!(
            "the CSV header must name the columns `{}` (`{missing}` is missing)",
            required.join(",")
        ));
    }
    let names = Arc::new(names);
    Ok(Box::new(reader.into_records().map(move |record| {
        let mut line_of = |p: Option<&csv::Position>| p.map_or(0, |p| lines.line_at(p.byte()));
        match record {
            Ok(r) => {
                let n = line_of(r.position());
                // A short row (the reader is flexible) lacks its last columns: `get` says so.
                let values: Vec<String> = r.iter().map(str::to_owned).collect();
                (
                    n,
                    Ok(Fields {
                        names: Arc::clone(&names),
                        values,
                        json: None,
                    }),
                )
            }
            Err(e) => (
                line_of(e.position()),
                Err(format!("unreadable CSV row: {}", csv_error(&e))),
            ),
        }
    })))
}

/// A csv error in the tool's words: the line is said beside it, and fields count from 1 as a
/// user counts columns (the csv crate counts them from 0).
fn csv_error(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => {
            format!("field {} is not valid UTF-8", err.field().saturating_add(1))
        }
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("{len} fields where the header has {expected_len}"),
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

/// `batch`'s CSV inputs from readers (what `read_inputs` does with a file): for tests and
/// fuzzing.
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) fn csv_inputs(
    reader: impl Read + Send + 'static,
    second_copy: impl BufRead + Send + 'static,
) -> Result<impl Iterator<Item = Input> + Send, String> {
    Ok(inputs_of(
        csv_rows(reader, second_copy, &LOOKUP_COLUMNS)?,
        Routing::Fixed(Provider::Cpos),
    ))
}

/// How many inputs the file holds, for the progress bar: its non-blank lines, less the header
/// of a CSV file (NDJSON has none). A CSV record spanning lines (a quoted newline) is counted
/// per line: the bar is a guide, the output is exact.
pub(crate) fn count_inputs(path: &Path) -> u64 {
    let lines = File::open(path).map_or(0, |f| {
        BufReader::new(f)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .count() as u64
    });
    match is_ndjson(path) {
        Ok(true) => lines,
        _ => lines.saturating_sub(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each input's line number and lookup.
    fn lookups(inputs: impl Iterator<Item = Input>) -> Vec<(u64, Result<RefundLookup, Unusable>)> {
        inputs.map(|(n, line)| (n, line.lookup)).collect()
    }

    /// A FIFO, `/dev/stdin` or a directory is refused by name before anything reads it (a FIFO
    /// would otherwise be half consumed by the format sniff and misread).
    #[test]
    fn an_input_that_is_not_a_regular_file_is_a_usage_error() {
        let dir = std::env::temp_dir().join(format!("refund-fifo-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("ids.csv");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        let mut refused = vec![dir.clone()];
        if made {
            refused.push(fifo);
        }
        for path in refused {
            let err = read_inputs(&path, Routing::PerLine).err().expect("refused");
            assert!(matches!(err, CliError::Usage(_)), "{err:?}");
            assert!(
                err.message().contains("not a regular file"),
                "{}",
                err.message()
            );
            assert!(csv_header_names(&path).is_err());
        }
        let _ = std::fs::remove_dir_all(&dir);
        // A missing file is still the system's "not found".
        let err = read_inputs(Path::new("/nonexistent/ids.csv"), Routing::PerLine)
            .err()
            .expect("missing");
        assert!(
            err.message().contains("cannot read input"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn the_progress_total_counts_inputs_not_lines() {
        let dir = std::env::temp_dir().join(format!("refund-count-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let csv = dir.join("ids.csv");
        std::fs::write(&csv, "lookup,id\nrefund_id,A\n\nrefund_id,B\n").unwrap();
        assert_eq!(count_inputs(&csv), 2);
        let ndjson = dir.join("ids.ndjson");
        std::fs::write(
            &ndjson,
            "{\"lookup\":\"refund_id\",\"id\":\"A\"}\n\n{\"lookup\":\"refund_id\",\"id\":\"B\"}\n",
        )
        .unwrap();
        assert_eq!(count_inputs(&ndjson), 2);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn csv_keeps_file_line_numbers_and_bad_rows() {
        let text = "id,lookup,note\nR1,refund_id,x\n\nR2,bogus,y\nR3\n";
        let cursor = || std::io::Cursor::new(text);
        let inputs = lookups(csv_inputs(cursor(), cursor()).unwrap());
        assert_eq!(inputs[0].0, 2);
        assert_eq!(inputs[0].1, Ok(RefundLookup::refund_id("R1")));
        assert_eq!(inputs[1].0, 4);
        let bad = inputs[1].1.as_ref().unwrap_err();
        assert!(bad.reason.contains("unknown lookup"));
        // What could be read of it is kept: the id (the lookup names no known kind).
        assert_eq!(bad.asked.parts(), (None, Some("R2")));
        assert_eq!(inputs[2].0, 5);
        assert!(inputs[2].1.is_err());
        let other = || std::io::Cursor::new("a,b\n1,2\n");
        assert!(csv_inputs(other(), other()).is_err());
    }

    /// #29.17: fields count from 1 in messages.
    #[test]
    fn csv_errors_count_fields_from_one() {
        let text: &[u8] = b"lookup,id\nrefund_id,R\xff1\n";
        let cursor = || std::io::Cursor::new(text);
        let inputs = lookups(csv_inputs(cursor(), cursor()).unwrap());
        let reason = &inputs[0].1.as_ref().unwrap_err().reason;
        assert!(reason.contains("field 2 is not valid UTF-8"), "{reason}");
        assert_eq!(inputs[0].0, 2);
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_too() {
        // Found by fuzzing: old Mac line ends (`\r` alone) are record ends for the csv crate.
        let text = "lookup,id\rrefund_id,R1\r\rrefund_id,R2\r\nrefund_id,R3\n";
        let cursor = || std::io::Cursor::new(text);
        let lines: Vec<u64> = csv_inputs(cursor(), cursor())
            .unwrap()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(lines, vec![2, 4, 5]);
    }

    #[test]
    fn crlf_bom_and_quoted_fields() {
        let text =
            "\u{feff}lookup,id\r\n\r\nrefund_id,\"R,1\"\r\n\"merchant_refund_id\",\"M\"\"2\"\r\n";
        let cursor = || std::io::Cursor::new(text);
        let inputs = lookups(csv_inputs(cursor(), cursor()).unwrap());
        assert_eq!(inputs[0], (3, Ok(RefundLookup::refund_id("R,1"))));
        assert_eq!(inputs[1], (4, Ok(RefundLookup::merchant_refund_id("M\"2"))));
        let ndjson = "\u{feff}{\"lookup\":\"refund_id\",\"id\":\"R1\"}\r\n\r\n{\"lookup\":\"refund_id\",\"id\":\"R2\"}\n";
        let inputs = lookups(ndjson_inputs(std::io::Cursor::new(ndjson)));
        assert_eq!(
            inputs,
            vec![
                (1, Ok(RefundLookup::refund_id("R1"))),
                (3, Ok(RefundLookup::refund_id("R2")))
            ]
        );
    }

    #[test]
    fn ndjson_skips_blank_lines_and_reports_bad_ones() {
        let text = "{\"lookup\":\"merchant_refund_id\",\"id\":\" M1 \"}\n\n{\"id\":1}\n";
        let inputs = lookups(ndjson_inputs(std::io::Cursor::new(text)));
        assert_eq!(inputs.len(), 2);
        assert_eq!(inputs[0], (1, Ok(RefundLookup::merchant_refund_id("M1"))));
        assert_eq!(inputs[1].0, 3);
        assert!(inputs[1].1.is_err());
    }
}
