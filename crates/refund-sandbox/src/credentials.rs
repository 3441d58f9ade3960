//! The keys and ids the sandbox uses, and how to hand them to a client.

use std::fmt;
use std::path::Path;

use refund_core::Secret;
use refund_core::rsa_keys::{KeyError, RsaPrivateKey};

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
                "../../../fixtures/keys/openapi_merchant_2048.pem"
            ))?,
            openapi_platform_key: RsaPrivateKey::from_text(include_str!(
                "../../../fixtures/keys/openapi_platform_2048.pem"
            ))?,
            edgeros_mch_no: "MCH1000000".to_owned(),
            edgeros_merchant_key: RsaPrivateKey::from_text(include_str!(
                "../../../fixtures/keys/edgeros_merchant.pem"
            ))?,
            edgeros_platform_key: RsaPrivateKey::from_text(include_str!(
                "../../../fixtures/keys/edgeros_platform.pem"
            ))?,
            cpos_access_id: "cpostest".to_owned(),
            cpos_secret: Secret::new(include_str!("../../../fixtures/keys/cpos_secret.txt").trim()),
        })
    }

    /// Fresh 2048-bit keys and a random secret (takes a moment: RSA key generation).
    pub fn generate() -> Result<Self, KeyError> {
        Ok(Credentials {
            openapi_app_id: refund_core::rsa_keys::random_token(32).to_ascii_lowercase(),
            openapi_merchant_key: RsaPrivateKey::generate(2048)?,
            openapi_platform_key: RsaPrivateKey::generate(2048)?,
            edgeros_mch_no: "MCH1000000".to_owned(),
            edgeros_merchant_key: RsaPrivateKey::generate(2048)?,
            edgeros_platform_key: RsaPrivateKey::generate(2048)?,
            cpos_access_id: "sandbox".to_owned(),
            cpos_secret: Secret::new(refund_core::rsa_keys::random_token(32)),
        })
    }

    /// Writes the keys and a ready `refund.toml` (pointing at `base_url`) into `dir`:
    /// `keys/openapi_merchant.pem`, `keys/openapi_platform.pub.pem`, `keys/edgeros_merchant.pem`,
    /// `keys/edgeros_platform.pub.pem`, `keys/cpos_secret.txt`, `refund.toml`.
    pub fn write_to(&self, dir: &Path, base_url: &str) -> std::io::Result<()> {
        let keys = dir.join("keys");
        std::fs::create_dir_all(&keys)?;
        let io = |e: KeyError| std::io::Error::other(e.to_string());
        std::fs::write(
            keys.join("openapi_merchant.pem"),
            self.openapi_merchant_key
                .to_pkcs8_pem()
                .map_err(io)?
                .expose(),
        )?;
        std::fs::write(
            keys.join("openapi_platform.pub.pem"),
            self.openapi_platform_key
                .public_key()
                .to_spki_pem()
                .map_err(io)?,
        )?;
        std::fs::write(
            keys.join("edgeros_merchant.pem"),
            self.edgeros_merchant_key
                .to_pkcs8_pem()
                .map_err(io)?
                .expose(),
        )?;
        std::fs::write(
            keys.join("edgeros_platform.pub.pem"),
            self.edgeros_platform_key
                .public_key()
                .to_spki_pem()
                .map_err(io)?,
        )?;
        std::fs::write(keys.join("cpos_secret.txt"), self.cpos_secret.expose())?;
        std::fs::write(dir.join("refund.toml"), self.client_config_toml(base_url))?;
        Ok(())
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
            r#"# Written by the refunds-rs sandbox. Throwaway credentials: for the sandbox only.
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
