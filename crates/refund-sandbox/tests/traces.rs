//! Every query leaves one structured trace: a `refund.query` span with its outcome and one
//! `refund.attempt` span per attempt, checked field by field with a capturing subscriber; no
//! field holds key material, a signature or an answer body.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use refund_core::RefundLookup;
use refund_sandbox::{Fault, FaultRule};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt as _};
use tracing_subscriber::registry::LookupSpan;

/// A closed span: its name and every field recorded on it, as text.
#[derive(Debug, Clone)]
struct Closed {
    name: String,
    fields: BTreeMap<String, String>,
}

#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
}

/// Keeps every `refund.*` span as it closes.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Closed>>>);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Capture {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        ctx.span(id).unwrap().extensions_mut().insert(fields);
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        let span = ctx.span(id).unwrap();
        let mut ext = span.extensions_mut();
        values.record(ext.get_mut::<Fields>().unwrap());
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        let span = ctx.span(&id).unwrap();
        if !span.name().starts_with("refund.") {
            return;
        }
        let fields = span.extensions().get::<Fields>().unwrap().0.clone();
        self.0.lock().unwrap().push(Closed {
            name: span.name().to_owned(),
            fields,
        });
    }
}

impl Capture {
    /// Where the spans closed from now on start.
    fn mark(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

/// The `name` spans closed since `mark`.
fn spans(capture: &Capture, mark: usize, name: &str) -> Vec<BTreeMap<String, String>> {
    capture
        .0
        .lock()
        .unwrap()
        .iter()
        .skip(mark)
        .filter(|s| s.name == name)
        .map(|s| s.fields.clone())
        .collect()
}

fn field<'a>(fields: &'a BTreeMap<String, String>, name: &str) -> &'a str {
    fields
        .get(name)
        .map(String::as_str)
        .unwrap_or_else(|| panic!("no `{name}` in {fields:?}"))
}

#[tokio::test]
async fn a_query_is_one_span_with_its_attempts_and_outcome() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::registry().with(capture.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let sandbox = common::start().await;
    let credentials = sandbox.credentials().clone();

    // EdgerOS, verified by the platform key: one attempt.
    let client = sandbox
        .edgeros_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    client
        .query(&RefundLookup::refund_id("AR-TIMELINE-1"))
        .await
        .unwrap();
    let query = spans(&capture, 0, "refund.query");
    assert_eq!(query.len(), 1, "{query:?}");
    let q = &query[0];
    assert_eq!(field(q, "provider"), "edgeros");
    assert_eq!(field(q, "lookup_kind"), "refund_id");
    assert_eq!(field(q, "attempts"), "1");
    assert_eq!(field(q, "http_status"), "200");
    assert_eq!(field(q, "outcome"), "ok");
    assert_eq!(field(q, "refunds"), "1");
    assert_eq!(field(q, "verification"), "verified");
    assert_eq!(
        field(q, "key"),
        credentials.edgeros_platform_key.public_key().fingerprint()
    );
    assert!(field(q, "elapsed_ms").parse::<u64>().is_ok());
    let attempts = spans(&capture, 0, "refund.attempt");
    assert_eq!(attempts.len(), 1);
    assert_eq!(field(&attempts[0], "number"), "1");
    assert_eq!(field(&attempts[0], "http_status"), "200");
    assert!(field(&attempts[0], "elapsed_ms").parse::<u64>().is_ok());

    // CPOS with two 500s first: three attempts, each with its status; the query's is the last.
    let mark = capture.mark();
    sandbox.add_fault(FaultRule::refund_id("WX-FAILED-1", Fault::Http500Html).times(2));
    let client = sandbox
        .cpos_client()
        .http_config(common::fast_http())
        .build()
        .unwrap();
    client
        .query(&RefundLookup::refund_id("WX-FAILED-1"))
        .await
        .unwrap();
    let q = &spans(&capture, mark, "refund.query")[0];
    assert_eq!(
        (field(q, "attempts"), field(q, "http_status")),
        ("3", "200")
    );
    let statuses: Vec<String> = spans(&capture, mark, "refund.attempt")
        .iter()
        .map(|a| format!("{} {}", field(a, "number"), field(a, "http_status")))
        .collect();
    assert_eq!(statuses, ["1 500", "2 500", "3 200"]);

    // A refund that does not exist: the outcome is the error's kind.
    let mark = capture.mark();
    let err = client
        .query(&RefundLookup::refund_id("nope"))
        .await
        .unwrap_err();
    let q = &spans(&capture, mark, "refund.query")[0];
    assert_eq!(field(q, "outcome"), err.kind());
    assert!(!q.contains_key("refunds"));

    // No answer at all: the attempt names the transport error's kind.
    let mark = capture.mark();
    let dead = credentials
        .cpos_client("http://127.0.0.1:9")
        .http_config(
            refund_core::http::HttpConfig::default()
                .with_retry(refund_core::http::RetryPolicy::none()),
        )
        .build()
        .unwrap();
    let _ = dead
        .query(&RefundLookup::refund_id("WX-FAILED-1"))
        .await
        .unwrap_err();
    let a = &spans(&capture, mark, "refund.attempt")[0];
    assert_eq!(field(a, "error_kind"), "transport");
    assert!(!a.contains_key("http_status"));

    // Every query above left one span. No field anywhere holds a secret, key material, a signature or a body.
    let secret = credentials.cpos_secret.expose().to_owned();
    let pem = credentials
        .edgeros_merchant_key
        .to_pkcs8_pem()
        .unwrap()
        .expose()
        .to_owned();
    let key_line = pem.lines().nth(1).unwrap().to_owned();
    assert_eq!(spans(&capture, 0, "refund.query").len(), 4);
    for closed in capture.0.lock().unwrap().iter() {
        for value in closed.fields.values() {
            assert!(
                !value.contains(&secret) && !value.contains(&key_line),
                "{closed:?}"
            );
            assert!(
                !value.contains('{') && value.len() < 100,
                "a body or a signature: {closed:?}"
            );
        }
    }
}
