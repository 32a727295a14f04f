//! How long a server asks a client to wait after a 429 (or a 503), read
//! from its response headers: the one list of the headers assay reads.
//!
//! Servers and gateways each say it their own way:
//!
//! | header | form | sent by |
//! |---|---|---|
//! | `retry-after-ms` | milliseconds | OpenAI, Azure OpenAI |
//! | `retry-after` | seconds, or an HTTP date | HTTP itself; vLLM, SGLang and most proxies |
//! | `x-ratelimit-reset-requests`, `x-ratelimit-reset-tokens` | a duration: `1m30s`, `6ms` | OpenAI, Azure, Groq |
//! | `x-ratelimit-reset` | epoch milliseconds or seconds, or seconds from now | OpenRouter |
//! | `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset` | an RFC 3339 instant | Anthropic |
//!
//! LiteLLM's proxy passes its provider's headers on with an `llm_provider-`
//! prefix (its own limiter answers `llm_provider-retry-after: 60`), so
//! every header above is read under that prefix too.
//!
//! A retry header (the first two) says when to retry and wins when present.
//! Otherwise the reset headers say when each limit resets; which one the
//! server enforced is not said, so the latest reset is the wait.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// How a header's value gives the wait.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Form {
    /// Milliseconds from now: `250`.
    Millis,
    /// Seconds from now (`2`, `0.5`) or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`).
    SecondsOrDate,
    /// A Go-style duration from now: `1m30s`, `6ms`, `2s`.
    GoDuration,
    /// An instant as epoch milliseconds or seconds, or (a small number) seconds from now.
    EpochOrSeconds,
    /// An RFC 3339 instant: `2026-01-01T00:00:05Z`.
    Rfc3339,
}

/// Headers that say when to retry, in order of preference: the first one
/// present wins (`retry-after-ms` is the more precise where both are sent).
const RETRY: [(&str, Form); 2] = [("retry-after-ms", Form::Millis), ("retry-after", Form::SecondsOrDate)];

/// Headers that say when a limit resets; the latest reset is the wait.
const RESETS: [(&str, Form); 7] = [
    ("x-ratelimit-reset-requests", Form::GoDuration),
    ("x-ratelimit-reset-tokens", Form::GoDuration),
    ("x-ratelimit-reset", Form::EpochOrSeconds),
    ("anthropic-ratelimit-requests-reset", Form::Rfc3339),
    ("anthropic-ratelimit-tokens-reset", Form::Rfc3339),
    ("anthropic-ratelimit-input-tokens-reset", Form::Rfc3339),
    ("anthropic-ratelimit-output-tokens-reset", Form::Rfc3339),
];

/// The prefix under which LiteLLM's proxy passes its provider's headers on.
const PROXIED: &str = "llm_provider-";

/// The wait a response asks for, if its headers give one (see the module
/// docs for which headers, and which wins).
pub(crate) fn requested_wait(headers: &HeaderMap) -> Option<Duration> {
    let read = |&(name, form): &(&str, Form)| {
        let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| parse(v, form));
        value(name).or_else(|| value(&format!("{PROXIED}{name}")))
    };
    RETRY.iter().find_map(read).or_else(|| RESETS.iter().filter_map(read).max())
}

fn parse(value: &str, form: Form) -> Option<Duration> {
    let value = value.trim();
    match form {
        Form::Millis => seconds(value).map(|s| s / 1000),
        Form::SecondsOrDate => seconds(value).or_else(|| until_http_date(value)),
        Form::GoDuration => parse_go_duration(value),
        Form::EpochOrSeconds => {
            let number: f64 = value.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
            // An epoch in milliseconds is past 1e12 (2001), in seconds past 1e9 (also 2001);
            // no server asks for a wait of 30 years.
            match number {
                n if n >= 1e12 => Some(until(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(n / 1000.0))),
                n if n >= 1e9 => Some(until(SystemTime::UNIX_EPOCH + Duration::from_secs_f64(n))),
                n => Some(Duration::from_secs_f64(n)),
            }
        }
        Form::Rfc3339 => {
            let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339).ok()?;
            Some(until(at.into()))
        }
    }
}

/// A non-negative number of seconds, as a wait: `2`, `0.5`.
fn seconds(value: &str) -> Option<Duration> {
    let seconds: f64 = value.parse().ok()?;
    (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// The time until an HTTP date (RFC 9110's IMF-fixdate, an RFC 2822 form).
fn until_http_date(value: &str) -> Option<Duration> {
    let at = time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some(until(at.into()))
}

/// The time from now until `at` (zero if past).
fn until(at: SystemTime) -> Duration {
    at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO)
}

/// A Go-style duration: `1m30.5s`, `500ms`, `2s`, `1h2m`, `6µs`.
fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = 0.0;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let value: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        total += value * scale;
        rest = &rest[unit_len..];
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The wait asked for by a response with these headers.
    fn wait(headers: &[(&str, &str)]) -> Option<Duration> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(reqwest::header::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        requested_wait(&map)
    }

    /// `at` as an HTTP date, RFC 3339, epoch seconds and epoch millis.
    fn instant_forms(at: time::OffsetDateTime) -> [String; 4] {
        let http = time::macros::format_description!(
            "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
        );
        [
            at.format(http).unwrap(),
            at.format(&time::format_description::well_known::Rfc3339).unwrap(),
            at.unix_timestamp().to_string(),
            (at.unix_timestamp_nanos() / 1_000_000).to_string(),
        ]
    }

    /// A wait computed from an instant ~`secs` ahead, within a second of it.
    fn about(wait: Option<Duration>, secs: u64) -> bool {
        wait.is_some_and(|w| w <= Duration::from_secs(secs) && w >= Duration::from_secs(secs - 2))
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(wait(&[("retry-after", "2")]), Some(Duration::from_secs(2)));
        assert_eq!(wait(&[("retry-after", "0.5")]), Some(Duration::from_millis(500)));
        assert_eq!(wait(&[("retry-after", " 7 ")]), Some(Duration::from_secs(7)));
        assert_eq!(wait(&[("retry-after", "-1")]), None);
        assert_eq!(wait(&[("retry-after", "soon")]), None);
    }

    #[test]
    fn retry_after_as_an_http_date() {
        let [http, ..] = instant_forms(time::OffsetDateTime::now_utc() + Duration::from_secs(30));
        assert!(about(wait(&[("retry-after", &http)]), 30), "{http}");
        assert_eq!(wait(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]), Some(Duration::ZERO), "past: no wait");
    }

    #[test]
    fn retry_after_ms() {
        assert_eq!(wait(&[("retry-after-ms", "250")]), Some(Duration::from_millis(250)));
        // OpenAI sends both; the milliseconds are the more precise.
        assert_eq!(wait(&[("retry-after", "1"), ("retry-after-ms", "1500")]), Some(Duration::from_millis(1500)));
    }

    #[test]
    fn litellm_prefixed_retry_after() {
        assert_eq!(wait(&[("llm_provider-retry-after", "60")]), Some(Duration::from_secs(60)));
        assert_eq!(wait(&[("llm_provider-retry-after-ms", "20")]), Some(Duration::from_millis(20)));
        assert_eq!(
            wait(&[("llm_provider-x-ratelimit-reset-requests", "1m30s")]),
            Some(Duration::from_secs(90)),
            "every header is read under the prefix"
        );
        assert_eq!(
            wait(&[("retry-after", "3"), ("llm_provider-retry-after", "60")]),
            Some(Duration::from_secs(3)),
            "the proxy's own header wins over its provider's"
        );
    }

    #[test]
    fn openai_reset_durations() {
        assert_eq!(wait(&[("x-ratelimit-reset-requests", "1m30s")]), Some(Duration::from_secs(90)));
        assert_eq!(wait(&[("x-ratelimit-reset-tokens", "6ms")]), Some(Duration::from_millis(6)));
        assert_eq!(
            wait(&[("x-ratelimit-reset-requests", "1s"), ("x-ratelimit-reset-tokens", "6m0s")]),
            Some(Duration::from_secs(360)),
            "the latest reset"
        );
        assert_eq!(
            wait(&[("x-ratelimit-reset-tokens", "6m0s"), ("retry-after", "3")]),
            Some(Duration::from_secs(3)),
            "a retry header wins over resets"
        );
        assert_eq!(wait(&[("x-ratelimit-reset-requests", "soon")]), None);
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("1m30.5s"), Some(Duration::from_millis(90_500)));
        assert_eq!(parse_go_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_go_duration("1h2m"), Some(Duration::from_secs(3720)));
        assert_eq!(parse_go_duration("20µs"), Some(Duration::from_micros(20)));
        assert_eq!(parse_go_duration("5"), None, "a unit is required");
        assert_eq!(parse_go_duration("2 days"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn openrouter_reset_as_epoch_or_seconds() {
        let [_, _, epoch_secs, epoch_millis] = instant_forms(time::OffsetDateTime::now_utc() + Duration::from_secs(40));
        assert!(about(wait(&[("x-ratelimit-reset", &epoch_millis)]), 40), "{epoch_millis}");
        assert!(about(wait(&[("x-ratelimit-reset", &epoch_secs)]), 40), "{epoch_secs}");
        assert_eq!(wait(&[("x-ratelimit-reset", "12")]), Some(Duration::from_secs(12)));
        assert_eq!(wait(&[("x-ratelimit-reset", "1000000000000")]), Some(Duration::ZERO), "2001: past");
    }

    #[test]
    fn anthropic_reset_instants() {
        let [_, rfc3339, ..] = instant_forms(time::OffsetDateTime::now_utc() + Duration::from_secs(20));
        for name in [
            "anthropic-ratelimit-requests-reset",
            "anthropic-ratelimit-tokens-reset",
            "anthropic-ratelimit-input-tokens-reset",
            "anthropic-ratelimit-output-tokens-reset",
        ] {
            assert!(about(wait(&[(name, &rfc3339)]), 20), "{name}: {rfc3339}");
        }
        assert_eq!(wait(&[("anthropic-ratelimit-tokens-reset", "2000-01-01T00:00:00Z")]), Some(Duration::ZERO));
    }

    #[test]
    fn no_hint_no_wait() {
        assert_eq!(wait(&[]), None);
        assert_eq!(wait(&[("x-ratelimit-remaining-requests", "0"), ("content-type", "text/plain")]), None);
    }
}
