//! Running one sandboxed command to its end: stdin fed from a task (a
//! program that never reads it cannot block us), stdout and stderr read
//! with a cap (the rest is read and dropped, so a chatty program can
//! neither block nor fill memory), a wall-clock limit, and its whole
//! process group killed afterwards. The code backend and the workspace
//! both run their commands through [`run`].

use super::{TRUNCATED_NOTE, truncate};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How long to wait for output pipes after the command's group is killed
/// (a process that left the group may still hold them open).
const DRAIN_GRACE: Duration = Duration::from_secs(1);

/// What a command did.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Finished {
    /// Its exit code; -1 when it was killed (by the time limit or a signal).
    pub exit_code: i32,
    /// Standard output, capped.
    pub stdout: String,
    /// Standard error, capped, with a note when a signal stopped it.
    pub stderr: String,
    /// Whether it hit the wall-clock limit.
    pub timed_out: bool,
    /// How long it ran.
    pub duration_ms: u32,
}

/// Run `command` (set up by the caller: program, arguments, environment)
/// with `stdin`, for at most `timeout`, keeping at most `max_output` bytes
/// of each stream. `Err` means it could not be started.
pub(crate) async fn run(
    mut command: Command,
    stdin: Vec<u8>,
    timeout: Duration,
    max_output: usize,
) -> Result<Finished, String> {
    command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0).kill_on_drop(true);
    let program = command.as_std().get_program().to_string_lossy().into_owned();
    let mut child = command.spawn().map_err(|e| format!("cannot start `{program}`: {e}"))?;
    let group = Pid::from_raw(child.id().expect("a just-spawned child has a pid") as i32);
    let started = Instant::now();
    let mut input = child.stdin.take().expect("stdin is piped");
    tokio::spawn(async move { input.write_all(&stdin).await });
    let stdout = tokio::spawn(read_capped(child.stdout.take().expect("stdout is piped"), max_output));
    let stderr = tokio::spawn(read_capped(child.stderr.take().expect("stderr is piped"), max_output));
    let waited = tokio::time::timeout(timeout, child.wait()).await;
    // Kill the whole group either way: on timeout, and to end anything
    // the command left running.
    let _ = killpg(group, Signal::SIGKILL);
    let status = match waited {
        Ok(status) => Some(status.map_err(|e| format!("waiting for `{program}`: {e}"))?),
        Err(_) => {
            let _ = child.wait().await;
            None
        }
    };
    let duration_ms = started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32;
    let stdout = drain(stdout).await;
    let mut stderr = drain(stderr).await;
    let exit_code = match status.map(|status| status.code()) {
        None => -1,
        Some(code) => match signal_of(code) {
            Some(signal) => {
                stderr.push_str(&killed_note(signal));
                -1
            }
            None => code.unwrap_or(-1),
        },
    };
    Ok(Finished { exit_code, stdout, stderr, timed_out: status.is_none(), duration_ms })
}

/// The signal that stopped a command, from its exit code: the sandbox
/// (bubblewrap) reports a command killed by signal N as exit code 128 + N,
/// as shells do; a process killed directly has no code.
fn signal_of(code: Option<i32>) -> Option<Option<Signal>> {
    match code {
        None => Some(None),
        Some(code @ 129..=159) => Some(Signal::try_from(code - 128).ok()),
        Some(_) => None,
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

/// Why a command died from a signal, for its stderr.
fn killed_note(signal: Option<Signal>) -> String {
    let why = match signal {
        Some(Signal::SIGXCPU) => " (CPU time limit)",
        Some(Signal::SIGXFSZ) => " (file size limit)",
        Some(Signal::SIGKILL) => " (killed)",
        Some(Signal::SIGSEGV) => " (segmentation fault, possibly the memory limit)",
        _ => "",
    };
    let name = signal.map_or("a signal", |s| s.as_str());
    format!("\n[assay: the program was stopped by {name}{why}]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_above_128_are_signals() {
        assert_eq!(signal_of(Some(0)), None);
        assert_eq!(signal_of(Some(1)), None);
        assert_eq!(signal_of(Some(137)), Some(Some(Signal::SIGKILL)));
        assert_eq!(signal_of(Some(152)), Some(Some(Signal::SIGXCPU)));
        assert_eq!(signal_of(None), Some(None));
    }
}
