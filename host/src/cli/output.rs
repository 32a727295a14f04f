//! Everything the command line prints goes through here: lines on stdout
//! (tables, results) and notices on stderr. A command that prints into a
//! closed pipe (`assay plugin info FILE | head -1`) gets an error from
//! [`outln!`] and ends quietly with it, instead of panicking as `println!`
//! does. The workspace lints forbid `println!`/`eprintln!` elsewhere.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::fmt::Arguments;
use std::io::{self, Write};

/// Write one line to stdout. An error (a closed pipe) is returned so the
/// command can stop; [`super::main`] ends such a command quietly.
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::cli::output::stdout_line(format_args!($($arg)*))
    };
}

/// Write one line to stderr (notices, warnings, per-item errors). Nothing
/// useful can be done when stderr itself is gone, so errors are ignored.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// See [`outln!`].
pub(crate) fn stdout_line(text: Arguments<'_>) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    stdout.write_fmt(text)?;
    stdout.write_all(b"\n")
}

/// See [`errln!`].
pub(crate) fn stderr_line(text: Arguments<'_>) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Ask a question on stderr and read one line of answer from stdin.
pub(crate) fn ask(question: &str) -> io::Result<String> {
    let mut stderr = io::stderr().lock();
    write!(stderr, "{question} ")?;
    stderr.flush()?;
    drop(stderr);
    let mut answer = String::new();
    io::stdin().read_line(&mut answer)?;
    Ok(answer.trim().to_lowercase())
}

/// Whether `error` (anywhere in its chain) is a write to a closed pipe.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe))
}
