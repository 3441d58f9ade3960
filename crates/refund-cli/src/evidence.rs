//! `--evidence DIR`: every answer a query receives (any status, retries included) kept as the
//! provider sent it, one `refund-evidence/1` JSON file each: the request as sent, the answer's
//! status, headers and exact bytes, when, and how its signature checked out. When a provider
//! later denies what it answered, the team has the answer itself, not our summary of it.
//!
//! A file is written under a hidden temporary name and then linked to its final name, which
//! fails rather than replaces when that name exists (so no file is ever overwritten, and a run
//! killed mid-write leaves no half-written file under a final name); the row naming it is
//! written after. `refund explain response` reads the files back.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use base64::Engine as _;
use refund_core::http::{Attempt, AttemptObserver};
use refund_core::{Error, Provider, RefundLookup, SignatureCheck};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// The `format` of an evidence file.
pub(crate) const FORMAT: &str = "refund-evidence/1";

/// `--evidence DIR`, shared by `query`, `watch`, `batch` and `reconcile`.
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct EvidenceArgs {
    /// Keep every answer received (any status, retries included) as one JSON file in DIR
    /// (created if missing, never cleared); output rows gain `evidence`, the file's name.
    #[arg(long, value_name = "DIR")]
    pub(crate) evidence: Option<PathBuf>,
}

impl EvidenceArgs {
    /// The folder as one of a run's paths: never the input, the output, a report or the
    /// configuration, however spelled (checked with them before anything is created).
    pub(crate) fn path_use(&self) -> Option<crate::stream::paths::Use<'_>> {
        self.evidence
            .as_deref()
            .map(|dir| crate::stream::paths::Use::read_distinct("--evidence", dir))
    }

    /// The folder, created if missing; `None` without the flag.
    pub(crate) fn open(&self) -> Result<Option<EvidenceDir>, CliError> {
        self.evidence.as_deref().map(EvidenceDir::open).transpose()
    }
}

/// The folder evidence files go into, and what makes this run's names unique.
#[derive(Debug)]
pub(crate) struct EvidenceDir {
    dir: PathBuf,
    /// This run's part of every name: its start (UTC, to the microsecond) and process id.
    run: String,
    next: AtomicU64,
}

impl EvidenceDir {
    /// Creates `dir` if missing; an existing one is added to. Not a folder, or not writable:
    /// a usage error before anything is sent.
    pub(crate) fn open(dir: &Path) -> Result<EvidenceDir, CliError> {
        let refused = |why: String| CliError::usage(format!("--evidence {}: {why}", dir.display()));
        match std::fs::metadata(dir) {
            Ok(m) if !m.is_dir() => return Err(refused("is not a folder".to_owned())),
            Ok(_) => {}
            Err(_) => std::fs::create_dir_all(dir)
                .map_err(|e| refused(format!("cannot create it: {e}")))?,
        }
        let run = format!(
            "{}-p{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%6fZ"),
            std::process::id()
        );
        // Proves the folder takes files now, not at the first answer.
        let probe = dir.join(format!(".{run}.probe"));
        std::fs::File::create_new(&probe)
            .and_then(|_| std::fs::remove_file(&probe))
            .map_err(|e| refused(format!("cannot write in it: {e}")))?;
        Ok(EvidenceDir {
            dir: dir.to_path_buf(),
            run,
            next: AtomicU64::new(1),
        })
    }

    /// The folder.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }

    /// Writes one file for an answer and returns its name within the folder: never over an
    /// existing file (a name taken is skipped for the next), never half-written under its
    /// final name.
    fn write(&self, file: &EvidenceFile, id: &str) -> Result<String, CliError> {
        let text = file.text()?;
        let failed = |e: std::io::Error| {
            CliError::io(format!(
                "cannot write evidence into {}: {e}",
                self.dir.display()
            ))
        };
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let partial = self.dir.join(format!(".{}-{n}.partial", self.run));
        let mut out = std::fs::File::create_new(&partial).map_err(failed)?;
        out.write_all(&text).map_err(failed)?;
        drop(out);
        let mut seq = n;
        let linked = loop {
            let name = format!(
                "{}-{}-{}-{seq:06}.json",
                file.provider.as_str(),
                safe(id),
                self.run
            );
            match std::fs::hard_link(&partial, self.dir.join(&name)) {
                Ok(()) => break Ok(name),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    seq = self.next.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => break Err(failed(e)),
            }
        };
        let _ = std::fs::remove_file(&partial);
        linked
    }
}

/// An id as a file name part: letters, digits, `-` and `_` kept, anything else `_`, at most 48
/// characters (the id itself is inside the file).
fn safe(id: &str) -> String {
    let kept: String = id
        .chars()
        .take(48)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if kept.is_empty() {
        "_".to_owned()
    } else {
        kept
    }
}

/// One evidence file (`refund-evidence/1`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct EvidenceFile {
    pub(crate) format: String,
    pub(crate) provider: Provider,
    pub(crate) lookup: LookupPart,
    /// 1 for the first attempt of the query.
    pub(crate) attempt: u32,
    pub(crate) request: RequestPart,
    pub(crate) answer: AnswerPart,
    pub(crate) sent_at: String,
    pub(crate) received_at: String,
    /// `verified`, `unverified`, `not_signed`, or the kind of failure that stopped the answer
    /// before or at its signature check (`signature`, `http_status`, `decode`, …).
    pub(crate) signature: String,
    /// The fingerprint of the public key that verified it (null: not verified by a public key).
    pub(crate) key: Option<String>,
    pub(crate) tool_version: String,
}

/// What was looked up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct LookupPart {
    pub(crate) kind: String,
    pub(crate) id: String,
}

/// The request exactly as sent.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct RequestPart {
    pub(crate) method: String,
    pub(crate) url: String,
    /// Every header sent (the signature headers included: none holds a secret).
    pub(crate) headers: Vec<(String, String)>,
    /// The body as text (JSON for the providers that send one), or null.
    pub(crate) body: Option<String>,
}

/// The answer exactly as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AnswerPart {
    pub(crate) status: u16,
    /// The headers received, but cookies.
    pub(crate) headers: Vec<(String, String)>,
    /// The exact body bytes.
    pub(crate) body_base64: String,
}

impl AnswerPart {
    /// The body bytes.
    pub(crate) fn body(&self) -> Result<Vec<u8>, String> {
        base64::engine::general_purpose::STANDARD
            .decode(self.body_base64.as_bytes())
            .map_err(|e| format!("`answer.body_base64` is not base64: {e}"))
    }
}

fn utc(t: SystemTime) -> String {
    refund_core::time::format_utc(&chrono::DateTime::<chrono::Utc>::from(t))
}

/// One exchange with a provider, as an evidence file records it.
pub(crate) struct Exchange<'a> {
    pub(crate) provider: Provider,
    pub(crate) number: u32,
    pub(crate) request: &'a refund_core::PreparedRequest,
    pub(crate) reply: &'a refund_core::http::Reply,
    pub(crate) sent_at: SystemTime,
    pub(crate) received_at: SystemTime,
    /// The attempt's failure (`http_status`), if it had one.
    pub(crate) failure: Option<&'static str>,
}

impl EvidenceFile {
    /// The file of one attempt's answer; `signature` is its failure, if any, until the check's
    /// verdict is known.
    fn of(attempt: &Attempt<'_>, reply: &refund_core::http::Reply, lookup: &RefundLookup) -> Self {
        EvidenceFile::new(
            &Exchange {
                provider: attempt.provider,
                number: attempt.number,
                request: attempt.request,
                reply,
                sent_at: attempt.sent_at,
                received_at: attempt.received_at,
                failure: attempt.error.map(Error::kind),
            },
            lookup,
        )
    }

    /// The file of one exchange.
    pub(crate) fn new(exchange: &Exchange<'_>, lookup: &RefundLookup) -> Self {
        let request = exchange.request;
        let reply = exchange.reply;
        let headers = reply
            .headers
            .iter()
            .filter(|(name, _)| name.as_str() != "set-cookie")
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        EvidenceFile {
            format: FORMAT.to_owned(),
            provider: exchange.provider,
            lookup: LookupPart {
                kind: lookup.kind().as_str().to_owned(),
                id: lookup.id().to_owned(),
            },
            attempt: exchange.number,
            request: RequestPart {
                method: request.method.as_str().to_owned(),
                url: request.url.clone(),
                headers: request
                    .headers
                    .iter()
                    .map(|(n, v)| (n.as_ref().to_owned(), v.as_ref().to_owned()))
                    .collect(),
                body: request
                    .body
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).into_owned()),
            },
            answer: AnswerPart {
                status: reply.status,
                headers,
                body_base64: base64::engine::general_purpose::STANDARD.encode(&reply.body),
            },
            sent_at: utc(exchange.sent_at),
            received_at: utc(exchange.received_at),
            signature: exchange.failure.unwrap_or_default().to_owned(),
            key: None,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }

    /// The file's text, as written.
    pub(crate) fn text(&self) -> Result<Vec<u8>, CliError> {
        serde_json::to_vec_pretty(self)
            .map_err(|e| CliError::io(format!("cannot write evidence: {e}")))
    }
}

/// Watches one query's attempts and writes a file per answer: a retried answer as the next
/// attempt starts, the last one when the query ends (its signature verdict known by then).
pub(crate) struct Recorder<'a> {
    dir: &'a EvidenceDir,
    lookup: &'a RefundLookup,
    /// The last attempt's answer, not yet written; `None` when the last attempt got none.
    pending: Option<EvidenceFile>,
    /// How the last answer's signature checked out.
    checked: Option<(String, Option<String>)>,
    /// The first write that failed: the run stops on it.
    failed: Option<CliError>,
}

impl<'a> Recorder<'a> {
    pub(crate) fn new(dir: &'a EvidenceDir, lookup: &'a RefundLookup) -> Self {
        Recorder {
            dir,
            lookup,
            pending: None,
            checked: None,
            failed: None,
        }
    }

    fn write(&mut self, file: &EvidenceFile) -> Option<String> {
        if self.failed.is_some() {
            return None;
        }
        match self.dir.write(file, self.lookup.id()) {
            Ok(name) => Some(name),
            Err(e) => {
                self.failed = Some(e);
                None
            }
        }
    }

    /// The query ended with `outcome`: writes the last answer's file and returns its name (the
    /// answer that produced the row; `None` when the last attempt got no answer), or the error
    /// that kept a file from being written.
    pub(crate) fn finish(
        mut self,
        outcome: &Result<Vec<refund_core::Refund>, Error>,
    ) -> Result<Option<String>, CliError> {
        let name = match self.pending.take() {
            Some(mut file) => {
                match self.checked.take() {
                    Some((signature, key)) => {
                        file.signature = signature;
                        file.key = key;
                    }
                    // No signature check was reached: the failure that stopped it (the
                    // attempt's own, or the query's: an undecodable 2xx body).
                    None if file.signature.is_empty() => {
                        file.signature = outcome
                            .as_ref()
                            .err()
                            .map_or("unchecked", Error::kind)
                            .to_owned();
                    }
                    None => {}
                }
                self.write(&file)
            }
            None => None,
        };
        match self.failed {
            Some(e) => Err(e),
            None => Ok(name),
        }
    }
}

impl Recorder<'_> {
    /// The query was given up before it ended (`watch`'s `--max-wait`): writes the last
    /// answer received, labelled with its own failure (or `unchecked`), and returns its name.
    pub(crate) fn abandon(mut self) -> Result<Option<String>, CliError> {
        let name = match self.pending.take() {
            Some(mut file) => {
                if file.signature.is_empty() {
                    file.signature = "unchecked".to_owned();
                }
                self.write(&file)
            }
            None => None,
        };
        match self.failed {
            Some(e) => Err(e),
            None => Ok(name),
        }
    }
}

impl AttemptObserver for Recorder<'_> {
    fn attempt(&mut self, attempt: &Attempt<'_>) {
        // A later attempt: the one before was retried, its verdict its own failure.
        if let Some(file) = self.pending.take() {
            self.write(&file);
        }
        self.pending = attempt
            .reply
            .map(|reply| EvidenceFile::of(attempt, reply, self.lookup));
    }

    fn signature(&mut self, checked: Result<&SignatureCheck, &Error>) {
        self.checked = Some(match checked {
            Ok(c) => (c.verification.as_str().to_owned(), c.key.clone()),
            Err(e) => (e.kind().to_owned(), None),
        });
    }
}

/// Reads an evidence file back: `None` when `bytes` are not one (a bare answer).
pub(crate) fn parse(bytes: &[u8]) -> Option<Result<EvidenceFile, String>> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    if value.get("format").and_then(serde_json::Value::as_str) != Some(FORMAT) {
        return None;
    }
    Some(serde_json::from_value(value).map_err(|e| format!("not a complete {FORMAT} file: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_never_reused() {
        assert_eq!(safe("AR-1_x"), "AR-1_x");
        assert_eq!(safe("../etc/passwd"), "___etc_passwd");
        assert_eq!(safe(""), "_");
        assert_eq!(safe(&"9".repeat(100)).len(), 48);
        let dir = std::env::temp_dir().join(format!("refund-evidence-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let evidence = EvidenceDir::open(&dir).unwrap();
        let file = EvidenceFile {
            format: FORMAT.to_owned(),
            provider: Provider::Cpos,
            lookup: LookupPart {
                kind: "refund_id".into(),
                id: "R1".into(),
            },
            attempt: 1,
            request: RequestPart {
                method: "POST".into(),
                url: "http://127.0.0.1/".into(),
                headers: Vec::new(),
                body: None,
            },
            answer: AnswerPart {
                status: 200,
                headers: Vec::new(),
                body_base64: String::new(),
            },
            sent_at: String::new(),
            received_at: String::new(),
            signature: "verified".into(),
            key: None,
            tool_version: String::new(),
        };
        // A file already holding the next name is skipped, not replaced.
        let taken = format!("cpos-R1-{}-000002.json", evidence.run);
        std::fs::write(dir.join(&taken), "mine").unwrap();
        let first = evidence.write(&file, "R1").unwrap();
        let second = evidence.write(&file, "R1").unwrap();
        assert_ne!(first, second);
        assert_ne!(second, taken);
        assert_eq!(std::fs::read_to_string(dir.join(&taken)).unwrap(), "mine");
        // No temporary file is left behind; the files read back.
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        let back = parse(&std::fs::read(dir.join(&first)).unwrap())
            .unwrap()
            .unwrap();
        assert_eq!(back.signature, "verified");
        assert!(parse(b"{\"code\":\"0\"}").is_none());
        // A file in the folder's place is refused.
        let not_a_folder = dir.join(&first);
        assert!(EvidenceDir::open(&not_a_folder).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
