//! Workspaces: a fresh writable directory per sample, copied from the
//! task's repository snapshot, in which the plugin runs commands, reads and
//! writes files, and gets the diff against the original (`workspace`
//! actions, granted by the `workspace` capability).
//!
//! Every command, file reads and writes included, runs inside the sandbox,
//! so a path is resolved as the sandboxed program sees it: a symbolic link
//! the agent made to `/etc/passwd` reads the sandbox's read-only view and
//! can never be written through. Backends:
//! - `local`: bubblewrap ([`crate::execution::bwrap`]), the workspace
//!   bound at `/workspace`;
//! - `docker` / `podman` ([`container`]): a fresh container of the task's
//!   image per command, the workspace mounted at `/workspace`.
//!
//! A [`WorkspaceRunner`] is started (and its backend checked) in preflight,
//! shared by every job with the same settings, which share its
//! concurrency limit. A [`Workspace`] lives for one sample in a temp
//! directory; it is removed when dropped, unless it was moved out to be
//! kept (`--keep-workspaces`).

mod container;
mod diff;

use super::bwrap::{Bubblewrap, Jail, Limits};
use super::process::{self, Finished};
use crate::config::{WorkspaceBackendKind, WorkspaceConfig};
use crate::runtime::{CodeResult, WorkspaceRequest, WorkspaceResult};
use anyhow::{Result, bail};
use container::ContainerEngine;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::Semaphore;

/// Where the workspace appears to commands.
pub(crate) const MOUNT_AT: &str = "/workspace";

/// The environment of every workspace command, under the job's
/// `environment_variables`. `HOME` is the private `/tmp`, so tools' caches
/// stay out of the diff. Python writes no bytecode: an edit of the same
/// size within the second of a cached compile would otherwise run the old
/// code (`.pyc` files are checked by size and whole-second mtime), and a
/// fix made quickly would be scored as no fix.
const DEFAULT_ENV: [(&str, &str); 4] =
    [("HOME", "/tmp"), ("TMPDIR", "/tmp"), ("LANG", "C.UTF-8"), ("PYTHONDONTWRITEBYTECODE", "1")];

/// How long a file read or write may take.
const FILE_TIMEOUT: Duration = Duration::from_secs(30);

/// Prints a file, or exits 3 when there is none.
const READ_SCRIPT: &str = r#"[ -e "$1" ] || [ -L "$1" ] || exit 3; [ -f "$1" ] || { echo "not a regular file" >&2; exit 4; }; exec cat -- "$1""#;

/// Writes stdin to a file, making its directory.
const WRITE_SCRIPT: &str = r#"mkdir -p -- "$(dirname -- "$1")" && cat > "$1""#;

/// Runs the workspaces of the envs that share one `workspace` setting.
pub(crate) struct WorkspaceRunner {
    settings: WorkspaceConfig,
    backend: Backend,
    permits: Semaphore,
    /// Images already checked (docker, podman).
    images: Mutex<BTreeSet<String>>,
}

enum Backend {
    Local(Bubblewrap),
    Container(ContainerEngine),
}

/// One sample's workspace: `workspace/` in a temp directory (which the
/// sandbox user may enter), removed when dropped unless [`Workspace::keep`]
/// moved it out first.
pub(crate) struct Workspace {
    runner: Arc<WorkspaceRunner>,
    temp: PathBuf,
    dir: PathBuf,
    /// What the workspace was copied from (none: it started empty).
    original: Option<PathBuf>,
    image: Option<String>,
    env: Vec<(String, String)>,
}

impl WorkspaceRunner {
    /// Check the backend before the run.
    pub(crate) async fn start(settings: &WorkspaceConfig) -> Result<Self> {
        let backend = match settings.backend {
            WorkspaceBackendKind::Local => {
                Backend::Local(Bubblewrap::find().await.map_err(|e| anyhow::anyhow!("workspace (local): {e}"))?)
            }
            kind => Backend::Container(ContainerEngine::find(kind).await?),
        };
        let max_concurrent =
            settings.max_concurrent.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
        Ok(WorkspaceRunner {
            settings: settings.clone(),
            backend,
            permits: Semaphore::new(max_concurrent),
            images: Mutex::default(),
        })
    }

    /// Check the images a job's tasks name (`None`: the task names none,
    /// so the configured one is used). The local backend uses none.
    pub(crate) async fn check_images<'a>(&self, images: impl IntoIterator<Item = Option<&'a str>>) -> Result<()> {
        let Backend::Container(engine) = &self.backend else { return Ok(()) };
        for image in images {
            let Some(image) = image.or(self.settings.image.as_deref()) else {
                bail!("workspace: a task names no `image` and workspace.image is not set");
            };
            if self.images.lock().expect("image set lock").contains(image) {
                continue;
            }
            engine.check_image(image).await?;
            self.images.lock().expect("image set lock").insert(image.to_string());
        }
        Ok(())
    }
}

impl Workspace {
    /// A fresh workspace copied from `source` (none: empty). `env` is set
    /// for every command.
    pub(crate) async fn create(
        runner: Arc<WorkspaceRunner>,
        source: Option<&Path>,
        image: Option<&str>,
        env: Vec<(String, String)>,
    ) -> Result<Workspace, String> {
        let temp = tempfile::Builder::new().prefix("assay-ws-").tempdir().map_err(|e| e.to_string())?.keep();
        let dir = temp.join("workspace");
        let image = image.or(runner.settings.image.as_deref()).map(String::from);
        let workspace = Workspace { runner, temp, dir, original: source.map(Path::to_path_buf), image, env };
        copy_tree(source, &workspace.dir).await?;
        if let Backend::Local(bwrap) = &workspace.runner.backend {
            let (bwrap, temp) = (bwrap.clone(), workspace.temp.clone());
            tokio::task::spawn_blocking(move || bwrap.hand_over(&temp))
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| format!("cannot hand the workspace to the sandbox: {e}"))?;
        }
        Ok(workspace)
    }

    /// Move the workspace to `at` (replacing what is there) instead of
    /// removing it.
    pub(crate) fn keep(self, at: &Path) -> Result<(), String> {
        if at.exists() {
            remove_tree(at).map_err(|e| format!("cannot clear {}: {e}", at.display()))?;
        }
        let parent = at.parent().expect("a kept workspace has a parent");
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        if std::fs::rename(&self.dir, at).is_err() {
            // Another file system: copy, and let the drop remove the original.
            let mut command = std::process::Command::new("cp");
            let copied = command.args(["-a", "--"]).arg(&self.dir).arg(at).status();
            if !copied.is_ok_and(|status| status.success()) {
                return Err(format!("cannot copy the workspace to {}", at.display()));
            }
        }
        Ok(())
    }

    /// Carry out a request. `Err` means the host could not (the sandbox
    /// failed to start); what a command does, or a refused path, is `Ok`.
    pub(crate) async fn act(&self, request: &WorkspaceRequest) -> Result<WorkspaceResult, String> {
        match request {
            WorkspaceRequest::Exec(exec) => {
                let asked = Duration::from_millis(u64::from(exec.timeout_ms));
                let cap = Duration::from_secs_f64(self.runner.settings.timeout_secs);
                let timeout = if asked.is_zero() { cap } else { asked.min(cap) };
                let argv = shell(&exec.command, &[]);
                let finished = self.run(&argv, exec.stdin.as_bytes().to_vec(), timeout).await?;
                Ok(WorkspaceResult::Exec(code_result(finished)))
            }
            WorkspaceRequest::ReadFile(path) => {
                let path = match relative(path) {
                    Ok(path) => path,
                    Err(refusal) => return Ok(WorkspaceResult::Refused(refusal)),
                };
                let finished = self.run(&shell(READ_SCRIPT, &[path]), Vec::new(), FILE_TIMEOUT).await?;
                Ok(match finished.exit_code {
                    0 => WorkspaceResult::File(Some(finished.stdout)),
                    3 => WorkspaceResult::File(None),
                    _ => WorkspaceResult::Refused(refusal("cannot read", &finished)),
                })
            }
            WorkspaceRequest::WriteFile(write) => {
                let path = match relative(&write.path) {
                    Ok(path) => path,
                    Err(refusal) => return Ok(WorkspaceResult::Refused(refusal)),
                };
                let content = write.content.as_bytes().to_vec();
                let finished = self.run(&shell(WRITE_SCRIPT, &[path]), content, FILE_TIMEOUT).await?;
                Ok(match finished.exit_code {
                    0 => WorkspaceResult::Written,
                    _ => WorkspaceResult::Refused(refusal("cannot write", &finished)),
                })
            }
            WorkspaceRequest::Diff => Ok(WorkspaceResult::Diff(self.diff().await?)),
        }
    }

    /// The diff of the workspace against what it was made from.
    pub(crate) async fn diff(&self) -> Result<String, String> {
        let settings = &self.runner.settings;
        diff::diff(self.original.as_deref(), &self.dir, &settings.diff_exclude, settings.max_diff_bytes).await
    }

    async fn run(&self, argv: &[String], stdin: Vec<u8>, timeout: Duration) -> Result<Finished, String> {
        let runner = &self.runner;
        let _permit = runner.permits.acquire().await.expect("the semaphore is never closed");
        let settings = &runner.settings;
        let mut env: Vec<(String, String)> = DEFAULT_ENV.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        env.retain(|(name, _)| !self.env.iter().any(|(set, _)| set == name));
        env.extend(self.env.iter().cloned());
        match &runner.backend {
            Backend::Local(bwrap) => {
                let limits = Limits {
                    memory_bytes: settings.memory_mb << 20,
                    max_processes: settings.max_processes,
                    max_file_bytes: settings.max_file_mb << 20,
                };
                let jail = Jail { writable: &self.dir, mount_at: MOUNT_AT, env: &env, limits, timeout };
                process::run(bwrap.command(&jail, argv), stdin, timeout, settings.max_output_bytes).await
            }
            Backend::Container(engine) => {
                let image = self.image.as_deref().ok_or("the task names no image and workspace.image is not set")?;
                let run = container::Run { workspace: &self.dir, image, env: &env, settings };
                engine.run(&run, argv, stdin, timeout).await
            }
        }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if let Err(error) = remove_tree(&self.temp) {
            tracing::warn!("cannot remove workspace {}: {error}", self.temp.display());
        }
    }
}

/// `sh -c SCRIPT sh ARGS...`.
fn shell(script: &str, args: &[String]) -> Vec<String> {
    let mut argv = vec!["sh".to_string(), "-c".to_string(), script.to_string()];
    if !args.is_empty() {
        argv.push("sh".to_string());
        argv.extend_from_slice(args);
    }
    argv
}

/// A path the plugin gave, relative to the workspace root: `/workspace/x`
/// is taken as `x`; any other absolute path, or one climbing out with
/// `..`, is refused.
fn relative(path: &str) -> Result<String, String> {
    let inside = match path.strip_prefix(MOUNT_AT) {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest.trim_start_matches('/'),
        _ if path.starts_with('/') => {
            return Err(format!("`{path}` is outside the workspace (paths are relative to {MOUNT_AT})"));
        }
        _ => path,
    };
    let mut parts = Vec::new();
    for component in Path::new(inside).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            Component::ParentDir if parts.pop().is_none() => return Err(format!("`{path}` is outside the workspace")),
            Component::ParentDir | Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
        }
    }
    if parts.is_empty() {
        return Err(format!("`{path}` names no file"));
    }
    Ok(parts.join("/"))
}

fn code_result(finished: Finished) -> CodeResult {
    CodeResult {
        exit_code: finished.exit_code,
        stdout: finished.stdout,
        stderr: finished.stderr,
        timed_out: finished.timed_out,
        duration_ms: finished.duration_ms,
    }
}

fn refusal(what: &str, finished: &Finished) -> String {
    match finished.stderr.trim() {
        "" => format!("{what} the file (exit code {})", finished.exit_code),
        stderr => format!("{what} the file: {stderr}"),
    }
}

/// Copy `source` (a directory) to `dir`, which must not exist, keeping
/// modes and links; without a source, make `dir` empty.
async fn copy_tree(source: Option<&Path>, dir: &Path) -> Result<(), String> {
    let Some(source) = source else {
        return std::fs::create_dir(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()));
    };
    let mut command = Command::new("cp");
    command.args(["-a", "--reflink=auto", "--"]).arg(source).arg(dir);
    let finished = process::run(command, Vec::new(), Duration::from_secs(600), 4096).await?;
    match finished.exit_code {
        0 => Ok(()),
        code => Err(format!("cannot copy {} (cp exited with {code}): {}", source.display(), finished.stderr.trim())),
    }
}

/// Remove a directory tree, first making its directories writable if a
/// sandboxed command took that away (it would stop the removal when the
/// host is not root).
fn remove_tree(dir: &Path) -> std::io::Result<()> {
    if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
        return Ok(());
    }
    make_writable(dir);
    std::fs::remove_dir_all(dir)
}

fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            make_writable(&entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside_the_workspace() {
        assert_eq!(relative("src/a.py"), Ok("src/a.py".into()));
        assert_eq!(relative("./src/../b.py"), Ok("b.py".into()));
        assert_eq!(relative("/workspace/src/a.py"), Ok("src/a.py".into()));
        assert!(relative("/etc/passwd").is_err());
        assert!(relative("/workspacex/a").is_err());
        assert!(relative("../x").is_err());
        assert!(relative("a/../../x").is_err());
        assert!(relative("").is_err());
        assert!(relative("/workspace").is_err());
    }
}
