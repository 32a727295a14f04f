//! The wasm sandbox through `assay bench`: hostile plugins fail only their
//! own samples, with one-line errors naming plugin, version and record,
//! within their limits (CPU, memory, wall clock, and the size of what a call
//! returns, with the host's peak memory measured); broken plugin files and
//! plugins importing what the host does not provide are refused at load.

use crate::support;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, ExitStatus, Output, Stdio};
use support::fixtures::{Project, mcq_jsonl, output_text, plugin, read_json, read_jsonl};

/// `run.yaml` named `name`: the oracle on the hostile plugin, one record
/// per behaviour (ids `<i>-<behaviour>`) under sandbox `limits`, and on
/// one mcq question, to show other jobs finish.
fn write_hostile_run(project: &Project, name: &str, behaviors: &[&str], limits: &str) {
    let rows: String = behaviors
        .iter()
        .enumerate()
        .map(|(i, b)| serde_json::json!({"id": format!("{i}-{b}"), "behavior": b}).to_string() + "\n")
        .collect();
    project.write("hostile.jsonl", &rows);
    project.write("mcq.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    let config = format!(
        "name: {name}
envs:
  - id: hostile
    module: {hostile}
    dataset: hostile.jsonl
    limits: {limits}
  - id: mcq
    module: {mcq}
    dataset: mcq.jsonl
jobs:
  - model: oracle
    env: [hostile, mcq]
",
        hostile = plugin("hostile").display(),
        mcq = plugin("mcq").display()
    );
    project.write("run.yaml", &config);
}

#[test]
fn hostile_records_fail_alone_and_other_jobs_finish() {
    let project = Project::new();
    let behaviors = ["ok", "loop", "ok", "alloc", "panic", "read_file", "recurse", "ok"];
    write_hostile_run(&project, "sandbox", &behaviors, "{memory_mb: 64, call_timeout_ms: 3000, fuel: 2000000000}");
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let run_dir = project.only_run_dir();

    let results = read_jsonl(&run_dir.join("oracle-hostile/results.jsonl"));
    assert_eq!(results.len(), behaviors.len());
    let error_of = |id: &str| results.iter().find(|r| r["example_id"] == id).unwrap()["error"].clone();
    for ok in ["0-ok", "2-ok", "7-ok"] {
        assert!(error_of(ok).is_null(), "{ok}: {}", error_of(ok));
    }
    let expectations = [
        ("1-loop", "cpu", "exceeded its CPU budget"),
        ("3-alloc", "memory", "exceeded its memory limit of 64 MiB"),
        ("4-panic", "panic", "hostile plugin panics on purpose"),
        ("5-read_file", "plugin", "cannot read /etc/passwd"),
        ("6-recurse", "trap", "trapped"),
    ];
    for (id, kind, needle) in expectations {
        let error = error_of(id);
        assert_eq!(error["kind"], kind, "{id}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("plugin hostile 0.1.0, record {id}: ")), "{message}");
        assert!(message.contains(needle), "{id}: {message}");
        assert!(!message.contains('\n'));
    }
    let summary = read_json(&run_dir.join("oracle-hostile/summary.json"));
    assert_eq!(summary["n_errors"], 5);
    assert_eq!(summary["mean_reward"], 1.0, "the well-behaved records still score");

    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let status =
        |job: &str| manifest["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == job).unwrap()["status"].clone();
    assert_eq!(status("oracle-hostile"), "failed");
    assert_eq!(status("oracle-mcq"), "completed");
}

#[test]
fn an_infinite_loop_is_stopped_by_the_wall_clock_when_fuel_allows_it() {
    let project = Project::new();
    project.write("hostile.jsonl", "{\"id\": \"spin\", \"behavior\": \"loop\"}\n");
    let config = format!(
        "envs:\n  - id: hostile\n    module: {}\n    dataset: hostile.jsonl\n    limits: {{call_timeout_ms: 300, fuel: 1000000000000000}}\njobs:\n  - model: oracle\n    env: hostile\n",
        plugin("hostile").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    let results = read_jsonl(&project.only_run_dir().join("oracle-hostile/results.jsonl"));
    assert_eq!(results[0]["error"]["kind"], "timeout", "{}", results[0]);
    assert!(results[0]["error"]["message"].as_str().unwrap().contains("timed out after 300 ms"));
}

/// Run a one-job config whose env uses `module`, expecting a load error.
fn load_error(module: &str) -> String {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    project.write(
        "run.yaml",
        &format!(
            "envs:\n  - id: e\n    module: {module}\n    dataset: data.jsonl\njobs:\n  - model: oracle\n    env: e\n"
        ),
    );
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(!project.path().join("runs").exists(), "a load error creates no run");
    let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    stderr
}

#[test]
fn a_plugin_for_an_unsupported_api_version_is_refused_with_advice() {
    let stderr = load_error(plugin("future-api").to_str().unwrap());
    assert!(stderr.contains("targets assay:env@0.9.0"), "{stderr}");
    assert!(stderr.contains("this assay supports 0.1.x and 0.2.x"), "{stderr}");
    assert!(stderr.contains("rebuild the plugin"), "{stderr}");
}

#[test]
fn files_that_are_not_components_are_refused() {
    let project = Project::new();
    let core = project.write("core.wasm", "\0asm\u{1}\0\0\0");
    let stderr = load_error(core.to_str().unwrap());
    assert!(stderr.contains("core WebAssembly module, not a component"), "{stderr}");
    let junk = project.write("junk.wasm", "hello");
    let stderr = load_error(junk.to_str().unwrap());
    assert!(stderr.contains("not a WebAssembly file"), "{stderr}");
}

#[test]
fn bad_env_args_fail_before_the_run_naming_the_field() {
    let project = Project::new();
    project.write("data.jsonl", &mcq_jsonl(&[("q", "Pick B", ["a", "b", "c", "d"], "B")]));
    let config = format!(
        "envs:\n  - id: e\n    module: {}\n    dataset: data.jsonl\n    env_args: {{shuffle_answers: maybe}}\njobs:\n  - model: oracle\n    env: e\n",
        plugin("mcq").display()
    );
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad-args") && stderr.contains("shuffle_answers"), "{stderr}");
}

/// Run `command` to completion and return its output and peak resident set
/// size in bytes, read from this very child's rusage (`wait4`), so tests
/// running in parallel cannot blur it.
#[expect(clippy::zombie_processes, reason = "the child is reaped by wait4, which also reports its rusage")]
fn run_measuring_peak_rss(mut command: Command) -> (Output, u64) {
    let mut child = command.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn assay");
    // Drain both pipes on threads, so a chatty child never blocks on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("read child output");
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = drain(Box::new(child.stderr.take().expect("piped stderr")));
    let pid = i32::try_from(child.id()).expect("pid fits in pid_t");
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<nix::libc::rusage>() });
    // SAFETY: plain FFI call with pointers to live locals; the child is
    // ours and not yet reaped (std's `Child` is never waited on after this).
    let reaped = unsafe { nix::libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let output = Output {
        status: ExitStatus::from_raw(status),
        stdout: stdout.join().expect("stdout thread"),
        stderr: stderr.join().expect("stderr thread"),
    };
    // Linux reports ru_maxrss in KiB.
    (output, u64::try_from(usage.ru_maxrss).expect("non-negative rss") * 1024)
}

/// Most memory `assay bench` may use in the test below. Each of the (at
/// most two, by `--max-concurrent 2`) calls in flight holds a guest memory
/// with the 100 MiB string (twice, while the SDK converts it) and the
/// host's copy, about 600 MiB in all. Keeping the strings until their
/// samples were written took 1.4 GiB, growing with every such record.
const PEAK_RSS_LIMIT: u64 = 900 << 20;

#[test]
fn a_plugin_returning_100_mib_strings_fails_those_samples_within_bounded_memory() {
    let project = Project::new();
    let behaviors = ["ok", "huge_prompt", "ok", "huge_answer", "huge_prompt", "huge_answer", "huge_prompt", "ok"];
    write_hostile_run(&project, "huge", &behaviors, "{}");
    let mut command = Command::new(env!("CARGO_BIN_EXE_assay"));
    command
        .args(["bench", "--config", "run.yaml", "--max-concurrent", "2"])
        .current_dir(project.path())
        .env("ASSAY_CACHE_DIR", env!("CARGO_TARGET_TMPDIR"));
    let (output, peak_rss) = run_measuring_peak_rss(command);
    println!("peak RSS of assay bench: {} MiB", peak_rss >> 20);
    assert_eq!(output.status.code(), Some(1), "{}", output_text(&output));
    assert!(peak_rss < PEAK_RSS_LIMIT, "peak RSS {} MiB, limit {} MiB", peak_rss >> 20, PEAK_RSS_LIMIT >> 20);

    let run_dir = project.only_run_dir();
    let results_path = run_dir.join("oracle-hostile/results.jsonl");
    let results_size = std::fs::metadata(&results_path).expect("results.jsonl").len();
    assert!(results_size < 64 << 10, "no oversized string reached results.jsonl ({results_size} bytes)");
    let results = read_jsonl(&results_path);
    assert_eq!(results.len(), behaviors.len());
    for result in &results {
        let id = result["example_id"].as_str().unwrap();
        if id.ends_with("-ok") {
            assert!(result["error"].is_null(), "{id}: {}", result["error"]);
            assert_eq!(result["reward"], 1.0, "{id}");
        } else {
            assert_eq!(result["error"]["kind"], "too-large", "{id}: {}", result["error"]);
            assert_eq!(
                result["error"]["message"],
                format!("plugin hostile 0.1.0, record {id}: returned 100.0 MiB of text, over the limit of 16 MiB"),
            );
        }
    }
    let summary = read_json(&run_dir.join("oracle-hostile/summary.json"));
    assert_eq!(summary["n_errors"], 5);

    let manifest = read_json(&run_dir.join("run_manifest.json"));
    let status =
        |job: &str| manifest["jobs"].as_array().unwrap().iter().find(|j| j["job_id"] == job).unwrap()["status"].clone();
    assert_eq!(status("oracle-hostile"), "failed");
    assert_eq!(status("oracle-mcq"), "completed");
    assert_eq!(read_jsonl(&run_dir.join("oracle-mcq/results.jsonl"))[0]["reward"], 1.0);
}

#[test]
fn a_plugin_importing_what_the_host_does_not_provide_is_refused_naming_the_import() {
    let module = plugin("missing-import");
    let stderr = load_error(module.to_str().unwrap());
    assert!(stderr.starts_with("error: job oracle-e: plugin "), "{stderr}");
    assert!(stderr.contains(&format!("plugin {}: ", module.display())), "names the plugin: {stderr}");
    assert!(stderr.contains("needs something the host does not provide"), "{stderr}");
    assert!(stderr.contains("`assay:env/filesystem@0.1.0`"), "names the import: {stderr}");
}
