//! The one client every provider uses: prepare → send → parse, over a [`Protocol`].
//!
//! `OpenApiClient`, `EdgerosClient` and `CposClient` are this type with their provider's
//! protocol, so `query`, the [`RefundProvider`] impl, deadlines, retries and the binding check
//! are written once, here.

use std::fmt;
use std::sync::Arc;

use crate::http::{Bytes, HttpConfig, HttpTransport, Jitter, Transport};
use crate::protocol::{self, Bound, Protocol};
use crate::{
    Error, LookupKind, PreparedRequest, Provider, QueryFuture, Refund, RefundLookup, RefundProvider,
};

/// What every client builder shares: the HTTP settings and, optionally, the transport.
///
/// ```
/// use refund_core::client::ClientOptions;
/// use refund_core::http::HttpConfig;
/// let options = ClientOptions::default().with_http_config(HttpConfig::default().with_max_body_bytes(4096));
/// assert_eq!(options.http.max_body_bytes, 4096);
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Deadlines, retries, the body limit (used by the default transport).
    pub http: HttpConfig,
    /// The transport; `None` builds an [`HttpTransport`] from `http`.
    pub transport: Option<Arc<dyn Transport>>,
}

impl ClientOptions {
    /// Replaces the HTTP settings.
    ///
    /// ```
    /// let o = refund_core::client::ClientOptions::default().with_http_config(Default::default());
    /// assert!(o.transport.is_none());
    /// ```
    pub fn with_http_config(mut self, http: HttpConfig) -> Self {
        self.http = http;
        self
    }

    /// Replaces the transport (tests, benchmarks, a proxy-aware client of your own).
    ///
    /// ```
    /// # let t = refund_core::http::HttpTransport::new(&Default::default()).unwrap();
    /// let o = refund_core::client::ClientOptions::default().with_transport(std::sync::Arc::new(t));
    /// assert!(o.transport.is_some());
    /// ```
    pub fn with_transport(mut self, transport: Arc<dyn Transport>) -> Self {
        self.transport = Some(transport);
        self
    }
}

/// Writes the setters every provider's client builder shares (`http_config`, `transport`) into
/// an `impl` block of a builder that holds a `options: ClientOptions` field: one definition
/// instead of one copy per provider. `$builder` is the expression that starts the builder, for
/// the doc examples.
///
/// ```
/// use refund_core::client::ClientOptions;
/// #[derive(Default)]
/// pub struct MyBuilder { options: ClientOptions }
/// impl MyBuilder {
///     refund_core::client_builder_options!("MyBuilder::default()");
/// }
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! client_builder_options {
    ($builder:literal) => {
        /// Timeouts, retries and the body limit (used by the default transport).
        ///
        /// ```
        #[doc = concat!("let b = ", $builder, ".http_config(Default::default());")]
        /// ```
        pub fn http_config(mut self, config: $crate::http::HttpConfig) -> Self {
            self.options = self.options.with_http_config(config);
            self
        }

        /// The transport (default: [`refund_core::http::HttpTransport`]); tests and benchmarks
        /// can hand in their own.
        ///
        /// ```
        /// # let t = refund_core::http::HttpTransport::new(&Default::default()).unwrap();
        #[doc = concat!("let b = ", $builder, ".transport(std::sync::Arc::new(t));")]
        /// ```
        pub fn transport(
            mut self,
            transport: ::std::sync::Arc<dyn $crate::http::Transport>,
        ) -> Self {
            self.options = self.options.with_transport(transport);
            self
        }
    };
}

/// A refund-query client for the provider `P`.
///
/// Built by the provider crate's builder (`EdgerosClient::builder()`...). It holds the
/// provider's keys and settings (in `P`, parsed once), the transport and the HTTP settings.
///
/// ```no_run
/// # async fn run<P: refund_core::protocol::Protocol>(client: refund_core::client::Client<P>) -> Result<(), refund_core::Error> {
/// let refunds = client.query(&refund_core::RefundLookup::refund_id("R1")).await?;
/// # Ok(()) }
/// ```
pub struct Client<P: Protocol> {
    protocol: P,
    transport: Arc<dyn Transport>,
    http: HttpConfig,
    jitter: Jitter,
}

impl<P: Protocol> fmt::Debug for Client<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("protocol", &self.protocol)
            .field("http", &self.http)
            .field("transport", &self.transport)
            .finish_non_exhaustive()
    }
}

impl<P: Protocol> Client<P> {
    /// Starts building a client (the provider's builder).
    pub fn builder() -> P::Builder {
        P::Builder::default()
    }

    /// A client for `protocol` with `options` (builds the default transport when none is given).
    pub fn new(protocol: P, options: ClientOptions) -> Result<Self, Error> {
        let transport = match options.transport {
            Some(t) => t,
            None => Arc::new(HttpTransport::new(&options.http)?),
        };
        Ok(Client {
            protocol,
            transport,
            http: options.http,
            jitter: Jitter::new(),
        })
    }

    /// The provider's protocol: its settings and pure signing and mapping.
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The HTTP settings in force.
    pub fn http_config(&self) -> &HttpConfig {
        &self.http
    }

    /// Builds the signed request for `lookup` without sending it (sans-IO). Each call signs
    /// afresh (a new nonce or timestamp).
    pub fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        protocol::prepare(&self.protocol, lookup)
    }

    /// Verifies, binds to `lookup` and maps a response body (sans-IO). An answer about another
    /// refund or merchant than `lookup` asked is an [`Error::Mismatch`].
    pub fn parse_response(&self, lookup: &RefundLookup, body: &[u8]) -> Result<Vec<Refund>, Error> {
        protocol::parse_response(&self.protocol, lookup, body)
    }

    /// Sends the query (a freshly signed request per attempt, with the deadlines and retries of
    /// the HTTP settings) and returns the raw body of the 2xx answer.
    pub async fn fetch(&self, lookup: &RefundLookup) -> Result<Bytes, Error> {
        // Validate once, before anything is sent; then sign once per attempt.
        self.prepare(lookup)?;
        crate::http::execute(
            self.transport.as_ref(),
            &self.http,
            P::PROVIDER,
            &self.jitter,
            || self.protocol.prepare(lookup),
        )
        .await
    }

    /// Sends the query and returns the answer verified and bound to `lookup`, before mapping
    /// (for provider-specific detail beyond [`Refund`]).
    pub async fn query_bound(&self, lookup: &RefundLookup) -> Result<Bound<P::Answer>, Error> {
        let body = self.fetch(lookup).await?;
        protocol::decode_bound(&self.protocol, lookup, &body)
    }

    /// Queries the provider: prepare → send → verify → bind → map. An empty `Vec` means the
    /// provider answered "none".
    pub async fn query(&self, lookup: &RefundLookup) -> Result<Vec<Refund>, Error> {
        let body = self.fetch(lookup).await?;
        self.parse_response(lookup, &body)
    }
}

impl<P: Protocol> RefundProvider for Client<P> {
    fn provider(&self) -> Provider {
        P::PROVIDER
    }

    fn supported_lookups(&self) -> &'static [LookupKind] {
        P::SUPPORTED_LOOKUPS
    }

    fn query_refunds<'a>(&'a self, lookup: &'a RefundLookup) -> QueryFuture<'a> {
        Box::pin(self.query(lookup))
    }
}
