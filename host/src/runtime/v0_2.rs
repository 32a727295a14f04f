//! `assay:env@0.2.x`, the newest API. Its generated types are the ones the
//! host works with; older versions convert into them (see [`super::v0_1`]).

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/v0.2",
    world: "plugin",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::assay::env::types::{
    Action, ArgDoc, CodeRequest, CodeResult, ContinuationRequest, ContinuationScore, EnvError, Event, ExecRequest,
    FileWrite, JudgeRequest, Message, Metadata, Metric, ModelReply, ParseStatus, Prompt, Role, Sample, Score, Step,
    Tool, ToolCall, WorkspaceRequest, WorkspaceResult,
};

pub(super) use self::assay::env::types::LogLevel;
use super::sandbox::Sandbox;

/// The `major.minor` these bindings serve (wasmtime's linker matches any
/// 0.2 patch release to them).
pub(crate) const VERSION: &str = "0.2";

impl self::assay::env::types::Host for Sandbox {}

impl self::assay::env::host::Host for Sandbox {
    async fn log(&mut self, level: LogLevel, message: String) -> wasmtime::Result<()> {
        self.log_line(level, &message);
        Ok(())
    }
}

impl Sample {
    /// A record and its seed, without few-shot exemplars.
    pub fn new(record_json: String, seed: u64) -> Self {
        Sample { record_json, seed, fewshot: Vec::new(), fewshot_as_multiturn: false }
    }
}

impl ModelReply {
    /// A reply of plain text whose finish reason is unknown (a completion
    /// produced elsewhere, a self-check).
    pub fn text(content: impl Into<String>) -> Self {
        ModelReply { content: content.into(), tool_calls: Vec::new(), finish_reason: None }
    }
}

impl Action {
    /// The action's name in the WIT, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Action::AskModel(_) => "ask-model",
            Action::RunCode(_) => "run-code",
            Action::AskJudge(_) => "ask-judge",
            Action::ScoreContinuations(_) => "score-continuations",
            Action::Workspace(_) => "workspace",
            Action::Finish(_) => "finish",
        }
    }
}

impl EnvError {
    /// The error as users read it: `bad-args: field `x`: ...`.
    pub fn describe(&self) -> String {
        match self {
            EnvError::BadArgs(message) => format!("bad-args: {message}"),
            EnvError::BadRecord(message) => format!("bad-record: {message}"),
            EnvError::Internal(message) => format!("internal: {message}"),
        }
    }
}
