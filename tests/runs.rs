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
