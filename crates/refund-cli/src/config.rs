//! `refund.toml`: one optional section per provider. Key file paths are relative to the file.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use refund_core::http::HttpConfig;
use refund_core::rsa_keys::{RsaPrivateKey, RsaPublicKey};
use refund_core::{Currency, Provider, RefundProvider, Secret};
use refund_cpos::ResponseSignature;
use refund_openapi::TimestampUnit;
use serde::{Deserialize, Deserializer};

use crate::error::CliError;

/// A typed config value: its key and the values it accepts, for messages that never repeat
/// what was written (a misplaced secret must not reach stderr).
trait Accepted: FromStr {
    const KEY: &'static str;
    const ACCEPTED: &'static str;
}

impl Accepted for Currency {
    const KEY: &'static str = "currency";
    const ACCEPTED: &'static str = "an ISO 4217 code such as `CNY`";
}

impl Accepted for TimestampUnit {
    const KEY: &'static str = "timestamp_unit";
    const ACCEPTED: &'static str = "`millis` or `seconds`";
}

impl Accepted for ResponseSignature {
    const KEY: &'static str = "response_signature";
    const ACCEPTED: &'static str = "`required` or `optional`";
}

/// Reads a typed value through its `FromStr` (case rules and aliases stay the type's own), so
/// a bad value is reported by the TOML parser with its line, never later as text.
fn parsed<'de, D: Deserializer<'de>, T: Accepted>(d: D) -> Result<Option<T>, D::Error> {
    Option::<String>::deserialize(d)?
        .map(|text| {
            text.parse()
                .map_err(|_| serde::de::Error::custom(parsed_message::<T>()))
        })
        .transpose()
}

/// A config value and where it was written (its byte span in the file). `Debug` never shows the
/// value: it may be a secret, a key or a URL with an internal host.
#[derive(Clone, Deserialize)]
#[serde(transparent)]
struct Sourced<T>(toml::Spanned<T>);

impl<T> Sourced<T> {
    fn value(&self) -> &T {
        self.0.get_ref()
    }

    fn start(&self) -> usize {
        self.0.span().start
    }
}

impl<T> std::fmt::Debug for Sourced<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Sourced(<redacted> at byte {})", self.start())
    }
}

/// The sections of the file, and each one's keys (in the order serde lists them).
const SECTIONS: [(&str, &[&str]); 3] = [
    (
        "openapi",
        &[
            "base_url",
            "app_id",
            "private_key_file",
            "private_key",
            "timestamp_unit",
            "currency",
        ],
    ),
    (
        "edgeros",
        &[
            "base_url",
            "mch_no",
            "private_key_file",
            "private_key",
            "platform_public_key_file",
            "platform_public_key",
        ],
    ),
    (
        "cpos",
        &[
            "base_url",
            "access_id",
            "secret",
            "secret_file",
            "response_signature",
        ],
    ),
];

/// A name of ours (a section or a key): the only file text a message may repeat.
fn ours(name: &str) -> bool {
    SECTIONS
        .iter()
        .any(|(section, keys)| *section == name || keys.contains(&name))
}

/// serde's list of expected names, as its "unknown field" message writes it.
fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => "there are no fields".to_owned(),
        [one] => one.clone(),
        [a, b] => format!("{a} or {b}"),
        all => format!("one of {}", all.join(", ")),
    }
}

/// The words the TOML parser's own syntax messages are made of; a line of other words is not
/// repeated (it may quote the file).
const PARSER_WORDS: [&str; 62] = [
    "invalid",
    "table",
    "header",
    "expected",
    "string",
    "basic",
    "literal",
    "key",
    "keys",
    "unexpected",
    "content",
    "newline",
    "duplicate",
    "in",
    "document",
    "root",
    "array",
    "arrays",
    "of",
    "tables",
    "integer",
    "float",
    "datetime",
    "boolean",
    "value",
    "values",
    "escape",
    "unicode",
    "multiline",
    "multi",
    "line",
    "comment",
    "whitespace",
    "leading",
    "zero",
    "zeros",
    "digit",
    "digits",
    "sign",
    "hex",
    "octal",
    "binary",
    "offset",
    "date",
    "time",
    "fraction",
    "mixed",
    "type",
    "types",
    "inline",
    "trailing",
    "comma",
    "separator",
    "equals",
    "end",
    "input",
    "character",
    "characters",
    "control",
    "non",
    "ascii",
    "or",
];

/// A short punctuation token the parser quotes (`` `.` ``, `` `]` ``, `` `"` ``), or a name of
/// ours.
fn quotable(token: &str) -> bool {
    (token.chars().count() <= 2 && !token.chars().any(char::is_alphanumeric)) || ours(token)
}

/// One line of the parser's reason, rebuilt from what we know rather than cut out of its text:
/// an unknown key, a wrong type or a duplicate key is said in our words with our names only;
/// our own messages and the parser's syntax messages pass when every word and quoted token is
/// one we know. Anything else is not repeated: a key or value in the wrong place may be a
/// secret, and its text can hold quotes or backticks that defeat any cutting.
fn reason_line(line: &str) -> String {
    if line.starts_with("unknown field ") {
        // The expected names are ours; which list it is tells the section. The unknown name
        // itself is never repeated.
        let root: Vec<&str> = SECTIONS.iter().map(|(s, _)| *s).collect();
        let lists = std::iter::once(root.as_slice()).chain(SECTIONS.iter().map(|(_, k)| *k));
        for names in lists {
            let expected = one_of(names);
            if line.ends_with(&format!(", expected {expected}")) {
                return format!("unknown key, expected {expected}");
            }
        }
        return "unknown key".to_owned();
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = line.strip_prefix(prefix) {
            const KINDS: [&str; 12] = [
                "boolean",
                "integer",
                "floating point",
                "character",
                "string",
                "byte array",
                "unit value",
                "sequence",
                "map",
                "enum",
                "datetime",
                "table",
            ];
            const EXPECTED: [&str; 8] = [
                "a string",
                "a sequence",
                "a boolean",
                "an integer",
                "a map",
                "struct OpenApiSection",
                "struct EdgerosSection",
                "struct CposSection",
            ];
            let (found, expected) = rest.rsplit_once(", expected ").unwrap_or((rest, ""));
            let kind = KINDS.iter().find(|k| found.starts_with(*k));
            let expected = EXPECTED.iter().find(|e| **e == expected);
            return match (kind, expected) {
                (Some(k), Some(e)) => format!("{prefix}{k}, expected {e}"),
                (None, Some(e)) => format!("{prefix}expected {e}"),
                _ => prefix.trim_end_matches([':', ' ']).to_owned(),
            };
        }
    }
    if line.starts_with("duplicate key ") {
        // "duplicate key `K` in table `T`": repeated only when both names are ours.
        let tokens: Vec<&str> = line.split('`').skip(1).step_by(2).collect();
        return match tokens.as_slice() {
            [key, table] if ours(key) && ours(table) => {
                format!("duplicate key `{key}` in table `{table}`")
            }
            [key] if ours(key) && line.ends_with("in document root") => {
                format!("duplicate key `{key}` in document root")
            }
            _ => "duplicate key".to_owned(),
        };
    }
    let own = [
        parsed_message::<Currency>(),
        parsed_message::<TimestampUnit>(),
        parsed_message::<ResponseSignature>(),
    ];
    if own.iter().any(|m| m == line) {
        return line.to_owned();
    }
    if let Some(name) = line
        .strip_prefix("missing field `")
        .and_then(|r| r.strip_suffix('`'))
        .filter(|n| ours(n))
    {
        return format!("missing field `{name}`");
    }
    // The parser's syntax messages: every quoted token ours or punctuation, every other word
    // one of its own, no double quote outside a token.
    let pieces: Vec<&str> = line.split('`').collect();
    let balanced = pieces.len() % 2 == 1;
    let tokens_ok = pieces.iter().skip(1).step_by(2).all(|t| quotable(t));
    let words_ok = pieces.iter().step_by(2).all(|text| {
        !text.contains('"')
            && text
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .all(|w| {
                    PARSER_WORDS.contains(&w.to_ascii_lowercase().as_str())
                        || (w.len() <= 2 && w.bytes().all(|b| b.is_ascii_digit()))
                })
    });
    if balanced && tokens_ok && words_ok {
        line.to_owned()
    } else {
        "(the parser's reason is not shown: it may quote the file)".to_owned()
    }
}

/// The message [`parsed`] gives for a value its type refuses.
fn parsed_message<T: Accepted>() -> String {
    format!("`{}` must be {}", T::KEY, T::ACCEPTED)
}

/// A TOML error as `(line L, column C, key K): reason`: the parser's own Display quotes the
/// offending line, which may hold a secret, so only positions, a known key name and the reason
/// are kept.
pub(crate) fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let mut place = Vec::new();
    if let Some(span) = e.span() {
        let before = text.get(..span.start).unwrap_or_default();
        let line = before.matches('\n').count() + 1;
        let column = before
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        place.push(format!("line {line}, column {column}"));
        let line_text = text.lines().nth(line - 1).unwrap_or_default();
        let left = line_text.split('=').next().unwrap_or_default().trim();
        if ours(left) {
            place.push(format!("key `{left}`"));
        }
    }
    // The reason keeps toml's own lines (e.g. "invalid table header" / "expected `.`, `]`"),
    // each escaped and scrubbed, indented under the place.
    let reason: Vec<String> = e
        .message()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| crate::output::one_line(&reason_line(l.trim_end())))
        .collect();
    let reason = reason.join("\n  ");
    if place.is_empty() {
        reason
    } else {
        format!("({}):\n  {reason}", place.join(", "))
    }
}

/// A provider on the command line: one section of the file each. Matched exhaustively, so a new
/// provider cannot be forgotten in any command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ProviderArg {
    Openapi,
    Edgeros,
    Cpos,
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    #[serde(default)]
    pub(crate) openapi: Option<OpenApiSection>,
    #[serde(default)]
    pub(crate) edgeros: Option<EdgerosSection>,
    #[serde(default)]
    pub(crate) cpos: Option<CposSection>,
    /// The folder relative paths are resolved against.
    #[serde(skip)]
    pub(crate) dir: PathBuf,
    /// Where the file was read from, for messages.
    #[serde(skip)]
    pub(crate) source: Option<PathBuf>,
    /// Where each line of the file starts (byte offsets), to name a value's line.
    #[serde(skip)]
    line_starts: Vec<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenApiSection {
    base_url: Option<Sourced<String>>,
    app_id: Option<String>,
    private_key_file: Option<Sourced<PathBuf>>,
    private_key: Option<Sourced<String>>,
    #[serde(default, deserialize_with = "parsed")]
    timestamp_unit: Option<TimestampUnit>,
    #[serde(default, deserialize_with = "parsed")]
    currency: Option<Currency>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgerosSection {
    base_url: Option<Sourced<String>>,
    mch_no: Option<String>,
    private_key_file: Option<Sourced<PathBuf>>,
    private_key: Option<Sourced<String>>,
    platform_public_key_file: Option<Sourced<PathBuf>>,
    platform_public_key: Option<Sourced<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CposSection {
    base_url: Option<Sourced<String>>,
    access_id: Option<String>,
    secret: Option<Sourced<String>>,
    secret_file: Option<Sourced<PathBuf>>,
    #[serde(default, deserialize_with = "parsed")]
    response_signature: Option<ResponseSignature>,
}

/// The environment variable that supplies (and overrides) the CPOS secret.
pub(crate) const CPOS_SECRET_ENV: &str = "REFUND_CPOS_SECRET";

impl Config {
    /// `--config FILE` (must exist), else `./refund.toml`, else the user's config folder, else
    /// an empty configuration.
    pub(crate) fn load(explicit: Option<&Path>) -> Result<Config, CliError> {
        if let Some(path) = explicit {
            match std::fs::metadata(path) {
                Ok(m) if !m.is_file() => {
                    return Err(CliError::config(format!(
                        "config file {} is not a regular file",
                        path.display()
                    )));
                }
                Ok(_) => {}
                Err(_) => {
                    return Err(CliError::config(format!(
                        "config file {} does not exist",
                        path.display()
                    )));
                }
            }
        }
        let Some(path) = Self::path_to_load(explicit) else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| CliError::config(format!("cannot read config {}: {e}", path.display())))?;
        let mut config: Config = toml::from_str(&text).map_err(|e| {
            CliError::config(format!(
                "invalid config {} {}",
                path.display(),
                describe_toml_error(&text, &e)
            ))
        })?;
        config.dir = path.parent().map(Path::to_owned).unwrap_or_default();
        config.source = Some(path);
        config.line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Ok(config)
    }

    /// The file [`Config::load`] reads: `--config FILE`, else `./refund.toml`, else the user's
    /// config folder's; `None` when there is none.
    pub(crate) fn path_to_load(explicit: Option<&Path>) -> Option<PathBuf> {
        if let Some(path) = explicit {
            return Some(path.to_owned());
        }
        let mut candidates = vec![PathBuf::from("refund.toml")];
        if let Some(dir) = user_config_dir() {
            candidates.push(dir.join("refund").join("refund.toml"));
        }
        candidates.into_iter().find(|p| p.is_file())
    }

    fn where_(&self) -> String {
        match &self.source {
            Some(p) => format!("config file: {}", p.display()),
            None => "no config file found (--config FILE, ./refund.toml or ~/.config/refund/refund.toml)".to_owned(),
        }
    }

    fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.dir.join(path)
        }
    }

    fn not_configured(&self, provider: Provider, missing: &[&str]) -> CliError {
        CliError::config(format!(
            "provider {provider} is not configured: missing {} in [{provider}]; {}",
            missing.join(", "),
            self.where_()
        ))
    }

    fn read_text(&self, provider: Provider, key: &str, path: &Path) -> Result<String, CliError> {
        let path = self.resolve(path);
        std::fs::read_to_string(&path).map_err(|e| {
            CliError::config(format!(
                "[{provider}] {key}: cannot read {}: {e}",
                path.display()
            ))
        })
    }

    /// The 1-based line of the file a value was written on.
    fn line_of<T>(&self, value: &Sourced<T>) -> usize {
        self.line_starts
            .partition_point(|&start| start <= value.start())
    }

    /// "config file F, line N" for a value.
    fn place<T>(&self, value: &Sourced<T>) -> String {
        match &self.source {
            Some(p) => format!("config file {}, line {}", p.display(), self.line_of(value)),
            None => format!("line {}", self.line_of(value)),
        }
    }

    /// One credential, from exactly one source: written inline under `inline_key`, or read from
    /// the file `file_key` names (relative to the config file). Both is a configuration error
    /// naming the two lines (which one to trust would be a guess); neither is `None`.
    fn credential(
        &self,
        provider: Provider,
        (inline_key, inline): (&str, Option<&Sourced<String>>),
        (file_key, file): (&str, Option<&Sourced<PathBuf>>),
    ) -> Result<Option<Credential>, CliError> {
        match (inline, file) {
            (Some(text), Some(path)) => Err(CliError::config(format!(
                "[{provider}] `{inline_key}` (line {}) and `{file_key}` (line {}) both give it: keep one; {}",
                self.line_of(text),
                self.line_of(path),
                self.where_()
            ))),
            (Some(text), None) => Ok(Some(Credential {
                text: text.value().clone(),
                from: format!("`{inline_key}` ({})", self.place(text)),
                in_file: false,
            })),
            (None, Some(path)) => Ok(Some(Credential {
                text: self.read_text(provider, file_key, path.value())?,
                from: format!(
                    "`{file_key}` {} ({})",
                    self.resolve(path.value()).display(),
                    self.place(path)
                ),
                in_file: true,
            })),
            (None, None) => Ok(None),
        }
    }

    /// A base URL, checked here so a refusal names the line and the rule, never the value (it
    /// may hold credentials or an internal host).
    fn base_url(&self, provider: Provider, url: &Sourced<String>) -> Result<String, CliError> {
        refund_core::request::validate_base_url(url.value()).map_err(|e| {
            let rule = match &e {
                refund_core::Error::Config { reason, .. } => reason.clone(),
                other => other.kind().to_owned(),
            };
            CliError::config(format!(
                "{}: [{provider}] `base_url` {rule}",
                self.place(url)
            ))
        })?;
        Ok(url.value().clone())
    }

    /// Builds the client for `provider`, or says exactly which keys are missing.
    pub(crate) fn client(
        &self,
        provider: ProviderArg,
        http: HttpConfig,
    ) -> Result<Box<dyn RefundProvider>, CliError> {
        self.client_pinned(provider, http, &Pins::default())
    }

    /// The same, with the random and time inputs of signing pinned (`refund explain request
    /// --nonce/--timestamp`, to reproduce a provider's example byte for byte).
    pub(crate) fn client_pinned(
        &self,
        provider: ProviderArg,
        http: HttpConfig,
        pins: &Pins,
    ) -> Result<Box<dyn RefundProvider>, CliError> {
        Ok(match provider {
            ProviderArg::Openapi => Box::new(self.openapi(http, pins.timestamp)?),
            ProviderArg::Edgeros => Box::new(self.edgeros(http, pins.nonce.clone())?),
            ProviderArg::Cpos => Box::new(self.cpos(http)?),
        })
    }

    fn openapi(
        &self,
        http: HttpConfig,
        timestamp: Option<i64>,
    ) -> Result<refund_openapi::OpenApiClient, CliError> {
        let p = Provider::OpenApi;
        let s = self.openapi.as_ref();
        let key = match s {
            Some(s) => self.credential(
                p,
                ("private_key", s.private_key.as_ref()),
                ("private_key_file", s.private_key_file.as_ref()),
            )?,
            None => None,
        };
        let mut missing = Vec::new();
        if s.and_then(|s| s.base_url.as_ref()).is_none() {
            missing.push("base_url");
        }
        if s.and_then(|s| s.app_id.as_ref()).is_none() {
            missing.push("app_id");
        }
        if key.is_none() {
            missing.push("private_key_file");
        }
        let s = s.filter(|_| missing.is_empty());
        let (Some(s), Some(key), Some(url)) = (s, key, s.and_then(|s| s.base_url.as_ref())) else {
            return Err(self.not_configured(p, &missing));
        };
        let base_url = self.base_url(p, url)?;
        let mut builder = refund_openapi::OpenApiClient::builder()
            .base_url(base_url)
            .app_id(s.app_id.clone().unwrap_or_default())
            .merchant_private_key(key.private_key(p)?)
            .http_config(http);
        let unit = s.timestamp_unit.unwrap_or_default();
        builder = builder.timestamp_unit(unit);
        if let Some(t) = timestamp {
            let at = match unit {
                TimestampUnit::Seconds => chrono::DateTime::from_timestamp(t, 0),
                _ => chrono::DateTime::from_timestamp_millis(t),
            }
            .ok_or_else(|| {
                CliError::usage(format!(
                    "--timestamp {t} is not a time chrono can represent"
                ))
            })?;
            builder = builder.clock(move || at);
        }
        if let Some(currency) = s.currency {
            builder = builder.currency(currency);
        }
        builder.build().map_err(CliError::from)
    }

    fn edgeros(
        &self,
        http: HttpConfig,
        nonce: Option<String>,
    ) -> Result<refund_edgeros::EdgerosClient, CliError> {
        let p = Provider::Edgeros;
        let s = self.edgeros.as_ref();
        let (key, platform) = match s {
            Some(s) => (
                self.credential(
                    p,
                    ("private_key", s.private_key.as_ref()),
                    ("private_key_file", s.private_key_file.as_ref()),
                )?,
                self.credential(
                    p,
                    ("platform_public_key", s.platform_public_key.as_ref()),
                    (
                        "platform_public_key_file",
                        s.platform_public_key_file.as_ref(),
                    ),
                )?,
            ),
            None => (None, None),
        };
        let mut missing = Vec::new();
        if s.and_then(|s| s.mch_no.as_ref()).is_none() {
            missing.push("mch_no");
        }
        if key.is_none() {
            missing.push("private_key_file");
        }
        if platform.is_none() {
            missing.push("platform_public_key_file");
        }
        let (Some(s), Some(key), Some(platform)) =
            (s.filter(|_| missing.is_empty()), key, platform)
        else {
            return Err(self.not_configured(p, &missing));
        };
        let mut builder = refund_edgeros::EdgerosClient::builder()
            .mch_no(s.mch_no.clone().unwrap_or_default())
            .merchant_private_key(key.private_key(p)?)
            .platform_public_key(platform.public_key(p)?)
            .http_config(http);
        if let Some(url) = &s.base_url {
            builder = builder.base_url(self.base_url(p, url)?);
        }
        if let Some(nonce) = nonce {
            builder = builder.nonce_source(move || nonce.clone());
        }
        builder.build().map_err(CliError::from)
    }

    fn cpos(&self, http: HttpConfig) -> Result<refund_cpos::CposClient, CliError> {
        let p = Provider::Cpos;
        let s = self.cpos.as_ref();
        let env_secret = std::env::var(CPOS_SECRET_ENV)
            .ok()
            .filter(|v| !v.is_empty());
        // Two sources in the file is an error even when the environment overrides both.
        let file_secret = match s {
            Some(s) => self.credential(
                p,
                ("secret", s.secret.as_ref()),
                ("secret_file", s.secret_file.as_ref()),
            )?,
            None => None,
        };
        let mut missing = Vec::new();
        if s.and_then(|s| s.base_url.as_ref()).is_none() {
            missing.push("base_url");
        }
        if s.and_then(|s| s.access_id.as_ref()).is_none() {
            missing.push("access_id");
        }
        let secret = match (env_secret, file_secret) {
            (Some(v), _) => Some(Secret::new(v)),
            // A secret file's last line break is not part of the secret.
            (None, Some(c)) if c.in_file => Some(Secret::new(c.text.trim())),
            (None, Some(c)) => Some(Secret::new(c.text)),
            (None, None) => None,
        };
        if secret.is_none() {
            missing.push("secret (or REFUND_CPOS_SECRET)");
        }
        let s = s.filter(|_| missing.is_empty());
        let (Some(s), Some(secret), Some(url)) = (s, secret, s.and_then(|s| s.base_url.as_ref()))
        else {
            return Err(self.not_configured(p, &missing));
        };
        let mut builder = refund_cpos::CposClient::builder()
            .base_url(self.base_url(p, url)?)
            .access_id(s.access_id.clone().unwrap_or_default())
            .secret(secret)
            .http_config(http);
        if let Some(policy) = s.response_signature {
            builder = builder.response_signature(policy);
        }
        builder.build().map_err(CliError::from)
    }
}

/// A credential's text and where it came from (a config line or a file: never its text).
struct Credential {
    text: String,
    from: String,
    /// Read from a file (not written inline).
    in_file: bool,
}

/// The key forms a private or public key setting accepts, for messages.
const KEY_FORMATS: &str = "PEM (PKCS#8 `-----BEGIN PRIVATE KEY-----` or PKCS#1 `-----BEGIN RSA PRIVATE KEY-----`; a public key `-----BEGIN PUBLIC KEY-----`) or bare base64 DER, 2048 bits or more";

impl Credential {
    /// A key that does not parse: where it came from, why (the parser's reason, which never
    /// holds key bytes) and the forms expected; never a character or offset of the key's text
    /// (the parser's own causes can name them, so they are left out).
    fn refused(
        &self,
        provider: Provider,
        what: &str,
        e: &refund_core::rsa_keys::KeyError,
    ) -> CliError {
        CliError::config(format!(
            "[{provider}] {what} from {} does not parse: {}; expected {KEY_FORMATS}",
            self.from, e.reason
        ))
    }

    fn private_key(&self, provider: Provider) -> Result<RsaPrivateKey, CliError> {
        RsaPrivateKey::from_text(&self.text).map_err(|e| self.refused(provider, "private key", &e))
    }

    fn public_key(&self, provider: Provider) -> Result<RsaPublicKey, CliError> {
        RsaPublicKey::from_text(&self.text)
            .map_err(|e| self.refused(provider, "platform public key", &e))
    }
}

/// Signing inputs pinned from the command line (none by default: a fresh nonce, the clock).
#[derive(Debug, Clone, Default)]
pub(crate) struct Pins {
    /// EdgerOS's request nonce.
    pub(crate) nonce: Option<String>,
    /// The Open API `timestamp`, in the configured unit.
    pub(crate) timestamp: Option<i64>,
}

/// The user's configuration folder: `$XDG_CONFIG_HOME` (when absolute) or `~/.config` on Linux
/// and macOS alike (what command-line tools use there), `%APPDATA%` on Windows.
fn user_config_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy as _;
    etcetera::choose_base_strategy()
        .ok()
        .map(|dirs| dirs.config_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(text: &str) -> String {
        match toml::from_str::<Config>(text) {
            Ok(_) => String::new(),
            Err(e) => describe_toml_error(text, &e),
        }
    }

    #[test]
    fn a_toml_error_keeps_its_layout() {
        let e = error_of("[cpos\nbase_url = \"http://x\"\n");
        assert_eq!(
            e,
            "(line 1, column 6):\n  invalid table header\n  expected `.`, `]`"
        );
    }

    #[test]
    fn config_errors_never_repeat_what_was_written() {
        let secret = "hunter2-SECRET";
        let e = error_of(&format!(
            "[cpos]\nbase_url = \"http://x\"\nsecret = \"{secret}\n"
        ));
        assert!(e.starts_with("(line 3, column "), "{e}");
        assert!(e.contains("key `secret`"), "{e}");
        assert!(!e.contains(secret), "{e}");
        let pem = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7";
        let e = error_of(&format!(
            "[openapi]\nprivate_key = \"\"\"\n{pem}\\q{pem}\n\"\"\"\n"
        ));
        assert!(e.contains("line 3"), "{e}");
        assert!(!e.contains(pem), "{e}");
        for text in [
            "[cpos]\nhunter2-SECRET = 1\n",
            "[cpos]\nsecret = 1\nsecret = \"hunter2-SECRET\"\n",
            "cpos = \"hunter2-SECRET\"\n",
            "[cpos]\nbase_url = [\"hunter2-SECRET\"]\n",
        ] {
            let e = error_of(text);
            assert!(!e.is_empty() && !e.contains(secret), "{text}: {e}");
        }
        assert_eq!(
            reason_line("unknown field `x-SECRET`, expected `secret`"),
            "unknown key"
        );
        // #29.19: names and values holding backticks or quotes cannot steer what is repeated.
        for text in [
            "[\"`SECRET\"]\n",
            "[cpos]\n\"`SECRET\" = 1\n",
            "[cpos]\n\"a`SECRETSECRET`c\" = 1\n",
            "[cpos]\n\"x`openapi`SECRET\" = 1\n",
            "cpos = \"x`SECRET\"\n",
            "cpos = \"x, expected SECRET\"\n",
            "[cpos]\nbase_url = 123456789\n",
            "[cpos.\"`SECRET`\"]\n",
            "[cpos]\n\"SECRET\" = 1\n\"SECRET\" = 2\n",
        ] {
            let e = error_of(text);
            assert!(!e.is_empty() && !e.contains("SECRET"), "{text}: {e}");
            assert!(!e.contains("123456789"), "{text}: {e}");
        }
        assert!(
            error_of("[\"`SECRET\"]\n")
                .ends_with("unknown key, expected one of `openapi`, `edgeros`, `cpos`"),
            "the expected names are ours: {}",
            error_of("[\"`SECRET\"]\n")
        );
        assert!(
            error_of("[cpos]\nbase_url = 1\n")
                .ends_with("invalid type: integer, expected a string")
        );
        assert!(
            error_of("[cpos]\nsecret = 1\nsecret = 2\n")
                .ends_with("duplicate key `secret` in table `cpos`")
        );
        let e = error_of("[cpos]\nresponse_signature = \"hunter2-SECRET\"\n");
        assert!(
            e.contains("`response_signature` must be `required` or `optional`"),
            "{e}"
        );
        assert!(!e.contains(secret), "{e}");
    }
}
