//! Every response fixture mapped (with CPOS detail) or rejected; outcomes snapshot-tested.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use refund_core::{RefundStatus, Secret};
use refund_cpos::map::{self, ResponseSignature};

fn outcome<T: serde::Serialize>(result: Result<T, refund_core::Error>) -> serde_json::Value {
    match result {
        Ok(v) => serde_json::json!({ "ok": v }),
        Err(e) => serde_json::json!({ "error": e }),
    }
}

fn secret() -> Secret {
    Secret::new(include_str!("../../../fixtures/keys/cpos_secret.txt").trim())
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/cpos/responses")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_response_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/cpos/responses");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 25);
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let result = map::map_response_body(
            &std::fs::read(&file).unwrap(),
            &secret(),
            ResponseSignature::Required,
        );
        insta::assert_json_snapshot!(name.clone(), outcome(result));
    }
}

#[test]
fn seed_is_normalised_to_a_positive_amount() {
    let r = map::map_response_body(
        &fixture("seed_resigned.json"),
        &secret(),
        ResponseSignature::Required,
    )
    .unwrap();
    assert_eq!(r.refund.amount.to_major_string(), "0.50");
    assert_eq!(r.detail.signed_refund_amount.to_major_string(), "-0.50");
    assert_eq!(r.refund.status, RefundStatus::Succeeded);
    assert!(r.detail.signature_verified);
}

#[test]
fn tampering_is_a_signature_error_unless_optional() {
    for name in [
        "tampered_amount.json",
        "tampered_status.json",
        "wrong_secret.json",
        "unsigned_success.json",
    ] {
        let err = map::map_response_body(&fixture(name), &secret(), ResponseSignature::Required)
            .unwrap_err();
        assert_eq!(err.kind(), "signature", "{name}");
        // Optional: accepted, and recorded as unverified.
        let r =
            map::map_response_body(&fixture(name), &secret(), ResponseSignature::Optional).unwrap();
        assert!(!r.detail.signature_verified, "{name}");
    }
}

#[test]
fn wechat_status_refines_only_where_it_contradicts_nothing() {
    let cases = [
        ("attach_processing.json", RefundStatus::Processing),
        ("attach_refundclose.json", RefundStatus::Cancelled),
        ("attach_change.json", RefundStatus::NeedsAttention),
        (
            "full_fields_with_attach_coupons.json",
            RefundStatus::Succeeded,
        ),
        ("status_failed.json", RefundStatus::Failed),
        ("status_unknown_3.json", RefundStatus::Processing),
    ];
    for (name, expected) in cases {
        let r =
            map::map_response_body(&fixture(name), &secret(), ResponseSignature::Required).unwrap();
        assert_eq!(r.refund.status, expected, "{name}");
    }
}
