//! The `math` environment driven through `assay_sdk::testing::Harness`,
//! the JSON path the host uses: fields, formats, prompts, arguments,
//! scores and references.

use assay_sdk::testing::{Harness, Prepared};
use assay_sdk::{Environment, Error, ParseStatus, Role};
use math::{LATEX_TEMPLATE, Math, NUMBER_TEMPLATE, State, Style};
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Math> {
    Harness::new(args).expect("valid args")
}

fn state(prepared: &Prepared) -> State {
    serde_json::from_str(&prepared.state).expect("state is JSON")
}

fn gsm8k() -> Value {
    json!({"question": "How many?", "answer": "4 * 3 = <<4*3=12>>12\n12 * 2 = <<12*2=24>>24\n#### 24"})
}

fn math_record() -> Value {
    json!({"problem": "Find $x$.", "answer": "\\frac{\\pi}{2}", "solution": "So $x = \\boxed{\\frac{\\pi}{2}}$."})
}

// ---- records and formats ----

#[test]
fn gsm8k_records_are_number_style_with_the_number_after_the_marker() {
    let p = env(json!({})).prepare(gsm8k(), 0).unwrap();
    let s = state(&p);
    assert_eq!((s.style, s.gold.as_str()), (Style::Number, "24"));
    assert!(p.text().contains("How many?") && p.text().contains("####"), "{}", p.text());
}

#[test]
fn math_records_are_latex_style_and_the_problem_field_is_found() {
    let p = env(json!({})).prepare(math_record(), 0).unwrap();
    let s = state(&p);
    assert_eq!((s.style, s.gold.as_str()), (Style::Latex, "\\frac{\\pi}{2}"));
    assert!(p.text().contains("Find $x$.") && p.text().contains("\\boxed{}"), "{}", p.text());
}

#[test]
fn auto_picks_number_style_for_plain_numbers_only() {
    let h = env(json!({}));
    for (answer, style) in [
        (json!("1,250"), Style::Number),
        (json!(-3.5), Style::Number),
        (json!("10,\\!080"), Style::Latex),
        (json!("-2,1"), Style::Latex),
        (json!("3/4"), Style::Latex),
    ] {
        let p = h.prepare(json!({"question": "q", "answer": answer}), 0).unwrap();
        assert_eq!(state(&p).style, style, "{answer}");
    }
}

#[test]
fn answer_format_can_be_fixed() {
    let p = env(json!({"answer_format": "latex"})).prepare(gsm8k(), 0).unwrap();
    assert_eq!((state(&p).style, state(&p).gold.as_str()), (Style::Latex, "24"));
    let p = env(json!({"answer_format": "number"})).prepare(json!({"question": "q", "answer": "\\frac12"}), 0);
    assert_eq!(state(&p.unwrap()).style, Style::Number);
    let interval = json!({"problem": "p", "answer": "(-\\infty, 3]"});
    let err = env(json!({"answer_format": "number"})).prepare(interval, 0).unwrap_err();
    assert!(matches!(&err, Error::BadRecord(m) if m.starts_with("field `answer`: gold answer")), "{err}");
}

#[test]
fn explicit_field_names() {
    let args = json!({"question_field": "q", "answer_field": "a", "solution_field": "s"});
    let p = env(args).prepare(json!({"q": "Q?", "a": "7", "s": "3 + 4 = 7\n#### 7"}), 0).unwrap();
    assert_eq!(state(&p).gold, "7");
    assert_eq!(state(&p).reference, "3 + 4 = 7\n#### 7");
}

#[test]
fn record_errors_name_the_field() {
    let h = env(json!({}));
    let cases = [
        (json!({"answer": "1"}), "field `question`: missing (also looked for `problem`)"),
        (json!({"question": "q"}), "field `answer`: missing"),
        (json!({"question": 3, "answer": "1"}), "field `question`: expected a string, got 3"),
        (json!({"question": "q", "answer": "  "}), "field `answer`: no gold answer"),
        (json!({"question": "q", "answer": "1", "solution": 5}), "field `solution`: expected a string, got 5"),
    ];
    for (record, message) in cases {
        assert_eq!(h.prepare(record, 0).unwrap_err(), Error::bad_record(message));
    }
}

// ---- prompts ----

#[test]
fn default_templates_by_format() {
    let h = env(json!({}));
    let number = h.prepare(gsm8k(), 0).unwrap();
    assert_eq!(number.prompt.messages.len(), 1);
    assert_eq!(number.text(), NUMBER_TEMPLATE.replace("{question}", "How many?"));
    let latex = h.prepare(math_record(), 0).unwrap();
    assert_eq!(latex.text(), LATEX_TEMPLATE.replace("{question}", "Find $x$."));
}

#[test]
fn prompts_object_and_top_level_keys_which_win() {
    let prompts = json!({"system_prompt": "You are careful.", "prompt_template": "P: {question}"});
    let p = env(json!({"prompts": prompts})).prepare(gsm8k(), 0).unwrap();
    let roles: Vec<Role> = p.prompt.messages.iter().map(|m| m.role).collect();
    assert_eq!(roles, [Role::System, Role::User]);
    assert_eq!(p.text(), "You are careful.\nP: How many?");
    let args = json!({"prompts": prompts, "system_prompt": "Top.", "prompt_template": "T: {question}"});
    assert_eq!(env(args).prepare(gsm8k(), 0).unwrap().text(), "Top.\nT: How many?");
    let partial = json!({"prompts": {"system_prompt": "Sys."}});
    let text = env(partial).prepare(math_record(), 0).unwrap().text();
    assert_eq!(text, format!("Sys.\n{}", LATEX_TEMPLATE.replace("{question}", "Find $x$.")));
}

#[test]
fn braces_in_the_question_are_not_placeholders() {
    let record = json!({"question": "Is {question} \\frac{1}{2}?", "answer": "1"});
    let text = env(json!({"prompt_template": "Q: {question} in \\boxed{}"})).prepare(record, 0).unwrap().text();
    assert_eq!(text, "Q: Is {question} \\frac{1}{2}? in \\boxed{}");
}

// ---- arguments ----

#[test]
fn bad_arguments_name_the_field() {
    let cases = [
        (json!({"prompt_template": "Solve {problem}"}), "field `prompt_template`: must contain `{question}`"),
        (
            json!({"prompt_template": "{question} {answer}"}),
            "field `prompt_template`: unknown placeholder `{answer}` (known: `{question}`)",
        ),
        (
            json!({"prompts": {"prompt_template": "{question} {qestion}"}}),
            "field `prompts.prompt_template`: unknown placeholder `{qestion}` (known: `{question}`)",
        ),
        (json!({"tolerance": -1.0}), "field `tolerance`: must be at least 0 and below 1, got -1"),
        (json!({"answer_field": " "}), "field `answer_field`: must not be empty"),
        (json!({"question_field": ""}), "field `question_field`: must not be empty"),
    ];
    for (args, message) in cases {
        assert_eq!(Harness::<Math>::new(args.clone()).err(), Some(Error::bad_args(message)), "{args}");
    }
    // A valid explicit template makes a bad one in `prompts` irrelevant.
    assert!(
        Harness::<Math>::new(json!({"prompt_template": "{question}", "prompts": {"prompt_template": "x"}})).is_ok()
    );
}

#[test]
fn unknown_and_mistyped_arguments_are_rejected() {
    for args in [json!({"tolerence": 0.1}), json!({"answer_format": "numeric"}), json!({"prompts": {"system": "x"}})] {
        assert!(matches!(Harness::<Math>::new(args.clone()), Err(Error::BadArgs(_))), "{args}");
    }
}

#[test]
fn describe_documents_every_argument() {
    let names: Vec<String> = Math::describe().args.into_iter().map(|a| a.name).collect();
    let expected = [
        "question_field",
        "answer_field",
        "solution_field",
        "answer_format",
        "prompt_template",
        "system_prompt",
        "prompts",
        "tolerance",
    ];
    assert_eq!(names, expected);
}

// ---- grading ----

#[test]
fn number_scores_report_method_gold_and_normalised_forms() {
    let h = env(json!({}));
    let p = h.prepare(gsm8k(), 0).unwrap();
    let right = h.grade(&p, "So $24.00 in all.\n#### $24.00").unwrap();
    assert_eq!((right.reward, right.parse_status), (1.0, ParseStatus::Ok));
    assert_eq!(right.parsed_answer.as_deref(), Some("24.00"));
    for (key, value) in [("method", "hash_marker"), ("gold", "24"), ("normalized_answer", "24"), ("format", "number")] {
        assert_eq!(right.info[key], json!(value), "{key}");
    }
    let wrong = h.grade(&p, "The answer is 25.").unwrap();
    assert_eq!((wrong.reward, wrong.parse_status), (0.0, ParseStatus::Ok));
    assert_eq!(wrong.info["method"], "answer_phrase");
    let none = h.grade(&p, "No idea.").unwrap();
    assert_eq!((none.reward, none.parse_status, none.parsed_answer), (0.0, ParseStatus::NoAnswer, None));
    let bad = h.grade(&p, "\\boxed{x+1}").unwrap();
    assert_eq!((bad.reward, bad.parse_status), (0.0, ParseStatus::Malformed));
}

#[test]
fn latex_scores_use_equivalence() {
    let h = env(json!({}));
    let p = h.prepare(math_record(), 0).unwrap();
    let right = h.grade(&p, "Thus $\\boxed{\\dfrac{\\pi}2}$.").unwrap();
    assert_eq!((right.reward, right.parse_status), (1.0, ParseStatus::Ok));
    assert_eq!(right.info["normalized_answer"], "\\frac{\\pi}{2}");
    assert_eq!(right.info["normalized_gold"], "\\frac{\\pi}{2}");
    let wrong = h.grade(&p, "\\boxed{\\pi}").unwrap();
    assert_eq!((wrong.reward, wrong.parse_status), (0.0, ParseStatus::Ok));
    let unclosed = h.grade(&p, "\\boxed{\\frac{\\pi}{2}").unwrap();
    assert_eq!((unclosed.reward, unclosed.parse_status), (0.0, ParseStatus::Malformed));
}

#[test]
fn info_names_the_rule_and_the_comparison() {
    let h = env(json!({}));
    let grade = |answer: &str, reply: &str| {
        let p = h.prepare(json!({"problem": "p", "answer": answer}), 0).unwrap();
        h.grade(&p, reply).unwrap()
    };
    let cases = [
        ("\\frac{\\sqrt{3}}{3}", "So $\\boxed{\\frac{1}{\\sqrt3}}$.", "boxed", "exact", "expression"),
        ("(-\\infty, 2]", "Hence $y \\le 2$ is the solution.", "last_math", "text", "interval"),
        ("x^2-1", "\\boxed{(x-1)(x+1)}", "boxed", "random_points_exact", "expression"),
        ("\\{3, -5\\}", "$\\boxed{3}$ or $\\boxed{-5}$", "boxed_list", "text", "set"),
        ("\\frac{\\pi}{4}", "The answer is $\\arctan 1$.", "answer_phrase", "high_precision", "expression"),
    ];
    for (gold, reply, method, comparison, shape) in cases {
        let score = grade(gold, reply);
        assert_eq!((score.reward, score.parse_status), (1.0, ParseStatus::Ok), "{reply}: {:?}", score.info);
        assert_eq!(score.info["method"], method, "{reply}");
        assert_eq!(score.info["comparison"], comparison, "{reply}");
        assert_eq!(score.info["shape"], shape, "{reply}");
    }
    let identity = grade("x^2-1", "\\boxed{(x-1)(x+1)}");
    assert_eq!(identity.info["points"], 8);
    let fallback = |score: &assay_sdk::Score| score.metrics.iter().find(|(n, _)| n == "fallback").map(|(_, v)| *v);
    assert_eq!(fallback(&grade("2", "Hence $x = 2$.")), Some(1.0));
    assert_eq!(fallback(&grade("2", "\\boxed{2}")), Some(0.0));
    // A pathological answer is malformed, with the reason, not a hang.
    let costly = grade("3", "\\boxed{9^{9^{9^9}}}");
    assert_eq!((costly.reward, costly.parse_status), (0.0, ParseStatus::Malformed));
    assert_eq!(costly.info["reason"], "too costly to compare");
}

#[test]
fn tolerance_applies_to_non_integers() {
    let record = json!({"question": "q", "answer": "0.3333333"});
    let strict = env(json!({}));
    let loose = env(json!({"tolerance": 0.01}));
    for (h, reward) in [(&strict, 0.0), (&loose, 1.0)] {
        let p = h.prepare(record.clone(), 0).unwrap();
        assert_eq!(h.grade(&p, "#### 0.333").unwrap().reward, reward);
    }
    let p = loose.prepare(json!({"question": "q", "answer": "100"}), 0).unwrap();
    assert_eq!(loose.grade(&p, "#### 101").unwrap().reward, 0.0, "integers compare exactly");
}

// ---- references ----

#[test]
fn references() {
    let h = env(json!({}));
    let reference = |record: Value| h.reference(&h.prepare(record, 0).unwrap()).unwrap().unwrap();
    assert_eq!(reference(gsm8k()), gsm8k()["answer"].as_str().unwrap());
    assert_eq!(reference(math_record()), math_record()["solution"].as_str().unwrap());
    let wrong_solution = json!({"problem": "p", "answer": "\\frac{1}{2}", "solution": "So \\boxed{3}."});
    assert_eq!(reference(wrong_solution), "The answer is \\boxed{\\frac{1}{2}}.");
    assert_eq!(reference(json!({"question": "q", "answer": 7})), "#### 7");
    for record in [gsm8k(), math_record(), json!({"question": "q", "answer": "(-\\infty, 3]"})] {
        assert_eq!(h.oracle(record.clone(), 0).unwrap().reward, 1.0, "{record}");
    }
}
