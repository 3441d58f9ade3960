//! The HTTP server: routes, fault injection, start and shutdown.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::{get, post};
use refund_core::Provider;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::credentials::Credentials;
use crate::emulate::{self, Answer};
use crate::scenario::{Fault, FaultRule, SandboxRefund, Scenario, ScenarioError};
use crate::state::Shared;

/// The sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// Keys could not be loaded or generated.
    #[error(transparent)]
    Keys(#[from] refund_core::rsa_keys::KeyError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Configures and starts a [`SandboxHandle`].
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sandbox = refund_sandbox::Sandbox::builder().start().await.unwrap();
/// assert!(sandbox.base_url().starts_with("http://127.0.0.1:"));
/// sandbox.shutdown().await;
/// # }
/// ```
#[derive(Debug)]
pub struct SandboxBuilder {
    addr: SocketAddr,
    scenario: Scenario,
    credentials: Option<Credentials>,
    edgeros_signing_key: Option<refund_core::rsa_keys::RsaPrivateKey>,
}

/// Entry point: `Sandbox::builder()`.
#[derive(Debug)]
pub struct Sandbox;

impl Sandbox {
    /// A builder bound to `127.0.0.1` on a free port, with no refunds and the test keys.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            scenario: Scenario::default(),
            credentials: None,
            edgeros_signing_key: None,
        }
    }
}

impl SandboxBuilder {
    /// The data to serve.
    pub fn scenario(mut self, scenario: Scenario) -> Self {
        self.scenario = scenario;
        self
    }

    /// Reads the data from a `.toml` or `.json` file.
    pub fn scenario_file(mut self, path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        self.scenario = Scenario::from_file(path)?;
        Ok(self)
    }

    /// Listens on this port of 127.0.0.1 (0: any free port).
    pub fn port(mut self, port: u16) -> Self {
        self.addr.set_port(port);
        self
    }

    /// Listens on this address. Anything but loopback exposes throwaway-key endpoints: only on
    /// purpose.
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// The credentials to accept and sign with (default: [`Credentials::test_keys`]).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Signs EdgerOS answers with `key` instead of the platform key of the credentials (and of
    /// the scenario's `edgeros_signing_key`): a rotated platform key.
    pub fn edgeros_signing_key(mut self, key: refund_core::rsa_keys::RsaPrivateKey) -> Self {
        self.edgeros_signing_key = Some(key);
        self
    }

    /// Binds and serves in the background of the current tokio runtime.
    pub async fn start(self) -> Result<SandboxHandle, SandboxError> {
        let credentials = match self.credentials {
            Some(c) => c,
            None => Credentials::test_keys()?,
        };
        let signing_key = match (self.edgeros_signing_key, &self.scenario.edgeros_signing_key) {
            (Some(key), _) => key,
            (None, Some(path)) => refund_core::rsa_keys::RsaPrivateKey::from_file(path)?,
            (None, None) => credentials.edgeros_platform_key.clone(),
        };
        let shared = Arc::new(Shared::new(credentials, signing_key, self.scenario)?);
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: self.addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: self.addr,
            source,
        })?;
        let app = Router::new()
            .route(refund_openapi::sign::QUERY_PATH, post(openapi))
            .route(refund_edgeros::sign::QUERY_PATH, get(edgeros))
            .route(refund_cpos::sign::QUERY_PATH, post(cpos))
            .with_state(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let server = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = stopped.await;
            });
            if let Err(e) = server.await {
                tracing::error!(error = %e, "sandbox server stopped");
            }
        });
        tracing::info!(%addr, "sandbox listening");
        Ok(SandboxHandle {
            addr,
            shared,
            stop: Some(stop),
            task,
        })
    }
}

/// A running sandbox. Dropping it stops the server.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl SandboxHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL of all three providers (each has its own path).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The credentials clients must use.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// Adds a refund, or replaces the one with the same provider and refund id.
    pub fn upsert_refund(&self, refund: SandboxRefund) -> Result<(), ScenarioError> {
        self.shared.upsert(refund)
    }

    /// Adds a fault.
    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.add_fault(rule);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.shared.clear_faults();
    }

    /// How many requests of `provider` its rate limit answered 429 (scenario `[[pace]]`).
    pub fn throttled_count(&self, provider: Provider) -> u64 {
        self.shared.throttled(provider)
    }

    /// Requests received by `provider`'s endpoint so far (throttled ones included).
    pub fn request_count(&self, provider: Provider) -> u64 {
        self.shared.requests(provider)
    }

    /// An Open API client builder already pointed at the sandbox with its credentials.
    pub fn openapi_client(&self) -> refund_openapi::OpenApiClientBuilder {
        self.credentials().openapi_client(&self.base_url())
    }

    /// An EdgerOS client builder already pointed at the sandbox with its credentials.
    pub fn edgeros_client(&self) -> refund_edgeros::EdgerosClientBuilder {
        self.credentials().edgeros_client(&self.base_url())
    }

    /// A CPOS client builder already pointed at the sandbox with its credentials.
    pub fn cpos_client(&self) -> refund_cpos::CposClientBuilder {
        self.credentials().cpos_client(&self.base_url())
    }

    /// Writes the credentials and a ready `refund.toml` into `dir`.
    ///
    /// Never overwrites a file the sandbox did not write (see [`Credentials::write_to`]).
    pub fn write_credentials(&self, dir: &Path) -> std::io::Result<()> {
        self.credentials().write_to(dir, &self.base_url(), false)
    }

    /// The same, replacing keys an earlier sandbox wrote into `dir` (never other files).
    pub fn replace_credentials(&self, dir: &Path) -> std::io::Result<()> {
        self.credentials().write_to(dir, &self.base_url(), true)
    }

    /// The EdgerOS request nonces the sandbox has seen, oldest first (the last 65,536): each
    /// attempt of a query must bring a new one, or the sandbox refuses it as a replay.
    pub fn edgeros_nonces(&self) -> Vec<String> {
        self.shared.recent_nonces()
    }

    /// Stops accepting, lets requests in flight finish for up to a second, then stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let task = &mut self.task;
        if tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .is_err()
        {
            self.task.abort();
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The provider's pace first: over its rate limit, 429 with `Retry-After` (whole seconds, at
/// least 1, as the header allows); else its latency and jitter.
async fn paced(shared: &Shared, provider: Provider) -> Result<(), Response> {
    if let Err(wait) = shared.admit(provider) {
        let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut r = with_type(
            StatusCode::TOO_MANY_REQUESTS,
            "text/plain",
            Body::from("Too Many Requests"),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Err(r);
    }
    let delay = shared.delay(provider);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    Ok(())
}

async fn openapi(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.count(Provider::OpenApi);
    if let Err(throttled) = paced(&shared, Provider::OpenApi).await {
        return throttled;
    }
    let answer = emulate::openapi(&shared, &body);
    respond(&shared, Provider::OpenApi, answer).await
}

async fn edgeros(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    shared.count(Provider::Edgeros);
    if let Err(throttled) = paced(&shared, Provider::Edgeros).await {
        return throttled;
    }
    let answer = emulate::edgeros(&shared, &query, &headers);
    respond(&shared, Provider::Edgeros, answer).await
}

async fn cpos(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    shared.count(Provider::Cpos);
    if let Err(throttled) = paced(&shared, Provider::Cpos).await {
        return throttled;
    }
    let answer = emulate::cpos(&shared, &body);
    respond(&shared, Provider::Cpos, answer).await
}

fn with_type(status: StatusCode, content_type: &'static str, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn json(body: Vec<u8>) -> Response {
    with_type(
        StatusCode::OK,
        "application/json;charset=UTF-8",
        Body::from(body),
    )
}

async fn respond(shared: &Shared, provider: Provider, answer: Answer) -> Response {
    let ids: Vec<&str> = answer.ids.iter().map(String::as_str).collect();
    let Some(fault) = shared.take_fault(provider, &ids) else {
        return json(answer.body);
    };
    tracing::debug!(%provider, ?fault, "injecting fault");
    let mut body = answer.body;
    match fault {
        Fault::Latency { ms } => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            json(body)
        }
        Fault::Http500Html => with_type(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/html",
            Body::from(
                "<html><head><title>500 Internal Server Error</title></head><body><h1>Internal Server Error</h1></body></html>",
            ),
        ),
        Fault::TooManyRequests => {
            let mut r = with_type(
                StatusCode::TOO_MANY_REQUESTS,
                "text/plain",
                Body::from("Too Many Requests"),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        Fault::TruncatedBody => {
            body.truncate(body.len() / 2);
            json(body)
        }
        Fault::MalformedJson => {
            json(b"{\"code\":10000,\"message\":\"Success\",\"data\":[{\"refundAmount\":,}".to_vec())
        }
        Fault::WrongSignature => json(corrupt_signature(shared, provider, body)),
        Fault::ConnectionReset => {
            let half = Bytes::from(body).slice(..);
            let first = half.slice(..half.len() / 2);
            let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(first),
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "sandbox fault: connection reset",
                )),
            ];
            with_type(
                StatusCode::OK,
                "application/json",
                Body::from_stream(futures_util::stream::iter(chunks)),
            )
        }
        Fault::NeverEnding => {
            let trickle = futures_util::stream::unfold(true, |first| async move {
                if !first {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Some((
                    Ok::<_, std::io::Error>(Bytes::from_static(if first { b"{" } else { b" " })),
                    false,
                ))
            });
            with_type(
                StatusCode::OK,
                "application/json",
                Body::from_stream(trickle),
            )
        }
        Fault::EndlessBody => {
            let head = Bytes::from(body);
            let spaces = Bytes::from(vec![b' '; 64 * 1024]);
            let stream = futures_util::stream::iter(
                std::iter::once(head)
                    .chain(std::iter::repeat(spaces))
                    .map(Ok::<_, std::io::Error>),
            );
            with_type(
                StatusCode::OK,
                "application/json",
                Body::from_stream(stream),
            )
        }
        Fault::OversizedBody { bytes } => {
            if body.len() < bytes {
                body.resize(bytes, b' ');
            }
            json(body)
        }
        Fault::AnswerFor { refund_id } => {
            json(emulate::answer_for(shared, provider, &refund_id).body)
        }
        Fault::ForeignMerchant { mch_no } => json(emulate::as_foreign_merchant(
            shared, provider, body, &mch_no,
        )),
    }
}

/// The same answer with a signature that does not verify (a valid-looking one, from another key
/// or secret), as a compromised or misconfigured provider would send.
fn corrupt_signature(shared: &Shared, provider: Provider, body: Vec<u8>) -> Vec<u8> {
    let Ok(mut doc) = serde_json::from_slice::<Value>(&body) else {
        return body;
    };
    match provider {
        Provider::Edgeros => {
            let wrong = shared
                .credentials
                .openapi_platform_key
                .sign_base64(b"not what the platform signed")
                .unwrap_or_default();
            if let Some(data) = doc.get_mut("data").and_then(Value::as_object_mut) {
                data.insert("sign".to_owned(), Value::String(wrong));
            }
        }
        Provider::Cpos => {
            if let Some(map) = doc.as_object_mut() {
                map.insert(
                    "sign".to_owned(),
                    Value::String(refund_cpos::sign::md5_upper_hex("wrong secret")),
                );
            }
        }
        _ => return body,
    }
    serde_json::to_vec(&doc).unwrap_or(body)
}
