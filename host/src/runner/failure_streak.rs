//! `--max-failures-in-a-row`: a job whose model (or judge) keeps failing
//! stops, instead of spending every remaining sample's retries and timeouts
//! on an endpoint that is down, hung or refusing the key. Samples count in
//! the order they finish; one that got its replies resets the count. Once
//! the limit is reached no new sample of the job starts, those in flight
//! finish and are recorded, and the job ends `failed` with the last error;
//! a rerun asks the failed and unstarted samples again.

use crate::store::SampleResult;
use std::sync::Mutex;

/// The default limit: well past the few failures a flaky endpoint gives in
/// a row, well before a dead one has cost much.
pub(crate) const DEFAULT_MAX_FAILURES_IN_A_ROW: u32 = 25;

/// The failures in a row of one job's samples, against a limit.
#[derive(Debug)]
pub(crate) struct FailureStreak {
    limit: u32,
    state: Mutex<Streak>,
}

#[derive(Debug, Default)]
struct Streak {
    in_a_row: u32,
    /// Why the job stops, once the limit was reached (it stays stopped).
    stopped: Option<String>,
    /// Whether a sample was kept from starting since: a streak reached by
    /// the job's last samples stops nothing.
    refused: bool,
}

impl FailureStreak {
    /// A streak that stops a job at `limit` failures in a row (0: never).
    pub(crate) fn new(limit: u32) -> Self {
        FailureStreak { limit, state: Mutex::default() }
    }

    /// Count a finished sample.
    pub(crate) fn record(&self, result: &SampleResult) {
        let mut state = self.state.lock().expect("streak lock");
        let Some(error) = result.error.as_ref().filter(|error| error.kind.is_endpoint_failure()) else {
            state.in_a_row = 0;
            return;
        };
        state.in_a_row += 1;
        if self.limit > 0 && state.in_a_row >= self.limit && state.stopped.is_none() {
            state.stopped = Some(format!(
                "stopped after {} samples in a row got no reply (last: {}: {}); finished samples are kept, rerun to ask the rest (--max-failures-in-a-row)",
                self.limit,
                error.kind.as_str(),
                error.message
            ));
        }
    }

    /// Whether a new sample may start: not once the limit was reached.
    pub(crate) fn allows_start(&self) -> bool {
        let mut state = self.state.lock().expect("streak lock");
        state.refused |= state.stopped.is_some();
        !state.refused
    }

    /// Why the job stopped, if the streak kept a sample from starting.
    pub(crate) fn stopped(&self) -> Option<String> {
        let state = self.state.lock().expect("streak lock");
        state.stopped.clone().filter(|_| state.refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ErrorKind, SampleError};

    fn sample(kind: Option<ErrorKind>) -> SampleResult {
        let mut result: SampleResult = serde_json::from_value(serde_json::json!({
            "example_id": "q", "example_index": 0, "rollout": 0, "seed": 0, "prompt": [], "completion": null,
            "reasoning": null, "reward": null, "parsed_answer": null, "parse_status": null, "metrics": {},
            "info": null, "turns": 1, "tokens": {"prompt": 0, "completion": 0, "reasoning": 0},
            "latency_ms": 0, "error": null, "finished_at": ""
        }))
        .unwrap();
        result.error = kind.map(|kind| SampleError { kind, message: "HTTP 500: boom".into(), attempts: Some(1) });
        result
    }

    #[test]
    fn a_job_stops_at_the_limit_of_endpoint_failures_in_a_row_and_stays_stopped() {
        let streak = FailureStreak::new(3);
        for kind in [ErrorKind::ServerError, ErrorKind::Connection] {
            streak.record(&sample(Some(kind)));
        }
        streak.record(&sample(None));
        for kind in [ErrorKind::Trap, ErrorKind::Replay, ErrorKind::ModelTimeout, ErrorKind::Judge] {
            streak.record(&sample(Some(kind)));
        }
        assert!(streak.allows_start(), "a reply, a plugin trap or a missing replay breaks the streak");
        streak.record(&sample(Some(ErrorKind::ClientError)));
        assert_eq!(streak.stopped(), None, "no sample was kept from starting yet (the last ones may end a streak)");
        assert!(!streak.allows_start(), "three in a row");
        let why = streak.stopped().expect("a sample was refused");
        assert!(why.starts_with("stopped after 3 samples in a row got no reply (last: client-error: HTTP 500: boom)"));
        streak.record(&sample(None));
        assert!(
            !streak.allows_start() && streak.stopped() == Some(why),
            "samples finishing after the stop do not undo it"
        );
        let never = FailureStreak::new(0);
        (0..100).for_each(|_| never.record(&sample(Some(ErrorKind::Connection))));
        assert!(never.allows_start() && never.stopped().is_none());
    }
}
