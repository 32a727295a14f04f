//! One server process: started in its own process group with its output
//! appended to a log file, and never outliving assay. Three guards: it is
//! stopped (SIGTERM to the group, then SIGKILL after a grace) when its jobs
//! are done; dropping a [`ServerProcess`] kills the group (a run ended by
//! an error or a dropped task); and the kernel kills it if assay dies
//! (`PR_SET_PDEATHSIG`). [`kill_all`] covers `std::process::exit`, which
//! runs no destructors.

use anyhow::{Context, Result};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;
use tokio::process::{Child, Command};

/// Process groups of the servers alive, for [`kill_all`].
static LIVE_GROUPS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Kill every server's process group at once: for an exit that runs no
/// destructors (a second Ctrl-C).
pub fn kill_all() {
    let groups = LIVE_GROUPS.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    for &group in groups.iter() {
        let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
    }
}

/// A running server process and its group.
pub(super) struct ServerProcess {
    child: Child,
    group: Pid,
}

impl ServerProcess {
    /// Start `argv` with `env` added to assay's environment, appending its
    /// stdout and stderr to `log` after a line saying what was started.
    pub(super) fn start(argv: &[String], env: &[(String, String)], log: &Path, header: &str) -> Result<ServerProcess> {
        let (program, args) = argv.split_first().context("an empty command line")?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("cannot open server log {}", log.display()))?;
        writeln!(file, "--- assay: {header}: {}", super::spec::shell_words(argv))?;
        let mut command = Command::new(program);
        command.args(args).envs(env.iter().cloned()).stdin(Stdio::null());
        command.stdout(file.try_clone()?).stderr(file).process_group(0);
        // SAFETY: the closure only calls prctl(2), which is async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(std::io::Error::from)?;
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("cannot start `{program}`"))?;
        let group = Pid::from_raw(child.id().context("a just-started server has a pid")? as i32);
        LIVE_GROUPS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(group.as_raw());
        Ok(ServerProcess { child, group })
    }

    /// The server's pid (its process group's id too).
    pub(super) fn pid(&self) -> i32 {
        self.group.as_raw()
    }

    /// Wait for the server to exit.
    pub(super) async fn exited(&mut self) -> std::io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Stop it: SIGTERM to its group, SIGKILL after `grace` if it is still
    /// running, then SIGKILL to whatever of its group is left.
    pub(super) async fn stop(mut self, grace: Duration) {
        let _ = killpg(self.group, Signal::SIGTERM);
        if tokio::time::timeout(grace, self.child.wait()).await.is_err() {
            let _ = killpg(self.group, Signal::SIGKILL);
            let _ = self.child.wait().await;
        }
        // Drop kills what is left of the group (workers that outlived the leader).
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = killpg(self.group, Signal::SIGKILL);
        // Reap the leader if it is gone already; tokio reaps it later otherwise.
        let _ = self.child.try_wait();
        LIVE_GROUPS.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(&self.group.as_raw());
    }
}

/// The last `lines` lines of a server log, for error messages.
pub(super) fn log_tail(log: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// The first line the version command prints, if it runs.
pub(super) async fn version(argv: &[String]) -> Option<String> {
    let (program, args) = argv.split_first()?;
    let run = Command::new(program).args(args).stdin(Stdio::null()).kill_on_drop(true).output();
    let output = tokio::time::timeout(Duration::from_secs(60), run).await.ok()?.ok()?;
    let text = format!("{}\n{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let line = text.lines().map(str::trim).find(|line| !line.is_empty())?;
    output.status.success().then(|| line.to_string())
}
