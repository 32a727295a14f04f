//! A sample as the report's browser shows it when a row is opened: the
//! whole conversation (every turn of a multi-turn episode, tool calls and
//! tool results included), the reasoning of the last reply, the programs
//! run, the judge's questions and answers, the environment's details and
//! the error, as titled blocks of text in that order.

use crate::execution::CodeRun;
use crate::models::{Message, Role};
use crate::store::JudgeCall;
use serde::Serialize;

/// One titled block of a sample's detail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Section {
    /// What it is: `user`, `assistant`, `tool call_1`, `code run 1 ...`.
    pub title: String,
    /// Its text.
    pub text: String,
}

/// The text columns of one processed row that the detail is made from
/// (JSON where the column holds JSON).
#[derive(Debug, Default)]
pub(crate) struct SampleText {
    /// `prompt`: the first request's messages.
    pub prompt: Option<String>,
    /// `transcript`: every message of a multi-turn episode.
    pub transcript: Option<String>,
    /// `completion`: the last reply.
    pub completion: Option<String>,
    /// `reasoning`: the last reply's reasoning.
    pub reasoning: Option<String>,
    /// `code_runs`.
    pub code_runs: Option<String>,
    /// `judge_calls`.
    pub judge_calls: Option<String>,
    /// `info`: the environment's details.
    pub info: Option<String>,
    /// `error`.
    pub error: Option<String>,
}

/// The sections of a sample, in reading order.
pub(crate) fn sections(text: &SampleText) -> Vec<Section> {
    let mut sections = conversation(text);
    if let Some(reasoning) = text.reasoning.as_deref().filter(|r| !r.is_empty()) {
        sections.push(section("reasoning (last reply)", reasoning));
    }
    let runs: Vec<CodeRun> = parse_list(text.code_runs.as_deref());
    for (i, run) in runs.iter().enumerate() {
        sections.push(code_run(i + 1, run));
    }
    let calls: Vec<JudgeCall> = parse_list(text.judge_calls.as_deref());
    for (i, call) in calls.iter().enumerate() {
        sections.push(judge_call(i + 1, call));
    }
    sections.extend(text.info.as_deref().map(|info| section("details", info)));
    sections.extend(text.error.as_deref().map(|error| section("error", error)));
    sections
}

/// Every message: the transcript when the episode had several turns,
/// else the prompt and the reply.
fn conversation(text: &SampleText) -> Vec<Section> {
    let transcript: Vec<Message> = parse_list(text.transcript.as_deref());
    if !transcript.is_empty() {
        return transcript.iter().map(message).collect();
    }
    let mut sections: Vec<Section> = match text.prompt.as_deref() {
        Some(json) => match serde_json::from_str::<Vec<Message>>(json) {
            Ok(messages) => messages.iter().map(message).collect(),
            Err(_) => vec![section("prompt", json)],
        },
        None => Vec::new(),
    };
    sections.extend(text.completion.as_deref().map(|reply| section("assistant", reply)));
    sections
}

/// A message, its tool calls written out after its text.
fn message(message: &Message) -> Section {
    let title = match (&message.role, &message.tool_call_id) {
        (Role::Tool, Some(id)) => format!("tool result ({id})"),
        (role, _) => role.as_str().to_string(),
    };
    let mut text = message.content.clone();
    for call in &message.tool_calls {
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&format!("→ tool call {} ({}): {}", call.name, call.id, call.arguments));
    }
    Section { title, text }
}

fn code_run(number: usize, run: &CodeRun) -> Section {
    let timed_out = if run.timed_out { ", timed out" } else { "" };
    let title =
        format!("code run {number} ({}, exit {}{timed_out}, {} ms)", run.language, run.exit_code, run.duration_ms);
    let mut text = format!("stdout:\n{}", run.stdout);
    if !run.stderr.is_empty() {
        text.push_str(&format!("\nstderr:\n{}", run.stderr));
    }
    Section { title, text }
}

fn judge_call(number: usize, call: &JudgeCall) -> Section {
    let tokens = call.tokens.prompt + call.tokens.completion;
    let title = format!("judge call {number} ({tokens} tokens, {} ms)", call.latency_ms);
    let mut blocks: Vec<String> = call.messages.iter().map(|m| format!("{}: {}", m.role.as_str(), m.content)).collect();
    blocks.push(format!("judge: {}", call.reply));
    Section { title, text: blocks.join("\n\n") }
}

fn section(title: &str, text: &str) -> Section {
    Section { title: title.into(), text: text.into() }
}

/// A JSON list column's items; none when the column is null or unreadable.
fn parse_list<T: serde::de::DeserializeOwned>(json: Option<&str>) -> Vec<T> {
    json.and_then(|json| serde_json::from_str(json).ok()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_turn_sample_shows_every_message_tool_call_run_and_judge_call() {
        let text = SampleText {
            prompt: Some(r#"[{"role":"user","content":"first"}]"#.into()),
            transcript: Some(
                r#"[{"role":"user","content":"first"},{"role":"assistant","content":"","tool_calls":[{"id":"c1","type":"function","function":{"name":"ls","arguments":"{}"}}]},{"role":"tool","content":"a.txt","tool_call_id":"c1"},{"role":"assistant","content":"done"}]"#
                    .into(),
            ),
            completion: Some("done".into()),
            code_runs: Some(
                r#"[{"language":"python","exit_code":1,"stdout":"hi","stderr":"boom","timed_out":false,"duration_ms":7}]"#
                    .into(),
            ),
            judge_calls: Some(
                r#"[{"messages":[{"role":"user","content":"grade it"}],"reply":"GRADE: C","tokens":{"prompt":5,"completion":2,"reasoning":0},"latency_ms":3}]"#
                    .into(),
            ),
            error: Some("oops".into()),
            ..SampleText::default()
        };
        let got: Vec<(String, String)> = sections(&text).into_iter().map(|s| (s.title, s.text)).collect();
        let want = [
            ("user", "first"),
            ("assistant", "→ tool call ls (c1): {}"),
            ("tool result (c1)", "a.txt"),
            ("assistant", "done"),
            ("code run 1 (python, exit 1, 7 ms)", "stdout:\nhi\nstderr:\nboom"),
            ("judge call 1 (7 tokens, 3 ms)", "user: grade it\n\njudge: GRADE: C"),
            ("error", "oops"),
        ];
        assert_eq!(got, want.map(|(a, b)| (a.to_string(), b.to_string())));
    }

    #[test]
    fn a_single_turn_sample_shows_its_prompt_and_reply() {
        let text = SampleText {
            prompt: Some(r#"[{"role":"system","content":"be brief"},{"role":"user","content":"2+2?"}]"#.into()),
            completion: Some("4".into()),
            reasoning: Some("adding".into()),
            ..SampleText::default()
        };
        let titles: Vec<String> = sections(&text).into_iter().map(|s| s.title).collect();
        assert_eq!(titles, ["system", "user", "assistant", "reasoning (last reply)"]);
    }
}
