//! The `qa` environment driven through `assay_sdk::testing::Harness`, the
//! JSON path the host uses: prompts, arguments, records, and grading of
//! replies shaped like what models write.

use assay_sdk::ParseStatus;
use assay_sdk::testing::{Harness, Prepared};
use qa::{Qa, State};
use serde_json::{Value, json};

fn env(args: Value) -> Harness<Qa> {
    Harness::new(args).expect("valid args")
}

fn pubmedqa() -> Harness<Qa> {
    env(
        json!({"context_field": "context.contexts", "answer_field": "final_decision", "labels": ["yes", "no", "maybe"]}),
    )
}

fn pubmedqa_record(gold: &str) -> Value {
    json!({
        "pubid": 1,
        "question": "Do statins reduce atrial fibrillation after surgery?",
        "context": {"contexts": ["Background text.", "Results text."], "labels": ["BACKGROUND", "RESULTS"]},
        "final_decision": gold,
    })
}

fn state(prepared: &Prepared) -> State {
    serde_json::from_str(&prepared.state).unwrap()
}

/// (reward, parse status, parsed answer) of `reply` for a PubMedQA record
/// whose gold is `gold`.
fn grade_pubmedqa(gold: &str, reply: &str) -> (f64, ParseStatus, Option<String>) {
    let env = pubmedqa();
    let prepared = env.prepare(pubmedqa_record(gold), 0).unwrap();
    let score = env.grade(&prepared, reply).unwrap();
    (score.reward, score.parse_status, score.parsed_answer)
}

// ---- prompts ----

#[test]
fn the_default_prompt_has_context_question_and_the_label_instruction() {
    let prepared = pubmedqa().prepare(pubmedqa_record("yes"), 0).unwrap();
    let text = prepared.text();
    assert!(text.starts_with("Context:\nBackground text.\n\nResults text.\n\nQuestion: Do statins"), "{text}");
    assert!(text.ends_with("\"Answer: X\", where X is yes, no or maybe."), "{text}");
    assert_eq!(prepared.prompt.messages.len(), 1);
}

#[test]
fn a_template_and_system_prompt_are_used_verbatim_with_braces_left_alone() {
    let args = json!({"labels": ["yes", "no"], "system_prompt": "Be brief.", "prompt_template": "Q: {question} {\"a\": 1} ({labels})"});
    let prepared = env(args).prepare(json!({"question": "Is \\frac{1}{2} < 1?", "answer": "yes"}), 0).unwrap();
    assert_eq!(prepared.prompt.messages[0].content, "Be brief.");
    assert_eq!(prepared.prompt.messages[1].content, "Q: Is \\frac{1}{2} < 1? {\"a\": 1} (yes or no)");
}

#[test]
fn options_as_an_object_a_list_or_label_and_text_lists_are_lettered_lines() {
    let record = |choices: Value, answer: &str| json!({"question": "Q?", "choices": choices, "answer": answer});
    let env = env(json!({"choices_field": "choices"}));
    let object = env.prepare(record(json!({"A": "x", "B": "y", "C": ""}), "B"), 0).unwrap();
    assert!(object.text().contains("Question: Q?\n\nA. x\nB. y\n\n"), "{}", object.text());
    assert_eq!(state(&object).labels, ["A", "B"], "the empty option C is dropped");
    let list = env.prepare(record(json!(["x", "y", "z"]), "c"), 0).unwrap();
    assert_eq!((state(&list).labels.len(), state(&list).gold.as_str()), (3, "C"));
    let arc = env.prepare(record(json!({"text": ["x", "y"], "label": ["1", "2"]}), "2"), 0).unwrap();
    assert!(arc.text().contains("1. x\n2. y"), "{}", arc.text());
    assert!(arc.text().contains("where X is 1 or 2."), "{}", arc.text());
}

// ---- arguments and records ----

#[test]
fn bad_arguments_are_rejected_naming_the_field() {
    let message = |args: Value| format!("{:?}", Harness::<Qa>::new(args).err().expect("rejected"));
    assert!(message(json!({"labels": []})).contains("labels"));
    assert!(message(json!({"labels": ["yes", "Yes"]})).contains("listed twice"));
    assert!(message(json!({"labels": ["yes or no"]})).contains("single word"));
    assert!(message(json!({"labels": ["a"], "choices_field": "c"})).contains("only one"));
    assert!(message(json!({"prompt_template": "no question"})).contains("{question}"));
    assert!(message(json!({"prompt_template": "{question} {choice}"})).contains("unknown placeholder `{choice}`"));
    assert!(message(json!({"prompt_template": "{question} {context}"})).contains("context_field"));
    assert!(message(json!({"labels_field": "x"})).contains("unknown field"));
}

#[test]
fn bad_records_are_rejected_naming_the_field() {
    let message = |record: Value| format!("{:?}", pubmedqa().prepare(record, 0).expect_err("rejected"));
    let mut record = pubmedqa_record("perhaps");
    assert!(message(record.clone()).contains("`final_decision`: `perhaps` is not one of yes, no, maybe"));
    record["final_decision"] = json!("yes");
    record["context"] = json!({"labels": []});
    assert!(message(record).contains("`context.contexts`: missing"));
}

// ---- PubMedQA: what models write ----

#[test]
fn answer_lines_in_their_usual_shapes_are_read() {
    let replies = [
        ("yes", "The trial shows a clear reduction in AF incidence.\n\nAnswer: yes"),
        ("no", "Looking at the results, the difference was not significant.\nAnswer: No."),
        ("maybe", "The evidence is mixed: one cohort improved, the other did not.\n\n**Final answer: maybe**"),
        ("yes", "Reasoning...\n\nFinal Answer: **Yes**"),
        ("no", "The answer is no, because the confidence interval crosses 1."),
        ("maybe", "<think>Could be yes. Could be no.</think>\nThe data are inconclusive.\n\nAnswer: Maybe"),
        ("yes", "### Answer\nyes"),
    ];
    for (gold, reply) in replies {
        assert_eq!(grade_pubmedqa(gold, reply), (1.0, ParseStatus::Ok, Some(gold.to_string())), "{reply}");
    }
}

#[test]
fn a_bold_label_or_a_label_alone_at_the_end_counts() {
    assert_eq!(grade_pubmedqa("no", "Considering both arms, my conclusion is **no**.").0, 1.0);
    assert_eq!(grade_pubmedqa("maybe", "The abstract does not settle it.\n\nMaybe.").0, 1.0);
    assert_eq!(grade_pubmedqa("yes", "Yes").0, 1.0);
    assert_eq!(grade_pubmedqa("yes", "\\boxed{yes}").0, 1.0);
}

#[test]
fn the_last_answer_wins_over_earlier_ones() {
    let reply = "At first glance the answer is yes. However, the subgroup analysis reverses it.\n\nAnswer: no";
    assert_eq!(grade_pubmedqa("no", reply), (1.0, ParseStatus::Ok, Some("no".into())));
    // Reasoning that mentions labels without an answer line does not count.
    assert_eq!(grade_pubmedqa("no", "Answer: no\n\nwait, I meant to say the answer is yes").0, 0.0);
}

#[test]
fn a_hedge_between_labels_is_malformed() {
    for reply in ["Answer: yes or maybe", "Final answer: **no/maybe**", "The answer is yes and no"] {
        let (reward, status, _) = grade_pubmedqa("yes", reply);
        assert_eq!((reward, status), (0.0, ParseStatus::Malformed), "{reply}");
    }
}

#[test]
fn text_after_the_answer_does_not_make_a_hedge() {
    let reply = "Answer: yes, although maybe a larger trial is needed.";
    assert_eq!(grade_pubmedqa("yes", reply), (1.0, ParseStatus::Ok, Some("yes".into())));
}

#[test]
fn replies_without_a_label_are_no_answer_and_wrong_labels_score_zero() {
    for reply in ["", "I cannot determine this from the abstract.", "The patients answered the survey."] {
        assert_eq!(grade_pubmedqa("yes", reply).1, ParseStatus::NoAnswer, "{reply}");
    }
    assert_eq!(grade_pubmedqa("yes", "Answer: no"), (0.0, ParseStatus::Ok, Some("no".into())));
}

// ---- option letters ----

#[test]
fn option_letters_are_read_and_the_article_a_is_not_option_a() {
    let env = env(json!({"choices_field": "options", "answer_field": "answer_idx"}));
    let record = json!({"question": "Best treatment?", "options": {"A": "Ampicillin", "B": "Ceftriaxone", "C": "Doxycycline", "D": "Nitrofurantoin"}, "answer_idx": "D"});
    let prepared = env.prepare(record, 0).unwrap();
    let grade = |reply: &str| {
        let score = env.grade(&prepared, reply).unwrap();
        (score.reward, score.parse_status)
    };
    assert_eq!(grade("Nitrofurantoin is safe in pregnancy.\n\nAnswer: D"), (1.0, ParseStatus::Ok));
    assert_eq!(grade("The answer is (D) Nitrofurantoin."), (1.0, ParseStatus::Ok));
    assert_eq!(grade("**D. Nitrofurantoin**"), (0.0, ParseStatus::NoAnswer), "bold holds more than a label");
    assert_eq!(grade("**D**"), (1.0, ParseStatus::Ok));
    assert_eq!(grade("Answer: I would choose D"), (1.0, ParseStatus::Ok));
    assert_eq!(grade("Answer: B or D"), (0.0, ParseStatus::Malformed));
    assert_eq!(grade("Answer: A"), (0.0, ParseStatus::Ok));
}

// ---- free short answers (BIG-Bench Hard) ----

fn grade_free(gold: &str, reply: &str) -> (f64, ParseStatus) {
    let env = env(json!({"question_field": "input", "answer_field": "target"}));
    let prepared = env.prepare(json!({"input": "Q", "target": gold}), 0).unwrap();
    let score = env.grade(&prepared, reply).unwrap();
    (score.reward, score.parse_status)
}

#[test]
fn free_answers_match_after_normalisation() {
    let cases = [
        ("(D)", "Let's think step by step. Ten days before 12/24/1937 is 12/14/1937. So the answer is (D)."),
        ("(D)", "So the answer is D."),
        ("(C)", "The answer is (C) The Princess Bride."),
        ("False", "not True is False, and False and True is False. So the answer is False."),
        ("invalid", "The conclusion does not follow.\n\n**Answer: invalid**"),
        ("] } ]", "We close in reverse order. So the answer is ] } ]."),
        ("123", "(-41) * (-3) = 123. So the answer is 123."),
        ("6", "Counting the fruits: 6.\n\n\\boxed{6}"),
        ("syndrome therefrom", "The answer is: syndrome  therefrom"),
        ("Yes", "Final answer: yes"),
    ];
    for (gold, reply) in cases {
        assert_eq!(grade_free(gold, reply), (1.0, ParseStatus::Ok), "{gold} / {reply}");
    }
}

#[test]
fn free_answers_that_differ_score_zero() {
    assert_eq!(grade_free("(D)", "So the answer is (B)."), (0.0, ParseStatus::Ok));
    assert_eq!(grade_free("False", "So the answer is True."), (0.0, ParseStatus::Ok));
    assert_eq!(grade_free("123", "So the answer is 12.3."), (0.0, ParseStatus::Ok));
    assert_eq!(grade_free("(A)", "So the answer is (A) or (B)."), (0.0, ParseStatus::Ok));
    assert_eq!(grade_free("(A)", ""), (0.0, ParseStatus::NoAnswer));
}

#[test]
fn the_reference_scores_full_reward_in_every_mode() {
    assert_eq!(pubmedqa().oracle(pubmedqa_record("maybe"), 0).unwrap().reward, 1.0);
    let free = env(json!({}));
    for gold in ["(A)", "] ) }", "1.5", "apple banana"] {
        assert_eq!(free.oracle(json!({"question": "Q", "answer": gold}), 0).unwrap().reward, 1.0, "{gold}");
    }
}
