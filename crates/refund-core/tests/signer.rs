//! The signing step of the pipeline with signers of every kind: called once per attempt, its
//! answer checked, its time counted against the query's deadline, never blocking the runtime.
#![cfg(feature = "http")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use refund_core::client::{Client, ClientOptions};
use refund_core::explain::KeyIdentity;
use refund_core::http::{Bytes, HttpConfig, Reply, RetryPolicy, SendFuture, Transport};
use refund_core::protocol::{Binding, Bound, Protocol};
use refund_core::signer::{Draft, SignFuture, Signer, SignerError, Unsigned};
use refund_core::*;

/// A protocol whose request waits for a signature over the id, sent in a header.
#[derive(Debug)]
struct Signed(Arc<dyn Signer>);

#[derive(serde::Deserialize)]
struct Answer {
    id: String,
}

impl Protocol for Signed {
    type Answer<'b> = Answer;
    type Builder = ();
    type Document<'b> = serde_json::Value;
    type Pending = ();
    const PROVIDER: Provider = Provider::Edgeros;
    const SUPPORTED_LOOKUPS: &'static [LookupKind] = &[LookupKind::RefundId];
    const MAX_ID_CHARS: usize = 32;

    fn draft(&self, lookup: &RefundLookup) -> Result<Draft<()>, Error> {
        Ok(Draft::Unsigned(Unsigned::new(lookup.id().to_owned(), ())))
    }

    fn attach(&self, unsigned: Unsigned<()>, signature: &str) -> Result<PreparedRequest, Error> {
        let mut request = PreparedRequest::json_post(
            "http://127.0.0.1:9/q".into(),
            unsigned.text().as_bytes().to_vec(),
        );
        request
            .headers
            .push(("x-sign".into(), signature.to_owned().into()));
        Ok(request)
    }

    fn signer(&self) -> Option<&dyn Signer> {
        Some(self.0.as_ref())
    }

    fn verify_response(&self, _: &[u8], _: &serde_json::Value) -> Result<SignatureCheck, Error> {
        Ok(Verification::NotSigned.into())
    }

    fn decode(&self, _: &[u8], value: serde_json::Value) -> Result<Answer, Error> {
        json::decode_value(Provider::Edgeros, &value)
    }

    fn bindings<'a>(&'a self, answer: &'a Answer, lookup: &'a RefundLookup) -> Vec<Binding<'a>> {
        vec![Binding::new("id", lookup.id(), Some(&answer.id))]
    }

    fn map(&self, _: &Bound<Answer>) -> Result<Vec<Refund>, Error> {
        Ok(vec![Refund::new(
            Provider::Edgeros,
            Money::from_minor(1, Currency::Cny),
            RefundStatus::Succeeded,
        )])
    }
}

/// Signs after `delay` with `len` bytes, counting its calls.
#[derive(Debug)]
struct TestSigner {
    delay: Duration,
    len: usize,
    calls: AtomicU32,
}

impl TestSigner {
    fn new(delay: Duration, len: usize) -> Arc<Self> {
        Arc::new(TestSigner {
            delay,
            len,
            calls: AtomicU32::new(0),
        })
    }
}

impl Signer for TestSigner {
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            if !self.delay.is_zero() {
                tokio::time::sleep(self.delay).await;
            }
            if message.is_empty() {
                return Err(SignerError::new("nothing to sign"));
            }
            Ok(vec![7; self.len])
        })
    }

    fn identity(&self) -> KeyIdentity {
        KeyIdentity::new("merchant signer", "test", "test signer")
    }
}

/// Answers 503 `failures` times, then `{"id": <body>}`; counts the requests it saw.
#[derive(Debug)]
struct Flaky {
    failures: u32,
    seen: AtomicU32,
    signatures: std::sync::Mutex<Vec<String>>,
}

impl Transport for Flaky {
    fn send<'a>(
        &'a self,
        _: Provider,
        request: &'a PreparedRequest,
        _: Duration,
    ) -> SendFuture<'a> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        self.signatures
            .lock()
            .unwrap()
            .push(request.header("x-sign").unwrap_or_default().to_owned());
        let id = request.body_text().unwrap_or_default().to_owned();
        Box::pin(async move {
            Ok(if n < self.failures {
                Reply::new(503, Bytes::from_static(b"busy")).with_header("retry-after", "0")
            } else {
                Reply::new(200, Bytes::from(format!(r#"{{"id":"{id}"}}"#)))
            })
        })
    }
}

fn client(signer: Arc<dyn Signer>, transport: Arc<Flaky>, http: HttpConfig) -> Client<Signed> {
    let options = ClientOptions::default()
        .with_http_config(http)
        .with_transport(transport);
    Client::new(Signed(signer), options).unwrap()
}

fn flaky(failures: u32) -> Arc<Flaky> {
    Arc::new(Flaky {
        failures,
        seen: AtomicU32::new(0),
        signatures: Default::default(),
    })
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn fast_retries() -> HttpConfig {
    let mut retry = RetryPolicy::with_retries(2);
    retry.base_delay = Duration::from_millis(1);
    HttpConfig::default().with_retry(retry)
}

#[test]
fn every_attempt_is_signed_once_by_the_signer() {
    block_on(async {
        let signer = TestSigner::new(Duration::from_millis(5), 256);
        let transport = flaky(2);
        let c = client(signer.clone(), transport.clone(), fast_retries());
        let refunds = c.query(&RefundLookup::refund_id("R1")).await.unwrap();
        assert_eq!(refunds.len(), 1);
        assert_eq!(signer.calls.load(Ordering::SeqCst), 3);
        assert_eq!(transport.seen.load(Ordering::SeqCst), 3);
        // Standard base64 of the signer's bytes, attached to every attempt.
        let sent = transport.signatures.lock().unwrap().clone();
        assert!(
            sent.iter().all(|s| s.len() == 344 && s.starts_with("BwcH")),
            "{sent:?}"
        );
    });
}

#[test]
fn a_signer_that_answers_wrongly_fails_before_anything_is_sent() {
    block_on(async {
        for (len, needle) in [(3, "not an RSA signature"), (2000, "not an RSA signature")] {
            let transport = flaky(0);
            let c = client(
                TestSigner::new(Duration::ZERO, len),
                transport.clone(),
                fast_retries(),
            );
            let err = c.query(&RefundLookup::refund_id("R1")).await.unwrap_err();
            assert_eq!(err.kind(), "signer");
            assert!(err.to_string().contains(needle), "{err}");
            assert_eq!(transport.seen.load(Ordering::SeqCst), 0, "nothing sent");
        }
        // The lookup is checked before the signer is asked.
        let signer = TestSigner::new(Duration::ZERO, 256);
        let transport = flaky(0);
        let c = client(signer.clone(), transport.clone(), fast_retries());
        let err = c.query(&RefundLookup::refund_id("")).await.unwrap_err();
        assert_eq!(
            err.kind(),
            "invalid_request",
            "the lookup is checked before signing"
        );
        assert_eq!(signer.calls.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn the_signers_time_counts_against_the_deadline() {
    block_on(async {
        let signer = TestSigner::new(Duration::from_secs(30), 256);
        let transport = flaky(0);
        let http = fast_retries().with_overall_timeout(Duration::from_millis(200));
        let c = client(signer, transport.clone(), http);
        let started = std::time::Instant::now();
        let err = c.query(&RefundLookup::refund_id("R1")).await.unwrap_err();
        assert_eq!(err.kind(), "signer");
        assert!(err.to_string().contains("deadline"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(transport.seen.load(Ordering::SeqCst), 0);
    });
}

#[test]
fn sans_io_signing_by_hand_and_without_a_runtime() {
    block_on(async {
        let signer = TestSigner::new(Duration::from_millis(50), 256);
        let c = client(signer, flaky(0), fast_retries());
        let lookup = RefundLookup::refund_id("R1");
        // A signer that waits cannot be used without a runtime: said, not blocked on.
        assert_eq!(c.prepare_now(&lookup).unwrap_err().kind(), "signer");
        // By hand: the exact text to sign, signed anywhere, attached.
        let Draft::Unsigned(unsigned) = c.draft(&lookup).unwrap() else {
            panic!("a signed protocol's draft waits for its signature");
        };
        assert_eq!(unsigned.text(), "R1");
        let request = c.attach(unsigned, "c2ln").unwrap();
        assert_eq!(request.header("x-sign"), Some("c2ln"));
        // Awaited: the same request with the signer's signature.
        let prepared = c.prepare(&lookup).await.unwrap();
        assert_eq!(prepared.header("x-sign").map(str::len), Some(344));
        // An explanation runs the signer and names it.
        let explained = c.explain_request(&lookup).await.unwrap();
        assert_eq!(explained.request.header("x-sign").map(str::len), Some(344));
    });
}
