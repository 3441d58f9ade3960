//! Explanations: every step the pipeline takes on a request or an answer, as data (serde, for
//! tools) and as an aligned text layout ([`fmt::Display`], for people).
//!
//! They are made by the same code that queries, not by a second implementation:
//! [`protocol::explain_request`](crate::protocol::explain_request) asks the provider to sign the
//! lookup exactly as `prepare` does and to show its working, and
//! [`protocol::explain_response`](crate::protocol::explain_response) runs the one answer
//! pipeline with a recorder attached, so an explanation ends in exactly the result `query`
//! reaches on the same bytes.
//!
//! Secrets never appear: a shared secret is shown as [`SECRET_PLACEHOLDER`] in the signed text and
//! identified by a fingerprint, an RSA key by the SHA-256 fingerprint of its public half.
//!
//! ```
//! use refund_core::explain::{Check, Fact, Step, Verdict};
//! let step = Step::new(Check::Parse, Verdict::Pass, "strict JSON, 2 bytes, no duplicate keys");
//! assert_eq!(step.verdict.as_str(), "pass");
//! assert_eq!(Fact::new("received", "AB\u{1b}[2J").to_string(), "received: AB\\u{1b}[2J");
//! ```

use std::fmt::{self, Write as _};

use serde::Serialize;

use crate::error::Error;
use crate::lookup::RefundLookup;
use crate::provider::Provider;
use crate::refund::{Refund, Verification};
use crate::request::PreparedRequest;

/// How a shared secret is shown in an explained signed text.
pub const SECRET_PLACEHOLDER: &str = "<secret>";

/// Makes untrusted text safe for a terminal, on one line: control characters (C0, C1, DEL:
/// newlines, escape sequences that move the cursor or clear the screen), the line and paragraph
/// separators U+2028/U+2029, and bidirectional overrides (which make text read as something
/// else) are shown escaped (`\u{1b}`), never interpreted. JSON stays exact; this is for text
/// meant to be read.
///
/// ```
/// assert_eq!(refund_core::explain::printable("a\nb\u{202e}c"), "a\\u{a}b\\u{202e}c");
/// ```
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        );
        // Line and paragraph separators end a line in some renderers: a fake line, too.
        let separator = matches!(c, '\u{2028}' | '\u{2029}');
        if c.is_control() || bidi || separator {
            // Writing to a String cannot fail.
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    out
}

/// One named value an explanation shows (`canonical`, `received`, `expected`, a binding).
///
/// ```
/// let fact = refund_core::explain::Fact::new("sign_type", "SHA256withRSA");
/// assert_eq!(fact.to_string(), "sign_type: SHA256withRSA");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    /// What it is.
    pub name: String,
    /// Its value, exact (escaped only when displayed).
    pub value: String,
}

impl Fact {
    /// A fact.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Fact {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl fmt::Display for Fact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", printable(&self.name), printable(&self.value))
    }
}

/// The checks an answer goes through, in the pipeline's fixed order.
///
/// ```
/// assert_eq!(refund_core::explain::Check::ALL[1].as_str(), "signature");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Check {
    /// Strict JSON parse (duplicate keys rejected).
    Parse,
    /// The provider's signature over what it signed.
    Signature,
    /// The typed decode of the wire model.
    Decode,
    /// The ids the answer names against what was asked.
    Binding,
    /// The mapping into refunds (or the provider's not-found or business error).
    Map,
}

impl Check {
    /// Every check, in order.
    pub const ALL: [Check; 5] = [
        Check::Parse,
        Check::Signature,
        Check::Decode,
        Check::Binding,
        Check::Map,
    ];

    /// The snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Check::Parse => "parse",
            Check::Signature => "signature",
            Check::Decode => "decode",
            Check::Binding => "binding",
            Check::Map => "map",
        }
    }
}

/// What a check concluded.
///
/// ```
/// use refund_core::explain::Verdict;
/// assert!(Verdict::Fail.is_failure());
/// assert!(!Verdict::NotSigned.is_failure());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Verdict {
    /// It holds.
    Pass,
    /// It failed: the answer stops here, with the error shown.
    Fail,
    /// The signature was missing or wrong and the policy accepted the answer anyway (or an
    /// unsigned error answer, which can only deny): nothing it says is proven.
    Unverified,
    /// The protocol signs no answers: only TLS vouches for it.
    NotSigned,
    /// An earlier check failed, so this one was not run.
    NotReached,
}

impl Verdict {
    /// The snake-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Unverified => "unverified",
            Verdict::NotSigned => "not_signed",
            Verdict::NotReached => "not_reached",
        }
    }

    /// Whether this is the failing step.
    pub const fn is_failure(self) -> bool {
        matches!(self, Verdict::Fail)
    }
}

/// One check of an answer: its verdict, a one-line summary and what it looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Which check.
    pub check: Check,
    /// What it concluded.
    pub verdict: Verdict,
    /// One line: what held, or the error.
    pub summary: String,
    /// What it looked at (canonical text, signatures, bindings, refunds).
    pub facts: Vec<Fact>,
}

impl Step {
    /// A step without facts.
    pub fn new(check: Check, verdict: Verdict, summary: impl Into<String>) -> Self {
        Step {
            check,
            verdict,
            summary: summary.into(),
            facts: Vec::new(),
        }
    }

    /// The same step with `facts`.
    ///
    /// ```
    /// use refund_core::explain::*;
    /// let s = Step::new(Check::Binding, Verdict::Pass, "1 id equal").with_facts(vec![Fact::new("refund_no", "R1 = R1")]);
    /// assert_eq!(s.facts.len(), 1);
    /// ```
    pub fn with_facts(mut self, facts: Vec<Fact>) -> Self {
        self.facts = facts;
        self
    }

    /// A failed step: the error's text and its causes are the summary.
    pub fn failed(check: Check, error: &Error) -> Self {
        Step::new(check, Verdict::Fail, crate::error::chain_text(error))
    }
}

/// Which key signed or verifies, by a fingerprint that identifies it without revealing it.
///
/// ```
/// let key = refund_core::explain::KeyIdentity::new("merchant private key", "RSA-2048", "SHA256:ab12");
/// assert_eq!(key.to_string(), "merchant private key, RSA-2048, SHA256:ab12");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyIdentity {
    /// Which key (`merchant private key`, `platform public key`, `shared secret`).
    pub role: String,
    /// Its kind (`RSA-2048`, `MD5 shared secret`).
    pub algorithm: String,
    /// `SHA256:` and hex: of the DER SubjectPublicKeyInfo for RSA (so `openssl pkey -pubin
    /// -outform DER | sha256sum` gives the same), of the secret's bytes (first 16 hex digits) for
    /// a shared secret.
    pub fingerprint: String,
}

impl KeyIdentity {
    /// A key identity.
    pub fn new(
        role: impl Into<String>,
        algorithm: impl Into<String>,
        fingerprint: impl Into<String>,
    ) -> Self {
        KeyIdentity {
            role: role.into(),
            algorithm: algorithm.into(),
            fingerprint: fingerprint.into(),
        }
    }
}

impl fmt::Display for KeyIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}, {}", self.role, self.algorithm, self.fingerprint)
    }
}

/// One request parameter, in canonical order, and whether the signature covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parameter {
    /// Its name on the wire.
    pub name: String,
    /// Its value.
    pub value: String,
    /// Whether the signed text contains it.
    pub signed: bool,
}

impl Parameter {
    /// A parameter.
    ///
    /// ```
    /// let p = refund_core::explain::Parameter::new("version", "1.0", false);
    /// assert!(!p.signed);
    /// ```
    pub fn new(name: impl Into<String>, value: impl Into<String>, signed: bool) -> Self {
        Parameter {
            name: name.into(),
            value: value.into(),
            signed,
        }
    }
}

/// How a provider signed one request: what its `prepare` computes, shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Signing {
    /// Every parameter, signed ones in canonical order first.
    pub parameters: Vec<Parameter>,
    /// The exact text that is signed (a shared secret replaced by [`SECRET_PLACEHOLDER`]).
    pub signed_text: String,
    /// The digest algorithm (`SHA-256`, `MD5`).
    pub digest_algorithm: String,
    /// The digest of the exact signed bytes (secret included), lower-case hex.
    pub digest: String,
    /// The signature algorithm and encoding.
    pub signature_algorithm: String,
    /// The signature, as sent.
    pub signature: String,
    /// The key that signed.
    pub key: KeyIdentity,
}

/// A request explained: the lookup, how it was signed, and the exact wire request.
///
/// ```
/// use refund_core::explain::RequestExplanation;
/// use refund_core::{PreparedRequest, Provider, RefundLookup};
/// let e = RequestExplanation::new(Provider::Cpos, &RefundLookup::refund_id("R1"),
///     PreparedRequest::json_post("http://127.0.0.1:1/q".into(), b"{}".to_vec()), None);
/// assert!(e.to_string().contains("POST http://127.0.0.1:1/q"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestExplanation {
    /// The provider.
    pub provider: Provider,
    /// What is looked up.
    pub lookup: RefundLookup,
    /// How it was signed (`None`: the protocol did not say).
    pub signing: Option<Signing>,
    /// The exact request, as the transport sends it. No secret is ever part of it.
    pub request: PreparedRequest,
}

impl RequestExplanation {
    /// An explanation of `request`.
    pub fn new(
        provider: Provider,
        lookup: &RefundLookup,
        request: PreparedRequest,
        signing: Option<Signing>,
    ) -> Self {
        RequestExplanation {
            provider,
            lookup: lookup.clone(),
            signing,
            request,
        }
    }
}

/// Writes `rows` as `indent name  value` with the names padded to one width.
fn write_rows(f: &mut fmt::Formatter<'_>, indent: &str, rows: &[(String, String)]) -> fmt::Result {
    let width = rows
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    for (name, value) in rows {
        writeln!(
            f,
            "{indent}{:<width$}  {}",
            printable(name),
            printable(value)
        )?;
    }
    Ok(())
}

impl fmt::Display for RequestExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} request for {} {}",
            self.provider,
            self.lookup.kind(),
            printable(self.lookup.id())
        )?;
        if let Some(s) = &self.signing {
            writeln!(f, "  parameters (canonical order)")?;
            let rows: Vec<(String, String)> = s
                .parameters
                .iter()
                .map(|p| {
                    let tag = if p.signed { "signed" } else { "not signed" };
                    (p.name.clone(), format!("{}  ({tag})", p.value))
                })
                .collect();
            write_rows(f, "    ", &rows)?;
            write_rows(
                f,
                "  ",
                &[
                    ("signed text".to_owned(), s.signed_text.clone()),
                    (
                        "digest".to_owned(),
                        format!("{} {}", s.digest_algorithm, s.digest),
                    ),
                    ("signature".to_owned(), s.signature_algorithm.clone()),
                    (String::new(), s.signature.clone()),
                    ("key".to_owned(), s.key.to_string()),
                ],
            )?;
        } else {
            writeln!(f, "  (this protocol does not show how it signs)")?;
        }
        writeln!(f, "  wire request")?;
        writeln!(
            f,
            "    {} {}",
            self.request.method.as_str(),
            printable(&self.request.url)
        )?;
        for (name, value) in &self.request.headers {
            writeln!(f, "    {}: {}", printable(name), printable(value))?;
        }
        match self.request.body_text() {
            Some(body) => writeln!(f, "    {}", printable(body)),
            None if self.request.body.is_some() => writeln!(f, "    (body is not UTF-8)"),
            None => writeln!(f, "    (no body)"),
        }
    }
}

/// The end of an answer's explanation: what `query` concludes on the same bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Conclusion {
    /// Refunds were found (an empty list: the provider answered "none").
    Refunds {
        /// How many.
        count: usize,
        /// How far the answer was verified.
        signature: Verification,
    },
    /// The answer ends in an error.
    Error {
        /// The error's kind (`signature`, `mismatch`, `decode`, `not_found`, …).
        kind: &'static str,
        /// Its message.
        message: String,
    },
}

/// An answer explained: each check in order, and where it ends.
#[derive(Debug, Serialize)]
pub struct ResponseExplanation {
    /// The provider.
    pub provider: Provider,
    /// What was asked.
    pub lookup: RefundLookup,
    /// Every check, in order; those after a failure are [`Verdict::NotReached`].
    pub steps: Vec<Step>,
    /// What it concludes.
    pub conclusion: Conclusion,
    /// The result itself: exactly what `parse_response` returns on the same bytes.
    #[serde(skip)]
    pub result: Result<Vec<Refund>, Error>,
}

impl ResponseExplanation {
    /// Assembles an explanation from the steps recorded while the pipeline ran and its result;
    /// checks that were not reached are added as such.
    pub(crate) fn new(
        provider: Provider,
        lookup: &RefundLookup,
        mut steps: Vec<Step>,
        result: Result<Vec<Refund>, Error>,
    ) -> Self {
        for check in Check::ALL {
            if !steps.iter().any(|s| s.check == check) {
                steps.push(Step::new(check, Verdict::NotReached, "not reached"));
            }
        }
        let conclusion = match &result {
            Ok(refunds) => Conclusion::Refunds {
                count: refunds.len(),
                signature: refunds
                    .first()
                    .map_or(Verification::NotSigned, |r| r.signature),
            },
            Err(e) => Conclusion::Error {
                kind: e.kind(),
                message: crate::error::chain_text(e),
            },
        };
        ResponseExplanation {
            provider,
            lookup: lookup.clone(),
            steps,
            conclusion,
            result,
        }
    }

    /// The failing step, if any.
    pub fn failing_step(&self) -> Option<&Step> {
        self.steps.iter().find(|s| s.verdict.is_failure())
    }

    /// The text layout, with the failing step's line wrapped in `highlight` (e.g. terminal colour
    /// codes; `("", "")` for none). [`fmt::Display`] is this without highlighting.
    pub fn write_text(&self, out: &mut impl fmt::Write, highlight: (&str, &str)) -> fmt::Result {
        write!(out, "{}", TextLayout(self, highlight))
    }
}

impl fmt::Display for ResponseExplanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        TextLayout(self, ("", "")).fmt(f)
    }
}

struct TextLayout<'a>(&'a ResponseExplanation, (&'a str, &'a str));

impl fmt::Display for TextLayout<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let TextLayout(e, (on, off)) = *self;
        writeln!(
            f,
            "{} answer for {} {}",
            e.provider,
            e.lookup.kind(),
            printable(e.lookup.id())
        )?;
        for (i, step) in e.steps.iter().enumerate() {
            let (on, off) = if step.verdict.is_failure() {
                (on, off)
            } else {
                ("", "")
            };
            writeln!(
                f,
                "{on}{}. {:<9}  {:<11}  {}{off}",
                i + 1,
                step.check.as_str(),
                step.verdict.as_str(),
                printable(&step.summary)
            )?;
            let rows: Vec<(String, String)> = step
                .facts
                .iter()
                .map(|fact| (fact.name.clone(), fact.value.clone()))
                .collect();
            write_rows(f, "      ", &rows)?;
        }
        match &e.conclusion {
            Conclusion::Refunds { count, signature } => writeln!(
                f,
                "verdict: {count} refund(s), signature {}",
                signature.as_str()
            ),
            Conclusion::Error { kind, message } => {
                writeln!(f, "{on}verdict: {kind}: {}{off}", printable(message))
            }
        }
    }
}

/// A live query explained: every attempt's request (a retry is signed afresh) and the answer
/// that came back.
#[derive(Debug)]
pub struct QueryExplanation {
    /// The request of every attempt, in order.
    pub requests: Vec<RequestExplanation>,
    /// The answer's checks, or why no answer came (a transport error, a timeout, an HTTP
    /// error status).
    pub response: Result<ResponseExplanation, Error>,
}

impl QueryExplanation {
    /// The query's result: exactly what `query` returns.
    pub fn into_result(self) -> Result<Vec<Refund>, Error> {
        self.response.and_then(|r| r.result)
    }
}

/// Records the steps of one pipeline run. The pipeline calls [`Trace::step`] with a closure, so
/// a run that does not explain ([`NoTrace`]) never builds a step.
pub(crate) trait Trace {
    fn step(&mut self, make: impl FnOnce() -> Step);

    /// The signature check's outcome, as it is made (for an [`crate::http::AttemptObserver`]).
    fn signature(&mut self, _checked: Result<&crate::SignatureCheck, &crate::Error>) {}
}

/// A query's pipeline shown to an observer: no step is built, the signature check is handed on.
#[cfg(feature = "http")]
pub(crate) struct ObservedTrace<'a, 'b>(pub(crate) &'a mut (dyn crate::http::AttemptObserver + 'b));

#[cfg(feature = "http")]
impl Trace for ObservedTrace<'_, '_> {
    #[inline(always)]
    fn step(&mut self, _make: impl FnOnce() -> Step) {}

    fn signature(&mut self, checked: Result<&crate::SignatureCheck, &crate::Error>) {
        self.0.signature(checked);
    }
}

/// The pipeline without an explanation: every step is a no-op.
pub(crate) struct NoTrace;

impl Trace for NoTrace {
    #[inline(always)]
    fn step(&mut self, _make: impl FnOnce() -> Step) {}
}

impl Trace for Vec<Step> {
    fn step(&mut self, make: impl FnOnce() -> Step) {
        self.push(make());
    }
}
