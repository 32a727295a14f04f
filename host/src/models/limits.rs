//! Rate limiting for one model endpoint, shared by every job using it.
//!
//! - [`AdaptiveConcurrency`]: requests in flight, AIMD like Inspect's
//!   controller. It starts at `max_concurrent`; a 429 cuts the limit by
//!   20% (at most once per cooldown, so one burst of 429s is one cut);
//!   clean replies grow it by about one slot per `limit` replies, and only
//!   while the limit is nearly used, up to `max_concurrent` again. A 429
//!   also pauses the whole endpoint until the wait the server asked for
//!   ([`super::hints`]) has passed: every request waits, not just the one
//!   retried.
//! - [`TokenBucket`]: requests per minute and tokens per minute, with one
//!   second of burst. Tokens are reserved from an estimate before a
//!   request and settled with the usage the server reports (the bucket may
//!   go into debt), which is why this is hand-written rather than taken
//!   from `governor`, whose cells cannot be given back.

use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Shortest time between two cuts of the concurrency limit.
const CUT_COOLDOWN: Duration = Duration::from_secs(15);

/// Fraction of the limit in flight above which clean replies grow it.
const SATURATED: f64 = 0.8;

/// Requests in flight, adapted to 429s, plus the endpoint-wide pause.
pub(crate) struct AdaptiveConcurrency {
    state: Mutex<ConcurrencyState>,
    changed: Notify,
    adaptive: bool,
}

struct ConcurrencyState {
    limit: f64,
    max: f64,
    in_flight: usize,
    paused_until: Option<Instant>,
    last_cut: Option<Instant>,
}

/// A request slot; dropping it frees the slot.
pub(crate) struct Slot<'a>(&'a AdaptiveConcurrency);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.state.lock().expect("limit lock").in_flight -= 1;
        self.0.changed.notify_waiters();
    }
}

impl AdaptiveConcurrency {
    /// At most `max` in flight; with `adaptive`, fewer after 429s.
    pub(crate) fn new(max: usize, adaptive: bool) -> Self {
        let max = max.max(1) as f64;
        let state = ConcurrencyState { limit: max, max, in_flight: 0, paused_until: None, last_cut: None };
        AdaptiveConcurrency { state: Mutex::new(state), changed: Notify::new(), adaptive }
    }

    /// Wait for a slot: no pause in force, and fewer than the limit in flight.
    pub(crate) async fn acquire(&self) -> Slot<'_> {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let wait = {
                let mut state = self.state.lock().expect("limit lock");
                match state.paused_until.filter(|until| *until > Instant::now()) {
                    Some(until) => Some(until),
                    None if state.in_flight < state.limit.floor().max(1.0) as usize => {
                        state.in_flight += 1;
                        return Slot(self);
                    }
                    None => None,
                }
            };
            match wait {
                Some(until) => tokio::time::sleep_until(until.into()).await,
                None => notified.await,
            }
        }
    }

    /// The server said 429: pause every request for `pause`, and cut the
    /// limit unless it was cut within the cooldown.
    pub(crate) fn rate_limited(&self, pause: Duration) {
        let mut state = self.state.lock().expect("limit lock");
        let now = Instant::now();
        let until = now + pause;
        if state.paused_until.is_none_or(|current| current < until) {
            state.paused_until = Some(until);
        }
        let cooldown = CUT_COOLDOWN.max(pause);
        if self.adaptive && state.last_cut.is_none_or(|cut| now.duration_since(cut) >= cooldown) {
            state.limit = (state.limit * 0.8).floor().max(1.0);
            state.last_cut = Some(now);
            tracing::info!(limit = state.limit, "rate limited (429): fewer requests in flight");
        }
    }

    /// A reply without a rate limit: grow the limit if it is nearly used.
    pub(crate) fn succeeded(&self) {
        let mut state = self.state.lock().expect("limit lock");
        if self.adaptive && state.limit < state.max && state.in_flight as f64 >= SATURATED * state.limit.floor() {
            state.limit = (state.limit + 1.0 / state.limit).min(state.max);
            drop(state);
            self.changed.notify_waiters();
        }
    }

    #[cfg(test)]
    fn limit(&self) -> usize {
        self.state.lock().expect("limit lock").limit as usize
    }
}

/// A token bucket refilled at `per_minute / 60` per second, holding at
/// most one second's worth (at least one unit).
pub(crate) struct TokenBucket {
    state: Mutex<(f64, Instant)>,
    rate_per_sec: f64,
    capacity: f64,
}

impl TokenBucket {
    /// A full bucket for `per_minute` units a minute.
    pub(crate) fn per_minute(per_minute: f64) -> Self {
        let rate_per_sec = per_minute / 60.0;
        let capacity = rate_per_sec.max(1.0);
        TokenBucket { state: Mutex::new((capacity, Instant::now())), rate_per_sec, capacity }
    }

    /// Wait until `amount` units (capped at the bucket size) are there, then
    /// take `amount` (the bucket may go into debt by the excess).
    pub(crate) async fn take(&self, amount: f64) {
        loop {
            let wait = {
                let mut state = self.state.lock().expect("bucket lock");
                self.refill(&mut state);
                let needed = amount.min(self.capacity);
                if state.0 >= needed {
                    state.0 -= amount;
                    return;
                }
                Duration::from_secs_f64((needed - state.0) / self.rate_per_sec)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Correct an earlier `take(estimate)` once the real amount is known.
    pub(crate) fn settle(&self, estimate: f64, actual: f64) {
        let mut state = self.state.lock().expect("bucket lock");
        self.refill(&mut state);
        state.0 = (state.0 + estimate - actual).min(self.capacity);
    }

    fn refill(&self, state: &mut (f64, Instant)) {
        let now = Instant::now();
        state.0 = (state.0 + now.duration_since(state.1).as_secs_f64() * self.rate_per_sec).min(self.capacity);
        state.1 = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_cuts_the_limit_once_per_cooldown_and_clean_replies_grow_it_back() {
        let limit = AdaptiveConcurrency::new(10, true);
        limit.rate_limited(Duration::ZERO);
        assert_eq!(limit.limit(), 8);
        limit.rate_limited(Duration::ZERO);
        assert_eq!(limit.limit(), 8, "a burst of 429s is one cut");
        limit.state.lock().unwrap().in_flight = 5;
        for _ in 0..40 {
            limit.succeeded();
        }
        assert_eq!(limit.limit(), 8, "5 of 8 in flight is not saturated: no growth");
        for _ in 0..40 {
            let full = limit.limit();
            limit.state.lock().unwrap().in_flight = full;
            limit.succeeded();
        }
        assert_eq!(limit.limit(), 10, "back to max_concurrent, never above");
        limit.state.lock().unwrap().in_flight = 0;
        let fixed = AdaptiveConcurrency::new(10, false);
        fixed.rate_limited(Duration::ZERO);
        assert_eq!(fixed.limit(), 10, "not adaptive: the limit stays");
    }

    #[tokio::test]
    async fn slots_stop_at_the_limit_and_a_pause_holds_everyone() {
        let limit = AdaptiveConcurrency::new(2, true);
        let (a, _b) = (limit.acquire().await, limit.acquire().await);
        let third = tokio::time::timeout(Duration::from_millis(50), limit.acquire()).await;
        assert!(third.is_err(), "a third slot waits");
        drop(a);
        let _c =
            tokio::time::timeout(Duration::from_millis(50), limit.acquire()).await.expect("a freed slot is reused");
        drop(_c);
        drop(_b);
        limit.rate_limited(Duration::from_millis(200));
        let started = Instant::now();
        let _d = limit.acquire().await;
        assert!(started.elapsed() >= Duration::from_millis(190), "waited out the pause");
    }

    #[tokio::test]
    async fn buckets_hold_one_second_of_burst_and_settle_to_real_usage() {
        let bucket = TokenBucket::per_minute(600.0); // 10 a second
        let started = Instant::now();
        for _ in 0..15 {
            bucket.take(1.0).await;
        }
        assert!(started.elapsed() >= Duration::from_millis(450), "10 at once, then 10 a second");
        let tokens = TokenBucket::per_minute(6000.0); // 100 a second
        tokens.take(100.0).await;
        tokens.settle(100.0, 20.0); // the reply used only 20
        let started = Instant::now();
        tokens.take(80.0).await;
        assert!(started.elapsed() < Duration::from_millis(100), "the unused 80 came back");
    }
}
