//! Counting a reconciliation and drawing it: totals per verdict and currency (exact, in minor
//! units), the age of refunds still in flight, and the discrepancies sorted by amount — built
//! incrementally from the output rows (the live ones, and an earlier run's read back on
//! `--resume`), so memory stays flat: only the largest [`MAX_ROWS`] discrepancies are kept.
//!
//! The HTML is one self-contained file (inline CSS and SVG, no script, no font, no network), so
//! it works from an e-mail attachment. Every text in it is escaped: provider strings are
//! untrusted.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, Utc};
use refund_core::{Currency, Money, RefundStatus};
use serde_json::Value;

use super::previous::Previous;
use super::verdict::{Verdict, counts, moved_nothing};
use crate::error::CliError;
use crate::output::{csv_cell_value, one_line};
use crate::stream::render::{OutputRow, cell_text};
use refund_core::http::humane;

/// The most discrepancies the report's table lists (the largest by amount); the totals count
/// them all.
pub(crate) const MAX_ROWS: usize = 1000;

/// Age buckets of refunds still in flight: upper bounds in hours, then "older". A time after
/// the report's own ("in the future": a wrong clock or a mistyped date) is a bucket of its own,
/// never "< 1 h".
const AGE_BUCKETS: [(&str, i64); 7] = [
    ("in the future", 0),
    ("< 1 h", 1),
    ("1–24 h", 24),
    ("1–3 d", 72),
    ("3–7 d", 168),
    ("7–30 d", 720),
    ("> 30 d", i64::MAX),
];

/// Money per verdict and currency: minor units summed in i128 (no overflow, no float). Lines
/// whose difference is known (books + difference = provider, to the minor unit) are counted
/// apart from those where it is not (another currency, nothing found, an error): no number is
/// shown for what is not known.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    /// Lines with a known difference, and their sums.
    pub(crate) lines: u64,
    pub(crate) expected: i128,
    pub(crate) provider: i128,
    pub(crate) difference: i128,
    /// Lines whose difference is not known ("n/a"), and the books' sum over them.
    pub(crate) unknown_lines: u64,
    pub(crate) unknown_expected: i128,
}

impl Totals {
    /// Counts one line: its books' amount and its difference, where known.
    fn count(&mut self, expected: Option<i128>, difference: Option<i128>) {
        match (expected, difference) {
            (Some(e), Some(d)) => {
                self.lines += 1;
                self.expected += e;
                self.difference += d;
                self.provider += e + d;
            }
            (e, _) => {
                self.unknown_lines += 1;
                self.unknown_expected += e.unwrap_or(0);
            }
        }
    }
}

/// One discrepancy, as the table shows it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Discrepancy {
    /// Sort key: the books' amount in minor units (absolute), then the line (stable).
    amount: i128,
    line: Reverse<u64>,
    verdict: &'static str,
    /// The provider the line went to (empty: it named none that is known).
    provider: String,
    lookup: String,
    id: String,
    expected: String,
    /// The books' currency and status, to tell which refunds the verdict counted.
    expected_currency: String,
    expected_status: String,
    /// The refunds found: amount, currency, normalised status.
    refunds: Vec<(String, String, String)>,
    difference: String,
    status: String,
    provider_status: String,
    message: String,
    /// The ledger's own columns (order numbers, notes): name and text.
    extra: Vec<(String, String)>,
}

impl Discrepancy {
    /// The provider cell: the refunds the verdict counted (joined by `+`), then those it did
    /// not (failed or cancelled attempts, another currency), marked so.
    fn provider_cell(&self) -> String {
        let status = |s: &str| RefundStatus::from_name(s);
        let all_moved_nothing = self
            .refunds
            .iter()
            .all(|(_, _, s)| moved_nothing(&status(s)));
        let books_say_nothing_moved = moved_nothing(&status(&self.expected_status));
        let known = !self.difference.is_empty();
        let (mut counted, mut not_counted) = (Vec::new(), Vec::new());
        for (amount, currency, s) in &self.refunds {
            let counts_here = known
                && *currency == self.expected_currency
                && counts(&status(s), all_moved_nothing, books_say_nothing_moved);
            if counts_here {
                counted.push(format!("{amount} {currency}"));
            } else {
                not_counted.push(format!("{amount} {currency} ({s})"));
            }
        }
        let mut cell = counted.join(" + ");
        if !not_counted.is_empty() {
            if !cell.is_empty() {
                cell.push_str("; ");
            }
            cell.push_str("not counted: ");
            cell.push_str(&not_counted.join(", "));
        }
        cell
    }
}

/// What was compared, for the report's heading: a reader of a forwarded report must not have to
/// guess which books, which provider or which rules it shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct Compared {
    /// The providers asked.
    pub(crate) providers: Vec<String>,
    /// The ledger's file name (not its folder: a report travels).
    pub(crate) ledger: String,
    /// `--stuck-after`.
    pub(crate) stuck_after: Duration,
}

/// What a reconciliation found so far.
#[derive(Debug)]
pub(crate) struct Report {
    now: DateTime<Utc>,
    compared: Compared,
    last_line: Option<u64>,
    pub(crate) lines: u64,
    pub(crate) verdicts: BTreeMap<Verdict, u64>,
    /// Lines per provider (empty: none known) and verdict.
    pub(crate) by_provider: BTreeMap<String, BTreeMap<Verdict, u64>>,
    pub(crate) money: BTreeMap<(Verdict, String), Totals>,
    /// The same per provider (empty: none known).
    pub(crate) provider_money: BTreeMap<(String, Verdict, String), Totals>,
    /// Lines still in flight by age bucket; the last slot is "age unknown".
    pub(crate) ages: [u64; AGE_BUCKETS.len() + 1],
    /// The largest discrepancies (a min-heap on amount, capped at [`MAX_ROWS`]).
    table: BinaryHeap<Reverse<Discrepancy>>,
    pending: Option<Discrepancy>,
    /// With `--previous`: what changed since.
    changes: Option<Changes>,
}

/// A row's provider as the summary and the report name it (empty: the line named none known).
fn provider_name(provider: &str) -> &str {
    if provider.is_empty() {
        "no provider"
    } else {
        provider
    }
}

fn text(row: &OutputRow, key: &str) -> String {
    cell_text(row.get(key))
}

/// Minor units of a major-unit amount text in a currency code (exact; `None` when absent).
fn minor(amount: &str, currency: &str) -> Option<i128> {
    let currency: Currency = currency.parse().ok()?;
    Money::from_major_str(amount, currency)
        .ok()
        .map(|m| i128::from(m.minor()))
}

/// True for the fields every output row has (`batch`'s, `reconcile`'s, the CSV error columns,
/// `--previous`'s and `--evidence`'s): any other field came from the ledger.
fn is_output_field(name: &str) -> bool {
    [
        "line",
        "lookup",
        "id",
        "error",
        "error_kind",
        "error_message",
        "error_code",
    ]
    .contains(&name)
        || crate::output::COLUMNS.contains(&name)
        || super::RECONCILE_COLUMNS.contains(&name)
        || name == super::PREVIOUS_VERDICT
        || name == crate::stream::render::EVIDENCE
}

/// One line whose verdict changed since the previous run, as the report lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Change {
    /// Sort key: the books' amount in minor units (absolute), then the line (stable).
    amount: i128,
    line: Reverse<u64>,
    provider: String,
    lookup: String,
    id: String,
    expected: String,
    /// `None`: a line the previous run did not have.
    previous: Option<&'static str>,
    now: &'static str,
}

/// What changed since `--previous`: transitions counted per ledger line, the largest changes.
#[derive(Debug, Default)]
struct Changes {
    previous: Previous,
    /// (previous verdict, or none for a new line; this run's verdict) → lines.
    transitions: BTreeMap<(Option<Verdict>, Verdict), u64>,
    table: BinaryHeap<Reverse<Change>>,
}

impl Report {
    pub(crate) fn new(now: DateTime<Utc>, compared: Compared) -> Self {
        Report {
            now,
            compared,
            last_line: None,
            lines: 0,
            verdicts: BTreeMap::new(),
            by_provider: BTreeMap::new(),
            money: BTreeMap::new(),
            provider_money: BTreeMap::new(),
            ages: [0; AGE_BUCKETS.len() + 1],
            table: BinaryHeap::new(),
            pending: None,
            changes: None,
        }
    }

    /// Compares every line with an earlier run's verdicts (`--previous`).
    pub(crate) fn compare_with(&mut self, previous: Previous) {
        self.changes = Some(Changes {
            previous,
            ..Changes::default()
        });
    }

    /// Whether lines are compared with an earlier run.
    pub(crate) fn has_previous(&self) -> bool {
        self.changes.is_some()
    }

    /// The verdict the earlier run gave this entry (`None`: it had no such entry); the entry
    /// is marked as named by this run.
    pub(crate) fn previous_verdict(
        &mut self,
        provider: &str,
        lookup: &str,
        id: &str,
    ) -> Option<Verdict> {
        self.changes
            .as_mut()
            .and_then(|c| c.previous.take(provider, lookup, id))
    }

    /// Lines whose verdict differs from the earlier run's (new lines included).
    pub(crate) fn changed(&self) -> u64 {
        self.changes.as_ref().map_or(0, |c| {
            c.transitions
                .iter()
                .filter(|((from, to), _)| *from != Some(*to))
                .map(|(_, n)| n)
                .sum()
        })
    }

    /// Counts one line's transition (the first row of each line).
    fn count_change(&mut self, row: &OutputRow, line: u64, verdict: Verdict, amount: i128) {
        let Some(changes) = &mut self.changes else {
            return;
        };
        // An earlier output read back on --resume: its entries were named by this run too.
        let _ = changes.previous.take(
            &text(row, "provider"),
            &text(row, "lookup"),
            &text(row, "id"),
        );
        let previous = Verdict::from_name(&text(row, super::PREVIOUS_VERDICT));
        *changes.transitions.entry((previous, verdict)).or_default() += 1;
        if previous == Some(verdict) {
            return;
        }
        changes.table.push(Reverse(Change {
            amount,
            line: Reverse(line),
            provider: text(row, "provider"),
            lookup: text(row, "lookup"),
            id: text(row, "id"),
            expected: format!(
                "{} {}",
                text(row, "expected_amount"),
                text(row, "expected_currency")
            ),
            previous: previous.map(Verdict::as_str),
            now: verdict.as_str(),
        }));
        if changes.table.len() > MAX_ROWS {
            changes.table.pop();
        }
    }

    /// Counts one output row. Rows of one ledger line come together (one per refund found):
    /// the line is counted once, the provider's amounts of all its rows are listed.
    pub(crate) fn add_row(&mut self, row: &OutputRow) {
        let line = match row.get("line") {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s.parse().ok(),
            _ => None,
        }
        .unwrap_or(0);
        let Some(verdict) = Verdict::from_name(&text(row, "verdict")) else {
            return;
        };
        let currency = text(row, "expected_currency");
        if self.last_line != Some(line) {
            self.finish_line();
            self.last_line = Some(line);
            self.lines += 1;
            *self.verdicts.entry(verdict).or_default() += 1;
            let provider = text(row, "provider");
            *self
                .by_provider
                .entry(provider.clone())
                .or_default()
                .entry(verdict)
                .or_default() += 1;
            let expected = minor(&text(row, "expected_amount"), &currency);
            let difference = minor(&text(row, "difference"), &currency);
            let keys = (provider, verdict, currency.clone());
            // The provider's side as the verdict counted it (books + difference): failed
            // attempts, or another currency, are not added in. Where the difference is not
            // known, no provider figure is made up.
            self.money
                .entry((verdict, currency.clone()))
                .or_default()
                .count(expected, difference);
            self.provider_money
                .entry(keys)
                .or_default()
                .count(expected, difference);
            self.count_age(row);
            self.count_change(row, line, verdict, expected.unwrap_or(0).abs());
            if verdict != Verdict::Match {
                let error_message = row
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| text(row, "error_message"));
                let failure = text(row, "failure_message");
                self.pending = Some(Discrepancy {
                    amount: expected.unwrap_or(0).abs(),
                    line: Reverse(line),
                    verdict: verdict.as_str(),
                    provider: text(row, "provider"),
                    lookup: text(row, "lookup"),
                    id: text(row, "id"),
                    expected: format!("{} {currency}", text(row, "expected_amount")),
                    expected_currency: currency.clone(),
                    expected_status: text(row, "expected_status"),
                    refunds: Vec::new(),
                    difference: text(row, "difference"),
                    status: text(row, "status"),
                    provider_status: text(row, "provider_status"),
                    message: if failure.is_empty() {
                        error_message
                    } else {
                        failure
                    },
                    extra: row
                        .iter()
                        .filter(|(name, _)| !is_output_field(name))
                        .map(|(name, value)| (name.to_owned(), cell_text(Some(value))))
                        .collect(),
                });
            }
        }
        if let Some(d) = &mut self.pending {
            let amount = text(row, "amount");
            if !amount.is_empty() {
                d.refunds
                    .push((amount, text(row, "currency"), text(row, "status")));
            }
        }
    }

    /// Files the pending discrepancy into the capped table.
    fn finish_line(&mut self) {
        if let Some(d) = self.pending.take() {
            self.table.push(Reverse(d));
            if self.table.len() > MAX_ROWS {
                self.table.pop();
            }
        }
    }

    fn count_age(&mut self, row: &OutputRow) {
        let status = text(row, "status");
        let in_flight = matches!(status.as_str(), "processing" | "unrecognized");
        if !in_flight {
            return;
        }
        let since = [text(row, "requested_at"), text(row, "created_at")]
            .into_iter()
            .find_map(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc));
        let slot = match since {
            Some(t) if t > self.now => 0,
            Some(t) => {
                let hours = (self.now - t).num_hours();
                AGE_BUCKETS
                    .iter()
                    .skip(1)
                    .position(|(_, max)| hours < *max)
                    .map_or(AGE_BUCKETS.len() - 1, |i| i + 1)
            }
            None => AGE_BUCKETS.len(),
        };
        if let Some(n) = self.ages.get_mut(slot) {
            *n += 1;
        }
    }

    /// Reads an earlier run's output back (for `--resume`), streamed.
    pub(crate) fn add_output_file(&mut self, path: &Path, csv: bool) -> Result<(), CliError> {
        let file = match std::fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(CliError::io(format!("cannot read {}: {e}", path.display()))),
        };
        let unreadable = |e: String| CliError::io(format!("cannot read {}: {e}", path.display()));
        if csv {
            let mut reader = csv::Reader::from_reader(file);
            let names: Vec<String> = reader
                .headers()
                .map_err(|e| unreadable(e.to_string()))?
                .iter()
                .map(|name| csv_cell_value(name).to_owned())
                .collect();
            for record in reader.records() {
                let record = record.map_err(|e| unreadable(e.to_string()))?;
                // Cells read back as they were before a formula was neutralised.
                let row: OutputRow = names
                    .iter()
                    .zip(record.iter())
                    .map(|(k, v)| (k.clone(), Value::from(csv_cell_value(v))))
                    .collect();
                self.add_row(&row);
            }
        } else {
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| unreadable(e.to_string()))?;
                if let Ok(Value::Object(row)) = serde_json::from_str(&line) {
                    self.add_row(&row.into_iter().collect());
                }
            }
        }
        Ok(())
    }

    /// Ledger lines that are not `match`.
    pub(crate) fn discrepancies(&self) -> u64 {
        self.lines - self.verdicts.get(&Verdict::Match).copied().unwrap_or(0)
    }

    pub(crate) fn all_match(&self) -> bool {
        self.discrepancies() == 0
    }

    /// The stderr summary: lines per verdict (no list when there are none).
    /// Writes the summary on stderr: the text, or one JSON object (`--log-format json`) with
    /// the verdict counts as fields.
    pub(crate) fn report_summary(
        &self,
        skipped: u64,
        elapsed: Duration,
        paces: &[(refund_core::Provider, crate::stream::pacer::Reached)],
    ) {
        let (pace_text, pace_json) = crate::stream::pacer::summary(paces);
        let mut fields = serde_json::Map::new();
        fields.insert("ledger_lines".into(), self.lines.into());
        fields.insert("elapsed_ms".into(), (elapsed.as_millis() as u64).into());
        fields.insert("skipped".into(), skipped.into());
        let verdicts: serde_json::Map<String, serde_json::Value> = self
            .verdicts
            .iter()
            .map(|(v, n)| (v.as_str().to_owned(), (*n).into()))
            .collect();
        fields.insert("verdicts".into(), verdicts.into());
        let by_provider: serde_json::Map<String, serde_json::Value> = self
            .by_provider
            .iter()
            .map(|(provider, verdicts)| {
                let verdicts: serde_json::Map<String, serde_json::Value> = verdicts
                    .iter()
                    .map(|(v, n)| (v.as_str().to_owned(), (*n).into()))
                    .collect();
                (provider_name(provider).to_owned(), verdicts.into())
            })
            .collect();
        fields.insert("by_provider".into(), by_provider.into());
        fields.insert("pace".into(), pace_json);
        if let Some((changed, new, gone)) = self.change_counts() {
            fields.insert("changed_since_previous".into(), changed.into());
            fields.insert("new_since_previous".into(), new.into());
            fields.insert("gone_since_previous".into(), gone.into());
        }
        crate::logging::line(
            tracing::Level::INFO,
            &(self.summary_text(skipped, elapsed) + &pace_text),
            "reconcile summary",
            fields,
        );
    }

    pub(crate) fn summary_text(&self, skipped: u64, elapsed: Duration) -> String {
        let mut out = format!(
            "reconcile: {} ledger lines in {:.1}s ({skipped} answered by an earlier run)",
            self.lines,
            elapsed.as_secs_f64()
        );
        let parts: Vec<String> = Verdict::ALL
            .iter()
            .filter_map(|v| self.verdicts.get(v).map(|n| format!("{n} {}", v.as_str())))
            .collect();
        if !parts.is_empty() {
            out.push_str(": ");
            out.push_str(&parts.join(", "));
        }
        if let Some((changed, new, gone)) = self.change_counts() {
            let _ = write!(
                out,
                "; {changed} changed since the previous run ({new} new, {gone} gone)"
            );
        }
        out.push('\n');
        for (provider, verdicts) in &self.by_provider {
            let lines: u64 = verdicts.values().sum();
            let parts: Vec<String> = Verdict::ALL
                .iter()
                .filter_map(|v| verdicts.get(v).map(|n| format!("{n} {}", v.as_str())))
                .collect();
            let _ = writeln!(
                out,
                "  {}: {lines} lines: {}",
                provider_name(provider),
                parts.join(", ")
            );
        }
        out
    }

    /// The providers the heading names: those asked on the command line, else those the rows
    /// name.
    fn providers(&self) -> String {
        if self.compared.providers.is_empty() {
            let named: Vec<&str> = self
                .by_provider
                .keys()
                .filter(|p| !p.is_empty())
                .map(String::as_str)
                .collect();
            named.join(", ")
        } else {
            self.compared.providers.join(", ")
        }
    }

    /// With `--previous`: lines changed (new ones included), new lines, lines gone.
    fn change_counts(&self) -> Option<(u64, u64, u64)> {
        let changes = self.changes.as_ref()?;
        let new = changes
            .transitions
            .iter()
            .filter(|((from, _), _)| from.is_none())
            .map(|(_, n)| n)
            .sum();
        Some((self.changed(), new, changes.previous.gone()))
    }

    /// The "Changed since the previous run" section: transitions, then the changed lines,
    /// largest amount first.
    fn changes_html(&self, h: &mut String) {
        let Some(changes) = &self.changes else {
            return;
        };
        let (changed, new, gone) = self.change_counts().unwrap_or_default();
        let _ = writeln!(
            h,
            "<h2>Changed since the previous run</h2>\n<p><span id=\"changed\">{changed}</span> \
             lines changed verdict (<span id=\"new\">{new}</span> new), \
             <span id=\"gone\">{gone}</span> lines of the previous run are gone.</p>\n\
             <table id=\"transitions\"><tr><th>transition</th><th>previous</th><th>now</th><th>lines</th></tr>"
        );
        for ((from, to), n) in &changes.transitions {
            if *from == Some(*to) {
                continue;
            }
            let from = from.map_or("(new line)", Verdict::as_str);
            let _ = writeln!(
                h,
                "<tr><td>{from} → {to}</td><td>{from}</td><td>{to}</td><td class=\"n\">{n}</td></tr>",
                to = to.as_str()
            );
        }
        if gone > 0 {
            let _ = writeln!(
                h,
                "<tr><td>lines gone</td><td>(any)</td><td>(line gone)</td><td class=\"n\">{gone}</td></tr>"
            );
        }
        h.push_str("</table>\n<table id=\"changes\"><tr><th>line</th><th>provider</th><th>lookup</th><th>id</th><th>books</th><th>previous</th><th>now</th></tr>\n");
        let mut rows: Vec<&Change> = changes.table.iter().map(|Reverse(c)| c).collect();
        rows.sort_by(|a, b| b.cmp(a));
        for c in &rows {
            let _ = writeln!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                c.line.0,
                cell(&c.provider),
                cell(&c.lookup),
                cell(&c.id),
                cell(&c.expected),
                c.previous.unwrap_or("(new line)"),
                c.now,
            );
        }
        h.push_str("</table>\n");
        let listed = rows.len() as u64;
        if changed > listed {
            let _ = writeln!(
                h,
                "<p class=\"note\">The {listed} largest of {changed} changes are listed; the output file has them all (<code>previous_verdict</code>).</p>"
            );
        }
    }

    /// The discrepancies, largest amount first.
    fn rows(&self) -> Vec<&Discrepancy> {
        let mut rows: Vec<&Discrepancy> = self
            .table
            .iter()
            .map(|Reverse(d)| d)
            .chain(self.pending.as_ref())
            .collect();
        rows.sort_by(|a, b| b.cmp(a));
        rows.truncate(MAX_ROWS);
        rows
    }

    /// Writes the HTML report (a new file, or one this run may replace: checked before).
    pub(crate) fn write_html(&self, path: &Path) -> Result<(), CliError> {
        std::fs::write(path, self.html())
            .map_err(|e| CliError::io(format!("cannot write report {}: {e}", path.display())))
    }

    /// The report as one self-contained HTML document.
    pub(crate) fn html(&self) -> String {
        let mut h = String::with_capacity(64 * 1024);
        let unknown: u64 = self.money.values().map(|t| t.unknown_lines).sum();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>Refund reconciliation</title><style>{CSS}</style></head><body>\n\
             <h1>Refund reconciliation</h1>\n<p>Generated {} UTC. <span id=\"lines\">{}</span> \
             ledger lines, <span id=\"discrepancies\">{}</span> not <code>match</code>, \
             <span id=\"unknown\">{unknown}</span> whose difference is not known (n/a).</p>\n",
            self.now.format("%Y-%m-%d %H:%M:%S"),
            self.lines,
            self.discrepancies()
        );
        let c = &self.compared;
        let _ = writeln!(
            h,
            "<table id=\"compared\"><tr><th>provider</th><td>{}</td></tr><tr><th>ledger</th><td>{}</td></tr>\
             <tr><th>--stuck-after</th><td>{}</td></tr><tr><th>tool</th><td>refund {}</td></tr>\
             <tr><th>generated</th><td>{}</td></tr></table>",
            cell(&self.providers()),
            cell(&c.ledger),
            humane(c.stuck_after),
            env!("CARGO_PKG_VERSION"),
            refund_core::time::format_utc(&self.now),
        );
        h.push_str("<h2>Totals per verdict and currency</h2>\n<p>Where a line's difference is not known (another currency, nothing found, an error), its provider side and difference are <code>n/a</code> and it is counted on a row of its own: on every row with numbers, books + difference = provider.</p>\n<table id=\"totals\"><tr><th>verdict</th><th>currency</th><th>lines</th><th>books</th><th>provider (as counted)</th><th>difference</th></tr>\n");
        for ((verdict, currency), t) in &self.money {
            totals_rows(&mut h, None, *verdict, currency, t);
        }
        h.push_str("</table>\n<h2>Totals per provider</h2>\n<table id=\"provider_totals\"><tr><th>provider</th><th>verdict</th><th>currency</th><th>lines</th><th>books</th><th>provider (as counted)</th><th>difference</th></tr>\n");
        for ((provider, verdict, currency), t) in &self.provider_money {
            totals_rows(&mut h, Some(provider_name(provider)), *verdict, currency, t);
        }
        h.push_str("</table>\n<h2>Lines per verdict</h2>\n");
        let bars: Vec<(&str, u64)> = Verdict::ALL
            .iter()
            .map(|v| (v.as_str(), self.verdicts.get(v).copied().unwrap_or(0)))
            .collect();
        h.push_str(&bar_chart("verdicts", &bars));
        h.push_str("<h2>Age of refunds still in flight</h2>\n");
        let ages: Vec<(&str, u64)> = AGE_BUCKETS
            .iter()
            .map(|(label, _)| *label)
            .chain(["unknown"])
            .zip(self.ages)
            .collect();
        h.push_str(&bar_chart("ages", &ages));
        let rows = self.rows();
        // The ledger's own columns of the rows shown, in the order first seen.
        let mut extra_names: Vec<&str> = Vec::new();
        for d in &rows {
            for (name, _) in &d.extra {
                if !extra_names.contains(&name.as_str()) {
                    extra_names.push(name);
                }
            }
        }
        h.push_str("<h2>Discrepancies, largest amount first</h2>\n<table id=\"discrepancies\"><tr><th>line</th><th>verdict</th><th>lookup</th><th>id</th><th>books</th><th>provider amount</th><th>difference</th><th>status</th><th>provider status</th><th>message</th><th>provider</th>");
        for name in &extra_names {
            let _ = write!(h, "<th class=\"ledger\">{}</th>", cell(name));
        }
        h.push_str("</tr>\n");
        for d in &rows {
            let difference = if d.difference.is_empty() {
                "n/a"
            } else {
                &d.difference
            };
            let _ = write!(
                h,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                d.line.0,
                d.verdict,
                cell(&d.lookup),
                cell(&d.id),
                cell(&d.expected),
                cell(&d.provider_cell()),
                cell(difference),
                cell(&d.status),
                cell(&d.provider_status),
                cell(&d.message),
                cell(provider_name(&d.provider)),
            );
            for name in &extra_names {
                let value = d
                    .extra
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or("", |(_, v)| v.as_str());
                h.push_str(&truncated_cell(value));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
        let listed = rows.len() as u64;
        if self.discrepancies() > listed {
            let _ = writeln!(
                h,
                "<p class=\"note\">The {listed} largest of {} discrepancies are listed; the output file has them all.</p>",
                self.discrepancies()
            );
        }
        self.changes_html(&mut h);
        h.push_str("</body></html>\n");
        h
    }
}

/// The rows of one verdict and currency in a totals table (headed by the provider in the
/// per-provider table): the lines whose difference is known, then those where it is not (n/a).
fn totals_rows(
    h: &mut String,
    provider: Option<&str>,
    verdict: Verdict,
    currency: &str,
    t: &Totals,
) {
    let money = |minor: i128| show_minor(minor, currency);
    let v = verdict.as_str();
    let c = cell(currency);
    // The per-provider table's rows start with `data-provider`: a reader of the totals table
    // that splits on `<tr data-verdict=` counts the lines once.
    let lead = |class: &str| match provider {
        Some(p) => {
            let p = cell(p);
            format!("<tr data-provider=\"{p}\" data-verdict=\"{v}\"{class}><td>{p}</td>")
        }
        None => format!("<tr data-verdict=\"{v}\"{class}>"),
    };
    if t.lines > 0 {
        let _ = writeln!(
            h,
            "{}<td>{v}</td><td>{c}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            lead(""),
            t.lines,
            money(t.expected),
            money(t.provider),
            money(t.difference),
        );
    }
    if t.unknown_lines > 0 {
        let _ = writeln!(
            h,
            "{}<td>{v}</td><td>{c}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">n/a</td><td class=\"n\">n/a</td></tr>",
            lead(" class=\"na\""),
            t.unknown_lines,
            money(t.unknown_expected),
        );
    }
}

/// Untrusted text for a table cell: control and bidi characters shown escaped (as the table
/// output does), then HTML-escaped.
fn cell(text: &str) -> String {
    escape(&one_line(text))
}

/// Longest ledger text shown in a discrepancy cell; the whole text is in its tooltip.
const CELL_CHARS: usize = 40;

/// A ledger cell: shown up to [`CELL_CHARS`] characters, the whole (escaped) text in `title`.
fn truncated_cell(text: &str) -> String {
    let shown = one_line(text);
    if shown.chars().count() <= CELL_CHARS {
        return format!("<td>{}</td>", escape(&shown));
    }
    let short: String = shown.chars().take(CELL_CHARS - 1).collect();
    format!("<td title=\"{}\">{}…</td>", escape(&shown), escape(&short))
}

/// Minor units shown in major units for a currency code (exact).
fn show_minor(minor: i128, currency: &str) -> String {
    // A currency code the books wrote but we do not know: shown with two digits, like most.
    currency
        .parse::<Currency>()
        .unwrap_or(Currency::Cny)
        .format_minor_sum(minor)
}

/// A horizontal bar chart as inline SVG: one labelled bar per entry, the count at its end.
fn bar_chart(id: &str, bars: &[(&str, u64)]) -> String {
    const ROW: u64 = 22;
    const LABEL: u64 = 130;
    const WIDTH: u64 = 420;
    let max = bars.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let height = ROW * bars.len() as u64 + 4;
    let mut s = format!(
        "<svg id=\"{id}\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{height}\" role=\"img\">\n",
        LABEL + WIDTH + 60
    );
    for (i, (label, n)) in bars.iter().enumerate() {
        let y = ROW * i as u64 + 2;
        let w = WIDTH * n / max;
        let _ = writeln!(
            s,
            "<g data-label=\"{l}\" data-count=\"{n}\"><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{l}</text><rect x=\"{LABEL}\" y=\"{y}\" width=\"{w}\" height=\"{}\"/><text x=\"{}\" y=\"{}\">{n}</text></g>",
            LABEL - 6,
            y + 14,
            ROW - 6,
            LABEL + w + 6,
            y + 14,
            l = escape(label),
        );
    }
    s.push_str("</svg>\n");
    s
}

/// HTML text escaping: the five characters that can end a text or an attribute. Hand-written
/// because it is five lines and every call site is ours; provider strings only ever reach the
/// document through it.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const CSS: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}\
td.n{text-align:right;font-variant-numeric:tabular-nums}svg text{font:12px sans-serif}\
svg rect{fill:#4a78b5}.note{color:#a33}tr.na td{color:#777}";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> OutputRow {
        value.as_object().cloned().unwrap().into_iter().collect()
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn counts_each_ledger_line_once_and_sums_exactly() {
        let mut r = Report::new(now(), Compared::default());
        r.add_row(&row(json!({"line": 2, "verdict": "match", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "4.00", "currency": "CNY", "difference": "0.00", "status": "succeeded"})));
        r.add_row(&row(json!({"line": 2, "verdict": "match", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "6.00", "currency": "CNY", "difference": "0.00", "status": "succeeded"})));
        r.add_row(&row(json!({"line": 3, "verdict": "amount_mismatch", "expected_amount": "0.10", "expected_currency": "CNY", "amount": "0.20", "currency": "CNY", "difference": "0.10", "status": "processing", "requested_at": "2026-11-21T12:00:00Z"})));
        assert_eq!(r.lines, 2);
        assert_eq!(r.discrepancies(), 1);
        let m = r.money[&(Verdict::Match, "CNY".to_owned())];
        assert_eq!((m.lines, m.expected, m.provider), (1, 1000, 1000));
        let a = r.money[&(Verdict::AmountMismatch, "CNY".to_owned())];
        assert_eq!((a.expected, a.provider, a.difference), (10, 20, 10));
        // Six days in flight: the 3–7 d bucket.
        assert_eq!(r.ages[4], 1);
        assert!(r.html().contains("<td>amount_mismatch</td>"));
    }

    /// Wherever a number is shown, books + difference = provider; an unknown difference is
    /// "n/a" on a row of its own, never 0.00.
    #[test]
    fn an_unknown_difference_is_na_never_zero() {
        let mut r = Report::new(now(), Compared::default());
        r.add_row(&row(json!({"line": 2, "verdict": "currency_mismatch", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "10.00", "currency": "HKD", "difference": null, "status": "succeeded"})));
        r.add_row(&row(json!({"line": 3, "verdict": "multiple", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "4.00", "currency": "CNY", "difference": null, "status": "succeeded"})));
        r.add_row(&row(json!({"line": 3, "verdict": "multiple", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "6.00", "currency": "HKD", "difference": null, "status": "succeeded"})));
        r.add_row(&row(json!({"line": 4, "verdict": "multiple", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "4.00", "currency": "CNY", "difference": "-6.00", "status": "succeeded"})));
        r.add_row(&row(json!({"line": 4, "verdict": "multiple", "expected_amount": "10.00", "expected_currency": "CNY", "amount": "6.00", "currency": "CNY", "difference": "-6.00", "status": "failed"})));
        let m = r.money[&(Verdict::Multiple, "CNY".to_owned())];
        assert_eq!(
            (m.lines, m.expected, m.provider, m.difference),
            (1, 1000, 400, -600)
        );
        assert_eq!((m.unknown_lines, m.unknown_expected), (1, 1000));
        let c = r.money[&(Verdict::CurrencyMismatch, "CNY".to_owned())];
        assert_eq!((c.lines, c.unknown_lines), (0, 1));
        let html = r.html();
        assert!(
            html.contains("<tr data-verdict=\"currency_mismatch\" class=\"na\"><td>currency_mismatch</td><td>CNY</td><td class=\"n\">1</td><td class=\"n\">10.00</td><td class=\"n\">n/a</td><td class=\"n\">n/a</td></tr>"),
            "{html}"
        );
        assert!(!html.contains(">0.00<"), "{html}");
        assert!(html.contains("<span id=\"unknown\">2</span>"), "{html}");
        // The multiple rows' provider cells: what was counted, and what was not.
        assert!(
            html.contains("<td class=\"n\">4.00 CNY; not counted: 6.00 CNY (failed)</td>"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"n\">not counted: 4.00 CNY (succeeded), 6.00 HKD (succeeded)</td><td class=\"n\">n/a</td>"),
            "{html}"
        );
    }

    #[test]
    fn a_time_in_the_future_has_its_own_bucket() {
        let mut r = Report::new(now(), Compared::default());
        r.add_row(&row(json!({"line": 2, "verdict": "match", "expected_amount": "1.00", "expected_currency": "CNY", "status": "processing", "requested_at": "2026-11-27T12:30:00Z"})));
        r.add_row(&row(json!({"line": 3, "verdict": "match", "expected_amount": "1.00", "expected_currency": "CNY", "status": "processing", "requested_at": "2026-11-27T11:30:00Z"})));
        assert_eq!(r.ages[0], 1, "in the future");
        assert_eq!(r.ages[1], 1, "< 1 h");
        assert!(
            r.html()
                .contains("data-label=\"in the future\" data-count=\"1\"")
        );
    }

    #[test]
    fn the_heading_names_what_was_compared_and_the_table_the_books_references() {
        let compared = Compared {
            providers: vec!["cpos".into()],
            ledger: "books\u{202e}.csv".into(),
            stuck_after: Duration::from_secs(72 * 3600),
        };
        let mut r = Report::new(now(), compared);
        let long = format!("<b>{}</b>", "n".repeat(60));
        r.add_row(&row(json!({"line": 2, "verdict": "missing", "expected_amount": "1.00", "expected_currency": "CNY", "lookup": "refund_id", "id": "A\u{7}B", "order_no": "O-1", "note": long, "ledger_status": "x", "evidence": "cpos-A-1.json", "previous_verdict": null})));
        let html = r.html();
        // `--evidence` and `--previous` fields are the tool's, not the ledger's.
        assert!(
            !html.contains(">evidence<") && !html.contains(">previous_verdict<"),
            "{html}"
        );
        assert!(html.contains("<td>cpos</td>"), "{html}");
        assert!(html.contains("<td>books\\u{202e}.csv</td>"), "{html}");
        assert!(html.contains("<td>72h</td>"), "{html}");
        assert!(html.contains(concat!("refund ", env!("CARGO_PKG_VERSION"))));
        assert!(html.contains("<td>2026-11-27T12:00:00Z</td>"), "{html}");
        assert!(
            html.contains("<td>A\\u{7}B</td>"),
            "control characters shown escaped: {html}"
        );
        // (json! orders keys alphabetically; a real row keeps the ledger's order.)
        assert!(html.contains("<th class=\"ledger\">ledger_status</th><th class=\"ledger\">note</th><th class=\"ledger\">order_no</th>"), "{html}");
        assert!(html.contains("<td>O-1</td>"), "{html}");
        let title = format!(
            "<td title=\"&lt;b&gt;{}&lt;/b&gt;\">&lt;b&gt;",
            "n".repeat(60)
        );
        assert!(
            html.contains(&title),
            "the whole text in the tooltip: {html}"
        );
        assert!(!html.contains("<b>"), "{html}");
    }

    #[test]
    fn provider_text_is_escaped() {
        let mut r = Report::new(now(), Compared::default());
        r.add_row(&row(json!({"line": 2, "verdict": "error", "expected_amount": "1.00", "expected_currency": "CNY", "lookup": "refund_id", "id": "<script>alert(1)</script>", "error": {"message": "a \"quoted\" & <b>bold</b> 'x'"}})));
        let html = r.html();
        assert!(!html.contains("<script>alert"));
        assert!(!html.contains("<b>bold"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; &#39;x&#39;"));
        assert!(
            !html.contains("<script") && !html.contains("http://")
                || html.contains("xmlns=\"http://www.w3.org/2000/svg\"")
        );
    }

    #[test]
    fn the_table_keeps_only_the_largest() {
        let mut r = Report::new(now(), Compared::default());
        for line in 0..(MAX_ROWS as u64 + 50) {
            r.add_row(&row(json!({"line": line, "verdict": "missing", "expected_amount": format!("{line}.00"), "expected_currency": "CNY"})));
        }
        let rows = r.rows();
        assert_eq!(rows.len(), MAX_ROWS);
        assert_eq!(rows[0].line.0, MAX_ROWS as u64 + 49);
        assert!(rows.windows(2).all(|w| w[0].amount >= w[1].amount));
        assert!(r.html().contains("largest of 1050 discrepancies"));
    }
}
