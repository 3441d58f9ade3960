//! Staged golden files made by Python `cryptography`: params → canonical text → signature →
//! request on the wire.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use refund_core::rsa_keys::RsaPrivateKey;
use refund_edgeros::sign;
use refund_edgeros::wire::RefundQuery;
use refund_test_support::{fixture_entries, fixture_text, http_text};

#[test]
fn every_signing_case_matches_python() {
    let key = RsaPrivateKey::from_text(&fixture_text("keys/edgeros_merchant.pem")).unwrap();
    for (name, dir) in fixture_entries("edgeros/sign", true, 6) {
        let read = |file: &str| std::fs::read_to_string(dir.join(file)).unwrap();
        let params: serde_json::Value = serde_json::from_str(&read("params.json")).unwrap();
        let query = RefundQuery {
            mch_refund_no: params["mch_refund_no"].as_str().map(str::to_owned),
            refund_no: params["refund_no"].as_str().map(str::to_owned),
        };
        let mch_no = params["mch_no"].as_str().unwrap();
        let nonce = params["nonce"].as_str().unwrap();
        let canonical = sign::request_canonical(mch_no, nonce, &query);
        assert_eq!(canonical, read("canonical.txt"), "{name}: canonical");
        let signature = sign::sign_canonical(&key, &canonical).unwrap();
        assert_eq!(signature, read("signature.txt").trim(), "{name}: signature");
        let request =
            sign::build_request("https://api.edgeros.com", mch_no, &key, &query, nonce).unwrap();
        assert_eq!(request.header("x-acopay-sign"), Some(signature.as_str()));
        insta::with_settings!({ info => &params, omit_expression => true }, {
            insta::assert_snapshot!(format!("request_{name}"), http_text(&request));
        });
    }
}
