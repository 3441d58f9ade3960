//! Every response fixture: verified and mapped, or rejected with a typed error (snapshots).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::path::Path;

use refund_core::rsa_keys::RsaPublicKey;
use refund_edgeros::map;

fn outcome<T: serde::Serialize>(result: Result<T, refund_core::Error>) -> serde_json::Value {
    match result {
        Ok(v) => serde_json::json!({ "ok": v }),
        Err(e) => serde_json::json!({ "error": e }),
    }
}

fn platform() -> RsaPublicKey {
    RsaPublicKey::from_text(include_str!(
        "../../../fixtures/keys/edgeros_platform.pub.pem"
    ))
    .unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/edgeros/responses")
            .join(name),
    )
    .unwrap()
}

#[test]
fn every_response_fixture() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/edgeros/responses");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 20);
    let key = platform();
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().to_string();
        let result = map::map_response_body(&std::fs::read(&file).unwrap(), &key);
        insta::assert_json_snapshot!(name.clone(), outcome(result));
    }
}

#[test]
fn tampering_is_always_a_signature_error() {
    let key = platform();
    for name in [
        "tampered_amount.json",
        "tampered_code.json",
        "tampered_status.json",
        "wrong_key.json",
        "missing_sign.json",
        "wrong_sign_type.json",
        "garbage_sign.json",
    ] {
        let err = map::map_response_body(&fixture(name), &key).unwrap_err();
        assert_eq!(err.kind(), "signature", "{name}: {err}");
    }
    let err = map::map_response_body(&fixture("duplicate_refund_amount.json"), &key).unwrap_err();
    assert!(
        err.to_string().contains("duplicate key \"refund_amount\""),
        "{err}"
    );
}

#[test]
fn seed_success_maps_exactly() {
    let refunds =
        map::map_response_body(&fixture("seed_success_resigned.json"), &platform()).unwrap();
    let r = &refunds[0];
    assert_eq!(r.amount.minor(), 1);
    assert_eq!(r.status, refund_core::RefundStatus::Succeeded);
    assert_eq!(
        refund_core::time::format_utc(&r.completed_at.unwrap()),
        "2024-04-24T09:15:21Z"
    );
    assert_eq!(r.channel.as_deref(), Some("WECHAT_PAY"));
    assert_eq!(
        r.merchant_order_id.as_deref(),
        Some("mp202104021606341385640107521832")
    );
}
