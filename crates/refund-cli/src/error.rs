//! The CLI's failures and its exit codes: the stable contract of `docs/cli.md`.

use std::io::Write as _;

use refund_core::Error;

use crate::output::{self, Format, one_line};

/// Exit codes.
pub(crate) mod exit {
    /// Found.
    pub(crate) const OK: u8 = 0;
    /// Anything else (decode errors, an oversized body, I/O; `watch`: not all succeeded).
    pub(crate) const OTHER: u8 = 1;
    /// Usage or configuration.
    pub(crate) const USAGE: u8 = 2;
    /// The provider says the refund does not exist.
    pub(crate) const NOT_FOUND: u8 = 3;
    /// The provider answered with a business error.
    pub(crate) const BUSINESS: u8 = 4;
    /// The answer could not be trusted: its signature failed, or it answers another question.
    pub(crate) const UNTRUSTED: u8 = 5;
    /// Transport failure, timeout, or an HTTP error status that survived the retries.
    pub(crate) const TRANSPORT: u8 = 6;
}

/// A failure of the CLI: an SDK error, or a usage/configuration/I-O problem of the CLI itself.
#[derive(Debug)]
pub(crate) enum CliError {
    Sdk(Error),
    Usage(String),
    Config(String),
    Io(String),
}

impl CliError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        CliError::Usage(message.into())
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        CliError::Config(message.into())
    }

    pub(crate) fn io(message: impl Into<String>) -> Self {
        CliError::Io(message.into())
    }

    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Config(_) => exit::USAGE,
            CliError::Io(_) => exit::OTHER,
            CliError::Sdk(e) => sdk_exit_code(e),
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CliError::Usage(_) => "usage",
            CliError::Config(_) => "config",
            CliError::Io(_) => "io",
            CliError::Sdk(e) => e.kind(),
        }
    }

    pub(crate) fn message(&self) -> String {
        match self {
            CliError::Usage(m) | CliError::Config(m) | CliError::Io(m) => m.clone(),
            // The causes too, each said once: "cannot read RSA private key: cannot read
            // key.pem: No such file or directory".
            CliError::Sdk(e) => refund_core::error::chain_text(e),
        }
    }

    pub(crate) fn sdk(&self) -> Option<&Error> {
        match self {
            CliError::Sdk(e) => Some(e),
            CliError::Usage(_) | CliError::Config(_) | CliError::Io(_) => None,
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Sdk(e)
    }
}

/// The exit code of an SDK error.
pub(crate) fn sdk_exit_code(e: &Error) -> u8 {
    match e {
        Error::InvalidRequest { .. } | Error::Config { .. } => exit::USAGE,
        Error::NotFound { .. } => exit::NOT_FOUND,
        Error::Business { .. } => exit::BUSINESS,
        Error::Signature { .. } | Error::Mismatch { .. } => exit::UNTRUSTED,
        Error::Transport { .. } | Error::HttpStatus { .. } => exit::TRANSPORT,
        // Decode errors, an oversized body, and kinds added later.
        _ => exit::OTHER,
    }
}

/// Prints an error: one line on stderr, and in json/ndjson also a JSON object on stdout.
pub(crate) fn report(error: &CliError, format: Format) {
    // A configuration error keeps its own layout (place, then toml's reason lines), each line
    // escaped; any other message is one line, escaped (it may hold provider text).
    let text = match error {
        CliError::Config(m) => m.lines().map(one_line).collect::<Vec<_>>().join("\n"),
        _ => one_line(&error.message()),
    };
    let mut fields = serde_json::Map::new();
    fields.insert("kind".into(), error.kind().into());
    fields.insert("exit_code".into(), error.exit_code().into());
    if let Some(provider) = error.sdk().and_then(Error::provider) {
        fields.insert("provider".into(), provider.as_str().into());
    }
    crate::logging::line(
        tracing::Level::ERROR,
        &format!("refund: error: {text}"),
        &text,
        fields,
    );
    if matches!(format, Format::Json | Format::Ndjson) {
        // Stdout may be what failed (a full disk, a closed pipe): the line on stderr stands.
        let json = output::error_json(error.kind(), &error.message(), error.sdk());
        let _ = writeln!(std::io::stdout().lock(), "{json}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use refund_core::Provider;

    #[test]
    fn untrusted_answers_exit_5() {
        let mismatch = Error::mismatch(Provider::Edgeros, "data.refund_no", "A", "B");
        assert_eq!(CliError::from(mismatch).exit_code(), exit::UNTRUSTED);
        let signature = Error::verify(Provider::Cpos, "bad");
        assert_eq!(CliError::from(signature).exit_code(), exit::UNTRUSTED);
        assert_eq!(CliError::usage("x").exit_code(), exit::USAGE);
        assert_eq!(CliError::io("x").kind(), "io");
    }
}
