//! Key material and secrets appear nowhere: not in `Debug` or `Display` of any client, builder or
//! config type, not in errors, not in trace output of failing queries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use refund_core::{Provider, RefundLookup};
use refund_cpos::ResponseSignature;
use refund_sandbox::{Fault, FaultRule};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Pieces of every secret: the CPOS secret, and a body line of each private key's PEM and of its
/// bare base64 DER form.
fn secret_pieces(sandbox: &refund_sandbox::SandboxHandle) -> Vec<String> {
    let c = sandbox.credentials();
    let mut pieces = vec![c.cpos_secret.expose().to_owned()];
    for key in [
        &c.openapi_merchant_key,
        &c.openapi_platform_key,
        &c.edgeros_merchant_key,
        &c.edgeros_platform_key,
    ] {
        let pem = key.to_pkcs8_pem().unwrap();
        let lines: Vec<&str> = pem
            .expose()
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        pieces.push(lines[5].to_owned());
        pieces.push(lines[lines.len() / 2].to_owned());
    }
    pieces
}

#[tokio::test]
async fn no_secret_in_debug_display_errors_or_traces() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sandbox = common::start().await;
    let mut shown = format!(
        "{:?}\n{:?}\n",
        common::fast_http(),
        refund_sandbox::Sandbox::builder().credentials(sandbox.credentials().clone())
    );

    // Every client, builder and config type.
    let openapi_builder = sandbox.openapi_client();
    shown += &format!("{openapi_builder:?}\n");
    let openapi = openapi_builder.build().unwrap();
    let edgeros_builder = sandbox.edgeros_client();
    shown += &format!("{edgeros_builder:?}\n");
    let edgeros = edgeros_builder.build().unwrap();
    let cpos_builder = sandbox
        .cpos_client()
        .response_signature(ResponseSignature::Optional);
    shown += &format!("{cpos_builder:?}\n");
    let cpos = cpos_builder.build().unwrap();
    let creds = sandbox.credentials();
    shown += &format!("{openapi:?}\n{edgeros:?}\n{cpos:?}\n{creds:?}\n{sandbox:?}\n");
    shown += &format!("{:?} {}\n", creds.cpos_secret, creds.cpos_secret);
    shown += &format!(
        "{:?} {:?}\n",
        creds.openapi_merchant_key,
        creds.edgeros_platform_key.public_key()
    );

    // Failing queries, traced at TRACE level: signature failures, rejected requests, faults.
    sandbox.add_fault(FaultRule::provider(Provider::Cpos, Fault::WrongSignature));
    sandbox.add_fault(FaultRule::provider(
        Provider::Edgeros,
        Fault::WrongSignature,
    ));
    let r = cpos.query(&RefundLookup::refund_id("WX-FAILED-1")).await; // accepted with a warning
    shown += &format!("{r:?}\n");
    let e = edgeros
        .query(&RefundLookup::refund_id("AR-PROCESSING-1"))
        .await
        .unwrap_err();
    shown += &format!("{e:?}\n{e}\n");
    let wrong = sandbox
        .cpos_client()
        .secret(refund_core::Secret::new("x"))
        .build()
        .unwrap();
    let e = wrong
        .query(&RefundLookup::refund_id("WX-FAILED-1"))
        .await
        .unwrap_err();
    shown += &format!("{e:?}\n{e}\n");
    let e = openapi
        .query(&RefundLookup::refund_id("nope"))
        .await
        .unwrap_err();
    shown += &format!("{e:?}\n{e}\n");
    // A key that does not parse: the error names the problem, not the bytes.
    let e = refund_openapi::OpenApiClient::builder()
        .merchant_private_key_pem("MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA")
        .unwrap_err();
    shown += &format!("{e:?}\n{e}\n");

    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        traces.contains("WITHOUT signature verification"),
        "the optional-signature warning is traced"
    );
    let everything = format!("{shown}\n{traces}");
    for piece in secret_pieces(&sandbox) {
        assert!(
            !everything.contains(&piece),
            "secret material leaked: {piece}"
        );
    }
    assert!(!everything.contains("MIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA"));
}
