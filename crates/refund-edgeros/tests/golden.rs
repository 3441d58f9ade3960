//! Staged golden files made by Python `cryptography`: params → canonical text → signature →
//! request on the wire.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use refund_core::rsa_keys::RsaPrivateKey;
use refund_edgeros::sign::{self, RefundQuery};

#[test]
fn every_signing_case_matches_python() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let key = RsaPrivateKey::from_text(
        &std::fs::read_to_string(root.join("keys/edgeros_merchant.pem")).unwrap(),
    )
    .unwrap();
    let mut cases: Vec<_> = std::fs::read_dir(root.join("edgeros/sign"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6);
    for dir in cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let params: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).unwrap())
                .unwrap();
        let query = RefundQuery {
            mch_refund_no: params["mch_refund_no"].as_str().map(str::to_owned),
            refund_no: params["refund_no"].as_str().map(str::to_owned),
        };
        let mch_no = params["mch_no"].as_str().unwrap();
        let nonce = params["nonce"].as_str().unwrap();
        let canonical = sign::request_canonical(mch_no, nonce, &query);
        assert_eq!(
            canonical,
            std::fs::read_to_string(dir.join("canonical.txt")).unwrap(),
            "{name}: canonical"
        );
        let signature = sign::sign_canonical(&key, &canonical).unwrap();
        assert_eq!(
            signature,
            std::fs::read_to_string(dir.join("signature.txt"))
                .unwrap()
                .trim(),
            "{name}: signature"
        );
        let request =
            sign::build_request("https://api.edgeros.com", mch_no, &key, nonce, &query).unwrap();
        assert_eq!(request.header("x-acopay-sign"), Some(signature.as_str()));
        insta::assert_json_snapshot!(format!("request_{name}"), request);
    }
}
