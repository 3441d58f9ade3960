//! The keys and ids the sandbox uses, and how to hand them to a client.

use std::fmt;
use std::path::Path;

use refund_core::Secret;
use refund_core::rsa_keys::{KeyError, RsaPrivateKey};
use serde::{Deserialize, Serialize};

/// The file that marks a folder as the sandbox's, with the ids the keys belong to.
const MANIFEST: &str = "sandbox.json";
/// The first line of every `refund.toml` the sandbox writes.
const CONFIG_MARKER: &str = "# Written by the refunds-rs sandbox.";

#[derive(Serialize, Deserialize)]
struct Manifest {
    written_by: String,
    openapi_app_id: String,
    edgeros_mch_no: String,
    cpos_access_id: String,
}

/// Every credential a client needs to talk to the sandbox, plus the sandbox's own keys.
///
/// `Debug` shows ids and key sizes only.
#[derive(Clone)]
#[non_exhaustive]
pub struct Credentials {
    /// Open API `appId`.
    pub openapi_app_id: String,
    /// Open API merchant key (the client signs with it; the sandbox verifies with its public half).
    pub openapi_merchant_key: RsaPrivateKey,
    /// The Open API gateway's key (signs refund callbacks).
    pub openapi_platform_key: RsaPrivateKey,
    /// EdgerOS `mch_no`.
    pub edgeros_mch_no: String,
    /// EdgerOS merchant key.
    pub edgeros_merchant_key: RsaPrivateKey,
    /// EdgerOS platform key (the sandbox signs responses with it).
    pub edgeros_platform_key: RsaPrivateKey,
    /// CPOS `accessid`.
    pub cpos_access_id: String,
    /// CPOS shared secret.
    pub cpos_secret: Secret,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("openapi_app_id", &self.openapi_app_id)
            .field("openapi_merchant_key", &self.openapi_merchant_key)
            .field("edgeros_mch_no", &self.edgeros_mch_no)
            .field("edgeros_merchant_key", &self.edgeros_merchant_key)
            .field("edgeros_platform_key", &self.edgeros_platform_key)
            .field("cpos_access_id", &self.cpos_access_id)
            .field("cpos_secret", &self.cpos_secret)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// An Open API client builder pointed at `base_url` (a sandbox serving these credentials).
    pub fn openapi_client(&self, base_url: &str) -> refund_openapi::OpenApiClientBuilder {
        refund_openapi::OpenApiClient::builder()
            .base_url(base_url)
            .app_id(self.openapi_app_id.clone())
            .merchant_private_key(self.openapi_merchant_key.clone())
    }

    /// An EdgerOS client builder pointed at `base_url` (a sandbox serving these credentials).
    pub fn edgeros_client(&self, base_url: &str) -> refund_edgeros::EdgerosClientBuilder {
        refund_edgeros::EdgerosClient::builder()
            .base_url(base_url)
            .mch_no(self.edgeros_mch_no.clone())
            .merchant_private_key(self.edgeros_merchant_key.clone())
            .platform_public_key(self.edgeros_platform_key.public_key().clone())
    }

    /// A CPOS client builder pointed at `base_url` (a sandbox serving these credentials).
    pub fn cpos_client(&self, base_url: &str) -> refund_cpos::CposClientBuilder {
        refund_cpos::CposClient::builder()
            .base_url(base_url)
            .access_id(self.cpos_access_id.clone())
            .secret(self.cpos_secret.clone())
    }

    /// The repository's throwaway test keys (`fixtures/keys/`): instant, deterministic, and
    /// public. **For tests and demos only.**
    ///
    /// ```
    /// let c = refund_sandbox::Credentials::test_keys().unwrap();
    /// assert_eq!(c.edgeros_mch_no, "MCH1000000");
    /// ```
    pub fn test_keys() -> Result<Self, KeyError> {
        Ok(Credentials {
            openapi_app_id: "733b887a4a784708bb369524db5b6ded".to_owned(),
            openapi_merchant_key: RsaPrivateKey::from_text(include_str!(
                "../testdata/keys/openapi_merchant_2048.pem"
            ))?,
            openapi_platform_key: RsaPrivateKey::from_text(include_str!(
                "../testdata/keys/openapi_platform_2048.pem"
            ))?,
            edgeros_mch_no: "MCH1000000".to_owned(),
            edgeros_merchant_key: RsaPrivateKey::from_text(include_str!(
                "../testdata/keys/edgeros_merchant.pem"
            ))?,
            edgeros_platform_key: RsaPrivateKey::from_text(include_str!(
                "../testdata/keys/edgeros_platform.pem"
            ))?,
            cpos_access_id: "cpostest".to_owned(),
            cpos_secret: Secret::new(include_str!("../testdata/keys/cpos_secret.txt").trim()),
        })
    }

    /// Fresh 2048-bit keys and a random secret (takes a moment: RSA key generation).
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Credentials {
            openapi_app_id: refund_core::random::random_token(32).to_ascii_lowercase(),
            openapi_merchant_key: RsaPrivateKey::generate(2048)?,
            openapi_platform_key: RsaPrivateKey::generate(2048)?,
            edgeros_mch_no: "MCH1000000".to_owned(),
            edgeros_merchant_key: RsaPrivateKey::generate(2048)?,
            edgeros_platform_key: RsaPrivateKey::generate(2048)?,
            cpos_access_id: "sandbox".to_owned(),
            cpos_secret: Secret::new(refund_core::random::random_token(32)),
        })
    }

    /// Writes the keys and a ready `refund.toml` (pointing at `base_url`) into `dir`:
    /// `keys/openapi_merchant.pem`, `keys/openapi_platform.pem` (+ `.pub.pem`),
    /// `keys/edgeros_merchant.pem`, `keys/edgeros_platform.pem` (+ `.pub.pem`),
    /// `keys/cpos_secret.txt`, `keys/sandbox.json` (the ids; marks the folder as the sandbox's)
    /// and `refund.toml`.
    ///
    /// It never overwrites a file it did not write: a file that already holds the same content
    /// is left as it is (so a restarted sandbox reuses its folder), a `refund.toml` the sandbox
    /// wrote is refreshed with the new `base_url`, and anything else is an
    /// [`std::io::ErrorKind::AlreadyExists`] error naming the file. With `replace`, the
    /// sandbox's own earlier keys (a folder with `keys/sandbox.json`) are replaced.
    pub fn write_to(&self, dir: &Path, base_url: &str, replace: bool) -> std::io::Result<()> {
        let keys = dir.join("keys");
        let ours = keys.join(MANIFEST).is_file();
        let io = |e: KeyError| std::io::Error::other(e);
        let files: Vec<(std::path::PathBuf, String)> = vec![
            (
                keys.join("openapi_merchant.pem"),
                self.openapi_merchant_key
                    .to_pkcs8_pem()
                    .map_err(io)?
                    .expose()
                    .to_owned(),
            ),
            (
                keys.join("openapi_platform.pem"),
                self.openapi_platform_key
                    .to_pkcs8_pem()
                    .map_err(io)?
                    .expose()
                    .to_owned(),
            ),
            (
                keys.join("openapi_platform.pub.pem"),
                self.openapi_platform_key
                    .public_key()
                    .to_spki_pem()
                    .map_err(io)?,
            ),
            (
                keys.join("edgeros_merchant.pem"),
                self.edgeros_merchant_key
                    .to_pkcs8_pem()
                    .map_err(io)?
                    .expose()
                    .to_owned(),
            ),
            (
                keys.join("edgeros_platform.pem"),
                self.edgeros_platform_key
                    .to_pkcs8_pem()
                    .map_err(io)?
                    .expose()
                    .to_owned(),
            ),
            (
                keys.join("edgeros_platform.pub.pem"),
                self.edgeros_platform_key
                    .public_key()
                    .to_spki_pem()
                    .map_err(io)?,
            ),
            (
                keys.join("cpos_secret.txt"),
                self.cpos_secret.expose().to_owned(),
            ),
            (keys.join(MANIFEST), self.manifest()),
            (dir.join("refund.toml"), self.client_config_toml(base_url)),
        ];
        // Check every file before writing any, so a refusal leaves the folder as it was.
        let mut to_write = Vec::new();
        for (path, content) in &files {
            match std::fs::read(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    to_write.push((path, content))
                }
                Err(e) => return Err(e),
                Ok(existing) if existing == content.as_bytes() => {}
                Ok(existing)
                    if path.ends_with("refund.toml")
                        && existing.starts_with(CONFIG_MARKER.as_bytes()) =>
                {
                    to_write.push((path, content));
                }
                Ok(_) if replace && ours => to_write.push((path, content)),
                Ok(_) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::AlreadyExists,
                        format!(
                            "{} exists and was not written by this sandbox",
                            path.display()
                        ),
                    ));
                }
            }
        }
        std::fs::create_dir_all(&keys)?;
        for (path, content) in to_write {
            std::fs::write(path, content)?;
        }
        Ok(())
    }

    /// The credentials an earlier sandbox wrote into `dir` ([`Credentials::write_to`]), if the
    /// folder holds them (`keys/sandbox.json`).
    pub fn load_from(dir: &Path) -> std::io::Result<Option<Self>> {
        let keys = dir.join("keys");
        let manifest = match std::fs::read_to_string(keys.join(MANIFEST)) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let ids: Manifest = serde_json::from_str(&manifest)
            .map_err(|e| invalid(format!("{}: {e}", keys.join(MANIFEST).display())))?;
        let key = |name: &str| {
            RsaPrivateKey::from_file(keys.join(name))
                .map_err(|e| invalid(format!("{}: {e}", keys.join(name).display())))
        };
        let secret = std::fs::read_to_string(keys.join("cpos_secret.txt"))?;
        Ok(Some(Credentials {
            openapi_app_id: ids.openapi_app_id,
            openapi_merchant_key: key("openapi_merchant.pem")?,
            openapi_platform_key: key("openapi_platform.pem")?,
            edgeros_mch_no: ids.edgeros_mch_no,
            edgeros_merchant_key: key("edgeros_merchant.pem")?,
            edgeros_platform_key: key("edgeros_platform.pem")?,
            cpos_access_id: ids.cpos_access_id,
            cpos_secret: Secret::new(secret.trim()),
        }))
    }

    fn manifest(&self) -> String {
        let ids = Manifest {
            written_by: "refunds-rs sandbox".to_owned(),
            openapi_app_id: self.openapi_app_id.clone(),
            edgeros_mch_no: self.edgeros_mch_no.clone(),
            cpos_access_id: self.cpos_access_id.clone(),
        };
        serde_json::to_string_pretty(&ids).unwrap_or_default() + "\n"
    }

    /// A `refund.toml` for the CLI, with key paths relative to the folder written by
    /// [`Credentials::write_to`].
    ///
    /// ```
    /// let c = refund_sandbox::Credentials::test_keys().unwrap();
    /// assert!(c.client_config_toml("http://127.0.0.1:1").contains("[cpos]"));
    /// ```
    pub fn client_config_toml(&self, base_url: &str) -> String {
        format!(
            r#"{CONFIG_MARKER} Throwaway credentials: for the sandbox only.
[openapi]
base_url = "{base_url}"
app_id = "{app_id}"
private_key_file = "keys/openapi_merchant.pem"
timestamp_unit = "millis"
currency = "CNY"

[edgeros]
base_url = "{base_url}"
mch_no = "{mch_no}"
private_key_file = "keys/edgeros_merchant.pem"
platform_public_key_file = "keys/edgeros_platform.pub.pem"

[cpos]
base_url = "{base_url}"
access_id = "{access_id}"
secret_file = "keys/cpos_secret.txt"
response_signature = "required"
"#,
            app_id = self.openapi_app_id,
            mch_no = self.edgeros_mch_no,
            access_id = self.cpos_access_id,
        )
    }
}
