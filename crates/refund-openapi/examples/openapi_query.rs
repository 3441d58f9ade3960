//! Every refund of one original transaction, with the built-in async client.
//!
//! ```sh
//! REFUND_OPENAPI_BASE_URL=http://127.0.0.1:8080 REFUND_OPENAPI_APP_ID=733b887a4a784708bb369524db5b6ded \
//! REFUND_OPENAPI_KEY_FILE=merchant.pem cargo run -p refund-openapi --example openapi_query -- CU518563189147832320
//! ```
//! (`refund sandbox --dir DIR` runs all three providers locally and writes their keys.)

use refund_openapi::{OpenApiClient, RefundLookup};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = OpenApiClient::builder()
        .base_url(setting("REFUND_OPENAPI_BASE_URL")?)
        .app_id(setting("REFUND_OPENAPI_APP_ID")?)
        .merchant_private_key_pem(&std::fs::read_to_string(setting(
            "REFUND_OPENAPI_KEY_FILE",
        )?)?)?
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: openapi_query TRANSACTION_ID")?;
    // Signs `param`, sends, binds every refund listed to this transaction, maps.
    let lookup = RefundLookup::original_transaction_id(id);
    for refund in client.query(&lookup).await? {
        println!("{refund}");
    }
    Ok(())
}
