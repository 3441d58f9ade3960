//! The normalised refund status every provider maps into.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Where a refund stands, in words every provider maps into.
///
/// Each provider crate maps every documented status of its own into one of these with an
/// exhaustive `match`, and keeps the raw text beside it ([`crate::Refund::provider_status`]).
/// A value nobody documented becomes [`RefundStatus::Unrecognized`] with the raw text: it is never
/// guessed into another variant, and a *missing* status is an error, never `Processing`.
///
/// ```
/// use refund_core::RefundStatus;
/// assert!(RefundStatus::Succeeded.is_terminal());
/// assert!(!RefundStatus::Processing.is_terminal());
/// assert_eq!(RefundStatus::NeedsAttention.as_str(), "needs_attention");
/// assert_eq!(serde_json::to_string(&RefundStatus::Unrecognized("X".into())).unwrap(), "\"unrecognized\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RefundStatus {
    /// Accepted or in flight: ask again later.
    Processing,
    /// The money was returned.
    Succeeded,
    /// The refund failed; see the failure code and message.
    Failed,
    /// Closed or cancelled before completing.
    Cancelled,
    /// The provider says a person has to look at it (WeChat `CHANGE`: abnormal refund).
    NeedsAttention,
    /// A status value we do not know, with the provider's raw text.
    Unrecognized(String),
}

impl RefundStatus {
    /// True when the provider will not change this status any more by itself.
    ///
    /// `NeedsAttention` counts as terminal (waiting will not fix it); `Unrecognized` does not,
    /// since we cannot know.
    ///
    /// ```
    /// use refund_core::RefundStatus;
    /// assert!(RefundStatus::Cancelled.is_terminal());
    /// assert!(!RefundStatus::Unrecognized("NEW".into()).is_terminal());
    /// ```
    pub fn is_terminal(&self) -> bool {
        match self {
            RefundStatus::Succeeded
            | RefundStatus::Failed
            | RefundStatus::Cancelled
            | RefundStatus::NeedsAttention => true,
            RefundStatus::Processing | RefundStatus::Unrecognized(_) => false,
        }
    }

    /// The stable snake-case name used in serde, the CLI and logs.
    ///
    /// ```
    /// assert_eq!(refund_core::RefundStatus::Processing.as_str(), "processing");
    /// ```
    pub fn as_str(&self) -> &'static str {
        match self {
            RefundStatus::Processing => "processing",
            RefundStatus::Succeeded => "succeeded",
            RefundStatus::Failed => "failed",
            RefundStatus::Cancelled => "cancelled",
            RefundStatus::NeedsAttention => "needs_attention",
            RefundStatus::Unrecognized(_) => "unrecognized",
        }
    }

    /// Parses a snake-case name back; any other text becomes `Unrecognized` holding that text.
    ///
    /// ```
    /// use refund_core::RefundStatus;
    /// assert_eq!(RefundStatus::from_name("failed"), RefundStatus::Failed);
    /// assert_eq!(RefundStatus::from_name("weird"), RefundStatus::Unrecognized("weird".into()));
    /// ```
    pub fn from_name(name: &str) -> Self {
        match name {
            "processing" => RefundStatus::Processing,
            "succeeded" => RefundStatus::Succeeded,
            "failed" => RefundStatus::Failed,
            "cancelled" => RefundStatus::Cancelled,
            "needs_attention" => RefundStatus::NeedsAttention,
            "unrecognized" => RefundStatus::Unrecognized(String::new()),
            other => RefundStatus::Unrecognized(other.to_owned()),
        }
    }
}

impl fmt::Display for RefundStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RefundStatus::Unrecognized(raw) => write!(f, "unrecognized ({raw:?})"),
            other => f.write_str(other.as_str()),
        }
    }
}

/// Serialised as its snake-case name; the raw text of an unrecognised value lives in
/// [`crate::Refund::provider_status`].
impl Serialize for RefundStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RefundStatus {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(RefundStatus::from_name(&name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names() {
        let all = vec![
            RefundStatus::Processing,
            RefundStatus::Succeeded,
            RefundStatus::Failed,
            RefundStatus::Cancelled,
            RefundStatus::NeedsAttention,
            RefundStatus::Unrecognized("REFUND_WHATEVER".into()),
        ];
        insta::assert_json_snapshot!(all, @r#"
        [
          "processing",
          "succeeded",
          "failed",
          "cancelled",
          "needs_attention",
          "unrecognized"
        ]
        "#);
        for s in &all[..5] {
            let back: RefundStatus =
                serde_json::from_str(&serde_json::to_string(s).unwrap()).unwrap();
            assert_eq!(&back, s);
        }
    }

    #[test]
    fn unknown_name_is_kept_raw() {
        let s: RefundStatus = serde_json::from_str("\"PENDING_REVIEW\"").unwrap();
        assert_eq!(s, RefundStatus::Unrecognized("PENDING_REVIEW".into()));
        assert_eq!(s.to_string(), "unrecognized (\"PENDING_REVIEW\")");
    }
}
