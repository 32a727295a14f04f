//! The local sandbox: bubblewrap (`bwrap`, Debian's `bubblewrap` package),
//! used by the `local` code backend and the `local` workspace backend.
//!
//! Every command gets its own user, mount, PID, network, IPC, UTS and
//! cgroup namespaces (`--unshare-all`):
//! - no network: a new namespace with only its own loopback, so neither the
//!   host's services on 127.0.0.1 nor the outside are reachable;
//! - the host's file system read-only (each top-level directory bound
//!   read-only), with a private `/dev`, `/proc`, `/run` and a size-capped
//!   `/tmp`; one directory is writable (the program's temp dir or the
//!   sample's workspace), bound at a fixed path;
//! - `--die-with-parent` with the PID namespace: when the command ends or
//!   is killed, everything it started dies with it, including processes
//!   that called `setsid` to leave its process group;
//! - when assay runs as root, bwrap runs as `nobody`, so the sandbox cannot
//!   read root's files;
//! - rlimits, set by `prlimit` inside the sandbox's user namespace: CPU
//!   seconds, address space, file size, no core files, and processes,
//!   which the kernel counts per user *per namespace*, so one sandbox's
//!   fork bomb cannot starve another (set before bwrap, the limit would
//!   count every process of the user on the machine);
//! - a clean environment.
//!
//! [`Bubblewrap::find`] checks once (in preflight) that bwrap is installed
//! and can create its namespaces here; it cannot inside a Docker container
//! with the default seccomp profile, nor where unprivileged user namespaces
//! are restricted (Ubuntu 24.04's AppArmor setting): then the run stops
//! with one line instead of running anything unsandboxed.

use anyhow::{Result, bail};
use nix::unistd::Uid;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::process::Command;

/// The uid and gid sandboxes run as when the host is root (`nobody`).
pub(crate) const UNPRIVILEGED_ID: u32 = 65534;

/// `PATH` inside a sandbox unless the caller sets one.
pub(crate) const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Top-level host directories the sandbox gets fresh instead of bound.
const PRIVATE: [&str; 5] = ["dev", "proc", "run", "sys", "tmp"];

/// bubblewrap, found and checked.
#[derive(Debug, Clone)]
pub(crate) struct Bubblewrap {
    program: PathBuf,
    /// util-linux's `prlimit`, which sets the limits inside the sandbox.
    prlimit: PathBuf,
    /// The host's top-level entries to show read-only (directories and
    /// symbolic links such as `/bin -> usr/bin`).
    root: Vec<RootEntry>,
    /// Who runs the sandbox: `nobody` when the host is root.
    run_as: Option<u32>,
}

#[derive(Debug, Clone)]
enum RootEntry {
    Dir(PathBuf),
    Link { path: PathBuf, target: PathBuf },
}

/// OS limits of one sandboxed command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Limits {
    /// Address space per process.
    pub memory_bytes: u64,
    /// Processes of the sandbox user at once.
    pub max_processes: u64,
    /// Largest file a process may write (also the size of `/tmp`).
    pub max_file_bytes: u64,
}

/// One command to run in the sandbox.
pub(crate) struct Jail<'a> {
    /// The host directory bound writable.
    pub writable: &'a Path,
    /// Where it appears in the sandbox (an absolute path; also the working directory).
    pub mount_at: &'a str,
    /// The environment (nothing else is inherited); `PATH` defaults to [`DEFAULT_PATH`].
    pub env: &'a [(String, String)],
    /// OS limits.
    pub limits: Limits,
    /// The wall-clock limit, from which the CPU-time limit is derived.
    pub timeout: Duration,
}

impl Bubblewrap {
    /// Find `bwrap` on `PATH` and check it can sandbox a command here.
    pub(crate) async fn find() -> Result<Self> {
        let Some(program) = on_path("bwrap") else {
            bail!(
                "bubblewrap (`bwrap`) is not installed; the local sandbox needs it: install Debian's `bubblewrap` package (apt-get install bubblewrap)"
            );
        };
        let Some(prlimit) = on_path("prlimit") else {
            bail!("`prlimit` (util-linux) is not installed; the local sandbox sets its limits with it");
        };
        let run_as = Uid::effective().is_root().then_some(UNPRIVILEGED_ID);
        let bwrap = Bubblewrap { program, prlimit, root: host_root()?, run_as };
        bwrap.check().await?;
        Ok(bwrap)
    }

    /// Run `true` in a sandbox, as every command will run.
    async fn check(&self) -> Result<()> {
        let dir = tempfile::Builder::new().prefix("assay-check-").tempdir()?;
        self.hand_over(dir.path())?;
        let limits = Limits { memory_bytes: 256 << 20, max_processes: 64, max_file_bytes: 1 << 20 };
        let jail =
            Jail { writable: dir.path(), mount_at: "/sandbox", env: &[], limits, timeout: Duration::from_secs(10) };
        let output = self.command(&jail, &["true".to_string()]).output().await;
        match output {
            Ok(output) if output.status.success() => Ok(()),
            Ok(output) => bail!(
                "bubblewrap cannot create its sandbox here ({}): unprivileged user namespaces must be allowed (not inside a Docker container with the default seccomp profile; on Ubuntu 24.04, kernel.apparmor_restrict_unprivileged_userns=0)",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
            Err(e) => bail!("cannot run {}: {e}", self.program.display()),
        }
    }

    /// Give the sandbox user a directory (and its contents) to write in.
    pub(crate) fn hand_over(&self, dir: &Path) -> std::io::Result<()> {
        let Some(id) = self.run_as else { return Ok(()) };
        chown_tree(dir, id)
    }

    /// The command running `argv` in the sandbox `jail` describes.
    pub(crate) fn command(&self, jail: &Jail, argv: &[String]) -> Command {
        let mut command = Command::new(&self.program);
        let mount_top = jail.mount_at.trim_start_matches('/').split('/').next().unwrap_or_default();
        command.args(["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session"]);
        command.args(["--hostname", "sandbox", "--clearenv"]);
        // A host entry where the writable directory goes is left out.
        for entry in self.root.iter().filter(|entry| entry.path().file_name().is_some_and(|n| n != mount_top)) {
            match entry {
                RootEntry::Dir(path) => command.arg("--ro-bind").arg(path).arg(path),
                RootEntry::Link { path, target } => command.arg("--symlink").arg(target).arg(path),
            };
        }
        command.args(["--dev", "/dev", "--proc", "/proc", "--tmpfs", "/run", "--perms", "1777", "--size"]);
        command.arg(jail.limits.max_file_bytes.to_string()).args(["--tmpfs", "/tmp"]);
        command.arg("--bind").arg(jail.writable).arg(jail.mount_at).args(["--chdir", jail.mount_at]);
        let has_path = jail.env.iter().any(|(name, _)| name == "PATH");
        let path = [("PATH".to_string(), DEFAULT_PATH.to_string())];
        for (name, value) in jail.env.iter().chain(if has_path { &[][..] } else { &path[..] }) {
            command.args(["--setenv", name, value]);
        }
        let limits = jail.limits;
        let cpu_seconds = jail.timeout.as_secs() + 2;
        command.arg("--").arg(&self.prlimit);
        for (resource, value) in [
            ("cpu", cpu_seconds),
            ("as", limits.memory_bytes),
            ("nproc", limits.max_processes),
            ("fsize", limits.max_file_bytes),
            ("core", 0),
        ] {
            command.arg(format!("--{resource}={value}:{value}"));
        }
        command.arg("--").args(argv).env_clear();
        if let Some(id) = self.run_as {
            command.uid(id).gid(id);
        }
        command
    }
}

/// The host's top-level directories and links, but those the sandbox gets
/// fresh.
fn host_root() -> Result<Vec<RootEntry>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir("/")? {
        let path = entry?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if PRIVATE.contains(&name.as_str()) {
            continue;
        }
        let metadata = std::fs::symlink_metadata(&path)?;
        if metadata.is_symlink() {
            entries.push(RootEntry::Link { target: std::fs::read_link(&path)?, path });
        } else if metadata.is_dir() {
            entries.push(RootEntry::Dir(path));
        }
    }
    entries.sort_by(|a, b| a.path().cmp(b.path()));
    Ok(entries)
}

impl RootEntry {
    fn path(&self) -> &Path {
        match self {
            RootEntry::Dir(path) | RootEntry::Link { path, .. } => path,
        }
    }
}

/// `program` in a directory of `PATH`.
pub(crate) fn on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| candidate.is_file())
}

/// `chown -R id:id dir`, without following symbolic links.
fn chown_tree(dir: &Path, id: u32) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(id), Some(id))?;
    if std::fs::symlink_metadata(dir)?.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            chown_tree(&entry?.path(), id)?;
        }
    }
    Ok(())
}
