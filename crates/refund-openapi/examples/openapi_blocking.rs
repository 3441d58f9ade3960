//! The sans-IO path, for code without an async runtime: `prepare_now` signs the request, any HTTP
//! client sends it (here reqwest's blocking client), `parse_response` binds and maps the
//! answer. Nothing here awaits. (`prepare_now` needs a signer that signs in place, as the
//! key read here does; with a key service, sign `client.draft(..)`'s text and `client.attach`.)
//!
//! ```sh
//! REFUND_OPENAPI_BASE_URL=http://127.0.0.1:8080 REFUND_OPENAPI_APP_ID=733b887a4a784708bb369524db5b6ded \
//! REFUND_OPENAPI_KEY_FILE=merchant.pem cargo run -p refund-openapi --example openapi_blocking -- CU518563189147832320
//! ```

use std::io::Read;

use refund_openapi::{OpenApiClient, RefundLookup};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

/// The largest answer read (the built-in client's default limit too).
const MAX_BODY: u64 = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = OpenApiClient::builder()
        .base_url(setting("REFUND_OPENAPI_BASE_URL")?)
        .app_id(setting("REFUND_OPENAPI_APP_ID")?)
        .merchant_private_key_pem(&std::fs::read_to_string(setting(
            "REFUND_OPENAPI_KEY_FILE",
        )?)?)?
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: openapi_blocking TRANSACTION_ID")?;
    let lookup = RefundLookup::original_transaction_id(id);

    // 1. Sign: the JSON body `{appId, param, sign}`, exactly as it must be sent.
    let request = client.prepare_now(&lookup)?;
    // 2. Send it with any HTTP client.
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut builder = http.post(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_ref(), value.as_ref());
    }
    let response = builder
        .body(request.body.clone().unwrap_or_default())
        .send()?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()).into());
    }
    let mut body = Vec::new();
    response.take(MAX_BODY + 1).read_to_end(&mut body)?;
    if body.len() as u64 > MAX_BODY {
        return Err("answer larger than 1 MiB".into());
    }
    // 3. Bind every refund to the question, map.
    for refund in client.parse_response(&lookup, &body)? {
        println!("{refund}");
    }
    Ok(())
}
