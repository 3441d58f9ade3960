//! `private_key_command`: a signer that runs a program for each signature, so the merchant's
//! private key can live in a KMS or an HSM that the program talks to, never in this process.
//!
//! The program is run without a shell, gets the exact bytes to sign on standard input, and must
//! print the standard base64 signature on standard output (surrounding whitespace ignored) and
//! exit 0, within the timeout. Anything else fails that query with error kind `signer`, naming
//! the program, its exit status and the first line of its standard error (bounded, escaped).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use refund_core::explain::KeyIdentity;
use refund_core::http::humane;
use refund_core::signer::{SIGNATURE_BYTES, SignFuture, Signer, SignerError};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWriteExt as _};

use crate::output::one_line;

/// The default `private_key_command_timeout`.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The most of each output stream kept (the rest is read and dropped, so the program never
/// blocks on a full pipe): a signature is at most 1,368 base64 characters.
const KEPT_BYTES: usize = 16 * 1024;
/// The longest standard-error line quoted in an error.
const STDERR_CHARS: usize = 200;

/// A program that signs, with its arguments and timeout.
#[derive(Debug)]
pub(crate) struct CommandSigner {
    /// The program as it is started (resolved against the config folder or `PATH`).
    program: PathBuf,
    /// The program as written in the config, for messages.
    name: String,
    args: Vec<String>,
    timeout: Duration,
}

impl CommandSigner {
    /// A signer running `argv` (program first), with the program found now: a path with a
    /// folder in it is taken relative to `base_dir` (the config file's folder), a bare name is
    /// looked up on `PATH`. A program that cannot be found or is not executable is refused here,
    /// before any query (the caller makes it a configuration error).
    pub(crate) fn new(argv: &[String], base_dir: &Path, timeout: Duration) -> Result<Self, String> {
        let Some((name, args)) = argv.split_first() else {
            return Err("is an empty list: give the program and its arguments".to_owned());
        };
        if name.trim().is_empty() {
            return Err("names no program (its first entry is empty)".to_owned());
        }
        let program = find_program(name, base_dir)
            .ok_or_else(|| format!("cannot start `{}`: no such executable file", one_line(name)))?;
        Ok(CommandSigner {
            program,
            name: name.clone(),
            args: args.to_vec(),
            timeout,
        })
    }

    /// The program as written, escaped.
    fn shown(&self) -> String {
        format!("signer command `{}`", one_line(&self.name))
    }

    async fn run(&self, message: &[u8]) -> Result<Vec<u8>, SignerError> {
        let shown = self.shown();
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| SignerError::new(format!("{shown} cannot start: {e}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let work = async {
            let write = async {
                if let Some(mut stdin) = stdin {
                    // A program that does not read its input closes the pipe: not our failure.
                    let _ = stdin.write_all(message).await;
                    let _ = stdin.shutdown().await;
                }
            };
            let ((), out, err) = tokio::join!(write, read_kept(stdout), read_kept(stderr));
            (child.wait().await, out, err)
        };
        // On timeout the future (and the child in it) is dropped: `kill_on_drop` ends it.
        let (status, out, err) = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| {
                SignerError::new(format!(
                    "{shown} did not finish within {} (private_key_command_timeout)",
                    humane(self.timeout)
                ))
            })?;
        let status = status.map_err(|e| SignerError::new(format!("{shown}: {e}")))?;
        let said = first_line(&err);
        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => "was killed by a signal".to_owned(),
            };
            return Err(SignerError::new(format!("{shown} {how}{said}")));
        }
        let printed = String::from_utf8_lossy(&out);
        let printed = printed.trim();
        if printed.is_empty() {
            return Err(SignerError::new(format!(
                "{shown} exited with status 0 but printed nothing{said}"
            )));
        }
        let signature = BASE64.decode(printed).map_err(|_| {
            SignerError::new(format!(
                "{shown} printed {} bytes that are not standard base64 (a signature was expected){said}",
                printed.len()
            ))
        })?;
        // Core's `sign_text` checks every signer's length too; this one exists to name the
        // program (core can only name the signer by its identity, which holds the arguments).
        if !SIGNATURE_BYTES.contains(&signature.len()) {
            return Err(SignerError::new(format!(
                "{shown} printed {} bytes of base64, not an RSA signature ({} to {} bytes)",
                signature.len(),
                SIGNATURE_BYTES.start(),
                SIGNATURE_BYTES.end()
            )));
        }
        Ok(signature)
    }
}

impl Signer for CommandSigner {
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        Box::pin(self.run(message))
    }

    /// The command in place of a key's fingerprint (the key is wherever the program keeps it).
    fn identity(&self) -> KeyIdentity {
        let mut argv = vec![self.name.as_str()];
        argv.extend(self.args.iter().map(String::as_str));
        let command = argv
            .iter()
            .map(|a| format!("{:?}", one_line(a)))
            .collect::<Vec<_>>()
            .join(", ");
        KeyIdentity::new(
            "merchant signer",
            "SHA256withRSA by command",
            format!("private_key_command [{command}]"),
        )
    }
}

/// Reads a stream to its end, keeping the first [`KEPT_BYTES`].
async fn read_kept(stream: Option<impl AsyncRead + Unpin>) -> Vec<u8> {
    let mut kept = Vec::new();
    let Some(mut stream) = stream else {
        return kept;
    };
    let mut chunk = [0_u8; 4096];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let room = KEPT_BYTES.saturating_sub(kept.len());
        kept.extend_from_slice(chunk.get(..n.min(room)).unwrap_or_default());
    }
    kept
}

/// `": <first non-empty line of stderr>"`, bounded and escaped; empty when it said nothing.
fn first_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let Some(line) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
        return String::new();
    };
    let cut: String = line.chars().take(STDERR_CHARS).collect();
    let more = if line.chars().count() > STDERR_CHARS {
        "…"
    } else {
        ""
    };
    format!(": {}{more}", one_line(&cut))
}

/// The executable `name` names: a path with a folder in it relative to `base_dir`, a bare name
/// on `PATH`.
fn find_program(name: &str, base_dir: &Path) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.components().count() > 1 || path.is_absolute() {
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base_dir.join(path)
        };
        return is_executable(&path).then_some(path);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        meta.is_file() && meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        meta.is_file()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_stderr_line_is_bounded_and_escaped() {
        assert_eq!(first_line(b""), "");
        assert_eq!(first_line(b"\n  \nkms: denied\nmore"), ": kms: denied");
        assert_eq!(first_line(b"bad \x1b[2J"), ": bad \\u{1b}[2J");
        let long = "x".repeat(500);
        assert_eq!(first_line(long.as_bytes()).chars().count(), 2 + 200 + 1);
    }

    #[test]
    fn a_program_is_found_on_path_or_relative_to_the_config() {
        assert!(find_program("sh", Path::new("/nonexistent")).is_some());
        assert!(find_program("no-such-program-refunds-rs", Path::new("/")).is_none());
        assert!(find_program("bin/sh", Path::new("/")).is_some());
        assert!(find_program("./nope", Path::new("/")).is_none());
        let err = CommandSigner::new(&[], Path::new("/"), DEFAULT_TIMEOUT).unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }
}
