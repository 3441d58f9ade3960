//! One provider's pace applied: the lane's workers take a slot before each query (waiting while
//! the in-flight limit is reached, then for their start time at the allowed rate) and hand the
//! answer's latency or throttle back to the law ([`super::pace::PaceLaw`]). The law decides;
//! this only waits.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::pace::{Event, PaceLaw, Pins};

/// What the lane reached, for the summary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Reached {
    /// The highest send rate measured (starts per second).
    pub(crate) rate: f64,
    /// The highest in-flight limit.
    pub(crate) in_flight: usize,
    /// Answers throttled (HTTP 429, 503).
    pub(crate) throttled: u64,
}

#[derive(Debug)]
struct State {
    law: PaceLaw,
    in_flight: usize,
    /// When the next query may start.
    next_start: Instant,
    peak_in_flight: usize,
}

/// A lane's pace.
#[derive(Debug)]
pub(crate) struct Pacer {
    state: Mutex<State>,
    /// Woken when a slot frees or the limit grows.
    freed: tokio::sync::Notify,
    /// Held by the one worker waiting for its start.
    turn: tokio::sync::Mutex<()>,
}

impl Pacer {
    pub(crate) fn new(pins: Pins) -> Self {
        let now = Instant::now();
        Pacer {
            state: Mutex::new(State {
                law: PaceLaw::new(pins, now),
                in_flight: 0,
                next_start: now,
                peak_in_flight: 0,
            }),
            freed: tokio::sync::Notify::new(),
            turn: tokio::sync::Mutex::new(()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a slot (in flight below the limit) and the start time the rate allows, then
    /// takes the slot. One worker at a time waits for its start (the others queue behind it,
    /// in order): a start is scheduled when it is next, at the rate in force then, never
    /// reserved ahead at a rate a throttle has since lowered.
    pub(crate) async fn start(&self) {
        let _turn = self.turn.lock().await;
        loop {
            let notified = self.freed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            {
                let s = self.lock();
                if s.in_flight < s.law.in_flight() {
                    break;
                }
            }
            notified.await;
        }
        let at = self.lock().next_start;
        // A start already due takes no timer.
        if at > Instant::now() {
            tokio::time::sleep_until(at.into()).await;
        }
        let mut s = self.lock();
        let now = Instant::now();
        s.in_flight += 1;
        s.peak_in_flight = s.peak_in_flight.max(s.law.in_flight());
        s.law.started(now);
        s.next_start = match s.law.rate() {
            // From the slot's own time (not from now): a late wake-up does not lower the rate.
            Some(rate) => {
                let late = now.checked_sub(Duration::from_millis(50)).unwrap_or(now);
                at.max(late) + Duration::from_secs_f64(1.0 / rate.max(0.01))
            }
            None => now,
        };
    }

    /// The query that [`Pacer::start`] let through ended: its event (none for one that got no
    /// answer), fed to the law; the slot frees.
    pub(crate) fn finish(&self, event: Option<Event>) {
        let grew = {
            let mut s = self.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            let before = s.law.in_flight();
            if let Some(event) = event {
                s.law.on(event, Instant::now());
            }
            s.law.in_flight().saturating_sub(before)
        };
        for _ in 0..=grew {
            self.freed.notify_one();
        }
    }

    /// The current rate and in-flight limit (for the progress bar).
    pub(crate) fn now(&self) -> (Option<f64>, usize) {
        let s = self.lock();
        (s.law.measured(), s.law.in_flight())
    }

    /// What the lane reached.
    pub(crate) fn reached(&self) -> Reached {
        let s = self.lock();
        Reached {
            rate: s.law.peak_rate,
            in_flight: s.peak_in_flight,
            throttled: s.law.throttled,
        }
    }
}

/// The summary's pace lines, one per provider queried (`  pace cpos: 487/s reached, up to 96
/// in flight, 12 answers throttled`), and the same as a JSON object by provider.
pub(crate) fn summary(paces: &[(refund_core::Provider, Reached)]) -> (String, serde_json::Value) {
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    for (provider, reached) in paces {
        text.push_str(&format!(
            "  pace {provider}: {:.0}/s reached, up to {} in flight, {} answers throttled\n",
            reached.rate, reached.in_flight, reached.throttled
        ));
        json.insert(
            provider.as_str().to_owned(),
            serde_json::json!({
                "rate": (reached.rate * 10.0).round() / 10.0,
                "in_flight": reached.in_flight,
                "throttled": reached.throttled,
            }),
        );
    }
    (text, json.into())
}
