//! `assay runs` and `assay summarize` through the binary.

use crate::support;

use serde_json::Value;
use support::fixtures::{Project, output_text, repo_root};

fn quickstart(project: &Project, args: &[&str]) {
    let config = repo_root().join("configs/quickstart.yaml");
    let mut all = vec!["bench", "--config", config.to_str().unwrap(), "-q"];
    all.extend_from_slice(args);
    let output = project.assay(&all);
    assert!(output.status.success(), "{}", output_text(&output));
}

fn stdout(project: &Project, args: &[&str]) -> String {
    project.assay_ok(args).0
}

#[test]
fn runs_lists_runs_newest_first_with_progress() {
    let project = Project::new();
    assert!(stdout(&project, &["runs"]).contains("No runs in runs/raw"));
    quickstart(&project, &["--run-id", "older", "--job-id", "oracle-sample-mcq"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    quickstart(&project, &["--run-id", "newer"]);
    let table = stdout(&project, &["runs"]);
    let older = table.find("older").unwrap();
    assert!(table.find("newer").unwrap() < older, "newest first: {table}");
    let older_row = table.lines().find(|l| l.contains("older")).unwrap();
    assert!(older_row.contains("1/3") && older_row.contains("20/60"), "{older_row}");
    let json: Value = serde_json::from_str(&stdout(&project, &["runs", "--json"])).unwrap();
    assert_eq!(json[0]["run_id"], "newer");
    assert_eq!((json[0]["jobs_completed"].clone(), json[0]["samples_done"].clone()), (3.into(), 60.into()));
}

#[test]
fn summarize_shows_one_run_or_the_latest() {
    let project = Project::new();
    quickstart(&project, &["--run-id", "first", "--job-id", "oracle-sample-mcq"]);
    let table = stdout(&project, &["summarize", "first"]);
    let row = table.lines().find(|l| l.contains(" oracle-sample-mcq ")).unwrap();
    assert!(row.contains("completed") && row.contains("20/20") && row.contains("1.000 ± 0.000"), "{row}");
    assert!(table.lines().any(|l| l.contains("oracle-sample-mcq-shuffled-1618") && l.contains("pending")));
    assert_eq!(stdout(&project, &["summarize"]), stdout(&project, &["summarize", "--latest"]));
    let json: Value = serde_json::from_str(&stdout(&project, &["summarize", "--json"])).unwrap();
    assert_eq!(json["run_id"], "first");
    assert_eq!(json["jobs"][0]["summary"]["mean_reward"], 1.0);
    assert!(json["jobs"][1]["summary"].is_null());
    let output = project.assay(&["summarize", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no run `nope` in runs/raw"));
}

/// Two runs of one config started in the same second with
/// `--no-auto-resume` get two ids: the second never takes over (and moves
/// aside) the first's results.
#[test]
fn runs_started_in_the_same_second_get_their_own_ids() {
    let project = Project::new();
    let config = repo_root().join("configs/quickstart.yaml");
    let args = ["bench", "--config", config.to_str().unwrap(), "-q", "--no-auto-resume"];
    let piped = std::process::Stdio::piped;
    let children: Vec<_> =
        (0..3).map(|_| project.command(&args).stdout(piped()).stderr(piped()).spawn().unwrap()).collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let json: Value = serde_json::from_str(&stdout(&project, &["runs", "--json"])).unwrap();
    let runs = json.as_array().unwrap();
    assert_eq!(runs.len(), 3, "{json}");
    for run in runs {
        assert_eq!((run["jobs_completed"].clone(), run["samples_done"].clone()), (3.into(), 60.into()), "{run}");
    }
    let superseded =
        project.path().join("runs/raw").read_dir().unwrap().flatten().any(|run| run.path().join("superseded").exists());
    assert!(!superseded, "no run moved another's results aside");
}

/// Output into a pipe whose reader is gone (`assay plugin info X | head -1`)
/// ends the command quietly: no panic, no error line.
#[test]
fn output_into_a_closed_pipe_ends_quietly() {
    let project = Project::new();
    let mcq = support::fixtures::plugin("mcq");
    let mut child = project
        .command(&["plugin", "info", mcq.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the plugin is even loaded.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked") && !stderr.contains("error"), "{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stderr}");
}

/// The TOML runner's way to name runs: `summarize NAME --latest` and
/// `summarize NAME --rollout TIMESTAMP` (the time its id ends with).
#[test]
fn summarize_finds_a_run_by_name_and_start_time() {
    let project = Project::new();
    quickstart(&project, &["--no-auto-resume", "--job-id", "oracle-sample-mcq"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    quickstart(&project, &["--no-auto-resume"]);
    let json: Value = serde_json::from_str(&stdout(&project, &["runs", "--json"])).unwrap();
    let (newer, older) = (json[0]["run_id"].as_str().unwrap(), json[1]["run_id"].as_str().unwrap());
    let run_of = |args: &[&str]| -> String {
        let json: Value = serde_json::from_str(&stdout(&project, &[&["summarize", "--json"], args].concat())).unwrap();
        json["run_id"].as_str().unwrap().to_string()
    };
    assert_eq!(run_of(&["quickstart", "--latest"]), newer);
    let stamp = older.strip_prefix("quickstart-").unwrap();
    assert_eq!(run_of(&["quickstart", "--rollout", stamp]), older);
    assert_eq!(run_of(&[older]), older, "a run id still names a run");
    let output = project.assay(&["summarize", "quickstart"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        output_text(&output).contains("for a run name, add --latest or --rollout TIMESTAMP"),
        "{}",
        output_text(&output)
    );
    let output = project.assay(&["summarize", "other", "--latest"]);
    assert!(output_text(&output).contains("no run named `other` in runs/raw"), "{}", output_text(&output));
    // `eval`, the TOML runner's name, is `rescore`.
    let output = project.assay(&["eval", "nope"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output_text(&output).contains("no run nope in runs/raw"), "{}", output_text(&output));
}
