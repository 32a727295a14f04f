//! Delays between attempts: exponential backoff with full jitter, or the
//! server's `Retry-After` when it gives one.
//!
//! Hand-written rather than taken from a retry crate. `backon` 1.6 could
//! express the policy (`when` for what to retry, `adjust` for
//! `Retry-After`), but the client also needs the attempt count (for
//! `ChatReply::attempts` and "gave up after N attempts") and a concurrency
//! permit per attempt, which would mean counters captured in closures
//! around it; the loop in `ChatClient::chat` plus this file is shorter than
//! that glue. Jitter uses `rand`, which the crate already depends on.

use std::time::{Duration, SystemTime};

/// Backoff settings.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    /// Delay scale of the first retry.
    pub base: Duration,
    /// Upper bound of any delay, including a server's `Retry-After`.
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

/// Parse a `Retry-After` value: delay seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let format = time::format_description::well_known::Rfc2822;
    let date = time::OffsetDateTime::parse(value, &format).ok()?;
    let target = SystemTime::from(date);
    Some(target.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon"), None);
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
