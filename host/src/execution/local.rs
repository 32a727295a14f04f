//! The `local` backend: each program runs in a fresh temp dir (removed
//! afterwards), bound writable at `/sandbox` in a bubblewrap sandbox (see
//! [`super::bwrap`]: no network, the host read-only, nothing outliving the
//! program, OS limits), with a clean environment (`PATH`, and `HOME` and
//! `TMPDIR` = `/sandbox`).

use super::CodeRun;
use super::bwrap::{Bubblewrap, Jail, Limits};
use super::process;
use super::source_file;
use crate::config::CodeExecutionConfig;
use crate::runtime::CodeRequest;
use anyhow::{Result, bail};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

/// Where the program's directory appears in the sandbox.
const MOUNT_AT: &str = "/sandbox";

pub(super) struct LocalBackend {
    /// The resolved command (absolute program path first) per language.
    commands: BTreeMap<String, Vec<String>>,
    bwrap: Bubblewrap,
    limits: Limits,
    max_output_bytes: usize,
}

impl LocalBackend {
    /// Check the sandbox, then resolve each language's command and check
    /// it runs in the sandbox.
    pub(super) async fn start(settings: &CodeExecutionConfig, languages: &[String]) -> Result<Self> {
        let bwrap = Bubblewrap::find().await.map_err(|e| anyhow::anyhow!("code_execution (local): {e}"))?;
        let limits = Limits {
            memory_bytes: settings.memory_mb << 20,
            max_processes: settings.max_processes,
            max_file_bytes: settings.max_file_mb << 20,
        };
        let mut backend =
            LocalBackend { commands: BTreeMap::new(), bwrap, limits, max_output_bytes: settings.max_output_bytes };
        for language in languages {
            let command = match settings.commands.get(language) {
                Some(command) if !command.is_empty() => command.clone(),
                Some(_) => bail!("code_execution.commands.{language} is empty"),
                None => default_command(language)?,
            };
            let resolved = backend
                .resolve(&command)
                .await
                .map_err(|e| anyhow::anyhow!("code_execution (local): language `{language}`: {e}"))?;
            backend.commands.insert(language.clone(), resolved);
        }
        Ok(backend)
    }

    /// Run `request`'s program with `variables` set over the clean environment.
    pub(super) async fn run(
        &self,
        request: &CodeRequest,
        timeout: Duration,
        variables: &[(String, String)],
    ) -> Result<CodeRun, String> {
        let mut argv = self.commands[&request.language].clone();
        let dir = tempfile::Builder::new()
            .prefix("assay-code-")
            .tempdir()
            .map_err(|e| format!("cannot create the program's temp dir: {e}"))?;
        let name = source_file(&request.language);
        let file = dir.path().join(&name);
        std::fs::write(&file, &request.source).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        self.bwrap.hand_over(dir.path()).map_err(|e| format!("cannot hand the temp dir to the sandbox: {e}"))?;
        argv.push(format!("{MOUNT_AT}/{name}"));
        let stdin = request.stdin.as_bytes().to_vec();
        let finished = self.execute(dir.path(), &argv, stdin, timeout, variables).await?;
        Ok(CodeRun {
            language: request.language.clone(),
            exit_code: finished.exit_code,
            stdout: finished.stdout,
            stderr: finished.stderr,
            timed_out: finished.timed_out,
            duration_ms: finished.duration_ms,
        })
    }

    async fn execute(
        &self,
        dir: &std::path::Path,
        argv: &[String],
        stdin: Vec<u8>,
        timeout: Duration,
        variables: &[(String, String)],
    ) -> Result<process::Finished, String> {
        let mut env = vec![
            ("PATH".to_string(), std::env::var("PATH").unwrap_or_else(|_| super::bwrap::DEFAULT_PATH.into())),
            ("HOME".to_string(), MOUNT_AT.to_string()),
            ("TMPDIR".to_string(), MOUNT_AT.to_string()),
            ("LANG".to_string(), "C.UTF-8".to_string()),
        ];
        env.extend_from_slice(variables);
        let jail = Jail { writable: dir, mount_at: MOUNT_AT, env: &env, limits: self.limits, timeout };
        process::run(self.bwrap.command(&jail, argv), stdin, timeout, self.max_output_bytes).await
    }

    /// Find the command's program (on `PATH` unless it has a `/`) such that
    /// `<command> --version` succeeds inside the sandbox: a program on
    /// `PATH` the sandbox user cannot run (e.g. under `/root`) is skipped
    /// for the next one.
    async fn resolve(&self, command: &[String]) -> Result<Vec<String>, String> {
        let program = &command[0];
        let candidates: Vec<PathBuf> = match program.contains('/') {
            true => vec![PathBuf::from(program)],
            false => std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .map(|dir| dir.join(program))
                .filter(|path| path.is_file())
                .collect(),
        };
        if candidates.is_empty() {
            return Err(format!("`{program}` is not on PATH; install it or set code_execution.commands"));
        }
        let dir = tempfile::Builder::new().prefix("assay-code-").tempdir().map_err(|e| e.to_string())?;
        self.bwrap.hand_over(dir.path()).map_err(|e| e.to_string())?;
        let mut failures = Vec::new();
        for candidate in &candidates {
            let mut argv = command.to_vec();
            argv[0] = candidate.display().to_string();
            let mut probe = argv.clone();
            probe.push("--version".into());
            match self.execute(dir.path(), &probe, Vec::new(), Duration::from_secs(10), &[]).await {
                Ok(finished) if finished.exit_code == 0 => return Ok(argv),
                Ok(finished) => failures.push(format!(
                    "{}: `--version` exited with {}: {}",
                    candidate.display(),
                    finished.exit_code,
                    finished.stderr.trim()
                )),
                Err(e) => failures.push(format!("{}: {e}", candidate.display())),
            }
        }
        Err(format!("no `{program}` runs in the sandbox ({})", failures.join("; ")))
    }
}

/// The command for a language without a configured one.
fn default_command(language: &str) -> Result<Vec<String>> {
    match language {
        "python" => Ok(vec!["python3".into()]),
        other => bail!(
            "code_execution (local): no command for language `{other}`; set code_execution.commands.{other}, e.g. [node]"
        ),
    }
}
