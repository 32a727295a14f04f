//! Glue between the typed [`Environment`] trait and the WIT exports.
//!
//! The `*_json` functions hold the whole JSON path (decode, call, encode) and
//! are shared by the wasm exports and the native [`crate::testing::Harness`],
//! so a native test exercises exactly what the host will call.

use crate::__private::assay::env::types as wit;
use crate::__private::exports::assay::env::environment::Guest;
use crate::{Action, Environment, Error, Event, Result, Rng, Score, Step};
use serde::de::DeserializeOwned;
use std::any::Any;
use std::cell::RefCell;

/// Implemented by [`crate::register_environment!`]: which environment the
/// plugin exports, with the crate's name and version.
pub trait Registered {
    /// The registered environment.
    type Env: Environment;
    /// The plugin crate's name.
    const NAME: &'static str;
    /// The plugin crate's version.
    const VERSION: &'static str;
}

/// Decode JSON into `T`, naming the failing field in the message. The JSON
/// was written by the host on one line, so serde's ` at line 1 column N`
/// would only be noise for the user and is dropped.
pub(crate) fn decode<T: DeserializeOwned>(json: &str) -> std::result::Result<T, String> {
    let mut deserializer = serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let text = inner.to_string();
        let position = format!(" at line {} column {}", inner.line(), inner.column());
        let message = text.strip_suffix(&position).unwrap_or(&text);
        if path == "." { message.to_string() } else { format!("field `{path}`: {message}") }
    })
}

pub(crate) fn configure_json<E: Environment>(args_json: &str) -> Result<E> {
    let json = if args_json.trim().is_empty() { "{}" } else { args_json };
    let args = decode::<E::Args>(json).map_err(Error::BadArgs)?;
    E::new(args)
}

fn decode_state<E: Environment>(state_json: &str) -> Result<E::State> {
    decode(state_json).map_err(|e| Error::internal(format!("cannot decode state: {e}")))
}

fn encode_state<E: Environment>(state: &E::State) -> Result<String> {
    serde_json::to_string(state).map_err(|e| Error::internal(format!("cannot encode state: {e}")))
}

pub(crate) fn prepare_json<E: Environment>(env: &E, sample: &wit::Sample) -> Result<Step<String>> {
    let record = decode::<E::Record>(&sample.record_json).map_err(Error::BadRecord)?;
    let exemplars = sample.fewshot.iter().enumerate().map(|(i, json)| {
        decode::<E::Record>(json).map_err(|e| Error::BadRecord(format!("few-shot exemplar {i}: {e}")))
    });
    let exemplars = exemplars.collect::<Result<Vec<_>>>()?;
    let step = env.begin(record, exemplars, sample.fewshot_as_multiturn, &mut Rng::new(sample.seed))?;
    Ok(Step { action: step.action, state: encode_state::<E>(&step.state)? })
}

pub(crate) fn advance_json<E: Environment>(env: &E, state_json: &str, event: Event) -> Result<Step<String>> {
    let step = env.advance(decode_state::<E>(state_json)?, event)?;
    Ok(Step { action: step.action, state: encode_state::<E>(&step.state)? })
}

pub(crate) fn grade_json<E: Environment>(env: &E, state_json: &str, completion: &str) -> Result<Score> {
    env.grade(&decode_state::<E>(state_json)?, completion)
}

pub(crate) fn reference_json<E: Environment>(env: &E, state_json: &str) -> Result<Option<String>> {
    Ok(env.reference(&decode_state::<E>(state_json)?))
}

thread_local! {
    /// The configured environment of this instance (a plugin is single-threaded).
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

fn with_env<E: Environment, T>(call: impl FnOnce(&E) -> Result<T>) -> Result<T> {
    INSTANCE.with(|cell| {
        let guard = cell.borrow();
        let env = guard
            .as_ref()
            .and_then(|any| any.downcast_ref::<E>())
            .ok_or_else(|| Error::internal("called before `configure`"))?;
        call(env)
    })
}

impl From<Error> for wit::EnvError {
    fn from(error: Error) -> Self {
        match error {
            Error::BadArgs(m) => wit::EnvError::BadArgs(m),
            Error::BadRecord(m) => wit::EnvError::BadRecord(m),
            Error::Internal(m) => wit::EnvError::Internal(m),
        }
    }
}

impl From<Score> for wit::Score {
    fn from(score: Score) -> Self {
        wit::Score {
            reward: score.reward,
            parsed_answer: score.parsed_answer,
            parse_status: score.parse_status,
            metrics: score.metrics.into_iter().map(|(name, value)| wit::Metric { name, value }).collect(),
            info_json: serde_json::Value::Object(score.info).to_string(),
        }
    }
}

impl From<Step<String>> for wit::Step {
    fn from(step: Step<String>) -> Self {
        let action = match step.action {
            Action::AskModel(prompt) => wit::Action::AskModel(prompt),
            Action::RunCode(request) => wit::Action::RunCode(request),
            Action::AskJudge(request) => wit::Action::AskJudge(request),
            Action::ScoreContinuations(request) => wit::Action::ScoreContinuations(request),
            Action::Workspace(request) => wit::Action::Workspace(request),
            Action::Finish(score) => wit::Action::Finish(score.into()),
        };
        wit::Step { action, state: step.state }
    }
}

impl<R: Registered> Guest for R {
    fn describe() -> wit::Metadata {
        let description = R::Env::describe();
        wit::Metadata {
            name: R::NAME.to_string(),
            version: R::VERSION.to_string(),
            description: description.text,
            args: description
                .args
                .into_iter()
                .map(|a| wit::ArgDoc {
                    name: a.name,
                    type_name: a.type_name,
                    default_json: a.default_json,
                    description: a.description,
                })
                .collect(),
            capabilities: description.capabilities,
            default_dataset: description.default_dataset,
        }
    }

    fn configure(args_json: String) -> std::result::Result<(), wit::EnvError> {
        let env = configure_json::<R::Env>(&args_json)?;
        INSTANCE.with(|cell| *cell.borrow_mut() = Some(Box::new(env)));
        Ok(())
    }

    fn prepare(sample: wit::Sample) -> std::result::Result<wit::Step, wit::EnvError> {
        Ok(with_env(|env: &R::Env| prepare_json(env, &sample))?.into())
    }

    fn advance(state: String, event: wit::Event) -> std::result::Result<wit::Step, wit::EnvError> {
        let event = match event {
            wit::Event::ModelReply(reply) => Event::ModelReply(reply),
            wit::Event::CodeOutput(result) => Event::CodeOutput(result),
            wit::Event::JudgeReply(reply) => Event::JudgeReply(reply),
            wit::Event::ContinuationScores(scores) => Event::ContinuationScores(scores),
            wit::Event::WorkspaceOutput(result) => Event::WorkspaceOutput(result),
        };
        Ok(with_env(|env: &R::Env| advance_json(env, &state, event))?.into())
    }

    fn grade(state: String, completion: String) -> std::result::Result<wit::Score, wit::EnvError> {
        Ok(with_env(|env: &R::Env| grade_json(env, &state, &completion))?.into())
    }

    fn reference(state: String) -> Option<String> {
        match with_env(|env: &R::Env| reference_json(env, &state)) {
            Ok(reference) => reference,
            Err(error) => {
                crate::log::error(&format!("reference: {error}"));
                None
            }
        }
    }
}
