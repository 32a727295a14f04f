//! Native tests: `Harness` drives the environment through the same JSON
//! decoding and state round-trips as the host. Run them with `cargo test`.

use assay_sdk::ParseStatus;
use assay_sdk::testing::Harness;
use {{crate_name}}::YesNoQa;
use serde_json::{Value, json};

/// The records of `data/sample.jsonl`.
fn sample() -> Vec<Value> {
    let lines = include_str!("../data/sample.jsonl").lines();
    lines
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn env() -> Harness<YesNoQa> {
    Harness::new(json!({})).unwrap()
}

#[test]
fn the_reference_scores_full_reward_on_every_sample_record() {
    for record in sample() {
        let score = env().oracle(record.clone(), 0).unwrap();
        assert_eq!(score.reward, 1.0, "{record}");
    }
}

#[test]
fn a_wrong_answer_scores_zero() {
    let prepared = env().prepare(sample()[0].clone(), 0).unwrap(); // gold: no
    let score = env()
        .grade(&prepared, "The trial says otherwise.\nAnswer: yes")
        .unwrap();
    assert_eq!(score.reward, 0.0);
    assert_eq!(score.parse_status, ParseStatus::Ok);
    assert_eq!(score.parsed_answer.as_deref(), Some("yes"));
}

#[test]
fn replies_without_an_answer_are_no_answer() {
    let prepared = env().prepare(sample()[0].clone(), 0).unwrap();
    for reply in ["", "   ", "I am not sure.", "Answer: probably not"] {
        let score = env().grade(&prepared, reply).unwrap();
        assert_eq!(score.parse_status, ParseStatus::NoAnswer, "{reply:?}");
        assert_eq!(score.reward, 0.0);
    }
}

#[test]
fn the_last_answer_wins_and_a_bare_word_counts() {
    let reply = "Answer: yes... on reflection, **Answer: No**.";
    assert_eq!({{crate_name}}::extract(reply), Some("no"));
    assert_eq!({{crate_name}}::extract("Maybe."), Some("maybe"));
    assert_eq!({{crate_name}}::extract("yes and no"), None);
}

#[test]
fn the_prompt_has_the_system_prompt_context_and_question() {
    let args = json!({"system_prompt": "You are a careful clinician."});
    let prepared = Harness::<YesNoQa>::new(args)
        .unwrap()
        .prepare(sample()[0].clone(), 0)
        .unwrap();
    let text = prepared.text();
    assert!(
        text.starts_with("You are a careful clinician.\nIn a randomized trial"),
        "{text}"
    );
    assert!(text.contains("Question: Does daily aspirin"), "{text}");
    assert!(text.ends_with("\"Answer: maybe\"."), "{text}");
}

#[test]
fn bad_records_and_args_are_rejected() {
    let record = json!({"question": "Q?", "answer": "perhaps"});
    let error = env().prepare(record, 0).unwrap_err();
    assert!(error.to_string().contains("field `answer`"), "{error}");
    assert!(Harness::<YesNoQa>::new(json!({"sytem_prompt": "typo"})).is_err());
}
