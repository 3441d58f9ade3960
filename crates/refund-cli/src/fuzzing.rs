//! Entry points for fuzz targets (feature `fuzzing`): the parsers that read what users and files
//! hand the CLI. Not an API.

use std::io::Cursor;

/// Batch input read as CSV and as NDJSON: the line number of every record, in order.
pub fn batch_input(bytes: &[u8]) -> (Vec<u64>, Vec<u64>) {
    let csv =
        crate::stream::input::csv_inputs(Cursor::new(bytes.to_vec()), Cursor::new(bytes.to_vec()))
            .map(|inputs| inputs.map(|(n, _)| n).collect())
            .unwrap_or_default();
    let ndjson = crate::stream::input::ndjson_inputs(Cursor::new(bytes.to_vec()))
        .map(|(n, _)| n)
        .collect();
    (csv, ndjson)
}

/// A previous output as `--resume` reads it: `(answered lines, where the complete part ends)`,
/// or why it is refused.
pub fn resume(bytes: &[u8], csv: bool) -> Result<(Vec<u64>, u64), String> {
    let scan = if csv {
        crate::stream::resume::scan_csv(
            Cursor::new(bytes),
            bytes.len() as u64,
            &crate::stream::render::csv_columns(),
        )
    } else {
        crate::stream::resume::scan_ndjson(Cursor::new(bytes))
    }?;
    Ok((scan.lines.into_iter().collect(), scan.complete))
}

/// A `refund.toml`: `Ok` when it parses, else the error message the CLI would print.
pub fn config(text: &str) -> Result<(), String> {
    toml::from_str::<crate::config::Config>(text)
        .map(drop)
        .map_err(|e| crate::config::describe_toml_error(text, &e))
}

/// Every duration and rate flag parser on `text`: how many accepted it.
pub fn flags(text: &str) -> usize {
    [
        crate::args::timeout(text).is_ok(),
        crate::args::interval(text).is_ok(),
        crate::args::max_wait(text).is_ok(),
        crate::args::rps(text).is_ok(),
    ]
    .into_iter()
    .filter(|ok| *ok)
    .count()
}

/// An earlier reconcile output as `reconcile --previous` reads it: how many entries, or why it
/// is refused.
pub fn previous(bytes: &[u8]) -> Result<usize, String> {
    crate::reconcile::previous::Previous::from_reader(Cursor::new(bytes)).map(|p| p.len())
}

/// The evidence file `--evidence` writes for `request` (as a provider client prepared it) and
/// an answer of `status` and `body` to `lookup`: its exact text.
pub fn evidence(
    request: &refund_core::PreparedRequest,
    lookup: &refund_core::RefundLookup,
    provider: refund_core::Provider,
    (status, body): (u16, &[u8]),
) -> String {
    let reply = refund_core::http::Reply::new(status, body.to_vec().into());
    let now = std::time::SystemTime::now();
    let exchange = crate::evidence::Exchange {
        provider,
        number: 1,
        request,
        reply: &reply,
        sent_at: now,
        received_at: now,
        failure: None,
    };
    let file = crate::evidence::EvidenceFile::new(&exchange, lookup);
    let text = file.text().unwrap_or_default();
    String::from_utf8(text).unwrap_or_default()
}

/// Bytes read as `refund explain response` reads a file: `None` for a bare answer, else the
/// evidence file's answer body, or why it is refused.
pub fn read_evidence(bytes: &[u8]) -> Option<Result<Vec<u8>, String>> {
    crate::evidence::parse(bytes).map(|kept| kept.and_then(|file| file.answer.body()))
}
