//! `{{name}}`: yes/no/maybe question answering, in the style of PubMedQA. Records look like
//! `{"id": "q1", "question": "...", "context": "...", "answer": "yes"}` (`context` is optional).

use assay_sdk::{Description, Environment, Error, Prompt, Result, Rng, Score};
use serde::Deserialize;

const ANSWERS: [&str; 3] = ["yes", "no", "maybe"];
const INSTRUCTION: &str = "Finish with \"Answer: yes\", \"Answer: no\" or \"Answer: maybe\".";

/// The environment: its settings, decoded from the job's `env_args` (unknown keys are errors).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YesNoQa {
    system_prompt: Option<String>,
}

/// One dataset record. Other fields (such as `id`) are ignored.
#[derive(Deserialize)]
pub struct Record {
    question: String,
    context: Option<String>,
    answer: String,
}

impl Environment for YesNoQa {
    type Args = Self;
    type Record = Record;
    /// What grading a record needs, kept by the host between calls: the gold answer.
    type State = String;

    fn describe() -> Description {
        let system_prompt = "A system message sent before the question.";
        let description = Description::new("Yes/no/maybe question answering.");
        description.arg("system_prompt", "string", Some("null"), system_prompt)
    }

    fn new(args: Self) -> Result<Self> {
        Ok(args)
    }

    /// The prompt for one record (`rng` is unused: nothing here is random).
    fn prepare(&self, record: Record, _rng: &mut Rng) -> Result<(Prompt, String)> {
        if !ANSWERS.contains(&record.answer.as_str()) {
            return Err(Error::bad_record("field `answer`: not yes, no or maybe"));
        }
        let context = record.context.map(|c| c + "\n\n").unwrap_or_default();
        let user = format!("{context}Question: {}\n\n{INSTRUCTION}", record.question);
        let mut prompt = Prompt::new();
        if let Some(system) = &self.system_prompt {
            prompt = prompt.system(system.as_str());
        }
        Ok((prompt.user(user), record.answer))
    }

    fn grade(&self, gold: &String, completion: &str) -> Result<Score> {
        Ok(match extract(completion) {
            Some(answer) => Score::correct_if(answer == gold).answer(answer),
            None => Score::no_answer(), // parse status `no-answer`, reward 0
        })
    }

    /// A perfect reply, used by the `oracle` model and `assay plugin check`.
    fn reference(&self, gold: &String) -> Option<String> {
        Some(format!("Answer: {gold}"))
    }
}

/// The word after the last "answer:" (any case), else a reply that is one answer alone.
pub fn extract(reply: &str) -> Option<&'static str> {
    let lower = reply.to_lowercase();
    let not_letter = |c: char| !c.is_alphabetic();
    let word = match lower.rfind("answer:") {
        Some(at) => lower[at + 7..].split(not_letter).find(|w| !w.is_empty())?,
        None => lower.trim_matches(not_letter),
    };
    ANSWERS.into_iter().find(|answer| *answer == word)
}

assay_sdk::register_environment!(YesNoQa);
