//! The four tools the agent offers, and reading the model's calls: native
//! tool calls, or (for a model without them) `<tool_call>{"name": ...,
//! "arguments": {...}}</tool_call>` blocks in its text, the format Hermes,
//! Qwen and many open models were trained on.

use assay_sdk::Tool;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Opens a tool call written as text.
pub const OPEN: &str = "<tool_call>";
/// Closes a tool call written as text.
pub const CLOSE: &str = "</tool_call>";

/// One tool call to carry out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    /// The model's id for it (made up for calls read from text).
    pub id: String,
    /// The tool.
    pub name: String,
    /// Its arguments as the model wrote them.
    pub arguments: String,
    /// Whether it came as a native tool call (its result is then a `tool`
    /// message answering it by id).
    pub native: bool,
}

/// What a call asks for, its arguments checked.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// Run a shell command.
    Bash { command: String },
    /// Read a file.
    ReadFile { path: String },
    /// Write a file.
    WriteFile { path: String, content: String },
    /// The task is done.
    Submit,
}

/// The tools, as offered to the model.
pub fn offered() -> Vec<Tool> {
    let tool = |name: &str, description: &str, parameters: Value| Tool {
        name: name.into(),
        description: description.into(),
        parameters_json: parameters.to_string(),
    };
    let string = json!({"type": "string"});
    vec![
        tool(
            "bash",
            "Run a shell command (sh -c) in /workspace, the repository. Each call starts afresh: the working \
             directory, variables and background processes do not carry over, files do. There is no network.",
            json!({"type": "object", "properties": {"command": string}, "required": ["command"]}),
        ),
        tool(
            "read_file",
            "Read a text file; the path is relative to /workspace.",
            json!({"type": "object", "properties": {"path": string}, "required": ["path"]}),
        ),
        tool(
            "write_file",
            "Write a text file, replacing what is there (directories are made); the path is relative to /workspace.",
            json!({"type": "object", "properties": {"path": string, "content": string}, "required": ["path", "content"]}),
        ),
        tool(
            "submit",
            "Say the task is done. The task's tests then run on the workspace; nothing else runs after this.",
            json!({"type": "object", "properties": {}}),
        ),
    ]
}

/// The tools described in text, for a model that cannot be offered them.
pub fn described() -> String {
    let mut text = format!(
        "To call a tool, write {OPEN}{{\"name\": \"<tool>\", \"arguments\": {{...}}}}{CLOSE}; you may make several calls \
         in one reply. The results come back in the next message. Tools:\n"
    );
    for tool in offered() {
        text.push_str(&format!(
            "- {}: {} Arguments (JSON Schema): {}\n",
            tool.name, tool.description, tool.parameters_json
        ));
    }
    text
}

impl Call {
    /// What the call asks for, or why it cannot be carried out (told to the model).
    pub fn request(&self) -> Result<Request, String> {
        let arguments: Value = match self.arguments.trim() {
            "" => json!({}),
            text => serde_json::from_str(text).map_err(|e| format!("the arguments are not a JSON object: {e}"))?,
        };
        let field = |key: &str| -> Result<String, String> {
            match arguments.get(key) {
                Some(Value::String(value)) => Ok(value.clone()),
                Some(_) => Err(format!("argument `{key}` must be a string")),
                None => Err(format!("argument `{key}` is missing")),
            }
        };
        match self.name.as_str() {
            "bash" => Ok(Request::Bash { command: field("command")? }),
            "read_file" => Ok(Request::ReadFile { path: field("path")? }),
            "write_file" => Ok(Request::WriteFile { path: field("path")?, content: field("content")? }),
            "submit" => Ok(Request::Submit),
            other => Err(format!("there is no tool `{other}` (the tools are bash, read_file, write_file and submit)")),
        }
    }
}

/// The tool calls written in `text` as `<tool_call>` blocks; a block that
/// is not a JSON object with a `name` is skipped.
pub fn from_text(text: &str, turn: u32) -> Vec<Call> {
    let mut calls = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        let after = &rest[start + OPEN.len()..];
        let (body, next) = match after.find(CLOSE) {
            Some(end) => (&after[..end], &after[end + CLOSE.len()..]),
            None => (after, ""),
        };
        rest = next;
        let Ok(value) = serde_json::from_str::<Value>(body.trim()) else { continue };
        let Some(name) = value.get("name").and_then(Value::as_str) else { continue };
        let arguments = match value.get("arguments") {
            Some(Value::String(text)) => text.clone(),
            Some(other) => other.to_string(),
            None => "{}".into(),
        };
        calls.push(Call { id: format!("text-{turn}-{}", calls.len()), name: name.into(), arguments, native: false });
    }
    calls
}

/// A tool call written as text, as [`from_text`] reads it.
pub fn as_text(name: &str, arguments: Value) -> String {
    format!("{OPEN}{}{CLOSE}", json!({"name": name, "arguments": arguments}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_calls_are_read_in_order_and_junk_is_skipped() {
        let text = format!(
            "I'll look.\n{}\n{OPEN}not json{CLOSE}\n{}",
            as_text("bash", json!({"command": "ls -la"})),
            as_text("submit", json!({}))
        );
        let calls = from_text(&text, 3);
        assert_eq!(calls.len(), 2);
        assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("text-3-0", "bash"));
        assert_eq!(calls[0].request(), Ok(Request::Bash { command: "ls -la".into() }));
        assert_eq!(calls[1].request(), Ok(Request::Submit));
    }

    #[test]
    fn bad_calls_say_what_is_wrong() {
        let call = |name: &str, arguments: &str| Call {
            id: "c".into(),
            name: name.into(),
            arguments: arguments.into(),
            native: true,
        };
        assert_eq!(call("bash", "{}").request(), Err("argument `command` is missing".into()));
        assert_eq!(call("bash", r#"{"command": 1}"#).request(), Err("argument `command` must be a string".into()));
        assert!(call("bash", "{").request().unwrap_err().starts_with("the arguments are not a JSON object"));
        assert!(call("rm", "{}").request().unwrap_err().starts_with("there is no tool `rm`"));
        assert_eq!(call("submit", "").request(), Ok(Request::Submit));
    }

    #[test]
    fn every_tool_schema_is_json() {
        for tool in offered() {
            let schema: Value = serde_json::from_str(&tool.parameters_json).unwrap();
            assert_eq!(schema["type"], "object", "{}", tool.name);
        }
        assert!(described().contains("- write_file:"));
    }
}
