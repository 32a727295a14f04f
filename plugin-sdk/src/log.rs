//! Log through the host. Lines land in the run's log tagged with plugin
//! and record; plugins have no stdout of their own. Natively (in
//! `cargo test`) they go to stderr.

use crate::__private::assay::env::types::LogLevel;

fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    crate::__private::assay::env::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    #[allow(clippy::print_stderr, reason = "natively, stderr is where a plugin's log goes")]
    {
        eprintln!("[{level:?}] {message}");
    }
}

/// Log at debug level.
pub fn debug(message: &str) {
    log(LogLevel::Debug, message)
}

/// Log at info level.
pub fn info(message: &str) {
    log(LogLevel::Info, message)
}

/// Log at warn level.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message)
}

/// Log at error level.
pub fn error(message: &str) {
    log(LogLevel::Error, message)
}
