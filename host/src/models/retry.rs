//! When to retry a failed request, and after how long.
//!
//! Two budgets, because the failures differ. A 429 says the request was
//! fine but early: it waits as long as the server asks (or backs off when
//! it does not say), for up to `rate_limit_wait` in all, however many
//! attempts that takes; a gateway counting requests per clock minute can
//! need most of a minute, more than once. Every other retryable failure
//! (5xx, connection, timeout, malformed reply) spends one of
//! `max_retries`: trying longer would not make a broken server well.
//!
//! Hand-written rather than taken from a retry crate. `backon` 1.6 could
//! express the policy (`when` for what to retry, `adjust` for
//! `Retry-After`), but the client also needs the attempt count (for
//! `ChatReply::attempts` and "gave up after N attempts") and a concurrency
//! permit per attempt, which would mean counters captured in closures
//! around it; the loop in `ChatClient::chat` plus this file is shorter than
//! that glue. Jitter uses `rand`, which the crate already depends on.

use super::ModelError;
use std::time::Duration;

/// Backoff settings.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay scale of the first retry.
    pub base: Duration,
    /// Upper bound of any delay after a failure other than a 429, including
    /// a server's `Retry-After` (a 429's wait is bounded by `rate_limit_wait`).
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { base: Duration::from_secs(1), max: Duration::from_secs(60) }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (0-based): the server's
    /// `retry_after` if given, else a random time up to `base * 2^retry`
    /// (full jitter spreads retries of many clients apart), capped at `max`.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(after) = retry_after {
            return after.min(self.max);
        }
        let ceiling = self.base.saturating_mul(2u32.saturating_pow(retry.min(16))).min(self.max);
        ceiling.mul_f64(rand::random::<f64>())
    }
}

/// One request's retries: attempts made, how long it has been rate
/// limited, and what to do after each failed attempt.
pub(crate) struct Retries {
    backoff: Backoff,
    max_retries: u32,
    rate_limit_wait: Duration,
    /// Attempts made so far.
    attempts: u32,
    /// Failures that spent a retry (all but 429s).
    failures: u32,
    /// 429s so far: the backoff exponent when the server gives no wait.
    rate_limits: u32,
    /// The delays slept after 429s, added up: what `rate_limit_wait`
    /// bounds. Time spent on other failures (a timeout can take minutes)
    /// and in pauses other requests' 429s caused is not counted.
    rate_limited_for: Duration,
}

impl Retries {
    /// Before the first attempt.
    pub(crate) fn new(backoff: Backoff, max_retries: u32, rate_limit_wait: Duration) -> Self {
        Retries {
            backoff,
            max_retries,
            rate_limit_wait,
            attempts: 0,
            failures: 0,
            rate_limits: 0,
            rate_limited_for: Duration::ZERO,
        }
    }

    /// An attempt is about to be made.
    pub(crate) fn attempt(&mut self) {
        self.attempts += 1;
    }

    /// Attempts made so far.
    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The last attempt failed with `error`: the delay before the next
    /// attempt, or the error the request ends with.
    pub(crate) fn after(&mut self, error: ModelError) -> Result<Duration, ModelError> {
        let attempts = self.attempts;
        let gave_up = |error| match attempts {
            1 => error,
            _ => ModelError::GaveUp { attempts, last: Box::new(error) },
        };
        if !error.is_retryable() {
            return Err(gave_up(error));
        }
        let ModelError::Status { status: 429, retry_after, .. } = error else {
            if self.failures >= self.max_retries {
                return Err(gave_up(error));
            }
            self.failures += 1;
            let retry_after = if let ModelError::Status { retry_after, .. } = &error { *retry_after } else { None };
            return Ok(self.backoff.delay(self.failures - 1, retry_after));
        };
        let waited = self.rate_limited_for;
        let left = self.rate_limit_wait.saturating_sub(waited);
        let delay = match retry_after {
            Some(asked) => asked,
            None => self.backoff.delay(self.rate_limits, None).min(left),
        };
        if left.is_zero() || delay > left {
            let budget_secs = self.rate_limit_wait.as_secs_f64();
            return Err(ModelError::RateLimited {
                attempts,
                waited_secs: waited.as_secs_f64(),
                budget_secs,
                last: Box::new(error),
            });
        }
        self.rate_limits += 1;
        self.rate_limited_for += delay;
        Ok(delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<Duration>) -> ModelError {
        ModelError::Status { status, body: "b".into(), retry_after }
    }

    /// Retries with instant backoff.
    fn retries(max_retries: u32, rate_limit_wait: Duration) -> Retries {
        let backoff = Backoff { base: Duration::ZERO, max: Duration::from_secs(60) };
        let mut retries = Retries::new(backoff, max_retries, rate_limit_wait);
        retries.attempt();
        retries
    }

    #[test]
    fn rate_limits_spend_time_not_attempts() {
        let mut retries = retries(1, Duration::from_secs(120));
        for _ in 0..50 {
            // Fifty 429s, each asking for 2 s: 100 s of the 120.
            assert_eq!(retries.after(status(429, Some(Duration::from_secs(2)))), Ok(Duration::from_secs(2)));
            retries.attempt();
        }
        assert_eq!(retries.after(status(500, None)), Ok(Duration::ZERO), "the one retry for other failures");
        retries.attempt();
        let gave_up = ModelError::GaveUp { attempts: 52, last: Box::new(status(502, None)) };
        assert_eq!(retries.after(status(502, None)), Err(gave_up));
    }

    #[test]
    fn the_wait_budget_ends_a_rate_limited_request() {
        let mut retries = retries(0, Duration::from_secs(120));
        let limited = || status(429, Some(Duration::from_secs(60)));
        assert_eq!(retries.after(limited()), Ok(Duration::from_secs(60)));
        retries.attempt();
        assert_eq!(retries.after(limited()), Ok(Duration::from_secs(60)));
        retries.attempt();
        // 120 s waited: nothing left.
        let error = retries.after(limited()).unwrap_err();
        assert_eq!(
            error,
            ModelError::RateLimited { attempts: 3, waited_secs: 120.0, budget_secs: 120.0, last: Box::new(limited()) }
        );
    }

    #[test]
    fn a_wait_beyond_the_budget_ends_the_request_at_once() {
        let mut retries = retries(6, Duration::from_secs(120));
        let error = retries.after(status(429, Some(Duration::from_secs(3600)))).unwrap_err();
        assert!(matches!(error, ModelError::RateLimited { attempts: 1, .. }), "{error:?}");
    }

    #[test]
    fn without_a_hint_429s_back_off_within_what_is_left() {
        let backoff = Backoff { base: Duration::from_secs(10), max: Duration::from_secs(60) };
        let mut retries = Retries::new(backoff, 0, Duration::from_secs(30));
        let mut slept = Duration::ZERO;
        for _ in 0..10_000 {
            retries.attempt();
            match retries.after(status(429, None)) {
                Ok(delay) => slept += delay,
                Err(error) => {
                    assert!(matches!(error, ModelError::RateLimited { .. }), "{error:?}");
                    assert_eq!(slept, Duration::from_secs(30), "the whole budget, and no more");
                    return;
                }
            }
        }
        panic!("still retrying after 10,000 attempts ({slept:?} slept)");
    }

    #[test]
    fn client_errors_end_at_once_or_after_earlier_retries() {
        let mut retries = retries(6, Duration::from_secs(120));
        assert_eq!(retries.after(status(400, None)), Err(status(400, None)));
        let mut retries = self::retries(6, Duration::from_secs(120));
        let delay = retries.after(status(503, Some(Duration::from_secs(5))));
        assert_eq!(delay, Ok(Duration::from_secs(5)), "a 503's Retry-After is honoured");
        retries.attempt();
        let gave_up = ModelError::GaveUp { attempts: 2, last: Box::new(status(401, None)) };
        assert_eq!(retries.after(status(401, None)), Err(gave_up));
    }

    #[test]
    fn one_failure_with_no_retries_left_is_reported_as_is() {
        let mut retries = retries(0, Duration::from_secs(120));
        assert_eq!(retries.after(ModelError::Timeout(1.0)), Err(ModelError::Timeout(1.0)));
    }

    #[test]
    fn delays_grow_and_are_capped() {
        let backoff = Backoff { base: Duration::from_millis(100), max: Duration::from_millis(250) };
        for retry in 0..10 {
            let delay = backoff.delay(retry, None);
            assert!(delay <= Duration::from_millis(100) * 2u32.pow(retry.min(5)));
            assert!(delay <= Duration::from_millis(250));
        }
        assert_eq!(backoff.delay(0, Some(Duration::from_secs(10))), Duration::from_millis(250));
        assert_eq!(backoff.delay(3, Some(Duration::from_millis(20))), Duration::from_millis(20));
    }
}
