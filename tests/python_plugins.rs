//! Environments written in Python, end to end through the `assay plugin`
//! commands: each template scaffolded with `--lang python`, tested with
//! pytest, built with componentize-py (installed on first use), checked,
//! installed and run by name; the first-party `plugins/pubmedqa`; job
//! identity across rebuilds; an uncaught exception's traceback in the
//! sample's error; and the one-line errors when Python or pip is missing.
//!
//! componentize-py goes to `target/assay-tools` (kept between runs) and
//! compiled components to the tests' shared cache, so a rerun only pays
//! for the builds.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::fixtures::{Project, output_text, read_json, read_jsonl, repo_root};

/// Where `assay plugin build` installs componentize-py for the tests.
fn tools_dir() -> PathBuf {
    repo_root().join("target/assay-tools")
}

/// `assay` with a private data dir (for `--install`) and the shared tools dir.
fn assay(project: &Project, args: &[&str]) -> Output {
    let data = project.path().join("user-data");
    project.assay_with_env(
        args,
        &[("ASSAY_DATA_DIR", data.to_str().unwrap()), ("ASSAY_TOOLS_DIR", tools_dir().to_str().unwrap())],
    )
}

fn assay_ok(project: &Project, args: &[&str]) -> String {
    let output = assay(project, args);
    assert!(output.status.success(), "assay {args:?}:\n{}", output_text(&output));
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// Run a project's own pytest tests, as an author would.
pub fn pytest(dir: &Path) {
    let output =
        Command::new("python3").args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]).current_dir(dir).output();
    let output = output.expect("python3 runs (scripts/test.sh installs what the tests need)");
    let text = output_text(&output);
    assert!(
        !text.contains("No module named pytest"),
        "pytest is missing: run scripts/test.sh, or python3 -m pip install pytest"
    );
    assert!(output.status.success(), "pytest in {}:\n{text}", dir.display());
}

/// Run `env` (a module name, or a path to a `.wasm`) with the oracle over `dataset`; the run's directory.
fn bench_oracle(project: &Project, name: &str, module: &str, dataset: &str) -> PathBuf {
    let run = format!(
        "name: {name}\nenvs:\n  - {{id: {name}, module: {module}, dataset: {dataset}}}\njobs:\n  - {{model: oracle, env: {name}}}\n"
    );
    project.write(&format!("{name}.yaml"), &run);
    let output = assay(project, &["bench", "--config", &format!("{name}.yaml"), "--quiet"]);
    let text = output_text(&output);
    std::fs::read_dir(project.path().join("runs/raw"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}-")))
        .max()
        .unwrap_or_else(|| panic!("no run of {name}: {text}"))
}

#[test]
fn every_python_template_scaffolds_tests_builds_checks_and_runs() {
    let project = Project::new();
    for (template, name) in [("qa", "py-qa"), ("mcq", "py-mcq"), ("math", "py-math")] {
        let created = assay_ok(&project, &["plugin", "new", name, "--lang", "python", "--template", template]);
        assert!(created.contains("python3 -m pytest"), "{created}");
        pytest(&project.path().join(name));
        let module = name.replace('-', "_");
        let built = assay_ok(&project, &["plugin", "build", name, "--install"]);
        assert!(built.contains(&format!("build/{module}.wasm")) && built.contains("(assay:env@0.2.0)"), "{built}");
        let wasm = format!("{name}/build/{module}.wasm");
        let sample = format!("{name}/data/sample.jsonl");
        let mut check = vec!["plugin", "check", &wasm, "--dataset", &sample];
        if template == "mcq" {
            check.extend(["--env-args", "{\"shuffle\": true}"]);
        }
        let checked = assay_ok(&project, &check);
        assert!(checked.contains("All checks passed"), "{template}: {checked}");
        if template == "mcq" {
            assert!(checked.contains("6 of 6 records are shuffled by seed"), "{checked}");
        }
        let run_dir = bench_oracle(&project, name, &module, &sample);
        let summary = read_json(&run_dir.join(format!("oracle-{name}/summary.json")));
        assert_eq!(
            (summary["mean_reward"].as_f64(), summary["n"].as_u64()),
            (Some(1.0), Some(6)),
            "{template}: {summary}"
        );
    }
    let info = assay_ok(&project, &["plugin", "info", "py_qa"]);
    assert!(info.starts_with("py-qa 0.1.0 (assay:env@0.2.0)") && info.contains("system_prompt"), "{info}");
    assert!(info.contains("built from python sources (sha256 ") && info.contains("componentize-py 0.25.1"), "{info}");
}

#[test]
fn the_pubmedqa_example_passes_its_tests_and_check_and_runs_end_to_end() {
    let project = Project::new();
    let dir = repo_root().join("plugins/pubmedqa");
    pytest(&dir);
    let built = assay_ok(&project, &["plugin", "build", dir.to_str().unwrap()]);
    let wasm = dir.join("build/pubmedqa.wasm");
    assert!(built.contains(wasm.to_str().unwrap()), "{built}");
    let sample = dir.join("data/sample.jsonl");
    let checked =
        assay_ok(&project, &["plugin", "check", wasm.to_str().unwrap(), "--dataset", sample.to_str().unwrap()]);
    assert!(checked.contains("8 records × 3 seeds") && checked.contains("All checks passed"), "{checked}");
    let run_dir = bench_oracle(&project, "pubmedqa", wasm.to_str().unwrap(), sample.to_str().unwrap());
    let results = read_jsonl(&run_dir.join("oracle-pubmedqa/results.jsonl"));
    assert_eq!(results.len(), 8);
    for result in &results {
        assert_eq!(result["reward"], 1.0, "{result}");
        assert_eq!(result["info"]["gold"], result["parsed_answer"], "{result}");
        assert!(result["prompt"][0]["content"].as_str().unwrap().contains("Question: "), "{result}");
    }
}

#[test]
fn identity_follows_the_sources_and_an_exception_reports_its_line() {
    let project = Project::new();
    assay_ok(&project, &["plugin", "new", "ident", "--lang", "python"]);
    let wasm = "ident/build/ident.wasm";
    assay_ok(&project, &["plugin", "build", "ident"]);
    let first = std::fs::read(project.path().join(wasm)).unwrap();
    let run_dir = bench_oracle(&project, "ident", wasm, "ident/data/sample.jsonl");

    // Unchanged sources: no rebuild at all, even after a README edit.
    project.write("ident/README.md", "edited\n");
    let again = assay_ok(&project, &["plugin", "build", "ident"]);
    assert!(again.contains("is up to date (its sources did not change)"), "{again}");
    assert_eq!(std::fs::read(project.path().join(wasm)).unwrap(), first);

    // Built afresh from the same sources: other bytes (componentize-py is
    // not reproducible), the same identity, so the run resumes with nothing to do.
    std::fs::remove_dir_all(project.path().join("ident/build")).unwrap();
    assay_ok(&project, &["plugin", "build", "ident"]);
    assert_ne!(
        std::fs::read(project.path().join(wasm)).unwrap(),
        first,
        "if componentize-py became reproducible, say so in the docs"
    );
    let resumed = assay_ok(&project, &["bench", "--config", "ident.yaml"]);
    assert!(resumed.contains("1 of 1 jobs done, 0 to run"), "{resumed}");
    assert_eq!(bench_oracle(&project, "ident", wasm, "ident/data/sample.jsonl"), run_dir);

    // A changed source is a new identity, and an exception in it names its line.
    let source = project.path().join("ident/ident.py");
    let text = std::fs::read_to_string(&source).unwrap();
    let buggy = text.replace(
        "        answer = extract(completion)\n",
        "        answer = extract(completion)\n        gold = {\"yes\": 1}[gold]\n",
    );
    assert_ne!(buggy, text);
    std::fs::write(&source, buggy).unwrap();
    assay_ok(&project, &["plugin", "build", "ident"]);
    let output = assay(&project, &["bench", "--config", "ident.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(output_text(&output).contains("changed: plugin_sha256"), "{}", output_text(&output));
    let results = read_jsonl(&run_dir.join("oracle-ident/results.jsonl"));
    let failed = results.iter().find(|r| r["example_id"] == "qa-1").unwrap();
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(
        message.ends_with(
            "KeyError: 'no' (traceback, most recent call last: ident.py:52 in grade: gold = {\"yes\": 1}[gold])"
        ),
        "{message}"
    );
}

#[test]
fn building_without_python_or_pip_fails_in_one_line() {
    let project = Project::new();
    assay_ok(&project, &["plugin", "new", "nopy", "--lang", "python"]);
    let tools = project.path().join("tools");
    let fake = project.write(
        "fake-bin/python3",
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo Python 3.12.0; exit 0; }\necho 'No module named pip' >&2; exit 1\n",
    );
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    for (path, expected) in [
        ("/nonexistent".to_string(), "error: Python 3 not found: install python3 and pip to build Python environments"),
        (fake.parent().unwrap().display().to_string(), "error: pip not found for python3: install it"),
    ] {
        let output = project.assay_with_env(
            &["plugin", "build", "nopy"],
            &[("PATH", path.as_str()), ("ASSAY_TOOLS_DIR", tools.to_str().unwrap())],
        );
        assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
        let stderr = String::from_utf8_lossy(&output.stderr);
        let error = stderr.lines().last().unwrap_or_default();
        assert!(error.starts_with(expected), "{stderr}");
    }
}
