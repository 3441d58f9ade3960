//! The progress bar of a streaming command: on a terminal only.

use std::io::IsTerminal;
use std::path::Path;

use super::input;

/// A progress bar on a terminal (hidden otherwise); `counted` names what its message counts
/// (`failed`, `not match`).
pub(crate) fn progress_bar(input: &Path, counted: &str) -> indicatif::ProgressBar {
    if !std::io::stderr().is_terminal() || crate::logging::json() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(input::count_inputs(input));
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} done, {{msg}} {counted}, {{per_sec}}, ETA {{eta}} {{prefix}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message("0");
    bar
}
