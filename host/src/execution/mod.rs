//! Running the programs environments ask for (`run-code` actions).
//!
//! A plugin never runs code itself: it returns a `run-code` action and the
//! host runs the program here, only for languages the env config grants
//! with a `run-code:<language>` capability, through the backend its
//! `code_execution` block names:
//!
//! - [`local`]: a subprocess in a fresh temp dir, in a bubblewrap sandbox
//!   ([`bwrap`]: no network, the host read-only, OS limits, nothing
//!   outliving it) with a wall-clock timeout;
//! - [`piston`]: the Piston execution engine's HTTP API.
//!
//! Workspaces (`workspace` actions: a directory per sample, commands, files,
//! diffs) live in [`workspace`], on the same sandbox or in containers.
//!
//! A [`CodeExecutor`] is started (and its backend checked: interpreter
//! present, server answering and offering the language) during preflight,
//! so a run that cannot execute code stops before it writes anything. Its
//! concurrency limit is shared by every job with the same settings.

mod bwrap;
mod local;
mod piston;
mod process;
mod workspace;

pub(crate) use workspace::{Workspace, WorkspaceRunner};

use crate::config::{CodeBackendKind, CodeExecutionConfig};
use crate::runtime::{CodeRequest, CodeResult};
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::Semaphore;

/// One program a `run-code` action ran, as the plugin saw its result; a
/// sample's `code_runs` in `results.jsonl` lists them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeRun {
    /// The language granted and asked for.
    pub language: String,
    /// The exit code; -1 when the program was killed (timeout, signal).
    pub exit_code: i32,
    /// Standard output, cut at the configured size.
    pub stdout: String,
    /// Standard error, cut at the configured size, with a note when the
    /// sandbox stopped the program.
    pub stderr: String,
    /// Whether it hit its wall-clock limit.
    pub timed_out: bool,
    /// How long it ran.
    pub duration_ms: u32,
}

/// Runs programs for the envs that share one `code_execution` setting.
pub(crate) struct CodeExecutor {
    backend: Backend,
    /// Languages the env grants (from its `run-code:<language>` capabilities).
    languages: Vec<String>,
    permits: Semaphore,
    /// The configured wall-clock cap; a plugin may ask for less.
    max_timeout: Duration,
}

enum Backend {
    Local(local::LocalBackend),
    Piston(piston::PistonBackend),
}

impl CodeExecutor {
    /// Set up the backend for `languages` and check it can run each one.
    pub(crate) async fn start(settings: &CodeExecutionConfig, languages: Vec<String>) -> Result<Self> {
        let backend = match settings.backend {
            CodeBackendKind::Local => Backend::Local(local::LocalBackend::start(settings, &languages).await?),
            CodeBackendKind::Piston => Backend::Piston(piston::PistonBackend::start(settings, &languages).await?),
        };
        let max_concurrent =
            settings.max_concurrent.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        Ok(CodeExecutor {
            backend,
            languages,
            permits: Semaphore::new(max_concurrent),
            max_timeout: Duration::from_secs_f64(settings.timeout_secs),
        })
    }

    /// Run the program a plugin asked for, waiting for a free slot first,
    /// within the time it asked for (0: the configured cap) but never more
    /// than the cap. `Err` means the program could not be run at all
    /// (language not granted, backend failure); a program that fails, times
    /// out or hits a limit is an `Ok` result. `variables` (a job's
    /// `environment_variables`) are set for the program.
    pub(crate) async fn run(&self, request: &CodeRequest, variables: &[(String, String)]) -> Result<CodeRun, String> {
        if !self.languages.contains(&request.language) {
            return Err(format!(
                "the plugin asked to run `{}` code, but the env grants only {}",
                request.language,
                self.granted()
            ));
        }
        let asked = Duration::from_millis(u64::from(request.timeout_ms));
        let timeout = if asked.is_zero() { self.max_timeout } else { asked.min(self.max_timeout) };
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        match &self.backend {
            Backend::Local(backend) => backend.run(request, timeout, variables).await,
            // Checked before the run starts (`sets_variables`).
            Backend::Piston(backend) => backend.run(request, timeout).await,
        }
    }

    /// Whether programs can be given environment variables (Piston's API
    /// has no field for them).
    pub(crate) fn sets_variables(&self) -> bool {
        matches!(self.backend, Backend::Local(_))
    }

    fn granted(&self) -> String {
        let names: Vec<String> = self.languages.iter().map(|l| format!("`run-code:{l}`")).collect();
        names.join(", ")
    }
}

/// What the plugin is told about a program it asked for.
impl From<&CodeRun> for CodeResult {
    fn from(run: &CodeRun) -> Self {
        CodeResult {
            exit_code: run.exit_code,
            stdout: run.stdout.clone(),
            stderr: run.stderr.clone(),
            timed_out: run.timed_out,
            duration_ms: run.duration_ms,
        }
    }
}

/// `text` cut to at most `max` bytes (on a character boundary), and
/// whether it was cut.
fn truncate(mut text: String, max: usize) -> (String, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

/// The source file's name: interpreters such as `node`, and Piston's
/// runners, go by the extension.
fn source_file(language: &str) -> String {
    let extension = match language {
        "python" => "py",
        "javascript" | "js" => "js",
        "typescript" | "ts" => "ts",
        "ruby" => "rb",
        "bash" | "sh" => "sh",
        other => other,
    };
    format!("main.{extension}")
}

/// The note appended to a stream that was cut.
const TRUNCATED_NOTE: &str = "\n[assay: output truncated]";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_character_boundaries() {
        assert_eq!(truncate("abc".into(), 3), ("abc".into(), false));
        assert_eq!(truncate("abcd".into(), 3), ("abc".into(), true));
        assert_eq!(truncate("aé".into(), 2), ("a".into(), true), "é is two bytes");
    }
}
