#![no_main]
//! The one-pass document of a signed answer (`FlatObject`, read through serde_json in one pass)
//! accepts exactly the JSON objects the strict tree parser accepts, and holds the same top-level
//! members: a signature is checked over what it reads.
use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use refund_core::json::{FlatObject, parse_strict, scalar_text};

fuzz_target!(|data: &[u8]| {
    let flat = FlatObject::parse_strict(data);
    let tree = parse_strict(data).ok().filter(serde_json::Value::is_object);
    match (flat, tree) {
        (Ok(flat), Some(tree)) => {
            let from_flat: Vec<(&str, Option<Cow<'_, str>>)> =
                flat.members().map(|(k, m)| (k, m.scalar_text())).collect();
            let mut from_tree: Vec<(&str, Option<Cow<'_, str>>)> = tree
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, v)| (k.as_str(), scalar_text(v)))
                .collect();
            from_tree.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            assert_eq!(from_flat, from_tree);
        }
        (Err(_), None) => {}
        (flat, tree) => panic!("flat {:?} but tree {:?}", flat.map(|_| ()), tree),
    }
});
