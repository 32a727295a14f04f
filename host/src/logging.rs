//! Logging: stderr at the level the user asked for (`-q`, `-v`, `-vv`,
//! `-vvv`, or `ASSAY_LOG`), and always a full log of the invocation in the
//! run directory (`<run_dir>/logs/assay-<time>.log`, debug level for
//! assay, info for libraries), so a failed overnight run can be read
//! afterwards.
//!
//! The run directory is known only after the preflight, so lines logged
//! before [`log_to_run_dir`] are kept in memory (up to a bound) and written
//! first.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Bytes of early log lines kept until the run directory is known.
const PENDING_LIMIT: usize = 1 << 20;

/// What the file log records.
const FILE_FILTER: &str = "info,assay=debug";

/// Where file log lines go: memory until a run directory is chosen.
enum Sink {
    Pending(Vec<u8>),
    File(File),
}

static SINK: Mutex<Sink> = Mutex::new(Sink::Pending(Vec::new()));

/// Install the stderr and file logs. `stderr_level` is a tracing filter
/// (`error`, `warn`, ...); `ASSAY_LOG` overrides it.
pub(crate) fn init(stderr_level: &str) {
    let stderr_filter =
        EnvFilter::try_from_env(crate::locations::vars::LOG).unwrap_or_else(|_| EnvFilter::new(stderr_level));
    // Colour only on a terminal: redirected logs (batch jobs) stay plain text.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false).with_ansi(colour);
    let file = tracing_subscriber::fmt::layer().with_writer(RunLog).with_ansi(false);
    tracing_subscriber::registry()
        .with(stderr.with_filter(stderr_filter))
        .with(file.with_filter(EnvFilter::new(FILE_FILTER)))
        .init();
}

/// From now on, write the file log to `<run_dir>/logs/assay-<time>.log`
/// (after what was logged so far; a shard's log has its tag in the name).
pub(crate) fn log_to_run_dir(layout: &crate::store::RunLayout) -> Result<()> {
    let dir = layout.logs_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = layout.new_log_file();
    let mut file = File::options()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
    if let Sink::Pending(early) = &*sink {
        file.write_all(early).with_context(|| format!("cannot write {}", path.display()))?;
    }
    *sink = Sink::File(file);
    Ok(())
}

/// The file layer's writer.
struct RunLog;

impl Write for RunLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match &mut *SINK.lock().unwrap_or_else(|e| e.into_inner()) {
            Sink::File(file) => file.write_all(bytes)?,
            Sink::Pending(early) if early.len() + bytes.len() <= PENDING_LIMIT => early.extend_from_slice(bytes),
            Sink::Pending(_) => {} // a runaway preflight: keep the start
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for RunLog {
    type Writer = RunLog;
    fn make_writer(&'a self) -> RunLog {
        RunLog
    }
}
