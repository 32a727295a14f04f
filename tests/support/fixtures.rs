//! Helpers for end-to-end tests: a scratch project directory, the `assay`
//! binary, built plugins, and readers for the run directory.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("host/ has a parent").to_path_buf()
}

/// A plugin built by `scripts/build-plugins.sh`. Panics with the fix when
/// it has not been built, so a missing build never looks like a pass.
pub fn plugin(name: &str) -> PathBuf {
    let dir = std::env::var_os("ASSAY_TEST_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/wasm32-wasip2/plugin"));
    let path = dir.join(format!("{}.wasm", name.replace('-', "_")));
    assert!(path.exists(), "{} is missing: run scripts/build-plugins.sh (scripts/test.sh does)", path.display());
    path
}

/// `../shared/data/<sub>` beside the checkout, or `None` after printing
/// that the test is skipped.
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    let path = repo_root().join("../shared/data").join(sub);
    if path.exists() {
        Some(path)
    } else {
        println!("skipped: {} not found (real benchmark data lives in ../shared/data)", path.display());
        None
    }
}

/// A scratch directory for one test's configs, data and runs.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    /// An empty project.
    pub fn new() -> Self {
        Project { dir: tempfile::tempdir().expect("temp dir") }
    }

    /// The project directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a file (creating directories), returning its path.
    pub fn write(&self, relative: &str, contents: &str) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().expect("file has a parent")).expect("create dirs");
        std::fs::write(&path, contents).expect("write file");
        path
    }

    /// Run `assay` with `args` in the project directory.
    pub fn assay(&self, args: &[&str]) -> Output {
        self.assay_with_env(args, &[])
    }

    /// `assay` with `args` in the project directory, to spawn.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_assay"));
        command.args(args).current_dir(self.path()).env("ASSAY_CACHE_DIR", env!("CARGO_TARGET_TMPDIR"));
        command
    }

    /// Run `assay` with extra environment variables.
    pub fn assay_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        for (key, value) in env {
            command.env(key, value);
        }
        command.output().expect("run assay")
    }

    /// Run `assay` with `args`, assert it succeeded, and return its stdout
    /// and stderr.
    pub fn assay_ok(&self, args: &[&str]) -> (String, String) {
        let output = self.assay(args);
        assert!(output.status.success(), "assay {}: {}", args.join(" "), output_text(&output));
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
    }

    /// The single run directory under `runs/raw`.
    pub fn only_run_dir(&self) -> PathBuf {
        let runs: Vec<PathBuf> = std::fs::read_dir(self.path().join("runs/raw"))
            .expect("runs/raw exists")
            .map(|e| e.expect("dir entry").path())
            .collect();
        assert_eq!(runs.len(), 1, "expected one run, found {runs:?}");
        runs.into_iter().next().expect("one run")
    }
}

/// Parse a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Parse a JSON-lines file.
pub fn read_jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines().map(|l| serde_json::from_str(l).expect("valid JSON line")).collect()
}

/// stdout and stderr of a finished command, for assertion messages.
pub fn output_text(output: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A JSONL multiple-choice dataset: `(id, question, choices, gold letter)`.
pub fn mcq_jsonl(rows: &[(&str, &str, [&str; 4], &str)]) -> String {
    rows.iter()
        .map(|(id, question, choices, answer)| {
            serde_json::json!({"id": id, "question": question, "choices": choices, "answer": answer}).to_string() + "\n"
        })
        .collect()
}

/// Every file under `dir`, recursively (for scanning all a run wrote).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { files.extend(files_under(&path)) } else { files.push(path) }
    }
    files
}

/// A JSONL multiple-choice dataset from `(id, question)` pairs: options
/// w/x/y/z, gold letters A, B, C, D in turn.
pub fn lettered_questions(questions: &[(String, String)]) -> String {
    let rows: Vec<(&str, &str, [&str; 4], &str)> = questions
        .iter()
        .enumerate()
        .map(|(i, (id, q))| (id.as_str(), q.as_str(), ["w", "x", "y", "z"], ["A", "B", "C", "D"][i % 4]))
        .collect();
    mcq_jsonl(&rows)
}

/// Processes whose command line mentions `marker`.
pub fn processes_mentioning(marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmdline).contains(marker)
        {
            found.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
        }
    }
    found
}
