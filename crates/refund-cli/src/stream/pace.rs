//! The adaptive pace of one provider: how many queries may be in flight and how many may start
//! per second, found from what its answers say. A pure state machine, like
//! `RetryPolicy::decide`: it is fed events (an answer and its latency, a throttled answer) with
//! the caller's clock, and read for its two limits; the engine does the waiting.
//!
//! Two laws, one per dimension, each an established one:
//!
//! - **Starts per second: CUBIC, as the AWS SDKs' adaptive client rate limiter applies it.** No
//!   cap until the provider first throttles (HTTP 429 or 503); then the rate drops to `β` (0.7)
//!   of the rate it was sending at, and grows back along `C·(t−K)³ + W_max`: quickly at first,
//!   flat near the rate that was throttled (`W_max`), then probing beyond it. So the pace sits
//!   near the provider's limit instead of halving on every throttle, and throttles that arrive
//!   together (one burst over the limit) count as one. The rate never runs more than twice ahead
//!   of what is measured being sent.
//! - **Queries in flight: slow start, then additive increase, with a latency gradient.** From 8,
//!   one more per answer (doubling every round trip, as TCP's slow start) while answers keep
//!   their latency; then one more per round trip. When the smoothed latency climbs past twice
//!   the lowest seen (queueing at the provider), the limit shrinks by a tenth, at most once per
//!   round trip (the idea of Netflix's gradient limiter). A provider that throttles while the
//!   rate is fixed (`--rps`) shrinks the in-flight limit by `β` instead.
//!
//! A fixed `--concurrency` or `--rps` pins its dimension; the other still adapts.

use std::time::{Duration, Instant};

/// In flight at the start (the former fixed default).
pub(crate) const START_IN_FLIGHT: f64 = 8.0;
/// What a throttle leaves of the rate (CUBIC's and the AWS SDKs' β).
const BETA: f64 = 0.7;
/// CUBIC's scaling constant, in (queries/s) per s³ (the AWS SDKs' value).
const CUBIC_C: f64 = 0.4;
/// Measured send rates are taken over windows this long.
const MEASURE_WINDOW: Duration = Duration::from_millis(250);
/// Throttles closer than this to the last decrease are part of the same event (at least one
/// round trip, at least this).
const SAME_EVENT: Duration = Duration::from_millis(100);
/// The least time a flood is measured over.
const FLOOD_SPAN: Duration = Duration::from_millis(20);

/// A rate now from a window being counted and the last complete one's rate: the current
/// window's once a fifth of it has passed (a ramp moves fast) and it is higher.
fn rate_now(window: (Instant, u32), last: Option<f64>, now: Instant) -> Option<f64> {
    let (since, count) = window;
    let elapsed = now.saturating_duration_since(since);
    if elapsed >= MEASURE_WINDOW / 5 && count >= WINDOW_EVENTS / 4 {
        let current = f64::from(count) / elapsed.as_secs_f64();
        return Some(last.map_or(current, |m| m.max(current)));
    }
    last
}

/// Events a measuring window holds at least (unless it has lasted [`LONGEST_WINDOW`]): at 20
/// queries/s a 250 ms window holds five, and one more or less moves the rate by a fifth.
const WINDOW_EVENTS: u32 = 20;
/// The longest a measuring window lasts.
const LONGEST_WINDOW: Duration = Duration::from_secs(2);

/// Counts one event in `window`; a window past [`MEASURE_WINDOW`] with [`WINDOW_EVENTS`] (or
/// past [`LONGEST_WINDOW`]) closes into `last`.
fn count(window: &mut (Instant, u32), last: &mut Option<f64>, now: Instant) -> Option<f64> {
    window.1 += 1;
    let elapsed = now.saturating_duration_since(window.0);
    if elapsed < MEASURE_WINDOW || (window.1 < WINDOW_EVENTS && elapsed < LONGEST_WINDOW) {
        return None;
    }
    let rate = f64::from(window.1) / elapsed.as_secs_f64();
    *last = Some(rate);
    *window = (now, 0);
    Some(rate)
}

/// What an answer said about the pace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Event {
    /// An answer (any that is not a throttle), after this long.
    Answered(Duration),
    /// HTTP 429 or 503: over the provider's limit.
    Throttled,
}

/// The dimensions the user fixed, and the bound of the adaptation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Pins {
    /// `--concurrency`.
    pub(crate) in_flight: Option<u16>,
    /// `--rps`.
    pub(crate) rate: Option<f64>,
    /// `--max-concurrency`.
    pub(crate) max_in_flight: u16,
}

/// One provider's pace.
#[derive(Debug, Clone)]
pub(crate) struct PaceLaw {
    pins: Pins,
    in_flight: f64,
    slow_start: bool,
    /// The lowest latency seen, and a smoothed one (seconds).
    min_latency: Option<f64>,
    smoothed: Option<f64>,
    /// Starts per second allowed; `None` until the first throttle (or pinned by `--rps`).
    rate: Option<f64>,
    /// The rate the last throttle happened at, and when (CUBIC's `W_max` and epoch).
    w_max: f64,
    epoch: Option<Instant>,
    last_decrease: Option<Instant>,
    /// Starts counted in the current window, and the send rate of the last complete one.
    window: (Instant, u32),
    measured: Option<f64>,
    /// Answers accepted and throttled: in the window being counted (since its start), and in
    /// the last complete one (its length).
    answers: (Instant, u32, u32),
    last_answers: Option<(Duration, u32, u32)>,
    /// Throttled answers seen, and the highest measured rate.
    pub(crate) throttled: u64,
    pub(crate) peak_rate: f64,
}

impl PaceLaw {
    pub(crate) fn new(pins: Pins, now: Instant) -> Self {
        let max = f64::from(pins.max_in_flight.max(1));
        PaceLaw {
            pins,
            in_flight: pins.in_flight.map_or(START_IN_FLIGHT.min(max), f64::from),
            slow_start: true,
            min_latency: None,
            smoothed: None,
            rate: pins.rate,
            w_max: 0.0,
            epoch: None,
            last_decrease: None,
            window: (now, 0),
            measured: None,
            answers: (now, 0, 0),
            last_answers: None,
            throttled: 0,
            peak_rate: 0.0,
        }
    }

    /// Queries allowed in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.floor().max(1.0) as usize
    }

    /// Starts per second allowed now (`None`: no cap). Before the first throttle, starts are
    /// still spread over the round trip (twice the in-flight limit per round trip, room for
    /// slow start to double): a burst of starts all at once would be throttled by a token
    /// bucket far below the provider's rate, and teach the law a limit that is not there.
    pub(crate) fn rate(&self) -> Option<f64> {
        self.rate.or_else(|| {
            let rtt = self.smoothed?;
            (self.pins.in_flight.is_none() && rtt > 0.0).then(|| 2.0 * self.in_flight / rtt)
        })
    }

    /// The send rate measured lately (starts per second).
    pub(crate) fn measured(&self) -> Option<f64> {
        self.measured
    }

    /// A query starts at `now` (for the measured send rate).
    pub(crate) fn started(&mut self, now: Instant) {
        if let Some(rate) = count(&mut self.window, &mut self.measured, now) {
            self.peak_rate = self.peak_rate.max(rate);
        }
    }

    /// The send rate now: the current window's once a fifth of it has passed (a ramp moves
    /// fast), else the last complete window's.
    fn sending(&self, now: Instant) -> Option<f64> {
        rate_now(self.window, self.measured, now)
    }

    /// The round trip as the law sees it (the smoothed latency, at least [`SAME_EVENT`]).
    fn round_trip(&self) -> Duration {
        Duration::from_secs_f64(self.smoothed.unwrap_or(0.0)).max(SAME_EVENT)
    }

    fn decreased_lately(&self, now: Instant) -> bool {
        self.last_decrease
            .is_some_and(|t| now.saturating_duration_since(t) < self.round_trip())
    }

    /// Feeds one event at `now`.
    pub(crate) fn on(&mut self, event: Event, now: Instant) {
        let (since, accepted, throttled) = &mut self.answers;
        match event {
            Event::Answered(_) => *accepted += 1,
            Event::Throttled => *throttled += 1,
        }
        let elapsed = now.saturating_duration_since(*since);
        if elapsed >= MEASURE_WINDOW {
            self.last_answers = Some((elapsed, *accepted, *throttled));
            self.answers = (now, 0, 0);
        }
        match event {
            Event::Answered(latency) => self.answered(latency.as_secs_f64(), now),
            Event::Throttled => self.on_throttle(now),
        }
        self.grow_rate(now);
    }

    fn answered(&mut self, latency: f64, now: Instant) {
        let min = self.min_latency.map_or(latency, |m| m.min(latency));
        self.min_latency = Some(min);
        let smoothed = self.smoothed.map_or(latency, |s| 0.9 * s + 0.1 * latency);
        self.smoothed = Some(smoothed);
        if self.pins.in_flight.is_some() {
            return;
        }
        // Queueing at the provider: the latency well above its floor (and not by mere jitter).
        let queueing = smoothed > 2.0 * min && smoothed - min > 0.005;
        if queueing {
            if !self.decreased_lately(now) {
                self.in_flight *= 0.9;
                self.slow_start = false;
                self.last_decrease = Some(now);
            }
        } else if self.slow_start {
            self.in_flight += 1.0;
        } else {
            self.in_flight += 1.0 / self.in_flight.max(1.0);
        }
        // With a rate in force, more in flight than it can use is only waiting: keep it
        // within twice what the rate needs at this latency (Little's law), 8 at the least.
        if let Some(rate) = self.rate {
            let needed = (2.0 * rate * smoothed).ceil().max(START_IN_FLIGHT);
            self.in_flight = self.in_flight.min(needed);
        }
        self.clamp();
    }

    /// When most answers lately (the last complete measuring window and the current one,
    /// over at least [`FLOOD_SPAN`]) were throttled: the rate of those accepted (counting at
    /// least one).
    fn accepted_in_a_flood(&self, now: Instant) -> Option<f64> {
        let (since, accepted, throttled) = self.answers;
        let (span, last_accepted, last_throttled) =
            self.last_answers.unwrap_or((Duration::ZERO, 0, 0));
        let span = span + now.saturating_duration_since(since);
        let (accepted, throttled) = (accepted + last_accepted, throttled + last_throttled);
        (throttled >= 8 && throttled > 2 * accepted && span >= FLOOD_SPAN)
            .then(|| f64::from(accepted.max(1)) / span.as_secs_f64())
    }

    fn on_throttle(&mut self, now: Instant) {
        self.throttled += 1;
        if self.pins.rate.is_some() {
            // The rate is pinned: the in-flight limit takes the throttle.
            if self.pins.in_flight.is_none() && !self.decreased_lately(now) {
                self.last_decrease = Some(now);
                self.slow_start = false;
                self.in_flight *= BETA;
                self.clamp();
            }
            return;
        }
        // A flood (most answers throttled, a slow start far past the limit) is measured by
        // what the provider accepted, and corrected at once; one burst over the limit is one
        // event, whatever its throttles.
        let flood = self.accepted_in_a_flood(now);
        let above_flood = flood
            .zip(self.rate())
            .is_some_and(|(accepted, rate)| rate > 1.5 * accepted.max(0.5));
        if self.decreased_lately(now) && !above_flood {
            return;
        }
        self.last_decrease = Some(now);
        // The rate it was sending at: the cap in force; at the first throttle (slow start's
        // end), what its in-flight limit sustains at this latency (Little's law: current,
        // where a measured average lags a ramp that doubles every round trip, and a rate set
        // below the provider's limit would take many seconds of slow growth to undo, while one
        // set above it is corrected a round trip later).
        let sending = match self.rate {
            Some(rate) => rate,
            None => self.in_flight / self.round_trip().as_secs_f64(),
        };
        self.w_max = flood.map_or(sending, |a| a.min(sending)).max(0.5);
        self.rate = Some((self.w_max * BETA).max(0.5));
        self.epoch = Some(now);
    }

    /// CUBIC: the rate since the last throttle, at most twice what is being sent.
    fn grow_rate(&mut self, now: Instant) {
        let (Some(epoch), None) = (self.epoch, self.pins.rate) else {
            return;
        };
        let t = now.saturating_duration_since(epoch).as_secs_f64();
        let k = (self.w_max * (1.0 - BETA) / CUBIC_C).cbrt();
        let mut rate = CUBIC_C * (t - k).powi(3) + self.w_max;
        if let Some(m) = self.sending(now) {
            rate = rate.min(2.0 * m.max(0.5));
        }
        self.rate = Some(rate.max(0.5));
    }

    fn clamp(&mut self) {
        let max = f64::from(self.pins.max_in_flight.max(1));
        self.in_flight = self.in_flight.clamp(1.0, max);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn adaptive() -> Pins {
        Pins {
            in_flight: None,
            rate: None,
            max_in_flight: 256,
        }
    }

    /// A simulated provider: answers after `latency`, throttles starts beyond `limit` per
    /// second (a token bucket with a tenth of a second's burst). Runs the law for `seconds`
    /// of simulated time; returns the starts per second that were answered, and the share
    /// throttled.
    fn simulate(limit: f64, latency: Duration, pins: Pins, seconds: u64) -> (f64, f64) {
        let start = Instant::now();
        let mut law = PaceLaw::new(pins, start);
        let step = Duration::from_micros(500);
        let burst = (limit / 10.0).max(1.0);
        let mut tokens = burst;
        let mut in_flight: Vec<(Instant, bool)> = Vec::new();
        let mut next_start = start;
        let (mut answered, mut throttled) = (0_u64, 0_u64);
        let mut now = start;
        let mut next_print = start;
        while now < start + Duration::from_secs(seconds) {
            now += step;
            if std::env::var("PACE_DEBUG").is_ok() && now >= next_print {
                eprintln!(
                    "{:>5.1}s in_flight {:>4} rate {:?} measured {:?} answered {answered} throttled {throttled}",
                    (now - start).as_secs_f64(),
                    law.in_flight(),
                    law.rate().map(|r| r as u64),
                    law.measured().map(|r| r as u64)
                );
                next_print += Duration::from_secs(2);
            }
            tokens = (tokens + limit * step.as_secs_f64()).min(burst);
            // Answers due.
            let mut i = 0;
            while i < in_flight.len() {
                if in_flight[i].0 <= now {
                    let (_, ok) = in_flight.swap_remove(i);
                    if ok {
                        answered += 1;
                        law.on(Event::Answered(latency), now);
                    } else {
                        throttled += 1;
                        law.on(Event::Throttled, now);
                    }
                } else {
                    i += 1;
                }
            }
            // Starts allowed now.
            while in_flight.len() < law.in_flight() && next_start <= now {
                law.started(now);
                let ok = tokens >= 1.0;
                if ok {
                    tokens -= 1.0;
                }
                // A throttle is answered at once; an answer after its latency.
                let due = if ok {
                    now + latency
                } else {
                    now + Duration::from_millis(1)
                };
                in_flight.push((due, ok));
                if let Some(rate) = law.rate() {
                    next_start = next_start.max(now - step) + Duration::from_secs_f64(1.0 / rate);
                }
            }
        }
        let rate = answered as f64 / seconds as f64;
        let share = throttled as f64 / (answered + throttled).max(1) as f64;
        (rate / limit, share)
    }

    /// The four cases the bench measures, simulated: at least 0.9 of the limit, at most 5 %
    /// throttled, ramp-up included.
    #[test]
    fn the_law_finds_the_limit_in_each_case() {
        for limit in [20.0, 500.0] {
            for latency in [10, 200] {
                let (reached, share) =
                    simulate(limit, Duration::from_millis(latency), adaptive(), 60);
                if std::env::var("PACE_DEBUG").is_ok() {
                    eprintln!(
                        "{limit}/s at {latency} ms: {reached:.3} of the limit, {share:.3} throttled"
                    );
                }
                assert!(
                    reached >= 0.9 && share <= 0.05,
                    "{limit}/s at {latency} ms: {reached:.3} of the limit, {share:.3} throttled"
                );
            }
        }
    }

    /// Without throttling, slow start doubles the in-flight limit every round trip up to the
    /// bound, and a latency climb shrinks it.
    #[test]
    fn slow_start_then_the_latency_gradient() {
        let start = Instant::now();
        let mut law = PaceLaw::new(
            Pins {
                max_in_flight: 64,
                ..adaptive()
            },
            start,
        );
        assert_eq!(law.in_flight(), 8);
        let rtt = Duration::from_millis(100);
        for n in 0..8 {
            law.on(Event::Answered(rtt), start + rtt * n);
        }
        assert_eq!(law.in_flight(), 16);
        for n in 0..200 {
            law.on(Event::Answered(rtt), start + rtt * (n + 8));
        }
        assert_eq!(law.in_flight(), 64, "bounded by --max-concurrency");
        // No cap before a throttle: starts only spread over the round trip.
        assert_eq!(law.rate(), Some(2.0 * 64.0 / 0.1));
        // Queueing: the latency climbs to four times its floor.
        let later = start + Duration::from_secs(60);
        for n in 0..40 {
            law.on(
                Event::Answered(rtt * 4),
                later + Duration::from_millis(50 * n),
            );
        }
        assert!(law.in_flight() < 64, "{}", law.in_flight());
    }

    /// The first throttle (slow start's end) drops the rate to 0.7 of what the in-flight limit
    /// sustained; throttles of one burst count once; the rate grows back to where it was
    /// throttled in K seconds (CUBIC), then beyond; a later throttle starts from the cap.
    #[test]
    fn a_throttle_is_cubic_not_halving() {
        let start = Instant::now();
        let mut law = PaceLaw::new(adaptive(), start);
        let rtt = Duration::from_millis(100);
        for n in 0..8 {
            law.started(start + rtt * n / 8);
            law.on(Event::Answered(rtt), start + rtt * n / 8);
        }
        assert_eq!(law.in_flight(), 16);
        // 160 starts a second, as 16 in flight at 100 ms sustain.
        let at = start + Duration::from_secs(1);
        for n in 0..160 {
            law.started(at - Duration::from_millis(1000 - n * 1000 / 160));
        }
        law.on(Event::Throttled, at);
        let w_max = 16.0 / 0.1;
        let dropped = law.rate().unwrap();
        assert!((dropped - 0.7 * w_max).abs() < 1e-6, "{dropped}");
        // The same burst: no second decrease.
        law.on(Event::Throttled, at + Duration::from_millis(5));
        assert!(law.rate().unwrap() >= dropped);
        assert_eq!(law.throttled, 2);
        // K = cbrt(W_max · 0.3 / 0.4): back at W_max then (while as much is being sent).
        let k = Duration::from_secs_f64((w_max * 0.3 / 0.4).cbrt());
        for n in 0..160 {
            law.started(at + k - Duration::from_millis(1000 - n * 1000 / 160));
        }
        law.on(Event::Answered(rtt), at + k);
        assert!(
            (law.rate().unwrap() - w_max).abs() < 1.0,
            "{:?}",
            law.rate()
        );
        // A later throttle: from the cap in force.
        law.on(Event::Throttled, at + k + Duration::from_secs(1));
        let cap = law.rate().unwrap();
        assert!(cap < w_max, "{cap}");
    }

    /// Pinned dimensions do not move; with `--rps` pinned, a throttle shrinks the in-flight
    /// limit instead.
    #[test]
    fn pins_hold() {
        let start = Instant::now();
        let mut both = PaceLaw::new(
            Pins {
                in_flight: Some(4),
                rate: Some(10.0),
                max_in_flight: 256,
            },
            start,
        );
        for n in 0..50 {
            both.on(
                Event::Answered(Duration::from_millis(5)),
                start + Duration::from_millis(n),
            );
        }
        both.on(Event::Throttled, start + Duration::from_secs(1));
        assert_eq!((both.in_flight(), both.rate()), (4, Some(10.0)));
        let mut rate_pinned = PaceLaw::new(
            Pins {
                rate: Some(10.0),
                ..adaptive()
            },
            start,
        );
        rate_pinned.on(Event::Throttled, start + Duration::from_secs(1));
        assert_eq!(rate_pinned.rate(), Some(10.0));
        assert_eq!(rate_pinned.in_flight(), 5);
    }
}
