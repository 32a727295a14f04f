//! One sample: `prepare` → (ask the model → `advance`)* → `finish`.
//!
//! Every failure (model, plugin, sandbox limit) ends the sample with a
//! recorded error; nothing here can fail the job or the run.

use crate::dataset::Dataset;
use crate::execution::CodeExecutor;
use crate::models::replay::ReplayBook;
use crate::models::{ChatClient, ChatMessage, ChatRequest};
use crate::runtime::{Action, CallContext, CallError, CodeRequest, CodeResult, EnvironmentPool, Event, Prompt, Score};
use crate::store::{self, CodeRun, SampleError, SampleResult, StoredMessage, Tokens};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// Who answers `ask-model` actions.
#[derive(Clone)]
pub(super) enum Model {
    /// The built-in offline model: answers with the environment's reference.
    Oracle,
    /// An OpenAI-compatible endpoint.
    Chat(ChatClient),
    /// Completions generated elsewhere, by example id and rollout.
    Replay(Arc<ReplayBook>),
}

/// Which sample to run and with what settings.
pub(super) struct SampleSpec {
    pub dataset: Arc<Dataset>,
    pub record_index: usize,
    pub rollout: u32,
    /// The run's seed; the sample seed is derived from it.
    pub seed: u64,
    pub max_turns: u32,
    pub sampling_args: Map<String, Value>,
    /// Runs `run-code` actions; `None` when the env grants no language.
    pub code: Option<Arc<CodeExecutor>>,
}

/// Why an episode ended without a score.
pub(super) struct EpisodeFailure {
    kind: String,
    message: String,
}

impl From<CallError> for EpisodeFailure {
    fn from(error: CallError) -> Self {
        let kind = serde_json::to_value(error.kind).ok().and_then(|v| v.as_str().map(String::from));
        EpisodeFailure { kind: kind.unwrap_or_else(|| "plugin".into()), message: error.message }
    }
}

/// The seed of one sample: derived from the run seed, the example id and the
/// rollout only (never from scheduling), so shuffles and any plugin
/// randomness are identical across models, runs and resumes.
pub fn sample_seed(run_seed: u64, example_id: &str, rollout: u32) -> u64 {
    let digest = Sha256::digest(format!("{run_seed}:{example_id}:{rollout}").as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// Run one sample to its result line.
pub(super) async fn run(spec: &SampleSpec, pool: &EnvironmentPool, model: &Model) -> SampleResult {
    let record = &spec.dataset.records[spec.record_index];
    let seed = sample_seed(spec.seed, &record.id, spec.rollout);
    let mut episode = Episode::default();
    let ctx = CallContext { record: &record.id, seed };
    let outcome = episode.play(spec, ctx, &record.json, pool, model).await;
    let mut result = SampleResult {
        example_id: record.id.clone(),
        example_index: record.index,
        rollout: spec.rollout,
        seed,
        prompt: episode.prompt,
        completion: episode.completion,
        reasoning: episode.reasoning,
        reward: None,
        parsed_answer: None,
        parse_status: None,
        metrics: Default::default(),
        info: Value::Null,
        transcript: episode.transcript,
        code_runs: episode.code_runs,
        turns: episode.turns,
        tokens: episode.tokens,
        latency_ms: episode.latency_ms,
        error: None,
        finished_at: store::now_rfc3339(),
    };
    match outcome {
        Ok(score) => apply_score(&mut result, score),
        Err(failure) => result.error = Some(SampleError { kind: failure.kind, message: failure.message }),
    }
    result
}

fn apply_score(result: &mut SampleResult, score: Score) {
    result.reward = Some(score.reward);
    result.parsed_answer = score.parsed_answer;
    result.parse_status = Some(score.parse_status.as_str().to_string());
    result.metrics = score.metrics.into_iter().map(|m| (m.name, m.value)).collect();
    result.info = serde_json::from_str(&score.info_json).unwrap_or(Value::String(score.info_json));
}

/// What an episode has produced so far.
#[derive(Default)]
struct Episode {
    prompt: Vec<StoredMessage>,
    completion: Option<String>,
    reasoning: Option<String>,
    transcript: Vec<StoredMessage>,
    code_runs: Vec<CodeRun>,
    turns: u32,
    tokens: Tokens,
    latency_ms: u64,
}

impl Episode {
    async fn play(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
        record_json: &str,
        pool: &EnvironmentPool,
        model: &Model,
    ) -> Result<Score, EpisodeFailure> {
        let mut step = pool.prepare(ctx, record_json).await?;
        loop {
            match step.action {
                Action::Finish(score) => return Ok(score),
                Action::AskModel(prompt) => {
                    if self.turns >= spec.max_turns {
                        return Err(failure(
                            "episode",
                            format!("record {}: exceeded max_turns ({})", ctx.record, spec.max_turns),
                        ));
                    }
                    let reply = self.ask(model, pool, ctx, spec, &prompt, &step.state).await?;
                    step = pool.advance(ctx, &step.state, &Event::ModelReply(reply)).await?;
                }
                Action::RunCode(request) => {
                    let output = self.run_code(spec, ctx, &request).await?;
                    step = pool.advance(ctx, &step.state, &Event::CodeOutput(output)).await?;
                }
            }
        }
    }

    /// Run a program for the plugin and record it. Programs count against
    /// `max_turns` too, so a plugin cannot loop on them forever.
    async fn run_code(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
        request: &CodeRequest,
    ) -> Result<CodeResult, EpisodeFailure> {
        let Some(executor) = &spec.code else {
            return Err(failure(
                "code-execution",
                format!(
                    "record {}: the plugin asked to run `{}` code, but the env grants no `run-code:<language>` capability",
                    ctx.record, request.language
                ),
            ));
        };
        if self.code_runs.len() >= spec.max_turns as usize {
            return Err(failure(
                "episode",
                format!("record {}: exceeded max_turns ({}) programs", ctx.record, spec.max_turns),
            ));
        }
        let run = executor
            .run(request)
            .await
            .map_err(|e| failure("code-execution", format!("record {}: {e}", ctx.record)))?;
        let result = CodeResult::from(&run);
        self.code_runs.push(run);
        Ok(result)
    }

    /// Ask the model (endpoint, oracle or replay) and record the exchange.
    async fn ask(
        &mut self,
        model: &Model,
        pool: &EnvironmentPool,
        ctx: CallContext<'_>,
        spec: &SampleSpec,
        prompt: &Prompt,
        state: &str,
    ) -> Result<String, EpisodeFailure> {
        let messages: Vec<StoredMessage> = prompt
            .messages
            .iter()
            .map(|m| StoredMessage { role: m.role.as_str().into(), content: m.content.clone() })
            .collect();
        self.turns += 1;
        if self.turns == 1 {
            self.prompt = messages.clone();
        }
        let reply = match model {
            Model::Oracle => pool.reference(ctx, state).await?.ok_or_else(|| {
                failure(
                    "oracle",
                    format!("record {}: the environment gave no reference completion for the oracle", ctx.record),
                )
            })?,
            Model::Chat(client) => self.ask_endpoint(client, messages.clone(), prompt, &spec.sampling_args).await?,
            // Completions made elsewhere answer the first turn only.
            Model::Replay(_) if self.turns > 1 => {
                return Err(failure(
                    "replay",
                    format!("record {}: a replayed completion answers one turn", ctx.record),
                ));
            }
            Model::Replay(book) => book
                .completion(ctx.record, spec.rollout)
                .map_err(|e| failure("replay", format!("record {}: {e}", ctx.record)))?
                .to_string(),
        };
        if self.turns > 1 {
            // Each request carries the whole conversation, so the last one
            // plus the reply is the full transcript.
            self.transcript = messages;
            self.transcript.push(StoredMessage { role: "assistant".into(), content: reply.clone() });
        }
        self.completion = Some(reply.clone());
        Ok(reply)
    }

    async fn ask_endpoint(
        &mut self,
        client: &ChatClient,
        messages: Vec<StoredMessage>,
        prompt: &Prompt,
        sampling_args: &Map<String, Value>,
    ) -> Result<String, EpisodeFailure> {
        let request = ChatRequest {
            messages: messages.into_iter().map(|m| ChatMessage { role: m.role, content: m.content }).collect(),
            max_tokens: prompt.max_tokens,
            stop: prompt.stop.clone(),
            sampling_args: sampling_args.clone(),
        };
        let reply = client.chat(&request).await.map_err(|e| failure("model", e.to_string()))?;
        self.tokens.prompt += reply.usage.prompt_tokens.unwrap_or(0);
        self.tokens.completion += reply.usage.completion_tokens.unwrap_or(0);
        self.tokens.reasoning += reply.usage.reasoning_tokens.unwrap_or(0);
        self.latency_ms += reply.latency_ms;
        self.reasoning = reply.reasoning;
        Ok(reply.content)
    }
}

fn failure(kind: &str, message: String) -> EpisodeFailure {
    EpisodeFailure { kind: kind.into(), message }
}

#[cfg(test)]
mod tests {
    use super::sample_seed;

    #[test]
    fn sample_seed_depends_on_inputs_only() {
        assert_eq!(sample_seed(0, "q1", 0), sample_seed(0, "q1", 0));
        assert_ne!(sample_seed(0, "q1", 0), sample_seed(0, "q1", 1));
        assert_ne!(sample_seed(0, "q1", 0), sample_seed(1, "q1", 0));
        assert_ne!(sample_seed(0, "q1", 0), sample_seed(0, "q2", 0));
    }
}
