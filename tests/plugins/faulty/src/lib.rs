//! A multiple-choice test environment with deliberate authoring bugs, the
//! kind `assay plugin check` exists to catch. The env arg `fault` picks one:
//!
//! - `none`: correct (a seeded shuffle with the `prepare` rng; the gold
//!   answer follows it);
//! - `bad-reference`: the reference names a wrong letter, so it does not
//!   score full reward;
//! - `unstable-shuffle`: the shuffle mixes in a counter that survives
//!   between calls, so the same seed gives a different order each time;
//! - `lossy-shuffle`: the options are shuffled but the gold index is the
//!   dataset's, so the reference letter names another option's text;
//! - `free-text`: any non-empty reply scores 1, garbage included.
//!
//! Records: `{"id", "question", "choices": [...], "answer": <index>}`.
//! Options are shown as lines `A. text`; the reference is `Answer: <letter>`
//! and grading reads the last `Answer: X`.

use assay_sdk::{Description, Environment, Error, Prompt, Result, Rng, Score};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// Which bug to have.
#[derive(Debug, Clone, Copy, PartialEq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Fault {
    #[default]
    None,
    BadReference,
    UnstableShuffle,
    LossyShuffle,
    FreeText,
}

/// `env_args`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Faulty {
    #[serde(default)]
    fault: Fault,
    #[serde(default = "shuffle_by_default")]
    shuffle: bool,
}

fn shuffle_by_default() -> bool {
    true
}

#[derive(Deserialize)]
struct Record {
    question: String,
    choices: Vec<String>,
    answer: usize,
}

#[derive(Serialize, Deserialize)]
struct State {
    /// The letter grading expects (and the reference gives, unless the
    /// fault is `bad-reference`).
    gold: char,
    /// How many options were shown.
    options: usize,
}

/// Calls to `prepare` in this instance: the `unstable-shuffle` bug.
static PREPARE_CALLS: AtomicU64 = AtomicU64::new(0);

impl Environment for Faulty {
    type Args = Self;
    type Record = Record;
    type State = State;

    fn describe() -> Description {
        Description::new("Multiple choice with a deliberate authoring bug, for testing `assay plugin check`.")
            .arg(
                "fault",
                "string",
                Some("\"none\""),
                "The bug: none, bad-reference, unstable-shuffle, lossy-shuffle or free-text.",
            )
            .arg("shuffle", "bool", Some("true"), "Shuffle the options with the sample's seed.")
    }

    fn new(args: Self) -> Result<Self> {
        Ok(args)
    }

    fn prepare(&self, record: Record, rng: &mut Rng) -> Result<(Prompt, State)> {
        let n = record.choices.len();
        if !(2..=26).contains(&n) {
            return Err(Error::bad_record(format!("field `choices`: needs 2 to 26 options, got {n}")));
        }
        if record.answer >= n {
            return Err(Error::bad_record(format!(
                "field `answer`: {} is out of range for {n} options",
                record.answer
            )));
        }
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            if self.fault == Fault::UnstableShuffle {
                // BUG: state outside the seed decides the order.
                let calls = PREPARE_CALLS.fetch_add(1, Ordering::Relaxed);
                Rng::new(rng.next_u64() ^ calls.wrapping_mul(0x9E37_79B9_7F4A_7C15)).shuffle(&mut order);
            } else {
                rng.shuffle(&mut order);
            }
        }
        let shown_gold = order.iter().position(|&i| i == record.answer).expect("a permutation holds every index");
        // BUG (lossy-shuffle): the dataset's index, not where the shuffle put it.
        let gold = if self.fault == Fault::LossyShuffle { record.answer } else { shown_gold };
        let options: Vec<String> =
            order.iter().enumerate().map(|(i, &c)| format!("{}. {}", letter(i), record.choices[c])).collect();
        let user = format!("{}\n\n{}\n\nFinish with the line \"Answer: X\".", record.question, options.join("\n"));
        Ok((Prompt::new().user(user), State { gold: letter(gold), options: n }))
    }

    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        let answer = extract(completion, state.options);
        if self.fault == Fault::FreeText && !completion.trim().is_empty() {
            // BUG: anything at all is accepted.
            let parsed = answer.map_or_else(|| completion.trim().to_string(), String::from);
            return Ok(Score::new(1.0).answer(parsed));
        }
        Ok(match answer {
            Some(letter) => Score::correct_if(letter == state.gold).answer(letter),
            None => Score::no_answer(),
        })
    }

    fn reference(&self, state: &State) -> Option<String> {
        let letter = if self.fault == Fault::BadReference {
            // BUG: the next letter, wrapping around.
            char::from(b'A' + ((state.gold as u8 - b'A' + 1) % state.options as u8))
        } else {
            state.gold
        };
        Some(format!("Answer: {letter}"))
    }
}

fn letter(index: usize) -> char {
    char::from(b'A' + index as u8)
}

/// The letter after the last "answer:" (any case), if it is one of the
/// first `n` letters.
fn extract(reply: &str, n: usize) -> Option<char> {
    let lower = reply.to_ascii_lowercase();
    let at = lower.rfind("answer:")?;
    let mut rest = reply[at + "answer:".len()..].trim_start_matches([' ', '*', '(']).chars();
    let first = rest.next()?;
    let ends = rest.next().is_none_or(|c| !c.is_ascii_alphanumeric());
    (first.is_ascii_uppercase() && usize::from(first as u8 - b'A') < n && ends).then_some(first)
}

assay_sdk::register_environment!(Faulty);

#[cfg(test)]
mod tests {
    use super::*;
    use assay_sdk::serde_json::{Value, json};
    use assay_sdk::testing::Harness;

    fn record() -> Value {
        json!({"id": "q1", "question": "Which?", "choices": ["w", "x", "y", "z"], "answer": 2})
    }

    fn env(fault: &str) -> Harness<Faulty> {
        Harness::new(json!({"fault": fault})).unwrap()
    }

    /// The text of the option the reference answers with.
    fn referenced_text(env: &Harness<Faulty>, seed: u64) -> String {
        let prepared = env.prepare(record(), seed).unwrap();
        let reference = env.reference(&prepared).unwrap().unwrap();
        let prefix = format!("{}. ", reference.strip_prefix("Answer: ").unwrap());
        let line = prepared.text().lines().find_map(|l| l.strip_prefix(&prefix).map(String::from));
        line.unwrap()
    }

    #[test]
    fn without_a_fault_the_environment_is_correct() {
        let env = env("none");
        for seed in 0..20 {
            assert_eq!(env.oracle(record(), seed).unwrap().reward, 1.0);
            assert_eq!(referenced_text(&env, seed), "y");
            let prepared = env.prepare(record(), seed).unwrap();
            assert_eq!(prepared.text(), env.prepare(record(), seed).unwrap().text());
            for reply in ["", "zzzz qqqq"] {
                assert_eq!(env.grade(&prepared, reply).unwrap().reward, 0.0);
            }
        }
        let prompts: std::collections::BTreeSet<String> =
            (0..5).map(|seed| env.prepare(record(), seed).unwrap().text()).collect();
        assert!(prompts.len() > 1, "seeds shuffle the options");
    }

    #[test]
    fn each_fault_breaks_what_it_says() {
        assert_eq!(env("bad-reference").oracle(record(), 3).unwrap().reward, 0.0);

        let unstable = env("unstable-shuffle");
        let prompts: std::collections::BTreeSet<String> =
            (0..5).map(|_| unstable.prepare(record(), 3).unwrap().text()).collect();
        assert!(prompts.len() > 1, "the same seed gives different prompts");

        let lossy = env("lossy-shuffle");
        assert_eq!(lossy.oracle(record(), 3).unwrap().reward, 1.0);
        assert!((0..10).any(|seed| referenced_text(&lossy, seed) != "y"), "the gold label is lost");

        let free = env("free-text");
        let prepared = free.prepare(record(), 3).unwrap();
        assert_eq!(free.grade(&prepared, "zzzz qqqq").unwrap().reward, 1.0);
        assert_eq!(free.grade(&prepared, "").unwrap().reward, 0.0);
    }

    #[test]
    fn unknown_faults_are_rejected() {
        assert!(Harness::<Faulty>::new(json!({"fault": "typo"})).is_err());
        let unshuffled = Harness::<Faulty>::new(json!({"shuffle": false})).unwrap();
        assert!(unshuffled.prepare(record(), 1).unwrap().text().contains("A. w\nB. x\nC. y\nD. z"));
    }
}
