//! `assay plugin build` for a Python environment: a project with a
//! `pyproject.toml` holding a `[tool.assay]` table, built into a component
//! with componentize-py against the same `assay:env` WIT as the Rust SDK.
//!
//! componentize-py (pinned, from PyPI) is installed on first use into a
//! virtual environment in assay's tools directory. The build generates the
//! app module componentize-py wraps: it imports the SDK's export glue and the
//! author's module, then (still at build time, before the interpreter is
//! snapshotted) imports everything the sources import and runs the sample
//! records once, so nothing is left to import at run time.
//!
//! componentize-py does not build byte-identical components from the same
//! sources, so the build hashes its inputs, skips the build when the
//! existing component was made from the same hash, and records it in the
//! component's `assay-build` section, which the host uses for job identity.

use crate::locations::tools_dir;
use crate::runtime::{BuildInfo, PYTHON};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The componentize-py release every Python environment is built with.
pub(crate) const COMPONENTIZE_PY: &str = "0.25.1";

/// The WIT the Python SDK targets: the newest, as for the Rust SDK.
const WIT: &str = include_str!("../../../plugin-sdk/wit/v0.2/env.wit");
const WIT_VERSION: &str = "0.2.0";

/// The app module componentize-py wraps (it must not be named like the world).
const APP_MODULE: &str = "assay_app";

/// `pyproject.toml`, as far as the build reads it.
#[derive(Deserialize)]
struct PyProject {
    project: ProjectTable,
    tool: Option<ToolTable>,
}

#[derive(Deserialize)]
struct ProjectTable {
    name: String,
    version: String,
}

#[derive(Deserialize)]
struct ToolTable {
    assay: Option<AssayTable>,
}

/// `[tool.assay]`: how to build the environment.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AssayTable {
    /// The module that calls `assay_env.register`.
    module: String,
    /// The Python SDK's directory (holding `assay_env/`).
    sdk: PathBuf,
    /// More directories of pure-Python packages (`pip install --target deps ...`).
    #[serde(default)]
    paths: Vec<PathBuf>,
    /// Packages whose every submodule is imported at build time.
    #[serde(default)]
    preload: Vec<String>,
    /// Records run through the environment once at build time.
    sample: Option<PathBuf>,
}

/// Whether `dir` holds a Python environment project.
pub(crate) fn is_python_project(dir: &Path) -> bool {
    !dir.join("Cargo.toml").is_file() && dir.join("pyproject.toml").is_file()
}

/// What a build produced.
pub(crate) struct Built {
    /// The component.
    pub wasm: PathBuf,
    /// False when the component on disk was already built from these sources.
    pub rebuilt: bool,
}

/// Build the project at `dir` into `build/<module>.wasm`.
pub(crate) fn build(dir: &Path, notice: impl Fn(&str)) -> Result<Built> {
    let dir = &dir.canonicalize().with_context(|| format!("cannot find {}", dir.display()))?;
    let project = read_project(dir)?;
    let assay = &project.assay;
    let sdk = dir.join(&assay.sdk);
    if !sdk.join("assay_env/__init__.py").is_file() {
        bail!(
            "{}: [tool.assay] sdk = {} holds no assay_env package",
            dir.join("pyproject.toml").display(),
            sdk.display()
        );
    }
    let wasm = dir.join("build").join(format!("{}.wasm", assay.module));
    let app = app_module(&project);
    let extra: Vec<PathBuf> = assay.paths.iter().map(|p| dir.join(p)).collect();
    let source_sha256 = source_hash(dir, &sdk, &extra, &app)?;
    if BuildInfo::of_file(&wasm).is_some_and(|info| info.source_sha256 == source_sha256) {
        return Ok(Built { wasm, rebuilt: false });
    }
    let partial = componentize(dir, &sdk, &extra, &app, &format!("{}.wasm.partial", assay.module), &notice)?;
    let info =
        BuildInfo { language: PYTHON.into(), source_sha256, builder: format!("componentize-py {COMPONENTIZE_PY}") };
    let mut bytes = std::fs::read(&partial).with_context(|| format!("cannot read {}", partial.display()))?;
    info.append_to(&mut bytes);
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, &wasm).with_context(|| format!("cannot write {}", wasm.display()))?;
    Ok(Built { wasm, rebuilt: true })
}

/// Run componentize-py on the project with the generated app module and
/// the WIT, writing `build/<output>`; its path.
fn componentize(
    dir: &Path,
    sdk: &Path,
    extra: &[PathBuf],
    app: &str,
    output: &str,
    notice: &impl Fn(&str),
) -> Result<PathBuf> {
    let mut command = componentize_py(notice)?;
    let out_dir = dir.join("build");
    let (app_dir, wit_dir) = (out_dir.join("app"), out_dir.join("wit"));
    for (path, text) in [(app_dir.join(format!("{APP_MODULE}.py")), app), (wit_dir.join("env.wit"), WIT)] {
        std::fs::create_dir_all(path.parent().expect("a file in a directory"))?;
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let partial = out_dir.join(output);
    command.arg("-d").arg(&wit_dir).args(["-w", "plugin", "componentize", APP_MODULE, "-o"]).arg(&partial);
    for path in [app_dir.as_path(), dir, sdk].into_iter().chain(extra.iter().map(PathBuf::as_path)) {
        command.arg("-p").arg(path);
    }
    // No virtual environment or PYTHONPATH of the builder's leaks into the
    // component's module path.
    command.current_dir(dir).env_remove("VIRTUAL_ENV").env_remove("PYTHONPATH").stdout(Stdio::null());
    // Its errors are Python tracebacks; its own Rust backtrace is only noise.
    command.env("RUST_BACKTRACE", "0").env("RUST_LIB_BACKTRACE", "0");
    let status = command.status().context("cannot run componentize-py")?;
    if !status.success() {
        bail!("componentize-py failed for {} (its errors are above)", dir.display());
    }
    Ok(partial)
}

/// The project's build settings.
struct Project {
    name: String,
    version: String,
    assay: AssayTable,
}

fn read_project(dir: &Path) -> Result<Project> {
    let path = dir.join("pyproject.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let parsed: PyProject =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {}", path.display(), one_line(&e.to_string())))?;
    let Some(assay) = parsed.tool.and_then(|tool| tool.assay) else {
        bail!(
            "{} has no [tool.assay] table: it is not an assay environment (see `assay plugin new --lang python`)",
            path.display()
        );
    };
    Ok(Project { name: parsed.project.name, version: parsed.project.version, assay })
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The app module: the SDK's export glue, the author's module, then the
/// build-time imports and warm-up.
fn app_module(project: &Project) -> String {
    let assay = &project.assay;
    let sample = assay.sample.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
    format!(
        r#""""Generated by `assay plugin build`: the app module componentize-py wraps. Do not edit."""
import os

import assay_env
from assay_env import _build, _component
from assay_env._component import Environment  # noqa: F401 - the export componentize-py binds
import {module} as _environment

if assay_env.API_VERSION != {wit_version:?}:
    raise SystemExit("the Python SDK targets assay:env@" + assay_env.API_VERSION + ", this assay builds {wit_version}")
_project = os.path.dirname(os.path.abspath(_environment.__file__))
if hasattr(_environment, "__path__"):
    _project = os.path.dirname(_project)
_build.preload(_project, {preload:?})
_build.warm_up(_build.sample_records(os.path.join(_project, {sample:?})) if {sample:?} else [])
_component.finish_build({name:?}, {version:?})
"#,
        module = assay.module,
        wit_version = WIT_VERSION,
        preload = assay.preload,
        name = project.name,
        version = project.version,
    )
}

/// sha256 over everything the component is made from: the project's
/// Python files, `pyproject.toml` and data, the SDK, extra package
/// directories, the WIT, the app module and the componentize-py version.
/// Tests, build output and caches are left out.
fn source_hash(dir: &Path, sdk: &Path, extra: &[PathBuf], app: &str) -> Result<String> {
    let mut hasher = Sha256::new();
    for text in [COMPONENTIZE_PY, WIT, app] {
        hasher.update((text.len() as u64).to_le_bytes());
        hasher.update(text);
    }
    let sdk_package = sdk.join("assay_env");
    let roots =
        [(dir, true), (sdk_package.as_path(), false)].into_iter().chain(extra.iter().map(|p| (p.as_path(), false)));
    for (index, (root, is_project)) in roots.enumerate() {
        for file in source_files(root, is_project)? {
            let relative = file.strip_prefix(root).expect("under its root").to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            hasher.update(format!("{index}/{relative}\0{}\0", bytes.len()));
            hasher.update(&bytes);
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// The files under `root` that go into a component, sorted. In the project
/// itself, only Python files, `pyproject.toml` and `data/` count (a README
/// edit changes nothing).
fn source_files(root: &Path, is_project: bool) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))? {
            let path = entry?.path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if name.starts_with('.')
                || name == "__pycache__"
                || (is_project && dir == root && ["build", "tests"].contains(&&*name))
            {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if !is_project
                || name.ends_with(".py")
                || name == "pyproject.toml"
                || path.starts_with(root.join("data"))
            {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Runs componentize-py from the directory it was installed into.
const LAUNCHER: &str = "import sys; sys.path.insert(0, sys.argv.pop(1)); sys.argv[0] = 'componentize-py'; \
                        from componentize_py import script; sys.exit(script())";

/// A command running componentize-py, installed on first use with
/// `pip install --target` into the tools directory. A `--target` directory
/// (unlike a venv) can be moved, so concurrent first builds each install
/// into their own directory and the first to rename it into place wins.
/// Every failure is one line saying what to install.
fn componentize_py(notice: &impl Fn(&str)) -> Result<Command> {
    let tools = tools_dir().context("cannot find the user's data directory; set ASSAY_TOOLS_DIR")?;
    let installed = tools.join(format!("componentize-py-{COMPONENTIZE_PY}"));
    let python = find_python()?;
    if !installed.join("componentize_py").is_dir() {
        notice(&format!(
            "Installing componentize-py {COMPONENTIZE_PY} from PyPI into {} (first Python build)...",
            installed.display()
        ));
        install(python, &tools, &installed)?;
    }
    let mut command = Command::new(python);
    command.args(["-c", LAUNCHER]).arg(&installed);
    Ok(command)
}

fn find_python() -> Result<&'static str> {
    let runs = |python: &str| Command::new(python).arg("--version").output().is_ok_and(|o| o.status.success());
    match ["python3", "python"].into_iter().find(|python| runs(python)) {
        Some(python) => Ok(python),
        None => bail!("Python 3 not found: install python3 and pip to build Python environments"),
    }
}

fn install(python: &str, tools: &Path, installed: &Path) -> Result<()> {
    let pip_version = Command::new(python).args(["-m", "pip", "--version"]).output()?;
    if !pip_version.status.success() {
        bail!(
            "pip not found for {python}: install it (Debian: apt-get install python3-pip) to build Python environments"
        );
    }
    let partial = tools.join(format!("componentize-py-{COMPONENTIZE_PY}.{}.partial", std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(tools).with_context(|| format!("cannot create {}", tools.display()))?;
    let package = format!("componentize-py=={COMPONENTIZE_PY}");
    let pip = Command::new(python)
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input", "--target"])
        .arg(&partial)
        .arg(&package)
        .output()?;
    if !pip.status.success() {
        let _ = std::fs::remove_dir_all(&partial);
        bail!("pip could not install {package} from PyPI: {}", last_line(&pip.stderr));
    }
    if std::fs::rename(&partial, installed).is_err() {
        // Another build installed it first.
        let _ = std::fs::remove_dir_all(&partial);
    }
    if !installed.join("componentize_py").is_dir() {
        bail!("cannot install componentize-py into {}", installed.display());
    }
    Ok(())
}

fn last_line(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim().to_string()
}
