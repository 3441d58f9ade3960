//! The strict tree parser: serde_json's own [`Value`], with duplicate keys rejected at every
//! depth (serde_json keeps the last of two equal keys without a word).

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

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

/// The keys of one object seen so far, to reject a repeat where it occurs (so the error points
/// at it): a linear scan for the usual small object, a hash set past 32 keys (a hostile object
/// with many keys stays linear in its size).
#[derive(Default)]
pub(super) struct SeenKeys(pub(super) Option<std::collections::HashSet<String>>);

impl SeenKeys {
    const LINEAR: usize = 32;

    pub(super) fn admit<'k, E: de::Error>(
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
pub(super) struct Key<'b>(pub(super) Cow<'b, str>);

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
    use super::*;

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
}
