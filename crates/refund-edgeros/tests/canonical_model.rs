//! The canonical JSON writer against a reference model: serde_json (sorted map, compact), which
//! escapes exactly as the vendor SDK's Gson does except for U+2028/U+2029.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::BTreeMap;

use proptest::prelude::*;
use refund_edgeros::sign::request_canonical;
use refund_edgeros::wire::{
    Canonical, RefundQuery, percent_encode, to_canonical_json, write_json_string,
};

fn reference(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value)
        .unwrap()
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Any text, weighted towards the characters whose escaping matters.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            3 => any::<char>(),
            2 => prop::sample::select(vec!['"', '\\', '/', '<', '>', '&', '=', '\'', '\u{0}', '\u{1f}', '\u{7f}', '\t', '\n', '\r', '\u{8}', '\u{c}', '\u{2028}', '\u{2029}', '\u{feff}', '\u{a0}', '退', '💸']),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// RFC 3986 by the letter: unreserved bytes kept, every other byte `%XX` in upper-case hex.
fn percent_reference(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

proptest! {
    #[test]
    fn query_components_are_percent_encoded_by_rfc_3986(s in text()) {
        prop_assert_eq!(percent_encode(&s), percent_reference(&s));
    }

    #[test]
    fn strings_escape_like_the_sdk(s in text()) {
        let mut ours = String::new();
        write_json_string(&mut ours, &s);
        prop_assert_eq!(ours, reference(&s));
    }

    #[test]
    fn objects_are_sorted_and_compact(map in proptest::collection::btree_map(text(), text(), 0..6)) {
        let canonical = Canonical::Obj(map.iter().map(|(k, v)| (k.clone(), Canonical::Str(v.clone()))).collect());
        prop_assert_eq!(to_canonical_json(&canonical), reference(&map));
    }

    #[test]
    fn request_text_matches_the_model(mch_refund_no in proptest::option::of(text()), refund_no in proptest::option::of(text())) {
        let query = RefundQuery { mch_refund_no: mch_refund_no.clone(), refund_no: refund_no.clone() };
        let mut model: BTreeMap<&str, String> = BTreeMap::new();
        model.insert("mch_no", "MCH1000000".into());
        model.insert("nonce", "n".into());
        model.insert("sign_type", "SHA256withRSA".into());
        if let Some(v) = mch_refund_no { model.insert("mch_refund_no", v); }
        if let Some(v) = refund_no { model.insert("refund_no", v); }
        prop_assert_eq!(request_canonical("MCH1000000", "n", &query), reference(&model));
    }
}
