//! Model servers assay starts itself (`serve:`), with `tools/openai-stub`
//! as `engine: command`: slow to become ready, dead at start, crashing
//! mid-run, deaf to SIGTERM, reporting the `CUDA_VISIBLE_DEVICES` it was
//! given. Every test checks exact outcomes and that no server process is
//! left, by the pid each server printed in its log.

use crate::support;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use support::fixtures::{Project, lettered_questions, output_text, plugin, read_json, read_jsonl};

/// The `openai-stub` binary, built once beside `assay`.
fn stub() -> &'static Path {
    static STUB: OnceLock<PathBuf> = OnceLock::new();
    STUB.get_or_init(|| {
        let built = std::process::Command::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "openai-stub", "--bin", "openai-stub"])
            .current_dir(support::fixtures::repo_root())
            .status()
            .expect("run cargo build");
        assert!(built.success(), "cargo build -p openai-stub failed");
        Path::new(env!("CARGO_BIN_EXE_assay")).with_file_name("openai-stub")
    })
}

/// A served model `name` running the stub with `flags`, then `settings`
/// (YAML lines at the `serve:` level).
fn served_model(name: &str, flags: &[&str], settings: &str) -> String {
    let mut command = vec![stub().display().to_string(), "--port".into(), "{port}".into(), "--report-env".into()];
    command.extend(flags.iter().map(|f| f.to_string()));
    let command: Vec<String> = command.iter().map(|word| format!("\"{word}\"")).collect();
    format!(
        "  {name}:\n    model: m\n    max_concurrent: 1\n    serve:\n      engine: command\n      command: [{}]\n      version_command: [\"{}\", \"--version\"]\n      ready_timeout: 20\n      stop_grace: 1\n{settings}",
        command.join(", "),
        stub().display()
    )
}

/// A project with `questions` mcq questions (gold A, B, C, D in turn) and
/// a config of `models` (YAML entries) and `jobs` (YAML list items), plus `top` lines.
fn project(questions: usize, models: &[String], jobs: &str, top: &str) -> Project {
    let project = Project::new();
    let rows: Vec<(String, String)> = (0..questions).map(|i| (format!("q{i}"), format!("Question {i}?"))).collect();
    project.write("questions.jsonl", &lettered_questions(&rows));
    let config = format!(
        "{top}models:\n{}envs:\n  - {{id: quiz, module: {}, dataset: questions.jsonl}}\njobs:\n{jobs}",
        models.concat(),
        plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    project
}

fn bench(project: &Project, extra: &[&str]) -> Output {
    let mut args = vec!["bench", "--config", "run.yaml", "--quiet"];
    args.extend_from_slice(extra);
    project.assay(&args)
}

/// The pids a server log reports, one per start.
fn server_pids(log: &Path) -> Vec<i32> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.strip_prefix("openai-stub: pid="))
        .map(|rest| rest.split_whitespace().next().unwrap().parse().unwrap())
        .collect()
}

/// Whether `pid` is a process still running (a zombie waiting for a
/// parent that does not reap it is not).
fn running(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'),
        Err(_) => false,
    }
}

/// Assert every server the log reports is gone (waiting up to `within`).
fn assert_none_left(log: &Path, within: Duration) {
    let pids = server_pids(log);
    assert!(!pids.is_empty(), "{} reports no server pid", log.display());
    let started = Instant::now();
    while pids.iter().any(|&pid| running(pid)) && started.elapsed() < within {
        std::thread::sleep(Duration::from_millis(50));
    }
    let left: Vec<i32> = pids.into_iter().filter(|&pid| running(pid)).collect();
    assert!(left.is_empty(), "server processes left running: {left:?}");
}

/// A job's `started_at` or `ended_at` in the run's manifest.
fn job_time(run: &Path, job_id: &str, field: &str) -> time::OffsetDateTime {
    let manifest = read_json(&run.join("run_manifest.json"));
    let job = manifest["jobs"].as_array().unwrap().iter().find(|job| job["job_id"] == job_id).unwrap();
    let text = job[field].as_str().unwrap_or_else(|| panic!("{job_id} has no {field}: {job}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap()
}

fn log_of(run: &Path, model: &str) -> PathBuf {
    run.join("logs").join(format!("server-{model}.log"))
}

#[test]
fn a_served_model_is_started_asked_and_stopped_with_its_version_recorded() {
    let models = [served_model("stubbed", &["--ready-delay-ms", "700"], "")];
    let project = project(6, &models, "  - {model: stubbed, env: quiz}\n", "");
    let output = bench(&project, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run = project.only_run_dir();
    let results = read_jsonl(&run.join("stubbed-quiz/results.jsonl"));
    assert_eq!(results.len(), 6);
    // The stub answers (A): right for q0 and q4.
    assert_eq!(read_json(&run.join("stubbed-quiz/summary.json"))["mean_reward"], serde_json::json!(2.0 / 6.0));
    let server = &read_json(&run.join("stubbed-quiz/metadata.json"))["server"];
    assert_eq!(server["engine"], "command");
    assert_eq!(server["engine_version"], "openai-stub 0.1.0");
    assert_eq!(server["cuda_visible_devices"], "");
    assert!(server["command"].as_str().unwrap().contains("--port "), "{server}");
    let log = log_of(&run, "stubbed");
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("--- assay: start 1 of model `stubbed` (CUDA_VISIBLE_DEVICES=)"), "{text}");
    assert!(text.contains("openai-stub: pid=") && text.contains("CUDA_VISIBLE_DEVICES=\n"), "{text}");
    assert_eq!(server_pids(&log).len(), 1, "{text}");
    assert_none_left(&log, Duration::ZERO);
}

#[test]
fn a_server_that_never_answers_fails_its_job_with_its_log_and_the_others_go_on() {
    let models = [served_model("broken", &["--exit-at-start"], "")];
    let project = project(4, &models, "  - {model: broken, env: quiz}\n  - {model: oracle, env: quiz}\n", "");
    let output = bench(&project, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let manifest = read_json(&project.only_run_dir().join("run_manifest.json"));
    let jobs = manifest["jobs"].as_array().unwrap();
    let broken = jobs.iter().find(|j| j["job_id"] == "broken-quiz").unwrap();
    assert_eq!(broken["status"], "failed");
    let reason = broken["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("the server of model `broken` never became ready: it exited (exit status: 1) before answering; last lines of "),
        "{reason}"
    );
    assert!(reason.ends_with("openai-stub: exiting at start, as --exit-at-start asks"), "{reason}");
    let oracle = jobs.iter().find(|j| j["job_id"] == "oracle-quiz").unwrap();
    assert_eq!(oracle["status"], "completed");
    assert_none_left(&log_of(&project.only_run_dir(), "broken"), Duration::ZERO);
}

/// With one request at a time, each taking 100 ms, every start of the
/// server answers two requests and dies (or hangs) on the third, which is
/// asked again after the restart: three starts answer all six questions.
fn assert_restarted_without_loss(flag: &str, settings: &str) {
    let flags = [flag, "3", "--latency-ms", "100"];
    let models = [served_model("flaky", &flags, settings)];
    let project = project(6, &models, "  - {model: flaky, env: quiz}\n", "");
    let output = bench(&project, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run = project.only_run_dir();
    let results = read_jsonl(&run.join("flaky-quiz/results.jsonl"));
    let mut ids: Vec<&str> = results.iter().map(|r| r["example_id"].as_str().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, ["q0", "q1", "q2", "q3", "q4", "q5"]);
    assert!(results.iter().all(|r| r["error"].is_null()), "{results:?}");
    let log = log_of(&run, "flaky");
    assert_eq!(server_pids(&log).len(), 3, "{}", std::fs::read_to_string(&log).unwrap());
    assert_none_left(&log, Duration::ZERO);
}

#[test]
fn a_server_crashing_mid_run_is_restarted_and_no_sample_is_lost_or_doubled() {
    assert_restarted_without_loss("--crash-after", "      max_restarts: 2\n");
}

#[test]
fn a_server_hung_mid_run_is_killed_and_restarted() {
    assert_restarted_without_loss("--freeze-after", "      max_restarts: 2\n      health_interval: 0.3\n");
}

#[test]
fn a_server_dying_past_its_restarts_fails_the_job_keeping_what_finished() {
    let flags = ["--crash-after", "3", "--latency-ms", "100"];
    let models = [served_model("crashy", &flags, "      max_restarts: 1\n")];
    let project = project(6, &models, "  - {model: crashy, env: quiz}\n", "");
    let output = bench(&project, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run = project.only_run_dir();
    let job = &read_json(&run.join("run_manifest.json"))["jobs"][0];
    assert_eq!(job["status"], "failed");
    let reason = job["reason"].as_str().unwrap();
    assert!(
        reason.starts_with(
            "the server of model `crashy` died mid-run (exit status: 3) after 1 restarts (max_restarts); last lines of "
        ),
        "{reason}"
    );
    assert!(reason.ends_with("openai-stub: crashing at request 3, as --crash-after asks"), "{reason}");
    // Two answers per start; the sample in flight at the end is not recorded.
    let results = read_jsonl(&run.join("crashy-quiz/results.jsonl"));
    assert_eq!(results.len(), 4, "{results:?}");
    assert!(results.iter().all(|r| r["error"].is_null()), "{results:?}");
    assert_none_left(&log_of(&run, "crashy"), Duration::ZERO);
}

#[test]
fn a_restart_that_never_answers_counts_as_a_death() {
    // The first start crashes at its third request; every later one exits at start.
    let script = format!(
        "if [ -e started ]; then exec {stub} --exit-at-start; fi; touch started; exec {stub} --port \"$0\" --report-env --crash-after 3 --latency-ms 100",
        stub = stub().display()
    );
    let model = format!(
        "  shaky:\n    model: m\n    max_concurrent: 1\n    serve:\n      engine: command\n      command: [sh, -c, '{script}', '{{port}}']\n      ready_timeout: 20\n      stop_grace: 1\n      max_restarts: 2\n"
    );
    let project = project(4, &[model], "  - {model: shaky, env: quiz}\n", "");
    let output = bench(&project, &[]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run = project.only_run_dir();
    let reason = read_json(&run.join("run_manifest.json"))["jobs"][0]["reason"].as_str().unwrap().to_string();
    assert!(
        reason.starts_with("the server of model `shaky` never became ready again (exited (exit status: 1) before answering) after 2 restarts (max_restarts); last lines of "),
        "{reason}"
    );
    let log = std::fs::read_to_string(log_of(&run, "shaky")).unwrap();
    assert_eq!(log.matches("--- assay: start ").count(), 3, "{log}");
    assert_eq!(read_jsonl(&run.join("shaky-quiz/results.jsonl")).len(), 2);
    assert_none_left(&log_of(&run, "shaky"), Duration::ZERO);
}

#[test]
fn a_server_deaf_to_sigterm_is_killed_after_its_grace() {
    let models = [served_model("deaf", &["--ignore-sigterm"], "")];
    let project = project(2, &models, "  - {model: deaf, env: quiz}\n", "");
    let started = Instant::now();
    let output = bench(&project, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(started.elapsed() >= Duration::from_secs(1), "stop_grace 1 s passes before SIGKILL");
    assert_none_left(&log_of(&project.only_run_dir(), "deaf"), Duration::ZERO);
}

/// Start `assay bench` on a slow served model, wait until its server
/// answered a request, and send assay `signal`: the project, how assay
/// ended, and the server log.
fn signal_mid_run(signal: nix::sys::signal::Signal) -> (Project, std::process::ExitStatus, PathBuf) {
    let models = [served_model("slow", &["--latency-ms", "300"], "")];
    let project = project(40, &models, "  - {model: slow, env: quiz}\n", "");
    let mut child =
        project.command(&["bench", "--config", "run.yaml", "--quiet"]).stdout(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    let results = loop {
        let found = std::fs::read_dir(project.path().join("runs/raw"))
            .ok()
            .and_then(|mut runs| runs.next())
            .map(|run| run.unwrap().path().join("slow-quiz/results.jsonl"));
        if let Some(results) = found.filter(|r| std::fs::metadata(r).is_ok_and(|m| m.len() > 0)) {
            break results;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no result within a minute");
        std::thread::sleep(Duration::from_millis(50));
    };
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(child.id() as i32), signal).unwrap();
    let status = child.wait().unwrap();
    let log = log_of(results.parent().unwrap().parent().unwrap(), "slow");
    (project, status, log)
}

#[test]
fn sigterm_to_assay_stops_its_server() {
    let (_project, status, log) = signal_mid_run(nix::sys::signal::Signal::SIGTERM);
    // SIGTERM is a preemption: in-flight samples finish, then exit 143.
    assert_eq!(status.code(), Some(143));
    assert_none_left(&log, Duration::ZERO);
}

#[test]
fn a_killed_assay_leaves_no_server() {
    let (_project, status, log) = signal_mid_run(nix::sys::signal::Signal::SIGKILL);
    assert_eq!(status.code(), None);
    // The kernel kills the server when assay dies (PR_SET_PDEATHSIG).
    assert_none_left(&log, Duration::from_secs(5));
}

#[test]
fn servers_take_their_gpus_from_the_pool_and_dry_run_shows_where() {
    let two = "      gpus: 2\n";
    let models = [served_model("a", &[], two), served_model("b", &[], "      gpus: 1\n"), served_model("c", &[], two)];
    let jobs = "  - {model: a, env: quiz}\n  - {model: b, env: quiz}\n  - {model: c, env: quiz}\n";
    let project = project(2, &models, jobs, "gpus: [0, 1, 2]\n");
    let (plan, _) = project.assay_ok(&["bench", "--config", "run.yaml", "--dry-run"]);
    let rows: Vec<Vec<&str>> = plan
        .lines()
        .filter(|line| line.starts_with("│ a ") || line.starts_with("│ b ") || line.starts_with("│ c "))
        .map(|line| line.split(['│', '┆']).map(str::trim).filter(|cell| !cell.is_empty()).take(5).collect())
        .collect();
    assert_eq!(
        rows,
        [["a", "command", "2", "0,1", "1"], ["b", "command", "1", "2", "1"], ["c", "command", "2", "0,1", "2"]],
        "{plan}"
    );
    assert!(plan.contains("GPU pool: 0,1,2; at most 4 servers at once (one per job slot)"), "{plan}");
    assert!(!project.path().join("runs").exists(), "a dry run writes nothing");

    let output = bench(&project, &[]);
    assert!(output.status.success(), "{}", output_text(&output));
    let run = project.only_run_dir();
    // Servers take turns in job order: c waits for a to stop, then gets 0,1.
    for (model, devices) in [("a", "0,1"), ("b", "2"), ("c", "0,1")] {
        let log = std::fs::read_to_string(log_of(&run, model)).unwrap();
        let reported =
            format!("openai-stub: pid={} CUDA_VISIBLE_DEVICES={devices}\n", server_pids(&log_of(&run, model))[0]);
        assert!(log.contains(&reported), "{model}: {log}");
        assert_none_left(&log_of(&run, model), Duration::ZERO);
    }
    assert!(job_time(&run, "a-quiz", "ended_at") < job_time(&run, "c-quiz", "started_at"));
}

#[test]
fn no_more_servers_run_at_once_than_the_run_has_job_slots() {
    let models: Vec<String> = ["a", "b", "c"].iter().map(|m| served_model(m, &["--latency-ms", "150"], "")).collect();
    let jobs = "  - {model: a, env: quiz}\n  - {model: b, env: quiz}\n  - {model: c, env: quiz}\n";
    let project = project(3, &models, jobs, "parallel: 1\n");
    let mut child =
        project.command(&["bench", "--config", "run.yaml", "--quiet"]).stdout(Stdio::null()).spawn().unwrap();
    // Servers need no GPUs here, so only the job slots can hold them back.
    let alive = || -> usize {
        let Some(run) = std::fs::read_dir(project.path().join("runs/raw")).ok().and_then(|mut runs| runs.next()) else {
            return 0;
        };
        let run = run.unwrap().path();
        ["a", "b", "c"].iter().map(|m| server_pids(&log_of(&run, m)).into_iter().filter(|&p| running(p)).count()).sum()
    };
    let (mut most, started) = (0, Instant::now());
    while child.try_wait().unwrap().is_none() {
        most = most.max(alive());
        assert!(started.elapsed() < Duration::from_secs(60), "the run took over a minute");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(most, 1, "servers running at once with one job slot");
    let run = project.only_run_dir();
    for model in ["a", "b", "c"] {
        assert_eq!(read_jsonl(&run.join(format!("{model}-quiz/results.jsonl"))).len(), 3, "{model}");
        assert_none_left(&log_of(&run, model), Duration::ZERO);
    }
}

#[test]
fn engine_arguments_are_checked_before_launch() {
    let project = project(1, &[], "  - {model: oracle, env: quiz}\n", "");
    let config = |serve: &str| {
        format!(
            "models:\n  llama:\n    model: m\n    serve: {serve}\nenvs:\n  - {{id: quiz, module: {}, dataset: questions.jsonl}}\njobs:\n  - {{model: llama, env: quiz}}\n",
            plugin("mcq").display()
        )
    };
    let error = |serve: &str| {
        project.write("bad.yaml", &config(serve));
        let output = project.assay(&["bench", "--config", "bad.yaml", "--dry-run"]);
        assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
        String::from_utf8_lossy(&output.stderr).trim().to_string()
    };
    assert_eq!(
        error("{engine: llamacpp, engine_args: {tensor_parallel_size: 2}}"),
        "error: bad.yaml: jobs[0]: models.llama.serve.engine_args.tensor_parallel_size: llamacpp has no such argument (pass the engine's own flag in `extra_args`)"
    );
    let unknown = error("{engine: vllm, engine_args: {max_len: 2}}");
    assert!(
        unknown.starts_with("error: bad.yaml:4:")
            && unknown.contains("models.llama.serve.engine_args.max_len: unknown field `max_len`"),
        "{unknown}"
    );
    assert!(!unknown.contains('\n'), "one line: {unknown}");
}

#[test]
fn a_checkpoint_sweep_serves_each_checkpoint_in_step_order_and_resumes() {
    let project = project(6, &[], "  []\n", "");
    // The stub stands for an engine loading `{path}`: it starts only for a
    // folder holding a config.json.
    let script = format!("test -f \"$0/config.json\" && exec {} --port {{port}} --report-env", stub().display());
    let config = format!(
        "gpus: [0]\nmodels:\n  sweep:\n    model: unused\n    max_concurrent: 1\n    serve:\n      engine: command\n      command: [sh, -c, '{script}', '{{path}}']\n      gpus: 1\n      ready_timeout: 20\n      stop_grace: 1\nenvs:\n  - {{id: quiz, module: {}, dataset: questions.jsonl}}\njobs: []\n",
        plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    for (folder, servable) in [("step-20", true), ("checkpoint_5", true), ("global_step_10", false)] {
        project.write(&format!("ckpts/{folder}/{}", if servable { "config.json" } else { "weights.bin" }), "{}");
    }
    let args =
        ["score", "--checkpoints", "ckpts", "--serve", "sweep", "--env", "quiz", "--config", "run.yaml", "--yes"];
    let output = project.assay(&args);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run = project.only_run_dir();
    let summary = read_json(&run.join("score_summary.json"));
    let rows: Vec<(u64, &str, Option<f64>)> = summary["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["step"].as_u64().unwrap(), c["status"].as_str().unwrap(), c["mean_reward"].as_f64()))
        .collect();
    assert_eq!(rows, [(5, "completed", Some(2.0 / 6.0)), (10, "failed", None), (20, "completed", Some(2.0 / 6.0))]);
    let failed = summary["checkpoints"][1]["error"].as_str().unwrap();
    assert!(failed.starts_with("the server of model `checkpoint-10` never became ready"), "{failed}");
    // One GPU: the servers ran one after the other, in step order.
    let (five, twenty) = (log_of(&run, "checkpoint-5"), log_of(&run, "checkpoint-20"));
    assert!(job_time(&run, "checkpoint-5-quiz", "ended_at") < job_time(&run, "checkpoint-10-quiz", "ended_at"));
    assert!(job_time(&run, "checkpoint-10-quiz", "ended_at") < job_time(&run, "checkpoint-20-quiz", "started_at"));
    let served = read_json(&run.join("checkpoint-20-quiz/metadata.json"));
    let command = served["server"]["command"].as_str().unwrap();
    assert!(command.ends_with("/ckpts/step-20"), "{command}");
    assert_none_left(&five, Duration::ZERO);
    assert_none_left(&twenty, Duration::ZERO);

    // A rerun resumes: finished checkpoints are not served again.
    let output = project.assay(&args);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert_eq!(server_pids(&five).len(), 1);
    assert_eq!(server_pids(&twenty).len(), 1);

    // Other weights in folders of the same names (the same run name) are
    // other models: served and scored again, not taken for done.
    project.write("other/ckpts/step-20/config.json", "{}");
    project.write("other/ckpts/checkpoint_5/config.json", "{}");
    let mut other = args;
    other[2] = "other/ckpts";
    let output = project.assay(&other);
    assert_eq!(output.status.code(), Some(0), "{}", output_text(&output));
    assert_eq!(server_pids(&five).len(), 2);
    assert_eq!(server_pids(&twenty).len(), 2);
    let command = read_json(&run.join("checkpoint-20-quiz/metadata.json"))["server"]["command"].clone();
    assert!(command.as_str().unwrap().ends_with("/other/ckpts/step-20"), "{command}");
}

/// The response cache tells checkpoints apart: a served model's replies
/// are keyed by what it serves (weights path, engine arguments), not only
/// by its endpoint's model name, which stays the same from one checkpoint
/// to the next.
#[test]
fn cached_replies_of_one_checkpoint_never_answer_for_another() {
    let model = |path: &str| served_model("stubbed", &[], &format!("      path: {path}\n    cache: true\n"));
    let project = project(4, &[model("step-100")], "  - {model: stubbed, env: quiz}\n", "");
    let cache = project.path().join("response-cache");
    let cache_hits = |output_dir: &str| {
        let args = ["bench", "--config", "run.yaml", "--quiet", "--output-dir", output_dir];
        let output = project.assay_with_env(&args, &[("ASSAY_RESPONSE_CACHE_DIR", cache.to_str().unwrap())]);
        assert!(output.status.success(), "{}", output_text(&output));
        let run = std::fs::read_dir(project.path().join(output_dir)).unwrap().next().unwrap().unwrap().path();
        assert_none_left(&log_of(&run, "stubbed"), Duration::from_secs(5));
        read_json(&run.join("stubbed-quiz/summary.json"))["cache_hits"].as_u64().unwrap_or(0)
    };
    assert_eq!(cache_hits("first"), 0);
    assert_eq!(cache_hits("same-checkpoint"), 4, "the same weights reuse their replies");
    project.write(
        "run.yaml",
        &std::fs::read_to_string(project.path().join("run.yaml")).unwrap().replace("step-100", "step-200"),
    );
    assert_eq!(cache_hits("next-checkpoint"), 0, "another checkpoint is asked");
}

/// A served model's job identity holds what it answers as (weights,
/// engine, the arguments that change replies), not how it is run: a
/// longer ready timeout resumes the job, another command starts it afresh.
#[test]
fn what_a_model_is_served_as_is_part_of_job_identity() {
    let project = project(2, &[served_model("stubbed", &[], "")], "  - {model: stubbed, env: quiz}\n", "");
    assert!(bench(&project, &[]).status.success());
    let rerun = |project: &Project| {
        let output = project.assay(&["bench", "--config", "run.yaml"]);
        assert!(output.status.success(), "{}", output_text(&output));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let config = std::fs::read_to_string(project.path().join("run.yaml")).unwrap();
    assert!(config.contains("ready_timeout: 20") && config.contains("\"--report-env\""), "{config}");
    project.write("run.yaml", &config.replace("ready_timeout: 20", "ready_timeout: 30"));
    let stderr = rerun(&project);
    assert!(stderr.contains("1 of 1 jobs done, 0 to run"), "{stderr}");
    project.write("run.yaml", &config.replace("\"--report-env\"", "\"--report-env\", \"--ready-delay-ms\", \"1\""));
    let stderr = rerun(&project);
    assert!(stderr.contains("changed: model:") && stderr.contains("starting it fresh"), "{stderr}");
}
