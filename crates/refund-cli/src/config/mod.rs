//! `refund.toml`: one optional section per provider; key file paths are relative to the file.
//! This module is the file's schema and how it is found and read; `messages` says what is wrong
//! with a file without repeating it; `clients` builds each provider's client from its section.

mod clients;
mod messages;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use refund_core::Currency;
use refund_cpos::ResponseSignature;
use refund_openapi::TimestampUnit;
use serde::{Deserialize, Deserializer};

pub(crate) use self::clients::Pins;
pub(crate) use self::messages::describe_toml_error;
use self::messages::parsed_message;
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

/// One value or a list of them (`platform_public_key_file = "a.pem"` or
/// `["a.pem", "b.pem"]`), each entry with its place in the file. `Debug` never shows a value.
#[derive(Clone)]
enum OneOrMany<T> {
    One(T),
    Many(Vec<Sourced<T>>),
}

impl<T> std::fmt::Debug for OneOrMany<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OneOrMany::One(_) => f.write_str("One(<redacted>)"),
            OneOrMany::Many(all) => write!(f, "Many({} entries)", all.len()),
        }
    }
}

impl<'de, T: From<String> + Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit<T>(std::marker::PhantomData<T>);
        impl<'de, T: From<String> + Deserialize<'de>> serde::de::Visitor<'de> for Visit<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(OneOrMany::One(T::from(v.to_owned())))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut all = Vec::new();
                while let Some(entry) = seq.next_element::<Sourced<T>>()? {
                    all.push(entry);
                }
                Ok(OneOrMany::Many(all))
            }
        }
        d.deserialize_any(Visit(std::marker::PhantomData))
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
            "private_key_command",
            "private_key_command_timeout",
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
            "private_key_command",
            "private_key_command_timeout",
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
    private_key_command: Option<Sourced<Vec<String>>>,
    private_key_command_timeout: Option<Sourced<String>>,
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
    private_key_command: Option<Sourced<Vec<String>>>,
    private_key_command_timeout: Option<Sourced<String>>,
    platform_public_key_file: Option<Sourced<OneOrMany<PathBuf>>>,
    platform_public_key: Option<Sourced<OneOrMany<String>>>,
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
        config.check_credential_sources()?;
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
}

/// The user's configuration folder: `$XDG_CONFIG_HOME` (when absolute) or `~/.config` on Linux
/// and macOS alike (what command-line tools use there), `%APPDATA%` on Windows.
fn user_config_dir() -> Option<PathBuf> {
    use etcetera::BaseStrategy as _;
    etcetera::choose_base_strategy()
        .ok()
        .map(|dirs| dirs.config_dir())
}
