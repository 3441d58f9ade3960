//! `--resume`: which input lines an earlier run already answered, read back from its output.

use std::collections::HashSet;
use std::fs::OpenOptions;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde_json::Value;

use crate::error::CliError;

/// Line numbers already answered in an existing output file; a torn last line (the run was
/// killed while writing it) is cut off so appending continues cleanly.
pub(crate) fn done_lines(path: &Path, csv: bool) -> Result<HashSet<u64>, CliError> {
    let Ok(mut file) = OpenOptions::new().read(true).write(true).open(path) else {
        return Ok(HashSet::new());
    };
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| CliError::io(format!("cannot read {}: {e}", path.display())))?;
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    if complete < text.len() {
        file.set_len(complete as u64)
            .and_then(|()| file.seek(SeekFrom::End(0)).map(drop))
            .map_err(|e| CliError::io(format!("cannot trim {}: {e}", path.display())))?;
    }
    Ok(answered(text.get(..complete).unwrap_or_default(), csv))
}

/// The `line` of every complete output line (csv: the first column; ndjson: the `line` field).
fn answered(text: &str, csv: bool) -> HashSet<u64> {
    text.lines()
        .filter_map(|line| {
            if csv {
                line.split(',').next().and_then(|f| f.parse::<u64>().ok())
            } else {
                serde_json::from_str::<Value>(line)
                    .ok()
                    .and_then(|v| v.get("line").and_then(Value::as_u64))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_line_numbers_in_both_formats() {
        let ndjson = "{\"line\":2,\"x\":1}\n{\"line\":5}\nnot json\n";
        assert_eq!(answered(ndjson, false), HashSet::from([2, 5]));
        let csv = "line,lookup,id\n2,refund_id,R1\n7,refund_id,R2\n";
        assert_eq!(answered(csv, true), HashSet::from([2, 7]));
    }

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let dir = std::env::temp_dir().join(format!("refund-resume-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("out.ndjson");
        std::fs::write(&path, "{\"line\":2}\n{\"line\":3,\"sta").unwrap();
        assert_eq!(done_lines(&path, false).unwrap(), HashSet::from([2]));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"line\":2}\n");
        assert!(done_lines(&dir.join("missing"), false).unwrap().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
