//! `{{name}}`: multiple-choice questions with lettered options. Records look like
//! `{"id": "q1", "question": "...", "choices": ["...", "..."], "answer": 1}`, where
//! `answer` is the index of the correct choice (from 0).

use assay_sdk::{Description, Environment, Error, Prompt, Result, Rng, Score};
use serde::{Deserialize, Serialize};

const INSTRUCTION: &str = "End with the line \"Answer: X\", X being the letter of your choice.";

/// The environment: its settings, decoded from the job's `env_args` (unknown keys are errors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultipleChoice {
    #[serde(default)]
    shuffle: bool,
    system_prompt: Option<String>,
}

/// One dataset record. Other fields (such as `id`) are ignored.
#[derive(Deserialize)]
pub struct Record {
    question: String,
    choices: Vec<String>,
    answer: usize,
}

/// What grading needs, kept by the host between `prepare` and `grade`.
#[derive(Serialize, Deserialize)]
pub struct State {
    /// The correct letter as shown to the model, after any shuffle.
    gold: char,
    /// How many choices were shown: later letters are no answer.
    choices: usize,
}

impl Environment for MultipleChoice {
    type Args = Self;
    type Record = Record;
    type State = State;

    fn describe() -> Description {
        let shuffle = "Shuffle each record's choices (seeded per sample); the gold answer follows.";
        let system_prompt = "A system message sent before the question.";
        Description::new("Multiple choice with lettered options; reads the letter of the reply.")
            .arg("shuffle", "bool", Some("false"), shuffle)
            .arg("system_prompt", "string", Some("null"), system_prompt)
    }

    fn new(args: Self) -> Result<Self> {
        Ok(args)
    }

    /// The prompt for one record. The host seeds `rng` from the run seed, the record
    /// and the rollout, so a shuffle is the same whenever the sample is prepared again.
    fn prepare(&self, record: Record, rng: &mut Rng) -> Result<(Prompt, State)> {
        let n = record.choices.len();
        if !(2..=26).contains(&n) {
            return Err(Error::bad_record("field `choices`: 2 to 26 needed"));
        }
        if record.answer >= n {
            return Err(Error::bad_record("field `answer`: out of range"));
        }
        // `order[i]` is the index in `choices` of the option shown with letter i.
        let mut order: Vec<usize> = (0..n).collect();
        if self.shuffle {
            rng.shuffle(&mut order);
        }
        let (mut user, mut gold) = (format!("{}\n\n", record.question), 'A');
        for (i, &choice) in order.iter().enumerate() {
            user += &format!("{}. {}\n", letter(i), record.choices[choice]);
            if choice == record.answer {
                gold = letter(i); // the gold answer follows the shuffle
            }
        }
        user += &format!("\n{INSTRUCTION}");
        let mut prompt = Prompt::new();
        if let Some(system) = &self.system_prompt {
            prompt = prompt.system(system.as_str());
        }
        let state = State { gold, choices: n };
        Ok((prompt.user(user), state))
    }

    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        let score = match extract(completion, state.choices) {
            Some(answer) => Score::correct_if(answer == state.gold).answer(answer),
            None => Score::no_answer(),
        };
        Ok(score.info("gold", state.gold.to_string()))
    }

    /// A perfect reply, used by the `oracle` model and `assay plugin check`.
    fn reference(&self, state: &State) -> Option<String> {
        Some(format!("Answer: {}", state.gold))
    }
}

/// The letter of the option at `index` (0 is `A`).
fn letter(index: usize) -> char {
    char::from(b'A' + index as u8)
}

/// The letter a reply chooses, among the first `n` letters: the one after the last
/// "answer:" (any case), else the last "(X)", else a reply that is a lone letter ("C.").
pub fn extract(reply: &str, n: usize) -> Option<char> {
    let valid = |c: char| c.is_ascii_uppercase() && usize::from(c as u8 - b'A') < n;
    let lower = reply.to_ascii_lowercase(); // the same byte offsets as `reply`
    if let Some(at) = lower.rfind("answer:") {
        let mut rest = reply[at + 7..].trim_start_matches([' ', '*', '(']).chars();
        let (first, next) = (rest.next().unwrap_or(' '), rest.next().unwrap_or(' '));
        if valid(first) && !next.is_alphanumeric() {
            return Some(first);
        }
    }
    let in_parens = |w: &[u8]| w[0] == b'(' && valid(char::from(w[1])) && w[2] == b')';
    if let Some(w) = reply.as_bytes().windows(3).rev().find(|w| in_parens(w)) {
        return Some(char::from(w[1]));
    }
    let lone = reply.trim().trim_matches(['*', '.']);
    lone.chars().next().filter(|&c| lone.len() == 1 && valid(c))
}

assay_sdk::register_environment!(MultipleChoice);
