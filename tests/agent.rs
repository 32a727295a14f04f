//! Agent tasks end to end: the `agent` plugin on prepared task directories,
//! with a stand-in model that calls tools by script, each sample in its own
//! workspace under bubblewrap. A failing test gets fixed and scored by the
//! task's tests; hostile commands are contained and leave nothing behind;
//! tests that hang are a failed sample, not a stuck run; a base model gets
//! the text fallback; a container backend without an engine stops the run
//! before it starts.

use crate::support;

use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use support::fixtures::{Project, output_text, plugin, processes_mentioning, read_json, read_jsonl};
use support::openai_mock::{MockOpenAi, MockReply, MockRequest};

const CALC: &str = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n";
const FIXED: &str = "def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n";
const TESTS: &str = "import unittest\n\nfrom calc import add, mul\n\n\nclass CalcTest(unittest.TestCase):\n    \
    def test_add(self):\n        self.assertEqual(add(2, 3), 5)\n\n    def test_mul(self):\n        \
    self.assertEqual(mul(2, 3), 6)\n";

/// A project whose temp directory (`TMPDIR` for assay) the sandbox user
/// may enter, so the test can see that no workspace is left in it.
struct AgentProject {
    project: Project,
    tmp: PathBuf,
}

impl AgentProject {
    fn new() -> Self {
        let project = Project::new();
        let tmp = project.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        for dir in [project.path(), tmp.as_path()] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        AgentProject { project, tmp }
    }

    /// The task `fix-add`: calc.py's add() subtracts; two unit tests, one failing.
    fn fix_add_task(&self, task_yaml: &str) {
        self.project.write("tasks/fix-add/task.yaml", task_yaml);
        self.project.write("tasks/fix-add/instructions.md", "Fix calc.py so the tests pass.\n");
        self.project.write("tasks/fix-add/repo/calc.py", CALC);
        self.project.write("tasks/fix-add/repo/test_calc.py", TESTS);
    }

    /// A run config: the agent env on `tasks/` with `extra` env lines, the
    /// job on `model`, whose config is `model_yaml` (none for the oracle).
    fn config(&self, model_yaml: Option<String>, extra: &str, job_extra: &str) {
        let models = model_yaml.map(|m| format!("models:\n  m: {m}\n")).unwrap_or_default();
        let model = if models.is_empty() { "oracle" } else { "m" };
        let config = format!(
            "name: agent\n{models}envs:\n  - id: fix\n    module: {plugin}\n    dataset: {{tasks: tasks}}\n    \
             capabilities: [tools, workspace]\n    max_turns: 12\n{extra}jobs:\n  - model: {model}\n    env: fix\n{job_extra}",
            plugin = plugin("agent").display()
        );
        self.project.write("run.yaml", &config);
    }

    fn bench(&self, args: &[&str]) -> std::process::Output {
        let mut all = vec!["bench", "--config", "run.yaml"];
        all.extend_from_slice(args);
        self.project.assay_with_env(&all, &[("TMPDIR", self.tmp.to_str().unwrap())])
    }

    fn only_result(&self) -> (PathBuf, Value) {
        let job = self.project.only_run_dir().join(self.job_id());
        let mut results = read_jsonl(&job.join("results.jsonl"));
        assert_eq!(results.len(), 1, "{results:?}");
        (job, results.remove(0))
    }

    fn job_id(&self) -> &'static str {
        if self.project.path().join("run.yaml").exists()
            && std::fs::read_to_string(self.project.path().join("run.yaml")).unwrap().contains("model: m\n")
        {
            "m-fix"
        } else {
            "oracle-fix"
        }
    }

    /// What is left in the temp directory (workspaces are removed).
    fn leftovers(&self) -> Vec<String> {
        std::fs::read_dir(&self.tmp).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }
}

fn chat_model(server: &MockOpenAi) -> String {
    format!("{{model: m, api_base_url: '{}', max_concurrent: 1, max_retries: 0}}", server.base_url())
}

/// The model's turn a request is for: how many replies it already holds.
fn turn(request: &MockRequest) -> usize {
    let messages = request.body["messages"].as_array().map(Vec::as_slice).unwrap_or_default();
    messages.iter().filter(|m| m["role"] == "assistant").count()
}

fn calls(calls: &[(&str, Value)]) -> MockReply {
    MockReply::ToolCalls {
        content: String::new(),
        calls: calls.iter().map(|(n, a)| (n.to_string(), a.clone())).collect(),
    }
}

fn bash(command: &str) -> (&'static str, Value) {
    ("bash", json!({ "command": command }))
}

/// The `tool` messages of a request, as (call id, content).
fn tool_results(request: &MockRequest) -> Vec<(String, String)> {
    let messages = request.body["messages"].as_array().cloned().unwrap_or_default();
    messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| (m["tool_call_id"].as_str().unwrap().to_string(), m["content"].as_str().unwrap().to_string()))
        .collect()
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

#[test]
fn a_scripted_model_fixes_a_failing_test_under_bubblewrap() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: python3 -m unittest -v\ntest_count: 2\n");
    let server = MockOpenAi::start(|request: &MockRequest| match turn(request) {
        0 => calls(&[bash("python3 -m unittest 2>&1 | tail -3; echo token=$ASSAY_AGENT_TOKEN; pwd")]),
        1 => calls(&[("read_file", json!({"path": "calc.py"}))]),
        2 => calls(&[("write_file", json!({"path": "/workspace/calc.py", "content": FIXED}))]),
        3 => calls(&[bash("python3 -m unittest"), ("submit", json!({}))]),
        _ => MockReply::Text("unexpected turn".into()),
    });
    project.config(
        Some(chat_model(&server)),
        "    workspace: {timeout_secs: 30}\n",
        "    environment_variables: {ASSAY_AGENT_TOKEN: abc123}\n",
    );
    let output = project.bench(&[]);
    assert!(output.status.success(), "{}", output_text(&output));

    let (job, result) = project.only_result();
    assert_eq!(result["reward"], 1.0, "{result}");
    assert_eq!(result["info"]["stop"], "submitted");
    assert_eq!(result["metrics"]["tests_passed"], 2.0);
    assert_eq!(result["turns"], 4);

    // The tools went out as OpenAI `tools`, each result came back as a
    // `tool` message answering its call.
    let requests = server.requests();
    assert_eq!(requests.len(), 4);
    for request in &requests {
        let names: Vec<&str> =
            request.body["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["bash", "read_file", "write_file", "submit"]);
        assert_eq!(request.body["tools"][0]["type"], "function");
    }
    let results = tool_results(&requests[1]);
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].0, "call_0_0", "answers the call by its id");
    let first = &results[0].1;
    assert!(first.contains("FAILED (failures=1)"), "the failing test, seen by the model: {first}");
    assert!(first.contains("token=abc123"), "the job's environment_variables reach the workspace: {first}");
    assert!(first.contains("/workspace"), "{first}");
    assert_eq!(tool_results(&requests[2])[1].1, CALC, "read_file");
    assert_eq!(tool_results(&requests[3])[2].1, "Written.");
    let assistant = &requests[1].body["messages"][2];
    assert_eq!(assistant["tool_calls"][0]["function"]["name"], "bash", "{assistant}");

    // Tokens are counted over every turn, as the server reported them.
    let prompt_words: u64 = requests
        .iter()
        .map(|r| {
            r.body["messages"].as_array().unwrap().iter().map(|m| words(m["content"].as_str().unwrap())).sum::<u64>()
        })
        .sum();
    assert_eq!(result["tokens"]["prompt"], prompt_words);

    // Artifacts: listed in the result line, in the run directory.
    let listed: Vec<&str> = result["artifacts"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(
        listed,
        [
            "artifacts/fix-add-r0/diff.patch",
            "artifacts/fix-add-r0/transcript.json",
            "artifacts/fix-add-r0/test_output.txt"
        ]
    );
    let diff = std::fs::read_to_string(job.join(listed[0])).unwrap();
    assert!(diff.starts_with("diff --git a/calc.py b/calc.py\n--- a/calc.py\n+++ b/calc.py\n"), "{diff}");
    assert!(diff.contains("-    return a - b\n+    return a + b\n") && !diff.contains("pycache"), "{diff}");
    let transcript = read_json(&job.join(listed[1]));
    let roles: Vec<&str> = transcript.as_array().unwrap().iter().map(|m| m["role"].as_str().unwrap()).collect();
    assert_eq!(roles, ["system", "user", "assistant", "tool", "assistant", "tool", "assistant", "tool", "assistant"]);
    assert_eq!(transcript[8]["tool_calls"][1]["function"]["name"], "submit");
    let test_output = std::fs::read_to_string(job.join(listed[2])).unwrap();
    assert!(test_output.contains("Ran 2 tests") && test_output.trim_end().ends_with("OK"), "{test_output}");
    assert!(result["info"].get("artifacts").is_none(), "the test output left the result line");

    assert_eq!(project.leftovers(), Vec::<String>::new(), "the workspace was removed");
    report_shows_the_whole_transcript(&project.project);
}

/// The report's sample browser holds the agent's whole episode: every
/// turn, each tool call and each tool result, not just the first prompt and
/// the last reply.
fn report_shows_the_whole_transcript(project: &Project) {
    project.assay_ok(&["process", "--process-incomplete"]);
    project.assay_ok(&["report", "runs/processed", "--output", "report.html"]);
    let html = std::fs::read_to_string(project.path().join("report.html")).unwrap();
    let data = html.split("id=\"sample-data\">").nth(1).and_then(|rest| rest.split("</script>").next()).unwrap();
    let samples: Value = serde_json::from_str(&data.replace("<\\/", "</")).unwrap();
    let sections = samples[0]["sections"].as_array().unwrap();
    let titles: Vec<&str> = sections.iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "system",
            "user",
            "assistant",
            "tool result (call_0_0)",
            "assistant",
            "tool result (call_1_0)",
            "assistant",
            "tool result (call_2_0)",
            "assistant",
            "details"
        ]
    );
    assert!(sections[2]["text"].as_str().unwrap().starts_with("→ tool call bash (call_0_0): {\"command\":"));
    assert!(sections[3]["text"].as_str().unwrap().contains("FAILED (failures=1)"), "the tool's output");
    assert!(sections[8]["text"].as_str().unwrap().contains("→ tool call submit (call_3_1)"));
}

#[test]
fn hostile_commands_are_contained_and_nothing_outlives_the_sample() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: 'true'\n");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let marker = format!("{}", std::process::id());
    let host_file = format!("/tmp/assay-agent-escape-{marker}");
    let script: Vec<MockReply> = vec![
        // A fork bomb: the process limit stops it, the time limit ends it.
        calls(&[bash("bomb() { bomb | bomb & }; bomb; sleep 2; echo bombed")]),
        // The network: nothing outside, not even the host's loopback.
        calls(&[bash(&format!(
            "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)\" 2>&1 | tail -1; \
             getent hosts example.com || echo no-dns"
        ))]),
        // Writing outside the workspace: the host is read-only, /tmp private.
        calls(&[bash(&format!(
            "echo x > /etc/assay-agent-escape 2>&1; echo x > {host_file}; echo x > /var/tmp/assay-agent-escape-{marker} 2>&1; \
             ln -s {host_file}-link link; ls -l /tmp"
        ))]),
        calls(&[
            ("write_file", json!({"path": "../escape.txt", "content": "x"})),
            ("write_file", json!({"path": "/etc/passwd", "content": "x"})),
            ("write_file", json!({"path": "link", "content": "x"})),
            ("read_file", json!({"path": "/etc/shadow"})),
        ]),
        // Processes that leave the session, still running when the command ends.
        calls(&[bash(&format!(
            "setsid sleep 4545.{marker} & nohup sleep 4546.{marker} >/dev/null 2>&1 & \
             setsid sh -c 'sleep 4547.{marker}' </dev/null >/dev/null 2>&1 & echo started"
        ))]),
        calls(&[("submit", json!({}))]),
    ];
    let server = MockOpenAi::start(move |request: &MockRequest| {
        script.get(turn(request)).cloned().unwrap_or(MockReply::Text("done".into()))
    });
    project.config(
        Some(chat_model(&server)),
        "    workspace: {timeout_secs: 8, max_processes: 64, memory_mb: 1024}\n",
        "",
    );
    let started = std::time::Instant::now();
    let output = project.bench(&[]);
    assert!(output.status.success(), "{}", output_text(&output));
    assert!(started.elapsed().as_secs() < 60, "took {:?}", started.elapsed());

    let (_, result) = project.only_result();
    assert_eq!(result["reward"], 1.0, "{result}");
    let requests = server.requests();
    let answer = |request: usize, index: usize| tool_results(&requests[request])[index].1.clone();
    let bomb = answer(1, 0);
    assert!(bomb.contains("bombed") || bomb.contains("timed out"), "{bomb}");
    let network = answer(2, 1);
    assert!(network.contains("Connection refused") && network.contains("no-dns"), "{network}");
    assert!(listener.accept().is_err(), "a command reached the host's network");
    let writes = answer(3, 2);
    assert!(writes.contains("Read-only file system"), "{writes}");
    for (i, refused) in [(0, "outside the workspace"), (1, "outside the workspace"), (3, "outside the workspace")] {
        let text = answer(4, 3 + i);
        assert!(text.starts_with("error: ") && text.contains(refused), "{i}: {text}");
    }
    assert_eq!(answer(4, 5), "Written.", "a link into the sandbox's /tmp is written there");
    assert!(!Path::new(&host_file).exists() && !Path::new(&format!("{host_file}-link")).exists(), "{host_file}");
    assert!(!Path::new("/etc/assay-agent-escape").exists());
    assert!(!Path::new(&format!("/var/tmp/assay-agent-escape-{marker}")).exists());
    assert!(answer(5, 7).contains("started"));

    let left = processes_mentioning(&format!(".{marker}"));
    assert!(left.is_empty(), "processes outlived the sample: {left:?}");
    assert_eq!(project.leftovers(), Vec::<String>::new(), "the workspace was removed");
}

#[test]
fn a_task_whose_tests_hang_is_a_failed_sample_not_a_stuck_run() {
    let project = AgentProject::new();
    let marker = std::process::id();
    project.fix_add_task(&format!(
        "test_command: 'setsid sleep 4600.{marker} & sleep 4601.{marker}'\ntest_timeout_secs: 2\n"
    ));
    let server = MockOpenAi::start(|_: &MockRequest| calls(&[("submit", json!({}))]));
    project.config(Some(chat_model(&server)), "", "");
    let started = std::time::Instant::now();
    let output = project.bench(&[]);
    assert!(output.status.success(), "a scored failure, not an error: {}", output_text(&output));
    assert!(started.elapsed().as_secs() < 30, "took {:?}", started.elapsed());
    let (_, result) = project.only_result();
    assert_eq!(result["reward"], 0.0, "{result}");
    assert!(result["error"].is_null());
    assert_eq!(result["info"]["timed_out"], true);
    assert_eq!(result["parsed_answer"], "the tests timed out");
    assert!(result["info"]["test_seconds"].as_f64().unwrap() < 5.0, "{result}");
    let left = processes_mentioning(&format!(".{marker}"));
    assert!(left.is_empty(), "processes outlived the tests: {left:?}");
}

#[test]
fn a_spent_token_budget_ends_the_loop_and_the_workspace_is_scored() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: python3 -m unittest\ntest_count: 2\n");
    let server = MockOpenAi::start(|_: &MockRequest| calls(&[bash("ls")]));
    project.config(Some(chat_model(&server)), "    token_budget: 10\n", "");
    let output = project.bench(&[]);
    assert!(output.status.success(), "{}", output_text(&output));
    let (_, result) = project.only_result();
    assert_eq!(server.request_count(), 1, "the model is not asked past the budget");
    assert_eq!((result["turns"].clone(), result["info"]["stop"].clone()), (json!(1), json!("token_budget")));
    assert_eq!(result["reward"], 0.5, "one of two tests passes unfixed: {result}");
}

#[test]
fn the_oracle_applies_solutions_with_overrides_and_workspaces_can_be_kept() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: python3 -m unittest\n");
    project
        .project
        .write("tasks/fix-add/overrides.json", r#"{"test_command": "python3 -m unittest && echo overridden"}"#);
    project.project.write(
        "tasks/fix-add/solution.patch",
        "--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n-    return a - b\n+    return a + b\n",
    );
    project.config(None, "", "");
    let config = std::fs::read_to_string(project.project.path().join("run.yaml")).unwrap();
    project.project.write("run.yaml", &config.replace("{tasks: tasks}", "{tasks: tasks, apply_overrides: true}"));
    let output = project.bench(&["--keep-workspaces"]);
    assert!(output.status.success(), "{}", output_text(&output));
    let (job, result) = project.only_result();
    assert_eq!(result["reward"], 1.0, "{result}");
    let output = std::fs::read_to_string(job.join("artifacts/fix-add-r0/test_output.txt")).unwrap();
    assert!(output.contains("overridden"), "overrides.json applied: {output}");
    assert_eq!(result["artifacts"][3], "workspaces/fix-add-r0");
    assert_eq!(std::fs::read_to_string(job.join("workspaces/fix-add-r0/calc.py")).unwrap(), FIXED);
    assert_eq!(project.leftovers(), Vec::<String>::new());
}

#[test]
fn a_base_model_works_through_the_text_fallback() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: python3 -m unittest\n");
    let server = MockOpenAi::start(|request: &MockRequest| {
        assert!(request.is_text_completion() && request.body.get("tools").is_none(), "{}", request.body);
        let prompt = request.body["prompt"].as_str().unwrap();
        let reply = match prompt.matches("Result of `").count() {
            0 => format!(
                "<tool_call>{}</tool_call>",
                json!({"name": "write_file", "arguments": {"path": "calc.py", "content": FIXED}})
            ),
            _ => "<tool_call>{\"name\": \"submit\", \"arguments\": {}}</tool_call>".to_string(),
        };
        MockReply::Text(reply)
    });
    let model =
        format!("{{model: m, api_base_url: '{}', use_chat_template: false, max_retries: 0}}", server.base_url());
    project.config(Some(model), "    env_args: {tool_format: text}\n", "");
    let output = project.bench(&[]);
    assert!(output.status.success(), "{}", output_text(&output));
    let (_, result) = project.only_result();
    assert_eq!(result["reward"], 1.0, "{result}");
    assert!(server.requests()[0].body["prompt"].as_str().unwrap().contains("<tool_call>"), "the tools are described");
}

#[test]
fn a_container_backend_without_an_engine_stops_the_run_before_it_starts() {
    let project = AgentProject::new();
    project.fix_add_task("test_command: 'true'\nimage: python:3.12-slim\n");
    project.config(None, "    workspace: {backend: docker}\n", "");
    let output = project.bench(&[]);
    let text = output_text(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    let engine_missing =
        ["workspace (docker): cannot reach the docker engine", "workspace (docker): `docker` is not installed"];
    assert!(engine_missing.iter().any(|m| text.contains(m)), "{text}");
    assert!(!project.project.path().join("runs").exists(), "nothing is written");
}
