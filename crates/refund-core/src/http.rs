//! The shared HTTP transport: one reqwest client (rustls), deadlines, retries, a body limit.
//!
//! A [`Transport`] sends one attempt of a [`PreparedRequest`] and returns the answer as received
//! ([`Reply`]: status, headers, the exact body), or a typed [`Error`] when there is none;
//! [`HttpTransport`] is the default. [`execute`] runs the attempts: deadlines, a fresh request
//! per attempt, a non-2xx status made an [`Error::HttpStatus`], and retries decided by the pure
//! [`RetryPolicy::decide`], so the policy is unit-tested without a network or a clock. Each
//! attempt is one `refund.attempt` span and is handed to an [`AttemptObserver`] (evidence,
//! pacing and traces all read the same record).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub use bytes::Bytes;
/// The reqwest this transport is built on, so a configured client can be handed in
/// ([`HttpTransport::with_client`], the builders' `reqwest_client`) without a version mismatch.
pub use reqwest;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::error::excerpt;
use crate::error::{Error, TransportErrorKind};
use crate::provider::Provider;
use crate::request::{Method, PreparedRequest};

/// Timeouts, retries and limits of a transport.
///
/// ```
/// use std::time::Duration;
/// let cfg = refund_core::http::HttpConfig::default().with_overall_timeout(Duration::from_secs(5));
/// assert_eq!(cfg.max_body_bytes, 1024 * 1024);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time allowed to open a connection (default 5 s).
    pub connect_timeout: Duration,
    /// Time allowed for one attempt, headers and body (default 10 s).
    pub attempt_timeout: Duration,
    /// Time allowed for the whole query, retries and back-off included (default 30 s).
    pub overall_timeout: Duration,
    /// Largest body read; a larger one is cut off and reported (default 1 MiB).
    pub max_body_bytes: usize,
    /// When and how long to wait before trying again.
    pub retry: RetryPolicy,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(10),
            overall_timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            retry: RetryPolicy::default(),
            user_agent: concat!("refunds-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

impl HttpConfig {
    /// Sets the connect timeout.
    ///
    /// ```
    /// let c = refund_core::http::HttpConfig::default().with_connect_timeout(std::time::Duration::from_secs(1));
    /// ```
    pub fn with_connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }

    /// Sets the per-attempt timeout.
    ///
    /// ```
    /// let c = refund_core::http::HttpConfig::default().with_attempt_timeout(std::time::Duration::from_secs(2));
    /// ```
    pub fn with_attempt_timeout(mut self, t: Duration) -> Self {
        self.attempt_timeout = t;
        self
    }

    /// Sets the overall deadline of a query.
    ///
    /// ```
    /// let c = refund_core::http::HttpConfig::default().with_overall_timeout(std::time::Duration::from_secs(3));
    /// ```
    pub fn with_overall_timeout(mut self, t: Duration) -> Self {
        self.overall_timeout = t;
        self
    }

    /// Sets the body size limit.
    ///
    /// ```
    /// let c = refund_core::http::HttpConfig::default().with_max_body_bytes(4096);
    /// ```
    pub fn with_max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Sets the retry policy.
    ///
    /// ```
    /// let c = refund_core::http::HttpConfig::default().with_retry(refund_core::http::RetryPolicy::none());
    /// ```
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }
}

/// Exponential back-off with full jitter, for retryable errors only
/// ([`Error::is_retryable`]: connect, timeout, broken body, 429, 5xx).
///
/// ```
/// use std::time::Duration;
/// use refund_core::http::{RetryDecision, RetryPolicy};
/// let p = RetryPolicy::default();
/// let e = refund_core::Error::HttpStatus { provider: refund_core::Provider::Cpos, status: 503, body_excerpt: String::new(), retry_after: None };
/// // After the first attempt, with 10 s left and a jitter draw of 0.5:
/// assert_eq!(p.decide(1, &e, Duration::from_secs(10), 0.5), RetryDecision::RetryAfter(Duration::from_millis(100)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 3: one try and two retries).
    pub max_attempts: u32,
    /// The back-off ceiling after the first attempt; it doubles each time (default 200 ms).
    pub base_delay: Duration,
    /// The largest back-off ceiling (default 5 s).
    pub max_delay: Duration,
    /// Whether a throttled answer (HTTP 429 or 503, [`Error::is_throttle`]) is retried here
    /// (default `true`). A caller that paces many queries against the provider's limit
    /// (`refund batch`) sets it to `false` and gets the throttle at once, to slow the whole
    /// pace down and queue the query again rather than spend its retries on it.
    pub retry_throttled: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            retry_throttled: true,
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then send the same request again.
    RetryAfter(Duration),
    /// Give up and return the error.
    GiveUp,
}

impl RetryPolicy {
    /// No retries at all.
    ///
    /// ```
    /// assert_eq!(refund_core::http::RetryPolicy::none().max_attempts, 1);
    /// ```
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// `retries` retries after the first attempt, default delays.
    ///
    /// ```
    /// assert_eq!(refund_core::http::RetryPolicy::with_retries(2).max_attempts, 3);
    /// ```
    pub fn with_retries(retries: u32) -> Self {
        RetryPolicy {
            max_attempts: retries.saturating_add(1),
            ..RetryPolicy::default()
        }
    }

    /// The same policy, handing throttled answers back at once (see
    /// [`RetryPolicy::retry_throttled`]).
    ///
    /// ```
    /// use std::time::Duration;
    /// use refund_core::http::{RetryDecision, RetryPolicy};
    /// let e = refund_core::Error::HttpStatus { provider: refund_core::Provider::Cpos, status: 429, body_excerpt: String::new(), retry_after: None };
    /// let p = RetryPolicy::default().leaving_throttles();
    /// assert_eq!(p.decide(1, &e, Duration::from_secs(10), 0.5), RetryDecision::GiveUp);
    /// ```
    pub fn leaving_throttles(self) -> Self {
        RetryPolicy {
            retry_throttled: false,
            ..self
        }
    }

    /// Decides, after `attempts_made` attempts ended in `error`, whether to try again.
    ///
    /// Pure: `remaining` is the time left before the overall deadline (the caller's clock) and
    /// `jitter` a uniform draw in `[0, 1)` (the caller's random source). The delay is
    /// `jitter × min(max_delay, base_delay × 2^(attempts_made-1))` ("full jitter"); a retry whose
    /// delay would not leave time before the deadline is not made.
    ///
    /// ```
    /// use std::time::Duration;
    /// use refund_core::http::{RetryDecision, RetryPolicy};
    /// let e = refund_core::Error::verify(refund_core::Provider::Edgeros, "bad");
    /// assert_eq!(RetryPolicy::default().decide(1, &e, Duration::from_secs(10), 0.0), RetryDecision::GiveUp);
    /// ```
    pub fn decide(
        &self,
        attempts_made: u32,
        error: &Error,
        remaining: Duration,
        jitter: f64,
    ) -> RetryDecision {
        if !error.is_retryable()
            || attempts_made >= self.max_attempts
            || (!self.retry_throttled && error.is_throttle())
        {
            return RetryDecision::GiveUp;
        }
        let exp = attempts_made.saturating_sub(1).min(30);
        let ceiling = self
            .base_delay
            .saturating_mul(1_u32 << exp)
            .min(self.max_delay);
        let jitter = if jitter.is_finite() {
            jitter.clamp(0.0, 1.0)
        } else {
            0.0
        };
        // The provider's own `Retry-After` is a floor: never sooner than it asked.
        let delay = ceiling
            .mul_f64(jitter)
            .max(error.retry_after().unwrap_or(Duration::ZERO));
        if delay >= remaining {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAfter(delay)
    }
}

/// One HTTP answer as the transport received it, whatever its status: what traces, evidence
/// and pacing read (the status, `Retry-After`, the exact bytes).
///
/// ```
/// let reply = refund_core::http::Reply::new(429, "slow down".into())
///     .with_header("retry-after", "2");
/// assert_eq!(reply.header("Retry-After"), Some("2"));
/// assert!(!reply.is_success());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The response headers, as received.
    pub headers: reqwest::header::HeaderMap,
    /// The exact body bytes (within the transport's body limit).
    pub body: Bytes,
}

impl Reply {
    /// An answer with `status`, no headers and `body`.
    pub fn new(status: u16, body: Bytes) -> Self {
        Reply {
            status,
            headers: reqwest::header::HeaderMap::new(),
            body,
        }
    }

    /// The same answer with one more header (an invalid name or value is left out).
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            reqwest::header::HeaderName::from_bytes(name.as_bytes()),
            reqwest::header::HeaderValue::from_str(value),
        ) {
            self.headers.append(name, value);
        }
        self
    }

    /// The first value of header `name` (any case), when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// How long the provider asked to wait (`Retry-After`, seconds or an HTTP date, read at
    /// `now`; see [`parse_retry_after`]).
    pub fn retry_after(&self, now: SystemTime) -> Option<Duration> {
        self.header("retry-after")
            .and_then(|v| parse_retry_after(v, now))
    }
}

/// The boxed future of one [`Transport::send`].
pub type SendFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, Error>> + Send + 'a>>;

/// Sends one attempt of a [`PreparedRequest`] and returns the answer as received.
///
/// The pipeline ([`crate::client::Client`]) owns deadlines and retries, prepares a fresh,
/// freshly signed request for every attempt and decides what a status means; a transport only
/// moves bytes. [`HttpTransport`] is the default; tests and benchmarks can hand in their own.
///
/// ```
/// use std::time::Duration;
/// use refund_core::http::{Reply, SendFuture, Transport};
/// use refund_core::{PreparedRequest, Provider};
///
/// /// Answers every request with the same body.
/// #[derive(Debug)]
/// struct Canned(&'static [u8]);
/// impl Transport for Canned {
///     fn send<'a>(&'a self, _: Provider, _: &'a PreparedRequest, _: Duration) -> SendFuture<'a> {
///         Box::pin(async move { Ok(Reply::new(200, refund_core::http::Bytes::from_static(self.0))) })
///     }
/// }
/// ```
pub trait Transport: Send + Sync + fmt::Debug {
    /// Sends `request` once, within `budget` (connecting, headers and the whole body), and
    /// returns the answer whatever its status (the pipeline makes a non-2xx one an
    /// [`Error::HttpStatus`]). No answer (connect, timeout, TLS, a broken or too large body) is
    /// an error naming `provider`.
    fn send<'a>(
        &'a self,
        provider: Provider,
        request: &'a PreparedRequest,
        budget: Duration,
    ) -> SendFuture<'a>;
}

/// The default [`Transport`]: one reqwest client (rustls, pooled connections, no redirects)
/// with the connect timeout and body limit of an [`HttpConfig`].
///
/// Built once per client; cheap to share (`reqwest::Client` is a pooled handle).
///
/// ```
/// use refund_core::http::{HttpConfig, HttpTransport};
/// let t = HttpTransport::new(&HttpConfig::default()).unwrap();
/// assert_eq!(t.max_body_bytes(), 1 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    max_body_bytes: usize,
    endpoint: std::sync::Arc<ParsedEndpoint>,
}

/// The last few endpoints requests went to, parsed: a URL costs about 1.3 µs to parse (scheme,
/// host through IDNA, path), more than the SDK's own work on a CPOS query, and a client sends
/// to the same endpoint again and again (a transport shared by the three providers, to three).
/// Keyed by the text before `?`; a query string (EdgerOS's parameters) is set on the copy, as
/// the parser would have read it.
#[derive(Debug, Default)]
struct ParsedEndpoint(Mutex<Vec<(String, reqwest::Url)>>);

impl ParsedEndpoint {
    /// How many endpoints are kept (the oldest goes first).
    const KEPT: usize = 4;

    /// `text` parsed, from the cache when its endpoint is the last one; `None` when it does not
    /// parse (the caller hands reqwest the text, which reports it as it always has).
    fn url(&self, text: &str) -> Option<reqwest::Url> {
        if text.bytes().any(|b| b <= b' ' || b == b'#') {
            // The parser drops tabs and newlines anywhere and trims spaces and controls at the
            // ends, and `#` starts a fragment: never in a provider crate's URL (their values
            // are percent-encoded), so such a text is parsed whole rather than reasoned about.
            return reqwest::Url::parse(text).ok();
        }
        let (endpoint, query) = match text.split_once('?') {
            Some((endpoint, query)) => (endpoint, Some(query)),
            None => (text, None),
        };
        let cached = self.0.lock().ok().and_then(|kept| {
            kept.iter()
                .find(|(key, _)| key == endpoint)
                .map(|(_, url)| url.clone())
        });
        let mut url = match cached {
            Some(url) => url,
            None => {
                let url = reqwest::Url::parse(endpoint).ok()?;
                if let Ok(mut kept) = self.0.lock() {
                    if kept.len() == Self::KEPT {
                        kept.remove(0);
                    }
                    kept.push((endpoint.to_owned(), url.clone()));
                }
                url
            }
        };
        if query.is_some() {
            url.set_query(query);
        }
        Some(url)
    }
}

impl HttpTransport {
    /// Builds the client (rustls, connection pooling, no redirects: a redirected refund query
    /// would carry a signature to a host nobody configured).
    ///
    /// ```
    /// let t = refund_core::http::HttpTransport::new(&Default::default());
    /// assert!(t.is_ok());
    /// ```
    pub fn new(config: &HttpConfig) -> Result<Self, Error> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(config.user_agent.clone())
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|e| Error::config("http client", "cannot be built").caused_by(e))?;
        Ok(HttpTransport {
            client,
            max_body_bytes: config.max_body_bytes,
            endpoint: Default::default(),
        })
    }

    /// The default transport over your reqwest client (proxy, custom CA, pool settings),
    /// with the body limit of `config` (its deadlines and retries are applied per attempt by
    /// the client). Build yours with `redirect(reqwest::redirect::Policy::none())`.
    ///
    /// ```
    /// let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    /// let t = refund_core::http::HttpTransport::with_client(http, &Default::default());
    /// assert_eq!(t.max_body_bytes(), 1 << 20);
    /// ```
    pub fn with_client(client: reqwest::Client, config: &HttpConfig) -> Self {
        HttpTransport {
            client,
            max_body_bytes: config.max_body_bytes,
            endpoint: Default::default(),
        }
    }

    /// The largest body read.
    ///
    /// ```
    /// let cfg = refund_core::http::HttpConfig::default().with_max_body_bytes(10);
    /// assert_eq!(refund_core::http::HttpTransport::new(&cfg).unwrap().max_body_bytes(), 10);
    /// ```
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// One attempt within `budget`: reqwest's per-request timeout covers connecting, headers and
    /// the whole body, so one timer serves (no second `tokio::time::timeout`).
    async fn attempt(
        &self,
        provider: Provider,
        request: &PreparedRequest,
        budget: Duration,
    ) -> Result<Reply, Error> {
        let method = match request.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
        };
        let builder = match self.endpoint.url(&request.url) {
            Some(url) => self.client.request(method, url),
            None => self.client.request(method, &request.url),
        };
        let mut builder = builder.timeout(budget);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_ref(), value.as_ref());
        }
        if let Some(body) = &request.body {
            builder = builder.body(body.clone());
        }
        let failed = |e: reqwest::Error| reqwest_error(provider, budget, &request.url, e);
        let mut response = builder.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        let declared = response.content_length();
        let headers = std::mem::take(response.headers_mut());
        let limit = self.max_body_bytes;
        let too_large = Error::BodyTooLarge { provider, limit };
        let body = match declared {
            Some(len) if len > limit as u64 => return Err(too_large),
            // A declared length within the limit: hyper reads exactly that many bytes, so the
            // body can be taken whole (one chunk is handed over without a copy).
            Some(_) => response.bytes().await.map_err(failed)?,
            // No length (chunked): read chunk by chunk and stop at the limit.
            None => {
                let mut body = Vec::with_capacity(1024);
                while let Some(chunk) = response.chunk().await.map_err(failed)? {
                    if body.len() + chunk.len() > limit {
                        return Err(too_large);
                    }
                    body.extend_from_slice(&chunk);
                }
                Bytes::from(body)
            }
        };
        Ok(Reply {
            status,
            headers,
            body,
        })
    }
}

impl Transport for HttpTransport {
    fn send<'a>(
        &'a self,
        provider: Provider,
        request: &'a PreparedRequest,
        budget: Duration,
    ) -> SendFuture<'a> {
        Box::pin(self.attempt(provider, request, budget))
    }
}

/// A `Retry-After` value: delay-seconds or an HTTP date (RFC 9110), as a wait from `now`
/// (a date in the past is no wait); anything else is ignored. Capped at a day.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use refund_core::http::parse_retry_after;
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_784_000_000);
/// assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
/// let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
/// assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    const DAY: Duration = Duration::from_secs(86_400);
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(DAY))
}

fn reqwest_error(provider: Provider, budget: Duration, url: &str, e: reqwest::Error) -> Error {
    let kind = if e.is_timeout() {
        return Error::Transport {
            provider,
            kind: TransportErrorKind::Timeout,
            message: format!("no complete answer within {}", humane(budget)),
            source: None,
        };
    } else if e.is_connect() {
        if source_chain_mentions(&e, "certificate") || source_chain_mentions(&e, "tls") {
            TransportErrorKind::Tls
        } else {
            TransportErrorKind::Connect
        }
    } else if e.is_body() || e.is_decode() || e.is_request() {
        TransportErrorKind::Body
    } else {
        TransportErrorKind::Other
    };
    // The host and port say where; the path and query (ids) stay out of messages.
    let e = e.without_url();
    let causes = crate::error::chain_text(&e);
    let host = reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            let host = u.host_str()?.to_owned();
            Some(match u.port_or_known_default() {
                Some(port) => format!("{host}:{port}"),
                None => host,
            })
        })
        .unwrap_or_else(|| "the provider".to_owned());
    let message = match kind {
        TransportErrorKind::Connect => format!("cannot connect to {host}: {causes}"),
        TransportErrorKind::Tls => format!("TLS with {host} failed: {causes}"),
        _ => format!("{causes} (talking to {host})"),
    };
    Error::Transport {
        provider,
        kind,
        message,
        source: Some(Box::new(e)),
    }
}

/// What one attempt did, handed to an [`AttemptObserver`]: the request as sent, the answer as
/// received (any status) or the error that stood for one, and when.
#[derive(Debug)]
#[non_exhaustive]
pub struct Attempt<'a> {
    /// Which provider.
    pub provider: Provider,
    /// 1 for the first attempt.
    pub number: u32,
    /// The request, exactly as sent.
    pub request: &'a PreparedRequest,
    /// The answer, whatever its status; `None` when none came (connect, timeout, TLS, a broken
    /// or too large body: see `error`).
    pub reply: Option<&'a Reply>,
    /// Why the attempt did not succeed: the transport's error, or the [`Error::HttpStatus`] a
    /// non-2xx reply became. `None` for a 2xx reply.
    pub error: Option<&'a Error>,
    /// When the request was handed to the transport.
    pub sent_at: SystemTime,
    /// When the answer (or the error) came back.
    pub received_at: SystemTime,
    /// How long the attempt took (monotonic clock).
    pub elapsed: Duration,
}

impl Attempt<'_> {
    /// The HTTP status, when an answer came.
    pub fn status(&self) -> Option<u16> {
        self.reply.map(|r| r.status)
    }
}

/// Sees every attempt [`execute`] makes, as it ends (before any back-off), and how the answer
/// that ended the query was verified: for evidence files, pacing, counting. `()` sees nothing.
pub trait AttemptObserver: Send {
    /// One attempt ended.
    fn attempt(&mut self, attempt: &Attempt<'_>);

    /// The last attempt's answer (a 2xx that parsed) had its signature checked: how it went.
    /// Called at most once per query, after the last [`AttemptObserver::attempt`], whatever
    /// the later steps (decoding, binding) make of the answer. The default ignores it.
    fn signature(&mut self, _checked: Result<&crate::SignatureCheck, &Error>) {}
}

impl AttemptObserver for () {
    fn attempt(&mut self, _: &Attempt<'_>) {}
}

/// The attempts of one query as a trace records them: how many, and the last one's status.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AttemptCount {
    /// Attempts made.
    pub attempts: u32,
    /// The HTTP status of the last attempt, when an answer came.
    pub last_status: Option<u16>,
}

impl AttemptObserver for AttemptCount {
    fn attempt(&mut self, attempt: &Attempt<'_>) {
        self.attempts = attempt.number;
        self.last_status = attempt.status();
    }
}

/// Both observers see every attempt.
impl<A: AttemptObserver, B: AttemptObserver> AttemptObserver for (&mut A, &mut B) {
    fn attempt(&mut self, attempt: &Attempt<'_>) {
        self.0.attempt(attempt);
        self.1.attempt(attempt);
    }

    fn signature(&mut self, checked: Result<&crate::SignatureCheck, &Error>) {
        self.0.signature(checked);
        self.1.signature(checked);
    }
}

/// One attempt's request, as `prepare` hands it to [`execute`]: made at once (a shared-secret
/// digest, or an error), or still being signed (a signer that waits: a key service).
pub enum NextRequest<'a> {
    /// The request, or why there is none.
    Ready(Result<PreparedRequest, Error>),
    /// Signing under way; awaited within the query's overall deadline.
    Signing(Pin<Box<dyn Future<Output = Result<PreparedRequest, Error>> + Send + 'a>>),
}

impl fmt::Debug for NextRequest<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NextRequest::Ready(r) => f.debug_tuple("Ready").field(r).finish(),
            NextRequest::Signing(_) => f.write_str("Signing(..)"),
        }
    }
}

/// A signing future awaited until the overall deadline: the signer's time counts against it.
async fn signed_within(
    signing: Pin<Box<dyn Future<Output = Result<PreparedRequest, Error>> + Send + '_>>,
    deadline: Instant,
    provider: Provider,
    config: &HttpConfig,
) -> Result<PreparedRequest, Error> {
    tokio::time::timeout_at(deadline, signing)
        .await
        .unwrap_or_else(|_| {
            Err(Error::Signer {
                provider,
                message: format!(
                    "signing did not finish within the query's deadline ({})",
                    humane(config.overall_timeout)
                ),
            })
        })
}

/// Sends a query with the deadlines and retries of `config`: every attempt has `prepare` make
/// a fresh request (a new nonce or timestamp, as a provider may reject a replayed one; a
/// signer's time counts against the overall deadline), sends it within what is left of the
/// attempt and overall budgets, makes a non-2xx answer an [`Error::HttpStatus`], shows the
/// attempt to `observer` and retries only what [`RetryPolicy::decide`] allows. Each attempt is a
/// `refund.attempt` span (`number`, `http_status` or `error_kind`, `elapsed_ms`).
///
/// ```no_run
/// # async fn f(t: &refund_core::http::HttpTransport, r: refund_core::PreparedRequest) -> Result<(), refund_core::Error> {
/// use refund_core::http::{execute, HttpConfig, Jitter};
/// let jitter = Jitter::new();
/// use refund_core::http::NextRequest;
/// let body = execute(t, &HttpConfig::default(), refund_core::Provider::Cpos, &jitter, || NextRequest::Ready(Ok(r.clone())), &mut ()).await?;
/// # Ok(()) }
/// ```
pub async fn execute<'p>(
    transport: &dyn Transport,
    config: &HttpConfig,
    provider: Provider,
    jitter: &Jitter,
    mut prepare: impl FnMut() -> NextRequest<'p>,
    observer: &mut (dyn AttemptObserver + '_),
) -> Result<Bytes, Error> {
    // A library user can configure any duration: never overflow the clock.
    let now = Instant::now();
    let deadline = now
        .checked_add(config.overall_timeout)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 86_400));
    let mut attempts = 0_u32;
    loop {
        attempts += 1;
        // One attempt in a function of its own: its request, reply and span are gone before
        // any back-off, so a query's future holds one attempt's state, not two.
        let error = match attempt(
            transport,
            config,
            provider,
            deadline,
            attempts,
            &mut prepare,
            observer,
        )
        .await
        {
            Ok(body) => return Ok(body),
            Err(error) => error,
        };
        let remaining = deadline.saturating_duration_since(Instant::now());
        match config
            .retry
            .decide(attempts, &error, remaining, jitter.next())
        {
            RetryDecision::GiveUp => {
                if remaining.is_zero() && error.is_retryable() {
                    tracing::debug!(%provider, attempts, "overall deadline reached");
                }
                return Err(error);
            }
            RetryDecision::RetryAfter(delay) => {
                tracing::debug!(%provider, attempts, ?delay, error = %error, "retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Attempt `number` of [`execute`]: prepare, send within what is left of the budgets, make a
/// non-2xx answer an [`Error::HttpStatus`], record the `refund.attempt` span and show the
/// attempt to `observer`. The 2xx body, or the attempt's error.
async fn attempt<'p>(
    transport: &dyn Transport,
    config: &HttpConfig,
    provider: Provider,
    deadline: Instant,
    number: u32,
    prepare: &mut impl FnMut() -> NextRequest<'p>,
    observer: &mut (dyn AttemptObserver + '_),
) -> Result<Bytes, Error> {
    let request = match prepare() {
        NextRequest::Ready(request) => request?,
        // Boxed, and only here: a query's future stays small when nothing waits to sign.
        NextRequest::Signing(signing) => {
            Box::pin(signed_within(signing, deadline, provider, config)).await?
        }
    };
    let remaining = deadline.saturating_duration_since(Instant::now());
    let budget = remaining.min(config.attempt_timeout);
    let span = tracing::debug_span!(
        "refund.attempt",
        %provider,
        number,
        http_status = tracing::field::Empty,
        error_kind = tracing::field::Empty,
        elapsed_ms = tracing::field::Empty,
    );
    let sent_at = SystemTime::now();
    let started = Instant::now();
    // Entering a span on every poll costs even when nobody collects it: only when someone does.
    let sent = if span.is_disabled() {
        transport.send(provider, &request, budget).await
    } else {
        transport
            .send(provider, &request, budget)
            .instrument(span.clone())
            .await
    };
    let elapsed = started.elapsed();
    // One wall-clock read per attempt: the monotonic elapsed time gives the other.
    let received_at = sent_at + elapsed;
    let (reply, error) = match sent {
        Ok(reply) if reply.is_success() => (Some(reply), None),
        Ok(reply) => {
            let error = Error::HttpStatus {
                provider,
                status: reply.status,
                body_excerpt: excerpt(&reply.body),
                retry_after: reply.retry_after(received_at),
            };
            (Some(reply), Some(error))
        }
        Err(error) => (None, Some(error)),
    };
    span.record("elapsed_ms", elapsed.as_millis() as u64);
    if let Some(reply) = &reply {
        span.record("http_status", reply.status);
    } else if let Some(error) = &error {
        span.record("error_kind", error.kind());
    }
    observer.attempt(&Attempt {
        provider,
        number,
        request: &request,
        reply: reply.as_ref(),
        error: error.as_ref(),
        sent_at,
        received_at,
        elapsed,
    });
    // A 2xx reply is the only attempt without an error.
    match error {
        Some(error) => Err(error),
        None => Ok(reply.map(|r| r.body).unwrap_or_default()),
    }
}

/// A duration as people write it in messages: `500ms`, `3s`, `1.9s`, `1m30s`, `2h` (rounded to
/// a tenth of a second under a minute, to the second above), never `2.999999639s`.
///
/// ```
/// use std::time::Duration;
/// use refund_core::http::humane;
/// assert_eq!(humane(Duration::from_nanos(2_999_999_639)), "3s");
/// assert_eq!(humane(Duration::from_millis(1_940)), "1.9s");
/// assert_eq!(humane(Duration::from_millis(250)), "250ms");
/// assert_eq!(humane(Duration::from_secs(90)), "1m30s");
/// assert_eq!(humane(Duration::from_secs(7200)), "2h");
/// ```
// Kept by hand: humantime's `format_duration` writes every unit down to nanoseconds
// (`2s 999ms 999us 639ns`) and counts months and years in fractional days; messages want one
// rounded figure.
pub fn humane(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let tenths = (ms + 50) / 100;
    if tenths < 600 {
        return if tenths % 10 == 0 {
            format!("{}s", tenths / 10)
        } else {
            format!("{}.{}s", tenths / 10, tenths % 10)
        };
    }
    let secs = (ms + 500) / 1_000;
    let (h, m, s) = (secs / 3_600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
        }
    }
    out
}

/// The jitter source of retries: uniform draws in `[0, 1)`. Jitter needs spread, not secrecy,
/// so a seeded splitmix64 serves.
#[derive(Debug)]
pub struct Jitter(Mutex<u64>);

impl Default for Jitter {
    fn default() -> Self {
        Self::new()
    }
}

impl Jitter {
    /// A source seeded from the clock and the process's hash seed.
    ///
    /// ```
    /// let j = refund_core::http::Jitter::new();
    /// assert!((0.0..1.0).contains(&j.next()));
    /// ```
    pub fn new() -> Self {
        Jitter(Mutex::new(seed()))
    }

    /// The next draw in `[0, 1)`.
    pub fn next(&self) -> f64 {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1_u64 << 53) as f64
    }
}

fn source_chain_mentions(e: &(dyn std::error::Error + 'static), needle: &str) -> bool {
    let mut current = Some(e);
    while let Some(err) = current {
        if err.to_string().to_ascii_lowercase().contains(needle) {
            return true;
        }
        current = err.source();
    }
    false
}

fn seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cached endpoint with its query set is the URL the parser reads from the whole text,
    /// on a miss and on a hit, for the URLs the providers build and for odd ones.
    #[test]
    fn a_cached_endpoint_is_what_the_parser_reads() {
        let cache = ParsedEndpoint::default();
        let urls = [
            "http://127.0.0.1:8080/api/v1/pay/wx/refundquery",
            "http://127.0.0.1:8080/api/v1/pay/wx/refundquery",
            "https://api.edgeros.com/pay/v1/transactions/refund?mch_no=MCH1&refund_no=AR1",
            "https://api.edgeros.com/pay/v1/transactions/refund?mch_no=MCH1&refund_no=AR2",
            "https://api.edgeros.com/pay/v1/transactions/refund?a=%E9%80%80 b&c='x'&d=<>",
            "https://api.edgeros.com/pay/v1/transactions/refund?",
            "https://api.edgeros.com/pay/v1/transactions/refund?x#frag",
            "https://api.edgeros.com/pay/v1/transactions/refund?a=1 ",
            "https://api.edgeros.com/pay/v1/transactions/refund?a=\t1\n",
            "https://Bücher.example/a/../b/./c?q",
            "https://h.example/open-api/refund/payments",
        ];
        // Twice over: the second pass finds the endpoints kept (and evicts as it goes).
        for text in urls.iter().chain(&urls) {
            assert_eq!(cache.url(text), reqwest::Url::parse(text).ok(), "{text}");
        }
        assert!(cache.0.lock().unwrap().len() <= ParsedEndpoint::KEPT);
        assert_eq!(cache.url("not a url"), None);
        assert_eq!(cache.url("http://[::1"), None);
    }

    proptest::proptest! {
        /// Any query string reads the same set on the cached endpoint as parsed whole.
        #[test]
        fn any_query_reads_the_same(query in "[\\x00-\\x7f]{0,40}|(?s).{0,40}") {
            let cache = ParsedEndpoint::default();
            let base = "https://api.edgeros.com/pay/v1/transactions/refund";
            let _ = cache.url(base);
            let text = format!("{base}?{query}");
            proptest::prop_assert_eq!(cache.url(&text), reqwest::Url::parse(&text).ok());
        }
    }

    fn http(status: u16) -> Error {
        Error::HttpStatus {
            provider: Provider::Cpos,
            status,
            body_excerpt: String::new(),
            retry_after: None,
        }
    }

    #[test]
    fn retry_after_is_a_floor_within_the_deadline() {
        let p = RetryPolicy::default();
        let asked = |secs| Error::HttpStatus {
            provider: Provider::Cpos,
            status: 429,
            body_excerpt: String::new(),
            retry_after: Some(Duration::from_secs(secs)),
        };
        let left = Duration::from_secs(10);
        assert_eq!(
            p.decide(1, &asked(2), left, 0.5),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        // A wait that ends past the overall deadline is not started.
        assert_eq!(p.decide(1, &asked(30), left, 0.5), RetryDecision::GiveUp);
        // Nor beyond the attempts.
        assert_eq!(p.decide(3, &asked(1), left, 0.5), RetryDecision::GiveUp);
    }

    #[test]
    fn backoff_doubles_under_a_ceiling() {
        let p = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            retry_throttled: true,
        };
        let left = Duration::from_secs(60);
        let delays: Vec<_> = (1..=5)
            .map(|n| p.decide(n, &http(500), left, 0.999_999))
            .collect();
        let ms = |d: &RetryDecision| match d {
            RetryDecision::RetryAfter(d) => d.as_millis(),
            RetryDecision::GiveUp => 0,
        };
        assert_eq!(
            delays.iter().map(ms).collect::<Vec<_>>(),
            vec![99, 199, 399, 499, 499]
        );
        assert_eq!(
            p.decide(1, &http(500), left, 0.0),
            RetryDecision::RetryAfter(Duration::ZERO)
        );
    }

    #[test]
    fn never_retries_what_is_unsafe_or_final() {
        let p = RetryPolicy::default();
        let left = Duration::from_secs(60);
        for e in [
            http(400),
            http(404),
            Error::verify(Provider::Cpos, "x"),
            Error::decode(Provider::Cpos, "f", "v", "r"),
            Error::BodyTooLarge {
                provider: Provider::Cpos,
                limit: 1,
            },
        ] {
            assert_eq!(p.decide(1, &e, left, 0.5), RetryDecision::GiveUp, "{e}");
        }
        assert!(matches!(
            p.decide(1, &http(429), left, 0.5),
            RetryDecision::RetryAfter(_)
        ));
    }

    #[test]
    fn respects_attempt_count_and_deadline() {
        let p = RetryPolicy::default();
        assert_eq!(
            p.decide(3, &http(503), Duration::from_secs(60), 0.5),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(1, &http(503), Duration::from_millis(50), 0.9),
            RetryDecision::GiveUp
        );
        assert_eq!(
            p.decide(1, &http(503), Duration::ZERO, 0.0),
            RetryDecision::GiveUp
        );
        assert_eq!(
            RetryPolicy::none().decide(1, &http(503), Duration::from_secs(60), 0.1),
            RetryDecision::GiveUp
        );
    }

    #[test]
    fn jitter_is_uniformish_and_in_range() {
        let j = Jitter::new();
        let draws: Vec<f64> = (0..1000).map(|_| j.next()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((0.4..0.6).contains(&mean), "{mean}");
    }
}
