//! Reading a config file as YAML or TOML (by extension), with every error
//! on one line naming file, line:column and field path.

use super::interpolate::Expanding;
use anyhow::{Context, Result, anyhow};
use serde::de::DeserializeOwned;
use std::path::Path;

/// Parse a config file into `T` (TOML for a `.toml` file, else YAML), with
/// one-line errors naming file, line:column and field path. `${VAR}` in
/// its values is replaced by the environment variable's value (see
/// [`super::interpolate`]).
pub(crate) fn parse_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config {}", path.display()))?;
    parse_str(&text, path, Interpolate::Yes)
}

/// [`parse_file`] for files whose text is data rather than settings
/// (prompts files, task metadata): `${...}` stays as written, since
/// prompts and shell commands use it for their own ends.
pub(crate) fn parse_literal_file<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    parse_str(&text, path, Interpolate::No)
}

/// Whether `${VAR}` references are expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Interpolate {
    Yes,
    No,
}

/// Whether `path` names a TOML file (by extension).
fn is_toml(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext.eq_ignore_ascii_case("toml"))
}

/// Parse `text` read from `path` (whose extension picks the syntax) into `T`.
fn parse_str<T: DeserializeOwned>(text: &str, path: &Path, interpolate: Interpolate) -> Result<T> {
    if is_toml(path) {
        let deserializer =
            toml::de::Deserializer::parse(text).map_err(|e| anyhow!("{}", describe_toml(path, text, "", e)))?;
        let parsed = match interpolate {
            Interpolate::Yes => serde_path_to_error::deserialize(Expanding::new(deserializer)),
            Interpolate::No => serde_path_to_error::deserialize(deserializer),
        };
        return parsed.map_err(|error| {
            let field = error.path().to_string();
            anyhow!("{}", describe_toml(path, text, &field, error.into_inner()))
        });
    }
    let deserializer = serde_yaml_ng::Deserializer::from_str(text);
    let parsed = match interpolate {
        Interpolate::Yes => serde_path_to_error::deserialize(Expanding::new(deserializer)),
        Interpolate::No => serde_path_to_error::deserialize(deserializer),
    };
    parsed.map_err(|error| anyhow!("{}", describe(path, error)))
}

/// `file:line:column: field.path: message` for a TOML error, on one line.
fn describe_toml(path: &Path, text: &str, field: &str, error: toml::de::Error) -> String {
    let location = error.span().map_or(String::new(), |span| {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        format!(":{line}:{column}")
    });
    let field = field.trim_end_matches(".?").trim_end_matches('?');
    let field = if field == "." || field.is_empty() { String::new() } else { format!(" {field}:") };
    let message = error.message().split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{}{location}:{field} {message}", path.display())
}

/// `file:line:column: field.path: message`, on one line.
fn describe(path: &Path, error: serde_path_to_error::Error<serde_yaml_ng::Error>) -> String {
    // After a syntax error the path may end in segments serde could not name.
    let field = error.path().to_string().trim_end_matches(".?").trim_end_matches('?').to_string();
    let inner = error.into_inner();
    let mut message = inner.to_string().replace('\n', " ");
    let mut location = String::new();
    if let Some(at) = inner.location() {
        location = format!(":{}:{}", at.line(), at.column());
        message = message.replace(&format!(" at line {} column {}", at.line(), at.column()), "");
    }
    // serde_yaml_ng prefixes its own, coarser path (the parent map for an
    // unknown field); the one from serde_path_to_error replaces it.
    if let Some((head, rest)) = message.split_once(": ")
        && field.starts_with(head.trim_start_matches('.'))
    {
        message = rest.to_string();
    }
    let field = if field == "." || field.is_empty() { String::new() } else { format!(" {field}:") };
    format!("{}{location}:{field} {message}", path.display())
}
