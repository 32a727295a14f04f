//! Resume and job identity through the `assay` binary: a run killed at any
//! instant (SIGKILL) or interrupted (Ctrl-C) resumes without losing or
//! duplicating a sample; a torn last line is cut; connection settings do
//! not change a job's identity, while anything that changes results does,
//! and the rerun says what changed. A full disk (simulated with
//! RLIMIT_FSIZE) stops the job with one line naming the file, keeps every
//! finished sample, and a rerun completes the job exactly once.

use crate::support;

use rand::{RngExt, SeedableRng};
use serde_json::Value;
use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use support::fixtures::{Project, output_text, plugin, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockRequest, prompt_letter_reply};

/// `n` four-option questions with varied lengths and gold letters.
fn questions(n: usize) -> String {
    (0..n)
        .map(|i| {
            let question = format!("Question {i}: which option is right?{}", " really".repeat(i % 7));
            let choices = [format!("w{i}"), format!("x{i}"), format!("y{i}"), format!("z{i}")];
            let answer = ["A", "B", "C", "D"][i % 4];
            serde_json::json!({"id": format!("q{i}"), "question": question, "choices": choices, "answer": answer})
                .to_string()
                + "\n"
        })
        .collect()
}

/// A project with two mcq jobs (plain and shuffled) on `n` questions with
/// two rollouts each, against `server`.
fn project(server: &MockOpenAi, n: usize, model_extra: &str) -> Project {
    let project = Project::new();
    project.write("data.jsonl", &questions(n));
    project.write(
        "run.yaml",
        &format!(
            "name: resume
models:
  served:
    model: test-model
    api_base_url: {url}
    max_concurrent: 4
{model_extra}envs:
  - id: plain
    module: {mcq}
    dataset: data.jsonl
    rollouts_per_example: 2
  - id: shuffled
    module: {mcq}
    dataset: data.jsonl
    rollouts_per_example: 2
    env_args: {{shuffle_answers: true}}
jobs:
  - model: served
    env: [plain, shuffled]
",
            url = server.base_url(),
            mcq = plugin("mcq").display()
        ),
    );
    project
}

/// Run directories that hold a manifest (a run killed before writing one
/// leaves at most an empty directory).
fn runs(project: &Project) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(project.path().join("runs/raw")) else { return Vec::new() };
    entries.map(|e| e.unwrap().path()).filter(|p| p.join("run_manifest.json").is_file()).collect()
}

fn only_run(project: &Project) -> PathBuf {
    let runs = runs(project);
    assert_eq!(runs.len(), 1, "{runs:?}");
    runs.into_iter().next().unwrap()
}

/// Every job's summary without its duration, which legitimately differs.
fn summaries(run_dir: &Path) -> HashMap<String, Value> {
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let mut out = HashMap::new();
    for job in manifest["jobs"].as_array().unwrap() {
        let id = job["job_id"].as_str().unwrap().to_string();
        let mut summary = read_json(&run_dir.join(&id).join("summary.json"));
        summary.as_object_mut().unwrap().remove("duration_secs");
        out.insert(id, summary);
    }
    out
}

/// Assert every (example, rollout) of every job appears exactly once.
fn assert_exactly_once(run_dir: &Path, examples: usize, rollouts: u64) {
    for job in ["served-plain", "served-shuffled"] {
        let results = read_jsonl(&run_dir.join(job).join("results.jsonl"));
        let mut seen = HashMap::new();
        for result in &results {
            let key = (result["example_id"].as_str().unwrap().to_string(), result["rollout"].as_u64().unwrap());
            *seen.entry(key).or_insert(0) += 1;
        }
        assert_eq!(results.len() as u64, examples as u64 * rollouts, "{job}: lines");
        assert_eq!(seen.len() as u64, examples as u64 * rollouts, "{job}: distinct samples");
        assert!(seen.values().all(|n| *n == 1), "{job}: a sample appears twice");
    }
}

#[test]
fn sigkill_at_random_instants_loses_and_duplicates_nothing() {
    const EXAMPLES: usize = 60;
    let server =
        MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 3 + (request.index as u64 * 7) % 13));
    let reference = project(&server, EXAMPLES, "");
    let output = reference.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let expected = summaries(&only_run(&reference));

    let crashed = project(&server, EXAMPLES, "");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut kills = 0;
    for trial in 0..12 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_assay"))
            .args(["bench", "--config", "run.yaml", "-q"])
            .current_dir(crashed.path())
            .env("ASSAY_CACHE_DIR", env!("CARGO_TARGET_TMPDIR"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Every fourth trial dies during start-up; the others after a random
        // number of new results, at a random instant after that.
        if trial % 4 == 0 {
            std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        } else {
            let target = recorded_lines(&crashed) + rng.random_range(3..20);
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while recorded_lines(&crashed) < target && child.try_wait().unwrap().is_none() {
                assert!(std::time::Instant::now() < deadline, "trial {trial}: no progress");
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_micros(rng.random_range(0..8000)));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
        }
        println!("trial {trial}: {}, {} lines recorded", child.wait().unwrap(), recorded_lines(&crashed));
    }
    assert!(kills >= 10, "only {kills} of 12 runs were still going when killed: make the run longer");
    let output = crashed.assay(&["bench", "--config", "run.yaml"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run_dir = only_run(&crashed);
    assert_exactly_once(&run_dir, EXAMPLES, 2);
    assert_eq!(summaries(&run_dir), expected, "summaries equal those of an uninterrupted run");
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    assert_eq!(manifest["summary"]["completed"], 2, "{manifest}");
}

/// Newline-terminated lines in the results of every job of the run so far.
fn recorded_lines(project: &Project) -> usize {
    let Some(run) = runs(project).into_iter().next() else { return 0 };
    ["served-plain", "served-shuffled"]
        .iter()
        .map(|job| {
            std::fs::read(run.join(job).join("results.jsonl")).map_or(0, |b| b.iter().filter(|c| **c == b'\n').count())
        })
        .sum()
}

#[test]
fn a_torn_last_line_is_cut_and_its_sample_rerun() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 0));
    let project = project(&server, 6, "");
    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run_dir = only_run(&project);
    let expected = summaries(&run_dir);
    // Simulate a crash mid-write: the last line half written, and the
    // manifest still saying the job runs.
    let results = run_dir.join("served-plain/results.jsonl");
    let text = std::fs::read_to_string(&results).unwrap();
    let cut = text.trim_end().rfind('\n').unwrap() + 1;
    let torn = &text[..cut + (text.len() - cut) / 2];
    std::fs::write(&results, torn).unwrap();
    let manifest_path = run_dir.join("run_manifest.json");
    let manifest = std::fs::read_to_string(&manifest_path).unwrap().replacen("\"completed\"", "\"running\"", 1);
    std::fs::write(&manifest_path, manifest).unwrap();

    let requests_before = server.request_count();
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(server.request_count() - requests_before, 1, "only the torn sample is asked again");
    assert_exactly_once(&run_dir, 6, 2);
    assert_eq!(summaries(&run_dir), expected);
}

#[test]
fn ctrl_c_finishes_in_flight_samples_marks_jobs_interrupted_and_resumes_exactly() {
    const EXAMPLES: usize = 40;
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 40));
    let project = project(&server, EXAMPLES, "");
    let child = project
        .command(&["bench", "--config", "run.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    interrupt_after_first_result(&project, &child, "served-plain");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", output_text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Interrupted: finishing in-flight samples"));
    let run_dir = only_run(&project);
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let statuses: Vec<&str> =
        manifest["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert!(statuses.contains(&"interrupted"), "{statuses:?}");
    let recorded = read_jsonl(&run_dir.join("served-plain/results.jsonl")).len();
    assert!(recorded < EXAMPLES * 2, "the interrupt came too late to test anything ({recorded} recorded)");
    // Every request the server answered before the interrupt was recorded.
    let answered = server.request_count();

    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(String::from_utf8_lossy(&output.stderr).contains("Resuming run"), "{}", output_text(&output));
    assert_exactly_once(&run_dir, EXAMPLES, 2);
    assert_eq!(server.request_count(), EXAMPLES * 2 * 2, "no sample was asked twice ({answered} before the interrupt)");
}

/// Send SIGINT to `child` once the first job has recorded a sample.
fn interrupt_after_first_result(project: &Project, child: &std::process::Child, job: &str) {
    let results = |job: &str| runs(project).first().map(|r| r.join(job).join("results.jsonl"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while results(job).is_none_or(|p| std::fs::read(p).map_or(0, |b| b.len()) == 0) {
        assert!(std::time::Instant::now() < deadline, "no results appeared");
        std::thread::sleep(Duration::from_millis(10));
    }
    let sent = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
}

/// One Ctrl-C while later jobs have not started: the run is interrupted
/// (exit 130, as the README promises), not a success with jobs left pending.
#[test]
fn ctrl_c_with_jobs_still_pending_exits_130() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 40));
    let project = project(&server, 40, "");
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("run.yaml", &format!("parallel: 1\n{config}"));
    let child = project
        .command(&["bench", "--config", "run.yaml"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    interrupt_after_first_result(&project, &child, "served-plain");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", output_text(&output));
    let manifest = read_json(&only_run(&project).join("run_manifest.json"));
    let statuses: Vec<&str> =
        manifest["jobs"].as_array().unwrap().iter().map(|j| j["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["interrupted", "pending"], "one job at a time: the second never started");
}

/// `bench` on `run.yaml` with `args`: its stderr, asserting success.
fn bench_ok(project: &Project, args: &[&str]) -> String {
    project.assay_ok(&[&["bench", "--config", "run.yaml"], args].concat()).1
}

#[test]
fn connection_settings_resume_and_result_inputs_start_fresh_saying_why() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 0));
    let project = project(&server, 4, "    sampling_args: {temperature: 0.7}\n");
    bench_ok(&project, &["-q"]);
    let run_dir = only_run(&project);
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    let requests = server.request_count();

    // Timeout and concurrency are connection settings: the run is done.
    let edited = config.replace("max_concurrent: 4", "max_concurrent: 2\n    timeout: 30");
    project.write("run.yaml", &edited);
    let stderr = bench_ok(&project, &[]);
    assert!(stderr.contains("2 of 2 jobs done, 0 to run"), "{stderr}");
    assert_eq!(server.request_count(), requests, "nothing was asked again");

    // Temperature changes results: both jobs start fresh, saying why.
    project.write("run.yaml", &edited.replace("temperature: 0.7", "temperature: 0.0"));
    let stderr = bench_ok(&project, &[]);
    assert!(
        stderr.contains("job served-plain: changed: sampling_args.temperature: 0.7 → 0.0; starting it fresh"),
        "{stderr}"
    );
    assert_eq!(runs(&project), vec![run_dir.clone()], "the same run goes on");
    assert_eq!(std::fs::read_dir(run_dir.join("superseded")).unwrap().count(), 2, "earlier results kept aside");

    // An env arg of one env: only that job starts fresh.
    let stderr = bench_ok(&project, &["--env-args", r#"{"shuffle_answers": true}"#, "--job-id", "served-plain"]);
    assert!(stderr.contains("env_args.shuffle_answers: (unset) → true"), "{stderr}");

    // The dataset file.
    let data = std::fs::read_to_string(project.path().join("data.jsonl")).unwrap();
    project.write("data.jsonl", &data.replace("Question 0", "Question zero"));
    let stdout = dry_run(&project, &[]);
    assert!(stdout.contains("changed: dataset_sha256:"), "{stdout}");

    // The plugin file: same plugin with an extra custom section appended.
    let mut wasm = std::fs::read(plugin("mcq")).unwrap();
    wasm.extend_from_slice(&[0, 5, 4, b't', b'e', b's', b't']);
    std::fs::write(project.path().join("mcq-copy.wasm"), wasm).unwrap();
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    project.write("run.yaml", &config.replace(&plugin("mcq").display().to_string(), "mcq-copy.wasm"));
    let stdout = dry_run(&project, &[]);
    assert!(stdout.contains("changed: dataset_sha256:") && stdout.contains("plugin_sha256"), "{stdout}");
}

/// `bench --dry-run` on `run.yaml` with `args`: its stdout, asserting success.
fn dry_run(project: &Project, args: &[&str]) -> String {
    project.assay_ok(&[&["bench", "--config", "run.yaml", "--dry-run"], args].concat()).0
}

#[test]
fn restart_seeds_a_new_run_with_matching_completed_jobs_and_rejects_unknown_ids() {
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 0));
    let project = project(&server, 4, "");
    bench_ok(&project, &["-q"]);
    let old = only_run(&project);
    let old_id = old.file_name().unwrap().to_str().unwrap().to_string();
    let requests = server.request_count();

    let stderr = bench_ok(&project, &["--restart", &old_id, "--run-id", "again", "--forced", "shuffled"]);
    assert!(
        stderr.contains(&format!("New run again from run {old_id}: 1 completed jobs copied, 1 to run")),
        "{stderr}"
    );
    assert_eq!(server.request_count() - requests, 8, "only the forced job ran");
    let new = project.path().join("runs/raw/again");
    assert_eq!(read_json(&new.join("run_manifest.json"))["restart_source"], old_id.as_str());
    assert_eq!(
        std::fs::read(new.join("served-plain/results.jsonl")).unwrap(),
        std::fs::read(old.join("served-plain/results.jsonl")).unwrap()
    );
    assert_exactly_once(&new, 4, 2);

    let output = project.assay(&["bench", "--config", "run.yaml", "--restart", "no-such-run"]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--restart no-such-run: no run with that id in runs/raw (runs there: "), "{stderr}");
    assert!(stderr.contains(&old_id), "{stderr}");
}

/// Run `assay bench` as a child that cannot make any file longer than
/// `max_file_bytes`, as on a full disk. SIGXFSZ is ignored in the child, so
/// a write past the limit fails with EFBIG instead of killing the process.
fn bench_on_a_full_disk(project: &Project, max_file_bytes: u64) -> Output {
    use nix::sys::resource::{Resource, setrlimit};
    use nix::sys::signal::{SigHandler, Signal, signal};
    let mut command = Command::new(env!("CARGO_BIN_EXE_assay"));
    command
        .args(["bench", "--config", "run.yaml", "-q"])
        .current_dir(project.path())
        .env("ASSAY_CACHE_DIR", env!("CARGO_TARGET_TMPDIR"));
    // SAFETY: between fork and exec the closure only makes two syscalls
    // (setrlimit, sigaction), both async-signal-safe, and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            setrlimit(Resource::RLIMIT_FSIZE, max_file_bytes, max_file_bytes)?;
            signal(Signal::SIGXFSZ, SigHandler::SigIgn)?;
            Ok(())
        });
    }
    command.output().expect("run assay")
}

/// `text` without ANSI colour sequences (`ESC [ ... m`), which the log
/// writes to stderr even when it is not a terminal.
fn without_ansi_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| *c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// A project with one job: the oracle answering `n` mcq questions.
fn oracle_project(n: usize) -> Project {
    let project = Project::new();
    project.write("data.jsonl", &questions(n));
    project.write(
        "run.yaml",
        &format!(
            "name: full-disk\nenvs:\n  - id: mcq\n    module: {}\n    dataset: data.jsonl\njobs:\n  - model: oracle\n    env: mcq\n",
            plugin("mcq").display()
        ),
    );
    project
}

/// The example ids of the complete (newline-terminated) lines of `bytes`,
/// asserting each is a scored result.
fn complete_results(bytes: &[u8]) -> Vec<String> {
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    std::str::from_utf8(&bytes[..complete])
        .expect("complete lines are UTF-8")
        .lines()
        .map(|line| {
            let result: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(result["error"].is_null(), "{result}");
            result["example_id"].as_str().unwrap().to_string()
        })
        .collect()
}

#[test]
fn a_full_disk_stops_the_job_in_one_line_and_a_rerun_completes_it_exactly_once() {
    const EXAMPLES: usize = 1000;
    // About 40% of the job's results (lines are about 620 bytes). Not much
    // lower: wasmtime writes each plugin's initial memory image to a memfd,
    // which the same limit applies to.
    const MAX_FILE_BYTES: u64 = 256 << 10;
    let reference = oracle_project(EXAMPLES);
    reference.assay_ok(&["bench", "--config", "run.yaml", "-q"]);
    let expected = summaries(&only_run(&reference));

    let project = oracle_project(EXAMPLES);
    let output = bench_on_a_full_disk(&project, MAX_FILE_BYTES);
    assert_eq!(output.status.code(), Some(1), "a job failed: {}", output_text(&output));
    let run_dir = only_run(&project);
    let results_path = run_dir.join("oracle-mcq/results.jsonl");
    let shown = results_path.strip_prefix(project.path()).unwrap(); // as the config's output_dir says it
    let reason = format!("cannot append to {}: File too large (os error 27)", shown.display());
    let stderr = without_ansi_colours(&String::from_utf8_lossy(&output.stderr));
    assert_eq!(stderr.trim().lines().count(), 1, "one line on stderr: {stderr}");
    assert!(stderr.contains(&format!("ERROR {reason} job=\"oracle-mcq\"")), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.lines().any(|l| l == format!("oracle-mcq: {reason}")), "{stdout}");
    let manifest = read_json(&run_dir.join("run_manifest.json"));
    assert_eq!(manifest["jobs"][0]["status"], "failed");
    assert_eq!(manifest["jobs"][0]["reason"], reason.as_str());

    // Everything up to the limit was written; the complete lines are
    // distinct scored samples, and at most the last line is torn.
    let before = std::fs::read(&results_path).unwrap();
    assert_eq!(before.len() as u64, MAX_FILE_BYTES, "writes stop exactly at the limit");
    let kept = complete_results(&before);
    assert!(kept.len() > 50 && kept.len() < EXAMPLES, "the limit is hit mid-run: {} lines", kept.len());
    let distinct: std::collections::HashSet<&String> = kept.iter().collect();
    assert_eq!(distinct.len(), kept.len(), "no sample is written twice");
    assert_eq!(manifest["jobs"][0]["samples_done"], kept.len(), "the manifest counts what is on disk");

    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(only_run(&project), run_dir, "the rerun resumes the same run");
    let after = std::fs::read(&results_path).unwrap();
    let complete = before.iter().rposition(|b| *b == b'\n').unwrap() + 1;
    assert_eq!(after[..complete], before[..complete], "the finished samples survive byte for byte");
    let all = complete_results(&after);
    let distinct: std::collections::HashSet<&String> = all.iter().collect();
    assert_eq!((all.len(), distinct.len()), (EXAMPLES, EXAMPLES), "every sample exactly once");
    assert_eq!(summaries(&run_dir), expected, "summaries equal those of an uninterrupted run");
}

#[test]
fn a_full_disk_stops_asking_the_model() {
    const EXAMPLES: usize = 400;
    let server = MockOpenAi::start(|request: &MockRequest| prompt_letter_reply(request, 2));
    let project = project(&server, EXAMPLES, "");
    let output = bench_on_a_full_disk(&project, 256 << 10);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let recorded = recorded_lines(&project);
    // Each job stops at its limit. Lost beyond that: the requests in flight
    // (at most `max_concurrent`, 4, per job) and the replies waiting for the
    // writer when it failed (a group commit gathers for 2 ms: a few here).
    let asked = server.request_count();
    println!("{recorded} samples recorded, {asked} of {} requests made", EXAMPLES * 4);
    assert!(asked <= recorded + 2 * (4 + 4) + 2, "{asked} requests for {recorded} recorded samples");
}
