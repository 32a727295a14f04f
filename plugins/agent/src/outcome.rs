//! The score of a task from its test command's outcome: exit status 0
//! passes; otherwise, when the task declares how many tests it has
//! (`test_count`), the share of them that passed, read from the output.

use assay_sdk::{CodeResult, Score};
use serde_json::Value;

/// How the episode ended.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stop {
    /// The model called `submit`.
    Submitted,
    /// The model used its turns (`max_turns`).
    MaxTurns,
    /// The host said the token budget was spent.
    TokenBudget,
}

/// What the score reports besides the test run.
pub struct Episode<'a> {
    pub stop: Stop,
    pub turns: u32,
    /// Lines added and removed by the agent, from the workspace's diff.
    pub changed_lines: usize,
    pub test_command: &'a str,
    pub test_count: Option<u32>,
}

/// Score the test run.
pub fn score(episode: &Episode, run: &CodeResult) -> Score {
    let output = format!("{}{}", run.stdout, run.stderr);
    let passed = count_passed(&output);
    let (reward, answer) = if run.timed_out {
        (0.0, "the tests timed out".to_string())
    } else if run.exit_code == 0 {
        (1.0, "the tests passed".to_string())
    } else {
        match (episode.test_count, passed) {
            (Some(total), Some(passed)) if total > 0 => {
                let passed = passed.min(total);
                (f64::from(passed) / f64::from(total), format!("{passed} of {total} tests passed"))
            }
            _ => (0.0, format!("the tests failed (exit code {})", run.exit_code)),
        }
    };
    let mut score = Score::new(reward)
        .answer(answer)
        .metric("turns", f64::from(episode.turns))
        .info("stop", serde_json::to_value(episode.stop).expect("a stop reason serialises"))
        .info("test_command", episode.test_command)
        .info("exit_code", run.exit_code)
        .info("timed_out", run.timed_out)
        .info("test_seconds", f64::from(run.duration_ms) / 1000.0)
        .info("changed_lines", episode.changed_lines)
        .info("tests_passed", passed.map_or(Value::Null, Value::from))
        .info("test_count", episode.test_count.map_or(Value::Null, Value::from));
    // The host writes this to the sample's artifacts, not the result line.
    score.info.insert("artifacts".into(), serde_json::json!({ "test_output.txt": output }));
    if let Some(total) = episode.test_count.filter(|t| *t > 0) {
        let passed = if run.exit_code == 0 && !run.timed_out { total } else { passed.unwrap_or(0).min(total) };
        score = score.metric("tests_passed", f64::from(passed));
    }
    score
}

/// Tests passed, as the output says: an explicit `assay-tests-passed: N`
/// line, pytest's summary (`3 passed, 1 failed`), or unittest's (`Ran 4
/// tests` then `OK` or `FAILED (failures=1, errors=0)`).
pub fn count_passed(output: &str) -> Option<u32> {
    let explicit = output.lines().rev().find_map(|line| line.trim().strip_prefix("assay-tests-passed:"));
    if let Some(number) = explicit.and_then(|n| n.trim().parse().ok()) {
        return Some(number);
    }
    pytest(output).or_else(|| unittest(output))
}

/// `N passed` in pytest's summary (the last line saying so).
fn pytest(output: &str) -> Option<u32> {
    output.lines().rev().find_map(|line| {
        let words: Vec<&str> = line.split(|c: char| c.is_whitespace() || c == ',').filter(|w| !w.is_empty()).collect();
        words.windows(2).find(|pair| pair[1] == "passed").and_then(|pair| pair[0].parse().ok())
    })
}

/// `Ran N tests` minus unittest's failures and errors.
fn unittest(output: &str) -> Option<u32> {
    let ran: u32 =
        output.lines().find_map(|line| line.strip_prefix("Ran ")?.split_whitespace().next()?.parse().ok())?;
    let verdict = output.lines().rev().find(|line| line.starts_with("OK") || line.starts_with("FAILED"))?;
    let count = |key: &str| -> u32 {
        verdict.split(&['(', ')', ',', ' '][..]).find_map(|part| part.strip_prefix(key)?.parse().ok()).unwrap_or(0)
    };
    Some(ran.saturating_sub(count("failures=") + count("errors=")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(exit_code: i32, stdout: &str, timed_out: bool) -> CodeResult {
        CodeResult { exit_code, stdout: stdout.into(), stderr: String::new(), timed_out, duration_ms: 1500 }
    }

    fn episode(test_count: Option<u32>) -> Episode<'static> {
        Episode { stop: Stop::Submitted, turns: 4, changed_lines: 2, test_command: "make test", test_count }
    }

    #[test]
    fn passed_counts_come_from_common_runners() {
        assert_eq!(count_passed("==== 3 passed, 1 failed in 0.12s ===="), Some(3));
        assert_eq!(count_passed("=========== 5 passed in 1.0s ==========="), Some(5));
        assert_eq!(count_passed("..F\n2 passed, 1 failed in 0.05s\n"), Some(2));
        assert_eq!(count_passed("...\nRan 4 tests in 0.001s\n\nFAILED (failures=1, errors=1)\n"), Some(2));
        assert_eq!(count_passed("Ran 3 tests in 0.0s\n\nOK\n"), Some(3));
        assert_eq!(count_passed("checking\nassay-tests-passed: 7\n"), Some(7));
        assert_eq!(count_passed("segmentation fault"), None);
    }

    #[test]
    fn exit_status_decides_and_counts_give_partial_credit() {
        assert_eq!(score(&episode(None), &run(0, "", false)).reward, 1.0);
        assert_eq!(score(&episode(None), &run(1, "Ran 4 tests\nFAILED (failures=1)\n", false)).reward, 0.0);
        let partial = score(&episode(Some(4)), &run(1, "Ran 4 tests\nFAILED (failures=1)\n", false));
        assert_eq!(partial.reward, 0.75);
        assert_eq!(partial.parsed_answer.as_deref(), Some("3 of 4 tests passed"));
        assert!(partial.metrics.contains(&("tests_passed".to_string(), 3.0)));
        assert_eq!(partial.info["artifacts"]["test_output.txt"], "Ran 4 tests\nFAILED (failures=1)\n");
        let slow = score(&episode(Some(4)), &run(-1, "Ran 4 tests\nOK\n", true));
        assert_eq!((slow.reward, slow.info["timed_out"].clone()), (0.0, Value::Bool(true)));
    }
}
