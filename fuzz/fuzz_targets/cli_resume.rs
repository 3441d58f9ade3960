#![no_main]
//! A previous batch output read back for `--resume`: never panics, never claims more than the
//! file holds, and whatever it accepts as complete ends on a line break.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for csv in [true, false] {
        if let Ok((_, complete)) = refund_cli::fuzzing::resume(data, csv) {
            let complete = usize::try_from(complete).expect("fits");
            assert!(complete <= data.len());
            assert!(
                complete == 0 || data[complete - 1] == b'\n',
                "ends on a line break"
            );
        }
    }
});
