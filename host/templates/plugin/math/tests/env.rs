//! Native tests: `Harness` drives the environment through the same JSON
//! decoding and state round-trips as the host. Run them with `cargo test`.

use assay_sdk::ParseStatus;
use assay_sdk::testing::Harness;
use {{crate_name}}::NumericAnswer;
use serde_json::{Value, json};

/// The records of `data/sample.jsonl`.
fn sample() -> Vec<Value> {
    let lines = include_str!("../data/sample.jsonl").lines();
    lines
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn env() -> Harness<NumericAnswer> {
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
fn answers_are_compared_as_numbers() {
    let prepared = env().prepare(sample()[2].clone(), 0).unwrap(); // gold: "1,800"
    for (reply, reward) in [
        ("#### 1800", 1.0),
        ("The answer is $1,800.00.", 1.0),
        ("#### 1,080", 0.0),
    ] {
        let score = env().grade(&prepared, reply).unwrap();
        assert_eq!(
            (score.reward, score.parse_status),
            (reward, ParseStatus::Ok),
            "{reply:?}"
        );
    }
}

#[test]
fn replies_without_a_number_are_no_answer() {
    let prepared = env().prepare(sample()[0].clone(), 0).unwrap();
    for reply in ["", "   ", "I don't know."] {
        let score = env().grade(&prepared, reply).unwrap();
        assert_eq!(
            (score.reward, score.parse_status),
            (0.0, ParseStatus::NoAnswer),
            "{reply:?}"
        );
    }
}

#[test]
fn the_marker_wins_over_other_numbers() {
    assert_eq!(
        {{crate_name}}::extract("12 * 14 = 168, 168 - 9 = 159.\n#### 159").as_deref(),
        Some("159")
    );
    assert_eq!(
        {{crate_name}}::extract("So the answer is -7 degrees, 11 below 4.").as_deref(),
        Some("-7")
    );
    assert_eq!({{crate_name}}::extract("3 / 12 = 0.25").as_deref(), Some("0.25"));
}

#[test]
fn a_record_without_a_numeric_answer_is_rejected() {
    let error = env()
        .prepare(json!({"question": "Q?", "answer": "many"}), 0)
        .unwrap_err();
    assert!(error.to_string().contains("field `answer`"), "{error}");
}
