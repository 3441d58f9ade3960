#![no_main]
//! A previous batch output read back for `--resume`: never panics, never claims more than the
//! file holds, and whatever it accepts as complete ends on a line break (never inside a CRLF).
//! The same bytes as `reconcile --previous` reads them: never a panic, never more entries than
//! lines.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(entries) = refund_cli::fuzzing::previous(data) {
        let lines = data.split(|b| *b == b'\n' || *b == b'\r').count();
        assert!(entries <= lines, "{entries} entries from {lines} lines");
    }
    for csv in [true, false] {
        if let Ok((_, complete)) = refund_cli::fuzzing::resume(data, csv) {
            let complete = usize::try_from(complete).expect("fits");
            assert!(complete <= data.len());
            // A line break: `\n` (so never between the `\r` and `\n` of a CRLF), or a lone
            // `\r`, which the csv crate also ends records on.
            let ends_line = complete == 0
                || data[complete - 1] == b'\n'
                || (data[complete - 1] == b'\r' && data.get(complete) != Some(&b'\n'));
            assert!(ends_line, "ends on a line break");
        }
    }
});
