//! Strict JSON: duplicate keys rejected at every depth.
//!
//! A signature verified over a canonical form rebuilt from a parse is only as good as the parse:
//! with duplicate keys, one copy can be verified while another is used (a forged amount rides
//! along a valid signature). Every provider response goes through [`parse_strict`].
//!
//! Kept here rather than taken from a crate: serde_json keeps the last of two equal keys without
//! a word, and no small maintained crate rejects duplicates at every depth while handing back
//! serde_json's own tree (which the providers' wire models and canonical forms are built on).

//!
//! `tree` is the strict tree parser, `flat` the one-pass parser of flat signed answers, `decode`
//! the typed decoding of bodies and its helpers.

mod decode;
mod flat;
mod tree;

use serde_json::Value;

pub use self::decode::{Text, decode_strict, decode_value, parse_body, value_or_json_text};
pub use self::flat::{FlatObject, Member, Scalar, scalar_text};
pub use self::tree::parse_strict;
use crate::error::Error;
use crate::provider::Provider;

/// What a provider's answer is strictly parsed into, the pipeline's first step: a [`Value`] tree
/// for providers that decode one, or a borrowed [`FlatObject`] for a provider that signs its
/// top-level scalars (one pass, no tree).
pub trait StrictDocument<'b>: Sized {
    /// Parses `body`; a body that is not one strict JSON document (of the kind this type holds)
    /// is an [`Error::Decode`] of the field `body`.
    ///
    /// ```
    /// use refund_core::json::StrictDocument;
    /// let v = serde_json::Value::parse(refund_core::Provider::OpenApi, br#"{"a":1}"#).unwrap();
    /// assert_eq!(v["a"], 1);
    /// ```
    fn parse(provider: Provider, body: &'b [u8]) -> Result<Self, Error>;
}

impl<'b> StrictDocument<'b> for Value {
    fn parse(provider: Provider, body: &'b [u8]) -> Result<Self, Error> {
        parse_body(provider, body)
    }
}
