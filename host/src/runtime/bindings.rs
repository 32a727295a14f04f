//! Host bindings for the `assay:env@0.1.0` interface, generated from the
//! same WIT files the SDK builds against (`plugin-sdk/wit/v0.1`).

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit/v0.1",
    world: "plugin",
    imports: { default: async | trappable },
    exports: { default: async },
});

pub use self::assay::env::types::{
    Action, CodeRequest, CodeResult, EnvError, Event, LogLevel, Message, Metadata, ParseStatus, Prompt, Role, Score,
    Step,
};

/// The `assay:env` API versions this host can run: 0.1.x (wasmtime's
/// linker matches any 0.1 patch release to these bindings).
pub const SUPPORTED_API: &str = "0.1";

/// The export every plugin must provide, without its version suffix.
pub const ENVIRONMENT_EXPORT: &str = "assay:env/environment";

impl Role {
    /// The role as the OpenAI chat API spells it.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

impl ParseStatus {
    /// The status as stored in results (`ok`, `no-answer`, `malformed`).
    pub fn as_str(&self) -> &'static str {
        match self {
            ParseStatus::Ok => "ok",
            ParseStatus::NoAnswer => "no-answer",
            ParseStatus::Malformed => "malformed",
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
