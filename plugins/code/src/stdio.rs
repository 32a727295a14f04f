//! Programs tested by standard input and output (APPS, CodeContests): the
//! program reads a test's input from stdin and must print its expected
//! output.
//!
//! All of a task's tests run in one sandbox run, so an episode takes one
//! `run-code` turn however many tests there are: a Python driver starts the
//! program once per test (`subprocess`, each with the per-test time limit)
//! and prints one JSON line per test with what the program printed. The
//! expected outputs never enter the sandbox; [`score`] compares them here,
//! token by token ([`outputs_match`]).

use crate::extract::Extracted;
use assay_sdk::{CodeResult, Score};
use serde::{Deserialize, Serialize};

/// One test: what the program reads, and what it must print.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoTest {
    /// Standard input.
    pub input: String,
    /// The expected standard output.
    pub output: String,
}

/// How much of a test's stdout the driver reports beyond the expected
/// output's length: enough to show what was printed, while a program that
/// prints far more than expected has failed anyway.
const EXTRA_OUTPUT_CHARS: usize = 1000;

/// The driver program: runs `program` once per test with its input and
/// prints `{"stdout", "exit_code", "timed_out"}` per test, one JSON line
/// each, in test order.
pub fn driver(program: &str, tests: &[IoTest], test_timeout_ms: u32) -> String {
    let inputs: Vec<&str> = tests.iter().map(|t| t.input.as_str()).collect();
    let limits: Vec<usize> = tests.iter().map(|t| t.output.chars().count() + EXTRA_OUTPUT_CHARS).collect();
    format!(
        r#"import json, subprocess, sys
PROGRAM = {program}
INPUTS = {inputs}
LIMITS = {limits}
for stdin, limit in zip(INPUTS, LIMITS):
    try:
        run = subprocess.run([sys.executable, "-c", PROGRAM], input=stdin, capture_output=True,
                             encoding="utf-8", errors="replace", timeout={timeout})
        line = {{"stdout": run.stdout[:limit], "exit_code": run.returncode, "timed_out": False}}
    except subprocess.TimeoutExpired:
        line = {{"stdout": "", "exit_code": -1, "timed_out": True}}
    print(json.dumps(line), flush=True)
"#,
        program = json(program),
        inputs = json(&inputs),
        limits = json(&limits),
        timeout = f64::from(test_timeout_ms) / 1000.0,
    )
}

/// `value` as a Python literal: JSON strings and lists of strings or
/// numbers are Python literals too.
fn json<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("strings and numbers serialise")
}

/// The time limit of the driver's run: every test's, plus a margin for
/// starting the interpreters.
pub fn run_timeout_ms(tests: usize, test_timeout_ms: u32) -> u32 {
    let total = u64::from(test_timeout_ms) * tests as u64 + 10_000;
    u32::try_from(total).unwrap_or(u32::MAX)
}

/// What the driver reported for one test.
#[derive(Debug, Deserialize)]
struct TestRun {
    stdout: String,
    exit_code: i32,
    timed_out: bool,
}

/// Why a test failed, as `info.first_failure` names it.
fn failure(run: Option<&TestRun>) -> &'static str {
    match run {
        None => "not run",
        Some(run) if run.timed_out => "timed out",
        Some(run) if run.exit_code != 0 => "runtime error",
        Some(_) => "wrong answer",
    }
}

/// Reward 1 when every test passed: the program exited cleanly within the
/// time limit and printed the expected output. A test the driver did not
/// report (the whole run timed out, or its output was cut) failed.
pub fn score(extracted: &Extracted, tests: &[IoTest], result: &CodeResult, tolerance: f64) -> Score {
    let runs: Vec<Option<TestRun>> = {
        let mut lines = result.stdout.lines().map(|line| serde_json::from_str::<TestRun>(line).ok());
        tests.iter().map(|_| lines.next().flatten()).collect()
    };
    let passed_test = |(test, run): (&IoTest, &Option<TestRun>)| {
        run.as_ref().is_some_and(|run| {
            !run.timed_out && run.exit_code == 0 && outputs_match(&run.stdout, &test.output, tolerance)
        })
    };
    let passed: Vec<bool> = tests.iter().zip(&runs).map(passed_test).collect();
    let count = passed.iter().filter(|&&p| p).count();
    let all = count == tests.len();
    let first_failure = passed.iter().position(|p| !p);
    let mut score = Score::correct_if(all)
        .answer(extracted.code.as_str())
        .metric("tests_passed", count as f64)
        .metric("tests_total", tests.len() as f64)
        .info("method", extracted.method.as_str())
        .info("passed", all)
        .info("tests_passed", count)
        .info("tests_total", tests.len())
        .info("timed_out", result.timed_out)
        .info("duration_ms", result.duration_ms);
    if let Some(index) = first_failure {
        let run = runs[index].as_ref();
        score = score.info("first_failure", serde_json::json!({"test": index, "reason": failure(run)}));
        if let Some(run) = run.filter(|run| !run.timed_out && run.exit_code == 0) {
            score = score.info("first_failure_stdout", run.stdout.as_str());
        }
    }
    score
}

/// Whether `actual` is `expected` up to whitespace: the same tokens in the
/// same order, where a token the expected output writes as a decimal
/// (with a `.` or an exponent) may differ by `tolerance`, absolute or
/// relative to its size. Integers and words must be equal: a tolerance on
/// integers would call `1000000000000000001` and `1000000000000000000`
/// equal.
pub fn outputs_match(actual: &str, expected: &str, tolerance: f64) -> bool {
    let (mut actual, mut expected) = (actual.split_whitespace(), expected.split_whitespace());
    loop {
        match (actual.next(), expected.next()) {
            (None, None) => return true,
            (Some(a), Some(e)) if a == e || floats_close(a, e, tolerance) => {}
            _ => return false,
        }
    }
}

fn floats_close(actual: &str, expected: &str, tolerance: f64) -> bool {
    let decimal = expected.contains(['.', 'e', 'E']);
    match (decimal, actual.parse::<f64>(), expected.parse::<f64>()) {
        (true, Ok(a), Ok(e)) if a.is_finite() && e.is_finite() => (a - e).abs() <= tolerance * e.abs().max(1.0),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_is_free_and_tokens_are_not() {
        assert!(outputs_match("1 2\n3\n", "1 2 3", 1e-6));
        assert!(outputs_match("  YES\r\n", "YES\n", 1e-6));
        assert!(!outputs_match("yes", "YES", 1e-6), "case matters");
        assert!(!outputs_match("1 2", "1 2 3", 1e-6));
        assert!(!outputs_match("1 2 3", "1 2", 1e-6));
        assert!(!outputs_match("12", "1 2", 1e-6));
    }

    #[test]
    fn decimals_within_the_tolerance_match_and_integers_must_be_equal() {
        assert!(outputs_match("0.3333333", "0.33333333", 1e-6));
        assert!(outputs_match("1000000.5", "1000000.4999", 1e-6), "relative to the value's size");
        assert!(!outputs_match("2.5e-7", "0", 1e-6), "`0` is an integer: exact");
        assert!(outputs_match("1e-7", "0.0", 1e-6));
        assert!(!outputs_match("0.34", "0.33333333", 1e-6));
        assert!(!outputs_match("1000000000000000000", "1000000000000000001", 1e-6));
        assert!(!outputs_match("3", "3.5", 1e-6));
        assert!(!outputs_match("nan", "1.0", 1e-6));
        assert!(!outputs_match("inf", "1e308", 1e-6));
    }
}
