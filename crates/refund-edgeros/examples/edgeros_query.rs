//! One refund, with the built-in async client.
//!
//! ```sh
//! REFUND_EDGEROS_BASE_URL=http://127.0.0.1:8080 REFUND_EDGEROS_MCH_NO=MCH1000000 \
//! REFUND_EDGEROS_KEY_FILE=merchant.pem REFUND_EDGEROS_PLATFORM_KEY_FILE=platform.pub.pem \
//! cargo run -p refund-edgeros --example edgeros_query -- AR202112151405438637829842922855012187
//! ```
//! (`refund sandbox --dir DIR` runs all three providers locally and writes their keys.)

use refund_edgeros::{EdgerosClient, RefundLookup};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = EdgerosClient::builder()
        .base_url(setting("REFUND_EDGEROS_BASE_URL")?)
        .mch_no(setting("REFUND_EDGEROS_MCH_NO")?)
        .merchant_private_key_file(setting("REFUND_EDGEROS_KEY_FILE")?)?
        .platform_public_key_file(setting("REFUND_EDGEROS_PLATFORM_KEY_FILE")?)?
        .build()?;
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: edgeros_query REFUND_NO")?;
    // Signs, sends, verifies the platform's signature, binds it to this merchant and refund.
    for refund in client.query(&RefundLookup::refund_id(id)).await? {
        println!("{refund}");
    }
    Ok(())
}
