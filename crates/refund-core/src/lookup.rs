//! What to look a refund up by.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The kind of identifier a lookup uses. Each provider supports a subset.
///
/// ```
/// use refund_core::LookupKind;
/// assert_eq!("merchant_refund_id".parse::<LookupKind>().unwrap(), LookupKind::MerchantRefundId);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LookupKind {
    /// The provider's refund id.
    RefundId,
    /// The merchant's refund id.
    MerchantRefundId,
    /// The original payment's transaction id (may return several refunds).
    OriginalTransactionId,
    /// A channel (voucher barcode) trade number.
    ChannelTradeNo,
}

impl LookupKind {
    /// Every kind.
    pub const ALL: [LookupKind; 4] = [
        LookupKind::RefundId,
        LookupKind::MerchantRefundId,
        LookupKind::OriginalTransactionId,
        LookupKind::ChannelTradeNo,
    ];

    /// The snake-case name (`refund_id`...), as in batch input files.
    ///
    /// ```
    /// assert_eq!(refund_core::LookupKind::ChannelTradeNo.as_str(), "channel_trade_no");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            LookupKind::RefundId => "refund_id",
            LookupKind::MerchantRefundId => "merchant_refund_id",
            LookupKind::OriginalTransactionId => "original_transaction_id",
            LookupKind::ChannelTradeNo => "channel_trade_no",
        }
    }
}

impl fmt::Display for LookupKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for LookupKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        LookupKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                format!("unknown lookup {s:?}: expected refund_id, merchant_refund_id, original_transaction_id or channel_trade_no")
            })
    }
}

/// "Find the refund(s) with this id of this kind."
///
/// The constructors never fail, so a lookup can be written inline; [`RefundLookup::validate`]
/// (called by every provider before anything is signed or sent) rejects empty ids, ids with
/// control characters and ids longer than the provider's limit.
///
/// ```
/// use refund_core::{LookupKind, RefundLookup};
/// let l = RefundLookup::original_transaction_id("CU518563189147832320");
/// assert_eq!(l.kind(), LookupKind::OriginalTransactionId);
/// assert!(l.validate(32).is_ok());
/// assert!(RefundLookup::refund_id("").validate(32).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefundLookup {
    kind: LookupKind,
    id: String,
}

impl RefundLookup {
    /// A lookup of any kind.
    ///
    /// ```
    /// let l = refund_core::RefundLookup::new(refund_core::LookupKind::RefundId, "R1");
    /// assert_eq!(l.id(), "R1");
    /// ```
    pub fn new(kind: LookupKind, id: impl Into<String>) -> Self {
        RefundLookup {
            kind,
            id: id.into(),
        }
    }

    /// By the provider's refund id.
    ///
    /// ```
    /// let l = refund_core::RefundLookup::refund_id("AR2021");
    /// ```
    pub fn refund_id(id: impl Into<String>) -> Self {
        Self::new(LookupKind::RefundId, id)
    }

    /// By the merchant's refund id.
    ///
    /// ```
    /// let l = refund_core::RefundLookup::merchant_refund_id("200324847290000004766");
    /// ```
    pub fn merchant_refund_id(id: impl Into<String>) -> Self {
        Self::new(LookupKind::MerchantRefundId, id)
    }

    /// By the original payment's transaction id.
    ///
    /// ```
    /// let l = refund_core::RefundLookup::original_transaction_id("CU518563189147832320");
    /// ```
    pub fn original_transaction_id(id: impl Into<String>) -> Self {
        Self::new(LookupKind::OriginalTransactionId, id)
    }

    /// By the channel trade number.
    ///
    /// ```
    /// let l = refund_core::RefundLookup::channel_trade_no("010820032416151297557MC");
    /// ```
    pub fn channel_trade_no(id: impl Into<String>) -> Self {
        Self::new(LookupKind::ChannelTradeNo, id)
    }

    /// The kind of id.
    ///
    /// ```
    /// assert_eq!(refund_core::RefundLookup::refund_id("x").kind(), refund_core::LookupKind::RefundId);
    /// ```
    pub fn kind(&self) -> LookupKind {
        self.kind
    }

    /// The id text.
    ///
    /// ```
    /// assert_eq!(refund_core::RefundLookup::refund_id("x").id(), "x");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Checks the id is non-empty and not blank, at most `max_chars` characters and free of
    /// control characters.
    ///
    /// ```
    /// use refund_core::RefundLookup;
    /// assert!(RefundLookup::refund_id("a\nb").validate(50).is_err());
    /// assert!(RefundLookup::refund_id("   ").validate(50).unwrap_err().to_string().contains("blank"));
    /// assert!(RefundLookup::refund_id("abc").validate(2).is_err());
    /// // Characters, not bytes; C1 controls too.
    /// assert!(RefundLookup::refund_id("退款号").validate(3).is_ok());
    /// assert!(RefundLookup::refund_id("退款号").validate(2).is_err());
    /// assert!(RefundLookup::refund_id("é\u{85}").validate(50).is_err());
    /// ```
    pub fn validate(&self, max_chars: usize) -> Result<(), Error> {
        // Ids are ASCII in practice: one fast check, then bytes are characters.
        let (has_control, chars) = if self.id.is_ascii() {
            (self.id.bytes().any(|b| b.is_ascii_control()), self.id.len())
        } else {
            (
                self.id.chars().any(char::is_control),
                self.id.chars().count(),
            )
        };
        let reason = if self.id.is_empty() {
            Some("must not be empty".to_owned())
        } else if self.id.trim().is_empty() {
            // No provider has an id of spaces: it is a paste or quoting mistake, never sent.
            Some("must not be blank (only spaces)".to_owned())
        } else if has_control {
            Some("must not contain control characters".to_owned())
        } else if chars > max_chars {
            Some(format!(
                "is {chars} characters long; at most {max_chars} allowed"
            ))
        } else {
            None
        };
        match reason {
            Some(reason) => Err(Error::InvalidRequest {
                field: self.kind.as_str().to_owned(),
                reason,
            }),
            None => Ok(()),
        }
    }

    /// Fails with an invalid-request error naming the supported kinds when this lookup's kind is
    /// not among them.
    ///
    /// ```
    /// use refund_core::{LookupKind, RefundLookup};
    /// let err = RefundLookup::channel_trade_no("x").require_kind(&[LookupKind::RefundId]).unwrap_err();
    /// assert!(err.to_string().contains("refund_id"));
    /// ```
    pub fn require_kind(&self, supported: &[LookupKind]) -> Result<(), Error> {
        if supported.contains(&self.kind) {
            return Ok(());
        }
        let names: Vec<&str> = supported.iter().map(|k| k.as_str()).collect();
        Err(Error::InvalidRequest {
            field: "lookup".to_owned(),
            reason: format!(
                "lookup by {} is not supported by this provider; supported: {}",
                self.kind,
                names.join(", ")
            ),
        })
    }
}
