//! Assembling the program the sandbox runs from the task and the code read
//! from the reply.
//!
//! HumanEval-style: a continuation or a bare function body follows the
//! prompt, as in the original harness. A complete function follows the
//! prompt's code before the entry point (imports, plus the helpers some
//! tasks define there and their tests call, e.g. `encode_cyclic` in
//! HumanEval/38), so the model need not repeat them. The test code and
//! `check(<entry point>)` come last. MBPP-style: code, setup, asserts.

use crate::extract::{self, Extracted, Method};
use crate::task::Task;

/// The program for `task` with the model's code, before any tests.
pub fn program(task: &Task, extracted: &Extracted) -> String {
    match task {
        Task::Function { prompt, entry_point, .. } => {
            let code = &extracted.code;
            if extracted.method != Method::Continuation && extract::defines(code, entry_point) {
                format!("{}{code}", preamble(prompt, entry_point))
            } else if extracted.method == Method::Continuation || prompt.ends_with('\n') {
                format!("{prompt}{code}")
            } else {
                format!("{prompt}\n{code}")
            }
        }
        Task::Asserts { .. } | Task::Stdio { .. } => extracted.code.clone(),
    }
}

/// The whole source to run: the program and its tests. It exits with
/// status 0 exactly when every test passes; for stdin/stdout tests, it is
/// the driver running the program once per test, each within
/// `test_timeout_ms`, whose output [`crate::stdio::score`] reads.
pub fn source(task: &Task, extracted: &Extracted, test_timeout_ms: u32) -> String {
    let program = program(task, extracted);
    match task {
        Task::Function { entry_point, test, .. } => format!("{program}\n\n{test}\n\ncheck({entry_point})\n"),
        Task::Asserts { tests, setup, .. } => {
            let parts = [program.trim_end(), setup.trim_end()].into_iter().chain(tests.iter().map(String::as_str));
            let parts: Vec<&str> = parts.filter(|part| !part.is_empty()).collect();
            parts.join("\n") + "\n"
        }
        Task::Stdio { tests, .. } => crate::stdio::driver(&program, tests, test_timeout_ms),
    }
}

/// The prompt's code before the line defining `entry_point`; empty when
/// no line defines it (a prompt that only describes the task has no code
/// worth keeping).
fn preamble<'a>(prompt: &'a str, entry_point: &str) -> &'a str {
    let mut offset = 0;
    for line in prompt.split_inclusive('\n') {
        if extract::defines(line, entry_point) {
            return &prompt[..offset];
        }
        offset += line.len();
    }
    ""
}
