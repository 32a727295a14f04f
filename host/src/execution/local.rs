//! The `local` backend: each program is a subprocess in a fresh temp dir.
//!
//! Containment, set up in the child between `fork` and `exec`:
//! - its own session and process group, killed as a whole at the
//!   wall-clock limit and again when the program exits (stragglers);
//! - when the host runs as root, the program runs as `nobody` (65534), so
//!   it cannot touch the host's files and the process limit applies;
//! - a new user and network namespace (no network, not even loopback)
//!   where the kernel allows unprivileged namespaces; elsewhere the program
//!   keeps the network and the check logs a warning;
//! - rlimits: CPU seconds (the timeout + 1), address space (`memory_mb`),
//!   processes (`max_processes`), file size (`max_file_mb`), no core files;
//! - a clean environment (`PATH`, `HOME` and `TMPDIR` = the temp dir).
//!
//! Output beyond `max_output_bytes` per stream is read and dropped, so a
//! chatty program can neither block nor fill the host's memory.

use super::CodeRun;
use super::{TRUNCATED_NOTE, source_file, truncate};
use crate::config::CodeExecutionConfig;
use crate::runtime::CodeRequest;
use anyhow::{Result, bail};
use nix::errno::Errno;
use nix::sched::CloneFlags;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Gid, Pid, Uid};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// The uid and gid programs run as when the host is root (`nobody`).
const UNPRIVILEGED_ID: u32 = 65534;

/// How long to wait for output pipes after the program's group is killed
/// (a process that left the group may still hold them open).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

pub(super) struct LocalBackend {
    /// The resolved command (absolute program path first) per language.
    commands: BTreeMap<String, Vec<String>>,
    sandbox: Sandbox,
    max_output_bytes: usize,
}

/// What the child process sets up before `exec`. `Copy` so the `pre_exec`
/// closure owns it without allocating.
#[derive(Clone, Copy)]
struct Sandbox {
    /// Drop to this uid/gid (when the host is root).
    run_as: Option<u32>,
    /// Enter new user and network namespaces.
    isolate_network: bool,
    memory_bytes: u64,
    max_processes: u64,
    max_file_bytes: u64,
}

impl LocalBackend {
    /// Resolve each language's command and check it runs in the sandbox.
    pub(super) async fn start(settings: &CodeExecutionConfig, languages: &[String]) -> Result<Self> {
        let mut sandbox = Sandbox {
            run_as: Uid::effective().is_root().then_some(UNPRIVILEGED_ID),
            isolate_network: true,
            memory_bytes: settings.memory_mb << 20,
            max_processes: settings.max_processes,
            max_file_bytes: settings.max_file_mb << 20,
        };
        let mut commands = BTreeMap::new();
        for language in languages {
            let command = match settings.commands.get(language) {
                Some(command) if !command.is_empty() => command.clone(),
                Some(_) => bail!("code_execution.commands.{language} is empty"),
                None => default_command(language)?,
            };
            let resolved = resolve(&command, &mut sandbox)
                .await
                .map_err(|e| anyhow::anyhow!("code_execution (local): language `{language}`: {e}"))?;
            commands.insert(language.clone(), resolved);
        }
        if !sandbox.isolate_network {
            tracing::warn!(
                "code_execution (local): this system does not allow unprivileged user namespaces, so programs run WITH network access"
            );
        }
        Ok(LocalBackend { commands, sandbox, max_output_bytes: settings.max_output_bytes })
    }

    pub(super) async fn run(&self, request: &CodeRequest, timeout: Duration) -> Result<CodeRun, String> {
        let command = &self.commands[&request.language];
        let dir = self.workdir().map_err(|e| format!("cannot create the program's temp dir: {e}"))?;
        let file = dir.path().join(source_file(&request.language));
        std::fs::write(&file, &request.source).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        let mut run = self.execute(command, &file, dir.path(), &request.stdin, timeout).await?;
        run.language = request.language.clone();
        Ok(run)
    }

    /// A fresh temp dir the sandbox user can write in.
    fn workdir(&self) -> std::io::Result<tempfile::TempDir> {
        let dir = tempfile::Builder::new().prefix("assay-code-").tempdir()?;
        if let Some(id) = self.sandbox.run_as {
            std::os::unix::fs::chown(dir.path(), Some(id), Some(id))?;
        }
        Ok(dir)
    }

    async fn execute(
        &self,
        command: &[String],
        file: &Path,
        dir: &Path,
        stdin: &str,
        timeout: Duration,
    ) -> Result<CodeRun, String> {
        let mut child = self
            .sandbox
            .command(command, Some(file), dir, timeout)
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", command[0]))?;
        let group = Pid::from_raw(child.id().expect("a just-spawned child has a pid") as i32);
        let started = Instant::now();
        let mut input = child.stdin.take().expect("stdin is piped");
        let stdin = stdin.as_bytes().to_vec();
        // A program that never reads its stdin must not block us: write from a task.
        tokio::spawn(async move { input.write_all(&stdin).await });
        let max = self.max_output_bytes;
        let stdout = tokio::spawn(read_capped(child.stdout.take().expect("stdout is piped"), max));
        let stderr = tokio::spawn(read_capped(child.stderr.take().expect("stderr is piped"), max));
        let waited = tokio::time::timeout(timeout, child.wait()).await;
        // Kill the whole group either way: on timeout, and to end anything
        // the program left running.
        let _ = killpg(group, Signal::SIGKILL);
        let status = match waited {
            Ok(status) => Some(status.map_err(|e| format!("waiting for the program: {e}"))?),
            Err(_) => {
                let _ = child.wait().await;
                None
            }
        };
        let duration_ms = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
        let stdout = drain(stdout).await;
        let mut stderr = drain(stderr).await;
        let exit_code = match status {
            Some(status) => status.code().unwrap_or_else(|| {
                stderr.push_str(&killed_note(status.signal()));
                -1
            }),
            None => -1,
        };
        Ok(CodeRun { language: String::new(), exit_code, stdout, stderr, timed_out: status.is_none(), duration_ms })
    }
}

impl Sandbox {
    /// The command with pipes, a clean environment and the limits applied
    /// in the child before `exec`.
    fn command(&self, argv: &[String], file: Option<&Path>, dir: &Path, timeout: Duration) -> Command {
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]);
        if let Some(file) = file {
            command.arg(file);
        }
        command
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
            .env("HOME", dir)
            .env("TMPDIR", dir)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let sandbox = *self;
        let cpu_seconds = timeout.as_secs() + 2;
        // SAFETY: the closure runs in the forked child before `exec` and
        // only makes raw system calls (no allocation, no locks).
        unsafe {
            command.pre_exec(move || sandbox.enter(cpu_seconds).map_err(std::io::Error::from));
        }
        command
    }

    /// Runs in the child: new session, unprivileged user, namespaces, limits.
    fn enter(&self, cpu_seconds: u64) -> nix::Result<()> {
        nix::unistd::setsid()?;
        if let Some(id) = self.run_as {
            nix::unistd::setgroups(&[])?;
            nix::unistd::setgid(Gid::from_raw(id))?;
            nix::unistd::setuid(Uid::from_raw(id))?;
        }
        if self.isolate_network {
            // A new user namespace lets an unprivileged process create the
            // network namespace; limits set after it count per sandbox.
            nix::sched::unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET)?;
        }
        setrlimit(Resource::RLIMIT_CPU, cpu_seconds, cpu_seconds)?;
        setrlimit(Resource::RLIMIT_AS, self.memory_bytes, self.memory_bytes)?;
        setrlimit(Resource::RLIMIT_NPROC, self.max_processes, self.max_processes)?;
        setrlimit(Resource::RLIMIT_FSIZE, self.max_file_bytes, self.max_file_bytes)?;
        setrlimit(Resource::RLIMIT_CORE, 0, 0)
    }
}

/// Find the command's program (on `PATH` unless it has a `/`) such that
/// `<command> --version` succeeds inside the sandbox: a program on `PATH`
/// the sandbox user cannot run (e.g. under `/root`) is skipped for the
/// next one. Turns network isolation off if the OS refuses namespaces.
async fn resolve(command: &[String], sandbox: &mut Sandbox) -> Result<Vec<String>, String> {
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
    let mut failures = Vec::new();
    for candidate in &candidates {
        let mut argv = command.to_vec();
        argv[0] = candidate.display().to_string();
        match probe(&argv, sandbox).await {
            Ok(()) => return Ok(argv),
            Err(e) => failures.push(format!("{}: {e}", candidate.display())),
        }
    }
    Err(format!("no `{program}` runs in the sandbox ({})", failures.join("; ")))
}

/// Run `<argv> --version` in the sandbox. When namespaces are refused,
/// retry once without them.
async fn probe(argv: &[String], sandbox: &mut Sandbox) -> Result<(), String> {
    let mut probe_argv = argv.to_vec();
    probe_argv.push("--version".into());
    let dir = std::env::temp_dir();
    let timeout = Duration::from_secs(10);
    let output = match sandbox.command(&probe_argv, None, &dir, timeout).output().await {
        Err(e) if sandbox.isolate_network && namespaces_refused(&e) => {
            sandbox.isolate_network = false;
            sandbox.command(&probe_argv, None, &dir, timeout).output().await
        }
        other => other,
    }
    .map_err(|e| e.to_string())?;
    match output.status.success() {
        true => Ok(()),
        false => Err(format!("`--version` exited with {}", output.status)),
    }
}

/// Whether a spawn error is `unshare` being refused (not a missing program).
fn namespaces_refused(error: &std::io::Error) -> bool {
    let errno = error.raw_os_error().map(Errno::from_raw);
    matches!(errno, Some(Errno::EPERM | Errno::EINVAL | Errno::ENOSPC | Errno::EUSERS))
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

/// Read a stream to its end, keeping at most `max` bytes (plus a note
/// when more was written).
async fn read_capped(mut stream: impl AsyncRead + Unpin, max: usize) -> String {
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buffer = vec![0u8; 16 * 1024];
    while let Ok(n) = stream.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        let room = max.saturating_sub(kept.len());
        kept.extend_from_slice(&buffer[..n.min(room)]);
        total += n;
    }
    let text = String::from_utf8_lossy(&kept).into_owned();
    let (mut text, cut) = truncate(text, max);
    if cut || total > kept.len() {
        text.push_str(TRUNCATED_NOTE);
    }
    text
}

/// A reader task's output; a process that left the group and keeps the
/// pipe open past the grace period loses it (and the reader is stopped).
async fn drain(mut task: tokio::task::JoinHandle<String>) -> String {
    match tokio::time::timeout(DRAIN_GRACE, &mut task).await {
        Ok(Ok(output)) => output,
        _ => {
            task.abort();
            String::from("[assay: output not collected: a process kept the pipe open]")
        }
    }
}

/// Why a program died from a signal, for its stderr.
fn killed_note(signal: Option<i32>) -> String {
    let name = signal.and_then(|s| Signal::try_from(s).ok());
    let why = match name {
        Some(Signal::SIGXCPU) => " (CPU time limit)",
        Some(Signal::SIGXFSZ) => " (file size limit)",
        Some(Signal::SIGKILL) => " (killed)",
        Some(Signal::SIGSEGV) => " (segmentation fault, possibly the memory limit)",
        _ => "",
    };
    let name = name.map_or_else(|| format!("signal {}", signal.unwrap_or(0)), |s| s.as_str().to_string());
    format!("\n[assay: the program was stopped by {name}{why}]")
}
