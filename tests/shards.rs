//! A run split into shards (`bench --shard I/N`, `--shards N` with the
//! engines' variables) through the `assay` binary: shards started at once
//! write disjoint files of one run that `summarize`, `runs`, `process`,
//! `analyze` and `report` read as one, equal sample for sample to a run in
//! one process; a shard's dry run; shards with another config, count or
//! run refused in one line; SIGTERM (even delivered twice) stopping a shard
//! within its grace with exit 143, and the rerun resuming it exactly; the
//! batch script `assay slurm` writes, requeueing a shard stopped by SIGTERM.

use crate::support;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use support::fixtures::{Project, lettered_questions, output_text, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockRequest, prompt_letter_reply};

const QUESTIONS: usize = 25;

/// Three jobs of different sizes: `served` on `plain` (2 rollouts) and
/// `shuffled` (3 rollouts), and the oracle on `plain`.
fn project(server: &MockOpenAi) -> Project {
    let project = Project::new();
    let questions: Vec<(String, String)> =
        (0..QUESTIONS).map(|i| (format!("q{i}"), format!("Question {i}?{}", " Really?".repeat(i % 5)))).collect();
    project.write("data.jsonl", &lettered_questions(&questions));
    write_config(&project, server, "");
    project
}

fn write_config(project: &Project, server: &MockOpenAi, sampling: &str) {
    project.write(
        "run.yaml",
        &format!(
            "name: sweep
models:
  served: {{model: test-model, api_base_url: {url}, max_concurrent: 4{sampling}}}
envs:
  - {{id: plain, module: {mcq}, dataset: data.jsonl, rollouts_per_example: 2}}
  - {{id: shuffled, module: {mcq}, dataset: data.jsonl, rollouts_per_example: 3, env_args: {{shuffle_answers: true}}}}
jobs:
  - {{model: served, env: [plain, shuffled]}}
  - {{model: oracle, env: [plain]}}
",
            url = server.base_url(),
            mcq = support::fixtures::plugin("mcq").display()
        ),
    );
}

const JOBS: [(&str, usize); 3] = [("served-plain", 2), ("served-shuffled", 3), ("oracle-plain", 2)];

/// (example id, rollout) → (reward, parsed answer) over every results file
/// of a job (a shard's each), asserting no sample appears twice.
fn samples(job_dir: &Path) -> BTreeMap<(String, u64), (Value, Value)> {
    let mut samples = BTreeMap::new();
    for file in results_files(job_dir) {
        for line in read_jsonl(&file) {
            let key = (line["example_id"].as_str().unwrap().to_string(), line["rollout"].as_u64().unwrap());
            let value = (line["reward"].clone(), line["parsed_answer"].clone());
            assert!(samples.insert(key.clone(), value).is_none(), "{key:?} recorded twice in {}", job_dir.display());
        }
    }
    samples
}

/// The results files in a job directory (`results.jsonl`, or shards').
fn results_files(job_dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(job_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with("results"))
        .collect();
    files.sort();
    files
}

/// `summarize RUN --json` in `dir`: each job's status and summary (without
/// its duration, which legitimately differs).
fn summaries(project: &Project, run_id: &str) -> BTreeMap<String, (Value, Value)> {
    let (stdout, _) = project.assay_ok(&["summarize", run_id, "--json"]);
    let run: Value = serde_json::from_str(&stdout).unwrap();
    let mut out = BTreeMap::new();
    for job in run["jobs"].as_array().unwrap() {
        let mut summary = job["summary"].clone();
        summary.as_object_mut().unwrap().remove("duration_secs");
        out.insert(job["job"]["job_id"].as_str().unwrap().to_string(), (job["job"]["status"].clone(), summary));
    }
    out
}

fn bench(project: &Project, args: &[&str]) -> Command {
    let mut command = project.command(&[&["bench", "--config", "run.yaml"], args].concat());
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

#[test]
fn shards_started_at_once_make_one_run_equal_to_a_run_in_one_process() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 1));
    let single = project(&server);
    single.assay_ok(&["bench", "--config", "run.yaml", "--run-id", "whole", "-q"]);

    let sharded = project(&server);
    let shards: Vec<Child> = (0..3)
        .map(|i| bench(&sharded, &["--shard", &format!("{i}/3"), "--run-id", "split"]).spawn().unwrap())
        .collect();
    for (i, shard) in shards.into_iter().enumerate() {
        let output = shard.wait_with_output().unwrap();
        assert!(output.status.success(), "shard {i}: {}", output_text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains(&format!("Shard {i}/3 of run split:")), "{stdout}");
    }
    let (whole, split) = (single.path().join("runs/raw/whole"), sharded.path().join("runs/raw/split"));
    assert!(!split.join("run_manifest.json").exists(), "shards write only their own parts");
    for (job, rollouts) in JOBS {
        let files = results_files(&split.join(job));
        let names: Vec<&str> = files.iter().map(|f| f.file_name().unwrap().to_str().unwrap()).collect();
        assert_eq!(names, ["results.shard-0-of-3.jsonl", "results.shard-1-of-3.jsonl", "results.shard-2-of-3.jsonl"]);
        let shares: Vec<usize> = files.iter().map(|f| read_jsonl(f).len()).collect();
        let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
        assert!(max - min <= 1, "{job}: balanced shares, got {shares:?}");
        let expected = samples(&whole.join(job));
        assert_eq!(expected.len(), QUESTIONS * rollouts);
        assert_eq!(samples(&split.join(job)), expected, "{job}: the same samples, ids and rewards");
    }
    assert_eq!(summaries(&sharded, "split"), summaries(&single, "whole"), "merged summaries equal the single run's");
    let (stdout, _) = sharded.assay_ok(&["runs", "--json"]);
    let runs: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((runs[0]["shards"].as_u64(), runs[0]["jobs_completed"].as_u64()), (Some(3), Some(3)), "{runs}");
    assert_eq!(runs[0]["samples_done"], runs[0]["samples_total"]);

    // process, analyze and report read the merged run.
    for project in [&single, &sharded] {
        project.assay_ok(&["process"]);
        project.assay_ok(&["analyze"]);
    }
    let analysis =
        |project: &Project| std::fs::read_to_string(project.path().join("runs/analysis/config_analysis.csv"));
    assert_eq!(analysis(&sharded).unwrap(), analysis(&single).unwrap(), "analyze sees the same samples");
    sharded.assay_ok(&["report", "runs/raw/split", "--format", "md", "--output", "report.md"]);
    let report = std::fs::read_to_string(sharded.path().join("report.md")).unwrap();
    assert!(report.contains("served") && report.contains("shuffled"), "{report}");
}

#[test]
fn a_shard_shows_its_share_and_is_refused_when_it_does_not_fit_the_run() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 0));
    let project = project(&server);
    let (stdout, _) =
        project.assay_ok(&["bench", "--config", "run.yaml", "--dry-run", "--shard", "1/3", "--run-id", "s"]);
    assert!(stdout.contains("3 jobs, 58 samples in this shard, 58 to run; would start shard 1/3 of run"), "{stdout}");
    assert!(!project.path().join("runs").exists(), "a dry run writes nothing");

    let output = bench(&project, &["--shard", "0/3", "--run-id", "s", "-q"]).output().unwrap();
    assert!(output.status.success(), "{}", output_text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Run s (3 shards): 0 of 3 jobs completed, 59 of 175 samples recorded"), "{stdout}");
    let (stdout, _) = project.assay_ok(&["summarize", "s"]);
    assert!(stdout.contains("running"), "{stdout}");
    assert!(stdout.contains("shards 1, 2 of 3 not started"), "{stdout}");

    // Another config, count, run kind or no run id: one line, nothing written.
    write_config(&project, &server, ", sampling_args: {temperature: 0}");
    let refused = |args: &[&str], expected: &str| {
        let output = bench(&project, args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
    };
    refused(
        &["--shard", "1/3", "--run-id", "s"],
        "error: --shard 1/3: shard 0/3 of run s ran another config: job served-plain: sampling_args.temperature: (unset) → 0; every shard must run the same config and plugins (or use another --run-id)",
    );
    assert!(!project.path().join("runs/raw/s/run_manifest.shard-1-of-3.json").exists());
    write_config(&project, &server, "");
    refused(&["--shard", "1/2", "--run-id", "s"], "run s is split into 3 shards (it has shard 0/3); use --shard I/3");
    refused(&["--shard", "1/3"], "every shard must write to the same run: give them all --run-id ID");
    refused(&["--run-id", "s"], "--run-id s: that run is split into 3 shards: resume it with --shard I/3 --run-id s");
    let output = bench(&project, &["--shard", "3/3", "--run-id", "s"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("shard 3 of 3 does not exist: shards are numbered 0 to 2")
    );
    refused(&["--shards", "3", "--run-id", "s"], "--shards 3: no shard index");
    let mut slurm = bench(&project, &["--shards", "3", "--run-id", "s"]);
    let output = slurm.env("SLURM_ARRAY_TASK_ID", "1").env("SLURM_ARRAY_TASK_COUNT", "4").output().unwrap();
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("this Slurm array has 4 tasks"),
        "{}",
        output_text(&output)
    );

    // The engines' variables pick the shard: Kubernetes' index, then Slurm's.
    let mut indexed = bench(&project, &["--shards", "3", "--run-id", "s", "--dry-run"]);
    let output = indexed.env("JOB_COMPLETION_INDEX", "2").output().unwrap();
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("would start shard 2/3 of run"),
        "{}",
        output_text(&output)
    );
    let mut task = bench(&project, &["--shards", "3", "--run-id", "s", "--dry-run"]);
    let output = task.env("SLURM_ARRAY_TASK_ID", "0").env("SLURM_ARRAY_TASK_COUNT", "3").output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("59 samples in this shard, 0 to run; resumes shard 0/3 of run"),
        "{}",
        output_text(&output)
    );

    // The finished shard's samples are processed only with --process-incomplete.
    let (stdout, _) = project.assay_ok(&["process", "--dry-run"]);
    assert!(!stdout.contains("served"), "no job is completed: {stdout}");
    let (stdout, _) = project.assay_ok(&["process", "--process-incomplete"]);
    let index = read_json(&project.path().join("runs/processed/env_index.json"));
    let rows: u64 = index["files"].as_object().unwrap().values().map(|f| f["rows"].as_u64().unwrap()).sum();
    assert_eq!(rows, 59, "{stdout}");
}

/// The run's manifest part of `shard` (e.g. `0-of-2`).
fn part(project: &Project, run: &str, shard: &str) -> Value {
    read_json(&project.path().join(format!("runs/raw/{run}/run_manifest.shard-{shard}.json")))
}

/// Wait until `job` of `run` has a recorded sample in shard `shard`'s file.
fn wait_for_results(project: &Project, run: &str, job: &str, shard: &str) {
    let file = project.path().join(format!("runs/raw/{run}/{job}/results.shard-{shard}.jsonl"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&file).map_or(0, |m| m.len()) == 0 {
        assert!(Instant::now() < deadline, "no results appeared in {}", file.display());
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn signal(pid: u32, signal: &str) {
    assert!(Command::new("kill").args([signal, &pid.to_string()]).status().unwrap().success());
}

#[test]
fn sigterm_twice_still_lets_a_shard_finish_in_flight_samples_and_the_rerun_resumes_it_exactly() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 40));
    let project = project(&server);
    let child = bench(&project, &["--shard", "0/2", "--run-id", "t"]).spawn().unwrap();
    wait_for_results(&project, "t", "served-plain", "0-of-2");
    // As a preemption can deliver it: to assay, then again through a script.
    signal(child.id(), "-TERM");
    std::thread::sleep(Duration::from_millis(5));
    signal(child.id(), "-TERM");
    let output: Output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", output_text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Terminated (SIGTERM): finishing in-flight samples"));
    let statuses: Vec<Value> =
        part(&project, "t", "0-of-2")["jobs"].as_array().unwrap().iter().map(|j| j["status"].clone()).collect();
    assert!(statuses.contains(&"interrupted".into()), "the grace ran its course: {statuses:?}");
    let answered = server.request_count();

    for shard in ["0/2", "1/2"] {
        let output = bench(&project, &["--shard", shard, "--run-id", "t", "-q"]).output().unwrap();
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let run = project.path().join("runs/raw/t");
    for (job, rollouts) in JOBS {
        assert_eq!(samples(&run.join(job)).len(), QUESTIONS * rollouts, "{job}: every sample once");
    }
    let served = QUESTIONS * (2 + 3);
    assert_eq!(server.request_count(), served, "no sample was asked twice ({answered} before SIGTERM)");
    assert!(summaries(&project, "t").values().all(|(status, _)| status == "completed"));
}

/// An executable `name` in `dir` that appends its arguments to `log` and
/// prints `stdout`.
fn fake_command(dir: &Path, name: &str, log: &Path, stdout: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\necho \"$@\" >> '{}'\necho '{stdout}'\n", log.display())).unwrap();
    let mut permissions = std::fs::metadata(&path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(&path, permissions).unwrap();
}

#[test]
fn the_slurm_script_runs_a_shard_per_task_and_requeues_one_stopped_by_sigterm() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 40));
    let project = project(&server);
    let bin = project.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = project.path().join("calls.log");
    fake_command(&bin, "sbatch", &calls, "4242;cluster");
    fake_command(&bin, "scontrol", &calls, "");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());

    let output = project.assay_with_env(
        &["slurm", "run.yaml", "--shards", "2", "--run-id", "r", "--submit", "--", "--partition=debug", "-t", "10"],
        &[("PATH", &path)],
    );
    assert!(output.status.success(), "{}", output_text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Submitted job array 4242"), "{stdout}");
    let script = project.path().join("runs/raw/r/slurm.sbatch");
    let text = std::fs::read_to_string(&script).unwrap();
    for line in ["#SBATCH --array=0-1", "#SBATCH --requeue", "#SBATCH --partition=debug", "#SBATCH -t 10"] {
        assert!(text.contains(line), "{line} missing from:\n{text}");
    }
    assert!(text.contains("--run-id r --shards 2"), "{text}");
    assert_eq!(std::fs::read_to_string(&calls).unwrap(), format!("--parsable {}\n", script.display()));

    // A task, as Slurm starts it; SIGTERM to its whole process group, as
    // preemption and `scancel --signal=TERM --full` send it.
    let task = |index: &str| {
        let mut command = Command::new("bash");
        command
            .arg(&script)
            .envs([("PATH", path.as_str()), ("SLURM_ARRAY_JOB_ID", "4242"), ("SLURM_ARRAY_TASK_ID", index)])
            .envs([("SLURM_ARRAY_TASK_COUNT", "2"), ("SLURM_ARRAY_TASK_MIN", "0")])
            .env("ASSAY_CACHE_DIR", env!("CARGO_TARGET_TMPDIR"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
    };
    let child = task("0").spawn().unwrap();
    wait_for_results(&project, "r", "served-plain", "0-of-2");
    assert!(Command::new("kill").args(["-TERM", "--", &format!("-{}", child.id())]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(143), "{}", output_text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("requeueing it"), "{}", output_text(&output));
    assert!(std::fs::read_to_string(&calls).unwrap().ends_with("requeue 4242_0\n"), "the task requeued itself");

    // The requeued task and the other one finish the run.
    for index in ["0", "1"] {
        let output = task(index).output().unwrap();
        assert!(output.status.success(), "task {index}: {}", output_text(&output));
    }
    let run = project.path().join("runs/raw/r");
    for (job, rollouts) in JOBS {
        assert_eq!(samples(&run.join(job)).len(), QUESTIONS * rollouts, "{job}");
    }
    assert_eq!(server.request_count(), QUESTIONS * 5, "no sample was asked twice");
}

/// The Indexed Job in docs/kubernetes.md, run as Kubernetes would: one
/// process per index with `JOB_COMPLETION_INDEX` set, its container's
/// command and arguments (paths pointed at this project).
#[test]
fn the_indexed_job_in_the_kubernetes_docs_runs_every_shard_of_one_run() {
    let doc = std::fs::read_to_string(support::fixtures::repo_root().join("docs/kubernetes.md")).unwrap();
    let yaml = doc.split("```yaml\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a yaml block");
    let job: Value = serde_yaml_ng::from_str(yaml).unwrap();
    let (spec, pod) = (&job["spec"], &job["spec"]["template"]["spec"]);
    assert_eq!((spec["completionMode"].as_str(), pod["restartPolicy"].as_str()), (Some("Indexed"), Some("Never")));
    assert!(pod["terminationGracePeriodSeconds"].as_u64().unwrap() > 20, "longer than assay's grace");
    let rules = spec["podFailurePolicy"]["rules"].as_array().unwrap();
    let rerun = |rule: &&Value| rule["action"] == "Ignore" && rule["onExitCodes"]["values"][0] == 143;
    assert!(rules.iter().any(|rule| rerun(&rule)), "a shard stopped by SIGTERM is rerun: {rules:?}");
    let container = &pod["containers"][0];
    let run_id = container["env"][0]["value"].as_str().unwrap();
    let words: Vec<&str> = container["command"]
        .as_array()
        .unwrap()
        .iter()
        .chain(container["args"].as_array().unwrap())
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(words[..2], ["assay", "bench"]);
    let mut args: Vec<String> = words[1..].iter().map(|w| w.replace("$(RUN_ID)", run_id)).collect();
    for (flag, here) in [("--config", "run.yaml"), ("--output-dir", "runs/raw")] {
        let at = args.iter().position(|a| a == flag).unwrap();
        args[at + 1] = here.into();
    }
    let completions = spec["completions"].as_u64().unwrap();
    let shards = args.iter().position(|a| a == "--shards").map(|at| args[at + 1].clone());
    assert_eq!(shards, Some(completions.to_string()), "completions equal --shards");

    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 0));
    let project = project(&server);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let pods: Vec<Child> = (0..completions)
        .map(|index| {
            let mut pod = project.command(&args);
            pod.env("JOB_COMPLETION_INDEX", index.to_string()).stdout(Stdio::piped()).stderr(Stdio::piped());
            pod.spawn().unwrap()
        })
        .collect();
    for pod in pods {
        let output = pod.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", output_text(&output));
    }
    let statuses = summaries(&project, run_id);
    assert!(statuses.values().all(|(status, _)| status == "completed"), "{statuses:?}");
    let run = project.path().join("runs/raw").join(run_id);
    for (job, rollouts) in JOBS {
        assert_eq!(samples(&run.join(job)).len(), QUESTIONS * rollouts, "{job}");
    }
}
