//! `assay plugin build`: compile a plugin crate into a WebAssembly
//! component, as `scripts/build-plugins.sh` does for the first-party ones.
//! A Python project (a `pyproject.toml`, no `Cargo.toml`) is built by
//! [`super::python`] instead.
//!
//! It runs `cargo build --release --target wasm32-wasip2` with size
//! settings passed as `--config` overrides (so they apply whatever the
//! crate's own profile says), installs the target with rustup first if it
//! is missing, and finds the `.wasm` through cargo's JSON messages (so a
//! custom `CARGO_TARGET_DIR` or workspace layout needs no guessing).

use super::python;
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The compilation target of every plugin.
pub(crate) const TARGET: &str = "wasm32-wasip2";

/// Release settings for fast components (opt-level 3: calls about a third
/// faster than "s", at the same size); function names stay
/// (`strip = "debuginfo"`) so traps say where they were.
const RELEASE_SETTINGS: [&str; 5] = [
    "profile.release.opt-level=3",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.panic=\"abort\"",
    "profile.release.strip=\"debuginfo\"",
];

/// Build the plugin project at `dir` (a Rust crate or a Python project)
/// and return the component's path. `notice` hears what the user should
/// know before a slow step (a tool install) or instead of one.
pub(crate) fn build(dir: &Path, notice: impl Fn(&str)) -> Result<PathBuf> {
    if python::is_python_project(dir) {
        let built = python::build(dir, &notice)?;
        if !built.rebuilt {
            notice(&format!("{} is up to date (its sources did not change)", built.wasm.display()));
        }
        return Ok(built.wasm);
    }
    let manifest = dir.join("Cargo.toml");
    if !manifest.is_file() {
        bail!("{} has no Cargo.toml or pyproject.toml: give the plugin project's directory", dir.display());
    }
    ensure_target(notice)?;
    let mut command = Command::new("cargo");
    command.args(["build", "--release", "--target", TARGET, "--message-format=json-render-diagnostics"]);
    for setting in RELEASE_SETTINGS {
        command.args(["--config", setting]);
    }
    command.arg("--manifest-path").arg(&manifest).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let output = command.output().context("cannot run cargo (is Rust installed?)")?;
    if !output.status.success() {
        bail!("cargo build failed for {} (its errors are above)", manifest.display());
    }
    component_path(&String::from_utf8_lossy(&output.stdout), &manifest)
}

/// Install the wasm target with rustup when it is missing.
fn ensure_target(notice: impl Fn(&str)) -> Result<()> {
    let installed = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match installed {
        Ok(output) if String::from_utf8_lossy(&output.stdout).lines().any(|l| l.trim() == TARGET) => return Ok(()),
        Ok(_) => notice(&format!("Installing the {TARGET} target (rustup target add {TARGET})...")),
        Err(_) => bail!("rustup not found: install the {TARGET} target for your Rust toolchain and retry"),
    }
    let status = Command::new("rustup").args(["target", "add", TARGET]).status();
    match status {
        Ok(status) if status.success() => Ok(()),
        _ => bail!("could not install the {TARGET} target: run `rustup target add {TARGET}` and retry"),
    }
}

/// One line of cargo's JSON output (only what we read).
#[derive(Deserialize)]
struct Message {
    reason: String,
    manifest_path: Option<PathBuf>,
    #[serde(default)]
    filenames: Vec<PathBuf>,
}

/// The `.wasm` cargo produced for the crate at `manifest`.
fn component_path(messages: &str, manifest: &Path) -> Result<PathBuf> {
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    let wasm = messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Message>(line).ok())
        .filter(|m| m.reason == "compiler-artifact" && m.manifest_path.as_deref() == Some(manifest.as_path()))
        .flat_map(|m| m.filenames)
        .rfind(|file| file.extension().is_some_and(|e| e == "wasm"));
    wasm.with_context(|| {
        format!("{} produced no .wasm: set `crate-type = [\"cdylib\", \"rlib\"]` under [lib]", manifest.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_component_is_found_among_cargo_messages() {
        let manifest = std::env::temp_dir().join("p/Cargo.toml");
        let messages = format!(
            "{{\"reason\":\"compiler-artifact\",\"manifest_path\":\"/dep/Cargo.toml\",\"filenames\":[\"/t/libdep.rlib\"]}}\n\
             not json\n\
             {{\"reason\":\"compiler-artifact\",\"manifest_path\":{m:?},\"filenames\":[\"/t/p.wasm\",\"/t/libp.rlib\"]}}\n\
             {{\"reason\":\"build-finished\",\"success\":true}}\n",
            m = manifest.display().to_string()
        );
        assert_eq!(component_path(&messages, &manifest).unwrap(), PathBuf::from("/t/p.wasm"));
        let error = component_path("", &manifest).unwrap_err().to_string();
        assert!(error.contains("produced no .wasm"), "{error}");
    }
}
