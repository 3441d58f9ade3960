//! Each provider's client built from its section: one source per credential, base URLs and
//! keys checked with messages that name the place, never the value.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use refund_core::http::HttpConfig;
use refund_core::rsa_keys::{RsaPrivateKey, RsaPublicKey};
use refund_core::signer::Signer;
use refund_core::{Provider, RefundProvider, Secret};
use refund_openapi::TimestampUnit;

use super::{CPOS_SECRET_ENV, Config, OneOrMany, ProviderArg, Sourced};
use crate::error::CliError;
use crate::signer::CommandSigner;

/// `private_key_command_timeout`: 10 ms to 10 minutes.
const SIGNER_TIMEOUT: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(600));

/// Where a section's merchant key comes from: exactly one of these three keys.
struct MerchantKeySources<'a> {
    inline: Option<&'a Sourced<String>>,
    file: Option<&'a Sourced<PathBuf>>,
    command: Option<&'a Sourced<Vec<String>>>,
    timeout: Option<&'a Sourced<String>>,
}

/// A section's merchant key sources: `[openapi]` and `[edgeros]` name their keys alike.
macro_rules! merchant_key_of {
    ($section:expr) => {
        MerchantKeySources {
            inline: $section.private_key.as_ref(),
            file: $section.private_key_file.as_ref(),
            command: $section.private_key_command.as_ref(),
            timeout: $section.private_key_command_timeout.as_ref(),
        }
    };
}

/// The clients of the configured providers, and why each unconfigured one gets no query.
pub(crate) type LineClients = (Vec<Box<dyn RefundProvider>>, Vec<(Provider, String)>);

impl Config {
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

    /// One credential, from exactly one source: written inline under `inline_key`, or read from
    /// the file `file_key` names (relative to the config file). Both is a configuration error
    /// naming the two lines (which one to trust would be a guess); neither is `None`.
    fn credential(
        &self,
        provider: Provider,
        (inline_key, inline): (&str, Option<&Sourced<String>>),
        (file_key, file): (&str, Option<&Sourced<PathBuf>>),
    ) -> Result<Option<Credential>, CliError> {
        self.one_source(provider, (inline_key, inline), (file_key, file))?;
        if let Some(text) = inline {
            return Ok(Some(Credential {
                text: text.value().clone(),
                from: format!("`{inline_key}` ({})", self.place(text)),
                in_file: false,
            }));
        }
        let Some(path) = file else {
            return Ok(None);
        };
        Ok(Some(Credential {
            text: self.read_text(provider, file_key, path.value())?,
            from: format!(
                "`{file_key}` {} ({})",
                self.resolve(path.value()).display(),
                self.place(path)
            ),
            in_file: true,
        }))
    }

    /// The rule of one source per credential: two of its keys is an error naming the two lines.
    fn one_source<A, B>(
        &self,
        provider: Provider,
        (inline_key, inline): (&str, Option<&Sourced<A>>),
        (file_key, file): (&str, Option<&Sourced<B>>),
    ) -> Result<(), CliError> {
        match (inline, file) {
            (Some(text), Some(path)) => Err(CliError::config(format!(
                "[{provider}] `{inline_key}` (line {}) and `{file_key}` (line {}) both give it: keep one; {}",
                self.line_of(text),
                self.line_of(path),
                self.where_()
            ))),
            _ => Ok(()),
        }
    }

    /// Every section's credentials have one source each: checked when the file is read, so a
    /// file that gives one credential twice is refused whichever provider a command uses.
    pub(super) fn check_credential_sources(&self) -> Result<(), CliError> {
        if let Some(s) = &self.openapi {
            self.one_merchant_key(Provider::OpenApi, &merchant_key_of!(s))?;
        }
        if let Some(s) = &self.edgeros {
            self.one_merchant_key(Provider::Edgeros, &merchant_key_of!(s))?;
            self.one_source(
                Provider::Edgeros,
                ("platform_public_key", s.platform_public_key.as_ref()),
                (
                    "platform_public_key_file",
                    s.platform_public_key_file.as_ref(),
                ),
            )?;
        }
        if let Some(s) = &self.cpos {
            self.one_source(
                Provider::Cpos,
                ("secret", s.secret.as_ref()),
                ("secret_file", s.secret_file.as_ref()),
            )?;
        }
        Ok(())
    }

    /// A merchant key from exactly one of `private_key`, `private_key_file` and
    /// `private_key_command`; `private_key_command_timeout` only with a command.
    fn one_merchant_key(
        &self,
        provider: Provider,
        keys: &MerchantKeySources<'_>,
    ) -> Result<(), CliError> {
        self.one_source(
            provider,
            ("private_key", keys.inline),
            ("private_key_file", keys.file),
        )?;
        self.one_source(
            provider,
            ("private_key", keys.inline),
            ("private_key_command", keys.command),
        )?;
        self.one_source(
            provider,
            ("private_key_file", keys.file),
            ("private_key_command", keys.command),
        )?;
        if let (Some(timeout), None) = (keys.timeout, keys.command) {
            return Err(CliError::config(format!(
                "{}: [{provider}] `private_key_command_timeout` is set without `private_key_command`",
                self.place(timeout)
            )));
        }
        Ok(())
    }

    /// Who signs the section's requests: the private key (inline or from its file) in this
    /// process, or `private_key_command`; `None` when the section gives neither.
    fn merchant_signer(
        &self,
        provider: Provider,
        keys: &MerchantKeySources<'_>,
    ) -> Result<Option<Arc<dyn Signer>>, CliError> {
        if let Some(command) = keys.command {
            let timeout = match keys.timeout {
                Some(text) => self.signer_timeout(provider, text)?,
                None => crate::signer::DEFAULT_TIMEOUT,
            };
            let signer =
                CommandSigner::new(command.value(), &self.dir, timeout).map_err(|why| {
                    CliError::config(format!(
                        "{}: [{provider}] `private_key_command` {why}",
                        self.place(command)
                    ))
                })?;
            return Ok(Some(Arc::new(signer)));
        }
        let key = self.credential(
            provider,
            ("private_key", keys.inline),
            ("private_key_file", keys.file),
        )?;
        Ok(match key {
            Some(key) => Some(Arc::new(key.private_key(provider)?)),
            None => None,
        })
    }

    /// `private_key_command_timeout`, a duration like the flags' (`500ms`, `10s`), in range; a
    /// refusal names the line and the rule, never the value.
    fn signer_timeout(
        &self,
        provider: Provider,
        text: &Sourced<String>,
    ) -> Result<Duration, CliError> {
        crate::args::duration_in(text.value(), SIGNER_TIMEOUT).map_err(|_| {
            CliError::config(format!(
                "{}: [{provider}] `private_key_command_timeout` must be a duration like 500ms, 10s or 1m, from {} to {}",
                self.place(text),
                refund_core::http::humane(SIGNER_TIMEOUT.0),
                refund_core::http::humane(SIGNER_TIMEOUT.1)
            ))
        })
    }

    /// The platform's public keys: `platform_public_key` (inline) or `platform_public_key_file`,
    /// each one value or a list (several keys live while the platform rotates); an empty list
    /// or an entry that cannot be read or parsed is a configuration error naming the entry.
    fn platform_keys(
        &self,
        provider: Provider,
        inline: Option<&Sourced<OneOrMany<String>>>,
        file: Option<&Sourced<OneOrMany<PathBuf>>>,
    ) -> Result<Option<Vec<RsaPublicKey>>, CliError> {
        self.one_source(
            provider,
            ("platform_public_key", inline),
            ("platform_public_key_file", file),
        )?;
        let credentials = match (inline, file) {
            (Some(inline), _) => {
                let entries = self.entries(provider, "platform_public_key", inline)?;
                entries
                    .into_iter()
                    .map(|(text, from)| Credential {
                        text: text.clone(),
                        from: format!("`platform_public_key` {from}"),
                        in_file: false,
                    })
                    .collect::<Vec<_>>()
            }
            (None, Some(file)) => {
                let key = "platform_public_key_file";
                let mut all = Vec::new();
                for (path, from) in self.entries(provider, key, file)? {
                    let resolved = self.resolve(path);
                    let text = std::fs::read_to_string(&resolved).map_err(|e| {
                        CliError::config(format!(
                            "[{provider}] `{key}` {from}: cannot read {}: {e}",
                            resolved.display()
                        ))
                    })?;
                    all.push(Credential {
                        text,
                        from: format!("`{key}` {} {from}", resolved.display()),
                        in_file: true,
                    });
                }
                all
            }
            (None, None) => return Ok(None),
        };
        credentials
            .iter()
            .map(|c| c.public_key(provider))
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// The entries of a one-or-many value, each with where it is ("(config file F, line N)",
    /// "entry 2 (config file F, line N)"); an empty list is refused.
    fn entries<'v, T>(
        &self,
        provider: Provider,
        key: &str,
        value: &'v Sourced<OneOrMany<T>>,
    ) -> Result<Vec<(&'v T, String)>, CliError> {
        match value.value() {
            OneOrMany::One(one) => Ok(vec![(one, format!("({})", self.place(value)))]),
            OneOrMany::Many(all) if all.is_empty() => Err(CliError::config(format!(
                "{}: [{provider}] `{key}` is an empty list: give at least one key",
                self.place(value)
            ))),
            OneOrMany::Many(all) => Ok(all
                .iter()
                .enumerate()
                .map(|(i, entry)| {
                    (
                        entry.value(),
                        format!("entry {} ({})", i + 1, self.place(entry)),
                    )
                })
                .collect()),
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

    /// For a run whose lines name their own provider (a mixed ledger): the client of every
    /// provider with a section (an invalid section is an error, before anything is sent), and
    /// for each provider without one, why its lines get no query.
    pub(crate) fn clients_for_lines(&self, http: &HttpConfig) -> Result<LineClients, CliError> {
        let (mut clients, mut missing) = (Vec::new(), Vec::new());
        for (arg, provider, present) in [
            (
                ProviderArg::Openapi,
                Provider::OpenApi,
                self.openapi.is_some(),
            ),
            (
                ProviderArg::Edgeros,
                Provider::Edgeros,
                self.edgeros.is_some(),
            ),
            (ProviderArg::Cpos, Provider::Cpos, self.cpos.is_some()),
        ] {
            if present {
                clients.push(self.client(arg, http.clone())?);
            } else {
                missing.push((
                    provider,
                    format!(
                        "provider {provider} is not configured: no [{provider}] section; {}",
                        self.where_()
                    ),
                ));
            }
        }
        Ok((clients, missing))
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
            Some(s) => self.merchant_signer(p, &merchant_key_of!(s))?,
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
            .merchant_signer(key)
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
                self.merchant_signer(p, &merchant_key_of!(s))?,
                self.platform_keys(
                    p,
                    s.platform_public_key.as_ref(),
                    s.platform_public_key_file.as_ref(),
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
            .merchant_signer(key)
            .platform_public_keys(platform)
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
