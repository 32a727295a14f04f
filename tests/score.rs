//! `assay score` on a synthetic checkpoint sweep: 30 folders in three
//! naming styles, scored in parallel with the `mcq` plugin through the
//! replay model, in numeric step order; a malformed folder is reported and
//! the rest finish; a rerun skips what is done; a checkpoint past
//! `--timeout` fails alone; the results feed `process` and `analyze`.

use crate::support;

use serde_json::{Value, json};
use support::fixtures::{Project, lettered_questions, output_text, plugin, read_json};

/// 20 questions `q00`..`q19` with gold letters A, B, C, D in turn.
fn write_dataset(project: &Project) {
    let questions: Vec<(String, String)> = (0..20).map(|i| (format!("q{i:02}"), format!("Question {i}?"))).collect();
    project.write("questions.jsonl", &lettered_questions(&questions));
}

fn gold(i: usize) -> char {
    ['A', 'B', 'C', 'D'][i % 4]
}

/// The folder name of checkpoint `n` (0-based): three naming styles.
fn folder(n: usize) -> String {
    let step = 7 * (n + 1);
    match n % 3 {
        0 => format!("checkpoint_{step}"),
        1 => format!("step-{step}"),
        _ => format!("global_step_{step}"),
    }
}

/// Solutions where the first `right` questions are answered correctly.
fn solutions(right: usize) -> String {
    (0..20)
        .map(|i| {
            let letter = if i < right {
                gold(i)
            } else if gold(i) == 'A' {
                'B'
            } else {
                'A'
            };
            json!({"id": format!("q{i:02}"), "completion": format!("The answer is ({letter}).")}).to_string() + "\n"
        })
        .collect()
}

fn write_config(project: &Project) {
    let config =
        format!("envs:\n  - {{id: quiz, module: {}, dataset: questions.jsonl}}\njobs: []\n", plugin("mcq").display());
    project.write("run.yaml", &config);
}

fn score(project: &Project, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["score", "--solutions-dir", "sols", "--env", "quiz", "--config", "run.yaml", "--yes"];
    args.extend_from_slice(extra);
    project.assay(&args)
}

fn batch_summary(project: &Project) -> Value {
    let runs = project.path().join("runs/raw");
    let run = std::fs::read_dir(&runs).unwrap().next().unwrap().unwrap().path();
    read_json(&run.join("score_summary.json"))
}

#[test]
fn a_sweep_is_scored_in_step_order_and_a_bad_folder_fails_alone() {
    let project = Project::new();
    write_dataset(&project);
    write_config(&project);
    for n in 0..30 {
        let text = if n == 12 {
            "{\"id\": \"q00\", \"completion\": \"ok\"}\n{not json\n".to_string()
        } else {
            solutions(n % 21)
        };
        project.write(&format!("sols/{}/solutions.jsonl", folder(n)), &text);
    }
    // Dry run: lists what was found, writes nothing.
    let dry = score(&project, &["--dry-run"]);
    assert!(dry.status.success(), "{}", output_text(&dry));
    assert!(output_text(&dry).contains("29 jobs, 580 samples, 580 to run"), "{}", output_text(&dry));
    assert!(!project.path().join("runs").exists());

    let output = score(&project, &["--max-workers", "4"]);
    assert_eq!(output.status.code(), Some(1), "one checkpoint is unreadable: {}", output_text(&output));
    let summary = batch_summary(&project);
    let checkpoints = summary["checkpoints"].as_array().unwrap();
    let steps: Vec<u64> = checkpoints.iter().map(|c| c["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, (1..=30).map(|n| 7 * n).collect::<Vec<u64>>(), "numeric step order: 7 < 14 < ... < 210");
    for (n, checkpoint) in checkpoints.iter().enumerate() {
        if n == 12 {
            assert_eq!(checkpoint["status"], "unreadable");
            let error = checkpoint["error"].as_str().unwrap();
            assert!(error.contains(&format!("{}/solutions.jsonl:2", folder(12))), "names file and line: {error}");
            continue;
        }
        assert_eq!(checkpoint["status"], "completed", "{checkpoint}");
        assert_eq!(checkpoint["model_id"], format!("checkpoint-{}", 7 * (n + 1)));
        let expected = (n % 21) as f64 / 20.0;
        assert!((checkpoint["mean_reward"].as_f64().unwrap() - expected).abs() < 1e-12, "{checkpoint}");
    }

    // A rerun scores nothing again; fixing the bad folder scores only it.
    let again = score(&project, &[]);
    assert!(output_text(&again).contains("29 of 29 jobs done, 0 to run"), "{}", output_text(&again));
    project.write(&format!("sols/{}/solutions.jsonl", folder(12)), &solutions(5));
    let fixed = score(&project, &[]);
    assert!(fixed.status.success(), "{}", output_text(&fixed));
    assert!(output_text(&fixed).contains("29 of 30 jobs done, 1 to run"), "{}", output_text(&fixed));

    // One command can also give the report with the curve.
    let reported = score(&project, &["--report", "sweep.html"]);
    assert!(reported.status.success(), "{}", output_text(&reported));
    let html = std::fs::read_to_string(project.path().join("sweep.html")).unwrap();
    assert!(html.contains("id=\"curve\"") && html.contains("checkpoint-210"), "a report with the curve");

    // The runs feed the usual analysis unchanged.
    project.assay_ok(&["process"]);
    let (stdout, _) = project.assay_ok(&["analyze"]);
    assert!(stdout.contains("checkpoint-210"), "{stdout}");
}

#[test]
fn a_checkpoint_past_the_timeout_fails_and_the_others_finish() {
    let project = Project::new();
    let task = |id: &str| json!({"task_id": id, "prompt": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"});
    project.write("tasks.jsonl", &format!("{}\n{}\n", task("t1"), task("t2")));
    let config = format!(
        "envs:\n  - {{id: code, module: {}, dataset: tasks.jsonl, id_field: task_id, capabilities: [run-code:python], code_execution: {{timeout_secs: 60, max_concurrent: 8}}, env_args: {{timeout_ms: 60000}}}}\njobs: []\n",
        plugin("code").display()
    );
    project.write("run.yaml", &config);
    // Enough sandbox slots for both checkpoints: the slow one's programs must
    // not keep the fast one waiting past the timeout.
    let reply = |body: &str| format!("```python\ndef f():\n{body}\n```");
    for (folder, body) in [("step-1", "    return 1"), ("step-2", "    import time\n    time.sleep(30)\n    return 1")]
    {
        let rows: String = ["t1", "t2"]
            .iter()
            .map(|id| json!({"task_id": id, "completion": reply(body)}).to_string() + "\n")
            .collect();
        project.write(&format!("sols/{folder}/out.jsonl"), &rows);
    }
    let output = project.assay(&[
        "score",
        "--solutions-dir",
        "sols",
        "--env",
        "code",
        "--config",
        "run.yaml",
        "--yes",
        "--timeout",
        "5",
        "--id-field",
        "task_id",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let summary = batch_summary(&project);
    let checkpoints = summary["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints[0]["status"], "completed", "{}", checkpoints[0]);
    assert_eq!(checkpoints[0]["mean_reward"], 1.0);
    assert_eq!(checkpoints[1]["status"], "failed");
    assert!(checkpoints[1]["error"].as_str().unwrap().contains("timed out after 5 s"), "{}", checkpoints[1]);
}

/// Ctrl-C during `score`: in-flight samples finish, the exit code is 130
/// (interrupted, not failed), and a rerun scores what is left.
#[test]
fn an_interrupted_score_exits_130_and_a_rerun_finishes_it() {
    let project = Project::new();
    let task = |id: &str| json!({"task_id": id, "prompt": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"});
    project.write("tasks.jsonl", &format!("{}\n{}\n", task("t1"), task("t2")));
    let config = format!(
        "envs:\n  - {{id: code, module: {}, dataset: tasks.jsonl, id_field: task_id, capabilities: [run-code:python]}}\njobs: []\n",
        plugin("code").display()
    );
    project.write("run.yaml", &config);
    let reply = "```python\ndef f():\n    import time\n    time.sleep(1)\n    return 1\n```";
    for folder in ["step-1", "step-2"] {
        let rows: String =
            ["t1", "t2"].iter().map(|id| json!({"task_id": id, "completion": reply}).to_string() + "\n").collect();
        project.write(&format!("sols/{folder}/out.jsonl"), &rows);
    }
    let args = [
        "score",
        "--solutions-dir",
        "sols",
        "--env",
        "code",
        "--config",
        "run.yaml",
        "--yes",
        "--id-field",
        "task_id",
        "--max-workers",
        "1",
    ];
    let child = project
        .command(&args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the run exists (its first checkpoint is being scored).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !project.path().join("runs/raw").exists() {
        assert!(std::time::Instant::now() < deadline, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", output_text(&output));

    let rerun = project.assay(&args);
    assert!(rerun.status.success(), "{}", output_text(&rerun));
    let summary = batch_summary(&project);
    let statuses: Vec<&str> =
        summary["checkpoints"].as_array().unwrap().iter().map(|c| c["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["completed", "completed"]);
}

/// The checkpoint-scoring seed's layout: solution files in nested shards,
/// a config with no `jobs:`, records without a solution counted as
/// missing (failing only with `--require-all`), programs run on Piston.
#[test]
fn nested_shards_are_counted_per_file_and_missing_records_fail_only_with_require_all() {
    let project = Project::new();
    let task = |id: &str| json!({"task_id": id, "prompt": "def f():\n", "test": "def check(c):\n    assert c() == 1\n", "entry_point": "f"});
    project.write("tasks.jsonl", &format!("{}\n{}\n{}\n", task("t1"), task("t2"), task("t3")));
    let config = format!(
        "envs:\n  - {{id: code, module: {}, dataset: tasks.jsonl, id_field: task_id, capabilities: [run-code:python]}}\n",
        plugin("code").display()
    );
    project.write("run.yaml", &config);
    let row =
        |id: &str| json!({"task_id": id, "completion": "```python\ndef f():\n    return 1\n```"}).to_string() + "\n";
    project.write("sols/step-1/shard_0/part-0.jsonl", &(row("t1") + &row("t2")));
    project.write("sols/step-1/shard_1/part-0.jsonl", &row("t3"));
    project.write("sols/step-2/out.jsonl", &row("t1"));
    let piston = support::piston_mock::MockPiston::start(&[("python", "3.12.0")]);
    let base = ["score", "--solutions-dir", "sols", "--env", "code", "--config", "run.yaml", "--id-field", "task_id"];
    let args = |extra: &[&'static str]| -> Vec<String> {
        base.iter().chain(extra).map(|s| s.to_string()).chain(["--piston-url".into(), piston.url().into()]).collect()
    };
    let run = |extra: &[&'static str]| {
        let args = args(extra);
        project.assay(&args.iter().map(String::as_str).collect::<Vec<_>>())
    };

    let dry = run(&["--dry-run"]);
    assert!(dry.status.success(), "{}", output_text(&dry));
    let listed = output_text(&dry);
    for file in ["step-1/shard_0/part-0.jsonl", "step-1/shard_1/part-0.jsonl", "step-2/out.jsonl"] {
        assert!(listed.contains(file), "the dry run lists {file}: {listed}");
    }
    assert!(!project.path().join("runs").exists(), "a dry run writes nothing");

    let output = run(&["--yes"]);
    assert!(output.status.success(), "missing records alone do not fail: {}", output_text(&output));
    assert!(piston.requests().len() >= 4, "the programs ran on Piston");
    let summary = batch_summary(&project);
    let checkpoints = summary["checkpoints"].as_array().unwrap();
    let files: Vec<(String, u64)> = checkpoints[0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["path"].as_str().unwrap().rsplit("sols/").next().unwrap().to_string(), f["rows"].as_u64().unwrap()))
        .collect();
    assert_eq!(files, [("step-1/shard_0/part-0.jsonl".to_string(), 2), ("step-1/shard_1/part-0.jsonl".to_string(), 1)]);
    assert_eq!((checkpoints[0]["n_missing"].as_u64(), checkpoints[0]["n_errors"].as_u64()), (Some(0), Some(0)));
    assert_eq!(checkpoints[1]["status"], "completed");
    assert_eq!((checkpoints[1]["n_missing"].as_u64(), checkpoints[1]["n_errors"].as_u64()), (Some(2), Some(0)));

    let output = run(&["--yes", "--require-all"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let checkpoints = batch_summary(&project)["checkpoints"].clone();
    assert_eq!(checkpoints[0]["status"], "completed");
    assert_eq!(checkpoints[1]["status"], "failed");
    assert_eq!(checkpoints[1]["error"], "2 samples have no solution (--require-all)");

    let bad = project.assay(&[&base[..], &["--code-backend", "piston"][..]].concat());
    assert_eq!(bad.status.code(), Some(2));
    assert!(output_text(&bad).contains("--code-backend piston needs --piston-url"), "{}", output_text(&bad));
}
