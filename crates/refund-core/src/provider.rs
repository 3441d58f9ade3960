//! The providers ([`Provider`]) and the trait every provider client implements
//! ([`RefundProvider`]).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::explain::{QueryExplanation, RequestExplanation, ResponseExplanation};
use crate::lookup::{LookupKind, RefundLookup};
use crate::refund::Refund;

/// Which provider an answer came from.
///
/// ```
/// use refund_core::Provider;
/// assert_eq!(Provider::Cpos.as_str(), "cpos");
/// assert_eq!("edgeros".parse::<Provider>().unwrap(), Provider::Edgeros);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Provider {
    /// The merchant "Open API" gateway template (`POST {domain}/open-api/refund/payments`).
    OpenApi,
    /// EdgerOS Pay (`GET /pay/v1/transactions/refund`).
    Edgeros,
    /// The CPOS WeChat aggregator (`POST /api/v1/pay/wx/refundquery`).
    Cpos,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 3] = [Provider::OpenApi, Provider::Edgeros, Provider::Cpos];

    /// The short lower-case name used by the CLI and in serde.
    ///
    /// ```
    /// assert_eq!(refund_core::Provider::OpenApi.as_str(), "openapi");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Provider::OpenApi => "openapi",
            Provider::Edgeros => "edgeros",
            Provider::Cpos => "cpos",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("unknown provider {s:?}: expected openapi, edgeros or cpos"))
    }
}

/// The future returned by [`RefundProvider::query_refunds`].
pub type QueryFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Refund>, Error>> + Send + 'a>>;

/// The future returned by [`RefundProvider::query_explained`].
pub type ExplainFuture<'a> =
    Pin<Box<dyn Future<Output = Result<QueryExplanation, Error>> + Send + 'a>>;

/// The boxed future of [`RefundProvider::explain_request`] (signing may wait for a key service).
pub type RequestFuture<'a> =
    Pin<Box<dyn Future<Output = Result<RequestExplanation, Error>> + Send + 'a>>;

/// A client that can answer "what happened to this refund?".
///
/// It is object safe (a boxed future instead of `async fn`) so that a tool can hold
/// `Vec<Box<dyn RefundProvider>>` and treat every provider alike. It returns a `Vec` because one
/// lookup can match several refunds (the Open API gateway answers every refund of an original
/// transaction); an empty `Vec` means the provider answered "none", not an error. Each provider
/// crate also offers an inherent `async fn query` with the same meaning.
///
/// ```
/// use refund_core::{Error, LookupKind, Provider, QueryFuture, Refund, RefundLookup, RefundProvider};
///
/// #[derive(Debug)]
/// struct Empty;
/// impl RefundProvider for Empty {
///     fn provider(&self) -> Provider { Provider::Cpos }
///     fn supported_lookups(&self) -> &'static [LookupKind] { &[LookupKind::RefundId] }
///     fn query_refunds<'a>(&'a self, _lookup: &'a RefundLookup) -> QueryFuture<'a> {
///         Box::pin(async { Ok(Vec::new()) })
///     }
/// }
/// let providers: Vec<Box<dyn RefundProvider>> = vec![Box::new(Empty)];
/// assert_eq!(providers[0].provider(), Provider::Cpos);
/// ```
pub trait RefundProvider: Send + Sync + std::fmt::Debug {
    /// Which provider this client talks to.
    fn provider(&self) -> Provider;

    /// The lookup kinds this provider can answer; others are an [`Error::InvalidRequest`].
    fn supported_lookups(&self) -> &'static [LookupKind];

    /// Queries the provider: signs, sends, verifies, decodes and maps the answer.
    fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a>;

    /// [`RefundProvider::query_refunds`], showing every attempt (request, answer, times) and
    /// the final answer's signature check to `observer`: what evidence files and pacing are
    /// built on. Every provider crate's client shows them; the default (a client of your own)
    /// queries without showing anything.
    #[cfg(feature = "http")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    fn query_observed<'a>(
        &'a self,
        lookup: &'a RefundLookup,
        observer: &'a mut (dyn crate::http::AttemptObserver + 'a),
    ) -> QueryFuture<'a> {
        let _ = observer;
        self.query_refunds(lookup)
    }

    /// The request a query would send now, with its signing shown (see [`crate::explain`]):
    /// the signer runs (a key service is asked), nothing is sent to the provider. Every
    /// provider crate's client explains; the default is [`cannot_explain`].
    fn explain_request<'a>(&'a self, lookup: &'a RefundLookup) -> RequestFuture<'a> {
        let provider = self.provider();
        Box::pin(async move { Err(cannot_explain(provider, lookup)) })
    }

    /// Every check on a captured answer, ending where a query would. The default is
    /// [`cannot_explain`].
    fn explain_response(
        &self,
        lookup: &RefundLookup,
        _body: &[u8],
    ) -> Result<ResponseExplanation, Error> {
        Err(cannot_explain(self.provider(), lookup))
    }

    /// A live query, explained. The default is [`cannot_explain`].
    fn query_explained<'a>(&'a self, lookup: &'a RefundLookup) -> ExplainFuture<'a> {
        let provider = self.provider();
        Box::pin(async move { Err(cannot_explain(provider, lookup)) })
    }
}

/// The one answer of a client that does not explain itself (a test double, a client of your
/// own): an [`Error::InvalidRequest`] on `explain`, whichever explanation was asked for.
///
/// ```
/// use refund_core::{Provider, RefundLookup};
/// let e = refund_core::cannot_explain(Provider::Cpos, &RefundLookup::refund_id("R1"));
/// assert_eq!(e.kind(), "invalid_request");
/// ```
pub fn cannot_explain(provider: Provider, lookup: &RefundLookup) -> Error {
    Error::InvalidRequest {
        field: "explain".to_owned(),
        reason: format!(
            "this {provider} client cannot explain itself ({})",
            lookup.kind()
        ),
    }
}
