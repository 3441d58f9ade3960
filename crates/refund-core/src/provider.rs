//! The trait every provider client implements.

use std::future::Future;
use std::pin::Pin;

use crate::{Error, LookupKind, Provider, Refund, RefundLookup};

/// The future returned by [`RefundProvider::query_refunds`].
pub type QueryFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Refund>, Error>> + Send + 'a>>;

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
}
