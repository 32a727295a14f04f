//! Writing a plugin as a third party would, through the `assay plugin`
//! commands: scaffold each template in a temp dir, build it, check it,
//! install it and run it by name with `assay bench`; `plugin check`
//! catching the authoring bugs of the `faulty` test plugin; `plugin info`;
//! and a plugin built from the oldest supported WIT still running.

use crate::support;

use std::path::PathBuf;
use std::process::Output;
use support::fixtures::{Project, output_text, plugin, read_json, repo_root};

/// Where scaffolded crates are compiled: shared by the templates and kept
/// between test runs, so the SDK's dependencies are built once.
fn target_dir() -> PathBuf {
    repo_root().join("target/plugin-authoring")
}

/// `assay` with a private data dir (for `--install`) and the shared target dir.
fn assay(project: &Project, args: &[&str]) -> Output {
    let data = project.path().join("user-data");
    let target = target_dir();
    project.assay_with_env(
        args,
        &[("ASSAY_DATA_DIR", data.to_str().unwrap()), ("CARGO_TARGET_DIR", target.to_str().unwrap())],
    )
}

fn assay_ok(project: &Project, args: &[&str]) -> String {
    let output = assay(project, args);
    assert!(output.status.success(), "assay {args:?}:\n{}", output_text(&output));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The `.wasm` path `assay plugin build` printed.
fn built_path(stdout: &str) -> PathBuf {
    let line = stdout.lines().find(|l| l.starts_with("Built ")).unwrap_or_else(|| panic!("no Built line: {stdout}"));
    PathBuf::from(line.trim_start_matches("Built ").split(" (").next().unwrap())
}

#[test]
fn scaffold_build_check_install_and_bench_every_template() {
    let project = Project::new();
    for (template, name) in [("qa", "pubmedqa"), ("mcq", "my-mcq"), ("math", "word-math")] {
        assay_ok(&project, &["plugin", "new", name, "--template", template]);
        let tests = std::process::Command::new(env!("CARGO"))
            .args(["test", "--quiet", "--manifest-path", &format!("{name}/Cargo.toml")])
            .current_dir(project.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .output()
            .unwrap();
        assert!(tests.status.success(), "{template}: the scaffold's own tests:\n{}", output_text(&tests));
        let built = assay_ok(&project, &["plugin", "build", name, "--install"]);
        let wasm = built_path(&built);
        assert!(wasm.ends_with(format!("wasm32-wasip2/release/{}.wasm", name.replace('-', "_"))), "{built}");
        assert!(built.contains("(assay:env@0.2.0)") && built.contains("Installed "), "{built}");

        let sample = format!("{name}/data/sample.jsonl");
        let checked = assay_ok(&project, &["plugin", "check", wasm.to_str().unwrap(), "--dataset", &sample]);
        assert!(checked.contains("All checks passed"), "{template}: {checked}");

        // Installed, so a config finds it by name.
        let run = format!(
            "name: {name}\nenvs:\n  - {{id: {name}, module: {name}, dataset: {sample}}}\njobs:\n  - {{model: oracle, env: {name}}}\n"
        );
        project.write(&format!("{name}.yaml"), &run);
        assay_ok(&project, &["bench", "--config", &format!("{name}.yaml"), "--quiet"]);
        let run_dir = std::fs::read_dir(project.path().join("runs/raw"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with(&format!("{name}-")))
            .unwrap();
        let summary = read_json(&run_dir.join(format!("oracle-{name}")).join("summary.json"));
        assert_eq!(summary["mean_reward"], 1.0, "{template}: {summary}");
    }
    let info = assay_ok(&project, &["plugin", "info", "pubmedqa"]);
    assert!(info.starts_with("pubmedqa 0.1.0 (assay:env@0.2.0)"), "{info}");
    assert!(info.contains("system_prompt"), "the qa template documents its argument: {info}");
}

/// `assay plugin check` of the `faulty` plugin with `fault`: its output.
fn check_faulty(project: &Project, fault: &str) -> Output {
    let args = format!("{{\"fault\": \"{fault}\"}}");
    let faulty = plugin("faulty");
    assay(project, &["plugin", "check", faulty.to_str().unwrap(), "--dataset", "mcq.jsonl", "--env-args", &args])
}

fn write_questions(project: &Project) {
    let rows: String = (0..6)
        .map(|i| {
            let choices: Vec<String> = (0..4).map(|c| format!("option {i}-{c}")).collect();
            serde_json::json!({"id": format!("q{i}"), "question": format!("Question {i}?"), "choices": choices, "answer": i % 4})
                .to_string()
                + "\n"
        })
        .collect();
    project.write("mcq.jsonl", &rows);
}

#[test]
fn plugin_check_catches_authoring_bugs() {
    let project = Project::new();
    write_questions(&project);
    let passed = check_faulty(&project, "none");
    assert!(passed.status.success(), "{}", output_text(&passed));
    assert!(output_text(&passed).contains("6 of 6 records are shuffled by seed"), "{}", output_text(&passed));
    // Each bug and the check that must name it (with a record id).
    for (fault, check) in [
        ("bad-reference", "reference"),
        ("unstable-shuffle", "reproducible"),
        ("lossy-shuffle", "follows-shuffle"),
        ("free-text", "garbage"),
    ] {
        let output = check_faulty(&project, fault);
        let text = output_text(&output);
        assert_eq!(output.status.code(), Some(1), "{fault}: {text}");
        assert!(text.contains(&format!("┆ {check}")), "{fault}: the table names `{check}`:\n{text}");
        assert!(text.contains("q0") || text.contains("q1"), "{fault}: record ids are shown:\n{text}");
        assert!(text.contains("FAILED: "), "{fault}: {text}");
    }
}

#[test]
fn plugin_info_shows_arguments_and_capabilities() {
    let project = Project::new();
    let code = assay_ok(&project, &["plugin", "info", plugin("code").to_str().unwrap()]);
    assert!(code.contains("capabilities: run-code:python"), "{code}");
    assert!(code.contains("completion_mode") && code.contains("\"chat\""), "{code}");
    let missing = assay(&project, &["plugin", "info", "no-such-plugin"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(output_text(&missing).contains("plugin `no-such-plugin` not found"), "{}", output_text(&missing));
}

#[test]
fn a_plugin_built_from_the_oldest_supported_wit_runs() {
    let project = Project::new();
    let oldest = plugin("oldest-api");
    let info = assay_ok(&project, &["plugin", "info", oldest.to_str().unwrap()]);
    assert!(info.starts_with("oldest-api 0.1.0 (assay:env@0.1.0)"), "{info}");
    project.write("qa.jsonl", "{\"id\": \"a\", \"question\": \"2+2?\", \"answer\": \"4\"}\n");
    let run = format!(
        "envs:\n  - {{id: qa, module: {}, dataset: qa.jsonl}}\njobs:\n  - {{model: oracle, env: qa}}\n",
        oldest.display()
    );
    project.write("run.yaml", &run);
    assay_ok(&project, &["bench", "--config", "run.yaml", "--quiet"]);
    let summary = read_json(&project.only_run_dir().join("oracle-qa/summary.json"));
    assert_eq!(summary["mean_reward"], 1.0, "{summary}");
}
