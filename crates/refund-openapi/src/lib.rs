//! # refund-openapi
//!
//! Refund queries for merchant "Open API" gateways (a template published by several
//! South-East-Asian gateways): `POST {domain}/open-api/refund/payments` with a JSON body
//! `{appId, param, sign}`, where `param` is JSON text signed with SHA256withRSA. Amounts are
//! minor units, times are UTC+08:00, and one original transaction can have several refunds.
//!
//! ```no_run
//! # async fn run() -> Result<(), refund_core::Error> {
//! use refund_openapi::{OpenApiClient, RefundLookup};
//! let pem = std::fs::read_to_string("keys/openapi_merchant.pem").unwrap();
//! let client = OpenApiClient::builder()
//!     .base_url("https://gateway.example")          // the {domain}; nothing is hard-coded
//!     .app_id("733b887a4a784708bb369524db5b6ded")
//!     .merchant_private_key_pem(&pem)?               // PEM PKCS#8/PKCS#1 or bare base64 DER
//!     .build()?;
//! let refunds = client.query(&RefundLookup::original_transaction_id("CU518563189147832320")).await?;
//! # Ok(()) }
//! ```
//!
//! ## Layout (the same rooms in every provider crate)
//! - [`sign`]: lookups, the `param` text and its signature (pure). **Assumption**: SHA-256 is
//!   inferred, not documented; [`sign::sign_canonical`] is the one function to change if a gateway
//!   differs.
//! - [`wire`]: the JSON as it travels, and [`wire::OpenApiStatus`].
//! - [`map`]: statuses (`PENDING`/`PROCESS` → processing, `COMPLETE`/`COMPLETED` → succeeded,
//!   `FAILED`, `CANCEL`, anything else unrecognised) and the response-code catalogue.
//! - [`notify`]: verified refund callbacks (and what verification does not prove: replay).
//! - [`OpenApiProtocol`]: the builder and the protocol core's pipeline drives
//!   (strict parse → verify (none: answers are unsigned) → decode → bind → map); core's client
//!   does the I/O.
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
pub mod notify;
pub mod sign;
pub mod wire;

pub use client::{OpenApiClient, OpenApiClientBuilder, OpenApiProtocol, TimestampUnit};
pub use refund_core;
pub use refund_core::{Currency, Error, Refund, RefundLookup, RefundStatus, Verification};
pub use sign::SUPPORTED_LOOKUPS;

/// The README's example, compiled and checked as a doctest (it is what crates.io shows).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
