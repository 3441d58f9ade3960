//! The one client every provider uses: prepare → send → parse, over a [`Protocol`].
//!
//! `OpenApiClient`, `EdgerosClient` and `CposClient` are this type with their provider's
//! protocol, so `query`, the [`RefundProvider`] impl, deadlines, retries and the binding check
//! are written once, here.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::explain::{QueryExplanation, RequestExplanation, ResponseExplanation};
use crate::http::{Bytes, HttpConfig, HttpTransport, Jitter, Transport};
use crate::lookup::{LookupKind, RefundLookup};
use crate::protocol::{self, Protocol};
use crate::provider::{ExplainFuture, Provider, QueryFuture, RefundProvider};
use crate::refund::Refund;
use crate::request::PreparedRequest;

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
    /// Your configured reqwest client (proxy, custom CA, connection limits), used by the
    /// default transport instead of one it builds; the body limit and deadlines of `http`
    /// still apply. Ignored when `transport` is set.
    pub reqwest_client: Option<reqwest::Client>,
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

    /// Sends with your reqwest client (a proxy, a custom CA, your own pool settings) through
    /// the default transport: the body limit, per-attempt and overall deadlines and retries
    /// still apply. Configure it without redirects (`reqwest::redirect::Policy::none()`): a
    /// redirected query carries its signature to a host nobody configured.
    ///
    /// ```
    /// let http = reqwest::Client::builder()
    ///     .redirect(reqwest::redirect::Policy::none())
    ///     .build()
    ///     .unwrap();
    /// let o = refund_core::client::ClientOptions::default().with_reqwest_client(http);
    /// assert!(o.reqwest_client.is_some());
    /// ```
    pub fn with_reqwest_client(mut self, client: reqwest::Client) -> Self {
        self.reqwest_client = Some(client);
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
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// let builder: () = Client::<Echo>::builder(); // Echo's builder is `()`
    /// ```
    pub fn builder() -> P::Builder {
        P::Builder::default()
    }

    /// A client for `protocol` with `options` (builds the default transport when none is given).
    ///
    /// ```
    /// use refund_core::client::{Client, ClientOptions};
    /// use refund_core::example::{Canned, Echo};
    /// let options = ClientOptions::default().with_transport(std::sync::Arc::new(Canned));
    /// let client = Client::new(Echo, options).unwrap();
    /// assert_eq!(refund_core::RefundProvider::provider(&client), refund_core::Provider::OpenApi);
    /// ```
    pub fn new(protocol: P, options: ClientOptions) -> Result<Self, Error> {
        let transport: Arc<dyn Transport> = match (options.transport, options.reqwest_client) {
            (Some(t), _) => t,
            (None, Some(client)) => Arc::new(HttpTransport::with_client(client, &options.http)),
            (None, None) => Arc::new(HttpTransport::new(&options.http)?),
        };
        Ok(Client {
            protocol,
            transport,
            http: options.http,
            jitter: Jitter::new(),
        })
    }

    /// The provider's protocol: its settings and pure signing and mapping.
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// assert_eq!(format!("{:?}", client.protocol()), "Echo");
    /// ```
    pub fn protocol(&self) -> &P {
        &self.protocol
    }

    /// The HTTP settings in force.
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// assert_eq!(client.http_config().retry.max_attempts, 3);
    /// ```
    pub fn http_config(&self) -> &HttpConfig {
        &self.http
    }

    /// Builds the signed request for `lookup` without sending it (sans-IO). Each call signs
    /// afresh (a new nonce or timestamp).
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// let request = client.prepare(&RefundLookup::refund_id("R1")).unwrap();
    /// assert_eq!(request.body_text(), Some("R1"));
    /// assert!(client.prepare(&RefundLookup::refund_id("")).is_err());
    /// ```
    pub fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        protocol::prepare(&self.protocol, lookup)
    }

    /// Verifies, binds to `lookup` and maps a response body (sans-IO). An answer about another
    /// refund or merchant than `lookup` asked is an [`Error::Mismatch`].
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// let asked = RefundLookup::refund_id("R1");
    /// assert_eq!(client.parse_response(&asked, br#"{"id":"R1","cents":5}"#).unwrap()[0].amount.minor(), 5);
    /// assert_eq!(client.parse_response(&asked, br#"{"id":"R2","cents":5}"#).unwrap_err().kind(), "mismatch");
    /// ```
    pub fn parse_response(&self, lookup: &RefundLookup, body: &[u8]) -> Result<Vec<Refund>, Error> {
        protocol::parse_response(&self.protocol, lookup, body)
    }

    /// Sends the query (a freshly signed request per attempt, with the deadlines and retries of
    /// the HTTP settings) and returns the raw body of the 2xx answer. For provider-specific
    /// detail beyond [`Refund`], run the body through [`protocol::decode_bound`] with the same
    /// lookup: the answer it returns is verified and bound, and borrows from the body.
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let asked = RefundLookup::refund_id("R1");
    /// let body = client.fetch(&asked).await.unwrap();
    /// assert_eq!(&body[..], br#"{"id":"R1","cents":5}"#);
    /// let bound = protocol::decode_bound(client.protocol(), &asked, &body).unwrap();
    /// assert_eq!(bound.verification, Verification::NotSigned);
    /// # });
    /// ```
    pub async fn fetch(&self, lookup: &RefundLookup) -> Result<Bytes, Error> {
        // Check the lookup once, before anything is signed or sent; then sign once per attempt.
        protocol::check_lookup::<P>(lookup)?;
        crate::http::execute(
            self.transport.as_ref(),
            &self.http,
            P::PROVIDER,
            &self.jitter,
            || self.protocol.prepare(lookup),
        )
        .await
    }

    /// Queries the provider: prepare → send → verify → bind → map. An empty `Vec` means the
    /// provider answered "none".
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// let refunds = client.query(&RefundLookup::refund_id("R1")).await.unwrap();
    /// assert_eq!(refunds[0].signature, Verification::NotSigned);
    /// # });
    /// ```
    pub async fn query(&self, lookup: &RefundLookup) -> Result<Vec<Refund>, Error> {
        let body = self.fetch(lookup).await?;
        self.parse_response(lookup, &body)
    }
}

impl<P: Protocol> Client<P> {
    /// The request an attempt would send now, with its signing shown
    /// ([`protocol::explain_request`]). Nothing is sent.
    ///
    /// # Errors
    /// The lookup's checks, or signing.
    pub fn explain_request(&self, lookup: &RefundLookup) -> Result<RequestExplanation, Error> {
        protocol::explain_request(&self.protocol, lookup)
    }

    /// Every check of the pipeline on a captured answer ([`protocol::explain_response`]); its
    /// `result` is exactly what [`Client::parse_response`] returns on the same bytes.
    pub fn explain_response(&self, lookup: &RefundLookup, body: &[u8]) -> ResponseExplanation {
        protocol::explain_response(&self.protocol, lookup, body)
    }

    /// [`Client::query`], explained: each attempt's request is signed through
    /// [`Protocol::explain_request`] (the same signing code as `prepare`) and sent exactly as
    /// shown, and the answer goes through [`Client::explain_response`]. The result
    /// ([`QueryExplanation::into_result`]) is what `query` would return.
    pub async fn query_explained(&self, lookup: &RefundLookup) -> QueryExplanation {
        let mut requests = Vec::new();
        let body = match protocol::check_lookup::<P>(lookup) {
            Ok(()) => {
                crate::http::execute(
                    self.transport.as_ref(),
                    &self.http,
                    P::PROVIDER,
                    &self.jitter,
                    || {
                        let explained = self.protocol.explain_request(lookup)?;
                        let request = explained.request.clone();
                        requests.push(explained);
                        Ok(request)
                    },
                )
                .await
            }
            Err(e) => Err(e),
        };
        QueryExplanation {
            requests,
            response: body.map(|body| self.explain_response(lookup, &body)),
        }
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

    fn explain_request(&self, lookup: &RefundLookup) -> Result<RequestExplanation, Error> {
        Client::explain_request(self, lookup)
    }

    fn explain_response(
        &self,
        lookup: &RefundLookup,
        body: &[u8],
    ) -> Result<ResponseExplanation, Error> {
        Ok(Client::explain_response(self, lookup, body))
    }

    fn query_explained<'a>(&'a self, lookup: &'a RefundLookup) -> ExplainFuture<'a> {
        Box::pin(async move { Ok(Client::query_explained(self, lookup).await) })
    }
}
