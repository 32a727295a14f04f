//! The `code` environment driven through `assay_sdk::testing::Harness`, the
//! JSON path the host uses: prompts, arguments, record shapes, the
//! `run-code` request, scores from the sandbox's result, and an MBPP-style
//! record run with a local `python3`.

mod common;

use assay_sdk::testing::Harness;
use assay_sdk::{Action, CodeRequest, CodeResult, Environment, Error, Event, ParseStatus, Role, Score, Step};
use code::{Code, DEFAULT_TEMPLATE, Method, State};
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Code> {
    Harness::new(args).expect("valid args")
}

/// A HumanEval-style record: `add` with an import and a helper.
fn humaneval() -> Value {
    json!({
        "task_id": "Test/0",
        "prompt": "import math\n\n\ndef twice(x):\n    return 2 * x\n\n\ndef add(a: int, b: int) -> int:\n    \"\"\"Add a and b.\"\"\"\n",
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert twice(candidate(1, 1)) == 4\n",
    })
}

/// An MBPP-style record in the original dataset's shape (CRLF in `code`,
/// the description in `text`).
fn mbpp() -> Value {
    json!({
        "task_id": 3,
        "text": "Write a python function to identify non-prime numbers.",
        "code": "def is_not_prime(n):\r\n    result = False\r\n    for i in range(2,int(math.sqrt(n)) + 1):\r\n        if n % i == 0:\r\n            result = True\r\n    return result",
        "test_list": ["assert is_not_prime(2) == False", "assert is_not_prime(10) == True", "assert is_not_prime(35) == True"],
        "test_setup_code": "import math",
    })
}

fn mbpp_args() -> Value {
    json!({"prompt_field": "text", "solution_field": "code"})
}

fn advance(env: &Harness<Code>, state: &str, event: Event) -> Step<String> {
    env.advance(state, event).expect("advance")
}

/// The run-code request after replying `reply` to a fresh record.
fn request(env: &Harness<Code>, record: Value, reply: &str) -> (CodeRequest, String) {
    let prepared = env.prepare(record, 0).unwrap();
    let step = advance(env, &prepared.state, Event::ModelReply(reply.into()));
    match step.action {
        Action::RunCode(request) => (request, step.state),
        other => panic!("expected run-code, got {other:?}"),
    }
}

fn finish(step: Step<String>) -> Score {
    match step.action {
        Action::Finish(score) => score,
        other => panic!("expected finish, got {other:?}"),
    }
}

fn result(exit_code: i32, stderr: &str, timed_out: bool) -> CodeResult {
    CodeResult { exit_code, stdout: String::new(), stderr: stderr.into(), timed_out, duration_ms: 42 }
}

// ---- prompts ----

#[test]
fn chat_mode_asks_for_the_function_in_a_python_block() {
    let prepared = env(json!({})).prepare(humaneval(), 0).unwrap();
    assert_eq!(prepared.prompt.messages.len(), 1);
    let expected = DEFAULT_TEMPLATE.replace("{prompt}", humaneval()["prompt"].as_str().unwrap());
    assert_eq!(prepared.text(), expected);
    assert!(prepared.text().ends_with("\"\"\"Add a and b.\"\"\"\n```"), "{}", prepared.text());
}

#[test]
fn base_mode_sends_the_prompt_verbatim_after_any_system_prompt() {
    let prepared =
        env(json!({"completion_mode": "base", "system_prompt": "# Python 3"})).prepare(humaneval(), 0).unwrap();
    let roles: Vec<Role> = prepared.prompt.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User]);
    assert_eq!(prepared.prompt.messages[1].content, humaneval()["prompt"].as_str().unwrap());
}

#[test]
fn mbpp_prompts_show_the_asserts() {
    let prepared = env(mbpp_args()).prepare(mbpp(), 0).unwrap();
    assert!(prepared.text().starts_with("Write a python function to identify non-prime numbers.\n\n"));
    assert!(prepared.text().contains("\n\nassert is_not_prime(2) == False\nassert is_not_prime(10) == True\n"));
    let custom = env(json!({"prompt_field": "text", "prompt_template": "T: {prompt} | {tests}"}));
    let text = custom.prepare(mbpp(), 0).unwrap().text();
    assert!(text.starts_with("T: Write a python") && text.contains("| assert is_not_prime(2) == False\nassert"));
    // HumanEval-style records have no asserts to show.
    let text = env(json!({"prompt_template": "{prompt}[{tests}]"})).prepare(humaneval(), 0).unwrap().text();
    assert!(text.ends_with("\"\"\"\n[]"), "{text}");
}

// ---- arguments and records ----

#[test]
fn bad_arguments_name_the_field() {
    let cases = [
        (json!({"language": "javascript"}), "field `language`: `javascript` is not supported (only `python`)"),
        (json!({"timeout_ms": 0}), "field `timeout_ms`: must be positive"),
        (json!({"test_field": " "}), "field `test_field`: must not be empty"),
        (json!({"prompt_template": "Solve it."}), "field `prompt_template`: must contain `{prompt}`"),
        (
            json!({"prompt_template": "{prompt} {test}"}),
            "field `prompt_template`: unknown placeholder `{test}` (known: `prompt`, `tests`)",
        ),
    ];
    for (args, message) in cases {
        assert_eq!(Harness::<Code>::new(args.clone()).err(), Some(Error::bad_args(message)), "args {args}");
    }
    let base_template = Harness::<Code>::new(json!({"completion_mode": "base", "prompt_template": "{prompt}"}));
    assert!(matches!(base_template, Err(Error::BadArgs(m)) if m.contains("not used with `completion_mode: base`")));
    let mode = Harness::<Code>::new(json!({"completion_mode": "instruct"})).err().unwrap().to_string();
    assert!(mode.contains("completion_mode") && mode.contains("`chat`"), "{mode}");
    assert!(Harness::<Code>::new(json!({"timeout": 5})).is_err(), "unknown keys are rejected");
}

#[test]
fn bad_records_name_the_field() {
    let h = env(json!({}));
    let mut no_test = humaneval();
    no_test.as_object_mut().unwrap().remove("test");
    assert_eq!(h.prepare(no_test, 0).err(), Some(Error::bad_record("field `test`: missing")));
    let message = "field `entry_point`: missing (nor is there an MBPP-style `test_list`)";
    assert_eq!(h.prepare(json!({"prompt": "p", "test": "t"}), 0).err(), Some(Error::bad_record(message)));
    let bad_list = json!({"prompt": "p", "test_list": "assert f()"});
    let message = "field `test_list`: expected a non-empty list of strings, got \"assert f()\"";
    assert_eq!(h.prepare(bad_list, 0).err(), Some(Error::bad_record(message)));
    let base = env(json!({"completion_mode": "base", "prompt_field": "text"}));
    assert!(matches!(base.prepare(mbpp(), 0), Err(Error::BadRecord(m)) if m.contains("needs HumanEval-style records")));
}

#[test]
fn every_argument_is_documented_with_a_usable_default() {
    let description = Code::describe();
    assert_eq!(description.capabilities, ["run-code:python"]);
    let names: Vec<&str> = description.args.iter().map(|a| a.name.as_str()).collect();
    let expected = [
        "prompt_field",
        "test_field",
        "entry_point_field",
        "solution_field",
        "tests_list_field",
        "setup_field",
        "io_tests_field",
        "io_test_sets",
        "max_generated_tests",
        "float_tolerance",
        "prompt_template",
        "system_prompt",
        "completion_mode",
        "language",
        "timeout_ms",
    ];
    assert_eq!(names, expected);
    for arg in &description.args {
        let default: Value = serde_json::from_str(arg.default_json.as_deref().unwrap()).unwrap();
        assert!(Harness::<Code>::new(json!({ &arg.name: default })).is_ok(), "default of {}", arg.name);
    }
}

// ---- the episode ----

#[test]
fn the_run_code_request_is_the_program_with_its_tests() {
    let h = env(json!({"timeout_ms": 2500}));
    let reply = "```python\ndef add(a, b):\n    return a + b\n```";
    let (request, state) = request(&h, humaneval(), reply);
    let expected = CodeRequest {
        language: "python".into(),
        source: "import math\n\n\ndef twice(x):\n    return 2 * x\n\n\ndef add(a, b):\n    return a + b\n\n\n\
                 def check(candidate):\n    assert candidate(1, 2) == 3\n    assert twice(candidate(1, 1)) == 4\n\n\n\
                 check(add)\n"
            .into(),
        stdin: String::new(),
        timeout_ms: 2500,
    };
    assert_eq!(request, expected);
    let state: State = serde_json::from_str(&state).unwrap();
    assert_eq!(state.extracted.unwrap().code, "def add(a, b):\n    return a + b\n");
}

#[test]
fn a_reply_without_code_finishes_with_no_answer_and_runs_nothing() {
    let h = env(json!({}));
    let prepared = h.prepare(humaneval(), 0).unwrap();
    let score = finish(advance(&h, &prepared.state, Event::ModelReply("Sorry, I can't.".into())));
    assert_eq!((score.reward, score.parse_status, score.parsed_answer), (0.0, ParseStatus::NoAnswer, None));
    let base = env(json!({"completion_mode": "base"}));
    let prepared = base.prepare(humaneval(), 0).unwrap();
    let score = finish(advance(&base, &prepared.state, Event::ModelReply("\n# tests\nprint(add(1, 2))".into())));
    assert_eq!(score.parse_status, ParseStatus::NoAnswer);
}

#[test]
fn the_result_decides_the_reward_and_is_kept_in_info() {
    let h = env(json!({}));
    let (_, state) = request(&h, humaneval(), "```python\n    return a + b\n```");
    let passed = finish(advance(&h, &state, Event::CodeOutput(result(0, "", false))));
    assert_eq!((passed.reward, passed.parse_status), (1.0, ParseStatus::Ok));
    assert_eq!(passed.parsed_answer.as_deref(), Some("    return a + b\n"));
    let info = json!({"method": "fenced", "passed": true, "exit_code": 0, "timed_out": false, "duration_ms": 42, "stderr_tail": ""});
    assert_eq!(Value::Object(passed.info), info);

    let long_error = format!("Traceback{}\nAssertionError", "x".repeat(5000));
    let failed = finish(advance(&h, &state, Event::CodeOutput(result(1, &long_error, false))));
    assert_eq!((failed.reward, failed.parse_status), (0.0, ParseStatus::Ok));
    let tail = failed.info["stderr_tail"].as_str().unwrap();
    assert_eq!(tail.chars().count(), 1000);
    assert!(tail.ends_with("\nAssertionError"));

    // A time-out fails even if the sandbox reports status 0.
    let timed_out = finish(advance(&h, &state, Event::CodeOutput(result(0, "", true))));
    assert_eq!((timed_out.reward, timed_out.info["timed_out"].clone()), (0.0, json!(true)));
}

#[test]
fn code_output_before_any_code_is_an_internal_error() {
    let h = env(json!({}));
    let prepared = h.prepare(humaneval(), 0).unwrap();
    let error = h.advance(&prepared.state, Event::CodeOutput(result(0, "", false))).err().unwrap();
    assert!(matches!(error, Error::Internal(m) if m.contains("no code was sent")));
}

#[test]
fn grading_without_the_host_refuses_code_but_scores_a_reply_without_any() {
    let h = env(json!({}));
    let prepared = h.prepare(humaneval(), 0).unwrap();
    let error = h.grade(&prepared, "```python\ndef add(a, b): return a + b\n```").err().unwrap();
    assert!(matches!(error, Error::Internal(m) if m.starts_with("code is graded by running it")));
    assert_eq!(h.grade(&prepared, "No idea.").unwrap().parse_status, ParseStatus::NoAnswer);
}

#[test]
fn references_per_mode_and_record_kind() {
    let chat = env(json!({}));
    let prepared = chat.prepare(humaneval(), 0).unwrap();
    let prompt = humaneval()["prompt"].as_str().unwrap().to_string();
    assert_eq!(chat.reference(&prepared).unwrap(), Some(format!("```python\n{prompt}    return a + b\n```")));
    let base = env(json!({"completion_mode": "base"}));
    assert_eq!(base.reference(&base.prepare(humaneval(), 0).unwrap()).unwrap().as_deref(), Some("    return a + b\n"));
    let mut unsolved = humaneval();
    unsolved.as_object_mut().unwrap().remove("canonical_solution");
    assert_eq!(chat.reference(&chat.prepare(unsolved, 0).unwrap()).unwrap(), None);
    let mbpp_env = env(mbpp_args());
    let reference = mbpp_env.reference(&mbpp_env.prepare(mbpp(), 0).unwrap()).unwrap().unwrap();
    assert!(reference.starts_with("```python\ndef is_not_prime(n):\r\n") && reference.ends_with("return result\n```"));
}

// ---- running programs ----

#[test]
fn references_and_wrong_answers_run_with_python() {
    if !common::python3_available() {
        return;
    }
    for args in [json!({}), json!({"completion_mode": "base"})] {
        let h = env(args.clone());
        let reference = h.reference(&h.prepare(humaneval(), 0).unwrap()).unwrap().unwrap();
        let (score, _) = common::episode(&h, &humaneval(), &reference);
        assert_eq!(score.reward, 1.0, "{args}: {:?}", score.info);
        let (score, _) = common::episode(&h, &humaneval(), &reference.replace("a + b", "a - b"));
        assert_eq!(score.reward, 0.0, "{args}");
        assert!(score.info["stderr_tail"].as_str().unwrap().contains("AssertionError"), "{:?}", score.info);
    }
    // The helper `twice` comes from the prompt, so a reply need not repeat it.
    let (score, _) = common::episode(&env(json!({})), &humaneval(), "```py\ndef add(a, b):\n    return a + b\n```");
    assert_eq!(score.reward, 1.0, "{:?}", score.info);
}

#[test]
fn an_mbpp_record_runs_code_setup_and_asserts() {
    if !common::python3_available() {
        return;
    }
    let h = env(mbpp_args());
    let reference = h.reference(&h.prepare(mbpp(), 0).unwrap()).unwrap().unwrap();
    let (score, request) = common::episode(&h, &mbpp(), &reference);
    assert_eq!(score.reward, 1.0, "{:?}", score.info);
    assert!(request.source.ends_with("return result\nimport math\nassert is_not_prime(2) == False\nassert is_not_prime(10) == True\nassert is_not_prime(35) == True\n"));
    // A wrong answer fails an assert; an endless one times out.
    let (score, _) = common::episode(&h, &mbpp(), "```python\ndef is_not_prime(n):\n    return False\n```");
    assert_eq!((score.reward, score.info["exit_code"].clone()), (0.0, json!(1)));
    let slow = env(json!({"prompt_field": "text", "timeout_ms": 300}));
    let (score, _) = common::episode(&slow, &mbpp(), "```python\ndef is_not_prime(n):\n    while True: pass\n```");
    assert_eq!((score.reward, score.info["timed_out"].clone()), (0.0, json!(true)));
    assert_eq!(score.info["method"], Method::Fenced.as_str());
}
