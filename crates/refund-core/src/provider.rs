//! The trait every provider client implements.

use std::future::Future;
use std::pin::Pin;

use crate::explain::{QueryExplanation, RequestExplanation, ResponseExplanation};
use crate::{Error, LookupKind, Provider, Refund, RefundLookup};

/// The future returned by [`RefundProvider::query_refunds`].
pub type QueryFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Refund>, Error>> + Send + 'a>>;

/// The future returned by [`RefundProvider::query_explained`] (`None`: this client does not
/// explain itself).
pub type ExplainFuture<'a> = Pin<Box<dyn Future<Output = Option<QueryExplanation>> + Send + 'a>>;

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

    /// The request a query would send now, with its signing shown (see [`crate::explain`]).
    /// Nothing is sent. The default (a client that does not explain itself) is an
    /// [`Error::InvalidRequest`] saying so; every provider crate's client explains.
    fn explain_request(&self, lookup: &RefundLookup) -> Result<RequestExplanation, Error> {
        Err(Error::InvalidRequest {
            field: "explain".to_owned(),
            reason: format!(
                "this {} client cannot explain its requests ({})",
                self.provider(),
                lookup.kind()
            ),
        })
    }

    /// Every check on a captured answer, ending where a query would; `None` when this client
    /// does not explain itself (the default).
    fn explain_response(
        &self,
        _lookup: &RefundLookup,
        _body: &[u8],
    ) -> Option<ResponseExplanation> {
        None
    }

    /// A live query, explained (`None` when this client does not explain itself: the default).
    fn query_explained<'a>(&'a self, _lookup: &'a RefundLookup) -> ExplainFuture<'a> {
        Box::pin(async { None })
    }
}
