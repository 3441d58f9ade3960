//! A built, signed HTTP request that has not been sent: the seam between pure signing and I/O.

use std::borrow::Cow;

use serde::Serialize;

/// The HTTP method of a [`PreparedRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Method {
    /// `GET`
    #[serde(rename = "GET")]
    Get,
    /// `POST`
    #[serde(rename = "POST")]
    Post,
}

impl Method {
    /// The method's name on the wire.
    ///
    /// ```
    /// assert_eq!(refund_core::Method::Get.as_str(), "GET");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Everything that goes on the wire for one query, built by a provider's pure signing code and
/// sent by the transport. Snapshot tests compare it byte for byte; retries resend it unchanged.
///
/// ```
/// use refund_core::{Method, PreparedRequest};
/// let r = PreparedRequest {
///     method: Method::Post,
///     url: "http://127.0.0.1:8080/api/v1/pay/wx/refundquery".into(),
///     headers: vec![("content-type".into(), "application/json".into())],
///     body: Some(b"{}".to_vec()),
/// };
/// assert_eq!(r.body_text(), Some("{}"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreparedRequest {
    /// The method.
    pub method: Method,
    /// The full URL including the query string.
    pub url: String,
    /// Headers in the order they are sent (names lower case). Fixed names and values are
    /// borrowed (`Cow::Borrowed`), so building a request allocates only what varies; pass
    /// them on as `name.as_ref()`, `value.as_ref()`.
    pub headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
    /// The exact body bytes, if any.
    #[serde(serialize_with = "body_as_text")]
    pub body: Option<Vec<u8>>,
}

/// A prepared request and the signature it carries: what a provider's signing code returns so
/// that an explanation can show the signature without parsing the request back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The request, exactly as it is sent.
    pub request: PreparedRequest,
    /// The signature it carries, as sent.
    pub signature: String,
    /// The exact text that was signed, when it holds no secret (`None` for a shared-secret rule,
    /// whose signed text ends in the secret). Handed over, not copied: building it cost nothing
    /// extra.
    pub signed_text: Option<String>,
}

impl PreparedRequest {
    /// A `POST` of a JSON body, with `content-type` and `accept` set to `application/json`.
    ///
    /// ```
    /// let r = refund_core::PreparedRequest::json_post("http://h/x".into(), b"{}".to_vec());
    /// assert_eq!(r.header("content-type"), Some("application/json"));
    /// ```
    pub fn json_post(url: String, body: Vec<u8>) -> Self {
        PreparedRequest {
            method: Method::Post,
            url,
            headers: vec![
                (
                    Cow::Borrowed("content-type"),
                    Cow::Borrowed("application/json"),
                ),
                (Cow::Borrowed("accept"), Cow::Borrowed("application/json")),
            ],
            body: Some(body),
        }
    }

    /// The body as UTF-8 text, when it is text.
    ///
    /// ```
    /// let r = refund_core::PreparedRequest { method: refund_core::Method::Get, url: String::new(), headers: vec![], body: None };
    /// assert!(r.body_text().is_none());
    /// ```
    pub fn body_text(&self) -> Option<&str> {
        self.body
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The value of the first header named `name` (case-insensitive).
    ///
    /// ```
    /// let r = refund_core::PreparedRequest { method: refund_core::Method::Get, url: String::new(), headers: vec![("x-a".into(), "1".into())], body: None };
    /// assert_eq!(r.header("X-A"), Some("1"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_ref())
    }
}

fn body_as_text<S: serde::Serializer>(body: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
    match body {
        None => s.serialize_none(),
        Some(bytes) => s.serialize_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Joins a configured base URL and a path without doubling or dropping the `/`.
///
/// ```
/// assert_eq!(refund_core::request::join_url("http://h:1/", "/a/b"), "http://h:1/a/b");
/// assert_eq!(refund_core::request::join_url("http://h:1/pre", "a"), "http://h:1/pre/a");
/// ```
pub fn join_url(base: &str, path: &str) -> String {
    let (base, path) = (base.trim_end_matches('/'), path.trim_start_matches('/'));
    // Sized once: every request builds its URL here.
    let mut url = String::with_capacity(base.len() + 1 + path.len());
    url.push_str(base);
    url.push('/');
    url.push_str(path);
    url
}

/// Checks a configured base URL: `http` or `https`, a host, no user information, no query or
/// fragment. The error says which rule failed, never the URL itself (it may hold credentials or
/// an internal host name that must not reach a log).
///
/// ```
/// assert!(refund_core::request::validate_base_url("https://api.edgeros.com").is_ok());
/// assert!(refund_core::request::validate_base_url("ftp://x").is_err());
/// assert!(refund_core::request::validate_base_url("").is_err());
/// let e = refund_core::request::validate_base_url("https://user:pa55@h").unwrap_err();
/// assert!(!e.to_string().contains("pa55"));
/// ```
pub fn validate_base_url(base: &str) -> Result<(), crate::Error> {
    let err = |reason: &str| crate::Error::config("base_url", reason);
    let rest = base
        .strip_prefix("https://")
        .or_else(|| base.strip_prefix("http://"))
        .ok_or_else(|| err("must start with http:// or https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(err(
            "must not hold user information (user:password@host): credentials belong in the key settings",
        ));
    }
    if authority.is_empty() {
        return Err(err("has no host"));
    }
    if base.contains(['?', '#']) || base.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err("must not contain a query, a fragment or spaces"));
    }
    Ok(())
}
