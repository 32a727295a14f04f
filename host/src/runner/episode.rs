//! One sample: `prepare` → (ask the model → `advance`)* → `finish`.
//!
//! Every failure (model, plugin, sandbox limit) ends the sample with a
//! recorded error; nothing here can fail the job or the run.
//!
//! Tool calls and the token budget live in [`tools`]; workspaces and a
//! sample's artifacts in [`workspace`].

mod tools;
mod workspace;

use super::fewshot::Fewshot;
use crate::dataset::{Dataset, Record};
use crate::execution::{CodeExecutor, CodeRun, WorkspaceRunner};
use crate::models::{ChatReply, Message, Model, ModelError, Price, ReplyError, Role, Turn};
use crate::runtime::{
    Action, CallContext, CallError, CallErrorKind, CodeRequest, CodeResult, ContinuationRequest, EnvironmentPool,
    Event, JudgeRequest, ModelReply, Prompt, Sample, Score, Step,
};
use crate::store::{
    self, ErrorKind, JobLayout, JudgeCall, ParseStatus, SampleError, SampleResult, ScoredContinuation, Tokens,
};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::sync::Arc;

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
    /// The record's group (the env's `group_by` field), if any.
    pub group: Option<String>,
    /// Chooses the record's few-shot exemplars, when the env has them.
    pub fewshot: Option<Arc<Fewshot>>,
    /// Whether the env grants the `loglikelihood` capability.
    pub loglikelihood: bool,
    /// The judge of `ask-judge` actions, when the env grants `judge`.
    pub judge: Option<Arc<Judge>>,
    /// Whether the env grants `tools` (the plugin may offer the model tools).
    pub tools_granted: bool,
    /// Makes the sample's workspace; `None` when the env does not grant `workspace`.
    pub workspace: Option<Arc<WorkspaceRunner>>,
    /// Keep the workspace after the sample (`--keep-workspaces`).
    pub keep_workspace: bool,
    /// Set for every program and workspace command (the job's `environment_variables`).
    pub environment_variables: Arc<[(String, String)]>,
    /// Tokens the sample may spend before the model is no longer asked.
    pub token_budget: Option<u64>,
    /// What the sample's tokens cost.
    pub prices: Prices,
    /// The job's files: where the sample's artifacts (and kept workspace) go.
    pub files: JobLayout,
    /// `assay rescore`: the sample as recorded when its model call failed;
    /// it stays that error.
    pub recorded_failure: Option<SampleResult>,
}

/// The prices of a sample's model and judge.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Prices {
    /// The model under test's.
    pub model: Option<Price>,
    /// The judge model's.
    pub judge: Option<Price>,
}

impl Prices {
    /// A sample's cost in US dollars: its tokens at the model's price and
    /// its judge calls' at the judge's; `None` when neither is priced.
    fn cost(&self, result: &SampleResult) -> Option<f64> {
        if self.model.is_none() && self.judge.is_none() {
            return None;
        }
        let model = self.model.map_or(0.0, |p| p.cost(result.tokens.prompt, result.tokens.completion));
        let judge: f64 = match self.judge {
            Some(price) => result.judge_calls.iter().map(|c| price.cost(c.tokens.prompt, c.tokens.completion)).sum(),
            None => 0.0,
        };
        Some(model + judge)
    }
}

/// A job's judge: the model asked and the sampling args sent.
pub(crate) struct Judge {
    pub(crate) model: Model,
    /// Its name at the endpoint, for the job's identity.
    pub(crate) name: String,
    pub(crate) sampling_args: Map<String, Value>,
}

impl Judge {
    /// What stands for the judge in a job's identity.
    pub(crate) fn identity(&self) -> Value {
        serde_json::json!({"model": self.name, "sampling_args": self.sampling_args})
    }
}

impl From<CallError> for SampleError {
    fn from(error: CallError) -> Self {
        let kind = match error.kind {
            CallErrorKind::Plugin => ErrorKind::Plugin,
            CallErrorKind::Timeout => ErrorKind::Timeout,
            CallErrorKind::Cpu => ErrorKind::Cpu,
            CallErrorKind::Memory => ErrorKind::Memory,
            CallErrorKind::Panic => ErrorKind::Panic,
            CallErrorKind::Trap => ErrorKind::Trap,
            CallErrorKind::TooLarge => ErrorKind::TooLarge,
        };
        SampleError { kind, message: error.message, attempts: None }
    }
}

impl From<&ModelError> for ErrorKind {
    /// What the last attempt of a failed request ran into.
    fn from(error: &ModelError) -> Self {
        match error.last() {
            ModelError::Status { status: 429, .. } | ModelError::RateLimited { .. } => ErrorKind::RateLimited,
            ModelError::Status { status, .. } if *status >= 500 => ErrorKind::ServerError,
            ModelError::Status { .. } => ErrorKind::ClientError,
            ModelError::Timeout(_) => ErrorKind::ModelTimeout,
            ModelError::Connection(_) => ErrorKind::Connection,
            // `last()` is never a `GaveUp`: the match only needs to be whole.
            ModelError::Malformed(_) | ModelError::GaveUp { .. } => ErrorKind::MalformedReply,
        }
    }
}

impl From<crate::runtime::ParseStatus> for ParseStatus {
    fn from(status: crate::runtime::ParseStatus) -> Self {
        match status {
            crate::runtime::ParseStatus::Ok => ParseStatus::Ok,
            crate::runtime::ParseStatus::NoAnswer => ParseStatus::NoAnswer,
            crate::runtime::ParseStatus::Malformed => ParseStatus::Malformed,
            crate::runtime::ParseStatus::Hedged => ParseStatus::Hedged,
            crate::runtime::ParseStatus::Ungraded => ParseStatus::Ungraded,
        }
    }
}

/// The seed of one sample: derived from the run seed, the example id and the
/// rollout only (never from scheduling), so shuffles and any plugin
/// randomness are identical across models, runs and resumes.
pub(crate) fn sample_seed(run_seed: u64, example_id: &str, rollout: u32) -> u64 {
    let digest = Sha256::digest(format!("{run_seed}:{example_id}:{rollout}").as_bytes());
    u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

/// A sample about to start: its record, its seed and what the plugin's
/// `prepare` is given.
pub(super) struct Start<'a> {
    pub(super) spec: &'a SampleSpec,
    record: &'a Record,
    seed: u64,
    pub(super) sample: Sample,
}

impl<'a> Start<'a> {
    pub(super) fn new(spec: &'a SampleSpec) -> Self {
        let record = &spec.dataset.records[spec.record_index];
        let seed = sample_seed(spec.seed, &record.id, spec.rollout);
        let sample = Sample {
            record_json: record.json.clone(),
            seed,
            fewshot: spec.fewshot.as_ref().map(|f| f.exemplars(record, seed)).unwrap_or_default(),
            fewshot_as_multiturn: spec.fewshot.as_ref().is_some_and(|f| f.as_multiturn()),
        };
        Start { spec, record, seed, sample }
    }

    /// Which record calls into the plugin are for.
    pub(super) fn ctx(&self) -> CallContext<'a> {
        CallContext { record: &self.record.id, seed: self.seed }
    }

    /// The plugin's first step for the sample.
    pub(super) async fn prepare(&self, pool: &EnvironmentPool) -> Result<Step, SampleError> {
        Ok(pool.prepare(self.ctx(), &self.sample).await?)
    }
}

/// A reply to a sample's first request obtained with others' (rollouts
/// asked in one request), with the seed that request sent.
pub(super) struct Prefetched {
    pub(super) reply: ChatReply,
    pub(super) seed: Option<u64>,
}

/// Run one sample to its result line.
pub(super) async fn run(spec: &SampleSpec, pool: &EnvironmentPool, model: &Model) -> SampleResult {
    if let Some(failed) = &spec.recorded_failure {
        return super::rescore::kept_failure(failed, spec);
    }
    let start = Start::new(spec);
    let first = start.prepare(pool).await;
    finish(start, first, None, pool, model).await
}

/// Play a sample on from its first step (or the failure to prepare it) to
/// its result line; `prefetched` answers its first request.
pub(super) async fn finish(
    start: Start<'_>,
    first: Result<Step, SampleError>,
    prefetched: Option<Prefetched>,
    pool: &EnvironmentPool,
    model: &Model,
) -> SampleResult {
    let (spec, record, seed) = (start.spec, start.record, start.seed);
    let mut episode = Episode { prefetched, ..Episode::default() };
    let outcome = match first {
        Ok(step) => episode.play(spec, start.ctx(), step, pool, model).await,
        Err(error) => Err(error),
    };
    let (info, artifacts) = match &outcome {
        Ok(score) => workspace::split_info(&score.info_json),
        Err(_) => (Value::Null, Vec::new()),
    };
    let artifacts = episode.close(spec, &record.id, artifacts).await;
    let mut result = SampleResult {
        example_id: record.id.clone(),
        example_index: record.index,
        rollout: spec.rollout,
        seed,
        group: spec.group.clone(),
        prompt: episode.prompt,
        prompt_text: episode.prompt_text,
        sampling_seed: episode.sampling_seed,
        continuations: episode.continuations,
        judge_calls: episode.judge_calls,
        completion: episode.completion,
        reasoning: episode.reasoning,
        reward: None,
        parsed_answer: None,
        parse_status: None,
        metrics: Default::default(),
        info: Value::Null,
        transcript: episode.transcript,
        code_runs: episode.code_runs,
        artifacts,
        turns: episode.turns,
        tokens: episode.tokens,
        latency_ms: episode.latency_ms,
        cache_hits: episode.cache_hits,
        error: None,
        cost_usd: None,
        finished_at: store::now_rfc3339(),
    };
    result.cost_usd = spec.prices.cost(&result);
    match outcome {
        Ok(score) => apply_score(&mut result, score, info),
        Err(error) => result.error = Some(error),
    }
    result
}

/// The score's fields into the result line; `info` is the score's details
/// with any attached artifacts taken out.
fn apply_score(result: &mut SampleResult, score: Score, info: Value) {
    result.reward = Some(score.reward);
    result.parsed_answer = score.parsed_answer;
    result.parse_status = Some(score.parse_status.into());
    result.metrics = score.metrics.into_iter().map(|m| (m.name, m.value)).collect();
    result.info = info;
}

/// What an episode has produced so far.
#[derive(Default)]
struct Episode {
    prompt: Vec<Message>,
    prompt_text: Option<String>,
    sampling_seed: Option<u64>,
    continuations: Vec<ScoredContinuation>,
    judge_calls: Vec<JudgeCall>,
    completion: Option<String>,
    reasoning: Option<String>,
    transcript: Vec<Message>,
    code_runs: Vec<CodeRun>,
    turns: u32,
    tokens: Tokens,
    latency_ms: u64,
    /// Replies (the model's and the judge's) the response cache gave.
    cache_hits: u32,
    /// The reply to the first request, when it was asked with others'.
    prefetched: Option<Prefetched>,
    /// The sample's workspace, made at its first `workspace` action.
    workspace: Option<crate::execution::Workspace>,
    /// `workspace` actions carried out.
    workspace_actions: u32,
    /// The diff the plugin last asked for (the sample's `diff.patch`).
    last_diff: Option<String>,
    /// Whether the plugin was told the token budget is spent.
    budget_spent: bool,
}

impl Episode {
    async fn play(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
        mut step: Step,
        pool: &EnvironmentPool,
        model: &Model,
    ) -> Result<Score, SampleError> {
        loop {
            match step.action {
                Action::Finish(score) => return Ok(score),
                Action::AskModel(prompt) => {
                    if self.turns >= spec.max_turns {
                        return Err(failure(
                            ErrorKind::Episode,
                            format!("record {}: exceeded max_turns ({})", ctx.record, spec.max_turns),
                        ));
                    }
                    let reply = match self.budget_reply(spec, ctx)? {
                        Some(reply) => reply,
                        None => self.ask(model, pool, ctx, spec, &prompt, &step.state).await?,
                    };
                    step = pool.advance(ctx, &step.state, &Event::ModelReply(reply)).await?;
                }
                Action::RunCode(request) => {
                    let output = self.run_code(spec, ctx, &request).await?;
                    step = pool.advance(ctx, &step.state, &Event::CodeOutput(output)).await?;
                }
                Action::AskJudge(request) => {
                    let reply = self.ask_judge(spec, ctx, &request).await?;
                    step = pool.advance(ctx, &step.state, &Event::JudgeReply(reply)).await?;
                }
                Action::ScoreContinuations(request) => {
                    let scores = self.score_continuations(model, pool, ctx, spec, &request, &step.state).await?;
                    step = pool.advance(ctx, &step.state, &Event::ContinuationScores(scores)).await?;
                }
                Action::Workspace(request) => {
                    let output = self.workspace_action(spec, ctx, &request).await?;
                    step = pool.advance(ctx, &step.state, &Event::WorkspaceOutput(output)).await?;
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
    ) -> Result<CodeResult, SampleError> {
        let Some(executor) = &spec.code else {
            return Err(failure(
                ErrorKind::CodeExecution,
                format!(
                    "record {}: the plugin asked to run `{}` code, but the env grants no `run-code:<language>` capability",
                    ctx.record, request.language
                ),
            ));
        };
        if self.code_runs.len() >= spec.max_turns as usize {
            return Err(failure(
                ErrorKind::Episode,
                format!("record {}: exceeded max_turns ({}) programs", ctx.record, spec.max_turns),
            ));
        }
        let run = executor
            .run(request, &spec.environment_variables)
            .await
            .map_err(|e| failure(ErrorKind::CodeExecution, format!("record {}: {e}", ctx.record)))?;
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
    ) -> Result<ModelReply, SampleError> {
        let messages: Vec<Message> = prompt.messages.iter().map(Message::from).collect();
        let tools = tools::offered(&prompt.tools, spec.tools_granted, ctx.record)?;
        self.turns += 1;
        if self.turns == 1 {
            self.prompt_text = model.prompt_text(&messages);
            self.prompt = messages.clone();
        }
        let turn = Turn {
            messages: &messages,
            max_tokens: prompt.max_tokens,
            stop: &prompt.stop,
            tools: &tools,
            sampling_args: &spec.sampling_args,
            example_id: ctx.record,
            rollout: spec.rollout,
            number: self.turns,
            seed: model.request_seed(&spec.sampling_args, ctx.seed),
            sample_seed: ctx.seed,
        };
        self.sampling_seed = turn.seed;
        let reply = match self.prefetched.take() {
            Some(prefetched) => {
                self.sampling_seed = prefetched.seed;
                prefetched.reply
            }
            None => {
                let reply = model.reply(&turn, async || pool.reference(ctx, state).await).await;
                reply.map_err(|error| self.reply_error(ctx.record, error))?
            }
        };
        self.count(reply.usage, reply.latency_ms);
        self.cache_hits += u32::from(reply.from_cache());
        self.reasoning = reply.reasoning;
        let answer = Message { tool_calls: reply.tool_calls.clone(), ..Message::new(Role::Assistant, &reply.content) };
        if self.turns > 1 {
            // Each request carries the whole conversation, so the last one
            // plus the reply is the full transcript.
            self.transcript = messages;
            self.transcript.push(answer);
        }
        self.completion = Some(reply.content.clone());
        let tool_calls = reply.tool_calls.iter().map(tools::to_plugin).collect();
        Ok(ModelReply { content: reply.content, tool_calls, finish_reason: reply.finish_reason })
    }

    /// Score the plugin's continuations by log-likelihood under the model
    /// (it must grant `loglikelihood`), recording context and scores.
    async fn score_continuations(
        &mut self,
        model: &Model,
        pool: &EnvironmentPool,
        ctx: CallContext<'_>,
        spec: &SampleSpec,
        request: &ContinuationRequest,
        state: &str,
    ) -> Result<Vec<crate::runtime::ContinuationScore>, SampleError> {
        if !spec.loglikelihood {
            let message = format!(
                "record {}: the plugin asked to score continuations, but the env does not grant the `loglikelihood` capability",
                ctx.record
            );
            return Err(failure(ErrorKind::Episode, message));
        }
        self.turns += 1;
        self.prompt_text = Some(request.context.clone());
        let scored = model
            .score_continuations(
                (ctx.record, spec.rollout),
                &request.context,
                &request.continuations,
                &spec.sampling_args,
                async || pool.reference(ctx, state).await,
            )
            .await
            .map_err(|error| self.reply_error(ctx.record, error))?;
        self.count(scored.usage, scored.latency_ms);
        let recorded = request.continuations.iter().zip(&scored.scores).map(|(text, s)| ScoredContinuation {
            text: text.clone(),
            logprob: s.logprob,
            tokens: s.tokens,
            greedy: s.greedy,
        });
        self.continuations = recorded.collect();
        let scores = scored.scores.iter().map(|s| crate::runtime::ContinuationScore {
            logprob: s.logprob,
            tokens: s.tokens,
            greedy: s.greedy,
        });
        Ok(scores.collect())
    }

    /// Ask the job's judge (the env must grant `judge`) and record the
    /// exchange apart from the model under test's. Judge requests count
    /// against `max_turns` too.
    async fn ask_judge(
        &mut self,
        spec: &SampleSpec,
        ctx: CallContext<'_>,
        request: &JudgeRequest,
    ) -> Result<ModelReply, SampleError> {
        let Some(judge) = &spec.judge else {
            let message = format!(
                "record {}: the plugin asked a judge, but the env grants no `judge` capability or names no judge",
                ctx.record
            );
            return Err(failure(ErrorKind::Episode, message));
        };
        if self.judge_calls.len() >= spec.max_turns as usize {
            let message = format!("record {}: exceeded max_turns ({}) judge requests", ctx.record, spec.max_turns);
            return Err(failure(ErrorKind::Episode, message));
        }
        let messages: Vec<Message> = request.messages.iter().map(Message::from).collect();
        let turn = Turn {
            messages: &messages,
            max_tokens: request.max_tokens,
            stop: &[],
            tools: &[],
            sampling_args: &judge.sampling_args,
            example_id: ctx.record,
            rollout: spec.rollout,
            number: 1,
            seed: None,
            sample_seed: ctx.seed,
        };
        let reply = judge.model.reply(&turn, async || Ok::<_, CallError>(None)).await;
        let reply = reply.map_err(|error| {
            let mut error = self.reply_error(ctx.record, error);
            error.kind = ErrorKind::Judge;
            error.message = format!("judge: {}", error.message);
            error
        })?;
        let usage = reply.usage;
        self.cache_hits += u32::from(reply.from_cache());
        self.judge_calls.push(JudgeCall {
            messages,
            reply: reply.content.clone(),
            tokens: Tokens {
                prompt: usage.prompt_tokens.unwrap_or(0),
                completion: usage.completion_tokens.unwrap_or(0),
                reasoning: usage.reasoning_tokens.unwrap_or(0),
            },
            latency_ms: reply.latency_ms,
        });
        Ok(ModelReply { content: reply.content, tool_calls: Vec::new(), finish_reason: reply.finish_reason })
    }

    /// Add a request's tokens and time.
    fn count(&mut self, usage: crate::models::Usage, latency_ms: u64) {
        self.tokens.prompt += usage.prompt_tokens.unwrap_or(0);
        self.tokens.completion += usage.completion_tokens.unwrap_or(0);
        self.tokens.reasoning += usage.reasoning_tokens.unwrap_or(0);
        self.latency_ms += latency_ms;
    }

    /// Why a model gave nothing back, as the sample's error.
    fn reply_error(&mut self, record: &str, error: ReplyError<CallError>) -> SampleError {
        match error {
            ReplyError::Endpoint { error, latency_ms } => {
                self.latency_ms += latency_ms;
                let kind = ErrorKind::from(&error);
                SampleError { kind, message: error.to_string(), attempts: Some(error.attempts()) }
            }
            ReplyError::Replay(e) => failure(ErrorKind::Replay, format!("record {record}: {e}")),
            ReplyError::NoReference => failure(
                ErrorKind::Oracle,
                format!(
                    "record {record}: the environment gave no reference (or none among its continuations) for the oracle"
                ),
            ),
            ReplyError::Reference(e) => e.into(),
        }
    }
}

fn failure(kind: ErrorKind, message: String) -> SampleError {
    SampleError { kind, message, attempts: None }
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
