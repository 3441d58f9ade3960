//! # refund-core
//!
//! The shared vocabulary of [refunds-rs](https://github.com/refunds-rs/refunds-rs): what every
//! provider crate maps its answers into.
//!
//! - [`Money`]: exact minor units with a [`Currency`]; built from fen integers or yuan strings,
//!   never a float.
//! - [`time`]: provider timestamps to UTC. Times without an offset are China Standard Time
//!   (fixed UTC+08:00, no tzdata, never the machine's zone).
//! - [`RefundStatus`]: an honest status, with [`RefundStatus::Unrecognized`] for values nobody
//!   documented.
//! - [`Refund`] and [`RefundLookup`]: the normalised record and what to look it up by.
//! - [`Error`]: transport, HTTP, decode, signature, mismatch and business errors kept apart.
//! - [`Verification`]: how far each answer's signature was checked.
//! - [`protocol`]: the one pipeline (prepare → verify → decode → bind → map) and the
//!   [`protocol::Protocol`] trait each provider implements; behind `http`, [`client::Client`]
//!   runs it over a transport.
//! - [`explain`]: every step the pipeline takes on a request or an answer, shown (for
//!   `refund explain` and for the day a provider says "sign error").
//! - [`RefundProvider`]: the object-safe trait every provider client implements.
//! - [`Secret`]: a string that prints as `***` and is zeroised on drop.
//!
//! Users normally depend on a provider crate (`refund-openapi`, `refund-edgeros`, `refund-cpos`),
//! which re-exports this crate as `refund_core`.
//!
//! ## Features
//!
//! | feature | what it adds | used by |
//! |---|---|---|
//! | *(none)* | the types above; no HTTP or crypto dependency | everyone |
//! | `rsa` | [`rsa_keys`]: RSA key loading (PEM PKCS#8/PKCS#1, bare base64 DER), blinded SHA256withRSA | `refund-openapi`, `refund-edgeros` |
//! | `aws-lc` | the same [`rsa_keys`] API signing and verifying with aws-lc-rs (constant-time, ~5× faster); byte-identical signatures | the `refund` CLI and the sandbox |
//! | `http` | [`http`]: the transport (reqwest, rustls), deadlines, retries, body limit; [`client`]: the generic client | all provider clients |
//!
//! ```
//! use refund_core::{Currency, Money, RefundStatus, time};
//! let amount = Money::from_major_str("-0.50", Currency::Cny)?;
//! let created = time::parse_china_local("refundCreateTime", "2024-07-31 16:26:46")?;
//! assert_eq!(amount.minor(), -50);
//! assert_eq!(time::format_utc(&created), "2024-07-31T08:26:46Z");
//! assert!(RefundStatus::Succeeded.is_terminal());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod decode;
pub mod error;
#[doc(hidden)]
pub mod example;
pub mod explain;
pub mod json;
mod lookup;
pub mod money;
pub mod protocol;
mod provider;
mod refund;
pub mod request;
mod secret;
pub mod signer;
mod source;
mod status;
pub mod time;

#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod client;
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
pub mod digest;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod http;
mod macros;
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
pub mod random;
#[cfg(feature = "rsa")]
#[cfg_attr(docsrs, doc(cfg(feature = "rsa")))]
pub mod rsa_keys;

pub use error::{Error, SignatureStage, TransportErrorKind};
pub use lookup::{LookupKind, RefundLookup};
pub use money::{Currency, Money, MoneyError, MoneyErrorKind};
pub use provider::{
    ExplainFuture, Provider, QueryFuture, RefundProvider, RequestFuture, cannot_explain,
};
pub use refund::{Refund, SignatureCheck, Verification};
pub use request::{Method, PreparedRequest, SignedRequest};
pub use secret::Secret;
pub use source::Source;
pub use status::RefundStatus;

/// The README's example, compiled and checked as a doctest (it is what crates.io shows).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
