//! `assay:env@0.1.x`, the first API: plugins built for it keep running.
//! What they return is converted into the newest types ([`super::v0_2`]);
//! what they are sent is converted back. A 0.1 plugin cannot ask for
//! anything 0.2 added (judge, log-likelihood, tools, workspaces), so every
//! event it can be sent has a 0.1 form.

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/v0.1",
    world: "plugin",
    imports: { default: async | trappable },
    exports: { default: async },
});

use self::assay::env::types as old;
use super::sandbox::Sandbox;
use super::v0_2 as new;

/// The `major.minor` these bindings serve.
pub(crate) const VERSION: &str = "0.1";

impl old::Host for Sandbox {}

impl self::assay::env::host::Host for Sandbox {
    async fn log(&mut self, level: old::LogLevel, message: String) -> wasmtime::Result<()> {
        let level = match level {
            old::LogLevel::Trace => new::LogLevel::Trace,
            old::LogLevel::Debug => new::LogLevel::Debug,
            old::LogLevel::Info => new::LogLevel::Info,
            old::LogLevel::Warn => new::LogLevel::Warn,
            old::LogLevel::Error => new::LogLevel::Error,
        };
        self.log_line(level, &message);
        Ok(())
    }
}

/// The 0.1 form of an event, if it has one.
pub(super) fn event(event: &new::Event) -> Option<old::Event> {
    match event {
        new::Event::ModelReply(reply) => Some(old::Event::ModelReply(reply.content.clone())),
        new::Event::CodeOutput(result) => Some(old::Event::CodeOutput(code_result(result))),
        new::Event::JudgeReply(_) | new::Event::ContinuationScores(_) | new::Event::WorkspaceOutput(_) => None,
    }
}

fn code_result(result: &new::CodeResult) -> old::CodeResult {
    old::CodeResult {
        exit_code: result.exit_code,
        stdout: result.stdout.clone(),
        stderr: result.stderr.clone(),
        timed_out: result.timed_out,
        duration_ms: result.duration_ms,
    }
}

impl From<old::Metadata> for new::Metadata {
    fn from(m: old::Metadata) -> Self {
        let args = m.args.into_iter().map(|a| new::ArgDoc {
            name: a.name,
            type_name: a.type_name,
            default_json: a.default_json,
            description: a.description,
        });
        new::Metadata {
            name: m.name,
            version: m.version,
            description: m.description,
            args: args.collect(),
            capabilities: m.capabilities,
            default_dataset: None,
        }
    }
}

impl From<old::Step> for new::Step {
    fn from(step: old::Step) -> Self {
        let action = match step.action {
            old::Action::AskModel(prompt) => new::Action::AskModel(prompt.into()),
            old::Action::RunCode(r) => new::Action::RunCode(new::CodeRequest {
                language: r.language,
                source: r.source,
                stdin: r.stdin,
                timeout_ms: r.timeout_ms,
            }),
            old::Action::Finish(score) => new::Action::Finish(score.into()),
        };
        new::Step { action, state: step.state }
    }
}

impl From<old::Prompt> for new::Prompt {
    fn from(prompt: old::Prompt) -> Self {
        let messages = prompt.messages.into_iter().map(|m| new::Message {
            role: match m.role {
                old::Role::System => new::Role::System,
                old::Role::User => new::Role::User,
                old::Role::Assistant => new::Role::Assistant,
                old::Role::Tool => new::Role::Tool,
            },
            content: m.content,
            tool_calls: Vec::new(),
            tool_call_id: None,
        });
        new::Prompt {
            messages: messages.collect(),
            max_tokens: prompt.max_tokens,
            stop: prompt.stop,
            tools: Vec::new(),
        }
    }
}

impl From<old::Score> for new::Score {
    fn from(score: old::Score) -> Self {
        new::Score {
            reward: score.reward,
            parsed_answer: score.parsed_answer,
            parse_status: match score.parse_status {
                old::ParseStatus::Ok => new::ParseStatus::Ok,
                old::ParseStatus::NoAnswer => new::ParseStatus::NoAnswer,
                old::ParseStatus::Malformed => new::ParseStatus::Malformed,
            },
            metrics: score.metrics.into_iter().map(|m| new::Metric { name: m.name, value: m.value }).collect(),
            info_json: score.info_json,
        }
    }
}

impl From<old::EnvError> for new::EnvError {
    fn from(error: old::EnvError) -> Self {
        match error {
            old::EnvError::BadArgs(m) => new::EnvError::BadArgs(m),
            old::EnvError::BadRecord(m) => new::EnvError::BadRecord(m),
            old::EnvError::Internal(m) => new::EnvError::Internal(m),
        }
    }
}
