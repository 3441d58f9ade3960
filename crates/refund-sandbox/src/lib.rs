//! # refund-sandbox
//!
//! A faithful local emulator of the three refund-query APIs, on loopback. It speaks each
//! provider's real wire protocol, **checks request signatures** with the merchant's public key
//! or the shared secret (and answers a bad one with the provider's own error), checks the Open API
//! timestamp window, **signs its answers** as the provider does (EdgerOS with the platform key,
//! CPOS with the secret), moves refunds along timelines, and injects faults on demand.
//!
//! It is what the provider crates' integration tests, the CLI's `refund demo` and the benchmarks
//! run against, and what your own service (in any language) can be pointed at.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use refund_core::{Provider, RefundLookup, RefundStatus};
//! use refund_sandbox::{Sandbox, SandboxRefund, Scenario, Timeline};
//!
//! let mut refund = SandboxRefund::new(Provider::Cpos, "WX1", "0.50", RefundStatus::Succeeded);
//! refund.timeline = Some(Timeline::queries(1)); // processing once, then succeeded
//! let mut scenario = Scenario::default();
//! scenario.refunds.push(refund);
//! let sandbox = Sandbox::builder().scenario(scenario).start().await?;
//!
//! let client = sandbox.cpos_client().build()?;
//! let first = client.query(&RefundLookup::refund_id("WX1")).await?;
//! assert_eq!(first[0].status, RefundStatus::Processing);
//! let second = client.query(&RefundLookup::refund_id("WX1")).await?;
//! assert_eq!(second[0].status, RefundStatus::Succeeded);
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! See `docs/sandbox.md` for the scenario format and the fault list.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod credentials;
mod emulate;
mod pace;
mod scenario;
mod server;
mod state;

pub use credentials::Credentials;
pub use pace::ProviderPace;
pub use scenario::{Fault, FaultRule, SandboxRefund, Scenario, ScenarioError, Timeline};
pub use server::{Sandbox, SandboxBuilder, SandboxError, SandboxHandle};

/// The README's example, compiled and checked as a doctest (it is what crates.io shows).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
