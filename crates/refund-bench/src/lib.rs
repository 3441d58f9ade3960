//! Shared pieces of the refunds-rs benchmarks: sandbox-backed clients with fixed inputs.
//!
//! Run `cargo bench -p refund-bench` (and `--features aws-lc`) for the SDK's own cost, and
//! `cargo run --release -p refund-bench --bin e2e` for end-to-end throughput and memory; see
//! `docs/benchmarks.md`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![warn(missing_debug_implementations, unreachable_pub, rust_2018_idioms)]

/// The RSA back-end this build measures.
pub const BACKEND: &str = refund_core::rsa_keys::BACKEND;
