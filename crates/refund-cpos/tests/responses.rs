//! Every response fixture mapped (plain and with CPOS detail) or rejected; outcomes
//! snapshot-tested. Only signed fields decide; answers must name the refund asked for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use refund_core::{Refund, RefundLookup, RefundStatus, Secret, Verification};
use refund_cpos::{CposClient, CposDetail, ResponseSignature, sign};
use refund_test_support::{
    explained, fixture, fixture_entries, fixture_lookup, fixture_text, outcome,
};
use serde_json::{Value, json};

fn client(policy: ResponseSignature) -> CposClient {
    CposClient::builder()
        .base_url("http://127.0.0.1:1")
        .access_id("cpostest")
        .secret(secret())
        .response_signature(policy)
        .build()
        .unwrap()
}

fn secret() -> Secret {
    Secret::new(fixture_text("keys/cpos_secret.txt").trim())
}

fn parse(name: &str, policy: ResponseSignature) -> Result<Vec<Refund>, refund_core::Error> {
    client(policy).parse_response(
        &fixture_lookup("cpos", name),
        &fixture(&format!("cpos/responses/{name}.json")),
    )
}

/// A body signed with the test secret (the MD5 rule over top-level scalars).
fn signed(mut doc: Value) -> Vec<u8> {
    let fields = sign::response_fields(&doc);
    let sign = sign::sign_canonical(
        &secret(),
        fields.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    );
    doc["sign"] = json!(sign);
    serde_json::to_vec(&doc).unwrap()
}

#[test]
fn every_response_fixture() {
    let client = client(ResponseSignature::Required);
    for (name, path) in fixture_entries("cpos/responses", false, 25) {
        let lookup = fixture_lookup("cpos", &name);
        let body = std::fs::read(path).unwrap();
        let plain = client.parse_response(&lookup, &body);
        let detailed = client.parse_detailed(&lookup, &body);
        // The explanation of the same bytes ends exactly where the query did, in both forms.
        let explained = explained(&client.explain_response(&lookup, &body), &plain);
        insta::with_settings!({ info => &lookup }, {
            insta::assert_snapshot!(format!("explain_{name}"), explained);
            insta::assert_json_snapshot!(name.clone(), json!({
                "query": outcome(plain),
                "query_detailed": outcome(detailed),
            }));
        });
    }
}

#[test]
fn seed_is_normalised_to_a_positive_amount() {
    let client = client(ResponseSignature::Required);
    let lookup = fixture_lookup("cpos", "seed_resigned");
    let r = client
        .parse_detailed(&lookup, &fixture("cpos/responses/seed_resigned.json"))
        .unwrap();
    assert_eq!(r.refund.amount.to_major_string(), "0.50");
    assert_eq!(r.detail.signed_refund_amount.to_major_string(), "-0.50");
    assert_eq!(r.refund.status, RefundStatus::Succeeded);
    assert_eq!(r.refund.signature, Verification::Verified);
}

#[test]
fn tampering_is_a_signature_error_unless_optional() {
    for name in [
        "tampered_amount",
        "tampered_status",
        "wrong_secret",
        "unsigned_success",
    ] {
        let err = parse(name, ResponseSignature::Required).unwrap_err();
        assert_eq!(err.kind(), "signature", "{name}");
        // Optional: accepted, and labelled unverified.
        let refunds = parse(name, ResponseSignature::Optional).unwrap();
        assert_eq!(refunds[0].signature, Verification::Unverified, "{name}");
    }
}

#[test]
fn the_sign_is_hex_in_either_case_and_nothing_else() {
    let client = client(ResponseSignature::Required);
    let lookup = refund_core::RefundLookup::refund_id("WX1");
    let body = signed(
        json!({"return_code": 10000, "refund_no": "WX1", "refund_status": 1, "refund_amount": "-1.00"}),
    );
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let sign = doc["sign"].as_str().unwrap().to_owned();
    let with_sign = |s: &str| {
        let mut d = doc.clone();
        d["sign"] = json!(s);
        serde_json::to_vec(&d).unwrap()
    };
    assert!(client.parse_response(&lookup, &with_sign(&sign)).is_ok());
    assert!(
        client
            .parse_response(&lookup, &with_sign(&sign.to_ascii_lowercase()))
            .is_ok()
    );
    let mut flipped = sign.clone().into_bytes();
    flipped[31] = if flipped[31] == b'0' { b'1' } else { b'0' };
    for bad in [
        String::from_utf8(flipped).unwrap(),
        sign[..31].to_owned(),
        format!("{sign}0"),
        format!("{}G", &sign[..31]),
        format!(" {}", &sign[..31]),
        String::new(),
    ] {
        let err = client
            .parse_response(&lookup, &with_sign(&bad))
            .unwrap_err();
        assert_eq!(err.kind(), "signature", "{bad:?}");
    }
}

#[test]
fn unsigned_attach_never_decides_in_required_mode() {
    // The signed part says "1" (succeeded); `attach` (unsigned) says processing, closed, changed
    // or not found, with a time and a channel: none of it reaches the refund.
    for name in [
        "attach_processing",
        "attach_refundclose",
        "attach_change",
        "attach_refund_not_exist",
        "full_fields_with_attach_coupons",
    ] {
        let r = &parse(name, ResponseSignature::Required).unwrap()[0];
        assert_eq!(r.status, RefundStatus::Succeeded, "{name}");
        assert!(r.completed_at.is_none(), "{name}");
        assert!(r.channel.is_none(), "{name}");
        assert!(
            r.failure_code.is_none() && r.failure_message.is_none(),
            "{name}"
        );
    }
    // Changing only `attach` of a signed answer changes no output field.
    let base = json!({
        "return_code": 10000, "refund_status": 3, "refund_amount": "-0.50",
        "out_refund_no": "200324847290000004766",
    });
    let lookup = RefundLookup::merchant_refund_id("200324847290000004766");
    let client = client(ResponseSignature::Required);
    let plain = client
        .parse_response(&lookup, &signed(base.clone()))
        .unwrap();
    for attach in [
        json!({"result_code": "FAIL", "err_code": "REFUNDNOTEXIST"}),
        json!({"refund_status": "SUCCESS", "refund_success_time": "2020-03-24 16:15:30", "refund_channel": "ORIGINAL"}),
        json!({"refund_status": "CHANGE", "refund_fee": "999999"}),
        json!("{\"refund_status\":\"REFUNDCLOSE\"}"),
    ] {
        let mut doc = base.clone();
        doc["attach"] = attach.clone();
        // `attach` is outside the signature: the same `sign` still verifies.
        let with_attach = client.parse_response(&lookup, &signed(doc)).unwrap();
        assert_eq!(with_attach, plain, "{attach}");
    }
    assert_eq!(plain[0].status, RefundStatus::Processing);
}

#[test]
fn a_malformed_detail_field_fails_only_the_detailed_query() {
    let lookup = fixture_lookup("cpos", "attach_bad_fen");
    let body = fixture("cpos/responses/attach_bad_fen.json");
    let client = client(ResponseSignature::Required);
    assert!(client.parse_response(&lookup, &body).is_ok());
    assert_eq!(
        client.parse_detailed(&lookup, &body).unwrap_err().kind(),
        "decode"
    );
}

#[test]
fn answers_are_bound_to_the_lookup() {
    let client = client(ResponseSignature::Required);
    let body = fixture("cpos/responses/seed_resigned.json");
    for (lookup, ok) in [
        (RefundLookup::refund_id("WX200324161500830790814539"), true),
        (
            RefundLookup::merchant_refund_id("200324847290000004766"),
            true,
        ),
        (
            RefundLookup::channel_trade_no("010820032416151297557MC"),
            true,
        ),
        (RefundLookup::refund_id("WX-OTHER"), false),
        (
            RefundLookup::merchant_refund_id("200324847290000004767"),
            false,
        ),
        (
            RefundLookup::channel_trade_no("010820032416151297557MD"),
            false,
        ),
    ] {
        let result = client.parse_response(&lookup, &body);
        match ok {
            true => assert!(result.is_ok(), "{lookup:?}"),
            false => assert_eq!(result.unwrap_err().kind(), "mismatch", "{lookup:?}"),
        }
    }
    let err = client
        .parse_response(&RefundLookup::refund_id("WX-OTHER"), &body)
        .unwrap_err();
    insta::assert_snapshot!(err.to_string(), @r#"cpos: the answer is not about what was asked: `refund_no` is "WX200324161500830790814539", asked for "WX-OTHER""#);
    // An answer describing a refund without the looked-up id field: a decode error, not a pass.
    let no_id = signed(json!({"return_code": 10000, "refund_status": 1, "refund_amount": "-0.50"}));
    let err = client
        .parse_response(&RefundLookup::refund_id("WX1"), &no_id)
        .unwrap_err();
    assert_eq!(err.kind(), "decode");
    assert!(err.to_string().contains("`refund_no`"), "{err}");
    // Error answers carry no refund ids: not found stays not found whatever was asked.
    let not_found = fixture("cpos/responses/error_not_found.json");
    assert!(
        client
            .parse_response(&RefundLookup::refund_id("anything"), &not_found)
            .unwrap_err()
            .is_not_found()
    );
    // In optional mode too: an unverified answer about another refund is still a mismatch.
    let optional = self::client(ResponseSignature::Optional);
    let unsigned = fixture("cpos/responses/unsigned_success.json");
    assert_eq!(
        optional
            .parse_response(&RefundLookup::refund_id("WX-OTHER"), &unsigned)
            .unwrap_err()
            .kind(),
        "mismatch"
    );
}
