//! The one pipeline every provider runs through, written once.
//!
//! A provider crate implements [`Protocol`]: how to build its signed request, how to verify what
//! it signed, its wire model, which ids its answer names, and how that maps into [`Refund`]s.
//! Everything else is here, in one order that no provider can change:
//!
//! 1. [`prepare`]: the lookup is checked (kind supported, length, no control characters), then
//!    the provider drafts the request ([`Protocol::draft`]): complete, or the exact text its
//!    [`Signer`] must sign, which is signed (awaited: the signer may be a remote key service)
//!    and attached. The client calls this for **every attempt**, so a retry carries a fresh
//!    nonce or timestamp.
//! 2. [`decode_bound`]: strict parse (duplicate keys rejected) → [`Protocol::verify_response`]
//!    → typed decode → **binding**: every id the answer names ([`Protocol::bindings`]) must equal
//!    what was asked, or the answer is an [`Error::Mismatch`]. A signature proves who answered;
//!    the binding proves the answer is about this question.
//! 3. [`parse_response`]: the bound answer is mapped and each refund is labelled with how it was
//!    verified ([`Refund::signature`]).
//!
//! There is no public path from response bytes to a `Refund` that skips a step: the provider
//! crates' `parse_response` all come here, with the lookup that was asked.

use std::borrow::Cow;
use std::fmt;

use crate::error::Error;
use crate::explain::{
    Check, Fact, NoTrace, RequestExplanation, ResponseExplanation, Signing, Step, Trace, Verdict,
};
use crate::json::StrictDocument;
use crate::lookup::{LookupKind, RefundLookup};
use crate::provider::Provider;
use crate::refund::{Refund, SignatureCheck, Verification};
use crate::request::PreparedRequest;
use crate::signer::{Draft, Signer, Unsigned, sign_text};

/// One id an answer names, to be checked against what was asked.
///
/// ```
/// use refund_core::protocol::Binding;
/// use refund_core::Provider;
/// assert!(Binding::new("data.refund_no", "AR1", Some("AR1")).check(Provider::Edgeros).is_ok());
/// let err = Binding::new("data.refund_no", "AR1", Some("AR2")).check(Provider::Edgeros).unwrap_err();
/// assert_eq!(err.kind(), "mismatch");
/// let err = Binding::new("data.refund_no", "AR1", None).check(Provider::Edgeros).unwrap_err();
/// assert_eq!(err.kind(), "decode");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding<'a> {
    /// The answer's field (`data.mch_no`, `data[0].refundTransactionId`).
    pub field: Cow<'a, str>,
    /// What the question said: the looked-up id, or the configured merchant.
    pub asked: &'a str,
    /// What the answer says; `None` when it leaves the field out.
    pub answered: Option<&'a str>,
}

impl<'a> Binding<'a> {
    /// A binding of `field`.
    ///
    /// ```
    /// let b = refund_core::protocol::Binding::new("refund_no", "WX1", Some("WX1"));
    /// assert_eq!(b.field, "refund_no");
    /// ```
    pub fn new(field: impl Into<Cow<'a, str>>, asked: &'a str, answered: Option<&'a str>) -> Self {
        Binding {
            field: field.into(),
            asked,
            answered,
        }
    }

    /// Equal passes; different is [`Error::Mismatch`]; absent is a decode error (an answer that
    /// describes a refund must say which one).
    ///
    /// ```
    /// use refund_core::protocol::Binding;
    /// let err = Binding::new("out_refund_no", "A", Some("B")).check(refund_core::Provider::Cpos).unwrap_err();
    /// assert_eq!(err.to_string(), "cpos: the answer is not about what was asked: `out_refund_no` is \"B\", asked for \"A\"");
    /// ```
    pub fn check(&self, provider: Provider) -> Result<(), Error> {
        match self.answered {
            Some(answered) if answered == self.asked => Ok(()),
            Some(answered) => Err(Error::mismatch(
                provider,
                self.field.as_ref(),
                self.asked,
                answered,
            )),
            None => Err(Error::missing_field(
                provider,
                self.field.as_ref(),
                "the answer leaves it out, so it cannot be bound to the question",
            )),
        }
    }
}

/// A provider's refund-query protocol: the pure parts, which core's pipeline drives.
///
/// The order (strict parse → verify → decode → bind → map) is fixed by [`decode_bound`] and
/// [`parse_response`]; an implementation only fills in the steps.
///
/// ```
/// use refund_core::protocol::{self, Binding, Protocol};
/// use refund_core::signer::Draft;
/// use refund_core::*;
///
/// #[derive(Debug, Default)]
/// struct Echo;
/// #[derive(serde::Deserialize)]
/// struct Answer { id: String, cents: i64 }
/// impl Protocol for Echo {
///     type Answer<'b> = Answer;
///     type Builder = ();
///     type Document<'b> = serde_json::Value;
///     type Pending = ();
///     const PROVIDER: Provider = Provider::OpenApi;
///     const SUPPORTED_LOOKUPS: &'static [LookupKind] = &[LookupKind::RefundId];
///     const MAX_ID_CHARS: usize = 32;
///     fn draft(&self, lookup: &RefundLookup) -> Result<Draft<()>, Error> {
///         Ok(Draft::Ready(PreparedRequest::json_post("http://127.0.0.1:1/q".into(), lookup.id().as_bytes().to_vec())))
///     }
///     fn verify_response(&self, _body: &[u8], _value: &serde_json::Value) -> Result<SignatureCheck, Error> {
///         Ok(Verification::NotSigned.into())
///     }
///     fn decode(&self, _body: &[u8], value: serde_json::Value) -> Result<Answer, Error> {
///         json::decode_value(Provider::OpenApi, &value)
///     }
///     fn bindings<'a>(&'a self, answer: &'a Answer, lookup: &'a RefundLookup) -> Vec<Binding<'a>> {
///         vec![Binding::new("id", lookup.id(), Some(&answer.id))]
///     }
///     fn map(&self, bound: &protocol::Bound<Answer>) -> Result<Vec<Refund>, Error> {
///         Ok(vec![Refund::new(Provider::OpenApi, Money::from_minor(bound.answer.cents, Currency::Cny), RefundStatus::Succeeded)])
///     }
/// }
/// let asked = RefundLookup::refund_id("R1");
/// let refunds = protocol::parse_response(&Echo, &asked, br#"{"id":"R1","cents":5}"#).unwrap();
/// assert_eq!(refunds[0].signature, Verification::NotSigned);
/// let err = protocol::parse_response(&Echo, &asked, br#"{"id":"R2","cents":5}"#).unwrap_err();
/// assert_eq!(err.kind(), "mismatch");
/// ```
pub trait Protocol: Send + Sync + fmt::Debug + 'static {
    /// The decoded wire answer, which may borrow from the body (`'b`) so the fields that decide a
    /// result are not copied before they are checked.
    type Answer<'b>;
    /// The provider's client builder, so `Client::<P>::builder()` (and the provider's
    /// `XxxClient::builder()` alias) starts one.
    type Builder: Default;
    /// What an answer is strictly parsed into before anything else (duplicate keys rejected):
    /// a [`serde_json::Value`] tree, or a borrowed one-pass form such as [`crate::json::FlatObject`].
    type Document<'b>: StrictDocument<'b>;
    /// Which provider this is.
    const PROVIDER: Provider;
    /// The lookup kinds the provider answers (kept in the provider's `sign.rs`).
    const SUPPORTED_LOOKUPS: &'static [LookupKind];
    /// What a request waiting for its signature keeps besides the text to sign (a nonce, a
    /// timestamp, the query), for [`Protocol::attach`]; `()` for a protocol whose drafts are
    /// always complete.
    type Pending: Send;
    /// The longest id the provider accepts, in characters.
    const MAX_ID_CHARS: usize;

    /// Builds the request for an already-validated lookup, up to its signature: complete
    /// ([`Draft::Ready`], a shared-secret digest made in place) or the exact text that
    /// [`Protocol::signer`] must sign ([`Draft::Unsigned`]). Called once per attempt; pure.
    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<Self::Pending>, Error>;

    /// Attaches `signature` (standard base64, over [`Unsigned::text`]) to a draft: the request
    /// exactly as it is sent. Pure. The default refuses (a protocol whose drafts are complete).
    fn attach(
        &self,
        unsigned: Unsigned<Self::Pending>,
        signature: &str,
    ) -> Result<PreparedRequest, Error> {
        let _ = (unsigned, signature);
        Err(Error::config(
            Self::PROVIDER.as_str(),
            "this protocol signs its requests in place; there is no signature to attach",
        ))
    }

    /// Who signs [`Draft::Unsigned`] requests: the merchant's key in process, or a key service.
    /// `None` (the default) for a protocol whose drafts are complete.
    fn signer(&self) -> Option<&dyn Signer> {
        None
    }

    /// Checks what the provider signed (the received bytes, or its canonical form rebuilt from
    /// the strict parse `document`) before any field is trusted. A failure the policy does not
    /// allow is an [`Error::Signature`]; otherwise says how far the answer was verified, and
    /// with which key.
    fn verify_response(
        &self,
        body: &[u8],
        document: &Self::Document<'_>,
    ) -> Result<SignatureCheck, Error>;

    /// Decodes the verified document (parsed from `body`) into the wire model, which may borrow
    /// from `body` (it may keep what a detail read needs later, off the common path).
    fn decode<'b>(
        &self,
        body: &'b [u8],
        document: Self::Document<'b>,
    ) -> Result<Self::Answer<'b>, Error>;

    /// Every id the answer names that must equal what was asked: the merchant it echoes (on
    /// every answer that carries one) and, on an answer that describes refunds, the id of the
    /// lookup's kind.
    fn bindings<'a>(
        &'a self,
        answer: &'a Self::Answer<'_>,
        lookup: &'a RefundLookup,
    ) -> Vec<Binding<'a>>;

    /// Maps a bound answer to refunds, or to the provider's not-found or business error.
    ///
    /// It takes a [`Bound`], which only [`decode_bound`] can make: no public path maps an answer
    /// that was not verified and bound to its question.
    fn map(&self, bound: &Bound<Self::Answer<'_>>) -> Result<Vec<Refund>, Error>;

    /// [`Protocol::draft`] with its working shown: the same drafting code on the same inputs
    /// (so the explained request equals the prepared one byte for byte), plus the parameters,
    /// the signed text, its digest and, for a complete draft, the signature and the key's
    /// fingerprint (for an unsigned one, [`explain_request`] fills both in from the signer).
    /// Only explanations call it.
    ///
    /// The default shows the draft and says nothing of its signing.
    fn explain_draft(
        &self,
        lookup: &RefundLookup,
    ) -> Result<(Draft<Self::Pending>, Option<Signing>), Error> {
        Ok((self.draft(lookup)?, None))
    }

    /// What [`Protocol::verify_response`] looks at, for explanations: the canonical text it
    /// rebuilds, the signature it finds, what it expects (or the key it verifies with), and the
    /// fields no signature covers. Only explanations call it; the default shows nothing.
    fn explain_signature(&self, _body: &[u8], _document: &Self::Document<'_>) -> Vec<Fact> {
        Vec::new()
    }
}

/// Checks the lookup (kind, length, control characters), then has the provider draft the
/// request and, when the draft waits for a signature, has [`Protocol::signer`] sign its text
/// (awaited) and attaches it ([`sign_draft`]).
///
/// ```
/// # use refund_core::*;
/// # use refund_core::example::Echo;
/// use refund_core::protocol;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert!(protocol::prepare(&Echo, &RefundLookup::refund_id("R1")).await.is_ok());
/// let too_long = RefundLookup::refund_id("R".repeat(40));
/// assert_eq!(protocol::prepare(&Echo, &too_long).await.unwrap_err().kind(), "invalid_request");
/// assert_eq!(protocol::prepare(&Echo, &RefundLookup::channel_trade_no("C1")).await.unwrap_err().kind(), "invalid_request");
/// # });
/// ```
pub async fn prepare<P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
) -> Result<PreparedRequest, Error> {
    check_lookup::<P>(lookup)?;
    sign_draft(protocol, protocol.draft(lookup)?).await
}

/// A draft made whole: a complete one as it is, an unsigned one signed by
/// [`Protocol::signer`] ([`sign_text`]: a plausible RSA signature or [`Error::Signer`]) and
/// attached by [`Protocol::attach`].
pub async fn sign_draft<P: Protocol>(
    protocol: &P,
    draft: Draft<P::Pending>,
) -> Result<PreparedRequest, Error> {
    match draft {
        Draft::Ready(request) => Ok(request),
        Draft::Unsigned(unsigned) => {
            let signature = sign_text(signer_of(protocol)?, P::PROVIDER, unsigned.text()).await?;
            protocol.attach(unsigned, &signature)
        }
    }
}

fn signer_of<P: Protocol>(protocol: &P) -> Result<&dyn Signer, Error> {
    protocol.signer().ok_or_else(|| Error::Signer {
        provider: P::PROVIDER,
        message: "the request waits for a signature but no signer is configured".to_owned(),
    })
}

/// [`prepare`] without waiting: for callers without an async runtime whose signer signs in
/// place (the in-process key; CPOS's shared secret). A signer that would have to wait (a key
/// service) is an [`Error::Signer`] here: use [`prepare`], or sign the draft's text yourself and
/// [`Protocol::attach`] it.
///
/// ```
/// # use refund_core::*;
/// # use refund_core::example::Echo;
/// let request = refund_core::protocol::prepare_now(&Echo, &RefundLookup::refund_id("R1")).unwrap();
/// assert_eq!(request.body_text(), Some("R1"));
/// ```
pub fn prepare_now<P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
) -> Result<PreparedRequest, Error> {
    use std::future::Future as _;
    use std::task::{Context, Poll, Waker};
    let future = std::pin::pin!(prepare(protocol, lookup));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => result,
        Poll::Pending => Err(Error::Signer {
            provider: P::PROVIDER,
            message:
                "this signer does not sign in place; prepare the request with `prepare().await`"
                    .to_owned(),
        }),
    }
}

/// The lookup checks of [`prepare`] alone (no signing): the kind is one the provider answers,
/// the id is non-empty, short enough and free of control characters.
///
/// ```
/// # use refund_core::*;
/// # use refund_core::example::Echo;
/// use refund_core::protocol;
/// assert!(protocol::check_lookup::<Echo>(&RefundLookup::refund_id("R1")).is_ok());
/// assert!(protocol::check_lookup::<Echo>(&RefundLookup::refund_id("")).is_err());
/// ```
pub fn check_lookup<P: Protocol>(lookup: &RefundLookup) -> Result<(), Error> {
    lookup.require_kind(P::SUPPORTED_LOOKUPS)?;
    lookup.validate(P::MAX_ID_CHARS)
}

/// An answer that verified and names what was asked. Only [`decode_bound`] makes one (the type
/// is `#[non_exhaustive]`), so holding a `Bound` proves the pipeline ran.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Bound<A> {
    /// The decoded answer.
    pub answer: A,
    /// How far its signature was checked.
    pub verification: Verification,
    /// The fingerprint of the key that verified it (`None` unless verified by a public key): a
    /// platform rotating its key has several live at once, and this names which one signed.
    pub key: Option<String>,
}

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
impl<A> Bound<A> {
    /// Fuzz targets only (feature `fuzzing`): an answer that was **not** verified or bound,
    /// labelled unverified, so mutations that break a signature still reach the mapping.
    pub fn unverified_for_fuzzing(answer: A) -> Self {
        Bound {
            answer,
            verification: Verification::Unverified,
            key: None,
        }
    }
}

/// Strict parse → verify → decode → bind: the answer to `lookup`, or why it cannot be trusted.
///
/// For providers with more than the core record to offer (CPOS's detail), this is the step
/// their detailed mapping starts from; [`parse_response`] is the common case.
pub fn decode_bound<'b, P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
    body: &'b [u8],
) -> Result<Bound<P::Answer<'b>>, Error> {
    run_answer(protocol, lookup, body, &mut NoTrace)
}

/// [`decode_bound`], showing the signature check to `observer`
/// ([`AttemptObserver::signature`](crate::http::AttemptObserver::signature)).
#[cfg(feature = "http")]
pub(crate) fn decode_bound_observed<'b, P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
    body: &'b [u8],
    observer: &mut (dyn crate::http::AttemptObserver + '_),
) -> Result<Bound<P::Answer<'b>>, Error> {
    run_answer(
        protocol,
        lookup,
        body,
        &mut crate::explain::ObservedTrace(observer),
    )
}

/// The answer pipeline, once, for queries ([`NoTrace`]: no step is ever built) and for
/// explanations (a `Vec<Step>` records each check as it is made).
fn run_answer<'b, P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
    body: &'b [u8],
    trace: &mut impl Trace,
) -> Result<Bound<P::Answer<'b>>, Error> {
    let document = P::Document::parse(P::PROVIDER, body).inspect_err(|e| {
        trace.step(|| Step::failed(Check::Parse, e));
    })?;
    trace.step(|| {
        Step::new(
            Check::Parse,
            Verdict::Pass,
            format!("strict JSON, {} bytes, no duplicate keys", body.len()),
        )
    });
    let checked = protocol.verify_response(body, &document);
    trace.step(|| {
        let step = match &checked {
            Ok(SignatureCheck {
                verification: Verification::Verified,
                key: Some(key),
            }) => Step::new(
                Check::Signature,
                Verdict::Pass,
                format!("the signature is good (verified with {key})"),
            ),
            Ok(SignatureCheck {
                verification: Verification::Verified,
                ..
            }) => Step::new(Check::Signature, Verdict::Pass, "the signature is good"),
            Ok(SignatureCheck {
                verification: Verification::Unverified,
                ..
            }) => Step::new(
                Check::Signature,
                Verdict::Unverified,
                "accepted WITHOUT a valid signature: nothing it says is proven",
            ),
            Ok(_) => Step::new(
                Check::Signature,
                Verdict::NotSigned,
                "this provider does not sign its answers",
            ),
            Err(e) => Step::failed(Check::Signature, e),
        };
        step.with_facts(protocol.explain_signature(body, &document))
    });
    trace.signature(checked.as_ref());
    let SignatureCheck { verification, key } = checked?;
    let answer = protocol.decode(body, document).inspect_err(|e| {
        trace.step(|| Step::failed(Check::Decode, e));
    })?;
    trace.step(|| Step::new(Check::Decode, Verdict::Pass, "the wire model decoded"));
    {
        let bindings = protocol.bindings(&answer, lookup);
        let checked = bindings.iter().try_for_each(|b| b.check(P::PROVIDER));
        trace.step(|| {
            let facts = bindings
                .iter()
                .map(|b| {
                    let answered = b.answered.map_or("absent".to_owned(), |a| format!("{a:?}"));
                    Fact::new(
                        b.field.as_ref(),
                        format!("asked {:?}, answered {answered}", b.asked),
                    )
                })
                .collect();
            match &checked {
                Ok(()) if bindings.is_empty() => Step::new(
                    Check::Binding,
                    Verdict::Pass,
                    "nothing to bind: the answer names no refund",
                ),
                Ok(()) => Step::new(
                    Check::Binding,
                    Verdict::Pass,
                    "the answer names what was asked",
                ),
                Err(e) => Step::failed(Check::Binding, e),
            }
            .with_facts(facts)
        });
        checked?;
    }
    Ok(Bound {
        answer,
        verification,
        key,
    })
}

/// Maps a bound answer and labels every refund with how it was verified.
pub fn map_bound<P: Protocol>(
    protocol: &P,
    bound: &Bound<P::Answer<'_>>,
) -> Result<Vec<Refund>, Error> {
    let mut refunds = protocol.map(bound)?;
    for refund in &mut refunds {
        refund.signature = bound.verification;
    }
    Ok(refunds)
}

/// The whole sans-IO answer path: [`decode_bound`], then map, then label every refund with how
/// it was verified.
pub fn parse_response<P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
    body: &[u8],
) -> Result<Vec<Refund>, Error> {
    let bound = decode_bound(protocol, lookup, body)?;
    map_bound(protocol, &bound)
}

/// [`prepare`] with its working shown (see [`Protocol::explain_draft`]): the lookup is checked
/// the same way first, and an unsigned draft is signed by the same signer, whose identity (a
/// key's fingerprint, or the command or service in its place) the explanation names.
pub async fn explain_request<P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
) -> Result<RequestExplanation, Error> {
    check_lookup::<P>(lookup)?;
    let (draft, mut signing) = protocol.explain_draft(lookup)?;
    let request = match draft {
        Draft::Ready(request) => request,
        Draft::Unsigned(unsigned) => {
            let signer = signer_of(protocol)?;
            let signature = sign_text(signer, P::PROVIDER, unsigned.text()).await?;
            if let Some(signing) = &mut signing {
                signing.signature = signature.clone();
                signing.key = signer.identity();
            }
            protocol.attach(unsigned, &signature)?
        }
    };
    Ok(RequestExplanation::new(
        P::PROVIDER,
        lookup,
        request,
        signing,
    ))
}

/// [`parse_response`] with every check recorded: the same pipeline (not a second
/// implementation), so [`ResponseExplanation::result`] is exactly what `parse_response` returns
/// on the same bytes.
///
/// ```
/// # use refund_core::*;
/// # use refund_core::example::Echo;
/// use refund_core::protocol;
/// use refund_core::explain::{Check, Verdict};
/// let e = protocol::explain_response(&Echo, &RefundLookup::refund_id("R1"), br#"{"id":"R2","cents":5}"#);
/// assert_eq!(e.failing_step().unwrap().check, Check::Binding);
/// assert_eq!(e.steps[4].verdict, Verdict::NotReached);
/// assert_eq!(e.result.unwrap_err().kind(), "mismatch");
/// ```
pub fn explain_response<P: Protocol>(
    protocol: &P,
    lookup: &RefundLookup,
    body: &[u8],
) -> ResponseExplanation {
    let mut steps = Vec::new();
    let result = run_answer(protocol, lookup, body, &mut steps).and_then(|bound| {
        let mapped = map_bound(protocol, &bound);
        steps.push(match &mapped {
            Ok(refunds) => Step::new(
                Check::Map,
                Verdict::Pass,
                format!("{} refund(s)", refunds.len()),
            )
            .with_facts(
                refunds
                    .iter()
                    .enumerate()
                    .map(|(i, r)| Fact::new(format!("refund {}", i + 1), r.to_string()))
                    .collect(),
            ),
            Err(e) => Step::failed(Check::Map, e),
        });
        mapped
    });
    ResponseExplanation::new(P::PROVIDER, lookup, steps, result)
}
