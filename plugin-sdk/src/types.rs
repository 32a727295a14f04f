//! The data an environment exchanges with the host, with builders.
//!
//! Most types are the WIT-generated ones, re-exported with convenience
//! methods added here, so the SDK and the interface cannot drift apart.

use crate::__private::assay::env::types as wit;

pub use wit::{
    CodeRequest, CodeResult, ContinuationRequest, ContinuationScore, ExecRequest, FileWrite, JudgeRequest, Message,
    ModelReply as Reply, ParseStatus, Prompt, Role, Tool, ToolCall, WorkspaceRequest, WorkspaceResult,
};

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
}

impl Reply {
    /// A reply of plain text with no known finish reason.
    pub fn text(content: impl Into<String>) -> Self {
        Reply { content: content.into(), tool_calls: Vec::new(), finish_reason: None }
    }

    /// Whether generation was cut off at the length limit
    /// (`finish_reason: length`). Unknown (a completion made elsewhere) is
    /// not cut off.
    pub fn truncated(&self) -> bool {
        self.finish_reason.as_deref() == Some("length")
    }

    /// Whether generation was cut off, when the host knows: `None` for a
    /// completion produced elsewhere (no finish reason), so a grader can
    /// fall back to its own judgement.
    pub fn known_truncation(&self) -> Option<bool> {
        self.finish_reason.as_ref().map(|_| self.truncated())
    }
}

impl From<&str> for Reply {
    fn from(content: &str) -> Self {
        Reply::text(content)
    }
}

impl From<String> for Reply {
    fn from(content: String) -> Self {
        Reply::text(content)
    }
}

impl Prompt {
    /// An empty conversation.
    pub fn new() -> Self {
        Prompt { messages: Vec::new(), max_tokens: None, stop: Vec::new(), tools: Vec::new() }
    }
    /// Append a system message.
    pub fn system(self, content: impl Into<String>) -> Self {
        self.message(Role::System, content)
    }
    /// Append a user message.
    pub fn user(self, content: impl Into<String>) -> Self {
        self.message(Role::User, content)
    }
    /// Append an assistant message (e.g. a few-shot answer).
    pub fn assistant(self, content: impl Into<String>) -> Self {
        self.message(Role::Assistant, content)
    }
    /// Append a message from any role.
    pub fn message(mut self, role: Role, content: impl Into<String>) -> Self {
        self.messages.push(Message::new(role, content));
        self
    }
    /// Cap the reply length (the job's `max_tokens` sampling argument wins).
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }
    /// Add a stop sequence.
    pub fn stop(mut self, stop: impl Into<String>) -> Self {
        self.stop.push(stop.into());
        self
    }
    /// Offer a tool to the model (needs the `tools` capability).
    pub fn tool(mut self, tool: Tool) -> Self {
        self.tools.push(tool);
        self
    }
}

impl Default for Prompt {
    fn default() -> Self {
        Prompt::new()
    }
}

/// Documentation of one `env_args` key, shown by `assay plugin info`.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDoc {
    /// The key.
    pub name: String,
    /// A short type, e.g. `string`, `bool`, `int`.
    pub type_name: String,
    /// The default as JSON, or `None` when the argument is required.
    pub default_json: Option<String>,
    /// What it does.
    pub description: String,
}

/// What an environment says about itself besides name and version.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    /// One paragraph on what the environment measures.
    pub text: String,
    /// The arguments it accepts.
    pub args: Vec<ArgDoc>,
    /// Host capabilities it needs, e.g. `run-code:python`.
    pub capabilities: Vec<String>,
    /// The dataset used when an env config names none: the JSON of a
    /// config's `dataset:` value, e.g. `{"hub": "openai/gsm8k", "config": "main", "split": "test"}`.
    pub default_dataset: Option<String>,
}

impl Description {
    /// A description with this text.
    pub fn new(text: impl Into<String>) -> Self {
        Description { text: text.into(), ..Description::default() }
    }
    /// Document an argument. `default` is the JSON of its default, or
    /// `None` when it is required.
    pub fn arg(mut self, name: &str, type_name: &str, default: Option<&str>, doc: &str) -> Self {
        self.args.push(ArgDoc {
            name: name.into(),
            type_name: type_name.into(),
            default_json: default.map(str::to_string),
            description: doc.into(),
        });
        self
    }
    /// Declare a needed capability.
    pub fn capability(mut self, capability: &str) -> Self {
        self.capabilities.push(capability.into());
        self
    }
    /// Name the dataset used when an env config gives none (see
    /// [`Description::default_dataset`]).
    pub fn default_dataset(mut self, dataset: serde_json::Value) -> Self {
        self.default_dataset = Some(dataset.to_string());
        self
    }
}
