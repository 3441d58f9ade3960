//! One refund, with the built-in async client.
//!
//! ```sh
//! REFUND_CPOS_BASE_URL=http://127.0.0.1:8080 REFUND_CPOS_ACCESS_ID=cpostest \
//! REFUND_CPOS_SECRET=... cargo run -p refund-cpos --example cpos_query -- WX200324161500830790814539
//! ```
//! (`refund sandbox --dir DIR` runs all three providers locally and writes their settings.)

use refund_cpos::{CposClient, RefundLookup, Secret};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = CposClient::builder()
        .base_url(setting("REFUND_CPOS_BASE_URL")?)
        .access_id(setting("REFUND_CPOS_ACCESS_ID")?)
        .secret(Secret::new(setting("REFUND_CPOS_SECRET")?))
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: cpos_query REFUND_NO")?;
    // Signs, sends, verifies the answer's MD5 `sign`, binds it to this refund, maps it.
    for refund in client.query(&RefundLookup::refund_id(id)).await? {
        println!("{refund}");
    }
    Ok(())
}
