//! Strict JSON: duplicate keys rejected at every depth.
//!
//! A signature verified over a canonical form rebuilt from a parse is only as good as the parse:
//! with duplicate keys, one copy can be verified while another is used (a forged amount rides
//! along a valid signature). Every provider response goes through [`parse_strict`].
//!
//! Kept here rather than taken from a crate: serde_json keeps the last of two equal keys without
//! a word, and no small maintained crate rejects duplicates at every depth while handing back
//! serde_json's own tree (which the providers' wire models and canonical forms are built on).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::Error;
use crate::provider::Provider;

/// Parses JSON into a [`Value`], rejecting any object that repeats a key.
///
/// ```
/// assert!(refund_core::json::parse_strict(br#"{"a":1,"b":{"c":2}}"#).is_ok());
/// let err = refund_core::json::parse_strict(br#"{"a":1,"b":{"c":2,"c":3}}"#).unwrap_err();
/// assert!(err.to_string().contains("duplicate key \"c\""));
/// ```
pub fn parse_strict(bytes: &[u8]) -> Result<Value, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let StrictValue(value) = StrictValue::deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

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

/// What a provider's answer is strictly parsed into, the pipeline's first step: a [`Value`] tree
/// for providers that decode one, or a borrowed [`FlatObject`] for a provider that signs its
/// top-level scalars (one pass, no tree).
pub trait StrictDocument<'b>: Sized {
    /// Parses `body`; a body that is not one strict JSON document (of the kind this type holds)
    /// is an [`Error::Decode`] of the field `body`.
    ///
    /// ```
    /// use refund_core::json::StrictDocument;
    /// let v = serde_json::Value::parse(refund_core::Provider::OpenApi, br#"{"a":1}"#).unwrap();
    /// assert_eq!(v["a"], 1);
    /// ```
    fn parse(provider: Provider, body: &'b [u8]) -> Result<Self, Error>;
}

impl<'b> StrictDocument<'b> for Value {
    fn parse(provider: Provider, body: &'b [u8]) -> Result<Self, Error> {
        parse_body(provider, body)
    }
}

/// One JSON object parsed strictly in a single pass, keeping only its top level: each member's
/// key and, for scalars, its value (strings borrowed from the body unless escaped). Nested
/// objects and arrays are checked (duplicate keys rejected at every depth) but not kept.
///
/// This is the document of a provider that signs its top-level scalars (CPOS, WeChat Pay v2):
/// the signature check reads the members in key order, the typed decode reads the few it needs,
/// and no `Value` tree is built.
///
/// ```
/// use refund_core::json::{FlatObject, Member};
/// let doc = FlatObject::parse_strict(br#"{"b":"x","a":10000,"n":null,"o":{"k":[1]}}"#).unwrap();
/// let keys: Vec<&str> = doc.members().map(|(k, _)| k).collect();
/// assert_eq!(keys, ["a", "b", "n", "o"]); // in key order
/// assert_eq!(doc.get("a").and_then(Member::scalar_text).as_deref(), Some("10000"));
/// assert_eq!(doc.get("o"), Some(&Member::Object));
/// assert!(FlatObject::parse_strict(br#"{"a":1,"o":{"k":1,"k":2}}"#).is_err());
/// assert!(FlatObject::parse_strict(b"[1]").is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FlatObject<'b> {
    source: &'b [u8],
    /// Sorted by key (byte order), keys unique.
    members: Members<'b>,
}

/// A scalar's text by the rule of [`Member::scalar_text`], written on demand (`Display`).
///
/// ```
/// use refund_core::json::Scalar;
/// assert_eq!(Scalar::Text("-0.50").to_string(), "-0.50");
/// assert!(Scalar::Text("").is_empty());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar<'a> {
    /// A string (or a boolean's `true`/`false`), as it is.
    Text(&'a str),
    /// A number, written as parsed (integers exactly, others in their shortest round-trip form).
    Number(&'a Number),
}

impl Scalar<'_> {
    /// True for the empty string (which signature rules commonly leave out).
    pub fn is_empty(&self) -> bool {
        matches!(self, Scalar::Text(""))
    }

    /// Writes the scalar's text (what `Display` writes) into `out`: integers through itoa,
    /// without the formatting machinery a `write!` costs per call (a signed text writes one
    /// per number it holds).
    ///
    /// ```
    /// use refund_core::json::Scalar;
    /// let mut text = String::new();
    /// Scalar::Number(&10000.into()).write_to(&mut text).unwrap();
    /// Scalar::Text("&-0.50").write_to(&mut text).unwrap();
    /// assert_eq!(text, "10000&-0.50");
    /// ```
    pub fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        match self {
            Scalar::Text(text) => out.write_str(text),
            Scalar::Number(n) => match integer_text(n, &mut itoa::Buffer::new()) {
                Some(digits) => out.write_str(digits),
                None => write!(out, "{n}"),
            },
        }
    }
}

/// An integer's decimal text, written into `buffer` (what `Number`'s `Display` writes for
/// it); `None` for a float.
fn integer_text<'t>(n: &Number, buffer: &'t mut itoa::Buffer) -> Option<&'t str> {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => Some(buffer.format(u)),
        (None, Some(i)) => Some(buffer.format(i)),
        (None, None) => None,
    }
}

impl fmt::Display for Scalar<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scalar::Text(text) => f.write_str(text),
            Scalar::Number(n) => fmt::Display::fmt(n, f),
        }
    }
}

/// A top-level member of a [`FlatObject`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Member<'b> {
    /// A string, unescaped (borrowed from the body when it had no escapes).
    String(Cow<'b, str>),
    /// A number, as parsed.
    Number(Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
    /// An object (checked, not kept).
    Object,
    /// An array (checked, not kept).
    Array,
}

impl<'b> Member<'b> {
    /// A scalar as text: strings as they are, numbers as parsed (integers exactly, others in
    /// their shortest round-trip form), booleans `true`/`false`; `None` for null, objects and
    /// arrays. The same text [`scalar_text`] gives for a [`Value`].
    ///
    /// ```
    /// use refund_core::json::Member;
    /// assert_eq!(Member::Number(3.into()).scalar_text().as_deref(), Some("3"));
    /// assert_eq!(Member::Null.scalar_text(), None);
    /// ```
    pub fn scalar_text(&self) -> Option<Cow<'_, str>> {
        self.scalar().map(|scalar| match scalar {
            Scalar::Text(text) => Cow::Borrowed(text),
            Scalar::Number(n) => Cow::Owned(n.to_string()),
        })
    }

    /// A scalar, to be written as text (by [`Scalar`]'s `Display`) without building a
    /// `String` first: what a signature rule over scalars writes into its signed text.
    ///
    /// ```
    /// use refund_core::json::Member;
    /// let n = Member::Number(10000.into());
    /// assert_eq!(n.scalar().unwrap().to_string(), n.scalar_text().unwrap());
    /// assert!(Member::Object.scalar().is_none());
    /// ```
    pub fn scalar(&self) -> Option<Scalar<'_>> {
        match self {
            Member::String(s) => Some(Scalar::Text(s)),
            Member::Number(n) => Some(Scalar::Number(n)),
            Member::Bool(b) => Some(Scalar::Text(if *b { "true" } else { "false" })),
            Member::Null | Member::Object | Member::Array => None,
        }
    }

    /// The string, when the member is one.
    ///
    /// ```
    /// use refund_core::json::Member;
    /// assert_eq!(Member::String("x".into()).as_str(), Some("x"));
    /// assert_eq!(Member::Bool(true).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Member::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON text of the member, for error messages (nested values are not kept: named).
    fn excerpt(&self) -> String {
        match self {
            Member::String(s) => serde_json::to_string(s.as_ref()).unwrap_or_default(),
            Member::Number(n) => n.to_string(),
            Member::Bool(b) => b.to_string(),
            Member::Null => "null".to_owned(),
            Member::Object => "{…}".to_owned(),
            Member::Array => "[…]".to_owned(),
        }
    }

    /// serde's wording for the member's type, for error messages.
    fn unexpected(&self) -> String {
        match self {
            Member::String(s) => format!("string {s:?}"),
            Member::Number(n) if n.is_f64() => format!("floating point `{n}`"),
            Member::Number(n) => format!("integer `{n}`"),
            Member::Bool(b) => format!("boolean `{b}`"),
            Member::Null => "null".to_owned(),
            Member::Object => "map".to_owned(),
            Member::Array => "sequence".to_owned(),
        }
    }

    /// The member `key` as a string field: `null` is `None`, a string is itself (borrowed from
    /// the body unless it had escapes), anything else is an [`Error::Decode`] naming the field
    /// and the value.
    ///
    /// ```
    /// use refund_core::json::Member;
    /// let p = refund_core::Provider::Cpos;
    /// assert_eq!(Member::String("x".into()).string(p, "a").unwrap().as_deref(), Some("x"));
    /// assert!(Member::Bool(true).string(p, "a").is_err());
    /// ```
    pub fn string(&self, provider: Provider, key: &str) -> Result<Option<Cow<'b, str>>, Error> {
        match self {
            Member::Null => Ok(None),
            Member::String(s) => Ok(Some(reborrow(s))),
            other => Err(other.type_error(provider, key, "a string")),
        }
    }

    /// The member `key` as a string-or-integer field (see [`Text`]), as text (a string borrowed
    /// from the body unless it had escapes): `null` is `None`; floats, booleans, objects and
    /// arrays are an [`Error::Decode`].
    ///
    /// ```
    /// use refund_core::json::Member;
    /// let p = refund_core::Provider::Cpos;
    /// assert_eq!(Member::Number(7.into()).text(p, "a").unwrap().as_deref(), Some("7"));
    /// assert!(Member::Bool(true).text(p, "a").is_err());
    /// ```
    pub fn text(&self, provider: Provider, key: &str) -> Result<Option<Cow<'b, str>>, Error> {
        match self {
            Member::Null => Ok(None),
            Member::String(s) => Ok(Some(reborrow(s))),
            Member::Number(n) => match integer_text(n, &mut itoa::Buffer::new()) {
                Some(digits) => Ok(Some(Cow::Owned(digits.to_owned()))),
                None => Err(self.type_error(provider, key, "a string or an integer")),
            },
            other => Err(other.type_error(provider, key, "a string or an integer")),
        }
    }

    fn type_error(&self, provider: Provider, key: &str, expected: &str) -> Error {
        Error::decode(
            provider,
            key,
            self.excerpt(),
            format!("invalid type: {}, expected {expected}", self.unexpected()),
        )
    }
}

/// A string of the body as a `Cow` that lives as long as the body: borrowed stays borrowed;
/// only a string that had escapes (and so was unescaped into a `String`) is copied.
fn reborrow<'b>(s: &Cow<'b, str>) -> Cow<'b, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(b),
        Cow::Owned(o) => Cow::Owned(o.clone()),
    }
}

/// A [`Value`]'s scalar as text, by the rule of [`Member::scalar_text`] (for code that builds
/// a document as a `Value` and signs it, such as the sandbox).
///
/// ```
/// assert_eq!(refund_core::json::scalar_text(&serde_json::json!(1)).as_deref(), Some("1"));
/// assert_eq!(refund_core::json::scalar_text(&serde_json::json!({"a": 1})), None);
/// ```
pub fn scalar_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

impl<'b> FlatObject<'b> {
    /// Parses one JSON object strictly (duplicate keys rejected at every depth; nothing after
    /// it but whitespace).
    pub fn parse_strict(bytes: &'b [u8]) -> Result<Self, serde_json::Error> {
        // JSON is UTF-8: checking the whole body at once is faster than string by string, and
        // lets every string be borrowed as `&str` without a second check.
        let text = std::str::from_utf8(bytes).map_err(|e| {
            <serde_json::Error as de::Error>::custom(format_args!("the body is not UTF-8: {e}"))
        })?;
        let members = match plain::members(text) {
            Some(members) => members,
            None => members_through_serde(text)?,
        };
        // Sorted, a repeated top-level key sits next to its twin: found without a scan per
        // key. Such a body is refused by the tree parser, which says where the repeat is.
        let repeated = members.windows(2).any(|pair| match pair {
            [(a, _), (b, _)] => a == b,
            _ => false,
        });
        if repeated {
            return Err(parse_strict(bytes).err().unwrap_or_else(|| {
                <serde_json::Error as de::Error>::custom("duplicate key at the top level")
            }));
        }
        Ok(FlatObject {
            source: bytes,
            members,
        })
    }

    /// The bytes it was parsed from.
    ///
    /// ```
    /// let doc = refund_core::json::FlatObject::parse_strict(b"{}").unwrap();
    /// assert_eq!(doc.source(), b"{}");
    /// ```
    pub fn source(&self) -> &'b [u8] {
        self.source
    }

    /// The members in key order (byte order of the keys).
    ///
    /// ```
    /// let doc = refund_core::json::FlatObject::parse_strict(br#"{"b":1,"a":2}"#).unwrap();
    /// assert_eq!(doc.members().next().map(|(k, _)| k), Some("a"));
    /// ```
    pub fn members(&self) -> impl Iterator<Item = (&str, &Member<'b>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The member named `key`.
    ///
    /// ```
    /// let doc = refund_core::json::FlatObject::parse_strict(br#"{"a":"x"}"#).unwrap();
    /// assert_eq!(doc.get("a").and_then(|m| m.as_str()), Some("x"));
    /// assert!(doc.get("b").is_none());
    /// ```
    pub fn get(&self, key: &str) -> Option<&Member<'b>> {
        self.members
            .binary_search_by(|(k, _)| k.as_bytes().cmp(key.as_bytes()))
            .ok()
            .and_then(|i| self.members.get(i))
            .map(|(_, v)| v)
    }
}

impl<'b> StrictDocument<'b> for FlatObject<'b> {
    fn parse(provider: Provider, body: &'b [u8]) -> Result<Self, Error> {
        FlatObject::parse_strict(body).map_err(|e| Error::Decode {
            provider,
            field: "body".to_owned(),
            value: crate::error::excerpt(body),
            reason: format!("not a valid JSON document: {e}"),
            source: Some(Box::new(e)),
        })
    }
}

/// The keys of one object seen so far, to reject a repeat where it occurs (so the error points
/// at it): a linear scan for the usual small object, a hash set past 32 keys (a hostile object
/// with many keys stays linear in its size).
#[derive(Default)]
struct SeenKeys(Option<std::collections::HashSet<String>>);

impl SeenKeys {
    const LINEAR: usize = 32;

    fn admit<'k, E: de::Error>(
        &mut self,
        key: &str,
        earlier: impl ExactSizeIterator<Item = &'k str>,
    ) -> Result<(), E> {
        let repeated = match &mut self.0 {
            Some(set) => !set.insert(key.to_owned()),
            None if earlier.len() < Self::LINEAR => earlier.into_iter().any(|k| k == key),
            None => {
                let mut set: std::collections::HashSet<String> =
                    earlier.map(str::to_owned).collect();
                let repeated = !set.insert(key.to_owned());
                self.0 = Some(set);
                repeated
            }
        };
        if repeated {
            return Err(E::custom(format_args!("duplicate key {key:?}")));
        }
        Ok(())
    }
}

/// An object key, borrowed from the body unless it had escapes.
struct Key<'b>(Cow<'b, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// A document's top-level members, as read.
type Members<'b> = Vec<(Cow<'b, str>, Member<'b>)>;

/// In key order (byte order of the keys); equal keys end up side by side.
fn sort_members(members: &mut Members<'_>) {
    members.sort_unstable_by(|a, b| {
        key_head(&a.0)
            .cmp(&key_head(&b.0))
            .then_with(|| a.0.as_bytes().cmp(b.0.as_bytes()))
    });
}

/// A key's first eight bytes as one big-endian number (zero-padded when shorter): two keys
/// whose heads differ are in the order of their heads, so only a tie compares whole keys.
fn key_head(key: &str) -> u64 {
    match key.as_bytes().first_chunk::<8>() {
        Some(head) => u64::from_be_bytes(*head),
        None => {
            let mut head = [0_u8; 8];
            head.iter_mut()
                .zip(key.bytes())
                .for_each(|(slot, byte)| *slot = byte);
            u64::from_be_bytes(head)
        }
    }
}

/// The plain shape a provider's answer usually has, read without serde: one object whose
/// members are all strings without escapes, non-negative integers a u64 holds, `true`, `false`
/// or `null`.
///
/// Kept by hand, and kept to that subset, because serde_json's visitor machinery was the
/// largest part of reading a CPOS answer after the MD5 check (verify + parse + map of the
/// bench's answer: 16,057 instructions through serde_json, 14,723 with this reader). It decides
/// nothing on its own: anything outside the subset, malformed or not (an escape, a fraction, a
/// minus sign, a nested value, a stray byte), returns `None` and the whole text goes to
/// serde_json, which accepts it or says what is wrong. Where it does answer, its members equal
/// serde_json's; the differential tests below and the `flat_object` fuzz target hold it to
/// that.
mod plain {
    use std::borrow::Cow;

    use super::{Member, Members, sort_members};

    /// The members, in key order, when `text` is a plain object; `None` otherwise.
    pub(super) fn members(text: &str) -> Option<Members<'_>> {
        let bytes = text.as_bytes();
        let mut at = skip_space(bytes, 0);
        if bytes.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let mut members: Members<'_> = Vec::with_capacity(16);
        if bytes.get(at) == Some(&b'}') {
            at += 1;
        } else {
            loop {
                if bytes.get(at) != Some(&b'"') {
                    return None;
                }
                let (key, after) = string(text, at + 1)?;
                at = skip_space(bytes, after);
                if bytes.get(at) != Some(&b':') {
                    return None;
                }
                at = skip_space(bytes, at + 1);
                let (member, after) = scalar(text, at)?;
                members.push((Cow::Borrowed(key), member));
                at = skip_space(bytes, after);
                match bytes.get(at) {
                    Some(b',') => at = skip_space(bytes, at + 1),
                    Some(b'}') => {
                        at += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        if skip_space(bytes, at) != bytes.len() {
            return None;
        }
        sort_members(&mut members);
        Some(members)
    }

    /// The bytes a string holds as they are: all but the quote, the backslash and controls.
    // Evaluated at compile time: an index out of range fails the build, never a run.
    #[allow(clippy::indexing_slicing)]
    const PLAIN: [bool; 256] = {
        let mut plain = [true; 256];
        let mut b = 0;
        while b < 0x20 {
            plain[b] = false;
            b += 1;
        }
        plain[b'"' as usize] = false;
        plain[b'\\' as usize] = false;
        plain
    };

    /// The index of the first byte from `at` that is not JSON whitespace.
    fn skip_space(bytes: &[u8], mut at: usize) -> usize {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(at) {
            at += 1;
        }
        at
    }

    /// A string's text from just after its opening quote, and the index after its closing
    /// quote; `None` at an escape or a control character (serde_json's to judge).
    fn string(text: &str, start: usize) -> Option<(&str, usize)> {
        let rest = text.as_bytes().get(start..)?;
        // Byte by byte: the strings of an answer are short (ids, amounts, a 32-digit sign),
        // shorter than what a vectorised search needs to pay off.
        let len = rest
            .iter()
            .position(|&b| PLAIN.get(usize::from(b)) != Some(&true))?;
        if rest.get(len) != Some(&b'"') {
            return None;
        }
        // The quote is ASCII: `start..start + len` ends on a character boundary.
        Some((text.get(start..start + len)?, start + len + 1))
    }

    /// A scalar starting at `at`, and the index after it.
    fn scalar(text: &str, at: usize) -> Option<(Member<'_>, usize)> {
        let bytes = text.as_bytes();
        let word = |word: &str, member: Member<'static>| {
            bytes
                .get(at..)?
                .starts_with(word.as_bytes())
                .then_some((member, at + word.len()))
        };
        match bytes.get(at)? {
            b'"' => {
                let (value, after) = string(text, at + 1)?;
                Some((Member::String(Cow::Borrowed(value)), after))
            }
            b't' => word("true", Member::Bool(true)),
            b'f' => word("false", Member::Bool(false)),
            b'n' => word("null", Member::Null),
            b'0'..=b'9' => {
                let digits = bytes
                    .get(at..)?
                    .iter()
                    .take_while(|b| b.is_ascii_digit())
                    .count();
                let after = at + digits;
                // serde_json's to judge: a leading zero (`01`) here, more than a u64 holds
                // (the parse fails); a fraction or an exponent stops the caller, which takes
                // only `,` or `}` after a value.
                if digits > 1 && bytes.get(at) == Some(&b'0') {
                    return None;
                }
                let value: u64 = text.get(at..after)?.parse().ok()?;
                Some((Member::Number(value.into()), after))
            }
            _ => None,
        }
    }
}

/// The top-level members in key order, read by serde_json: any JSON object, nested values
/// checked for repeated keys; or what is wrong with the text.
fn members_through_serde(text: &str) -> Result<Members<'_>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(text);
    let members = de.deserialize_map(FlatVisitor)?;
    de.end()?;
    Ok(members)
}

struct FlatVisitor;

impl<'de> Visitor<'de> for FlatVisitor {
    type Value = Members<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        // Sorted by key; repeated keys are left for `FlatObject::parse_strict` to find.
        let mut members: Members<'de> = Vec::with_capacity(16);
        while let Some(Key(key)) = map.next_key()? {
            let member: Member<'de> = map.next_value()?;
            members.push((key, member));
        }
        sort_members(&mut members);
        Ok(members)
    }
}

impl<'de> Deserialize<'de> for Member<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(MemberVisitor)
    }
}

struct MemberVisitor;

impl<'de> Visitor<'de> for MemberVisitor {
    type Value = Member<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Member<'de>, E> {
        Ok(Member::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Member<'de>, E> {
        Ok(Member::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Member<'de>, E> {
        Ok(Member::Number(v.into()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Member<'de>, E> {
        Number::from_f64(v)
            .map(Member::Number)
            .ok_or_else(|| E::custom("non-finite number"))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Member<'de>, E> {
        Ok(Member::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Member<'de>, E> {
        Ok(Member::String(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Member<'de>, E> {
        Ok(Member::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Null)
    }
    fn visit_none<E>(self) -> Result<Member<'de>, E> {
        Ok(Member::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Member<'de>, A::Error> {
        CheckedVisitor.visit_seq(seq).map(|Checked| Member::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Member<'de>, A::Error> {
        CheckedVisitor.visit_map(map).map(|Checked| Member::Object)
    }
}

/// Any JSON value, checked strictly (duplicate keys rejected at every depth) and dropped.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while let Some(Checked) = seq.next_element()? {}
        Ok(Checked)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        let mut seen = SeenKeys::default();
        while let Some(Key(key)) = map.next_key()? {
            seen.admit(&key, keys.iter().map(Cow::as_ref))?;
            let Checked = map.next_value()?;
            if seen.0.is_none() {
                keys.push(key);
            }
        }
        Ok(Checked)
    }
}

struct StrictValue(Value);

impl<'de> Deserialize<'de> for StrictValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Number(v.into())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<StrictValue, E> {
        Number::from_f64(v)
            .map(|n| StrictValue(Value::Number(n)))
            .ok_or_else(|| E::custom("non-finite number"))
    }

    fn visit_str<E>(self, v: &str) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_none<E>(self) -> Result<StrictValue, E> {
        Ok(StrictValue(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrictValue, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(StrictValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StrictValue, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            let StrictValue(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(StrictValue(Value::Object(object)))
    }
}

#[cfg(test)]
mod tests {

    /// The signed text's numbers (`write_to`) and the numbers of a decoded field (`text`) are
    /// what `Display` writes, at the ends of both integer ranges and for floats.
    #[test]
    fn integers_written_through_itoa_are_what_display_writes() {
        use super::{Member, Scalar};
        let p = crate::Provider::Cpos;
        let body = br#"[0, -1, 10000, -9223372036854775808, 9223372036854775807, 18446744073709551615, 1.5, -0.0, 1e300, 3e+23]"#;
        let numbers: Vec<serde_json::Number> = serde_json::from_slice(body).unwrap();
        for n in &numbers {
            let mut written = String::new();
            Scalar::Number(n).write_to(&mut written).unwrap();
            assert_eq!(written, n.to_string());
            let member = Member::Number(n.clone());
            match member.text(p, "a") {
                Ok(text) => assert_eq!(text.as_deref(), Some(n.to_string().as_str())),
                Err(_) => assert!(n.is_f64(), "{n}"),
            }
        }
    }

    #[test]
    fn numbers_survive_a_print_and_parse_round_trip() {
        // Found by fuzzing (`cpos_response`): `3e+23` parsed 1 ulp off, so a re-signed answer's
        // canonical text changed between two parses. Numbers now parse to the nearest f64.
        for text in [
            "300000000000000000000000",
            "3e+23",
            "0.1",
            "1e-7",
            "123456789.123456789",
        ] {
            let first = parse_strict(text.as_bytes()).unwrap();
            let printed = serde_json::to_vec(&first).unwrap();
            assert_eq!(parse_strict(&printed).unwrap(), first, "{text}");
        }
    }

    use super::*;

    #[test]
    fn rejects_duplicates_at_any_depth() {
        for bad in [
            r#"{"a":1,"a":1}"#,
            r#"{"data":{"refund_amount":"0.01","refund_amount":"100.00"}}"#,
            r#"[{"x":[{"y":1,"y":2}]}]"#,
        ] {
            let err = parse_strict(bad.as_bytes()).unwrap_err();
            assert!(err.to_string().contains("duplicate key"), "{bad}: {err}");
        }
    }

    #[test]
    fn escaped_duplicates_are_duplicates() {
        // "\u0061" is "a": the same key written differently.
        assert!(parse_strict(br#"{"a":1,"\u0061":2}"#).is_err());
    }

    #[test]
    fn trailing_garbage_rejected() {
        assert!(parse_strict(br#"{"a":1} x"#).is_err());
        assert!(parse_strict(b"<html>").is_err());
        assert!(parse_strict(b"").is_err());
    }

    #[test]
    fn flat_object_is_as_strict_as_the_tree() {
        let many = |dup_at: usize| {
            let mut text = String::from("{");
            for i in 0..100 {
                text.push_str(&format!("\"k{}\":{i},", if i == dup_at { 1 } else { i }));
            }
            text.push_str("\"end\":0}");
            text
        };
        for bad in [
            r#"{"a":1,"a":1}"#.to_owned(),
            r#"{"a":1,"\u0061":2}"#.to_owned(),
            r#"{"attach":{"x":[{"y":1,"y":2}]}}"#.to_owned(),
            r#"{"a":1} x"#.to_owned(),
            "<html>".to_owned(),
            String::new(),
            "[1]".to_owned(),
            many(3),  // repeats k1 as the 4th key: found by the linear scan
            many(90), // repeats k1 as the 91st: found by the hash set
            format!(r#"{{"nested":{}}}"#, many(70)),
        ] {
            assert!(FlatObject::parse_strict(bad.as_bytes()).is_err(), "{bad}");
            assert!(
                parse_strict(bad.as_bytes()).is_err() || bad == "[1]",
                "the tree parser accepts {bad}"
            );
        }
        let err = FlatObject::parse_strict(
            br#"{"a":1,
"a":2}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "duplicate key \"a\" at line 2 column 3");
        assert!(FlatObject::parse_strict(many(1000).as_bytes()).is_ok());
    }

    /// What the plain reader returns must be what serde_json returns; `None` is always allowed.
    fn plain_agrees_with_serde(text: &str) -> Result<bool, String> {
        match (plain::members(text), members_through_serde(text)) {
            (None, _) => Ok(false),
            (Some(plain), Ok(serde)) if plain == serde => Ok(true),
            (Some(plain), serde) => Err(format!("{text:?}: plain {plain:?}, serde {serde:?}")),
        }
    }

    #[test]
    fn plain_reader_takes_the_usual_answer_and_leaves_the_rest_to_serde() {
        for taken in [
            "{}",
            " {\n\t\"a\" : \"x\" ,\r\"b\":10000, \"c\":true,\"d\":false,\"e\":null,\"f\":0 } \n",
            r#"{"refund_amount":"-432.69","refund_no":"auto-17","refund_status":1,"return_code":10000,"sign":"472AE689D5581978F83058C7E8C04524"}"#,
            r#"{"é":"ü","":"","n":18446744073709551615,"a":1,"a":2}"#,
        ] {
            assert_eq!(plain_agrees_with_serde(taken), Ok(true), "{taken}");
        }
        // Every one of these is serde_json's to accept or refuse.
        for left in [
            r#"{"a":"\u0041"}"#,
            r#"{"a\n":1}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":1.5}"#,
            r#"{"a":1e3}"#,
            r#"{"a":1E3}"#,
            r#"{"a":-1}"#,
            r#"{"a":-0}"#,
            r#"{"a":01}"#,
            r#"{"a":00}"#,
            r#"{"a":18446744073709551616}"#,
            r#"{"a":{}}"#,
            r#"{"a":[]}"#,
            r#"{"a":tru}"#,
            r#"{"a":truex}"#,
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            r#"{"a":1}}"#,
            r#"{"a":1} x"#,
            "{\"a\":1}\u{c}",
            "[1]",
            "",
            "\u{feff}{}",
        ] {
            assert_eq!(plain_agrees_with_serde(left), Ok(false), "{left}");
        }
        // The document still reads (or is refused) as before: through serde_json.
        let doc = FlatObject::parse_strict(br#"{"a":-1,"b":"\u0041","c":1.5}"#).unwrap();
        assert_eq!(doc.get("b").and_then(Member::as_str), Some("A"));
        assert_eq!(
            doc.get("a").and_then(Member::scalar_text).as_deref(),
            Some("-1")
        );
        assert!(FlatObject::parse_strict(br#"{"a":01}"#).is_err());
        // A repeat read by the plain reader is refused, with serde_json's message.
        let err = FlatObject::parse_strict(br#"{"a":1,"a":2}"#).unwrap_err();
        assert_eq!(err.to_string(), "duplicate key \"a\" at line 1 column 10");
    }

    /// Pieces of JSON, valid and not, that the plain reader must judge exactly as serde_json.
    #[rustfmt::skip]
    const PIECES: &[&str] = &[
        "{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "\t", "\r", "\u{c}", "\u{1}",
        "\u{1f}", "\u{0}", "\u{7f}", "\u{a0}", "\u{2028}", "0", "1", "9", "-", ".", "e", "E",
        "+", "true", "false", "null", "tru", "x", "\"a\"", "\"é\"", "\"\\u0041\"", "\"\\\"\"",
        "18446744073709551615", "18446744073709551616", "9999999999999999999",
        "1234567890123456789", "00", "-0", ";", "'", "/", "#", "=", "NaN", "Infinity",
    ];

    fn piece() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(PIECES)
    }

    /// Every single edit of a few plain answers (each piece inserted at each position, each
    /// character replaced by each piece, each character removed): the plain reader agrees with
    /// serde_json on all of them.
    #[test]
    fn plain_reader_agrees_with_serde_after_any_one_edit() {
        let all = PIECES;
        let mut checked = 0;
        for base in [
            r#"{"refund_status":1,"sign":"S","amount":"-0.50"}"#,
            "{ \"a\" : 10000 ,\n\"b\":true,\"c\":null,\"d\":false}",
            r#"{"":0}"#,
            "{}",
        ] {
            let cuts: Vec<usize> = (0..=base.len())
                .filter(|&i| base.is_char_boundary(i))
                .collect();
            for (n, &at) in cuts.iter().enumerate() {
                let next = cuts.get(n + 1).copied();
                let mut variants: Vec<String> = all
                    .iter()
                    .map(|p| format!("{}{p}{}", &base[..at], &base[at..]))
                    .collect();
                if let Some(next) = next {
                    variants.extend(
                        all.iter()
                            .map(|p| format!("{}{p}{}", &base[..at], &base[next..])),
                    );
                    variants.push(format!("{}{}", &base[..at], &base[next..]));
                }
                for text in variants {
                    assert_eq!(plain_agrees_with_serde(&text).map(|_| ()), Ok(()));
                    checked += 1;
                }
            }
        }
        assert!(checked > 9_000, "{checked}");
    }

    /// Whitespace between tokens (or none).
    fn space() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec!["", "", " ", "\n", "\t", "\r", " \n "])
    }

    /// Keys, plain or not.
    fn key() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "\"a\"",
            "\"b\"",
            "\"sign\"",
            "\"é\"",
            "\"\"",
            "\"\\u0061\"",
            "\"a\\n\"",
        ])
    }

    /// Values, mostly plain.
    fn value() -> impl proptest::strategy::Strategy<Value = &'static str> {
        proptest::sample::select(vec![
            "\"x\"",
            "\"-0.50\"",
            "\"\"",
            "\"ü\"",
            "0",
            "7",
            "10000",
            "9999999999999999999",
            "1234567890123456789",
            "18446744073709551615",
            "18446744073709551616",
            "true",
            "false",
            "null",
            "01",
            "-1",
            "-0",
            "1.5",
            "1e2",
            "{}",
            "[1]",
            "\"\\u0041\"",
            "tru",
        ])
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

        /// Plain objects, then a few pieces inserted, replaced or removed anywhere: wherever
        /// the plain reader answers, it answers what serde_json does.
        #[test]
        fn plain_reader_agrees_with_serde(
            members in proptest::collection::vec((key(), space(), value(), space()), 0..8),
            edits in proptest::collection::vec((0_usize..64, 0_u8..3, piece()), 0..3),
            outside in (space(), space()),
        ) {
            let mut pieces: Vec<&str> = vec![outside.0, "{"];
            for (i, (key, space, value, after)) in members.iter().enumerate() {
                if i > 0 {
                    pieces.push(",");
                }
                pieces.extend([space, key, after, ":", space, value, after]);
            }
            pieces.extend(["}", outside.1]);
            for (at, how, with) in edits {
                let at = at % (pieces.len() + 1);
                match how {
                    0 => pieces.insert(at, with),
                    1 if at < pieces.len() => pieces[at] = with,
                    _ if at < pieces.len() => {
                        pieces.remove(at);
                    }
                    _ => {}
                }
            }
            let text = pieces.concat();
            if let Err(disagreement) = plain_agrees_with_serde(&text) {
                return Err(proptest::test_runner::TestCaseError::fail(disagreement));
            }
        }

        /// Any text at all (mostly not JSON): the same rule.
        #[test]
        fn plain_reader_agrees_with_serde_on_any_text(
            pieces in proptest::collection::vec(piece(), 0..24),
        ) {
            let text = pieces.concat();
            if let Err(disagreement) = plain_agrees_with_serde(&text) {
                return Err(proptest::test_runner::TestCaseError::fail(disagreement));
            }
        }
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The one-pass document and the tree agree on every top-level member's text.
        #[test]
        fn flat_object_texts_equal_the_trees(
            members in proptest::collection::btree_map(
                "[a-z_\u{e9}\\\"]{1,8}",
                proptest::prop_oneof![
                    proptest::arbitrary::any::<String>().prop_map(Value::from),
                    proptest::arbitrary::any::<i64>().prop_map(Value::from),
                    proptest::arbitrary::any::<u64>().prop_map(Value::from),
                    proptest::arbitrary::any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Value::from),
                    proptest::arbitrary::any::<bool>().prop_map(Value::from),
                    proptest::strategy::Just(Value::Null),
                    proptest::strategy::Just(serde_json::json!({"a": [1, {"b": "c"}]})),
                ],
                0..12,
            )
        ) {
            let tree = Value::Object(members.into_iter().collect());
            let bytes = serde_json::to_vec(&tree).unwrap();
            let flat = FlatObject::parse_strict(&bytes).unwrap();
            let from_flat: Vec<(String, Option<String>)> = flat
                .members()
                .map(|(k, m)| (k.to_owned(), m.scalar_text().map(Cow::into_owned)))
                .collect();
            let reparsed = parse_strict(&bytes).unwrap();
            let mut from_tree: Vec<(String, Option<String>)> = reparsed
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), scalar_text(v).map(Cow::into_owned)))
                .collect();
            from_tree.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            proptest::prop_assert_eq!(from_flat, from_tree);
        }
    }

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
