//! Native tests: `Harness` drives the environment through the same JSON
//! decoding and state round-trips as the host. Run them with `cargo test`.

use assay_sdk::ParseStatus;
use assay_sdk::testing::Harness;
use {{crate_name}}::MultipleChoice;
use serde_json::{Value, json};

/// The records of `data/sample.jsonl`.
fn sample() -> Vec<Value> {
    let lines = include_str!("../data/sample.jsonl").lines();
    lines
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn env(shuffle: bool) -> Harness<MultipleChoice> {
    Harness::new(json!({"shuffle": shuffle})).unwrap()
}

#[test]
fn the_reference_scores_full_reward_on_every_sample_record() {
    for record in sample() {
        for (shuffle, seed) in [(false, 0), (true, 1), (true, 2), (true, 3)] {
            let score = env(shuffle).oracle(record.clone(), seed).unwrap();
            assert_eq!(score.reward, 1.0, "seed {seed}: {record}");
        }
    }
}

#[test]
fn wrong_letters_score_zero_and_empty_replies_are_no_answer() {
    let prepared = env(false).prepare(sample()[0].clone(), 0).unwrap(); // gold: B
    for reply in ["Answer: C", "I'd say (A).", "D"] {
        let score = env(false).grade(&prepared, reply).unwrap();
        assert_eq!(
            (score.reward, score.parse_status),
            (0.0, ParseStatus::Ok),
            "{reply:?}"
        );
    }
    for reply in ["", "  \n", "Answer: E", "I cannot tell."] {
        let score = env(false).grade(&prepared, reply).unwrap();
        assert_eq!(score.parse_status, ParseStatus::NoAnswer, "{reply:?}");
    }
}

#[test]
fn letters_are_read_from_common_reply_formats() {
    for reply in [
        "**Answer:** B",
        "answer: (B)",
        "First (A)... no: (B)",
        "B.",
        "Answer: A, or rather Answer: B",
    ] {
        assert_eq!({{crate_name}}::extract(reply, 4), Some('B'), "{reply:?}");
    }
}

#[test]
fn the_same_seed_gives_the_same_prompt() {
    let record = sample()[3].clone();
    let prompt = |seed| env(true).prepare(record.clone(), seed).unwrap().text();
    assert_eq!(prompt(7), prompt(7));
    assert!(
        (0..10).any(|seed| prompt(seed) != prompt(7)),
        "seeds change the order"
    );
}

#[test]
fn after_a_shuffle_the_reference_letter_points_at_the_gold_text() {
    for record in sample() {
        let gold_text = record["choices"][record["answer"].as_u64().unwrap() as usize]
            .as_str()
            .unwrap();
        for seed in 0..10 {
            let prepared = env(true).prepare(record.clone(), seed).unwrap();
            let reference = env(true).reference(&prepared).unwrap().unwrap(); // "Answer: X"
            let letter = reference.strip_prefix("Answer: ").unwrap();
            let line = format!("\n{letter}. {gold_text}\n");
            assert!(
                prepared.text().contains(&line),
                "seed {seed}: {line:?} in {}",
                prepared.text()
            );
        }
    }
}
