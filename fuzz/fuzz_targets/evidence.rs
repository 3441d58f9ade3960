#![no_main]
//! Evidence files (`--evidence`): whatever the lookup id and the answer's bytes, the file written
//! for a real signed request never holds the CPOS secret or any run of the merchant's private
//! key (the key-material leak check of `keys`, over evidence files), and keeps the answer's
//! bytes exactly; any bytes read back as `explain response` reads a file never panic.
use std::sync::OnceLock;

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use refund_core::{Provider, RefundLookup, Secret};
use refund_cpos::CposClient;
use refund_edgeros::EdgerosClient;

const SECRET: &str = "fuzz-secret-kept-out-of-evidence";
const MERCHANT_KEY: &str = include_str!("../../fixtures/keys/edgeros_merchant.pem");

fn clients() -> &'static (CposClient, EdgerosClient) {
    static CLIENTS: OnceLock<(CposClient, EdgerosClient)> = OnceLock::new();
    CLIENTS.get_or_init(|| {
        let cpos = CposClient::builder()
            .base_url("http://127.0.0.1:1")
            .access_id("cpostest")
            .secret(Secret::new(SECRET))
            .build()
            .expect("cpos");
        let edgeros = EdgerosClient::builder()
            .mch_no("MCH1000000")
            .merchant_private_key_pem(MERCHANT_KEY)
            .and_then(|b| {
                b.platform_public_key_pem(include_str!(
                    "../../fixtures/keys/edgeros_platform.pub.pem"
                ))
            })
            .and_then(|b| b.build())
            .expect("edgeros");
        (cpos, edgeros)
    })
}

/// Runs of 33 characters of the key's base64 body: none may appear in an evidence file.
fn key_runs() -> &'static Vec<String> {
    static RUNS: OnceLock<Vec<String>> = OnceLock::new();
    RUNS.get_or_init(|| {
        let body: String = MERCHANT_KEY
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        body.as_bytes()
            .chunks(33)
            .filter(|c| c.len() == 33)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = refund_cli::fuzzing::read_evidence(data);
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let split = usize::from(first % 40).min(rest.len());
    let (id, body) = rest.split_at(split);
    let id = String::from_utf8_lossy(id);
    let lookup = RefundLookup::refund_id(id.trim());
    let status = [200, 404, 429, 500, 503][usize::from(first) % 5];
    let (cpos, edgeros) = clients();
    for (provider, request) in [
        (Provider::Cpos, cpos.prepare_now(&lookup)),
        (Provider::Edgeros, edgeros.prepare_now(&lookup)),
    ] {
        let Ok(request) = request else {
            continue;
        };
        let text = refund_cli::fuzzing::evidence(&request, &lookup, provider, (status, body));
        assert!(!text.contains(SECRET), "the CPOS secret in evidence");
        for run in key_runs() {
            assert!(!text.contains(run.as_str()), "key material in evidence");
        }
        let value: serde_json::Value = serde_json::from_str(&text).expect("evidence is JSON");
        let kept = base64::engine::general_purpose::STANDARD
            .decode(value["answer"]["body_base64"].as_str().expect("body"))
            .expect("base64");
        assert_eq!(kept, body, "the answer's exact bytes");
        match refund_cli::fuzzing::read_evidence(text.as_bytes()) {
            Some(Ok(read)) => assert_eq!(read, body),
            other => panic!("an evidence file reads back: {other:?}"),
        }
    }
});
