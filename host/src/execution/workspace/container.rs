//! The `docker` and `podman` workspace backends: each command runs in a
//! fresh container of the task's image (`docker run --rm`) with the
//! workspace directory mounted at `/workspace`, no network, all
//! capabilities dropped, no privilege gain, and memory, process and file
//! size limits. A command past its time limit has its container removed
//! (`docker rm -f`), which ends everything it started.
//!
//! Untested on the machines assay is developed on (no container engine
//! runs there); the checks in [`ContainerEngine::find`] and
//! [`ContainerEngine::check_image`] are what preflight relies on.

use crate::config::{WorkspaceBackendKind, WorkspaceConfig};
use crate::execution::bwrap::on_path;
use crate::execution::process::{self, Finished};
use anyhow::{Result, bail};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::process::Command;

/// How long the engine may take to answer a check or remove a container.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(60);

/// Tells containers apart within this process.
static NEXT_CONTAINER: AtomicU64 = AtomicU64::new(0);

/// A container engine's command-line client, checked.
#[derive(Debug)]
pub(super) struct ContainerEngine {
    program: PathBuf,
    /// `docker` or `podman`, for messages.
    name: &'static str,
}

/// What a command in a container may use.
pub(super) struct Run<'a> {
    pub workspace: &'a Path,
    pub image: &'a str,
    pub env: &'a [(String, String)],
    pub settings: &'a WorkspaceConfig,
}

impl ContainerEngine {
    /// Find the engine's client and check that it reaches the engine.
    pub(super) async fn find(kind: WorkspaceBackendKind) -> Result<Self> {
        let name = match kind {
            WorkspaceBackendKind::Docker => "docker",
            WorkspaceBackendKind::Podman => "podman",
            WorkspaceBackendKind::Local => unreachable!("the local backend has no container engine"),
        };
        let Some(program) = on_path(name) else {
            bail!("workspace ({name}): `{name}` is not installed");
        };
        let engine = ContainerEngine { program, name };
        let version = engine.client(&["version", "--format", "{{.Server.Version}}"]).await?;
        if version.exit_code != 0 {
            bail!("workspace ({name}): cannot reach the {name} engine: {}", first_line(&version.stderr));
        }
        Ok(engine)
    }

    /// Check that `image` is present (preflight: a run never pulls).
    pub(super) async fn check_image(&self, image: &str) -> Result<()> {
        let inspected = self.client(&["image", "inspect", "--format", "{{.Id}}", image]).await?;
        if inspected.exit_code != 0 {
            bail!(
                "workspace ({}): image `{image}` is not present here; pull it first (`{} pull {image}`)",
                self.name,
                self.name
            );
        }
        Ok(())
    }

    /// Run `argv` in a fresh container; one past `timeout` is removed.
    pub(super) async fn run(
        &self,
        run: &Run<'_>,
        argv: &[String],
        stdin: Vec<u8>,
        timeout: Duration,
    ) -> Result<Finished, String> {
        let container = format!("assay-{}-{}", std::process::id(), NEXT_CONTAINER.fetch_add(1, Ordering::Relaxed));
        let settings = run.settings;
        let mut command = Command::new(&self.program);
        command.args(["run", "--rm", "-i", "--name", &container, "--network", "none", "--cap-drop", "ALL"]);
        command.args(["--security-opt", "no-new-privileges", "--tmpfs", "/tmp", "-w", "/workspace"]);
        command.arg("--memory").arg(format!("{}m", settings.memory_mb));
        command.arg("--pids-limit").arg(settings.max_processes.to_string());
        let file_bytes = settings.max_file_mb << 20;
        command.arg("--ulimit").arg(format!("fsize={file_bytes}:{file_bytes}"));
        command.arg("-v").arg(format!("{}:/workspace", run.workspace.display()));
        for (name, value) in run.env {
            command.arg("-e").arg(format!("{name}={value}"));
        }
        command.arg(run.image).args(argv);
        let finished = process::run(command, stdin, timeout, settings.max_output_bytes).await;
        if finished.as_ref().map_or(true, |f| f.timed_out) {
            // Killing the client leaves the container running.
            let _ = self.client(&["rm", "-f", &container]).await;
        }
        finished
    }

    async fn client(&self, args: &[&str]) -> Result<Finished> {
        let mut command = Command::new(&self.program);
        command.args(args);
        process::run(command, Vec::new(), ENGINE_TIMEOUT, 64 * 1024)
            .await
            .map_err(|e| anyhow::anyhow!("workspace ({}): {e}", self.name))
    }
}

fn first_line(text: &str) -> &str {
    text.trim().lines().next().unwrap_or("no output")
}
