//! Errors an environment returns; the host shows them to users prefixed with
//! the plugin name, version and record id.

use std::fmt;

/// `Result` with the SDK's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, and whose fault it is.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// The job's `env_args` cannot be used. Name the field.
    BadArgs(String),
    /// A dataset record has a missing or malformed field. Name the field.
    BadRecord(String),
    /// Anything else.
    Internal(String),
}

impl Error {
    /// The arguments are unusable; `message` should name the field.
    pub fn bad_args(message: impl Into<String>) -> Self {
        Error::BadArgs(message.into())
    }
    /// The record is unusable; `message` should name the field.
    pub fn bad_record(message: impl Into<String>) -> Self {
        Error::BadRecord(message.into())
    }
    /// Any other failure.
    pub fn internal(message: impl Into<String>) -> Self {
        Error::Internal(message.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadArgs(m) => write!(f, "bad-args: {m}"),
            Error::BadRecord(m) => write!(f, "bad-record: {m}"),
            Error::Internal(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Error::Internal(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Error::Internal(message.to_string())
    }
}
