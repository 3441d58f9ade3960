//! Staged golden files made with md5sum: fields → canonical string → signature → request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use proptest::prelude::*;
use refund_core::explain::SECRET_PLACEHOLDER;
use refund_core::{RefundLookup, Secret};
use refund_cpos::wire::IdField;
use refund_cpos::{CposClient, sign};
use refund_test_support::{explained_request, fixture_entries, fixture_text, http_text};

const WECHAT_KEY: &str = "192006250b4c09247ec02edce69f6a2d";

fn test_secret() -> String {
    fixture_text("keys/cpos_secret.txt").trim().to_owned()
}

#[tokio::test]
async fn every_signing_case_matches_md5sum() {
    for (name, dir) in fixture_entries("cpos/sign", true, 6) {
        let params: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).unwrap())
                .unwrap();
        let secret = if params["secret"] == "wechat" {
            WECHAT_KEY.to_owned()
        } else {
            test_secret()
        };
        let fields: Vec<(&str, &str)> = params["fields"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
            .collect();
        let canonical = sign::canonical_string(fields.iter().copied(), &secret);
        assert_eq!(
            canonical,
            std::fs::read_to_string(dir.join("canonical.txt")).unwrap(),
            "{name}: canonical"
        );
        let signature = sign::md5_upper_hex(&canonical);
        assert_eq!(
            signature,
            std::fs::read_to_string(dir.join("signature.txt"))
                .unwrap()
                .trim(),
            "{name}: signature"
        );

        // Lookup-shaped cases: the whole request on the wire.
        let lookup = IdField::ALL.into_iter().find_map(|field| {
            let present: Vec<_> = fields
                .iter()
                .filter(|(k, v)| *k != "accessid" && !v.is_empty())
                .collect();
            (present.len() == 1 && present[0].0 == field.name())
                .then(|| RefundLookup::new(field.kind(), present[0].1))
        });
        if let Some(lookup) = lookup {
            let request = sign::build_request(
                "http://47.95.131.62:8080",
                "cpostest",
                &Secret::new(secret.clone()),
                &lookup,
            )
            .unwrap();
            assert!(request.body_text().unwrap().contains(&signature), "{name}");
            // The explanation: the same bytes, the signed text with the secret as a
            // placeholder, the secret nowhere.
            let client = CposClient::builder()
                .base_url("http://47.95.131.62:8080")
                .access_id("cpostest")
                .secret(Secret::new(secret.clone()))
                .build()
                .unwrap();
            let explained = client.explain_request(&lookup).await.unwrap();
            let signing = explained.signing.as_ref().unwrap();
            assert_eq!(signing.signature, signature, "{name}");
            assert_eq!(
                signing.signed_text,
                canonical.replace(&secret, SECRET_PLACEHOLDER),
                "{name}"
            );
            let text = explained_request(&explained, &request);
            assert!(!text.contains(&secret), "{name}: the secret leaked");
            insta::with_settings!({ info => &params, omit_expression => true }, {
                insta::assert_snapshot!(format!("request_{name}"), http_text(&request));
                insta::assert_snapshot!(format!("explain_request_{name}"), text);
            });
        }
    }
}

#[test]
fn wechat_official_vector() {
    let canonical = sign::canonical_string(
        [
            ("appid", "wxd930ea5d5a258f4f"),
            ("mch_id", "10000100"),
            ("device_info", "1000"),
            ("body", "test"),
            ("nonce_str", "ibuaiVcKdpRxkhJA"),
        ],
        WECHAT_KEY,
    );
    assert_eq!(
        sign::md5_upper_hex(&canonical),
        "9A0A8659F005D6984697E2CA0A9CF3B7"
    );
}

/// The reference model: the rule written as plainly as possible.
fn reference(fields: &[(String, String)], secret: &str) -> String {
    let mut kept: Vec<&(String, String)> = fields
        .iter()
        .filter(|(k, v)| k != "sign" && !v.is_empty())
        .collect();
    kept.sort();
    let mut parts: Vec<String> = kept.iter().map(|(k, v)| format!("{k}={v}")).collect();
    parts.push(format!("key={secret}"));
    parts.join("&")
}

proptest! {
    #[test]
    fn canonical_string_matches_reference(
        fields in proptest::collection::btree_map("[a-z_]{1,12}", "[ -~\u{4e00}-\u{4e10}]{0,12}", 0..8),
        secret in "[a-zA-Z0-9]{1,32}",
    ) {
        let pairs: Vec<(String, String)> = fields.into_iter().collect();
        let ours = sign::canonical_string(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())), &secret);
        prop_assert_eq!(ours, reference(&pairs, &secret));
    }
}
