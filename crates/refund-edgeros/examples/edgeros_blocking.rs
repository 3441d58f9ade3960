//! The sans-IO path, for code without an async runtime: `prepare_now` signs the request, any HTTP
//! client sends it (here reqwest's blocking client), `parse_response` verifies the platform's
//! signature over the bytes received, binds and maps. Nothing here awaits. (`prepare_now` needs
//! a signer that signs in place, as the key read here does; with a key service, sign
//! `client.draft(..)`'s text and `client.attach` the signature.)
//!
//! ```sh
//! REFUND_EDGEROS_BASE_URL=http://127.0.0.1:8080 REFUND_EDGEROS_MCH_NO=MCH1000000 \
//! REFUND_EDGEROS_KEY_FILE=merchant.pem REFUND_EDGEROS_PLATFORM_KEY_FILE=platform.pub.pem \
//! cargo run -p refund-edgeros --example edgeros_blocking -- AR202112151405438637829842922855012187
//! ```

use std::io::Read;

use refund_edgeros::{EdgerosClient, RefundLookup};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

/// The largest answer read (the built-in client's default limit too).
const MAX_BODY: u64 = 1 << 20;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = EdgerosClient::builder()
        .base_url(setting("REFUND_EDGEROS_BASE_URL")?)
        .mch_no(setting("REFUND_EDGEROS_MCH_NO")?)
        .merchant_private_key_file(setting("REFUND_EDGEROS_KEY_FILE")?)?
        .platform_public_key_file(setting("REFUND_EDGEROS_PLATFORM_KEY_FILE")?)?
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: edgeros_blocking REFUND_NO")?;
    let lookup = RefundLookup::refund_id(id);

    // 1. Sign: a GET with the query string and the x-acopay-* signature headers.
    let request = client.prepare_now(&lookup)?;
    // 2. Send it with any HTTP client.
    let http = reqwest::blocking::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut builder = http.get(&request.url);
    for (name, value) in &request.headers {
        builder = builder.header(name.as_ref(), value.as_ref());
    }
    let response = builder.send()?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status()).into());
    }
    let mut body = Vec::new();
    response.take(MAX_BODY + 1).read_to_end(&mut body)?;
    if body.len() as u64 > MAX_BODY {
        return Err("answer larger than 1 MiB".into());
    }
    // 3. Verify the signature over these bytes, bind to the question, map.
    for refund in client.parse_response(&lookup, &body)? {
        println!("{refund}");
    }
    Ok(())
}
