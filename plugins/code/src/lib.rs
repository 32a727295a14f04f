//! `code`: code generation for the assay harness (HumanEval, MBPP, APPS,
//! CodeContests).
//!
//! A record holds a task: HumanEval-style (a function's signature and
//! docstring, test code and the entry point's name) or MBPP-style (a
//! description and `assert` lines); field names are configurable, see
//! [`Args`]. The model is asked for the function ([`CompletionMode::Chat`])
//! or continues the prompt ([`CompletionMode::Base`]); the code read from
//! its reply ([`extract`]) is assembled with the tests into a program
//! ([`program`]) that the host runs in its sandbox. The reward is 1 when
//! the program exits cleanly within its time limit; with stdin/stdout
//! tests ([`stdio`]), when it prints every test's expected output.

mod args;
pub mod extract;
mod outcome;
pub mod program;
pub mod stdio;
mod task;

pub use args::{Args, CompletionMode, DEFAULT_ASSERTS_TEMPLATE, DEFAULT_STDIO_TEMPLATE, DEFAULT_TEMPLATE};
pub use extract::{Extracted, Method};
pub use task::Task;

use assay_sdk::{CodeRequest, Description, Environment, Error, Event, Prompt, Result, Rng, Score, Step, template};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The code-generation environment: its arguments, checked.
pub struct Code {
    args: Args,
}

/// What an episode needs, kept by the host between calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The task from the record.
    pub task: Task,
    /// The code read from the model's reply, once it has replied.
    pub extracted: Option<Extracted>,
}

impl Environment for Code {
    type Args = Args;
    type Record = Map<String, Value>;
    type State = State;

    fn describe() -> Description {
        args::describe()
    }

    fn new(args: Args) -> Result<Self> {
        args.validate()?;
        Ok(Code { args })
    }

    fn prepare(&self, record: Self::Record, _rng: &mut Rng) -> Result<(Prompt, State)> {
        let task = task::read(&self.args, &record)?;
        let user = self.user_message(&task)?;
        let prompt = match &self.args.system_prompt {
            Some(system) => Prompt::new().system(system.as_str()).user(user),
            None => Prompt::new().user(user),
        };
        Ok((prompt, State { task, extracted: None }))
    }

    fn advance(&self, state: State, event: Event) -> Result<Step<State>> {
        match event {
            Event::ModelReply(reply) => Ok(self.run_reply(state, &reply.content)),
            Event::CodeOutput(result) => {
                let extracted = state.extracted.as_ref().ok_or_else(|| {
                    Error::internal("received code output, but no code was sent to run for this record")
                })?;
                let score = match &state.task {
                    Task::Stdio { tests, .. } => stdio::score(extracted, tests, &result, self.args.float_tolerance),
                    _ => outcome::score(extracted, &result),
                };
                Ok(Step::finish(score, state))
            }
            _ => Err(Error::internal("received an event this environment never asks for")),
        }
    }

    /// Only a reply without code can be scored here (no answer, reward 0,
    /// as in an episode). Anything else is scored by running it, which
    /// only the host can do, so it is an error rather than a guess.
    fn grade(&self, state: &State, completion: &str) -> Result<Score> {
        match self.extract(&state.task, completion) {
            None => Ok(no_answer()),
            Some(_) => Err(Error::internal(
                "code is graded by running it with its tests, which only the host can do: use a run through the \
                 host (`assay bench`) rather than grading a completion directly",
            )),
        }
    }

    /// The known-good solution as the model would write it: the body in
    /// base mode (prompt + body is the program), else a fenced block with
    /// the complete function (HumanEval) or code (MBPP).
    fn reference(&self, state: &State) -> Option<String> {
        match (&state.task, self.args.completion_mode) {
            (Task::Function { solution, .. }, CompletionMode::Base) => solution.clone(),
            (Task::Function { prompt, solution, .. }, CompletionMode::Chat) => {
                solution.as_ref().map(|body| fenced(&format!("{prompt}{body}")))
            }
            (Task::Asserts { solution, .. } | Task::Stdio { solution, .. }, _) => solution.as_deref().map(fenced),
        }
    }
}

impl Code {
    /// The user message: the task prompt verbatim in base mode, else the
    /// template for the task's kind.
    fn user_message(&self, task: &Task) -> Result<String> {
        match (self.args.completion_mode, task) {
            (CompletionMode::Base, Task::Function { prompt, .. }) => Ok(prompt.clone()),
            (CompletionMode::Base, Task::Asserts { .. } | Task::Stdio { .. }) => Err(Error::bad_record(format!(
                "field `{}`: missing; `completion_mode: base` continues a function's prompt, so it needs \
                 HumanEval-style records",
                self.args.entry_point_field
            ))),
            (CompletionMode::Chat, Task::Function { prompt, .. }) => {
                let text = self.args.prompt_template.as_deref().unwrap_or(DEFAULT_TEMPLATE);
                Ok(template::render(text, &[("prompt", prompt), ("tests", "")]))
            }
            (CompletionMode::Chat, Task::Asserts { prompt, tests, .. }) => {
                let text = self.args.prompt_template.as_deref().unwrap_or(DEFAULT_ASSERTS_TEMPLATE);
                Ok(template::render(text, &[("prompt", prompt), ("tests", &tests.join("\n"))]))
            }
            (CompletionMode::Chat, Task::Stdio { prompt, .. }) => {
                let text = self.args.prompt_template.as_deref().unwrap_or(DEFAULT_STDIO_TEMPLATE);
                Ok(template::render(text, &[("prompt", prompt), ("tests", "")]))
            }
        }
    }

    /// The code in a reply as the completion mode reads it.
    fn extract(&self, task: &Task, reply: &str) -> Option<Extracted> {
        match self.args.completion_mode {
            CompletionMode::Chat => extract::from_reply(reply, task.entry_point()),
            CompletionMode::Base => extract::continuation(reply),
        }
    }

    /// Send the reply's code with its tests to the sandbox, or finish with
    /// no answer when the reply has no code (nothing worth running).
    fn run_reply(&self, state: State, reply: &str) -> Step<State> {
        let Some(extracted) = self.extract(&state.task, reply) else {
            return Step::finish(no_answer(), state);
        };
        let timeout_ms = match &state.task {
            Task::Stdio { tests, .. } => stdio::run_timeout_ms(tests.len(), self.args.timeout_ms),
            _ => self.args.timeout_ms,
        };
        let request = CodeRequest {
            language: self.args.language.clone(),
            source: program::source(&state.task, &extracted, self.args.timeout_ms),
            stdin: String::new(),
            timeout_ms,
        };
        Step::run_code(request, State { extracted: Some(extracted), ..state })
    }
}

/// The score of a reply without code.
fn no_answer() -> Score {
    Score::no_answer().info("method", Value::Null).info("passed", false)
}

/// `code` in a ```python block.
fn fenced(code: &str) -> String {
    let newline = if code.ends_with('\n') { "" } else { "\n" };
    format!("```python\n{code}{newline}```")
}

assay_sdk::register_environment!(Code);
