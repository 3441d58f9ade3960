//! Decoding provider bodies: strictly parsed, then deserialised into typed wire models with
//! errors that name the field path; the scalar helpers wire models use.

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer};
use serde_json::Value;

use super::tree::parse_strict;
use crate::error::Error;
use crate::provider::Provider;

/// Parses a provider body strictly into a typed wire model: a [`Error::Decode`] names the field
/// path (`data[0].refundAmount`) and the value excerpt when the document does not fit.
///
/// Returns the strict [`Value`] too, for signature rules that rebuild a canonical form from it.
///
/// ```
/// #[derive(serde::Deserialize, Debug)]
/// struct Wire { code: i64 }
/// let (_, wire): (_, Wire) = refund_core::json::decode_strict(refund_core::Provider::Cpos, br#"{"code":10000}"#).unwrap();
/// assert_eq!(wire.code, 10000);
/// let err = refund_core::json::decode_strict::<Wire>(refund_core::Provider::Cpos, br#"{"code":"x"}"#).unwrap_err();
/// assert!(err.to_string().contains("`code`"));
/// ```
pub fn decode_strict<T: DeserializeOwned>(
    provider: Provider,
    bytes: &[u8],
) -> Result<(Value, T), Error> {
    let value = parse_body(provider, bytes)?;
    let typed = decode_value(provider, &value)?;
    Ok((value, typed))
}

/// Parses a provider body strictly; a body that is not one JSON document (an HTML error page,
/// a truncated answer, a duplicated key) is an [`Error::Decode`] of the field `body`.
///
/// ```
/// let err = refund_core::json::parse_body(refund_core::Provider::Edgeros, b"<html>502</html>").unwrap_err();
/// assert_eq!(err.kind(), "decode");
/// assert!(err.to_string().contains("`body`"));
/// ```
pub fn parse_body(provider: Provider, bytes: &[u8]) -> Result<Value, Error> {
    parse_strict(bytes).map_err(|e| Error::Decode {
        provider,
        field: "body".to_owned(),
        value: crate::error::excerpt(bytes),
        reason: format!("not a valid JSON document: {e}"),
        source: Some(Box::new(e)),
    })
}

/// Deserialises an already-parsed value into `T`, naming the failing field path.
///
/// ```
/// let v = serde_json::json!({"n": "x"});
/// #[derive(serde::Deserialize, Debug)]
/// struct W { n: u8 }
/// assert!(refund_core::json::decode_value::<W>(refund_core::Provider::OpenApi, &v).is_err());
/// ```
pub fn decode_value<T: DeserializeOwned>(provider: Provider, value: &Value) -> Result<T, Error> {
    // The fast path; only a failure pays for path tracking (run again to name the field).
    if let Ok(typed) = T::deserialize(value) {
        return Ok(typed);
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let raw = pointer_for(value, e.path())
            .map(|v| v.to_string())
            .unwrap_or_default();
        let inner = e.into_inner();
        Error::Decode {
            provider,
            field: if path == "." { "body".to_owned() } else { path },
            value: crate::error::excerpt(raw.as_bytes()),
            reason: inner.to_string(),
            source: Some(Box::new(inner)),
        }
    })
}

fn pointer_for<'v>(value: &'v Value, path: &serde_path_to_error::Path) -> Option<&'v Value> {
    use serde_path_to_error::Segment;
    let mut current = value;
    for segment in path.iter() {
        current = match segment {
            Segment::Seq { index } => current.get(*index)?,
            Segment::Map { key } => current.get(key.as_str())?,
            Segment::Enum { .. } | Segment::Unknown => return Some(current),
        };
    }
    Some(current)
}

/// A scalar a provider sends sometimes as a string and sometimes as an integer (`refund_status`
/// `"1"` or `1`; EdgerOS `status` `"200"` or `200`), kept as its text: strings as they are,
/// integers in decimal. Floats, objects and arrays are rejected.
///
/// ```
/// let t: refund_core::json::Text = serde_json::from_str("100").unwrap();
/// assert_eq!(t.0, "100");
/// let t: refund_core::json::Text = serde_json::from_str("\"0.01\"").unwrap();
/// assert_eq!(t.as_str(), "0.01");
/// assert!(serde_json::from_str::<refund_core::json::Text>("1.5").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Text(pub String);

impl Text {
    /// The text of an optional field (`None` when absent): how wire models' optional scalars
    /// are read.
    ///
    /// ```
    /// use refund_core::json::Text;
    /// assert_eq!(Text::of(&Some(Text("1".into()))), Some("1"));
    /// assert_eq!(Text::of(&None), None);
    /// ```
    pub fn of(field: &Option<Text>) -> Option<&str> {
        field.as_ref().map(Text::as_str)
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            U(u64),
        }
        Ok(Text(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::U(u) => u.to_string(),
        }))
    }
}

/// Deserialises `T` from either the JSON value itself or a JSON string holding it (WeChat's
/// `attach` arrives both ways); the inner text is parsed strictly. An empty string is `None`.
///
/// ```
/// #[derive(serde::Deserialize)]
/// struct Outer { #[serde(default, deserialize_with = "refund_core::json::value_or_json_text")] inner: Option<Vec<u8>> }
/// let a: Outer = serde_json::from_str(r#"{"inner":[1,2]}"#).unwrap();
/// let b: Outer = serde_json::from_str(r#"{"inner":"[1,2]"}"#).unwrap();
/// assert_eq!(a.inner, b.inner);
/// ```
pub fn value_or_json_text<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) if text.is_empty() => Ok(None),
        Some(Value::String(text)) => {
            let value = parse_strict(text.as_bytes()).map_err(de::Error::custom)?;
            serde_json::from_value(value)
                .map(Some)
                .map_err(de::Error::custom)
        }
        Some(value) => serde_json::from_value(value)
            .map(Some)
            .map_err(de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_error_names_path() {
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            amount: i64,
        }
        #[derive(Deserialize, Debug)]
        #[allow(dead_code)]
        struct Doc {
            data: Vec<Item>,
        }
        let err = decode_strict::<Doc>(
            Provider::OpenApi,
            br#"{"data":[{"amount":1},{"amount":"x"}]}"#,
        )
        .unwrap_err();
        insta::assert_snapshot!(err.to_string(), @r#"openapi: cannot decode `data[1].amount` ("\"x\""): invalid type: string "x", expected i64"#);
    }
}
