//! One JSON object parsed strictly in a single pass, its top level kept ([`FlatObject`]): the
//! document of a provider that signs its top-level scalars (CPOS, WeChat Pay v2).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};

use super::StrictDocument;
use super::tree::{Key, SeenKeys, parse_strict};
use crate::error::Error;
use crate::provider::Provider;

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

    /// The member `key` as a string-or-integer field (see [`Text`](super::Text)), as text (a string borrowed
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
        let members = members_through_serde(text)?;
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

/// A document's top-level members, as read.
pub(super) type Members<'b> = Vec<(Cow<'b, str>, Member<'b>)>;

/// In key order (byte order of the keys); equal keys end up side by side.
fn sort_members(members: &mut Members<'_>) {
    members.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
