//! Stdin/stdout tests (APPS, CodeContests) through the JSON path the host
//! uses, run with a local `python3`: the prompt, the record shapes, one
//! run for all of a task's tests, per-test pass counts, and the output
//! checker's whitespace and float tolerance.

mod common;

use assay_sdk::testing::Harness;
use assay_sdk::{Error, Score};
use code::{Code, DEFAULT_STDIO_TEMPLATE};
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Code> {
    Harness::new(args).expect("valid args")
}

/// An APPS-style record: the tests are a JSON string, the way the APPS
/// dataset stores them; the sum of a line of numbers, printed to 2
/// decimals in the last test.
fn apps() -> Value {
    let tests = json!({"inputs": ["1 2\n", "10 -3 4\n", "0.1 0.2\n"], "outputs": ["3\n", "11\n", "0.30\n"]});
    json!({"problem_id": 7, "question": "Print the sum of the numbers on the line.", "input_output": tests.to_string()})
}

fn apps_args() -> Value {
    json!({"prompt_field": "question"})
}

/// A CodeContests-style record: public, private and generated test sets.
fn codecontests() -> Value {
    json!({
        "name": "double",
        "description": "Print twice the number.",
        "public_tests": {"input": ["1\n"], "output": ["2\n"]},
        "private_tests": {"input": ["5\n"], "output": ["10\n"]},
        "generated_tests": {"input": ["7\n", "8\n", "9\n"], "output": ["14\n", "16\n", "18\n"]},
    })
}

const SUM: &str = "```python\nimport sys\nnums = [float(x) for x in sys.stdin.read().split()]\ns = sum(nums)\nprint(int(s) if s == int(s) else f'{s:.2f}')\n```";

fn metric(score: &Score, name: &str) -> f64 {
    score.metrics.iter().find(|(n, _)| n == name).map(|(_, v)| *v).unwrap_or_else(|| panic!("no metric {name}"))
}

#[test]
fn the_prompt_asks_for_a_program_reading_stdin() {
    let prepared = env(apps_args()).prepare(apps(), 0).unwrap();
    let user = prepared.prompt.messages.last().unwrap().content.clone();
    let expected = DEFAULT_STDIO_TEMPLATE.replace("{prompt}", "Print the sum of the numbers on the line.");
    assert_eq!(user, expected);
}

#[test]
fn every_test_runs_in_one_program_run_with_per_test_counts() {
    if !common::python3_available() {
        return;
    }
    let h = env(apps_args());
    let (score, request) = common::episode(&h, &apps(), SUM);
    assert_eq!(score.reward, 1.0, "{:?}", score.info);
    assert_eq!((metric(&score, "tests_passed"), metric(&score, "tests_total")), (3.0, 3.0));
    assert!(!request.source.contains("0.30"), "expected outputs stay out of the sandbox");
    // Integers printed as floats fail the integer tests; the float one passes.
    let floats = SUM.replace("print(int(s) if s == int(s) else f'{s:.2f}')", "print(s)");
    let (score, _) = common::episode(&h, &apps(), &floats);
    assert_eq!((score.reward, metric(&score, "tests_passed")), (0.0, 1.0), "{:?}", score.info);
    assert_eq!(score.info["first_failure"], json!({"test": 0, "reason": "wrong answer"}));
    assert_eq!(score.info["first_failure_stdout"], "3.0\n");
}

#[test]
fn crashes_and_timeouts_fail_their_tests_only() {
    if !common::python3_available() {
        return;
    }
    let h = env(json!({"prompt_field": "question", "timeout_ms": 500}));
    // Negative numbers crash, 0.1 loops forever: only the first test passes.
    let program = "```python\nimport sys\nnums = sys.stdin.read().split()\nif '0.1' in nums:\n    while True: pass\nprint(sum(int(x) for x in nums if int(x) >= 0 or 1 / 0))\n```";
    let (score, _) = common::episode(&h, &apps(), program);
    assert_eq!((score.reward, metric(&score, "tests_passed")), (0.0, 1.0), "{:?}", score.info);
    assert_eq!(score.info["first_failure"], json!({"test": 1, "reason": "runtime error"}));
    assert_eq!(score.info["timed_out"], false, "the driver's own run finished");
}

#[test]
fn codecontests_sets_run_in_order_with_at_most_max_generated_tests() {
    if !common::python3_available() {
        return;
    }
    let double = "```python\nprint(2 * int(input()))\n```";
    let (score, request) = common::episode(&env(json!({"prompt_field": "description"})), &codecontests(), double);
    assert_eq!((score.reward, metric(&score, "tests_total")), (1.0, 5.0), "{:?}", score.info);
    assert!(request.source.contains(r#"INPUTS = ["1\n","5\n","7\n","8\n","9\n"]"#), "{}", request.source);
    let capped = env(json!({"prompt_field": "description", "max_generated_tests": 1}));
    let (score, _) = common::episode(&capped, &codecontests(), double);
    assert_eq!(metric(&score, "tests_total"), 3.0);
    // Off by one on the generated tests only.
    let (score, _) = common::episode(
        &capped,
        &codecontests(),
        "```python\nn = int(input())\nprint(2 * n if n < 7 else 2 * n + 1)\n```",
    );
    assert_eq!((score.reward, metric(&score, "tests_passed")), (0.0, 2.0));
}

#[test]
fn malformed_test_records_are_refused_naming_the_field() {
    let h = env(apps_args());
    let refused = |record: Value| match h.prepare(record, 0) {
        Err(Error::BadRecord(message)) => message,
        other => panic!("expected a bad record, got {other:?}"),
    };
    let with = |tests: Value| json!({"question": "q", "input_output": tests});
    assert_eq!(refused(with(json!("{not json"))).split(" (").next().unwrap(), "field `input_output`: not JSON");
    assert_eq!(refused(with(json!({"inputs": ["1"], "outputs": []}))), "field `input_output`: 1 inputs but 0 outputs");
    assert_eq!(refused(with(json!({"inputs": [], "outputs": []}))), "field `input_output`: no tests");
    assert_eq!(
        refused(with(json!({"fn_name": "f", "inputs": [[1]], "outputs": [[2]]}))),
        "field `input_output`: call-based tests (`fn_name`) are not supported, only stdin/stdout"
    );
    assert_eq!(
        refused(with(json!({"inputs": [1], "outputs": ["1"]}))),
        "field `input_output.inputs[0]`: expected a string, got 1"
    );
}
