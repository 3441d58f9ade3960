//! The sans-IO path, for code without an async runtime: `prepare_now` signs the request, any HTTP
//! client sends it (here reqwest's blocking client), `parse_response` verifies, binds and maps
//! the answer. Nothing here awaits.
//!
//! ```sh
//! REFUND_CPOS_BASE_URL=http://127.0.0.1:8080 REFUND_CPOS_ACCESS_ID=cpostest \
//! REFUND_CPOS_SECRET=... cargo run -p refund-cpos --example cpos_blocking -- WX200324161500830790814539
//! ```

use std::io::Read;

use refund_cpos::{CposClient, RefundLookup, Secret};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

/// The largest answer read (the built-in client's default limit too).
const MAX_BODY: u64 = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = CposClient::builder()
        .base_url(setting("REFUND_CPOS_BASE_URL")?)
        .access_id(setting("REFUND_CPOS_ACCESS_ID")?)
        .secret(Secret::new(setting("REFUND_CPOS_SECRET")?))
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: cpos_blocking REFUND_NO")?;
    let lookup = RefundLookup::refund_id(id);

    // 1. Sign: method, URL, headers and the exact body bytes to send.
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
    // 3. Verify, bind to the question, map.
    for refund in client.parse_response(&lookup, &body)? {
        println!("{refund}");
    }
    Ok(())
}
