//! Code execution through `assay bench` with the `code` plugin and the
//! oracle model (which answers with each record's `canonical_solution`):
//! hostile programs are contained by the local sandbox and reported in the
//! sample's record, the Piston backend runs programs on a (stand-in)
//! server, and a backend that cannot run stops the run before it starts.

use crate::support;

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use support::fixtures::{Project, output_text, plugin, processes_mentioning, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply};
use support::piston_mock::MockPiston;

/// A HumanEval-shaped record for `def f():` whose body is `body` and whose
/// test calls it (and, when `expect` is set, compares the result).
fn task(id: &str, body: &str, expect: Option<&str>) -> Value {
    let check = match expect {
        Some(value) => format!("def check(candidate):\n    assert candidate() == {value}\n"),
        None => "def check(candidate):\n    candidate()\n".to_string(),
    };
    json!({"task_id": id, "prompt": "def f():\n", "canonical_solution": body, "test": check, "entry_point": "f"})
}

fn jsonl(records: &[Value]) -> String {
    records.iter().map(|r| r.to_string() + "\n").collect()
}

/// A run config with one `code` env on `tasks.jsonl`, its `code_execution`
/// block given as YAML flow text.
fn config(code_execution: &str) -> String {
    format!(
        "name: code
envs:
  - id: code
    module: {code}
    dataset: tasks.jsonl
    id_field: task_id
    capabilities: [run-code:python]
    code_execution: {code_execution}
jobs:
  - model: oracle
    env: code
",
        code = plugin("code").display()
    )
}

/// Results of the only job of the only run, by example id.
fn results_by_id(project: &Project) -> std::collections::BTreeMap<String, Value> {
    let run = project.only_run_dir();
    let results = read_jsonl(&run.join("oracle-code").join("results.jsonl"));
    results.into_iter().map(|r| (r["example_id"].as_str().unwrap().to_string(), r)).collect()
}

#[test]
fn hostile_programs_are_contained_and_reported() {
    let project = Project::new();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let tasks = [
        task("ok", "    return 1\n", Some("1")),
        task("loop", "    while True:\n        pass\n", None),
        // Each process that cannot fork says why in one short line, so the
        // capped stderr shows it (32 tracebacks would fill the cap first).
        task(
            "fork",
            "    import os, sys\n    while True:\n        try:\n            os.fork()\n        except OSError as e:\n            print(e.strerror, file=sys.stderr)\n            os._exit(1)\n",
            None,
        ),
        task("big-file", "    with open('big', 'wb') as out:\n        out.write(b'0' * (64 << 20))\n", None),
        task("memory", "    block = bytearray(4 << 30)\n", None),
        task(
            "socket",
            &format!("    import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"),
            None,
        ),
        task("flood", "    print('x' * (1 << 22))\n    return 1\n", Some("1")),
        // A process leaving the program's process group and session, still
        // sleeping when the program ends: the sandbox's PID namespace ends it.
        task(
            "escape",
            "    import subprocess\n    subprocess.Popen(['setsid', 'sleep', '4242.4242'])\n    return 1\n",
            Some("1"),
        ),
    ];
    project.write("tasks.jsonl", &jsonl(&tasks));
    project.write(
        "run.yaml",
        &config("{timeout_secs: 3, memory_mb: 512, max_file_mb: 8, max_processes: 32, max_output_bytes: 4096}"),
    );
    let started = std::time::Instant::now();
    project.assay_ok(&["bench", "--config", "run.yaml"]);
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());

    let results = results_by_id(&project);
    let run = |id: &str| results[id]["code_runs"][0].clone();
    let reward = |id: &str| results[id]["reward"].as_f64().unwrap();
    assert_eq!(reward("ok"), 1.0, "{}", results["ok"]);
    assert_eq!(run("ok")["exit_code"], 0);

    assert_eq!(reward("loop"), 0.0);
    assert_eq!(run("loop")["timed_out"], true, "{}", run("loop"));
    assert!(run("loop")["duration_ms"].as_u64().unwrap() < 6000, "{}", run("loop"));

    assert_eq!(reward("fork"), 0.0, "{}", run("fork"));
    let fork_error = run("fork")["stderr"].as_str().unwrap().to_string();
    assert!(fork_error.contains("Resource temporarily unavailable"), "the process limit stopped it: {fork_error}");

    assert_eq!(reward("big-file"), 0.0);
    // Python ignores SIGXFSZ, so the write fails with EFBIG instead of the
    // process being killed.
    assert_eq!(run("big-file")["exit_code"], 1, "{}", run("big-file"));
    assert!(run("big-file")["stderr"].as_str().unwrap().contains("File too large"), "{}", run("big-file"));

    assert_eq!(reward("memory"), 0.0);
    assert!(run("memory")["stderr"].as_str().unwrap().contains("MemoryError"), "{}", run("memory"));

    assert_eq!(reward("flood"), 1.0, "output beyond the cap is dropped, not fatal");
    let stdout = run("flood")["stdout"].as_str().unwrap().to_string();
    assert!(stdout.len() < 4200 && stdout.ends_with("[assay: output truncated]"), "{} bytes", stdout.len());

    assert_eq!(reward("socket"), 0.0);
    let stderr = run("socket")["stderr"].as_str().unwrap().to_string();
    assert!(stderr.contains("Connection refused"), "only the sandbox's own loopback: {stderr}");
    assert!(listener.accept().is_err(), "the program reached the host's network");

    assert_eq!(reward("escape"), 1.0, "{}", results["escape"]);
    let left = [processes_mentioning("assay-code-"), processes_mentioning("4242.4242")].concat();
    assert!(left.is_empty(), "processes outlived their programs: {left:?}");
}

#[test]
fn piston_backend_runs_programs_on_the_server() {
    let piston = MockPiston::start(&[("python", "3.9.4"), ("python", "3.10.0"), ("node", "18.15.0")]);
    let project = Project::new();
    let tasks = [
        task("pass", "    return 41 + 1\n", Some("42")),
        task("fail", "    return 0\n", Some("42")),
        task("slow", "    import time\n    time.sleep(30)\n", None),
    ];
    project.write("tasks.jsonl", &jsonl(&tasks));
    project.write("run.yaml", &config(&format!("{{backend: piston, url: '{}', timeout_secs: 2}}", piston.url())));
    project.assay_ok(&["bench", "--config", "run.yaml"]);

    let results = results_by_id(&project);
    assert_eq!(results["pass"]["reward"], 1.0, "{}", results["pass"]);
    assert_eq!(results["fail"]["reward"], 0.0);
    let fail = &results["fail"]["code_runs"][0];
    assert_eq!(fail["exit_code"], 1);
    assert!(fail["stderr"].as_str().unwrap().contains("AssertionError"), "{fail}");
    assert_eq!(results["slow"]["code_runs"][0]["timed_out"], true, "{}", results["slow"]);
    let requests = piston.requests();
    assert_eq!(requests.len(), 3);
    assert!(requests.iter().all(|r| r["language"] == "python" && r["version"] == "3.10.0"), "the newest version");
    assert!(requests.iter().all(|r| r["run_timeout"] == 2000 && r["files"][0]["name"] == "main.py"));
}

#[test]
fn a_backend_that_cannot_run_stops_the_run_before_it_starts() {
    let project = Project::new();
    project.write("tasks.jsonl", &jsonl(&[task("t", "    return 1\n", Some("1"))]));
    let piston = MockPiston::start(&[("node", "18.15.0")]);
    // Each case: the code_execution block and what the one-line error says.
    let cases = [
        (
            "{commands: {python: [no-such-python3]}}".to_string(),
            "env `code`: code_execution (local): language `python`: `no-such-python3` is not on PATH".to_string(),
        ),
        (
            format!("{{backend: piston, url: '{}'}}", piston.url()),
            "the server offers no `python` runtime (it offers: node)".to_string(),
        ),
        (
            "{backend: piston, url: 'http://127.0.0.1:9'}".to_string(),
            "code_execution (piston): http://127.0.0.1:9/api/v2/runtimes".to_string(),
        ),
        ("{backend: piston}".to_string(), "code_execution.url is required with backend `piston`".to_string()),
    ];
    for (block, expected) in cases {
        project.write("run.yaml", &config(&block));
        let output = project.assay(&["bench", "--config", "run.yaml"]);
        let text = output_text(&output);
        assert_eq!(output.status.code(), Some(2), "{block}: {text}");
        assert!(text.contains(&expected), "{block}: expected `{expected}` in:\n{text}");
        assert_eq!(text.trim().lines().filter(|l| l.starts_with("error")).count(), 1, "{text}");
        assert!(!project.path().join("runs").exists(), "{block}: nothing is written");
    }
}

#[test]
fn code_runs_only_with_a_granted_capability() {
    let project = Project::new();
    project.write("tasks.jsonl", &jsonl(&[task("t", "    return 1\n", Some("1"))]));
    let config = config("{}").replace("    capabilities: [run-code:python]\n    code_execution: {}\n", "");
    project.write("run.yaml", &config);
    let output = project.assay(&["bench", "--config", "run.yaml"]);
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.contains("needs capability `run-code:python`; grant it with `capabilities: [run-code:python]`"),
        "{text}"
    );
}

#[test]
fn pass_at_k_comes_from_rollouts_that_really_ran() {
    let project = Project::new();
    // Three tasks returning 1, 2 and 3; the server's n-th reply to task i
    // is right when `right[i][n]` says so.
    let tasks: Vec<Value> = (1..=3)
        .map(|i| {
            let mut task = task(&format!("t{i}"), "    pass\n", Some(&i.to_string()));
            task["prompt"] = json!(format!("def f():\n    \"\"\"Return {i}.\"\"\"\n"));
            task
        })
        .collect();
    project.write("tasks.jsonl", &jsonl(&tasks));
    let right: HashMap<&str, [bool; 4]> =
        HashMap::from([("1", [true; 4]), ("2", [true, false, false, false]), ("3", [false; 4])]);
    let calls: Mutex<HashMap<String, usize>> = Mutex::default();
    let server = MockOpenAi::start(move |request| {
        let user = request.last_user_message();
        let expected = ["1", "2", "3"].into_iter().find(|v| user.contains(&format!("Return {v}."))).unwrap();
        let mut calls = calls.lock().unwrap();
        let n = calls.entry(expected.to_string()).or_default();
        let value = if right[expected][*n] { expected } else { "0" };
        *n += 1;
        MockReply::Text(format!("```python\ndef f():\n    return {value}\n```"))
    });
    let config = config("{}").replace(
        "jobs:\n  - model: oracle",
        &format!(
            "models:\n  m: {{model: m, api_base_url: '{}', max_concurrent: 1}}\njobs:\n  - model: m\n    rollouts: 4",
            server.base_url()
        ),
    );
    project.write("run.yaml", &config);
    project.assay_ok(&["bench", "--config", "run.yaml"]);
    project.assay_ok(&["process"]);
    project.assay_ok(&["analyze"]);
    let analysis = read_json(&project.path().join("runs/analysis/analysis_results.json"));
    let config = analysis["configs"].as_array().unwrap().iter().find(|c| c["env_id"] == "code").unwrap().clone();
    // pass@k per task = 1 - C(n-c, k) / C(n, k) with n = 4 and c = 4, 1, 0.
    let expected = [("1", (1.0 + 0.25 + 0.0) / 3.0), ("2", (1.0 + 0.5 + 0.0) / 3.0), ("4", 2.0 / 3.0)];
    for (k, value) in expected {
        let got = config["pass_at"][k].as_f64().unwrap();
        assert!((got - value).abs() < 1e-12, "pass@{k}: {got} != {value}: {config}");
    }
}

/// The TOML runner seed's per-job `environment_variables` reach the
/// programs the plugin runs (local backend); Piston, whose API cannot set
/// them, is refused before the run starts rather than running without.
#[test]
fn a_jobs_environment_variables_reach_its_programs() {
    let project = Project::new();
    let body = "    import os\n    return os.environ.get('ASSAY_CHECK', 'unset')";
    project.write("tasks.jsonl", &jsonl(&[task("env", body, Some("'s3t'"))]));
    let job_variables = "    environment_variables: {ASSAY_CHECK: s3t}\n";
    project.write("run.yaml", &(config("{}") + job_variables));
    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert_eq!(results_by_id(&project)["env"]["reward"], 1.0, "the program saw ASSAY_CHECK");

    let piston = MockPiston::start(&[("python", "3.12.0")]);
    let on_piston = format!("{{backend: piston, url: '{}'}}", piston.url());
    project.write("piston.yaml", &(config(&on_piston) + job_variables));
    let output = project.assay(&["bench", "--config", "piston.yaml", "-q"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    assert!(output_text(&output).contains("environment_variables cannot reach programs run on Piston"));
    assert!(piston.requests().is_empty());
}

#[test]
fn stdin_stdout_tests_run_in_the_sandbox_with_per_test_counts() {
    let project = Project::new();
    let tests = json!({"input": ["1\n", "5\n", "-2\n"], "output": ["2\n", "10\n", "-4\n"]});
    let record = |id: &str, solution: &str| json!({"task_id": id, "prompt": "Print twice the number.", "canonical_solution": solution, "public_tests": tests});
    let records = [
        record("right", "print(2 * int(input()))"),
        record("abs", "print(2 * abs(int(input())))"),
        record("spawns", "import subprocess\nsubprocess.run(['true'])\nprint(2 * int(input()))"),
    ];
    project.write("tasks.jsonl", &jsonl(&records));
    project.write("run.yaml", &config("{}"));
    let output = project.assay(&["bench", "--config", "run.yaml", "-q"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let results = results_by_id(&project);
    let outcome = |id: &str| {
        let r = &results[id];
        (r["reward"].as_f64().unwrap(), r["metrics"]["tests_passed"].clone(), r["metrics"]["tests_total"].clone())
    };
    assert_eq!(outcome("right"), (1.0, json!(3.0), json!(3.0)));
    assert_eq!(outcome("abs"), (0.0, json!(2.0), json!(3.0)), "{}", results["abs"]);
    assert_eq!(results["abs"]["info"]["first_failure"], json!({"test": 2, "reason": "wrong answer"}));
    assert_eq!(outcome("spawns"), (1.0, json!(3.0), json!(3.0)), "{}", results["spawns"]);
    assert_eq!(results["right"]["code_runs"].as_array().unwrap().len(), 1, "one run for all tests");
}

#[test]
fn max_generated_tests_reaches_only_plugins_that_take_it() {
    let project = Project::new();
    let generated = json!({"input": ["3\n", "4\n"], "output": ["6\n", "9\n"]});
    let record = json!({
        "task_id": "double", "prompt": "Print twice the number.", "canonical_solution": "print(2 * int(input()))",
        "public_tests": {"input": ["1\n"], "output": ["2\n"]}, "generated_tests": generated,
    });
    project.write("tasks.jsonl", &jsonl(&[record]));
    project.write("run.yaml", &config("{}"));
    let outcome = |project: &Project| {
        let r = &results_by_id(project)["double"];
        (r["reward"].as_f64().unwrap(), r["metrics"]["tests_total"].as_f64().unwrap())
    };
    // The second generated test expects a wrong output: only a cap of 1 passes.
    project.assay_ok(&["bench", "--config", "run.yaml", "-q", "--run-id", "all"]);
    assert_eq!(outcome(&project), (0.0, 3.0));
    std::fs::remove_dir_all(project.path().join("runs/raw/all")).unwrap();
    project.assay_ok(&["bench", "--config", "run.yaml", "-q", "--max-generated-tests", "1", "--run-id", "capped"]);
    assert_eq!(outcome(&project), (1.0, 2.0));

    // An mcq env beside it never sees the argument; alone, the flag is refused.
    let mcq = format!("  - id: quiz\n    module: {}\n    dataset: quiz.jsonl\n", plugin("mcq").display());
    project.write("quiz.jsonl", &support::fixtures::mcq_jsonl(&[("q1", "One?", ["a", "b", "c", "d"], "A")]));
    let both = config("{}").replace("jobs:\n", &format!("{mcq}jobs:\n  - {{model: oracle, env: quiz}}\n"));
    project.write("both.yaml", &both);
    project.assay_ok(&["bench", "--config", "both.yaml", "-q", "--max-generated-tests", "1", "--run-id", "both"]);
    let quiz = read_jsonl(&project.path().join("runs/raw/both/oracle-quiz/results.jsonl"));
    assert_eq!(quiz[0]["reward"], 1.0);
    let alone = format!("envs:\n{mcq}jobs:\n  - {{model: oracle, env: quiz}}\n");
    project.write("alone.yaml", &alone);
    let output = project.assay(&["bench", "--config", "alone.yaml", "--max-generated-tests", "1"]);
    assert_eq!(output.status.code(), Some(2), "{}", output_text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim(), "error: --max-generated-tests: no job's plugin takes `max_generated_tests`");
}
