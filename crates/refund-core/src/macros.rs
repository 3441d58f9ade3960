//! The setters every provider's client builder shares, written once as macros and kept side by
//! side: the transport options (`http` feature) and the merchant private key (`rsa` feature).

/// Writes the setters every provider's client builder shares (`http_config`, `transport`) into
/// an `impl` block of a builder that holds a `options: ClientOptions` field: one definition
/// instead of one copy per provider. `$builder` is the expression that starts the builder, for
/// the doc examples.
///
/// ```
/// use refund_core::client::ClientOptions;
/// #[derive(Default)]
/// pub struct MyBuilder { options: ClientOptions }
/// impl MyBuilder {
///     refund_core::client_builder_options!("MyBuilder::default()");
/// }
/// # fn main() {}
/// ```
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
#[macro_export]
macro_rules! client_builder_options {
    ($builder:literal) => {
        /// Timeouts, retries and the body limit (used by the default transport).
        ///
        /// ```
        #[doc = concat!("let b = ", $builder, ".http_config(Default::default());")]
        /// ```
        pub fn http_config(mut self, config: $crate::http::HttpConfig) -> Self {
            self.options = self.options.with_http_config(config);
            self
        }

        /// Your configured `reqwest::Client` (proxy, custom CA, pool settings), used by the
        /// default transport; deadlines, retries and the body limit still apply. Build it
        /// without redirects: a redirected query carries its signature elsewhere.
        ///
        /// ```
        /// use refund_core::http::reqwest;
        /// let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        #[doc = concat!("let b = ", $builder, ".reqwest_client(http);")]
        /// ```
        pub fn reqwest_client(mut self, client: $crate::http::reqwest::Client) -> Self {
            self.options = self.options.with_reqwest_client(client);
            self
        }

        /// The transport (default: [`refund_core::http::HttpTransport`]); tests and benchmarks
        /// can hand in their own.
        ///
        /// ```
        /// # let t = refund_core::http::HttpTransport::new(&Default::default()).unwrap();
        #[doc = concat!("let b = ", $builder, ".transport(std::sync::Arc::new(t));")]
        /// ```
        pub fn transport(
            mut self,
            transport: ::std::sync::Arc<dyn $crate::http::Transport>,
        ) -> Self {
            self.options = self.options.with_transport(transport);
            self
        }
    };
}

/// Writes the setters of who signs a client's requests (the merchant private key `..._pem`,
/// `..._file`, already parsed, or a [`crate::signer::Signer`] such as a key service) into an
/// `impl` block of a builder with a `signer: Option<Arc<dyn Signer>>` field: one definition for
/// every RSA provider. `$builder` is the expression that starts the builder, for the doc
/// examples.
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
#[macro_export]
macro_rules! merchant_private_key_setters {
    ($builder:literal) => {
        /// The merchant's private key: PEM PKCS#8, PEM PKCS#1 or bare base64 DER (as vendors
        /// hand it out); 2048 bits or more. Parsed here, once.
        ///
        /// ```
        #[doc = concat!("assert!(", $builder, ".merchant_private_key_pem(\"not a key\").is_err());")]
        /// ```
        pub fn merchant_private_key_pem(self, text: &str) -> Result<Self, $crate::Error> {
            Ok(self.merchant_private_key($crate::rsa_keys::RsaPrivateKey::from_text(text)?))
        }

        /// Reads the merchant's private key from a file (any form
        /// [`Self::merchant_private_key_pem`] accepts).
        ///
        /// ```
        #[doc = concat!("assert!(", $builder, ".merchant_private_key_file(\"/nonexistent.pem\").is_err());")]
        /// ```
        pub fn merchant_private_key_file(
            self,
            path: impl AsRef<::std::path::Path>,
        ) -> Result<Self, $crate::Error> {
            Ok(self.merchant_private_key($crate::rsa_keys::RsaPrivateKey::from_file(path)?))
        }

        /// An already-parsed merchant key (it signs in process).
        ///
        /// ```
        /// fn with(key: refund_core::rsa_keys::RsaPrivateKey) {
        #[doc = concat!("    let b = ", $builder, ".merchant_private_key(key);")]
        /// }
        /// ```
        pub fn merchant_private_key(self, key: $crate::rsa_keys::RsaPrivateKey) -> Self {
            self.merchant_signer(::std::sync::Arc::new(key))
        }

        /// Who signs the requests instead of a key in this process: a key service, an HSM, a
        /// signing command ([`refund_core::signer::Signer`]). It is called once per attempt,
        /// within the query's deadline, with the exact bytes to sign.
        ///
        /// ```
        /// fn with(signer: std::sync::Arc<dyn refund_core::signer::Signer>) {
        #[doc = concat!("    let b = ", $builder, ".merchant_signer(signer);")]
        /// }
        /// ```
        pub fn merchant_signer(
            mut self,
            signer: ::std::sync::Arc<dyn $crate::signer::Signer>,
        ) -> Self {
            self.signer = Some(signer);
            self
        }
    };
}
