//! `--resume`: which input lines an earlier run already answered, read back from its output with
//! real parsers (a provider's message can hold commas, quotes and newlines), and the torn last
//! record of a killed run cut off so it is redone.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

use crate::error::CliError;
use crate::output::csv_cell_value;

/// The input being resumed, to prove the output continues it: the file and the columns its
/// records need.
pub(crate) struct Resumed<'a> {
    pub(crate) input: &'a Path,
    pub(crate) required: &'a [&'a str],
}

/// The lines an earlier run answered, when `--resume` is asked for (none otherwise), after
/// checking that every one of them asked what the same line of `resumed` asks (`header`: the
/// CSV header's cells this run writes).
pub(crate) fn done_lines_of(
    sink: &super::SinkArgs,
    csv: bool,
    header: &[String],
    resumed: &Resumed<'_>,
) -> Result<HashSet<u64>, CliError> {
    match (&sink.output, sink.resume) {
        (Some(path), true) => done_lines(path, csv, header, resumed),
        _ => Ok(HashSet::new()),
    }
}

/// Line numbers already answered in an existing output file. A torn last record is cut off (and
/// its line redone); a file that is not this tool's output is a usage error, never "empty"; an
/// output whose line asked another lookup or id than the input's same line is a usage error
/// before anything is written (it belongs to another input).
pub(crate) fn done_lines(
    path: &Path,
    csv: bool,
    header: &[String],
    resumed: &Resumed<'_>,
) -> Result<HashSet<u64>, CliError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashSet::new()),
        Err(e) => return Err(CliError::io(format!("cannot read {}: {e}", path.display()))),
    };
    let len = file
        .metadata()
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?
        .len();
    let not_ours = |why: String| {
        CliError::usage(format!(
            "--resume: {} is not this tool's {} output ({why}); refusing to append to it",
            path.display(),
            if csv { "CSV" } else { "NDJSON" }
        ))
    };
    let scan = if csv {
        scan_csv(file, len, header)
    } else {
        scan_ndjson(BufReader::new(file))
    }
    .map_err(not_ours)?;
    check_same_input(path, csv, &scan, resumed)?;
    if scan.complete < len {
        OpenOptions::new()
            .write(true)
            .open(path)
            .and_then(|f| f.set_len(scan.complete))
            .map_err(|e| CliError::io(format!("cannot trim {}: {e}", path.display())))?;
    }
    Ok(scan.lines)
}

/// What a line asked, as `--resume` compares it: a hash of its `lookup` and `id` (`None` when
/// the output row has neither: an older version wrote unusable lines so, compared by line
/// alone). Hashed so the index stays small (16 bytes an answered line); the hasher's keys are
/// fixed, so both sides hash alike within the run.
fn asked_key(lookup: Option<&str>, id: Option<&str>) -> Option<u64> {
    if lookup.is_none() && id.is_none() {
        return None;
    }
    let mut h = std::hash::DefaultHasher::new();
    (lookup, id).hash(&mut h);
    Some(h.finish())
}

/// Stops at the first answered line whose output asked another `lookup`/`id` than the input's
/// same line: the output belongs to another input, and skipping the line would credit its
/// answer to the wrong refund.
fn check_same_input(
    path: &Path,
    csv: bool,
    scan: &Scan,
    resumed: &Resumed<'_>,
) -> Result<(), CliError> {
    if scan.asked.is_empty() {
        return Ok(());
    }
    for (line, asked) in super::input::asked_of_file(resumed.input, resumed.required)? {
        let Some(&written) = scan.asked.get(&line) else {
            continue;
        };
        let (lookup, id) = asked.parts();
        if asked_key(lookup, id) != Some(written) {
            let (was_lookup, was_id) = asked_in_output(path, csv, line);
            let show = |lookup: Option<&str>, id: Option<&str>| {
                format!("{} {}", lookup.unwrap_or("(none)"), id.unwrap_or("(none)"))
            };
            return Err(CliError::usage(format!(
                "--resume: line {line} of {} asks {}, but the output {} answered {} for line {line}: it is another input's output; refusing to continue it",
                resumed.input.display(),
                show(lookup, id),
                path.display(),
                show(was_lookup.as_deref(), was_id.as_deref()),
            )));
        }
    }
    Ok(())
}

/// The `lookup` and `id` an output wrote for `line` (for the message of a mismatch; read again
/// rather than kept for every line).
fn asked_in_output(path: &Path, csv: bool, line: u64) -> (Option<String>, Option<String>) {
    let Ok(file) = File::open(path) else {
        return (None, None);
    };
    if csv {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .from_reader(BufReader::new(file));
        let cell = |r: &csv::StringRecord, i: usize| {
            r.get(i)
                .map(csv_cell_value)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
        };
        for record in reader.records().map_while(Result::ok) {
            if cell(&record, 0).and_then(|l| l.parse().ok()) == Some(line) {
                return (cell(&record, 1), cell(&record, 2));
            }
        }
    } else {
        for text in BufReader::new(file).lines().map_while(Result::ok) {
            let Ok(row) = serde_json::from_str::<Value>(&text) else {
                continue;
            };
            if row.get("line").and_then(Value::as_u64) == Some(line) {
                let field = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_owned);
                return (field("lookup"), field("id"));
            }
        }
    }
    (None, None)
}

/// What a previous output holds: the answered line numbers, what each asked, and where its
/// last complete record ends.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Scan {
    pub(crate) lines: HashSet<u64>,
    /// [`asked_key`] of each answered line that says what it asked.
    pub(crate) asked: HashMap<u64, u64>,
    pub(crate) complete: u64,
}

impl Scan {
    fn new() -> Self {
        Scan {
            lines: HashSet::new(),
            asked: HashMap::new(),
            complete: 0,
        }
    }

    /// One answered line (several rows of one line ask the same).
    fn answered(&mut self, line: u64, lookup: Option<&str>, id: Option<&str>) {
        self.lines.insert(line);
        if let Some(key) = asked_key(lookup, id) {
            self.asked.insert(line, key);
        }
    }
}

pub(crate) fn scan_ndjson(mut reader: impl BufRead) -> Result<Scan, String> {
    let mut scan = Scan::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| e.to_string())?;
        if n == 0 || buf.last() != Some(&b'\n') {
            // End of file, or a torn last line (even one cut inside a UTF-8 character).
            return Ok(scan);
        }
        let record = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let record = record.strip_prefix("\u{feff}".as_bytes()).unwrap_or(record);
        if !record.iter().all(u8::is_ascii_whitespace) {
            let row = serde_json::from_slice::<Value>(record).ok();
            let line = row
                .as_ref()
                .and_then(|v| v.get("line").and_then(Value::as_u64))
                .ok_or_else(|| format!("record {} is not a result line", scan.lines.len() + 1))?;
            let field = |k: &str| row.as_ref().and_then(|v| v.get(k)).and_then(Value::as_str);
            scan.answered(line, field("lookup"), field("id"));
        }
        scan.complete += n as u64;
    }
}

pub(crate) fn scan_csv(
    mut file: impl Read + Seek,
    len: u64,
    header: &[String],
) -> Result<Scan, String> {
    let mut scan = Scan::new();
    // Streamed: memory stays flat however large the earlier output is.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(&mut file));
    let mut record = csv::ByteRecord::new();
    let mut first = true;
    let mut last_end = None;
    while reader
        .read_byte_record(&mut record)
        .map_err(|e| e.to_string())?
    {
        let start = scan.complete;
        let end = reader.position().byte();
        if end >= len {
            // The last record may be the torn end of a killed run: decided from its bytes below.
            last_end = Some((start, record.clone()));
            break;
        }
        accept(&mut scan, &record, header, &mut first, start)?;
        scan.complete = end;
    }
    drop(reader);
    if let Some((start, record)) = last_end {
        // Complete only if it ends with a line break outside quotes (an even number of `"`)
        // and has every column; otherwise it is cut off and redone.
        let mut tail = Vec::new();
        file.seek(SeekFrom::Start(start))
            .and_then(|_| (&mut file).take(len - start).read_to_end(&mut tail))
            .map_err(|e| e.to_string())?;
        let complete = tail.last() == Some(&b'\n')
            && tail.iter().filter(|&&b| b == b'"').count() % 2 == 0
            && record.len() == header.len();
        if complete {
            accept(&mut scan, &record, header, &mut first, start)?;
            scan.complete = len;
        }
    }
    // The csv reader reports a record ended by `\r\n` as ending after the `\r`; its `\n` belongs
    // to it, so a cut there would leave a stray `\n` ahead of the next run's lines (found by
    // fuzzing: `cli_resume`).
    if scan.complete > 0 && scan.complete < len {
        let mut pair = [0_u8; 2];
        file.seek(SeekFrom::Start(scan.complete - 1))
            .and_then(|_| file.read_exact(&mut pair))
            .map_err(|e| e.to_string())?;
        if pair == *b"\r\n" {
            scan.complete += 1;
        }
    }
    Ok(scan)
}

/// Takes one complete record: the header first (it must be this tool's: its cells, read back
/// as written), then result lines.
fn accept(
    scan: &mut Scan,
    record: &csv::ByteRecord,
    header: &[String],
    first: &mut bool,
    start: u64,
) -> Result<(), String> {
    if record.len() != header.len() {
        return Err(format!("record at byte {start} is malformed"));
    }
    let cell = |i: usize| {
        record
            .get(i)
            .and_then(|f| std::str::from_utf8(f).ok())
            .map(csv_cell_value)
    };
    if std::mem::take(first) {
        return if (0..header.len()).all(|i| cell(i) == header.get(i).map(String::as_str)) {
            Ok(())
        } else {
            Err("its header is not this tool's".to_owned())
        };
    }
    let line = cell(0)
        .and_then(|f| f.parse::<u64>().ok())
        .ok_or_else(|| format!("record at byte {start} has no line number"))?;
    let present = |i| cell(i).filter(|c| !c.is_empty());
    scan.answered(line, present(1), present(2));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ndjson(text: &[u8]) -> Result<Scan, String> {
        scan_ndjson(std::io::Cursor::new(text.to_vec()))
    }

    fn csv(text: &str) -> Result<Scan, String> {
        scan_csv(
            std::io::Cursor::new(text.as_bytes()),
            text.len() as u64,
            &super::super::render::csv_columns(),
        )
    }

    #[test]
    fn ndjson_lines_and_a_torn_tail() {
        let s =
            ndjson(b"{\"line\":2,\"x\":1}\n{\"line\":5}\n{\"line\":7,\"m\":\"\xe9\x80").unwrap();
        assert_eq!(s.lines, HashSet::from([2, 5]));
        assert_eq!(s.complete, 28);
        assert!(ndjson(b"{\"line\":2}\nnot json\n").is_err());
        assert!(ndjson(b"lookup,id\nrefund_id,1\n").is_err());
        assert_eq!(ndjson(b"").unwrap().lines.len(), 0);
    }

    #[test]
    fn a_crlf_record_before_a_torn_tail_is_cut_after_its_line_feed() {
        // Found by fuzzing (`cli_resume`): the cut fell between `\r` and `\n`.
        let header = super::super::render::csv_line(&super::super::render::csv_columns());
        let record = format!(
            "2,refund_id,R1,cpos{}",
            ",".repeat(header.matches(',').count() - 3)
        );
        let text = format!("{header}{record}\r\n\0\0\0");
        let scan = csv(&text).unwrap();
        assert_eq!(scan.lines, HashSet::from([2]));
        assert_eq!(scan.complete, (text.len() - 3) as u64);
        assert_eq!(text.as_bytes()[scan.complete as usize - 1], b'\n');
    }

    #[test]
    fn csv_quoted_fields_never_fool_it() {
        let header = super::super::render::csv_line(&super::super::render::csv_columns());
        let pad = ",".repeat(header.trim_end().split(',').count() - 3);
        // A message with a comma, a quote and a newline, in a complete record.
        let tricky = format!("2,refund_id,R1{pad}\"a, \"\"b\"\"\n3,x\"\n");
        let text = format!("{header}{tricky}");
        let s = csv(&text).unwrap();
        assert_eq!(s.lines, HashSet::from([2]));
        assert_eq!(s.complete, text.len() as u64);
        // Cut inside the quoted message, just after its newline: torn, not complete.
        let cut = text.find("3,x").unwrap();
        let s = csv(&text[..cut]).unwrap();
        assert!(s.lines.is_empty(), "{s:?}");
        assert_eq!(s.complete, header.len() as u64);
        // Not this tool's output.
        assert!(csv("lookup,id\nrefund_id,1\n").is_err());
    }
}
