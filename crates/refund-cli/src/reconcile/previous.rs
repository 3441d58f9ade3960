//! `reconcile --previous FILE`: the verdict each ledger entry had in an earlier run's output, so
//! a daily reconciliation says what changed.
//!
//! The earlier output (CSV or NDJSON, any provider mix, any size) is read streaming into a
//! compact index: one `u64` per entry, the entry's key (`provider`, `lookup`, `id`) hashed to
//! 60 bits with the verdict in the low 4, sorted for binary search; one bit more per entry
//! records whether this run's ledger named it ("lines gone" are those it never did). That is
//! 8 bytes and one bit per entry, whatever the rows held (16 bytes per row while the file is
//! read: its rows are hashed as they come, their text never kept). Two different keys sharing a
//! 60-bit hash (about one chance in 2.3 million for a million entries) would read each other's
//! verdict: a documented risk, never a crash.

use std::hash::{Hash as _, Hasher as _};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::Value;

use super::verdict::Verdict;
use crate::error::CliError;
use crate::output::csv_cell_value;

/// Bytes the index keeps per entry (plus one bit for "seen").
#[cfg(test)]
const BYTES_PER_ENTRY: usize = std::mem::size_of::<u64>();

/// The verdicts of an earlier run, by (provider, lookup, id).
#[derive(Debug, Default)]
pub(crate) struct Previous {
    /// `key hash << 4 | verdict index`, sorted by key; one per key: the file's last.
    entries: Vec<u64>,
    /// One bit per entry: named by this run's ledger.
    seen: Vec<u64>,
}

/// The 60-bit key of an entry. SipHash with fixed keys (std's `DefaultHasher::new`): the same
/// key hashes the same in every run; the fields are separated so `("a", "bc")` is not `("ab", "c")`.
fn key(provider: &str, lookup: &str, id: &str) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    (provider, lookup, id).hash(&mut h);
    h.finish() >> 4
}

fn verdict_index(verdict: Verdict) -> u64 {
    Verdict::ALL
        .iter()
        .position(|v| *v == verdict)
        .unwrap_or_default() as u64
}

impl Previous {
    /// The index of `(ledger line, provider, lookup, id, verdict)` rows in file order. A key on
    /// several ledger lines: the verdict of the last line (the highest number; an output is
    /// written in the order answers come, not the ledger's), and of the file's last row for it.
    #[cfg(test)]
    fn from_entries<'a>(
        entries: impl IntoIterator<Item = (u64, &'a str, &'a str, &'a str, Verdict)>,
    ) -> Self {
        Previous::from_keyed(
            entries
                .into_iter()
                .map(|(n, p, l, i, v)| (key(p, l, i) << 4 | verdict_index(v), n))
                .collect(),
        )
    }

    /// The index of `(key << 4 | verdict, ledger line)` pairs in file order.
    fn from_keyed(mut all: Vec<(u64, u64)>) -> Self {
        // Stable: rows of one line keep file order, so the last of each run is the one kept.
        all.sort_by_key(|(e, n)| (e >> 4, *n));
        let mut entries: Vec<u64> = Vec::with_capacity(all.len());
        for (e, _) in all {
            match entries.last_mut() {
                Some(last) if *last >> 4 == e >> 4 => *last = e,
                _ => entries.push(e),
            }
        }
        entries.shrink_to_fit();
        let seen = vec![0; entries.len().div_ceil(64)];
        Previous { entries, seen }
    }

    /// Reads an earlier reconcile output, CSV or NDJSON (told apart by its first byte),
    /// streaming. A file without a `verdict` field is not one (a usage error); a last line cut
    /// short (a run killed mid-write) is left out; rows without a provider, lookup or id (an
    /// unusable ledger line) name no entry.
    pub(crate) fn read(path: &Path) -> Result<Self, CliError> {
        let refuse = |why: String| CliError::usage(format!("--previous {}: {why}", path.display()));
        let file = std::fs::File::open(path).map_err(|e| refuse(format!("cannot be read: {e}")))?;
        Previous::from_reader(BufReader::new(file)).map_err(refuse)
    }

    /// [`Previous::read`] of what `reader` holds; `Err` says why it is not an earlier output.
    pub(crate) fn from_reader(mut reader: impl BufRead) -> Result<Self, String> {
        let first = reader
            .fill_buf()
            .map_err(|e| format!("cannot be read: {e}"))?
            .first()
            .copied();
        // Hashed as they are read: 16 bytes per row while building, never the rows' text.
        let mut rows: Vec<(u64, u64)> = Vec::new();
        let mut keep = |line: u64, provider: &str, lookup: &str, id: &str, verdict: &str| {
            if let (Some(v), false) = (
                Verdict::from_name(verdict),
                provider.is_empty() || lookup.is_empty() || id.is_empty(),
            ) {
                rows.push((key(provider, lookup, id) << 4 | verdict_index(v), line));
            }
        };
        match first {
            None => {}
            Some(b'{') => read_ndjson(reader, &mut keep)?,
            Some(_) => read_csv(reader, &mut keep)?,
        }
        Ok(Previous::from_keyed(rows))
    }

    /// Entries in the earlier output.
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// The verdict the entry had, marking it named by this run.
    pub(crate) fn take(&mut self, provider: &str, lookup: &str, id: &str) -> Option<Verdict> {
        let k = key(provider, lookup, id);
        let at = self.entries.binary_search_by_key(&k, |e| e >> 4).ok()?;
        if let Some(word) = self.seen.get_mut(at / 64) {
            *word |= 1 << (at % 64);
        }
        let index = (self.entries.get(at)? & 0xF) as usize;
        Verdict::ALL.get(index).copied()
    }

    /// Entries this run's ledger never named: lines gone since the earlier run.
    pub(crate) fn gone(&self) -> u64 {
        self.entries.len() as u64
            - self
                .seen
                .iter()
                .map(|w| u64::from(w.count_ones()))
                .sum::<u64>()
    }

    /// Bytes the index holds (entries and bits).
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.entries.capacity() * BYTES_PER_ENTRY + self.seen.capacity() * 8
    }
}

/// NDJSON rows, one object per line; a line that is not one is refused, but for a last line
/// without its newline (cut short).
fn read_ndjson(
    mut reader: impl BufRead,
    keep: &mut impl FnMut(u64, &str, &str, &str, &str),
) -> Result<(), String> {
    let mut line = String::new();
    let mut number = 0_u64;
    loop {
        line.clear();
        let n = reader
            .read_line(&mut line)
            .map_err(|e| format!("cannot be read: {e}"))?;
        if n == 0 {
            break;
        }
        number += 1;
        let complete = line.ends_with('\n');
        if line.trim().is_empty() {
            continue;
        }
        let row: serde_json::Map<String, Value> = match serde_json::from_str(line.trim_end()) {
            Ok(Value::Object(row)) => row,
            _ if !complete => break,
            _ => {
                return Err(format!(
                    "line {number} is not a JSON object: not a reconcile output"
                ));
            }
        };
        let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or_default();
        if !row.contains_key("verdict") {
            return Err(format!(
                "line {number} has no `verdict`: not a reconcile output"
            ));
        }
        let ledger_line = row.get("line").and_then(Value::as_u64).unwrap_or(0);
        keep(
            ledger_line,
            text("provider"),
            text("lookup"),
            text("id"),
            text("verdict"),
        );
    }
    Ok(())
}

/// CSV rows under a header naming `verdict`, `provider`, `lookup` and `id`; cells read back as
/// they were before a formula was neutralised.
fn read_csv(
    reader: impl Read,
    keep: &mut impl FnMut(u64, &str, &str, &str, &str),
) -> Result<(), String> {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let names: Vec<String> = csv
        .headers()
        .map_err(|e| format!("cannot be read: {e}"))?
        .iter()
        .map(|n| csv_cell_value(n).to_owned())
        .collect();
    let column = |name: &str| names.iter().position(|n| n == name);
    let line_column = column("line");
    let (Some(verdict), Some(provider), Some(lookup), Some(id)) = (
        column("verdict"),
        column("provider"),
        column("lookup"),
        column("id"),
    ) else {
        return Err(
            "its header does not name `verdict`, `provider`, `lookup` and `id`: not a reconcile output"
                .to_owned(),
        );
    };
    let mut record = csv::StringRecord::new();
    loop {
        match csv.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            // A record cut short at the end (a killed run) ends the reading.
            Err(e) if matches!(e.kind(), csv::ErrorKind::UnequalLengths { .. }) => break,
            Err(e) => return Err(format!("cannot be read: {e}")),
        }
        let cell = |i: usize| csv_cell_value(record.get(i).unwrap_or_default());
        let ledger_line = line_column.and_then(|i| cell(i).parse().ok()).unwrap_or(0);
        keep(
            ledger_line,
            cell(provider),
            cell(lookup),
            cell(id),
            cell(verdict),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_verdict_of_a_key_wins_and_misses_are_none() {
        // Written in the order answers came: line 3 before line 1.
        let mut p = Previous::from_entries([
            (3, "cpos", "refund_id", "A", Verdict::Match),
            (2, "cpos", "refund_id", "B", Verdict::Match),
            (1, "cpos", "refund_id", "A", Verdict::Stuck),
            (4, "edgeros", "refund_id", "A", Verdict::AmountMismatch),
        ]);
        assert_eq!(p.len(), 3);
        assert_eq!(p.take("cpos", "refund_id", "A"), Some(Verdict::Match));
        assert_eq!(
            p.take("edgeros", "refund_id", "A"),
            Some(Verdict::AmountMismatch)
        );
        assert_eq!(p.take("cpos", "merchant_refund_id", "A"), None);
        // Separated fields: ("cpos", "refund_idA") is another key.
        assert_eq!(p.take("cpos", "refund_i", "dA"), None);
        assert_eq!(p.gone(), 1, "B was never named");
        assert_eq!(p.take("cpos", "refund_id", "A"), Some(Verdict::Match));
        assert_eq!(p.gone(), 1);
        assert!(p.heap_bytes() <= 3 * BYTES_PER_ENTRY + 8);
    }

    #[test]
    fn both_formats_are_read_and_a_cut_last_line_is_left_out() {
        let dir = std::env::temp_dir().join(format!("refund-previous-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let nd = dir.join("p.ndjson");
        std::fs::write(
            &nd,
            "{\"line\":1,\"lookup\":\"refund_id\",\"id\":\"A\",\"provider\":\"cpos\",\"verdict\":\"stuck\"}\n\
             {\"line\":2,\"lookup\":null,\"id\":null,\"provider\":null,\"verdict\":\"error\"}\n\
             {\"line\":3,\"lookup\":\"refund_id\",\"id\":\"B\",\"provider\":\"cpos\",\"verd",
        )
        .unwrap();
        let mut p = Previous::read(&nd).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p.take("cpos", "refund_id", "A"), Some(Verdict::Stuck));
        let csv = dir.join("p.csv");
        std::fs::write(
            &csv,
            "line,lookup,id,provider,verdict\n1,refund_id,'=A,cpos,match\n2,refund_id,B,cpos,amount_mismatch\n3,refund_id",
        )
        .unwrap();
        let mut p = Previous::read(&csv).unwrap();
        assert_eq!(p.take("cpos", "refund_id", "=A"), Some(Verdict::Match));
        assert_eq!(
            p.take("cpos", "refund_id", "B"),
            Some(Verdict::AmountMismatch)
        );
        std::fs::write(&nd, "{\"line\":1}\n").unwrap();
        let e = Previous::read(&nd).unwrap_err();
        assert!(
            e.message().contains("not a reconcile output"),
            "{}",
            e.message()
        );
        std::fs::write(
            &nd,
            "{\"verdict\":\"match\"}\nnot json\n{\"verdict\":\"match\"}\n",
        )
        .unwrap();
        assert!(
            Previous::read(&nd)
                .unwrap_err()
                .message()
                .contains("line 2")
        );
        std::fs::write(&csv, "line,lookup,id\n1,refund_id,A\n").unwrap();
        assert!(Previous::read(&csv).is_err());
        std::fs::write(&csv, "").unwrap();
        assert_eq!(Previous::read(&csv).unwrap().len(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
