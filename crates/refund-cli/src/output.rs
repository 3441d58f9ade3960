//! The output contract: one flat object per refund, identical in json, ndjson and csv.

use std::io::Write;

use refund_core::{Error, Refund};
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

/// One refund, flat. Every field is always present (null when unknown).
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) provider: String,
    pub(crate) refund_id: Option<String>,
    pub(crate) merchant_refund_id: Option<String>,
    pub(crate) original_transaction_id: Option<String>,
    pub(crate) status: String,
    pub(crate) provider_status: Option<String>,
    pub(crate) amount: String,
    pub(crate) amount_minor: i64,
    pub(crate) currency: String,
    pub(crate) fee_refunded_minor: Option<i64>,
    pub(crate) created_at: Option<String>,
    pub(crate) completed_at: Option<String>,
    pub(crate) failure_code: Option<String>,
    pub(crate) failure_message: Option<String>,
    pub(crate) channel: Option<String>,
}

pub(crate) const COLUMNS: [&str; 15] = [
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
];

impl Record {
    pub(crate) fn from_refund(r: &Refund) -> Self {
        Record {
            provider: r.provider.as_str().to_owned(),
            refund_id: r.refund_id.clone(),
            merchant_refund_id: r.merchant_refund_id.clone(),
            original_transaction_id: r.original_transaction_id.clone(),
            status: r.status.as_str().to_owned(),
            provider_status: r.provider_status.clone(),
            amount: r.amount.to_major_string(),
            amount_minor: r.amount.minor(),
            currency: r.amount.currency().code().to_owned(),
            fee_refunded_minor: r.fee_refunded.map(|f| f.minor()),
            created_at: r.created_at.as_ref().map(refund_core::time::format_utc),
            completed_at: r.completed_at.as_ref().map(refund_core::time::format_utc),
            failure_code: r.failure_code.clone(),
            failure_message: r.failure_message.clone(),
            channel: r.channel.clone(),
        }
    }

    pub(crate) fn csv_row(&self) -> Vec<String> {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        vec![
            self.provider.clone(),
            o(&self.refund_id),
            o(&self.merchant_refund_id),
            o(&self.original_transaction_id),
            self.status.clone(),
            o(&self.provider_status),
            self.amount.clone(),
            self.amount_minor.to_string(),
            self.currency.clone(),
            self.fee_refunded_minor
                .map(|f| f.to_string())
                .unwrap_or_default(),
            o(&self.created_at),
            o(&self.completed_at),
            o(&self.failure_code),
            o(&self.failure_message),
            o(&self.channel),
        ]
    }
}

/// Writes records in a format; `io::Error`s (a closed pipe) end the program quietly upstream.
pub(crate) fn write_records(
    out: &mut dyn Write,
    format: Format,
    records: &[Record],
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, records)?;
            writeln!(out)?;
        }
        Format::Ndjson => {
            for r in records {
                serde_json::to_writer(&mut *out, r)?;
                writeln!(out)?;
            }
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(&mut *out);
            w.write_record(COLUMNS).map_err(std::io::Error::other)?;
            for r in records {
                w.write_record(r.csv_row()).map_err(std::io::Error::other)?;
            }
            w.flush()?;
        }
        Format::Table => write_table(out, records)?,
    }
    out.flush()
}

fn write_table(out: &mut dyn Write, records: &[Record]) -> std::io::Result<()> {
    let headers = [
        "PROVIDER",
        "REFUND ID",
        "STATUS",
        "AMOUNT",
        "RAW STATUS",
        "COMPLETED (UTC)",
        "FAILURE",
    ];
    let rows: Vec<[String; 7]> = records
        .iter()
        .map(|r| {
            let failure = match (&r.failure_code, &r.failure_message) {
                (Some(c), Some(m)) => format!("{c} {m}"),
                (Some(c), None) => c.clone(),
                (None, Some(m)) => m.clone(),
                (None, None) => String::new(),
            };
            [
                r.provider.clone(),
                r.refund_id
                    .clone()
                    .or_else(|| r.merchant_refund_id.clone())
                    .unwrap_or_default(),
                r.status.clone(),
                format!("{} {}", r.amount, r.currency),
                r.provider_status.clone().unwrap_or_default(),
                r.completed_at.clone().unwrap_or_default(),
                failure,
            ]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
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

/// The error object printed on stdout in json/ndjson formats.
pub(crate) fn error_json(kind: &str, message: &str, error: Option<&Error>) -> serde_json::Value {
    serde_json::json!({
        "error": {
            "kind": kind,
            "message": message,
            "provider": error.and_then(Error::provider),
            "code": error.and_then(Error::code),
        }
    })
}
