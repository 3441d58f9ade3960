//! Signing through a key service: the merchant's private key never enters the client.
//!
//! The example starts a small HTTP signing service on 127.0.0.1 (a stand-in for a cloud KMS or
//! an HSM: it alone reads the key file), gives the client a [`Signer`] that asks it for every
//! signature, and queries the gateway. Wiring a real KMS is the same `Signer` with its SDK's
//! `Sign` call (RSASSA_PKCS1_V1_5_SHA_256 over the message) in place of the HTTP request; see
//! `docs/security.md`.
//!
//! ```sh
//! REFUND_OPENAPI_BASE_URL=http://127.0.0.1:8080 REFUND_OPENAPI_APP_ID=733b887a4a784708bb369524db5b6ded \
//! REFUND_OPENAPI_KEY_FILE=merchant.pem cargo run -p refund-openapi --example remote_signer -- CU518563189147832320
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use refund_core::explain::KeyIdentity;
use refund_core::rsa_keys::RsaPrivateKey;
use refund_core::signer::{SignFuture, Signer, SignerError};
use refund_openapi::{OpenApiClient, RefundLookup};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

fn setting(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("set {name}"))
}

/// A signer that POSTs the exact bytes to sign to a signing service and reads back the base64
/// signature. The client holds only the service's address.
#[derive(Debug)]
struct RemoteSigner {
    http: reqwest::Client,
    url: String,
}

impl Signer for RemoteSigner {
    fn sign<'a>(&'a self, message: &'a [u8]) -> SignFuture<'a> {
        Box::pin(async move {
            let failed = |e: reqwest::Error| SignerError::new(format!("signing service: {e}"));
            let response = self
                .http
                .post(&self.url)
                .body(message.to_vec())
                .send()
                .await
                .map_err(failed)?;
            if !response.status().is_success() {
                return Err(SignerError::new(format!(
                    "signing service answered HTTP {}",
                    response.status()
                )));
            }
            let text = response.text().await.map_err(failed)?;
            BASE64
                .decode(text.trim())
                .map_err(|_| SignerError::new("signing service: the answer is not base64"))
        })
    }

    fn identity(&self) -> KeyIdentity {
        KeyIdentity::new(
            "merchant signer",
            "SHA256withRSA",
            format!("signing service {}", self.url),
        )
    }
}

/// The signing service: `POST /sign` with the message as the body, the base64 signature back.
/// It counts what it signed. (A real one authenticates its callers and logs every signature.)
async fn serve_signatures(
    listener: tokio::net::TcpListener,
    key: RsaPrivateKey,
    signed: Arc<AtomicU64>,
) {
    while let Ok((mut stream, _)) = listener.accept().await {
        let mut request = Vec::new();
        let mut chunk = [0_u8; 4096];
        // Headers, then exactly Content-Length bytes of body.
        let body = loop {
            let Ok(n) = stream.read(&mut chunk).await else {
                break None;
            };
            if n == 0 {
                break None;
            }
            request.extend_from_slice(chunk.get(..n).unwrap_or_default());
            let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(request.get(..end).unwrap_or_default())
                .to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if let Some(body) = request.get(end + 4..end + 4 + length) {
                break Some(body.to_vec());
            }
        };
        let reply = match body.map(|message| key.sign_base64(&message)) {
            Some(Ok(signature)) => {
                signed.fetch_add(1, Ordering::Relaxed);
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{signature}",
                    signature.len()
                )
            }
            _ => "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                .to_owned(),
        };
        let _ = stream.write_all(reply.as_bytes()).await;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let id = std::env::args()
        .nth(1)
        .ok_or("usage: remote_signer TRANSACTION_ID")?;
    // The service side: it alone reads the key.
    let key = RsaPrivateKey::from_file(setting("REFUND_OPENAPI_KEY_FILE")?)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/sign", listener.local_addr()?);
    let signed = Arc::new(AtomicU64::new(0));
    tokio::spawn(serve_signatures(listener, key, Arc::clone(&signed)));

    // The client side: no key, only the signer.
    let signer = RemoteSigner {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()?,
        url,
    };
    let client = OpenApiClient::builder()
        .base_url(setting("REFUND_OPENAPI_BASE_URL")?)
        .app_id(setting("REFUND_OPENAPI_APP_ID")?)
        .merchant_signer(Arc::new(signer))
        .build()?;
    for refund in client
        .query(&RefundLookup::original_transaction_id(id))
        .await?
    {
        println!("{refund}");
    }
    eprintln!(
        "the signing service made {} signature(s)",
        signed.load(Ordering::Relaxed)
    );
    Ok(())
}
