//! What the tool writes to stderr, in one of two forms (`--log-format`): text for people (as
//! it always was), or JSON lines for a log shipper: every line one object with `timestamp`,
//! `level`, `target` and `message`, the event's fields, and the fields of the spans it is in
//! (`refund.query`: provider, lookup kind, attempts, outcome, HTTP status, verification, key,
//! elapsed milliseconds). Tracing events, warnings, errors, summaries and `--explain` output
//! all go through here, so in JSON mode nothing else reaches stderr.

use std::io::Write as _;
use std::sync::OnceLock;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum LogFormat {
    /// Lines for people.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// The form of everything written to stderr from now on; set once, first thing.
pub(crate) fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// Whether stderr takes JSON lines.
pub(crate) fn json() -> bool {
    FORMAT.get() == Some(&LogFormat::Json)
}

/// Tracing on stderr at the `-v` level (none without `-v`, as always), in the chosen form.
pub(crate) fn init_tracing(verbose: u8) {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    if verbose == 0 {
        return;
    }
    let level = match verbose {
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},hyper=info,h2=info,rustls=info"))
    });
    if json() {
        let _ = tracing_subscriber::registry()
            .with(filter)
            .with(JsonLines)
            .try_init();
    } else {
        use std::io::IsTerminal as _;
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init();
    }
}

/// One line of the tool's own on stderr: `text` as it is in text mode; in JSON mode an object
/// with `level`, `message` and `fields` (`target` is `refund`).
pub(crate) fn line(level: Level, text: &str, message: &str, fields: Map<String, Value>) {
    if json() {
        let mut object = Map::new();
        object.insert("timestamp".into(), Value::String(now()));
        object.insert("level".into(), Value::String(level_name(level).into()));
        object.insert("target".into(), Value::String("refund".into()));
        object.insert("message".into(), Value::String(message.to_owned()));
        for (k, v) in fields {
            object.entry(k).or_insert(v);
        }
        write_json(&Value::Object(object));
    } else {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
        if !text.ends_with('\n') {
            let _ = stderr.write_all(b"\n");
        }
    }
}

/// A warning: `refund: warning: {message}` in text mode.
pub(crate) fn warn(message: &str) {
    line(
        Level::WARN,
        &format!("refund: warning: {message}"),
        message,
        Map::new(),
    );
}

/// A notice (`refund: …` in text mode) with no fields.
pub(crate) fn notice(text: &str, message: &str) {
    line(Level::INFO, text, message, Map::new());
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        Level::DEBUG => "debug",
        Level::TRACE => "trace",
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn write_json(value: &Value) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{value}");
}

/// The fields of a span, kept in its extensions as they are recorded.
struct SpanFields(Map<String, Value>);

/// Collects fields as JSON values (numbers stay numbers; `message` is the message).
struct Collect<'a>(&'a mut Map<String, Value>);

impl Visit for Collect<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::String(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::String(value.to_owned()));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::from(value));
    }
}

/// The JSON-lines layer: flat objects (span fields beside the event's), so a shipper reads
/// `provider` or `attempts` at the top level. Kept by hand because tracing-subscriber's JSON
/// formatter nests span fields under `span`/`spans` and the message under `fields`.
struct JsonLines;

impl<S: Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for JsonLines {
    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Map::new();
        attrs.record(&mut Collect(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if let Some(span) = ctx.span(id) {
            if let Some(fields) = span.extensions_mut().get_mut::<SpanFields>() {
                values.record(&mut Collect(&mut fields.0));
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut object = Map::new();
        object.insert("timestamp".into(), Value::String(now()));
        object.insert(
            "level".into(),
            Value::String(level_name(*event.metadata().level()).into()),
        );
        object.insert(
            "target".into(),
            Value::String(event.metadata().target().to_owned()),
        );
        let mut fields = Map::new();
        event.record(&mut Collect(&mut fields));
        object.insert(
            "message".into(),
            fields
                .remove("message")
                .unwrap_or(Value::String(String::new())),
        );
        for (k, v) in fields {
            object.entry(k).or_insert(v);
        }
        // The spans it is in, innermost last: the innermost names `span`, and a field of an
        // inner span wins over the same name in an outer one.
        if let Some(scope) = ctx.event_scope(event) {
            let mut spans: Vec<_> = scope.collect();
            spans.reverse();
            if let Some(inner) = spans.last() {
                object.insert("span".into(), Value::String(inner.name().to_owned()));
            }
            let mut from_spans = Map::new();
            for span in &spans {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    for (k, v) in &f.0 {
                        from_spans.insert(k.clone(), v.clone());
                    }
                }
            }
            for (k, v) in from_spans {
                object.entry(k).or_insert(v);
            }
        }
        write_json(&Value::Object(object));
    }
}
