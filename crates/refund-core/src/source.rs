//! Injected sources of values (the clock, the nonce generator), so signing stays pure and tests
//! are deterministic.

use std::fmt;
use std::sync::Arc;

/// A function that yields a fresh value on each call: the clock for an Open API `timestamp`,
/// the generator of an EdgerOS nonce. Prints as `Source(..)`: it has nothing to show.
///
/// ```
/// let nonce = refund_core::Source::new(|| "fixed".to_owned());
/// assert_eq!(nonce.get(), "fixed");
/// assert_eq!(format!("{nonce:?}"), "Source(..)");
/// ```
pub struct Source<T>(Arc<dyn Fn() -> T + Send + Sync>);

impl<T> Source<T> {
    /// Wraps a function.
    pub fn new(f: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Source(Arc::new(f))
    }

    /// The next value.
    pub fn get(&self) -> T {
        (self.0)()
    }
}

impl<T> Clone for Source<T> {
    fn clone(&self) -> Self {
        Source(Arc::clone(&self.0))
    }
}

impl<T> fmt::Debug for Source<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Source(..)")
    }
}
