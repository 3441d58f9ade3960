//! The one client every provider uses: prepare → send → parse, over a [`Protocol`].
//!
//! `OpenApiClient`, `EdgerosClient` and `CposClient` are this type with their provider's
//! protocol, so `query`, the [`RefundProvider`] impl, deadlines, retries and the binding check
//! are written once, here.

use std::fmt;
use std::sync::Arc;

use std::sync::Mutex;

use tokio::time::Instant;
use tracing::Instrument as _;

use crate::error::Error;
use crate::explain::{QueryExplanation, RequestExplanation, ResponseExplanation};
use crate::http::{
    AttemptCount, AttemptObserver, Bytes, HttpConfig, HttpTransport, Jitter, NextRequest, Transport,
};
use crate::lookup::{LookupKind, RefundLookup};
use crate::protocol::{self, Protocol};
use crate::provider::{ExplainFuture, Provider, QueryFuture, RefundProvider, RequestFuture};
use crate::refund::Refund;
use crate::request::PreparedRequest;
use crate::signer::{Draft, Unsigned};

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

    /// Builds the signed request for `lookup` without sending it. Each call signs afresh (a new
    /// nonce or timestamp); the signer is awaited (it may be a remote key service).
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let request = client.prepare(&RefundLookup::refund_id("R1")).await.unwrap();
    /// assert_eq!(request.body_text(), Some("R1"));
    /// assert!(client.prepare(&RefundLookup::refund_id("")).await.is_err());
    /// # });
    /// ```
    pub async fn prepare(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        protocol::prepare(&self.protocol, lookup).await
    }

    /// [`Client::prepare`] without an async runtime (sans-IO), for a signer that signs in place
    /// (the in-process key, CPOS's shared secret); a signer that must wait is an
    /// [`Error::Signer`]: use [`Client::draft`] and [`Client::attach`] then.
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// assert_eq!(client.prepare_now(&RefundLookup::refund_id("R1")).unwrap().body_text(), Some("R1"));
    /// ```
    pub fn prepare_now(&self, lookup: &RefundLookup) -> Result<PreparedRequest, Error> {
        protocol::prepare_now(&self.protocol, lookup)
    }

    /// The request for `lookup` up to its signature (sans-IO, the lookup checked first): a
    /// complete request, or the exact text to sign. Sign [`Unsigned::text`] wherever the key
    /// lives (SHA256withRSA, standard base64) and [`Client::attach`] the signature.
    ///
    /// ```
    /// # use refund_core::{*, client::*, example::Echo};
    /// # let client = refund_core::example::echo_client().unwrap();
    /// use refund_core::signer::Draft;
    /// match client.draft(&RefundLookup::refund_id("R1")).unwrap() {
    ///     Draft::Ready(request) => assert_eq!(request.body_text(), Some("R1")),
    ///     Draft::Unsigned(unsigned) => {
    ///         let signature = String::new(); // sign `unsigned.text()` with your key service
    ///         let request = client.attach(unsigned, &signature).unwrap();
    ///     }
    /// }
    /// ```
    pub fn draft(&self, lookup: &RefundLookup) -> Result<Draft<P::Pending>, Error> {
        protocol::check_lookup::<P>(lookup)?;
        self.protocol.draft(lookup)
    }

    /// Attaches a signature (standard base64, made over [`Unsigned::text`]) to a draft: the
    /// request exactly as it is sent.
    pub fn attach(
        &self,
        unsigned: Unsigned<P::Pending>,
        signature: &str,
    ) -> Result<PreparedRequest, Error> {
        self.protocol.attach(unsigned, signature)
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
        self.fetch_observed(lookup, &mut ()).await
    }

    /// [`Client::fetch`], showing every attempt to `observer` as it ends: the request as sent,
    /// the answer as received (any status, its headers and exact bytes), when and how long.
    pub async fn fetch_observed(
        &self,
        lookup: &RefundLookup,
        observer: &mut (dyn AttemptObserver + '_),
    ) -> Result<Bytes, Error> {
        // Check the lookup once, before anything is signed or sent; then sign once per attempt.
        protocol::check_lookup::<P>(lookup)?;
        crate::http::execute(
            self.transport.as_ref(),
            &self.http,
            P::PROVIDER,
            &self.jitter,
            || self.next_request(lookup),
            observer,
        )
        .await
    }

    /// One attempt's request: a complete draft as it is (no future, no allocation: CPOS's
    /// path), an unsigned one as a boxed signing future.
    fn next_request<'a>(&'a self, lookup: &'a RefundLookup) -> NextRequest<'a> {
        match self.protocol.draft(lookup) {
            Err(e) => NextRequest::Ready(Err(e)),
            Ok(Draft::Ready(request)) => NextRequest::Ready(Ok(request)),
            Ok(unsigned) => {
                NextRequest::Signing(Box::pin(protocol::sign_draft(&self.protocol, unsigned)))
            }
        }
    }

    /// Queries the provider: prepare → send → verify → bind → map. An empty `Vec` means the
    /// provider answered "none".
    ///
    /// Each query is one `refund.query` span (INFO): `provider`, `lookup_kind`, and when it ends
    /// `attempts`, `http_status` (of the last attempt), `outcome` (`ok` or the error's kind),
    /// `refunds`, `verification`, `key` (the fingerprint of the key that verified the answer)
    /// and `elapsed_ms`; each attempt is a `refund.attempt` span (DEBUG) within it, and the span
    /// ends with one INFO event, "refund query finished", carrying those fields. No secret,
    /// signature or answer body is ever a field.
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
        self.query_observed(lookup, &mut ()).await
    }

    /// [`Client::query`], showing every attempt to `observer` (see [`Client::fetch_observed`]).
    pub async fn query_observed(
        &self,
        lookup: &RefundLookup,
        observer: &mut (dyn AttemptObserver + '_),
    ) -> Result<Vec<Refund>, Error> {
        let span = tracing::info_span!(
            "refund.query",
            provider = P::PROVIDER.as_str(),
            lookup_kind = lookup.kind().as_str(),
            attempts = tracing::field::Empty,
            http_status = tracing::field::Empty,
            outcome = tracing::field::Empty,
            refunds = tracing::field::Empty,
            verification = tracing::field::Empty,
            key = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        if span.is_disabled() {
            // Nobody collects the trace: the same steps, without entering a span on every poll
            // or reading the clock for it.
            let body = self.fetch_observed(lookup, observer).await?;
            let bound = protocol::decode_bound_observed(&self.protocol, lookup, &body, observer)?;
            return protocol::map_bound(&self.protocol, &bound);
        }
        let started = Instant::now();
        let mut count = AttemptCount::default();
        let result = async {
            let body = self
                .fetch_observed(lookup, &mut (&mut count, &mut Observe(observer)))
                .await?;
            let bound = protocol::decode_bound_observed(&self.protocol, lookup, &body, observer)?;
            span.record("verification", bound.verification.as_str());
            if let Some(key) = &bound.key {
                span.record("key", key.as_str());
            }
            protocol::map_bound(&self.protocol, &bound)
        }
        .instrument(span.clone())
        .await;
        span.record("attempts", count.attempts);
        if let Some(status) = count.last_status {
            span.record("http_status", status);
        }
        match &result {
            Ok(refunds) => {
                span.record("outcome", "ok");
                span.record("refunds", refunds.len() as u64);
            }
            Err(e) => {
                span.record("outcome", e.kind());
            }
        }
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        // The query's one structured trace: a subscriber that prints events (a CLI's `-v`)
        // shows it with the span's fields; one that exports spans has the span itself.
        tracing::info!(parent: &span, "refund query finished");
        result
    }
}

/// A borrowed observer, so a caller's `&mut dyn AttemptObserver` can sit in a pair.
struct Observe<'a, 'b>(&'a mut (dyn AttemptObserver + 'b));

impl AttemptObserver for Observe<'_, '_> {
    fn attempt(&mut self, attempt: &crate::http::Attempt<'_>) {
        self.0.attempt(attempt);
    }

    fn signature(&mut self, checked: Result<&crate::SignatureCheck, &Error>) {
        self.0.signature(checked);
    }
}

impl<P: Protocol> Client<P> {
    /// The request an attempt would send now, with its signing shown
    /// ([`protocol::explain_request`]): the signer runs, nothing is sent.
    ///
    /// # Errors
    /// The lookup's checks, or signing.
    pub async fn explain_request(
        &self,
        lookup: &RefundLookup,
    ) -> Result<RequestExplanation, Error> {
        protocol::explain_request(&self.protocol, lookup).await
    }

    /// Every check of the pipeline on a captured answer ([`protocol::explain_response`]); its
    /// `result` is exactly what [`Client::parse_response`] returns on the same bytes.
    pub fn explain_response(&self, lookup: &RefundLookup, body: &[u8]) -> ResponseExplanation {
        protocol::explain_response(&self.protocol, lookup, body)
    }

    /// [`Client::query`], explained: each attempt's request is drafted through
    /// [`Protocol::explain_draft`] (the same drafting code as `prepare`), signed by the same
    /// signer and sent exactly as shown, and the answer goes through
    /// [`Client::explain_response`]. The result ([`QueryExplanation::into_result`]) is what
    /// `query` would return.
    pub async fn query_explained(&self, lookup: &RefundLookup) -> QueryExplanation {
        let requests = Mutex::new(Vec::new());
        let body = match protocol::check_lookup::<P>(lookup) {
            Ok(()) => {
                let requests = &requests;
                crate::http::execute(
                    self.transport.as_ref(),
                    &self.http,
                    P::PROVIDER,
                    &self.jitter,
                    move || {
                        NextRequest::Signing(Box::pin(async move {
                            let explained =
                                protocol::explain_request(&self.protocol, lookup).await?;
                            let request = explained.request.clone();
                            requests
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .push(explained);
                            Ok(request)
                        }))
                    },
                    &mut (),
                )
                .await
            }
            Err(e) => Err(e),
        };
        QueryExplanation {
            requests: requests.into_inner().unwrap_or_else(|p| p.into_inner()),
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

    fn query_observed<'a>(
        &'a self,
        lookup: &'a RefundLookup,
        observer: &'a mut (dyn AttemptObserver + 'a),
    ) -> QueryFuture<'a> {
        Box::pin(Client::query_observed(self, lookup, observer))
    }

    fn explain_request<'a>(&'a self, lookup: &'a RefundLookup) -> RequestFuture<'a> {
        Box::pin(Client::explain_request(self, lookup))
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
