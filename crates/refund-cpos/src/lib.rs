//! # refund-cpos
//!
//! Refund queries for CPOS, a SaaS aggregator wrapping WeChat Pay:
//! `POST /api/v1/pay/wx/refundquery` with an MD5-signed JSON body. Amounts are yuan strings
//! (`refund_amount` is **negative** when money leaves the merchant: [`Refund::amount`] is always
//! the positive refunded amount, the signed value is kept in
//! [`map::CposRefundDetail::signed_refund_amount`]). Only fields inside CPOS's signature decide
//! the [`Refund`]; WeChat's native fields (`attach`, unsigned) are typed in
//! [`map::UnverifiedWechatDetail`], reported by the opt-in [`CposDetail::query_detailed`]. Every
//! answer that describes a refund must carry the id that was looked up. This crate compiles no
//! RSA code.
//!
//! ```no_run
//! # async fn run() -> Result<(), refund_core::Error> {
//! use refund_cpos::{CposClient, RefundLookup};
//! use refund_core::Secret;
//! let client = CposClient::builder()
//!     .base_url("http://47.95.131.62:8080")
//!     .access_id("cpostest")
//!     .secret(Secret::new(std::env::var("REFUND_CPOS_SECRET").unwrap()))
//!     .build()?;
//! let refunds = client.query(&RefundLookup::merchant_refund_id("200324847290000004766")).await?;
//! # Ok(()) }
//! ```
//!
//! ## The signing rule is an assumption
//! No public documentation of CPOS's rule exists. We use **WeChat Pay v2's MD5 rule** (sorted
//! non-empty `k=v` pairs, `&key=<secret>`, MD5, upper-case hex), which reproduces WeChat's
//! official test vector. [`sign::canonical_string`] is the one function to change if the
//! platform differs; [`ResponseSignature::Optional`] keeps queries working meanwhile.
//!
//! ## Layout (the same rooms in every provider crate)
//! - [`sign`]: lookups, canonical string, MD5, constant-time compare, response verification and
//!   its [`ResponseSignature`] policy (pure).
//! - [`wire`]: the JSON as it travels, [`wire::CposStatus`] and [`wire::WechatRefundStatus`].
//! - [`map`]: statuses from the signed `refund_status` alone (1 → succeeded, 2 → failed,
//!   3 → processing), exact amounts, `REFUNDNOTEXIST` → not found; the detail.
//! - [`CposProtocol`]: the builder and the protocol core's pipeline drives
//!   (strict parse → verify → decode → bind → map); core's client does the I/O.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
pub mod map;
pub mod sign;
pub mod wire;

pub use client::{CposClient, CposClientBuilder, CposDetail, CposProtocol};
pub use map::{CposRefund, CposRefundDetail, UnverifiedWechatDetail};
pub use refund_core;
pub use refund_core::{Error, Refund, RefundLookup, RefundStatus, Secret, Verification};
pub use sign::{ResponseSignature, SUPPORTED_LOOKUPS};

/// The README's example, compiled and checked as a doctest (it is what crates.io shows).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
