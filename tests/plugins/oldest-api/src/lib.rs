//! An exact-match environment built straight from the oldest WIT this host
//! supports, `plugin-sdk/wit/v0.1`, with raw `wit-bindgen` and no SDK.
//!
//! The SDK always builds against the newest WIT, so its plugins cannot
//! show that older ones still load; this one keeps doing so when a newer
//! `wit/<version>/` is added. When the oldest supported version changes,
//! point `path` at it.

wit_bindgen::generate!({
    path: "../../../plugin-sdk/wit/v0.1",
    world: "plugin",
});

use assay::env::types::{Action, EnvError, Event, Message, Metadata, ParseStatus, Prompt, Role, Score, Step};

struct Oldest;

/// A string field of the record, which the host sends as a flat JSON
/// object (`{"answer":"4","question":"2+2?"}`); no escapes in these tests.
fn field<'a>(record: &'a str, key: &str) -> Result<&'a str, EnvError> {
    let missing = || EnvError::BadRecord(format!("missing `{key}`"));
    let after_key = &record[record.find(&format!("\"{key}\"")).ok_or_else(missing)? + key.len() + 2..];
    let value = after_key.trim_start().strip_prefix(':').ok_or_else(missing)?.trim_start();
    let value = value.strip_prefix('"').ok_or_else(missing)?;
    Ok(&value[..value.find('"').ok_or_else(missing)?])
}

fn score(answer: &str, completion: &str) -> Score {
    let correct = completion.trim() == answer;
    Score {
        reward: if correct { 1.0 } else { 0.0 },
        parsed_answer: Some(completion.trim().to_string()),
        parse_status: ParseStatus::Ok,
        metrics: Vec::new(),
        info_json: "{}".into(),
    }
}

impl exports::assay::env::environment::Guest for Oldest {
    fn describe() -> Metadata {
        Metadata {
            name: "oldest-api".into(),
            version: "0.1.0".into(),
            description: "Exact match, built from wit/v0.1 without the SDK".into(),
            args: Vec::new(),
            capabilities: Vec::new(),
        }
    }

    fn configure(_args_json: String) -> Result<(), EnvError> {
        Ok(())
    }

    fn prepare(record_json: String, _seed: u64) -> Result<Step, EnvError> {
        let question = field(&record_json, "question")?;
        let answer = field(&record_json, "answer")?;
        let prompt = Prompt {
            messages: vec![Message { role: Role::User, content: question.to_string() }],
            max_tokens: None,
            stop: Vec::new(),
        };
        Ok(Step { action: Action::AskModel(prompt), state: answer.to_string() })
    }

    fn advance(state: String, event: Event) -> Result<Step, EnvError> {
        match event {
            Event::ModelReply(text) => Ok(Step { action: Action::Finish(score(&state, &text)), state }),
            Event::CodeOutput(_) => Err(EnvError::Internal("no code was requested".into())),
        }
    }

    fn grade(state: String, completion: String) -> Result<Score, EnvError> {
        Ok(score(&state, &completion))
    }

    fn reference(state: String) -> Option<String> {
        Some(state)
    }
}

// Exported only for wasm: natively (`cargo test --workspace`) there is no host to call it.
#[cfg(target_arch = "wasm32")]
export!(Oldest);
