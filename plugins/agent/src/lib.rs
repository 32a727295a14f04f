//! `agent`: a minimal coding agent on a prepared task (see the host's task
//! directories: `dataset: {tasks: DIR}`).
//!
//! The model gets the task's instructions and four tools, `bash`,
//! `read_file`, `write_file` and `submit`, which act in the sample's
//! workspace (a fresh copy of the task's repository, in the host's
//! sandbox). The loop ends when the model submits, runs out of turns
//! (`max_turns`) or of tokens (the env's `token_budget`, enforced by the
//! host); then the workspace's diff is taken and the task's test command
//! runs. Exit status 0 scores 1; otherwise a task declaring `test_count`
//! gets the share of its tests that passed; a test run past its time limit
//! scores 0. The test output is attached as `test_output.txt`.
//!
//! With `tool_format: text` (for base models, which cannot be offered
//! tools) the tools are described in the system prompt and calls are read
//! from `<tool_call>` blocks in the reply; replies without native calls are
//! always read that way, which is also how the oracle applies a task's
//! `solution.patch`.

mod outcome;
pub mod tools;

use assay_sdk::{
    CodeResult, Description, Environment, Error, Event, ExecRequest, FileWrite, Message, Prompt, Reply, Result, Rng,
    Role, Score, Step, ToolCall, WorkspaceRequest, WorkspaceResult,
};
use outcome::Stop;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::VecDeque;
use tools::{Call, Request};

/// The system prompt unless `system_prompt` is set.
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a software engineer working in a repository at /workspace. Use the \
tools to read and change files and to run commands, then call `submit` when the task is done: the task's tests run \
after you submit.";

/// The finish reason the host gives when the sample's token budget is spent.
const BUDGET_SPENT: &str = "token_budget";

/// The environment's arguments.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Args {
    /// Model turns before the tests run; keep the env's `max_turns` above it. Default 30.
    pub max_turns: u32,
    /// The system prompt.
    pub system_prompt: Option<String>,
    /// `native` (OpenAI tools) or `text` (tools described in the prompt, calls read from the reply).
    pub tool_format: ToolFormat,
    /// Characters of a tool's result shown to the model; a longer one loses its middle. Default 10000.
    pub max_tool_output_chars: usize,
    /// Seconds a `bash` command may run (0: the workspace's cap). Default 0.
    pub command_timeout_secs: u32,
    /// Seconds the test command may run when the task gives no
    /// `test_timeout_secs` (0: the workspace's cap). Default 0.
    pub test_timeout_secs: u32,
}

impl Default for Args {
    fn default() -> Self {
        Args {
            max_turns: 30,
            system_prompt: None,
            tool_format: ToolFormat::Native,
            max_tool_output_chars: 10_000,
            command_timeout_secs: 0,
            test_timeout_secs: 0,
        }
    }
}

/// How tools reach the model.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolFormat {
    /// Offered with each request (the chat API's `tools`).
    Native,
    /// Described in the system prompt; calls are `<tool_call>` blocks in the reply.
    Text,
}

/// A task record (from a task directory, or any dataset with these fields).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Task {
    /// What to do.
    pub instructions: String,
    /// The command whose exit status says whether the task is solved.
    pub test_command: String,
    /// Seconds the test command may run.
    #[serde(default)]
    pub test_timeout_secs: Option<f64>,
    /// How many tests the test command runs, for partial credit.
    #[serde(default)]
    pub test_count: Option<u32>,
    /// A reference diff (`solution.patch`), applied by the oracle.
    #[serde(default)]
    pub solution_patch: Option<String>,
}

/// The agent environment.
pub struct Agent {
    args: Args,
}

/// One message of the conversation, kept in the state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Said {
    role: String,
    content: String,
    #[serde(default)]
    calls: Vec<Call>,
    #[serde(default)]
    answers: Option<String>,
}

/// Where an episode is.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Phase {
    /// The model works; a workspace result answers the call in flight.
    Working,
    /// Waiting for the workspace's diff.
    Diffing,
    /// Waiting for the test command.
    Testing,
}

/// An episode's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    task: Task,
    conversation: Vec<Said>,
    turns: u32,
    pending: VecDeque<Call>,
    in_flight: Option<Call>,
    phase: Phase,
    stop: Option<Stop>,
    changed_lines: usize,
}

impl Environment for Agent {
    type Args = Args;
    type Record = Task;
    type State = State;

    fn describe() -> Description {
        let d = Args::default();
        Description::new(
            "A coding agent on a prepared task: bash, read_file, write_file and submit in the sample's workspace, \
             scored by the task's test command (exit status 0; the share of tests passed when the task declares \
             test_count)",
        )
        .arg("max_turns", "int", Some(&d.max_turns.to_string()), "model turns before the tests run (keep the env's max_turns above it)")
        .arg("system_prompt", "string", Some("null"), "the system prompt (default: a short one naming the tools' use)")
        .arg("tool_format", "string", Some("\"native\""), "`native`: tools offered with each request; `text`: described in the prompt, calls read from `<tool_call>` blocks (base models)")
        .arg("max_tool_output_chars", "int", Some(&d.max_tool_output_chars.to_string()), "characters of a tool result shown to the model (the middle of a longer one is cut)")
        .arg("command_timeout_secs", "int", Some("0"), "seconds a bash command may run (0: the workspace's cap)")
        .arg("test_timeout_secs", "int", Some("0"), "seconds the test command may run when the task gives no test_timeout_secs (0: the workspace's cap)")
        .capability("tools")
        .capability("workspace")
        .capability("tools-text-fallback")
    }

    fn new(args: Args) -> Result<Self> {
        if args.max_turns == 0 {
            return Err(Error::bad_args("field `max_turns`: must be at least 1"));
        }
        if args.max_tool_output_chars < 100 {
            return Err(Error::bad_args("field `max_tool_output_chars`: must be at least 100"));
        }
        Ok(Agent { args })
    }

    fn prepare(&self, task: Task, _rng: &mut Rng) -> Result<(Prompt, State)> {
        if task.test_command.trim().is_empty() {
            return Err(Error::bad_record("field `test_command`: empty"));
        }
        let mut system = self.args.system_prompt.clone().unwrap_or_else(|| DEFAULT_SYSTEM_PROMPT.to_string());
        if self.args.tool_format == ToolFormat::Text {
            system = format!("{system}\n\n{}", tools::described());
        }
        let conversation = vec![said("system", system), said("user", task.instructions.clone())];
        let state = State {
            task,
            conversation,
            turns: 0,
            pending: VecDeque::new(),
            in_flight: None,
            phase: Phase::Working,
            stop: None,
            changed_lines: 0,
        };
        Ok((self.prompt(&state), state))
    }

    fn advance(&self, state: State, event: Event) -> Result<Step<State>> {
        match (event, state.phase) {
            (Event::ModelReply(reply), Phase::Working) => Ok(self.replied(state, reply)),
            (Event::WorkspaceOutput(result), Phase::Working) => Ok(self.answered(state, result)),
            (Event::WorkspaceOutput(WorkspaceResult::Diff(diff)), Phase::Diffing) => Ok(self.test(state, &diff)),
            (Event::WorkspaceOutput(WorkspaceResult::Exec(run)), Phase::Testing) => Ok(self.scored(state, &run)),
            (event, phase) => Err(Error::internal(format!("unexpected event {event:?} while {phase:?}"))),
        }
    }

    /// A completion made elsewhere cannot be graded: scoring means running
    /// the task's tests in a workspace, which only an episode has.
    fn grade(&self, _state: &State, _completion: &str) -> Result<Score> {
        Err(Error::internal(
            "agent tasks are scored by running their tests in a workspace, in an episode (`assay bench`)",
        ))
    }

    /// With a `solution.patch`: text tool calls applying it, then submit.
    fn reference(&self, state: &State) -> Option<String> {
        let patch = state.task.solution_patch.as_ref()?;
        let command = format!("patch -p1 --forward <<'ASSAY_SOLUTION'\n{}ASSAY_SOLUTION\n", ensure_newline(patch));
        Some(format!(
            "{}\n{}",
            tools::as_text("bash", json!({"command": command})),
            tools::as_text("submit", json!({}))
        ))
    }
}

impl Agent {
    /// The request for the conversation so far.
    fn prompt(&self, state: &State) -> Prompt {
        let mut prompt = Prompt::new();
        for said in &state.conversation {
            let role = match said.role.as_str() {
                "system" => Role::System,
                "assistant" => Role::Assistant,
                "tool" => Role::Tool,
                _ => Role::User,
            };
            let mut message = Message::new(role, said.content.as_str());
            message.tool_calls = said
                .calls
                .iter()
                .filter(|c| c.native)
                .map(|c| ToolCall { id: c.id.clone(), name: c.name.clone(), arguments_json: c.arguments.clone() })
                .collect();
            message.tool_call_id = said.answers.clone();
            prompt.messages.push(message);
        }
        if self.args.tool_format == ToolFormat::Native {
            prompt.tools = tools::offered();
        }
        prompt
    }

    /// The model replied: carry out its calls, or nudge it to use the tools.
    fn replied(&self, mut state: State, reply: Reply) -> Step<State> {
        if reply.finish_reason.as_deref() == Some(BUDGET_SPENT) {
            return self.finish(state, Stop::TokenBudget);
        }
        state.turns += 1;
        let mut calls: Vec<Call> = reply
            .tool_calls
            .iter()
            .map(|c| Call { id: c.id.clone(), name: c.name.clone(), arguments: c.arguments_json.clone(), native: true })
            .collect();
        if calls.is_empty() {
            calls = tools::from_text(&reply.content, state.turns);
        }
        let mut answer = said("assistant", reply.content);
        answer.calls = calls.clone();
        state.conversation.push(answer);
        if calls.is_empty() {
            if state.turns >= self.args.max_turns {
                return self.finish(state, Stop::MaxTurns);
            }
            let nudge = "No tool was called. Use the tools to work on the task, and call `submit` when it is done.";
            state.conversation.push(said("user", nudge.to_string()));
            return Step::ask(self.prompt(&state), state);
        }
        state.pending = calls.into();
        self.next_call(state)
    }

    /// Carry out the next pending call, or go on when none is left.
    fn next_call(&self, mut state: State) -> Step<State> {
        while let Some(call) = state.pending.pop_front() {
            let request = match call.request() {
                Ok(request) => request,
                Err(problem) => {
                    self.answer(&mut state, &call, format!("error: {problem}"));
                    continue;
                }
            };
            let action = match request {
                Request::Submit => {
                    self.answer(&mut state, &call, "Submitted; the tests run now.".into());
                    for skipped in std::mem::take(&mut state.pending) {
                        self.answer(&mut state, &skipped, "Not run: the task was submitted.".into());
                    }
                    state.stop = Some(Stop::Submitted);
                    break;
                }
                Request::Bash { command } => WorkspaceRequest::Exec(ExecRequest {
                    command,
                    stdin: String::new(),
                    timeout_ms: self.args.command_timeout_secs.saturating_mul(1000),
                }),
                Request::ReadFile { path } => WorkspaceRequest::ReadFile(path),
                Request::WriteFile { path, content } => WorkspaceRequest::WriteFile(FileWrite { path, content }),
            };
            state.in_flight = Some(call);
            return Step::workspace(action, state);
        }
        match state.stop {
            Some(stop) => self.finish(state, stop),
            None if state.turns >= self.args.max_turns => self.finish(state, Stop::MaxTurns),
            None => Step::ask(self.prompt(&state), state),
        }
    }

    /// A workspace action of the call in flight finished.
    fn answered(&self, mut state: State, result: WorkspaceResult) -> Step<State> {
        let Some(call) = state.in_flight.take() else {
            return self.next_call(state);
        };
        let text = match result {
            WorkspaceResult::Exec(run) => describe_run(&run),
            WorkspaceResult::File(Some(content)) => content,
            WorkspaceResult::File(None) => "error: no such file".into(),
            WorkspaceResult::Written => "Written.".into(),
            WorkspaceResult::Diff(diff) => diff,
            WorkspaceResult::Refused(why) => format!("error: {why}"),
        };
        self.answer(&mut state, &call, text);
        self.next_call(state)
    }

    /// Answer a call: a `tool` message for a native call, a user message
    /// for one read from text.
    fn answer(&self, state: &mut State, call: &Call, text: String) {
        let text = cut_middle(&text, self.args.max_tool_output_chars);
        let message = match call.native {
            true => Said { answers: Some(call.id.clone()), ..said("tool", text) },
            false => said("user", format!("Result of `{}`:\n{text}", call.name)),
        };
        state.conversation.push(message);
    }

    /// Stop working: take the diff, then run the tests.
    fn finish(&self, mut state: State, stop: Stop) -> Step<State> {
        state.stop = Some(stop);
        state.phase = Phase::Diffing;
        Step::workspace(WorkspaceRequest::Diff, state)
    }

    fn test(&self, mut state: State, diff: &str) -> Step<State> {
        state.changed_lines = changed_lines(diff);
        state.phase = Phase::Testing;
        let seconds = state.task.test_timeout_secs.unwrap_or(f64::from(self.args.test_timeout_secs));
        let request = ExecRequest {
            command: state.task.test_command.clone(),
            stdin: String::new(),
            timeout_ms: (seconds * 1000.0).clamp(0.0, f64::from(u32::MAX)) as u32,
        };
        Step::workspace(WorkspaceRequest::Exec(request), state)
    }

    fn scored(&self, state: State, run: &CodeResult) -> Step<State> {
        let episode = outcome::Episode {
            stop: state.stop.unwrap_or(Stop::Submitted),
            turns: state.turns,
            changed_lines: state.changed_lines,
            test_command: &state.task.test_command,
            test_count: state.task.test_count,
        };
        let score = outcome::score(&episode, run);
        Step::finish(score, state)
    }
}

fn said(role: &str, content: String) -> Said {
    Said { role: role.into(), content, calls: Vec::new(), answers: None }
}

/// A command's outcome as the model reads it.
fn describe_run(run: &CodeResult) -> String {
    let status = match run.timed_out {
        true => format!("timed out after {:.1} s", f64::from(run.duration_ms) / 1000.0),
        false => format!("exit code {}", run.exit_code),
    };
    let mut text = status;
    for (name, stream) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        if !stream.is_empty() {
            text.push_str(&format!("\n[{name}]\n{stream}"));
        }
    }
    text
}

/// `text` with its middle cut out when longer than `max` characters (the
/// start says what ran, the end how it ended).
fn cut_middle(text: &str, max: usize) -> String {
    let count = text.chars().count();
    if count <= max {
        return text.to_string();
    }
    let keep = max / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(count - keep).collect();
    format!("{head}\n[... {} characters cut ...]\n{tail}", count - 2 * keep)
}

/// Lines added or removed in a unified diff.
fn changed_lines(diff: &str) -> usize {
    diff.lines()
        .filter(|line| {
            (line.starts_with('+') && !line.starts_with("+++")) || (line.starts_with('-') && !line.starts_with("---"))
        })
        .count()
}

fn ensure_newline(text: &str) -> String {
    if text.ends_with('\n') { text.to_string() } else { format!("{text}\n") }
}

assay_sdk::register_environment!(Agent);
