//! `refund.toml`: one optional section per provider. Key file paths are relative to the file.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use refund_core::error::chain_text;
use refund_core::http::HttpConfig;
use refund_core::rsa_keys::RsaPrivateKey;
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
            text.parse().map_err(|_| {
                serde::de::Error::custom(format!("`{}` must be {}", T::KEY, T::ACCEPTED))
            })
        })
        .transpose()
}

/// Every key a section can hold: the only config text an error message may repeat.
const KNOWN_KEYS: [&str; 13] = [
    "base_url",
    "app_id",
    "private_key_file",
    "private_key",
    "timestamp_unit",
    "currency",
    "mch_no",
    "platform_public_key_file",
    "platform_public_key",
    "access_id",
    "secret",
    "secret_file",
    "response_signature",
];

/// The parser's reason with every literal it quotes from the file removed: `"..."` always, and
/// `` `...` `` unless it is one of our own key or section names or a punctuation token. An
/// unknown key, a duplicated key or a value of the wrong type could be a secret in the wrong
/// place.
fn scrub(reason: &str) -> String {
    let ours = |token: &str| {
        token.chars().count() <= 2
            || KNOWN_KEYS.contains(&token)
            || [
                "openapi", "edgeros", "cpos", "CNY", "millis", "seconds", "required", "optional",
            ]
            .contains(&token)
    };
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(start) = rest.find(['"', '`']) {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let quote = from.chars().next().unwrap_or('"');
        let body = from.get(1..).unwrap_or_default();
        let Some(end) = body.find(quote) else {
            out.push(quote);
            out.push('…');
            return out;
        };
        let token = body.get(..end).unwrap_or_default();
        out.push(quote);
        out.push_str(if quote == '`' && ours(token) {
            token
        } else {
            "…"
        });
        out.push(quote);
        rest = body.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
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
        if let Some(key) = KNOWN_KEYS.iter().find(|k| **k == left) {
            place.push(format!("key `{key}`"));
        }
    }
    // The reason keeps toml's own lines (e.g. "invalid table header" / "expected `.`, `]`"),
    // each escaped and scrubbed, indented under the place.
    let reason: Vec<String> = e
        .message()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| scrub(&crate::output::one_line(l.trim_end())))
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
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenApiSection {
    base_url: Option<String>,
    app_id: Option<String>,
    private_key_file: Option<PathBuf>,
    private_key: Option<String>,
    #[serde(default, deserialize_with = "parsed")]
    timestamp_unit: Option<TimestampUnit>,
    #[serde(default, deserialize_with = "parsed")]
    currency: Option<Currency>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EdgerosSection {
    base_url: Option<String>,
    mch_no: Option<String>,
    private_key_file: Option<PathBuf>,
    private_key: Option<String>,
    platform_public_key_file: Option<PathBuf>,
    platform_public_key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CposSection {
    base_url: Option<String>,
    access_id: Option<String>,
    secret: Option<String>,
    secret_file: Option<PathBuf>,
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

    /// A key given inline, else read from its `*_file` key (relative to the config file).
    fn inline_or_file(
        &self,
        provider: Provider,
        file_key: &str,
        inline: &Option<String>,
        file: &Option<PathBuf>,
    ) -> Result<String, CliError> {
        match (inline, file) {
            (Some(text), _) => Ok(text.clone()),
            (None, Some(path)) => self.read_text(provider, file_key, path),
            (None, None) => Err(self.not_configured(provider, &[file_key])),
        }
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
        let mut missing = Vec::new();
        if s.and_then(|s| s.base_url.as_ref()).is_none() {
            missing.push("base_url");
        }
        if s.and_then(|s| s.app_id.as_ref()).is_none() {
            missing.push("app_id");
        }
        if s.is_none_or(|s| s.private_key_file.is_none() && s.private_key.is_none()) {
            missing.push("private_key_file");
        }
        let Some(s) = s.filter(|_| missing.is_empty()) else {
            return Err(self.not_configured(p, &missing));
        };
        let key_text =
            self.inline_or_file(p, "private_key_file", &s.private_key, &s.private_key_file)?;
        let key = RsaPrivateKey::from_text(&key_text)
            .map_err(|e| CliError::config(format!("[openapi] private key: {}", chain_text(&e))))?;
        let mut builder = refund_openapi::OpenApiClient::builder()
            .base_url(s.base_url.clone().unwrap_or_default())
            .app_id(s.app_id.clone().unwrap_or_default())
            .merchant_private_key(key)
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
        let mut missing = Vec::new();
        if s.and_then(|s| s.mch_no.as_ref()).is_none() {
            missing.push("mch_no");
        }
        if s.is_none_or(|s| s.private_key_file.is_none() && s.private_key.is_none()) {
            missing.push("private_key_file");
        }
        if s.is_none_or(|s| s.platform_public_key_file.is_none() && s.platform_public_key.is_none())
        {
            missing.push("platform_public_key_file");
        }
        let Some(s) = s.filter(|_| missing.is_empty()) else {
            return Err(self.not_configured(p, &missing));
        };
        let key_text =
            self.inline_or_file(p, "private_key_file", &s.private_key, &s.private_key_file)?;
        let platform_text = self.inline_or_file(
            p,
            "platform_public_key_file",
            &s.platform_public_key,
            &s.platform_public_key_file,
        )?;
        let mut builder = refund_edgeros::EdgerosClient::builder()
            .mch_no(s.mch_no.clone().unwrap_or_default())
            .merchant_private_key_pem(&key_text)
            .map_err(|e| CliError::config(format!("[edgeros] private key: {}", chain_text(&e))))?
            .platform_public_key_pem(&platform_text)
            .map_err(|e| {
                CliError::config(format!("[edgeros] platform public key: {}", chain_text(&e)))
            })?
            .http_config(http);
        if let Some(url) = &s.base_url {
            builder = builder.base_url(url.clone());
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
        let mut missing = Vec::new();
        if s.and_then(|s| s.base_url.as_ref()).is_none() {
            missing.push("base_url");
        }
        if s.and_then(|s| s.access_id.as_ref()).is_none() {
            missing.push("access_id");
        }
        if env_secret.is_none() && s.is_none_or(|s| s.secret.is_none() && s.secret_file.is_none()) {
            missing.push("secret (or REFUND_CPOS_SECRET)");
        }
        let Some(s) = s.filter(|_| missing.is_empty()) else {
            return Err(self.not_configured(p, &missing));
        };
        let secret = match (env_secret, &s.secret, &s.secret_file) {
            (Some(v), _, _) => Secret::new(v),
            (None, Some(v), _) => Secret::new(v.clone()),
            (None, None, Some(path)) => Secret::new(self.read_text(p, "secret_file", path)?.trim()),
            (None, None, None) => return Err(self.not_configured(p, &["secret"])),
        };
        let mut builder = refund_cpos::CposClient::builder()
            .base_url(s.base_url.clone().unwrap_or_default())
            .access_id(s.access_id.clone().unwrap_or_default())
            .secret(secret)
            .http_config(http);
        if let Some(policy) = s.response_signature {
            builder = builder.response_signature(policy);
        }
        builder.build().map_err(CliError::from)
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
            scrub("unknown field `x-SECRET`, expected `secret`"),
            "unknown field `…`, expected `secret`"
        );
        let e = error_of("[cpos]\nresponse_signature = \"hunter2-SECRET\"\n");
        assert!(
            e.contains("`response_signature` must be `required` or `optional`"),
            "{e}"
        );
        assert!(!e.contains(secret), "{e}");
    }
}
