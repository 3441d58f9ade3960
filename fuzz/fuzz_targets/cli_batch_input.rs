#![no_main]
//! `refund batch` input, read as CSV and as NDJSON: never panics, and every record keeps the
//! physical line it starts on (increasing, from 1; a CSV header is line 1).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (csv, ndjson) = refund_cli::fuzzing::batch_input(data);
    for lines in [&csv, &ndjson] {
        assert!(
            lines.windows(2).all(|w| w[0] < w[1]),
            "line numbers increase: {lines:?}"
        );
        assert!(lines.iter().all(|&n| n >= 1), "{lines:?}");
    }
    assert!(csv.iter().all(|&n| n >= 2), "after the header: {csv:?}");
});
