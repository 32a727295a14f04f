//! The one chat message type: what plugins ask with, what is sent to
//! models and what `results.jsonl` stores (`{"role": "user", "content": ...}`).
//!
//! Tool calls use the OpenAI chat API's shape in both places, so a stored
//! transcript can be sent again as it is: an assistant message carries
//! `tool_calls` (`{"id", "type": "function", "function": {"name",
//! "arguments"}}`), and a `tool` message answering one carries its
//! `tool_call_id`. Messages without tools serialise exactly as before.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Who speaks a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The user (the benchmark's prompt).
    User,
    /// The model.
    Assistant,
    /// A tool's result.
    Tool,
}

impl Role {
    /// The role as the OpenAI chat API spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who speaks it.
    pub role: Role,
    /// The text.
    pub content: String,
    /// The tool calls of an assistant message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// For a `tool` message: the id of the call it answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    /// A message from `role`.
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message { role, content: content.into(), tool_calls: Vec::new(), tool_call_id: None }
    }
}

/// A call the model made to a tool it was offered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "WireCall", from = "WireCall")]
pub struct ToolCall {
    /// The model's id for the call; the `tool` message answering it repeats it.
    pub id: String,
    /// The tool's name.
    pub name: String,
    /// The arguments: a JSON object as the model wrote it (it may not parse).
    pub arguments: String,
}

/// A tool offered to the model, sent as an OpenAI `tools` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Tool {
    /// The name the model calls it by.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// JSON Schema of its arguments object.
    pub parameters: Value,
}

impl Tool {
    /// The entry of a request's `tools` list.
    pub fn to_openai(&self) -> Value {
        json!({
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        })
    }
}

/// A tool call as the OpenAI chat API spells it.
#[derive(Serialize, Deserialize)]
struct WireCall {
    #[serde(default)]
    id: String,
    #[serde(rename = "type", default = "function_type")]
    kind: String,
    function: WireFunction,
}

#[derive(Serialize, Deserialize)]
struct WireFunction {
    #[serde(default)]
    name: String,
    /// A JSON text; some servers send the object itself, kept as its text.
    #[serde(default)]
    arguments: Value,
}

fn function_type() -> String {
    "function".into()
}

impl From<ToolCall> for WireCall {
    fn from(call: ToolCall) -> Self {
        WireCall {
            id: call.id,
            kind: function_type(),
            function: WireFunction { name: call.name, arguments: Value::String(call.arguments) },
        }
    }
}

impl From<WireCall> for ToolCall {
    fn from(wire: WireCall) -> Self {
        let arguments = match wire.function.arguments {
            Value::String(text) => text,
            Value::Null => String::new(),
            other => other.to_string(),
        };
        ToolCall { id: wire.id, name: wire.function.name, arguments }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_without_tools_keep_their_json() {
        let text = serde_json::to_string(&Message::new(Role::User, "hi")).unwrap();
        assert_eq!(text, r#"{"role":"user","content":"hi"}"#);
        let back: Message = serde_json::from_str(&text).unwrap();
        assert_eq!(back, Message::new(Role::User, "hi"));
    }

    #[test]
    fn tool_calls_and_results_use_the_openai_shape() {
        let call = ToolCall { id: "c1".into(), name: "bash".into(), arguments: r#"{"command":"ls"}"#.into() };
        let asked = Message { tool_calls: vec![call.clone()], ..Message::new(Role::Assistant, "") };
        let value = serde_json::to_value(&asked).unwrap();
        assert_eq!(
            value,
            json!({"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": "{\"command\":\"ls\"}"}}
            ]})
        );
        assert_eq!(serde_json::from_value::<Message>(value).unwrap(), asked);
        let answer = Message { tool_call_id: Some("c1".into()), ..Message::new(Role::Tool, "a.txt") };
        assert_eq!(
            serde_json::to_value(&answer).unwrap(),
            json!({"role": "tool", "content": "a.txt", "tool_call_id": "c1"})
        );
    }

    #[test]
    fn arguments_sent_as_an_object_are_kept_as_text() {
        let call: ToolCall =
            serde_json::from_value(json!({"id": "x", "function": {"name": "f", "arguments": {"a": 1}}})).unwrap();
        assert_eq!(call.arguments, r#"{"a":1}"#);
    }
}
