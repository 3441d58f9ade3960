//! # refund-edgeros
//!
//! Refund queries for EdgerOS Pay (翼辉支付): `GET /pay/v1/transactions/refund`, requests signed
//! with SHA256withRSA in `x-acopay-*` headers, and **every signed response verified** with the
//! platform key before a single field is trusted. The signing and verification rules are
//! byte-exact with the vendor's official Java SDK (tested against its own vectors). Every
//! answer must also name the configured merchant and the refund asked for (a replayed answer
//! about another refund is an [`Error::Mismatch`]).
//!
//! ```no_run
//! # async fn run() -> Result<(), refund_core::Error> {
//! use refund_edgeros::{EdgerosClient, RefundLookup};
//! let client = EdgerosClient::builder()
//!     .base_url("https://api.edgeros.com")            // the default; overridable
//!     .mch_no("MCH1000000")
//!     .merchant_private_key_file("keys/edgeros_merchant.pem")?
//!     .platform_public_key_file("keys/edgeros_platform.pem")?   // required
//!     .build()?;
//! let refunds = client.query(&RefundLookup::refund_id("AR202112151405438637829842922855012187")).await?;
//! # Ok(()) }
//! ```
//!
//! ## Layout (the same rooms in every provider crate)
//! - [`sign`]: lookups, canonical JSON, request signature, response verification (pure).
//! - [`wire`]: the JSON as it travels, and [`wire::EdgerosStatus`].
//! - [`map`]: `code` `SUCCESS` → succeeded, anything else unrecognised (no public list exists);
//!   `refund_amount` yuan → exact fen; `success_time` RFC 3339 → UTC.
//! - [`EdgerosProtocol`]: the builder and the protocol core's pipeline drives
//!   (strict parse → verify → decode → bind → map); core's client does the I/O.
//!
//! ## Crypto back-end
//! | back-end | how | note |
//! |---|---|---|
//! | `rsa` (default) | pure Rust, blinded signing | see `docs/security.md` for RUSTSEC-2023-0071 |
//! | `aws-lc` (feature) | aws-lc-rs, constant-time | byte-identical signatures |
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod map;
pub mod sign;
pub mod wire;

pub use client::{DEFAULT_BASE_URL, EdgerosClient, EdgerosClientBuilder, EdgerosProtocol};
pub use refund_core;
pub use refund_core::{Error, Refund, RefundLookup, RefundStatus, Verification};
pub use sign::SUPPORTED_LOOKUPS;

/// The README's example, compiled and checked as a doctest (it is what crates.io shows).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
